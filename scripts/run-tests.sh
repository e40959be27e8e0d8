#!/usr/bin/env bash
# The README's test command: installs what the tests need, starts libvirt's
# daemons for the qemu:///system test and a loopback sshd for the qemu+ssh
# test and the tools that read the nightly report and textfile, then runs unit and integration tests
# (integration tests boot real guests under QEMU and real containers).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
bash "$repo/scripts/libvirt-daemons.sh"
bash "$repo/scripts/test-sshd.sh"
bash "$repo/scripts/test-tools.sh"
cd "$repo"
echo "==> swift test"
# Drop the per-test "started" lines and build progress; keep results.
set +e
swift test 2>&1 | grep --line-buffered -vE '^(◇|􀟈) .* started\.$|^\[[0-9]+/[0-9]+\] '
status=${PIPESTATUS[0]}
exit "$status"
