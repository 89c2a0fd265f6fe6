# THREATS.md: killing `calyx run` with SIGKILL leaves no sandboxed process running
# unconfined (its BPF links die with it, so its processes must die too), and the next run
# still works.
M=calyx-bg-marker-killrunner
issue "$WORK/k.lease" --cmd "/usr/local/bin/daemonize_and_sleep 60 $M" || exit 0
bg_run k "$WORK/k.lease" /usr/local/bin/daemonize_and_sleep 60 "$M"
check "the sandbox is running (parent and daemon)" wait_sandbox_procs 2 "$BG_PID"
cpid=
for p in $(procs_with "--lease $WORK/k.lease"); do cpid=$p; done
check "found the calyx run process" ne "$cpid" ""
[ -n "$cpid" ] && kill -9 "$cpid"
wait "$BG_PID" 2>/dev/null
gone() {
	local i=0 left
	while [ $i -lt 50 ]; do
		left=$(procs_with "$M" | tr '\n' ' ')
		[ -z "$left" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	WHY="still alive 5 s after calyx died: $left ($(for p in $left; do cat /proc/$p/cgroup; done | tr '\n' ' '))"
	return 1
}
check "no sandboxed process survives calyx's SIGKILL" gone
kill_leftovers
issue "$WORK/k2.lease" --cmd '/usr/bin/git' || exit 0
crun "$WORK/k2.state" "$WORK/k2.lease" /usr/bin/git
check "the next run works" run_ok
check "the next run's output" has "$RUN/stdout.log" HELLO-RAN
