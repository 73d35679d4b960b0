"""Hybrid KEM (crypto/src/kem.rs): LQ1 = X-Wing draft-10, LQ2 = X25519 + ML-KEM-1024 with the
same shape, cross-checked in both directions against kyber-py, OpenSSL's ML-KEM (through
cryptography) and the xwing-kem package."""

from __future__ import annotations

import os

import pytest
import xwing_kem

import liaison_spec as spec


def _kem_vectors(rust_vectors, suite_name=None):
    vectors = [v for v in rust_vectors["kem"] if suite_name in (None, v["suite"])]
    assert vectors, f"emit produced no KEM vectors for {suite_name}"
    return vectors


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_rust_kem_vectors_recompute_byte_for_byte_with_kyber_py(rust_vectors, tally, suite_name):
    suite = spec.SUITES[suite_name]
    vectors = _kem_vectors(rust_vectors, suite_name)
    for v in vectors:
        keys = spec.kem_keygen(suite, bytes.fromhex(v["seed"]))
        assert keys.public_key.hex() == v["public_key"], "public key from seed differs"
        ct, ss = spec.kem_encaps_derand(suite, keys.public_key, bytes.fromhex(v["eseed"]))
        assert ct.hex() == v["ciphertext"], "ciphertext from eseed differs"
        assert ss.hex() == v["shared_secret"], "shared secret differs"
        assert spec.kem_decaps(suite, keys, bytes.fromhex(v["ciphertext"])).hex() == v[
            "shared_secret"
        ], "kyber-py decapsulation of the Rust ciphertext differs"
    tally("Rust->Python", f"KEM {suite_name} keygen/encaps/decaps (kyber-py)", len(vectors))


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_rust_kem_ciphertexts_decapsulate_with_openssl_ml_kem(rust_vectors, tally, suite_name):
    suite = spec.SUITES[suite_name]
    vectors = _kem_vectors(rust_vectors, suite_name)
    for v in vectors:
        keys = spec.kem_keygen(suite, bytes.fromhex(v["seed"]))
        pk_m, _ = spec.kem_split_pk(suite, bytes.fromhex(v["public_key"]))
        assert spec.openssl_mlkem_public(suite, keys) == pk_m, "OpenSSL ML-KEM key from d||z differs"
        ss = spec.kem_decaps_openssl(suite, keys, bytes.fromhex(v["ciphertext"]))
        assert ss.hex() == v["shared_secret"]
    tally("Rust->Python", f"KEM {suite_name} keygen/decaps (OpenSSL ML-KEM)", len(vectors))


def test_rust_xwing_ciphertexts_decapsulate_with_xwing_kem(rust_vectors, tally):
    """xwing-kem 0.2.0 implements the draft-10 *combiner* (label last, as its _combiner shows)
    but not draft-10 *key generation*: its secret key is a backend-specific ``sk_M || sk_X``
    drawn independently (no ``SHAKE256(seed, 96)`` expansion of a 32-byte seed) and it offers no
    derandomised encapsulation. So its ``decapsulate`` is handed the key in its cryptography-
    backend format -- ``sk_M`` = the 64-byte ML-KEM seed ``d || z`` and ``sk_X``, both taken from
    the draft-10 expansion of the Rust seed -- and must recover Rust's LQ1 shared secrets.
    Seed-expansion equivalence is covered by the kyber-py test above."""
    assert xwing_kem.active_backend() == "cryptography"
    assert xwing_kem.XWING_LABEL == spec.XWING_LABEL
    vectors = _kem_vectors(rust_vectors, "LQ1")
    for v in vectors:
        keys = spec.kem_keygen(spec.LQ1, bytes.fromhex(v["seed"]))
        xwing_sk = keys.ml_kem_seed + keys.x25519_sk
        ss = xwing_kem.decapsulate(bytes.fromhex(v["ciphertext"]), xwing_sk)
        assert ss.hex() == v["shared_secret"]
    tally("Rust->Python", "KEM LQ1 decaps (xwing-kem)", len(vectors))


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_tampered_rust_kem_vectors_are_caught_in_python(rust_vectors, tally, suite_name):
    suite = spec.SUITES[suite_name]
    v = _kem_vectors(rust_vectors, suite_name)[0]
    keys = spec.kem_keygen(suite, bytes.fromhex(v["seed"]))
    ct = bytes.fromhex(v["ciphertext"])
    ss = bytes.fromhex(v["shared_secret"])
    pk = bytes.fromhex(v["public_key"])
    eseed = bytes.fromhex(v["eseed"])
    # ML-KEM part: implicit rejection gives a different secret, in both ML-KEM implementations.
    assert spec.kem_decaps(suite, keys, spec.flip(ct, 5)) != ss
    assert spec.kem_decaps_openssl(suite, keys, spec.flip(ct, 5)) != ss
    # X25519 part: a different point gives a different secret.
    assert spec.kem_decaps(suite, keys, spec.flip(ct, -3)) != ss
    # A different seed, eseed or recipient key gives different bytes.
    assert spec.kem_keygen(suite, spec.flip(bytes.fromhex(v["seed"]), 0)).public_key != pk
    assert spec.kem_encaps_derand(suite, pk, spec.flip(eseed, 1)) != (ct, ss)
    assert spec.kem_encaps_derand(suite, pk, spec.flip(eseed, 40))[1] != ss
    assert spec.kem_encaps_derand(suite, spec.flip(pk, -1), eseed)[1] != ss
    # The label is bound: the other suite's label gives a different secret.
    ct_m, ct_x = spec.kem_split_ct(suite, ct)
    other = spec.LQ2 if suite is spec.LQ1 else spec.LQ1
    ss_m = suite.ml_kem.decaps(keys.ml_kem_dk, ct_m)
    _, pk_x = spec.kem_split_pk(suite, pk)
    ss_x = spec.x25519(keys.x25519_sk, ct_x)
    assert spec.kem_combiner(suite, ss_m, ss_x, ct_x, pk_x) == ss
    assert spec.kem_combiner(other, ss_m, ss_x, ct_x, pk_x) != ss
    tally("negative", f"KEM {suite_name} tampered seed/eseed/pk/ct/label", 9)


def _python_encapsulations(suite_name: str, pk: bytes) -> list[dict]:
    suite = spec.SUITES[suite_name]
    items = []
    for i in range(2):
        eseed = os.urandom(64)
        ct, ss = spec.kem_encaps_derand(suite, pk, eseed)
        items.append(dict(suite=suite_name, public_key=pk.hex(), eseed=eseed.hex(),
                          ciphertext=ct.hex(), shared_secret=ss.hex(),
                          via="kyber-py+cryptography", note=f"derand #{i}"))
    for i in range(2):
        ct, ss = spec.kem_encaps_openssl(suite, pk)
        items.append(dict(suite=suite_name, public_key=pk.hex(), ciphertext=ct.hex(),
                          shared_secret=ss.hex(), via="openssl-ml-kem+cryptography",
                          note=f"random #{i}"))
    if suite_name == "LQ1":
        for i in range(2):
            ss, ct = xwing_kem.encapsulate(pk)
            items.append(dict(suite=suite_name, public_key=pk.hex(), ciphertext=ct.hex(),
                              shared_secret=ss.hex(), via="xwing-kem", note=f"random #{i}"))
    return items


@pytest.mark.parametrize("suite_name", ["LQ1", "LQ2"])
def test_python_encapsulations_decapsulate_in_rust(rust_recipients, run_check, tally, suite_name):
    pk = rust_recipients[suite_name]
    assert len(pk) == spec.SUITES[suite_name].ml_kem_pk_len + 32
    valid = _python_encapsulations(suite_name, pk)
    base = valid[0]
    ct, ss = bytes.fromhex(base["ciphertext"]), bytes.fromhex(base["shared_secret"])
    tampered = [
        dict(base, ciphertext=spec.flip(ct, 7).hex(), expect="reject", note="ML-KEM part flipped"),
        dict(base, ciphertext=spec.flip(ct, -5).hex(), expect="reject", note="X25519 part flipped"),
        dict(base, shared_secret=spec.flip(ss, 0).hex(), expect="reject", note="wrong secret"),
    ]
    result = run_check({"kem": valid + tampered})
    result.assert_all_passed(len(valid) + len(tampered))
    by_via: dict[str, int] = {}
    for item in valid:
        by_via[item["via"]] = by_via.get(item["via"], 0) + 1
    for via, n in sorted(by_via.items()):
        tally("Python->Rust", f"KEM {suite_name} encaps ({via}), Rust decaps", n)
    tally("negative", f"KEM {suite_name} tampered, Rust check rejects", len(tampered))
