#!/usr/bin/env bash
# Installs what the relay benchmarks need besides Rust: the NATS server (Debian package
# `nats-server`, the JetStream baseline) and a venv with matplotlib for plot.py.
# Usage: bash interop-tests/bench/setup.sh   (as root, or with sudo for apt-get)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v nats-server >/dev/null; then
    apt-get update
    apt-get install -y nats-server
fi
nats-server --version
if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install -q -r "$here/requirements.txt"
echo "ready: nats-server and $here/.venv"
