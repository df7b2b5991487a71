"""The load stage: every kind of submission becomes a workspace, and every bad input becomes a message."""
from __future__ import annotations

import json
import stat
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import load
from autograder.load import REMOVED, Workspace, load_files, load_submission

LAYERS = "def relu(x):\n    return x.clamp(min=0)\n"
LOSSES = "def mse(a, b):\n    return ((a - b) ** 2).mean()\n"
EXPECTED = ["layers.py", "losses.py"]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> content) under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def write_zip(path: Path, entries: dict[str, str | bytes], symlinks: dict[str, str] | None = None) -> Path:
    """A zip of ``entries`` (name -> content), plus symlink entries (name -> target)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def notebook_text(*cells: str, markdown: str = "# Lab 1") -> str:
    """A valid v4 notebook: one markdown cell, then the given code cells."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(markdown)] + [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(notebook)


def assert_complete(workspace: Workspace) -> None:
    assert workspace.files == {"layers.py": LAYERS, "losses.py": LOSSES}
    assert workspace.missing == []


def message_with(workspace: Workspace, *fragments: str) -> str:
    """The one message that holds every fragment."""
    found = [m for m in workspace.messages if all(fragment in m for fragment in fragments)]
    assert len(found) == 1, workspace.messages
    return found[0]


# ---- folders and .py files ----


@pytest.mark.parametrize("prefix", ["", "alice/lab1/"], ids=["top-level", "nested"])
def test_folder(tmp_path: Path, prefix: str) -> None:
    write_tree(tmp_path, {f"{prefix}layers.py": LAYERS, f"{prefix}losses.py": LOSSES,
                          f"{prefix}__pycache__/layers.cpython-311.pyc": b"\x00junk", ".DS_Store": b"\x00"})
    workspace = load_submission(tmp_path, EXPECTED)
    assert_complete(workspace)
    assert workspace.messages == []


def test_top_level_wins_and_other_copies_are_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {"layers.py": LAYERS, "losses.py": LOSSES, "old/layers.py": "# old\n", "notes.txt": "hi"})
    workspace = load_submission(tmp_path, EXPECTED)
    assert_complete(workspace)
    assert message_with(workspace, "Ignored 2 files").endswith("notes.txt, old/layers.py.")


def test_a_name_found_twice_below_the_top_is_ambiguous(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/layers.py": LAYERS, "b/layers.py": LAYERS, "losses.py": LOSSES})
    workspace = load_submission(tmp_path, EXPECTED)
    assert workspace.missing == ["layers.py"]
    message_with(workspace, "layers.py appears more than once", "a/layers.py, b/layers.py")


def test_single_py_file(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"layers.py": LAYERS}) / "layers.py"
    workspace = load_submission(path, ["layers.py"])
    assert workspace == Workspace(files={"layers.py": LAYERS}, messages=[], missing=[])


def test_several_py_files(tmp_path: Path) -> None:
    write_tree(tmp_path, {"layers.py": LAYERS, "losses.py": LOSSES})
    assert_complete(load_files([tmp_path / "layers.py", tmp_path / "losses.py"], EXPECTED))


def test_missing_file_names_what_was_found(tmp_path: Path) -> None:
    write_tree(tmp_path, {"layers.py": LAYERS, "foo.py": "", "bar.txt": ""})
    workspace = load_submission(tmp_path, EXPECTED)
    assert workspace.files == {"layers.py": LAYERS}
    assert workspace.missing == ["losses.py"]
    message_with(workspace, "losses.py is missing from your submission (found: bar.txt, foo.py, layers.py)")


@pytest.mark.parametrize("name", ["nowhere", "nowhere.py"])
def test_missing_submission_is_a_message(tmp_path: Path, name: str) -> None:
    workspace = load_submission(tmp_path / name, EXPECTED)
    assert workspace.files == {} and workspace.missing == EXPECTED
    assert workspace.messages and "nowhere" in workspace.messages[0]


def test_unsupported_kind_of_submission(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"lab.rar": b"Rar!"}) / "lab.rar"
    workspace = load_submission(path, EXPECTED)
    assert workspace.missing == EXPECTED
    message_with(workspace, "lab.rar is not a kind of submission")


def test_symlink_in_folder_is_never_followed(tmp_path: Path) -> None:
    write_tree(tmp_path, {"losses.py": LOSSES})
    (tmp_path / "layers.py").symlink_to("/etc/passwd")
    (tmp_path / "secrets").symlink_to("/etc", target_is_directory=True)
    workspace = load_submission(tmp_path, EXPECTED)
    assert workspace.files == {"losses.py": LOSSES}
    assert workspace.missing == ["layers.py"]
    assert "root:" not in "".join(workspace.files.values())
    message_with(workspace, "layers.py is a symbolic link")
    message_with(workspace, "secrets is a symbolic link")


def test_symlink_named_directly_is_refused(tmp_path: Path) -> None:
    (tmp_path / "layers.py").symlink_to("/etc/passwd")
    workspace = load_files([tmp_path / "layers.py"], ["layers.py"])
    assert workspace.files == {} and workspace.missing == ["layers.py"]
    message_with(workspace, "layers.py is a symbolic link")


@pytest.mark.parametrize("content, fragment", [
    ("café = 1\n".encode("latin-1"), "byte 0xe9 at position 3"),
    (b"\xff\xfe" + "x = 1\n".encode("utf-16-le"), "byte 0xff at position 0"),
], ids=["latin-1", "utf-16"])
def test_file_that_is_not_utf8(tmp_path: Path, content: bytes, fragment: str) -> None:
    write_tree(tmp_path, {"layers.py": content, "losses.py": LOSSES})
    workspace = load_submission(tmp_path, EXPECTED)
    assert workspace.missing == ["layers.py"]
    message_with(workspace, "layers.py is not UTF-8 text", fragment)


def test_utf8_bom_and_windows_line_endings_are_normalised(tmp_path: Path) -> None:
    write_tree(tmp_path, {"layers.py": b"\xef\xbb\xbf" + LAYERS.replace("\n", "\r\n").encode()})
    assert load_submission(tmp_path, ["layers.py"]).files == {"layers.py": LAYERS}


def test_oversize_file_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_FILE_BYTES", 10)
    write_tree(tmp_path, {"layers.py": LAYERS})
    workspace = load_submission(tmp_path, ["layers.py"])
    assert workspace.missing == ["layers.py"]
    message_with(workspace, "layers.py is larger than")


def test_folder_with_too_many_files_is_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_ENTRIES", 5)
    write_tree(tmp_path, {"layers.py": LAYERS, **{f"data/{i}.csv": "" for i in range(10)}})
    workspace = load_submission(tmp_path, ["layers.py"])
    assert workspace.files == {"layers.py": LAYERS}
    message_with(workspace, "more than 5 files")


# ---- zip archives ----


@pytest.fixture
def zip_path(tmp_path: Path) -> Path:
    return tmp_path / "submission.zip"


@pytest.mark.parametrize("prefix", ["", "alice/lab1/"], ids=["top-level", "nested"])
def test_zip(zip_path: Path, prefix: str) -> None:
    write_zip(zip_path, {f"{prefix}layers.py": LAYERS, f"{prefix}losses.py": LOSSES,
                         f"__MACOSX/{prefix}._layers.py": b"\x00\x05\x16\x07", f"{prefix}.DS_Store": b"\x00",
                         f"{prefix}.ipynb_checkpoints/layers-checkpoint.py": "old"})
    workspace = load_submission(zip_path, EXPECTED)
    assert_complete(workspace)
    assert workspace.messages == []
    assert list(zip_path.parent.iterdir()) == [zip_path]  # nothing extracted


@pytest.mark.parametrize("name, fragment", [
    ("../evil.py", "points outside the submission"),
    ("lab/../../evil.py", "points outside the submission"),
    ("/etc/evil.py", "absolute path"),
    ("C:\\Users\\evil.py", "absolute path"),
])
def test_zip_path_tricks_are_refused(zip_path: Path, name: str, fragment: str) -> None:
    write_zip(zip_path, {"layers.py": LAYERS, "losses.py": LOSSES, name: "import os\n"})
    workspace = load_submission(zip_path, EXPECTED)
    assert_complete(workspace)
    message_with(workspace, fragment, "refused")
    assert not (zip_path.parent.parent / "evil.py").exists()


def test_zip_symlink_entry_is_refused(zip_path: Path) -> None:
    write_zip(zip_path, {"losses.py": LOSSES}, symlinks={"layers.py": "/etc/passwd"})
    workspace = load_submission(zip_path, EXPECTED)
    assert workspace.files == {"losses.py": LOSSES}
    assert workspace.missing == ["layers.py"]
    message_with(workspace, "layers.py is a symbolic link")


def test_zip_bomb_entry_is_not_inflated(zip_path: Path) -> None:
    write_zip(zip_path, {"layers.py": b"#" * (load.MAX_FILE_BYTES + 1), "losses.py": LOSSES})
    assert zip_path.stat().st_size < 100_000
    workspace = load_submission(zip_path, EXPECTED)
    assert workspace.files == {"losses.py": LOSSES}
    assert workspace.missing == ["layers.py"]
    message_with(workspace, "layers.py is larger than the 5 MB allowed")


@pytest.mark.parametrize("limit, value, fragment", [
    ("MAX_TOTAL_BYTES", 50, "would unpack to"),
    ("MAX_ENTRIES", 2, "3 entries, more than the 2 allowed"),
])
def test_zip_over_archive_limits_is_refused(zip_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             limit: str, value: int, fragment: str) -> None:
    monkeypatch.setattr(load, limit, value)
    write_zip(zip_path, {"layers.py": LAYERS, "losses.py": LOSSES, "notes.txt": "x"})
    workspace = load_submission(zip_path, EXPECTED)
    assert workspace == Workspace(files={}, messages=[message_with(workspace, fragment)], missing=EXPECTED)


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04" + b"\x00" * 40], ids=["garbage", "truncated"])
def test_corrupt_zip(zip_path: Path, content: bytes) -> None:
    zip_path.write_bytes(content)
    workspace = load_submission(zip_path, EXPECTED)
    assert workspace.missing == EXPECTED
    message_with(workspace, "submission.zip is not a valid zip archive")


def test_zip_with_a_damaged_entry(zip_path: Path) -> None:
    write_zip(zip_path, {"layers.py": LAYERS * 50, "losses.py": LOSSES})
    data = bytearray(zip_path.read_bytes())
    data[60:70] = b"\xff" * 10  # inside layers.py's compressed bytes
    zip_path.write_bytes(bytes(data))
    workspace = load_submission(zip_path, EXPECTED)
    assert workspace.files == {"losses.py": LOSSES}
    message_with(workspace, "layers.py could not be read", "damaged")


# ---- notebooks ----


MAGIC_CELLS = (
    "!pip install torch\nimport torch\nif torch.cuda.is_available():\n    !nvidia-smi",
    "%matplotlib inline\nfiles = !ls\ntorch.relu?\n?torch.sum",
    "%%time\nx = 1\ny = 2",
    LAYERS.rstrip(),
    'doc = """\n%d percent\nwhy?\n"""\ntotal = (1\n     % 2)\nrest = 7 \\\n    % 2',
)


def test_notebook_magics_and_shell_lines_are_commented_out(tmp_path: Path) -> None:
    path = write_tree(tmp_path, {"layers.ipynb": notebook_text(*MAGIC_CELLS)}) / "layers.ipynb"
    workspace = load_submission(path, ["layers.py"])
    script = workspace.files["layers.py"]
    assert script.split("\n") == [
        f"{REMOVED}!pip install torch", "import torch", "if torch.cuda.is_available():",
        f"    pass  {REMOVED}!nvidia-smi", "",
        f"{REMOVED}%matplotlib inline", f"{REMOVED}files = !ls", f"{REMOVED}torch.relu?", f"{REMOVED}?torch.sum", "",
        f"{REMOVED}%%time", f"{REMOVED}x = 1", f"{REMOVED}y = 2", "",
        *LAYERS.rstrip().split("\n"), "",
        *MAGIC_CELLS[4].split("\n"), "",  # % and ? inside a string, brackets or after a backslash are Python: kept
    ]
    compile(script, "layers.py", "exec")
    message_with(workspace, "In layers.ipynb", "`!pip install torch`", "`%%time` (the whole cell)")


def test_notebook_scan_is_linear(tmp_path: Path) -> None:
    cell = 'text = """\n' + "%d\n" * 50_000 + '"""\n!ls'
    path = write_tree(tmp_path, {"layers.ipynb": notebook_text(cell)}) / "layers.ipynb"
    start = time.perf_counter()
    script = load_submission(path, ["layers.py"]).files["layers.py"]
    assert time.perf_counter() - start < 5
    assert script.endswith(f'"""\n{REMOVED}!ls\n') and script.count(REMOVED) == 1


@pytest.mark.parametrize("expected", [["layers.py"], ["losses.py", "layers.py"]], ids=["single-file lab", "by stem"])
def test_notebook_inside_a_zip(zip_path: Path, expected: list[str]) -> None:
    write_zip(zip_path, {"alice/layers.ipynb": notebook_text(LAYERS), "losses.py": LOSSES})
    workspace = load_submission(zip_path, expected)
    assert workspace.files["layers.py"] == LAYERS
    assert workspace.missing == []


def test_any_one_notebook_stands_in_for_a_single_file_lab(tmp_path: Path) -> None:
    write_tree(tmp_path, {"Lab1 (final).ipynb": notebook_text(LAYERS)})
    assert load_submission(tmp_path, ["layers.py"]).files == {"layers.py": LAYERS}


def test_py_file_wins_over_a_notebook(tmp_path: Path) -> None:
    write_tree(tmp_path, {"layers.py": LAYERS, "layers.ipynb": notebook_text("x = 1")})
    workspace = load_submission(tmp_path, ["layers.py"])
    assert workspace.files == {"layers.py": LAYERS}
    message_with(workspace, "Ignored 1 file", "layers.ipynb")


@pytest.mark.parametrize("content, fragment", [
    ("{ this is not json", "Notebook does not appear to be JSON"),
    ("[1, 2, 3]", "could not be read as a Jupyter notebook"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]}),
     "could not be read as a Jupyter notebook"),
    (notebook_text(), "has no code cells"),
], ids=["invalid-json", "json-list", "invalid-cell", "no-code"])
def test_broken_notebook(tmp_path: Path, content: str, fragment: str) -> None:
    path = write_tree(tmp_path, {"layers.ipynb": content}) / "layers.ipynb"
    workspace = load_submission(path, ["layers.py"])
    assert workspace.files == {} and workspace.missing == ["layers.py"]
    message_with(workspace, "layers.ipynb", fragment)
