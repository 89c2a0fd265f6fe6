#!/usr/bin/env bash
# Ring-buffer flood (THREATS.md "The enforcer itself"), landlock backend: a sandboxed
# command makes many denied operations (AF_INET sockets, refused by the cgroup programs,
# each with a record).
#  1. With the consumer stopped (SIGSTOP of the runner) far more than the ring buffer
#     holds: every attempt must still be refused (a full ring buffer never changes a
#     decision), the kernel side must count every one exactly, and the loss must be
#     counted exactly, not silent: denial records delivered + denial records dropped
#     (dropped_events - dropped_process_events) = attempts, in meta.json, the SVF
#     event_log.gap record (before the completion record) and the completion record.
#  2. Paced at a stated sustained rate with the consumer running: no record lost.
#  3. As fast as the command can (reported, not judged: whether a consumer keeps up with
#     an unpaced flood depends on the machine's load).
#   tests/host/flood.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

suite_scratch flood   # under the shipped matrix's lease_paths bound: rw/ is a lease path
mkdir -p "$T/rw" && chmod 777 "$T/rw"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/deny_flood" tests/host/progs/deny_flood.c \
  || { bad "build deny_flood"; echo "$PASS passed, $FAIL failed"; exit 1; }
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
# The flood is of cgroup-program denials: the seccomp baseline's inet_sockets group is
# relaxed so that socket(AF_INET) reaches them.
. tests/lib/seccomp.sh
inet_matrix "$T/inet-matrix.yaml" || bad "inet_matrix"

# flood NAME ARGS...: a lease for `deny_flood socket ARGS`, run into state $T/NAME.state
# in the background (RUNNER: calyx's pid); flood_wait collects it (RC, RUN).
flood() {
  local name=$1; shift
  "$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-FLOOD --ttl 5m \
    --cmd "$T/deny_flood socket $*" --path "$T/rw/**:rw" -o "$T/$name.tok" 2>/dev/null || bad "issue $name lease"
  "$CALYX" run --lease "$T/$name.tok" --matrix "$T/inet-matrix.yaml" --pub "$T/k/calyx.pub" --state "$T/$name.state" \
    -- "$T/deny_flood" socket "$@" >"$T/$name.out" 2>"$T/$name.err" &
  RUNNER=$!
  NAME=$name
}
flood_wait() {
  RC=0
  wait "$RUNNER" || RC=$?
  RUN=$(find "$T/$NAME.state/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name 'LEASE-*' | head -n1)
  SVF=$T/$NAME.state/logs/svf_audit/svf.jsonl
}
# meta_vals: denials.net dropped_events dropped_process_events resident.denied events
meta_vals() {
  python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
print(m["denials"]["net"], m["dropped_events"], m["dropped_process_events"], m["enforcement"]["resident"]["denied"], m["events"])' "$RUN" 2>/dev/null
}

# ---- 1. the consumer stopped: loss, counted exactly
N=200000
flood stopped "$N" --after "$T/rw/go"
for _ in $(seq 600); do [ -e "$T/rw/go.ready" ] && break; sleep 0.05; done
check "the flooding command started (it waits for rw/go)" test -e "$T/rw/go.ready"
kill -STOP "$RUNNER"
touch "$T/rw/go"
for _ in $(seq 600); do [ -e "$T/rw/go.done" ] && break; sleep 0.1; done
check "the flood ran while the consumer was stopped" test -e "$T/rw/go.done"
kill -CONT "$RUNNER"
flood_wait
check "the flooding command ran to its end (exit $RC)" test "$RC" -eq 0
check "every one of $N sockets was refused ($(head -n1 "$T/stopped.out"))" grep -qx "denied=$N allowed=0 other=0" "$T/stopped.out"
read -r net dropped dproc kernel events <<<"$(meta_vals)"
echo "# meta.json: denials.net=$net dropped_events=$dropped dropped_process_events=$dproc resident.denied=$kernel events=$events (attempts $N)"
check "the kernel side counted every refusal exactly ($kernel = $N)" test "${kernel:-x}" = "$N"
check "records were lost (the buffer holds far fewer than $N: dropped_events $dropped)" test "${dropped:-0}" -gt 0
check "denial records delivered + denial records dropped = attempts exactly ($net + ($dropped - $dproc) = $N)" \
  test "$((${net:-0} + ${dropped:-0} - ${dproc:-0}))" -eq "$N"
# The peak fill (CALYX_STAT_RB_PEAK, a maximum kept in the kernel): a reserve fails only when
# less than one record (< 64 KiB, calyx.h) is free, so a run that lost records peaked
# within 64 KiB of the size; the completion record repeats meta.json's.
read -r peak rbsize <<<"$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1] + "/meta.json"))["ringbuf"]; print(r["peak_bytes"], r["size_bytes"])' "$RUN" 2>/dev/null)"
check "meta.json ringbuf: the ring was full to within one record (peak $peak of $rbsize)" \
  test "${rbsize:-0}" = 2097152 -a "${peak:-0}" -le "${rbsize:-0}" -a "${peak:-0}" -gt $((${rbsize:-0} - 65536))
check "exec_event.completed's ringbuf is meta.json's" test "$(python3 -c 'import json, sys
c = [json.loads(l) for l in open(sys.argv[1]) if "\"exec_event.completed\"" in l][-1]["data"]["ringbuf"]
print(c["peak_bytes"], c["size_bytes"])' "$SVF" 2>/dev/null)" = "$peak $rbsize"
check "events.jsonl holds exactly the delivered denials ($net lines)" \
  test "$(grep -c '"type":"deny"' "$RUN/events.jsonl")" = "${net:-x}"
check "SVF: event_log.gap with the dropped count ($dropped), right before the completion record" python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
types = [r["type"] for r in recs]
i = types.index("event_log.gap")
g = recs[i]["data"]
assert types[i + 1] == "exec_event.completed", types
assert g["dropped_events"] == int(sys.argv[2]) and g["events"] == int(sys.argv[3]) and g["run"] == 1, g
assert recs[i + 1]["data"]["dropped_events"] == int(sys.argv[2]), recs[i + 1]
' "$SVF" "$dropped" "$events"
check "meta.json resources say the totals are lower bounds" python3 -c '
import json, sys
r = json.load(open(sys.argv[1] + "/meta.json"))["resources"]
assert r["lower_bound"] is True and "lost: the totals are lower bounds" in r["source"], r' "$RUN"

# ---- 2. paced: no loss at a sustained rate
RATE=100000 P=300000   # 3 s at 100,000 denials/s
flood paced "$P" --rate "$RATE"
flood_wait
read -r net dropped dproc kernel events <<<"$(meta_vals)"
echo "# paced $RATE/s: $(tr '\n' ' ' < "$T/paced.err") denials.net=$net dropped_events=$dropped (attempts $P)"
check "paced at $RATE denials/s: every one of $P refused" grep -qx "denied=$P allowed=0 other=0" "$T/paced.out"
check "paced at $RATE denials/s: no record lost (dropped_events ${dropped:-?}), all $P recorded" \
  test "${dropped:-x} ${net:-x} ${kernel:-x}" = "0 $P $P"
check "paced: no event_log.gap record (the completion record is there)" \
  bash -c 'grep -q "\"type\":\"exec_event.completed\"" "$1" && ! grep -q "\"type\":\"event_log.gap\"" "$1"' _ "$SVF"

# ---- 3. unpaced, consumer running: reported
flood fast "$N"
flood_wait
read -r net dropped dproc kernel events <<<"$(meta_vals)"
echo "# unpaced: $(tr '\n' ' ' < "$T/fast.err") denials.net=$net dropped_events=$dropped (attempts $N)"
check "unpaced: every one of $N refused, counted exactly, delivered + dropped = attempts" \
  test "$(head -n1 "$T/fast.out") $kernel $((${net:-0} + ${dropped:-0} - ${dproc:-0}))" = "denied=$N allowed=0 other=0 $N $N"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
