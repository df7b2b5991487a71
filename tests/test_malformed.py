"""Malformed input never crashes the grader: property tests (hypothesis) of the submission loader
(notebooks, zips) and of the wire decoder. A loader always returns a Workspace whose problems are messages;
the decoder returns plain data or raises WireError, nothing else."""
from __future__ import annotations

import io
import json
import stat
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autograder.load import Workspace, load_submission
from autograder.sandbox import wire

EXPECTED = ["layers.py"]
SOURCE = "def relu(x):\n    return x.clamp(min=0)\n"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- values a malformed JSON document may hold where another type is expected ----

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


def load_bytes(name: str, content: bytes) -> Workspace:
    """Load ``content`` as a submission file called ``name``; assert the loader's contract."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        workspace = load_submission(path, EXPECTED)
    assert isinstance(workspace, Workspace)
    assert all(type(message) is str and message for message in workspace.messages)
    assert all(type(text) is str for text in workspace.files.values())
    assert set(workspace.files) | set(workspace.missing) == set(EXPECTED)
    assert workspace.files or workspace.messages, "a submission without the file must say why"
    return workspace


# ---- notebooks ----

sources = st.one_of(st.text(max_size=40), st.lists(st.one_of(st.text(max_size=20), json_values), max_size=4),
                    json_values)
cells = st.one_of(
    st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw"]), "source": sources},
                          optional={"metadata": json_values, "outputs": json_values, "execution_count": json_values,
                                    "id": json_values}),
    json_values)
notebooks = st.fixed_dictionaries({"cells": st.one_of(st.lists(cells, max_size=5), json_values)},
                                  optional={"nbformat": st.one_of(st.integers(-1, 6), json_values),
                                            "nbformat_minor": st.one_of(st.integers(-1, 10), json_values),
                                            "metadata": json_values, "worksheets": json_values})


@FAST
@given(notebooks)
@example({"cells": [{"cell_type": "code", "source": 7, "metadata": {}, "outputs": []}], "nbformat": 4,
          "nbformat_minor": 5, "metadata": {}})
@example({"cells": [{"cell_type": "code", "source": ["x = 1\n", 2, None], "metadata": {}, "outputs": []}],
          "nbformat": 4, "nbformat_minor": 5, "metadata": {}})
@example({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [{"cell_type": "code",
                                                                                          "input": 5}]}]})
def test_malformed_notebooks_become_messages(notebook: dict) -> None:
    load_bytes("layers.ipynb", json.dumps(notebook).encode())


def test_a_cell_whose_source_is_a_number_is_reported() -> None:
    notebook = {"cells": [{"cell_type": "code", "source": 7, "metadata": {}, "outputs": [], "execution_count": None}],
                "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    workspace = load_bytes("layers.ipynb", json.dumps(notebook).encode())
    assert workspace.missing == ["layers.py"]
    assert any("cell 1" in message and "not text" in message for message in workspace.messages), workspace.messages


def test_a_notebook_with_huge_outputs_is_read_for_its_code() -> None:
    cell = {"cell_type": "code", "source": SOURCE, "metadata": {}, "execution_count": 1,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": "x" * 2_000_000}]}
    notebook = {"cells": [cell], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    assert load_bytes("layers.ipynb", json.dumps(notebook).encode()).files == {"layers.py": SOURCE}


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_notebook(content: bytes) -> None:
    load_bytes("layers.ipynb", content)


# ---- zips ----


def zip_bytes(entries: list[tuple[zipfile.ZipInfo | str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for info, content in entries:
            archive.writestr(info, content)
    return buffer.getvalue()


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


VALID_ZIP = zip_bytes([("layers.py", SOURCE.encode()), ("notes.txt", b"hello")])
names = st.one_of(st.sampled_from(["layers.py", "sub/layers.py", "../layers.py", "/etc/layers.py", "C:/layers.py",
                                   "a/../../layers.py", "layers.ipynb", "__MACOSX/._layers.py", "", "/", "a//b",
                                   "layers.py/", "x\x00.py"]),
                  st.text(max_size=12))
contents = st.one_of(st.just(SOURCE.encode()), st.binary(max_size=60), st.just(VALID_ZIP),
                     st.just(json.dumps({"cells": 5}).encode()))


@st.composite
def archives(draw: st.DrawFn) -> bytes:
    """A zip with odd names, duplicates, links and nested zips, then perhaps damaged bytes."""
    entries = []
    for name in draw(st.lists(names, max_size=5)):
        info = draw(st.sampled_from(["plain", "link", "encrypted"]))
        if info == "link":
            entries.append((symlink(name or "x"), b"/etc/passwd"))
            continue
        zinfo = zipfile.ZipInfo(name or "x")
        if info == "encrypted":
            zinfo.flag_bits |= 0x1
        entries.append((zinfo, draw(contents)))
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    data = bytearray(zip_bytes(entries, method))
    for _ in range(draw(st.integers(0, 3))):  # damage: overwrite, cut or extend
        action = draw(st.sampled_from(["flip", "cut", "extend"]))
        if action == "flip" and data:
            at = draw(st.integers(0, len(data) - 1))
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[draw(st.integers(0, len(data))):]
        else:
            data += draw(st.binary(max_size=20))
    return bytes(data)


# an entry with an empty name (found by hypothesis: zipfile's is_dir() fails on it)
NAMELESS_ENTRY = (b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x81\xc5\xa0\x97'\x00\x00\x00'\x00\x00\x00"
                  b"\x00\x00\x00\x00def relu(x):\n    return x.clamp(min=0)\nPK\x01\x02\x14\x03\x14\x00\x00\x00\x00"
                  b"\x00\x00\x00!\x00\x81\xc5\xa0\x97'\x00\x00\x00'\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                  b"\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00."
                  b"\x00\x00\x00E\x00\x00\x00\x00\x00")


@FAST
@example(NAMELESS_ENTRY)
@given(archives())
def test_malformed_zips_become_messages(content: bytes) -> None:
    load_bytes("submission.zip", content)


@FAST
@given(st.sampled_from([10, 14, 18, 22, 26, 28]), st.integers(0, 2**32 - 1))
def test_zips_with_lying_header_fields(offset: int, value: int) -> None:
    """A local header field (method, crc, sizes, name length, extra length) set to any value."""
    data = bytearray(VALID_ZIP)
    width = 2 if offset in (26, 28) or offset == 10 else 4
    data[offset:offset + width] = (value % 2 ** (8 * width)).to_bytes(width, "little")
    load_bytes("submission.zip", bytes(data))


def test_a_method_zipfile_cannot_read_is_a_message() -> None:
    data = bytearray(VALID_ZIP)
    data[8:10] = (99).to_bytes(2, "little")  # local header: compression method 99
    central = data.index(b"PK\x01\x02")
    data[central + 10:central + 12] = (99).to_bytes(2, "little")
    workspace = load_bytes("submission.zip", bytes(data))
    assert workspace.missing == ["layers.py"] and any("layers.py" in m for m in workspace.messages)


def test_a_zip_needing_a_newer_zipfile_is_a_message() -> None:
    data = bytearray(VALID_ZIP)
    central = data.index(b"PK\x01\x02")
    data[central + 6:central + 8] = (64).to_bytes(2, "little")  # "version needed to extract": 6.4
    workspace = load_bytes("submission.zip", bytes(data))
    assert workspace.missing == ["layers.py"] and any("not a valid zip" in m for m in workspace.messages)


def test_nested_zip_and_duplicates_are_reported() -> None:
    data = zip_bytes([("layers.py", SOURCE.encode()), ("inner.zip", VALID_ZIP), ("layers.py", b"x = 1\n")])
    workspace = load_bytes("submission.zip", data)
    assert workspace.missing == ["layers.py"] and any("more than once" in m for m in workspace.messages)


# ---- wire frames ----

VALID_FRAME = wire.encode({"status": "ok", "value": [1, 2.5, "x", None, True, np.arange(6.0).reshape(2, 3)],
                           "violations": []})
nodes = st.recursive(
    st.one_of(st.fixed_dictionaries({"t": st.sampled_from(["none", "bool", "int", "float", "str", "list", "dict",
                                                             "ndarray", "tensor", "x"])},
                                    optional={"v": json_values, "dtype": st.one_of(st.sampled_from(wire.DTYPES),
                                                                                     json_values),
                                              "shape": st.one_of(st.lists(st.integers(-2, 2**41), max_size=4),
                                                                 json_values),
                                              "buf": st.one_of(st.integers(-1, 3), json_values)}),
              json_values),
    lambda inner: st.one_of(st.fixed_dictionaries({"t": st.just("list"), "v": st.lists(inner, max_size=3)}),
                            st.fixed_dictionaries({"t": st.just("dict"),
                                                   "v": st.lists(st.tuples(st.text(max_size=4), inner).map(list),
                                                                 max_size=3)})),
    max_leaves=8)


def frame_of(header: object, buffers: list[bytes]) -> bytes:
    text = json.dumps(header).encode()
    parts = [wire.MAGIC, struct.pack("<I", len(text)), text, struct.pack("<I", len(buffers))]
    for buffer in buffers:
        parts += [struct.pack("<Q", len(buffer)), buffer]
    return b"".join(parts)


def decodes_or_refuses(frame: bytes) -> None:
    try:
        wire.decode(frame)
    except wire.WireError as exc:
        assert str(exc)


@FAST
@given(nodes, st.lists(st.binary(max_size=48), max_size=3))
def test_malformed_headers_raise_wire_error_only(header: object, buffers: list[bytes]) -> None:
    decodes_or_refuses(frame_of(header, buffers))


@FAST
@given(st.lists(st.tuples(st.integers(0, len(VALID_FRAME) - 1), st.integers(0, 255)), max_size=4),
       st.integers(0, len(VALID_FRAME)))
def test_damaged_frames_raise_wire_error_only(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(VALID_FRAME)
    for at, value in flips:
        data[at] = value
    decodes_or_refuses(bytes(data[:cut] if cut < len(data) else data))


@FAST
@given(st.binary(max_size=200))
def test_arbitrary_bytes_raise_wire_error_only(data: bytes) -> None:
    decodes_or_refuses(wire.MAGIC + data)


@pytest.mark.parametrize("header", [
    '{"t": "float", "v": "1e999"}', '{"t": "float", "v": 1e999}', '{"t": "int", "v": 1' + "0" * 5000 + '}',
    '{"t": "ndarray", "dtype": "float64", "shape": [1099511627775, 1099511627775], "buf": 0}',
    '{"t": "dict", "v": [["a", {"t": "none"}], ["a", {"t": "none", "v": 1}]]}',
    '{"t": "str", "v": "\\ud800"}', '{"t": "list", "v": [{"t": "none"}], "t": "int"}', 'NaN', '"\\u0000"',
])
def test_edge_headers_raise_wire_error_only(header: str) -> None:
    text = header.encode()
    decodes_or_refuses(wire.MAGIC + struct.pack("<I", len(text)) + text + struct.pack("<IQ", 1, 0))


def test_deeply_nested_json_is_refused() -> None:
    text = b"[" * 100_000 + b"]" * 100_000
    frame = wire.MAGIC + struct.pack("<I", len(text)) + text + struct.pack("<I", 0)
    with pytest.raises(wire.WireError):
        wire.decode(frame)
