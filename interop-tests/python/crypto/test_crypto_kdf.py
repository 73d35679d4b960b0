"""KDF and key combiner (crypto/src/kdf.rs): info() encoding, HKDF-SHA-384 derive, the combiner's
HKDF-Extract and per-use expansion, recomputed with cryptography's HKDF/HMAC in both
directions."""

from __future__ import annotations

import os

import liaison_spec as spec


def _hex_list(values):
    return [bytes.fromhex(v) for v in values]


def test_rust_info_encodings_recompute_in_python(rust_vectors, tally):
    vectors = rust_vectors["kdf"]["info"]
    assert vectors
    for v in vectors:
        encoded = spec.info(bytes.fromhex(v["label"]), _hex_list(v["parts"]))
        assert encoded.hex() == v["encoded"]
    tally("Rust->Python", "KDF info()", len(vectors))


def test_rust_derive_outputs_recompute_in_python(rust_vectors, tally):
    vectors = rust_vectors["kdf"]["derive"]
    assert vectors
    assert max(v["length"] for v in vectors) == 255 * 48, "the HKDF-SHA-384 maximum is covered"
    for v in vectors:
        okm = spec.derive(bytes.fromhex(v["label"]), bytes.fromhex(v["salt"]),
                          bytes.fromhex(v["ikm"]), _hex_list(v["context"]), v["length"])
        assert okm.hex() == v["okm"]
    tally("Rust->Python", "KDF derive (HKDF-SHA-384)", len(vectors))


def test_rust_combiner_outputs_recompute_in_python(rust_vectors, tally):
    vectors = rust_vectors["kdf"]["combine"]
    assert any(v["supplied"] is None for v in vectors)
    assert any(v["supplied"] is not None for v in vectors)
    assert any(v["supplied"] == "" for v in vectors), "an empty supplied key is covered"
    keys = 0
    for v in vectors:
        supplied = None if v["supplied"] is None else bytes.fromhex(v["supplied"])
        prk = spec.combine(_hex_list(v["kem_secrets"]), supplied)
        assert prk.hex() == v["prk"]
        for k in v["keys"]:
            okm = spec.expand(prk, bytes.fromhex(k["label"]), _hex_list(k["context"]), k["length"])
            assert okm.hex() == k["okm"]
            keys += 1
    tally("Rust->Python", "KDF combine (PRK)", len(vectors))
    tally("Rust->Python", "KDF CombinedSecret derive_key/expand", keys)


def test_tampered_kdf_inputs_change_the_outputs(rust_vectors, tally):
    d = next(v for v in rust_vectors["kdf"]["derive"] if v["context"] and v["salt"])
    label, salt, ikm = (bytes.fromhex(d[f]) for f in ("label", "salt", "ikm"))
    context, okm = _hex_list(d["context"]), bytes.fromhex(d["okm"])
    n = d["length"]
    assert spec.derive(label, salt, ikm, context, n) == okm
    assert spec.derive(spec.flip(label, 0), salt, ikm, context, n) != okm
    assert spec.derive(label, spec.flip(salt, 0), ikm, context, n) != okm
    assert spec.derive(label, salt, spec.flip(ikm, -1), context, n) != okm
    # info() is injective on part boundaries: re-splitting the same bytes changes the output.
    joined = b"".join(context)
    assert spec.derive(label, salt, ikm, [joined], n) != okm
    c = next(v for v in rust_vectors["kdf"]["combine"] if len(v["kem_secrets"]) == 2)
    secrets = _hex_list(c["kem_secrets"])
    supplied = None if c["supplied"] is None else bytes.fromhex(c["supplied"])
    prk = bytes.fromhex(c["prk"])
    assert spec.combine(secrets, supplied) == prk
    assert spec.combine(secrets[::-1], supplied) != prk
    assert spec.combine([spec.flip(secrets[0], 3), secrets[1]], supplied) != prk
    assert spec.combine(secrets, b"" if supplied is None else None) != prk
    e = next(v for v in rust_vectors["kdf"]["combine"] if v["supplied"] == "")
    assert spec.combine(_hex_list(e["kem_secrets"]), None).hex() != e["prk"], "none != empty"
    tally("negative", "KDF tampered label/salt/ikm/parts/secrets/supplied", 8)


def test_python_kdf_outputs_recompute_in_rust(run_check, tally):
    info_items, derive_items, combine_items = [], [], []
    for label, parts in [(b"", []), (b"liaison identity id v1", [b"\x01", os.urandom(100)]),
                         (os.urandom(300), [b"", b"", os.urandom(7)])]:
        info_items.append(dict(label=label.hex(), parts=[p.hex() for p in parts],
                               encoded=spec.info(label, parts).hex()))
    for salt_len, ikm_len, context, length in [(0, 32, [], 32), (48, 64, [b"x", b"yz"], 64),
                                               (100, 1, [os.urandom(40)], 255 * 48)]:
        label, salt, ikm = b"python derive", os.urandom(salt_len), os.urandom(ikm_len)
        derive_items.append(dict(
            label=label.hex(), salt=salt.hex(), ikm=ikm.hex(), context=[c.hex() for c in context],
            length=length, okm=spec.derive(label, salt, ikm, context, length).hex()))
    for count, supplied in [(1, None), (1, os.urandom(32)), (2, b""), (4, os.urandom(1000))]:
        secrets = [os.urandom(32) for _ in range(count)]
        prk = spec.combine(secrets, supplied)
        keys = []
        for label, context, length in [(b"liaison session key v1", [b"a", b"b"], 32),
                                       (b"python expand", [], 200)]:
            keys.append(dict(label=label.hex(), context=[c.hex() for c in context], length=length,
                             okm=spec.expand(prk, label, context, length).hex()))
        combine_items.append(dict(kem_secrets=[s.hex() for s in secrets],
                                  supplied=None if supplied is None else supplied.hex(),
                                  prk=prk.hex(), keys=keys))
    result = run_check({"kdf": {"info": info_items, "derive": derive_items,
                                "combine": combine_items}})
    result.assert_all_passed(len(info_items) + len(derive_items) + len(combine_items))
    tally("Python->Rust", "KDF info()", len(info_items))
    tally("Python->Rust", "KDF derive (HKDF-SHA-384)", len(derive_items))
    tally("Python->Rust", "KDF combine + derive_key/expand", len(combine_items))
