"""Scenario 4, load on one relay: many concurrent officer connections for a bounded period.

Two parts:

* Idle connection footprint at scale: `liaison-bench connections` (the Rust load generator of
  issue 9: N distinct officers, each with its own QUIC connection and completed hybrid link
  handshake, held open against one real `liaison-node` process) reports the relay's RSS
  (`/proc/PID/status` VmRSS) without links, with N links, and per link; any refused link fails
  it. N = 200 in CI, 1,000 with LIAISON_RESILIENCE_LONG=1.
* No connection starves: waves of concurrent `liaison inbox` processes (distinct officers,
  real CLI) against the same relay while a normal report is sent and delivered; every process
  must finish with exit 0 within its bound. The relay's RSS is sampled from /proc during the
  waves, and its error counters read afterwards.
"""

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from resilience_fed import bin_path, inbox_ids, long_mode, report_file, wait_until, write_report

IDLE_LINKS = 1000 if long_mode() else 200
WAVE_OFFICERS = 60 if long_mode() else 24
WAVES = 4 if long_mode() else 2


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_idle_connections_footprint(tmp_path):
    bench = Path(os.environ.get("LIAISON_BIN_DIR", "")) / "liaison-bench"
    if not bench.exists():
        pytest.skip(f"{bench} not built (liaison-bench is the issue 9 load generator)")
    out = tmp_path / "connections.json"
    t0 = time.monotonic()
    proc = subprocess.run(
        [str(bench), "connections", "--connections", str(IDLE_LINKS), "--runs", "1", "--json", str(out),
         "--node-bin", bin_path("liaison-node")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    secs = round(time.monotonic() - t0, 1)
    assert proc.returncode == 0, f"liaison-bench connections failed: {proc.stderr[-3000:]}"
    data = json.loads(out.read_text())
    values = {m["name"]: m["values"][0] for m in data["measurements"]}
    per_link = next(v for k, v in values.items() if "per link" in k)
    full = next(v for k, v in values.items() if "links" in k and "no links" not in k and "per" not in k)
    write_report("load_idle_connections", {"links": IDLE_LINKS, "secs": secs, "rss_no_links_mib": values.get(
        "relay RSS, no links"), "rss_with_links_mib": full, "rss_per_link_kib": per_link, "errors": 0})
    assert per_link > 0


def test_concurrent_officers_no_starvation(pair, tmp_path):
    fed, eu, ua, ana, bohdan = pair
    crowd = [fed.officer(f"Crowd {i}", "CERT-UA", ua) for i in range(WAVE_OFFICERS)]
    time.sleep(2.5)  # ua picks up the new member certificates (reload_check_secs = 1)
    rss_idle = _rss_kib(ua.proc.pid)
    rss_peak = rss_idle
    results = {"ok": 0, "failed": 0, "exit_codes": {}, "max_secs": 0.0}

    def one(o):
        t = time.monotonic()
        r = o.inbox(quiet=1, max_wait=6, io_timeout=20)
        return r.code, time.monotonic() - t

    delivered = 0
    for wave in range(WAVES):
        with ThreadPoolExecutor(max_workers=WAVE_OFFICERS) as pool:
            futures = [pool.submit(one, o) for o in crowd]
            # A normal report crosses the loaded relay meanwhile.
            r = ana.send(bohdan, report_file(tmp_path, wave), io_timeout=20)
            assert r.code == 0, r
            mid = r.json["message_id"]
            while not all(f.done() for f in futures):
                rss_peak = max(rss_peak, _rss_kib(ua.proc.pid))
                time.sleep(0.1)
            for f in futures:
                code, secs = f.result()
                results["ok" if code == 0 else "failed"] += 1
                results["exit_codes"][str(code)] = results["exit_codes"].get(str(code), 0) + 1
                results["max_secs"] = max(results["max_secs"], round(secs, 1))
        got = wait_until(lambda: inbox_ids(bohdan, quiet=1, max_wait=3, io_timeout=20)[1], 30, what="delivery")
        delivered += got.count(mid) == 1
    status = ua.status_http() or {}
    counters = status.get("counters", {})
    write_report("load_concurrent_officers", {
        "officers_per_wave": WAVE_OFFICERS, "waves": WAVES, **results,
        "rss_idle_kib": rss_idle, "rss_peak_kib": rss_peak,
        "rss_per_connection_kib": round((rss_peak - rss_idle) / WAVE_OFFICERS, 1),
        "normal_reports_delivered": delivered, "handshakes_failed": counters.get("handshakes_failed"),
        "refusals_sent": counters.get("refusals_sent"), "relay_alive": ua.running(),
    })
    assert results["failed"] == 0, f"officer connections failed or starved: {results}"
    assert delivered == WAVES
    assert ua.running()
