#!/bin/sh
# The guest test runner: environment gates first (BPF LSM really enforcing), then every
# tests/vm/t_*.sh and tests/escape/e_*.sh whose name matches VM_TESTS (from
# /tests/config), each in its own shell with a time limit. Tests report through the
# pass/fail helpers of lib.sh; a script that dies, times out or reports nothing is a
# failure. Exit status: 0 only if every check passed.
. /tests/vm/lib.sh

VM_TESTS=
[ -f /tests/config ] && . /tests/config
: "${VM_TEST_TIMEOUT:=120}"

TNAME=vm
: > "$VM_RESULTS"

# --- gates: without these nothing below means anything ---------------------------------
lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
diag "kernel $(uname -r), lsm=$lsm"
case ",$lsm," in
*,bpf,*) pass "bpf is in /sys/kernel/security/lsm" ;;
*)
	fail "bpf is not in /sys/kernel/security/lsm ('$lsm')"
	exit 1 ;;
esac
if out=$(lsm_probe /usr/local/lib/calyx-test/lsm_probe.bpf.o 2>&1); then
	pass "BPF LSM enforces (lsm/file_open program denied an open)"
else
	fail "BPF LSM does not enforce: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
	exit 1
fi
ctl=$(cat /sys/fs/cgroup/cgroup.subtree_control)
case " $ctl " in
*" memory "*) case " $ctl " in
	*" pids "*) pass "cgroup2 at /sys/fs/cgroup with memory and pids ($ctl)" ;;
	*) fail "cgroup2 subtree_control lacks pids: '$ctl'" ;;
	esac ;;
*) fail "cgroup2 subtree_control lacks memory: '$ctl'" ;;
esac

# One signing key for every test. The matrix (tests/vm/matrix.yaml) is used as it is:
# it trusts no key, and every run passes the guest's key with --pub.
mkdir -p "$KEYS"
if out=$($CALYX keygen --out "$KEYS" 2>&1) && [ -f "$KEY" ] && [ -f "$PUB" ]; then
	pass "calyx keygen"
else
	fail "calyx keygen --out $KEYS: $out"
fi

# --- the tests -----------------------------------------------------------------------------
selected() {
	[ -z "$VM_TESTS" ] && return 0
	local pat
	for pat in $(echo "$VM_TESTS" | tr ',' ' '); do
		case $1 in $pat) return 0 ;; esac
	done
	return 1
}

mkdir -p /tmp/vmlogs
for t in /tests/vm/t_*.sh /tests/escape/e_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" || continue
	before=$(wc -l < "$VM_RESULTS")
	fails_before=$(grep -c '^not ok' "$VM_RESULTS")
	start=$(date +%s)
	echo "=== $name" > /dev/console
	# Each test in a fresh shell with a fresh work dir, killed at the time limit.
	rm -rf "$WORK"; mkdir -p "$WORK"
	timeout -s KILL "$VM_TEST_TIMEOUT" sh -c ". /tests/vm/lib.sh; TNAME=$name; cd $WORK; . $t" \
		> "/tmp/vmlogs/$name.log" 2>&1 < /dev/null
	rc=$?
	took=$(( $(date +%s) - start ))
	after=$(wc -l < "$VM_RESULTS")
	TNAME=$name
	if [ "$rc" -eq 137 ]; then
		fail "timed out after ${VM_TEST_TIMEOUT}s"
	elif [ "$after" -eq "$before" ]; then
		fail "script exited $rc without reporting a result"
	elif [ "$rc" -ne 0 ] && [ "$(grep -c '^not ok' "$VM_RESULTS")" -eq "$fails_before" ]; then
		fail "script exited $rc after its checks"
	fi
	# What a test leaves behind (a sandbox cgroup, a pinned link, a loaded program) is
	# its failure.
	no_sandbox_left || fail "left behind: $WHY"
	# On failure the end of the test's log goes out too: it is all the host will see.
	if [ "$(grep -c '^not ok' "$VM_RESULTS")" -ne "$fails_before" ]; then
		grep -v '^\(not \)\{0,1\}ok - ' "/tmp/vmlogs/$name.log" | tail -n 25 | sed 's/^/#   /' | tee -a "$VM_RESULTS" > "$VM_RESULTS_TTY"
	fi
	diag "$name took ${took}s"
	cat "/tmp/vmlogs/$name.log" > /dev/console
	# Nothing of one test may leak into the next: what it left is cleared here.
	kill_leftovers
done

grep -q '^not ok' "$VM_RESULTS" && exit 1
exit 0
