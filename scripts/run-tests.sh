#!/usr/bin/env bash
# The README's test command: installs what the tests need, starts libvirt's
# daemons for the qemu:///system test and a loopback sshd for the qemu+ssh
# test, the tools that read the nightly report and textfile, and a PostgreSQL
# server for the history store tests, then runs unit and integration tests
# (integration tests boot real guests under QEMU and real containers).
# When it ends, pass, fail or interrupt, it stops the daemons it started
# (libvirtd, virtlogd, the sshd, PostgreSQL, dockerd); those that already ran are left running.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
# The start scripts add "<pid> <name>" here for each daemon they start.
MVM_STARTED_DAEMONS=$(mktemp /tmp/mvm-started-daemons.XXXXXX)
export MVM_STARTED_DAEMONS
# Keeps the exit status (a trap that calls no `exit` and fails nothing
# leaves it as it was, and an interrupt still ends the script as one).
# shellcheck disable=SC2317 # run by the EXIT trap
stop_started_daemons() {
  bash "$repo/scripts/stop-daemons.sh" "$MVM_STARTED_DAEMONS" || echo "warning: stopping the daemons the tests started failed" >&2
  rm -f "$MVM_STARTED_DAEMONS"
}
trap stop_started_daemons EXIT
bash "$repo/scripts/libvirt-daemons.sh"
bash "$repo/scripts/test-sshd.sh"
bash "$repo/scripts/test-tools.sh"
bash "$repo/scripts/test-postgres.sh"
bash "$repo/scripts/test-engines.sh"
cd "$repo"
# The code's format, as .swift-format sets it (swift-format ships with the
# toolchain): `swift format format -i -r --parallel Sources Tests Plugins Package.swift` fixes it.
echo "==> swift format lint"
swift format lint --strict -r --parallel Sources Tests Plugins Package.swift
echo "==> swift test"
# Drop the per-test "started" lines and build progress; keep results.
set +e
swift test 2>&1 | grep --line-buffered -vE '^(◇|􀟈) .* started\.$|^\[[0-9]+/[0-9]+\] '
status=${PIPESTATUS[0]}
set -e
# The install step as the main command runs it, into a prefix of its own
# and with the tests' debug build: then a comparison from a directory that
# has nothing of mvm's, and the completions and man page it installed.
echo "==> install check"
prefix=$(mktemp -d /tmp/mvm-install-check.XXXXXX)
trap 'rm -rf "$prefix"; stop_started_daemons' EXIT
PREFIX="$prefix" MVM_BUILD_CONFIGURATION=debug bash "$repo/scripts/install.sh" | grep -v '^images: '
for file in bin/mvm share/man/man1/mvm.1 share/bash-completion/completions/mvm share/zsh/site-functions/_mvm \
  share/fish/vendor_completions.d/mvm.fish share/mvm/images/manifest.json; do
  [ -s "$prefix/$file" ] || { echo "install check: $prefix/$file is missing or empty" >&2; exit 1; }
done
(cd /tmp && "$prefix/bin/mvm" compare -n 2) || { echo "install check: the installed mvm could not compare from /tmp" >&2; exit 1; }
# A shell in each, as the README's first use has it: the guest's own kernel
# release from the VM (not the host's), the host's from the container.
vm_release=$(cd /tmp && echo 'uname -r' | "$prefix/bin/mvm" boot -it 2>/dev/null) || true
case $vm_release in [0-9]*.*) [ "$vm_release" != "$(uname -r)" ] ;; *) false ;; esac ||
  { echo "install check: mvm boot -it gave no shell in the guest (got '$vm_release')" >&2; exit 1; }
container_release=$(cd /tmp && echo 'uname -r' | "$prefix/bin/mvm" run -it 2>/dev/null) || true
[ "$container_release" = "$(uname -r)" ] || { echo "install check: mvm run -it gave no shell (got '$container_release')" >&2; exit 1; }
echo "install check: ok"
exit "$status"
