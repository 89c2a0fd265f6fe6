#!/usr/bin/env bash
# Host tier, real kernel (landlock backend: the cgroup sock programs): network allow rules
# (`--net allow=CIDR:PORT[/tcp|/udp]`, docs/network.md). The suite runs in a network
# namespace of its own (unshare -n, lo up), so the listeners and every address tried are
# its own: the sandbox of an allow-rule lease keeps the runner's network namespace, which
# here is the test's. Listeners (net_try serve) on 127.0.0.1, 127.0.0.2 and ::1, TCP and UDP;
# inside the sandbox tests/vm/progs/net_try.c tries each destination once. What a rule
# admits connects or sends and the listener receives exactly those bytes; every other
# port, address and protocol, unconnected UDP sends, TCP Fast Open (sendto MSG_FASTOPEN)
# and bind are refused (EPERM), each with a record naming the address and port; an
# IPv4-mapped ::ffff:127.0.0.1 is decided by the IPv4 rule. Also: the lease refused by a
# matrix without (or with narrower) bounds, meta.json's network, no net namespace.
# Usage: tests/host/netallow.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
set -u
SELF=$(realpath "$0")
cd "$(dirname "$SELF")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
[ "$(id -u)" = 0 ] || { bad "netallow.sh: must run as root"; finish; }
if [ -z "${CALYX_NETALLOW_NETNS:-}" ]; then
	CALYX_NETALLOW_NETNS=1 exec unshare -n -- "$SELF" "$CALYX"
fi
ip link set lo up || { bad "ip link set lo up in the test's network namespace"; finish; }
suite_scratch netallow
lsn=
trap '[ -n "$lsn" ] && kill "$lsn" 2>/dev/null; rm -rf "$T" "$T.state" "$T.state2"' EXIT
mkdir -p "$T/bin" "$T/k"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$T/bin/net_try" tests/vm/progs/net_try.c ||
	{ bad "build net_try"; finish; }
chmod 755 "$T/bin" "$T/bin/net_try"
P=$T/bin/net_try
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }
ST=$T.state
B=$((20000 + $$ % 20000))
P1=$B P2=$((B + 1)) P3=$((B + 2)) P4=$((B + 3)) P5=$((B + 4)) P7=$((B + 6))

"$P" serve "$T/got" tcp,127.0.0.1,$P1 tcp,127.0.0.1,$P2 tcp,127.0.0.2,$P1 tcp,::1,$P1 \
	tcp,::1,$P4 udp,127.0.0.1,$P3 udp,127.0.0.1,$P5 udp,127.0.0.1,$P1 &
lsn=$!
i=0
while ! grep -qx ready "$T/got" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -qx ready "$T/got" || { bad "listeners did not start"; finish; }

# The matrix: the shipped one with network bounds instead of deny_all.
sed -e 's|^network: deny_all$|network: {allow: ["127.0.0.0/8:*/tcp", "127.0.0.0/8:*/udp", "[::1]:*/tcp"]}|' \
	policies/capability_matrix.yaml > "$T/m.yaml"
grep -q '^network: {allow' "$T/m.yaml" || { bad "could not write the matrix"; finish; }

# What net_try tries, in order (index N sends "calyx-net-N"):
OPS=(
	tcp,127.0.0.1,$P1            # 1  allowed
	tcp,::ffff:127.0.0.1,$P1     # 2  allowed: mapped, decided by the IPv4 rule
	tcp,::1,$P4                  # 3  allowed: the IPv6 rule
	tfo,127.0.0.1,$P1            # 4  allowed: TCP Fast Open to an admitted destination
	udp,127.0.0.1,$P3            # 5  allowed: unconnected UDP send
	udpconn,127.0.0.1,$P3        # 6  allowed: connected UDP send
	udp,::ffff:127.0.0.1,$P3     # 7  allowed: mapped UDP
	tcp,127.0.0.1,$P2            # 8  other port
	tcp,127.0.0.2,$P1            # 9  other address
	tcp,::1,$P1                  # 10 other address (IPv6; the rule for the port is IPv4)
	udp,127.0.0.1,$P1            # 11 udp where the rule is tcp
	udp,127.0.0.1,$P5            # 12 unconnected UDP send, other port
	udpconn,127.0.0.1,$P5        # 13 connected UDP, other port
	tfo,127.0.0.1,$P2            # 14 TCP Fast Open, other port
	tfo,::ffff:127.0.0.2,$P1     # 15 TCP Fast Open, mapped, other address
	bind,127.0.0.1,$P7           # 16 bind (TCP)
	bindudp,127.0.0.1,$P7        # 17 bind (UDP)
	listen,127.0.0.1,0           # 18 listen without bind: the call succeeds here (no cgroup hook)
)
RULES=(--net "allow=127.0.0.1:$P1/tcp" --net "allow=127.0.0.1:$P3/udp" --net "allow=[::1]:$P4")

set -f
"$CALYX" lease issue -k "$T/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-NETALLOW --ttl 5m \
	--cmd "$P ${OPS[*]}" "${RULES[@]}" --matrix "$T/m.yaml" -o "$T/l" 2>"$T/issue.err"
check "lease issue --matrix with allow rules inside the bounds exits 0 ($(head -c 300 "$T/issue.err"))" [ -s "$T/l" ]

# Bounds: the shipped matrix (deny_all) refuses the lease; a rule outside the bounds too.
"$CALYX" lease issue -k "$T/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-NETALLOW --ttl 5m \
	--cmd "$P ${OPS[*]}" "${RULES[@]}" --matrix policies/capability_matrix.yaml -o "$T/l2" 2>"$T/issue2.err"
RC=$?
check "lease issue --matrix (deny_all) refuses allow rules: exit 66 ($RC)" [ "$RC" = 66 ]
check "... naming the claim, its value and the bounds" grep -qF \
	"claim 'network.allow[0]' = 127.0.0.1/32:$P1/tcp is not within the matrix's bounds (network: deny_all)" "$T/issue2.err"
"$CALYX" lease issue -k "$T/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-NETALLOW --ttl 5m \
	--cmd "$P" --net "allow=[::1]:53/udp" --matrix "$T/m.yaml" -o "$T/l3" 2>"$T/issue3.err"
RC=$?
check "lease issue --matrix refuses a rule of another protocol than the bound's: exit 66 ($RC)" [ "$RC" = 66 ]
check "... naming it and the bounds" grep -qF \
	"claim 'network.allow[0]' = [::1/128]:53/udp is not within the matrix's bounds (network.allow: 127.0.0.0/8:*/tcp, 127.0.0.0/8:*/udp, [::1/128]:*/tcp)" "$T/issue3.err"
"$CALYX" run --lease "$T/l" --pub "$T/k/calyx.pub" --state "$ST.shipped" --matrix policies/capability_matrix.yaml \
	-- "$P" "${OPS[@]}" > "$T/out0" 2> "$T/err0"
RC=$?
check "calyx run with the deny_all matrix refuses the lease: exit 66 ($RC)" [ "$RC" = 66 ]
check "... and says why" grep -qF "is not within the matrix's bounds" "$T/err0"
rm -rf "$ST.shipped"

"$CALYX" run --lease "$T/l" --pub "$T/k/calyx.pub" --state "$ST" --matrix "$T/m.yaml" \
	-- "$P" "${OPS[@]}" > "$T/out" 2> "$T/err"
RC=$?
set +f
check "calyx run exits 0 (rc $RC: $(head -c 300 "$T/err"))" [ "$RC" = 0 ]
diag "sandbox: $(tr '\n' '|' < "$T/out")"
RUN=$(find "$ST/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -type d | head -n1)
[ -n "$RUN" ] || { bad "no run directory"; finish; }

# give the listeners a moment to log the last connection closed (not a pass/fail timing:
# the check below waits for a line count, then compares exactly)
i=0
while [ "$(grep -c calyx-net- "$T/got")" -lt 7 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill "$lsn" 2>/dev/null; wait "$lsn" 2>/dev/null; lsn=
diag "listeners: $(tr '\n' '|' < "$T/got")"

want_out() { grep -qxF "$1" "$T/out" || { WHY="no line '$1' in: $(tr '\n' '|' < "$T/out")"; return 1; }; }
for n in 1 2 3 4 5 6 7; do
	op=${OPS[$((n - 1))]}
	IFS=, read -r kind addr port <<< "$op"
	check "allowed $kind $addr:$port goes through" want_out "ok $kind $addr $port"
done
for n in 8 9 10 11 12 13 14 15 16 17; do
	op=${OPS[$((n - 1))]}
	IFS=, read -r kind addr port <<< "$op"
	check "refused $kind $addr:$port: EPERM" want_out "err $kind $addr $port EPERM"
done

# The landlock backend has no hook for listen(2): the call succeeds (bpf-lsm refuses it:
# tests/vm/t_netallow.sh); what is sent to the listener is dropped (the second run below).
check "listen without bind: the call itself succeeds on the landlock backend" want_out "ok listen 127.0.0.1 0"

# The listeners received exactly the admitted bytes, each at the listener it was sent to.
sort > "$T/got.want" <<EOF
tcp 127.0.0.1 $P1 calyx-net-1
tcp 127.0.0.1 $P1 calyx-net-2
tcp ::1 $P4 calyx-net-3
tcp 127.0.0.1 $P1 calyx-net-4
udp 127.0.0.1 $P3 calyx-net-5
udp 127.0.0.1 $P3 calyx-net-6
udp 127.0.0.1 $P3 calyx-net-7
EOF
grep -v '^ready$' "$T/got" | grep -v ' $' | sort > "$T/got.sorted"
check "the listeners received exactly the admitted bytes and nothing else" cmp -s "$T/got.want" "$T/got.sorted"
[ -s "$T/got.sorted" ] && diag "received: $(tr '\n' '|' < "$T/got.sorted")"

# Records: one net denial per refused attempt, naming hook, address and port.
nrec() { # HOOK FAMILY ADDR PORT: how many net denial records say so
	python3 - "$RUN/events.jsonl" "$@" <<'EOF'
import json, sys
f, hook, fam, addr, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
print(sum(1 for l in open(f) for e in [json.loads(l)]
        if e.get("type") == "deny" and e.get("class") == "net" and e.get("hook") == hook
        and e.get("family") == fam and e.get("addr") == addr and e.get("port") == port))
EOF
}
rec() { [ "$(nrec "$@")" -ge 1 ]; }
check "record: connect 127.0.0.1:$P2 (other port)" rec socket_connect inet 127.0.0.1 $P2
check "record: connect 127.0.0.2:$P1 (other address)" rec socket_connect inet 127.0.0.2 $P1
check "record: connect [::1]:$P1 (other address, IPv6)" rec socket_connect inet6 ::1 $P1
check "record: unconnected UDP send 127.0.0.1:$P1 (udp, rule is tcp)" rec socket_sendmsg inet 127.0.0.1 $P1
check "record: unconnected UDP send 127.0.0.1:$P5" rec socket_sendmsg inet 127.0.0.1 $P5
check "record: UDP connect 127.0.0.1:$P5" rec socket_connect inet 127.0.0.1 $P5
check "record: TCP Fast Open 127.0.0.1:$P2 (as a connect: the kernel runs the connect hook)" rec socket_connect inet 127.0.0.1 $P2
check "record: TCP Fast Open [::ffff:127.0.0.2]:$P1" rec socket_connect inet6 ::ffff:127.0.0.2 $P1
check "record: bind 127.0.0.1:$P7 (UDP; TCP too)" rec socket_bind inet 127.0.0.1 $P7
n_connect=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)] if e.get("hook")=="socket_connect" and e.get("port")==int(sys.argv[2]) and e.get("addr")=="127.0.0.1"))' "$RUN/events.jsonl" $P2)
check "two refused attempts to 127.0.0.1:$P2 (connect, Fast Open), two records ($n_connect)" [ "$n_connect" = 2 ]
n_bind=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)] if e.get("hook")=="socket_bind"))' "$RUN/events.jsonl")
check "both binds recorded ($n_bind)" [ "$n_bind" = 2 ]
n_allowed=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)] if e.get("type")=="deny" and e.get("port") in (int(sys.argv[2]), int(sys.argv[3])) and e.get("addr") in ("127.0.0.1", "::1", "::ffff:127.0.0.1")))' "$RUN/events.jsonl" $P3 $P4)
check "no record for an admitted destination ($n_allowed)" [ "$n_allowed" = 0 ]

# meta.json: the backend, the rules in the claim's shape, the host's network namespace.
META=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m["enforcement"]["backend"], json.dumps(m["enforcement"]["network"], separators=(",", ":")), "net" in m["sandbox"]["namespaces"], m["denials"]["net"])' "$RUN/meta.json")
check "meta.json: landlock backend, the rules, no network namespace, 10 net denials ($META)" [ "$META" = \
	"landlock {\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"port\":$P1,\"proto\":\"tcp\"},{\"cidr\":\"127.0.0.1/32\",\"port\":$P3,\"proto\":\"udp\"},{\"cidr\":\"::1/128\",\"port\":$P4,\"proto\":\"tcp\"}]} False 10" ]

# listen(2) on an autobound port (no bind): the call succeeds, but the cgroup_skb/ingress
# program drops every packet to a sandbox's TCP listener, so a client outside the sandbox
# (this script) never connects and the sandbox never receives its bytes; the first SYN
# records a net denial (hook socket_listen, the listener's address 0.0.0.0 and port), once
# per listener however often the client's SYN is retransmitted. Admitted outbound traffic
# of the same sandbox still goes through.
"$P" serve "$T/got2" tcp,127.0.0.1,$P1 &
lsn=$!
i=0
while ! grep -qx ready "$T/got2" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -qx ready "$T/got2" || { bad "listener (second run) did not start"; finish; }
OPS2=(listenwait,127.0.0.1,8 tcp,127.0.0.1,$P1)
set -f
"$CALYX" lease issue -k "$T/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-NETALLOW-LISTEN --ttl 5m \
	--cmd "$P ${OPS2[*]}" "${RULES[@]}" --matrix "$T/m.yaml" -o "$T/l4" 2>"$T/issue4.err"
check "lease issue (listen run) exits 0 ($(head -c 300 "$T/issue4.err"))" [ -s "$T/l4" ]
( "$CALYX" run --lease "$T/l4" --pub "$T/k/calyx.pub" --state "$T.state2" --matrix "$T/m.yaml" \
	-- "$P" "${OPS2[@]}" > "$T/out2" 2> "$T/err2"; echo $? > "$T/rc2" ) &
runp=$!
set +f
# wait for the sandbox's port (or the run's end): a bound, not a pass/fail timing
i=0
while ! grep -q '^listening ' "$T/out2" 2>/dev/null && [ ! -s "$T/rc2" ] && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1))
done
LP=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$T/out2" | head -n1)
check "the sandbox listens on an autobound port ($(tr '\n' '|' < "$T/out2") $(head -c 300 "$T/err2"))" [ -n "$LP" ]
LP=${LP:-1}
CLIENT=$(python3 - "$LP" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(3)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"calyx-in\n")
    print("connected")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error", e.errno)
EOF
)
wait "$runp"
RC2=$(cat "$T/rc2" 2>/dev/null)
check "calyx run (listen) exits 0 (rc $RC2: $(head -c 300 "$T/err2"))" [ "$RC2" = 0 ]
check "a client outside the sandbox cannot connect to its listener ($CLIENT)" [ "$CLIENT" = timeout ]
check "the sandbox received no connection and no bytes ($(tr '\n' '|' < "$T/out2"))" \
	sh -c '! grep -q "^accepted" "$1" && grep -qx "no connection" "$1"' - "$T/out2"
i=0
while ! grep -q calyx-net-2 "$T/got2" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill "$lsn" 2>/dev/null; wait "$lsn" 2>/dev/null; lsn=
check "admitted outbound from the listening sandbox still goes through" \
	grep -qx "tcp 127.0.0.1 $P1 calyx-net-2" "$T/got2"
RUN=$(find "$T.state2/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -type d | head -n1)
if [ -n "$RUN" ]; then
	NL=$(nrec socket_listen inet 0.0.0.0 "$LP")
	check "record: socket_listen 0.0.0.0:$LP, exactly one for the listener ($NL)" [ "$NL" = 1 ]
	NALL=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)] if e.get("type")=="deny"))' "$RUN/events.jsonl")
	check "no other denial in the listen run ($NALL)" [ "$NALL" = 1 ]
	ND=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["denials"]["net"])' "$RUN/meta.json")
	check "meta.json denials.net counts it ($ND)" [ "$ND" = 1 ]
else
	bad "no run directory (listen run)"
fi
finish
