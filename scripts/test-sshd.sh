#!/usr/bin/env bash
# A private sshd for the remote-URI test (qemu+ssh://root@127.0.0.1:2222):
# listens on loopback only, with its own host key and its own authorized key
# under /var/tmp/mvm-tests/ssh; root's own ssh set-up is not touched.
# Idempotent: an sshd that already runs with this configuration is left as it
# is. When MVM_STARTED_DAEMONS names a file and no such sshd ran, the one this
# script starts is added to it as "<pid> sshd", for stop-daemons.sh.
set -euo pipefail
dir=/var/tmp/mvm-tests/ssh
if ! dpkg-query -W -f='${Status}' openssh-server 2>/dev/null | grep -q 'install ok installed'; then
  echo "==> installing openssh-server (for the qemu+ssh test)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
fi
mkdir -p "$dir" /run/sshd
chmod 700 "$dir"
[ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
[ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
install -m 600 "$dir/client_key.pub" "$dir/authorized_keys"
# StrictModes would refuse the key files: /var/tmp above them is
# world-writable (sticky). The files themselves are root's, mode 0600/0700.
config=$(cat <<CONFIG
ListenAddress 127.0.0.1
Port 2222
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PidFile $dir/sshd.pid
StrictModes no
CONFIG
)
running=
# The pid file's process, if it still runs and is an sshd (pids are reused).
if [ -f "$dir/sshd.pid" ] && [ "$(cat /proc/"$(cat "$dir/sshd.pid")"/comm 2>/dev/null)" = sshd ]; then
  running=$(cat "$dir/sshd.pid")
fi
if [ -n "$running" ] && [ "$config" = "$(cat "$dir/sshd_config" 2>/dev/null)" ]; then
  exit 0
fi
if [ -n "$running" ]; then
  # An older configuration: replaced, and the new one is left running after
  # the tests as the old one would have been. It must free the port first.
  kill "$running"
  for _ in $(seq 1 100); do kill -0 "$running" 2>/dev/null || break; sleep 0.1; done
fi
rm -f "$dir/sshd.pid"
printf '%s\n' "$config" > "$dir/sshd_config"
echo "==> starting a loopback-only sshd on 127.0.0.1:2222 for the qemu+ssh test"
/usr/sbin/sshd -f "$dir/sshd_config"
# sshd writes its pid file once it has detached.
pid=''
for _ in $(seq 1 100); do
  pid=$(cat "$dir/sshd.pid" 2>/dev/null || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
[ -n "$pid" ] || { echo "error: sshd wrote no pid file $dir/sshd.pid within 10 s" >&2; exit 1; }
if [ -z "$running" ] && [ -n "${MVM_STARTED_DAEMONS:-}" ]; then echo "$pid sshd" >>"$MVM_STARTED_DAEMONS"; fi
