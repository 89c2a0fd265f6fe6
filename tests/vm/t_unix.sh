# AF_UNIX is decided on the socket actually reached (lsm/unix_stream_connect,
# lsm/unix_may_send), not on the path string the sandbox passed: a bound path must be in
# one of the lease's :rw paths, abstract and unbound peers are refused. So "rw/../" and a
# symlink planted in :rw that points at a host socket reach nothing, while a socket bound
# inside :rw works (stream and datagram). Listeners outside the sandbox show that a
# refused connect or datagram never arrived.
# The host sockets are in the sandbox's view (the lease's $WORK/hs/*:ro) but in no :rw path,
# so the enforcer is what refuses reaching them, not the view (ENOENT).
mkdir -p "$WORK/rw" "$WORK/sb" "$WORK/hs"
listen_tcp unix "$WORK/hs/host.sock" - > "$WORK/lu.out" 2>&1 &
lu=$!
listen_tcp unix "$WORK/rw/in.sock" - > "$WORK/li.out" 2>&1 &
li=$!
unix_dgram recv "$WORK/hs/host.dgram" > "$WORK/ld.out" 2>&1 &
ld=$!
unix_dgram recv "$WORK/rw/in.dgram" > "$WORK/lid.out" 2>&1 &
lid=$!
unix_dgram recv @calyx-test-dgram > "$WORK/lad.out" 2>&1 &
lad=$!
trap 'kill $lu $li $ld $lid $lad 2>/dev/null' EXIT
for f in lu li ld lid lad; do
	check "listener $f is up" wait_file_has "$WORK/$f.out" listening
done
ln -s "$WORK/hs/host.sock" "$WORK/rw/link.sock"
ln -s "$WORK/hs/host.dgram" "$WORK/rw/link.dgram"
sb_script "$WORK/sb/u.sh" <<EOF2
t dotdot /usr/local/bin/try_misc unix $WORK/rw/../hs/host.sock
t link /usr/local/bin/try_misc unix $WORK/rw/link.sock
t direct /usr/local/bin/try_misc unix $WORK/hs/host.sock
t inside /usr/local/bin/try_misc unix $WORK/rw/in.sock
t d-dotdot /usr/local/bin/unix_dgram send $WORK/rw/../hs/host.dgram
t d-link /usr/local/bin/unix_dgram send $WORK/rw/link.dgram
t d-conn-link /usr/local/bin/unix_dgram connect $WORK/rw/link.dgram
t d-direct /usr/local/bin/unix_dgram send $WORK/hs/host.dgram
t d-abstract /usr/local/bin/unix_dgram send @calyx-test-dgram
t d-inside /usr/local/bin/unix_dgram send $WORK/rw/in.dgram
t d-conn-inside /usr/local/bin/unix_dgram connect $WORK/rw/in.dgram
t a-bind /usr/local/bin/try_misc unix-bind @calyx-test-bind
t a-autobind /usr/local/bin/try_misc unix-bind @
t p-bind /usr/local/bin/try_misc unix-bind $WORK/rw/bound.sock
EOF2
S=$WORK/u.state
issue "$WORK/u.lease" --cmd "/bin/sh $WORK/sb/u.sh" --helper /bin/sh --helper /usr/local/bin/try_misc \
	--helper /usr/local/bin/unix_dgram --path "$WORK/sb/**:ro" --path "$WORK/rw/**:rw" --path "$WORK/hs/*:ro" || exit 0
crun "$S" "$WORK/u.lease" /bin/sh "$WORK/sb/u.sh"
check "calyx run exits 0" run_ok
check "stream connect through rw/../ to a host socket refused" is_denied dotdot
check "stream connect through a symlink in :rw to a host socket refused" is_denied link
check "stream connect to a host socket refused" is_denied direct
check "stream connect to a socket bound in :rw works" is_ok inside
check "dgram sendto through rw/../ to a host socket refused" is_denied d-dotdot
check "dgram sendto through a symlink in :rw refused" is_denied d-link
check "dgram connect through a symlink in :rw refused" is_denied d-conn-link
check "dgram sendto to a host socket refused" is_denied d-direct
check "dgram sendto to an abstract socket refused" is_denied d-abstract
check "dgram sendto to a socket bound in :rw works" is_ok d-inside "ok send"
check "dgram connect+send to a socket bound in :rw works" is_ok d-conn-inside "ok connect"
# Binding an abstract name (a host client expecting it would connect in) or autobind:
# refused (socket_bind); a pathname bind in :rw works.
check "bind of an abstract name refused" errno_is a-bind EACCES
check "autobind (an address of the family alone) refused" errno_is a-autobind EACCES
check "bind of a pathname socket in :rw works" is_ok p-bind
/usr/local/bin/try_misc unix @calyx-test-bind > "$WORK/abind-client.out" 2>&1
check "... a host client finds no listener on the abstract name" has "$WORK/abind-client.out" "errno=ECONNREFUSED"
check "the refused binds are recorded (socket_bind)" run_event deny '"hook":"socket_bind","class":"net"'
sleep 0.3
check "the host stream listener accepted nothing" lacks "$WORK/lu.out" "got:"
check "the host dgram listener received nothing" lacks "$WORK/ld.out" "got:"
check "the abstract dgram listener received nothing" lacks "$WORK/lad.out" "got:"
check "the :rw stream listener got the allowed connection" has "$WORK/li.out" "got:"
check "the :rw dgram listener got both allowed datagrams" sh -c "[ \$(grep -c '^got: ' $WORK/lid.out) -eq 2 ]"
check "meta.json denials.net counts the 7 refusals" ge "$(meta denials.net)" 7
check "SVF net_event.denied recorded" has_event "$S" net_event.denied
# Where each record's path comes from (docs/enforcer.md "Where record fields come from"):
# the peer the kernel resolved (unix_stream_connect), or the string the task passed
# (socket_connect, refused on the name alone).
check "the symlinked connect's record names the socket reached, path_source kernel" \
	run_event deny "\"path\":\"$WORK/hs/host.sock\",\"path_source\":\"kernel\""
check "the direct connect's record names the string passed, path_source caller" \
	run_event deny "\"path\":\"$WORK/hs/host.sock\",\"path_source\":\"caller\""
check "no record claims a name the task passed as a path the kernel resolved" \
	lacks "$RUN/events.jsonl" "rw/../hs/host.sock\",\"path_source\":\"kernel\""
check "no sandbox cgroup or BPF program left" no_sandbox_left
