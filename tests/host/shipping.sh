#!/usr/bin/env bash
# Shipping the SVF log with rsyslog and verifying the central copies (docs/fleet.md
# "Shipping logs"): three "hosts" (state dirs, each with its own audit key) run real
# `calyx run`s while one rsyslogd per host follows its live svf.jsonl with imfile and
# forwards each line over TCP (octet-counted) to a central rsyslogd on 127.0.0.1, which
# writes one file per host (a dynafile by %hostname%). Host C's shipper drops record seq 3
# on the way (a filter). Checked: the central copies are byte for byte the hosts' logs (a
# record longer than rsyslog's default 8 KiB message, non-ASCII, quotes and backslashes
# included); `calyx audit verify --log/--host` on them: intact (0), per host lines and
# JSON, the dropped record (81), an altered one (80), another host's key (86), the end
# not shipped (87), a missing key file (74), the worst host's code for several; and that
# imfile follows a rotation done as calyx does it (rename-exchange) without loss.
#   tests/host/shipping.sh build/calyx      (run by tests/host/run.sh, under the tier lock)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

command -v rsyslogd >/dev/null || { bad "rsyslogd missing: scripts/deps.sh test installs rsyslog"; finish; }
suite_scratch shipping
PIDS=()
stop_rsyslogs() {
	for p in ${PIDS[@]+"${PIDS[@]}"}; do kill "$p" 2>/dev/null; done
	for p in ${PIDS[@]+"${PIDS[@]}"}; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
	PIDS=()
}
trap 'stop_rsyslogs; rm -rf "$T"' EXIT
set -f

"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
CENTRAL=$T/central
mkdir -p "$CENTRAL/out" "$CENTRAL/work" "$T/auditor"

# A free port on loopback for the central rsyslogd (the kernel picks one).
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[ -n "$PORT" ] || { bad "no free loopback port"; finish; }

# The settings every rsyslogd here needs for a line to arrive byte for byte: messages up
# to SVF_MAX_LINE (1 MiB) and more, control characters not escaped (calyx never writes a
# raw one: JSON escapes them; this keeps rsyslog from touching one either).
GLOBALS='maxMessageSize="2m" parser.escapeControlCharactersOnReceive="off"'

cat > "$CENTRAL/rsyslog.conf" <<EOF
global(workDirectory="$CENTRAL/work" $GLOBALS)
module(load="imtcp")
template(name="svf_line" type="string" string="%msg%\n")
template(name="svf_per_host" type="string" string="$CENTRAL/out/%hostname%.log")
ruleset(name="svf") { action(type="omfile" dynaFile="svf_per_host" template="svf_line") stop }
input(type="imtcp" address="127.0.0.1" port="$PORT" ruleset="svf")
EOF

# ship_conf HOST LOG [FILTER]: the host's shipper, following LOG by name from its start.
ship_conf() {
	local host=$1 log=$2 filter=${3:-}
	mkdir -p "$T/ship-$host"
	cat > "$T/ship-$host/rsyslog.conf" <<EOF
global(workDirectory="$T/ship-$host" localHostname="$host" $GLOBALS)
module(load="imfile")
ruleset(name="ship") {
	$filter
	action(type="omfwd" target="127.0.0.1" port="$PORT" protocol="tcp" TCP_Framing="octet-counted"
	       template="RSYSLOG_SyslogProtocol23Format")
	stop
}
input(type="imfile" file="$log" tag="calyx-svf" ruleset="ship")
EOF
}
# start_rsyslog DIR: rsyslogd -n with DIR/rsyslog.conf in the background.
start_rsyslog() {
	rsyslogd -N1 -f "$1/rsyslog.conf" >"$1/check.out" 2>&1 || { bad "rsyslogd -N1 $1: $(cat "$1/check.out")"; return 1; }
	rsyslogd -n -f "$1/rsyslog.conf" -i "$1/rsyslogd.pid" >"$1/rsyslogd.out" 2>&1 &
	PIDS+=($!)
}

N=0
# host_run HOST [LEASE-OPTIONS…] -- CMD…: one real run on HOST's state dir.
host_run() {
	local host=$1; shift
	local lopts=()
	while [ "$1" != -- ]; do lopts+=("$1"); shift; done
	shift
	N=$((N + 1))
	local cmd
	cmd=$(printf '%q ' "$@")
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-SHIP --ttl 5m \
		--cmd "${cmd% }" ${lopts[@]+"${lopts[@]}"} -o "$T/$N.tok" 2>"$T/$N.err" || { bad "issue $N: $(cat "$T/$N.err")"; return; }
	"$CALYX" run --lease "$T/$N.tok" --pub "$T/k/calyx.pub" --state "$T/st-$host" --quiet -- "$@" \
		>"$T/$N.out" 2>>"$T/$N.err" || bad "run $N on $host exited $?: $(tail -n 3 "$T/$N.err")"
}

HOSTS="hostA hostB hostC"
for h in $HOSTS; do
	"$CALYX" keygen --audit --state "$T/st-$h" >/dev/null 2>&1 || bad "keygen --audit $h"
	cp "$T/st-$h/keys/audit.pub" "$T/auditor/$h.pub"   # what the auditor was given
	host_run "$h" -- /bin/true   # the log exists before its shipper starts
done

start_rsyslog "$CENTRAL"
for h in $HOSTS; do
	filter=
	[ "$h" = hostC ] && filter="if \$msg startswith '{\"seq\":3,' then stop"   # lost in transit
	ship_conf "$h" "$T/st-$h/logs/svf_audit/svf.jsonl" "$filter"
	start_rsyslog "$T/ship-$h"
done

# More runs while the shippers follow the logs. Host A's second lease has 60 long paths
# (its lease_event.verified record is longer than rsyslog's default 8 KiB message) and an
# argv with non-ASCII, quotes, a backslash and rsyslog's own template characters.
LONG=()
for i in $(seq 1 60); do LONG+=(--path "/tmp/calyx/ship-$i-$(printf 'p%.0s' $(seq 1 180)):ro"); done
host_run hostA "${LONG[@]}" -- /bin/echo 'héllo "q" \ %msg% $x #y ü'
host_run hostB -- /bin/true
host_run hostC -- /bin/true
host_run hostC -- /bin/echo shipped

# wait_lines FILE N: until FILE has N lines (the shippers are asynchronous); 60 s at most.
wait_lines() {
	local i
	for i in $(seq 1 600); do
		[ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	WHY="$1 has $( [ -f "$1" ] && wc -l < "$1" || echo no) lines, expected $2"
	return 1
}
src() { echo "$T/st-$1/logs/svf_audit/svf.jsonl"; }
for h in hostA hostB; do
	check "$h: every record arrived" wait_lines "$CENTRAL/out/$h.log" "$(wc -l < "$(src $h)")"
done
check "hostC: every record but the dropped one arrived" wait_lines "$CENTRAL/out/hostC.log" $(($(wc -l < "$(src hostC)") - 1))
sleep 0.5   # nothing more should come; a line too many fails the byte comparisons below
stop_rsyslogs

longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$(src hostA)")
check "hostA's log has a record longer than rsyslog's default 8 KiB message ($longest bytes)" test "$longest" -gt 8192
check "hostA's log has the non-ASCII argv as written" grep -q 'héllo' "$(src hostA)"
check "hostA: the central copy is byte for byte the host's log" cmp "$(src hostA)" "$CENTRAL/out/hostA.log"
check "hostB: the central copy is byte for byte the host's log" cmp "$(src hostB)" "$CENTRAL/out/hostB.log"
check "hostC: the central copy is the host's log without record seq 3" \
	cmp <(grep -v '^{"seq":3,' "$(src hostC)") "$CENTRAL/out/hostC.log"
check "hostC: the host's own log holds seq 3" grep -q '^{"seq":3,' "$(src hostC)"

# verify ARGS…: RC, OUT (stdout), ERR (stderr) of `calyx audit verify ARGS…`.
verify() { "$CALYX" audit verify "$@" >"$T/v.out" 2>"$T/v.err"; RC=$?; OUT=$(cat "$T/v.out"); ERR=$(cat "$T/v.err"); }
# is RC WANT-OUT: exit code and stdout exactly.
is() {
	[ "$RC" = "$1" ] || { WHY="exit $RC, expected $1; stdout: $OUT; stderr: $ERR"; return 1; }
	[ $# -lt 2 ] || [ "$OUT" = "$2" ] || { WHY="stdout: $OUT; expected: $2"; return 1; }
}
# The key id as `calyx audit verify --json` reports it, from the hosts' checkpoint records.
kid() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "log_event.checkpoint": print(r["data"]["key"]); break' "$(src "$1")"; }
recs() { wc -l < "$1"; }
lastseq() { tail -n 1 "$1" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["seq"])'; }
A=$CENTRAL/out/hostA.log B=$CENTRAL/out/hostB.log C=$CENTRAL/out/hostC.log

# Rotation as calyx does it (docs/audit.md "Rotation"): the new file swapped in for
# svf.jsonl with renameat2(RENAME_EXCHANGE), the old one renamed svf.<seq>.jsonl. imfile
# follows the name: every line of both files arrives once, in order. (Lines of the shape
# of records; a real rotation needs a 64 MiB log.)
R=$T/rot
mkdir -p "$R/log"
printf '{"seq":1,"x":"a"}\n{"seq":2,"x":"b"}\n' > "$R/log/svf.jsonl"
start_rsyslog "$CENTRAL"
ship_conf hostR "$R/log/svf.jsonl"
start_rsyslog "$T/ship-hostR"
rot_want() { printf '{"seq":%s,"x":"%s"}\n' 1 a 2 b 3 c 4 d 5 e; }
check "rotation: the lines before it arrived" wait_lines "$CENTRAL/out/hostR.log" 2
printf '{"seq":3,"x":"c"}\n' >> "$R/log/svf.jsonl"
check "rotation: a line appended before it arrived" wait_lines "$CENTRAL/out/hostR.log" 3
python3 - "$R/log" <<'EOF'
import ctypes, os, sys
os.chdir(sys.argv[1])
with open("svf.new", "w") as f:
    f.write('{"seq":4,"x":"d"}\n')
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, b"svf.new", -100, b"svf.jsonl", 2) != 0:   # AT_FDCWD, RENAME_EXCHANGE
    sys.exit("renameat2: %s" % os.strerror(ctypes.get_errno()))
os.rename("svf.new", "svf.000000000001.jsonl")
EOF
check "rotation: the rotated-to file's first line arrived" wait_lines "$CENTRAL/out/hostR.log" 4
printf '{"seq":5,"x":"e"}\n' >> "$R/log/svf.jsonl"
check "rotation: a line appended after it arrived" wait_lines "$CENTRAL/out/hostR.log" 5
sleep 0.5
stop_rsyslogs
check "rotation: the central copy holds every line once, in order" cmp <(rot_want) "$CENTRAL/out/hostR.log"

verify --log "$A" --pub "$T/auditor/hostA.pub"
check "--log: hostA's central copy is intact (0)" is 0 \
	"intact: $A: $(recs "$A") records, $(grep -c '"type":"log_event.checkpoint"' "$A") checkpoints signed by $(kid hostA), the last covering seq $(lastseq "$A")"

verify --host "hostA=$A:$T/auditor/hostA.pub" --host "hostB=$B:$T/auditor/hostB.pub"
check "--host ×2: both intact (0), one line per host" is 0 "$(printf '%s\n%s' \
	"hostA: intact: $A: $(recs "$A") records, $(grep -c '"type":"log_event.checkpoint"' "$A") checkpoints signed by $(kid hostA), the last covering seq $(lastseq "$A")" \
	"hostB: intact: $B: $(recs "$B") records, $(grep -c '"type":"log_event.checkpoint"' "$B") checkpoints signed by $(kid hostB), the last covering seq $(lastseq "$B")")"
check "--host ×2: the summary on stderr" test "$ERR" = "calyx: 2 hosts: 2 intact, 0 not; exit 0"

verify --host "hostA=$A:$T/auditor/hostA.pub" --host "hostC=$C:$T/auditor/hostC.pub" --json
json_is() {
	python3 - "$T/v.out" "$@" <<'EOF' || { WHY=$(cat "$T/v.out"); return 1; }
import json, sys
lines = open(sys.argv[1]).read().splitlines()
want = [dict(kv.split("=", 1) for kv in w.split(",")) for w in sys.argv[2:]]
assert len(lines) == len(want), (len(lines), len(want))
for l, w in zip(lines, want):
    o = json.loads(l)
    for k, v in w.items():
        assert str(o[k]) == v, (k, o[k], v)
EOF
}
check "--host --json: one object per host; the record dropped in transit is 81 at seq 4 (line 3)" json_is \
	"host=hostA,log=$A,status=intact,exit_code=0,records=$(recs "$A"),key=$(kid hostA),key_source=$T/auditor/hostA.pub" \
	"host=hostC,log=$C,status=deleted,exit_code=81,seq=4,where=$C:3"
check "--host --json: exit 81, the worst host's" is 81

verify --host "hostA=$A:$T/auditor/hostA.pub" --host "hostC=$C:$T/auditor/hostC.pub"
check "--host: the dropped record named per host (81)" is 81 "$(printf '%s\n%s' \
	"hostA: intact: $A: $(recs "$A") records, $(grep -c '"type":"log_event.checkpoint"' "$A") checkpoints signed by $(kid hostA), the last covering seq $(lastseq "$A")" \
	"hostC: deleted: $C:3: seq jumps from 2 to 4: record 3 deleted")"
check "--host: the summary counts the host that is not intact" test "$ERR" = "calyx: 2 hosts: 1 intact, 1 not; exit 81"

# Damage to a central copy (as if in transit or at rest).
python3 - "$A" "$T/A.altered" <<'EOF'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")
lines[1] = lines[1].replace(b'"intent":"INT-TEST-SHIP"', b'"intent":"INT-TEST-SHIQ"', 1)
open(sys.argv[2], "wb").write(b"\n".join(lines))
EOF
check "the altered copy differs from the central one" test "$(cmp -s "$A" "$T/A.altered"; echo $?)" = 1
verify --log "$T/A.altered" --pub "$T/auditor/hostA.pub"
check "--log: an altered record is 80, named by its line" is 80 "edited: $T/A.altered:2: hash mismatch (record edited)"

verify --log "$A" --pub "$T/auditor/hostB.pub"
check "--log: another host's key is 86" is 86

head -n -1 "$A" > "$T/A.unsigned"   # the last record, a checkpoint, not shipped (yet)
verify --log "$T/A.unsigned" --pub "$T/auditor/hostA.pub"
check "--log: a copy whose last checkpoint has not arrived is 87" is 87
verify --log "$T/A.unsigned" --pub "$T/auditor/hostA.pub" --allow-unsigned-tail
check "--log --allow-unsigned-tail: the same copy is accepted (0)" is 0
: > "$T/empty.log"
verify --log "$T/empty.log" --pub "$T/auditor/hostA.pub"
check "--log: an empty copy proves nothing (87)" is 87 "unsigned: $T/empty.log: no records: nothing arrived, nothing is signed"

# The worst host's code: an unsigned tail (87) is less than a deleted record (81).
verify --host "hostA=$T/A.unsigned:$T/auditor/hostA.pub" --host "hostC=$C:$T/auditor/hostC.pub" --host "hostB=$B:$T/auditor/hostB.pub"
check "--host ×3: 87, 81 and 0 give 81" is 81
check "--host ×3: three lines, in the order given" test "$(cut -d: -f1,2 <<<"$OUT" | paste -sd'|')" = "hostA: unsigned|hostC: deleted|hostB: intact"

verify --host "hostA=$A:$T/auditor/none.pub" --host "hostB=$B:$T/auditor/hostB.pub"
check "--host: a missing key file is that host's 74, the others still verified" is 74
check "... both hosts reported" test "$(cut -d: -f1,2 <<<"$OUT" | paste -sd'|')" = "hostA: io-error|hostB: intact"

verify --log "$A"
check "--log without --pub is a usage error (64)" is 64
verify --host "hostA=$A"
check "--host without a key file is a usage error (64)" is 64
verify --host "hostA=$A:$T/auditor/hostA.pub" --host "hostA=$B:$T/auditor/hostB.pub"
check "--host: the same host twice is a usage error (64)" is 64
verify --log "$A" --pub "$T/auditor/hostA.pub" --state "$T/st-hostA"
check "--log with --state is a usage error (64)" is 64

finish
