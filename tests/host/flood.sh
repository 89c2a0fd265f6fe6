#!/usr/bin/env bash
# Ring-buffer flood (THREATS.md "The enforcer itself"): a sandboxed command makes far more
# denied operations (AF_INET sockets, refused by the landlock backend's cgroup programs,
# each with a record) than its ring buffer holds between two polls of the consumer. Every
# attempt must still be refused (a full ring buffer never changes a decision), the kernel
# side must count every one exactly (meta.json enforcement.resident.denied), and the loss
# must be counted, not silent: denials recorded + records dropped = attempts, in meta.json
# and in the SVF completion record.
#   tests/host/flood.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

T=$(mktemp -d /tmp/calyx-flood.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/deny_flood" tests/host/progs/deny_flood.c \
  || { bad "build deny_flood"; echo "$PASS passed, $FAIL failed"; exit 1; }
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"

N=200000
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-FLOOD --ttl 5m \
  --cmd "$T/deny_flood socket $N" -o "$T/flood.tok" 2>/dev/null || bad "issue flood lease"
rc=0
# The flood is of cgroup-program denials: the seccomp baseline's inet_sockets group is
# relaxed so that socket(AF_INET) reaches them.
. tests/lib/seccomp.sh
inet_matrix "$T/inet-matrix.yaml" || bad "inet_sockets matrix"
"$CALYX" run --lease "$T/flood.tok" --matrix "$T/inet-matrix.yaml" --pub "$T/k/calyx.pub" --state "$T/state" \
  -- "$T/deny_flood" socket "$N" >"$T/out" 2>"$T/err" || rc=$?
check "the flooding command ran to its end (exit $rc)" test "$rc" -eq 0
check "every one of $N sockets was refused ($(cat "$T/out"))" grep -qx "denied=$N allowed=0 other=0" "$T/out"

run=$(find "$T/state/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name 'LEASE-*' | head -n1)
read -r net dropped kernel <<<"$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
print(m["denials"]["net"], m["dropped_events"], m["enforcement"]["resident"]["denied"])' "$run" 2>/dev/null)"
echo "# meta.json: denials.net=$net dropped_events=$dropped resident.denied=$kernel (attempts $N)"
check "the kernel side counted every refusal exactly ($kernel = $N)" test "${kernel:-x}" = "$N"
check "meta.json: no more denials recorded than attempts (${net:-?} <= $N)" test "${net:-0}" -le "$N" -a -n "$net"
# Every attempt is either a recorded denial or a dropped record. The drop counter also
# counts any other record the full buffer refused (the fork, exec and exit records of the
# run's one process), so the sum may exceed the attempts by at most those three.
check "meta.json: denials recorded + records dropped account for every attempt ($net + $dropped, attempts $N)" \
  test "$((net + dropped))" -ge "$N" -a "$((net + dropped))" -le "$((N + 3))"
completed=$(grep '"type":"exec_event.completed"' "$T/state/logs/svf_audit/svf.jsonl")
check "the SVF completion record carries the dropped count ($dropped)" \
  python3 -c 'import json,sys; d=json.loads(sys.argv[1])["data"]; sys.exit(d["dropped_events"] != int(sys.argv[2]))' \
  "$completed" "$dropped"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
