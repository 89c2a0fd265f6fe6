# tests/host/enforcer_smoke.c in bpf-lsm mode: every LSM hook through the loader API
# (user/enforce/loader.c), without the runner: exec, open and path rules, sockets, AF_UNIX, bpf,
# perf, mount, signals, ptrace, executable mappings, descendant and orphan cgroups, the
# ring buffer records and their loss count, and one enforcer serving several sandboxes at
# once, each with its own rules. Built by scripts/vm-test.sh (tests/host/enforcer.sh
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
check "its cgroups are removed" eq "$(ls -d "$CG"/calyx-smoke-* 2>/dev/null)" ""
check "no sandbox cgroup, pin or BPF program left" no_sandbox_left
