#!/usr/bin/env bash
# Host rows of `make bench` for the sentinel's records (tests/bench/host.sh runs this,
# under the tier lock): this machine's real kernel and clock, the landlock backend, the
# flood of tests/host/flood.sh (AF_INET sockets refused by the cgroup programs, one
# 96-byte record each). Real time, shared machine: noisy.
#
# Usage: tests/bench/records.sh CALYX_BIN OUT_FILE   (appends R lines for report.py)
#   R paced ASKED_PER_S ACHIEVED_PER_S ATTEMPTS DROPPED   one paced flood (2 producers)
#   R cpu RECORDS RUNNER_NS BASE_NS                       the runner's CPU time over an
#                                                         unpaced flood and over a run of
#                                                         no attempt (its own overhead)
#   R rss FLOOD_KB BASE_KB                                the runner's peak RSS (VmHWM)
#   E text                                                something went wrong
# The runner's CPU time is its threads' /proc/PID/task/*/schedstat run time (ns), sampled
# every millisecond until it exits (what it spends after the last sample, at most ~1 ms
# of teardown, is not in it); its peak RSS /proc/PID/status VmHWM, sampled likewise.
# Env: BENCH_REC_RATES (paced rates per second, default "250000 500000 750000 1000000
# 1500000"), BENCH_REC_SECS (seconds per paced flood, default 2), BENCH_REC_N (attempts of
# the unpaced flood, default 2000000).
set -uo pipefail
calyx=$(realpath -e "$1") || exit 1
outf=$2
rates=${BENCH_REC_RATES:-250000 500000 750000 1000000 1500000}
secs=${BENCH_REC_SECS:-2}
n_fast=${BENCH_REC_N:-2000000}
die() { echo "bench records: $*" >&2; echo "E records: $*" >> "$outf"; exit 1; }

mkdir -p /tmp/calyx && chmod 755 /tmp/calyx
w=$(mktemp -d /tmp/calyx/bench-records.XXXXXX) || die "mktemp"
trap 'rm -rf "$w"' EXIT
chmod 755 "$w"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$w/deny_flood" tests/host/progs/deny_flood.c ||
  die "build deny_flood"
"$calyx" keygen --out "$w/k" > /dev/null 2>&1 || die "keygen"
. tests/lib/seccomp.sh
inet_matrix "$w/matrix.yaml" || die "inet_matrix"

# one ARGS...: `calyx run -- deny_flood socket ARGS` with a fresh lease and state,
# sampled; sets RUN (run dir), CPU_NS, HWM_KB, ELAPSED_MS (the producers' own)
one() {
  local st=$w/state.$RANDOM$RANDOM
  "$calyx" lease issue --key "$w/k/calyx.key" --aud "$(uname -n)" --intent INT-BENCH-RECORDS --ttl 10m --limit cpu=10m,wall=10m \
    --cmd "$w/deny_flood socket $*" -o "$w/l" > /dev/null 2>&1 || die "lease issue"
  "$calyx" run --lease "$w/l" --matrix "$w/matrix.yaml" --pub "$w/k/calyx.pub" --state "$st" \
    -- "$w/deny_flood" socket "$@" > "$w/out" 2> "$w/err" &
  local pid=$!
  read -r CPU_NS HWM_KB < <(python3 - "$pid" <<'PY'
import os, sys, time
pid = sys.argv[1]
cpu = hwm = 0
while True:
    try:
        c = 0
        for t in os.listdir("/proc/%s/task" % pid):
            with open("/proc/%s/task/%s/schedstat" % (pid, t)) as f:
                c += int(f.read().split()[0])
        with open("/proc/%s/status" % pid) as f:
            for l in f:
                if l.startswith("VmHWM:"):
                    hwm = max(hwm, int(l.split()[1]))
        cpu = max(cpu, c)
    except (OSError, ValueError, IndexError):
        break
    time.sleep(0.001)
print(cpu, hwm)
PY
)
  wait "$pid" || die "calyx run -- deny_flood socket $* exited $?: $(head -c 300 "$w/err")"
  RUN=$(find "$st/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name 'LEASE-*' | head -n1)
  ELAPSED_MS=$(sed -n 's/^elapsed_ms=//p' "$w/err" | tail -n1)
  [ -n "$RUN" ] && [ -n "$ELAPSED_MS" ] || die "no run directory or elapsed time ($*)"
}
meta() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1]+"/meta.json")); print(m["events"], m["dropped_events"])' "$RUN"; }

one 2 --rate 4   # warm-up: the first run may bring the resident set up
one 2 --rate 4   # a run of 0.25 s that refuses twice: the runner's own cost
base_cpu=$CPU_NS base_hwm=$HWM_KB
one "$n_fast" --procs 2
read -r ev dr <<< "$(meta)"
echo "R cpu $ev $CPU_NS $base_cpu" >> "$outf"
echo "R rss $HWM_KB $base_hwm" >> "$outf"
echo "R fast $n_fast $ELAPSED_MS $dr" >> "$outf"
for r in $rates; do
  a=$((r * secs))
  one "$a" --rate "$r" --procs 2
  read -r ev dr <<< "$(meta)"
  echo "R paced $r $((a * 1000 / (ELAPSED_MS > 0 ? ELAPSED_MS : 1))) $a $dr" >> "$outf"
done
exit 0
