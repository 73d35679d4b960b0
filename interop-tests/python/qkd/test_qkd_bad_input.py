"""Bad input to the simulator: each gets a clear ETSI 014 error (400/401/503 with a
`{message}` body) and the simulator keeps serving afterwards."""

import pytest
import requests

ENC = "/api/v1/keys/bob/enc_keys"
DEC = "/api/v1/keys/alice/dec_keys"


def refused(response, code, *words):
    assert response.status_code == code, response.text
    message = response.json()["message"]
    for word in words:
        assert word in message, message
    return message


def issue_key(sim):
    r = sim.post("alice", ENC, json={"number": 1, "size": 256})
    assert r.status_code == 200, r.text
    return r.json()["keys"][0]


@pytest.fixture(autouse=True)
def still_serving(sim):
    yield
    assert sim.alive()
    assert sim.get("alice", "/api/v1/keys/bob/status").status_code == 200


def test_malformed_json(sim):
    r = sim.post("alice", ENC, data=b'{"number": 1,', headers={"Content-Type": "application/json"})
    refused(r, 400, "malformed JSON")
    r = sim.post("bob", DEC, data=b"not json")
    refused(r, 400, "malformed JSON")
    r = sim.post("bob", DEC, json={"key_IDs": "not-a-list"})
    refused(r, 400, "malformed JSON")


@pytest.mark.parametrize("body, words", [
    ({"number": 1, "size": 257}, ["multiple of 8"]),
    ({"number": 1, "size": 8}, ["min_key_size"]),
    ({"number": 1, "size": 1 << 20}, ["max_key_size"]),
    ({"number": 0}, ["number"]),
    ({"number": 100000}, ["max_key_per_request"]),
    ({"number": -1}, ["malformed JSON"]),
    ({"additional_slave_SAE_IDs": ["x", "y", "z"]}, ["max_SAE_ID_count"]),
    ({"extension_mandatory": [{"vendor_route": "direct"}]}, ["vendor_route"]),
])
def test_wrong_sizes_and_counts(sim, body, words):
    refused(sim.post("alice", ENC, json=body), 400, *words)


def test_bad_query_parameters(sim):
    refused(sim.get("alice", ENC, params={"number": "two"}), 400, "number")
    refused(sim.get("alice", ENC, params={"size": "12"}), 400, "multiple of 8")


def test_unknown_key_id(sim):
    r = sim.post("bob", DEC, json={"key_IDs": [{"key_ID": "00000000-0000-0000-0000-000000000000"}]})
    refused(r, 400, "unknown")
    refused(sim.post("bob", DEC, json={"key_IDs": []}), 400, "at least one")


def test_reused_key_id(sim):
    key = issue_key(sim)
    body = {"key_IDs": [{"key_ID": key["key_ID"]}]}
    r = sim.post("bob", DEC, json=body)
    assert r.status_code == 200 and r.json()["keys"][0]["key"] == key["key"]
    message = refused(sim.post("bob", DEC, json=body), 400, "already delivered")
    assert key["key"] not in message


def test_slave_asking_for_another_pairs_keys(sim):
    key = issue_key(sim)
    body = {"key_IDs": [{"key_ID": key["key_ID"]}]}
    refused(sim.post("carol", DEC, json=body), 401, "not a slave SAE")
    # The master itself may not fetch its key as a slave either.
    refused(sim.post("alice", DEC, json=body), 401, "not a slave SAE")
    # Naming the wrong master in the path is refused too.
    refused(sim.post("bob", "/api/v1/keys/carol/dec_keys", json=body), 401, "not issued to master")
    # None of that consumed the key.
    assert sim.post("bob", DEC, json=body).json()["keys"][0]["key"] == key["key"]


def test_unknown_sae(sim):
    refused(sim.get("alice", "/api/v1/keys/mallory/status"), 400, "not known")
    refused(sim.get("alice", "/api/v1/keys/alice/status"), 400, "calling SAE itself")


def test_sae_missing_from_the_sae_map(start_sim):
    small = start_sim("--sae-map", "alice=KME_A,bob=KME_B")
    refused(small.get("carol", "/api/v1/keys/bob/status"), 401, "not registered")
    assert small.get("alice", "/api/v1/keys/bob/status").status_code == 200


def test_no_client_certificate(sim):
    r = requests.get(sim.url + "/api/v1/keys/bob/status", verify=sim.pki.ca, timeout=10)
    refused(r, 401, "client certificate")
    r = requests.post(sim.url + ENC, json={"number": 1}, verify=sim.pki.ca, timeout=10)
    refused(r, 401, "client certificate")


def test_certificate_from_another_ca_is_refused(sim, foreign_pki):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(sim.url + "/api/v1/keys/bob/status", verify=sim.pki.ca, timeout=10,
                     cert=foreign_pki.pair("alice"))


def test_plain_http_to_the_tls_port(sim):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{sim.addr}/api/v1/keys/bob/status", timeout=10)


def test_unknown_endpoint(sim):
    r = sim.get("alice", "/api/v2/keys/bob/status")
    assert r.status_code == 404 and "no such" in r.json()["message"]
