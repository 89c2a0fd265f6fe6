#!/usr/bin/env bash
# The origin's Day 5 as one scenario on this host's landlock backend, one state dir:
#   a. a real linter (Debian's flake8, installed by scripts/deps.sh) over a Python source
#      tree it may only read, writing its findings into a :rw output directory: exit 1
#      (flake8's "findings"), exactly the expected findings in the output file and in the
#      run's stdout.log, the tree unchanged and a write into it refused, the lease's SVF
#      records in order (lease_event.verified, lease_event.consumed, exec_event.started,
#      exec_event.completed, then the signed log_event.checkpoint) and meta.json;
#   b. an output limit violated: status violation, resource_event.violation in the log and
#      on the `calyx report` page with the limit, the page's verdict "verifies", and
#      `calyx audit verify` exit 0;
#   c. a run that rewrites, deletes and creates files in its :rw path, then `calyx
#      rollback`: the tree is byte for byte what it was (diff -r; mode, owner, size, mtime,
#      symlink target of every entry);
#   d. each kind of tampering of a copy of this state dir (tests/lib/svf_tamper.py) found
#      by `calyx audit verify` with its own exit code (80-87), the independent verifier
#      (tests/lib/svf_verify.py) agreeing.
#   tests/host/day5.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
set -f   # lease patterns are arguments, never globs

scripts/deps.sh flake8 >/dev/null || { bad "scripts/deps.sh flake8 failed"; finish; }
[ -x /usr/bin/flake8 ] || { bad "no /usr/bin/flake8 after scripts/deps.sh flake8"; finish; }
suite_scratch day5
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
ST=$T/st
LOG=$ST/logs/svf_audit/svf.jsonl
PYV=(/usr/bin/python3 "$PWD/tests/lib/svf_verify.py")
NOBODY=65534

# job NAME LEASE-OPTIONS… -- CMD…: issue a lease for exactly CMD and run it on ST.
# Sets RC, LID, RUN; the run's stdout/stderr in T/NAME.out, T/NAME.err.
job() {
	local name=$1; shift
	local lopts=()
	while [ "$1" != -- ]; do lopts+=("$1"); shift; done
	shift
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-DAY5 --ttl 5m \
		"${lopts[@]}" -o "$T/$name.tok" 2>"$T/$name.issue" || { bad "issue $name: $(cat "$T/$name.issue")"; return 1; }
	LID=$("$CALYX" lease show "$T/$name.tok" 2>/dev/null | awk '$1 == "lease" { print $2 }')
	RC=0
	"$CALYX" run --lease "$T/$name.tok" --pub "$T/k/calyx.pub" --state "$ST" -q -- "$@" >"$T/$name.out" 2>"$T/$name.err" || RC=$?
	RUN=$ST/outgoing/staging_runs/$LID
	diag "$name: $LID exit $RC; stderr: $(head -c 300 "$T/$name.err" | tr '\n' '|')"
}
eq() { [ "$1" = "$2" ] || { WHY="got '$1', want '$2'"; return 1; }; }
# listing DIR: every entry's path, type, mode, owner, size (not for directories), mtime
# and symlink target, sorted.
listing() { (cd "$1" && find . -printf '%p %y %m %U %G %T@ %l ' -a \( -type d -printf '-\n' -o -printf '%s\n' \) | sort); }
# same_tree BEFORE AFTER: byte for byte, and the same metadata for every entry.
same_tree() {
	local d
	d=$(diff -r --no-dereference "$1" "$2" 2>&1) || { WHY="diff -r: $(echo "$d" | head -n 5 | tr '\n' '|')"; return 1; }
	d=$(diff <(listing "$1") <(listing "$2")) || { WHY="stat: $(echo "$d" | head -n 6 | tr '\n' '|')"; return 1; }
}
# types_of LEASE: the SVF record types of that lease, in log order (calyx audit show --json)
types_of() { "$CALYX" audit show --state "$ST" --lease "$1" --json | python3 -c 'import json,sys; print(" ".join(json.loads(l)["type"] for l in sys.stdin))'; }
# checkpoint_after LEASE: the record after the lease's exec_event.completed is a signed
# checkpoint covering it (its data.seq is the completed record's seq)
checkpoint_after() {
	python3 - "$LOG" "$1" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
i = [k for k, r in enumerate(recs) if r["type"] == "exec_event.completed" and r["lease"] == sys.argv[2]]
assert len(i) == 1, i
c = recs[i[0] + 1]
assert c["type"] == "log_event.checkpoint" and c["data"]["seq"] == recs[i[0]]["seq"] and c["data"]["sig"], c
EOF
}
# verdicts STATE: CK (calyx audit verify's exit code), CS (its status), PY (the independent verifier's)
verdicts() {
	CK=0
	"$CALYX" audit verify --state "$1" --pub "$ST/keys/audit.pub" --json >"$T/v.json" 2>/dev/null || CK=$?
	CS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$T/v.json" 2>/dev/null)
	PY=$("${PYV[@]}" "$1" "$ST/keys/audit.pub" | awk '{ print ($1 == "intact") ? "intact" : $2 }')
}

# ---------------------------------------------------------------- a: the linter
# The source tree (root's, 0644/0755): an unused import, an undefined name, an unused
# local variable, a clean module. Otherwise PEP 8-clean, so flake8's default selection
# finds exactly these.
SRC=$T/src OUT=$T/out
mkdir -p "$SRC/pkg" "$OUT"
printf 'import os\n\n\ndef main():\n    return 0\n' > "$SRC/pkg/imports.py"
printf 'def area(r):\n    return PI * r * r\n' > "$SRC/pkg/names.py"
printf 'def f():\n    unused = 1\n    return 2\n' > "$SRC/pkg/locals.py"
printf '"""Nothing to find here."""\n\nVALUE = 1\n' > "$SRC/clean.py"
: > "$SRC/pkg/__init__.py"
chmod -R a+rX,go-w "$SRC"
chown "$NOBODY:$NOBODY" "$OUT"   # the sandbox runs as nobody: its output directory
cp -a "$SRC" "$T/src.before"
EXPECTED="./pkg/imports.py:1:1: F401 'os' imported but unused
./pkg/locals.py:2:5: F841 local variable 'unused' is assigned to but never used
./pkg/names.py:2:12: F821 undefined name 'PI'"
# The origin ran `ruff . --quiet` in the tree; here flake8 in the tree (the lease's cwd),
# --isolated (no config file of the tree or the user changes what it checks), --tee: the
# findings both in OUT/flake8.txt and on stdout (the run's stdout.log).
LINT=(flake8 --isolated --jobs=1 --tee "--output-file=$OUT/flake8.txt" .)
job lint --cmd "${LINT[*]}" --cwd "$SRC" --path "$SRC/**:ro" --path "$OUT/**:rw" -- "${LINT[@]}"
LL=$LID RL=$RUN
check "a: flake8 with findings: calyx run exits 1, flake8's own exit code" eq "$RC" 1
check "a: the findings file holds exactly the expected findings (file:line:col code)" \
	eq "$(sort "$OUT/flake8.txt" 2>/dev/null)" "$EXPECTED"
check "a: ... written by the sandbox's uid into the :rw directory" eq "$(stat -c %U "$OUT/flake8.txt" 2>/dev/null)" nobody
check "a: the run's stdout.log (an artifact) holds the same findings" eq "$(sort "$RL/stdout.log" 2>/dev/null)" "$EXPECTED"
check "a: stderr.log is empty" test -f "$RL/stderr.log" -a ! -s "$RL/stderr.log"
check "a: meta.json: status failed, exit 1, the linter's argv, binary, cwd, backend landlock" python3 - "$RL/meta.json" "$SRC" "${LINT[@]}" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
want = {"status": "failed", "exit_code": 1, "calyx_exit_code": 1, "signal": None, "violation": None,
        "argv": sys.argv[3:], "binary": "/usr/bin/flake8"}
for k, v in want.items():
    assert m[k] == v, (k, m[k], v)
assert m["enforcement"]["backend"] == "landlock", m["enforcement"]["backend"]
assert m["sandbox"]["view"]["cwd"] == sys.argv[2], m["sandbox"]["view"]["cwd"]
EOF
check "a: the artifacts: meta.json, stdout.log, stderr.log, exit_code.txt (1), events.jsonl" \
	bash -c 'for f in meta.json stdout.log stderr.log events.jsonl; do [ -f "$1/$f" ] || exit 1; done; [ "$(cat "$1/exit_code.txt")" = 1 ]' _ "$RL"
check "a: the source tree is unchanged (diff -r, and every entry's metadata)" same_tree "$T/src.before" "$SRC"
check "a: the lease's SVF records in order: verified, consumed, started, completed" \
	eq "$(types_of "$LL")" "lease_event.verified lease_event.consumed exec_event.started exec_event.completed"
check "a: ... then the signed log_event.checkpoint that covers them" checkpoint_after "$LL"
check "a: ... exec_event.completed says failed, exit 1" python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
c = [x for x in r if x["type"] == "exec_event.completed" and x["lease"] == sys.argv[2]][0]["data"]
assert c["status"] == "failed" and c["exit_code"] == 1, c' "$LOG" "$LL"
# The same paths for a second lease whose command tries to write into the tree.
WRITE="echo injected >> pkg/imports.py || echo refused-append; echo injected > new.py || echo refused-create"
job write --cmd "/bin/sh -c '$WRITE'" --cwd "$SRC" --path "$SRC/**:ro" --path "$OUT/**:rw" -- /bin/sh -c "$WRITE"
check "a: a write into the :ro tree from a run with the linter's paths: both refused" \
	eq "$RC $(cat "$T/write.out")" "0 refused-append
refused-create"
# Landlock refuses the write to the existing file, the view's read-only bind mount the new one.
check "a: ... the shell's refusals: Permission denied (the append), Read-only file system (the new file)" \
	eq "$(cat "$T/write.err")" "/bin/sh: 1: cannot create pkg/imports.py: Permission denied
/bin/sh: 1: cannot create new.py: Read-only file system"
check "a: ... and the tree is still unchanged" same_tree "$T/src.before" "$SRC"

# ---------------------------------------------------------------- b: a resource violation
job flood --cmd "yes calyx-day5" --limit output=1K -- yes calyx-day5
LB=$LID RB=$RUN
check "b: the run stopped by its output limit: exit 123" eq "$RC" 123
MEASURED=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
v = m["violation"]
assert m["status"] == "violation" and v["limit"] == "output_bytes" and v["bound"] == 1024 and v["measured"] > 1024, v
print(v["measured"])' "$RB/meta.json" 2>/dev/null)
check "b: meta.json: status violation, output_bytes, bound 1024, measured ${MEASURED:-none}" test -n "$MEASURED"
check "b: resource_event.violation in the log, with the same limit and measure" python3 -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
v = [x["data"] for x in r if x["type"] == "resource_event.violation" and x["lease"] == sys.argv[2]]
assert len(v) == 1 and v[0]["limit"] == "output_bytes" and v[0]["bound"] == 1024 and v[0]["measured"] == int(sys.argv[3]), v' \
	"$LOG" "$LB" "${MEASURED:-0}"
check "b: the lease's records: verified, consumed, started, the violation, completed" \
	eq "$(types_of "$LB")" "lease_event.verified lease_event.consumed exec_event.started resource_event.violation exec_event.completed"
RRC=0; "$CALYX" report "$LB" --state "$ST" -o "$T/violation.html" 2>"$T/report.err" || RRC=$?
check "b: calyx report exits 0" eq "$RRC" 0
# The page's text (tests/lib/report_text.py: Python's html.parser, not calyx's code).
/usr/bin/python3 tests/lib/report_text.py "$T/violation.html" >"$T/violation.txt" 2>&1 || bad "report_text.py: $(cat "$T/violation.txt")"
diag "the page: $(tr '\n' '|' < "$T/violation.txt")"
check "b: the report page names the lease" grep -qF "$LB" "$T/violation.html"
check "b: ... says it was stopped by output_bytes, measured ${MEASURED:-?} bytes, bound 1024 bytes" \
	grep -q "^stopped: Stopped by a limit: output_bytes measured ${MEASURED:-?} bytes\( ([^)]*)\)\{0,1\}, bound 1024 bytes" "$T/violation.txt"
check "b: ... has exactly one violated limit's row: output_bytes, ${MEASURED:-?} bytes of 1024 bytes" \
	bash -c '[ "$(grep -c "^limit: " "$1")" = 1 ] && grep -q "^limit: output_bytes (violated) | .* | $2 bytes\( ([^)]*)\)\{0,1\} | 1024 bytes | " "$1"' _ "$T/violation.txt" "${MEASURED:-?}"
check "b: ... its audit table holds the lease's records, the violation among them" \
	grep -qx "svf: lease_event.verified lease_event.consumed exec_event.started resource_event.violation exec_event.completed" "$T/violation.txt"
check "b: ... and its verdict is 'verifies'" grep -qx "verdict: verifies" "$T/violation.txt"
verdicts "$ST"
check "b: calyx audit verify: exit 0, intact (and the independent verifier agrees)" eq "$CK $CS $PY" "0 intact intact"

# ---------------------------------------------------------------- c: changes, then rollback
W=$T/w
mkdir -p "$W/sub"
printf 'original\n' > "$W/keep.txt"
printf 'to be rewritten\n' > "$W/sub/rewrite.txt"
printf 'to be deleted\n' > "$W/gone.txt"
ln -s sub/rewrite.txt "$W/link"
chmod 0644 "$W/keep.txt"; chmod 0600 "$W/sub/rewrite.txt"; chmod 0640 "$W/gone.txt"; chmod 0755 "$W" "$W/sub"
chown -h "$NOBODY:$NOBODY" "$W" "$W/sub" "$W/sub/rewrite.txt" "$W/gone.txt" "$W/link"
touch -d '2024-05-06 07:08:09.123456789' "$W/keep.txt" "$W/sub/rewrite.txt" "$W/gone.txt" "$W/sub"
touch -h -d '2024-05-06 07:08:09' "$W/link"
cp -a "$W" "$T/w.before"
CHANGE="printf rewritten > $W/sub/rewrite.txt; rm $W/gone.txt; echo made > $W/new.txt"
job change --cmd "/bin/sh -c '$CHANGE'" --helper /usr/bin/rm --path "$W/**:rw" -- /bin/sh -c "$CHANGE"
LC=$LID RC_=$RUN
check "c: the run that rewrites, deletes and creates exits 0" eq "$RC" 0
check "c: ... it changed the tree (rewritten, deleted, created)" \
	bash -c '[ "$(cat "$1/sub/rewrite.txt")" = rewritten ] && [ ! -e "$1/gone.txt" ] && [ "$(cat "$1/new.txt")" = made ]' _ "$W"
check "c: ... meta.json lists exactly those changes" eq \
	"$(python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["changes"]; print(c["created"], c["modified"], c["deleted"])' "$RC_/meta.json")" \
	"['$W/new.txt'] ['$W/sub/rewrite.txt'] ['$W/gone.txt']"
BRC=0; "$CALYX" rollback "$LC" --state "$ST" >"$T/rb.out" 2>"$T/rb.err" || BRC=$?
check "c: calyx rollback exits 0" eq "$BRC" 0
check "c: ... the tree is byte for byte what it was (diff -r; mode, owner, size, mtime, link target)" same_tree "$T/w.before" "$W"
check "c: ... the symlink points where it did" eq "$(readlink "$W/link")" sub/rewrite.txt
check "c: ... lease_event.rolled_back is the lease's last record" \
	eq "$(types_of "$LC" | awk '{ print $NF }')" lease_event.rolled_back
verdicts "$ST"
check "c: the log still verifies after the rollback (both verifiers)" eq "$CK $PY" "0 intact"

# ---------------------------------------------------------------- d: tampered copies
for spec in edited:80 deleted:81 inserted:82 reordered:83 truncated:84 cut:85 badsig:86 nosidecar:87; do
	case_=${spec%%:*} want=${spec#*:}
	C=$T/tampered-$case_
	rm -rf "$C"; cp -a "$ST" "$C"
	/usr/bin/python3 tests/lib/svf_tamper.py "$case_" "$C/logs/svf_audit" || bad "svf_tamper.py $case_"
	verdicts "$C"
	check "d: tampered copy ($case_): calyx audit verify exits $want ($CS), the independent verifier agrees ($PY)" \
		eq "$CK $PY" "$want ${CS:-none}"
done
verdicts "$ST"
check "d: the original state dir still verifies" eq "$CK $CS" "0 intact"

finish
