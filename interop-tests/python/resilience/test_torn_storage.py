"""Scenario 3, torn storage: a stopped relay's redb custody file is truncated or bit-flipped.

Three reports wait in the recipient relay's custody (the recipient has not fetched them). The
relay is stopped gracefully, its custody file copied, then each damage is applied to a fresh
copy and the relay restarted on it:

* truncated to half, and to a few bytes;
* one byte flipped inside a stored envelope (found by searching the file for the envelope's
  bytes as `send --save-envelope` wrote them);
* header bytes overwritten.

Allowed outcomes: the relay refuses to start (non-zero exit, the error names the custody
file: checked in every case), or it starts and the recipient gets only intact reports: every report `read` gives
back is byte-identical to what was sent, a damaged envelope is refused by the client (it never
reaches the application). Finally the pristine copy is restored and all three reports are
delivered exactly once.
"""

import time

import pytest
from resilience_fed import inbox_ids, queue_depth, read_bytes, report_file, wait_until, write_report

N_REPORTS = 3
START_VERDICT_SECS = 12.0


def _start_and_judge(relay, recipient, sent: dict, out_dir):
    """Starts the relay on the current custody file and returns what happened."""
    relay.start(wait=False)
    deadline = time.monotonic() + START_VERDICT_SECS
    while time.monotonic() < deadline:
        if relay.proc.poll() is not None:
            log = relay.log_tail(3000).split("==== start")[-1]
            return {
                "outcome": "refused",
                "exit_code": relay.proc.returncode,
                "names_file": "custody.redb" in log,
                "error": [line for line in log.splitlines() if "rror" in line or "custody" in line][-3:],
            }
        if relay.status_http() is not None:
            break
        time.sleep(0.1)
    else:
        relay.kill()
        return {"outcome": "hang", "log": relay.log_tail(1500)}
    r, ids = inbox_ids(recipient, quiet=1, max_wait=8)
    intact, damaged = 0, 0
    for mid in set(ids):
        got = read_bytes(recipient, mid, out_dir / mid)
        if mid in sent and got == sent[mid]:
            intact += 1
        else:
            damaged += 1
    rejected = len((r.json or {}).get("rejected", []))
    return {"outcome": "started", "inbox_exit": r.code, "listed": len(ids), "intact": intact,
            "damaged_served_to_application": damaged, "rejected_by_client": rejected,
            "relay_alive_after": relay.running()}


def _damage_cases(pristine: bytes, envelope: bytes):
    half = pristine[: len(pristine) // 2]
    cases = {"truncated-half": half, "truncated-16-bytes": pristine[:16]}
    # One byte inside a stored envelope: search for a 64-byte window from the envelope's middle.
    window = envelope[len(envelope) // 2: len(envelope) // 2 + 64]
    pos = pristine.find(window)
    if pos >= 0:
        flipped = bytearray(pristine)
        flipped[pos + 10] ^= 0x01
        cases["bitflip-in-envelope"] = bytes(flipped)
    header = bytearray(pristine)
    for i in range(0, 64):
        header[i] ^= 0xFF
    cases["header-overwritten"] = bytes(header)
    return cases, pos


def test_torn_storage(pair, tmp_path):
    fed, eu, ua, ana, bohdan = pair
    sent: dict[str, bytes] = {}
    envelope = b""
    for i in range(N_REPORTS):
        path = report_file(tmp_path, i, size=3000)
        env_path = tmp_path / f"sent-{i}.env"
        r = ana.send(bohdan, path, extra=["--save-envelope", str(env_path)])
        assert r.code == 0, r
        sent[r.json["message_id"]] = path.read_bytes()
        envelope = env_path.read_bytes()
    wait_until(lambda: queue_depth(ua) >= N_REPORTS, 30, what="reports in ua custody")
    assert ua.stop() == 0, ua.log_tail()
    pristine = ua.storage.read_bytes()
    cases, env_pos = _damage_cases(pristine, envelope)
    results = {"envelope_found_in_file": env_pos >= 0}
    for name, data in cases.items():
        ua.storage.write_bytes(data)
        verdict = _start_and_judge(ua, bohdan, sent, tmp_path / name)
        ua.kill()
        results[name] = verdict
        print(f"torn storage {name}: {verdict}")
    # The pristine copy: everything delivered exactly once, in its original bytes.
    ua.storage.write_bytes(pristine)
    ua.start()
    r, ids = inbox_ids(bohdan, quiet=1, max_wait=8)
    assert r.code == 0, r
    results["pristine_queue_after"] = queue_depth(ua)
    delivered = [m for m in ids if m in sent]
    exact = sum(1 for m in set(delivered) if read_bytes(bohdan, m, tmp_path / "final" / m) == sent[m])
    results["pristine"] = {"delivered": len(set(delivered)), "listed": len(delivered), "byte_exact": exact}
    write_report("torn_storage", {"reports": N_REPORTS, **results})

    for name in cases:
        v = results[name]
        assert v["outcome"] != "hang", f"{name}: relay neither started nor exited: {v}"
        if v["outcome"] == "refused":
            assert v["exit_code"] != 0
            assert v["error"], f"{name}: the relay exited without an error message: {v}"
            assert v["names_file"], f"{name}: the start-up error does not name the custody file: {v}"
        else:
            assert v["damaged_served_to_application"] == 0, f"{name}: damaged report reached the application: {v}"
    assert results["pristine"] == {"delivered": N_REPORTS, "listed": N_REPORTS, "byte_exact": N_REPORTS}, results


def test_torn_storage_error_names_file(federation):
    relay = federation.relay("lone-relay", "CERT-EU")
    relay.start()
    assert relay.stop() == 0, relay.log_tail()
    data = relay.storage.read_bytes()
    relay.storage.write_bytes(data[: len(data) // 2])
    relay.start(wait=False)
    code = relay.proc.wait(timeout=START_VERDICT_SECS)
    log = relay.log_tail(3000).split("==== start")[-1]
    print(f"torn storage error (exit {code}): {log.strip().splitlines()[-1:]}")
    assert code != 0
    assert str(relay.storage) in log or "custody.redb" in log, log
