"""Scenario 1, crash loop: relays SIGKILLed and restarted at random moments under traffic.

Two flows run at once, one each way: Ana (at eu-relay) sends reports to Bohdan (at ua-relay),
Olena (at ua-relay) to Dirk (at eu-relay), each sender in its own thread, each recipient
fetching its inbox continuously in another, while the main thread SIGKILLs one of the two
relays (chosen at random each cycle) at a random moment and restarts it at once on the same
custody file. After the last cycle both relays run undisturbed until everything drains.

Checked at the end, per flow: every report acknowledged to the sender (`send` exit 0 with its
message id) is listed exactly once in the recipient's inbox and `read` gives back its original
bytes; a signed receipt for every acknowledged report is back at the sender. Then both relays are
stopped gracefully and their audit logs (written across every kill) verify end to end. Sends that failed (relay down:
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


class Flow:
    """One sender → recipient stream with its own threads and books."""

    def __init__(self, sender, recipient, tmp_path, rng):
        self.sender, self.recipient = sender, recipient
        self.dir = tmp_path / sender.home.name
        self.dir.mkdir()
        self.rng = rng
        self.sent: dict[str, bytes] = {}
        self.failed: dict[int, int] = {}
        self.inbox_runs = {"ok": 0, "failed": 0}

    def send_loop(self, stop):
        i = 0
        while not stop.is_set():
            i += 1
            path = report_file(self.dir, i, size=self.rng.randrange(100, 4000))
            r = self.sender.send(self.recipient, path, io_timeout=4)
            if r.code == 0 and r.json and r.json.get("message_id"):
                self.sent[r.json["message_id"]] = path.read_bytes()
            else:
                self.failed[r.code] = self.failed.get(r.code, 0) + 1

    def receive_loop(self, stop):
        while not stop.is_set():
            r = self.recipient.inbox(quiet=1, max_wait=3, io_timeout=4)
            self.inbox_runs["ok" if r.code == 0 else "failed"] += 1
            time.sleep(0.3)

    def verify(self, deadline_secs):
        """Drains and checks; returns the flow's result."""
        listed: list[str] = []
        deadline = time.monotonic() + deadline_secs
        while time.monotonic() < deadline:
            r = self.recipient.inbox(quiet=1, max_wait=5)
            listed = [m["message_id"] for m in (r.json or {}).get("messages", [])]
            if set(self.sent) <= set(listed):
                break
            time.sleep(1)
        missing = [m for m in self.sent if m not in listed]
        duplicated = [m for m in set(listed) if listed.count(m) > 1]
        exact, damaged = 0, []
        for m in self.sent:
            if m in listed:
                if read_bytes(self.recipient, m, self.dir / "out" / m) == self.sent[m]:
                    exact += 1
                else:
                    damaged.append(m)
        with_receipt: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = self.sender.receipts(quiet=1, max_wait=5)
            with_receipt = {s["message_id"] for s in (r.json or {}).get("sent", []) if s.get("complete")}
            if set(self.sent) <= with_receipt:
                break
            time.sleep(1)
        return {
            "flow": f"{self.sender.name} -> {self.recipient.name}",
            "acked_sends": len(self.sent), "failed_sends_by_exit": self.failed,
            "delivered_acked": len(self.sent) - len(missing), "missing": missing, "duplicated": duplicated,
            "byte_exact": exact, "damaged": damaged,
            "unacked_but_delivered": len([m for m in listed if m not in self.sent]),
            "receipts": len(set(self.sent) & with_receipt),
            "without_receipt": [m for m in self.sent if m not in with_receipt],
            "inbox_runs": self.inbox_runs,
        }


def test_crash_loop(pair, tmp_path):
    fed, eu, ua, ana, bohdan = pair
    olena = fed.officer("Olena Shevchenko", "CERT-UA", ua)
    dirk = fed.officer("Dirk Jansen", "CERT-EU", eu)
    # The relays pick up the new members' certificates (reload_check_secs = 1) without restart.
    time.sleep(2.5)
    for o in (olena, dirk):
        r = o.inbox(quiet=1, max_wait=3)
        assert r.code == 0, r
    rng = random.Random(int(time.time()))
    flows = [Flow(ana, bohdan, tmp_path, random.Random(rng.random())),
             Flow(olena, dirk, tmp_path, random.Random(rng.random()))]
    stop = threading.Event()
    threads = [threading.Thread(target=f, args=(stop,), daemon=True)
               for flow in flows for f in (flow.send_loop, flow.receive_loop)]
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
    results = [flow.verify(DRAIN_TIMEOUT) for flow in flows]
    # Every kill left the custody file unclean; the audit chain must still verify end to end.
    audits = {}
    for relay in (eu, ua):
        code = relay.stop()
        r = relay.audit()
        audits[relay.name] = {"stop_exit": code, "verify_exit": r.code, "ok": (r.json or {}).get("ok"),
                              "entries": (r.json or {}).get("entries"), "by_kind": (r.json or {}).get("by_kind"),
                              "error": None if r.code == 0 else (r.stdout + r.stderr)[-500:]}
    result = {
        "kill_cycles": sum(kills.values()), "kills": kills, "loop_secs": loop_secs,
        "drain_and_verify_secs": round(time.monotonic() - t0 - loop_secs, 1),
        "acked_sends": sum(r["acked_sends"] for r in results),
        "delivered_exactly_once": sum(r["delivered_acked"] for r in results),
        "receipts": sum(r["receipts"] for r in results),
        "flows": results, "audit": audits, "relay_starts": {"eu-relay": eu.starts, "ua-relay": ua.starts},
    }
    write_report("crash_loop", result)
    assert sum(kills.values()) == CYCLES
    for r in results:
        assert r["acked_sends"] > 0, f"{r['flow']}: no send was ever acknowledged"
        assert not r["missing"], f"{r['flow']}: acknowledged reports lost: {r['missing']}"
        assert not r["duplicated"], f"{r['flow']}: reports delivered more than once: {r['duplicated']}"
        assert not r["damaged"] and r["byte_exact"] == r["acked_sends"], r
        assert not r["without_receipt"], f"{r['flow']}: acknowledged reports without a receipt: {r}"
        assert set(r["failed_sends_by_exit"]) <= {3, 4}, f"{r['flow']}: unexpected exit codes: {r}"
    for name, a in audits.items():
        assert a["stop_exit"] == 0, f"{name} did not stop cleanly: {a}"
        assert a["verify_exit"] == 0 and a["ok"], f"{name}: audit log does not verify after the crash loop: {a}"
