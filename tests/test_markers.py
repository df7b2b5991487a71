"""Solution markers -> the starter's TODO regions, and the skeleton the regions rule compares."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from autograder.lab import Course
from autograder.markers import MarkerError, make_starter, skeleton

ROOT = Path(__file__).resolve().parents[1]

REFERENCE = textwrap.dedent('''\
    import math

    SCALE = 2  # not in any region

    ### BEGIN HYPERPARAMETERS
    EPOCHS = 3
    ### END HYPERPARAMETERS


    def double(x):
        """Twice x."""
        ### BEGIN SOLUTION multiply by two, it's "easy"
        y = x * SCALE
        return y
        ### END SOLUTION


    class Model:
        def step(self, x):
            if x:
                ### BEGIN SOLUTION   
                return math.sqrt(x)
                ### END SOLUTION
            return 0
    ''')

OUTSIDE = ["import math", "SCALE = 2  # not in any region", "def double(x):", '    """Twice x."""',
           "class Model:", "    def step(self, x):", "        if x:", "        return 0"]


def load(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<starter>", "exec"), namespace)
    return namespace


def text_of(source: str) -> tuple[list[str], int]:
    """What the regions rule compares: the skeleton's texts (not line numbers) and its region count."""
    shape = skeleton(source)
    return [text for _, text in shape.lines], shape.regions


@pytest.fixture(scope="module")
def starter() -> str:
    return make_starter(REFERENCE)


@pytest.fixture(scope="module")
def filled() -> str:
    return make_starter(REFERENCE, keep_solution=True)


def test_starter_replaces_solutions_with_todo_regions(starter: str) -> None:
    lines = starter.splitlines()
    hint = "multiply by two, it's \"easy\""
    i = lines.index(f"    # ---- TODO begin: {hint} ----")
    assert lines[i + 1:i + 3] == [f"    raise NotImplementedError({'TODO: ' + hint!r})", "    # ---- TODO end ----"]
    j = lines.index("            # ---- TODO begin: your code here ----")
    assert lines[j + 1:j + 3] == ["            raise NotImplementedError('TODO: your code here')",
                                  "            # ---- TODO end ----"]
    assert "y = x * SCALE" not in starter and "sqrt" not in starter and "###" not in starter
    assert [line for line in OUTSIDE if line not in lines] == []


def test_starter_raises_not_implemented_with_the_hint(starter: str) -> None:
    namespace = load(starter)
    with pytest.raises(NotImplementedError, match=r"^TODO: multiply by two, it's \"easy\"$"):
        namespace["double"](3)
    with pytest.raises(NotImplementedError, match="^TODO: your code here$"):
        namespace["Model"]().step(4)
    assert namespace["Model"]().step(0) == 0


def test_keep_solution_keeps_the_code_inside_todo_markers(filled: str) -> None:
    lines = filled.splitlines()
    i = lines.index("    # ---- TODO begin: multiply by two, it's \"easy\" ----")
    assert lines[i + 1:i + 4] == ["    y = x * SCALE", "    return y", "    # ---- TODO end ----"]
    assert "###" not in filled and "NotImplementedError" not in filled
    namespace = load(filled)
    assert namespace["double"](3) == 6 and namespace["Model"]().step(16) == 4.0


@pytest.mark.parametrize("keep_solution", [False, True])
def test_hyperparameter_regions_keep_their_lines(keep_solution: bool) -> None:
    lines = make_starter(REFERENCE, keep_solution=keep_solution).splitlines()
    i = lines.index("# ---- HYPERPARAMETERS begin (you may tune these) ----")
    assert lines[i + 1:i + 3] == ["EPOCHS = 3", "# ---- HYPERPARAMETERS end ----"]
    assert load("\n".join(lines))["EPOCHS"] == 3


def test_skeleton_of_starter_equals_skeleton_of_filled_reference(starter: str, filled: str) -> None:
    assert text_of(starter) == text_of(filled)
    texts, regions = text_of(starter)
    assert regions == 3
    assert "EPOCHS = 3" not in texts and "    y = x * SCALE" not in texts
    assert "    # ---- TODO end ----" in texts


@pytest.mark.parametrize("edit, same", [
    (("EPOCHS = 3", "EPOCHS = 30  # tuned"), True),
    (("    raise NotImplementedError('TODO: multiply by two, it\\'s \"easy\"')",
      "    z = x + x\n\n    return z  # mine"), True),
    (("SCALE = 2", "SCALE = 3"), False),
    (("        return 0", "        return 1"), False),
    (("import math", "import math, os"), False),
    (("def double(x):", "def double(x):  \t"), True),  # trailing whitespace only
    (("def double(x):", " def double(x):"), False),  # leading whitespace matters
    (("    # ---- TODO end ----", "    # ---- TODO end ----   "), True),
])
def test_skeleton_sees_edits_outside_regions_only(starter: str, edit: tuple[str, str], same: bool) -> None:
    old, new = edit
    assert old in starter
    edited = starter.replace(old, new, 1)
    assert (text_of(edited) == text_of(starter)) is same


def test_skeleton_ignores_trailing_whitespace_and_blank_lines(starter: str) -> None:
    padded = "\n".join(line + "   " for line in starter.splitlines()) + "\n\n  \n\t\n"
    assert skeleton(padded) == skeleton(starter)
    assert skeleton(starter + "x = 1\n") != skeleton(starter)


def test_skeleton_counts_regions(starter: str) -> None:
    merged = starter.replace("# ---- HYPERPARAMETERS begin (you may tune these) ----\n", "")
    merged = merged.replace("# ---- HYPERPARAMETERS end ----\n", "")
    assert skeleton(merged).regions == 2


REGION_ERRORS = {
    "end without begin": "x = 1\n# ---- TODO end ----\n",
    "hyper end without begin": "# ---- HYPERPARAMETERS end ----\n",
    "missing end": "# ---- TODO begin: a ----\npass\n",
    "nested todo": ("# ---- TODO begin: a ----\n  # ---- TODO begin: b ----\n# ---- TODO end ----\n"
                    "# ---- TODO end ----\n"),
    "hyper inside todo": ("# ---- TODO begin ----\n# ---- HYPERPARAMETERS begin (you may tune these) ----\n"
                          "# ---- HYPERPARAMETERS end ----\n# ---- TODO end ----\n"),
    "todo closed by hyper end": "# ---- TODO begin ----\nx = 1\n# ---- HYPERPARAMETERS end ----\n",
}


@pytest.mark.parametrize("source", list(REGION_ERRORS.values()), ids=list(REGION_ERRORS))
def test_skeleton_rejects_unbalanced_regions(source: str) -> None:
    with pytest.raises(MarkerError):
        skeleton(source)


MARKER_ERRORS = {
    "unclosed solution": ("x = 1\n### BEGIN SOLUTION\ny = 2\n", 2),
    "end without begin": ("x = 1\n### END SOLUTION\n", 2),
    "hyper end without begin": ("### END HYPERPARAMETERS\n", 1),
    "unclosed hyper": ("### BEGIN HYPERPARAMETERS\nlr = 1\n", 1),
    "nested solution": ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx\n### END SOLUTION\n### END SOLUTION\n", 1),
    "hyper inside solution": ("### BEGIN SOLUTION\n### BEGIN HYPERPARAMETERS\n### END HYPERPARAMETERS\n"
                              "### END SOLUTION\n", 1),
    "solution closed by hyper end": ("### BEGIN SOLUTION\nx = 1\n### END HYPERPARAMETERS\n", 1),
    "unknown begin marker": ("### BEGIN TESTS\n", 1),
}


@pytest.mark.parametrize("source, line", list(MARKER_ERRORS.values()), ids=list(MARKER_ERRORS))
def test_make_starter_rejects_unpaired_markers(source: str, line: int) -> None:
    for keep_solution in (False, True):
        with pytest.raises(MarkerError, match=rf"^ref\.py:{line}: "):
            make_starter(source, "ref.py", keep_solution=keep_solution)


def _lab_files() -> list[tuple[str, str]]:
    course = Course(ROOT)
    return [(lab, name) for lab in course.lab_ids() if course.lab(lab).has_solution for name in course.lab(lab).files]


@pytest.mark.parametrize("lab_id, name", _lab_files())
def test_each_lab_reference_and_starter_share_a_skeleton(lab_id: str, name: str) -> None:
    lab = Course(ROOT).lab(lab_id)
    starter, filled = lab.starter_files[name], lab.reference_files[name]
    assert text_of(starter) == text_of(filled)
    assert text_of(starter)[1] >= 1 and "NotImplementedError" in starter and "### " not in filled
    shipped = ROOT / "labs" / lab_id / name
    if shipped.exists():
        assert shipped.read_text() == starter
