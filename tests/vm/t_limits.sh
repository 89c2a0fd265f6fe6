# Resource limits on a pure cgroup v2 host (bpf-lsm): an output flood on both streams, a
# fork bomb, a memory bomb, a CPU spinner, a large-file writer (and one that ignores
# SIGXFSZ) are each stopped by the right limit while they run: exit 123, status
# violation, meta.json violation {limit, measured, bound, how}, an SVF
# resource_event.violation record and the alert line, and nothing left. A command just
# under every limit ends within_limits. With the pids controller bound to a cgroup v1
# hierarchy that calyx's mount namespace does not show (a real layout: the v2 hierarchy
# then has no pids controller, and no v1 one is in view), a pids limit cannot be
# enforced: the run fails closed (69) without using the lease, and runs with
# unenforceable_limits: warn, saying so.
L=$WORK/limits
mkdir -p "$L/w"
contains() { case $1 in *"$2"*) return 0 ;; esac; WHY="'$2' not in '$(echo "$1" | head -c 400)'"; return 1; }

# violated STATE LIMIT BOUND: the SVF record and the alert line say what meta.json says.
violated() {
	local st=$1 lim=$2 bound=$3 v
	[ "$(meta status)" = violation ] || { WHY="status $(meta status)"; return 1; }
	[ "$(meta violation.limit)" = "$lim" ] || { WHY="violation.limit $(meta violation.limit)"; return 1; }
	[ "$(meta violation.bound)" = "$bound" ] || { WHY="violation.bound $(meta violation.bound)"; return 1; }
	[ "$(svf_count "$st" resource_event.violation)" = 1 ] || { WHY="$(svf_count "$st" resource_event.violation) resource_event.violation records"; return 1; }
	v=$(grep '"type":"resource_event.violation"' "$(svf_log "$st")")
	case $v in *"\"limit\":\"$lim\""*"\"bound\":$bound"*) ;; *) WHY="SVF record: $v"; return 1 ;; esac
	v=$(cat "$st/logs/resource_monitoring/alerts.jsonl" 2>/dev/null)
	case $v in *'"status":"violation"'*"\"limit\":\"$lim\""*"\"bound\":$bound"*) ;; *) WHY="alert: $v"; return 1 ;; esac
	return 0
}

issue "$WORK/o.lease" --cmd '/usr/local/bin/hog out2' --limit output=1M,wall=30s || exit 0
crun "$WORK/o.state" "$WORK/o.lease" /usr/local/bin/hog out2
check "output flood (both streams): exit 123" eq "$RC" 123
check "output flood: violation output_bytes, SVF record, alert line" violated "$WORK/o.state" output_bytes 1048576
check "output flood: measured > bound" ge "$(meta violation.measured)" 1048577
so=$(stat -c %s "$RUN/stdout.log" 2>/dev/null || echo 0); se=$(stat -c %s "$RUN/stderr.log" 2>/dev/null || echo 0)
check "output flood: the two logs together hold exactly the bound ($so + $se)" eq "$((so + se))" 1048576
check "output flood: stderr's bytes were counted too" ge "$(meta artifacts.stderr.log.bytes_produced)" 1
check "output flood: nothing left" no_sandbox_left

issue "$WORK/p.lease" --cmd '/usr/local/bin/hog pids 200' --limit pids=16,wall=30s || exit 0
crun "$WORK/p.state" "$WORK/p.lease" /usr/local/bin/hog pids 200
check "fork bomb: exit 123" eq "$RC" 123
check "fork bomb: violation pids, SVF record, alert line" violated "$WORK/p.state" pids 16
check "fork bomb: measured at the bound (no fork passes it)" eq "$(meta violation.measured)" 16
check "fork bomb: no more than 16 tasks were made" sh -c "n=\$(sed -n 's/^forked //p' $RUN/stdout.log); [ -z \"\$n\" ] || [ \$n -le 16 ]"
check "fork bomb: nothing left" no_sandbox_left

issue "$WORK/m.lease" --cmd '/usr/local/bin/hog mem 200' --limit mem=32M,wall=30s || exit 0
crun "$WORK/m.state" "$WORK/m.lease" /usr/local/bin/hog mem 200
check "memory bomb: not allowed to finish its 200 MiB" lacks "$RUN/stdout.log" "ok allocated"
check "memory bomb: exit 123" eq "$RC" 123
check "memory bomb: violation mem_bytes, SVF record, alert line" violated "$WORK/m.state" mem_bytes 33554432
check "memory bomb: measured from memory.peak" eq "$(meta violation.measured_from)" memory.peak
# The kernel holds usage at memory.max: the peak is the bound, give or take the pages a
# failed charge did not get.
check "memory bomb: peak within 1 MiB below the bound ($(meta violation.measured))" \
	sh -c "[ $(meta violation.measured) -le 33554432 ] && [ $(meta violation.measured) -gt 32505856 ]"
check "memory bomb: enforced through memory.max with oom.group" contains "$(meta limits.enforced.mem_bytes)" "memory.oom.group 1"
check "memory bomb: nothing left" no_sandbox_left

issue "$WORK/c.lease" --cmd '/usr/local/bin/hog cpu' --limit cpu=500ms,wall=60s || exit 0
crun "$WORK/c.state" "$WORK/c.lease" /usr/local/bin/hog cpu
check "cpu spinner (two processes): exit 123" eq "$RC" 123
check "cpu spinner: violation cpu_ms, SVF record, alert line" violated "$WORK/c.state" cpu_ms 500
check "cpu spinner: measured > bound" ge "$(meta violation.measured)" 501
check "cpu spinner: nothing left" no_sandbox_left

for mode in die ignore; do
	arg=; [ "$mode" = ignore ] && arg=ignore
	rm -f "$L/w/big"
	issue "$WORK/f$mode.lease" --cmd "/usr/local/bin/hog fsize $L/w/big 8 $arg" --path "$L/w/**:rw" --limit fsize=1M,wall=30s || exit 0
	crun "$WORK/f$mode.state" "$WORK/f$mode.lease" /usr/local/bin/hog fsize "$L/w/big" 8 $arg
	check "large-file writer ($mode on SIGXFSZ): exit 123" eq "$RC" 123
	check "large-file writer ($mode): violation fsize_bytes, SVF record, alert line" violated "$WORK/f$mode.state" fsize_bytes 1048576
	check "large-file writer ($mode): the file holds exactly the bound" eq "$(stat -c %s "$L/w/big")" 1048576
	check "large-file writer ($mode): refused writes counted" ge "$(meta violation.refused_writes)" 1
	check "large-file writer ($mode): nothing left" no_sandbox_left
done
# No check on the "errno=EFBIG" line hog prints in ignore mode: the sentinel kills the
# cgroup at the first refused write, which may land before the line is written. The file
# holding exactly the bound and the counted refusals show the writes were refused.

issue "$WORK/u.lease" --cmd "/usr/local/bin/hog under 8 4 100000 $L/w/small" --path "$L/w/**:rw" \
	--limit cpu=20s,mem=64M,pids=16,wall=60s,output=1M,fsize=1M || exit 0
crun "$WORK/u.state" "$WORK/u.lease" /usr/local/bin/hog under 8 4 100000 "$L/w/small"
check "just under every limit: exit 0, status ok" eq "$RC/$(meta status)" 0/ok
a=$(cat "$WORK/u.state/logs/resource_monitoring/alerts.jsonl" 2>/dev/null)
check "just under every limit: alert line within_limits" contains "$a" '"status":"within_limits","run_status":"ok"'
check "just under every limit: measured output 100000 beside the bound" contains "$a" '"output_bytes":100000,'
check "just under every limit: the peak memory is there (memory.peak)" eq "$(meta limits.measured_from.mem_bytes)" memory.peak
check "just under every limit: peak memory above the 8 MiB touched" ge "$(meta limits.measured.mem_bytes)" 8388608
check "just under every limit: no resource_event.violation" eq "$(svf_count "$WORK/u.state" resource_event.violation)" 0
check "just under every limit: nothing left" no_sandbox_left

# --- a limit this kernel layout cannot enforce ---------------------------------------
# pids bound to a v1 hierarchy mounted only in another mount namespace: the v2 hierarchy
# no longer offers pids, and calyx's /proc/self/mountinfo shows no v1 pids mount. First
# pids must be off in every v2 subtree_control (calyx turned it on below its root).
for d in $(find $CG/calyx -mindepth 1 -maxdepth 1 -type d) $CG/calyx $CG; do
	echo -pids > "$d/cgroup.subtree_control" 2>/dev/null
done
mkdir -p /tmp/p1
unshare -m --propagation private sh -c 'mount -t cgroup -o pids none /tmp/p1 && echo mounted > /tmp/p1.ok && exec sleep 600' &
holder=$!
for _ in $(seq 50); do [ -f /tmp/p1.ok ] && break; sleep 0.1; done
check "the pids controller is bound to a hidden v1 hierarchy (not in v2 any more)" \
	sh -c "[ -f /tmp/p1.ok ] && ! grep -qw pids $CG/cgroup.controllers"
issue "$WORK/n.lease" --cmd '/usr/local/bin/hog sleep 0' --limit pids=8 || exit 0
crun "$WORK/n.state" "$WORK/n.lease" /usr/local/bin/hog sleep 0
check "no pids controller: exit 69" eq "$RC" 69
check "no pids controller: the message names the limit and why" has "$ERR" "limit pids = 8 cannot be enforced on this host: the pids controller is not in the cgroup v2 hierarchy and no cgroup v1 pids hierarchy is mounted; nothing was run, the lease was not used"
check "no pids controller: no run directory" absent "$RUN"
check "no pids controller: calyx doctor says pids cannot be enforced" sh -c "$CALYX doctor | grep -qE '^  pids +no '"
sed 's/^enforcement: bpf-lsm$/enforcement: bpf-lsm\nunenforceable_limits: warn/' "$MATRIX" > "$L/warn.yaml"
issue "$WORK/nw.lease" --cmd '/usr/local/bin/hog sleep 0' --limit pids=8 || exit 0
MATRIX=$L/warn.yaml crun "$WORK/nw.state" "$WORK/nw.lease" /usr/local/bin/hog sleep 0
check "unenforceable_limits: warn: the run runs (exit 0)" eq "$RC" 0
check "unenforceable_limits: warn: one stderr line says so" has "$ERR" "calyx: warning: limit pids = 8 is not enforced on this host: the pids controller is not in the cgroup v2 hierarchy"
check "unenforceable_limits: warn: meta.json not_enforced" contains "$(jget "$RUN/meta.json" limits.not_enforced)" pids
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
rm -f /tmp/p1.ok
# The hierarchy goes once its last mount does; then pids is v2's again.
for _ in $(seq 50); do grep -qw pids $CG/cgroup.controllers && break; sleep 0.1; done
echo +pids > $CG/cgroup.subtree_control
check "pids is back in the v2 hierarchy" grep -qw pids $CG/cgroup.subtree_control
crun "$WORK/n.state" "$WORK/n.lease" /usr/local/bin/hog sleep 0
check "the refused run's single-use lease was not used: it runs now (exit 0)" eq "$RC" 0
check "nothing left" no_sandbox_left
