"""Third-party ETSI GS QKD 014 clients from PyPI against our simulator, in the two-SAE flow
(master alice, slave bob, each with its own certificate): `etsi-qkd-014-client` and `qkdsec`
(client library and its `doctor` conformance probes).

The doctor report is kept in qkdsec-doctor-report.txt beside this file. Where a probe
contradicts ETSI GS QKD 014 v1.1.1 the test asserts the standard's behaviour and
spec/key-supply.md explains the deviation (section "qkdsec doctor").
"""

import os
import base64
import json
from pathlib import Path

import pytest
from etsi_qkd_014_client import QKD014Client
from qkdsec.client import ETSI014Client, KMEHTTPError
from qkdsec.doctor import ProbeStatus, format_json, run_all

# The kept report is the committed qkdsec-doctor-report.txt beside this file; test runs write a
# fresh one under interop-tests/.reports/ (git-ignored) so CI leaves the tree clean. Refresh the
# kept copy with LIAISON_REPORT_DIR=interop-tests/python/qkd.
REPORT = Path(
    os.environ.get("LIAISON_REPORT_DIR", Path(__file__).resolve().parents[2] / ".reports")
) / "qkdsec-doctor-report.txt"


# ── etsi-qkd-014-client ────────────────────────────────────────────────────


def etsi_client(sim, sae) -> QKD014Client:
    return QKD014Client(sim.addr, sim.pki.cert(sae), sim.pki.key(sae), sim.pki.ca)


def test_etsi_qkd_014_client_two_sae_flow(sim):
    alice, bob = etsi_client(sim, "alice"), etsi_client(sim, "bob")
    code, status = alice.get_status("bob")
    assert code == 200
    assert (status.master_sae_id, status.slave_sae_id) == ("alice", "bob")
    assert status.max_key_per_request >= 3

    code, container = alice.get_key("bob", number=3, size=512)  # POST
    assert code == 200 and len(container.keys) == 3
    assert all(len(base64.b64decode(k.key)) == 64 for k in container.keys)
    code, single = alice.get_key("bob")  # GET with the KME's defaults
    assert code == 200 and len(single.keys) == 1
    assert len(base64.b64decode(single.keys[0].key)) * 8 == status.key_size

    sent = container.keys + single.keys
    code, received = bob.get_key_with_key_IDs("alice", [k.key_id for k in sent])
    assert code == 200
    assert {k.key_id: k.key for k in received.keys} == {k.key_id: k.key for k in sent}

    code, error = bob.get_key_with_key_IDs("alice", [sent[0].key_id])
    assert code == 400 and "already delivered" in error.message


def test_etsi_qkd_014_client_sees_standard_errors(sim):
    alice = etsi_client(sim, "alice")
    code, error = alice.get_key("bob", number=1, size=257)
    assert code == 400 and "multiple of 8" in error.message
    code, container = alice.get_key("bob", number=1)
    carol = etsi_client(sim, "carol")
    code, error = carol.get_key_with_key_IDs("alice", [container.keys[0].key_id])
    assert code == 401 and "not a slave SAE" in error.message


# ── qkdsec ──────────────────────────────────────────────────────────────────


def qkdsec_client(sim, sae) -> ETSI014Client:
    return ETSI014Client(sim.url, client_cert=sim.pki.pair(sae), verify=sim.pki.ca, timeout=10)


def test_qkdsec_client_two_sae_flow(sim):
    with qkdsec_client(sim, "alice") as alice, qkdsec_client(sim, "bob") as bob:
        status = alice.status("bob")
        assert status.source_kme_id == "KME_A" and status.target_kme_id == "KME_B"
        got = alice.get_enc_keys("bob", number=2, size=256)  # GET with query
        posted = alice.get_enc_keys("bob", number=1, size=128, method="POST",
                                    extension_optional=[{"liaison_test": True}])
        sent = list(got) + list(posted)
        assert [k.size_bits for k in sent] == [256, 256, 128]
        # qkdsec names the path parameter "slave_sae_id", but ETSI 014 §5.4 puts the *master*
        # SAE id in the dec_keys URL, so the slave passes the master's id here.
        received = bob.get_dec_keys("alice", key_ids=[k.key_id for k in sent])
        assert {k.key_id: k.key for k in received} == {k.key_id: k.key for k in sent}
        with pytest.raises(KMEHTTPError) as reused:
            bob.get_dec_keys("alice", key_ids=[sent[0].key_id])
        assert reused.value.status_code == 400


def test_qkdsec_multicast_releases_a_key_to_each_named_slave(sim):
    with qkdsec_client(sim, "alice") as alice, qkdsec_client(sim, "bob") as bob, \
            qkdsec_client(sim, "carol") as carol:
        sent = alice.get_enc_keys("bob", number=1, size=256, additional_slave_sae_ids=["carol"])
        ids = [k.key_id for k in sent]
        assert bob.get_dec_keys("alice", key_ids=ids)[0].key == sent[0].key
        assert carol.get_dec_keys("alice", key_ids=ids)[0].key == sent[0].key
        with pytest.raises(KMEHTTPError) as again:
            carol.get_dec_keys("alice", key_ids=ids)
        assert again.value.status_code == 400


def test_qkdsec_doctor_probes(sim):
    with qkdsec_client(sim, "alice") as alice:
        report = run_all(alice, slave_sae_id="bob", latency_samples=3)
    results = {r.name: r for r in report.results}
    lines = [
        "qkdsec 0.3.0 doctor against liaison-qkd sim (master alice, slave bob)",
        f"counts: {report.counts}",
        "",
    ]
    for r in report.results:
        lines.append(f"[{r.status.value.upper():4}] {r.name:20} {r.spec_section or '':8} {r.summary}")
    lines += ["", "JSON report:", format_json(report)]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:len(report.results) + 3]))

    for name in ("reachability", "status_fields", "enc_keys_get", "enc_keys_post",
                 "enc_keys_caps", "extensions_accepted", "error_contract_400", "latency"):
        assert results[name].status == ProbeStatus.PASS, (name, results[name].summary)
    # Deviations of the probes from ETSI GS QKD 014 v1.1.1 (see spec/key-supply.md):
    # - dec_keys_roundtrip fetches the key as the *master* with the slave's id in the URL;
    #   §5.4 has the slave call dec_keys with the master's id, so the simulator refuses (401).
    assert results["dec_keys_roundtrip"].status == ProbeStatus.FAIL
    # - error_contract_404 expects 404 for an unknown key_ID; §5.4 lists only 200/400/401/503.
    assert results["error_contract_404"].status == ProbeStatus.WARN
    assert "HTTP 401" in json.dumps(results["error_contract_404"].to_dict()) or \
        "HTTP 400" in json.dumps(results["error_contract_404"].to_dict())
