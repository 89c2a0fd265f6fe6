#!/usr/bin/env bash
# The sanitizer tier's own check (make test-asan runs it first):
#   tests/asan/selftest.sh BUILD_DIR 'SANITIZER FLAGS'
# A program with a known leak, heap overflow and signed overflow (tests/asan/canary.c),
# built with the tier's flags, must each be stopped and reported, and fail
# scripts/sanitized.sh even when the command's own status is ignored; its clean mode must
# pass with no report; and BUILD_DIR/calyx must carry the ASan runtime. One "ok - " /
# "not ok - " line per check, then "N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR 'SANITIZER FLAGS'" >&2; exit 2; }
B=$1 FLAGS=$2
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit; }
T=$(mktemp -d "${TMPDIR:-/tmp}/calyx-asan-self.XXXXXX")
trap 'rm -rf "$T"' EXIT

# shellcheck disable=SC2086 # FLAGS: several flags
gcc -O2 -g $FLAGS -o "$T/canary" tests/asan/canary.c || { bad "build tests/asan/canary.c with $FLAGS"; finish; }

# expect MODE RC REPORT-TEXT: `canary MODE || true` under sanitized.sh: the tier exits RC,
# and for RC != 0 a report file holds REPORT-TEXT.
expect() {
	local mode=$1 want=$2 text=$3 rc
	scripts/sanitized.sh "$T/rep-$mode" sh -c "'$T/canary' $mode || true" >"$T/out" 2>&1
	rc=$?
	if [ "$want" -eq 0 ]; then
		if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$T/rep-$mode")" ]; then
			ok "canary $mode: the tier passes, no report"
		else
			bad "canary $mode: tier exit $rc, reports: $(ls "$T/rep-$mode")"
		fi
	elif [ "$rc" -eq "$want" ] && grep -qF -- "$text" "$T/rep-$mode"/* 2>/dev/null; then
		ok "canary $mode: reported ('$text') and the tier fails though the status was ignored"
	else
		bad "canary $mode: tier exit $rc (want $want), report '$text' missing: $(head -c 600 "$T/out")"
	fi
}
expect ok 0 ""
expect leak 1 "ERROR: LeakSanitizer: detected memory leaks"
expect heap 1 "ERROR: AddressSanitizer: heap-buffer-overflow"

# UBSan's reports in the ASan runtime ignore log_path (gcc 12's libsanitizer: the report
# goes to stderr only), so a finding of UBSan fails the process, not the tier by itself:
# it must end with SIGABRT and say what it found on stderr.
scripts/sanitized.sh "$T/rep-ub" "$T/canary" ub >"$T/out" 2>&1
rc=$?
if [ "$rc" -eq 134 ] && grep -qF "runtime error: signed integer overflow" "$T/out"; then
	ok "canary ub: UBSan stops it (exit 134) and reports on stderr"
else
	bad "canary ub: exit $rc (want 134): $(head -c 600 "$T/out")"
fi

# A finding ends the process with SIGABRT, never an exit code calyx could have chosen.
scripts/sanitized.sh "$T/rep-abort" "$T/canary" heap >/dev/null 2>&1
rc=$?
if [ "$rc" -eq 134 ]; then ok "a finding aborts the process (exit 134)"; else bad "heap overflow: exit $rc, want 134 (SIGABRT)"; fi

if ASAN_OPTIONS=help=1 "$B/calyx" --version 2>&1 | grep -q 'Available flags for AddressSanitizer'; then
	ok "$B/calyx is built with AddressSanitizer"
else
	bad "$B/calyx has no AddressSanitizer runtime"
fi
finish
