"""Suites, composite signatures, identities, the hybrid KEM and the KDFs of Liaison v1.

Sources: protocol.md §3 (suites), §4 (composite signature), §5 (identity id), §11.4 and
protocol-link.md §2 (key combiner, HKDF-SHA-384), crypto-inventory.md §1 (X-Wing combiner and
SHAKE256 seed expansion). Every primitive is a third-party library; nothing here is Rust.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from dilithium_py.ml_dsa import ML_DSA_65, ML_DSA_87
from kyber_py.ml_kem import ML_KEM_768, ML_KEM_1024

from .codec import info, unknown_value

# What this process verified or recomputed, by kind; tests print it.
TALLY: collections.Counter = collections.Counter()

# Successful composite verifications, by (public key, M', signature): pure-Python ML-DSA is
# slow, so a signature checked once is not checked again (failures are never cached).
_VERIFIED: set = set()


class CryptoError(Exception):
    """A signature, KEM or AEAD failure (wire code 0x0002 in the spec)."""


# ---------------------------------------------------------------------------------------------
# Suites (§3)


@dataclass(frozen=True)
class Suite:
    id: int
    name: str
    ml_dsa: object
    ml_kem: object
    kem_label: bytes
    sig_pk_len: int
    sig_len: int
    kem_pk_len: int
    kem_ct_len: int
    mlkem_ct_len: int


# X-Wing's label is the six ASCII bytes \./ /^\ (draft-connolly-cfrg-xwing-kem).
XWING_LABEL = b"\\.//^\\"

LQ1 = Suite(1, "LQ1", ML_DSA_65, ML_KEM_768, XWING_LABEL, 32 + 1952, 64 + 3309, 1184 + 32,
            1088 + 32, 1088)
LQ2 = Suite(2, "LQ2", ML_DSA_87, ML_KEM_1024, b"liaison LQ2 kem v1", 32 + 2592, 64 + 4627,
            1568 + 32, 1568 + 32, 1568)
SUITES = {1: LQ1, 2: LQ2}
SUITES_BY_NAME = {"LQ1": LQ1, "LQ2": LQ2}

# Spec-level sanity (§3 "Sizes").
assert (LQ1.sig_pk_len, LQ2.sig_pk_len) == (1984, 2624)
assert (LQ1.sig_len, LQ2.sig_len) == (3373, 4691)
assert (LQ1.kem_pk_len, LQ2.kem_pk_len) == (1216, 1600)
assert (LQ1.kem_ct_len, LQ2.kem_ct_len) == (1120, 1600)


def suite(sid: int) -> Suite:
    """The suite with wire id ``sid``; anything else is UnknownValue (§2 rule 3)."""
    if sid not in SUITES:
        raise unknown_value(f"suite {sid:#04x}")
    return SUITES[sid]


# ---------------------------------------------------------------------------------------------
# Hashes and KDFs


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    """HKDF-Extract-SHA-384 (RFC 5869)."""
    return hmac.new(salt, ikm, hashlib.sha384).digest()


def hkdf_expand(prk: bytes, info_bytes: bytes, length: int) -> bytes:
    """HKDF-Expand-SHA-384 (RFC 5869)."""
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info_bytes + bytes([i]), hashlib.sha384).digest()
        out += t
        i += 1
    return out[:length]


def expand(prk: bytes, label: bytes, parts: list[bytes], length: int) -> bytes:
    """``Expand(prk, label, parts, L)`` of protocol-link.md §2."""
    return hkdf_expand(prk, info(label, parts), length)


KEY_COMBINER = b"liaison key combiner v1"


def combine(ss: bytes, supplied: bytes | None) -> bytes:
    """The key combiner with one KEM secret (protocol.md §11.4, protocol-link.md §2)."""
    ikm = struct.pack(">H", 1) + struct.pack(">I", len(ss)) + ss
    if supplied is None:
        ikm += b"\x00" + struct.pack(">I", 0)
    else:
        ikm += b"\x01" + struct.pack(">I", len(supplied)) + supplied
    return hkdf_extract(KEY_COMBINER, ikm)


class Transcript:
    """protocol-link.md §2: SHA-384 over ``info(label, [])`` then ``be32(len(f)) || f`` per field."""

    def __init__(self, label: bytes):
        self._h = hashlib.sha384(info(label, []))

    def absorb(self, field: bytes) -> "Transcript":
        self._h.update(struct.pack(">I", len(field)) + field)
        return self

    def hash(self) -> bytes:
        return self._h.copy().digest()


# ---------------------------------------------------------------------------------------------
# AEAD (ChaCha20-Poly1305, RFC 8439)

ZERO_NONCE = b"\x00" * 12


def aead_seal(key: bytes, nonce: bytes, aad: bytes, pt: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(nonce, pt, aad)


def aead_open(key: bytes, nonce: bytes, aad: bytes, ct: bytes) -> bytes:
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ct, aad)
    except InvalidTag as e:
        raise CryptoError("AEAD authentication failed") from e


# ---------------------------------------------------------------------------------------------
# Identities (§5) and composite signatures (§4)

IDENTITY_ID = b"liaison identity id v1"
COMPOSITE_SIG_PREFIX = b"liaison composite signature v1"
SIG_SEED_EXPAND = b"liaison sig seed expand v1"


def identity_id(s: Suite, public_key: bytes) -> bytes:
    """``id = SHA3-256(info("liaison identity id v1", [suite_id, public_key]))`` (§5)."""
    return hashlib.sha3_256(info(IDENTITY_ID, [bytes([s.id]), public_key])).digest()


def fingerprint(ident: bytes) -> str:
    """First 20 bytes of the id, upper-case hex, 10 groups of 4 separated by spaces (§5)."""
    h = ident[:20].hex().upper()
    return " ".join(h[i:i + 4] for i in range(0, 40, 4))


def composite_message(s: Suite, ctx: bytes, m: bytes) -> bytes:
    """``M' = "liaison composite signature v1" || suite_id || len(ctx) || ctx || m`` (§4)."""
    assert len(ctx) < 256
    return COMPOSITE_SIG_PREFIX + bytes([s.id, len(ctx)]) + ctx + m


def composite_verify(s: Suite, public_key: bytes, ctx: bytes, m: bytes, sig: bytes) -> None:
    """Both halves must verify (§4). Raises CryptoError. Ed25519 first (cheap), then ML-DSA."""
    if len(public_key) != s.sig_pk_len or len(sig) != s.sig_len:
        raise CryptoError("composite key or signature length")
    mp = composite_message(s, ctx, m)
    if (public_key, mp, sig) in _VERIFIED:
        return
    ed25519_strict_precheck(public_key[:32], sig[:64])
    try:
        Ed25519PublicKey.from_public_bytes(public_key[:32]).verify(sig[:64], mp)
    except InvalidSignature as e:
        raise CryptoError("Ed25519 half failed") from e
    if not s.ml_dsa.verify(public_key[32:], mp, sig[64:], ctx=b""):
        raise CryptoError("ML-DSA half failed")
    _VERIFIED.add((public_key, mp, sig))
    TALLY[f"signature verified ({s.name}, Ed25519 + ML-DSA)"] += 1


# Ed25519 "strict" rules of §4 that OpenSSL (behind `cryptography`) does not apply: OpenSSL
# checks S < L but accepts small-order A and R (e.g. A = R = identity, S = 0 verifies for every
# message). The extra checks below use plain affine Edwards arithmetic (RFC 8032 §5.1.3).
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = (-121665 * pow(121666, _P - 2, _P)) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _decode_point(b: bytes) -> tuple[int, int] | None:
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    y %= _P
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P != 0:
        x = (x * _SQRT_M1) % _P
    if (v * x * x - u) % _P != 0:
        return None
    if x == 0 and sign:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x, y


def _double(pt: tuple[int, int]) -> tuple[int, int]:
    x, y = pt
    dxy = _D * x * x * y * y % _P
    x3 = 2 * x * y * pow(1 + dxy, _P - 2, _P) % _P
    y3 = (y * y + x * x) * pow(1 - dxy, _P - 2, _P) % _P
    return x3, y3


def _small_order(b: bytes) -> bool:
    pt = _decode_point(b)
    if pt is None:
        return False  # not a point at all; OpenSSL refuses it anyway
    for _ in range(3):
        pt = _double(pt)
    return pt == (0, 1)


def ed25519_strict_precheck(a: bytes, sig: bytes) -> None:
    """Refuses a small-order public key A or nonce point R, and a non-canonical S."""
    if _small_order(a):
        raise CryptoError("Ed25519: small-order public key")
    if _small_order(sig[:32]):
        raise CryptoError("Ed25519: small-order R")
    if int.from_bytes(sig[32:64], "little") >= _L:
        raise CryptoError("Ed25519: non-canonical S")


@dataclass
class SigningKey:
    """A composite signing key: Ed25519 private key and ML-DSA secret key of one suite."""

    suite: Suite
    ed: Ed25519PrivateKey
    mldsa_sk: bytes
    public_key: bytes

    @classmethod
    def from_seed(cls, s: Suite, seed: bytes) -> "SigningKey":
        """Seed expansion. protocol.md §15 only says "expanded with `liaison sig seed expand v1`";
        crypto-inventory.md says SHAKE256, 96 bytes. Established against the vectors:
        ``x = SHAKE256(label || seed)``; Ed25519 seed = x[0:32], ML-DSA ξ = x[32:64]."""
        assert len(seed) == 32
        x = hashlib.shake_256(SIG_SEED_EXPAND + seed).digest(96)
        ed = Ed25519PrivateKey.from_private_bytes(x[0:32])
        pk_d, sk_d = s.ml_dsa._keygen_internal(x[32:64])
        return cls(s, ed, sk_d, ed.public_key().public_bytes_raw() + pk_d)

    @classmethod
    def generate(cls, s: Suite) -> "SigningKey":
        return cls.from_seed(s, os.urandom(32))

    @property
    def identity(self) -> bytes:
        return identity_id(self.suite, self.public_key)

    def sign(self, ctx: bytes, m: bytes) -> bytes:
        """Composite signature; the ML-DSA half is hedged (randomised), as §4 allows."""
        mp = composite_message(self.suite, ctx, m)
        sig = self.ed.sign(mp) + self.suite.ml_dsa.sign(self.mldsa_sk, mp, ctx=b"")
        assert len(sig) == self.suite.sig_len
        return sig


# ---------------------------------------------------------------------------------------------
# Hybrid KEM: X-Wing (LQ1) and its ML-KEM-1024 analogue (LQ2)


@dataclass
class KemKeyPair:
    suite: Suite
    dk_m: bytes
    sk_x: bytes
    public_key: bytes  # ek_M || pk_X

    @classmethod
    def from_seed(cls, s: Suite, seed: bytes) -> "KemKeyPair":
        """X-Wing GenerateKeyPairDerand: SHAKE256(seed, 96) = d || z || sk_X."""
        x = hashlib.shake_256(seed).digest(96)
        ek_m, dk_m = s.ml_kem._keygen_internal(x[0:32], x[32:64])
        sk_x = x[64:96]
        pk_x = X25519PrivateKey.from_private_bytes(sk_x).public_key().public_bytes_raw()
        return cls(s, dk_m, sk_x, ek_m + pk_x)

    @classmethod
    def generate(cls, s: Suite) -> "KemKeyPair":
        return cls.from_seed(s, os.urandom(32))

    def decapsulate(self, ct: bytes) -> bytes:
        s = self.suite
        if len(ct) != s.kem_ct_len:
            raise CryptoError("KEM ciphertext length")
        ct_m, ct_x = ct[:s.mlkem_ct_len], ct[s.mlkem_ct_len:]
        ss_m = s.ml_kem._decaps_internal(self.dk_m, ct_m)
        ss_x = X25519PrivateKey.from_private_bytes(self.sk_x).exchange(
            X25519PublicKey.from_public_bytes(ct_x))
        TALLY[f"KEM decapsulation ({s.name}, ML-KEM + X25519)"] += 1
        return _xwing_combine(s, ss_m, ss_x, ct_x, self.public_key[-32:])


def _xwing_combine(s: Suite, ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    """``SHA3-256(ss_M || ss_X || ct_X || pk_X || label)`` (crypto-inventory.md §1)."""
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + s.kem_label).digest()


def encapsulate(s: Suite, public_key: bytes, eseed: bytes | None = None) -> tuple[bytes, bytes]:
    """X-Wing EncapsulateDerand with the 64-byte ``eseed`` = m || ek_X (random if None).
    Returns ``(ciphertext, shared_secret)``; ciphertext = ct_M || ct_X."""
    if len(public_key) != s.kem_pk_len:
        raise CryptoError("KEM public key length")
    eseed = os.urandom(64) if eseed is None else eseed
    ek_m, pk_x = public_key[:-32], public_key[-32:]
    try:
        ss_m, ct_m = s.ml_kem._encaps_internal(ek_m, eseed[:32])
    except ValueError as e:  # FIPS 203 modulus check
        raise CryptoError("ML-KEM encapsulation key invalid") from e
    ek_x = X25519PrivateKey.from_private_bytes(eseed[32:64])
    ct_x = ek_x.public_key().public_bytes_raw()
    ss_x = ek_x.exchange(X25519PublicKey.from_public_bytes(pk_x))
    return ct_m + ct_x, _xwing_combine(s, ss_m, ss_x, ct_x, pk_x)
