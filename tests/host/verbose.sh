#!/usr/bin/env bash
# The -v levels of `calyx enforcer start` and `calyx run` on this host's landlock backend:
# -v prints calyx's own steps ("calyx: enforcer start: …", "calyx: run: …") and no line of
# libbpf's; -vv adds libbpf's debug output (its lines start "libbpf: ", the prefix libbpf
# puts on every message it prints). libbpf prints only while a set is loaded, so the set is
# stopped before each case (no sandbox is live: the host tier runs under its lock) and is
# left up at the end.
#   tests/host/verbose.sh build/calyx      (run by tests/host/run.sh, under the tier lock)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
set -f
suite_scratch verbose
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"

# stop_set: no resident landlock set, so that the next command loads it
stop_set() { "$CALYX" enforcer stop --enforce landlock >"$T/stop.out" 2>&1 || { WHY="enforcer stop: $(cat "$T/stop.out")"; return 1; }; }
# count PATTERN FILE: lines of FILE starting with PATTERN
count() { grep -c "^$1" "$2"; }
# levels FILE OURS WANT_LIBBPF: FILE has OURS lines of calyx's own and libbpf lines (yes|no)
levels() {
	local ours libbpf; ours=$(count "$2" "$1"); libbpf=$(count "libbpf: " "$1")
	diag "$1: $ours lines '$2', $libbpf lines 'libbpf: '"
	[ "$ours" -ge 1 ] || { WHY="no line '$2' in $(head -c 300 "$1")"; return 1; }
	if [ "$3" = yes ]; then [ "$libbpf" -ge 100 ] || { WHY="$libbpf libbpf lines, expected the verifier's hundreds"; return 1; }
	else [ "$libbpf" -eq 0 ] || { WHY="$libbpf libbpf lines, expected none"; return 1; }; fi
}

for v in -v -vv; do
	want=no; [ "$v" = -vv ] && want=yes
	check "enforcer start $v: the set is stopped first" stop_set
	"$CALYX" enforcer start --enforce landlock "$v" >"$T/start$v.out" 2>"$T/start$v.err"
	rc=$?
	check "enforcer start $v exits 0 and loads the set" \
		sh -c "[ $rc -eq 0 ] && grep -q '^landlock set loaded' '$T/start$v.out'"
	check "enforcer start $v: calyx's steps on stderr, libbpf's lines: $want" \
		levels "$T/start$v.err" "calyx: enforcer start: " "$want"
done
"$CALYX" enforcer start --enforce landlock >"$T/start.out" 2>"$T/start.err"
check "enforcer start without -v: not one line on stderr" sh -c "[ ! -s '$T/start.err' ]"

for v in -v -vv; do
	want=no; [ "$v" = -vv ] && want=yes
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-VERBOSE --ttl 5m \
		--cmd "echo verbose$v" -o "$T/l$v.tok" 2>"$T/issue.err" || bad "lease issue: $(cat "$T/issue.err")"
	check "run $v: the set is stopped first" stop_set
	"$CALYX" run --lease "$T/l$v.tok" --pub "$T/k/calyx.pub" --state "$T/st" --enforce landlock "$v" \
		-- echo "verbose$v" >"$T/run$v.out" 2>"$T/run$v.err"
	rc=$?
	check "run $v exits 0 with the command's output" sh -c "[ $rc -eq 0 ] && [ \"\$(cat '$T/run$v.out')\" = verbose$v ]"
	check "run $v: calyx's steps on stderr, libbpf's lines: $want" levels "$T/run$v.err" "calyx: run: " "$want"
done
finish
