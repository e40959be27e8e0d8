#!/usr/bin/env bash
# The README's main command: installs mvm and what it needs
# (scripts/install.sh: packages, images, mvm on PATH with its images,
# completions and man page), then compares the micro-VM (through libvirt's
# embedded QEMU driver, no daemon needed) with its equivalent container side
# by side, from the directory it was called in. Arguments go to
# `mvm compare` (default: 10 runs, and the table's JSON next to it in
# mvm-compare.json).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/install.sh"
if [ $# -eq 0 ]; then
  set -- --export-json mvm-compare.json
fi
echo "==> mvm compare $*"
exec "${PREFIX:-/usr/local}/bin/mvm" compare "$@"
