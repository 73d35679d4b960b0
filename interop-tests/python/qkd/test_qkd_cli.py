"""Our Rust ETSI 014 client (the `liaison-qkd` CLI) against our simulator, master and slave
with different certificates; exit codes and messages of the operator tools."""

import json
import os
import socket
import stat

STANDARD_STATUS_FIELDS = {
    "source_KME_ID", "target_KME_ID", "master_SAE_ID", "slave_SAE_ID", "key_size",
    "stored_key_count", "max_key_count", "max_key_per_request", "max_key_size",
    "min_key_size", "max_SAE_ID_count",
}


def ok_json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_keys_from_enc_keys_equal_keys_from_dec_keys(sim, cli):
    enc = ok_json(cli(sim, "alice", "enc-keys", "--slave", "bob", "--number", "3", "--size", "512", "--json"))
    assert len(enc["keys"]) == 3
    ids = [k["key_ID"] for k in enc["keys"]]
    dec = ok_json(cli(sim, "bob", "dec-keys", "--master", "alice", *ids, "--json"))
    assert {k["key_ID"]: k["key"] for k in dec["keys"]} == {k["key_ID"]: k["key"] for k in enc["keys"]}

    again = cli(sim, "bob", "dec-keys", "--master", "alice", ids[0], "--json")
    assert again.returncode == 6, again.stderr
    assert "already delivered" in again.stderr


def test_human_output_of_enc_and_dec_keys_agree(sim, cli):
    enc = cli(sim, "alice", "enc-keys", "--slave", "bob", "--number", "2")
    assert enc.returncode == 0, enc.stderr
    lines = enc.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("key_ID ") for line in lines)
    ids = [line.split()[1] for line in lines]
    dec = cli(sim, "bob", "dec-keys", "--master", "alice", *ids)
    assert dec.returncode == 0, dec.stderr
    assert dec.stdout.strip().splitlines() == lines


def test_status_has_every_standard_field(sim, cli):
    status = ok_json(cli(sim, "alice", "status", "--slave", "bob", "--json"))
    assert STANDARD_STATUS_FIELDS <= set(status)
    assert (status["source_KME_ID"], status["target_KME_ID"]) == ("KME_A", "KME_B")
    assert (status["master_SAE_ID"], status["slave_SAE_ID"]) == ("alice", "bob")
    text = cli(sim, "alice", "status", "--slave", "bob")
    assert text.returncode == 0 and "stored_key_count" in text.stdout


def test_another_sae_cannot_take_a_pairs_key(sim, cli):
    enc = ok_json(cli(sim, "alice", "enc-keys", "--slave", "bob", "--json"))
    key_id = enc["keys"][0]["key_ID"]
    stolen = cli(sim, "carol", "dec-keys", "--master", "alice", key_id)
    assert stolen.returncode == 4, stolen.stderr
    assert "not a slave SAE" in stolen.stderr
    assert enc["keys"][0]["key"] not in stolen.stderr
    mine = ok_json(cli(sim, "bob", "dec-keys", "--master", "alice", key_id, "--json"))
    assert mine["keys"][0]["key"] == enc["keys"][0]["key"]


def test_impossible_size_is_refused_by_the_client(sim, cli):
    refused = cli(sim, "alice", "enc-keys", "--slave", "bob", "--size", "4096")
    assert refused.returncode == 6
    assert "outside the KME's range" in refused.stderr


def test_unreachable_kme_exits_3(cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gone = cli(f"https://127.0.0.1:{port}", "alice", "status", "--slave", "bob")
    assert gone.returncode == 3, gone.stderr
    assert "unreachable" in gone.stderr


def test_exhausted_store_exits_5(start_sim, cli):
    sim = start_sim("--max-key-count", "2", "--key-rate", "0")
    ok_json(cli(sim, "alice", "enc-keys", "--slave", "bob", "--number", "2", "--json"))
    checked = cli(sim, "alice", "enc-keys", "--slave", "bob")
    assert checked.returncode == 5 and "exhausted" in checked.stderr
    raw = cli(sim, "alice", "enc-keys", "--slave", "bob", "--json")
    assert raw.returncode == 5 and "exhausted" in raw.stderr


def test_outage_after_n_requests_makes_the_kme_unreachable(start_sim, cli):
    sim = start_sim("--outage-after", "1")
    ok_json(cli(sim, "alice", "status", "--slave", "bob", "--json"))
    down = cli(sim, "alice", "status", "--slave", "bob", "--json")
    assert down.returncode in (3, 5), down.stderr
    assert sim.alive()


def test_outage_toggle_file(start_sim, cli, tmp_path):
    toggle = tmp_path / "down"
    sim = start_sim("--outage-file", str(toggle))
    ok_json(cli(sim, "alice", "status", "--slave", "bob", "--json"))
    toggle.touch()
    assert cli(sim, "alice", "status", "--slave", "bob").returncode == 3
    toggle.unlink()
    ok_json(cli(sim, "alice", "status", "--slave", "bob", "--json"))


def test_pki_writes_private_keys_0600(pki):
    for name in ("ca-key.pem", "kme-key.pem", "alice-key.pem", "bob-key.pem"):
        mode = stat.S_IMODE(os.stat(pki.dir / name).st_mode)
        assert mode == 0o600, f"{name}: {mode:o}"


def test_no_key_reaches_the_simulator_log(sim, cli):
    enc = ok_json(cli(sim, "alice", "enc-keys", "--slave", "bob", "--number", "2", "--json"))
    ids = [k["key_ID"] for k in enc["keys"]]
    ok_json(cli(sim, "bob", "dec-keys", "--master", "alice", *ids, "--json"))
    sim.stop()
    log = sim.stderr()
    assert ids[0] in log or "served" in log
    for k in enc["keys"]:
        assert k["key"] not in log
