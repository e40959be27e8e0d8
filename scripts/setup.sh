#!/usr/bin/env bash
# Installs what mvm needs on a Debian 12 machine, idempotently, and says what
# it does. Sourced by run-main.sh and run-tests.sh; safe to run on its own.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run this as root (sudo $0): it installs packages and boots VMs"

# Debian packages: libvirt (library, daemon, clients), QEMU, OCI runtimes,
# image build tools (umoci and skopeo unpack a user's OCI image for --image,
# debootstrap builds images/build.sh --debian-oci), benchmark tools, SQLite for the history store. With their recommended packages, as
# apt installs them by default: that is the set-up the tests are run on.
packages=(
  libvirt-dev libvirt-daemon-system libvirt-clients libxml2-utils libsqlite3-dev
  qemu-system-x86 runc crun busybox-static cpio lz4 xz-utils
  linux-source-6.1 bc flex bison libelf-dev libssl-dev make gcc
  hyperfine git jq umoci skopeo debootstrap
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "Debian packages already installed"
fi

command -v swift >/dev/null || die "the Swift toolchain is not on PATH (expected swift 6.x, e.g. /opt/swift/usr/bin)"

# What udev does on an ordinary host: without it /dev/kvm stays root-only and
# libvirt re-probes QEMU on every look-up (tens of seconds per domain).
if [ -e /dev/kvm ]; then
  getent group kvm >/dev/null || groupadd --system kvm
  if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
    say "giving /dev/kvm to group kvm, mode 0660"
    chgrp kvm /dev/kvm
    chmod 0660 /dev/kvm
  fi
fi

say "building guest images (images/build.sh)"
bash "$repo/images/build.sh"
