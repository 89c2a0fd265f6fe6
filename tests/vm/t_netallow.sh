# Network allow rules on bpf-lsm (docs/network.md): a lease with `--net allow=...` keeps the
# guest's network namespace, and the socket hooks admit exactly what a rule names. The
# listeners (net_try serve, outside the sandbox) on 127.0.0.1, 127.0.0.2 and ::1, TCP and UDP,
# receive the admitted bytes and nothing else; every other port, address and protocol,
# unconnected UDP sends and TCP Fast Open (sendto MSG_FASTOPEN: socket_sendmsg with the
# address) to them, bind, listen and a raw socket are refused (EACCES), each recorded,
# naming the address and port where the operation had one. ::ffff:127.0.0.1 is decided by
# the IPv4 rule. The same attempts on the landlock backend: tests/host/netallow.sh.
P1=7201 P2=7202 P3=7203 P4=7204 P5=7205 P7=7207
/usr/local/bin/net_try serve "$WORK/got" tcp,127.0.0.1,$P1 tcp,127.0.0.1,$P2 tcp,127.0.0.2,$P1 tcp,::1,$P1 \
	tcp,::1,$P4 udp,127.0.0.1,$P3 udp,127.0.0.1,$P5 udp,127.0.0.1,$P1 > "$WORK/listen.log" 2>&1 &
lsn=$!
trap 'kill $lsn 2>/dev/null' EXIT
i=0
while ! grep -qx ready "$WORK/got" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "listeners up" has "$WORK/got" ready

sed -e 's|^network: deny_all$|network: {allow: ["127.0.0.0/8:*/tcp", "127.0.0.0/8:*/udp", "[::1]:*/tcp"]}|' \
	"$MATRIX" > "$WORK/m.yaml"
MATRIX=$WORK/m.yaml
OPS="tcp,127.0.0.1,$P1 tcp,::ffff:127.0.0.1,$P1 tcp,::1,$P4 tfo,127.0.0.1,$P1 udp,127.0.0.1,$P3 \
udpconn,127.0.0.1,$P3 udp,::ffff:127.0.0.1,$P3 tcp,127.0.0.1,$P2 tcp,127.0.0.2,$P1 tcp,::1,$P1 \
udp,127.0.0.1,$P1 udp,127.0.0.1,$P5 udpconn,127.0.0.1,$P5 tfo,127.0.0.1,$P2 tfo,::ffff:127.0.0.2,$P1 \
bind,127.0.0.1,$P7 bindudp,127.0.0.1,$P7 listen,127.0.0.1,0 raw,127.0.0.1,0"
S=$WORK/na.state
issue "$WORK/na.lease" --cmd "/usr/local/bin/net_try $OPS" --net "allow=127.0.0.1:$P1/tcp" \
	--net "allow=127.0.0.1:$P3/udp" --net "allow=[::1]:$P4" || exit 0
# shellcheck disable=SC2086
crun "$S" "$WORK/na.lease" /usr/local/bin/net_try $OPS
check "calyx run exits 0" run_ok
check "bpf-lsm backend" eq "$(meta enforcement.backend)" bpf-lsm
i=0
while [ "$(grep -c calyx-net- "$WORK/got")" -lt 7 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill $lsn 2>/dev/null
diag "sandbox: $(tr '\n' '|' < "$RUN/stdout.log")"
n=0
for op in $OPS; do
	n=$((n + 1))
	IFS=, read -r kind addr port <<EOF
$op
EOF
	if [ $n -le 7 ]; then
		check "allowed $kind $addr:$port goes through" has "$RUN/stdout.log" "ok $kind $addr $port"
	else
		check "refused $kind $addr:$port: EACCES" has "$RUN/stdout.log" "err $kind $addr $port EACCES"
	fi
done
printf '%s\n' "tcp 127.0.0.1 $P1 calyx-net-1" "tcp 127.0.0.1 $P1 calyx-net-2" "tcp ::1 $P4 calyx-net-3" \
	"tcp 127.0.0.1 $P1 calyx-net-4" "udp 127.0.0.1 $P3 calyx-net-5" "udp 127.0.0.1 $P3 calyx-net-6" \
	"udp 127.0.0.1 $P3 calyx-net-7" | sort > "$WORK/got.want"
grep -v '^ready$' "$WORK/got" | grep -v ' $' | sort > "$WORK/got.sorted"
exact_bytes() { cmp -s "$WORK/got.want" "$WORK/got.sorted" || { WHY="got: $(tr '\n' '|' < "$WORK/got.sorted")"; return 1; }; }
check "the listeners received exactly the admitted bytes and nothing else" exact_bytes
# rec HOOK FAMILY ADDR PORT: a net denial record with exactly these fields
rec() {
	grep '"type":"deny"' "$RUN/events.jsonl" | grep -F "\"hook\":\"$1\"" | grep -F "\"family\":\"$2\"" |
		grep -F "\"addr\":\"$3\"" | grep -qF "\"port\":$4" && return 0
	WHY="no $1 record for $2 $3:$4 in: $(grep '"class":"net"' "$RUN/events.jsonl" | head -c 600)"
	return 1
}
check "record: connect 127.0.0.1:$P2 (other port)" rec socket_connect inet 127.0.0.1 $P2
check "record: connect 127.0.0.2:$P1 (other address)" rec socket_connect inet 127.0.0.2 $P1
check "record: connect [::1]:$P1" rec socket_connect inet6 ::1 $P1
check "record: UDP send 127.0.0.1:$P1 (udp, rule is tcp)" rec socket_sendmsg inet 127.0.0.1 $P1
check "record: UDP send 127.0.0.1:$P5" rec socket_sendmsg inet 127.0.0.1 $P5
check "record: UDP connect 127.0.0.1:$P5" rec socket_connect inet 127.0.0.1 $P5
check "record: TCP Fast Open 127.0.0.1:$P2 (socket_sendmsg with the address)" rec socket_sendmsg inet 127.0.0.1 $P2
check "record: TCP Fast Open [::ffff:127.0.0.2]:$P1" rec socket_sendmsg inet6 ::ffff:127.0.0.2 $P1
check "record: bind 127.0.0.1:$P7" rec socket_bind inet 127.0.0.1 $P7
check "record: listen" has "$RUN/events.jsonl" '"hook":"socket_listen"'
check "record: raw socket" has "$RUN/events.jsonl" '"hook":"socket_create"'
ns_no_net() {
	local ns
	ns=$(meta sandbox.namespaces)
	case $ns in *'"net"'*|"") WHY="sandbox.namespaces: '$ns'"; return 1 ;; esac
}
check "meta.json: the sandbox kept the network namespace (no \"net\" in sandbox.namespaces)" ns_no_net
check "meta.json denials.net = 12" eq "$(meta denials.net)" 12
check "SVF: net_event.denied recorded" has_event "$S" net_event.denied
check "no sandbox cgroup or BPF program left" no_sandbox_left
