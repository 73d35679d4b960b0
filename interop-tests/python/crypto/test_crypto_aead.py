"""AEAD (crypto/src/aead.rs): ChaCha20-Poly1305 through cryptography, XChaCha20-Poly1305 as
HChaCha20 (written in liaison_spec.py from draft-irtf-cfrg-xchacha-03, since cryptography has no
XChaCha) + cryptography's ChaCha20-Poly1305, in both directions."""

from __future__ import annotations

import os
import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

import liaison_spec as spec

ALGORITHMS = {
    "chacha20-poly1305": (spec.chacha_seal, spec.chacha_open, 12),
    "xchacha20-poly1305": (spec.xchacha_seal, spec.xchacha_open, 24),
}


def test_hchacha20_matches_the_draft_test_vector():
    # draft-irtf-cfrg-xchacha-03 section 2.2.1
    key = bytes(range(32))
    nonce = bytes.fromhex("000000090000004a0000000031415927")
    expected = bytes.fromhex(
        "82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc"
    )
    assert spec.hchacha20(key, nonce) == expected


def test_hchacha20_matches_openssl_chacha20_block_minus_input(tally):
    """A ChaCha20 block is rounds(state) + state; HChaCha20 is rounds(state) without the
    addition. With OpenSSL's ChaCha20 (16-byte IV = state words 12..15) the two must agree."""
    n = 20
    for _ in range(n):
        key, nonce16 = os.urandom(32), os.urandom(16)
        block = Cipher(algorithms.ChaCha20(key, nonce16), mode=None).encryptor().update(bytes(64))
        words = struct.unpack("<16I", block)
        state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574]
        state += list(struct.unpack("<8I", key)) + list(struct.unpack("<4I", nonce16))
        rounds = [(w - s) & 0xFFFFFFFF for w, s in zip(words, state)]
        assert spec.hchacha20(key, nonce16) == struct.pack("<8I", *(rounds[0:4] + rounds[12:16]))
    tally("Python<->OpenSSL", "HChaCha20 vs OpenSSL ChaCha20 block", n)


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_rust_aead_ciphertexts_open_and_reseal_identically_in_python(rust_vectors, tally, algorithm):
    seal, open_, nonce_len = ALGORITHMS[algorithm]
    vectors = [v for v in rust_vectors["aead"] if v["algorithm"] == algorithm]
    assert vectors, f"emit produced no {algorithm} vectors"
    for v in vectors:
        key, nonce, aad, pt, ct = (bytes.fromhex(v[f]) for f in
                                   ("key", "nonce", "aad", "plaintext", "ciphertext"))
        assert len(nonce) == nonce_len
        assert open_(key, nonce, aad, ct) == pt
        assert seal(key, nonce, aad, pt) == ct
    tally("Rust->Python", f"AEAD {algorithm} open + reseal", len(vectors))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_tampered_rust_aead_ciphertexts_are_rejected_in_python(rust_vectors, tally, algorithm):
    _, open_, _ = ALGORITHMS[algorithm]
    v = next(v for v in rust_vectors["aead"] if v["algorithm"] == algorithm and v["plaintext"])
    key, nonce, aad, ct = (bytes.fromhex(v[f]) for f in ("key", "nonce", "aad", "ciphertext"))
    tampered = [
        (key, nonce, aad, spec.flip(ct, 0)),
        (key, nonce, aad, spec.flip(ct, -1)),  # tag
        (key, nonce, aad + b"\0", ct),
        (key, spec.flip(nonce, -1), aad, ct),
        (key, spec.flip(nonce, 0), aad, ct),  # for XChaCha: the HChaCha20 half of the nonce
        (spec.flip(key, 31), nonce, aad, ct),
    ]
    for args in tampered:
        with pytest.raises(InvalidTag):
            open_(*args)
    tally("negative", f"AEAD {algorithm} tampered ct/tag/aad/nonce/key", len(tampered))


@pytest.mark.parametrize("algorithm", sorted(ALGORITHMS))
def test_python_aead_ciphertexts_open_in_rust(run_check, tally, algorithm):
    seal, _, nonce_len = ALGORITHMS[algorithm]
    valid = []
    for aad_len, pt_len in [(0, 0), (5, 1), (0, 63), (64, 64), (16, 5000)]:
        key, nonce, aad, pt = (os.urandom(n) for n in (32, nonce_len, aad_len, pt_len))
        valid.append(dict(algorithm=algorithm, key=key.hex(), nonce=nonce.hex(), aad=aad.hex(),
                          plaintext=pt.hex(), ciphertext=seal(key, nonce, aad, pt).hex(),
                          via="cryptography" if nonce_len == 12 else "hchacha20.py+cryptography",
                          note=f"aad {aad_len} B, plaintext {pt_len} B"))
    base = valid[3]
    ct, nonce = bytes.fromhex(base["ciphertext"]), bytes.fromhex(base["nonce"])
    tampered = [
        dict(base, ciphertext=spec.flip(ct, 0).hex(), note="ciphertext flipped"),
        dict(base, ciphertext=spec.flip(ct, -1).hex(), note="tag flipped"),
        dict(base, aad=(bytes.fromhex(base["aad"]) + b"\0").hex(), note="aad extended"),
        dict(base, nonce=spec.flip(nonce, 0).hex(), note="nonce flipped"),
        dict(base, plaintext=spec.flip(bytes.fromhex(base["plaintext"]), 0).hex(),
             note="claimed plaintext differs"),
    ]
    for item in tampered:
        item["expect"] = "reject"
    result = run_check({"aead": valid + tampered})
    result.assert_all_passed(len(valid) + len(tampered))
    tally("Python->Rust", f"AEAD {algorithm} seal, Rust open", len(valid))
    tally("negative", f"AEAD {algorithm} tampered, Rust check rejects", len(tampered))
