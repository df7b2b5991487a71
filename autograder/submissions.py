"""A class's submissions as they come from the platforms: one Submission per student, with the student's id
taken from wherever the platform puts it.

Recognised layouts of the SUBMISSIONS folder:
- a Gradescope "export submissions" folder: ``submission_metadata.yml`` maps each ``submission_<n>`` folder
  to its submitters (the first submitter's SID, else e-mail, else name, is the student id);
- LMS downloads (Canvas, Moodle, Blackboard): entries named ``<name>_<id>_...`` (Canvas also puts ``LATE``
  after the name); all the files of one id are that student's submission, each under its own file name;
- a GitHub Classroom clone folder: one repository folder per student, named ``<assignment>-<username>``;
- anything else: one entry (folder, .zip, .py or .ipynb) per student, named after the student.

Payloads: a submission's files read into memory (size-capped, junk skipped), so that the grading job is a
pure function of (payload, lab) that can run in another process or on another machine.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GRADESCOPE_METADATA = "submission_metadata.yml"
LMS_NAME = re.compile(r"^(?P<name>[^_]+?)_(?:LATE_)?(?P<id>\d+)_(?:\d+_)?(?P<file>.+)$")
JUNK = re.compile(r"^(\.|__MACOSX$|__pycache__$|Thumbs\.db$|desktop\.ini$)")
MAX_PAYLOAD_BYTES = 50 * 2**20
MAX_PAYLOAD_FILES = 1000
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "__MACOSX", ".ipynb_checkpoints", "node_modules"})


@dataclass(frozen=True)
class Submission:
    """One student's submission: ``files`` maps the name each file is graded under to where it is."""

    student: str
    files: dict[str, Path]
    name: str = ""

    def payload(self) -> "Payload":
        """The submission's bytes, read now (a folder's files by their path inside it)."""
        data: dict[str, bytes] = {}
        notes: list[str] = []
        total = 0
        for shown, path in self.files.items():
            for relative, file in _walk(shown, path, notes):
                if len(data) >= MAX_PAYLOAD_FILES or total > MAX_PAYLOAD_BYTES:
                    notes.append(f"only the first {len(data)} files ({total // 2**20} MiB) were read")
                    return Payload(self.student, data, notes)
                try:
                    with open(file, "rb") as handle:
                        content = handle.read(MAX_PAYLOAD_BYTES - total + 1)
                except OSError as exc:
                    notes.append(f"{relative} could not be read ({exc.strerror})")
                    continue
                data[relative] = content
                total += len(content)
        return Payload(self.student, data, notes)


@dataclass(frozen=True)
class Payload:
    """A submission in memory: relative path -> bytes, and what was skipped while reading it."""

    student: str
    files: dict[str, bytes]
    notes: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return digest.hexdigest()

    @property
    def single_file(self) -> str | None:
        """The name of the only file, when the submission is one .zip/.ipynb/.py to grade as it is."""
        if len(self.files) == 1:
            (name,) = self.files
            if "/" not in name:
                return name
        return None


def _walk(shown: str, path: Path, notes: list[str]):
    """(relative name, file) pairs of one entry: the file itself, or a folder's regular files (no links)."""
    if path.is_symlink():
        notes.append(f"{shown} is a link and was not followed")
        return
    if path.is_file():
        yield shown, path
        return
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(files):
            file = Path(folder) / name
            if file.is_symlink() or JUNK.match(name):
                continue
            yield file.relative_to(path).as_posix(), file


def discover(folder: Path) -> tuple[list[Submission], list[str]]:
    """The submissions in a class's folder, sorted by student, and notes on what was not taken."""
    folder = Path(folder)
    entries = sorted(entry for entry in folder.iterdir() if not JUNK.match(entry.name))
    if (folder / GRADESCOPE_METADATA).is_file():
        return _gradescope(folder, entries)
    lms = [LMS_NAME.match(entry.name) for entry in entries]
    if entries and all(lms):
        return _lms(entries, lms), []
    folders = [entry for entry in entries if entry.is_dir()]
    prefix = _classroom_prefix(folders)
    if folders and len(folders) == len(entries) and prefix:
        return [Submission(entry.name[len(prefix):], {entry.name: entry}) for entry in folders], []
    return _one_per_entry(entries)


def _gradescope(folder: Path, entries: list[Path]) -> tuple[list[Submission], list[str]]:
    try:
        metadata = yaml.safe_load((folder / GRADESCOPE_METADATA).read_text()) or {}
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{folder / GRADESCOPE_METADATA} could not be read: {str(exc).splitlines()[0]}") from None
    found, notes = [], []
    for entry in entries:
        if entry.name == GRADESCOPE_METADATA:
            continue
        info = metadata.get(entry.name) if isinstance(metadata, dict) else None
        submitters = (info or {}).get(":submitters") or [] if isinstance(info, dict) else []
        first = submitters[0] if submitters and isinstance(submitters[0], dict) else {}
        student = str(first.get(":sid") or first.get(":email") or first.get(":name") or "").strip()
        if not student:
            notes.append(f"{entry.name}: not in {GRADESCOPE_METADATA} (or no submitter), so it was skipped")
            continue
        found.append(Submission(student, {entry.name: entry}, str(first.get(":name") or "")))
    return sorted(found, key=lambda s: s.student), notes


def _lms(entries: list[Path], matches: list[re.Match]) -> list[Submission]:
    by_id: dict[str, dict[str, Path]] = {}
    names: dict[str, str] = {}
    for entry, match in zip(entries, matches):
        by_id.setdefault(match["id"], {})[match["file"]] = entry
        names[match["id"]] = match["name"]
    return [Submission(student, files, names[student]) for student, files in sorted(by_id.items())]


def _classroom_prefix(folders: list[Path]) -> str:
    """The ``<assignment>-`` prefix that every folder of a GitHub Classroom clone shares (or "")."""
    if len(folders) < 2:
        return ""
    prefix = os.path.commonprefix([entry.name for entry in folders])
    prefix = prefix[:prefix.rfind("-") + 1]
    return prefix if prefix and all(len(entry.name) > len(prefix) for entry in folders) else ""


def _one_per_entry(entries: list[Path]) -> tuple[list[Submission], list[str]]:
    found, notes = [], []
    for entry in entries:
        if entry.is_dir() or entry.suffix.lower() in (".zip", ".py", ".ipynb"):
            student = entry.name if entry.is_dir() else entry.stem
            found.append(Submission(student, {entry.name: entry}))
        else:
            notes.append(f"{entry.name}: not a folder, .zip, .py or .ipynb, so it was skipped")
    return found, notes
