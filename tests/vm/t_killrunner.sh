# THREATS.md: killing `calyx run` with SIGKILL leaves no sandboxed process running
# unconfined, and the next run still works. The landlock half is in tests/host/run.sh.
# A SIGKILLed runner's fds close (exit_files) before the death signal reaches its sandbox
# (exit_notify): the programs are the resident set's (pinned), and the sandbox stays
# registered (its rules in force) until the next run's sweep has removed its cgroups and
# frees its slot.
U=/usr/local/bin/udp_loop
has_word() { case " $1 " in *" $2 "*) return 0 ;; esac; WHY="'$2' not in '$1'"; return 1; }
lacks_str() { case $1 in *"$2"*) WHY="found '$2' in '$1'"; return 1 ;; esac; return 0; }
lease_id() { $CALYX lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n 1; }

# --- 1. a sandboxed UDP loop, the runner SIGKILLed: every attempt, also after the kill, is
# refused; the sandbox stays registered; a process moved into the dead sandbox is still
# confined.
mkdir -p "$WORK/udp"
$U listen "$WORK/port" "$WORK/count" "$WORK/stop" &
lsn=$!
trap 'touch "$WORK/stop"' EXIT
i=0
while [ ! -s "$WORK/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
PORT=$(cat "$WORK/port")
$U send "$WORK/outside.log" "$PORT" once > /dev/null
sleep 0.3
check "outside any sandbox the probe reaches the listener (port $PORT)" eq "$(cat "$WORK/count")" 1
# The second command is the argv the process moved into the dead sandbox runs (below): argv
# is bound there too.
issue "$WORK/u.lease" --cmd "$U send $WORK/udp/log $PORT" --cmd "$U send $WORK/udp/moved.log $PORT once" \
	--path "$WORK/udp/**:rw" || exit 0
id=$(lease_id "$WORK/u.lease")
$CALYX run --lease "$WORK/u.lease" --matrix "$MATRIX" --pub "$PUB" --state "$WORK/st" -- \
	$U send "$WORK/udp/log" "$PORT" > "$WORK/r.out" 2> "$WORK/r.err" &
rp=$!
i=0
while [ "$(wc -l < "$WORK/udp/log" 2>/dev/null || echo 0)" -lt 100 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the sandboxed probe runs and is refused ($(tail -n 1 "$WORK/udp/log") $(cat "$WORK/r.err"))" \
	eq "$(tail -n 1 "$WORK/udp/log" | cut -d' ' -f2)" socket:EACCES
SBCG=$CG/calyx/bpf-lsm/$id-$rp/r1
tk=$($U now)
kill -9 $rp
wait $rp 2>/dev/null
pins=$(ls "$PINS/bpf-lsm" 2>/dev/null | tr '\n' ' ')
check "after the SIGKILL the resident set still holds its slot" eq "$(held_slots)" 1
check "... and its programs (link_calyx_file_open)" has_word "$pins" link_calyx_file_open
check "... link_calyx_exec" has_word "$pins" link_calyx_exec
check "... link_calyx_socket_create" has_word "$pins" link_calyx_socket_create
check "... link_calyx_path_unlink" has_word "$pins" link_calyx_path_unlink
i=0
while ! grep -q '^populated 0' "$SBCG/cgroup.events" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "the sandbox died (its cgroup is empty)" has "$SBCG/cgroup.events" "populated 0"
total=$(wc -l < "$WORK/udp/log")
after=$(awk -v t="$tk" '$1 >= t' "$WORK/udp/log" | wc -l)
notdenied=$(awk '$2 != "socket:EACCES"' "$WORK/udp/log" | wc -l)
diag "$total attempts, $after logged after the kill"
check "every attempt was refused, also after the kill" eq "$notdenied" 0
sleep 0.3
check "the listener got nothing from the sandbox" eq "$(cat "$WORK/count")" 1
# The dead sandbox's cgroup is still there, and so is its entry in the resident set.
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" send "$3" "$4" once' _ "$SBCG" "$U" "$WORK/udp/moved.log" "$PORT" 2>&1)
check "a process moved into the dead runner's sandbox is still refused the socket" eq "$moved" socket:EACCES
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec /usr/local/bin/hello' _ "$SBCG" 2>&1; echo "rc=$?")
check "... and exec of a binary outside the lease ($(echo "$moved" | tr '\n' ' '))" eq "$(echo "$moved" | tail -n 1)" rc=126
moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && read x < /etc/hostname && echo "read $x"' _ "$SBCG" 2>&1)
check "... and reading a file outside its paths ($moved)" lacks_str "$moved" "read calyx-vm"
issue "$WORK/n.lease" --cmd "$U now" || exit 0
crun "$WORK/st" "$WORK/n.lease" $U now
check "the next run works" eq "$RC" 0
check "its sweep removed the dead runner's cgroups" absent "$CG/calyx/bpf-lsm/$id-$rp"
check "... and then freed its slot" eq "$(held_slots)" 0
check "no BPF link left but the resident sets' pinned ones" eq "$(bpftool link show | grep -c '^[0-9]*:')" "$(set_programs)"
check "no sandbox cgroup or BPF program left" no_sandbox_left
touch "$WORK/stop"
wait $lsn

# --- 2. a sandbox that daemonizes: no process of it survives calyx's SIGKILL, and the
# next run's sweep clears what the dead runner left (cgroups, then its slot).
M=calyx-bg-marker-killrunner
issue "$WORK/k.lease" --cmd "/usr/local/bin/daemonize_and_sleep 60 $M" || exit 0
kid=$(lease_id "$WORK/k.lease")
bg_run k "$WORK/k.lease" /usr/local/bin/daemonize_and_sleep 60 "$M"
check "the sandbox is running (parent and daemon)" wait_sandbox_procs 2 "$BG_PID"
cpid=
for p in $(procs_with "--lease $WORK/k.lease"); do cpid=$p; done
check "found the calyx run process" ne "$cpid" ""
[ -n "$cpid" ] && kill -9 "$cpid"
wait "$BG_PID" 2>/dev/null
gone() {
	local i=0 left
	while [ $i -lt 50 ]; do
		left=$(procs_with "$M" | tr '\n' ' ')
		[ -z "$left" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	WHY="still alive 5 s after calyx died: $left ($(for p in $left; do cat /proc/$p/cgroup; done | tr '\n' ' '))"
	return 1
}
check "no sandboxed process survives calyx's SIGKILL" gone
check "the killed runner's sandbox still holds its slot" eq "$(held_slots)" 1
issue "$WORK/k2.lease" --cmd '/usr/bin/git' || exit 0
crun "$WORK/k2.state" "$WORK/k2.lease" /usr/bin/git
check "the next run works" run_ok
check "the next run's output" has "$RUN/stdout.log" HELLO-RAN
check "its sweep removed the killed runner's cgroups" absent "$CG/calyx/bpf-lsm/$kid-$cpid"
check "... and freed its slot" eq "$(held_slots)" 0
check "no sandbox cgroup, pin or BPF program left" no_sandbox_left
