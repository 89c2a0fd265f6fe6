# Shared by the host-tier suites (tests/host/*.sh but run.sh): results as "ok - ..." /
# "not ok - ..." lines, then "N passed, M failed" and the exit status (run.sh counts each
# suite as one result). Source it from the repository root, after `set -u`:
#   . tests/lib/suite.sh
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
# check DESC CMD...: the VM tier's contract (tests/vm/lib.sh): CMD may say why in WHY
check() { local desc=$1; shift; WHY=; if "$@"; then ok "$desc"; else bad "$desc${WHY:+: $WHY}"; fi; }
diag() { echo "# $*"; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit; }
# suite_scratch NAME: a fresh directory T under the shipped matrix's lease_paths bound
# (/tmp/calyx/**), readable by the sandbox's uid, removed on exit.
suite_scratch() {
	mkdir -p /tmp/calyx && chmod 755 /tmp/calyx
	T=$(mktemp -d "/tmp/calyx/$1.XXXXXX") || { bad "mktemp under /tmp/calyx"; finish; }
	trap 'rm -rf "$T"' EXIT
	chmod 755 "$T"
}
