#!/usr/bin/env bash
# The VM test tier: boot Debian's packaged 6.1 (or 6.12) cloud kernel under QEMU TCG with an
# initramfs holding calyx, the test programs and the test scripts, run the BPF LSM and
# escape tests inside in one boot, and report their results. The host kernel refuses BPF
# LSM programs (KERNEL-NOTES.md), so this is where the bpf-lsm backend is really tested.
#
# Usage: scripts/vm-test.sh [options] CALYX_BIN
#   --kernel SERIES     the Debian 12 cloud kernel series to boot: 6.1 (default) or 6.12;
#                       same as VM_KERNEL=SERIES (scripts/vm-kernel.sh fetches it)
#   --tests PATTERNS    only the tests whose names match (comma-separated shell globs, e.g.
#                       't_exec*,e_memfd'); same as VM_TESTS=PATTERNS
#   --shell-cmd 'CMD'   run CMD (sh syntax) in the booted guest instead of the tests, print
#                       its output and exit with its status; same as VM_SHELL_CMD
#   --add FILE          copy a host file (and its libraries) into the guest at the same
#                       path; repeatable; same as VM_EXTRA='FILE …'
#   --timeout SECS      host-side limit for the whole boot (default 1800; VM_TIMEOUT): the
#                       whole suite takes ~8 min in the VM on an idle 2-core host, ~13 under load
#   --test-timeout S    per-test limit inside the guest (default 240; VM_TEST_TIMEOUT)
#   --smp N             guest CPUs (default 2; VM_SMP)
#   --icount OPTS       QEMU -icount OPTS, e.g. 'shift=0,sleep=off': guest time counts
#                       instructions (the benchmark, tests/bench; VM_ICOUNT; default none)
# The guest mounts proc, sysfs, devtmpfs, /tmp, securityfs, bpffs, cgroup2 at
# /sys/fs/cgroup, tracefs; /tests/vm/lib.sh has the helpers (crun, jget, ...).
#
# Exit status: 0 only when the guest reported at least one check and no failure. No
# "RC=" marker from the guest (it did not boot, panicked, hung) is a failure, as is BPF
# LSM not being active in the guest: this tier never skips silently.
set -euo pipefail

die() { echo "vm-test: $*" >&2; exit 1; }

kseries=${VM_KERNEL:-6.1} tests=${VM_TESTS:-} shell_cmd=${VM_SHELL_CMD:-} timeout_s=${VM_TIMEOUT:-1800}
test_timeout=${VM_TEST_TIMEOUT:-240}
smp=${VM_SMP:-2} icount=${VM_ICOUNT:-}
read -r -a extra <<< "${VM_EXTRA:-}"
calyx=
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kseries=$2; shift 2 ;;
    --kernel=*) kseries=${1#*=}; shift ;;
    --tests) tests=$2; shift 2 ;;
    --tests=*) tests=${1#*=}; shift ;;
    --shell-cmd) shell_cmd=$2; shift 2 ;;
    --shell-cmd=*) shell_cmd=${1#*=}; shift ;;
    --add) extra+=("$2"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --test-timeout) test_timeout=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --icount) icount=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/{/^set -e/d;p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$calyx" ] || die "one CALYX_BIN only"; calyx=$1; shift ;;
  esac
done
[ -n "$calyx" ] || die "usage: $0 [options] CALYX_BIN"
[ -x "$calyx" ] || die "$calyx is not an executable"
case $timeout_s in ''|*[!0-9]*) die "--timeout wants whole seconds" ;; esac
case $test_timeout in ''|*[!0-9]*) die "--test-timeout wants whole seconds" ;; esac
case $smp in ''|*[!0-9]*|0) die "--smp wants a CPU count" ;; esac
qemu_icount=()
[ -z "$icount" ] || qemu_icount=(-icount "$icount")

cd "$(dirname "$0")/.."
vm=${VM_DIR:-build/vm}
export VM_DIR=$vm
mkdir -p "$vm/bin" "$vm/runs"
# Several engineers run this at once: each run gets its own directory for the initramfs,
# the guest's settings and the serial logs; only the kernel and the test programs are
# shared (both written atomically). A passing run's directory is removed; a failing one's
# console.log and results.txt stay for a look.
run=$(mktemp -d "$vm/runs/run.XXXXXX")
export VM_RUN=$run
cleanup() {
  rm -rf "$run/rootfs" "$run/initramfs.cpio"
  [ "${keep_run:-1}" = 1 ] || rm -rf "$run"
}
trap cleanup EXIT

# 1. The test programs: tests/vm/progs, and the host tier's udp_loop (t_killrunner) and
#    try_cgroup_escape (t_root), each rebuilt when its source or a header next to it
#    changed; enforcer_smoke (the resident enforcer API's own test, t_enforcer_smoke) against calyx's
#    library objects, every time.
cflags=(-O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE)
for srcf in tests/vm/progs/*.c tests/host/progs/udp_loop.c tests/host/progs/try_cgroup_escape.c; do
  case $srcf in *.bpf.c) continue ;; esac
  name=$(basename "$srcf" .c)
  bin="$vm/bin/$name"
  stale=0
  for dep in "$srcf" "$(dirname "$srcf")"/*.h bpf/calyx.h; do
    [ -e "$dep" ] && [ "$dep" -nt "$bin" ] && stale=1
  done
  if [ ! -x "$bin" ] || [ $stale = 1 ]; then
    libs=()
    case $name in
      jget) libs=(-lcjson -lm) ;;
      lsm_probe) libs=(-lbpf) ;;
      bpf_objects) libs=(-I bpf -lbpf) ;;   # calyx.h: the stamp's layout
    esac
    gcc "${cflags[@]}" -o "$bin.$$" "$srcf" "${libs[@]}" || die "building $srcf failed"
    mv "$bin.$$" "$bin"
  fi
done
tests/host/enforcer.sh --build "$vm/bin/enforcer_smoke" || die "building enforcer_smoke failed"
probe_src=tests/vm/progs/lsm_probe.bpf.c probe_obj="$vm/lsm_probe.bpf.o"
if [ ! -f "$probe_obj" ] || [ "$probe_src" -nt "$probe_obj" ]; then
  clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
    -Wall -Werror -c "$probe_src" -o "$probe_obj.$$" || die "building $probe_src failed"
  mv "$probe_obj.$$" "$probe_obj"
fi

# 2. The kernel (downloaded once, then cached in build/vm, or build/vm/kernel-SERIES).
kernel=$(scripts/vm-kernel.sh --kernel "$kseries" "$vm") || die "no $kseries kernel for the VM"
[ -s "$kernel" ] || die "kernel image $kernel missing"

# 3. The initramfs, with this run's settings.
{
  printf 'VM_TESTS=%q\n' "$tests"
  printf 'VM_TEST_TIMEOUT=%q\n' "$test_timeout"
} > "$run/config"
[ -n "$shell_cmd" ] && printf '%s\n' "$shell_cmd" > "$run/shell-cmd.sh"
scripts/vm-initramfs.sh "$run/initramfs.cpio" "$calyx" "${extra[@]}" ||
  die "building the initramfs failed"

# 4. Boot. The guest writes results to the second serial port (a host file) and the
#    kernel log to the first. lsm= spells out the stack with bpf in it; the guest checks
#    /sys/kernel/security/lsm and really loads a BPF LSM program before any test.
# A guest kernel panic is booted once more, loudly: under TCG with two vCPUs the kernel's
# live patching of a trampoline's call site (text_poke_bp) can, rarely, let the other vCPU
# run a torn instruction (seen once: RIP bpf_lsm_bpf+0x5, mid-nop, in a bpf() call while
# the resident set attached). A second panic fails the run like any other missing RC.
results="$run/results.txt" console="$run/console.log"
for attempt in 1 2; do
rm -f "$results" "$console"
start=$(date +%s)
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg -cpu max -m 1G -smp "$smp" "${qemu_icount[@]}" -nodefaults -display none -no-reboot \
  -kernel "$kernel" -initrd "$run/initramfs.cpio" \
  -append 'console=ttyS0 panic=-1 oops=panic loglevel=4 lsm=lockdown,capability,landlock,yama,bpf' \
  -serial "file:$console" \
  -chardev "file,id=res,path=$results" -serial chardev:res \
  </dev/null >"$run/qemu.log" 2>&1
qrc=$?
set -e
took=$(( $(date +%s) - start ))

rcline=$(grep -a '^RC=[0-9]*$' "$results" 2>/dev/null | tail -n 1 || true)
if [ -z "$rcline" ] && [ "$attempt" = 1 ] && grep -aq 'Kernel panic' "$console" 2>/dev/null; then
  echo "vm-test: THE GUEST KERNEL PANICKED after ${took}s; booting once more. The panic:" >&2
  grep -a -m 3 -e 'Kernel panic' -e 'RIP: 0010' "$console" >&2 || true
  cp "$console" "$run/console.panic.log"
  echo "vm-test: (its kernel log is kept in $run/console.panic.log)" >&2
  continue
fi
break
done
if [ -z "$rcline" ]; then
  [ -f "$results" ] && grep -av '^RC=' "$results" || true
  echo "vm-test: the guest reported no RC marker after ${took}s (qemu exit $qrc$([ $qrc -eq 124 ] && echo ': timed out'))" >&2
  echo "--- qemu output:" >&2; tail -n 5 "$run/qemu.log" >&2 || true
  echo "--- last lines of $console:" >&2; tail -n 40 "$console" >&2 || true
  echo "vm-test: kept $run" >&2
  exit 1
fi
grc=${rcline#RC=}

if [ -n "$shell_cmd" ]; then
  grep -av '^RC=' "$results" || true
  keep_run=0
  echo "vm-test: shell command exited $grc (${took}s)" >&2
  exit "$grc"
fi

grep -av '^RC=' "$results" || true
passed=$(grep -ac '^ok ' "$results" || true)
failed=$(grep -ac '^not ok ' "$results" || true)
echo "vm-test: ${took}s in the VM, kernel $(basename "$kernel")"
# The closing line alone, in the plain form CI reads: "N passed, M failed".
echo "vm-test: $passed passed, $failed failed"
if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$grc" -eq 0 ]; then
  [ -f "$run/console.panic.log" ] || keep_run=0   # a retried panic's log stays
  exit 0
fi
echo "vm-test: guest results in $results, kernel log in $console" >&2
[ "$failed" -eq 0 ] && echo "vm-test: guest exit status $grc" >&2
exit 1
