"""Signed documents of protocol.md §4–§10 and §13: member certificates, certificate requests,
revocation lists, signed prekeys and receipts; and certificate validation (§9).

Every parsed document keeps its exact bytes (``raw``) and the length of its signed part
(``tbs``); signatures are checked over those bytes, never over a re-encoding (§2 rule 5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import crypto
from .codec import (
    Reader, Writer, h384, non_canonical, require_ascending, too_long, truncated, unknown_value,
)
from .crypto import Suite

VERSION = 0x01

# Document types (§4) and their signature contexts.
T_CERT_REQUEST, T_CERTIFICATE, T_REVOCATION, T_PREKEY, T_ENVELOPE, T_RECEIPT = range(1, 7)
CTX = {
    T_CERT_REQUEST: b"liaison certificate request v1",
    T_CERTIFICATE: b"liaison member certificate v1",
    T_REVOCATION: b"liaison revocation list v1",
    T_PREKEY: b"liaison signed prekey v1",
    T_ENVELOPE: b"liaison envelope signature v1",
    T_RECEIPT: b"liaison receipt v1",
}
PREKEY_ID_LABEL = b"liaison prekey id v1"
RECEIPT_CUSTODY_ID_LABEL = b"liaison receipt custody id v1"

# Limits (§17).
MAX_NAME_LEN = MAX_ORGANISATION_LEN = 128
MAX_ADDRESS_LEN = 255
MAX_CERTIFICATE_LEN = 16384
MAX_PUBLIC_KEY_LEN = 4096
MAX_SIGNATURE_LEN = 8192
MAX_REVOKED_ENTRIES = 100000
MAX_KEM_PUBLIC_KEY_LEN = 2048
MAX_PREKEY_LIFETIME_SECS = 90 * 86400

ROLE_RELAY, ROLE_OFFICER = 0x01, 0x02
ROLES = {ROLE_RELAY: "relay", ROLE_OFFICER: "officer"}

# §12
CLASSIFICATIONS = ["UNCLASSIFIED", "RESTREINT UE", "CONFIDENTIEL UE", "SECRET UE",
                   "TRES SECRET UE"]
MIN_SUITE = [1, 1, 2, 2, 2]
SUPPLIED_REQUIRED = [False, False, False, True, True]
TLPS = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


class ProtoError(Exception):
    """A protocol refusal; ``kind`` is the spec's error name (protocol.md §9–§14)."""

    def __init__(self, kind: str, what: str = ""):
        super().__init__(f"{kind}: {what}" if what else kind)
        self.kind = kind


def classification(v: int) -> int:
    if not 0 <= v < len(CLASSIFICATIONS):
        raise unknown_value(f"classification {v}")
    return v


def tlp(v: int) -> int:
    if not 0 <= v < len(TLPS):
        raise unknown_value(f"tlp {v}")
    return v


# ---------------------------------------------------------------------------------------------
# Shared shape (§4)


def read_preamble(r: Reader, doc_type: int) -> Suite:
    version = r.u8("version")
    if version != VERSION:
        raise unknown_value(f"version {version}")
    t = r.u8("type")
    if t != doc_type:
        raise unknown_value(f"document type {t} (expected {doc_type})")
    return crypto.suite(r.u8("suite"))


def read_trailer(r: Reader) -> tuple[Suite, bytes]:
    """``sig_suite:u8 || signature:bytes16<8192>``; the length must be the suite's (§4)."""
    s = crypto.suite(r.u8("sig_suite"))
    sig = r.bytes16(MAX_SIGNATURE_LEN, "signature")
    if len(sig) != s.sig_len:
        raise non_canonical(f"signature length {len(sig)} for {s.name}")
    r.finish()
    return s, sig


def trailer(s: Suite, sig: bytes) -> bytes:
    return bytes(Writer().u8(s.id).bytes16(sig, MAX_SIGNATURE_LEN))


def verify_signed(public_key_suite: Suite, public_key: bytes, sig_suite: Suite, doc_type: int,
                  m: bytes, sig: bytes) -> None:
    """The signer's key suite must be the trailer's suite; then the composite signature."""
    if sig_suite.id != public_key_suite.id:
        raise ProtoError("SuiteMismatch", "signature suite differs from the signer's key suite")
    try:
        crypto.composite_verify(sig_suite, public_key, CTX[doc_type], m, sig)
    except crypto.CryptoError as e:
        raise ProtoError("BadSignature", str(e)) from e


def read_public_key(r: Reader, s: Suite) -> bytes:
    pk = r.bytes16(MAX_PUBLIC_KEY_LEN, "public_key")
    if len(pk) != s.sig_pk_len:
        raise non_canonical(f"public key length {len(pk)} for {s.name}")
    return pk


# ---------------------------------------------------------------------------------------------
# Certificate requests (§7)


@dataclass
class CertificateRequest:
    raw: bytes
    tbs: int
    suite: Suite
    public_key: bytes
    name: str
    organisation: str
    sig_suite: Suite
    signature: bytes

    @classmethod
    def decode(cls, raw: bytes) -> "CertificateRequest":
        r = Reader(raw)
        s = read_preamble(r, T_CERT_REQUEST)
        pk = read_public_key(r, s)
        name = r.name(MAX_NAME_LEN, "name")
        org = r.name(MAX_ORGANISATION_LEN, "organisation")
        tbs = r.pos
        ss, sig = read_trailer(r)
        return cls(raw, tbs, s, pk, name, org, ss, sig)

    def verify(self) -> None:
        """Proof of possession: signed by the key it carries."""
        verify_signed(self.suite, self.public_key, self.sig_suite, T_CERT_REQUEST,
                      self.raw[:self.tbs], self.signature)

    @property
    def subject(self) -> bytes:
        return crypto.identity_id(self.suite, self.public_key)


# ---------------------------------------------------------------------------------------------
# Member certificates (§6)


@dataclass
class Certificate:
    raw: bytes
    tbs: int
    suite: Suite
    serial: int
    issuer: bytes
    subject: bytes
    public_key: bytes
    role: int
    clearance: int
    name: str
    organisation: str
    home_relay: bytes | None
    address: str | None
    not_before: int
    not_after: int
    sig_suite: Suite
    signature: bytes

    @classmethod
    def decode(cls, raw: bytes) -> "Certificate":
        if len(raw) > MAX_CERTIFICATE_LEN:
            raise non_canonical("certificate longer than 16384 bytes")
        r = Reader(raw)
        s = read_preamble(r, T_CERTIFICATE)
        serial = r.u64("serial")
        issuer = r.fixed(32, "issuer")
        subject = r.fixed(32, "subject")
        pk = read_public_key(r, s)
        role = r.u8("role")
        if role not in ROLES:
            raise unknown_value(f"role {role}")
        clearance = classification(r.u8("clearance"))
        name = r.name(MAX_NAME_LEN, "name")
        org = r.name(MAX_ORGANISATION_LEN, "organisation")
        home_relay = r.fixed(32, "home_relay") if r.flag("home_relay_flag") else None
        address = r.name(MAX_ADDRESS_LEN, "address") if r.flag("address_flag") else None
        not_before, not_after = r.u64("not_before"), r.u64("not_after")
        if not_before > not_after:
            raise non_canonical("not_before > not_after")
        if role == ROLE_OFFICER and (home_relay is None or address is not None):
            raise non_canonical("officer needs a home relay and no address")
        if role == ROLE_RELAY and (address is None or home_relay is not None):
            raise non_canonical("relay needs an address and no home relay")
        tbs = r.pos
        ss, sig = read_trailer(r)
        return cls(raw, tbs, s, serial, issuer, subject, pk, role, clearance, name, org,
                   home_relay, address, not_before, not_after, ss, sig)


# ---------------------------------------------------------------------------------------------
# Revocation lists (§8)


@dataclass
class RevocationList:
    raw: bytes
    tbs: int
    suite: Suite
    issuer: bytes
    number: int
    this_update: int
    next_update: int
    serials: list[int]
    subjects: list[bytes]
    sig_suite: Suite
    signature: bytes

    @classmethod
    def decode(cls, raw: bytes) -> "RevocationList":
        r = Reader(raw)
        s = read_preamble(r, T_REVOCATION)
        issuer = r.fixed(32, "issuer")
        number = r.u64("number")
        this_update, next_update = r.u64("this_update"), r.u64("next_update")
        if this_update > next_update:
            raise non_canonical("this_update > next_update")
        serials = _read_list(r, 8, lambda: r.u64("serial"), "serials")
        subjects = _read_list(r, 32, lambda: r.fixed(32, "subject"), "subjects")
        tbs = r.pos
        ss, sig = read_trailer(r)
        return cls(raw, tbs, s, issuer, number, this_update, next_update, serials, subjects,
                   ss, sig)


def _read_list(r: Reader, item_len: int, read_one, what: str) -> list:
    n = r.u32(f"{what} count")
    if n > MAX_REVOKED_ENTRIES:
        raise too_long(f"{what}: {n}")
    if n * item_len > r.remaining:  # §2 rule 2: count against the bytes remaining
        raise truncated(what)
    items = [read_one() for _ in range(n)]
    require_ascending(items, what)
    return items


# ---------------------------------------------------------------------------------------------
# Signed prekeys (§10)


def prekey_id(s: Suite, kem_public_key: bytes) -> bytes:
    return h384(PREKEY_ID_LABEL, [bytes([s.id]), kem_public_key])[:32]


@dataclass
class SignedPrekey:
    raw: bytes
    tbs: int
    suite: Suite
    owner: bytes
    prekey_id: bytes
    kem_public_key: bytes
    created: int
    expires: int
    sig_suite: Suite
    signature: bytes

    @classmethod
    def decode(cls, raw: bytes) -> "SignedPrekey":
        r = Reader(raw)
        s = read_preamble(r, T_PREKEY)
        owner = r.fixed(32, "owner")
        pid = r.fixed(32, "prekey_id")
        kpk = r.bytes16(MAX_KEM_PUBLIC_KEY_LEN, "kem_public_key")
        if len(kpk) != s.kem_pk_len:
            raise non_canonical("KEM public key length")
        if pid != prekey_id(s, kpk):
            raise non_canonical("prekey_id does not match the KEM public key")
        created, expires = r.u64("created"), r.u64("expires")
        if not created <= expires <= created + MAX_PREKEY_LIFETIME_SECS:
            raise non_canonical("prekey lifetime")
        tbs = r.pos
        ss, sig = read_trailer(r)
        return cls(raw, tbs, s, owner, pid, kpk, created, expires, ss, sig)

    def verify(self, owner: Certificate, now: int) -> None:
        """The sender's acceptance rule of §10, in the order given there."""
        if owner.subject != self.owner:
            raise ProtoError("PrekeyOwnerMismatch")
        verify_signed(owner.suite, owner.public_key, self.sig_suite, T_PREKEY,
                      self.raw[:self.tbs], self.signature)
        if owner.suite.id != self.suite.id:
            raise ProtoError("SuiteMismatch", "owner certificate suite != prekey suite")
        if not self.created <= now <= self.expires:
            raise ProtoError("PrekeyExpired")

    @staticmethod
    def encode(key: crypto.SigningKey, kem_public_key: bytes, created: int,
               expires: int) -> bytes:
        s = key.suite
        tbs = bytes(Writer().u8(VERSION).u8(T_PREKEY).u8(s.id).raw(key.identity)
                    .raw(prekey_id(s, kem_public_key))
                    .bytes16(kem_public_key, MAX_KEM_PUBLIC_KEY_LEN).u64(created).u64(expires))
        return tbs + trailer(s, key.sign(CTX[T_PREKEY], tbs))


# ---------------------------------------------------------------------------------------------
# Receipts (§13)


@dataclass
class Receipt:
    raw: bytes
    tbs: int
    suite: Suite
    message_id: bytes
    envelope_hash: bytes
    sender: bytes
    recipient: bytes
    received_at: int
    sig_suite: Suite
    signature: bytes

    @classmethod
    def decode(cls, raw: bytes) -> "Receipt":
        r = Reader(raw)
        s = read_preamble(r, T_RECEIPT)
        mid = r.fixed(16, "message_id")
        eh = r.fixed(48, "envelope_hash")
        sender = r.fixed(32, "sender")
        recipient = r.fixed(32, "recipient")
        received_at = r.u64("received_at")
        tbs = r.pos
        ss, sig = read_trailer(r)
        return cls(raw, tbs, s, mid, eh, sender, recipient, received_at, ss, sig)

    def custody_id(self) -> bytes:
        """§13: the id a relay holds and acknowledges the receipt under."""
        return h384(RECEIPT_CUSTODY_ID_LABEL, [self.message_id, self.envelope_hash,
                                               self.recipient])[:16]

    @staticmethod
    def issue(key: crypto.SigningKey, message_id: bytes, envelope_hash: bytes, sender: bytes,
              received_at: int) -> bytes:
        s = key.suite
        tbs = bytes(Writer().u8(VERSION).u8(T_RECEIPT).u8(s.id).raw(message_id)
                    .raw(envelope_hash).raw(sender).raw(key.identity).u64(received_at))
        return tbs + trailer(s, key.sign(CTX[T_RECEIPT], tbs))

    def verify(self, trust: "TrustStore", recipient_cert: Certificate, envelope, now: int) -> None:
        """The sender's check of §13, against the envelope it sent."""
        trust.validate(recipient_cert, now, role=ROLE_OFFICER)
        if recipient_cert.subject != self.recipient:
            raise ProtoError("ReceiptMismatch", "recipient")
        if recipient_cert.suite.id != self.suite.id:
            raise ProtoError("SuiteMismatch", "receipt suite")
        verify_signed(recipient_cert.suite, recipient_cert.public_key, self.sig_suite, T_RECEIPT,
                      self.raw[:self.tbs], self.signature)
        h = envelope.header
        if self.message_id != h.message_id:
            raise ProtoError("ReceiptMismatch", "message id")
        if self.envelope_hash != envelope.envelope_hash:
            raise ProtoError("ReceiptMismatch", "envelope hash")
        if self.sender != h.sender:
            raise ProtoError("ReceiptMismatch", "sender")
        if self.recipient not in h.recipients:
            raise ProtoError("NotARecipient")


# ---------------------------------------------------------------------------------------------
# Trust store and validation (§8, §9)


@dataclass
class TrustStore:
    anchors: dict[bytes, tuple[Suite, bytes]] = field(default_factory=dict)
    revocations: dict[bytes, RevocationList] = field(default_factory=dict)
    # Certificates already checked (by exact bytes): ML-DSA in Python is slow, so each
    # signature is verified once per process.
    _verified: set = field(default_factory=set)

    def add_anchor(self, s: Suite, public_key: bytes) -> bytes:
        ident = crypto.identity_id(s, public_key)
        self.anchors[ident] = (s, public_key)
        return ident

    def install_revocations(self, crl: RevocationList, now: int) -> None:
        if crl.issuer not in self.anchors:
            raise ProtoError("UnknownIssuer")
        s, pk = self.anchors[crl.issuer]
        verify_signed(s, pk, crl.sig_suite, T_REVOCATION, crl.raw[:crl.tbs], crl.signature)
        if not crl.this_update <= now <= crl.next_update:
            raise ProtoError("RevocationListExpired")
        old = self.revocations.get(crl.issuer)
        if old is not None:
            if old.raw == crl.raw:
                return
            if crl.number <= old.number:
                raise ProtoError("RevocationListRollback")
        self.revocations[crl.issuer] = crl

    def validate(self, cert: Certificate, now: int, role: int | None = None) -> None:
        """§9, in order; then ``validate_role``."""
        if cert.issuer not in self.anchors:
            raise ProtoError("UnknownIssuer")
        if cert.raw not in self._verified:
            s, pk = self.anchors[cert.issuer]
            verify_signed(s, pk, cert.sig_suite, T_CERTIFICATE, cert.raw[:cert.tbs],
                          cert.signature)
            self._verified.add(cert.raw)
        if cert.subject != crypto.identity_id(cert.suite, cert.public_key):
            raise ProtoError("SubjectKeyMismatch")
        if now < cert.not_before:
            raise ProtoError("CertificateNotYetValid")
        if now > cert.not_after:
            raise ProtoError("CertificateExpired")
        crl = self.revocations.get(cert.issuer)
        if crl is not None and cert.serial in crl.serials:
            raise ProtoError("CertificateRevoked", f"serial {cert.serial}")
        if any(cert.subject in c.subjects for c in self.revocations.values()):
            raise ProtoError("CertificateRevoked", "subject")
        if role is not None and cert.role != role:
            raise ProtoError("WrongRole")
