"""Scenario 2, partition and heal between two relays, and alternate addresses.

Partition: the link between eu-relay and ua-relay is cut by freezing eu-relay (SIGSTOP: its
socket stays bound but nothing answers, as on a cut network path; no network namespaces are
needed). Traffic keeps flowing on the other side: Bohdan (at ua) fetches the reports Ana sent
before the cut and signs receipts, which queue at ua-relay for eu-relay; more reports are sent
between officers of ua-relay meanwhile. The queue towards eu-relay is observed growing through
`liaison-node status --json`. After the heal (SIGCONT) the queue drains to zero and every
receipt reaches Ana.

Sends towards the cut-off side during the partition are refused at the sender (exit 3, next
hop not connected: the sender's relay cannot fetch the recipient's prekey), so nothing is
silently accepted that cannot be routed; that count is reported too.

Alternate route: eu-relay's only route to ua-relay names a dead address first and ua-relay's
real address as an alternate (ua-relay has no route back); the link comes up on the alternate
and a report is delivered over it.
"""

import time

from resilience_fed import (
    free_port, inbox_ids, long_mode, queue_depth, relay_links_up, report_file, wait_until, write_report,
)

N_BEFORE = 6 if not long_mode() else 30
PARTITION_SECS = 8.0 if not long_mode() else 60.0


def _queue_to(relay, name):
    s = relay.status_http() or {}
    return int(sum(q.get("depth", 0) for q in s.get("queues", []) if q.get("name") == name))


def test_partition_and_heal(pair, tmp_path):
    fed, eu, ua, ana, bohdan = pair
    olena = fed.officer("Olena Shevchenko", "CERT-UA", ua)
    time.sleep(2.5)  # ua picks up the new member certificate (reload_check_secs = 1)
    assert olena.inbox(quiet=1, max_wait=3).code == 0
    sent = []
    for i in range(N_BEFORE):
        r = ana.send(bohdan, report_file(tmp_path, i))
        assert r.code == 0, r
        sent.append(r.json["message_id"])
    wait_until(lambda: _queue_to(ua, "Bohdan Kovalenko") >= N_BEFORE or queue_depth(ua) >= N_BEFORE, 30,
               what="reports at ua-relay")

    # Cut: eu frozen.
    eu.pause()
    t_cut = time.monotonic()
    try:
        r, ids = inbox_ids(bohdan, quiet=1, max_wait=6)
        assert r.code == 0, r
        fetched = [m for m in ids if m in sent]
        samples = []
        during = {"sent_inside_ua": 0, "refused_towards_eu": 0, "other": 0}
        rr = bohdan.send(ana, report_file(tmp_path, 99), io_timeout=5)
        during["refused_towards_eu" if rr.code in (3, 4) else "other"] += 1
        i = 100
        t_loop = time.monotonic()
        while time.monotonic() - t_loop < PARTITION_SECS:
            samples.append(_queue_to(ua, "eu-relay"))
            i += 1
            rr = olena.send(bohdan, report_file(tmp_path, i), io_timeout=5)
            during["sent_inside_ua" if rr.code == 0 else "other"] += 1
        peak = max(samples) if samples else 0
        ua_link_down = relay_links_up(ua) == 0
    finally:
        eu.resume()
    t_heal = time.monotonic()
    wait_until(lambda: relay_links_up(eu) >= 1 and relay_links_up(ua) >= 1, 60, what="link back after heal")
    relink_secs = round(time.monotonic() - t_heal, 1)
    wait_until(lambda: _queue_to(ua, "eu-relay") == 0, 60, what="ua queue towards eu drained")
    drain_secs = round(time.monotonic() - t_heal, 1)
    receipts = set()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        r = ana.receipts(quiet=1, max_wait=4)
        receipts = {s["message_id"] for s in (r.json or {}).get("sent", []) if s.get("complete")}
        if set(sent) <= receipts:
            break
    # One `inbox` run fetches what arrives within its --max-wait; in long mode hundreds of
    # reports wait for Bohdan, so fetch until all arrived (the listing is his whole store) or
    # nothing new comes.
    inside, deadline = -1, time.monotonic() + 90
    while time.monotonic() < deadline:
        _, ids = inbox_ids(bohdan, quiet=1, max_wait=10)
        now_inside = len([m for m in set(ids) if m not in sent])
        if now_inside >= during["sent_inside_ua"] or now_inside == inside:
            inside = now_inside
            break
        inside = now_inside
    write_report("partition", {
        "reports_before_cut": N_BEFORE, "fetched_during_cut": len(fetched), "partition_secs": PARTITION_SECS,
        "queue_to_eu_samples": samples, "queue_to_eu_peak": peak, "ua_saw_link_down": ua_link_down,
        "sends_during_cut": during, "relink_secs": relink_secs, "drain_secs": drain_secs,
        "receipts_after_heal": len(set(sent) & receipts), "delivered_inside_ua": inside,
    })
    assert len(fetched) == N_BEFORE, "Bohdan could not fetch during the partition"
    assert peak >= N_BEFORE, f"receipts did not queue towards the cut-off relay: {samples}"
    assert ua_link_down, "ua-relay still counted the link to the frozen relay as up"
    assert during["other"] == 0, during
    assert set(sent) <= receipts, f"receipts missing after heal: {len(set(sent) & receipts)}/{N_BEFORE}"
    assert inside == during["sent_inside_ua"], "reports inside ua-relay lost during the partition"


def test_alternate_address_used(federation, tmp_path):
    fed = federation
    eu = fed.relay("eu-relay", "CERT-EU")
    ua = fed.relay("ua-relay", "CERT-UA")
    dead = f"127.0.0.1:{free_port()}"
    eu.routes.append({"relay": "ua-relay", "address": dead, "alternates": [ua.address], "qkd": "off"})
    ana = fed.officer("Ana Ferreira", "CERT-EU", eu)
    bohdan = fed.officer("Bohdan Kovalenko", "CERT-UA", ua)
    ua.start()
    eu.start()
    t0 = time.monotonic()
    wait_until(lambda: relay_links_up(eu) >= 1, 60, what="link over the alternate address")
    link_secs = round(time.monotonic() - t0, 1)
    links = [link for link in eu.status_http()["links"] if link.get("role") == "relay"]
    for o in (ana, bohdan):
        assert o.inbox(quiet=1, max_wait=3).code == 0
    r = ana.send(bohdan, report_file(tmp_path, 1))
    assert r.code == 0, r
    got = wait_until(lambda: inbox_ids(bohdan, quiet=1, max_wait=3)[1], 30, what="delivery over the alternate")
    write_report("alternate_address", {"dead_primary": dead, "alternate": ua.address, "link_secs": link_secs,
                                       "remotes": [link.get("remote") for link in links],
                                       "delivered": got.count(r.json["message_id"])})
    assert all(link.get("remote") == ua.address for link in links), links
    assert got.count(r.json["message_id"]) == 1
