#!/usr/bin/env bash
# mvm's performance benchmark: measures, side by side and interleaved, what
# mvm adds to what it measures and what its micro-VM costs, checks each
# figure against its target, and writes BENCHMARKS.md (or $BENCH_OUT).
# Installs what it needs like the README's commands (scripts/setup.sh), builds
# mvm in release mode, and runs as root on the machine it describes. Targets
# live here, never in timed unit tests.
#   BENCH_RUNS      runs of the main comparisons (default 10)
#   BENCH_ROUNDS    rounds of the qemu.conf lever experiments (default 6)
#   BENCH_AB_RUNS   runs a side of each guest lever's `mvm ab` (default 12:
#                   TCG boots spread by about 0.1 s, and with 5 a side no
#                   permutation test goes below p = 0.008)
#   MVM_BENCH_STATE_DIR   state directory (default /var/tmp/mvm-bench)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
echo "==> swift build -c release"
swift build -c release 2>&1 | grep --line-buffered -E 'error|warning:|Build complete' || true
mvm="$repo/.build/release/mvm"
[ -x "$mvm" ] || { echo "error: swift build -c release failed" >&2; exit 1; }

RUNS=${BENCH_RUNS:-10}
ROUNDS=${BENCH_ROUNDS:-6}
AB_RUNS=${BENCH_AB_RUNS:-12}
STATE=${MVM_BENCH_STATE_DIR:-/var/tmp/mvm-bench}
OUT=${BENCH_OUT:-$repo/BENCHMARKS.md}
work=$(mktemp -d /tmp/mvm-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
say() { printf '==> %s\n' "$*"; }
now() { date +%s.%N; }
mvmc() { "$mvm" "$@" --state-dir "$STATE"; }

# jq helpers over a compare JSON: a contender's median of a metric, and the
# sum of every instance's time to ready (warm-ups included: they ran too).
median() { jq -r --arg c "$2" --arg m "$3" '.summary.contenders[] | select(.name == $c) | .metrics[] | select(.name == $m) | .summary.median' "$1"; }
sum_ready() { jq -r '[.samples[] | select(.ok) | .phases.ready] | add' "$1"; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
ms() { calc "$1 * 1000" 1; }
mib() { calc "$1 / 1048576" 1; }
verdict() { awk -v v="$1" -v t="$2" -v dir="${3:-le}" 'BEGIN { ok = (dir == "le") ? (v <= t) : (v >= t); print ok ? "met" : "**not met**" }'; }

# The first connection to a new embedded root probes QEMU for seconds: done
# once here, so that no figure below counts it.
say "warming the embedded driver's capability cache in $STATE"
mvmc boot >/dev/null

# --- 1. The main comparison: what libvirt and mvm add, and the wall time.
say "mvm compare -n $RUNS (vm, container, qemu-direct, runc-direct)"
start=$(now)
mvmc compare -n "$RUNS" --export-json "$work/main.json" >"$work/main.txt"
wall=$(calc "$(now) - $start")
vm_ready=$(median "$work/main.json" vm ready)
qd_ready=$(median "$work/main.json" qemu-direct ready)
c_ready=$(median "$work/main.json" container ready)
rd_ready=$(median "$work/main.json" runc-direct ready)
vm_started=$(median "$work/main.json" vm started)
vm_pss=$(median "$work/main.json" vm pss)
qd_pss=$(median "$work/main.json" qemu-direct pss)
sum=$(sum_ready "$work/main.json")
vm_over_qd=$(calc "$vm_ready / $qd_ready")
c_over_rd=$(calc "$c_ready / $rd_ready")
wall_over_sum=$(calc "$wall / $sum")

# --- 2. The stock VM and the warm pool, interleaved with the micro-VM.
say "mvm compare -n $RUNS --no-reference --stock --warm"
mvmc compare -n "$RUNS" --no-reference --stock --warm --export-json "$work/stock.json" >"$work/stock.txt"
vm2_ready=$(median "$work/stock.json" vm ready)
stock_ready=$(median "$work/stock.json" vm-stock ready)
warm_ready=$(median "$work/stock.json" vm-warm ready)
warm_uptime=$(jq -r '[.samples[] | select(.contender == "vm-warm" and .ok and (.warmup | not)) | .guest.uptimeSeconds] | sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end' "$work/stock.json")
warm_ratio=$(jq -r '[.samples[] | select(.contender == "vm-warm" and .ok and (.warmup | not)) | .phases.ready / .guest.uptimeSeconds] | sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end' "$work/stock.json")
vm_over_stock=$(calc "$vm2_ready / $stock_ready")

# --- 3. Density: 16 of each at once.
say "mvm compare -n 3 --no-reference --concurrency 16"
mvmc compare -n 3 --warmup 0 --no-reference --concurrency 16 --export-json "$work/dense.json" >"$work/dense.txt" || true
dense_ok_vm=$(jq -r '[.samples[] | select(.contender == "vm" and .ok)] | length' "$work/dense.json")
dense_ok_c=$(jq -r '[.samples[] | select(.contender == "container" and .ok)] | length' "$work/dense.json")
dense_all=$(jq -r '[.samples[] | select(.contender == "vm")] | length' "$work/dense.json")
dense_vm_pss=$(median "$work/dense.json" vm pss)
dense_vm_ready=$(median "$work/dense.json" vm all-ready)
dense_c_ready=$(median "$work/dense.json" container all-ready)
dense_ratio=$(calc "$dense_vm_pss / $vm_pss")

# --- 4. Teardown, as the teardown dimension measures it.
say "mvm compare --dimensions teardown"
mvmc compare --dimensions teardown --teardown-runs 5 --export-json "$work/teardown.json" >"$work/teardown.txt"
td() { jq -r --arg s "$1" --arg f "$2" '.dimensions.teardown.figures[] | select(.side == $s) | .[$f].summary.median' "$work/teardown.json"; }
vm_stop=$(td vm stopReturned); vm_released=$(td vm released)
c_stop=$(td container stopReturned); c_released=$(td container released)

# --- 5. Levers, each an `mvm ab` run: A is mvm's defaults, B the lever, the
# two interleaved in a shuffled order, judged by a permutation test of the
# means (p < 0.01) past a 5 % threshold. Each line: label, then B's options.
levers=(
  "QEMU's default tb-size (1 GiB)|--b-tb-size 0"
  "tb-size 32 MiB|--b-tb-size 32"
  "tb-size 16 MiB|--b-tb-size 16"
  "tb-size 8 MiB|--b-tb-size 8"
  "noapictimer|--b-append noapictimer"
  "noapictimer tsc=reliable|--b-append noapictimer --b-append tsc=reliable"
  "tsc=reliable lpj=4000000|--b-append tsc=reliable --b-append lpj=4000000"
)
say "levers: ${#levers[@]} mvm ab runs of $AB_RUNS runs a side"
for index in "${!levers[@]}"; do
  IFS='|' read -r label arguments <<<"${levers[$index]}"
  # Exit status 1 says that B regressed: a finding, not a failure.
  # shellcheck disable=SC2086 # the arguments are words
  mvmc ab -n "$AB_RUNS" $arguments --export-json "$work/lever-$index.json" >/dev/null || [ $? -eq 1 ]
done
# lever_result INDEX METRIC FIELD: meanA, meanB, relativeChange, pValue, outcome.
lever_result() { jq -r --arg m "$2" --arg f "$3" '.results[] | select(.metric == $m) | .[$f]' "$work/lever-$1.json"; }
lever_change() {
  local change p outcome
  change=$(lever_result "$1" "$2" relativeChange); p=$(lever_result "$1" "$2" pValue)
  outcome=$(lever_result "$1" "$2" outcome)
  printf '%+.1f %% (p %s, %s)' "$(calc "$change * 100" 2)" "$(awk -v p="$p" 'BEGIN { if (p < 0.001) print "< 0.001"; else printf "= %.3f", p }')" \
    "$([ "$outcome" = same ] && echo "no difference past 5 %" || echo "$outcome")"
}

# --- 6. Idle CPU of a kept VM, with and without noapictimer, 10 s each.
idle_cpu() {
  local name pid before after ticks
  # shellcheck disable=SC2086
  mvmc boot --keep --json $1 >"$work/kept.json"
  name=$(jq -r .name "$work/kept.json")
  pid=$(jq -r .qemuPID "$work/kept.json")
  sleep 2
  before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  sleep 10
  after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
  ticks=$(getconf CLK_TCK)
  mvmc destroy "$name" >/dev/null
  calc "($after - $before) / $ticks / 10 * 100" 2
}
# Three kept VMs per setting, interleaved: a guest's idle cost varies from
# boot to boot (its clocksource is chosen at boot).
say "idle CPU of kept micro-VMs, 3 x 10 s per setting"
idle_default=() idle_noapic=() idle_noapic_tsc=()
for _ in 1 2 3; do
  idle_default+=("$(idle_cpu "")")
  idle_noapic+=("$(idle_cpu "--append noapictimer")")
  idle_noapic_tsc+=("$(idle_cpu "--append noapictimer --append tsc=reliable")")
done

# --- 7. The embedded driver's qemu.conf: namespaces, cgroups, seccomp off.
say "qemu.conf levers: $ROUNDS rounds"
: >"$work/conf.tsv"
confs=("" "namespaces = []" "cgroup_controllers = []" "seccomp_sandbox = 0")
for round in $(seq "$ROUNDS"); do
  for index in "${!confs[@]}"; do
    MVM_EMBEDDED_QEMU_CONF_EXTRA="${confs[$index]}" "$mvm" boot --json --state-dir "$STATE" >"$work/boot.json"
    jq -r --arg i "$index" '[$i, (.phases[] | select(.phase == "started") | .seconds), (.phases[] | select(.phase == "ready") | .seconds)] | @tsv' "$work/boot.json" >>"$work/conf.tsv"
  done
done
"$mvm" boot --state-dir "$STATE" >/dev/null  # leave mvm's own qemu.conf behind
conf_median() { awk -F'\t' -v i="$1" -v c="$2" '$1 == i { print $c }' "$work/conf.tsv" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- 8. Where an idle micro-VM's PSS goes (/proc/PID/smaps).
say "PSS breakdown of an idle micro-VM"
mvmc boot --keep --json >"$work/kept.json"
name=$(jq -r .name "$work/kept.json")
pid=$(jq -r .qemuPID "$work/kept.json")
sleep 2
# A mapping's header line names its file (or nothing: anonymous); its Size
# line comes before its Pss line. Anonymous and executable: the code TCG
# generates; anonymous of exactly the guest's size: its RAM.
awk -v mem="$((128 * 1024))" '
  /^[0-9a-f]+-[0-9a-f]+ / { perms = $2; path = (NF >= 6) ? $6 : ""; next }
  /^Size:/ {
    size = $2
    if (path ~ /qemu-system/) part = "the QEMU binary"
    else if (path ~ /\.so/) part = "shared libraries"
    else if (path ~ /vmlinux|bzImage/) part = "the kernel file, still mapped"
    else if (path ~ /initramfs/) part = "the initramfs file"
    else if (path == "[heap]") part = "heap"
    else if (path == "" && perms ~ /x/) part = "TCG translation buffer"
    else if (path == "" && size == mem) part = "guest RAM touched"
    else if (path == "") part = "other anonymous memory (thread stacks, QEMU state)"
    else part = "other files"
    next
  }
  /^Pss:/ { pss[part] += $2 }
  END { for (p in pss) printf "%s\t%.1f\n", p, pss[p] / 1024 }
' "/proc/$pid/smaps" | sort -t$'\t' -k2 -g -r >"$work/pss.tsv"
mvmc destroy "$name" >/dev/null

# --- 9. Where a domain start goes: mvm's own trace of one boot (libvirt's
# debug log for its steps, the kernel's console timestamps, the init's marks).
say "mvm boot --trace"
mvmc boot --trace --json >"$work/trace.json"
# Step rows: "layer<TAB>name<TAB>detail<TAB>ms", top-level spans first, then
# the steps of 1 ms or more under them, in time order.
jq -r '.trace.spans | to_entries | map(.value + {index: .key}) as $spans
  | $spans[] | select(.parent == null) as $top
  | ([$top] + [$spans[] | select(.parent == $top.index and (.end - .start) >= 0.001)])[]
  | [.layer, (if .parent == null then "**" + .name + "**" else .name end), (.detail // ""), ((.end - .start) * 1000 | floor)] | @tsv' \
  "$work/trace.json" >"$work/trace.tsv"
trace_ready=$(jq -r '.trace.ready' "$work/trace.json")
trace_coverage=$(jq -r '.trace.spans | length' "$work/trace.json")

# --- BENCHMARKS.md
say "writing $OUT"
host_cpu=$(jq -r .environment.cpuModel "$work/main.json")
host_cores=$(jq -r .environment.cores "$work/main.json")
host_mem=$(jq -r '.environment.memoryBytes / 1073741824 | floor' "$work/main.json")
host_kernel=$(jq -r .environment.hostKernel "$work/main.json")
accel=$(jq -r '.environment.accelerator + " (" + .environment.acceleratorReason + ")"' "$work/main.json")
versions=$(jq -r '.environment.versions | to_entries | map(.key + " " + .value) | join(", ")' "$work/main.json")
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "# mvm benchmarks"
  echo
  echo "Written by \`scripts/bench.sh\` on $(date -u +%Y-%m-%d) from commit \`$commit\`. Reproduce with"
  echo "\`sudo bash scripts/bench.sh\` (\`BENCH_RUNS=$RUNS BENCH_ROUNDS=$ROUNDS BENCH_AB_RUNS=$AB_RUNS\`). Every ratio comes from one run in which"
  echo "its two sides were interleaved; the machine is shared and noisy, so read ratios rather than absolute times."
  echo
  echo "**Machine:** $host_cpu, $host_cores cores, $host_mem GiB, kernel $host_kernel; $versions."
  echo "**Accelerator:** $accel. Guests: 128 MiB, 1 vCPU."
  echo
  echo "## Targets"
  echo
  echo "| figure | measured | target | |"
  echo "| --- | --- | --- | --- |"
  echo "| \`vm\` ready ÷ \`qemu-direct\` ready (what libvirt and mvm add) | $(ms "$vm_ready") / $(ms "$qd_ready") ms = $(calc "$vm_over_qd" 2) | ≤ 1.15 | $(verdict "$vm_over_qd" 1.15) |"
  echo "| \`container\` ready ÷ \`runc-direct\` ready | $(ms "$c_ready") / $(ms "$rd_ready") ms = $(calc "$c_over_rd" 2) | ≤ 1.10 | $(verdict "$c_over_rd" 1.10) |"
  echo "| micro-VM ready under TCG | $(ms "$vm_ready") ms | ≤ 450 ms | $(verdict "$vm_ready" 0.45) |"
  echo "| micro-VM ÷ stock VM (\`--stock\`) | $(ms "$vm2_ready") / $(ms "$stock_ready") ms = $(calc "$vm_over_stock" 2) | ≤ 0.30 | $(verdict "$vm_over_stock" 0.30) |"
  echo "| idle micro-VM host PSS | $(mib "$vm_pss") MiB | ≤ 48 MiB | $(verdict "$(mib "$vm_pss")" 48) |"
  echo "| \`mvm compare -n $RUNS\` wall time ÷ the sum of all times to ready | $(calc "$wall" 1) s / $(calc "$sum" 1) s = $(calc "$wall_over_sum" 2) | ≤ 1.3 | $(verdict "$wall_over_sum" 1.3) |"
  echo "| \`--concurrency 16\`, both sides: all ready | vm $dense_ok_vm/$dense_all, container $dense_ok_c/$dense_all | all | $( [ "$dense_ok_vm" = "$dense_all" ] && [ "$dense_ok_c" = "$dense_all" ] && echo met || echo '**not met**') |"
  echo "| \`--concurrency 16\`: PSS per VM ÷ one VM alone | $(mib "$dense_vm_pss") / $(mib "$vm_pss") MiB = $(calc "$dense_ratio" 2) | ≤ 1.1 | $(verdict "$dense_ratio" 1.1) |"
  echo "| \`vm-warm\` (\`--warm\`) request to ready ÷ the guest's own boot time | median of ready/uptime per run: $(calc "$warm_ratio" 3) ($(ms "$warm_ready") ms; guest uptime $(ms "$warm_uptime") ms) | ≤ 1.05 | $(verdict "$warm_ratio" 1.05) |"
  echo
  echo "16 at once: all VMs ready in $(ms "$dense_vm_ready") ms, all containers in $(ms "$dense_c_ready") ms (medians of 3 batches)."
  echo
  echo "## Teardown"
  echo
  echo "The teardown dimension (\`mvm compare --dimensions teardown\`, 5 runs per side):"
  echo
  echo "| | vm | container |"
  echo "| --- | --- | --- |"
  echo "| stop() returned | $(ms "$vm_stop") ms | $(ms "$c_stop") ms |"
  echo "| every host resource released | $(ms "$vm_released") ms | $(ms "$c_released") ms |"
  echo
  echo "## Levers on the guest and TCG (\`mvm ab\`: A mvm's defaults, B the lever, $AB_RUNS runs a side, interleaved; means)"
  echo
  echo "| B's lever | A ready | B ready | ready: B against A | PSS: B against A |"
  echo "| --- | --- | --- | --- | --- |"
  for index in "${!levers[@]}"; do
    IFS='|' read -r label arguments <<<"${levers[$index]}"
    echo "| $label (\`$arguments\`) | $(ms "$(lever_result "$index" ready meanA)") ms | $(ms "$(lever_result "$index" ready meanB)") ms | $(lever_change "$index" ready) | $(lever_change "$index" pss) |"
  done
  echo
  echo "Idle CPU of a kept micro-VM's QEMU, % of a core over 10 s, three VMs per setting: as shipped ${idle_default[*]};"
  echo "with \`noapictimer\` ${idle_noapic[*]}; with \`noapictimer tsc=reliable\` ${idle_noapic_tsc[*]}."
  echo
  echo "## Levers on libvirt's embedded driver (\`qemu.conf\`, $ROUNDS rounds, interleaved; medians)"
  echo
  echo "| qemu.conf line | started (virDomainCreateXML returned) | ready |"
  echo "| --- | --- | --- |"
  for index in "${!confs[@]}"; do
    line=${confs[$index]:-(none added)}
    echo "| $line | $(ms "$(conf_median "$index" 2)") ms | $(ms "$(conf_median "$index" 3)") ms |"
  done
  echo
  echo "## Where an idle micro-VM's PSS goes (\`/proc/PID/smaps\`, defaults)"
  echo
  echo "| part | PSS |"
  echo "| --- | --- |"
  awk -F'\t' '{ printf "| %s | %s MiB |\n", $1, $2 }' "$work/pss.tsv"
  echo
  echo "## Where one start goes (\`mvm boot --trace\`, one boot; ready in $(ms "$trace_ready") ms, $trace_coverage spans)"
  echo
  echo "Top-level steps in bold, then their steps of 1 ms or more. libvirt's step names are its own (libvirt 9.0,"
  echo "\`src/qemu/qemu_process.c\`); a kernel step is the gap that ends with the console line it is named by."
  echo
  echo "| layer | step | | time |"
  echo "| --- | --- | --- | --- |"
  awk -F'\t' '{ printf "| %s | %s | %s | %s ms |\n", $1, $2, $3, $4 }' "$work/trace.tsv"
  echo
  # What the figures above mean and what was tried: written by hand, from
  # the runs of this script.
  cat "$repo/scripts/bench-notes.md"
  # The verdicts' simulated error rates come from mvm-verdict-simulation,
  # not from this script: keep its section as it was.
  if [ -f "$OUT" ] && grep -q '<!-- verdict-simulation: start -->' "$OUT"; then
    echo
    sed -n '/<!-- verdict-simulation: start -->/,/<!-- verdict-simulation: end -->/p' "$OUT"
  fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
# --- 10. mvm's own cost on the isolation ladder: its own section, after.
MVM="$mvm" BENCH_OUT="$OUT" MVM_BENCH_STATE_DIR="$STATE" bash "$repo/scripts/bench-ladder.sh"
say "done: $OUT"
cat "$OUT"
