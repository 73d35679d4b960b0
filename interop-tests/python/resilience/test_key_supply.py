"""Scenario 6, key supply faults on the relay-to-relay link.

Two relays (eu, ua) draw their link's supplied key from a real `liaison-qkd sim` KME simulator
(ETSI GS QKD 014 over mutual TLS), or from pre-shared key files. Faults:

* KME down (the simulator's outage file exists): under `qkd = "required"` no link comes up and
  a report sent meanwhile stays in custody at the sender's relay (not forwarded, not
  delivered); when the KME comes back the link comes up with the supplied key and the report is
  delivered. Under `preferred` the link comes up hybrid-only, visibly (fallback counted).
* KME slow (the simulator SIGSTOPped: requests hang): the required link does not come up
  (handshake timeout) and nothing is forwarded; SIGCONT heals it.
* KME exhausted (key store of size 0, no refill): the required link never comes up.
* Wrong keys: each relay holds a different PSK file for the other, or each relay uses its own,
  unrelated KME simulator (the key id drawn on one side is unknown at the other): the handshake fails on the
  key mismatch; the link never comes up with mismatched keys, under either policy.
"""

import base64
import os
import signal
import time

from resilience_fed import (
    Federation, Sim, ensure_sim_pki, inbox_ids, queue_depth, report_file, wait_until, write_report,
)

DOWN_OBSERVE_SECS = 6.0
HEAL_TIMEOUT = 45.0


def _build(fed, policy: str, supply: str = "etsi014", sim_args=(), psk_same: bool = True):
    eu = fed.relay("eu-relay", "CERT-EU")
    ua = fed.relay("ua-relay", "CERT-UA")
    ana = fed.officer("Ana Ferreira", "CERT-EU", eu)
    bohdan = fed.officer("Bohdan Kovalenko", "CERT-UA", ua)
    sim = None
    if supply == "etsi014":
        pki = ensure_sim_pki(fed.root, ["eu-relay", "ua-relay"])
        sim = Sim(fed, pki, *sim_args)
        eu.extra = sim.key_supply("eu-relay")
        ua.extra = sim.key_supply("ua-relay")
    else:
        a, b = fed.root / "eu.psk", fed.root / "ua.psk"
        key = base64.b64encode(os.urandom(32)).decode()
        a.write_text(key + "\n")
        b.write_text((key if psk_same else base64.b64encode(os.urandom(32)).decode()) + "\n")
        for f in (a, b):
            os.chmod(f, 0o600)
        for relay, peer, f in ((eu, "ua-relay", a), (ua, "eu-relay", b)):
            relay.extra = (f'sae_id = "{relay.name}"\n[key_supply]\nkind = "psk"\nsae_id = "{relay.name}"\n'
                           f'used_ids = "{relay.dir / "psk-used.redb"}"\npeers = {{ {peer} = "{f}" }}\n')
    eu.routes.append({"relay": "ua-relay", "qkd": policy, "sae_id": "ua-relay"})
    ua.routes.append({"relay": "eu-relay", "qkd": policy, "sae_id": "eu-relay"})
    return eu, ua, ana, bohdan, sim


def _start(eu, ua, ana, bohdan):
    eu.start()
    ua.start()
    for o in (ana, bohdan):
        r = o.inbox(quiet=1, max_wait=5)
        assert r.code == 0, r


def _links(relay):
    s = relay.status_http() or {}
    return [link for link in s.get("links", []) if link.get("role") == "relay"]


def _counter(relay, name):
    return int((relay.status_http() or {}).get("counters", {}).get(name, 0))


def _observe_no_link(eu, ua, secs=DOWN_OBSERVE_SECS):
    """True if no relay link is up on either side at any point during `secs`."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if _links(eu) or _links(ua):
            return False
        time.sleep(0.25)
    return True


def _send_expect_held(ana, bohdan, eu, tmp_path, i):
    """A send while the link is down: custody at eu (or a clear refusal); never delivered."""
    path = report_file(tmp_path, i)
    r = ana.send(bohdan, path)
    held = {"send_exit": r.code, "message_id": (r.json or {}).get("message_id"),
            "error": (r.json or {}).get("error")}
    _, ids = inbox_ids(bohdan, quiet=1, max_wait=3)
    held["delivered_while_down"] = len(ids)
    held["eu_queue"] = queue_depth(eu)
    return held, path


def test_kme_down_required_then_heal(federation, tmp_path):
    outage = tmp_path / "kme-outage"
    outage.touch()
    eu, ua, ana, bohdan, sim = _build(federation, "required", sim_args=("--outage-file", str(outage)))
    _start(eu, ua, ana, bohdan)
    no_link = _observe_no_link(eu, ua)
    held, _ = _send_expect_held(ana, bohdan, eu, tmp_path, 1)
    failures = _counter(eu, "key_supply_required_failures") + _counter(ua, "key_supply_required_failures")
    outage.unlink()
    t0 = time.monotonic()
    wait_until(lambda: _links(eu) and _links(ua), HEAL_TIMEOUT, what="link up after the KME returned")
    heal_secs = round(time.monotonic() - t0, 1)
    supplied = all(link["supplied_key"] for link in _links(eu) + _links(ua))
    delivered = 0
    if held["send_exit"] == 0:
        got = wait_until(lambda: inbox_ids(bohdan, quiet=1, max_wait=4)[1], 30, what="held report delivered")
        delivered = got.count(held["message_id"])
    write_report("key_supply_kme_down_required", {
        "no_link_while_down": no_link, "required_failures": failures, **held,
        "heal_secs": heal_secs, "supplied_key_after_heal": supplied, "delivered_after_heal": delivered})
    assert no_link, "a required link came up while the KME was down"
    assert failures > 0, "required failures not counted"
    assert held["delivered_while_down"] == 0
    assert held["send_exit"] in (0, 3, 4), held
    if held["send_exit"] == 0:
        assert held["eu_queue"] >= 1, "accepted report not held in eu custody"
        assert delivered == 1
    assert supplied, "link after heal without the supplied key"


def test_kme_down_preferred_falls_back_visibly(federation, tmp_path):
    outage = tmp_path / "kme-outage"
    outage.touch()
    eu, ua, ana, bohdan, sim = _build(federation, "preferred", sim_args=("--outage-file", str(outage)))
    _start(eu, ua, ana, bohdan)
    wait_until(lambda: _links(eu) and _links(ua), HEAL_TIMEOUT, what="preferred link up hybrid-only")
    links = _links(eu) + _links(ua)
    fallbacks = _counter(eu, "key_supply_fallbacks") + _counter(ua, "key_supply_fallbacks")
    r = ana.send(bohdan, report_file(tmp_path, 1))
    assert r.code == 0, r
    got = wait_until(lambda: inbox_ids(bohdan, quiet=1, max_wait=4)[1], 30, what="report delivered")
    write_report("key_supply_kme_down_preferred", {
        "links": len(links), "supplied_key": [link["supplied_key"] for link in links],
        "fallbacks": fallbacks, "delivered": got.count(r.json["message_id"])})
    assert not any(link["supplied_key"] for link in links)
    assert fallbacks > 0
    assert got.count(r.json["message_id"]) == 1


def test_kme_slow_required(federation, tmp_path):
    eu, ua, ana, bohdan, sim = _build(federation, "required")
    _start(eu, ua, ana, bohdan)
    wait_until(lambda: _links(eu) and _links(ua), HEAL_TIMEOUT, what="link up with a working KME")
    baseline_supplied = all(link["supplied_key"] for link in _links(eu) + _links(ua))
    # The KME hangs (process stopped): every key request stalls until the handshake timeout.
    os.kill(sim.proc.pid, signal.SIGSTOP)
    try:
        ua.kill()
        # eu notices the dead link by its keepalive (peer_timeout_secs) before ua returns.
        wait_until(lambda: not _links(eu), 30, what="eu dropped the dead link")
        ua.start()
        no_link = _observe_no_link(eu, ua, secs=DOWN_OBSERVE_SECS)
        held, _ = _send_expect_held(ana, bohdan, eu, tmp_path, 1)
        links_seen = _links(eu) + _links(ua)
        failures = (_counter(eu, "handshakes_failed") + _counter(ua, "handshakes_failed")
                    + _counter(eu, "key_supply_required_failures") + _counter(ua, "key_supply_required_failures"))
    finally:
        os.kill(sim.proc.pid, signal.SIGCONT)
    wait_until(lambda: _links(eu) and _links(ua), HEAL_TIMEOUT, what="link up after the KME resumed")
    delivered = 0
    if held["send_exit"] == 0:
        got = wait_until(lambda: inbox_ids(bohdan, quiet=1, max_wait=4)[1], 30, what="held report delivered")
        delivered = got.count(held["message_id"])
    write_report("key_supply_kme_slow", {"baseline_supplied_key": baseline_supplied, "no_link_while_slow": no_link,
                                         "links_while_slow": links_seen,
                                         "failures": failures, **held, "delivered_after_heal": delivered})
    assert baseline_supplied
    assert no_link, "a required link came up while the KME hung"
    assert held["delivered_while_down"] == 0
    assert failures > 0
    if held["send_exit"] == 0:
        assert delivered == 1


def test_kme_exhausted_required(federation, tmp_path):
    eu, ua, ana, bohdan, sim = _build(federation, "required", sim_args=("--max-key-count", "0", "--key-rate", "0"))
    _start(eu, ua, ana, bohdan)
    no_link = _observe_no_link(eu, ua)
    failures = _counter(eu, "key_supply_required_failures") + _counter(ua, "key_supply_required_failures")
    held, _ = _send_expect_held(ana, bohdan, eu, tmp_path, 1)
    write_report("key_supply_kme_exhausted", {"no_link": no_link, "required_failures": failures, **held})
    assert no_link, "a required link came up with an exhausted KME"
    assert failures > 0
    assert held["delivered_while_down"] == 0


def test_psk_mismatch_never_links(federation, tmp_path):
    results = {}
    for policy in ("required", "preferred"):
        fed_dir = tmp_path / policy
        fed_dir.mkdir()
        fed = Federation(fed_dir)
        try:
            eu, ua, ana, bohdan, _ = _build(fed, policy, supply="psk", psk_same=False)
            _start(eu, ua, ana, bohdan)
            no_link = _observe_no_link(eu, ua)
            links = _links(eu) + _links(ua)
            failed = _counter(eu, "handshakes_failed") + _counter(ua, "handshakes_failed")
            held, _ = _send_expect_held(ana, bohdan, eu, fed_dir, 1)
            results[policy] = {"no_link": no_link, "links": links, "handshakes_failed": failed, **held}
        finally:
            fed.teardown()
    # Control: the same PSK file on both sides links, with the supplied key mixed.
    ctl_dir = tmp_path / "control"
    ctl_dir.mkdir()
    fed = Federation(ctl_dir)
    try:
        eu, ua, ana, bohdan, _ = _build(fed, "required", supply="psk", psk_same=True)
        _start(eu, ua, ana, bohdan)
        wait_until(lambda: _links(eu) and _links(ua), HEAL_TIMEOUT, what="link up with matching PSKs")
        results["control_supplied_key"] = all(link["supplied_key"] for link in _links(eu) + _links(ua))
    finally:
        fed.teardown()
    write_report("key_supply_psk_mismatch", results)
    for policy in ("required", "preferred"):
        v = results[policy]
        assert v["no_link"], f"{policy}: a link came up although the PSKs differ: {v['links']}"
        assert v["handshakes_failed"] > 0, v
        assert v["delivered_while_down"] == 0
    assert results["control_supplied_key"]


def test_two_kmes_wrong_keys_never_link(federation, tmp_path):
    """Each relay talks to its own, unrelated KME simulator: the key id the dialling side draws
    is unknown (or a different key) at the other side's KME, so no required link may come up."""
    eu, ua, ana, bohdan, sim = _build(federation, "required")
    other = Sim(federation, sim.pki)
    ua.extra = other.key_supply("ua-relay")
    _start(eu, ua, ana, bohdan)
    no_link = _observe_no_link(eu, ua)
    failed = _counter(eu, "handshakes_failed") + _counter(ua, "handshakes_failed")
    held, _ = _send_expect_held(ana, bohdan, eu, tmp_path, 1)
    write_report("key_supply_two_kmes", {"no_link": no_link, "handshakes_failed": failed, **held})
    assert no_link, "a link came up although the two relays' KMEs share no keys"
    assert failed > 0
    assert held["delivered_while_down"] == 0
