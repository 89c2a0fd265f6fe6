# The sandbox cannot switch enforcement off: bpf() is denied inside it, and a task that
# moves itself into a child cgroup (or tries to leave for the root) stays confined.
# The secret is in the sandbox's view but granted by no rule (the leases' $WORK/vis/*
# binds $WORK/vis and grants its entries, not what is beneath them): the enforcer is what
# refuses it (a host file outside the view would be ENOENT, e_ns and view tests).
SECRET=$WORK/vis/in/secret
mkdir -p "$WORK/vis/in"
echo secret > "$SECRET"
# A process outside the sandbox for the signal and ptrace attempts.
sleep 120 &
V=$!
trap 'kill $V 2>/dev/null' EXIT
mkdir -p "$WORK/sb"
sb_script "$WORK/sb/enf.sh" <<EOF2
t bpf /usr/local/bin/try_bpf
t child /usr/local/bin/mkcgroup_and_move child $SECRET
t root /usr/local/bin/mkcgroup_and_move root $SECRET
t kill /usr/local/bin/try_misc kill $V
t ptrace /usr/local/bin/try_misc ptrace $V
t unshare /usr/local/bin/try_misc unshare-user
t mount /usr/local/bin/try_misc mount /tmp/calyx-test/sb
t chroot /usr/local/bin/try_misc chroot /tmp/calyx-test/sb
t perf /usr/local/bin/try_misc perf
t inherited-fd /usr/local/bin/try_misc readfd 7
EOF2
S=$WORK/e.state
issue "$WORK/e.lease" --cmd "/bin/sh $WORK/sb/enf.sh" --helper /bin/sh --helper /usr/local/bin/try_bpf \
	--helper /usr/local/bin/mkcgroup_and_move --helper /usr/local/bin/try_misc --path "$WORK/sb/**:ro" --path "$WORK/vis/*:ro" || exit 0
# fd 7 is open on the secret in calyx's environment: the sandbox must not inherit it.
exec 7< $SECRET
crun "$S" "$WORK/e.lease" /bin/sh "$WORK/sb/enf.sh"
exec 7<&-
check "calyx run exits 0" run_ok
check "bpf() inside the sandbox: every call refused (EPERM/EACCES)" sh -c "grep -q '^bpf: rc=0 ' $RUN/stdout.log && ! grep -q 'ok map_create' $RUN/stdout.log"
check "bpf() refused with a permission error" is_denied bpf
# The sandbox cannot even open cgroup.procs; say what happened, the open must fail anyway.
diag "in-sandbox cgroup move: $(grep -E '^child\| (ok moved|errno=[A-Z]+ \((move|mkdir))' "$RUN/stdout.log" | head -n 1)"
check "after trying to move itself into a child cgroup: open still denied" is_denied child
check "after trying to leave for the root cgroup: open still denied" is_denied root
check "the secret was never opened" lacks "$RUN/stdout.log" "ok read: opened"
check "signal to a process outside the sandbox refused or unreachable" unreachable kill
check "ptrace of a process outside the sandbox refused or unreachable" unreachable ptrace
check "the outside process is alive and not stopped or traced" sh -c "grep -q '^State:.*S (sleeping)' /proc/$V/status && grep -q '^TracerPid:.0$' /proc/$V/status"
check "unshare(CLONE_NEWUSER|CLONE_NEWNS) refused" is_denied unshare
check "mount refused" is_denied mount
check "chroot refused" is_denied chroot
check "perf_event_open refused" is_denied perf
check "an fd open in calyx's environment is not inherited (EBADF)" sh -c "grep -q '^inherited-fd: rc=1 errno=EBADF' $RUN/stdout.log"
check "no sandbox cgroup or BPF program left" no_sandbox_left

# A sandboxed task moved into a child cgroup of its sandbox (from outside: the sandbox
# itself cannot write cgroup.procs) stays confined, and the child cgroup is cleaned up.
mkdir -p "$WORK/mv"
sb_script "$WORK/mv/run.sh" <<EOF2
: > $WORK/mv/ready
i=0
while [ ! -e $WORK/mv/go ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
t moved-open /usr/local/bin/try_open $SECRET r
t moved-exec /usr/local/bin/try_exec /usr/bin/git-evil
t moved-own /usr/local/bin/try_open $WORK/mv/run.sh r
EOF2
issue "$WORK/mv.lease" --cmd "/bin/sh $WORK/mv/run.sh" --helper /bin/sh --helper /usr/local/bin/try_open \
	--helper /usr/local/bin/try_exec --path "$WORK/mv/**:rw" --path "$WORK/vis/*:ro" --limit wall=40s || exit 0
bg_run mv "$WORK/mv.lease" /bin/sh "$WORK/mv/run.sh"
check "the sandbox started" wait_file "$WORK/mv/ready" 300
sbcg=$(sandbox_cgroups | head -n 1)
moved_ok() {
	[ -n "$sbcg" ] || { WHY="no sandbox cgroup found"; return 1; }
	# The tasks may sit in a leaf below the sandbox's top cgroup: use the one holding them.
	local procs d p n=0
	procs=$(find "$sbcg" -name cgroup.procs | while read -r f; do [ -n "$(cat "$f")" ] && echo "$f"; done | head -n 1)
	[ -n "$procs" ] || { WHY="no process in any cgroup under $sbcg"; return 1; }
	d=$(dirname "$procs")
	mkdir "$d/moved" || { WHY="mkdir $d/moved failed"; return 1; }
	# Short-lived children (the loop's sleep) come and go: retry until the leaf is empty.
	local try
	for try in 1 2 3 4 5 6 7 8 9 10; do
		for p in $(cat "$procs"); do
			echo "$p" 2>/dev/null > "$d/moved/cgroup.procs" && n=$((n + 1))
		done
		[ -z "$(cat "$procs")" ] && break
		sleep 0.1
	done
	diag "moved $n processes from $d into $d/moved"
	[ "$n" -gt 0 ] && [ -z "$(cat "$procs")" ] && return 0
	WHY="moved $n processes; left in $d: $(cat "$procs" | tr '\n' ' ')"
	return 1
}
check "moved the sandbox's processes into a child cgroup" moved_ok
: > "$WORK/mv/go"
wait "$BG_PID"
RUN=$(ls -d "$WORK"/mv.state/outgoing/staging_runs/LEASE-* 2>/dev/null | tail -n 1)
check "the moved task ran its checks in the child cgroup" sh -c "[ -n \"$RUN\" ] && grep -q '^moved-own: rc=0' $RUN/stdout.log"
check "moved task: open outside the lease still denied" is_denied moved-open
check "moved task: exec outside the lease still denied" not_ran moved-exec
check "moved task: SVF records the denial" has_event "$WORK/mv.state" file_event.denied $SECRET
check "the child cgroup is cleaned up with the sandbox" no_sandbox_left
