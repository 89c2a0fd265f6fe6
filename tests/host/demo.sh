#!/usr/bin/env bash
# `make demo` (scripts/demo.sh) runs green on this host and shows what it claims: the dry
# run's sandboxed `python3 --version` and refused replays, then the origin's Day 5: flake8's
# exit 1 and its two findings, the linter's SVF traces, the violation and its report page
# ("verifies"), the rollback, the log intact, and each tampered copy refused with its own
# exit code. tests/host/day5.sh checks the same outcomes in depth; this checks the demo.
#   tests/host/demo.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

suite_scratch demo
D5=""
trap '[ -n "$D5" ] && rm -rf "$D5"; rm -rf "$T"' EXIT
RC=0
CALYX_DEMO_STATE=$T/state scripts/demo.sh "$CALYX" >"$T/demo.out" 2>"$T/demo.err" || RC=$?
D5=$(sed -n 's/^   the trees are kept in \(\/tmp\/calyx\/demo-day5\.[A-Za-z0-9]*\)$/\1/p' "$T/demo.out")
[ "$RC" = 0 ] || diag "demo: exit $RC; stderr: $(tail -n 5 "$T/demo.err" | tr '\n' '|'); last lines: $(tail -n 5 "$T/demo.out" | tr '\n' '|')"
has() { grep -qxF -- "$1" "$T/demo.out" || { WHY="no line '$1'"; return 1; }; }
check "scripts/demo.sh exits 0" [ "$RC" = 0 ]
check "... its last line says the dry run and Day 5 are complete" \
	[ "$(tail -n1 "$T/demo.out")" = "demo: dry run and Day 5 complete; state kept in $T/state" ]
check "... the dry run's sandboxed python3 --version ran (exit 0)" grep -q '^   Python 3\.' "$T/demo.out"
check "... the replays were refused (67, twice)" [ "$(grep -c '^   exit code: 67 (67 = lease already consumed)$' "$T/demo.out")" = 2 ]
check "... flake8 exited 1" has "   exit code: 1 (flake8's own: 1 = it found something)"
check "... its findings file holds the unused import and the undefined name" \
	bash -c 'grep -qxF "     ./pkg/imports.py:1:1: F401 '"'"'os'"'"' imported but unused" "$1" &&
	         grep -qxF "     ./pkg/names.py:2:12: F821 undefined name '"'"'PI'"'"'" "$1"' _ "$T/demo.out"
check "... the linter's stdout.log is the same report" has "   the same report is the run's stdout.log artifact: identical"
check "... the write into the :ro tree was refused, the tree unchanged" has "   exit code: 2; the tree: unchanged"
check "... the flood stopped by its limit (123)" has "   exit code: 123 (123 = stopped by a limit)"
check "... the report page shows the violation and verifies" \
	bash -c 'grep -q "^     stopped: Stopped by a limit: output_bytes measured [0-9]* bytes" "$1" && grep -qxF "     verdict: verifies" "$1"' _ "$T/demo.out"
check "... the rollback restored the tree" has "   the tree is byte for byte what it was (diff -r, and each file's mode, owner and size)"
check "... the whole log verified intact" grep -q "^   intact: $T/state/logs/svf_audit: " "$T/demo.out"
for spec in edited:80 deleted:81 inserted:82 reordered:83 truncated:84 cut:85 badsig:86 nosidecar:87; do
	check "... tampering '${spec%%:*}' refused with ${spec#*:}" has "$(printf '     %-10s exit %s' "${spec%%:*}" "${spec#*:}")"
done
finish
