"""The ``check`` subcommand itself: it must report a wrong item as FAIL and exit non-zero, so a
green run of the other tests means something."""

from __future__ import annotations

import json
import os
import subprocess

import liaison_spec as spec


def _aead_item():
    key, nonce, aad, pt = os.urandom(32), os.urandom(12), b"aad", b"plaintext"
    return dict(algorithm="chacha20-poly1305", key=key.hex(), nonce=nonce.hex(), aad=aad.hex(),
                plaintext=pt.hex(), ciphertext=spec.chacha_seal(key, nonce, aad, pt).hex())


def test_check_fails_on_a_tampered_item_expected_to_pass(run_check):
    good = _aead_item()
    bad = dict(good, ciphertext=spec.flip(bytes.fromhex(good["ciphertext"]), 2).hex())
    result = run_check({"aead": [good, bad]})
    assert result.returncode != 0
    assert (result.passed, result.failed) == (1, 1)
    assert result.lines[0].startswith("PASS ") and result.lines[1].startswith("FAIL ")


def test_check_fails_on_a_valid_item_expected_to_be_rejected(run_check):
    result = run_check({"aead": [dict(_aead_item(), expect="reject")]})
    assert result.returncode != 0
    assert (result.passed, result.failed) == (0, 1)
    assert "accepted an item that must be rejected" in result.lines[0]


def test_check_fails_on_a_wrong_kdf_output(run_check):
    okm = spec.derive(b"l", b"s", b"k", [], 32)
    item = dict(label=b"l".hex(), salt=b"s".hex(), ikm=b"k".hex(), context=[], length=32,
                okm=spec.flip(okm, 31).hex())
    result = run_check({"kdf": {"derive": [item]}})
    assert result.returncode != 0
    assert (result.passed, result.failed) == (0, 1)
    assert "okm differs" in result.lines[0]


def test_check_fails_on_an_encapsulation_to_an_unknown_recipient(run_check, rust_recipients):
    pk = spec.flip(rust_recipients["LQ1"], -1)
    ct, ss = spec.kem_encaps_derand(spec.LQ1, pk, os.urandom(64))
    result = run_check({"kem": [dict(suite="LQ1", public_key=pk.hex(), ciphertext=ct.hex(),
                                     shared_secret=ss.hex(), expect="reject")]})
    assert result.returncode != 0, "a malformed item fails even when a rejection is expected"
    assert "malformed item" in result.lines[0]


def test_check_fails_on_an_empty_file(run_check):
    result = run_check({})
    assert result.returncode != 0
    assert (result.passed, result.failed) == (0, 0)


def test_check_refuses_unknown_fields(rust_bin, tmp_path):
    path = tmp_path / "typo.json"
    path.write_text(json.dumps({"aead": [dict(_aead_item(), cipher_text="00")]}))
    proc = subprocess.run([str(rust_bin), "check", str(path)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "unknown field" in proc.stderr
