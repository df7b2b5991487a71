"""The wire format between the grader and the sandbox: never pickle.

A frame is ``MAGIC | u32 header length | JSON header | u32 buffer count | (u64 length | bytes)*``.
The JSON header is a tree of typed nodes; arrays point at one raw buffer each. The decoder checks
every node against a strict schema and rebuilds only plain values of exact types: ``None``, ``bool``,
``int``, ``float``, ``str``, ``list``, ``dict`` (string keys), ``numpy.ndarray`` and ``torch.Tensor``.
The header is capped (``MAX_HEADER_BYTES`` unless the reader trusts the writer) and decoding makes
at most one copy of a frame: arrays are views into it (possibly unaligned, which numpy and torch
handle; the encoding itself never changes, since recorded expected values are keyed by it).

This module also runs in the sandbox, next to the worker, so it imports nothing from the package
and treats torch as optional.
"""
from __future__ import annotations

import json
import math
import struct
import sys
from typing import Any, BinaryIO

import numpy as np

MAGIC = b"AGW1"
MAX_FRAME_BYTES = 512 * 1024 * 1024
MAX_HEADER_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_NODES = 200_000
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")


class WireError(ValueError):
    """A frame or a value that does not follow the wire format."""


def _torch(load: bool = True):
    """torch, or None where it is not installed (a NumPy-only lab). Without ``load``, only if already
    imported: a value can only be a tensor once torch is, and the sandbox of a lab that forbids torch
    must not import it on the encoder's behalf."""
    if not load:
        return sys.modules.get("torch")
    try:
        import torch
    except ImportError:
        return None
    return torch


def _encode_node(value: Any, buffers: list[bytes], depth: int) -> dict:
    if depth > MAX_DEPTH:
        raise WireError("value nested too deeply")
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        return {"t": "int", "v": value}
    if kind is float:
        return {"t": "float", "v": value if math.isfinite(value) else repr(value)}
    if kind is str:
        return {"t": "str", "v": value}
    if kind in (list, tuple):
        return {"t": "list", "v": [_encode_node(item, buffers, depth + 1) for item in value]}
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise WireError("dict keys must be str")
        return {"t": "dict", "v": [[key, _encode_node(item, buffers, depth + 1)] for key, item in value.items()]}
    if isinstance(value, np.generic) and type(value).__module__ == "numpy":
        return _encode_node(value.item(), buffers, depth)
    if kind is np.ndarray:
        return _encode_array("ndarray", value, buffers)
    torch = _torch(load=False)
    if torch is not None and kind in (torch.Tensor, torch.nn.Parameter):
        try:
            array = value.detach().cpu().contiguous().numpy()
        except (TypeError, RuntimeError) as exc:
            raise WireError(f"a tensor of dtype {value.dtype} ({exc}); convert it to float32") from None
        return _encode_array("tensor", array, buffers)
    if torch is not None and isinstance(value, torch.Tensor):
        raise WireError(f"a tensor of type {kind.__name__} (a Tensor subclass); return a plain torch.Tensor")
    raise WireError(f"a value of type {kind.__name__}; only numbers, strings, lists, dicts, arrays and tensors")


def _encode_array(tag: str, array: np.ndarray, buffers: list[bytes]) -> dict:
    if array.dtype.name not in DTYPES:
        raise WireError(f"an array of dtype {array.dtype.name}")
    buffers.append(np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes())
    return {"t": tag, "dtype": array.dtype.name, "shape": list(array.shape), "buf": len(buffers) - 1}


def encode(message: Any) -> bytes:
    """Encode a message (plain data) into one frame."""
    buffers: list[bytes] = []
    header = json.dumps(_encode_node(message, buffers, 0), allow_nan=False).encode()
    parts = [MAGIC, struct.pack("<I", len(header)), header, struct.pack("<I", len(buffers))]
    for buf in buffers:
        parts += [struct.pack("<Q", len(buf)), buf]
    frame = b"".join(parts)
    if len(frame) > MAX_FRAME_BYTES:
        raise WireError(f"message of {len(frame)} bytes is over the {MAX_FRAME_BYTES}-byte limit")
    return frame


def decode(frame: bytes | bytearray, max_header: int = MAX_HEADER_BYTES) -> Any:
    """Decode one frame, checking it against the schema; raises WireError on anything else. Arrays
    share the memory of ``frame`` when it is a bytearray; any other buffer is copied once first."""
    if type(frame) is not bytearray:
        frame = bytearray(frame)
    try:
        return _decode_frame(memoryview(frame), max_header)
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError, struct.error) as exc:
        raise WireError(f"malformed frame ({type(exc).__name__})") from None


def decode_field(frame: bytes | bytearray, key: str, max_header: int = MAX_HEADER_BYTES) -> Any:
    """One field of a frame whose message is a dict, decoded alone (None if absent): the rest of the message,
    its arrays included, is never built (reading a recorded file's version need not import torch)."""
    try:
        header, buffers = _parse_frame(memoryview(bytearray(frame)), max_header)
        if type(header) is not dict or header.get("t") != "dict" or type(header.get("v")) is not list:
            raise WireError("the message is not a dict")
        for pair in header["v"]:
            if type(pair) is list and len(pair) == 2 and pair[0] == key:
                return _decode_node(pair[1], buffers, 1, [MAX_NODES])
        return None
    except WireError:
        raise
    except (ValueError, TypeError, OverflowError, RecursionError, MemoryError, struct.error) as exc:
        raise WireError(f"malformed frame ({type(exc).__name__})") from None


def _decode_frame(view: memoryview, max_header: int) -> Any:
    header, buffers = _parse_frame(view, max_header)
    return _decode_node(header, buffers, 0, [MAX_NODES])


def _parse_frame(view: memoryview, max_header: int) -> tuple[Any, list[memoryview]]:
    """The frame's header (JSON, not yet checked against the schema) and its buffers."""
    if len(view) < 12 or bytes(view[:4]) != MAGIC:
        raise WireError("not a frame of this wire format")
    (header_len,) = struct.unpack_from("<I", view, 4)
    if header_len > max_header or 8 + header_len + 4 > len(view):
        raise WireError("bad header length")
    try:
        header = json.loads(bytes(view[8:8 + header_len]))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"header is not JSON: {exc}") from None
    pos = 8 + header_len
    (count,) = struct.unpack_from("<I", view, pos)
    pos += 4
    buffers: list[memoryview] = []
    for _ in range(count):
        if pos + 8 > len(view):
            raise WireError("truncated buffer table")
        (size,) = struct.unpack_from("<Q", view, pos)
        pos += 8
        if pos + size > len(view):
            raise WireError("truncated buffer")
        buffers.append(view[pos:pos + size])
        pos += size
    if pos != len(view):
        raise WireError("trailing bytes after the last buffer")
    return header, buffers


def _decode_node(node: Any, buffers: list[memoryview], depth: int, budget: list[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH or type(node) is not dict or type(node.get("t")) is not str:
        raise WireError("malformed node")
    tag, value = node["t"], node.get("v")
    if tag == "none" and set(node) == {"t"}:
        return None
    if tag == "bool" and type(value) is bool:
        return value
    if tag == "int" and type(value) is int:
        return value
    if tag == "float":
        if type(value) in (int, float):
            return float(value)
        if value in ("nan", "inf", "-inf"):
            return float(value)
    if tag == "str" and type(value) is str:
        return value
    if tag == "list" and type(value) is list:
        return [_decode_node(item, buffers, depth + 1, budget) for item in value]
    if tag == "dict" and type(value) is list:
        out = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("malformed dict entry")
            out[pair[0]] = _decode_node(pair[1], buffers, depth + 1, budget)
        return out
    if tag in ("ndarray", "tensor"):
        return _decode_array(node, buffers)
    raise WireError(f"malformed node of type {tag!r}")


def _decode_array(node: dict, buffers: list[memoryview]) -> Any:
    dtype, shape, index = node.get("dtype"), node.get("shape"), node.get("buf")
    if dtype not in DTYPES or type(shape) is not list or type(index) is not int:
        raise WireError("malformed array node")
    if len(shape) > MAX_DEPTH or not all(type(n) is int and 0 <= n < 2**40 for n in shape) \
            or not 0 <= index < len(buffers):
        raise WireError("malformed array shape or buffer")
    expected = math.prod(shape) * np.dtype(dtype).itemsize
    if len(buffers[index]) != expected:
        raise WireError("array buffer size does not match its shape")
    array = np.frombuffer(buffers[index], dtype=dtype).reshape(shape)
    if node["t"] == "ndarray":
        return array
    torch = _torch()
    if torch is None:
        raise WireError("a tensor arrived but torch is not installed")
    return torch.from_numpy(array)


def write_frame(stream: BinaryIO, message: Any) -> None:
    """Write one length-prefixed frame and flush."""
    frame = encode(message)
    stream.write(struct.pack("<Q", len(frame)) + frame)
    stream.flush()


def roundtrip(value: Any) -> Any:
    """What a value looks like after crossing the wire (so both sides compare like with like)."""
    return decode(encode(value))
