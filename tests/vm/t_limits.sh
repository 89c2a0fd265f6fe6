# Resource limits: output flood, fork bomb and memory bomb are stopped, recorded as a
# violation (status limit, exit 123), and the host is unharmed.
issue "$WORK/o.lease" --cmd '/usr/local/bin/hog out' --limit output=1M,wall=30s || exit 0
crun "$WORK/o.state" "$WORK/o.lease" /usr/local/bin/hog out
check "output flood: exit 123" eq "$RC" 123
check "output flood: status limit" eq "$(meta status)" limit
size=$(stat -c %s "$RUN/stdout.log" 2>/dev/null || echo 0)
check "output flood: stdout.log capped near 1M (got $size bytes)" sh -c "[ $size -ge 1000000 ] && [ $size -le 2200000 ]"
check "output flood: nothing left" no_sandbox_left

issue "$WORK/p.lease" --cmd '/usr/local/bin/hog pids 200' --limit pids=16,wall=6s || exit 0
crun "$WORK/p.state" "$WORK/p.lease" /usr/local/bin/hog pids 200
check "fork bomb: stopped at the pids limit (fork failed)" has "$RUN/stdout.log" "errno=EAGAIN (fork)"
check "fork bomb: no more than 16 tasks were made" sh -c "n=\$(sed -n 's/^forked //p' $RUN/stdout.log); [ -n \"\$n\" ] && [ \$n -le 16 ]"
check "fork bomb: nothing left" no_sandbox_left

issue "$WORK/m.lease" --cmd '/usr/local/bin/hog mem 200' --limit mem=32M,wall=10s || exit 0
crun "$WORK/m.state" "$WORK/m.lease" /usr/local/bin/hog mem 200
check "memory bomb: not allowed to finish its 200 MiB" lacks "$RUN/stdout.log" "ok allocated"
check "memory bomb: exit 123 (limit)" eq "$RC" 123
check "memory bomb: status limit" eq "$(meta status)" limit
check "memory bomb: nothing left" no_sandbox_left
