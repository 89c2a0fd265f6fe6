# calyx run --audit-only on bpf-lsm (docs/audit-only.md): the escape suite's file, exec
# and net attacks (e_fsops, e_exec, e_argv, t_net) each really happen in audit-only mode
# (the file read, written, unlinked; the payload ran; the listener got the bytes) and each
# has its would_deny record (events.jsonl, SVF, meta.json counts) with the hook, class and
# path or address a denial would carry; nothing is denied. The same script without
# --audit-only is denied as before. A matrix without `audit_only: allow` refuses the flag
# with 66 before the ledger: the lease is still unused.
F=$WORK/fsv
O=$F/outside
A=$F/allowed
PAYLOAD=/usr/local/bin/calyx-ao-payload   # a copy of hello: no lease binary
rm -f "$PAYLOAD"
cp /usr/local/bin/hello "$PAYLOAD" && chmod 755 "$PAYLOAD"
trap 'rm -f "$PAYLOAD"; kill $lpid 2>/dev/null' EXIT
listen_tcp tcp4 127.0.0.1 7181 > "$WORK/l.out" 2>&1 &
lpid=$!
listen_tcp tcp6 ::1 7186 > "$WORK/l6.out" 2>&1 &
lpid="$lpid $!"
listen_tcp unix "$WORK/host.sock" - > "$WORK/lu.out" 2>&1 &
lpid="$lpid $!"
sleep 0.3
AOM=$WORK/audit-only.yaml
sed -e '$a audit_only: allow' "$MATRIX" > "$AOM"

# fresh_files: the outside files as each run finds them
fresh_files() {
	rm -rf "$F"
	mkdir -p "$O" "$A"
	echo secret-data > "$O/secret"
	echo victim-data > "$O/victim"
	echo keep-data > "$O/overwrite"
	for f in victim-rename victim-trunc victim-chmod; do echo "$f-data" > "$O/$f"; done
	chmod 644 "$O/victim-chmod"
	mkdir "$O/victim-dir"
}
mkdir -p "$WORK/sb"
sb_script "$WORK/sb/ao.sh" <<EOF2
t read /usr/local/bin/try_open $O/secret r
t write /usr/local/bin/try_open $O/overwrite w audit-wrote
t unlink /usr/local/bin/try_fsop unlink $O/victim
t exec /usr/local/bin/try_exec $PAYLOAD from-audit
t argv /usr/local/bin/try_exec /usr/local/bin/hello not-the-lease-argv
t tcp4 /usr/local/bin/try_connect tcp4 127.0.0.1 7181
t rmdir /usr/local/bin/try_fsop rmdir $O/victim-dir
t rename /usr/local/bin/try_fsop rename $O/victim-rename $A/stolen
t truncate /usr/local/bin/try_fsop truncate $O/victim-trunc
t chmod /usr/local/bin/try_fsop chmod $O/victim-chmod
t mkdir /usr/local/bin/try_fsop mkdir $O/newdir
t mknod /usr/local/bin/try_fsop mknod $O/fifo
t create /usr/local/bin/try_fsop create $O/created
t udp4 /usr/local/bin/try_connect udp4 127.0.0.1 7182
t sendto4 /usr/local/bin/try_sendto udp4 127.0.0.1 7182
t tcp6 /usr/local/bin/try_connect tcp6 ::1 7186
t unix-host /usr/local/bin/try_misc unix $WORK/host.sock
EOF2
lease_args() {
	issue "$1" --cmd "/bin/sh $WORK/sb/ao.sh" --cmd "/usr/local/bin/hello lease-argv" --helper /bin/sh \
		--helper /usr/local/bin/try_open --helper /usr/local/bin/try_fsop --helper /usr/local/bin/try_exec \
		--helper /usr/local/bin/try_connect --helper /usr/local/bin/try_sendto \
		--helper /usr/local/bin/try_misc --path "$WORK/sb/**:ro" --path "$A/**:rw" --path "$F/*:rw"
}
# wd HOOK STRING: a would_deny line of that hook in the run's events.jsonl containing STRING
wd() {
	local f=$RUN/events.jsonl
	grep '"type":"would_deny"' "$f" 2>/dev/null | grep -F "\"hook\":\"$1\"" | grep -qF -- "$2" && return 0
	WHY="no would_deny $1 line with '$2' in $f: $(grep -F "\"hook\":\"$1\"" "$f" 2>/dev/null | head -n 2 | head -c 500)"
	return 1
}
no_deny_lines() {
	! grep -q '"type":"deny"\|"type":"kill"' "$RUN/events.jsonl" && return 0
	WHY="denial lines: $(grep '"type":"deny"\|"type":"kill"' "$RUN/events.jsonl" | head -n 3 | head -c 600)"
	return 1
}

# --- the refusal: a matrix that does not allow it, the lease untouched ---------------
fresh_files
lease_args "$WORK/ao.lease" || exit 0
S=$WORK/ao.state
CALYX_RUN_ARGS=--audit-only
crun "$S" "$WORK/ao.lease" /bin/sh "$WORK/sb/ao.sh"
check "--audit-only without audit_only: allow in the matrix: exit 66" eq "$RC" 66
check "the refusal names the matrix key" has "$ERR" "audit_only: allow"
check "nothing ran: the secret is unread, the victim still there" exists "$O/victim"
check "lease_event.refused recorded at step audit-only" has_event "$S" lease_event.refused '"audit-only"'

# --- audit-only: every attack succeeds and is recorded -------------------------------
MATRIX=$AOM
crun "$S" "$WORK/ao.lease" /bin/sh "$WORK/sb/ao.sh"
check "audit-only run with the same lease (unused by the refusal) exits 0" run_ok
check "file: the outside secret was read" is_ok read "ok read: secret-data"
check "file: the outside file was overwritten" eq "$(cat "$O/overwrite")" audit-wrote
check "file: the outside file was unlinked" absent "$O/victim"
check "exec: the unleased payload ran" is_ok exec "HELLO-RAN argv0=$PAYLOAD from-audit"
check "argv: the lease binary ran with an argv the lease does not name" is_ok argv "HELLO-RAN argv0=/usr/local/bin/hello not-the-lease-argv"
check "net: the connect reached the listener" is_ok tcp4 "ok connected"
check "net: the listener got the bytes" has "$WORK/l.out" "got: hi"
check "would_deny file_open (read) of the secret" wd file_open "\"path\":\"$O/secret\""
check "its line has the denial's fields (class, errno, access)" wd file_open '"class":"file","errno":13,"access":"read","path":"'"$O/secret"
check "would_deny file_open (write) of the overwritten file" wd file_open "\"access\":\"write\",\"path\":\"$O/overwrite\""
check "would_deny path_mutate unlink of the victim" wd path_mutate "\"op\":\"unlink\",\"path\":\"$O/victim\""
check "would_deny bprm_check_security of the payload" wd bprm_check_security "\"path\":\"$PAYLOAD\""
check "would_deny exec_image of the payload, not killed" wd exec_image '"killed":false'
check "would_deny exec_argv of hello with its argv" wd exec_argv '"argv":["/usr/local/bin/hello","not-the-lease-argv"]'
check "would_deny socket_connect to 127.0.0.1:7181" wd socket_connect '"addr":"127.0.0.1","port":7181'
check "rmdir outside: done" absent "$O/victim-dir"
check "rename out of the outside dir: done" exists "$A/stolen"
check "truncate(2) outside: done" eq "$(stat -c %s "$O/victim-trunc")" 0
check "chmod outside: done" ne "$(stat -c %a "$O/victim-chmod")" 644
check "mkdir outside: done" exists "$O/newdir"
check "mknod outside: done" exists "$O/fifo"
check "O_CREAT outside: done" exists "$O/created"
for op in rmdir rename truncate chmod mkdir mknod; do
	check "would_deny path_mutate $op" wd path_mutate "\"op\":\"$op\""
done
check "would_deny of the O_CREAT names the new file" wd path_mutate "\"path\":\"$O/created\""
check "UDP connect: done" is_ok udp4 "ok connected"
check "would_deny socket_connect udp 127.0.0.1:7182" wd socket_connect '"addr":"127.0.0.1","port":7182'
check "unconnected sendto: sent" is_ok sendto4 "ok sent"
check "would_deny socket_sendmsg to 127.0.0.1:7182" wd socket_sendmsg '"addr":"127.0.0.1","port":7182'
check "TCP over IPv6: reached" is_ok tcp6 "ok connected"
check "the IPv6 listener got the bytes" has "$WORK/l6.out" "got: hi"
check "would_deny socket_connect to ::1 7186" wd socket_connect '"addr":"::1","port":7186'
check "AF_UNIX connect to a host socket: done" is_ok unix-host ok
check "would_deny AF_UNIX connect names the socket" wd socket_connect "\"path\":\"$WORK/host.sock\""
check "no deny or kill line: nothing was denied" no_deny_lines
check "the kernel counted no denial" eq "$(meta enforcement.resident.denied)" 0
check "meta.json audit_only true" eq "$(meta audit_only)" true
check "meta.json would_deny.file >= 3" ge "$(meta would_deny.file)" 3
check "meta.json would_deny.exec >= 3" ge "$(meta would_deny.exec)" 3
check "meta.json would_deny.net >= 1" ge "$(meta would_deny.net)" 1
check "meta.json denials.file 0" eq "$(meta denials.file)" 0
check "SVF file_event.would_deny names the secret" has_event "$S" file_event.would_deny "$O/secret"
check "SVF exec_event.would_deny names the payload" has_event "$S" exec_event.would_deny "$PAYLOAD"
check "SVF net_event.would_deny names the port" has_event "$S" net_event.would_deny '"port":7181'
check "SVF: no file_event.denied" eq "$(svf_count "$S" file_event.denied)" 0
check "SVF lease_event.verified says audit_only" has_event "$S" lease_event.verified '"audit_only":true'
check "SVF exec_event.started says audit_only" has_event "$S" exec_event.started '"audit_only":true'
check "SVF exec_event.completed says audit_only" has_event "$S" exec_event.completed '"audit_only":true'
check "the summary says audit-only: N would-deny" sh -c "grep -qE 'audit-only +[0-9]+ would-deny: exec [0-9]+, file [0-9]+, net [0-9]+' '$ERR'"
check "the audit log verifies" sh -c "$CALYX audit verify --state '$S' > /dev/null"

# --- the same attacks in normal mode: still denied ------------------------------------
fresh_files
lease_args "$WORK/n.lease" || exit 0
S=$WORK/n.state
CALYX_RUN_ARGS=
crun "$S" "$WORK/n.lease" /bin/sh "$WORK/sb/ao.sh"
check "normal run exits 0" run_ok
check "normal: the secret read is denied" is_denied read
check "normal: the overwrite is denied, the file unchanged" eq "$(cat "$O/overwrite")" keep-data
check "normal: the unlink is denied, the victim still there" exists "$O/victim"
check "normal: the payload did not run" not_ran exec
check "normal: the wrong argv did not run" not_ran argv
check "normal: the connect is denied" is_denied tcp4
for n in rmdir rename truncate chmod mkdir mknod create udp4 sendto4 tcp6 unix-host; do
	check "normal: $n denied" is_denied $n
done
check "normal: the outside dir is still there" exists "$O/victim-dir"
check "normal: nothing created outside" absent "$O/created"
check "normal: no would_deny line" lacks "$RUN/events.jsonl" '"type":"would_deny"'
check "normal: meta.json audit_only false" eq "$(meta audit_only)" false
check "normal: SVF exec_event.started says audit_only false" has_event "$S" exec_event.started '"audit_only":false'
