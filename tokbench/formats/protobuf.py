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
from collections.abc import Iterator

__all__ = ["iter_fields", "ProtobufError", "as_float"]


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
