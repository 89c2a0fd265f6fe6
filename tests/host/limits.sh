#!/usr/bin/env bash
# Limits on this host (hybrid cgroups: memory and pids only in v1; the landlock backend):
# every limit enforced while the run is alive. A CPU spinner (two processes), a memory
# hog, a fork bomb, an output flood on both streams, a large-file writer (and one that
# ignores SIGXFSZ), a sleeper: each stopped by the right limit (exit 123 / 124, status
# violation, meta.json violation, SVF resource_event.violation, the alert line), the host
# unharmed (no task left, the v2 and v1 cgroups removed). A command just under every
# limit ends within_limits. A limit this host cannot enforce (the v1 pids hierarchy
# unmounted in a private mount namespace: a real layout, nothing of the host changes)
# fails closed before the lease is used, and with unenforceable_limits: warn runs and
# says so. The sandbox really sits in its v1 cgroups, under the bounds.
#   tests/host/limits.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
set -f
suite_scratch limits
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/hog" tests/vm/progs/hog.c \
  || { bad "build hog"; finish; }
mkdir "$T/w" && chmod 777 "$T/w"   # the :rw place the file writers write to (as nobody)
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
ST=$T/state
HOG=$T/hog

CG2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n1)
own_v1() { sed -n "s/^[0-9]*:\([a-z,]*,\)\{0,1\}$1\(,[a-z,]*\)\{0,1\}:\(.*\)/\3/p" /proc/self/cgroup | head -n1; }
MEM1=/sys/fs/cgroup/memory$(own_v1 memory); MEM1=${MEM1%/}/calyx/landlock
PIDS1=/sys/fs/cgroup/pids$(own_v1 pids); PIDS1=${PIDS1%/}/calyx/landlock
diag "v2 set root $CG2/calyx/landlock; v1 set roots $MEM1, $PIDS1"

# lrun NAME LIMITS [MATRIX] -- CMD...: issue a lease for CMD (T/w writable) and run it.
# Sets RC, RUN (the run directory), LID.
lrun() {
	local name=$1 lim=$2; shift 2
	local mx=()
	if [ "$1" != -- ]; then mx=(--matrix "$1"); shift; fi
	shift
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-LIMITS --ttl 5m \
		--cmd "$*" --path "$T/w/**:rw" --limit "$lim" -o "$T/$name.tok" >/dev/null 2>&1 || { bad "issue $name"; return 1; }
	LID=$("$CALYX" lease show "$T/$name.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
	"$CALYX" run --lease "$T/$name.tok" --pub "$T/k/calyx.pub" "${mx[@]}" --state "$ST" -- "$@" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	RUN=$ST/outgoing/staging_runs/$LID
	diag "$name: exit $RC; stderr: $(head -c 400 "$T/$name.err" | tr '\n' '|')"
}
# nothing_left: no cgroup of this run in v2 or v1, no task of it anywhere.
nothing_left() {
	local d left=""
	for d in "$CG2/calyx/landlock" "$MEM1" "$PIDS1"; do
		ls -d "$d/$LID-"* >/dev/null 2>&1 && left="$left $(ls -d "$d/$LID-"*)"
	done
	[ -z "$left" ] || { WHY="cgroups left:$left"; return 1; }
	if pgrep -f "$HOG" >/dev/null; then WHY="hog processes left: $(pgrep -af "$HOG" | tr '\n' ' ')"; return 1; fi
	return 0
}
# violated LIMIT BOUND CMP: meta.json status/violation, SVF record, alert line agree;
# CMP: "gt" (measured > bound), "ge" (the kernel holds it at the bound), "none" (fsize).
violated() {
	python3 - "$RUN" "$ST" "$1" "$2" "$3" <<'EOF'
import json, sys, os
run, st, limit, bound, cmp = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
m = json.load(open(os.path.join(run, "meta.json")))
v = m["violation"]
assert m["status"] == "violation", m["status"]
assert v["limit"] == limit and v["bound"] == bound, v
assert m["limits"]["effective"][limit] == bound, m["limits"]["effective"]
if cmp == "gt":
    assert v["measured"] > bound, v
elif cmp == "ge":
    assert v["measured"] >= bound, v
else:
    assert v["measured"] is None and v["refused_writes"] > 0, v
assert v["how"] == m["limits"]["enforced"][limit], (v["how"], m["limits"]["enforced"][limit])
lease = m["lease"]
recs = [json.loads(l) for l in open(os.path.join(st, "logs/svf_audit/svf.jsonl"))]
sv = [r for r in recs if r["type"] == "resource_event.violation" and r["lease"] == lease]
assert len(sv) == 1, sv
d = sv[0]["data"]
for k in ("limit", "measured", "bound", "how"):
    assert d[k] == v[k], (k, d, v)
comp = [r for r in recs if r["type"] == "exec_event.completed" and r["lease"] == lease]
assert len(comp) == 1 and comp[0]["data"]["status"] == "violation" and comp[0]["data"]["violation"] == v, comp
al = [json.loads(l) for l in open(os.path.join(st, "logs/resource_monitoring/alerts.jsonl"))]
al = [a for a in al if a["lease"] == lease]
assert len(al) == 1, al
a = al[0]
assert a["status"] == "violation" and a["run"] == 1 and a["run_dir"] == lease, a
for k in ("limit", "measured", "bound", "how"):
    assert a[k] == v[k], (k, a, v)
EOF
}

# ---------------------------------------------------------------- each limit
lrun cpu cpu=300ms,wall=20s -- "$HOG" cpu
check "cpu spinner (two processes): exit 123" test "$RC" -eq 123
check "... violation cpu_ms, measured > bound, SVF record and alert line" violated cpu_ms 300 gt
check "... nothing left" nothing_left

lrun mem mem=64M,wall=20s -- "$HOG" mem 600
check "memory hog (600 MiB against 64M): exit 123" test "$RC" -eq 123
check "... never finished its allocation" bash -c '! grep -q "ok allocated" "$1/stdout.log"' _ "$RUN"
check "... violation mem_bytes (v1 memory.max_usage_in_bytes at the bound), SVF, alert" violated mem_bytes 67108864 ge
check "... measured from the v1 memory controller" grep -q '"measured_from":[[:space:]]*"memory.max_usage_in_bytes (v1)"' "$RUN/meta.json"
check "... nothing left" nothing_left

lrun pids pids=16,wall=20s -- "$HOG" pids 300
check "fork bomb (300 against 16): exit 123" test "$RC" -eq 123
check "... violation pids at the bound, SVF, alert" violated pids 16 ge
check "... no more than 16 tasks were ever made" bash -c 'n=$(sed -n "s/^forked //p" "$1/stdout.log"); [ -z "$n" ] || [ "$n" -le 16 ]' _ "$RUN"
check "... nothing left" nothing_left

lrun out2 output=64K,wall=20s -- "$HOG" out2
check "output flood on both streams: exit 123" test "$RC" -eq 123
check "... violation output_bytes, measured > bound, SVF, alert" violated output_bytes 65536 gt
check "... the two logs together hold exactly the bound; the bytes of both streams were counted" python3 - "$RUN" <<'EOF'
import json, os, sys
o = os.path.getsize(os.path.join(sys.argv[1], "stdout.log"))
e = os.path.getsize(os.path.join(sys.argv[1], "stderr.log"))
assert o + e == 65536, (o, e)
m = json.load(open(os.path.join(sys.argv[1], "meta.json")))
a = m["artifacts"]
po, pe = a["stdout.log"]["bytes_produced"], a["stderr.log"]["bytes_produced"]
# measured is what both had produced when the bound was passed; draining went on after
assert po > 0 and pe > 0 and po + pe >= m["violation"]["measured"] > 65536, (po, pe, m["violation"])
EOF
check "... nothing left" nothing_left

lrun fsize fsize=1M,wall=20s -- "$HOG" fsize "$T/w/big" 8
check "large-file writer (8 MiB against 1M): exit 123" test "$RC" -eq 123
check "... the file holds exactly the bound" test "$(stat -c %s "$T/w/big")" -eq 1048576
check "... violation fsize_bytes (refused writes counted), SVF, alert" violated fsize_bytes 1048576 none
check "... nothing left" nothing_left

lrun fsizei fsize=1M,wall=20s -- "$HOG" fsize "$T/w/big2" 8 ignore
check "large-file writer ignoring SIGXFSZ: exit 123" test "$RC" -eq 123
check "... its writes past the bound failed EFBIG" grep -q 'errno=EFBIG (write)' "$RUN/stdout.log"
check "... the file holds exactly the bound" test "$(stat -c %s "$T/w/big2")" -eq 1048576
check "... violation fsize_bytes all the same, SVF, alert" violated fsize_bytes 1048576 none
check "... nothing left" nothing_left

# The sleeper, with memory and pids bounds: looked at while it runs (its v1 cgroups and
# their bounds), then stopped at the wall clock.
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-LIMITS --ttl 5m \
	--cmd "$HOG sleep 30" --limit wall=3s,mem=48M,pids=12 -o "$T/sleep.tok" >/dev/null 2>&1 || bad "issue sleep"
LID=$("$CALYX" lease show "$T/sleep.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
"$CALYX" run --lease "$T/sleep.tok" --pub "$T/k/calyx.pub" --state "$ST" -- "$HOG" sleep 30 >"$T/sleep.out" 2>"$T/sleep.err" &
rp=$!
sp=""
for _ in $(seq 50); do
	sp=$(head -n1 "$CG2/calyx/landlock/$LID-$rp/r1/cgroup.procs" 2>/dev/null)
	[ -n "$sp" ] && [ "$(cat "/proc/$sp/comm" 2>/dev/null)" = hog ] && break
	sp=""; sleep 0.1
done
check "sleeper: found running in its v2 cgroup" test -n "$sp"
if [ -n "$sp" ]; then
	check "... it is in its v1 memory cgroup below ours" grep -qE "^[0-9]+:memory:.*/calyx/landlock/$LID-$rp/r1\$" "/proc/$sp/cgroup"
	check "... and in its v1 pids cgroup" grep -qE "^[0-9]+:pids:.*/calyx/landlock/$LID-$rp/r1\$" "/proc/$sp/cgroup"
	check "... memory.limit_in_bytes is the bound (48M)" test "$(cat "$MEM1/$LID-$rp/r1/memory.limit_in_bytes")" -eq 50331648
	if [ -e "$MEM1/$LID-$rp/r1/memory.memsw.limit_in_bytes" ]; then
		check "... memory.memsw.limit_in_bytes the same bound (swap is no way around it)" \
			test "$(cat "$MEM1/$LID-$rp/r1/memory.memsw.limit_in_bytes")" -eq 50331648
	fi
	check "... pids.max is the bound (12)" test "$(cat "$PIDS1/$LID-$rp/r1/pids.max")" -eq 12
	check "... its RLIMIT_FSIZE is the inherited one (no fsize limit set)" grep -q '^Max file size  *unlimited' "/proc/$sp/limits"
fi
wait "$rp"; RC=$?
RUN=$ST/outgoing/staging_runs/$LID
check "sleeper: exit 124 at the wall clock" test "$RC" -eq 124
check "... violation wall_ms, measured >= bound, SVF, alert" violated wall_ms 3000 ge
check "... nothing left (v2 and v1 cgroups removed)" nothing_left

# A runner SIGKILLed mid-run leaves its v1 directories (and v2 ones): the next run's sweep
# removes them all.
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-LIMITS --ttl 5m \
	--cmd "$HOG sleep 30" --limit wall=20s,mem=48M,pids=12 -o "$T/killed.tok" >/dev/null 2>&1 || bad "issue killed"
LID=$("$CALYX" lease show "$T/killed.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
"$CALYX" run --lease "$T/killed.tok" --pub "$T/k/calyx.pub" --state "$ST" -- "$HOG" sleep 30 >/dev/null 2>&1 &
rp=$!
# (cgroup files have no size: read them)
for _ in $(seq 50); do [ -n "$(cat "$PIDS1/$LID-$rp/r1/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
check "killed runner: its sandbox was in its v1 cgroups" test -n "$(cat "$MEM1/$LID-$rp/r1/cgroup.procs" 2>/dev/null)"
kill -9 "$rp"; wait "$rp" 2>/dev/null
for _ in $(seq 50); do [ -n "$(cat "$MEM1/$LID-$rp/r1/cgroup.procs" 2>/dev/null)" ] || break; sleep 0.1; done
check "killed runner: its v1 directories are left behind (nobody removed them)" test -d "$MEM1/$LID-$rp/r1" -a -d "$PIDS1/$LID-$rp/r1"
LIDK=$LID
lrun afterkill wall=10s -- "$HOG" sleep 0
check "the next run (exit $RC) swept the killed runner's v1 memory and pids directories" \
	bash -c '! ls -d "$1/$3-$4" "$2/$3-$4" 2>/dev/null' _ "$MEM1" "$PIDS1" "$LIDK" "$rp"
check "... and its v2 one" test ! -e "$CG2/calyx/landlock/$LIDK-$rp"

# ---------------------------------------------------------------- within every limit
lrun under cpu=5s,mem=64M,pids=16,wall=20s,output=1M,fsize=1M -- "$HOG" under 8 4 100000 "$T/w/small"
check "just under every limit: exit 0" test "$RC" -eq 0
check "... status ok, no violation, its alert line within_limits with peaks beside the bounds" python3 - "$RUN" "$ST" <<'EOF'
import json, sys, os
run, st = sys.argv[1], sys.argv[2]
m = json.load(open(os.path.join(run, "meta.json")))
assert m["status"] == "ok" and m["violation"] is None, m
al = [json.loads(l) for l in open(os.path.join(st, "logs/resource_monitoring/alerts.jsonl"))]
al = [a for a in al if a["lease"] == m["lease"]]
assert len(al) == 1, al
a = al[0]
assert a["status"] == "within_limits" and a["run_status"] == "ok", a
me, b = a["measured"], a["bounds"]
assert b == m["limits"]["effective"], (b, m["limits"]["effective"])
assert me["output_bytes"] == 100000 and me["fsize_refused_writes"] == 0, me
assert 8 << 20 < me["mem_bytes"] < b["mem_bytes"], me          # it touched 8 MiB
assert 2 <= me["pids"] <= b["pids"], me                          # itself and a child
for k in ("cpu_ms", "wall_ms"):
    assert 0 <= me[k] < b[k], (k, me)
assert not any(r["type"] == "resource_event.violation" and r["lease"] == m["lease"]
               for r in map(json.loads, open(os.path.join(st, "logs/svf_audit/svf.jsonl"))))
EOF
check "... the file it wrote is whole" test "$(stat -c %s "$T/w/small")" -eq 100000
check "... nothing left" nothing_left

# ---------------------------------------------------------------- a limit this host cannot enforce
# A private mount namespace without the v1 pids hierarchy: to calyx (which reads
# /proc/self/mountinfo) this host then has no pids controller at all.
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-LIMITS --ttl 5m \
	--cmd "$HOG sleep 0" --limit pids=8 -o "$T/nope.tok" >/dev/null 2>&1 || bad "issue nope"
LID=$("$CALYX" lease show "$T/nope.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
nopids() { unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/pids && exec "$@"' _ "$@"; }
nopids "$CALYX" run --lease "$T/nope.tok" --pub "$T/k/calyx.pub" --state "$ST" -- "$HOG" sleep 0 >"$T/nope.out" 2>"$T/nope.err"
RC=$?
diag "no pids hierarchy: exit $RC; stderr: $(tr '\n' '|' <"$T/nope.err")"
check "no pids controller: exit 69 before anything ran" test "$RC" -eq 69
check "... naming the limit and why" grep -q 'limit pids = 8 cannot be enforced on this host: the pids controller is not in the cgroup v2 hierarchy and no cgroup v1 pids hierarchy is mounted; nothing was run, the lease was not used' "$T/nope.err"
check "... no run directory, nothing left" bash -c '! ls -d "$1/outgoing/staging_runs/$2"* 2>/dev/null' _ "$ST" "$LID"
check "... calyx doctor (same namespace) lists pids as not enforceable" bash -c \
	'unshare -m --propagation private sh -c "umount /sys/fs/cgroup/pids && exec \"\$0\" doctor" "$1" | grep -qE "^  pids +no +the pids controller is not in the cgroup v2 hierarchy"' _ "$CALYX"
check "... and on the host as it is, pids by cgroup v1" bash -c '"$1" doctor | grep -qE "^  pids +ok +cgroup v1 pids.max"' _ "$CALYX"
lrun_again() { "$CALYX" run --lease "$T/nope.tok" --pub "$T/k/calyx.pub" --state "$ST" -- "$HOG" sleep 0 >"$T/nope2.out" 2>"$T/nope2.err"; }
lrun_again; RC=$?
check "... the single-use lease was not used: it runs now, on the whole host (exit $RC)" test "$RC" -eq 0

sed 's/^unenforceable_limits: refuse$/unenforceable_limits: warn/' policies/capability_matrix.yaml >"$T/warn.yaml"
grep -q '^unenforceable_limits: warn$' "$T/warn.yaml" || bad "warn matrix"
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-LIMITS --ttl 5m \
	--cmd "$HOG sleep 0" --limit pids=8 -o "$T/warn.tok" >/dev/null 2>&1 || bad "issue warn"
LID=$("$CALYX" lease show "$T/warn.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
nopids "$CALYX" run --lease "$T/warn.tok" --matrix "$T/warn.yaml" --pub "$T/k/calyx.pub" --state "$ST" -- "$HOG" sleep 0 >"$T/warn.out" 2>"$T/warn.err"
RC=$?
RUN=$ST/outgoing/staging_runs/$LID
diag "warn: exit $RC; stderr: $(tr '\n' '|' <"$T/warn.err")"
check "unenforceable_limits: warn: the run runs (exit 0)" test "$RC" -eq 0
check "... one line on stderr for the limit" test "$(grep -c '^calyx: warning: limit .* is not enforced on this host' "$T/warn.err")" -eq 1
check "... naming pids and the matrix setting" grep -q '^calyx: warning: limit pids = 8 is not enforced on this host: the pids controller is not in the cgroup v2 hierarchy and no cgroup v1 pids hierarchy is mounted (the matrix says unenforceable_limits: warn)$' "$T/warn.err"
check "... meta.json says so" python3 - "$RUN" <<'EOF'
import json, os, sys
m = json.load(open(os.path.join(sys.argv[1], "meta.json")))
l = m["limits"]
assert m["status"] == "ok" and l["not_enforced"] == ["pids"], l
assert l["enforced"]["pids"].startswith("not enforced: the pids controller"), l["enforced"]
assert l["enforced"]["mem_bytes"].startswith("cgroup v1 memory"), l["enforced"]
EOF
check "... nothing left" nothing_left

finish
