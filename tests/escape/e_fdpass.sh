# Issue 8 class 1 (a socket passed in), on bpf-lsm: a host process hands a UDP socket
# (made outside, in the host's network) into a deny_all sandbox over a pathname AF_UNIX
# socket (SCM_RIGHTS). The enforcer's socket hooks run in the task that uses a socket,
# not its creator's context, so sending to the network from inside is refused (EACCES,
# hook socket_sendmsg) and so is receiving on it (socket_recvmsg), each recorded with the
# task (comm, pid) and the address it tried (a connected socket: its peer); the host's UDP
# targets receive nothing (progs/fd_pass).
L=$WORK/pass
P=/usr/local/bin/fd_pass
mkdir -p "$L" "$WORK/sb"
$P serve "$L/pass.sock" 47111 2 > "$WORK/serve.out" 2>&1 &
srv=$!
# A socket handed in already connected: a send without an address goes where it is
# connected, and the record names that peer (read from the socket), not 0.0.0.0:0.
$P serve "$L/conn.sock" 47112 1 connected > "$WORK/cserve.out" 2>&1 &
csrv=$!
trap 'kill $srv $csrv 2>/dev/null' EXIT
check "the host side listens" wait_file_has "$WORK/serve.out" "ok listening" 100
check "the host side listens (connected socket)" wait_file_has "$WORK/cserve.out" "ok listening" 100
sb_script "$WORK/sb/pass.sh" <<EOF2
t send $P send $L/pass.sock 47111
t recv $P recv $L/pass.sock
t csend $P csend $L/conn.sock
EOF2
S=$WORK/pass.state
issue "$WORK/pass.lease" --cmd "/bin/sh $WORK/sb/pass.sh" --helper /bin/sh --helper "$P" \
	--path "$WORK/sb/**:ro" --path "$L/**:rw" || exit 0
crun "$S" "$WORK/pass.lease" /bin/sh "$WORK/sb/pass.sh"
check "calyx run exits 0" run_ok
check "the lease's network is deny_all" eq "$(meta enforcement.network)" deny_all
check "the socket was received inside" has "$RUN/stdout.log" "send| ok received"
check "sendto on the passed UDP socket: EACCES" eq "$(line send)" "rc=1 errno=EACCES (sendto)"
check "recv on a passed UDP socket: EACCES" eq "$(line recv)" "rc=1 errno=EACCES (recv)"
check "send on the passed connected UDP socket: EACCES" eq "$(line csend)" "rc=1 errno=EACCES (send)"
check "the host side is done" wait_file_has "$WORK/serve.out" "target received" 100
check "the host's UDP target received nothing" has "$WORK/serve.out" "target received 0"
check "the host's UDP target received nothing (connected)" wait_file_has "$WORK/cserve.out" "target received 0" 100
check "SVF net_event.denied: socket_sendmsg to 127.0.0.1:47111" has_event "$S" net_event.denied '"hook":"socket_sendmsg"'
check "... with the destination" has_event "$S" net_event.denied '"addr":"127.0.0.1","port":47111'
check "SVF net_event.denied: socket_recvmsg" has_event "$S" net_event.denied '"hook":"socket_recvmsg"'
check "the sendmsg record names its task (comm fd_pass, pid, ppid)" has_event_re "$S" net_event.denied \
	'"ppid":[1-9][0-9]*,"comm":"fd_pass",.*"hook":"socket_sendmsg"'
check "SVF net_event.denied of the connected send names its peer 127.0.0.1:47112" has_event_re "$S" net_event.denied \
	'"comm":"fd_pass",.*"hook":"socket_sendmsg",.*"addr":"127.0.0.1","port":47112'
check "nothing left" no_sandbox_left
