#!/usr/bin/env bash
# The end-of-run summary and fail_on_denial (docs/run.md "The summary"), on this host's
# landlock backend: the summary's lines as they really are for a run with denials of two
# classes (net: the cgroup programs' socket refusals; syscall: the seccomp baseline's), a
# limit hit, a missing lease path and the limits this host cannot enforce; --quiet prints
# none of it; the command's own stderr stays intact; the net records name their task and
# no made-up address; --fail-on-denial (the flag, the matrix default, unchanged without a
# denial or with a failing command), also when records were lost (a flood).
#   tests/host/summary.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
. tests/lib/seccomp.sh

suite_scratch summary
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
inet_matrix "$T/inet.yaml" || bad "inet_sockets matrix"
sed -e '$a fail_on_denial: true' "$T/inet.yaml" > "$T/fod.yaml"

# The job: its own stderr line, two refused sockets (cgroup programs), one refused
# io_uring_setup (seccomp), then by mode: "limit" writes past output=1K, "ok" exits 0,
# "fail" exits 3; "clean" does nothing refused and exits 0.
cat > "$T/job.py" <<'EOF'
#!/usr/bin/python3
import ctypes, socket, sys
mode = sys.argv[1]
sys.stderr.write("job-stderr-line\n")
sys.stderr.flush()
if mode != "clean":
    for fam in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(fam, socket.SOCK_STREAM)
        except OSError as e:
            print("socket", e.errno)
    libc = ctypes.CDLL(None, use_errno=True)
    print("io_uring", libc.syscall(425, 1, None), ctypes.get_errno())
sys.stdout.flush()
if mode == "limit":
    sys.stdout.write("x" * 5000)
    sys.stdout.flush()
sys.exit(3 if mode == "fail" else 0)
EOF
chmod 755 "$T/job.py"

N=0
# job NAME MATRIX MODE [LEASE-OPTIONS…] -- [RUN-OPTIONS…]: issue a lease for job.py MODE and
# run it; RC, ERR (calyx's stderr file) and RUN (its run directory) are set.
job() {
	local name=$1 matrix=$2 mode=$3; shift 3
	local lopts=() ropts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do lopts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	ropts=("$@")
	N=$((N + 1))
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-SUMMARY --ttl 5m \
		--cmd "$T/job.py $mode" ${lopts[@]+"${lopts[@]}"} -o "$T/$name.tok" 2>/dev/null || bad "issue $name"
	RC=0
	ERR=$T/$name.err
	"$CALYX" run --lease "$T/$name.tok" --matrix "$matrix" --pub "$T/k/calyx.pub" --state "$T/st" \
		${ropts[@]+"${ropts[@]}"} -- "$T/job.py" "$mode" >"$T/$name.out" 2>"$ERR" || RC=$?
	RUN=$(ls -td "$T"/st/outgoing/staging_runs/LEASE-* 2>/dev/null | head -n 1)
}
# meta KEY.PATH: a value of the last run's meta.json, as JSON.
meta() { python3 -c 'import json,sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(json.dumps(v))' "$RUN/meta.json" "$1" 2>/dev/null; }
# summary_lines FILE: the summary's lines of a stderr file (from "calyx: summary" on).
summary_lines() { sed -n '/^calyx: summary/,$p' "$1"; }
# same_lines WANT GOT: two texts equal line for line (WHY: a diff).
same_lines() {
	[ "$1" = "$2" ] && return 0
	WHY=$(diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | head -n 20 | tr '\n' '|')
	return 1
}

# ---------------------------------------------------------------- A: the summary, line by line
job a "$T/inet.yaml" limit --path "$T/absent/**:ro" --limit output=1K
check "A: output limit: exit 123" test "$RC" = 123
check "A: the command's stderr.log is its own line, exactly" same_lines "job-stderr-line" "$(cat "$RUN/stderr.log")"
warn="calyx: warning: lease path $T/absent does not exist on this host (No such file or directory): the command will not see it"
check "A: the missing lease path is warned about before the command's own output" \
	same_lines "$warn|job-stderr-line" "$(grep -e '^calyx: warning' -e '^job-stderr' "$ERR" | head -n 2 | paste -sd'|')"
# What the summary must say, each value from what the run really did: meta.json for the
# lease id, the duration, the bytes produced and the host's unenforced limits; the rest is
# what job.py did.
want=$(python3 - "$RUN/meta.json" "$T" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); t = sys.argv[2]
# The violation object's measure: both streams together when the bound was passed.
produced = m["violation"]["measured"]
assert m["status"] == "violation" and m["violation"]["limit"] == "output_bytes", m
# The command may have exited before the kill (its 0) or died of it (signal 9).
ended = f' (the command died of signal {m["signal"]})' if m["signal"] is not None else f' (the command\'s {m["exit_code"]})'
print(f'calyx: summary of {m["lease"]}: violation, exit 123{ended}, {m["duration_ms"]} ms')
print("calyx:   denied        3: net 2, syscall 1 (landlock backend: Landlock's own refusals are enforced but not seen)")
print("calyx:     net         inet (socket), inet6 (socket)")
print("calyx:     syscall     io_uring_setup")
print(f"calyx:   limit hit     output_bytes: measured {produced} bytes, bound 1024 bytes")
first = True
for k, v in m["limits"]["enforced"].items():
    if v.startswith("not enforced"):
        why = v[len("not enforced"):].lstrip(": ")
        print(f'calyx:   {"not enforced" if first else "":<13} {k} ({why})')
        first = False
print(f"calyx:   missing       {t}/absent/** ({t}/absent): No such file or directory at the start")
EOF
)
check "A: the summary's lines" same_lines "$want" "$(summary_lines "$ERR")"
check "A: the summary is the end of stderr, after the command's line" \
	test "$(grep -n '^job-stderr-line$' "$ERR" | cut -d: -f1)" -lt "$(grep -n '^calyx: summary' "$ERR" | cut -d: -f1)"
check "A: meta.json lease_paths_missing" same_lines \
	"[{\"pattern\": \"$T/absent/**\", \"path\": \"$T/absent\", \"why\": \"No such file or directory\"}]" \
	"$(meta lease_paths_missing)"
check "A: meta.json fail_on_denial is off" same_lines \
	'{"enabled": false, "by": null, "denials": 3, "exit_code_turned": false}' "$(meta fail_on_denial)"
# The net records name their task (comm, pid, ppid: the cgroup programs read them too)
# and have no address: a socket being created has none.
check "A: the socket_create records name job.py, its pid and parent, and no address" python3 - "$RUN" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
main = [r for r in recs if r["type"] == "process" and r["execs"]][0]["pid"]
net = [r for r in recs if r.get("hook") == "socket_create"]
assert [r["family"] for r in net] == ["inet", "inet6"], net
for r in net:
    assert r["comm"] == "job.py" and r["pid"] == main and r["ppid"] > 0, r
    assert "addr" not in r and "port" not in r, r
    assert r["sock_flags"] == 1 | 6 << 16, r   # SOCK_STREAM, IPPROTO_TCP
EOF

# ---------------------------------------------------------------- B: --quiet
job b "$T/inet.yaml" ok --path "$T/absent/**:ro" -- --quiet
check "B: --quiet: exit 0" test "$RC" = 0
check "B: --quiet: stderr is the command's own line only (no warning, no summary)" \
	same_lines "job-stderr-line" "$(cat "$ERR")"
check "B: ... and meta.json still lists the missing path" test "$(meta lease_paths_missing | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1

# ---------------------------------------------------------------- C: fail_on_denial
job c1 "$T/inet.yaml" ok -- --fail-on-denial
check "C1: --fail-on-denial, denials, the command exited 0: exit 125" test "$RC" = 125
check "C1: exit_code.txt says 125" same_lines 125 "$(cat "$RUN/exit_code.txt")"
check "C1: meta.json: status ok, the command's 0, calyx's 125" same_lines '"ok" 0 125' \
	"$(meta status) $(meta exit_code) $(meta calyx_exit_code)"
check "C1: meta.json fail_on_denial" same_lines \
	'{"enabled": true, "by": "--fail-on-denial", "denials": 3, "exit_code_turned": true}' "$(meta fail_on_denial)"
check "C1: the summary's fail-on-denial line" same_lines \
	"calyx:   denial rule   exit 125: the command exited 0, but 3 operations were denied (--fail-on-denial); Landlock's own refusals are not seen, so they cannot count" \
	"$(grep '^calyx:   denial rule' "$ERR")"
check "C1: the completion record says 125, the command's 0, and why" python3 -c 'import json,sys
recs = [json.loads(l) for l in open(sys.argv[1])]
c = [r for r in recs if r["type"] == "exec_event.completed"][-1]["data"]
sys.exit(c["calyx_exit_code"] != 125 or c["status"] != "ok" or c["exit_code"] != 0
         or c["fail_on_denial"] != {"enabled": True, "by": "--fail-on-denial", "denials": 3, "exit_code_turned": True})' \
	"$T/st/logs/svf_audit/svf.jsonl"
job c2 "$T/inet.yaml" clean -- --fail-on-denial
check "C2: --fail-on-denial without a denial: exit 0" test "$RC" = 0
check "C2: meta.json fail_on_denial counted none" same_lines \
	'{"enabled": true, "by": "--fail-on-denial", "denials": 0, "exit_code_turned": false}' "$(meta fail_on_denial)"
check "C2: the summary says none was seen" grep -qx "calyx:   denial rule   no denial seen (--fail-on-denial); Landlock's own refusals are not seen, so they cannot count" "$ERR"
job c3 "$T/fod.yaml" ok
check "C3: the matrix's fail_on_denial: true, no flag: exit 125" test "$RC" = 125
check "C3: meta.json says it was the matrix" same_lines '"matrix"' "$(meta fail_on_denial.by)"
job c4 "$T/inet.yaml" ok
check "C4: neither: denials, exit 0 stays 0" test "$RC" = 0
job c5 "$T/fod.yaml" fail -- --fail-on-denial
check "C5: the command's own exit 3 is kept (only a 0 is turned)" test "$RC" = 3
check "C5: meta.json: not turned" same_lines false "$(meta fail_on_denial.exit_code_turned)"

# ---------------------------------------------------------------- D: a run that never started
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-SUMMARY --ttl 5m \
	--cmd "$T/job.py ok" -o "$T/d.tok" 2>/dev/null || bad "issue d"
RC=0
"$CALYX" run --lease "$T/d.tok" --matrix "$T/inet.yaml" --pub "$T/k/calyx.pub" --state "$T/st" \
	-- "$T/job.py" other >/dev/null 2>"$T/d.err" || RC=$?
check "D: a command not in the lease: 68" test "$RC" = 68
check "D: the error line, then the one-line summary" same_lines \
	"calyx: command not allowed: '$T/job.py other' is not one of the lease's commands|calyx: summary: the command did not start (exit 68); the lease was not used" \
	"$(paste -sd'|' "$T/d.err")"

# ---------------------------------------------------------------- E: records lost
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/deny_flood" tests/host/progs/deny_flood.c \
	|| bad "build deny_flood"
F=200000
# The flood runs while the runner is stopped (SIGSTOP): far more refusals than its ring
# buffer holds, so records are lost whatever the consumer's speed (tests/host/flood.sh).
mkdir -p "$T/rw" && chmod 777 "$T/rw"
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-SUMMARY --ttl 5m \
	--cmd "$T/deny_flood socket $F --after $T/rw/go" --path "$T/rw/**:rw" -o "$T/e.tok" 2>/dev/null || bad "issue e"
RC=0
"$CALYX" run --lease "$T/e.tok" --matrix "$T/inet.yaml" --pub "$T/k/calyx.pub" --state "$T/st" --fail-on-denial \
	-- "$T/deny_flood" socket "$F" --after "$T/rw/go" >"$T/e.out" 2>"$T/e.err" &
runner=$!
for _ in $(seq 600); do [ -e "$T/rw/go.ready" ] && break; sleep 0.05; done   # the command runs
kill -STOP "$runner"
touch "$T/rw/go"
for _ in $(seq 600); do [ -e "$T/rw/go.done" ] && break; sleep 0.1; done
kill -CONT "$runner"
wait "$runner" || RC=$?
RUN=$(ls -td "$T"/st/outgoing/staging_runs/LEASE-* 2>/dev/null | head -n 1)
check "E: the flood was refused every time" grep -qx "denied=$F allowed=0 other=0" "$T/e.out"
dropped=$(meta dropped_events)
diag "E: dropped_events=$dropped, denials.net=$(meta denials.net), resident.denied=$(meta enforcement.resident.denied)"
check "E: records were lost (the flood outran the ring buffer)" test "${dropped:-0}" -gt 0
check "E: --fail-on-denial counted every refusal, recorded or not: exit 125" test "$RC" = 125
check "E: meta.json fail_on_denial.denials = $F (the kernel's exact count)" same_lines "$F" "$(meta fail_on_denial.denials)"
want=$(python3 - "$RUN/meta.json" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
rec = sum(v for v in m["denials"].values() if v is not None) - m["seccomp"]["refusals"]
k = m["enforcement"]["resident"]["denied"]
print(f"calyx:   records lost  {m['dropped_events']} dropped; the enforcer refused {k} operations, {k - rec} of them have no record: the examples are incomplete")
EOF
)
check "E: the summary says how many records were lost" same_lines "$want" "$(grep '^calyx:   records lost' "$T/e.err")"
check "E: the net examples: the one refusal, with how often it was recorded" \
	grep -qE "^calyx:     net         inet \(socket\) x[0-9]+$" "$T/e.err"

finish
