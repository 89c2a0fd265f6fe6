# The state directory and the ledger against a hostile root sandbox on bpf-lsm (issue
# class 9, docs/run.md "The state directory and the ledger"):
# 1. the overlap guard: a state dir below a :rw lease path is refused (66) with the root
#    matrix too, before anything runs, and the lease is not used;
# 2. with the state dir and the ledger outside the lease, a root sandbox tries what the
#    review did with them reachable: swap the state dir (so a single-use lease runs
#    again), plant a symlink for the next root runner, wipe the ledger entry, rewrite or
#    cut the audit log. Every attempt is refused (EACCES/EPERM, or ENOENT where the
#    sandbox's mount view does not hold them), everything is as it was, and the consumed
#    lease stays consumed with this state dir and with another.
F=/usr/local/bin/try_fsop
O=/usr/local/bin/try_open
# refused_or_hidden NAME: the attempt failed with EACCES/EPERM, or ENOENT (not in view).
refused_or_hidden() {
	local l
	l=$(line "$1")
	case $l in
	*errno=EACCES*|*errno=EPERM*|*errno=ENOENT*) return 0 ;;
	esac
	WHY="want errno=EACCES/EPERM/ENOENT, got '${l:-<no line $1 in stdout.log>}'"
	return 1
}
lease_id() { $CALYX lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n 1; }
lease_iss() { $CALYX lease show "$1" 2>/dev/null | sed -n 's/^signer *//p'; }

# This test's own ledger (a fresh one: the VM matrix but for `ledger:`), outside $WORK.
L=/tmp/calyx-t_state/ledger
mkdir -p /tmp/calyx-t_state /tmp/calyx-states
{ cat /tests/vm/matrix.yaml; echo "ledger: $L"; } > "$WORK/state-matrix.yaml"
MATRIX=$WORK/state-matrix.yaml

# --- 1. the guard, root matrix, bpf-lsm
mkdir -p "$WORK/g/rw"
issue "$WORK/g.lease" --cmd /usr/local/bin/hello --path "$WORK/g/rw/**:rw" || exit 0
crun "$WORK/g/rw/state" "$WORK/g.lease" /usr/local/bin/hello
check "state dir below a :rw lease path (root matrix): refused, 66" eq "$RC" 66
check "... naming the lease path and the state dir" has "$ERR" "is above the state dir $WORK/g/rw/state"
check "... nothing ran" absent "$WORK/g/rw/state/outgoing"
crun /tmp/calyx-states/g "$WORK/g.lease" /usr/local/bin/hello
check "... the lease was not used: it runs with the state dir outside" run_ok

# --- 2. the attacks, with the state dir and the ledger out of the lease's reach
S=/tmp/calyx-states/victim
A=$WORK/att
mkdir -p "$A" "$WORK/sb"
issue "$WORK/first.lease" --cmd /usr/local/bin/hello || exit 0
crun "$S" "$WORK/first.lease" /usr/local/bin/hello
check "a single-use lease runs once" run_ok
JTI=$(lease_id "$WORK/first.lease") ISS=$(lease_iss "$WORK/first.lease")
E=$L/$ISS/$JTI
check "its ledger entry is $E (host-wide, not in the state dir)" eq "$(cat "$E" 2>/dev/null)" 1
LOG=$S/logs/svf_audit/svf.jsonl
n0=$(wc -l < "$LOG")
cp "$LOG" "$WORK/log-before"
sb_script "$WORK/sb/attack.sh" <<EOF2
t swap $F rename $S $S.old
t swap-logs $F rename $S/logs $A/logs
t plant $F symlink $A $S/outgoing/staging_runs/planted
t plant-run $F symlink $A $S/run/planted.json
t wipe $F unlink $E
t wipe-dir $F rename $L/$ISS $A/ledger-moved
t ledger-write $O $E w 0
t log-write $O $LOG w forged
t log-trunc $F truncate $LOG
t log-unlink $F unlink $LOG
t log-replace $F rename $A/forged $LOG
t own $O $A/own w sandbox-wrote
EOF2
echo '{"seq":1}' > "$A/forged"
issue "$WORK/attack.lease" --cmd "/bin/sh $WORK/sb/attack.sh" --helper /bin/sh --helper "$F" --helper "$O" \
	--path "$WORK/sb/**:ro" --path "$A/**:rw" || exit 0
crun "$S" "$WORK/attack.lease" /bin/sh "$WORK/sb/attack.sh"
# Two runs in this state dir: its run directory by its lease id, not the newest name.
RUN=$S/outgoing/staging_runs/$(lease_id "$WORK/attack.lease")
check "the attacking run itself runs (exit 0)" run_ok
check "its own :rw path works (the attempts below are not refused for want of rights at all)" is_ok own
check "swap the state dir (rename it away): refused" refused_or_hidden swap
check "swap its logs out to a :rw path: refused" refused_or_hidden swap-logs
check "plant a symlink in outgoing/staging_runs: refused" refused_or_hidden plant
check "plant a symlink as a runner record: refused" refused_or_hidden plant-run
check "wipe the ledger entry: refused" refused_or_hidden wipe
check "move the issuer's ledger directory away: refused" refused_or_hidden wipe-dir
check "write the ledger entry: refused" refused_or_hidden ledger-write
check "write the audit log: refused" refused_or_hidden log-write
check "truncate the audit log: refused" refused_or_hidden log-trunc
check "unlink the audit log: refused" refused_or_hidden log-unlink
check "replace the audit log with a forged one: refused" refused_or_hidden log-replace
check "the state dir is where it was" absent "$S.old"
check "... no symlink planted in it" absent "$S/outgoing/staging_runs/planted"
check "... nor among the runner records" absent "$S/run/planted.json"
check "the ledger entry still says 1" eq "$(cat "$E" 2>/dev/null)" 1
check "the audit log kept every record it had ($n0 lines, then the attacking run's)" \
	sh -c "head -n $n0 '$LOG' | cmp -s - '$WORK/log-before'"
check "... and is a regular file, not a link" sh -c "[ -f '$LOG' ] && [ ! -L '$LOG' ]"
check "... its seq runs 1..N without a gap" eq "$(jget -l "$LOG" seq | tr '\n' ' ')" "$(seq 1 "$(wc -l < "$LOG")" | tr '\n' ' ')"
crun "$S" "$WORK/first.lease" /usr/local/bin/hello
check "the consumed lease again, same state dir: refused, 67" eq "$RC" 67
crun /tmp/calyx-states/other "$WORK/first.lease" /usr/local/bin/hello
check "... with another state dir: refused, 67 (the ledger is host-wide)" eq "$RC" 67
check "no sandbox cgroup or BPF program left" no_sandbox_left
