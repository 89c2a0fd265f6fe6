#!/usr/bin/env bash
# Load (docs/reliability.md), landlock backend: 20 `calyx run`s at once on the resident
# set, into one state dir (one audit log, one runner-record directory), each flooding
# denials (AF_INET sockets refused by the cgroup programs) at a paced rate for a bounded
# time. For every run: exit 0 and every attempt refused (the command saw no socket
# allowed), the kernel side counted every refusal exactly, and every denial record is
# delivered or counted: meta.json denials.net + (dropped_events - dropped_process_events)
# = attempts, events.jsonl holds exactly the delivered ones, a loss has its event_log.gap
# record; every artifact claimed is there with its hash (tests/lib/state_claims.py); the
# log holds one exec_event.completed per run and `calyx audit verify` exits 0.
#   tests/host/load.sh build/calyx      (run by tests/host/run.sh: 3 s of flood)
#   CALYX_LOAD_SECONDS=10 tests/host/load.sh build/calyx     (the long version, opt-in)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

RUNS=${CALYX_LOAD_RUNS:-20}
SECS=${CALYX_LOAD_SECONDS:-3}
RATE=${CALYX_LOAD_RATE:-2000}   # denials per second and run
N=$((SECS * RATE))
suite_scratch load
mkdir -p "$T/rw" && chmod 777 "$T/rw"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/deny_flood" tests/host/progs/deny_flood.c \
  || { bad "build deny_flood"; finish; }
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
. tests/lib/seccomp.sh
inet_matrix "$T/m.yaml" || bad "inet_matrix"
ST=$T/state
diag "$RUNS concurrent runs, each $N denials at $RATE/s ($SECS s)"

declare -a PIDS LIDS
for i in $(seq 1 "$RUNS"); do
  "$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-LOAD --ttl 10m \
    --cmd "$T/deny_flood socket $N --rate $RATE" --path "$T/rw/**:rw" -o "$T/$i.tok" 2>/dev/null || bad "issue lease $i"
  LIDS[i]=$("$CALYX" lease show "$T/$i.tok" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1)
done
for i in $(seq 1 "$RUNS"); do
  "$CALYX" run --lease "$T/$i.tok" --matrix "$T/m.yaml" --pub "$T/k/calyx.pub" --state "$ST" -q \
    -- "$T/deny_flood" socket "$N" --rate "$RATE" >"$T/$i.out" 2>"$T/$i.err" &
  PIDS[i]=$!
done
badrc=0 leaked=0 uncounted=0 miscounted=0 nogap=0 lost=0
for i in $(seq 1 "$RUNS"); do
  rc=0; wait "${PIDS[i]}" || rc=$?
  [ "$rc" -eq 0 ] || { badrc=$((badrc + 1)); diag "run $i: exit $rc: $(head -c 300 "$T/$i.err")"; }
  grep -qx "denied=$N allowed=0 other=0" "$T/$i.out" || { leaked=$((leaked + 1)); diag "run $i: $(cat "$T/$i.out")"; }
  RUN=$ST/outgoing/staging_runs/${LIDS[i]}
  read -r net dropped dproc kernel <<<"$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
print(m["denials"]["net"], m["dropped_events"], m["dropped_process_events"], m["enforcement"]["resident"]["denied"])' "$RUN" 2>/dev/null)"
  [ "${kernel:-x}" = "$N" ] || { miscounted=$((miscounted + 1)); diag "run $i: the kernel side counted ${kernel:-?} of $N"; }
  [ "$((${net:-0} + ${dropped:-0} - ${dproc:-0}))" -eq "$N" ] \
    || { uncounted=$((uncounted + 1)); diag "run $i: delivered ${net:-?} + dropped ${dropped:-?} - ${dproc:-?} != $N"; }
  [ "$(grep -c '"type":"deny"' "$RUN/events.jsonl" 2>/dev/null)" = "${net:-x}" ] \
    || { uncounted=$((uncounted + 1)); diag "run $i: events.jsonl does not hold the $net delivered denials"; }
  if [ "${dropped:-0}" -gt 0 ]; then
    lost=$((lost + 1))
    python3 -c '
import json, sys
g = [json.loads(l) for l in open(sys.argv[1]) if "\"event_log.gap\"" in l]
assert any(r["lease"] == sys.argv[2] and r["data"]["dropped_events"] == int(sys.argv[3]) for r in g)' \
      "$ST/logs/svf_audit/svf.jsonl" "${LIDS[i]}" "$dropped" 2>/dev/null || nogap=$((nogap + 1))
  fi
done
diag "runs that lost records (counted): $lost of $RUNS"
check "load: all $RUNS runs exit 0 ($badrc did not)" [ "$badrc" -eq 0 ]
check "load: every one of $RUNS x $N attempts was refused ($leaked runs saw one allowed)" [ "$leaked" -eq 0 ]
check "load: the kernel side counted every refusal of every run exactly ($miscounted did not)" [ "$miscounted" -eq 0 ]
check "load: every denial record delivered or counted as dropped, events.jsonl exact ($uncounted faults)" [ "$uncounted" -eq 0 ]
check "load: every run that lost records has its event_log.gap record ($nogap have none)" [ "$nogap" -eq 0 ]
check "load: one exec_event.completed per run" test "$(grep -c '"type":"exec_event.completed"' "$ST/logs/svf_audit/svf.jsonl")" -eq "$RUNS"
check "load: every artifact claimed is there with its hash" python3 tests/lib/state_claims.py "$ST"
check "load: calyx audit verify exits 0" bash -c '"$1" audit verify --state "$2" --pub "$2/keys/audit.pub" >/dev/null' _ "$CALYX" "$ST"
finish
