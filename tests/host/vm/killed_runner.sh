#!/bin/sh
# bpf-lsm half of "a SIGKILLed calyx run leaves no sandbox unconfined" (the landlock half
# is in tests/host/run.sh): boots the VM tier once and runs the checks below in it.
#   tests/host/vm/killed_runner.sh [CALYX_BIN]     on the host (default build/calyx)
# In the guest (--guest UDP_LOOP): a sandboxed udp_loop tries UDP again and again; the
# runner is SIGKILLed; every attempt, also after the kill, must be refused, the pinned
# links must be there, a process moved into the dead sandbox's cgroup must still be
# confined, and the next run's sweep must remove the cgroups and then the pins.
# Not in tests/host/*.sh on purpose: run.sh runs those as host suites.
if [ "${1:-}" != --guest ]; then
	set -eu
	cd "$(dirname "$0")/../../.."
	calyx=${1:-build/calyx}
	mkdir -p build/tests
	gcc -static -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o build/tests/udp_loop \
		tests/host/progs/udp_loop.c
	self=$PWD/tests/host/vm/killed_runner.sh
	exec scripts/vm-test.sh --add "$PWD/build/tests/udp_loop" --add "$self" \
		--shell-cmd "sh $self --guest $PWD/build/tests/udp_loop" "$calyx"
fi

. /tests/vm/lib.sh
TNAME=killed-runner
VM_RESULTS=/tmp/killed-runner-results.txt
: > "$VM_RESULTS"
U=$2
has_word() { case " $1 " in *" $2 "*) return 0 ;; esac; WHY="'$2' not in '$1'"; return 1; }
lacks_str() { case $1 in *"$2"*) WHY="found '$2' in '$1'"; return 1 ;; esac; return 0; }
mkdir -p "$KEYS" "$WORK/udp"
$CALYX keygen --out "$KEYS" > /dev/null 2>&1 || fail "keygen"
$U listen /tmp/port /tmp/count /tmp/stop &
lsn=$!
i=0; while [ ! -s /tmp/port ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat /tmp/port)
$U send "$WORK/outside.log" "$PORT" once > /dev/null
sleep 0.3
check "outside any sandbox the probe reaches the listener" eq "$(cat /tmp/count)" 1
issue "$WORK/u.lease" --cmd "$U send $WORK/udp/log $PORT" --path "$WORK/udp/**:rw"
id=$($CALYX lease show "$WORK/u.lease" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n 1)
$CALYX run --lease "$WORK/u.lease" --matrix "$MATRIX" --pub "$PUB" --state "$WORK/st" -- \
	$U send "$WORK/udp/log" "$PORT" > /tmp/r.out 2> /tmp/r.err &
rp=$!
i=0; while [ "$(wc -l < "$WORK/udp/log" 2>/dev/null || echo 0)" -lt 100 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "the sandboxed probe runs and is refused ($(tail -n 1 "$WORK/udp/log") $(cat /tmp/r.err))" \
	eq "$(tail -n 1 "$WORK/udp/log" | cut -d' ' -f2)" socket:EACCES
SBCG=$CG/calyx/$id-$rp/r1
tk=$($U now)
kill -9 $rp
wait $rp 2>/dev/null
pins=$(ls "/sys/fs/bpf/calyx/$id-$rp" 2>/dev/null | tr '\n' ' ')
diag "pinned after the kill: $pins"
check "after the SIGKILL its links are pinned (calyx_file_open)" has_word "$pins" calyx_file_open
check "... calyx_exec" has_word "$pins" calyx_exec
check "... calyx_socket_create" has_word "$pins" calyx_socket_create
check "... calyx_path_unlink" has_word "$pins" calyx_path_unlink
i=0; while ! grep -q '^populated 0' "$SBCG/cgroup.events" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the sandbox died (its cgroup is empty)" has "$SBCG/cgroup.events" "populated 0"
total=$(wc -l < "$WORK/udp/log")
after=$(awk -v t="$tk" '$1 >= t' "$WORK/udp/log" | wc -l)
notdenied=$(awk '$2 != "socket:EACCES"' "$WORK/udp/log" | wc -l)
diag "$total attempts, $after logged after the kill"
check "every attempt was refused, also after the kill" eq "$notdenied" 0
sleep 0.3
check "the listener got nothing from the sandbox" eq "$(cat /tmp/count)" 1
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" send "$3" "$4" once' _ "$SBCG" "$U" "$WORK/udp/moved.log" "$PORT" 2>&1)
check "a process moved into the dead runner's sandbox is still refused the socket" eq "$moved" socket:EACCES
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec /usr/local/bin/hello' _ "$SBCG" 2>&1; echo "rc=$?")
check "... and exec of a binary outside the lease ($moved)" eq "$(echo "$moved" | tail -n 1)" rc=126
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && read x < /etc/hostname && echo "read $x"' _ "$SBCG" 2>&1)
check "... and reading a file outside its paths ($moved)" lacks_str "$moved" "read calyx-vm"
issue "$WORK/n.lease" --cmd "$U now"
crun "$WORK/st" "$WORK/n.lease" $U now
check "the next run works" eq "$RC" 0
check "its sweep removed the dead runner's cgroups" absent "$CG/calyx/$id-$rp"
check "... and then unpinned its links" absent "/sys/fs/bpf/calyx/$id-$rp"
check "nothing is pinned, no BPF link or program left" eq "$(ls /sys/fs/bpf/calyx | wc -l) $(bpftool link show | grep -c '^[0-9]*:')" "0 0"
check "no sandbox cgroup or BPF program left" no_sandbox_left
touch /tmp/stop
wait $lsn
! grep -q '^not ok' "$VM_RESULTS"
