"""The Liaison encoding (spec/protocol.md §2): big-endian integers, fixed fields, length-prefixed
byte and string fields, flags; a strict reader that refuses short input, over-long lengths,
unknown values and trailing bytes; and the labelled ``info`` framing used by every hash and KDF.
"""

from __future__ import annotations

import hashlib
import struct


class DecodeError(ValueError):
    """Any decoding failure (protocol.md §2 rule 6). ``kind`` is the spec's error name."""

    def __init__(self, kind: str, what: str = ""):
        super().__init__(f"{kind}: {what}" if what else kind)
        self.kind = kind


def truncated(what: str = "") -> DecodeError:
    return DecodeError("Truncated", what)


def too_long(what: str = "") -> DecodeError:
    return DecodeError("TooLong", what)


def non_canonical(what: str = "") -> DecodeError:
    return DecodeError("NonCanonical", what)


def unknown_value(what: str = "") -> DecodeError:
    return DecodeError("UnknownValue", what)


class Reader:
    """Reads one object from ``data`` front to back; ``pos`` is the offset reached so far."""

    def __init__(self, data: bytes):
        self.data = bytes(data)
        self.pos = 0

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str = "") -> bytes:
        if n > self.remaining:
            raise truncated(what or f"{n} bytes")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self, what: str = "u8") -> int:
        return self.take(1, what)[0]

    def u16(self, what: str = "u16") -> int:
        return struct.unpack(">H", self.take(2, what))[0]

    def u32(self, what: str = "u32") -> int:
        return struct.unpack(">I", self.take(4, what))[0]

    def u64(self, what: str = "u64") -> int:
        return struct.unpack(">Q", self.take(8, what))[0]

    def fixed(self, n: int, what: str = "") -> bytes:
        return self.take(n, what)

    def bytes16(self, max_len: int, what: str = "bytes16") -> bytes:
        n = self.u16(what)
        if n > max_len:  # rule 2: bound checked before reading
            raise too_long(f"{what}: {n} > {max_len}")
        return self.take(n, what)

    def bytes32(self, max_len: int, what: str = "bytes32") -> bytes:
        n = self.u32(what)
        if n > max_len:
            raise too_long(f"{what}: {n} > {max_len}")
        return self.take(n, what)

    def string16(self, max_len: int, what: str = "string16") -> str:
        raw = self.bytes16(max_len, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise non_canonical(f"{what}: invalid UTF-8") from e

    def name(self, max_len: int, what: str = "name") -> str:
        s = self.string16(max_len, what)
        if not s:
            raise non_canonical(f"{what}: empty name")
        return s

    def flag(self, what: str = "flag") -> bool:
        v = self.u8(what)
        if v not in (0, 1):
            raise non_canonical(f"{what}: flag {v:#04x}")
        return v == 1

    def finish(self) -> None:
        """Rule 1: no trailing bytes after a complete object."""
        if self.remaining:
            raise DecodeError("TrailingBytes", f"{self.remaining} bytes")


class Writer:
    """Builds an encoding; ``bytes(w)`` or ``w.out`` is the result."""

    def __init__(self) -> None:
        self.out = bytearray()

    def __bytes__(self) -> bytes:
        return bytes(self.out)

    def raw(self, b: bytes) -> "Writer":
        self.out += b
        return self

    def u8(self, v: int) -> "Writer":
        self.out += struct.pack(">B", v)
        return self

    def u16(self, v: int) -> "Writer":
        self.out += struct.pack(">H", v)
        return self

    def u32(self, v: int) -> "Writer":
        self.out += struct.pack(">I", v)
        return self

    def u64(self, v: int) -> "Writer":
        self.out += struct.pack(">Q", v)
        return self

    def bytes16(self, b: bytes, max_len: int) -> "Writer":
        if len(b) > max_len:
            raise too_long(f"{len(b)} > {max_len}")
        return self.u16(len(b)).raw(b)

    def bytes32(self, b: bytes, max_len: int) -> "Writer":
        if len(b) > max_len:
            raise too_long(f"{len(b)} > {max_len}")
        return self.u32(len(b)).raw(b)

    def string16(self, s: str, max_len: int) -> "Writer":
        return self.bytes16(s.encode("utf-8"), max_len)

    def flag(self, v: bool) -> "Writer":
        return self.u8(1 if v else 0)


def info(label: bytes, parts: list[bytes]) -> bytes:
    """``info(label, parts) = be16(len(label)) || label || for each part: be32(len(part)) || part``
    (protocol.md §5, protocol-link.md §2)."""
    out = struct.pack(">H", len(label)) + label
    for p in parts:
        out += struct.pack(">I", len(p)) + p
    return out


def h384(label: bytes, parts: list[bytes]) -> bytes:
    """``H384(info(label, parts))``: the document hashes of protocol.md §11.3."""
    return hashlib.sha384(info(label, parts)).digest()


def require_ascending(items: list, what: str) -> None:
    """Rule 4: sets are strictly ascending (one canonical encoding)."""
    for a, b in zip(items, items[1:]):
        if not a < b:
            raise non_canonical(f"{what} not strictly ascending")
