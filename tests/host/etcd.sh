#!/usr/bin/env bash
# The group ledger on etcd (docs/fleet.md "Group ledger"): a real 3-member etcd cluster
# (Debian's etcd-server) started here on 127.0.0.1, clients over TLS with a CA and
# certificates made here with openssl; five calyx "hosts" on this machine (distinct
# audience.hostname, state dirs and local ledgers; one group `fleet` counted in etcd).
# - 3 hosts race for a `runs: 1` lease: exactly one runs, the others are refused (67);
# - 5 hosts race for a `runs: 3` lease: exactly three run; etcd holds count 3 and one
#   record per run naming the host that ran it;
# - one member killed (the first endpoint every matrix names): runs still consume
#   correctly, through the other two;
# - the whole cluster stopped: the run fails closed (90, the endpoints named, nothing
#   ran); restarted: the count is what it was and the next run is the next number;
# (The server certificate is also a client one: etcd 3.4's JSON gateway dials its own gRPC
# server with it when client certificates are required.)
# - TLS that cannot be trusted (no client certificate, another CA): 90, nothing ran,
#   nothing consumed; never the local ledger;
# - answers that cannot be trusted (a count that is not a number or above runs, a run
#   record the count does not know, a server that is not etcd): 90;
# - a transaction applied whose answer is lost (tests/lib/etcd_proxy.py closes the
#   connection instead of answering), retried on the next endpoint: the run is run 1,
#   not a second run; with no endpoint left: 90, lease_used null, and the consuming record
#   kept until a later sweep finds the run in etcd;
# - runners killed (the test build, crash points ledger and consuming) after and before
#   the transaction: the next run's sweep asks etcd for the nonce and writes the
#   lease_event.consumed owed (completed_by sweep), or nothing; etcd unreachable during
#   the sweep: the record is kept, said, and finished by a later sweep.
# Takes the tier lock's place with the whole host tier: run it under
#   flock /tmp/calyx-tier.lock tests/host/etcd.sh build/calyx   (or via tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

for b in etcd etcdctl openssl; do
	command -v $b >/dev/null || { bad "$b is not installed (scripts/deps.sh test)"; finish; }
done
suite_scratch etcd
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done; for p in "${PIDS[@]}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done; }
trap 'stop_all; rm -rf "$T" "$DATA"' EXIT
# Data dirs under /tmp (not the scratch dir the sandbox may read).
DATA=$(mktemp -d /tmp/calyx-etcd-data.XXXXXX)

# Ports: one block of 6 per pid, well above the usual ones.
BASE=$((41000 + ($$ % 400) * 10))
CLIENT=($((BASE + 1)) $((BASE + 2)) $((BASE + 3)))
PEER=($((BASE + 4)) $((BASE + 5)) $((BASE + 6)))
EPS=(https://127.0.0.1:${CLIENT[0]} https://127.0.0.1:${CLIENT[1]} https://127.0.0.1:${CLIENT[2]})
CLUSTER="m0=http://127.0.0.1:${PEER[0]},m1=http://127.0.0.1:${PEER[1]},m2=http://127.0.0.1:${PEER[2]}"

# ---------------------------------------------------------------- certificates
P=$T/pki
mkdir -p "$P"
mkcert() { # NAME SUBJECT EXT-LINE CA-PREFIX
	openssl req -newkey rsa:2048 -nodes -keyout "$P/$1.key" -subj "/CN=$2" -out "$P/$1.csr" 2>/dev/null &&
	printf '%s\n' "$3" > "$P/$1.ext" &&
	openssl x509 -req -in "$P/$1.csr" -CA "$P/$4.crt" -CAkey "$P/$4.key" -CAcreateserial -days 1 \
		-extfile "$P/$1.ext" -out "$P/$1.crt" 2>/dev/null
}
{ openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -subj "/CN=calyx test etcd CA" -days 1 -out "$P/ca.crt" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/other-ca.key" -subj "/CN=another CA" -days 1 -out "$P/other-ca.crt" &&
  mkcert server 127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth" ca &&
  mkcert client calyx-host "extendedKeyUsage=clientAuth" ca; } 2>/dev/null || { bad "openssl: test certificates"; finish; }
chmod 644 "$P"/*

# ---------------------------------------------------------------- the cluster
start_member() { # I [new]
	local i=$1
	etcd --name m$i --data-dir "$DATA/m$i" \
		--listen-client-urls "${EPS[$i]}" --advertise-client-urls "${EPS[$i]}" \
		--listen-peer-urls "http://127.0.0.1:${PEER[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${PEER[$i]}" \
		--initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token calyx-test-$$ \
		--cert-file "$P/server.crt" --key-file "$P/server.key" --client-cert-auth --trusted-ca-file "$P/ca.crt" \
		>>"$DATA/m$i.log" 2>&1 &
	PIDS[$i]=$!
}
stop_member() { kill -9 "${PIDS[$1]}" 2>/dev/null; wait "${PIDS[$1]}" 2>/dev/null; PIDS[$1]=; }
ctl() { ETCDCTL_API=3 etcdctl --endpoints "$(IFS=,; echo "${EPS[*]}")" --cacert "$P/ca.crt" --cert "$P/client.crt" \
	--key "$P/client.key" --command-timeout=3s "$@"; }
# healthy I...: each member named answers a linearizable read (a leader is elected), within 20s
healthy() {
	local i n
	for n in $(seq 1 80); do
		local all=1
		for i in "$@"; do
			ETCDCTL_API=3 etcdctl --endpoints "${EPS[$i]}" --cacert "$P/ca.crt" --cert "$P/client.crt" \
				--key "$P/client.key" --command-timeout=1s get /calyx-health >/dev/null 2>&1 || { all=0; break; }
		done
		[ $all = 1 ] && return 0
		sleep 0.25
	done
	echo "# etcd members $* not healthy; last log lines:"; tail -n 3 "$DATA"/m*.log | sed 's/^/#   /'
	return 1
}
start_member 0; start_member 1; start_member 2
check "a 3-member etcd cluster on 127.0.0.1:${CLIENT[*]} (TLS, client certificates) is up" healthy 0 1 2

# ---------------------------------------------------------------- the hosts
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
KEY=$T/k/calyx.key PUB=$T/k/calyx.pub
HOSTS=(host-a host-b host-c host-d host-e)
# matrix NAME FILE [CA [CERT KEY]]: the shipped matrix but for this host's ledger and audience
# (CERT "": no client certificate)
matrix() {
	local h=$1 out=$2 ca=${3-$P/ca.crt} cert=${4-$P/client.crt} key=${5-$P/client.key}
	mkdir -p "$T/$h"
	{ sed -e "s|^ledger: .*|ledger: $T/$h/ledger|" -e '/^audience:/,$d' policies/capability_matrix.yaml
	  cat <<EOF
audience:
  hostname: $h
  groups: [fleet]
  ledgers:
    fleet:
      etcd:
        endpoints: [${EPS[0]}, ${EPS[1]}, ${EPS[2]}]
        ca: $ca
EOF
	  [ -n "$cert" ] && printf '        cert: %s\n        key: %s\n' "$cert" "$key"
	  printf '        prefix: /calyx-test\n        timeout: 2s\n'; } > "$out"
}
for h in "${HOSTS[@]}"; do matrix $h "$T/$h/matrix.yaml"; done
"$CALYX" matrix check "$T/host-a/matrix.yaml" >/dev/null 2>"$T/mc.err"
check "the hosts' matrix (audience.ledgers.fleet.etcd) loads" test $? -eq 0

issue() { local out=$1; shift; "$CALYX" lease issue -k "$KEY" -i INT-TEST-ETCD --ttl 10m --aud fleet --cmd /bin/true "$@" -o "$out" 2>"$out.err" \
	|| { echo "# lease issue failed: $(cat "$out.err")"; return 1; }; }
lease_id() { "$CALYX" lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n1; }
# run HOST LEASE [MATRIX]: RC, ERR (host's state dir $T/HOST/state)
run() { "$CALYX" run --lease "$2" --matrix "${3:-$T/$1/matrix.yaml}" --pub "$PUB" --state "$T/$1/state" -- /bin/true \
	>"$T/$1.out" 2>"$T/$1.err"; RC=$?; ERR=$(cat "$T/$1.err"); }
rc_is() { [ "$RC" -eq "$1" ] || { echo "# exit $RC, expected $1; stderr: $ERR"; return 1; }; }
err_has() { grep -qF -- "$1" <<<"$ERR" || { echo "# stderr lacks '$1': $ERR"; return 1; }; }
# run_bg HOST LEASE: run, its exit code kept in $T/HOST.rc
run_bg() { "$CALYX" run --lease "$2" --matrix "$T/$1/matrix.yaml" --pub "$PUB" --state "$T/$1/state" -- /bin/true \
	>"$T/$1.out" 2>"$T/$1.err"; echo $? > "$T/$1.rc"; }
race() {
	local l=$1 h pids=(); shift
	# race LEASE HOST...: every host runs LEASE at once; RCS: their exit codes
	for h in "$@"; do rm -f "$T/$h.rc"; run_bg "$h" "$l" & pids+=($!); done
	for h in "${pids[@]}"; do wait "$h"; done
	RCS=""
	for h in "$@"; do RCS+="$(cat "$T/$h.rc" 2>/dev/null || echo none) "; done
}
count_of() { printf '%s\n' $RCS | grep -cx "$1"; }
# the etcd keys of lease ID: "count N" then "runs/N host" lines
etcd_view() {
	local id=$1 k
	echo "count $(ctl get --print-value-only "/calyx-test/leases/$ISS/$id/count")"
	ctl get --prefix "/calyx-test/leases/$ISS/$id/runs/" | paste - - |
		python3 -c 'import json,sys
for l in sys.stdin:
    k, v = l.rstrip("\n").split("\t", 1); r = json.loads(v)
    print(k.rsplit("/", 1)[1], r["host"], r["run"], "time" in r)'
}
ran_here() { [ -n "$(find "$T/$1/state/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name "$2*" 2>/dev/null)" ]; }
winners() { local h w=""; for h in "$@"; do ran_here "$h" "$ID" && w+="$h "; done; echo "$w"; }

# ---------------------------------------------------------------- runs: 1, three racers
issue "$T/one.l" --runs 1 || bad "issue runs:1 lease"
ID=$(lease_id "$T/one.l")
ISS=$("$CALYX" lease show "$T/one.l" 2>/dev/null | sed -n 's/.*k4\.pid\.\([A-Za-z0-9_-]*\).*/k4.pid.\1/p' | head -n1)
race "$T/one.l" host-a host-b host-c
check "runs: 1, 3 hosts at once: exactly one exits 0" test "$(count_of 0)" -eq 1
check "... the other two are refused as used (67)" test "$(count_of 67)" -eq 2
W=$(winners host-a host-b host-c)
check "... exactly one host has a run directory" test "$(wc -w <<<"$W")" -eq 1
V=$(etcd_view "$ID")
diag "etcd: $(tr '\n' ';' <<<"$V")"
check "... etcd holds count 1 and one record, run 1 by the host that ran" \
	test "$V" = "count 1
1 ${W% } 1 True"
L=$(grep -l '"lease_event.consumed"' "$T"/host-*/state/logs/svf_audit/svf.jsonl 2>/dev/null | wc -l)
check "... one SVF lease_event.consumed record in all, naming the group ledger" \
	test "$L" -eq 1 -a -n "$(grep -h '"lease_event.consumed"' "$T"/host-*/state/logs/svf_audit/svf.jsonl | grep '"group_ledger":"fleet"')"
check "... the local ledgers were not used" test -z "$(find "$T"/host-*/ledger -type f 2>/dev/null)"

# ---------------------------------------------------------------- runs: 3, five racers
issue "$T/three.l" --runs 3 || bad "issue runs:3 lease"
ID=$(lease_id "$T/three.l")
race "$T/three.l" "${HOSTS[@]}"
check "runs: 3, 5 hosts at once: exactly three exit 0 ($RCS)" test "$(count_of 0)" -eq 3
check "... two are refused as used (67)" test "$(count_of 67)" -eq 2
W=$(winners "${HOSTS[@]}")
V=$(etcd_view "$ID")
diag "etcd: $(tr '\n' ';' <<<"$V")"
check "... etcd: count 3, runs 1..3 each recorded once" \
	test "$(sed -n 1p <<<"$V")" = "count 3" -a "$(sed 1d <<<"$V" | awk '{print $1 "=" $3}' | tr '\n' ' ')" = "1=1 2=2 3=3 "
check "... the recorded hosts are exactly the three that ran" \
	test "$(sed 1d <<<"$V" | awk '{print $2}' | sort | tr '\n' ' ')" = "$W"

# ---------------------------------------------------------------- one member killed
stop_member 0
check "member m0 (every matrix's first endpoint) killed: the other two still serve" healthy 1 2
issue "$T/two.l" --runs 2 || bad "issue runs:2 lease"
ID=$(lease_id "$T/two.l")
run host-a "$T/two.l"
check "... a run from host-a consumes run 1 through the others (0)" rc_is 0
run host-b "$T/two.l"
check "... host-b: run 2 (0)" rc_is 0
run host-c "$T/two.l"
check "... host-c: refused as used (67)" rc_is 67
V=$(etcd_view "$ID")
check "... etcd: count 2, run 1 by host-a, run 2 by host-b" test "$V" = "count 2
1 host-a 1 True
2 host-b 2 True"

# ---------------------------------------------------------------- the whole cluster stopped
issue "$T/down.l" --runs 2 || bad "issue runs:2 lease (cluster down)"
ID=$(lease_id "$T/down.l")
run host-d "$T/down.l"
check "one run of a fresh runs:2 lease with 2 of 3 members up (0)" rc_is 0
stop_member 1; stop_member 2
run host-e "$T/down.l"
check "the whole cluster stopped: the run fails closed (90)" rc_is 90
check "... the message names every endpoint" err_has "${EPS[0]}: " && err_has "${EPS[1]}: " && err_has "${EPS[2]}: "
check "... and says nothing was run" err_has "group ledger of 'fleet' (etcd) unreachable"
check "... nothing ran on host-e" eval '! ran_here host-e "$ID"'
check "... and the local ledger was not used instead" test -z "$(find "$T/host-e/ledger" -type f 2>/dev/null)"
refused() { python3 -c 'import json,sys
rs = [json.loads(l) for l in open(sys.argv[1])]
rs = [r["data"] for r in rs if r["type"] == "lease_event.refused" and r["lease"] == sys.argv[2]]
sys.exit(0 if len(rs) == 1 and rs[0]["exit_code"] == 90 and rs[0]["lease_used"] is False and rs[0]["step"] == "ledger" else 1)' \
	"$T/host-e/state/logs/svf_audit/svf.jsonl" "$ID"; }
check "... the SVF log of host-e records the refusal (lease_event.refused, exit_code 90, lease_used false)" refused
start_member 0; start_member 1; start_member 2
check "the cluster restarted" healthy 0 1 2
V=$(etcd_view "$ID")
check "... the count is still 1 (the failed run consumed nothing)" test "$(sed -n 1p <<<"$V")" = "count 1"
run host-e "$T/down.l"
check "... host-e now gets run 2 (0)" rc_is 0
run host-a "$T/down.l"
check "... and a third run anywhere is refused (67)" rc_is 67
V=$(etcd_view "$ID")
check "... etcd: count 2, run 1 by host-d, run 2 by host-e, nothing twice" test "$V" = "count 2
1 host-d 1 True
2 host-e 2 True"

# ---------------------------------------------------------------- TLS that cannot be trusted
issue "$T/tls.l" --runs 1 || bad "issue TLS lease"
ID=$(lease_id "$T/tls.l")
matrix host-a "$T/nocert.yaml" "$P/ca.crt" "" ""
run host-a "$T/tls.l" "$T/nocert.yaml"
check "no client certificate: the cluster refuses us, the run fails closed (90)" rc_is 90
check "... naming the endpoint" err_has "${EPS[0]}: "
matrix host-a "$T/otherca.yaml" "$P/other-ca.crt"
run host-a "$T/tls.l" "$T/otherca.yaml"
check "the cluster's certificate not from the matrix's CA: fails closed (90)" rc_is 90
check "... nothing of that lease in etcd" test -z "$(ctl get --prefix --keys-only "/calyx-test/leases/$ISS/$ID/")"
run host-a "$T/tls.l"
check "... and with the right CA and certificate it runs (0)" rc_is 0

# ---------------------------------------------------------------- answers that cannot be trusted
# Written by hand where only the ledger should write: each run fails closed (90).
issue "$T/bad.l" --runs 2 || bad "issue runs:2 lease (bad answers)"
ID=$(lease_id "$T/bad.l")
KP=/calyx-test/leases/$ISS/$ID
ctl put "$KP/count" abc >/dev/null
run host-a "$T/bad.l"
check "a count that is not a number: untrusted, fails closed (90)" rc_is 90
check "... naming the key" err_has "untrusted answer: https://127.0.0.1:"
check "... and what it holds" err_has "$KP/count holds something, not a count of at most 2"
ctl put "$KP/count" 5 >/dev/null
run host-a "$T/bad.l"
check "a count above the lease's runs: untrusted (90)" rc_is 90
ctl del "$KP/count" >/dev/null
ctl put "$KP/runs/1" '{"host":"x"}' >/dev/null
run host-a "$T/bad.l"
check "a run record where the count says none: untrusted (90)" rc_is 90
check "... saying so" err_has "$KP/runs/1 exists but the count is 0"
check "... and nothing ran on host-a" eval '! ran_here host-a "$ID"'

# Plain-HTTP stand-ins in front of member 0 (tests/lib/etcd_proxy.py).
PX=($((BASE + 7)) $((BASE + 8)) $((BASE + 9)))
python3 tests/lib/etcd_proxy.py "${CLIENT[0]}" "$P/ca.crt" "$P/client.crt" "$P/client.key" "${PX[@]}" "$T/applied" \
	>"$T/proxy.out" 2>"$T/proxy.err" &
PIDS[3]=$!
for n in $(seq 1 40); do grep -q ready "$T/proxy.out" 2>/dev/null && break; sleep 0.25; done
check "the test's HTTP stand-ins for etcd listen" grep -q ready "$T/proxy.out"
# matrix_http HOST FILE ENDPOINT...: the host's matrix with these http:// endpoints, no TLS
matrix_http() {
	local h=$1 out=$2; shift 2
	{ sed -e "s|^ledger: .*|ledger: $T/$h/ledger|" -e '/^audience:/,$d' policies/capability_matrix.yaml
	  printf 'audience:\n  hostname: %s\n  groups: [fleet]\n  ledgers:\n    fleet:\n      etcd:\n' "$h"
	  printf '        endpoints: [%s]\n        prefix: /calyx-test\n        timeout: 2s\n' "$(IFS=,; echo "$*")"; } > "$out"
}
issue "$T/fake.l" --runs 1 || bad "issue runs:1 lease (fake etcd)"
ID=$(lease_id "$T/fake.l")
matrix_http host-a "$T/fake.yaml" "http://127.0.0.1:${PX[2]}"
run host-a "$T/fake.l" "$T/fake.yaml"
check "a server that answers 200 but not as etcd (http://): untrusted, fails closed (90)" rc_is 90
check "... naming it" err_has "untrusted answer: http://127.0.0.1:${PX[2]}: an answer without the gateway's header (not etcd?)"

# A transaction applied whose answer is lost and no other endpoint to ask: the run fails
# closed (90) and says the lease may have been used; its refusal record has lease_used
# null (unknown), not false. Then the stand-ins are restarted for the next case.
issue "$T/unk.l" --runs 2 || bad "issue runs:2 lease (unanswered)"
ID=$(lease_id "$T/unk.l")
matrix_http host-d "$T/host-d/lossy1.yaml" "http://127.0.0.1:${PX[0]}"
run host-d "$T/unk.l" "$T/host-d/lossy1.yaml"
check "the only endpoint drops an applied transaction's answer: fails closed (90)" rc_is 90
check "... saying the run may have been used" err_has "the lease may have been used (its last transaction went unanswered)"
check "... nothing ran on host-d" eval '! ran_here host-d "$ID"'
V=$(etcd_view "$ID")
check "... etcd counted it (count 1, run 1 by host-d)" test "$V" = "count 1
1 host-d 1 True"
unknown() { python3 -c 'import json,sys
rs = [json.loads(l) for l in open(sys.argv[1])]
rs = [r["data"] for r in rs if r["type"] == "lease_event.refused" and r["lease"] == sys.argv[2]]
sys.exit(0 if len(rs) == 1 and rs[0]["exit_code"] == 90 and rs[0]["lease_used"] is None else 1)' \
	"$T/host-d/state/logs/svf_audit/svf.jsonl" "$ID"; }
check "... its lease_event.refused has lease_used null (unknown)" unknown
UNK_ID=$ID
check "... and its consuming record (with the nonce) is kept for a later sweep" \
	eval '[ "$(ls "$T/host-d/state/run" | grep -c "^consuming-$UNK_ID-")" = 1 ] && grep -q "\"nonce\":\"[0-9a-f]\{32\}\"" "$T/host-d/state/run/consuming-$UNK_ID-"*'
kill "${PIDS[3]}" 2>/dev/null; wait "${PIDS[3]}" 2>/dev/null
rm -f "$T/applied" "$T/proxy.out"
python3 tests/lib/etcd_proxy.py "${CLIENT[0]}" "$P/ca.crt" "$P/client.crt" "$P/client.key" "${PX[@]}" "$T/applied" \
	>"$T/proxy.out" 2>"$T/proxy.err" &
PIDS[3]=$!
for n in $(seq 1 40); do grep -q ready "$T/proxy.out" 2>/dev/null && break; sleep 0.25; done

# A transaction applied whose answer is lost, then the same request on the next endpoint:
# the run finds its own record (the nonce) and is run 1, not run 2.
issue "$T/lost.l" --runs 2 || bad "issue runs:2 lease (lost answer)"
ID=$(lease_id "$T/lost.l")
for h in host-a host-b host-c; do matrix_http $h "$T/$h/lossy.yaml" "http://127.0.0.1:${PX[0]}" "http://127.0.0.1:${PX[1]}"; done
run host-a "$T/lost.l" "$T/host-a/lossy.yaml"
check "a run whose transaction's answer was lost (applied, then the connection closed): 0" rc_is 0
check "... the stand-in did drop an applied transaction's answer" grep -q '"succeeded":true' "$T/applied"
V=$(etcd_view "$ID")
check "... etcd: count 1, run 1 by host-a (the lost answer did not cost a second run)" test "$V" = "count 1
1 host-a 1 True"
run host-b "$T/lost.l" "$T/host-b/lossy.yaml"
check "... so host-b still gets run 2 (0)" rc_is 0
run host-c "$T/lost.l" "$T/host-c/lossy.yaml"
check "... and host-c is refused as used (67)" rc_is 67

# ---------------------------------------------------------------- runners killed around the transaction
# The test build (make test-hooks) SIGKILLs itself at a crash point (docs/reliability.md).
# The consuming record written before the transaction holds its nonce; the next run's
# sweep on that host asks etcd which run holds it.
TCALYX=${CALYX_TESTHOOKS:-$(dirname "$CALYX")/testhooks/calyx}
if ! "$TCALYX" --version 2>/dev/null | grep -q '(test hooks)$'; then
	bad "no test build at $TCALYX (make test-hooks builds it)"
	finish
fi
# hrun HOST LEASE POINT: the test build's run, killed at POINT
# (in a subshell whose own stderr is dropped: its "Killed" notice is not the run's)
hrun() { ( CALYX_TEST_CRASH_AT=$3 "$TCALYX" run --lease "$2" --matrix "$T/$1/matrix.yaml" --pub "$PUB" \
	--state "$T/$1/state" -- /bin/true >"$T/$1.out" 2>"$T/$1.err"; exit $? ) 2>/dev/null; RC=$?; ERR=$(cat "$T/$1.err"); }
# local_lease FILE HOST: a lease for HOST itself (its local ledger), 5 runs
local_lease() { "$CALYX" lease issue -k "$KEY" -i INT-TEST-ETCD --ttl 10m --aud "$2" --cmd /bin/true --runs 5 -o "$1" \
	2>"$1.err" || { echo "# lease issue failed: $(cat "$1.err")"; return 1; }; }
# consumed HOST ID: "RUN COMPLETED_BY GROUP" for each lease_event.consumed of ID in HOST's log
consumed() { python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "lease_event.consumed" and r["lease"] == sys.argv[2]:
        d = r["data"]; print(d["run"], d.get("completed_by", "-"), d.get("group_ledger", "-"), "ledger" in d)' \
	"$T/$1/state/logs/svf_audit/svf.jsonl" "$2"; }
crecs() { ls "$T/$1/state/run" 2>/dev/null | grep -c "^consuming-$2-"; }
verified() { "$CALYX" audit verify --state "$T/$1/state" --pub "$T/$1/state/keys/audit.pub" >"$T/verify.out" 2>&1 \
	|| { echo "# $(head -c 300 "$T/verify.out")"; return 1; }; }
for h in host-b host-c host-d; do local_lease "$T/$h-local.l" $h || bad "issue $h's local lease"; done

# Killed after the transaction, before lease_event.consumed (crash point ledger).
issue "$T/killed.l" --runs 2 || bad "issue runs:2 lease (killed runner)"
ID=$(lease_id "$T/killed.l")
hrun host-c "$T/killed.l" ledger
check "a group-lease runner killed right after its etcd transaction (SIGKILL: 137)" eval 'rc_is 137 && err_has "test hook: SIGKILL at ledger"'
V=$(etcd_view "$ID")
check "... etcd counted run 1 for host-c" test "$V" = "count 1
1 host-c 1 True"
check "... its consuming record is left, and no lease_event.consumed" eval '[ "$(crecs host-c "$ID")" = 1 ] && [ -z "$(consumed host-c "$ID")" ]'
run host-c "$T/host-c-local.l"
check "the next run on host-c (another lease) runs (0)" rc_is 0
check "... its sweep wrote the run's lease_event.consumed: run 1, completed_by sweep, group_ledger fleet" \
	test "$(consumed host-c "$ID")" = "1 sweep fleet False"
check "... and removed the consuming record" test "$(crecs host-c "$ID")" = 0
check "... host-c's audit log verifies" verified host-c
run host-c "$T/killed.l"
check "... the lease's next run is run 2 (0), etcd count 2" eval 'rc_is 0 && [ "$(sed -n 1p <<<"$(etcd_view "$ID")")" = "count 2" ]'
check "... one lease_event.consumed per run, nothing twice" test "$(consumed host-c "$ID")" = "1 sweep fleet False
2 - fleet False"

# Killed after the consuming record, before the transaction (crash point consuming).
issue "$T/early.l" --runs 1 || bad "issue runs:1 lease (killed early)"
ID=$(lease_id "$T/early.l")
hrun host-c "$T/early.l" consuming
check "a group-lease runner killed before its etcd transaction (137)" eval 'rc_is 137 && err_has "test hook: SIGKILL at consuming"'
check "... nothing of the lease in etcd" test -z "$(ctl get --prefix --keys-only "/calyx-test/leases/$ISS/$ID/")"
run host-c "$T/host-c-local.l"
check "the next run's sweep finds no run with the nonce: the record goes, no lease_event.consumed" \
	eval 'rc_is 0 && [ "$(crecs host-c "$ID")" = 0 ] && [ -z "$(consumed host-c "$ID")" ]'
run host-c "$T/early.l"
check "... and the lease was not used: it runs (0) as run 1" eval 'rc_is 0 && [ "$(consumed host-c "$ID")" = "1 - fleet False" ]'

# etcd unreachable when the sweep asks: the record is kept, said, and finished later.
issue "$T/dn2.l" --runs 1 || bad "issue runs:1 lease (sweep without etcd)"
ID=$(lease_id "$T/dn2.l")
hrun host-b "$T/dn2.l" ledger
check "a runner of host-b killed after its transaction (137)" eval 'rc_is 137 && err_has "test hook: SIGKILL at ledger"'
matrix_http host-b "$T/host-b/dead.yaml" "http://127.0.0.1:$BASE"
run host-b "$T/host-b-local.l" "$T/host-b/dead.yaml"
check "a run on host-b whose matrix's etcd does not answer still runs its own (local) lease (0)" rc_is 0
check "... the sweep says it could not ask and kept the record" \
	eval 'err_has "group ledger of '"'"'fleet'"'"' (etcd) unreachable: http://127.0.0.1:$BASE: " && err_has "kept for a later sweep"'
check "... the record is there, no lease_event.consumed yet" eval '[ "$(crecs host-b "$ID")" = 1 ] && [ -z "$(consumed host-b "$ID")" ]'
run host-b "$T/host-b-local.l"
check "with etcd answering, the next sweep writes run 1's lease_event.consumed and drops the record" \
	eval 'rc_is 0 && [ "$(consumed host-b "$ID")" = "1 sweep fleet False" ] && [ "$(crecs host-b "$ID")" = 0 ]'
check "... host-b's audit log verifies" verified host-b

# The unanswered transaction of host-d above (lease_used null): etcd did count it.
run host-d "$T/host-d-local.l"
check "the run whose transaction went unanswered: the next sweep on host-d finds its run 1 in etcd" \
	eval 'rc_is 0 && [ "$(consumed host-d "$UNK_ID")" = "1 sweep fleet False" ] && [ "$(crecs host-d "$UNK_ID")" = 0 ]'
check "... host-d's audit log verifies" verified host-d

finish
