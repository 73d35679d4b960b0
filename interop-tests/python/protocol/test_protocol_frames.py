"""spec/test-vectors/frames.json checked by liaison_py: every inner link frame type's encoding
(protocol-link.md §3.3, including ``EnvelopePart``), the non-fatal ``Refused`` and
``PrekeyPublish`` frames (§3.4-3.5), the
per-type body limits (§3.1), the relay wire codes (§6) and a ``PrekeyBundle`` (§3.5), each
parsed and re-encoded here from the spec text and compared byte for byte with Rust's output."""

from __future__ import annotations

import json
import struct

import pytest

from conftest import VECTORS, hx
from liaison_py import crypto
from liaison_py import handshake as hs
from liaison_py.codec import DecodeError

TALLY = crypto.TALLY


@pytest.fixture(scope="module")
def frames() -> dict:
    return json.loads((VECTORS / "frames.json").read_text())


def item_id(body: bytes) -> tuple[bytes, bytes]:
    """``u8 id_len (<= 64) || id``, then the rest."""
    n = body[0]
    assert n <= hs.MAX_MESSAGE_ID_LEN
    return body[1:1 + n], body[1 + n:]


def parse_refused(body: bytes) -> tuple[bytes, int, str]:
    rid, rest = item_id(body)
    code, n = struct.unpack(">HH", rest[:4])
    reason = rest[4:]
    assert len(reason) == n and n <= hs.MAX_ERROR_TEXT_LEN
    return rid, code, reason.decode("utf-8")


def parse_envelope_part(body: bytes) -> tuple[int, int, bytes]:
    """``total (be32) || offset (be32) || bytes [1..=MAX_ENVELOPE_PART]`` with
    ``offset + len(bytes) <= total <= MAX_ENVELOPE_LEN`` (protocol-link.md §3.3)."""
    total, offset = struct.unpack(">II", body[:8])
    part = body[8:]
    assert 1 <= len(part) <= hs.MAX_ENVELOPE_PART
    assert offset + len(part) <= total <= hs.MAX_ENVELOPE_LEN
    return total, offset, part


def encode_refused(rid: bytes, code: int, reason: str) -> bytes:
    text = reason.encode("utf-8")
    return bytes([len(rid)]) + rid + struct.pack(">HH", code, len(text)) + text


def test_body_limits_match_the_rust_table(frames):
    rust = {x["type"]: x["max_body"] for x in frames["limits"]}
    assert rust == hs.FRAME_LIMITS
    assert rust[hs.REFUSED] == hs.MAX_REFUSED_BODY == 1093
    assert rust[hs.PREKEY_PUBLISH] == hs.MAX_SIGNED_PREKEY_LEN
    assert rust[0x20] == hs.MAX_ENVELOPE_LEN == 256 * 1024 * 1024 + 256 * 1024
    assert rust[hs.ENVELOPE_PART] == 8 + hs.MAX_ENVELOPE_PART == 1048584
    TALLY["values recomputed and byte-compared"] += len(rust)


def test_every_vector_frame_decodes_and_reencodes(frames):
    seen = set()
    for f in frames["frames"]:
        wire = hx(f["frame"])
        t, body = hs.decode_frame(wire)
        assert t == f["type"] and body == hx(f["body"]), f["name"]
        assert t in hs.INNER_TYPES
        assert hs.encode_frame(t, body) == wire
        seen.add(t)
        if t == hs.REFUSED:
            rid, code, reason = parse_refused(body)
            assert encode_refused(rid, code, reason) == body, f["name"]
        elif t == hs.ENVELOPE_PART:
            total, offset, part = parse_envelope_part(body)
            assert struct.pack(">II", total, offset) + part == body, f["name"]
        elif t == 0x21:  # Ack
            mid, rest = item_id(body)
            assert len(rest) == 1 and rest[0] in (0, 1, 2, 3)
        TALLY["values recomputed and byte-compared"] += 1
    assert {hs.REFUSED, hs.PREKEY_PUBLISH, hs.ENVELOPE_PART, 0x23, 0x24} <= seen


def test_refusals_name_their_item_and_carry_relay_codes(frames):
    codes = frames["wire_codes"]
    assert codes == {"TooLarge": 0x0301, "NoRoute": 0x0302, "RateLimited": 0x0303,
                     "NoPrekey": 0x0304}
    by_name = {f["name"]: hx(f["body"]) for f in frames["frames"]}
    rid, code, reason = parse_refused(by_name["refused envelope (too large)"])
    assert len(rid) == 16 and code == codes["TooLarge"] and "limit" in reason
    rid, code, _ = parse_refused(by_name["refused prekey request (no prekey)"])
    assert rid == hx(frames["bundle"]["owner"]) and code == codes["NoPrekey"]
    assert parse_refused(by_name["refused with an empty id and reason"]) == (b"", 0x0303, "")


def test_prekey_bundle_is_the_vector_officers_certificate_and_prekey(frames, vectors):
    officer = vectors["certificates"]["officers"][0]
    bundle = hx(frames["bundle"]["bundle"])
    (n,) = struct.unpack(">I", bundle[:4])
    cert, rest = bundle[4:4 + n], bundle[4 + n:]
    (m,) = struct.unpack(">I", rest[:4])
    prekey = rest[4:4 + m]
    assert len(rest) == 4 + m, "no trailing bytes"
    assert n <= hs.MAX_CERTIFICATE_LEN and m <= hs.MAX_SIGNED_PREKEY_LEN
    assert cert == hx(officer["certificate"])
    assert prekey == hx(officer["prekey"]["signed_prekey"])
    assert frames["bundle"]["owner"] == officer["identity_id"]
    by_name = {f["name"]: hx(f["body"]) for f in frames["frames"]}
    assert by_name["prekey response"] == bundle
    assert by_name["prekey publish"] == prekey
    assert by_name["prekey request"] == hx(officer["identity_id"])
    TALLY["values recomputed and byte-compared"] += 4


def test_oversized_refused_header_is_rejected_from_the_header_alone():
    with pytest.raises(DecodeError):
        hs.decode_frame(bytes([hs.REFUSED]) + struct.pack(">I", hs.MAX_REFUSED_BODY + 1))
