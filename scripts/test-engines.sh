#!/usr/bin/env bash
# The isolation ladder's engines for the tests: gVisor's runsc, Podman and
# Docker (Debian's docker.io), installed without their recommended packages
# or starting their services; then dockerd, when none answers, with its
# data under the tests' state directory, no iptables rules and no bridge
# (mvm's containers have no network). When MVM_STARTED_DAEMONS names a
# file, a dockerd this script starts is added to it as "<pid> dockerd", for
# stop-daemons.sh, which stops it (and the containerd it runs) at the end.
# Idempotent: a dockerd that already answers is left as it is.
set -euo pipefail
state=${MVM_TEST_STATE_DIR:-/var/tmp/mvm-tests}
packages=(runsc podman docker.io)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing the isolation ladder's engines: ${missing[*]}"
  # shellcheck source=apt-quiet.sh
  . "$(dirname "${BASH_SOURCE[0]}")/apt-quiet.sh"
  apt_install_without_services "${missing[@]}"
fi
docker_answers() { /usr/bin/docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
docker_answers && exit 0
echo "==> starting dockerd (data root $state/docker)"
mkdir -p "$state/docker" /var/log/mvm-tests
pidfile=/run/mvm-tests-dockerd.pid
rm -f "$pidfile"
nohup dockerd --iptables=false --ip-masq=false --bridge=none --data-root "$state/docker" --pidfile "$pidfile" \
  >/var/log/mvm-tests/dockerd.log 2>&1 &
for _ in $(seq 1 150); do
  if docker_answers; then
    pid=$(cat "$pidfile")
    if [ -n "${MVM_STARTED_DAEMONS:-}" ]; then echo "$pid dockerd" >>"$MVM_STARTED_DAEMONS"; fi
    exit 0
  fi
  sleep 0.2
done
echo "error: dockerd did not answer within 30 s; see /var/log/mvm-tests/dockerd.log" >&2
exit 1
