#!/usr/bin/env bash
# Starts libvirt's daemons where nothing else does (no systemd): virtlogd
# first, since libvirtd cannot start domains without it. Idempotent: a daemon
# that already runs is left as it is. When MVM_STARTED_DAEMONS names a file,
# each daemon this script starts is added to it as "<pid> <name>", for
# stop-daemons.sh.
set -euo pipefail
mkdir -p /run/libvirt /var/log/libvirt

# Waits for the pid file $2 of the daemon $1 just started with -d, and
# records that pid.
record_started() {
  local pid=''
  for _ in $(seq 1 100); do
    pid=$(cat "$2" 2>/dev/null || true)
    [ -n "$pid" ] && [ "$(cat /proc/"$pid"/comm 2>/dev/null)" = "$1" ] && break
    pid=''
    sleep 0.1
  done
  [ -n "$pid" ] || { echo "error: $1 wrote no pid file $2 within 10 s" >&2; exit 1; }
  if [ -n "${MVM_STARTED_DAEMONS:-}" ]; then echo "$pid $1" >>"$MVM_STARTED_DAEMONS"; fi
}

if ! pgrep -x virtlogd >/dev/null; then
  echo "==> starting virtlogd"
  virtlogd -d
  record_started virtlogd /run/virtlogd.pid
fi
if ! pgrep -x libvirtd >/dev/null; then
  echo "==> starting libvirtd"
  libvirtd -d
  record_started libvirtd /run/libvirtd.pid
fi
# Wait until the daemon answers (it probes QEMU once on start).
for _ in $(seq 1 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "error: libvirtd did not answer on qemu:///system within 20 s; see /var/log/libvirt" >&2
exit 1
