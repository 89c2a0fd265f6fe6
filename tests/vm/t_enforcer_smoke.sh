# tests/host/enforcer_smoke.c in bpf-lsm mode: every LSM hook through the resident set's API
# (user/enforce/resident.h), without the runner: exec, open and path rules, sockets, AF_UNIX,
# bpf, perf, mount, signals, ptrace, executable mappings, descendant cgroups, orphans (a
# task in the set's root, in a runner directory, in a cgroup whose sandbox entry is not
# there yet or was removed while the task lived), each sandbox's own ring buffer and
# counters, and one set serving several sandboxes at once, each registered with its own
# handle, runner directory and rules. Built by scripts/vm-test.sh (tests/host/enforcer.sh
# --build). Its "ok - …" / "not ok - …" lines become this test's checks.
out=$WORK/enforcer_smoke.out
enforcer_smoke bpf-lsm > "$out" 2>&1
rc=$?
n=0
while IFS= read -r l; do
	case $l in
	"ok - "*) pass "${l#ok - }"; n=$((n + 1)) ;;
	"not ok - "*) fail "${l#not ok - }"; n=$((n + 1)) ;;
	*) echo "$l" ;;
	esac
done < "$out"
diag "enforcer_smoke bpf-lsm: $n checks, exit $rc"
# A crash or an early exit leaves no summary line: the program must have reached its end.
check "enforcer_smoke ran to its end ($n checks)" \
	sh -c '[ "$1" -gt 0 ] && grep -q "^# [0-9]* failure(s)$" "$2"' _ "$n" "$out"
check "it exits 0 exactly when every check passed (exit $rc)" \
	sh -c '{ [ "$1" -eq 0 ] && ! grep -q "^not ok" "$2"; } || { [ "$1" -ne 0 ] && grep -q "^not ok" "$2"; }' _ "$rc" "$out"
# Its cgroups live in runner directories smoke-<pid>[-A|-B|-C] of the set's root cgroup.
SET=$CG/calyx/bpf-lsm
check "its runner directories and sandbox cgroups are removed" eq "$(ls -d "$SET"/smoke-* 2>/dev/null)" ""
# The set stays up after it (runs share it), serving nothing.
status=$($CALYX enforcer status --enforce bpf-lsm 2>&1)
echo "$status"
check "the resident bpf-lsm set is up and ours (calyx enforcer status)" \
	sh -c 'echo "$1" | grep -q "^bpf-lsm: up, " && ! echo "$1" | grep -q "ANOTHER BUILD"' _ "$status"
check "... and holds no slot" sh -c 'echo "$1" | grep -q "sandboxes: 0 live, 0 slots held"' _ "$status"
# Stopping it without --force is refused while any sandbox is live: it succeeds here. The
# guest runner's leftover check between tests wants no pin and no program either.
check "calyx enforcer stop (without --force) takes the idle set down" $CALYX enforcer stop --enforce bpf-lsm
# Unpinned links free their programs asynchronously.
i=0
while [ $i -lt 50 ] && [ "$(bpftool prog show 2>/dev/null | grep -c '^[0-9]*:')" -gt 0 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "no sandbox cgroup, pin or BPF program left" no_sandbox_left
