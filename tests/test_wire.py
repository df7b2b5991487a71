"""The wire format between grader and sandbox: exact round trips, strict rejections, never pickle."""
from __future__ import annotations

import json
import math
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from autograder.sandbox import wire
from autograder.sandbox.wire import MAGIC, WireError, decode, encode, roundtrip

SHAPES = [(), (0,), (5,), (2, 3), (0, 4), (2, 1, 3)]


def frame(header: Any, buffers: tuple[bytes, ...] = ()) -> bytes:
    """A frame built by hand: ``header`` is a JSON-able tree, or raw header bytes."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    parts = [MAGIC, struct.pack("<I", len(raw)), raw, struct.pack("<I", len(buffers))]
    for buf in buffers:
        parts += [struct.pack("<Q", len(buf)), buf]
    return b"".join(parts)


def assert_same(got: Any, want: Any) -> None:
    """``got`` equals ``want`` with exactly the same types all the way down (NaN equals NaN)."""
    if isinstance(want, torch.Tensor):
        assert type(got) is torch.Tensor
        assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape)
        assert not got.requires_grad
        assert torch.equal(got, want.detach()) or torch.allclose(got, want.detach(), equal_nan=True)
        return
    assert type(got) is type(want), (got, want)
    if isinstance(want, np.ndarray):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.flags.c_contiguous and got.flags.writeable
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    elif isinstance(want, float):
        assert got == want and math.copysign(1, got) == math.copysign(1, want)
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_same(g, w)
    elif isinstance(want, dict):
        assert list(got) == list(want)
        for key in want:
            assert_same(got[key], want[key])
    else:
        assert got == want


def make_array(dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    return (np.arange(math.prod(shape)) % 3).astype(dtype).reshape(shape)


# ---- round trips ---------------------------------------------------------------------------------

SCALARS = [None, True, False, 0, -7, 2**63, 1.5, -0.0, 1e-310, float("nan"), float("inf"), float("-inf"),
           "", "héllo\n\x00✓", [], {}]


@pytest.mark.parametrize("value", SCALARS, ids=repr)
def test_plain_values_round_trip_with_exact_types(value: Any) -> None:
    assert_same(roundtrip(value), value)


def test_nested_containers_round_trip_in_order() -> None:
    value = {"b": [1, 2.5, {"deep": [None, "x", [True]]}], "a": {"nan": float("nan"), "arr": np.ones((2, 2))},
             "t": torch.arange(3)}
    assert_same(roundtrip(value), value)


@pytest.mark.parametrize("dtype", wire.DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_numpy_arrays_round_trip(dtype: str, shape: tuple[int, ...]) -> None:
    array = make_array(dtype, shape)
    assert_same(roundtrip(array), array)


@pytest.mark.parametrize("dtype", wire.DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (2, 3)], ids=str)
def test_tensors_round_trip(dtype: str, shape: tuple[int, ...]) -> None:
    tensor = torch.from_numpy(make_array(dtype, shape))
    assert_same(roundtrip(tensor), tensor)


@pytest.mark.parametrize("value", [
    torch.nn.Parameter(torch.randn(2, 3)),
    torch.randn(3, requires_grad=True) * 2,
    torch.arange(6.0).reshape(2, 3).T,  # not contiguous
], ids=["parameter", "requires_grad", "transposed"])
def test_tensor_like_values_come_back_as_plain_tensors(value: torch.Tensor) -> None:
    got = roundtrip(value)
    assert type(got) is torch.Tensor and not got.requires_grad and got.is_contiguous()
    assert torch.equal(got, value.detach())


def test_float_nan_tensor_round_trips() -> None:
    tensor = torch.tensor([1.0, float("nan"), float("inf")])
    assert_same(roundtrip(tensor), tensor)


def test_non_contiguous_array_round_trips_by_value() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2].T
    assert_same(roundtrip(array), np.ascontiguousarray(array))


@pytest.mark.parametrize("value, want", [
    ((1, "a", (2.0,)), [1, "a", [2.0]]),
    (np.float64(2.5), 2.5),
    (np.float32(0.5), 0.5),
    (np.int32(-4), -4),
    (np.uint8(200), 200),
    (np.bool_(True), True),
], ids=["tuple", "float64", "float32", "int32", "uint8", "bool_"])
def test_tuples_and_numpy_scalars_become_plain_values(value: Any, want: Any) -> None:
    assert_same(roundtrip(value), want)


def test_big_endian_array_round_trips_by_value() -> None:
    array = np.arange(3, dtype=">f8")
    np.testing.assert_array_equal(roundtrip(array), [0.0, 1.0, 2.0])


# ---- what encode refuses --------------------------------------------------------------------------

class SubTensor(torch.Tensor):
    pass


class Liar:
    """Claims to equal everything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize("value", [
    torch.zeros(2).as_subclass(SubTensor),
    Liar(),
    [1, Liar()],
    b"bytes",
    bytearray(b"x"),
    {1, 2},
    1 + 2j,
    np.array([1, "a"], dtype=object),
    np.zeros(2, dtype=np.complex128),
    np.zeros(2, dtype=np.uint16),
    np.zeros(2, dtype="datetime64[s]"),
    np.array(["a"]),
    torch.zeros(2, dtype=torch.complex64),
    {1: "int key"},
    {("a",): 1},
    nested(wire.MAX_DEPTH + 2),
    type("FloatSub", (float,), {})(1.0),
    print,
], ids=["tensor_subclass", "lying_eq", "lying_eq_in_list", "bytes", "bytearray", "set", "complex",
        "object_array", "complex_array", "uint16_array", "datetime_array", "str_array", "complex_tensor",
        "int_key", "tuple_key", "too_deep", "float_subclass", "callable"])
def test_encode_rejects(value: Any) -> None:
    with pytest.raises(WireError):
        encode(value)


def test_nesting_just_under_the_limit_is_fine() -> None:
    assert_same(roundtrip(nested(wire.MAX_DEPTH)), nested(wire.MAX_DEPTH))


def test_encode_rejects_bfloat16_tensor_with_wire_error() -> None:
    with pytest.raises(WireError):
        encode(torch.zeros(2, dtype=torch.bfloat16))


# ---- what decode refuses --------------------------------------------------------------------------

ARRAY = {"t": "ndarray", "dtype": "float32", "shape": [2], "buf": 0}
GOOD = encode({"x": np.arange(4.0)})


BAD_FRAMES = {
    "empty": b"",
    "magic only": MAGIC,
    "wrong magic": b"XXXX" + GOOD[4:],
    "a pickle": pickle.dumps({"status": "ok"}),
    "truncated header length": GOOD[:10],
    "truncated header": GOOD[:20],
    "truncated buffer table": GOOD[: len(GOOD) - 32 - 4],
    "truncated buffer": GOOD[:-1],
    "trailing bytes": GOOD + b"\0",
    "header not JSON": frame(b"{not json"),
    "header not UTF-8": frame(b"\xff\xfe\x00"),
    "header not a node": frame([{"t": "none"}]),
    "header a string": frame("none"),
    "node without type": frame({"v": 1}),
    "node type not a string": frame({"t": 3}),
    "unknown node type": frame({"t": "pickle", "v": "gASVAAAA"}),
    "bool as int": frame({"t": "int", "v": True}),
    "float as int": frame({"t": "int", "v": 1.0}),
    "string as int": frame({"t": "int", "v": "1"}),
    "int as bool": frame({"t": "bool", "v": 1}),
    "numeric string as float": frame({"t": "float", "v": "1.5"}),
    "bool as float": frame({"t": "float", "v": True}),
    "null as float": frame({"t": "float", "v": None}),
    "int as str": frame({"t": "str", "v": 3}),
    "none with a value": frame({"t": "none", "v": 0}),
    "list of a node": frame({"t": "list", "v": {"t": "none"}}),
    "list item not a node": frame({"t": "list", "v": [3]}),
    "dict with int key": frame({"t": "dict", "v": [[1, {"t": "none"}]]}),
    "dict entry of three": frame({"t": "dict", "v": [["a", {"t": "none"}, "extra"]]}),
    "dict as JSON object": frame({"t": "dict", "v": {"a": {"t": "none"}}}),
    "buffer smaller than shape": frame(ARRAY, (b"\0" * 4,)),
    "buffer larger than shape": frame(ARRAY, (b"\0" * 12,)),
    "negative shape": frame({**ARRAY, "shape": [-2]}, (b"\0" * 8,)),
    "negative shape product positive": frame({**ARRAY, "shape": [-1, -2]}, (b"\0" * 8,)),
    "float dimension": frame({**ARRAY, "shape": [2.0]}, (b"\0" * 8,)),
    "bool dimension": frame({**ARRAY, "shape": [True, 2]}, (b"\0" * 8,)),
    "shape not a list": frame({**ARRAY, "shape": "2"}, (b"\0" * 8,)),
    "buffer index out of range": frame({**ARRAY, "buf": 1}, (b"\0" * 8,)),
    "negative buffer index": frame({**ARRAY, "buf": -1}, (b"\0" * 8,)),
    "bool buffer index": frame({**ARRAY, "buf": True}, (b"\0" * 8,)),
    "no buffers": frame(ARRAY),
    "object dtype": frame({**ARRAY, "dtype": "object"}, (b"\0" * 16,)),
    "complex dtype": frame({**ARRAY, "dtype": "complex64"}, (b"\0" * 16,)),
    "dtype spelled by code": frame({**ARRAY, "dtype": "<f4"}, (b"\0" * 8,)),
    "dtype a list": frame({**ARRAY, "dtype": ["float32"]}, (b"\0" * 8,)),
    "tensor buffer out of range": frame({**ARRAY, "t": "tensor", "buf": 5}, (b"\0" * 8,)),
}


@pytest.mark.parametrize("data", list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
def test_decode_rejects(data: bytes) -> None:
    with pytest.raises(WireError):
        decode(data)


def test_decode_rejects_nesting_deeper_than_the_limit() -> None:
    node: dict = {"t": "none"}
    for _ in range(wire.MAX_DEPTH + 2):
        node = {"t": "list", "v": [node]}
    with pytest.raises(WireError):
        decode(frame(node))


def test_decode_rejects_too_many_nodes() -> None:
    with pytest.raises(WireError):
        decode(frame({"t": "list", "v": [{"t": "none"}] * (wire.MAX_NODES + 1)}))


HOSTILE_HEADERS = {
    "5000-digit int": b'{"t": "int", "v": ' + b"1" * 5000 + b"}",
    "400-digit float": b'{"t": "float", "v": ' + b"1" * 400 + b"}",
    "deep JSON": b"[" * 200_000,
    "huge zero-size shape": json.dumps({**ARRAY, "shape": [0, 10**30]}).encode(),
}


@pytest.mark.parametrize("header", list(HOSTILE_HEADERS.values()), ids=list(HOSTILE_HEADERS))
def test_decode_raises_only_wire_error_on_hostile_headers(header: bytes) -> None:
    with pytest.raises(WireError):
        decode(frame(header, (b"",)))


# ---- never pickle ---------------------------------------------------------------------------------

class Booby:
    """Unpickling this creates a file: proof that something unpickled it."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def payload(tmp_path: Path) -> tuple[bytes, Path]:
    target = tmp_path / "pwned"
    armed = tmp_path / "armed"
    pickle.loads(pickle.dumps(Booby(armed)))  # the payload is live: unpickling it does touch a file
    assert armed.exists()
    return pickle.dumps(Booby(target)), target


@pytest.mark.parametrize("tag", ["ndarray", "tensor"])
def test_pickle_bytes_in_a_buffer_come_back_as_plain_uint8_data(payload: tuple[bytes, Path], tag: str) -> None:
    data, target = payload
    got = decode(frame({"t": "dict", "v": [["x", {"t": tag, "dtype": "uint8", "shape": [len(data)], "buf": 0}]]},
                       (data,)))
    array = got["x"].numpy() if tag == "tensor" else got["x"]
    assert type(got["x"]) is (torch.Tensor if tag == "tensor" else np.ndarray)
    assert array.dtype == np.uint8 and array.tobytes() == data
    assert not target.exists()


def test_pickle_bytes_as_header_or_frame_are_never_unpickled(payload: tuple[bytes, Path]) -> None:
    data, target = payload
    assert decode(frame({"t": "str", "v": data.decode("latin-1")})) == data.decode("latin-1")
    for hostile in (data, MAGIC + data, frame(data), frame(b'{"t": "none"}', (data,)) + data):
        with pytest.raises(WireError):
            decode(hostile)
    assert not target.exists()


def test_one_field_of_a_dict_decodes_alone() -> None:
    """``decode_field`` reads one key of a recorded dict without building the rest (its arrays included)."""
    frame = encode({"reference_sha256": "ab" * 32, "values": {"x": np.arange(6.0).reshape(2, 3)}, "n": [3, None]})
    assert wire.decode_field(frame, "reference_sha256") == "ab" * 32
    assert wire.decode_field(frame, "n") == [3, None]
    assert np.array_equal(wire.decode_field(frame, "values")["x"], np.arange(6.0).reshape(2, 3))
    assert wire.decode_field(frame, "missing") is None
    with pytest.raises(WireError, match="not a dict"):
        wire.decode_field(encode(["reference_sha256", "ab"]), "reference_sha256")
    for end in range(0, len(frame) - 1, 7):  # a truncated or damaged file: a WireError, never another exception
        with pytest.raises(WireError):
            wire.decode_field(frame[:end], "reference_sha256")
