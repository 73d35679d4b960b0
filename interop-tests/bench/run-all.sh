#!/usr/bin/env bash
# The full relay benchmark set of docs/BENCHMARKS.md ("Relay benchmarks (issue 9)"):
# scenarios 1-4 with 3 runs each, scenario 5 once with 10,000 links, then the plot.
# Usage: bash interop-tests/bench/run-all.sh [BIN_DIR]   (BIN_DIR holds liaison-bench and
# liaison-node from `cargo build --release -p liaison-node -p liaison-interop-tests --bins`)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-${CARGO_TARGET_DIR:-$here/../../target}/release}"
out="$here/results"
mkdir -p "$out"
for s in throughput latency bulk handshakes; do
    "$bin/liaison-bench" "$s" --runs 3 --json "$out/$s.json" | tee "$out/$s.md"
done
"$bin/liaison-bench" connections --runs 1 --connections 10000 --json "$out/connections.json" \
    | tee "$out/connections.md"
if [ -x "$here/.venv/bin/python" ]; then
    "$here/.venv/bin/python" "$here/plot.py" "$out/throughput.json" "$out/throughput.png"
fi
