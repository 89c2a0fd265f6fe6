#!/usr/bin/env bash
# Host tier, real kernel: the landlock backend (docs/backends.md).
#   Part A: user/enforce/landlock.c alone (tests/host/progs/ll_exec applies a calyx ruleset and
#           execs a probe): what Landlock itself refuses on this kernel, and the gaps the
#           BPF parts of the backend must close (shown as they really are).
#   Part B: `calyx run --enforce landlock`: the whole backend, gaps closed, denials in the
#           SVF log and meta.json.
# Usage: tests/host/landlock.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
# Probes: tests/vm/progs (shared with the VM suite) and tests/host/progs, built into
# build/host/ with gcc; ll_exec links user/enforce/landlock.c from the build the calyx
# under test comes from, with its flags (tests/lib/objs.sh: build/asan's sanitized objects
# under make test-asan).
set -u
cd "$(dirname "$0")/../.."
CALYX=${1:-build/calyx}
CALYX=$(realpath "$CALYX")
. tests/lib/objs.sh
B=$PWD/build/host
PASS=0 FAIL=0
set -f   # patterns like /usr/** are arguments here, never globs

ok()  { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

# expect NAME REGEX CMD...: the combined output of CMD must match REGEX.
expect() {
	local name=$1 want=$2 out
	shift 2
	out=$("$@" 2>&1)
	if grep -Eq -- "$want" <<<"$out"; then ok "$name"; else bad "$name: wanted /$want/, got:"; sed 's/^/     | /' <<<"$out"; fi
}

[ "$(id -u)" = 0 ] || { echo "landlock.sh: must run as root" >&2; exit 1; }

# ---------------------------------------------------------------- build the probes
mkdir -p "$B"
LLOBJS="$BUILD/obj/enforce/landlock.o $BUILD/obj/policy/pathpat.o $BUILD/obj/base/errmsg.o"
# shellcheck disable=SC2086 # LLOBJS, OBJ_CFLAGS: several words or none
make -s BUILD="$BUILD" SANITIZE="$OBJ_CFLAGS" $LLOBJS || exit 1
CF="-std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I tests/vm/progs -I user -I bpf"
for p in try_open try_exec try_connect try_sendto memfd_exec hello listen_tcp; do
	gcc $CF -o "$B/$p" "tests/vm/progs/$p.c" || exit 1
done
for p in try_kill try_unix_abstract; do
	gcc $CF -o "$B/$p" "tests/host/progs/$p.c" || exit 1
done
# shellcheck disable=SC2086
gcc $CF $OBJ_CFLAGS -o "$B/ll_exec" tests/host/progs/ll_exec.c $LLOBJS -lelf || exit 1

ABI=$("$B/ll_exec" --abi)
echo "== Landlock ABI: ${ABI:-unknown}"
if ! [ "$ABI" -ge 6 ] 2>/dev/null; then
	# Every expectation below is written for ABI >= 6 (TCP rights, scoping); on an older
	# kernel they would not hold, and a silent skip would hide that.
	echo "landlock.sh: this suite needs Landlock ABI >= 6 (have '${ABI:-none}')" >&2
	exit 1
fi

T=$(mktemp -d /tmp/calyx-ll.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$T/rw" "$T/kids/sub"
echo ro-data >"$T/ro.txt"
echo kid-a >"$T/kids/a"
echo kid-b >"$T/kids/sub/b"
echo secret >"$T/secret.txt"

# ---------------------------------------------------------------- part A
echo "== part A: user/enforce/landlock.c alone on the real kernel"
EXECS=()
for p in try_open try_exec try_connect try_sendto memfd_exec hello try_kill try_unix_abstract ll_exec; do
	EXECS+=(--exec "$B/$p")
done
LL=("$B/ll_exec" --ro '/usr/**' --ro "$B/**" --ro "$T/ro.txt" --rw "$T/rw/**" "${EXECS[@]}" --)

expect "A: plan handles every ABI right" "Landlock ABI $ABI; [0-9]+ rules; fs 0xffff net 0x3 scoped 0x3" \
	"${LL[@]}" "$B/hello"
expect "A: read outside the rules denied"   '^errno=EACCES \(open r\)'  "${LL[@]}" "$B/try_open" /etc/hostname r
expect "A: read of the baseline works"       '^ok read: ro-data|^ok read' "${LL[@]}" "$B/try_open" /usr/share/common-licenses/GPL-3 r
expect "A: :ro file readable"                '^ok read: ro-data'          "${LL[@]}" "$B/try_open" "$T/ro.txt" r
expect "A: :ro file not writable"            '^errno=EACCES \(open w\)'  "${LL[@]}" "$B/try_open" "$T/ro.txt" w
expect "A: sibling of a rule not readable"   '^errno=EACCES \(open r\)'  "${LL[@]}" "$B/try_open" "$T/secret.txt" r
expect "A: :rw dir: create and write"        '^ok wrote'                  "${LL[@]}" "$B/try_open" "$T/rw/new.txt" w hello
expect "A: :rw dir: read back"               '^ok read: hello'            "${LL[@]}" "$B/try_open" "$T/rw/new.txt" r
expect "A: exec of a lease binary"           '^HELLO-RAN'                 "${LL[@]}" "$B/try_exec" "$B/hello"
expect "A: exec outside the lease denied"    '^errno=EACCES \(execv\)'   "${LL[@]}" "$B/try_exec" /usr/bin/true
expect "A: TCP/IPv4 connect denied (Landlock CONNECT_TCP)" '^errno=EACCES \(connect\)' "${LL[@]}" "$B/try_connect" tcp4 127.0.0.1 9
expect "A: TCP/IPv6 connect denied (Landlock CONNECT_TCP)" '^errno=EACCES \(connect\)' "${LL[@]}" "$B/try_connect" tcp6 ::1 9
expect "A: IPv4-mapped TCP connect denied"   '^errno=EACCES \(connect\)' "${LL[@]}" "$B/try_connect" tcp6 ::ffff:127.0.0.1 9
# The gaps: what Landlock ABI 7 does not stop. Part B shows the backend closing each.
expect "A: [gap] UDP connect not mediated by Landlock"   '^ok connected' "${LL[@]}" "$B/try_connect" udp4 127.0.0.1 9
expect "A: [gap] UDP sendto not mediated by Landlock"    '^ok sent 6'    "${LL[@]}" "$B/try_sendto" udp6 ::1 9
expect "A: [gap] memfd exec not stopped by Landlock"     '^HELLO-RAN argv0=python3 from-fileless-exec' \
	"${LL[@]}" "$B/memfd_exec" memfd "$B/hello"
expect "A: [gap] ld.so as launcher runs under Landlock"  '^HELLO-RAN' \
	"${LL[@]}" "$B/try_exec" /lib64/ld-linux-x86-64.so.2 "$B/hello"

# Scoping (ABI 6): signals and abstract sockets stop at the domain's edge.
sleep 60 & SLEEPER=$!; PIDS+=("$SLEEPER")
expect "A: signal to an outside process denied" '^errno=EPERM \(kill\)' "${LL[@]}" "$B/try_kill" "$SLEEPER"
if kill -0 "$SLEEPER" 2>/dev/null; then ok "A: outside process still alive"; else bad "A: outside process was killed"; fi
NAME=calyx-ll-$$
"$B/try_unix_abstract" listen "$NAME" >/dev/null & PIDS+=("$!")
"$B/try_unix_abstract" listen "$T/pathname.sock" >/dev/null & PIDS+=("$!")
sleep 0.3
expect "A: abstract AF_UNIX from outside works"       '^ok connected'             "$B/try_unix_abstract" connect "$NAME"
expect "A: abstract AF_UNIX to outside denied"        '^errno=EPERM \(connect\)' "${LL[@]}" "$B/try_unix_abstract" connect "$NAME"
expect "A: [gap] pathname AF_UNIX not mediated"       '^ok connected'             "${LL[@]}" "$B/try_unix_abstract" connect "$T/pathname.sock"

# The domain is irrevocable: a nested ruleset granting more cannot widen it.
expect "A: nested ruleset: what both grant works" '^ok read' \
	"${LL[@]}" "$B/ll_exec" --ro '/usr/**' --ro "$B/**" --ro '/etc/**' --exec "$B/try_open" -- "$B/try_open" /usr/share/common-licenses/GPL-3 r
expect "A: nested wider ruleset cannot widen" '^errno=EACCES \(open r\)' \
	"${LL[@]}" "$B/ll_exec" --ro '/usr/**' --ro "$B/**" --ro '/etc/**' --exec "$B/try_open" -- "$B/try_open" /etc/hostname r
expect "A: mount denied inside (even as root)" 'permission denied|errno=EPERM' \
	"$B/ll_exec" --ro '/usr/**' --exec /usr/bin/mount -- /usr/bin/mount -t tmpfs none "$T/rw"

# /dir/* : per-entry rules for what exists at start (docs/backends.md).
KIDS=("$B/ll_exec" --ro '/usr/**' --rw "$T/kids/*" --exec "$B/try_open" -- "$B/try_open")
expect "A: children: existing file readable"        '^ok read: kid-a'          "${KIDS[@]}" "$T/kids/a" r
expect "A: children(rw): existing file writable"    '^ok wrote'                "${KIDS[@]}" "$T/kids/a" w kid-a2
expect "A: children: grandchild not readable"       '^errno=EACCES \(open r\)' "${KIDS[@]}" "$T/kids/sub/b" r
expect "A: children(rw): new entry not creatable"   '^errno=EACCES \(open w\)' "${KIDS[@]}" "$T/kids/new" w
expect "A: children: the dir itself not listable"   '^errno=EACCES \(open r\)' "${KIDS[@]}" "$T/kids" r

# A pattern spelled through a symlink grants nothing (bpf-lsm decides on resolved paths).
ln -s /etc "$T/etclink"
expect "A: symlinked pattern: nothing granted, and said so" '1 path\(s\) through a symlink' \
	"$B/ll_exec" --ro '/usr/**' --ro "$T/etclink/**" --exec "$B/try_open" -- "$B/try_open" "$T/etclink/hostname" r
expect "A: symlinked pattern: its target stays unreadable" '^errno=EACCES \(open r\)' \
	"$B/ll_exec" --ro '/usr/**' --ro "$T/etclink/**" --exec "$B/try_open" -- "$B/try_open" "$T/etclink/hostname" r
# The ELF loader gets EXECUTE only where the sandbox may read it anyway.
expect "A: loader not under a path rule: dynamic binary cannot start" '^errno=EACCES \(ll_exec execv\)' \
	"$B/ll_exec" --ro "$B/**" --exec "$B/hello" -- "$B/hello"

# A path missing at start gets no rule: creating it later grants nothing.
expect "A: missing path reported in the plan" '1 path\(s\) missing at start' \
	"$B/ll_exec" --ro '/usr/**' --rw "$T/later/**" --exec "$B/hello" -- "$B/hello"
# Ordered: the sandbox signals (a file in its :rw dir) once its ruleset is applied, then
# waits for the directory the outside creates.
rm -f "$T/rw/ready"
timeout 20 "$B/ll_exec" --ro '/usr/**' --rw "$T/rw/**" --rw "$T/later/**" --exec /usr/bin/sh --exec "$B/try_open" -- \
	/usr/bin/sh -c "$B/try_open $T/rw/ready w >/dev/null; while [ ! -d $T/later ]; do :; done; $B/try_open $T/later/x w" \
	>"$T/later.out" 2>&1 & LATER=$!
for _ in $(seq 100); do [ -e "$T/rw/ready" ] && break; sleep 0.05; done
mkdir -p "$T/later"
wait "$LATER"
expect "A: path created after start not granted" '^errno=EACCES \(open w\)' cat "$T/later.out"

# ---------------------------------------------------------------- part B
echo "== part B: calyx run --enforce landlock (Landlock + cgroup BPF + exec-image check)"
[ -x "$CALYX" ] || { bad "B: no calyx binary at $CALYX"; echo "== landlock: $PASS passed, $FAIL failed"; exit 1; }
# Lease paths must lie under the shipped matrix's bounds (/tmp/calyx/**), and the command
# runs as nobody: a world-readable work dir, one world-writable :rw dir.
mkdir -p /tmp/calyx && chmod 755 /tmp/calyx
W=$(mktemp -d /tmp/calyx/ll.XXXXXX)
# Part B tests what the cgroup programs and Landlock refuse behind socket(AF_INET*): the
# seccomp baseline's inet_sockets group is relaxed (tests/host/seccomp.sh tests the baseline).
. tests/lib/seccomp.sh
LMATRIX=$W/inet-matrix.yaml
inet_matrix "$LMATRIX" || bad "B: the inet_sockets matrix could not be written"
chmod 755 "$W"
mkdir -p "$W/bin" "$W/ro/sub" "$W/rw" "$W/c/a" "$W/c/b"
chmod 777 "$W/rw" "$W/c/a" "$W/c/b"
echo ro-data >"$W/ro/data.txt"
echo deep-data >"$W/ro/sub/deep.txt"
for p in try_open try_exec try_connect try_sendto memfd_exec hello; do cp "$B/$p" "$W/bin/"; done
chmod -R a+rX "$W"
"$CALYX" keygen --out "$W/k" >/dev/null 2>&1 || bad "B: keygen"
KEY=$W/k/calyx.key PUB=$W/k/calyx.pub ST=$W/state SVF=$W/state/logs/svf_audit/svf.jsonl
cleanup_b() { cleanup; rm -rf "$W"; }
trap cleanup_b EXIT

# lrun NAME [lease issue args]... -- CMD...: a lease for exactly CMD, run with --enforce
# landlock. Sets RC, OUT, ERR, LID and D (the run directory).
lrun() {
	local name=$1 extra=()
	shift
	while [ "$1" != "--" ]; do extra+=("$1"); shift; done
	shift
	RC=999 OUT="" ERR="" LID="" D=""
	local cmd="" a
	for a in "$@"; do cmd+="${cmd:+ }'$a'"; done   # lease command syntax: '…' quoting
	if ! "$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-LANDLOCK --ttl 5m --cmd "$cmd" "${extra[@]}" \
		-o "$W/$name.tok" >/dev/null 2>"$W/$name.issue"; then
		bad "B: $name: lease issue failed: $(cat "$W/$name.issue")"
		return 1
	fi
	LID=$(grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' "$W/$name.issue" | head -n1)
	"$CALYX" run --lease "$W/$name.tok" --matrix "$LMATRIX" --pub "$PUB" --state "$ST" --enforce landlock -- "$@" \
		>"$W/$name.out" 2>"$W/$name.err"
	RC=$?
	OUT=$(cat "$W/$name.out") ERR=$(cat "$W/$name.err")
	D=$ST/outgoing/staging_runs/$LID
}
# is NAME COND: ok when the shell condition holds (shows the run's output when not).
is() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name (rc=$RC)"; sed 's/^/     | /' <<<"$OUT"$'\n'"$ERR"; fi
}
# meta NAME PY-EXPR: a Python expression over m (the run's meta.json).
meta() {
	if python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$D/meta.json" "$2" 2>"$W/py.err"; then ok "$1"; else
		bad "$1: meta.json fails: $2"; cat "$W/py.err"; python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("     |", m.get("status"), m.get("exit_code"), m.get("signal"), m.get("denials"))' "$D/meta.json" 2>&1; fi
}
# svf NAME TYPE [SUBSTRING]: this lease has an SVF record of TYPE whose data contains SUBSTRING.
svf() {
	if python3 - "$SVF" "$LID" "$2" "${3:-}" <<'EOF'
import json, sys
path, lid, typ, sub = sys.argv[1:5]
for line in open(path):
    r = json.loads(line)
    if r["lease"] == lid and r["type"] == typ and sub in json.dumps(r["data"]):
        sys.exit(0)
sys.exit(1)
EOF
	then ok "$1"; else bad "$1: no $2 record${3:+ with '$3'} for $LID"; fi
}
svf_quiet() {
	python3 - "$SVF" "$LID" "$1" "$2" <<'EOF'
import json, sys
path, lid, typ, sub = sys.argv[1:5]
sys.exit(0 if any(r["lease"] == lid and r["type"] == typ and sub in json.dumps(r["data"])
                  for r in map(json.loads, open(path))) else 1)
EOF
}

expect "B: doctor: auto picks landlock here, and says why" 'calyx will use: landlock .*(trampoline|bpf-lsm unavailable)' "$CALYX" doctor

lrun allowed --path "$W/ro/**" -- "$W/bin/try_open" "$W/ro/data.txt" r
is   "B: allowed command runs (exit 0, reads its :ro path)" test "$RC" = 0 -a "$OUT" = "ok read: ro-data"
is   "B: stdout.log and exit_code.txt are right" bash -c '[ "$(cat "$1/stdout.log")" = "ok read: ro-data" ] && [ "$(cat "$1/exit_code.txt")" = 0 ]' _ "$D"
meta "B: meta.json: backend landlock, reason, ruleset, no denial" \
	'm["enforcement"]["backend"] == "landlock" and m["enforcement"]["reason"] and "Landlock ABI" in m["enforcement"]["landlock"] and m["status"] == "ok" and sum(v or 0 for v in m["denials"].values()) == 0 and m["enforcement"]["resident"]["denied"] == 0'
svf  "B: SVF exec_event.started names the backend" exec_event.started '"backend": "landlock"'
svf  "B: ... and the reason it was chosen" exec_event.started '"backend_reason": "'

# Landlock's own refusals (exec and opens by path) are enforced but not observed on this
# backend (docs/backends.md): the errno is the proof; meta.json says "not observed" (file:
# null), and nothing is claimed in the audit log.
lrun exec -- "$W/bin/try_exec" /usr/bin/true
is   "B: exec outside the lease denied (EACCES)" grep -q '^errno=EACCES (execv)' <<<"$OUT"
meta "B: ... status failed; Landlock's refusal of the exec is not counted as a kill" 'm["denials"]["exec"] == 0 and m["status"] == "failed"'
if svf_quiet exec_event.denied /usr/bin/true; then bad "B: ... an exec_event.denied is claimed"; else ok "B: ... and no exec_event.denied is claimed"; fi

# A file the view shows but no rule grants: $W/ro/* binds $W/ro and grants its entries,
# nothing beneath them (a host file outside the view is ENOENT, below: not Landlock's doing).
lrun read --path "$W/ro/*" -- "$W/bin/try_open" "$W/ro/sub/deep.txt" r
is   "B: read outside the paths denied (EACCES)" grep -q '^errno=EACCES (open r)' <<<"$OUT"
meta "B: ... meta.json denials.file is null (not observed on landlock)" 'm["denials"]["file"] is None'
if svf_quiet file_event.denied "$W/ro/sub/deep.txt"; then bad "B: ... a file_event.denied is claimed"; else ok "B: ... and no file_event.denied is claimed"; fi
lrun hostname -- "$W/bin/try_open" /etc/hostname r
is   "B: a host file outside the view does not exist there (ENOENT)" grep -q '^errno=ENOENT (open r)' <<<"$OUT"

# Writing a path whose rule is read-only: the baseline's /dev/null (a working device in
# the view's /dev, so Landlock is what refuses); a :ro lease path is a read-only mount.
lrun rowrite -- "$W/bin/try_open" /dev/null w
is   "B: write to a :ro path denied (EACCES)" grep -q '^errno=EACCES (open w)' <<<"$OUT"
lrun rowrite2 --path "$W/ro/**" -- "$W/bin/try_open" "$W/ro/data.txt" w
is   "B: write to a :ro lease path: its read-only mount refuses it (EROFS)" grep -q '^errno=EROFS (open w)' <<<"$OUT"
is   "B: ... the file is unchanged" test "$(cat "$W/ro/data.txt")" = ro-data

lrun rw --path "$W/rw/**:rw" -- "$W/bin/try_open" "$W/rw/out.txt" w sandbox-wrote
is   "B: :rw path writable" test "$RC" = 0 -a "$(cat "$W/rw/out.txt" 2>/dev/null)" = sandbox-wrote
is   "B: ... the file is owned by the run_as uid" test "$(stat -c %u "$W/rw/out.txt" 2>/dev/null)" = 65534

# Network: listeners outside on both families; nothing from the sandbox may reach them.
PORT=$((41000 + $$ % 1000))
"$B/listen_tcp" tcp4 127.0.0.1 "$PORT" >"$W/l4.out" 2>&1 & PIDS+=("$!")
"$B/listen_tcp" tcp6 ::1 "$PORT" >"$W/l6.out" 2>&1 & PIDS+=("$!")
sleep 0.3
for c in "try_connect tcp4 127.0.0.1" "try_connect tcp6 ::1" "try_connect tcp6 ::ffff:127.0.0.1" \
	"try_connect udp4 127.0.0.1" "try_connect udp6 ::1" "try_sendto udp4 127.0.0.1" \
	"try_sendto udp6 ::1" "try_sendto tfo4 127.0.0.1"; do
	set -- $c
	lrun "net-$1-$2" -- "$W/bin/$1" "$2" "$3" "$PORT"
	is   "B: $1 $2 $3 denied (EPERM)" grep -Eq '^errno=EPERM' <<<"$OUT"
	meta "B: ... counted in denials.net and by the kernel side" 'm["denials"]["net"] >= 1 and m["enforcement"]["resident"]["denied"] >= 1'
	svf  "B: ... SVF net_event.denied" net_event.denied
done
is "B: the outside listeners got no connection from the sandboxes" bash -c '! grep -q "^got" "$1" "$2"' _ "$W/l4.out" "$W/l6.out"
expect "B: outside the sandbox TCP still connects" '^ok connected' "$B/try_connect" tcp4 127.0.0.1 "$PORT"

# Fileless exec and the loader as launcher: Landlock alone let both run (part A); the
# exec-image check must kill them before the image runs.
lrun memfd --path "$W/bin/**" -- "$W/bin/memfd_exec" memfd "$W/bin/hello"
is   "B: memfd exec never runs (no HELLO-RAN)" bash -c '! grep -q HELLO-RAN <<<"$1"' _ "$OUT"
meta "B: ... the task was killed by SIGKILL" 'm["signal"] == 9'
svf  "B: ... SVF exec_event.denied" exec_event.denied
lrun procfd --path "$W/bin/**" -- "$W/bin/memfd_exec" procfd "$W/bin/hello"
is   "B: memfd exec via /proc/self/fd never runs" bash -c '! grep -q HELLO-RAN <<<"$1"' _ "$OUT"
meta "B: ... killed or refused, and recorded" 'm["denials"]["exec"] >= 1'
lrun ldso --path "$W/bin/**" -- "$W/bin/try_exec" /lib64/ld-linux-x86-64.so.2 "$W/bin/hello"
is   "B: ld.so as launcher never runs the program" bash -c '! grep -q HELLO-RAN <<<"$1"' _ "$OUT"
meta "B: ... the launcher was killed by SIGKILL" 'm["signal"] == 9 and m["denials"]["exec"] >= 1'
lrun hello --cmd "$W/bin/hello" -- "$W/bin/try_exec" "$W/bin/hello"
is   "B: control: exec of the lease's own binary runs" bash -c '[ "$1" = 0 ] && grep -q "^HELLO-RAN" <<<"$2"' _ "$RC" "$OUT"

# Processes outside the sandbox are unaffected while a sandbox runs.
lrun_bg() { "$CALYX" run --lease "$1" --matrix "$LMATRIX" --pub "$PUB" --state "$ST" --enforce landlock -- "${@:2}" >"$1.out" 2>"$1.err"; echo $? >"$1.rc"; }
"$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-LANDLOCK --ttl 5m --cmd "sleep 2" -o "$W/sleep.tok" >/dev/null 2>&1
lrun_bg "$W/sleep.tok" sleep 2 & BG=$!
sleep 0.7
expect "B: outside, during a run: read /etc/hostname" '^ok read'            "$B/try_open" /etc/hostname r
expect "B: outside, during a run: exec works"         '^HELLO-RAN'          "$B/try_exec" "$B/hello"
expect "B: outside, during a run: memfd exec runs"     '^HELLO-RAN'          "$B/memfd_exec" memfd "$B/hello"
expect "B: outside, during a run: UDP sendto works"    '^ok sent'            "$B/try_sendto" udp4 127.0.0.1 9
expect "B: outside, during a run: TCP connect works"   '^ok connected'       "$B/try_connect" tcp4 127.0.0.1 "$PORT"
wait "$BG"
RC=$(cat "$W/sleep.tok.rc") OUT=$(cat "$W/sleep.tok.out") ERR=$(cat "$W/sleep.tok.err")
LID=$(grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' <<<"$("$CALYX" lease show "$W/sleep.tok" 2>/dev/null)" | head -n1)
D=$ST/outgoing/staging_runs/$LID
# (sleep itself may be refused /etc/locale.alias, the target of Debian's
# /usr/share/locale/locale.alias symlink: not in the baseline; a file denial is its own.)
meta "B: ... the sandbox run is ok and counted none of it" 'm["status"] == "ok" and m["denials"]["exec"] == 0 and m["denials"]["net"] == 0'

# Two concurrent sandboxes: each writes its own :rw dir and is denied the other's, which
# its view shows (writable: $W/c/*:rw binds $W/c read-write and grants only its entries, not
# what is made beneath them), so Landlock is what refuses.
for x in a b; do
	y=$([ $x = a ] && echo b || echo a)
	"$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-LANDLOCK --ttl 5m --path "$W/c/$x/**:rw" --path "$W/c/*:rw" \
		--cmd "sh -c 'sleep 1; $W/bin/try_open $W/c/$x/mine w $x; $W/bin/try_open $W/c/$y/theirs w $x'" \
		--helper "$W/bin/try_open" --helper sleep -o "$W/conc-$x.tok" >/dev/null 2>&1 || bad "B: issue conc-$x"
done
lrun_bg "$W/conc-a.tok" sh -c "sleep 1; $W/bin/try_open $W/c/a/mine w a; $W/bin/try_open $W/c/b/theirs w a" & PA=$!
lrun_bg "$W/conc-b.tok" sh -c "sleep 1; $W/bin/try_open $W/c/b/mine w b; $W/bin/try_open $W/c/a/theirs w b" & PB=$!
wait "$PA" "$PB"
for x in a b; do
	y=$([ $x = a ] && echo b || echo a)
	RC=$(cat "$W/conc-$x.tok.rc") OUT=$(cat "$W/conc-$x.tok.out") ERR=$(cat "$W/conc-$x.tok.err")
	is "B: concurrent sandbox $x writes its own dir" test "$(cat "$W/c/$x/mine" 2>/dev/null)" = "$x"
	is "B: concurrent sandbox $x cannot write $y's dir" bash -c '[ ! -e "$1" ] && grep -q "^errno=EACCES" "$2"' _ "$W/c/$y/theirs" "$W/conc-$x.tok.out"
	LID=$(grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' <<<"$("$CALYX" lease show "$W/conc-$x.tok" 2>/dev/null)" | head -n1)
	D=$ST/outgoing/staging_runs/$LID
	meta "B: ... sandbox $x ran in its own slot of the resident set" 'm["enforcement"]["resident"]["slot"] >= 1 and m["enforcement"]["resident"]["loaded_by_this_run"] is False'
	if svf_quiet file_event.denied "$W/c/$x/theirs"; then bad "B: ... sandbox $x's log holds $y's denial"; else ok "B: ... and not $y's denial"; fi
done

# Wall clock: the whole tree is killed.
lrun wall --limit wall=1s --helper sleep -- sh -c 'sleep 41 & sleep 42'
is   "B: wall-clock timeout: exit 124" test "$RC" = 124
is   "B: ... no process of the tree survives" bash -c 'p=$(pgrep -af "^sleep 4[12]$"); [ -z "$p" ] || { echo "# survived: $p"; exit 1; }'
meta "B: ... meta.json status violation (wall_ms)" 'm["status"] == "violation" and m["violation"]["limit"] == "wall_ms"'

is "B: SVF log is still a valid hash chain" python3 - "$SVF" <<'EOF'
import hashlib, json, sys
prev = "0" * 64
for i, raw in enumerate(open(sys.argv[1], "rb").read().splitlines(), 1):
    rec = json.loads(raw)
    cut = raw.rindex(b',"hash":"')
    assert hashlib.blake2b(raw[:cut] + b"}", digest_size=32).hexdigest() == rec["hash"], i
    assert rec["seq"] == i and rec["prev"] == prev, i
    prev = rec["hash"]
EOF

echo "== landlock: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
