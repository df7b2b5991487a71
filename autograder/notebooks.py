"""The notebook version of a lab's starter (``labs/<lab>/<lab>.ipynb``), for students who work in Jupyter or
Colab. It grades as it is: a one-file lab is the starter split into cells at its top-level definitions; a
multi-file lab has one ``%%writefile <file>.py`` cell per file (the kit's given files too, so that the
notebook runs on its own; the grader always uses its own copy of those)."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.lab import Lab

TOP_LEVEL = ("def ", "class ", "@", "async def ")


def split_cells(source: str) -> list[str]:
    """A module cut into cells: the header (docstring, imports, constants), then one cell per top-level
    definition (with the comments and decorators just above it)."""
    lines = source.rstrip("\n").split("\n")
    cuts = [0]
    for i, line in enumerate(lines):
        if line.startswith(TOP_LEVEL) and not (i and lines[i - 1].startswith("@")):
            start = i
            while start > cuts[-1] and lines[start - 1].startswith("#"):
                start -= 1
            if start > cuts[-1]:
                cuts.append(start)
    cuts.append(len(lines))
    cells = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(cuts, cuts[1:])]
    return [cell for cell in cells if cell.strip()]


def starter_notebook(lab: Lab) -> str:
    """The notebook as JSON text, deterministic (fixed cell ids) so that ``release --check`` can compare it."""
    intro = (f"# {lab.title}\n\nFill in every region between `# ---- TODO begin` and `# ---- TODO end ----`; "
             "change nothing else and add no imports (both are graded). The handout is the lab's README.md.\n\n"
             f"Check your work locally with `autograder check {lab.id} {lab.id}.ipynb`, and submit this notebook "
             "as it is (or the .py files).")
    cells = [new_markdown_cell(intro)]
    if len(lab.files) == 1 and not lab.given:
        cells += [new_code_cell(cell) for cell in split_cells(lab.starter_files[lab.files[0]])]
    else:
        cells.append(new_markdown_cell("Each cell below is one file of the lab (`%%writefile` saves it next to the "
                                       "notebook). Edit only the files you submit: " +
                                       ", ".join(f"`{name}`" for name in lab.files) + "."))
        for name in lab.files + lab.given:
            role = "" if name in lab.files else "# given by the kit: do not edit (the grader uses its own copy)\n"
            cells.append(new_code_cell(f"%%writefile {name}\n{role}{lab.starter_files[name].rstrip()}"))
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i}"
    notebook = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    return nbformat.writes(notebook) + "\n"
