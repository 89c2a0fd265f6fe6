#!/usr/bin/env bash
# `make bench`: calyx's benchmark, one table from one command (tests/bench/README.md).
#
# Usage: tests/bench/run.sh [options] CALYX_BIN
#   --kernel SERIES   the VM's Debian 12 cloud kernel: 6.1 (default) or 6.12 (scripts/vm-kernel.sh)
#   --no-host         skip the host rows (hyperfine, peak RSS)
#   --no-vm           skip the VM rows
#   --quick           small loop and repeat counts: checks the harness in ~2 minutes; its
#                     figures are NOT the benchmark (the self-check may fail)
# Env: BENCH_LOOPS ("open stat fork connect" loop counts per figure), BENCH_WARM (warm
#      calyx runs per backend), BENCH_WARM_BPF (the same for bpf-lsm), BENCH_BARE,
#      BENCH_HOST_RUNS, BENCH_RSS_RUNS (tests/bench/host.sh), BENCH_REC_RATES, BENCH_REC_N,
#      BENCH_REC_SECS (tests/bench/records.sh), BENCH_VM_TIMEOUT (seconds).
# Outputs under build/bench/: bin/ (the static microbench and true), host/host.txt,
# vm.txt (the guest's lines), report.txt (the table, also printed).
#
# A benchmark, not a test: exit 0 when every row was measured, whatever the figures;
# non-zero only when something could not run. Host-wide resources (cgroups, bpffs, the
# VM) are shared with other engineers: each tier runs under flock /tmp/calyx-tier.lock.
set -euo pipefail

die() { echo "bench: $*" >&2; exit 1; }

kseries=${VM_KERNEL:-6.1} do_host=1 do_vm=1 quick=0 calyx= took=
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kseries=$2; shift 2 ;;
    --kernel=*) kseries=${1#*=}; shift ;;
    --no-host) do_host=0; shift ;;
    --no-vm) do_vm=0; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,/^set -e/{/^set -e/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$calyx" ] || die "one CALYX_BIN only"; calyx=$1; shift ;;
  esac
done
[ -n "$calyx" ] || die "usage: $0 [options] CALYX_BIN"
[ -x "$calyx" ] || die "$calyx is not an executable (make -j2 all first)"
cd "$(dirname "$0")/../.."
root=$(pwd)
calyx=$(realpath -e "$calyx")
start=$(date +%s)
LOCK=/tmp/calyx-tier.lock
out=build/bench
mkdir -p "$out/bin"

if [ $quick = 1 ]; then
  : "${BENCH_LOOPS:=4000 4000 60 2000}" "${BENCH_WARM:=2}" "${BENCH_BARE:=5}"
  : "${BENCH_HOST_RUNS:=20 10 5 5}" "${BENCH_RSS_RUNS:=2}"
  : "${BENCH_REC_RATES:=250000}" "${BENCH_REC_N:=200000}" "${BENCH_REC_SECS:=1}"
fi
# Figures stable to well under 0.5% under icount at these counts (about 1-2 guest-s each).
: "${BENCH_LOOPS:=200000 200000 2000 50000}" "${BENCH_WARM:=5}" "${BENCH_BARE:=21}"
: "${BENCH_WARM_BPF:=$BENCH_WARM}" "${BENCH_VM_TIMEOUT:=2400}"
export BENCH_HOST_RUNS BENCH_RSS_RUNS BENCH_REC_RATES BENCH_REC_N BENCH_REC_SECS

# locked CMD...: run CMD holding the tier lock, saying so when someone else has it.
locked() {
  if ! flock -n "$LOCK" true; then
    echo "bench: waiting for $LOCK (another tier run holds it)" >&2
  fi
  flock "$LOCK" "$@"
}

# 1. Packages (hyperfine, bubblewrap, firejail, GNU time) and the static programs.
# hyperfine (timing), bubblewrap and firejail (the peers), time (GNU time -v: peak RSS)
[ $do_host = 0 ] || scripts/deps.sh hyperfine bubblewrap firejail time || die "installing the benchmark's packages failed"
build_static() {
  local src=$1 bin=$2
  shift 2
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
    gcc -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o "$bin.$$" "$src" "$@" ||
      die "building $src failed"
    mv "$bin.$$" "$bin"
  fi
}
# calyx_bench loads calyx's own seccomp baseline (user/enforce/seccomp.c).
build_static tests/bench/calyx_bench.c "$out/bin/calyx_bench" -I user user/enforce/seccomp.c \
  user/policy/seccomp_groups.c user/base/errmsg.c -lseccomp
build_static tests/bench/true.c "$out/bin/true"
cp tests/bench/matrix.yaml "$out/bin/matrix.yaml"

# What is measured: calyx's code (user/, bpf/, policies/, vmlinux/) as of its last commit
# there, plus any uncommitted change to it; HEAD may be a later bench-only commit.
code=$(git log -1 --format=%h -- user bpf policies vmlinux 2>/dev/null || echo '?')
subject=$(git log -1 --format=%s -- user bpf policies vmlinux 2>/dev/null || true)
[ ${#subject} -le 60 ] || subject="${subject:0:57}..."
code="$code \"$subject\""
git diff --quiet HEAD -- user bpf policies vmlinux 2>/dev/null || code="$code + uncommitted changes to user/ bpf/ policies/"
head=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
report_args=(--meta "code=$code" --meta "head=$head" --meta "date=$(date -u +%Y-%m-%dT%H:%MZ)")

# 2. Host rows.
if [ $do_host = 1 ]; then
  echo "bench: host rows (hyperfine, GNU time)" >&2
  rm -rf "$out/host"
  if ! locked tests/bench/host.sh "$calyx" "$out/host"; then
    echo "bench: the host rows failed (see below)" >&2
  fi
  report_args+=(--host "$out/host/host.txt")
fi

# 3. VM rows: one boot, one CPU, instruction-counted time.
if [ $do_vm = 1 ]; then
  echo "bench: VM rows, kernel $kseries, one boot under QEMU TCG -icount (about 5-10 minutes)" >&2
  shell_cmd="BENCH_SRC=$root/$out/bin BENCH_WARM=$BENCH_WARM BENCH_WARM_BPF=$BENCH_WARM_BPF"
  shell_cmd+=" BENCH_BARE=$BENCH_BARE BENCH_LOOPS='$BENCH_LOOPS' sh $root/tests/bench/guest.sh"
  set +e
  locked scripts/vm-test.sh --kernel "$kseries" --smp 1 --icount shift=0,sleep=off \
    --timeout "$BENCH_VM_TIMEOUT" \
    --add "$out/bin/calyx_bench" --add "$out/bin/true" --add "$out/bin/matrix.yaml" \
    --add tests/bench/guest.sh --shell-cmd "$shell_cmd" "$calyx" > "$out/vm.txt" 2> "$out/vm.err"
  vrc=$?
  set -e
  took=$(sed -n 's/^vm-test: shell command exited .* (\([0-9]*\)s)$/\1/p' "$out/vm.err" | tail -n 1)
  if [ $vrc -ne 0 ]; then
    echo "bench: the VM run failed (exit $vrc):" >&2
    tail -n 30 "$out/vm.err" >&2
    echo "E the VM run failed (exit $vrc); see $out/vm.err" >> "$out/vm.txt"
  fi
  report_args+=(--vm "$out/vm.txt")
  [ -z "$took" ] || report_args+=(--meta "vmwall=${took}s")
fi

wall=$(( $(date +%s) - start ))
report_args+=(--meta "wall=$((wall / 60))m$((wall % 60))s${took:+ (VM boot ${took}s)}")
set +e
python3 tests/bench/report.py "${report_args[@]}" | tee "$out/report.txt"
rc=${PIPESTATUS[0]}
exit "$rc"
