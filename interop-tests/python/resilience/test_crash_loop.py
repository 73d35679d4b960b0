"""Scenario 1, crash loop: relays SIGKILLed and restarted at random moments under traffic.

Ana (at eu-relay) sends reports to Bohdan (at ua-relay) continuously from one thread, Bohdan
fetches his inbox continuously from another, while the main thread SIGKILLs one of the two
relays (chosen at random each cycle) at a random moment and restarts it at once on the same
custody file. After the last cycle both relays run undisturbed until everything drains.

Checked at the end: every report acknowledged to the sender (`send` exit 0 with its message
id) is listed exactly once in Bohdan's inbox and `read` gives back its original bytes; a
signed receipt for every acknowledged report is back at Ana. Sends that failed (relay down:
exit 4, or next hop not connected: exit 3) are counted, never retried; if one of them was
delivered anyway (custody taken, acknowledgement lost in the kill) it must also be delivered
only once.

Counts: 50 kill cycles by default (CI); LIAISON_RESILIENCE_LONG=1 runs 300.
"""

import random
import threading
import time

from resilience_fed import long_mode, read_bytes, report_file, write_report

CYCLES = 300 if long_mode() else 50
GAP = (0.3, 1.6)  # seconds of traffic between kills
DRAIN_TIMEOUT = 120.0


def test_crash_loop(pair, tmp_path):
    fed, eu, ua, ana, bohdan = pair
    rng = random.Random(int(time.time()))
    stop = threading.Event()
    sent: dict[str, bytes] = {}
    failed_sends: dict[int, int] = {}
    failed_payloads: dict[str, bytes] = {}
    inbox_runs = {"ok": 0, "failed": 0}

    def sender():
        i = 0
        while not stop.is_set():
            i += 1
            path = report_file(tmp_path, i, size=rng.randrange(100, 4000))
            r = ana.send(bohdan, path, io_timeout=4)
            if r.code == 0 and r.json and r.json.get("message_id"):
                sent[r.json["message_id"]] = path.read_bytes()
            else:
                failed_sends[r.code] = failed_sends.get(r.code, 0) + 1
                failed_payloads[path.read_bytes()[:40].decode(errors="replace")] = path.read_bytes()

    def receiver():
        while not stop.is_set():
            r = bohdan.inbox(quiet=1, max_wait=3, io_timeout=4)
            inbox_runs["ok" if r.code == 0 else "failed"] += 1
            time.sleep(0.3)

    threads = [threading.Thread(target=sender, daemon=True), threading.Thread(target=receiver, daemon=True)]
    for t in threads:
        t.start()
    kills = {"eu-relay": 0, "ua-relay": 0}
    t0 = time.monotonic()
    try:
        for _ in range(CYCLES):
            time.sleep(rng.uniform(*GAP))
            victim = rng.choice([eu, ua])
            victim.kill()
            kills[victim.name] += 1
            time.sleep(rng.uniform(0.0, 0.4))
            victim.start()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    loop_secs = round(time.monotonic() - t0, 1)

    # Drain: both relays up; fetch until every acknowledged report is in the inbox.
    listed: list[str] = []
    deadline = time.monotonic() + DRAIN_TIMEOUT
    while time.monotonic() < deadline:
        r = bohdan.inbox(quiet=1, max_wait=5)
        listed = [m["message_id"] for m in (r.json or {}).get("messages", [])]
        if set(sent) <= set(listed):
            break
        time.sleep(1)
    drain_secs = round(time.monotonic() - t0 - loop_secs, 1)
    missing = [m for m in sent if m not in listed]
    duplicated = [m for m in set(listed) if listed.count(m) > 1]
    exact = 0
    damaged = []
    for m in sent:
        if m in listed:
            if read_bytes(bohdan, m, tmp_path / "out" / m) == sent[m]:
                exact += 1
            else:
                damaged.append(m)
    unacked_delivered = [m for m in listed if m not in sent]
    # Receipts: every acknowledged report's receipt back at Ana.
    with_receipt: set[str] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = ana.receipts(quiet=1, max_wait=5)
        with_receipt = {s["message_id"] for s in (r.json or {}).get("sent", []) if s.get("complete")}
        if set(sent) <= with_receipt:
            break
        time.sleep(1)
    no_receipt = [m for m in sent if m not in with_receipt]
    result = {
        "kill_cycles": sum(kills.values()), "kills": kills, "loop_secs": loop_secs, "drain_secs": drain_secs,
        "acked_sends": len(sent), "failed_sends_by_exit": failed_sends, "delivered_acked": len(sent) - len(missing),
        "missing": missing, "duplicated": duplicated, "byte_exact": exact, "damaged": damaged,
        "unacked_but_delivered": len(unacked_delivered), "receipts": len(set(sent) & with_receipt),
        "without_receipt": no_receipt, "inbox_runs": inbox_runs,
        "relay_starts": {"eu-relay": eu.starts, "ua-relay": ua.starts},
    }
    write_report("crash_loop", result)
    assert sum(kills.values()) == CYCLES
    assert len(sent) > 0, "no send was ever acknowledged"
    assert not missing, f"acknowledged reports lost: {missing}"
    assert not duplicated, f"reports delivered more than once: {duplicated}"
    assert not damaged and exact == len(sent)
    assert not no_receipt, f"acknowledged reports without a receipt: {no_receipt}"
    assert set(failed_sends) <= {3, 4}, f"sends failed with unexpected exit codes: {failed_sends}"
