"""A minimal protobuf wire-format reader, enough to read SentencePiece ``.model`` files.

SentencePiece's Python package reads models but does not expose the trainer and normalizer
settings tokbench needs (model type, byte fallback, dummy prefix, whitespace handling), and its
generated ``sentencepiece_model_pb2`` module would add a ``protobuf`` dependency. The wire format
is small: varints, 64-bit, length-delimited and 32-bit fields.

Example:
    >>> list(iter_fields(bytes([0x08, 0x96, 0x01])))
    [(1, 0, 150)]
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["iter_fields", "ProtobufError", "as_float", "record_chain"]


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ProtobufError("varint too long")


def iter_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field_number, wire_type, value)``; length-delimited values are ``bytes``."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, wire, value
        elif wire == 1:
            if pos + 8 > len(data):
                raise ProtobufError("truncated 64-bit field")
            yield number, wire, int.from_bytes(data[pos : pos + 8], "little")
            pos += 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated length-delimited field")
            yield number, wire, data[pos : pos + length]
            pos += length
        elif wire == 5:
            if pos + 4 > len(data):
                raise ProtobufError("truncated 32-bit field")
            yield number, wire, int.from_bytes(data[pos : pos + 4], "little")
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def as_float(bits: int) -> float:
    """A 32-bit field's bits as an IEEE float."""
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def record_chain(data: Any, *, tag: int = 0x0A, accept: Callable[[Any], Any] | None = None) -> tuple[Any, Any]:
    """Starts and ends of the leading run of ``tag`` fields with one-byte lengths, found with numpy.

    ``data`` is a uint8 numpy array. A message such as SentencePiece's ``ModelProto`` opens with
    tens of thousands of short length-delimited records; walking them with :func:`iter_fields`
    costs a Python step per record. Every byte that looks like a record start (``tag`` then a
    length under 128, and kept by ``accept(starts)`` if given, which returns the starts whose
    payload has the expected layout) is a candidate. The run is the chain from byte 0: a stretch of candidates
    each starting where the previous one ends is taken whole, and where a stretch breaks (a
    look-alike inside a record) the walk jumps to the candidate at the last record's end. Every
    step follows a record's true end, so the result is what a sequential walk finds, up to the
    first record this fast path cannot read (a longer length, another field); the caller reads
    the rest with :func:`iter_fields`.

    Example:
        >>> import numpy as np
        >>> starts, ends = record_chain(np.frombuffer(bytes([10, 1, 10, 10, 0, 16, 1]), np.uint8))
        >>> starts.tolist(), ends.tolist()
        ([0, 3], [3, 5])
    """
    import numpy as np

    size = data.shape[0]
    # One boolean pass over the message (each temporary of its size costs page faults).
    cand = np.flatnonzero(data[:-1] == tag)
    cand = cand[data[cand + 1] < 0x80]
    if accept is not None and cand.size:
        cand = accept(cand)
    ends = cand + 2 + data[cand + 1]
    inside = ends <= size
    starts, ends = cand[inside], ends[inside]
    if not starts.size or starts[0] != 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    breaks = np.flatnonzero(ends[:-1] != starts[1:])
    stretches = []
    first = 0
    while True:
        k = int(np.searchsorted(breaks, first))
        last = int(breaks[k]) if k < breaks.size else starts.shape[0] - 1
        stretches.append(np.arange(first, last + 1))
        nxt = int(np.searchsorted(starts, ends[last]))
        if nxt >= starts.shape[0] or starts[nxt] != ends[last]:
            break
        first = nxt
    chain = np.concatenate(stretches)
    return starts[chain], ends[chain]
