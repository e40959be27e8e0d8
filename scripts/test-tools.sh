#!/usr/bin/env bash
# What the tests read mvm's output with, or fault it with: headless
# Chromium (opens the HTML report), Prometheus' node_exporter (scrapes the
# textfile), tmux (a terminal the console tests type into), sqlite3 (holds
# a history file's write lock), opentelemetry-proto (parses the OTLP
# trace file), procps and passwd (the ordinary-user tests
# make a user, then list and kill its processes). Installed without starting node_exporter's
# service: the test starts its own on loopback. Idempotent.
set -euo pipefail
# The official OpenTelemetry protobufs, from PyPI: the trace tests parse
# mvm's OTLP file with them (scripts/check-otlp.py).
if ! python3 -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null; then
  echo "==> installing opentelemetry-proto (PyPI)"
  python3 -m pip install --quiet --root-user-action=ignore 'opentelemetry-proto>=1.20'
fi
packages=(chromium prometheus-node-exporter tmux sqlite3 procps passwd)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> installing test tools: ${missing[*]}"
# shellcheck source=apt-quiet.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-quiet.sh"
apt_install_without_services "${missing[@]}"
