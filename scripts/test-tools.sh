#!/usr/bin/env bash
# What the tests of the nightly jobs read their output with: headless
# Chromium (opens the HTML report) and Prometheus' node_exporter (scrapes the
# textfile). Installed without starting node_exporter's service: the test
# starts its own on loopback. Idempotent.
set -euo pipefail
packages=(chromium prometheus-node-exporter)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> installing test tools: ${missing[*]}"
# policy-rc.d (Debian's invoke-rc.d policy) keeps the packages' services from
# starting at install time; removed again whatever happens.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  created_policy=true
fi
trap 'if [ "$created_policy" = true ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
