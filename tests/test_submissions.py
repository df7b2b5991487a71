"""Submissions as they really arrive: renamed uploads, notebooks with magics and many cells, multi-file
labs in one notebook, and the notebook version of every starter that release writes."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.grade import grade
from autograder.load import load_submission
from autograder.notebooks import split_cells
from autograder.rules import check_rules
from conftest import COURSE

LINEAR, MLP = COURSE.lab("linear_regression"), COURSE.lab("mlp_numpy")


def notebook(path: Path, cells: list[str], markdown: str = "# my work") -> Path:
    path.write_text(nbformat.writes(new_notebook(cells=[new_markdown_cell(markdown)] +
                                                 [new_code_cell(cell) for cell in cells])))
    return path


def region_rule(lab, workspace) -> list[str]:
    """The feedback of the regions rule (empty when the submission changed only its TODO regions)."""
    return next(line.feedback for line in check_rules(lab, workspace) if line.id == "rule:regions")


def test_a_one_file_lab_takes_a_single_py_under_any_name(tmp_path: Path) -> None:
    renamed = tmp_path / "linear_regression-1.py"
    renamed.write_text(LINEAR.reference_files["linear_regression.py"])
    workspace = load_submission(renamed, LINEAR.files)
    assert workspace.files == {"linear_regression.py": LINEAR.reference_files["linear_regression.py"]}
    folder = tmp_path / "upload"
    folder.mkdir()
    (folder / "Smith_John_123_linear_regression (2).py").write_text(LINEAR.reference_files["linear_regression.py"])
    assert list(load_submission(folder, LINEAR.files).files) == ["linear_regression.py"]


def test_magics_shell_lines_and_cell_boundaries_cost_nothing(tmp_path: Path) -> None:
    cells = ["%matplotlib inline\n!pip install torch", *split_cells(LINEAR.reference_files["linear_regression.py"]),
             "%%time\nprint('a timing cell')"]
    workspace = load_submission(notebook(tmp_path / "work.ipynb", cells), LINEAR.files)
    assert region_rule(LINEAR, workspace) == []
    split_finer = [line for cell in cells for line in cell.split("\n\n")]  # a cell per blank-line block
    workspace = load_submission(notebook(tmp_path / "finer.ipynb", split_finer), LINEAR.files)
    assert region_rule(LINEAR, workspace) == []


def test_a_change_outside_the_regions_still_counts_in_a_notebook(tmp_path: Path) -> None:
    source = LINEAR.reference_files["linear_regression.py"].replace("self.w = torch.zeros(())  # slope",
                                                                     "self.w = torch.ones(())  # slope")
    workspace = load_submission(notebook(tmp_path / "work.ipynb", split_cells(source)), LINEAR.files)
    assert any("changed outside the TODO regions" in line for line in region_rule(LINEAR, workspace))


@pytest.mark.parametrize("convention", ["writefile", "header"])
def test_one_notebook_holds_a_multi_file_lab(tmp_path: Path, convention: str) -> None:
    cells = []
    for name in MLP.files:
        text = MLP.reference_files[name]
        if convention == "writefile":
            cells.append(f"%%writefile {name}\n{text}")
        else:
            first, *rest = split_cells(text)
            cells += [f"# FILE: {name}\n{first}", *rest]
    if convention == "writefile":
        cells.append("net = None  # a student's scratch cell: in no file under this convention")
    workspace = load_submission(notebook(tmp_path / "mlp.ipynb", cells), MLP.files, starters=MLP.starter_files)
    assert set(workspace.files) == set(MLP.files) and not workspace.missing
    assert region_rule(MLP, workspace) == []


def test_the_released_notebooks_are_the_starters(tmp_path: Path) -> None:
    for lab in (LINEAR, MLP):
        path = lab.starter_dir / lab.notebook_name
        workspace = load_submission(path, lab.files, starters=lab.starter_files)
        assert set(workspace.files) == set(lab.files)
        assert region_rule(lab, workspace) == []
        assert json.loads(path.read_text())["cells"][0]["id"] == "cell-0"  # deterministic for release --check


def test_an_edited_notebook_beside_the_untouched_starter_is_what_gets_graded(tmp_path: Path) -> None:
    folder = tmp_path / "linear_regression"
    folder.mkdir()
    (folder / "linear_regression.py").write_text(LINEAR.starter_files["linear_regression.py"])
    notebook(folder / "linear_regression.ipynb", split_cells(LINEAR.reference_files["linear_regression.py"]))
    workspace = load_submission(folder, LINEAR.files, known=[LINEAR.notebook_name], starters=LINEAR.starter_files)
    assert "NotImplementedError" not in workspace.files["linear_regression.py"]


@pytest.mark.sandbox
def test_the_reference_in_the_released_notebook_layout_earns_full_marks(tmp_path: Path) -> None:
    """Fill the TODO regions of mlp_numpy's released notebook with the reference: full marks (a multi-file
    lab graded from one notebook)."""
    released = nbformat.read(MLP.starter_dir / MLP.notebook_name, as_version=4)
    for cell in released.cells:
        for name in MLP.files:
            if cell.cell_type == "code" and cell.source.startswith(f"%%writefile {name}\n"):
                cell.source = f"%%writefile {name}\n{MLP.reference_files[name]}"
    path = tmp_path / "mlp_numpy.ipynb"
    path.write_text(nbformat.writes(released))
    result = grade(COURSE, "mlp_numpy", path, only=lambda spec: not spec.slow)
    assert result.score == result.max_score > 0, [(t.id, t.feedback) for t in result.tests if t.score < t.max_score]
