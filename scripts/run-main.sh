#!/usr/bin/env bash
# The README's main command: installs what mvm needs, builds it, and compares
# the micro-VM (through libvirt's embedded QEMU driver, no daemon needed) with
# its equivalent container side by side. Arguments go to `mvm compare`
# (default: 10 runs, and the table's JSON next to it in mvm-compare.json).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
echo "==> swift build -c release"
set +e
swift build -c release 2>&1 | grep --line-buffered -E 'error|warning:|Build complete'
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || { echo "error: swift build failed; run 'swift build -c release' to see why" >&2; exit 1; }
if [ $# -eq 0 ]; then
  set -- --export-json mvm-compare.json
fi
echo "==> mvm compare $*"
exec "$repo/.build/release/mvm" compare "$@"
