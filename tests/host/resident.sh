#!/usr/bin/env bash
# Host tier, this machine's real kernel: the resident program set of the landlock backend
# (the one this host loads; bpf-lsm is the VM tier's, tests/vm/t_resident*.sh). The cases
# are tests/lib/resident.sh, shared with the VM tier: first run loads the set and later
# runs load no program, two first runs racing, two leases at once (own rules, own records,
# a flood costing the other nothing), ten at once, a SIGKILLed runner, a set of another
# build (replaced when idle, 75 while it serves), enforcer stop (75, --force, nothing left).
#   tests/host/resident.sh build/calyx      (as root; run by tests/host/run.sh)
# It stops and starts the host's resident set: run it only under the host-tier lock
# (flock /tmp/calyx-tier.lock …), as every host-tier run is.
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh

[ "$(id -u)" -eq 0 ] || { bad "resident.sh needs root"; finish; }
[ -x "$CALYX" ] || { bad "no calyx binary at $CALYX"; finish; }

T=$(mktemp -d /tmp/calyx-resident.XXXXXX)
chmod 755 "$T"
# Scratch under the shipped matrix's lease_paths (/tmp/calyx/**).
RS_WORK=/tmp/calyx/resident-$$
mkdir -p /tmp/calyx
cleanup() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
	mountpoint -q "$RS_WORK" 2>/dev/null && umount "$RS_WORK"
	rm -rf "$T" "$RS_WORK"
}
trap cleanup EXIT

# The sandboxed programs and the outside tools, from the VM tier's sources.
RS_BIN=$T/bin
mkdir -p "$RS_BIN"
CF=(-std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE)
for p in res_probe try_open daemonize_and_sleep; do
	gcc "${CF[@]}" -o "$RS_BIN/$p" "tests/vm/progs/$p.c" || { bad "build tests/vm/progs/$p.c"; finish; }
done
gcc "${CF[@]}" -o "$RS_BIN/jget" tests/vm/progs/jget.c -lcjson -lm || { bad "build jget"; finish; }
gcc "${CF[@]}" -I bpf -o "$RS_BIN/bpf_objects" tests/vm/progs/bpf_objects.c -lbpf || { bad "build bpf_objects"; finish; }

"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }
RS_KEY=$T/k/calyx.key
RS_BACKEND=landlock
# The flood cases are of cgroup-program denials of AF_INET sockets: the seccomp baseline's
# inet_sockets group is relaxed.
. tests/lib/seccomp.sh
inet_matrix "$T/inet-matrix.yaml" || { bad "inet_sockets matrix"; finish; }
RS_RUN_ARGS="--matrix $T/inet-matrix.yaml --pub $T/k/calyx.pub --enforce landlock"
RS_UID=65534
RS_CG2=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n1)
[ -n "$RS_CG2" ] || { bad "no cgroup v2 mount in /proc/self/mountinfo"; finish; }
# (no set -f: the lease patterns in tests/lib/resident.sh are all quoted)
# shellcheck source=../lib/resident.sh
. tests/lib/resident.sh
rs_init
diag "calyx $RS_VERSION; cgroup v2 at $RS_CG2; kernel $(uname -r)"

# ---- the assumption the exact counts below rest on: nothing but calyx loads BPF here.
# With every calyx set stopped, the host holds no program and no link, and over a few
# samples none appears and no program id is taken but the probe's own.
"$CALYX" enforcer stop --force >/dev/null 2>&1
c_a=$(rs_settled) i_a=$(rs_nextid)
sleep 1
c_b=$(rs_count) i_b=$(rs_nextid)
sleep 1
c_c=$(rs_count) i_c=$(rs_nextid)
check "host: with every calyx set stopped no BPF program or link is loaded ($c_a)" rs_eq "$c_a" "progs 0 links 0"
check "host: ... and nothing else loads one meanwhile ($c_a / $c_b / $c_c; next program ids $i_a $i_b $i_c)" \
	rs_eq "$c_b $c_c $i_b $i_c" "$c_a $c_a $((i_a + 1)) $((i_b + 1))"

rs_case_first_load
base=$RS_BASE_COUNT
rs_case_race
rs_case_two
rs_case_ten
rs_case_killrunner
rs_case_upgrade
rs_case_stop "$base"
finish
