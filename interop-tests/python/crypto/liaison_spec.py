"""The liaison-crypto constructions, re-implemented in Python from the module docs of
``crypto/src/*.rs`` (kem.rs, sign.rs, kdf.rs, identity.rs, aead.rs, labels.rs, suite.rs) on top
of independent implementations only:

* ML-KEM: ``kyber-py`` (pure Python, FIPS 203) and, as a second opinion, OpenSSL through
  ``cryptography.hazmat.primitives.asymmetric.mlkem``;
* ML-DSA: ``dilithium-py`` (pure Python, FIPS 204) and OpenSSL through ``cryptography``'s
  ``mldsa``;
* X25519, Ed25519, ChaCha20-Poly1305, HKDF/HMAC-SHA-384: ``cryptography``;
* SHA3-256 / SHAKE256: ``hashlib``;
* HChaCha20 (for XChaCha20-Poly1305, which ``cryptography`` lacks): written here from
  draft-irtf-cfrg-xchacha-03 section 2.2.

Nothing here is translated from the Rust code: where this file and ``liaison-crypto`` agree,
two readings of the same spec agree.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from dilithium_py.ml_dsa import ML_DSA_65, ML_DSA_87
from kyber_py.ml_kem import ML_KEM_768, ML_KEM_1024

# labels.rs
XWING_LABEL = b"\\.//^\\"  # the six bytes \./ /^\  (draft-connolly-cfrg-xwing-kem section 5.3)
LQ2_KEM_LABEL = b"liaison LQ2 kem v1"
SIG_SEED_EXPAND = b"liaison sig seed expand v1"
COMPOSITE_SIG_PREFIX = b"liaison composite signature v1"
IDENTITY_ID_LABEL = b"liaison identity id v1"
KEY_COMBINER = b"liaison key combiner v1"

X25519_LEN = 32
ED25519_PK_LEN = 32
ED25519_SIG_LEN = 64


@dataclass(frozen=True)
class Suite:
    """One row of the table in suite.rs."""

    name: str
    id: int
    ml_kem: object  # kyber-py parameter set
    ml_kem_pk_len: int
    ml_kem_ct_len: int
    kem_label: bytes
    openssl_mlkem: type  # cryptography private key class
    ml_dsa: object  # dilithium-py parameter set
    ml_dsa_pk_len: int
    ml_dsa_sig_len: int
    openssl_mldsa: type


LQ1 = Suite(
    "LQ1", 0x01, ML_KEM_768, 1184, 1088, XWING_LABEL, mlkem.MLKEM768PrivateKey,
    ML_DSA_65, 1952, 3309, mldsa.MLDSA65PrivateKey,
)
LQ2 = Suite(
    "LQ2", 0x02, ML_KEM_1024, 1568, 1568, LQ2_KEM_LABEL, mlkem.MLKEM1024PrivateKey,
    ML_DSA_87, 2592, 4627, mldsa.MLDSA87PrivateKey,
)
SUITES = {"LQ1": LQ1, "LQ2": LQ2}


# --- hybrid KEM (kem.rs) ---------------------------------------------------------------------


@dataclass(frozen=True)
class KemKeyPair:
    public_key: bytes  # pk_M || pk_X
    ml_kem_seed: bytes  # d || z, 64 bytes (FIPS 203 section 7.1 seed form)
    ml_kem_dk: bytes  # expanded FIPS 203 decapsulation key (kyber-py)
    x25519_sk: bytes


def x25519(scalar: bytes, point: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(scalar).exchange(
        X25519PublicKey.from_public_bytes(point)
    )


def x25519_base(scalar: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes_raw()


def kem_keygen(suite: Suite, seed: bytes) -> KemKeyPair:
    """X-Wing GenerateKeyPairDerand: SHAKE256(seed, 96) -> (d, z, sk_X)."""
    assert len(seed) == 32
    expanded = hashlib.shake_256(seed).digest(96)
    d, z, sk_x = expanded[0:32], expanded[32:64], expanded[64:96]
    ek_m, dk_m = suite.ml_kem._keygen_internal(d, z)
    return KemKeyPair(ek_m + x25519_base(sk_x), d + z, dk_m, sk_x)


def kem_combiner(suite: Suite, ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    """ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || label)."""
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + suite.kem_label).digest()


def kem_split_pk(suite: Suite, pk: bytes) -> tuple[bytes, bytes]:
    assert len(pk) == suite.ml_kem_pk_len + X25519_LEN
    return pk[: suite.ml_kem_pk_len], pk[suite.ml_kem_pk_len :]


def kem_split_ct(suite: Suite, ct: bytes) -> tuple[bytes, bytes]:
    assert len(ct) == suite.ml_kem_ct_len + X25519_LEN
    return ct[: suite.ml_kem_ct_len], ct[suite.ml_kem_ct_len :]


def kem_encaps_derand(suite: Suite, pk: bytes, eseed: bytes) -> tuple[bytes, bytes]:
    """X-Wing EncapsulateDerand with kyber-py; returns (ciphertext, shared secret)."""
    assert len(eseed) == 64
    pk_m, pk_x = kem_split_pk(suite, pk)
    ek_x = eseed[32:64]
    ct_x = x25519_base(ek_x)
    ss_x = x25519(ek_x, pk_x)
    ss_m, ct_m = suite.ml_kem._encaps_internal(pk_m, eseed[0:32])
    return ct_m + ct_x, kem_combiner(suite, ss_m, ss_x, ct_x, pk_x)


def kem_encaps_openssl(suite: Suite, pk: bytes) -> tuple[bytes, bytes]:
    """Randomised encapsulation with OpenSSL's ML-KEM and cryptography's X25519."""
    pk_m, pk_x = kem_split_pk(suite, pk)
    public_cls = {mlkem.MLKEM768PrivateKey: mlkem.MLKEM768PublicKey,
                  mlkem.MLKEM1024PrivateKey: mlkem.MLKEM1024PublicKey}[suite.openssl_mlkem]
    ss_m, ct_m = public_cls.from_public_bytes(pk_m).encapsulate()
    eph = X25519PrivateKey.generate()
    ct_x = eph.public_key().public_bytes_raw()
    ss_x = eph.exchange(X25519PublicKey.from_public_bytes(pk_x))
    return ct_m + ct_x, kem_combiner(suite, ss_m, ss_x, ct_x, pk_x)


def kem_decaps(suite: Suite, keys: KemKeyPair, ct: bytes) -> bytes:
    """X-Wing Decapsulate with kyber-py."""
    ct_m, ct_x = kem_split_ct(suite, ct)
    ss_m = suite.ml_kem.decaps(keys.ml_kem_dk, ct_m)
    _, pk_x = kem_split_pk(suite, keys.public_key)
    return kem_combiner(suite, ss_m, x25519(keys.x25519_sk, ct_x), ct_x, pk_x)


def kem_decaps_openssl(suite: Suite, keys: KemKeyPair, ct: bytes) -> bytes:
    """X-Wing Decapsulate with OpenSSL's ML-KEM (loaded from the d || z seed)."""
    ct_m, ct_x = kem_split_ct(suite, ct)
    ss_m = suite.openssl_mlkem.from_seed_bytes(keys.ml_kem_seed).decapsulate(ct_m)
    _, pk_x = kem_split_pk(suite, keys.public_key)
    return kem_combiner(suite, ss_m, x25519(keys.x25519_sk, ct_x), ct_x, pk_x)


def openssl_mlkem_public(suite: Suite, keys: KemKeyPair) -> bytes:
    return suite.openssl_mlkem.from_seed_bytes(keys.ml_kem_seed).public_key().public_bytes_raw()


# --- composite signatures (sign.rs) -----------------------------------------------------------


@dataclass(frozen=True)
class SigningKeys:
    suite: Suite
    ed25519: Ed25519PrivateKey
    ml_dsa_xi: bytes
    ml_dsa_sk: bytes  # dilithium-py expanded signing key
    public_key: bytes  # pk_E || pk_D


def sig_keygen(suite: Suite, seed: bytes) -> SigningKeys:
    """SHAKE256("liaison sig seed expand v1" || seed, 64) = Ed25519 seed || ML-DSA xi."""
    assert len(seed) == 32
    expanded = hashlib.shake_256(SIG_SEED_EXPAND + seed).digest(64)
    ed = Ed25519PrivateKey.from_private_bytes(expanded[:32])
    xi = expanded[32:]
    pk_d, sk_d = suite.ml_dsa.key_derive(xi)
    return SigningKeys(suite, ed, xi, sk_d, ed.public_key().public_bytes_raw() + pk_d)


def composite_message(suite: Suite, context: bytes, message: bytes) -> bytes:
    """M' = prefix || suite_id (1) || len(context) (1) || context || message."""
    if len(context) > 255:
        raise ValueError("context longer than 255 bytes")
    return COMPOSITE_SIG_PREFIX + bytes([suite.id, len(context)]) + context + message


def sign_m_prime(keys: SigningKeys, m_prime: bytes, ml_dsa_impl: str = "dilithium-py") -> bytes:
    """Ed25519(M') || ML-DSA.Sign(M', ctx=""), hedged (fresh rnd)."""
    sig_e = keys.ed25519.sign(m_prime)
    if ml_dsa_impl == "dilithium-py":
        sig_d = keys.suite.ml_dsa.sign(keys.ml_dsa_sk, m_prime, ctx=b"")
    elif ml_dsa_impl == "openssl":
        sig_d = keys.suite.openssl_mldsa.from_seed_bytes(keys.ml_dsa_xi).sign(m_prime)
    else:
        raise ValueError(ml_dsa_impl)
    return sig_e + sig_d


def sign(keys: SigningKeys, context: bytes, message: bytes, ml_dsa_impl: str = "dilithium-py"):
    return sign_m_prime(keys, composite_message(keys.suite, context, message), ml_dsa_impl)


def split_signature(suite: Suite, signature: bytes) -> tuple[bytes, bytes]:
    assert len(signature) == ED25519_SIG_LEN + suite.ml_dsa_sig_len
    return signature[:ED25519_SIG_LEN], signature[ED25519_SIG_LEN:]


def split_sig_public_key(suite: Suite, pk: bytes) -> tuple[bytes, bytes]:
    assert len(pk) == ED25519_PK_LEN + suite.ml_dsa_pk_len
    return pk[:ED25519_PK_LEN], pk[ED25519_PK_LEN:]


def ed25519_verifies(pk_e: bytes, m_prime: bytes, sig_e: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pk_e).verify(sig_e, m_prime)
        return True
    except Exception:
        return False


def ml_dsa_verifies(suite: Suite, pk_d: bytes, m_prime: bytes, sig_d: bytes) -> bool:
    return bool(suite.ml_dsa.verify(pk_d, m_prime, sig_d, ctx=b""))


def ml_dsa_verifies_openssl(suite: Suite, pk_d: bytes, m_prime: bytes, sig_d: bytes) -> bool:
    public_cls = {mldsa.MLDSA65PrivateKey: mldsa.MLDSA65PublicKey,
                  mldsa.MLDSA87PrivateKey: mldsa.MLDSA87PublicKey}[suite.openssl_mldsa]
    try:
        public_cls.from_public_bytes(pk_d).verify(sig_d, m_prime)
        return True
    except Exception:
        return False


def composite_verifies(suite: Suite, pk: bytes, context: bytes, message: bytes, sig: bytes):
    """Both halves must verify over the same M'."""
    m_prime = composite_message(suite, context, message)
    pk_e, pk_d = split_sig_public_key(suite, pk)
    sig_e, sig_d = split_signature(suite, sig)
    return ed25519_verifies(pk_e, m_prime, sig_e) and ml_dsa_verifies(suite, pk_d, m_prime, sig_d)


# --- identities (identity.rs) -----------------------------------------------------------------


def identity_id(suite: Suite, public_key: bytes) -> bytes:
    """SHA3-256(info("liaison identity id v1", [suite_id, public_key]))."""
    return hashlib.sha3_256(info(IDENTITY_ID_LABEL, [bytes([suite.id]), public_key])).digest()


def fingerprint(identity: bytes) -> str:
    """First 20 bytes, upper-case hex, groups of 4 separated by single spaces."""
    h = identity[:20].hex().upper()
    return " ".join(h[i : i + 4] for i in range(0, len(h), 4))


# --- KDF and combiner (kdf.rs) ----------------------------------------------------------------


def info(label: bytes, parts: list[bytes]) -> bytes:
    """be16(len(label)) || label || for each part: be32(len(part)) || part."""
    out = struct.pack(">H", len(label)) + label
    for part in parts:
        out += struct.pack(">I", len(part)) + part
    return out


def derive(label: bytes, salt: bytes, ikm: bytes, context: list[bytes], length: int) -> bytes:
    """HKDF-SHA-384(salt, ikm, info(label, context), length)."""
    return HKDF(hashes.SHA384(), length, salt, info(label, context)).derive(ikm)


def combine(kem_secrets: list[bytes], supplied: bytes | None) -> bytes:
    """HKDF-Extract(salt = "liaison key combiner v1", ikm) with the module-doc ikm encoding."""
    ikm = struct.pack(">H", len(kem_secrets))
    for ss in kem_secrets:
        assert len(ss) == 32
        ikm += struct.pack(">I", 32) + ss
    if supplied is None:
        ikm += b"\x00" + struct.pack(">I", 0)
    else:
        ikm += b"\x01" + struct.pack(">I", len(supplied)) + supplied
    mac = hmac.HMAC(KEY_COMBINER, hashes.SHA384())
    mac.update(ikm)
    return mac.finalize()


def expand(prk: bytes, label: bytes, context: list[bytes], length: int) -> bytes:
    """HKDF-Expand(prk, info(label, context), length)."""
    return HKDFExpand(hashes.SHA384(), length, info(label, context)).derive(prk)


# --- AEAD (aead.rs) ---------------------------------------------------------------------------


def _rotl32(v: int, c: int) -> int:
    return ((v << c) & 0xFFFFFFFF) | (v >> (32 - c))


def _quarter_round(s: list[int], a: int, b: int, c: int, d: int) -> None:
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl32(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl32(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF
    s[d] = _rotl32(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF
    s[b] = _rotl32(s[b] ^ s[c], 7)


def hchacha20(key: bytes, nonce16: bytes) -> bytes:
    """HChaCha20 (draft-irtf-cfrg-xchacha-03 section 2.2): 20 ChaCha rounds over
    constants || key || nonce16, no final addition, output words 0..3 and 12..15."""
    assert len(key) == 32 and len(nonce16) == 16
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
    state += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
    for _ in range(10):
        _quarter_round(state, 0, 4, 8, 12)
        _quarter_round(state, 1, 5, 9, 13)
        _quarter_round(state, 2, 6, 10, 14)
        _quarter_round(state, 3, 7, 11, 15)
        _quarter_round(state, 0, 5, 10, 15)
        _quarter_round(state, 1, 6, 11, 12)
        _quarter_round(state, 2, 7, 8, 13)
        _quarter_round(state, 3, 4, 9, 14)
    return struct.pack("<8I", *(state[0:4] + state[12:16]))


def _xchacha_parts(key: bytes, nonce: bytes) -> tuple[ChaCha20Poly1305, bytes]:
    assert len(nonce) == 24
    subkey = hchacha20(key, nonce[:16])
    return ChaCha20Poly1305(subkey), b"\x00" * 4 + nonce[16:]


def xchacha_seal(key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
    cipher, chacha_nonce = _xchacha_parts(key, nonce)
    return cipher.encrypt(chacha_nonce, plaintext, aad)


def xchacha_open(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    """Raises cryptography.exceptions.InvalidTag on failure."""
    cipher, chacha_nonce = _xchacha_parts(key, nonce)
    return cipher.decrypt(chacha_nonce, ciphertext, aad)


def chacha_seal(key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def chacha_open(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
    return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, aad)


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    """data with one bit flipped at data[index] (negative index allowed)."""
    b = bytearray(data)
    b[index] ^= mask
    return bytes(b)
