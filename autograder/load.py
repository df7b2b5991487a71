"""Load: normalise a student submission into a workspace of named files.

A submission is a folder, one or more ``.py`` files, a ``.zip`` archive or a ``.ipynb`` notebook. Each
expected file is looked up by name at the top level, or else found exactly once anywhere below it. A lab
with one file also takes a single ``.py`` under any name (LMSes rename uploads: ``lab-1.py``).

Notebooks: a notebook stands in for ``<stem>.py`` (or for the lab's only file) after its code cells are
joined and its IPython-only lines commented out. A notebook can also hold several files of a lab, by
either convention: a cell that starts with ``%%writefile layers.py`` is that file; or a cell whose first
line is ``# FILE: layers.py`` starts that file, and the following cells without such a line continue it.

Nothing here raises for bad input: every problem becomes a message the student reads. Links inside a
submission are never followed, a zip is read in memory and never extracted, and every read is size-capped.
"""
from __future__ import annotations

import lzma
import os
import re
import stat
import struct
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable


MAX_FILE_BYTES = 5 * 2**20
MAX_NOTEBOOK_BYTES = 20 * 2**20  # notebooks carry their outputs (plots) along with the code
MAX_TOTAL_BYTES = 50 * 2**20
MAX_ENTRIES = 1000
MAX_LISTED = 10

JUNK_DIRS = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git", ".venv", "venv", ".idea",
                       ".vscode", ".pytest_cache", ".mypy_cache"})
JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
JUNK_SUFFIXES = frozenset({".pyc", ".pyo"})

REMOVED = "# [autograder] removed: "
# An IPython-only line: a shell escape or line magic (also as ``x = !ls``), ``?obj`` or ``obj?`` help.
IPYTHON_LINE = re.compile(r"^\s*(?:[\w.]+\s*=\s*)?[!%]|^\s*\?|^\s*[\w.\[\]]+\?{1,2}\s*$")
WRITEFILE = re.compile(r"^%%writefile\s+(?:-a\s+)?(?P<name>[\w./-]+\.py)\s*$")
FILE_HEADER = re.compile(r"^#\s*FILE:\s*(?P<name>[\w./-]+\.py)\s*$", re.IGNORECASE)
# What zipfile raises on a damaged or unusual archive (versions, methods, sizes, names, compressed data)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, RuntimeError, NotImplementedError,
              ValueError, OverflowError, struct.error)


@dataclass
class Workspace:
    """The submission as the grader sees it."""

    files: dict[str, str] = field(default_factory=dict)  # expected file name -> source text
    messages: list[str] = field(default_factory=list)  # problems, written for the student
    missing: list[str] = field(default_factory=list)  # expected files not found or not usable


class _ReadError(Exception):
    """A file of the submission that could not be read; the text says why."""


@dataclass(frozen=True)
class _Entry:
    """One file of a submission, named by its path inside it; ``read(limit)`` returns at most limit bytes."""

    path: PurePosixPath
    read: Callable[[int], bytes]


def load_submission(path: Path, expected_files: list[str], known: Iterable[str] = (),
                    starters: dict[str, str] | None = None) -> Workspace:
    """Load a folder, a ``.zip``, a ``.ipynb`` or a ``.py`` file as a workspace of ``expected_files``.
    Files named in ``known`` (the kit's own files in a lab folder) are skipped without a message. With
    ``starters``, a file that a notebook holds replaces the same file on disk when that one is the untouched
    starter (the student worked in the notebook)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return _nothing(expected_files, f"The submission {path.name} was not found.")
    except OSError as error:
        return _nothing(expected_files, f"The submission {path.name} could not be opened ({error.strerror}).")
    if stat.S_ISDIR(mode):
        messages: list[str] = []
        return _build(_folder_entries(path, messages), expected_files, messages, known, starters)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _load_zip(path, expected_files, known, starters)
    if suffix in (".py", ".ipynb"):
        return load_files([path], expected_files)
    return _nothing(expected_files, f"{path.name} is not a kind of submission the autograder reads: "
                                    "submit .py files, a .ipynb notebook, a .zip archive or a folder.")


def load_files(paths: list[Path], expected_files: list[str]) -> Workspace:
    """Load several ``.py`` (or ``.ipynb``) files, each named by its base name; links are refused."""
    messages: list[str] = []
    entries = []
    for path in map(Path, paths):
        if path.is_symlink():
            messages.append(_link_refused(path.name))
        elif not path.is_file():
            messages.append(f"{path.name} was not found, or is not a file.")
        else:
            entries.append(_Entry(PurePosixPath(path.name), partial(_read_file, path)))
    return _build(entries, expected_files, messages)


# ---- sources: each lists a submission's files as entries, skipping junk and refusing what is unsafe ----


def _folder_entries(root: Path, messages: list[str]) -> list[_Entry]:
    """The regular files below ``root``, breadth first so that top-level files always make the cut."""
    entries: list[_Entry] = []
    pending = [PurePosixPath()]
    seen = 0
    while pending:
        folder = pending.pop(0)
        try:
            with os.scandir(root / folder) as listing:
                items = sorted(listing, key=lambda item: item.name)
        except OSError as error:
            messages.append(f"The folder {folder.as_posix()} could not be read ({error.strerror}).")
            continue
        for item in items:
            seen += 1
            if seen > MAX_ENTRIES:
                messages.append(f"Your submission holds more than {MAX_ENTRIES} files and folders; only the "
                                f"first {MAX_ENTRIES} were looked at.")
                return entries
            relative = folder / item.name
            if _is_junk(relative):
                continue
            if item.is_symlink():
                messages.append(_link_refused(relative.as_posix()))
            elif item.is_dir(follow_symlinks=False):
                pending.append(relative)
            elif item.is_file(follow_symlinks=False):
                entries.append(_Entry(relative, partial(_read_file, root / relative)))
            else:
                messages.append(f"{relative.as_posix()} is not a regular file, so it was ignored.")
    return entries


def _read_file(path: Path, limit: int) -> bytes:
    """At most ``limit`` bytes of a file, refusing to open it through a link."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as file:
            return file.read(limit)
    except OSError as error:
        raise _ReadError(error.strerror or str(error)) from None


def _load_zip(path: Path, expected_files: list[str], known: Iterable[str], starters: dict[str, str] | None) -> Workspace:
    """Read a zip archive in memory, entry by entry; nothing is extracted to disk."""
    try:
        with zipfile.ZipFile(path) as archive:
            messages: list[str] = []
            entries = _zip_entries(archive, messages)
            if entries is None:
                return _nothing(expected_files, *messages)
            return _build(entries, expected_files, messages, known, starters)
    except ZIP_ERRORS:
        return _nothing(expected_files, f"{path.name} is not a valid zip archive (it may be damaged or "
                                        "incomplete); create the zip again and resubmit.")


def _zip_entries(archive: zipfile.ZipFile, messages: list[str]) -> list[_Entry] | None:
    """The archive's safe entries, or None (with a message) when the whole archive is refused."""
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        messages.append(f"Your zip holds {len(infos)} entries, more than the {MAX_ENTRIES} allowed; "
                        "zip only the files the lab asks for.")
        return None
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_TOTAL_BYTES:
        messages.append(f"Your zip would unpack to {_megabytes(unpacked)}, more than the "
                        f"{_megabytes(MAX_TOTAL_BYTES)} allowed; zip only the files the lab asks for.")
        return None
    entries = []
    for info in infos:
        name = info.filename.replace("\\", "/")
        path = PurePosixPath(name)
        if stat.S_ISLNK(info.external_attr >> 16):
            messages.append(_link_refused(name))
        elif name.startswith("/") or re.match(r"[A-Za-z]:", name):
            messages.append(f"{name} in your zip has an absolute path, so it was refused; "
                            "zip files by their path inside your lab folder.")
        elif ".." in path.parts:
            messages.append(f"{name} in your zip points outside the submission ('..'), so it was refused.")
        elif not name or name.endswith("/") or _is_junk(path):  # a folder (or a nameless entry) holds no file
            continue
        elif info.flag_bits & 0x1:
            messages.append(f"{name} in your zip is encrypted, so it cannot be read; zip it without a password.")
        else:
            entries.append(_Entry(path, partial(_read_member, archive, info)))
    return entries


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """At most ``limit`` bytes of one zip entry, decompressed in memory."""
    try:
        with archive.open(info) as member:
            return member.read(limit)
    except ZIP_ERRORS:
        raise _ReadError("this entry of the zip is damaged") from None


def _is_junk(path: PurePosixPath) -> bool:
    """Files that operating systems, editors and Python leave behind: skipped without a word."""
    return (any(part in JUNK_DIRS for part in path.parts[:-1]) or path.name in JUNK_DIRS
            or path.name in JUNK_FILES or path.name.startswith("._") or path.suffix in JUNK_SUFFIXES)


# ---- from entries to a workspace ----


def _build(entries: list[_Entry], expected_files: list[str], messages: list[str], known: Iterable[str] = (),
           starters: dict[str, str] | None = None) -> Workspace:
    """Pick each expected file among the entries, read it as text and report what is missing or extra."""
    workspace = Workspace(messages=messages)
    known = set(known)
    entries = _unpack_notebooks(entries, messages, starters or {}, set(expected_files))
    used: set[PurePosixPath] = set()
    for name in expected_files:
        entry, problem = _find(entries, name, single=len(expected_files) == 1, known=known)
        if entry is None:
            workspace.missing.append(name)
            messages.append(problem or f"{name} is missing from your submission ({_found(entries)}).")
            continue
        entry = _prefer_edited_notebook(entry, entries, name, starters or {})
        used.add(entry.path)
        text = _text(entry, name, messages)
        if text is None:
            workspace.missing.append(name)
        else:
            workspace.files[name] = text
    extra = [entry.path.as_posix() for entry in entries if entry.path not in used and entry.path.name not in known]
    if extra:
        messages.append(f"Ignored {_count(len(extra), 'file')} that this lab does not use: {_listing(extra)}.")
    return workspace


def _find(entries: list[_Entry], name: str, single: bool, known: set[str] = frozenset()) -> tuple[_Entry | None, str | None]:
    """The entry for an expected file (or a notebook standing in for it; or, for a lab with one file, the
    submission's only .py file whatever its name), else a problem if there is one."""
    names = [name]
    if name.endswith(".py"):
        names.append(name.removesuffix(".py") + ".ipynb")
    for candidate in names:
        top = [entry for entry in entries if entry.path.as_posix() == candidate]
        anywhere = [entry for entry in entries if entry.path.name == candidate]
        if len(top) == 1 or len(anywhere) == 1:
            return (top or anywhere)[0], None
        if anywhere:
            places = _listing([entry.path.as_posix() for entry in anywhere])
            return None, f"{candidate} appears more than once in your submission ({places}); keep a single copy."
    if single and name.endswith(".py"):
        for suffix in (".py", ".ipynb"):
            candidates = [entry for entry in entries if entry.path.suffix == suffix and entry.path.name not in known]
            if len(candidates) == 1:
                return candidates[0], None
    return None, None


def _prefer_edited_notebook(entry: _Entry, entries: list[_Entry], name: str, starters: dict[str, str]) -> _Entry:
    """A student who worked in the notebook of a one-file lab may submit it beside the untouched .py starter:
    then the notebook is what they wrote."""
    if entry.path.suffix != ".py" or not _untouched(_read_quietly(entry), starters.get(name)):
        return entry
    notebooks = [other for other in entries if other.path.suffix == ".ipynb"]
    for notebook in notebooks if len(notebooks) == 1 else []:
        script = _text(notebook, name, [])
        if script is not None and not _untouched(script, starters.get(name)):
            return notebook
    return entry


def _unpack_notebooks(entries: list[_Entry], messages: list[str], starters: dict[str, str],
                      expected: set[str]) -> list[_Entry]:
    """Entries with each multi-file notebook replaced by the files it holds (``%%writefile`` cells or
    ``# FILE:`` headers); a plain notebook stays one entry. Where a file is both on disk and in a notebook,
    the one that is not the untouched starter is kept. The kit's given files in a notebook (starter files
    the student does not submit) are left out: the grader always uses its own copies."""
    real = {entry.path: entry for entry in entries if entry.path.suffix != ".ipynb"}
    unpacked = [entry for entry in entries if entry.path.suffix != ".ipynb"]
    for entry in entries:
        files = _notebook_files(entry, messages) if entry.path.suffix == ".ipynb" else None
        if not files:
            if entry.path.suffix == ".ipynb":
                unpacked.append(entry)
            continue
        shown, kept = entry.path.as_posix(), []
        for name, text in files.items():
            path = entry.path.parent / name
            if name in starters and name not in expected:
                continue  # a given file: the kit's copy is used, whatever the notebook holds
            if _untouched(text, starters.get(name)) and (path in real or name not in starters):
                continue  # the kit's own copy of the starter, or a given file: nothing of the student's
            if path in real and not _untouched(_read_quietly(real[path]), starters.get(name)):
                messages.append(f"{path.as_posix()} and the copy in {shown} both differ from the starter: "
                                f"{path.as_posix()} was graded.")
                continue
            if path in real:
                unpacked.remove(real[path])
            data = text.encode()
            unpacked.append(_Entry(path, lambda limit, data=data: data[:limit]))
            kept.append(name)
        if kept:
            messages.append(f"Graded {_listing(kept)} from the notebook {shown}.")
    return unpacked


def _untouched(text: str | None, starter: str | None) -> bool:
    """Whether a file is the starter as shipped (blank lines and trailing spaces aside)."""
    if text is None or starter is None:
        return False
    lines = lambda source: [line.rstrip() for line in source.splitlines() if line.strip()]  # noqa: E731
    return lines(text) == lines(starter)


def _read_quietly(entry: _Entry) -> str | None:
    try:
        return entry.read(MAX_FILE_BYTES).decode("utf-8-sig")
    except (_ReadError, UnicodeDecodeError):
        return None


def _notebook_files(entry: _Entry, messages: list[str]) -> dict[str, str] | None:
    """The files a notebook holds by one of the two conventions, or None for a plain (one-file) notebook or
    one that cannot be read (its problems are reported when it is read as a plain notebook)."""
    try:
        raw = entry.read(MAX_NOTEBOOK_BYTES + 1)
        notebook = _parse_notebook(raw.decode("utf-8-sig")) if len(raw) <= MAX_NOTEBOOK_BYTES else None
    except (_ReadError, UnicodeDecodeError):
        return None
    if notebook is None:
        return None
    sources = _code_sources(notebook, entry.path.as_posix(), [])
    files: dict[str, list[str]] = {}
    current = None
    for source in [source for source in sources or [] if source.strip()]:
        first, _, rest = source.lstrip("\n").partition("\n")
        if match := WRITEFILE.match(first.strip()):
            files.setdefault(match["name"], []).append(rest)
            current = None  # %%writefile covers its own cell only
        elif match := FILE_HEADER.match(first.strip()):
            current = match["name"]
            files.setdefault(current, []).append(rest)
        elif current is not None:
            files[current].append(source)
    if not files:
        return None
    return {name: _neutralise("\n\n".join(part.rstrip() for part in parts))[0].rstrip() + "\n"
            for name, parts in files.items()}


def _read_notebook(text: str):
    """``text`` read as an nbformat 4 notebook (nbformat's errors pass through). nbformat is imported here,
    on the first notebook: its import costs a tenth of a second that a submission of .py files never needs."""
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.reads(text, as_version=4)


def _parse_notebook(text: str):
    """The notebook (nbformat 4) or None if it is not one."""
    try:
        return _read_notebook(text)
    except Exception:  # noqa: BLE001 - nbformat raises JSON, schema, conversion and type errors alike
        return None


def _text(entry: _Entry, name: str, messages: list[str]) -> str | None:
    """The entry's text (a notebook's as a script), or None with a message saying why it is unusable."""
    shown = entry.path.as_posix()
    notebook = entry.path.suffix == ".ipynb"
    limit = MAX_NOTEBOOK_BYTES if notebook else MAX_FILE_BYTES
    try:
        raw = entry.read(limit + 1)
    except _ReadError as error:
        messages.append(f"{shown} could not be read ({error}).")
        return None
    if len(raw) > limit:
        advice = " (clear its outputs in Jupyter to shrink it)" if notebook else ""
        messages.append(f"{shown} is larger than the {_megabytes(limit)} allowed for a file, so it was not "
                        f"read{advice}.")
        return None
    try:
        text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as error:
        messages.append(f"{shown} is not UTF-8 text (byte {raw[error.start]:#04x} at position {error.start}); "
                        "save it with UTF-8 encoding and submit it again.")
        return None
    return _notebook_script(text, shown, name, messages) if notebook else text


def _notebook_script(text: str, shown: str, name: str, messages: list[str]) -> str | None:
    """A notebook's code cells joined in order, IPython-only lines commented out line for line."""
    try:
        notebook = _read_notebook(text)
    except Exception as error:  # nbformat raises JSON, schema, conversion and type errors alike
        reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
        messages.append(f"{shown} could not be read as a Jupyter notebook ({reason}); open it in Jupyter, "
                        "save it and submit it again.")
        return None
    sources = _code_sources(notebook, shown, messages)
    if sources is None:
        return None
    cells, removed = [], []
    for source in sources:
        if source.strip():
            source, cell_removed = _neutralise(source.rstrip())
            cells.append(source)
            removed += cell_removed
    if not cells:
        messages.append(f"{shown} has no code cells, so there is nothing to grade for {name}.")
        return None
    if removed:
        messages.append(f"In {shown}, lines that only work inside Jupyter were commented out: "
                        f"{_listing(removed)}.")
    return "\n\n".join(cells) + "\n"


def _code_sources(notebook: object, shown: str, messages: list[str]) -> list[str] | None:
    """The source text of each code cell, or None (with a message) if the notebook's cells are not what
    nbformat describes: nbformat reads some malformed notebooks without complaint."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        messages.append(f"{shown} has no list of cells, so it is not a usable notebook; open it in Jupyter, "
                        "save it and submit it again.")
        return None
    sources = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            messages.append(f"{shown}: cell {number} is a code cell whose source is not text "
                            f"({type(source).__name__}), so the notebook cannot be graded; open it in Jupyter, "
                            "save it and submit it again.")
            return None
        sources.append(source)
    return sources


def _neutralise(source: str) -> tuple[str, list[str]]:
    """A cell with its shell, magic and help lines commented out (after ``pass`` when indented), and those
    lines quoted for a message. Lines inside a string, brackets or a backslash continuation are Python."""
    lines = source.split("\n")
    if source.lstrip().startswith("%%"):
        first = source.strip().split("\n")[0]
        return "\n".join(REMOVED + line for line in lines), [f"`{first}` (the whole cell)"]
    kept: list[str] = []
    removed = []
    code = _OpenCode()
    for line in lines:
        if code.at_statement_start() and IPYTHON_LINE.match(line):
            indent = line[:len(line) - len(line.lstrip())]
            statement = "pass  " if indent else ""  # a block may hold nothing else (``if colab: !pip ...``)
            kept.append(indent + statement + REMOVED + line.lstrip())
            removed.append(f"`{line.strip()}`")
        else:
            kept.append(line)
            code.advance(line)
    return "\n".join(kept), removed


@dataclass
class _OpenCode:
    """What the lines so far leave open: a string (its quote), brackets, a backslash continuation.

    A one-pass scan, linear in the cell's length (re-tokenizing the prefix at each line would be quadratic).
    """

    quote: str = ""
    depth: int = 0
    backslash: bool = False

    def at_statement_start(self) -> bool:
        return not self.quote and not self.depth and not self.backslash

    def advance(self, line: str) -> None:
        """Scan one more line; brackets and ``#`` inside strings, and anything in a comment, do not count."""
        at, comment = 0, False
        while at < len(line):
            char = line[at]
            if self.quote:
                if char == "\\":
                    at += 1  # skips the escaped character, in raw strings too
                elif line.startswith(self.quote, at):
                    at += len(self.quote) - 1
                    self.quote = ""
            elif char == "#":
                comment = True
                break
            elif char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, at) else char
                at += len(self.quote) - 1
            else:
                self.depth = max(0, self.depth + (char in "([{") - (char in ")]}"))  # a stray closer opens nothing
            at += 1
        ends_with_backslash = line.endswith("\\") and not comment
        if len(self.quote) == 1 and not ends_with_backslash:
            self.quote = ""  # a one-line string left unterminated: a syntax error that Python will report
        self.backslash = ends_with_backslash and not self.quote


# ---- messages ----


def _nothing(expected_files: list[str], *messages: str) -> Workspace:
    """A workspace with no files, every expected file missing."""
    return Workspace(messages=list(messages), missing=list(expected_files))


def _link_refused(name: str) -> str:
    return (f"{name} is a symbolic link; the autograder never follows links, so it was refused. "
            "Submit the file itself.")


def _found(entries: list[_Entry]) -> str:
    if not entries:
        return "it contains no files"
    return f"found: {_listing([entry.path.as_posix() for entry in entries])}"


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown if len(items) <= MAX_LISTED else f"{shown} and {len(items) - MAX_LISTED} more"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.0f} MB"
