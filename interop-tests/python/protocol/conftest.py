"""Fixtures for the Liaison protocol cross-implementation tests.

* ``vectors``   — the four JSON files of ``spec/test-vectors/``;
* ``documents`` — the document vectors parsed and checked once by :mod:`liaison_py` (ML-DSA
  in pure Python is slow, so every signature is verified exactly once per session; the
  composite verifier memoises successes);
* ``rust``      — runs ``liaison-proto-interop`` (``$LIAISON_BIN_DIR``, default
  ``<repo>/target/debug``) and returns its JSON answer.

At the end of the session the tally of what was verified, opened and recomputed is printed.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
VECTORS = REPO / "spec" / "test-vectors"
BIN_NAME = "liaison-proto-interop"

sys.path.insert(0, str(HERE))

from liaison_py import crypto  # noqa: E402
from liaison_py.documents import (  # noqa: E402
    Certificate, CertificateRequest, RevocationList, SignedPrekey, TrustStore,
)


def hx(s: str | None) -> bytes | None:
    return None if s is None else bytes.fromhex(s)


@pytest.fixture(scope="session")
def vectors() -> dict:
    return {name: json.loads((VECTORS / f"{name}.json").read_text())
            for name in ("certificates", "envelopes", "receipts", "handshake")}


@dataclass
class Member:
    """One member of certificates.json, parsed (not yet validated)."""

    vec: dict
    cert: Certificate
    request: CertificateRequest
    prekey: SignedPrekey | None


@dataclass
class Documents:
    now: int
    anchor_pk: bytes
    anchor_suite: crypto.Suite
    trust: TrustStore
    members: dict[bytes, Member] = field(default_factory=dict)  # by identity id
    crl: RevocationList | None = None


@pytest.fixture(scope="session")
def documents(vectors) -> Documents:
    c = vectors["certificates"]
    auth = c["authority"]
    s = crypto.SUITES_BY_NAME[auth["suite"]]
    pk = hx(auth["public_key"])
    trust = TrustStore()
    trust.add_anchor(s, pk)
    docs = Documents(c["now"], pk, s, trust)
    for m in c["officers"] + [c["relay"], c["revoked_officer"]["member"]]:
        cert = Certificate.decode(hx(m["certificate"]))
        pre = SignedPrekey.decode(hx(m["prekey"]["signed_prekey"])) if "prekey" in m else None
        docs.members[cert.subject] = Member(m, cert, CertificateRequest.decode(hx(m["request"])),
                                            pre)
    return docs


@dataclass
class RustResult:
    ok: bool
    out: dict
    returncode: int


@pytest.fixture(scope="session")
def rust():
    bin_dir = pathlib.Path(os.environ.get("LIAISON_BIN_DIR", REPO / "target" / "debug"))
    path = bin_dir / BIN_NAME
    if not path.is_file():
        pytest.fail(f"{path} not found: build it (interop-tests/run.sh does) or set LIAISON_BIN_DIR")

    def run(*args: str) -> RustResult:
        p = subprocess.run([str(path), *args], capture_output=True, text=True, timeout=60)
        if p.returncode not in (0, 1):
            pytest.fail(f"{BIN_NAME} {args[0]} failed to run ({p.returncode}): {p.stderr}")
        out = json.loads(p.stdout)
        crypto.TALLY[f"Rust {args[0]}: {'accepted' if out['ok'] else 'refused'}"] += 1
        return RustResult(out["ok"], out, p.returncode)

    return run


def pytest_terminal_summary(terminalreporter):
    if not crypto.TALLY:
        return
    terminalreporter.section("liaison protocol interop: what was checked")
    for k in sorted(crypto.TALLY):
        terminalreporter.write_line(f"{crypto.TALLY[k]:6d}  {k}")
