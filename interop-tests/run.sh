#!/usr/bin/env bash
# Runs the black-box interop tests: builds the Rust binaries, makes (once) a Python venv with the
# independent implementations in requirements.txt, then runs pytest over python/.
# Usage: interop-tests/run.sh [pytest args...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi
(cd "$root" && cargo build --quiet --workspace --bins)
export LIAISON_BIN_DIR="${CARGO_TARGET_DIR:-$root/target}/debug"
cd "$here/python"
exec "$venv/bin/python" -m pytest -q "$@"
