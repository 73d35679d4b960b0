"""Python → Rust: envelopes sealed and receipts issued by liaison_py (written from the spec)
are opened and verified by liaison-proto through ``liaison-proto-interop``.

The Python sender and recipients are officers of spec/test-vectors/certificates.json whose
(test) identity and prekey seeds are published there; liaison_py derives their keys from the
seeds. Tampered or policy-violating Python envelopes must be refused by Rust with the error
the spec names.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from conftest import hx
from liaison_py import crypto
from liaison_py.documents import ProtoError, Receipt
from liaison_py.envelope import (
    CTX, HEADER_HASH, PAYLOAD_HASH, T_ENVELOPE, TRANSCRIPT, Envelope, Recipient, SuppliedRef,
    h384, seal, trailer,
)

TALLY = crypto.TALLY
NOW = 1_800_000_000
RESTREINT, CONFIDENTIEL, SECRET = 1, 2, 3
AMBER, RED = 2, 4


def officers(documents, suite_name):
    return sorted((m for m in documents.members.values()
                   if m.vec["suite"] == suite_name and m.cert.role == 2
                   and m.cert.serial != 1030), key=lambda m: m.cert.serial)


def signing_key(m):
    return crypto.SigningKey.from_seed(m.cert.suite, hx(m.vec["identity_seed"]))


def recipient(documents, m, supplied: bytes | None = None, n: int = 0):
    ref = None
    if supplied is not None:
        ref = SuppliedRef(f"py-{n:04d}-{os.urandom(4).hex()}", "SAE_PY_SENDER",
                          f"SAE_RECIPIENT_{m.cert.serial}")
    return Recipient.from_documents(documents.trust, m.cert, m.prekey, NOW, supplied, ref)


@pytest.fixture(scope="module")
def anchor(documents):
    """The federation authority's public key, the only trust anchor Rust is given."""
    return documents.anchor_pk.hex()


def rust_open(rust, tmp_path: pathlib.Path, env: bytes, m, supplied: bytes | None,
              anchor: str, now: int = NOW):
    f = tmp_path / f"env-{os.urandom(4).hex()}.bin"
    f.write_bytes(env)
    args = ["open", "--envelope", str(f), "--recipient-cert", m.cert.raw.hex(),
            "--prekey-seed", m.vec["prekey"]["kem_seed"], "--trust", anchor, "--now", str(now)]
    if supplied is not None:
        args += ["--supplied-key", supplied.hex()]
    return rust(*args)


def rust_verify_receipt(rust, tmp_path, receipt: bytes, env: bytes, m, anchor: str):
    fr, fe = tmp_path / f"rc-{os.urandom(4).hex()}.bin", tmp_path / f"e-{os.urandom(4).hex()}.bin"
    fr.write_bytes(receipt)
    fe.write_bytes(env)
    return rust("verify-receipt", "--receipt", str(fr), "--envelope", str(fe),
                "--recipient-cert", m.cert.raw.hex(), "--trust", anchor, "--now", str(NOW + 60))


def assert_rust_opened(res, env_bytes: bytes, plaintext: bytes):
    assert res.ok, res.out
    env = Envelope.decode(env_bytes)
    assert res.out["plaintext"] == plaintext.hex()
    assert res.out["envelope_hash"] == res.out["opened_envelope_hash"] == env.envelope_hash.hex()
    assert res.out["header_hash"] == env.header_hash.hex()
    assert res.out["signed_digest"] == env.signed_digest.hex()
    h = env.header
    assert (res.out["message_id"], res.out["sender"], res.out["classification"],
            res.out["tlp"], res.out["created"], res.out["expires"], res.out["payload_len"],
            res.out["recipients"]) == (h.message_id.hex(), h.sender.hex(), h.classification,
                                      h.tlp, h.created, h.expires, h.payload_len,
                                      [r.hex() for r in h.recipients])
    TALLY["Python-sealed envelopes opened by Rust, per recipient"] += 1


def assert_rust_refused(res, error: str, wire_code: int):
    assert not res.ok, res.out
    assert (res.out["error"], res.out["wire_code"]) == (error, wire_code), res.out
    TALLY["negative cases refused (Rust)"] += 1


@pytest.fixture(scope="module")
def lq1_envelope(documents):
    """LQ1, RESTREINT UE, TLP:AMBER, text, two recipients, no supplied key."""
    o = officers(documents, "LQ1")
    sender, recips = o[0], o[1:3]
    pt = b'{"type":"bundle","id":"bundle--python-sealed","objects":[]}'
    env = seal(signing_key(sender), sender.cert, [recipient(documents, m) for m in recips], pt,
               classification_=RESTREINT, tlp_=AMBER, created=NOW, expires=NOW + 86400,
               content_type=1)
    return env, pt, sender, recips


@pytest.fixture(scope="module")
def lq2_envelope(documents):
    """LQ2, SECRET UE, TLP:RED, attachment, three recipients, one supplied key each."""
    o = officers(documents, "LQ2")
    sender, recips = o[0], o[1:4]
    keys = {m.cert.subject: os.urandom(16 + 16 * i) for i, m in enumerate(recips)}
    pt = os.urandom(3000)
    env = seal(signing_key(sender), sender.cert,
               [recipient(documents, m, keys[m.cert.subject], i) for i, m in enumerate(recips)],
               pt, classification_=SECRET, tlp_=RED, created=NOW, expires=NOW + 7 * 86400,
               content_type=4, filename="incident-2027-0042.pcap")
    return env, pt, sender, recips, keys


def test_rust_opens_python_lq1_envelope(documents, rust, tmp_path, anchor, lq1_envelope):
    env, pt, _, recips = lq1_envelope
    for m in recips:
        assert_rust_opened(rust_open(rust, tmp_path, env, m, None, anchor), env, pt)
        # liaison_py opens it too.
        e = Envelope.decode(env)
        assert e.open(documents.trust, m.cert, [crypto.KemKeyPair.from_seed(
            e.header.suite, hx(m.vec["prekey"]["kem_seed"]))], None, NOW).plaintext == pt


def test_rust_opens_python_lq2_supplied_envelope(documents, rust, tmp_path, anchor,
                                                 lq2_envelope):
    env, pt, _, recips, keys = lq2_envelope
    for m in recips:
        res = rust_open(rust, tmp_path, env, m, keys[m.cert.subject], anchor)
        assert_rust_opened(res, env, pt)
        block = next(b for b in res.out["blocks"] if b["recipient"] == m.cert.subject.hex())
        assert block["supplied_key_id"].startswith("py-")
    # Another recipient's supplied key does not unwrap (RecipientBlockMismatch, wire 0x0002).
    m0, m1 = recips[0], recips[1]
    assert_rust_refused(rust_open(rust, tmp_path, env, m0, keys[m1.cert.subject][:16] + bytes(16),
                                  anchor), "RecipientBlockMismatch", 0x0002)
    assert_rust_refused(rust_open(rust, tmp_path, env, m0, None, anchor),
                        "SuppliedKeyNotProvided", 0x010c)


def test_rust_verifies_python_receipts(documents, rust, tmp_path, anchor, lq1_envelope,
                                       lq2_envelope):
    for env, m in ((lq1_envelope[0], lq1_envelope[3][0]), (lq2_envelope[0], lq2_envelope[3][2])):
        e = Envelope.decode(env)
        rc = Receipt.issue(signing_key(m), e.header.message_id, e.envelope_hash, e.header.sender,
                           NOW + 30)
        # liaison_py checks its own receipt, then Rust does.
        Receipt.decode(rc).verify(documents.trust, m.cert, e, NOW + 60)
        res = rust_verify_receipt(rust, tmp_path, rc, env, m, anchor)
        assert res.ok, res.out
        assert (res.out["message_id"], res.out["envelope_hash"], res.out["recipient"],
                res.out["received_at"]) == (e.header.message_id.hex(), e.envelope_hash.hex(),
                                            m.cert.subject.hex(), NOW + 30)
        TALLY["Python-issued receipts verified by Rust"] += 1
        # Properly signed, but naming another envelope hash → ReceiptMismatch (0x010b).
        bad = Receipt.issue(signing_key(m), e.header.message_id, bytes(48), e.header.sender,
                            NOW + 30)
        assert_rust_refused(rust_verify_receipt(rust, tmp_path, bad, env, m, anchor),
                            "ReceiptMismatch", 0x010b)
        # A flipped byte in the signed part → BadSignature (0x0002).
        flipped = bytearray(rc)
        flipped[3 + 16 + 5] ^= 0x80
        assert_rust_refused(rust_verify_receipt(rust, tmp_path, bytes(flipped), env, m, anchor),
                            "BadSignature", 0x0002)


def _resign(env_bytes: bytes, key: crypto.SigningKey, mutate_header) -> bytes:
    """Re-assemble an envelope with a modified header and the sender's fresh signature (the
    recipient section and payload unchanged)."""
    e = Envelope.decode(env_bytes)
    header = bytearray(e.header_bytes)
    mutate_header(header)
    header = bytes(header)
    payload_len = 4 + len(e.ciphertext)
    payload = env_bytes[len(e.header_bytes) + len(e.recipient_section):][:payload_len]
    digest = h384(TRANSCRIPT, [h384(HEADER_HASH, [header]), e.recipient_section,
                               h384(PAYLOAD_HASH, [e.ciphertext])])
    return header + e.recipient_section + payload + trailer(key.suite,
                                                            key.sign(CTX[T_ENVELOPE], digest))


def test_rust_refuses_tampered_python_envelopes(documents, rust, tmp_path, anchor, lq1_envelope):
    env, pt, sender, recips = lq1_envelope
    m = recips[0]
    e = Envelope.decode(env)
    tlp_pos = len(e.header_bytes) - 2 - 32 * len(e.header.recipients) - 8 - 2 - 1 - 8 - 8 - 1
    assert env[tlp_pos] == AMBER

    def with_byte(data: bytes, pos: int, value: int) -> bytes:
        b = bytearray(data)
        b[pos] = value
        return bytes(b)

    # 1. A relay relabels TLP:AMBER as TLP:GREEN → the sender's signature breaks.
    assert_rust_refused(rust_open(rust, tmp_path, with_byte(env, tlp_pos, 1), m, None, anchor),
                        "BadSignature", 0x0002)
    # 2. The same relabelling, re-signed by the sender itself: the header hash is in every
    #    KEK context, so the block no longer unwraps (§11.4).
    resigned = _resign(env, signing_key(sender), lambda h: h.__setitem__(tlp_pos, 1))
    assert_rust_refused(rust_open(rust, tmp_path, resigned, m, None, anchor),
                        "RecipientBlockMismatch", 0x0002)
    # 3. A flipped bit in the payload ciphertext → BadSignature (payload hash is signed).
    assert_rust_refused(rust_open(rust, tmp_path, with_byte(env, len(env) - 3373 - 3 - 10,
                                                            env[len(env) - 3373 - 3 - 10] ^ 4),
                                  m, None, anchor), "BadSignature", 0x0002)
    # 4. Encoding: a trailing byte, an unknown version → Malformed (0x0001).
    assert_rust_refused(rust_open(rust, tmp_path, env + b"\x00", m, None, anchor),
                        "Decode", 0x0001)
    assert_rust_refused(rust_open(rust, tmp_path, with_byte(env, 0, 2), m, None, anchor),
                        "Decode", 0x0001)
    # 5. Time: opened after expiry → EnvelopeExpired (0x0107).
    assert_rust_refused(rust_open(rust, tmp_path, env, m, None, anchor, now=NOW + 86401),
                        "EnvelopeExpired", 0x0107)
    # 6. Someone who is not a recipient.
    stranger = officers(documents, "LQ1")[3]
    assert_rust_refused(rust_open(rust, tmp_path, env, stranger, None, anchor),
                        "NotARecipient", 0x0108)
    # liaison_py agrees on case 2.
    with pytest.raises(ProtoError) as err:
        Envelope.decode(resigned).open(documents.trust, m.cert, [crypto.KemKeyPair.from_seed(
            e.header.suite, hx(m.vec["prekey"]["kem_seed"]))], None, NOW)
    assert err.value.kind == "RecipientBlockMismatch"


def test_rust_refuses_policy_violations(documents, rust, tmp_path, anchor):
    """Envelopes a conforming sender would not make (liaison_py refuses by default) are
    refused by Rust with the §12 policy errors."""
    lq1, lq2 = officers(documents, "LQ1"), officers(documents, "LQ2")
    cases = [
        # LQ1 for CONFIDENTIEL UE → SuiteBelowPolicy (0x0106).
        (lq1[0], lq1[1], CONFIDENTIEL, None, "SuiteBelowPolicy", 0x0106),
        # SECRET UE without a supplied key → SuppliedKeyRequired (0x0106).
        (lq2[0], lq2[1], SECRET, None, "SuppliedKeyRequired", 0x0106),
    ]
    for sender, m, cl, key, error, code in cases:
        args = dict(classification_=cl, tlp_=AMBER, created=NOW, expires=NOW + 3600)
        r = [recipient(documents, m, key)]
        with pytest.raises(ProtoError) as err:
            seal(signing_key(sender), sender.cert, r, b"policy", **args)
        assert err.value.kind == error
        env = seal(signing_key(sender), sender.cert, r, b"policy", check_policy=False, **args)
        assert_rust_refused(rust_open(rust, tmp_path, env, m, key, anchor), error, code)
