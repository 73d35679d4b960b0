"""Composite signatures and identities (crypto/src/sign.rs, identity.rs): Ed25519 + ML-DSA-65
(LQ1) / ML-DSA-87 (LQ2) over M', cross-checked in both directions against cryptography's Ed25519,
dilithium-py and OpenSSL's ML-DSA (through cryptography)."""

from __future__ import annotations

import dataclasses
import os

import pytest

import liaison_spec as spec


def _signature_vectors(rust_vectors, suite_name):
    vectors = [v for v in rust_vectors["signatures"] if v["suite"] == suite_name]
    assert vectors, f"emit produced no signature vectors for {suite_name}"
    return vectors


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_rust_signatures_and_identities_verify_in_python(rust_vectors, tally, suite_name):
    suite = spec.SUITES[suite_name]
    vectors = _signature_vectors(rust_vectors, suite_name)
    for v in vectors:
        pk = bytes.fromhex(v["public_key"])
        context, message = bytes.fromhex(v["context"]), bytes.fromhex(v["message"])
        keys = spec.sig_keygen(suite, bytes.fromhex(v["seed"]))
        assert keys.public_key == pk, "composite public key from seed differs"
        m_prime = spec.composite_message(suite, context, message)
        assert m_prime.hex() == v["composite_message"], "M' differs"
        pk_e, pk_d = spec.split_sig_public_key(suite, pk)
        sig_e, sig_d = spec.split_signature(suite, bytes.fromhex(v["signature"]))
        assert spec.ed25519_verifies(pk_e, m_prime, sig_e), "Ed25519 half does not verify"
        assert spec.ml_dsa_verifies(suite, pk_d, m_prime, sig_d), "ML-DSA half (dilithium-py)"
        assert spec.ml_dsa_verifies_openssl(suite, pk_d, m_prime, sig_d), "ML-DSA half (OpenSSL)"
        assert spec.composite_verifies(suite, pk, context, message, bytes.fromhex(v["signature"]))
        ident = spec.identity_id(suite, pk)
        assert ident.hex() == v["identity_id"], "identity id differs"
        assert spec.fingerprint(ident) == v["fingerprint"], "fingerprint differs"
    n = len(vectors)
    tally("Rust->Python", f"SIG {suite_name} keygen from seed + M'", n)
    tally("Rust->Python", f"SIG {suite_name} Ed25519 verify (cryptography)", n)
    tally("Rust->Python", f"SIG {suite_name} ML-DSA verify (dilithium-py)", n)
    tally("Rust->Python", f"SIG {suite_name} ML-DSA verify (OpenSSL)", n)
    tally("Rust->Python", f"ID  {suite_name} identity id + fingerprint", n)


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_tampered_rust_signatures_are_rejected_in_python(rust_vectors, tally, suite_name):
    suite = spec.SUITES[suite_name]
    v = _signature_vectors(rust_vectors, suite_name)[1]
    pk = bytes.fromhex(v["public_key"])
    context, message = bytes.fromhex(v["context"]), bytes.fromhex(v["message"])
    sig = bytes.fromhex(v["signature"])
    m_prime = bytes.fromhex(v["composite_message"])
    pk_e, pk_d = spec.split_sig_public_key(suite, pk)
    sig_e, sig_d = spec.split_signature(suite, sig)
    assert spec.composite_verifies(suite, pk, context, message, sig)
    # Each half alone is checked, so a flip in either is caught by that half's verifier.
    assert not spec.ed25519_verifies(pk_e, m_prime, spec.flip(sig_e, 10))
    assert not spec.ml_dsa_verifies(suite, pk_d, m_prime, spec.flip(sig_d, 10))
    assert not spec.ml_dsa_verifies_openssl(suite, pk_d, m_prime, spec.flip(sig_d, 10))
    assert message, "vector 1 has a non-empty message"
    assert not spec.composite_verifies(suite, pk, context, spec.flip(message, 0), sig)
    assert not spec.composite_verifies(suite, pk, context + b"x", message, sig)
    # M' binds the suite id: the same halves do not verify under another suite id.
    other_id = dataclasses.replace(suite, id=suite.id ^ 0x03)
    other_m = spec.composite_message(other_id, context, message)
    assert not spec.ed25519_verifies(pk_e, other_m, sig_e)
    assert not spec.ml_dsa_verifies(suite, pk_d, other_m, sig_d)
    # The identity id changes with any key byte and with the suite id.
    ident = bytes.fromhex(v["identity_id"])
    assert spec.identity_id(suite, spec.flip(pk, -1)) != ident
    assert spec.identity_id(other_id, pk) != ident
    tally("negative", f"SIG {suite_name} tampered halves/message/context/suite id/key", 9)


def _python_signatures(suite_name: str) -> list[dict]:
    suite = spec.SUITES[suite_name]
    cases = [(b"", b""), (b"liaison envelope v1", b"report"), (bytes([0x5A]) * 255, os.urandom(2000))]
    items = []
    for impl in ("dilithium-py", "openssl"):
        for i, (context, message) in enumerate(cases):
            seed = os.urandom(32)
            keys = spec.sig_keygen(suite, seed)
            sig = spec.sign(keys, context, message, ml_dsa_impl=impl)
            ident = spec.identity_id(suite, keys.public_key)
            items.append(dict(
                suite=suite_name, seed=seed.hex(), public_key=keys.public_key.hex(),
                context=context.hex(), message=message.hex(),
                composite_message=spec.composite_message(suite, context, message).hex(),
                signature=sig.hex(), identity_id=ident.hex(), fingerprint=spec.fingerprint(ident),
                via=f"cryptography-ed25519+{impl}-ml-dsa", note=f"case {i}",
            ))
    return items


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_python_signatures_verify_in_rust(run_check, tally, suite_name):
    suite = spec.SUITES[suite_name]
    valid = _python_signatures(suite_name)
    base = valid[1]
    sig = bytes.fromhex(base["signature"])
    keys = spec.sig_keygen(suite, bytes.fromhex(base["seed"]))
    context, message = bytes.fromhex(base["context"]), bytes.fromhex(base["message"])
    other_suite_m = spec.composite_message(dataclasses.replace(suite, id=suite.id ^ 0x03), context, message)
    other_sig = spec.sign(keys, context, b"another message")
    no_seed = {k: v for k, v in base.items() if k not in ("seed", "composite_message")}
    tampered = [
        dict(no_seed, signature=spec.flip(sig, 3).hex(), note="Ed25519 half flipped"),
        dict(no_seed, signature=spec.flip(sig, 100).hex(), note="ML-DSA half flipped"),
        dict(no_seed, signature=spec.flip(sig, -1).hex(), note="ML-DSA hint flipped"),
        dict(no_seed, message=spec.flip(message, 0).hex(), note="message flipped"),
        dict(no_seed, context=(context + b"!").hex(), note="other context"),
        dict(no_seed, signature=spec.sign_m_prime(keys, other_suite_m).hex(),
             note="signed M' of the other suite id"),
        dict(no_seed, signature=(sig[:64] + other_sig[64:]).hex(),
             note="ML-DSA half from another message"),
        dict(no_seed, signature=(other_sig[:64] + sig[64:]).hex(),
             note="Ed25519 half from another message"),
        dict(no_seed, identity_id=spec.flip(bytes.fromhex(base["identity_id"]), 31).hex(),
             note="identity id flipped"),
        dict(base, public_key=spec.flip(bytes.fromhex(base["public_key"]), 40).hex(),
             note="key not derived from seed"),
    ]
    for item in tampered:
        item["expect"] = "reject"
    result = run_check({"signatures": valid + tampered})
    result.assert_all_passed(len(valid) + len(tampered))
    for impl in ("dilithium-py", "openssl"):
        n = sum(1 for item in valid if item["via"].endswith(f"{impl}-ml-dsa"))
        tally("Python->Rust", f"SIG {suite_name} Ed25519+ML-DSA ({impl}) sign, Rust verify", n)
    tally("Python->Rust", f"ID  {suite_name} keygen, identity id + fingerprint", len(valid))
    tally("negative", f"SIG {suite_name} tampered, Rust check rejects", len(tampered))
