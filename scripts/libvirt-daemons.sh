#!/usr/bin/env bash
# Starts libvirt's daemons where nothing else does (no systemd): virtlogd
# first, since libvirtd cannot start domains without it. Idempotent.
set -euo pipefail
mkdir -p /run/libvirt /var/log/libvirt
if ! pgrep -x virtlogd >/dev/null; then
  echo "==> starting virtlogd"
  virtlogd -d
fi
if ! pgrep -x libvirtd >/dev/null; then
  echo "==> starting libvirtd"
  libvirtd -d
fi
# Wait until the daemon answers (it probes QEMU once on start).
for _ in $(seq 1 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && exit 0
  sleep 0.2
done
echo "error: libvirtd did not answer on qemu:///system within 20 s; see /var/log/libvirt" >&2
exit 1
