# Wall-clock limit: a command that forks a daemonizing (setsid, double-fork) grandchild and
# sleeps past the limit is killed whole: nothing left in /proc, status violation (wall_ms),
# exit 124.
M=calyx-bg-marker-timeout
issue "$WORK/t.lease" --cmd "/usr/local/bin/daemonize_and_sleep 60 $M" --limit wall=3s || exit 0
start=$(date +%s)
crun "$WORK/t.state" "$WORK/t.lease" /usr/local/bin/daemonize_and_sleep 60 "$M"
took=$(( $(date +%s) - start ))
check "calyx run exits 124 (timeout)" eq "$RC" 124
check "killed near the limit (3s), not at the end of the sleep (took ${took}s)" sh -c "[ $took -lt 30 ]"
check "the daemon had started" has "$RUN/stdout.log" "daemon "
sleep 0.5
check "no process of the command left (parent, child, daemon)" eq "$(procs_with "$M" | tr '\n' ' ')" ""
check "meta.json status violation" eq "$(meta status)" violation
check "meta.json violation.limit wall_ms" eq "$(meta violation.limit)" wall_ms
check "meta.json violation.bound 3000" eq "$(meta violation.bound)" 3000
check "violation.measured >= bound" ge "$(meta violation.measured)" 3000
check "SVF resource_event.violation recorded" has_event "$WORK/t.state" resource_event.violation
check "alert line: violation wall_ms" grep -q '"status":"violation".*"limit":"wall_ms"' "$WORK/t.state/logs/resource_monitoring/alerts.jsonl"
check "exit_code.txt says 124 or the signal" sh -c "grep -qE '124|9|KILL' $RUN/exit_code.txt"
check "SVF exec_event.completed recorded" has_event "$WORK/t.state" exec_event.completed
check "no sandbox cgroup or BPF program left" no_sandbox_left
