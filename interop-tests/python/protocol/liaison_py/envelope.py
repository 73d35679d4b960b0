"""End-to-end envelopes (protocol.md §11, policy §12): parse, hash, verify, open and seal.

``envelope = header || recipient_section || payload_section || signature_trailer``.
The parsed :class:`Envelope` keeps the exact bytes of each section; every hash is over those.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import crypto
from .codec import (
    Reader, Writer, h384, non_canonical, require_ascending, truncated, unknown_value,
)
from .crypto import Suite
from .documents import (
    CTX, ROLE_OFFICER, T_ENVELOPE, VERSION, Certificate, MAX_CERTIFICATE_LEN, MIN_SUITE,
    ProtoError, SUPPLIED_REQUIRED, TrustStore, classification, prekey_id, read_preamble,
    read_trailer, tlp, trailer, verify_signed,
)

# Labels (§16)
HEADER_HASH = b"liaison envelope header v1"
PAYLOAD_HASH = b"liaison envelope payload v1"
TRANSCRIPT = b"liaison envelope transcript v2"  # absorbs header_hash, not the header (§11.3)
KEK_LABEL = b"liaison envelope kek v1"
ENVELOPE_HASH = b"liaison envelope hash v1"

# Limits (§17)
MAX_RECIPIENTS = 64
MAX_PAYLOAD_LEN = 256 * 1024 * 1024
MAX_FILENAME_LEN = 255
MAX_KEY_ID_LEN = MAX_SAE_ID_LEN = 128
MIN_SUPPLIED_KEY_LEN, MAX_SUPPLIED_KEY_LEN = 16, 128
MAX_ENVELOPE_LIFETIME_SECS = 14 * 86400
MAX_CLOCK_SKEW_SECS = 300
WRAPPED_KEY_LEN = 48

CONTENT_TYPES = {1: "stix-2.1-bundle", 2: "misp-event", 3: "text", 4: "attachment"}
CT_ATTACHMENT = 4


@dataclass
class SuppliedRef:
    key_id: str
    source_sae: str
    target_sae: str

    def field(self) -> bytes:
        return bytes(Writer().u8(1).string16(self.key_id, MAX_KEY_ID_LEN)
                     .string16(self.source_sae, MAX_SAE_ID_LEN)
                     .string16(self.target_sae, MAX_SAE_ID_LEN))


def supplied_field(ref: SuppliedRef | None) -> bytes:
    return b"\x00" if ref is None else ref.field()


@dataclass
class Header:
    suite: Suite
    message_id: bytes
    sender: bytes
    sender_certificate: Certificate
    classification: int
    tlp: int
    created: int
    expires: int
    content_type: int
    filename: str
    payload_len: int
    recipients: list[bytes]

    def encode(self) -> bytes:
        w = (Writer().u8(VERSION).u8(T_ENVELOPE).u8(self.suite.id).raw(self.message_id)
             .raw(self.sender).bytes16(self.sender_certificate.raw, MAX_CERTIFICATE_LEN)
             .u8(self.classification).u8(self.tlp).u64(self.created).u64(self.expires)
             .u8(self.content_type).string16(self.filename, MAX_FILENAME_LEN)
             .u64(self.payload_len).u16(len(self.recipients)))
        for rid in self.recipients:
            w.raw(rid)
        return bytes(w)


@dataclass
class Block:
    recipient: bytes
    prekey_id: bytes
    kem_ciphertext: bytes
    supplied: SuppliedRef | None
    supplied_field: bytes  # exact bytes, part of the KEK context
    wrapped_key: bytes

    def encode(self, s: Suite) -> bytes:
        return bytes(Writer().raw(self.recipient).raw(self.prekey_id)
                     .bytes16(self.kem_ciphertext, s.kem_ct_len).raw(self.supplied_field)
                     .raw(self.wrapped_key))


@dataclass
class Opened:
    plaintext: bytes
    envelope_hash: bytes
    content_key: bytes
    kek: bytes
    prk: bytes
    shared_secret: bytes


def _read_header(r: Reader) -> Header:
    s = read_preamble(r, T_ENVELOPE)
    mid = r.fixed(16, "message_id")
    sender = r.fixed(32, "sender")
    cert = Certificate.decode(r.bytes16(MAX_CERTIFICATE_LEN, "sender_certificate"))
    cl = classification(r.u8("classification"))
    tl = tlp(r.u8("tlp"))
    created, expires = r.u64("created"), r.u64("expires")
    if not created <= expires <= created + MAX_ENVELOPE_LIFETIME_SECS:
        raise non_canonical("envelope lifetime")
    ct = r.u8("content_type")
    if ct not in CONTENT_TYPES:
        raise unknown_value(f"content type {ct}")
    filename = r.string16(MAX_FILENAME_LEN, "filename")
    if (ct == CT_ATTACHMENT) != bool(filename):
        raise non_canonical("filename non-empty iff attachment")
    payload_len = r.u64("payload_len")
    if payload_len > MAX_PAYLOAD_LEN:
        raise non_canonical("payload_len over 256 MiB")
    n = r.u16("recipient_count")
    if not 1 <= n <= MAX_RECIPIENTS:
        raise non_canonical(f"recipient count {n}")
    if n * 32 > r.remaining:
        raise truncated("recipients")
    recipients = [r.fixed(32, "recipient") for _ in range(n)]
    require_ascending(recipients, "recipients")
    return Header(s, mid, sender, cert, cl, tl, created, expires, ct, filename, payload_len,
                  recipients)


def _read_block(r: Reader, s: Suite, expected_recipient: bytes) -> Block:
    rid = r.fixed(32, "recipient")
    if rid != expected_recipient:
        raise non_canonical("recipient block out of header order")
    pid = r.fixed(32, "prekey_id")
    kct = r.bytes16(s.kem_ct_len, "kem_ciphertext")
    if len(kct) != s.kem_ct_len:
        raise non_canonical("KEM ciphertext length")
    start = r.pos
    ref = None
    if r.flag("supplied flag"):
        ref = SuppliedRef(r.name(MAX_KEY_ID_LEN, "key_id"), r.name(MAX_SAE_ID_LEN, "source_sae"),
                          r.name(MAX_SAE_ID_LEN, "target_sae"))
    sf = r.data[start:r.pos]
    wk = r.fixed(WRAPPED_KEY_LEN, "wrapped_key")
    return Block(rid, pid, kct, ref, sf, wk)


def kek(ss: bytes, supplied_key: bytes | None, header_hash: bytes, recipient: bytes,
        prekey_id: bytes, sfield: bytes) -> tuple[bytes, bytes]:
    """§11.4 step 5: returns ``(prk, KEK)``."""
    prk = crypto.combine(ss, supplied_key)
    return prk, crypto.expand(prk, KEK_LABEL, [header_hash, recipient, prekey_id, sfield], 32)


@dataclass
class Envelope:
    raw: bytes
    header: Header
    blocks: list[Block]
    header_bytes: bytes
    recipient_section: bytes
    ciphertext: bytes
    sig_suite: Suite
    signature: bytes

    @classmethod
    def decode(cls, raw: bytes) -> "Envelope":
        r = Reader(raw)
        header = _read_header(r)
        h_end = r.pos
        blocks = [_read_block(r, header.suite, rid) for rid in header.recipients]
        b_end = r.pos
        ct = r.bytes32(MAX_PAYLOAD_LEN + 16, "payload")
        if len(ct) != header.payload_len + 16:
            raise non_canonical("payload length != payload_len + 16")
        ss, sig = read_trailer(r)
        if ss.id != header.suite.id:
            raise non_canonical("signature suite != header suite")
        return cls(raw, header, blocks, raw[:h_end], raw[h_end:b_end], ct, ss, sig)

    # -- hashes (§11.3)
    @property
    def header_hash(self) -> bytes:
        return h384(HEADER_HASH, [self.header_bytes])

    @property
    def payload_hash(self) -> bytes:
        return h384(PAYLOAD_HASH, [self.ciphertext])

    @property
    def signed_digest(self) -> bytes:
        return h384(TRANSCRIPT, [self.header_hash, self.recipient_section, self.payload_hash])

    @property
    def envelope_hash(self) -> bytes:
        return h384(ENVELOPE_HASH, [self.raw])

    # -- relay checks (§11.5)
    def verify_sender(self, trust: TrustStore, now: int) -> None:
        h = self.header
        cert = h.sender_certificate
        trust.validate(cert, now, role=ROLE_OFFICER)
        if cert.subject != h.sender:
            raise ProtoError("SenderMismatch")
        if cert.suite.id != h.suite.id:
            raise ProtoError("SuiteMismatch")
        verify_signed(cert.suite, cert.public_key, self.sig_suite, T_ENVELOPE,
                      self.signed_digest, self.signature)
        if now > h.expires:
            raise ProtoError("EnvelopeExpired")
        if h.created > now + MAX_CLOCK_SKEW_SECS:
            raise ProtoError("EnvelopeFromFuture")
        if h.suite.id < MIN_SUITE[h.classification]:
            raise ProtoError("SuiteBelowPolicy")
        if SUPPLIED_REQUIRED[h.classification] and any(b.supplied is None for b in self.blocks):
            raise ProtoError("SuppliedKeyRequired")
        if h.classification > cert.clearance:
            raise ProtoError("ClassificationAboveClearance")

    # -- opening (§11.6)
    def open(self, trust: TrustStore, me: Certificate, prekeys: list[crypto.KemKeyPair],
             supplied_key: bytes | None, now: int) -> Opened:
        self.verify_sender(trust, now)
        trust.validate(me, now, role=ROLE_OFFICER)
        if self.header.classification > me.clearance:
            raise ProtoError("ClassificationAboveClearance", "recipient")
        block = next((b for b in self.blocks if b.recipient == me.subject), None)
        if block is None:
            raise ProtoError("NotARecipient")
        secret = next((k for k in prekeys
                       if prekey_id(k.suite, k.public_key) == block.prekey_id), None)
        if secret is None:
            raise ProtoError("UnknownPrekey")
        if block.supplied is not None and supplied_key is None:
            raise ProtoError("SuppliedKeyNotProvided")
        if block.supplied is None and supplied_key is not None:
            raise ProtoError("UnexpectedSuppliedKey")
        if supplied_key is not None and not (
                MIN_SUPPLIED_KEY_LEN <= len(supplied_key) <= MAX_SUPPLIED_KEY_LEN):
            raise ProtoError("SuppliedKeyLength")
        hh = self.header_hash
        try:
            ss = secret.decapsulate(block.kem_ciphertext)
            prk, k = kek(ss, supplied_key, hh, block.recipient, block.prekey_id,
                         block.supplied_field)
            ck = crypto.aead_open(k, crypto.ZERO_NONCE, hh, block.wrapped_key)
        except crypto.CryptoError as e:
            raise ProtoError("RecipientBlockMismatch", str(e)) from e
        try:
            pt = crypto.aead_open(ck, crypto.ZERO_NONCE, hh, self.ciphertext)
        except crypto.CryptoError as e:
            raise ProtoError("PayloadDecryptionFailed") from e
        crypto.TALLY["envelope block opened (Python)"] += 1
        return Opened(pt, self.envelope_hash, ck, k, prk, ss)


@dataclass
class Recipient:
    """What a sender needs per recipient: the certificate's id, a verified signed prekey, and
    optionally a supplied key with its reference."""

    identity: bytes
    prekey_id: bytes
    kem_public_key: bytes
    clearance: int
    supplied_key: bytes | None = None
    supplied_ref: SuppliedRef | None = None

    @classmethod
    def from_documents(cls, trust: TrustStore, cert: Certificate, prekey, now: int,
                       supplied_key: bytes | None = None,
                       supplied_ref: SuppliedRef | None = None) -> "Recipient":
        """The sender's checks on a recipient (§10, §11.4): a valid officer certificate and a
        signed prekey it owns, valid at ``now``."""
        trust.validate(cert, now, role=ROLE_OFFICER)
        prekey.verify(cert, now)
        return cls(cert.subject, prekey.prekey_id, prekey.kem_public_key, cert.clearance,
                   supplied_key, supplied_ref)


def seal(sender: crypto.SigningKey, sender_cert: Certificate, recipients: list[Recipient],
         plaintext: bytes, *, classification_: int, tlp_: int, created: int, expires: int,
         content_type: int = 3, filename: str = "", message_id: bytes | None = None,
         check_policy: bool = True, rng=os.urandom) -> bytes:
    """``EnvelopeBuilder::seal`` (§11.4), randomness in the order of §11.4. With
    ``check_policy`` (the default) the sender's own checks of §11.4/§12 run first; tests turn
    them off to make envelopes a conforming sender would refuse to produce."""
    s = sender.suite
    if check_policy:
        if sender_cert.subject != sender.identity or sender_cert.role != ROLE_OFFICER:
            raise ProtoError("WrongRole", "the sender certificate must be our own, an officer")
        if sender_cert.suite.id != s.id:
            raise ProtoError("SuiteMismatch")
        if s.id < MIN_SUITE[classification_]:
            raise ProtoError("SuiteBelowPolicy")
        if any(classification_ > c for c in [sender_cert.clearance] +
               [x.clearance for x in recipients]):
            raise ProtoError("ClassificationAboveClearance")
        if SUPPLIED_REQUIRED[classification_] and any(x.supplied_key is None for x in recipients):
            raise ProtoError("SuppliedKeyRequired")
        if not created <= expires <= created + MAX_ENVELOPE_LIFETIME_SECS:
            raise ProtoError("InvalidInput", "lifetime")
    for x in recipients:
        if (x.supplied_key is None) != (x.supplied_ref is None):
            raise ProtoError("InvalidInput", "a supplied key needs its reference and back")
        if x.supplied_key is not None and not (
                MIN_SUPPLIED_KEY_LEN <= len(x.supplied_key) <= MAX_SUPPLIED_KEY_LEN):
            raise ProtoError("SuppliedKeyLength")
    recips = sorted(recipients, key=lambda x: x.identity)
    ids = [x.identity for x in recips]
    if len(set(ids)) != len(ids) or not 1 <= len(ids) <= MAX_RECIPIENTS:
        raise ValueError("recipients")
    if len(plaintext) > MAX_PAYLOAD_LEN:
        raise ValueError("payload too large")
    header = Header(s, message_id if message_id is not None else rng(16), sender.identity,
                    sender_cert, classification_, tlp_, created, expires, content_type,
                    filename, len(plaintext), ids)
    hb = header.encode()
    hh = h384(HEADER_HASH, [hb])
    content_key = rng(32)
    ciphertext = crypto.aead_seal(content_key, crypto.ZERO_NONCE, hh, plaintext)
    section = b""
    for x in recips:
        kct, ss = crypto.encapsulate(s, x.kem_public_key, rng(64))
        sf = supplied_field(x.supplied_ref)
        _, k = kek(ss, x.supplied_key, hh, x.identity, x.prekey_id, sf)
        wk = crypto.aead_seal(k, crypto.ZERO_NONCE, hh, content_key)
        section += Block(x.identity, x.prekey_id, kct, x.supplied_ref, sf, wk).encode(s)
    payload = bytes(Writer().bytes32(ciphertext, MAX_PAYLOAD_LEN + 16))
    digest = h384(TRANSCRIPT, [hh, section, h384(PAYLOAD_HASH, [ciphertext])])
    sig = sender.sign(CTX[T_ENVELOPE], digest)
    return hb + section + payload + trailer(s, sig)


