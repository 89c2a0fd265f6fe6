# Two sandboxes at once with different leases: each gets exactly its own rules. Each runs
# a script that signals it is ready, waits until the test lets both go (so both are alive
# together), then tries its own and the other's files, and an exec only A's lease allows.
# The other's file is in each one's view (the lease's $D/* binds $D and grants only its
# entries, not what is beneath them), so the enforcer is what refuses it, not the view.
D=$WORK/two
for x in a b; do
	mkdir -p "$D/$x"
	echo "$x-data" > "$D/$x/data"
	sb_script "$D/$x/run.sh" <<EOF2
: > $D/$x/ready
i=0
while [ ! -e $D/$x/go ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
t own-read /usr/local/bin/try_open $D/$x/data r
t own-write /usr/local/bin/try_open $D/$x/out w $x-wrote
t other-read-a /usr/local/bin/try_open $D/a/data r
t other-read-b /usr/local/bin/try_open $D/b/data r
t exec-git /usr/local/bin/try_exec /usr/bin/git
EOF2
done
issue "$WORK/a.lease" --cmd "/bin/sh $D/a/run.sh" --helper /bin/sh --helper /usr/local/bin/try_open \
	--helper /usr/local/bin/try_exec --helper /usr/bin/git --path "$D/a/**:rw" --path "$D/*:ro" --limit wall=40s || exit 0
issue "$WORK/b.lease" --cmd "/bin/sh $D/b/run.sh" --helper /bin/sh --helper /usr/local/bin/try_open \
	--helper /usr/local/bin/try_exec --path "$D/b/**:rw" --path "$D/*:ro" --limit wall=40s || exit 0
bg_run a "$WORK/a.lease" /bin/sh "$D/a/run.sh"
pa=$BG_PID
bg_run b "$WORK/b.lease" /bin/sh "$D/b/run.sh"
pb=$BG_PID
check "sandbox A started" wait_file "$D/a/ready" 300
check "sandbox B started" wait_file "$D/b/ready" 300
check "two sandbox cgroups exist at once" eq "$(sandbox_cgroups | grep -c .)" 2
: > "$D/a/go"
: > "$D/b/go"
wait "$pa" "$pb"
cat "$WORK/a.bg.log" "$WORK/b.bg.log"
check "sandbox A exited 0" eq "$(cat "$WORK/a.rc")" 0
check "sandbox B exited 0" eq "$(cat "$WORK/b.rc")" 0
RUN=$(ls -d "$WORK"/a.state/outgoing/staging_runs/LEASE-* | tail -n 1)
check "A reads its own file" is_ok own-read a-data
check "A writes its own path" is_ok own-write
check "A cannot read B's file" is_denied other-read-b
check "A runs git (in A's lease)" is_ok exec-git HELLO-RAN
RUN=$(ls -d "$WORK"/b.state/outgoing/staging_runs/LEASE-* | tail -n 1)
check "B reads its own file" is_ok own-read b-data
check "B writes its own path" is_ok own-write
check "B cannot read A's file" is_denied other-read-a
check "B cannot run git (only in A's lease)" not_ran exec-git
check "A's written bytes" eq "$(cat "$D/a/out" 2>/dev/null)" a-wrote
check "B's written bytes" eq "$(cat "$D/b/out" 2>/dev/null)" b-wrote
check "A's SVF has no denial of its own file" lacks "$(svf_log "$WORK/a.state")" "$D/a/data"
check "B's SVF records the denial of A's file" has_event "$WORK/b.state" file_event.denied "$D/a/data"
check "no sandbox cgroup or BPF program left" no_sandbox_left
