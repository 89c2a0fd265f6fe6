#!/usr/bin/env bash
# The seccomp baseline on this host (landlock backend, the shipped matrix: run_as 65534):
# each refused call returns EPERM inside the sandbox and is recorded by name
# (syscall_event.denied / net_event.denied in the SVF log, a "seccomp" deny record in
# events.jsonl, meta.json's seccomp object); the calls the baseline leaves alone work; a
# matrix relaxing groups re-opens exactly those; a bad group name is refused (78) naming
# the key and the value. docs/seccomp.md.
#
# Usage: tests/host/seccomp.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
[ "$(id -u)" = 0 ] || { echo "seccomp.sh: must run as root" >&2; exit 1; }

# Lease paths must lie under the shipped matrix's bounds (/tmp/calyx/**); the probe must be
# a file only root can change.
mkdir -p /tmp/calyx && chmod 755 /tmp/calyx
W=$(mktemp -d /tmp/calyx/seccomp.XXXXXX)
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"
P=$W/try_seccomp
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I tests/vm/progs -o "$P" tests/vm/progs/try_seccomp.c ||
	{ bad "build try_seccomp"; echo "$PASS passed, $FAIL failed"; exit 1; }
"$CALYX" keygen --out "$W/k" >/dev/null 2>&1 || bad "keygen"

# One script, one line per attack: "NAME: <probe output>".
ATTACKS=(
	"io_uring_setup" "io_uring_enter" "io_uring_register" "keyctl-read" "add_key" "request_key"
	"fanotify" "userfaultfd" "uffd-ioctl" "uffd-ioctl-hi" "personality-rie" "personality-nor"
	"socket inet" "socket inet6" "socket netlink" "socket vsock" "socket packet" "socket-hi"
	"socketpair inet" "socketpair vsock" "i386-io_uring" "i386-keyctl" "i386-socketcall" "x32-io_uring"
)
ALLOWED=("personality-0" "personality-q" "socket unix" "socketpair unix")
{
	echo "P=$P"
	for a in "${ATTACKS[@]}" "${ALLOWED[@]}" "uffd-dev"; do echo "echo \"$a: \$(\$P $a 2>&1)\""; done
} > "$W/all.sh"
chmod 644 "$W/all.sh"

# srun NAME MATRIX_ARGS...: a fresh lease (its own state dir) for `sh all.sh`, run.
srun() {
	local name=$1
	shift
	"$CALYX" lease issue -k "$W/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-SECCOMP --ttl 5m \
		--cmd "/bin/sh $W/all.sh" --helper "$P" --path "$W/all.sh:ro" -o "$W/$name.tok" \
		>/dev/null 2>"$W/$name.issue" || bad "$name: lease issue: $(cat "$W/$name.issue")"
	"$CALYX" run --lease "$W/$name.tok" "$@" --pub "$W/k/calyx.pub" --state "$W/$name.state" \
		--enforce landlock -- /bin/sh "$W/all.sh" >"$W/$name.out" 2>"$W/$name.err"
	RC=$?
	RUN=$(ls -d "$W/$name.state"/outgoing/staging_runs/LEASE-* 2>/dev/null | head -n1)
	SVF=$W/$name.state/logs/svf_audit/svf.jsonl
}
# line NAME: that attack's output in the last run.
line() { sed -n "s/^$1: //p" "$W/$CUR.out" | head -n1; }
expect_line() {
	local desc=$1 attack=$2 re=$3 l
	l=$(line "$attack")
	if grep -Eq -- "$re" <<<"$l"; then ok "$desc"; else bad "$desc: '$attack' gave '${l:-<nothing>}' (want /$re/)"; fi
}
# py DESC CODE: Python over meta.json (m), the SVF records (svf) and events.jsonl (ev).
py() {
	local desc=$1
	if python3 - "$RUN/meta.json" "$SVF" "$RUN/events.jsonl" <<EOF 2>"$W/py.err"
import json, sys
m = json.load(open(sys.argv[1]))
svf = [json.loads(l) for l in open(sys.argv[2])]
ev = [json.loads(l) for l in open(sys.argv[3])]
den = [r for r in svf if r["type"] in ("syscall_event.denied", "net_event.denied")]
$2
EOF
	then ok "$desc"; else bad "$desc: $(tail -n 3 "$W/py.err" | tr '\n' ' ')"; fi
}

# ---------------------------------------------------------------- the shipped matrix
CUR=base
srun base --matrix policies/capability_matrix.yaml
[ "$RC" = 0 ] && ok "shipped matrix: calyx run exits 0" || bad "shipped matrix: exit $RC: $(head -c 400 "$W/base.err")"
py "shipped matrix: run as uid 65534 on the landlock backend" \
	'assert m["run_as"]["uid"] == 65534 and m["enforcement"]["backend"] == "landlock", (m["run_as"], m["enforcement"]["backend"])'
for a in "${ATTACKS[@]}"; do
	expect_line "refused: $a -> EPERM" "$a" '^errno=EPERM '
done
for a in "${ALLOWED[@]}"; do
	expect_line "allowed: $a" "$a" '^ok '
done
# /dev/userfaultfd is outside every path rule: not even opened (the ioctl is refused too, above).
expect_line "/dev/userfaultfd cannot be opened" uffd-dev '^errno=(EACCES|ENOENT|EPERM) \(open /dev/userfaultfd\)'
# Each refusal recorded by name, in the SVF log and in events.jsonl.
py "SVF: one *_event.denied per refused call (${#ATTACKS[@]})" "assert len(den) == ${#ATTACKS[@]}, [r['data'].get('syscall') for r in den]"
py "SVF: syscall_event.denied names each refused syscall with its ABI" '
names = sorted((r["data"]["syscall"], r["data"]["abi"]) for r in den if r["type"] == "syscall_event.denied")
want = sorted([("io_uring_setup","x86_64"), ("io_uring_enter","x86_64"), ("io_uring_register","x86_64"),
  ("keyctl","x86_64"), ("add_key","x86_64"), ("request_key","x86_64"), ("fanotify_init","x86_64"),
  ("userfaultfd","x86_64"), ("ioctl","x86_64"), ("ioctl","x86_64"), ("personality","x86_64"),
  ("personality","x86_64"), ("io_uring_setup","i386"), ("keyctl","i386"), ("io_uring_setup","x32")])
assert names == want, names'
py "SVF: net_event.denied names socket/socketpair and the family" '
nets = sorted((r["data"]["syscall"], str(r["data"]["family"])) for r in den if r["type"] == "net_event.denied")
want = sorted([("socket","inet"), ("socket","inet6"), ("socket","netlink"), ("socket","vsock"), ("socket","packet"),
  ("socket", str(0x100000002)), ("socketpair","inet"), ("socketpair","vsock"), ("socketcall","None")])
assert nets == want, nets'
py "SVF: the flags of personality and the ioctl request are recorded" '
p = sorted(r["data"]["persona"] for r in den if r["data"]["syscall"] == "personality")
i = [r["data"]["request"] for r in den if r["data"]["syscall"] == "ioctl"]
assert p == ["0x40000", "0x400000"] and i == ["0xaa00", "0xaa00"], (p, i)'
py "SVF: every record is errno 1 (EPERM), hook seccomp, the probe's comm" '
assert all(r["data"]["errno"] == 1 and r["data"]["hook"] == "seccomp" and r["data"]["comm"] == "try_seccomp" for r in den), den[:2]'
py "events.jsonl holds the same refusals" '
e = [x for x in ev if x.get("hook") == "seccomp"]
assert sorted(x["syscall"] for x in e) == sorted(r["data"]["syscall"] for r in den), e'
py "meta.json: seccomp object (nothing relaxed, AF_UNIX only, counts)" "
s = m['seccomp']
assert s['relaxed'] == [] and s['socket_families'] == ['unix'], s
assert s['refusals'] == ${#ATTACKS[@]} and s['recorded'] == ${#ATTACKS[@]} and s['not_recorded'] == 0, s
assert 'io_uring_setup' in s['refused'] and 'keyctl' in s['refused'] and 0 < s['instructions'] <= 4096, s
assert 'error' not in s, s"
py "meta.json: denials.syscall and denials.net count them" \
	'assert m["denials"]["syscall"] == 15 and m["denials"]["net"] == 9, m["denials"]'

# ---------------------------------------------------------------- a matrix relaxing groups
sed -e 's/^seccomp: {allow: \[\]}$/seccomp: {allow: [io_uring, keyring, personality, inet_sockets]}/' \
	policies/capability_matrix.yaml > "$W/relaxed.yaml"
grep -q '^seccomp: {allow: \[io_uring, keyring' "$W/relaxed.yaml" || bad "could not write the relaxed matrix"
CUR=relaxed
srun relaxed --matrix "$W/relaxed.yaml"
[ "$RC" = 0 ] && ok "relaxed matrix: calyx run exits 0" || bad "relaxed matrix: exit $RC: $(head -c 400 "$W/relaxed.err")"
# The calls are let through: they fail (or work) as the kernel decides, never EPERM.
expect_line "relaxed io_uring: io_uring_setup(1, NULL) reaches the kernel (EFAULT)" io_uring_setup '^errno=EFAULT '
expect_line "relaxed keyring: add_key reaches the kernel" add_key '^(ok |errno=E(DQUOT|ACCES|NOKEY) )'
expect_line "relaxed personality: READ_IMPLIES_EXEC is set" personality-rie '^ok '
# inet_sockets re-opens socket(AF_INET*) to the next layer: under deny_all the landlock
# backend's cgroup program refuses the creation (EPERM too), and records it as its own.
expect_line "relaxed inet_sockets: socket(AF_INET) goes on to the cgroup program (EPERM)" "socket inet" '^errno=EPERM '
py "relaxed inet_sockets: ... which records it (hook socket_create), seccomp does not" '
inet = [r["data"] for r in den if r["type"] == "net_event.denied" and r["data"].get("family") == "inet"]
assert inet and all(d["hook"] == "socket_create" for d in inet), inet'
# What the matrix did not relax stays refused.
for a in fanotify userfaultfd "socket netlink" "socket vsock" "socketpair vsock"; do
	expect_line "not relaxed: $a -> EPERM" "$a" '^errno=EPERM '
done
py "relaxed: meta.json names the relaxed groups and the families" '
s = m["seccomp"]
assert s["relaxed"] == ["io_uring", "keyring", "personality", "inet_sockets"], s["relaxed"]
assert s["socket_families"] == ["unix", "inet", "inet6"] and "io_uring_setup" not in s["refused"], s'
py "relaxed: only the calls still refused are recorded by seccomp" '
got = sorted((r["data"]["syscall"], r["data"]["abi"]) for r in den if r["data"]["hook"] == "seccomp")
assert ("io_uring_setup", "x86_64") not in got and ("add_key", "x86_64") not in got, got
assert ("personality", "x86_64") not in got and ("socket", "x86_64") in got, got
assert ("fanotify_init", "x86_64") in got and ("userfaultfd", "x86_64") in got, got'

# ---------------------------------------------------------------- bad input
sed -e 's/^seccomp: {allow: \[\]}$/seccomp: {allow: [io_uring, ptrace]}/' policies/capability_matrix.yaml > "$W/bad.yaml"
CUR=bad
srun bad --matrix "$W/bad.yaml"
[ "$RC" = 78 ] && ok "unknown seccomp group: exit 78" || bad "unknown seccomp group: exit $RC"
grep -q "seccomp.allow\[1\]: unknown seccomp group 'ptrace'" "$W/bad.err" && ok "... naming the key and the value" ||
	bad "... message: $(cat "$W/bad.err")"
[ -z "$RUN" ] && ok "... nothing ran" || bad "... a run directory exists: $RUN"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
