# Enforcement is scoped to the sandbox: while a sandbox runs, the same operations from a
# process outside it (this test shell) still succeed.
issue "$WORK/bg.lease" --cmd '/bin/sleep 8' || exit 0
bg_run bg "$WORK/bg.lease" /bin/sleep 8
check "the background sandbox is running" wait_sandbox_procs 1 "$BG_PID"
listen_tcp tcp4 127.0.0.1 7201 > "$WORK/l4.out" 2>&1 &
l4=$!
listen_tcp tcp6 ::1 7206 > "$WORK/l6.out" 2>&1 &
l6=$!
trap 'kill $l4 $l6 2>/dev/null' EXIT
sleep 0.3
o() { out=$("$@" 2>&1); rc=$?; echo "outside: $* => rc $rc: $out"; [ $rc -eq 0 ] || WHY="rc $rc: $out"; return $rc; }
check "outside: TCP connect over IPv4 works" o try_connect tcp4 127.0.0.1 7201
check "outside: TCP connect over IPv6 works" o try_connect tcp6 ::1 7206
check "outside: UDP connect over IPv4 works" o try_connect udp4 127.0.0.1 7202
check "outside: UDP connect over IPv6 works" o try_connect udp6 ::1 7202
check "outside: unconnected UDP sendto works" o try_sendto udp4 127.0.0.1 7202
check "outside: read of /etc/hostname works" o try_open /etc/hostname r
check "outside: write outside any lease works" o try_open "$WORK/outside-write" w
check "outside: exec of a binary in no lease works" o try_exec /usr/bin/git-evil
check "outside: bpf() works (map create)" sh -c 'try_bpf | grep -q "^ok map_create"'
sleep 0.3
check "the listener got the IPv4 connection" has "$WORK/l4.out" "got: hi"
check "the listener got the IPv6 connection" has "$WORK/l6.out" "got: hi"
check "the sandbox was still running during the checks" wait_sandbox_procs 1
wait "$BG_PID"
check "the background sandbox finished with exit 0" eq "$(cat "$WORK/bg.rc")" 0
check "no sandbox cgroup or BPF program left" no_sandbox_left
