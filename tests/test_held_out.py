"""Held-out data stays held out: secret per-run seeds, hidden dataset files, a secret task-preserving
perturbation, and a result that records the secrets for the instructor only (no sandbox needed here)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder.datasets import Datasets, HeldOut, hidden_paths, sklearn_data_file
from autograder.lab import Course
from autograder.report import render
from autograder.result import GradeResult, Isolation

ROOT = Path(__file__).resolve().parent.parent
COURSE = Course(ROOT)


def held_out_labs() -> list[str]:
    """Every lab whose tests score predictions against a held-out split."""
    return [lab for lab in COURSE.lab_ids() if "run.held_out(" in (ROOT / "solutions" / lab / "tests.py").read_text()]


def test_the_synthetic_test_split_comes_from_the_secret_seed() -> None:
    public = Datasets(COURSE.data_dir)("linear_line", seed=0)
    first = Datasets(COURSE.data_dir, held_out=HeldOut(12345))("linear_line", seed=0)
    second = Datasets(COURSE.data_dir, held_out=HeldOut(67890))("linear_line", seed=0)
    for data in (first, second):  # training and validation stay the public ones
        assert np.array_equal(data.train_x, public.train_x) and np.array_equal(data.val_y, public.val_y)
    assert not np.isin(first.test_x, public.test_x).any() and not np.isin(first.test_x, second.test_x).any()
    assert first.test_x.shape == public.test_x.shape and first.test_x.dtype == public.test_x.dtype
    residual = first.test_y - (2.5 * first.test_x - 1.0)  # same line, same noise
    assert abs(residual.std() - 0.5) < 0.05 and abs(residual.mean()) < 0.06


def test_seeds_are_drawn_afresh_and_recorded() -> None:
    draws = {HeldOut.draw().seed for _ in range(20)}
    assert len(draws) == 20 and all(0 <= seed < 2**63 for seed in draws)
    assert HeldOut(7, "permute_features").record() == {"seed": 7, "perturbation": "permute_features"}
    with pytest.raises(ValueError, match="unknown held-out perturbation"):
        HeldOut(7, "rotate")


@pytest.mark.parametrize("name", ["digits", "iris"])
def test_the_perturbation_permutes_features_consistently(name: str) -> None:
    plain = Datasets(COURSE.data_dir)(name, seed=0)
    perturbed = Datasets(COURSE.data_dir, held_out=HeldOut(99, "permute_features"))(name, seed=0)
    order = [int(np.flatnonzero((plain.train_x == column[:, None]).all(axis=0))[0]) for column in perturbed.train_x.T] \
        if name == "iris" else None
    for part in ("train", "val", "test"):
        x, y = getattr(plain, f"{part}_x"), getattr(plain, f"{part}_y")
        px, py = getattr(perturbed, f"{part}_x"), getattr(perturbed, f"{part}_y")
        assert np.array_equal(py, y) and px.shape == x.shape and px.dtype == x.dtype
        assert np.array_equal(np.sort(px, axis=1), np.sort(x, axis=1))  # the same values, in another order
        if order is not None:
            assert np.array_equal(px, x[:, order])
    rows = {row.tobytes() for row in plain.test_x}
    assert not any(row.tobytes() in rows for row in perturbed.test_x), "a lookup of the public rows must fail"


def test_hidden_paths_cover_scikit_learn_data_without_importing_it(tmp_path: Path) -> None:
    code = ("import sys; from autograder.datasets import hidden_paths; paths = hidden_paths(); "
            "print(repr(paths)); print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    paths, imported = out.splitlines()
    assert imported == "False"
    assert any(path.endswith("sklearn/datasets/data") for path in eval(paths))  # noqa: S307 - our own repr
    assert str(tmp_path.resolve()) in hidden_paths(tmp_path)


@pytest.mark.slow
def test_every_file_scikit_learn_reads_a_dataset_from_is_hidden() -> None:
    """The files load_digits and load_iris open (seen by an audit hook) lie under a hidden path."""
    code = ("import sys, json\nopened = []\n"
            "sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == 'open' else None)\n"
            "from sklearn.datasets import load_digits, load_iris\nstart = len(opened)\nload_digits(); load_iris()\n"
            "print(json.dumps(opened[start:]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    data_files = [path for path in json.loads(out) if not path.endswith((".py", ".pyc"))]
    assert any("digits" in path for path in data_files) and any("iris" in path for path in data_files)
    roots = hidden_paths()
    assert all(any(str(Path(path).resolve()).startswith(root + "/") for root in roots) for path in data_files), data_files


@pytest.mark.parametrize("lab_id", held_out_labs())
def test_a_lookup_table_of_the_public_split_misses_every_graded_row(lab_id: str) -> None:
    """What a student can bring into the sandbox (the public recipe, or a copy of the dataset) matches
    every row of the public test split, and none of what the grader sends while grading."""
    lab = COURSE.lab(lab_id)
    for name, options in dataset_calls(lab_id):
        public = Datasets(COURSE.data_dir)(name, **options)
        table = {row_key(row) for row in public.test_x}
        assert all(row_key(row) in table for row in public.test_x)
        for seed in range(5):
            held_out = HeldOut(seed, lab.config.held_out.perturbation)
            graded = Datasets(COURSE.data_dir, held_out=held_out)(name, **options)
            hits = sum(row_key(row) in table for row in graded.test_x)
            assert hits <= 0.01 * len(graded.test_x), (lab_id, name, seed, hits)  # chance equality of two floats


def row_key(row: np.ndarray) -> bytes:
    return np.asarray(row).tobytes()


def dataset_calls(lab_id: str) -> list[tuple[str, dict]]:
    """The ``run.dataset(name, **options)`` calls of a lab's hidden tests (literal arguments)."""
    import ast

    tree = ast.parse((ROOT / "solutions" / lab_id / "tests.py").read_text())
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dataset":
            calls.append((ast.literal_eval(node.args[0]), {k.arg: ast.literal_eval(k.value) for k in node.keywords}))
    return calls


def test_the_secrets_reach_the_json_report_only() -> None:
    result = GradeResult("lab", "sub", [], Isolation("A", "namespaces"), held_out={"seed": 424242, "perturbation": None})
    assert json.loads(render(result, "json"))["held_out"] == {"seed": 424242, "perturbation": None}
    for fmt in ("gradescope", "junit", "text"):
        assert "424242" not in render(result, fmt)


def test_the_bundled_datasets_are_read_without_importing_scikit_learn() -> None:
    """iris and digits come from scikit-learn's data files, read directly (its import costs most of a second
    of every grading), and equal what scikit-learn's own loaders give."""
    done = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'data'); import iris, digits; "
                           "iris.load(None); digits.load(None); print('sklearn' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr[-2000:]
    from sklearn.datasets import load_digits, load_iris

    table = np.loadtxt(sklearn_data_file("iris.csv"), delimiter=",", skiprows=1)
    assert np.array_equal(table[:, :4], load_iris().data) and np.array_equal(table[:, 4], load_iris().target)
    table = np.loadtxt(sklearn_data_file("digits.csv.gz"), delimiter=",")
    assert np.array_equal(table[:, :-1], load_digits().data) and np.array_equal(table[:, -1], load_digits().target)
