#!/usr/bin/env bash
# The state directory and the ledger (docs/run.md "The state directory and the ledger",
# issue class 9), on this host's landlock backend, the shipped matrix's uid 65534:
# - a run whose lease paths reach the state dir or the ledger (below a :rw path, above it,
#   through a symlink, :ro over the audit log) is refused with 66 before anything runs,
#   and the lease is not used;
# - a state dir or ledger someone other than root could change is refused (78);
# - a symlink planted in the state dir or the ledger is never followed (74, nothing
#   written where it points);
# - the single-use ledger is host-wide: a consumed lease is refused (67) with another
#   --state or CALYX_STATE;
# - a lease for another host, or one without aud, is refused (66) naming both hosts.
#   tests/host/state.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
set -f

# Under /tmp/calyx: the shipped matrix's lease_paths bound (lease paths must fit it).
mkdir -p /tmp/calyx
T=$(mktemp -d /tmp/calyx/state.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
KEY=$T/k/calyx.key PUB=$T/k/calyx.pub HOST=$(uname -n)
# This suite's own ledger: a test matrix that is the shipped one but for `ledger:`.
LEDGER=$T/ledger
sed -e "s|^ledger: .*|ledger: $LEDGER|" policies/capability_matrix.yaml > "$T/matrix.yaml"
grep -q "^ledger: $LEDGER\$" "$T/matrix.yaml" || bad "the test matrix names the suite's ledger"
M=$T/matrix.yaml

issue() { local out=$1; shift; "$CALYX" lease issue -k "$KEY" -i INT-TEST-STATE --ttl 5m "$@" -o "$out" 2>"$out.err" \
  || { echo "# lease issue failed: $(cat "$out.err")"; return 1; }; }
# run LEASE STATE [calyx run args] -- CMD: RC, ERR
run() { local lease=$1 st=$2; shift 2; "$CALYX" run --lease "$lease" --matrix "$M" --pub "$PUB" --state "$st" "$@" \
  >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err"); }
rc_is() { [ "$RC" -eq "$1" ] || { echo "# exit $RC, expected $1; stderr: $ERR"; return 1; }; }
err_has() { grep -qF -- "$1" <<<"$ERR" || { echo "# stderr lacks '$1': $ERR"; return 1; }; }
lease_id() { "$CALYX" lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1; }
ran() { [ -n "$(find "$1/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name 'LEASE-*' 2>/dev/null)" ]; }
never_ran() { ! ran "$1" || { echo "# $1 has a run directory"; return 1; }; }

# ---------------------------------------------------------------- the overlap guard
mkdir -p "$T/w/rw" "$T/w/ro"
issue "$T/below.l" --aud "$HOST" --cmd /bin/true --path "$T/w/rw/**:rw" || bad "issue below lease"
run "$T/below.l" "$T/w/rw/state" -- /bin/true
check "state dir below a :rw lease path: refused, 66" rc_is 66
check "... naming the lease path, its pattern and the state dir" \
  err_has "lease path $T/w/rw (pattern '$T/w/rw/**:rw') is above the state dir $T/w/rw/state"
check "... nothing ran there" never_ran "$T/w/rw/state"
# The run_as user (nobody) must be able to write the :rw path (docs/run.md): it is given
# the directory for this run only, then root's again (the ledger below it must be root's).
chown 65534:65534 "$T/w/rw"
run "$T/below.l" "$T/st-ok" -- /bin/true
check "... and the lease was not used: it runs with a state dir outside (exit 0)" rc_is 0
chown 0:0 "$T/w/rw"

issue "$T/inside.l" --aud "$HOST" --cmd /bin/true --path "$T/st-in/logs/**:rw" || bad "issue inside lease"
mkdir -p "$T/st-in"
run "$T/inside.l" "$T/st-in" -- /bin/true
check "a lease path inside the state dir (its logs): refused, 66" rc_is 66
check "... saying so" err_has "is inside the state dir $T/st-in"

issue "$T/ro.l" --aud "$HOST" --cmd /bin/true --path "$T/st-ro/logs/svf_audit/svf.jsonl:ro" || bad "issue ro lease"
mkdir -p "$T/st-ro"
run "$T/ro.l" "$T/st-ro" -- /bin/true
check "a :ro lease path on the audit log: refused too, 66" rc_is 66

mkdir -p "$T/w/links" "$T/st-sym"
ln -s "$T/st-sym" "$T/w/links/to-state"
issue "$T/sym.l" --aud "$HOST" --cmd /bin/true --path "$T/w/links/to-state/**:rw" || bad "issue symlink lease"
run "$T/sym.l" "$T/st-sym" -- /bin/true
check "a lease path through a symlink to the state dir: refused, 66" rc_is 66
check "... naming where it leads" err_has "lease path $T/st-sym (pattern '$T/w/links/to-state/**:rw')"

# The state dir given through a symlink of the operator's: compared where it leads.
ln -s "$T/w/rw" "$T/alias"
run "$T/below.l" "$T/alias/st2" -- /bin/true
check "a state dir named through a symlink into a :rw path: refused, 66" rc_is 66

# The ledger below a lease path.
sed -e "s|^ledger: .*|ledger: $T/w/rw/ledger|" policies/capability_matrix.yaml > "$T/matrix-ledger-rw.yaml"
issue "$T/led.l" --aud "$HOST" --cmd /bin/true --path "$T/w/rw/**:rw" || bad "issue ledger lease"
"$CALYX" run --lease "$T/led.l" --matrix "$T/matrix-ledger-rw.yaml" --pub "$PUB" --state "$T/st-led" -- /bin/true \
  >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err")
check "the ledger below a :rw lease path: refused, 66" rc_is 66
check "... naming the ledger" err_has "is above the ledger $T/w/rw/ledger"

# ---------------------------------------------------------------- only root's
issue "$T/perm.l" --aud "$HOST" --runs 5 --cmd /bin/true || bad "issue perm lease"
mkdir -p "$T/st-perm"
chmod 0777 "$T/st-perm"
run "$T/perm.l" "$T/st-perm" -- /bin/true
check "a world-writable state dir: refused, 78" rc_is 78
check "... naming it and the fix" err_has "state dir $T/st-perm is not safe: $T/st-perm is world-writable (mode 0777)"
check "... and nothing was written in it" test -z "$(ls -A "$T/st-perm")"
chmod 0750 "$T/st-perm"; chown 65534:65534 "$T/st-perm"
run "$T/perm.l" "$T/st-perm" -- /bin/true
check "a state dir owned by uid 65534 (the sandbox's user): refused, 78" rc_is 78
check "... saying who owns it" err_has "is owned by uid 65534, not root"
chown 0:0 "$T/st-perm"
mkdir -p "$T/open/inner"; chmod 0777 "$T/open"
run "$T/perm.l" "$T/open/inner" -- /bin/true
check "a state dir whose parent others may write (no sticky bit): refused, 78" rc_is 78
check "... naming the parent" err_has "$T/open is world-writable without the sticky bit (mode 0777)"
chmod 0777 "$LEDGER" 2>/dev/null || { mkdir -p "$LEDGER"; chmod 0777 "$LEDGER"; }
run "$T/perm.l" "$T/st-perm" -- /bin/true
check "a world-writable ledger: refused, 78" rc_is 78
check "... naming the ledger" err_has "ledger $LEDGER is not safe"
chmod 0750 "$LEDGER"
run "$T/perm.l" "$T/st-perm" -- /bin/true
check "... once it is root's 0750 the run goes ahead (exit 0)" rc_is 0

# ---------------------------------------------------------------- symlinks are not followed
mkdir -p "$T/evil" "$T/st-plant"
ln -s "$T/evil" "$T/st-plant/logs"
run "$T/perm.l" "$T/st-plant" -- /bin/true
check "STATE/logs planted as a symlink: refused, 74" rc_is 74
check "... nothing written where it points" test -z "$(ls -A "$T/evil")"
mkdir -p "$T/st-plant2/logs/svf_audit"
: > "$T/evil-log"
ln -s "$T/evil-log" "$T/st-plant2/logs/svf_audit/svf.jsonl"
run "$T/perm.l" "$T/st-plant2" -- /bin/true
check "the audit log planted as a symlink: refused, 74" rc_is 74
check "... the file it points to is untouched" test ! -s "$T/evil-log"
check "... and nothing ran" never_ran "$T/st-plant2"
ISS=$("$CALYX" lease show "$T/perm.l" 2>/dev/null | sed -n 's/.*\(k4\.pid\.[A-Za-z0-9_-]*\).*/\1/p' | head -n1)
issue "$T/plant3.l" --aud "$HOST" --cmd /bin/true || bad "issue plant3 lease"
mkdir -p "$T/evil-ledger"
check "the issuer's ledger directory exists ($LEDGER/$ISS)" test -d "$LEDGER/$ISS"
mv "$LEDGER/$ISS" "$T/ledger-moved"
ln -s "$T/evil-ledger" "$LEDGER/$ISS"
run "$T/plant3.l" "$T/st-plant3" -- /bin/true
check "the issuer's ledger directory planted as a symlink: refused, 74 (fails closed)" rc_is 74
check "... nothing written where it points" test -z "$(ls -A "$T/evil-ledger")"
rm "$LEDGER/$ISS"; mv "$T/ledger-moved" "$LEDGER/$ISS"

# ---------------------------------------------------------------- the ledger is host-wide
issue "$T/once.l" --aud "$HOST" --cmd /bin/true || bad "issue once lease"
lid=$(lease_id "$T/once.l")
run "$T/once.l" "$T/st-a" -- /bin/true
check "a single-use lease runs once (exit 0)" rc_is 0
check "... its ledger entry is $LEDGER/$ISS/$lid" test "$(cat "$LEDGER/$ISS/$lid" 2>/dev/null)" = 1
check "... not in the state dir" test ! -e "$T/st-a/ledger"
run "$T/once.l" "$T/st-b" -- /bin/true
check "... then with another --state: refused, 67" rc_is 67
check "... nothing ran there" never_ran "$T/st-b"
CALYX_STATE=$T/st-c "$CALYX" run --lease "$T/once.l" --matrix "$M" --pub "$PUB" -- /bin/true >"$T/out" 2>"$T/err"
RC=$?; ERR=$(cat "$T/err")
check "... with another CALYX_STATE: refused, 67" rc_is 67
issue "$T/twice.l" --aud "$HOST" --runs 2 --cmd /bin/true || bad "issue twice lease"
run "$T/twice.l" "$T/st-d" -- /bin/true; r1=$RC
run "$T/twice.l" "$T/st-e" -- /bin/true; r2=$RC
run "$T/twice.l" "$T/st-f" -- /bin/true
check "--runs 2 over three state dirs: 0, 0, then 67 ($r1 $r2 $RC)" test "$r1 $r2 $RC" = "0 0 67"

# ---------------------------------------------------------------- leases bound to a host
issue "$T/other.l" --aud build-elsewhere --cmd /bin/true || bad "issue other-host lease"
run "$T/other.l" "$T/st-aud" -- /bin/true
check "a lease for another host: refused, 66" rc_is 66
check "... naming both hosts" err_has "the lease is for 'build-elsewhere' (claim 'aud'), this host is '$HOST'"
"$CALYX" lease verify --matrix "$M" --pub "$PUB" "$T/other.l" >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err")
check "... lease verify --matrix says the same (66)" rc_is 66
issue "$T/noaud.l" --cmd /bin/true || bad "issue lease without aud"
run "$T/noaud.l" "$T/st-aud" -- /bin/true
check "a lease without aud (the shipped matrix accepts none): refused, 66" rc_is 66
check "... saying how to issue it" err_has "issue it with --aud $HOST"
check "... nothing ran" never_ran "$T/st-aud"
sed -e "s|^ledger: .*|ledger: $LEDGER|" -e 's|^  groups: \[\]|  groups: [ci-pool]|' \
  -e 's|^  accept_without_aud: false|  accept_without_aud: true|' policies/capability_matrix.yaml > "$T/matrix-aud.yaml"
"$CALYX" run --lease "$T/noaud.l" --matrix "$T/matrix-aud.yaml" --pub "$PUB" --state "$T/st-aud" -- /bin/true \
  >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err")
check "... a matrix with accept_without_aud: true runs it (exit 0)" rc_is 0
issue "$T/group.l" --aud ci-pool --cmd /bin/true || bad "issue group lease"
"$CALYX" run --lease "$T/group.l" --matrix "$T/matrix-aud.yaml" --pub "$PUB" --state "$T/st-aud" -- /bin/true \
  >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err")
check "a lease for a group this host is in (audience.groups): exit 0" rc_is 0
"$CALYX" run --lease "$T/other.l" --matrix "$T/matrix-aud.yaml" --pub "$PUB" --state "$T/st-aud" -- /bin/true \
  >"$T/out" 2>"$T/err"; RC=$?; ERR=$(cat "$T/err")
check "... accept_without_aud never admits a lease for another host (66)" rc_is 66

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
