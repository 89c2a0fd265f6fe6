#!/usr/bin/env bash
# Crash and write-fault injection (docs/reliability.md), landlock backend, on the test
# build (make test-hooks: build/testhooks/calyx, the release build's sources with the
# hooks of user/base/testhook.h compiled in).
#  0. The release build ignores the hooks: CALYX_TEST_CRASH_AT and CALYX_TEST_FAIL_WRITE
#     change nothing, and its binary does not even hold their names.
#  1. For every crash point: the runner is SIGKILLed there (exit 137, the hook said so);
#     right after, every process of the sandbox is dead or in its sandbox cgroup with its
#     slot still registered (confined); the next run (release build) exits 0 and its
#     sweep finishes the dead run: no cgroup, slot, process, runner record or temp run
#     directory of it is left, the log holds exactly what happened (the records the point
#     implies, one exec_event.completed at most, status "abandoned" and completed_by
#     "sweep" when the runner died after the start and before its own completion record),
#     the lease is used exactly when the ledger was written, every artifact claimed is
#     there with its hash (tests/lib/state_claims.py), a rollback pack is either absent
#     (its temp run directory removed) or complete (`calyx rollback --force` restores and
#     verifies it), and `calyx audit verify` exits 0.
#  2. A sweep killed half way (the dead run's meta.json written, its completion not yet):
#     the sweep after it finishes the run, once.
#  3. calyx rollback killed at rollback-record, restore and restored: the next calyx run
#     (another lease) or calyx rollback sweeps it: lease_event.rollback_interrupted when
#     its rollback_started is in the log, nothing when it is not; its record goes, the log
#     verifies, and rollback --force restores and ends the story. A rollback whose restore
#     fails, or whose state write fails (EIO at each in turn), logs how it ended
#     (rollback_failed with its exit code, or the sweep's rollback_interrupted).
#  4. For ENOSPC and EIO, at each state write of a run in turn (n = 1, 2, … until a run
#     has fewer writes): the run exits non-zero (74 unless the write was one the run
#     proves it can do without), nothing claims an artifact that was not written, the log
#     verifies, and the next run on that state dir exits 0; a run whose artifacts were not
#     written is moved into place by that next run's sweep (status artifacts_not_written,
#     exec_event.artifacts_recovered) and its rollback pack restores.
#  5. A sweep killed at recovered: the next sweep writes the one artifacts_recovered.
#   tests/host/crash.sh build/calyx      (run by tests/host/run.sh; needs build/testhooks/calyx)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
TCALYX=${CALYX_TESTHOOKS:-$(dirname "$CALYX")/testhooks/calyx}
. tests/lib/suite.sh

[ -x "$TCALYX" ] || { bad "no test build at $TCALYX (make test-hooks builds it)"; finish; }
"$TCALYX" --version | grep -q '(test hooks)$' || { bad "$TCALYX is not a test build"; finish; }
suite_scratch crash
mkdir -p "$T/rw" && chmod 777 "$T/rw"
echo before > "$T/rw/data"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/deny_flood" tests/host/progs/deny_flood.c \
  || { bad "build deny_flood"; finish; }
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
. tests/lib/seccomp.sh
inet_matrix "$T/m.yaml" || bad "inet_matrix"   # socket(AF_INET) reaches the cgroup programs: denials
CG2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n1)
SETCG=$CG2/calyx/landlock
# The command: 3 denied sockets, then wait (up to 60 s) for rw/go unless it exists.
CMD=("$T/deny_flood" socket 3 --after "$T/rw/go")

# issue NAME: a lease for CMD into $T/NAME.tok; LID its id
issue() {
  "$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-CRASH --ttl 10m \
    --cmd "${CMD[*]}" --path "$T/rw/**:rw" -o "$T/$1.tok" 2>"$T/issue.err" || { bad "issue $1: $(cat "$T/issue.err")"; return 1; }
  LID=$("$CALYX" lease show "$T/$1.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
}
# crun BINARY NAME STATE [VAR=VALUE…]: run lease NAME; RC, ERR (stderr)
crun() {
  local bin=$1 name=$2 st=$3; shift 3
  # in a subshell whose own stderr is dropped: its "Killed" notice is not the run's
  ( env "$@" "$bin" run --lease "$T/$name.tok" --matrix "$T/m.yaml" --pub "$T/k/calyx.pub" --state "$st" -q \
    -- "${CMD[@]}" >"$T/$name.out" 2>"$T/$name.err"; exit $? ) 2>/dev/null
  RC=$?
  ERR=$(cat "$T/$name.err")
}
# next NAME STATE: a fresh lease run with the release build: it must exit 0 (it sweeps)
next() { touch "$T/rw/go"; issue "$1" && crun "$CALYX" "$1" "$2"; [ "$RC" -eq 0 ] || { WHY="next run exit $RC: $ERR"; return 1; }; }
audit_ok() { "$CALYX" audit verify --state "$1" --pub "$1/keys/audit.pub" >"$T/verify.out" 2>&1 || { WHY=$(head -c 300 "$T/verify.out"); return 1; }; }
claims_ok() { WHY=$(python3 tests/lib/state_claims.py "$1" 2>&1 | head -c 400); [ -z "$WHY" ]; }
# confined LID: every process of the command is dead, or in a sandbox cgroup of LID whose
# slot is still registered in the resident set
confined() {
  local p cg slots
  slots=$("$CALYX" enforcer status --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(s["cgroup"] for b in json.load(sys.stdin) for s in b.get("slots", [])))')
  for p in $(pgrep -f "^$T/deny_flood socket"); do
    cg=$(sed -n 's/^0:://p' "/proc/$p/cgroup" 2>/dev/null) || continue
    [ -z "$cg" ] && continue   # exited meanwhile
    case "$cg" in /calyx/landlock/"$1"-*/r*) ;; *) WHY="pid $p runs in $cg, outside its sandbox"; return 1 ;; esac
    grep -qw -- "${cg#/calyx/landlock/}" <<<"$slots" || { WHY="pid $p in $cg, whose slot is gone"; return 1; }
  done
}
# gone LID: nothing of the dead runner is left: processes, cgroups, slots, runner records
gone() {
  local left
  left=$(pgrep -f "^$T/deny_flood socket"; find "$SETCG" -mindepth 1 -maxdepth 1 -name "$1-*" 2>/dev/null; ls "$2/run" 2>/dev/null | grep -v '\.lock$')
  left+=$("$CALYX" enforcer status --json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(s["cgroup"] for b in json.load(sys.stdin) for s in b.get("slots", []) if s["cgroup"].startswith(sys.argv[1] + "-")))' "$1")
  [ -z "$left" ] || { WHY="left: $(tr '\n' ' ' <<<"$left")"; return 1; }
}
# records STATE LID EXPECT: the log's records of LID, as "type[:status[:sweep]]" joined by
# spaces (denial records left out), are EXPECT
records() {
  local got
  got=$(python3 - "$1/logs/svf_audit/svf.jsonl" "$2" <<'PY'
import json, sys
out = []
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("lease") != sys.argv[2] or r["type"].endswith("_event.denied") or r["type"] == "log_event.checkpoint":
        continue
    t = r["type"]
    if t == "lease_event.consumed" and r["data"].get("completed_by") == "sweep":
        t += ":sweep"
    if t == "exec_event.completed":
        t += ":" + r["data"]["status"] + (":sweep" if r["data"].get("completed_by") == "sweep" else "")
    out.append(t)
print(" ".join(out))
PY
)
  [ "$got" = "$3" ] || { WHY="records: '$got', expected '$3'"; return 1; }
}
# roll_records STATE LID EXPECT: the lease_event.roll* records of LID, in order, are EXPECT
roll_records() {
  local got
  got=$(python3 -c 'import json,sys; print(" ".join(r["type"] for r in map(json.loads, open(sys.argv[1])) if r["type"].startswith("lease_event.roll") and r["lease"] == sys.argv[2]))' "$1/logs/svf_audit/svf.jsonl" "$2")
  [ "$got" = "$3" ] || { WHY="rollback records: '$got', expected '$3'"; return 1; }
}
# has_record STATE LID TYPE: the log has a TYPE record of LID
has_record() {
  python3 -c 'import json,sys; sys.exit(0 if any(r["type"] == sys.argv[3] and r["lease"] == sys.argv[2] for r in map(json.loads, open(sys.argv[1]))) else 1)' "$1/logs/svf_audit/svf.jsonl" "$2" "$3"
}
# unwritten STATE LID: LID's completion record says artifacts_written false
unwritten() {
  python3 -c 'import json,sys; sys.exit(0 if any(r["type"] == "exec_event.completed" and r["lease"] == sys.argv[2] and r["data"].get("artifacts_written") is False for r in map(json.loads, open(sys.argv[1]))) else 1)' "$1/logs/svf_audit/svf.jsonl" "$2"
}
meta_status() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$1/outgoing/staging_runs/$2/meta.json" 2>/dev/null; }

# ---- 0. the release build ignores the hooks
ST0=$T/st0
touch "$T/rw/go"
issue rel0 && crun "$CALYX" rel0 "$ST0" CALYX_TEST_CRASH_AT=verified CALYX_TEST_FAIL_WRITE=1:EIO
check "release build: CALYX_TEST_CRASH_AT/CALYX_TEST_FAIL_WRITE ignored, the run exits 0 (exit $RC)" \
  bash -c '[ "$1" -eq 0 ] && ! grep -q "test hook" <<<"$2"' _ "$RC" "$ERR"
check "release build: the binary holds neither variable's name" \
  bash -c '! grep -aq -e CALYX_TEST_CRASH_AT -e CALYX_TEST_FAIL_WRITE "$1"' _ "$CALYX"
check "release build: --version does not say test hooks" bash -c '! "$1" --version | grep -q "test hooks"' _ "$CALYX"

# ---- 1. SIGKILL at each point
# point: what the log of the dead lease holds once the next run has swept, and whether the
# ledger has it (used: a second run of it is refused, 67)
V=lease_event.verified C=lease_event.consumed S=exec_event.started E=exec_event.completed
declare -A EXPECT=(
  [verified]="$V|fresh"
  [ledger]="$V $C:sweep|used"
  [consumed]="$V $C|used"
  [record]="$V $C|used"
  [sandbox]="$V $C|used"
  [pack-entry]="$V $C|used"
  [packed]="$V $C|used"
  [started]="$V $C $S $E:abandoned:sweep|used"
  [spawned]="$V $C $S $E:abandoned:sweep|used"
  [artifacts]="$V $C $S $E:abandoned:sweep|used"
  [committed]="$V $C $S $E:ok:sweep|used"
  [denial]="$V $C $S $E:ok:sweep|used"
  [completed]="$V $C $S $E:ok|used"
  [teardown]="$V $C $S $E:ok|used"
)
POINTS="verified ledger consumed record sandbox pack-entry packed started spawned artifacts committed denial completed teardown"
ST=$T/st1
for p in $POINTS; do
  echo before > "$T/rw/data"
  rm -f "$T/rw/go"* && [ "$p" != spawned ] && touch "$T/rw/go"   # spawned: the command waits, alive
  issue "c-$p" || continue
  DEAD=$LID
  crun "$TCALYX" "c-$p" "$ST" CALYX_TEST_CRASH_AT="$p"
  check "$p: the runner was SIGKILLed there (exit $RC)" \
    bash -c '[ "$1" -eq 137 ] && grep -q "test hook: SIGKILL at $2\$" <<<"$3"' _ "$RC" "$p" "$ERR"
  check "$p: right after, every process of the sandbox is dead or confined" confined "$DEAD"
  check "$p: the next run exits 0 (it sweeps the dead run)" next "n-$p" "$ST"
  check "$p: nothing of the dead runner is left" gone "$DEAD" "$ST"
  want=${EXPECT[$p]}
  check "$p: the log holds what happened: ${want%|*}" records "$ST" "$DEAD" "${want%|*}"
  if [ "${want#*|}" = used ] && [ -d "$ST/outgoing/staging_runs/$DEAD" ]; then
    HAVE_DIR=1
  else
    HAVE_DIR=0
    check "$p: no run directory of a run that never started" \
      bash -c '! ls -a "$1" | grep -q -- "$2"' _ "$ST/outgoing/staging_runs" "$DEAD"
  fi
  crun "$CALYX" "c-$p" "$ST"
  if [ "${want#*|}" = used ]; then
    check "$p: the ledger has the lease (a second run: 67, got $RC)" [ "$RC" -eq 67 ]
  else
    check "$p: the lease was not used (a second run: 0, got $RC)" [ "$RC" -eq 0 ]
  fi
  check "$p: every artifact claimed is there with its hash; no temp run directory" claims_ok "$ST"
  if [ "$HAVE_DIR" = 1 ]; then
    st=$(meta_status "$ST" "$DEAD")
    check "$p: meta.json status is the record's (${st:-none})" grep -q "$E:${st:-none}" <<<"${want%|*}"
    if [ -e "$ST/outgoing/staging_runs/$DEAD/rollback.tar.gz" ]; then
      echo garbage > "$T/rw/data"
      "$CALYX" rollback "$DEAD" --state "$ST" --force >"$T/rb.out" 2>&1; rrc=$?
      check "$p: the rollback pack is complete: calyx rollback --force restores and verifies it (exit $rrc)" \
        bash -c '[ "$1" -eq 0 ] && [ "$(cat "$2")" = before ]' _ "$rrc" "$T/rw/data"
    else
      bad "$p: a run that started has no rollback pack"
    fi
  fi
  check "$p: calyx audit verify exits 0" audit_ok "$ST"
done

# ---- 2. a sweep killed half way
rm -f "$T/rw/go"*; touch "$T/rw/go"
issue s-dead && DEAD=$LID && crun "$TCALYX" s-dead "$ST" CALYX_TEST_CRASH_AT=started
issue s-sweeper && SWEEPER=$LID && crun "$TCALYX" s-sweeper "$ST" CALYX_TEST_CRASH_AT=sweep
check "sweep: the sweeping runner was SIGKILLed after the dead run's meta.json (exit $RC)" \
  bash -c '[ "$1" -eq 137 ] && grep -q "test hook: SIGKILL at sweep$" <<<"$2"' _ "$RC" "$ERR"
check "sweep: the next run exits 0" next s-next "$ST"
check "sweep: the dead run finished once, abandoned" records "$ST" "$DEAD" "$V $C $S $E:abandoned:sweep"
check "sweep: its meta.json says abandoned" [ "$(meta_status "$ST" "$DEAD")" = abandoned ]
check "sweep: nothing of the dead runner is left" gone "$DEAD" "$ST"
check "sweep: the sweeper died before its lease was verified: nothing of it logged" records "$ST" "$SWEEPER" ""
crun "$CALYX" s-sweeper "$ST"
check "sweep: the sweeper's lease was not used (exit $RC)" [ "$RC" -eq 0 ]
check "sweep: artifacts and log verify" bash -c 'python3 tests/lib/state_claims.py "$1" && "$2" audit verify --state "$1" --pub "$1/keys/audit.pub" >/dev/null' _ "$ST" "$CALYX"

# ---- 3. calyx rollback killed after its record (rollback-record: nothing touched, no
# rollback_started), half way (restore: one file back), and after the restore, before its
# record (restored); then either a calyx run of another lease or a second calyx rollback:
# its sweep finishes the dead rollback (lease_event.rollback_interrupted once it had
# begun, nothing when it had not), its record goes, the log verifies, and
# `calyx rollback --force` restores and verifies the tree
rb_rec() { ls "$1/run" 2>/dev/null | grep "^rollback-.*\.json$"; }
# rb_setup NAME STATE: a run of a fresh lease over rw/{a,b,c} ("was X"), then the files
# changed ("changed X"); RLID the run's lease
rb_setup() {
  rm -rf "${T:?}/rw/"*; for f in a b c; do echo "was $f" > "$T/rw/$f"; done; touch "$T/rw/go"
  issue "$1" && RLID=$LID && crun "$CALYX" "$1" "$2"
  [ "$RC" -eq 0 ] || bad "$1: the run to roll back exit $RC: $ERR"
  for f in a b c; do echo "changed $f" > "$T/rw/$f"; done
}
restored_ok() { [ "$(cat "$T/rw/a" "$T/rw/b" "$T/rw/c")" = "$(printf "was a\nwas b\nwas c")" ] && [ ! -e "$T/rw/go.ready" ]; }
rb_done() { [ "$1" -eq 0 ] && restored_ok; }   # rb_done EXIT: exit 0, the tree as before the run
# interrupted_ok STATE LID: the rollback_interrupted record names the killed rollback's
# pid (its rollback_started's), completed_by sweep, and says how to finish the tree
interrupted_ok() {
  WHY=$(python3 - "$1/logs/svf_audit/svf.jsonl" "$2" <<'PY'
import json, sys
rs = [r for r in map(json.loads, open(sys.argv[1])) if r["lease"] == sys.argv[2]]
st = [r for r in rs if r["type"] == "lease_event.rollback_started"]
it = [r for r in rs if r["type"] == "lease_event.rollback_interrupted"]
if len(it) != 1:
    print("%d rollback_interrupted records" % len(it)); sys.exit()
d = it[0]["data"]
if d.get("rollback_pid") != st[0]["data"]["pid"] or d.get("completed_by") != "sweep" or d.get("run_dir") != sys.argv[2] \
        or "calyx rollback --force " + sys.argv[2] not in d.get("tree", "") or "partly restored" not in d.get("tree", ""):
    print("rollback_interrupted data: %s" % json.dumps(d))
PY
)
  [ -z "$WHY" ]
}
R=lease_event.rollback_started I=lease_event.rollback_interrupted B=lease_event.rolled_back
for p in rollback-record restore restored; do
  if [ "$p" = rollback-record ]; then DEADREC="" BACK=0; else DEADREC="$R $I" BACK=1; fi
  for nxt in run rollback; do
    RST=$T/rb-$p-$nxt
    rb_setup "r-$p-$nxt" "$RST"
    ( CALYX_TEST_CRASH_AT=$p "$TCALYX" rollback "$RLID" --state "$RST" --force >"$T/rb.out" 2>"$T/rb.err"; exit $? ) 2>/dev/null; rrc=$?
    check "$p/$nxt: calyx rollback was SIGKILLed there (exit $rrc)" \
      bash -c '[ "$1" -eq 137 ] && grep -q "test hook: SIGKILL at $2\$" "$3"' _ "$rrc" "$p" "$T/rb.err"
    check "$p/$nxt: its record is left in STATE/run ($(rb_rec "$RST"))" test -n "$(rb_rec "$RST")"
    check "$p/$nxt: right after, the log's rollback records: '${DEADREC% *}'" roll_records "$RST" "$RLID" "${DEADREC% *}"
    check "$p/$nxt: calyx audit verify exits 0 after the killed rollback" audit_ok "$RST"
    back=$(cat "$T/rw/a" "$T/rw/b" "$T/rw/c" | grep -c '^was ')
    case $p in
      rollback-record) check "$p/$nxt: killed before the tree was touched (0 of 3 files back: $back)" [ "$back" -eq 0 ] ;;
      restore) check "$p/$nxt: killed with the tree half restored (1 of 3 files back: $back)" [ "$back" -eq 1 ] ;;
      restored) check "$p/$nxt: killed with the tree restored (3 of 3 files back: $back)" [ "$back" -eq 3 ] ;;
    esac
    if [ "$nxt" = run ]; then
      check "$p/run: the next calyx run (another lease) exits 0" next "rn-$p" "$RST"
      check "$p/run: its sweep finished the dead rollback: '$DEADREC'" roll_records "$RST" "$RLID" "$DEADREC"
      check "$p/run: the rollback's record is gone ($(rb_rec "$RST"))" test -z "$(rb_rec "$RST")"
      check "$p/run: calyx audit verify exits 0 after the sweep" audit_ok "$RST"
      [ "$BACK" = 1 ] && check "$p/run: rollback_interrupted names the dead rollback and how to finish" interrupted_ok "$RST" "$RLID"
    fi
    "$CALYX" rollback "$RLID" --state "$RST" --force >"$T/rb.out" 2>"$T/rb.err"; rrc=$?
    check "$p/$nxt: calyx rollback --force restores and verifies the tree (exit $rrc)" \
      rb_done "$rrc"
    check "$p/$nxt: the log: '${DEADREC:+$DEADREC }$R $B'" roll_records "$RST" "$RLID" "${DEADREC:+$DEADREC }$R $B"
    check "$p/$nxt: no rollback record is left ($(rb_rec "$RST"))" test -z "$(rb_rec "$RST")"
    check "$p/$nxt: calyx audit verify exits 0" audit_ok "$RST"
    [ "$BACK" = 1 ] && [ "$nxt" = rollback ] && check "$p/rollback: rollback_interrupted names the dead rollback and how to finish" interrupted_ok "$RST" "$RLID"
  done
done

# failed_ok STATE LID CODE: exactly one rollback_failed of LID, its exit_code CODE, its
# pid the rollback_started's, a reason given
failed_ok() {
  WHY=$(python3 - "$1/logs/svf_audit/svf.jsonl" "$2" "$3" <<'PY'
import json, sys
rs = [r for r in map(json.loads, open(sys.argv[1])) if r["lease"] == sys.argv[2]]
st = [r for r in rs if r["type"] == "lease_event.rollback_started"]
fl = [r for r in rs if r["type"] == "lease_event.rollback_failed"]
if len(fl) != 1:
    print("%d rollback_failed records" % len(fl)); sys.exit()
d = fl[0]["data"]
if d.get("exit_code") != int(sys.argv[3]) or d.get("pid") != st[-1]["data"]["pid"] or not d.get("reason") \
        or d.get("run_dir") != sys.argv[2]:
    print("rollback_failed data: %s" % json.dumps(d))
PY
)
  [ -z "$WHY" ]
}
# A restore that fails (rw/b immutable): exit 74, rollback_started then rollback_failed
# (exit_code 74), its record gone; once b is writable again, rollback --force finishes
RST=$T/rb-fail
rb_setup r-fail "$RST"
chattr +i "$T/rw/b" || bad "chattr +i $T/rw/b"
"$CALYX" rollback "$RLID" --state "$RST" --force >"$T/rb.out" 2>"$T/rb.err"; rrc=$?
chattr -i "$T/rw/b"
check "restore fails: calyx rollback exits 74 naming the path (exit $rrc)" \
  bash -c '[ "$1" -eq 74 ] && grep -q "restoring: .*b" "$2"' _ "$rrc" "$T/rb.err"
check "restore fails: the log: rollback_started rollback_failed" roll_records "$RST" "$RLID" "$R lease_event.rollback_failed"
check "restore fails: rollback_failed says why, with exit code 74 and the rollback's pid" failed_ok "$RST" "$RLID" 74
check "restore fails: no rollback record is left" test -z "$(rb_rec "$RST")"
check "restore fails: calyx audit verify exits 0" audit_ok "$RST"
"$CALYX" rollback "$RLID" --state "$RST" --force >"$T/rb.out" 2>"$T/rb.err"; rrc=$?
check "restore fails: then calyx rollback --force restores and verifies (exit $rrc)" rb_done "$rrc"
check "restore fails: the log: rollback_started rollback_failed rollback_started rolled_back" \
  roll_records "$RST" "$RLID" "$R lease_event.rollback_failed $R $B"

# EIO at each state write of a rollback in turn (n = 1, 2, … until one has fewer
# writes): the rollback exits non-zero; what the log then says of it, once the next
# rollback --force's sweep has run, is one of: nothing (it failed before its
# rollback_started: nothing was touched), rollback_started rollback_failed (its exit code
# recorded), rollback_started rolled_back rollback_failed (the rolled_back appended, its
# checkpoint not: the failure record says the tree is restored and the log write failed),
# rollback_started rollback_interrupted (the sweep: the rollback_started's checkpoint
# failed, or the failure record could not be written); then that
# rollback --force restores the tree, no record is left, the log verifies
RST=$T/rb-wf
rb_setup r-wf "$RST"
rfired=0 rbad=0 rfailed=0 rinter=0 rsummary=
for n in $(seq 1 60); do
  for f in a b c; do echo "changed $f" > "$T/rw/$f"; done
  before=$(python3 -c 'import json,sys; print(sum(1 for r in map(json.loads, open(sys.argv[1])) if r["type"].startswith("lease_event.roll") and r["lease"] == sys.argv[2]))' "$RST/logs/svf_audit/svf.jsonl" "$RLID")
  ( CALYX_TEST_FAIL_WRITE=$n:EIO "$TCALYX" rollback "$RLID" --state "$RST" --force >"$T/rb.out" 2>"$T/rb.err"; exit $? ) 2>/dev/null; rrc=$?
  if ! grep -q "test hook: write $n fails with EIO" "$T/rb.err"; then
    [ "$rrc" -eq 0 ] || bad "rollback EIO: write $n past the last: exit $rrc: $(cat "$T/rb.err")"
    break
  fi
  rfired=$n
  "$CALYX" rollback "$RLID" --state "$RST" --force >"$T/rb2.out" 2>"$T/rb2.err"; r2=$?
  story=$(python3 - "$RST/logs/svf_audit/svf.jsonl" "$RLID" "$before" "$rrc" <<'PY'
import json, sys
rs = [r for r in map(json.loads, open(sys.argv[1])) if r["type"].startswith("lease_event.roll") and r["lease"] == sys.argv[2]]
rs = rs[int(sys.argv[3]):]
t = [r["type"].split(".")[1] for r in rs]
# the failed rollback's story, then the next rollback's (rollback_started rolled_back)
ok = {("rollback_started", "rolled_back"): "none",
      ("rollback_started", "rollback_failed", "rollback_started", "rolled_back"): "failed",
      ("rollback_started", "rollback_interrupted", "rollback_started", "rolled_back"): "interrupted",
      ("rollback_started", "rolled_back", "rollback_failed", "rollback_started", "rolled_back"): "unsealed"}
kind = ok.get(tuple(t))
if kind == "unsealed":   # rolled_back appended, its checkpoint failed: said by rollback_failed
    rs = rs[1:]
    kind = "failed" if rs[0]["data"].get("pid") == rs[1]["data"].get("pid") else None
if kind == "failed" and (rs[1]["data"].get("exit_code") != int(sys.argv[4]) or rs[1]["data"].get("pid") != rs[0]["data"]["pid"]):
    kind = None
if kind == "interrupted" and rs[1]["data"].get("rollback_pid") != rs[0]["data"]["pid"]:
    kind = None
print(kind or "BAD:" + " ".join(t))
PY
)
  rsummary+="$n:$rrc:$story "
  [ "$story" = failed ] && rfailed=$((rfailed + 1))
  [ "$story" = interrupted ] && rinter=$((rinter + 1))
  if [ "$rrc" -eq 0 ] || [ "$r2" -ne 0 ] || [ "${story#BAD}" != "$story" ] || ! restored_ok || [ -n "$(rb_rec "$RST")" ] || ! audit_ok "$RST"; then
    rbad=$((rbad + 1)); diag "rollback EIO at write $n: exit $rrc, next rollback exit $r2 ($(head -c 200 "$T/rb2.err")), story $story, record '$(rb_rec "$RST")', ${WHY:-}"
  fi
done
diag "rollback EIO: write n:exit:story $rsummary"
check "rollback EIO: injected at each of the $rfired writes of a rollback (at least 4)" [ "$rfired" -ge 4 ]
check "rollback EIO: every failed rollback exited non-zero, its story in the log, the next rollback restored ($rbad did not)" [ "$rbad" -eq 0 ]
check "rollback EIO: at least one failed after rollback_started and logged rollback_failed with its exit code ($rfailed)" [ "$rfailed" -ge 1 ]
check "rollback EIO: at least one kept its record and the next rollback's sweep logged rollback_interrupted ($rinter)" [ "$rinter" -ge 1 ]
touch "$T/rw/go"

# ---- 4. ENOSPC and EIO at each state write
touch "$T/rw/go"
UNW_N=   # the write numbers whose failure left a run's artifacts unwritten
for e in ENOSPC EIO; do
  WST=$T/wf-$e
  issue "w-$e-0" && crun "$CALYX" "w-$e-0" "$WST"   # the state dir made and the log begun
  fired=0 unreported=0 claims=0 logbad=0 stuck=0 summary= tmpleft=0 recovered=0 notrec=0 rolled=0
  for n in $(seq 1 200); do
    issue "w-$e-$n" || break
    FLID=$LID
    crun "$TCALYX" "w-$e-$n" "$WST" CALYX_TEST_FAIL_WRITE="$n:$e"
    grep -q "test hook: write $n fails with $e" <<<"$ERR" || { [ "$RC" -eq 0 ] || bad "$e: write $n past the last: exit $RC: $ERR"; break; }
    fired=$n
    summary+="$n:$RC "
    # reported: a non-zero exit, or a run that exits 0 must have said what failed
    if [ "$RC" -eq 0 ] && ! grep -q -e 'No space left on device' -e 'Input/output error' <<<"$ERR"; then
      unreported=$((unreported + 1)); diag "$e at write $n: exit 0 and nothing said: $ERR"
    fi
    python3 tests/lib/state_claims.py "$WST" >"$T/claims.out" 2>&1 || { claims=$((claims + 1)); diag "$e at write $n: $(head -c 300 "$T/claims.out")"; }
    issue "wn-$e-$n" && crun "$CALYX" "wn-$e-$n" "$WST"
    [ "$RC" -eq 0 ] || { stuck=$((stuck + 1)); diag "$e at write $n: the next run exit $RC: $(head -c 300 <<<"$ERR")"; }
    # a run whose artifacts were not written: the next run's sweep moved its temp run
    # directory into place (meta.json status artifacts_not_written, its rollback pack
    # usable) and logged exec_event.artifacts_recovered; no temp run directory is left
    if ls -a "$WST/outgoing/staging_runs" | grep -q -- '\.tmp-'; then
      tmpleft=$((tmpleft + 1)); diag "$e at write $n: a temp run directory is left after the next run"
    fi
    if unwritten "$WST" "$FLID"; then
      if [ "$(meta_status "$WST" "$FLID")" = artifacts_not_written ] && has_record "$WST" "$FLID" exec_event.artifacts_recovered; then
        recovered=$((recovered + 1)); UNW_N+=" $n"
        if [ "$rolled" = 0 ] && [ -e "$WST/outgoing/staging_runs/$FLID/rollback.tar.gz" ]; then
          was=$(cat "$T/rw/a"); echo garbage > "$T/rw/a"
          "$CALYX" rollback "$FLID" --state "$WST" --force >"$T/rb.out" 2>&1 && [ "$(cat "$T/rw/a")" = "$was" ] \
            && rolled=1 || { rolled=-1; diag "$e at write $n: rollback of the recovered run: $(head -c 300 "$T/rb.out")"; }
        fi
      else
        notrec=$((notrec + 1)); diag "$e at write $n: artifacts not written and not recovered: status $(meta_status "$WST" "$FLID")"
      fi
    fi
    "$CALYX" audit verify --state "$WST" --pub "$WST/keys/audit.pub" >"$T/verify.out" 2>&1 \
      || { logbad=$((logbad + 1)); diag "$e at write $n: audit verify: $(head -c 300 "$T/verify.out")"; }
  done
  diag "$e: write n:exit $summary"
  check "$e: injected at each of the $fired writes of a run (at least 10)" [ "$fired" -ge 10 ]
  check "$e: every failed write was reported ($unreported were not)" [ "$unreported" -eq 0 ]
  check "$e: nothing ever claimed an artifact that was not written ($claims times)" [ "$claims" -eq 0 ]
  check "$e: the log verified after every next run ($logbad did not)" [ "$logbad" -eq 0 ]
  check "$e: the next run worked every time ($stuck did not)" [ "$stuck" -eq 0 ]
  check "$e: no temp run directory was left after a next run ($tmpleft times)" [ "$tmpleft" -eq 0 ]
  check "$e: every run whose artifacts were not written was moved into place by the next sweep, status artifacts_not_written, with its exec_event.artifacts_recovered ($recovered were, $notrec not)" \
    [ "$recovered" -ge 1 -a "$notrec" -eq 0 ]
  check "$e: calyx rollback --force restores from a recovered run's pack" [ "$rolled" -eq 1 ]
done


# ---- 5. a sweep killed between moving an unwritten run's temp directory into place and
# its exec_event.artifacts_recovered (recovered): the next sweep writes that record, once
RST=$T/recovered
issue r-0 && crun "$CALYX" r-0 "$RST"
UL=
for n in $UNW_N; do
  issue "u-$n" && crun "$TCALYX" "u-$n" "$RST" CALYX_TEST_FAIL_WRITE="$n:EIO"
  unwritten "$RST" "$LID" && { UL=$LID; break; }
done
if [ -z "$UL" ]; then
  bad "recovered: no write of ($UNW_N ) left a run's artifacts unwritten"
else
  issue r-sweeper && crun "$TCALYX" r-sweeper "$RST" CALYX_TEST_CRASH_AT=recovered
  check "recovered: the sweeping runner was SIGKILLed after moving the directory into place (exit $RC)" \
    bash -c '[ "$1" -eq 137 ] && grep -q "test hook: SIGKILL at recovered$" <<<"$2"' _ "$RC" "$ERR"
  check "recovered: the directory is in place (status artifacts_not_written), no record yet" \
    bash -c '[ "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"status\"])" "$1/outgoing/staging_runs/$2/meta.json")" = artifacts_not_written ] && ! grep -q "exec_event.artifacts_recovered" "$1/logs/svf_audit/svf.jsonl"' _ "$RST" "$UL"
  check "recovered: the next run exits 0" next r-next "$RST"
  check "recovered: exactly one exec_event.artifacts_recovered of the run" \
    test "$(grep -c '"type":"exec_event.artifacts_recovered"' "$RST/logs/svf_audit/svf.jsonl")" -eq 1
  check "recovered: its record's meta_blake2b is the directory's meta.json's; no temp run directory" claims_ok "$RST"
  check "recovered: nothing of the dead runners is left (runner records)" bash -c '[ -z "$(ls "$1/run" | grep -v "\.lock$")" ]' _ "$RST"
  check "recovered: calyx audit verify exits 0" audit_ok "$RST"
fi

finish
