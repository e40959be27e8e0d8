#!/usr/bin/env bash
# Soak test: boots SOAK_SEQUENTIAL micro-VMs and as many containers one after
# another (interleaved), then SOAK_PARALLEL of each at once, with mvm compare
# under TCG, in a state directory of its own. Then it checks that what those
# boots use is back where it started: open file descriptors, processes,
# libvirt domains, runc state, cgroup directories and the state directory.
# One line per check with the counts before and after; exit status 1 if
# anything leaked or a compare failed, 0 otherwise.
#
#   SOAK_SEQUENTIAL=50 SOAK_PARALLEL=8 bash scripts/soak.sh
#
# Environment: SOAK_SEQUENTIAL (50), SOAK_PARALLEL (8, at most 16),
# MVM_SOAK_STATE_DIR (/var/tmp/mvm-soak), MVM (.build/debug/mvm, built if
# missing), MVM_IMAGES (the guest images, as mvm reads it), SOAK_ALLOWANCE
# and SOAK_SETTLE (below).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sequential=${SOAK_SEQUENTIAL:-50}
parallel=${SOAK_PARALLEL:-8}
state=${MVM_SOAK_STATE_DIR:-/var/tmp/mvm-soak}
mvm=${MVM:-$repo/.build/debug/mvm}
instances=$((2 * sequential + 2 * parallel))
# System-wide counts (all open files, all processes) move with everything
# else on the host, so they may rise by this much: a quarter of the instances
# started, at least 8. A leak of one per VM or one per container exceeds it.
# Every other count belongs to mvm alone and must come back exactly.
allowance=${SOAK_ALLOWANCE:-$((instances / 4 > 8 ? instances / 4 : 8))}
# QEMU exits and libvirt and the kernel release what they held shortly after
# mvm returns, and other work on the host comes and goes: while a count is
# above its limit, every count is read again once a second, for at most this
# many seconds. Only what is still there then is a leak.
settle=${SOAK_SETTLE:-30}

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run this as root: it boots VMs and containers"
case "$sequential$parallel" in *[!0-9]*) die "SOAK_SEQUENTIAL and SOAK_PARALLEL must be numbers" ;; esac
if [ "$sequential" -lt 1 ] || [ "$parallel" -lt 1 ]; then die "SOAK_SEQUENTIAL and SOAK_PARALLEL must be at least 1"; fi
case "$allowance$settle" in *[!0-9]*) die "SOAK_ALLOWANCE and SOAK_SETTLE must be numbers" ;; esac

if [ ! -x "$mvm" ]; then
  echo "==> swift build (debug)"
  (cd "$repo" && swift build) >&2
fi
if [ -z "${MVM_IMAGES:-}" ] && [ ! -f "$repo/images/out/manifest.json" ]; then
  echo "==> building guest images (images/build.sh)"
  bash "$repo/images/build.sh" >&2
fi

state=${state%/}
runc_root=$state/runc
# libvirt names the cgroups of an embedded driver's domains
# qemu-embed-<first 8 hex digits of sha256(root)>-<id>-<name>.
embed_hash=$(printf '%s' "$state/libvirt" | sha256sum | cut -c1-8)

# ---- the counts ----------------------------------------------------------

# Number of lines on stdin that are not empty.
count_lines() { grep -c . || true; }

# The smallest of five readings 0.2 s apart: a leak shows in every reading,
# the passing processes of other work only in some.
min_of_five() {
  local min='' value _
  for _ in 1 2 3 4 5; do
    value=$("$@")
    if [ -z "$min" ] || [ "$value" -lt "$min" ]; then min=$value; fi
    sleep 0.2
  done
  echo "$min"
}
# shellcheck disable=SC2317 # called through min_of_five
open_files() { local allocated _; read -r allocated _ </proc/sys/fs/file-nr; echo "$allocated"; }
# shellcheck disable=SC2317 # called through min_of_five
all_processes() { local n=0 _; for _ in /proc/[0-9]*; do n=$((n + 1)); done; echo "$n"; }

# Open descriptors of each process named $1 (long-lived daemons).
daemon_fds() {
  local n=0 pid
  for pid in $(pgrep -x "$1" || true); do
    n=$((n + $({ ls -U /proc/"$pid"/fd 2>/dev/null || true; } | wc -l)))
  done
  echo "$n"
}

# Processes whose comm matches $1 (a pgrep pattern) and whose command line
# contains $2: QEMU started by this state directory's embedded driver, runc
# run with this state directory's --root.
processes_mentioning() {
  local n=0 pid
  for pid in $(pgrep "$1" || true); do
    if grep -qaF -- "$2" /proc/"$pid"/cmdline 2>/dev/null; then n=$((n + 1)); fi
  done
  echo "$n"
}

# Processes in the cgroups of mvm's containers (cgroupsPath /mvm/<id>), of
# any state directory: runc names the cgroup after the container, not after
# its state root.
container_processes() {
  { find /sys/fs/cgroup -path '*/mvm/mvm-*' -name cgroup.procs -exec cat {} + 2>/dev/null || true; } | sort -u | count_lines
}

# Entries below a directory of the state directory (0 when it is missing).
entries() { if [ -d "$1" ]; then find "$1" -mindepth 1 | count_lines; else echo 0; fi; }

# Every file (anything but a directory) in the state directory except two
# subtrees that persist by design and that no instance owns:
#  - libvirt/cache: the embedded driver's QEMU capability cache, written on
#    the first probe of a root and rewritten when QEMU or libvirt changes;
#  - images: the copies of the guest images mvm stages once per version of
#    the images where QEMU's and the container's users can read them.
# Directories are not counted: consoles/, bundles/ and libvirt's own layout
# are made once, when first needed, and kept. The files the driver keeps for
# its whole life (etc/qemu.conf, run/qemu/driver.pid, libvirt-client.log)
# exist from the first count on: `mvm list` opens the driver before it.
state_files() {
  if [ -d "$state" ]; then
    find "$state" \( -path "$state/libvirt/cache" -o -path "$state/images" \) -prune -o ! -type d -print | sort
  fi
}

# Reads every count into count[<phase>/<check>] (phase: before or after)
# and the names of the checks, in order, into `checks`.
measure() {
  local phase=$1
  checks=()
  add() { checks+=("$1"); count["$phase/$1"]=$2; }

  add "fds: system-wide (file-nr)" "$(min_of_five open_files)"
  # The daemons first: `virsh` below is one of their clients while it runs.
  local daemon
  for daemon in virtlogd libvirtd; do
    if pgrep -x "$daemon" >/dev/null || [ -n "${count["before/fds: $daemon"]:-}" ]; then
      add "fds: $daemon" "$(daemon_fds "$daemon")"
    fi
  done
  add "processes: all" "$(min_of_five all_processes)"
  add "processes: qemu-system-* of this state dir" "$(processes_mentioning '^qemu-system-' "$state/")"
  add "processes: runc with this --root" "$(processes_mentioning '^runc$' "$runc_root")"
  add "processes: in mvm container cgroups" "$(container_processes)"
  # `mvm list` also opens the embedded driver, which creates its root.
  local listed
  listed=$("$mvm" list --state-dir "$state") || die "mvm list --state-dir $state failed"
  add "domains: embedded (mvm list)" "$(grep -c '  vm$' <<<"$listed" || true)"
  if pgrep -x libvirtd >/dev/null || [ -n "${count["before/domains: qemu:///system mvm-*"]:-}" ]; then
    add "domains: qemu:///system mvm-*" "$(virsh -c qemu:///system list --all --name 2>/dev/null | grep -c '^mvm-' || true)"
  fi
  add "runc state: runc list (this --root)" "$(runc --root "$runc_root" list -q 2>/dev/null | count_lines)"
  add "cgroups: *mvm-* (all)" "$(find /sys/fs/cgroup -type d -name '*mvm-*' 2>/dev/null | count_lines)"
  add "cgroups: qemu-embed-$embed_hash-* (this driver)" "$(find /sys/fs/cgroup -type d -name "qemu-embed-$embed_hash-*" 2>/dev/null | count_lines)"
  add "state: consoles/ entries" "$(entries "$state/consoles")"
  add "state: bundles/ entries" "$(entries "$state/bundles")"
  state_files >"$logs/state-files.$phase"
  add "state: files (not libvirt/cache, images)" "$(count_lines <"$logs/state-files.$phase")"
}

# A check that appeared only after (a daemon started meanwhile) had 0 before.
before_of() { echo "${count["before/$1"]:-0}"; }
after_of() { echo "${count["after/$1"]}"; }
limit_of() {
  case "$1" in
    "fds: system-wide (file-nr)" | "processes: all") echo $(($(before_of "$1") + allowance)) ;;
    *) before_of "$1" ;;
  esac
}

leaks() {
  local check n=0
  for check in "${checks[@]}"; do
    [ "$(after_of "$check")" -le "$(limit_of "$check")" ] || n=$((n + 1))
  done
  echo "$n"
}

# ---- the soak ------------------------------------------------------------

declare -A count=()
declare -a checks=()
mkdir -p "$state"
logs=$(mktemp -d /tmp/mvm-soak.XXXXXX)

echo "==> mvm soak: $sequential VMs and $sequential containers one after another, then $parallel of each at once"
echo "    state directory $state; the compares' output goes to $logs"
measure before

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f s", b - a }'; }
start=$(now)
failed=()
# compare exits 2 when a run failed; the checks run whatever happened.
run_compare() {
  local label=$1 status=0
  shift
  echo "==> $label: mvm compare $*"
  "$mvm" compare --state-dir "$state" "$@" >"$logs/$label.txt" 2>&1 || status=$?
  if [ "$status" != 0 ]; then
    failed+=("$label (exit $status)")
    # The failed runs with their reasons, or an error, else the last lines.
    echo "    exit status $status:"
    { grep -E '^[a-z-]+: [0-9]+ failed runs?: |^[Ee]rror' "$logs/$label.txt" || tail -n 15 "$logs/$label.txt"; } | sed 's/^/    | /'
  fi
}
run_compare sequential --no-reference -n "$sequential" --warmup 0 --accel tcg
after_sequential=$(now)
run_compare parallel --no-reference -n 1 --warmup 0 --concurrency "$parallel" --accel tcg
finish=$(now)

measure after
reads=1
settle_start=$(now)
deadline=$((SECONDS + settle))
while [ "$(leaks)" != 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
  sleep 1
  measure after
  reads=$((reads + 1))
done

echo
echo "wall time: $(seconds "$start" "$finish") ($(seconds "$start" "$after_sequential") one after another, $(seconds "$after_sequential" "$finish") at once)"
for label in sequential parallel; do
  printf '%-12s%s\n' "$label:" "$(grep -m1 '^ok runs' "$logs/$label.txt" || echo "no table (see $logs/$label.txt)")"
done
if [ "$reads" -gt 1 ]; then
  echo "after: read $reads times over $(seconds "$settle_start" "$(now)") until nothing was above its limit, or $settle s passed"
fi
echo
printf '%-50s %8s %8s  %s\n' check before after verdict
leaked=()
for check in "${checks[@]}"; do
  limit=$(limit_of "$check")
  verdict=ok
  if [ "$(after_of "$check")" -gt "$limit" ]; then verdict=LEAK; leaked+=("$check"); fi
  note=''
  [ "$limit" = "$(before_of "$check")" ] || note=" (may rise by $allowance: shared with the host)"
  printf '%-50s %8s %8s  %s%s\n' "$check" "$(before_of "$check")" "$(after_of "$check")" "$verdict" "$note"
done
new_files=$(comm -13 "$logs/state-files.before" "$logs/state-files.after")
if [ -n "$new_files" ]; then
  echo "new files in $state:"
  head -n 5 <<<"$new_files" | sed 's/^/  /'
  [ "$(count_lines <<<"$new_files")" -le 5 ] || echo "  and $(($(count_lines <<<"$new_files") - 5)) more"
fi
echo
if [ ${#leaked[@]} -eq 0 ] && [ ${#failed[@]} -eq 0 ]; then
  echo "soak ok: $instances instances started, nothing leaked"
  exit 0
fi
[ ${#failed[@]} -eq 0 ] || echo "soak FAILED: a compare failed: ${failed[*]}"
[ ${#leaked[@]} -eq 0 ] || echo "soak LEAK: ${#leaked[@]} of ${#checks[@]} checks did not come back"
exit 1
