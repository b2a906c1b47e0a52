#!/usr/bin/env bash
# Creates the Python venv for the peer comparison from the pinned requirements, and builds glassbox in
# release mode. Idempotent. VENV overrides the venv location (default: bench/peers/.venv); the binary
# goes to $CARGO_TARGET_DIR/release (default target/release), where run.py looks for it.
#
# The whole table on a fresh machine:
#   bash bench/peers/setup.sh && bench/peers/.venv/bin/python bench/peers/run.py
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${VENV:-$here/.venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
(cd "$here/../.." && cargo build --release --quiet)
echo "venv: $venv"
echo "next: $venv/bin/python $here/run.py [--sections $(cd "$here" && ls sec_*.py | sed 's/^sec_//; s/\.py$//' | paste -sd, -)]"
