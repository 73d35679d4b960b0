#!/usr/bin/env python3
"""Plots scenario 1 of a `liaison-bench --json` result: durable throughput (msg/s) against
the number of concurrent senders, Liaison and NATS JetStream, median with min-max bars.

Usage: interop-tests/bench/.venv/bin/python interop-tests/bench/plot.py RESULTS.json OUT.png
"""
import json
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402,F401


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def series(measurements, system):
    """(concurrency, median, min, max) for `system` ('liaison' or 'nats-js'), sorted."""
    out = []
    for m in measurements:
        if not m["scenario"].startswith("1 "):
            continue
        match = re.fullmatch(re.escape(system) + r", (\d+) senders", m["name"])
        if match and m["values"]:
            vals = m["values"]
            out.append((int(match.group(1)), median(vals), min(vals), max(vals)))
    return sorted(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        report = json.load(f)
    ms = report["measurements"]
    loads = [l for m in ms if m["scenario"].startswith("1 ") for l in m["load"]]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for system, label, marker in [
        ("liaison", "Liaison relay (fsync per ack, group commit)", "o"),
        ("nats-js", "NATS JetStream file store (publish ack)", "s"),
    ]:
        s = series(ms, system)
        if not s:
            continue
        xs = [p[0] for p in s]
        ys = [p[1] for p in s]
        err = [[p[1] - p[2] for p in s], [p[3] - p[1] for p in s]]
        ax.errorbar(xs, ys, yerr=err, marker=marker, capsize=4, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks([p[0] for p in series(ms, "liaison")] or [1])
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    # Log scale: the two systems are about an order of magnitude apart.
    ax.set_yscale("log")
    ax.set_xlabel("concurrent senders (one link / connection each, 1 message in flight)")
    ax.set_ylabel("messages per second (median, min-max; log scale)")
    title = "Durable throughput, sealed 1 KiB reports, loopback"
    if loads:
        cores = report["machine"]["cores"]
        # The load average counts the benchmark's own processes; above the core count other
        # work was competing with them.
        busy = " (other work running)" if max(loads) > cores else ""
        title += f"\n{cores} cores, load avg {min(loads):.1f}-{max(loads):.1f}{busy}"
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=120)
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
