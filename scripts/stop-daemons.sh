#!/usr/bin/env bash
# Stops the daemons listed in FILE, one "<pid> <name>" line each, as
# libvirt-daemons.sh and test-sshd.sh record the ones they start when
# MVM_STARTED_DAEMONS names FILE: the last started first, each by its pid,
# waiting until it is gone. A pid that no longer runs that name (it ended,
# and the pid may since be another process's) is left alone. Used by
# run-tests.sh when it ends, so what was already running is never stopped.
# A postmaster ("postgres", from test-postgres.sh) gets SIGINT, PostgreSQL's
# fast shutdown: SIGTERM's smart shutdown would wait for every client, and
# SIGKILL would leave the cluster to crash recovery.
set -euo pipefail
file=${1:?usage: stop-daemons.sh FILE}
[ -s "$file" ] || exit 0

# The process runs and is named $2 (a zombie counts as gone).
runs() {
  local stat state
  stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 1
  state=${stat##*) }
  [ "${state%% *}" != Z ] && [ "$(cat /proc/"$1"/comm 2>/dev/null)" = "$2" ]
}
# Waits up to $3 tenths of a second for pid $1 (named $2) to be gone.
gone_within() {
  local _
  for _ in $(seq 1 "$3"); do
    runs "$1" "$2" || return 0
    sleep 0.1
  done
  ! runs "$1" "$2"
}

tac "$file" | while read -r pid name; do
  runs "$pid" "$name" || continue
  echo "==> stopping $name (pid $pid), started for the tests"
  signal=TERM
  [ "$name" = postgres ] && signal=INT
  kill -"$signal" "$pid" 2>/dev/null || continue
  gone_within "$pid" "$name" 100 && continue
  echo "warning: $name (pid $pid) still runs 10 s after SIG$signal; sending SIGKILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
  gone_within "$pid" "$name" 50 || echo "warning: $name (pid $pid) still runs after SIGKILL" >&2
done
