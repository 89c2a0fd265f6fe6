#!/usr/bin/env bash
# `calyx lease suggest` (docs/suggest.md) on real runs of this host's landlock backend. A
# job (a #! script) reads two files of directory A, writes into directory B and runs two
# helpers. Its first lease is too narrow — the helpers are lease binaries only with other
# argvs, so the exec check kills them (the refusals this backend records) — and too wide:
# a command and a helper the job never runs. The suggestion for that run must (1) name
# exactly what a hand-written minimal lease names (its commands, helpers, paths and
# network, compared as sets; that lease is run too: it is enough), with limits above what
# was measured; (2) once issued as printed (its flags eval'd after `lease issue`), run the
# same job with zero denials and the job's output right; (3) be the same again when
# suggested from that second run. Then the refusals: an unknown run 88, a damaged
# meta.json 89, a state dir whose audit log lost the run's claims 89, a missing state dir 74.
# Then the audit-only workflow (docs/suggest.md): a second job (reads a file of directory
# C, rewrites a file of directory D, runs cat with its argv, connects to a TCP listener on
# 127.0.0.1) run with --audit-only under a lease naming only its command: every access a
# would_deny (opens from the observer, execs from the exec check, the connect from the
# cgroup programs); the suggestion from that run equals the hand-written minimal lease
# (exact paths :ro / :rw, the commands with their argvs, --net allow=127.0.0.1/32:PORT/tcp)
# and, issued, runs the job enforcing with zero denials and its output right. The suite
# runs in a network namespace of its own (unshare -n, lo up), as tests/host/netallow.sh:
# the listener and the address are its own.
#   tests/host/suggest.sh build/calyx      (run by tests/host/run.sh, under the tier lock)
set -u
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
[ "$(id -u)" = 0 ] || { bad "suggest.sh: must run as root"; finish; }
if [ -z "${CALYX_SUGGEST_NETNS:-}" ]; then
	CALYX_SUGGEST_NETNS=1 exec unshare -n -- "$SELF" "$CALYX"
fi
ip link set lo up || { bad "ip link set lo up in the test's network namespace"; finish; }
set -f
suite_scratch suggest
lsn=
trap '[ -n "$lsn" ] && kill "$lsn" 2>/dev/null; rm -rf "$T"' EXIT
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
ST=$T/state
A=$T/a B=$T/b
mkdir "$A" "$B" && printf 'line one\n' >"$A/in.txt" && printf 'two\n' >"$A/in2.txt" && chmod -R a+rX "$A"
chown 65534:65534 "$B"   # the shipped matrix's run_as
cat >"$T/job.sh" <<EOS
#!/bin/sh
cat -n $A/in.txt >$B/out.txt
wc -c $A/in2.txt >>$B/out.txt
echo job-done
EOS
chmod 755 "$T/job.sh"
WANT_OUT=$(printf '     1\tline one\n4 %s\n' "$A/in2.txt")

ISSUE=("$CALYX" lease issue --key "$T/k/calyx.key" --ttl 5m)
# job NAME LEASE-FILE: run the job under the lease; RC, LID, RUN (the run directory).
job() {
	LID=$("$CALYX" lease show "$2" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
	"$CALYX" run --lease "$2" --pub "$T/k/calyx.pub" --state "$ST" -q -- "$T/job.sh" >"$T/$1.out" 2>"$T/$1.err"
	RC=$?
	RUN=$ST/outgoing/staging_runs/$LID
	diag "$1: $LID exit $RC; stderr: $(head -c 300 "$T/$1.err" | tr '\n' '|')"
}
# no_denials RUN: meta.json counts none (file is null on landlock: not observed), the
# kernel side refused nothing (enforcement.resident.denied), events.jsonl has no refusal.
no_denials() {
	python3 - "$1" <<'PY' || { WHY="see above"; return 1; }
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
d = m["denials"]
assert d == {"exec": 0, "file": None, "net": 0, "other": 0, "syscall": 0}, d
assert m["enforcement"]["resident"]["denied"] == 0, m["enforcement"]["resident"]
assert m["seccomp"]["refusals"] == 0, m["seccomp"]
ev = [json.loads(l) for l in open(sys.argv[1] + "/events.jsonl")]
bad = [e for e in ev if e["type"] != "process"]
assert not bad, bad
PY
}

# ---------------------------------------------------------------- 1: the too-narrow lease
"${ISSUE[@]}" --aud "$(uname -n)" --intent INT-TEST-SUGGEST --cmd "$T/job.sh" \
	--cmd "cat $A/in.txt" --cmd "wc $A/in2.txt" --cmd "true unused" --helper grep \
	--path "$A/*:ro" --path "$B/**:rw" -o "$T/narrow.tok" 2>"$T/issue.err" || bad "issue: $(cat "$T/issue.err")"
job narrow "$T/narrow.tok"
check "narrow lease: both helpers killed for their argv (exec 2), the job goes on without their output" \
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["denials"]["exec"] == 2 and m["exit_code"] == 0, m["denials"]
assert open(sys.argv[2]).read() == "", "out.txt has the helpers output"' "$RUN/meta.json" "$B/out.txt"
NARROW=$LID

"$CALYX" lease suggest --state "$ST" "$NARROW" >"$T/sugg.flags" 2>"$T/sugg.err"
rc=$?
diag "suggestion:"; sed 's/^/#   /' "$T/sugg.flags"
check "suggest: exit 0, flags on stdout" sh -c "[ $rc -eq 0 ] && grep -q -- '--cmd' '$T/sugg.flags'"
check "suggest: says on stderr that this backend records no file refusal" \
	grep -q "^calyx: lease suggest: warning: the run was on the landlock backend" "$T/sugg.err"
"$CALYX" lease suggest --state "$ST" --json "$NARROW" >"$T/sugg.json" 2>/dev/null
rc=$?

# ---------------------------------------------------------------- 2: against a minimal lease
# What a careful operator would write by hand for this job: each program with the argv
# it runs, A's two files, B as the tree the job writes into (a file it creates needs the
# directory), no network.
"${ISSUE[@]}" --aud "$(uname -n)" --intent INT-TEST-SUGGEST --cmd "$T/job.sh" \
	--cmd "cat -n $A/in.txt" --cmd "wc -c $A/in2.txt" --path "$A/*:ro" --path "$B/**:rw" \
	-o "$T/minimal.tok" 2>"$T/issue.err" || bad "issue minimal: $(cat "$T/issue.err")"
job minimal "$T/minimal.tok"
check "the hand-written minimal lease runs the job: exit 0, its output" \
	sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/minimal.out')\" = job-done ] && [ \"\$(cat '$B/out.txt')\" = '$WANT_OUT' ]"
check "... with zero denials" no_denials "$RUN"
rm -f "$B/out.txt"
check "suggest --json: exit 0; commands, helpers, paths, network exactly the minimal lease's" \
	python3 - "$T/sugg.json" "$T/job.sh" "$A" "$B" "$rc" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); job, a, b = sys.argv[2:5]
assert sys.argv[5] == "0", "exit " + sys.argv[5]
want_cmds = {(job,), ("cat", "-n", a + "/in.txt"), ("wc", "-c", a + "/in2.txt")}
got_cmds = {tuple(c) for c in s["commands"]}
assert got_cmds == want_cmds, (got_cmds ^ want_cmds)
assert len(s["commands"]) == len(want_cmds), s["commands"]
assert s.get("helpers", []) == [], s.get("helpers")
assert sorted((p["pattern"], p["access"]) for p in s["paths"]) == sorted([(a + "/*", "ro"), (b + "/**", "rw")]), s["paths"]
assert s["network"] == "deny_all", s["network"]
assert s["intent"] == "INT-TEST-SUGGEST" and "jti" not in s and "exp" not in s, s
PY
check "suggest: every limit set, above what the run measured" \
	python3 - "$T/sugg.json" "$ST/outgoing/staging_runs/$NARROW/meta.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["limits"]; m = json.load(open(sys.argv[2]))["limits"]["measured"]
for k in ("cpu_ms", "mem_bytes", "pids", "wall_ms", "output_bytes"):
    assert k in s, k
    if m.get(k) is not None:
        assert s[k] >= 2 * m[k], (k, s[k], m[k])
PY

# ---------------------------------------------------------------- 3: issued and run
eval "\"\${ISSUE[@]}\" -o \"\$T/suggested.tok\" $(cat "$T/sugg.flags")" 2>"$T/issue.err"
issued() { [ -s "$T/suggested.tok" ] || { WHY="lease issue: $(cat "$T/issue.err")"; return 1; }; }
check "the suggestion, pasted after lease issue, issues a lease" issued
job suggested "$T/suggested.tok"
check "the suggested lease runs the job: exit 0, its output (A read, B written, both helpers ran)" \
	sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/suggested.out')\" = job-done ] && [ \"\$(cat '$B/out.txt')\" = '$WANT_OUT' ]"
check "... with zero denials" no_denials "$RUN"
"$CALYX" lease suggest --state "$ST" --json "$LID" >"$T/sugg2.json" 2>/dev/null
check "suggested again from that run: the same commands, helpers, paths and network" \
	python3 - "$T/sugg.json" "$T/sugg2.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("intent", "commands", "paths", "network", "aud"):
    assert a.get(k) == b.get(k), (k, a.get(k), b.get(k))
assert "helpers" not in b
PY

# ---------------------------------------------------------------- 4: audit-only, then enforcing
# The matrix: the shipped one, allowing audit-only runs and loopback TCP rules.
AOM=$T/ao-matrix.yaml
sed -e 's|^network: deny_all$|network: {allow: ["127.0.0.0/8:*/tcp"]}|' -e '$a audit_only: allow' \
	policies/capability_matrix.yaml >"$AOM"
grep -q '^network: {allow' "$AOM" || bad "could not write the audit-only matrix"
mkdir -p "$T/bin"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$T/bin/net_try" tests/vm/progs/net_try.c || bad "build net_try"
chmod 755 "$T/bin" "$T/bin/net_try"
NT=$T/bin/net_try
PORT=$((20000 + $$ % 20000))
"$NT" serve "$T/got" "tcp,127.0.0.1,$PORT" &
lsn=$!
i=0
while ! grep -qx ready "$T/got" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -qx ready "$T/got" || bad "the listener did not start"
C=$T/c D=$T/d
mkdir "$C" "$D" && printf 'audit line\n' >"$C/in.txt" && chmod -R a+rX "$C"
# D/out.txt exists and is the sandbox uid's: the job rewrites it (what creating a file
# needs is not observed on this backend: docs/suggest.md)
printf 'old\n' >"$D/out.txt" && chown -R 65534:65534 "$D"
cat >"$T/ao.sh" <<EOS
#!/bin/sh
cat -n $C/in.txt >$D/out.txt
$NT tcp,127.0.0.1,$PORT
echo job-done
EOS
chmod 755 "$T/ao.sh"
AO_OUT=$(printf '     1\taudit line')
# ao_run NAME LEASE-FILE [calyx run args]: RC, LID, RUN as job()
ao_run() {
	local name=$1 tok=$2
	shift 2
	LID=$("$CALYX" lease show "$tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
	"$CALYX" run --lease "$tok" --pub "$T/k/calyx.pub" --matrix "$AOM" --state "$ST" --enforce landlock -q "$@" \
		-- "$T/ao.sh" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
	RUN=$ST/outgoing/staging_runs/$LID
	diag "$name: $LID exit $RC; stderr: $(head -c 300 "$T/$name.err" | tr '\n' '|')"
}
# ao_wd HOOK STRING: a would_deny line of that hook in the run's events.jsonl holding STRING
ao_wd() {
	grep '"type":"would_deny"' "$RUN/events.jsonl" 2>/dev/null | grep -F "\"hook\":\"$1\"" | grep -qF -- "$2" && return 0
	WHY="no would_deny $1 line with '$2': $(grep -v '"type":"process"' "$RUN/events.jsonl" | head -c 900)"
	return 1
}
"${ISSUE[@]}" --aud "$(uname -n)" --intent INT-TEST-SUGGEST-AO --cmd "$T/ao.sh" --matrix "$AOM" \
	-o "$T/ao.tok" 2>"$T/issue.err" || bad "issue the command-only lease: $(cat "$T/issue.err")"
ao_run audit "$T/ao.tok" --audit-only
check "audit-only run of the command-only lease: exit 0, the job's output" \
	sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/audit.out')\" = \"\$(printf 'ok tcp 127.0.0.1 $PORT\njob-done')\" ]"
check "... it read C and rewrote D/out.txt (nothing was denied)" sh -c "[ \"\$(cat '$D/out.txt')\" = '$AO_OUT' ]"
check "... the listener got the connection" grep -q "^tcp 127.0.0.1 $PORT calyx-net-1$" "$T/got"
check "... would_deny: the read of C/in.txt (observer, file_open read)" ao_wd file_open "\"access\":\"read\",\"path\":\"$C/in.txt\""
check "... would_deny: the write of D/out.txt (file_open write)" ao_wd file_open "\"access\":\"write\",\"path\":\"$D/out.txt\""
check "... would_deny: cat and net_try are no lease binaries (exec_image, not killed)" \
	sh -c "grep '\"type\":\"would_deny\"' '$RUN/events.jsonl' | grep '\"hook\":\"exec_image\"' | grep -c '\"killed\":false' | grep -qx 2"
check "... would_deny: the connect to 127.0.0.1:$PORT" ao_wd socket_connect "\"addr\":\"127.0.0.1\",\"port\":$PORT"
check "... no deny or kill line" sh -c "! grep -q '\"type\":\"deny\"\\|\"type\":\"kill\"' '$RUN/events.jsonl'"
AO_LID=$LID
"$CALYX" lease suggest --state "$ST" --json "$AO_LID" >"$T/ao-sugg.json" 2>"$T/ao-sugg.err"
rc=$?
diag "suggestion (json): $(tr -d '\n\t ' <"$T/ao-sugg.json" | head -c 900)"
diag "warnings: $(tr '\n' '|' <"$T/ao-sugg.err" | head -c 900)"
"$CALYX" lease suggest --state "$ST" "$AO_LID" >"$T/ao-sugg.flags" 2>/dev/null
check "suggest --json from the audit-only run: exactly the hand-written minimal lease" \
	python3 - "$T/ao-sugg.json" "$T/ao.sh" "$C" "$D" "$NT" "$PORT" "$rc" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); job, c, d, nt, port = sys.argv[2:7]
assert sys.argv[7] == "0", "exit " + sys.argv[7]
# What an operator would write by hand: the script, each program with the argv it ran,
# the file read :ro, the file written :rw, the one TCP destination.
want_cmds = [(job,), ("cat", "-n", c + "/in.txt"), (nt, "tcp,127.0.0.1," + port)]
got_cmds = [tuple(x) for x in s["commands"]]
assert sorted(got_cmds) == sorted(want_cmds), (got_cmds, want_cmds)
assert s.get("helpers", []) == [], s.get("helpers")
got_paths = sorted((p["pattern"], p["access"]) for p in s["paths"])
assert got_paths == sorted([(c + "/in.txt", "ro"), (d + "/out.txt", "rw")]), got_paths
assert s["network"] == {"allow": [{"cidr": "127.0.0.1/32", "port": int(port), "proto": "tcp"}]}, s["network"]
assert s["intent"] == "INT-TEST-SUGGEST-AO", s["intent"]
PY
check "suggest (flags): --net allow=127.0.0.1/32:$PORT/tcp" grep -qxF -- "  --net allow=127.0.0.1/32:$PORT/tcp \\" "$T/ao-sugg.flags"
check "suggest: says the landlock audit-only record holds opens, not other file changes" \
	grep -q "^calyx: lease suggest: warning: the run was audit-only on the landlock backend" "$T/ao-sugg.err"
rm -f "$T/ao-issued.tok"
eval "\"\${ISSUE[@]}\" --matrix \"\$AOM\" -o \"\$T/ao-issued.tok\" $(cat "$T/ao-sugg.flags")" 2>"$T/issue.err"
check "the suggestion issues a lease within the matrix" sh -c "[ -s '$T/ao-issued.tok' ] || { cat '$T/issue.err'; exit 1; }"
printf 'old\n' >"$D/out.txt"
ao_run enforcing "$T/ao-issued.tok"
check "the suggested lease runs the job enforcing: exit 0, its output" \
	sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/enforcing.out')\" = \"\$(printf 'ok tcp 127.0.0.1 $PORT\njob-done')\" ]"
check "... D/out.txt rewritten from C/in.txt" sh -c "[ \"\$(cat '$D/out.txt')\" = '$AO_OUT' ]"
check "... the listener got the second connection" sh -c "[ \$(grep -c '^tcp 127.0.0.1 $PORT calyx-net-1$' '$T/got') -eq 2 ]"
check "... with zero denials" no_denials "$RUN"
check "... it was not audit-only" python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["audit_only"] is False and m["enforcement"]["backend"] == "landlock", m["audit_only"]' "$RUN/meta.json"

# ---------------------------------------------------------------- refusals
expect_exit() {   # DESC CODE MESSAGE-PART ARGS...
	local desc=$1 code=$2 msg=$3; shift 3
	"$CALYX" lease suggest "$@" >"$T/x.out" 2>"$T/x.err"
	GOT=$? CODE=$code MSG=$msg
	check "$desc" refused
}
refused() {
	[ "$GOT" -eq "$CODE" ] && [ ! -s "$T/x.out" ] && grep -qF -- "$MSG" "$T/x.err" && return 0
	WHY="exit $GOT, stdout $(wc -c <"$T/x.out") bytes: $(cat "$T/x.err")"; return 1
}
expect_exit "an unknown run: 88, named" 88 "LEASE-20991231-000000-0000" --state "$ST" LEASE-20991231-000000-0000
cp -a "$ST" "$T/st-meta"
printf '{not json' >"$T/st-meta/outgoing/staging_runs/$NARROW/meta.json"
expect_exit "a damaged meta.json: 89, naming the file" 89 "meta.json" --state "$T/st-meta" "$NARROW"
cp -a "$ST" "$T/st-svf"
: >"$T/st-svf/logs/svf_audit/svf.jsonl"
expect_exit "an audit log without the run's claims: 89, saying the granted paths are unknown" 89 \
	"holds no lease_event.verified record with the claims of $NARROW" --state "$T/st-svf" "$NARROW"
expect_exit "a missing state dir: 74" 74 "$T/nowhere" --state "$T/nowhere" "$NARROW"
finish
