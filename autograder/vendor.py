"""The kit itself as files for a bundle (the Gradescope autograder, the student bundle): the ``autograder``
package (it holds no lab, no solution and no test of a lab), the requirements that install its
dependencies, the command that installs the CPU build of torch, a lab's dataset loaders, and a zip
writer that keeps executable bits and fixed timestamps (the same inputs give the same bytes).
"""
from __future__ import annotations

import io
import re
import zipfile
from importlib import metadata
from pathlib import Path

import autograder
from autograder.lab import EXPECTED_FILE, RELEASED, Course, Lab, LabError

PACKAGE = Path(autograder.__file__).resolve().parent
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
EXECUTABLE = 0o755
EPOCH = (1980, 1, 1, 0, 0, 0)


def package_files() -> dict[str, bytes]:
    """Every source file of the ``autograder`` package, by its path in a bundle (``autograder/...``)."""
    return {f"autograder/{path.relative_to(PACKAGE).as_posix()}": path.read_bytes()
            for path in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in path.parts}


def _distribution_requirements() -> list[str]:
    try:
        return metadata.requires("autograder") or []
    except metadata.PackageNotFoundError:
        raise LabError("the autograder is not installed (pip install -e .), so its dependencies are unknown") from None


def requirements() -> str:
    """``requirements.txt`` for the package's dependencies, torch excepted (``torch_install`` installs its CPU
    build, without gigabytes of CUDA)."""
    needed = [r for r in _distribution_requirements() if "extra ==" not in r and not r.startswith("torch")]
    return "# the autograder's dependencies; torch is installed first, from its CPU index\n" + "\n".join(needed) + "\n"


def torch_version() -> str:
    """The torch release this kit runs with (its local build tag, such as ``+cpu``, dropped)."""
    try:
        return metadata.version("torch").split("+")[0]
    except metadata.PackageNotFoundError:
        raise LabError("torch is not installed, so the bundle cannot name the version to install") from None


def torch_install(pip: str = "pip") -> str:
    """The shell command that installs the CPU build of this kit's torch."""
    return f"{pip} install torch=={torch_version()} --index-url {TORCH_CPU_INDEX}"


def dataset_files(course: Course, names: list[str]) -> dict[str, bytes]:
    """The loaders ``data/<name>.py`` of the given datasets, and those they load in turn
    (``_sibling("<name>")``, e.g. images.py reading digits.py)."""
    files, pending = {}, list(names)
    while pending:
        name = pending.pop()
        path = course.data_dir / f"{name}.py"
        if f"data/{name}.py" in files:
            continue
        if not path.is_file():
            raise LabError(f"the lab loads dataset {name!r}, but {path} does not exist")
        files[f"data/{name}.py"] = path.read_bytes()
        pending += re.findall(r'_sibling\(\s*"(\w+)"\s*\)', path.read_text())
    return files


def released_files(lab: Lab) -> dict[str, bytes]:
    """The files ``autograder release`` writes into ``labs/<lab>`` (nothing else that may lie there), by
    their path in a bundle."""
    names = [*lab.starter_files, *RELEASED, lab.notebook_name, EXPECTED_FILE]
    return {f"labs/{lab.id}/{name}": (lab.starter_dir / name).read_bytes() for name in dict.fromkeys(names)}


def folder_files(folder: Path, prefix: str) -> dict[str, bytes]:
    """Every regular file under ``folder`` (caches left out), by ``prefix/relative path``."""
    return {f"{prefix}/{path.relative_to(folder).as_posix()}": path.read_bytes()
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink() and "__pycache__" not in path.parts}


def write_zip(path: Path, files: dict[str, bytes], executable: set[str] = frozenset()) -> None:
    """A zip of ``files`` (name -> bytes); the names in ``executable`` get mode 755, the others 644."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = (EXECUTABLE if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
