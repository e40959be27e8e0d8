#!/usr/bin/env bash
# A private sshd for the remote-URI test (qemu+ssh://root@127.0.0.1:2222):
# listens on loopback only, with its own host key and its own authorized key
# under /var/tmp/mvm-tests/ssh; root's own ssh set-up is not touched.
# Idempotent.
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
if [ -f "$dir/sshd.pid" ] && kill -0 "$(cat "$dir/sshd.pid")" 2>/dev/null; then
  running=$(cat "$dir/sshd.pid")
fi
if [ -n "$running" ] && [ "$config" = "$(cat "$dir/sshd_config" 2>/dev/null)" ]; then
  exit 0
fi
[ -z "$running" ] || kill "$running"
printf '%s\n' "$config" > "$dir/sshd_config"
echo "==> starting a loopback-only sshd on 127.0.0.1:2222 for the qemu+ssh test"
/usr/sbin/sshd -f "$dir/sshd_config"
