#!/usr/bin/env bash
# The audit log as an auditor and an operator meet it (docs/audit.md), on this host's
# landlock backend: real runs, then `calyx audit verify` and the independent verifier
# (tests/lib/svf_verify.py: Python's BLAKE2b, PyNaCl's Ed25519) on the same logs, which
# must agree; each kind of tampering of a copied state dir found with its own exit code;
# `calyx run` refusing to append to a damaged log without using the lease; `calyx audit
# repair` of a cut record; a full disk at every step of a run leaving a log that verifies
# and a state dir that works once space is freed; concurrent runs keeping one chain.
#   tests/host/audit.sh build/calyx      (run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
PYV=(/usr/bin/python3 "$PWD/tests/lib/svf_verify.py")

suite_scratch audit
TMPFS=""
trap '[ -n "$TMPFS" ] && umount "$TMPFS" 2>/dev/null; rm -rf "$T"' EXIT
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
"$CALYX" keygen --out "$T/other" >/dev/null 2>&1 || bad "keygen (other)"
ST=$T/st
N=0
# one STATE [CMD...]: a fresh lease for CMD (default /bin/true), run on STATE; RC, ERR set,
# LEASE the lease file (kept for reuse).
one() {
	local st=$1; shift
	[ $# -gt 0 ] || set -- /bin/true
	N=$((N + 1))
	LEASE=$T/l$N
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-AUDIT --ttl 5m \
		--cmd "$*" -o "$LEASE" 2>/dev/null || bad "lease issue $N"
	again "$st" "$@"
}
# again STATE CMD...: run $LEASE once more
again() {
	local st=$1; shift
	ERR=$T/err$N
	RC=0
	"$CALYX" run --lease "$LEASE" --pub "$T/k/calyx.pub" --state "$st" -q -- "$@" >/dev/null 2>"$ERR" || RC=$?
}
# verdicts STATE [PUB]: CK (calyx exit code), CS (its status), PY (the independent verifier's kind)
verdicts() {
	local st=$1 pub=${2:-$ST/keys/audit.pub}
	CK=0
	"$CALYX" audit verify --state "$st" --pub "$pub" --json > "$T/v.json" 2>/dev/null || CK=$?
	CS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$T/v.json" 2>/dev/null)
	PY=$("${PYV[@]}" "$st" "$pub" | awk '{ print ($1 == "intact") ? "intact" : $2 }')
}

one "$ST"
check "first run: exit 0" [ "$RC" -eq 0 ]
check "first run made the audit key and printed its public half" \
	grep -qF "$(cat "$ST/keys/audit.pub")" "$ERR"
check "audit key secret mode 0600" [ "$(stat -c %a "$ST/keys/audit.key")" = 600 ]
printf '#!/bin/sh\ncat /etc/shadow\necho some output\nexit 0\n' > "$T/job.sh"
chmod 755 "$T/job.sh"
one "$ST"; one "$ST"
one "$ST" "$T/job.sh"
check "run of a script whose open is refused: exit 0" [ "$RC" -eq 0 ]
verdicts "$ST"
check "intact log: calyx audit verify exits 0" [ "$CK" -eq 0 ]
check "intact log: the independent verifier agrees" [ "$PY" = intact ]
# the same count and head from both
check "both verifiers report the same records and head" [ "$("${PYV[@]}" "$ST" "$ST/keys/audit.pub" | cut -d' ' -f2,3)" = \
	"$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["records"], j["head"])' "$T/v.json")" ]
check "each run ends in a signed checkpoint (4 runs, 4 checkpoints)" \
	[ "$(grep -c '"type":"log_event.checkpoint"' "$ST/logs/svf_audit/svf.jsonl")" -eq 4 ]
check "the log's last record is a checkpoint" \
	grep -q '"type":"log_event.checkpoint"' <(tail -n1 "$ST/logs/svf_audit/svf.jsonl")

# tamper CASE: a copy of ST with its log changed as CASE says (tests/lib/svf_tamper.py)
tamper() {
	local c=$T/c_$1
	rm -rf "$c"; cp -a "$ST" "$c"
	/usr/bin/python3 tests/lib/svf_tamper.py "$1" "$c/logs/svf_audit" || bad "svf_tamper.py $1"
	TC=$c
}
for spec in edited:80 rehashed:80 deleted:81 inserted:82 reordered:83 truncated:84 cutcp:84 cut:85 badsig:86 nosidecar:87; do
	case_=${spec%%:*} want=${spec#*:}
	tamper "$case_"
	verdicts "$TC"
	check "tampered ($case_): calyx audit verify exits $want (got $CK, $CS)" [ "$CK" -eq "$want" ]
	check "tampered ($case_): the independent verifier finds the same fault ($PY)" [ "$PY" = "$CS" ]
done
verdicts "$ST" "$T/other/calyx.pub"
check "verified with another public key: exit 86 (bad signature), both verifiers" [ "$CK" -eq 86 ] && [ "$PY" = bad-signature ]
"$CALYX" audit verify --state "$T/c_edited" --pub "$ST/keys/audit.pub" > "$T/v.txt" 2>/dev/null
check "the verdict names the file and line of the first bad record" grep -q 'svf.jsonl:2: hash mismatch' "$T/v.txt"

# A run on a damaged log: refused with the fault's code, the lease not used.
tamper cut
cp "$TC/logs/svf_audit/svf.jsonl" "$T/cut.log"
one "$TC"
check "run on a log whose last record is cut: exit 85" [ "$RC" -eq 85 ]
check "... the message names calyx audit repair" grep -q 'calyx audit repair --state' "$ERR"
check "... nothing appended" cmp -s "$TC/logs/svf_audit/svf.jsonl" "$T/cut.log"
RCR=0; "$CALYX" audit repair --state "$TC" > "$T/repair.out" 2>&1 || RCR=$?
check "audit repair: exit 0 ($(head -c 200 "$T/repair.out"))" [ "$RCR" -eq 0 ]
check "audit repair: says what it cut" grep -q '^repaired: cut [0-9]* bytes' "$T/repair.out"
check "audit repair: kept every complete record byte for byte" \
	cmp -s <(head -c "$(($(wc -c < "$T/cut.log") - $(tail -n1 "$T/cut.log" | wc -c)))" "$T/cut.log") \
	<(head -c "$(($(wc -c < "$T/cut.log") - $(tail -n1 "$T/cut.log" | wc -c)))" "$TC/logs/svf_audit/svf.jsonl")
check "audit repair: a log_event.repaired record, then a checkpoint" \
	grep -q '"type":"log_event.repaired"' <(tail -n2 "$TC/logs/svf_audit/svf.jsonl")
verdicts "$TC"
check "repaired log verifies (calyx and the independent verifier)" [ "$CK" -eq 0 ] && [ "$PY" = intact ]
again "$TC" /bin/true
check "the refused lease was not used: it runs after the repair" [ "$RC" -eq 0 ]
RCR=0; "$CALYX" audit repair --state "$TC" > "$T/repair.out" 2>&1 || RCR=$?
check "audit repair with nothing to repair: exit 0, says so" [ "$RCR" -eq 0 ] && grep -q '^nothing to repair' "$T/repair.out"
tamper edited
cp "$TC/logs/svf_audit/svf.jsonl" "$T/edited.log"
RCR=0; "$CALYX" audit repair --state "$TC" > "$T/repair.out" 2>&1 || RCR=$?
# The edit is before the last checkpoint: the tail verifies, so there is nothing for repair to do.
check "audit repair leaves an edited log as it is" cmp -s "$T/edited.log" "$TC/logs/svf_audit/svf.jsonl"
# An edited last checkpoint: the tail check sees it; run and repair both refuse with 80.
rm -rf "$T/c_last"; cp -a "$ST" "$T/c_last"
sed -i '$ s/"type":"log_event.checkpoint"/"type":"log_event.checkpoinT"/' "$T/c_last/logs/svf_audit/svf.jsonl"
one "$T/c_last"
check "run on a log whose last record was edited: exit 80, lease not used" [ "$RC" -eq 80 ]
cp "$T/c_last/logs/svf_audit/svf.jsonl" "$T/last.log"
RCR=0; "$CALYX" audit repair --state "$T/c_last" > "$T/repair.out" 2>&1 || RCR=$?
check "audit repair refuses an edit: exit 80, nothing changed" [ "$RCR" -eq 80 ] && cmp -s "$T/last.log" "$T/c_last/logs/svf_audit/svf.jsonl"

# Concurrent runs append one chain.
pids=()
for i in 1 2 3 4; do
	N=$((N + 1))
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-AUDIT --ttl 5m \
		--cmd /bin/true -o "$T/p$i" 2>/dev/null
	"$CALYX" run --lease "$T/p$i" --pub "$T/k/calyx.pub" --state "$ST" -q -- /bin/true 2>/dev/null & pids+=($!)
done
prc=0; for p in "${pids[@]}"; do wait "$p" || prc=1; done
check "4 concurrent runs: all exit 0" [ "$prc" -eq 0 ]
verdicts "$ST"
check "after concurrent runs the log verifies (both verifiers)" [ "$CK" -eq 0 ] && [ "$PY" = intact ]

# A full disk at each step: the state dir on a small tmpfs, k pages left free.
TMPFS=$T/small
mkdir -p "$TMPFS" && mount -t tmpfs -o size=4m,mode=0755 tmpfs "$TMPFS" || bad "mount tmpfs"
one "$TMPFS/st"
check "full disk: a first run on the small tmpfs works" [ "$RC" -eq 0 ]
stuck=0 badlog=0 claims=0
for k in 0 1 2 3 4 5 6 7 8 9 10 12 14 16; do
	rm -f "$TMPFS/fill"
	read -r avail bs < <(stat -f -c '%a %S' "$TMPFS")
	fill=$(( (avail - k) * bs ))
	[ "$fill" -gt 0 ] && head -c "$fill" /dev/zero > "$TMPFS/fill" 2>/dev/null
	one "$TMPFS/st" "$T/job.sh"
	echo "$k $RC $(head -c 160 "$ERR" | tr '\n' ' ')" >> "$T/enospc.txt"
	"$CALYX" audit verify --state "$TMPFS/st" --pub "$TMPFS/st/keys/audit.pub" --allow-unsigned-tail >/dev/null 2>&1 || badlog=$((badlog + 1))
	# nothing claims a run directory that is not there
	python3 - "$TMPFS/st" <<'PY' || claims=$((claims + 1))
import json, os, sys
st = sys.argv[1]
for line in open(os.path.join(st, "logs/svf_audit/svf.jsonl")):
    r = json.loads(line)
    if r["type"] == "exec_event.completed" and r["data"].get("run_dir"):
        assert os.path.isfile(os.path.join(st, "outgoing/staging_runs", r["data"]["run_dir"], "meta.json")), r["data"]["run_dir"]
PY
	rm -f "$TMPFS/fill"
	one "$TMPFS/st"
	[ "$RC" -eq 0 ] || { stuck=$((stuck + 1)); diag "after k=$k freed: run exit $RC: $(head -c 300 "$ERR")"; }
done
diag "full-disk runs (free pages, exit, message): $(tr '\n' ';' < "$T/enospc.txt" | head -c 1500)"
check "full disk: at least one run was refused for lack of space" grep -q ' 74 ' "$T/enospc.txt"
check "full disk: the log verified after every one ($badlog did not)" [ "$badlog" -eq 0 ]
check "full disk: no completion record named a run directory that is not there ($claims did)" [ "$claims" -eq 0 ]
check "full disk: once space is freed the next run works, every time ($stuck did not)" [ "$stuck" -eq 0 ]
verdicts "$TMPFS/st" "$TMPFS/st/keys/audit.pub"
check "full disk: the final log verifies with both verifiers" [ "$CK" -eq 0 ] && [ "$PY" = intact ]
finish
