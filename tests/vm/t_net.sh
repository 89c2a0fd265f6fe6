# Network deny_all: TCP and UDP over IPv4 and IPv6 (and IPv4-mapped IPv6), unconnected UDP
# sendto and TCP Fast Open (no connect() call at all). A listener outside the sandbox makes
# an allowed connect succeed, so only a real denial yields EACCES/EPERM.
listen_tcp tcp4 127.0.0.1 7101 > "$WORK/l4.out" 2>&1 &
l4=$!
listen_tcp tcp6 ::1 7106 > "$WORK/l6.out" 2>&1 &
l6=$!
listen_tcp unix "$WORK/host.sock" - > "$WORK/lu.out" 2>&1 &
lu=$!
listen_tcp unix @calyx-test-abstract - > "$WORK/la.out" 2>&1 &
la=$!
trap 'kill $l4 $l6 $lu $la 2>/dev/null' EXIT
sleep 0.3
mkdir -p "$WORK/sb"
sb_script "$WORK/sb/net.sh" <<'EOF2'
t tcp4 /usr/local/bin/try_connect tcp4 127.0.0.1 7101
t tcp6 /usr/local/bin/try_connect tcp6 ::1 7106
t tcp6-mapped /usr/local/bin/try_connect tcp6 ::ffff:127.0.0.1 7101
t udp4 /usr/local/bin/try_connect udp4 127.0.0.1 7102
t udp6 /usr/local/bin/try_connect udp6 ::1 7102
t sendto4 /usr/local/bin/try_sendto udp4 127.0.0.1 7102
t sendto6 /usr/local/bin/try_sendto udp6 ::1 7102
t tfo4 /usr/local/bin/try_sendto tfo4 127.0.0.1 7101
t tcp4-remote /usr/local/bin/try_connect tcp4 10.0.2.2 80
t raw4 /usr/local/bin/try_misc socket raw4
t packet /usr/local/bin/try_misc socket packet
t netlink /usr/local/bin/try_misc socket netlink
t unix-host /usr/local/bin/try_misc unix /tmp/calyx-test/host.sock
t unix-abstract /usr/local/bin/try_misc unix @calyx-test-abstract
EOF2
S=$WORK/n.state
issue "$WORK/n.lease" --net deny_all --cmd "/bin/sh $WORK/sb/net.sh" --helper /bin/sh \
	--helper /usr/local/bin/try_connect --helper /usr/local/bin/try_sendto --helper /usr/local/bin/try_misc \
	--path "$WORK/sb/**:ro" || exit 0
crun "$S" "$WORK/n.lease" /bin/sh "$WORK/sb/net.sh"
check "calyx run exits 0" run_ok
check "TCP connect over IPv4 denied" is_denied tcp4
check "TCP connect over IPv6 denied" is_denied tcp6
check "TCP connect to IPv4-mapped IPv6 denied" is_denied tcp6-mapped
check "UDP connect over IPv4 denied" is_denied udp4
check "UDP connect over IPv6 denied" is_denied udp6
check "unconnected UDP sendto over IPv4 denied" is_denied sendto4
check "unconnected UDP sendto over IPv6 denied" is_denied sendto6
check "TCP Fast Open sendto denied" is_denied tfo4
check "TCP connect off-host denied" is_denied tcp4-remote
check "raw IPv4 socket refused" is_denied raw4
check "packet socket refused" is_denied packet
check "netlink socket refused" is_denied netlink
check "AF_UNIX connect to a host socket outside the lease refused" is_denied unix-host
check "AF_UNIX connect to an abstract socket refused" is_denied unix-abstract
check "the unix listeners accepted nothing" sh -c "! grep -q 'got:' $WORK/lu.out $WORK/la.out"
check "the IPv4 listener received nothing" lacks "$WORK/l4.out" "got:"
check "the IPv6 listener received nothing" lacks "$WORK/l6.out" "got:"
check "SVF net_event.denied recorded" has_event "$S" net_event.denied
check "SVF: one net_event.denied per attempt (9)" ge "$(svf_count "$S" net_event.denied)" 9
check "meta.json denials.net >= 8" ge "$(meta denials.net)" 8
# Each refused socket creation names the task that tried (comm, pid, ppid) and no address
# (a socket being created has none: no made-up 0.0.0.0:0).
create_records() { grep '"hook":"socket_create"' "$RUN/events.jsonl"; }
creations_name_their_task() {
	local n bad
	n=$(create_records | wc -l)
	[ "$n" -ge 9 ] || { WHY="$n socket_create records, want >= 9"; return 1; }
	bad=$(create_records | grep -vE '"pid":[1-9][0-9]*,"tid":[1-9][0-9]*,"ppid":[1-9][0-9]*,"comm":"try_(connect|sendto|misc)",' | head -n 2)
	[ -z "$bad" ] || { WHY="records without their task: $bad"; return 1; }
	bad=$(create_records | grep -E '"addr"|"port"' | head -n 2)
	[ -z "$bad" ] || { WHY="socket creation records with an address: $bad"; return 1; }
}
check "socket_create records name the task (comm, pid, ppid), no address" creations_name_their_task
check "no sandbox cgroup or BPF program left" no_sandbox_left
