#!/usr/bin/env bash
# Host tier, real kernel: argv bound at every exec (issue 8 class 7; docs/lease-format.md
# "Argv binding") on the landlock backend, the shipped matrix (uid 65534). Every exec in a
# sandbox must be a lease command with its exact argv, or a helper; anything else is killed
# with SIGKILL at sched_process_exec before its first instruction and recorded as
# exec_event.denied with its argv. The VM tier runs the same attacks on bpf-lsm
# (tests/escape/e_argv.sh).
# Usage: tests/host/argv.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
[ "$(id -u)" = 0 ] || { echo "argv.sh: must run as root" >&2; exit 1; }

# Lease paths must lie in the shipped matrix's /tmp/calyx/**; lease binaries in
# directories only root can change.
mkdir -p /tmp/calyx
chmod 755 /tmp/calyx
W=$(mktemp -d /tmp/calyx/argv.XXXXXX)
chmod 755 "$W"
trap 'rm -rf "$W" "$W.state"' EXIT
mkdir -p "$W/bin" "$W/alt" "$W/s" "$W/k"
CF="-std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -I tests/vm/progs"
for p in hello exec_as; do
	gcc $CF -o "$W/bin/$p" "tests/vm/progs/$p.c" || { bad "build $p"; echo "$PASS passed, $FAIL failed"; exit 1; }
done
ln "$W/bin/hello" "$W/alt/hello-hard"        # the lease binary's file under another name
ln -s "$W/bin/hello" "$W/alt/hello-sym"
"$CALYX" keygen --out "$W/k" >/dev/null 2>&1 || { bad "keygen"; exit 1; }
# The state dir beside $W, not below the leases' $W/** (the overlap guard refuses that).
KEY=$W/k/calyx.key PUB=$W/k/calyx.pub ST=$W.state
SVF=$ST/logs/svf_audit/svf.jsonl

CODE='print(6*7*1000+1)'                       # the payload's mark: 42001
A=$(printf '%4000s' '' | tr ' ' a)
B=$(printf '%200s' '' | tr ' ' b)
H=$W/bin/hello X=$W/bin/exec_as
LONG_BYTES=$(( ${#H} + 1 + ${#A} + 1 + ${#B} + 2 ))
printf '#!/usr/bin/python3\nimport sys\nprint("TOOL-RAN", " ".join(sys.argv[1:]))\n' > "$W/s/tool.py"
printf '#!/usr/bin/python3\nprint("PAYLOAD-RAN")\n' > "$W/s/evil.py"
chmod 755 "$W/s/tool.py" "$W/s/evil.py"

# The sandboxed script: builtins only besides what it tests (dash runs no helper of its own).
# One line per check: "NAME: rc=N OUTPUT".
cat > "$W/s/attacks.sh" <<EOF
t() { n=\$1; shift; r=\$("\$@" 2>&1); rc=\$?; echo "\$n: rc=\$rc \$r"; }
t py-version python3 --version
t py-c python3 -c '$CODE'
t argv0-abs $X /usr/bin/python3 /usr/bin/python3 --version
t argv0-joined $X 'python3 --version' /usr/bin/python3
t argv0-ok $X python3 /usr/bin/python3 --version
t hello-ok $H --safe
t hello-args $H --evil
t hello-argv0 $X hello $H --safe
t sym-ok $X $H $W/alt/hello-sym --safe
t sym-args $X $H $W/alt/hello-sym --evil
t hard-ok $X $H $W/alt/hello-hard --safe
t hard-args $X $H $W/alt/hello-hard --evil
t tool-ok $W/s/tool.py --mode safe
t tool-args $W/s/tool.py --mode evil
t tool-interp-name python3 $W/s/tool.py --mode safe
t tool-interp-c /usr/bin/python3 -c '$CODE'
t tool-interp-other /usr/bin/python3 $W/s/evil.py --mode safe
t long-ok $H $A ${B}1
t long-diff $H $A ${B}2
EOF
cat > "$W/s/helper.sh" <<EOF
t() { n=\$1; shift; r=\$("\$@" 2>&1); rc=\$?; echo "\$n: rc=\$rc \$r"; }
t helper-a $H one two
t helper-b $X anything $H -c anything
EOF

# lease OUT ARGS...: a lease for this host; run LEASE CMD...: sets RC, OUT, ERR, LID.
lease() {
	local out=$1
	shift
	"$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-ARGV --ttl 5m "$@" -o "$out" 2>"$out.issue" ||
		{ bad "lease issue $*: $(cat "$out.issue")"; return 1; }
	LID=$(grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' "$out.issue" | head -n1)
}
run() {
	local l=$1
	shift
	"$CALYX" run --lease "$l" --pub "$PUB" --state "$ST" -- "$@" >"$W/out" 2>"$W/err"
	RC=$?
	OUT=$(cat "$W/out") ERR=$(cat "$W/err")
}
line() { grep "^$1: " <<<"$OUT" | head -n1 | cut -d' ' -f2-; }
# check NAME PREDICATE ARGS...: WHY says what went wrong.
check() { local n=$1; shift; WHY=""; if "$@"; then ok "$n"; else bad "$n: $WHY"; fi; }
runs() { case $(line "$1") in "rc=0 "*"$2"*) return 0 ;; esac; WHY="want rc=0 and '$2', got '$(line "$1")'"; return 1; }
. tests/lib/argv.sh
# denied_has STRING: this lease's exec_event.denied records include one holding STRING.
denied_has() {
	grep -F "\"lease\":\"$LID\"" "$SVF" 2>/dev/null | grep -F '"type":"exec_event.denied"' | grep -qF -- "$1" && return 0
	WHY="no exec_event.denied of $LID holding '$1'"
	return 1
}
lacks_out() { grep -qF -- "$1" <<<"$OUT" && { WHY="'$1' in the output"; return 1; }; return 0; }
eq() { [ "$1" = "$2" ] && return 0; WHY="got '$1', want '$2'"; return 1; }
meta_exec_denials() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["denials"]["exec"])' \
	"$ST/outgoing/staging_runs/$LID/meta.json" 2>/dev/null; }

lease "$W/a.tok" --cmd "/bin/sh $W/s/attacks.sh" --cmd 'python3 --version' --cmd "$H --safe" \
	--cmd "$W/s/tool.py --mode safe" --cmd "$H $A ${B}1" --helper "$X" --path "$W/**:ro" || exit 1
run "$W/a.tok" /bin/sh "$W/s/attacks.sh"
check "the run exits 0" eq "$RC" 0
check "backend landlock" eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["enforcement"]["backend"])' "$ST/outgoing/staging_runs/$LID/meta.json" 2>&1)" landlock
check "python3 --version (a lease command) runs" runs py-version "Python 3."
check "python3 -c CODE under a 'python3 --version' lease: SIGKILL" killed py-c
check "argv[0] spoofed as the full path: SIGKILL" killed argv0-abs
check "argv[0] 'python3 --version' as one string: SIGKILL" killed argv0-joined
check "argv[0] as the lease has it, through exec_as: runs" runs argv0-ok "Python 3."
check "a lease binary with its lease argv runs" runs hello-ok "HELLO-RAN argv0=$H --safe"
check "... with other arguments: SIGKILL" killed hello-args
check "... with another argv[0]: SIGKILL" killed hello-argv0
check "through a symlink, the lease argv: runs" runs sym-ok "HELLO-RAN argv0=$H --safe"
check "through a symlink, other arguments: SIGKILL" killed sym-args
check "through a hard link, the lease argv: runs (Landlock follows the inode)" runs hard-ok "HELLO-RAN argv0=$H --safe"
check "through a hard link, other arguments: SIGKILL" killed hard-args
check "#! script command with its argv: runs" runs tool-ok "TOOL-RAN --mode safe"
check "#! script command with other arguments: SIGKILL" killed tool-args
check "its interpreter by another name (python3 SCRIPT): SIGKILL" killed tool-interp-name
check "its interpreter with -c CODE: SIGKILL" killed tool-interp-c
check "its interpreter on another script: SIGKILL" killed tool-interp-other
check "an argv of $LONG_BYTES bytes equal to the lease's: runs" runs long-ok HELLO-RAN
check "an argv differing only after the first 4 KiB: SIGKILL" killed long-diff
check "no payload ran (42001)" lacks_out 42001
check "no payload ran (PAYLOAD-RAN)" lacks_out PAYLOAD-RAN
check "exec_event.denied carries the argv of python3 -c" denied_has "\"argv\":[\"python3\",\"-c\",\"$CODE\"]"
check "... an argv kill, sent" denied_has '"hook":"exec_argv","class":"exec","errno":9'
check "... the kill was sent" denied_has '"killed":true'
check "the one-string argv[0] is in its record" denied_has '"argv":["python3 --version"]'
check "the long argv's record: its size, marked truncated" denied_has "\"argv_bytes\":$LONG_BYTES,\"argv_truncated\":true"
check "meta.json counts every kill as an exec denial (12)" eq "$(meta_exec_denials)" 12

lease "$W/h.tok" --cmd "/bin/sh $W/s/helper.sh" --helper "$H" --helper "$X" --path "$W/**:ro" || exit 1
run "$W/h.tok" /bin/sh "$W/s/helper.sh"
check "helper lease: the run exits 0" eq "$RC" 0
check "a helper runs with any arguments" runs helper-a "HELLO-RAN argv0=$H one two"
check "... and any argv[0]" runs helper-b "HELLO-RAN argv0=anything -c anything"
check "helper lease: no exec denied" eq "$(grep -F "\"lease\":\"$LID\"" "$SVF" | grep -cF '"type":"exec_event.denied"')" 0

# A lease whose script's interpreter is named as a helper: lease issue says what that allows.
"$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-ARGV --ttl 5m --cmd "$W/s/tool.py" \
	--helper python3 -o "$W/w.tok" 2>"$W/w.err"
check "lease issue warns: the script's interpreter as a helper runs any argv" \
	grep -q "warning: helper python3 is the interpreter of script command $W/s/tool.py: it lets the sandbox run /usr/bin/python3 with any arguments" "$W/w.err"
"$CALYX" lease issue -k "$KEY" --aud "$(uname -n)" -i INT-TEST-ARGV --ttl 5m --cmd "$W/s/tool.py" \
	-o "$W/w2.tok" 2>"$W/w2.err"
check "... and does not when the lease does not name it" eq "$(grep -c warning "$W/w2.err")" 0

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
