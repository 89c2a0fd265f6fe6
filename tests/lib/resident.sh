# The resident program set, tested the same way on every tier and backend (POSIX sh:
# sourced by tests/host/resident.sh under bash and by tests/vm/t_resident*.sh under
# busybox sh). One set per host and backend, loaded once, shared by every `calyx run`
# (user/enforce/resident.h); these cases check what it promises from the outside:
#   rs_case_first_load   the first run loads it, later runs load no program at all
#   rs_case_race         two first runs racing: loaded once
#   rs_case_two          two runs with different leases at once: own rules, own records;
#                        one's flood of denials costs the other no record
#   rs_case_ten          ten runs at once, every slot freed afterwards
#   rs_case_killrunner   a SIGKILLed runner: its sandbox dies and stays confined until then,
#                        its slot is shown dead, the next run frees it
#   rs_case_upgrade      a set of another build: replaced when idle, refused (75) while it
#                        serves a sandbox
#   rs_case_stop         enforcer stop: refused (75) while a sandbox lives, --force kills it,
#                        then nothing of the set is left
# State dirs lie beside a case's work directory ($W.st), never below a lease path (the
# overlap guard refuses that, docs/run.md).
# Each case starts from a state it sets up itself (stopping the set when it needs none).
#
# The caller defines:
#   check DESC CMD...  pass when CMD succeeds (a failing predicate says why in WHY); diag MSG
#   CALYX              the calyx binary
#   RS_BACKEND         bpf-lsm | landlock
#   RS_RUN_ARGS        what every `calyx run` gets besides --lease/--state (trust, matrix,
#                      --enforce), word-split
#   RS_KEY             the secret key the leases are signed with
#   RS_WORK            a scratch directory inside the matrix's lease_paths (made afresh)
#   RS_CG2             the cgroup v2 mount (the set's root cgroup is RS_CG2/calyx/BACKEND)
#   RS_BIN             res_probe, try_open, bpf_objects, jget, daemonize_and_sleep
#   RS_UID             the uid sandboxes run as (owner of their :rw directories)

RS_PINS=/sys/fs/bpf/calyx/$RS_BACKEND
RS_ROOTCG=$RS_CG2/calyx/$RS_BACKEND
RS_VERSION=$("$CALYX" --version 2>/dev/null | sed 's/^calyx //')   # "0.1.0 (commit 7243d07)"
RS_FLOOD=${RS_FLOOD:-100000}

# ------------------------------------------------------------------ predicates (set WHY)
rs_eq() { [ "$1" = "$2" ] && return 0; WHY="got '$1', want '$2'"; return 1; }
rs_ne() { [ "$1" != "$2" ] && return 0; WHY="got '$1', want anything else"; return 1; }
rs_ge() { [ "$1" -ge "$2" ] 2>/dev/null && return 0; WHY="got '$1', want >= $2"; return 1; }
rs_le() { [ "$1" -le "$2" ] 2>/dev/null && return 0; WHY="got '$1', want <= $2"; return 1; }
rs_gt() { [ "$1" -gt "$2" ] 2>/dev/null && return 0; WHY="got '$1', want > $2"; return 1; }
rs_one_of() {
	local v=$1 w
	shift
	for w in "$@"; do [ "$v" = "$w" ] && return 0; done
	WHY="got '$v', want one of: $*"
	return 1
}
rs_absent() { [ -e "$1" ] || return 0; WHY="$1 exists: $(ls -A "$1" 2>/dev/null | head -n 5 | tr '\n' ' ')"; return 1; }
rs_contains() { case $1 in *"$2"*) return 0 ;; esac; WHY="'$2' not in '$(echo "$1" | head -c 400)'"; return 1; }
rs_lacks() { case $1 in *"$2"*) WHY="'$2' found in '$(echo "$1" | head -c 400)'"; return 1 ;; esac; return 0; }
rs_file_has() {
	[ -f "$1" ] || { WHY="$1 does not exist"; return 1; }
	grep -qF -- "$2" "$1" && return 0
	WHY="'$2' not in $1: $(head -c 400 "$1" | tr '\n' '|')"
	return 1
}

# ------------------------------------------------------------------ calyx, leases, runs
rs_init() {
	rm -rf "$RS_WORK"
	mkdir -p "$RS_WORK"
	chmod 755 "$RS_WORK"
}

# rs_dir PATH...: directories the sandbox may write (owned by RS_UID)
rs_dir() {
	mkdir -p "$@" && chown "$RS_UID:$RS_UID" "$@" && chmod 755 "$@"
}

# rs_issue OUT ARGS...: a lease signed with RS_KEY
rs_issue() {
	local out=$1
	shift
	"$CALYX" lease issue --key "$RS_KEY" --aud "$(uname -n)" --intent INT-TEST-RESIDENT --ttl 10m -o "$out" "$@" \
		> "$out.issue.log" 2>&1 && return 0
	check "lease issue $*" false
	diag "lease issue: $(cat "$out.issue.log")"
	return 1
}
rs_lease_id() { "$CALYX" lease show "$1" 2>/dev/null | grep -o 'LEASE-[0-9]*-[0-9]*-[0-9a-f]*' | head -n 1; }
# rs_runs_used LEASE: the runs the host-wide ledger counts for it (the matrices here name
# no `ledger:`, so the default one; 0 when it has no entry).
rs_runs_used() {
	local iss
	iss=$("$CALYX" lease show "$1" 2>/dev/null | sed -n 's/^signer *//p')
	cat "/var/lib/calyx/ledger/$iss/$(rs_lease_id "$1")" 2>/dev/null || echo 0
}

# rs_run STATE LEASE CMD...: `calyx run` in the foreground. RS_RC, RS_ERR (calyx's stderr
# file), RS_RUNDIR (the newest run directory of that state dir).
rs_run() {
	local state=$1 lease=$2
	shift 2
	RS_ERR=$state.err
	# shellcheck disable=SC2086 # RS_RUN_ARGS is a word list
	"$CALYX" run --lease "$lease" $RS_RUN_ARGS --state "$state" -- "$@" > "$state.out" 2> "$RS_ERR"
	RS_RC=$?
	RS_RUNDIR=$(rs_newest_run "$state")
	diag "calyx run -- $* => $RS_RC; stderr: $(head -c 300 "$RS_ERR" | tr '\n' '|')"
}
# rs_bg STATE LEASE CMD...: the same in the background; RS_BG is calyx's own pid. Its exit
# code: rs_reap PID STATE (sets RS_RC, RS_ERR, RS_RUNDIR).
rs_bg() {
	local state=$1 lease=$2
	shift 2
	# shellcheck disable=SC2086
	"$CALYX" run --lease "$lease" $RS_RUN_ARGS --state "$state" -- "$@" > "$state.out" 2> "$state.err" &
	RS_BG=$!
}
rs_reap() {
	wait "$1"
	RS_RC=$?
	RS_ERR=$2.err
	RS_RUNDIR=$(rs_newest_run "$2")
	diag "background calyx run (pid $1) => $RS_RC; stderr: $(head -c 300 "$RS_ERR" | tr '\n' '|')"
}

# The newest run directory of a state dir (no globs: the host tier runs with set -f).
rs_newest_run() {
	local d
	d=$(find "$1/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -name 'LEASE-*' 2>/dev/null | sort | tail -n 1)
	echo "${d:-$1/no-run-dir}"
}
rs_meta() { "$RS_BIN/jget" "$1/meta.json" "$2" 2>/dev/null; }
rs_stdout() { cat "$1/stdout.log" 2>/dev/null; }
rs_ran_ok() {
	[ "$RS_RC" = 0 ] && return 0
	WHY="calyx run exited $RS_RC: $(head -c 300 "$RS_ERR" 2>/dev/null | tr '\n' ' ')"
	return 1
}

# ------------------------------------------------------------------ the set from outside
# rs_status: `calyx enforcer status --json` for the backend into RS_WORK/status.json;
# RS_STATUS_RC its exit code. rs_st FIELD: a field of this backend's entry.
rs_status() {
	"$CALYX" enforcer status --enforce "$RS_BACKEND" --json > "$RS_WORK/status.json" 2> "$RS_WORK/status.err"
	RS_STATUS_RC=$?
}
rs_st() { "$RS_BIN/jget" "$RS_WORK/status.json" "0.$1" 2>/dev/null || echo "<no $1>"; }
# rs_slot_of PID FIELD: FIELD of the slot whose runner is PID ("none": no such slot), from
# the last rs_status.
rs_slot_of() {
	local n i
	n=$("$RS_BIN/jget" "$RS_WORK/status.json" "#0.slots" 2>/dev/null) || n=0
	i=0
	while [ "$i" -lt "$n" ]; do
		if [ "$(rs_st "slots.$i.runner_pid")" = "$1" ]; then
			rs_st "slots.$i.$2"
			return 0
		fi
		i=$((i + 1))
	done
	echo none
}
rs_not_up() {
	rs_status
	[ "$(rs_st up)" = false ] && [ "$RS_STATUS_RC" = 69 ] && return 0
	WHY="status (exit $RS_STATUS_RC): $(tr -d '\n\t ' < "$RS_WORK/status.json" | head -c 300)"
	return 1
}
# rs_usable: the set is up, complete and usable by this calyx (status exit 0)
rs_usable() {
	rs_status
	[ "$RS_STATUS_RC" = 0 ] && [ "$(rs_st up)" = true ] && [ "$(rs_st complete)" = true ] &&
		[ "$(rs_st usable_by_this_calyx)" = true ] && return 0
	WHY="status (exit $RS_STATUS_RC): $(tr -d '\n\t ' < "$RS_WORK/status.json" | head -c 300)"
	return 1
}
rs_stop_force() {
	"$CALYX" enforcer stop --enforce "$RS_BACKEND" --force > "$RS_WORK/stop.out" 2>&1
	diag "enforcer stop --force: $(tr '\n' ' ' < "$RS_WORK/stop.out")"
}
# "progs N links M" of the whole host; the next program id (bpf_objects next-prog-id)
rs_count() { "$RS_BIN/bpf_objects" count; }
rs_progs() { echo "$1" | awk '{print $2}'; }
rs_links() { echo "$1" | awk '{print $4}'; }
rs_nextid() { "$RS_BIN/bpf_objects" next-prog-id | awk '$1 == "prog" {print $2}'; }
# rs_settled: the count once the kernel has finished releasing what a stop detached (the
# release is deferred): the same in three samples in a row, at most 10 s.
rs_settled() {
	local i=0 same=0 prev cur
	prev=$(rs_count)
	while [ $i -lt 100 ] && [ $same -lt 3 ]; do
		sleep 0.1
		cur=$(rs_count)
		if [ "$cur" = "$prev" ]; then same=$((same + 1)); else same=0; fi
		prev=$cur
		i=$((i + 1))
	done
	echo "$prev"
}
# rs_count_is WANT: the count reaches WANT (deferred releases) within 10 s
rs_count_is() {
	local i=0 cur
	cur=$(rs_count)
	while [ "$cur" != "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		cur=$(rs_count)
		i=$((i + 1))
	done
	[ "$cur" = "$1" ] && return 0
	WHY="after 10 s: '$cur', want '$1'"
	return 1
}
# rs_wait_file FILE [TENTHS]: until FILE exists (default 60 s)
rs_wait_file() {
	local i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt "${2:-600}" ] && { WHY="$1 did not appear"; return 1; }
		sleep 0.1
	done
	return 0
}
# rs_nothing_left: no pins of the backend's set, no root cgroup of it
rs_nothing_left() {
	[ -e "$RS_PINS" ] && { WHY="$RS_PINS still holds: $(ls "$RS_PINS" | tr '\n' ' ')"; return 1; }
	[ -e "$RS_ROOTCG" ] && { WHY="$RS_ROOTCG still exists: $(ls -d "$RS_ROOTCG"/*/ 2>/dev/null | tr '\n' ' ')"; return 1; }
	return 0
}
rs_runner_dirs() { find "$RS_ROOTCG" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l | tr -d ' '; }

# rs_end: stop the set (a test that leaves none behind), and wait until the kernel has
# released its programs and links (deferred: on 6.12 after the stop returns)
rs_end() {
	local before progs want
	rs_status
	progs=$(rs_st programs)
	before=$(rs_count)
	rs_stop_force
	check "[$RS_BACKEND] the set is stopped at the end (no pins, no root cgroup)" rs_nothing_left
	case $progs in
	''|*[!0-9]*) check "[$RS_BACKEND] the set was up before the stop (status: $progs programs)" false; return 0 ;;
	esac
	want="progs $(( $(rs_progs "$before") - progs )) links $(( $(rs_links "$before") - progs ))"
	check "[$RS_BACKEND] ... and its $progs programs and links are released ($before -> $want)" rs_count_is "$want"
}

# ================================================================== a. first run, later runs
rs_case_first_load() {
	local W=$RS_WORK/first c0 c1 c2 c3 id1 id2 id3 at1 progs
	rs_stop_force
	check "[$RS_BACKEND] no set is up to begin with (status exit 69, up false)" rs_not_up
	check "[$RS_BACKEND] ... nothing pinned in $RS_PINS, no root cgroup $RS_ROOTCG" rs_nothing_left
	c0=$(rs_settled)
	mkdir -p "$W"
	echo first-data > "$W/data"
	rs_issue "$W/l" --runs 3 --cmd "$RS_BIN/try_open $W/data r" --path "$W/**:ro" || return 0

	rs_run "$W.st" "$W/l" "$RS_BIN/try_open" "$W/data" r
	check "[$RS_BACKEND] first run: exit 0" rs_ran_ok
	check "[$RS_BACKEND] first run: the command read its lease file" rs_eq "$(rs_stdout "$RS_RUNDIR")" "ok read: first-data"
	check "[$RS_BACKEND] first run: backend $RS_BACKEND" rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.backend)" "$RS_BACKEND"
	check "[$RS_BACKEND] first run loaded the set (resident.loaded_by_this_run true)" \
		rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run)" true
	check "[$RS_BACKEND] ... resident.loaded_by is this calyx ($RS_VERSION)" \
		rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by)" "$RS_VERSION"
	check "[$RS_BACKEND] ... its sandbox had a slot (resident.slot >= 1)" rs_ge "$(rs_meta "$RS_RUNDIR" enforcement.resident.slot)" 1
	at1=$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_at)
	check "[$RS_BACKEND] after it the set is up and usable (status exit 0)" rs_usable
	check "[$RS_BACKEND] ... loaded by this calyx, at the time the run says" \
		rs_eq "$(rs_st loaded_by) $(rs_st loaded_at)" "$RS_VERSION $at1"
	check "[$RS_BACKEND] ... serving no sandbox now (live 0, no slot held)" \
		rs_eq "$(rs_st live_sandboxes) $("$RS_BIN/jget" "$RS_WORK/status.json" '#0.slots')" "0 0"
	progs=$(rs_st programs)
	c1=$(rs_count)
	diag "before the set: $c0; with it: $c1; status: $progs programs"
	check "[$RS_BACKEND] the set added its $progs programs and links to the host ($c0 -> $c1)" \
		rs_eq "$(( $(rs_progs "$c1") - $(rs_progs "$c0") )) $(( $(rs_links "$c1") - $(rs_links "$c0") ))" "$progs $progs"
	id1=$(rs_nextid)

	rs_run "$W.st" "$W/l" "$RS_BIN/try_open" "$W/data" r
	c2=$(rs_count)
	id2=$(rs_nextid)
	check "[$RS_BACKEND] second run: exit 0, same output" rs_eq "$RS_RC $(rs_stdout "$RS_RUNDIR")" "0 ok read: first-data"
	check "[$RS_BACKEND] second run loaded nothing (resident.loaded_by_this_run false)" \
		rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run)" false
	check "[$RS_BACKEND] ... it used the set the first run loaded (same loaded_at)" \
		rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_at)" "$at1"
	check "[$RS_BACKEND] ... bpf_objects count unchanged ($c1)" rs_eq "$c2" "$c1"
	check "[$RS_BACKEND] ... no program was loaded during it, not even briefly (next program id $id1 -> $id2)" \
		rs_eq "$id2" "$((id1 + 1))"

	rs_run "$W.st" "$W/l" "$RS_BIN/try_open" "$W/data" r
	c3=$(rs_count)
	id3=$(rs_nextid)
	check "[$RS_BACKEND] third run: exit 0, loaded nothing, count and program ids unchanged" \
		rs_eq "$RS_RC $(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run) $c3 $id3" \
		"0 false $c1 $((id2 + 1))"
	# With a set up, `calyx doctor` reports it and loads no program of its own (the set is
	# the proof that its backend works).
	doc=$("$CALYX" doctor 2>&1)
	id4=$(rs_nextid)
	check "[$RS_BACKEND] doctor reports the resident set" rs_contains "$doc" "$RS_BACKEND: up, loaded"
	check "[$RS_BACKEND] ... and loaded no program for it (next program id $id3 -> $id4)" \
		rs_eq "$id4" "$((id3 + 1))"
	RS_BASE_COUNT=$c0
}

# ================================================================== b. two first runs racing
rs_case_race() {
	local W=$RS_WORK/race c0 c1 p1 p2 r1 r2 l1 l2 progs
	rs_stop_force
	check "[$RS_BACKEND] race: no set is up before" rs_not_up
	c0=$(rs_settled)
	mkdir -p "$W"
	echo race-data > "$W/data"
	rs_issue "$W/l" --runs 2 --cmd "$RS_BIN/try_open $W/data r" --path "$W/**:ro" || return 0
	# Two state dirs, one lease of two runs (the single-use ledger is host-wide).
	rs_bg "$W.s1" "$W/l" "$RS_BIN/try_open" "$W/data" r
	p1=$RS_BG
	rs_bg "$W.s2" "$W/l" "$RS_BIN/try_open" "$W/data" r
	p2=$RS_BG
	rs_reap "$p1" "$W.s1"
	r1=$RS_RC l1=$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run)
	rs_reap "$p2" "$W.s2"
	r2=$RS_RC l2=$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run)
	check "[$RS_BACKEND] race: both runs exit 0 ($r1, $r2)" rs_eq "$r1 $r2" "0 0"
	check "[$RS_BACKEND] race: exactly one of them loaded the set (loaded_by_this_run: $l1, $l2)" \
		rs_eq "$(printf '%s\n%s\n' "$l1" "$l2" | sort | tr '\n' ' ')" "false true "
	check "[$RS_BACKEND] race: the set is up and usable" rs_usable
	progs=$(rs_st programs)
	c1=$(rs_count)
	check "[$RS_BACKEND] race: the host holds one set's programs more, not two ($c0 -> $c1, a set has $progs)" \
		rs_eq "$(( $(rs_progs "$c1") - $(rs_progs "$c0") ))" "$progs"
	check "[$RS_BACKEND] race: one set's links pinned ($(ls "$RS_PINS" 2>/dev/null | grep -c '^link_') in $RS_PINS)" \
		rs_eq "$(ls "$RS_PINS" 2>/dev/null | grep -c '^link_')" "$progs"
}

# ================================================================== c. two leases at once
# A and B run at once with different leases. Each may read its own file and not the other's
# (exact errno: the other's file is in its view, through the lease's $W/* whose rule
# grants $W's entries but nothing beneath them, so the enforcer is what refuses it);
# each one's records are its own; A floods its ring buffer with denied
# socket() calls (at least RS_FLOOD, until the host saw it lose records and B was done)
# while B makes exactly 50, which must all be recorded.
rs_case_two() {
	local W=$RS_WORK/two S pa pb ida idb cga cgb out n attempts ra rb la da nb fa
	mkdir -p "$W"
	rs_dir "$W/a" "$W/b"
	echo a-data > "$W/a/data"
	echo b-data > "$W/b/data"
	for x in a b; do
		cat > "$W/$x.sh" <<EOF
echo "own-read: \$($RS_BIN/try_open $W/$x/data r)"
echo "other-read-a: \$($RS_BIN/try_open $W/a/data r)"
echo "other-read-b: \$($RS_BIN/try_open $W/b/data r)"
$RS_BIN/res_probe touch $W/$x/ready
$RS_BIN/res_probe wait $W/$x/go 120 || exit 1
EOF
	done
	echo "$RS_BIN/res_probe net-flood $W/a $RS_FLOOD" >> "$W/a.sh"
	# B stays until the host has looked at its slot.
	printf '%s\n' "$RS_BIN/res_probe net-deny 50" "$RS_BIN/res_probe touch $W/b/done" \
		"$RS_BIN/res_probe wait $W/b/end 120" >> "$W/b.sh"
	for x in a b; do
		rs_issue "$W/$x.l" --cmd "/bin/sh $W/$x.sh" --helper "$RS_BIN/try_open" --helper "$RS_BIN/res_probe" \
			--path "$W/$x/**:rw" --path "$W/$x.sh:ro" --path "$W/*:ro" --net deny_all --limit wall=5m || return 0
	done
	ida=$(rs_lease_id "$W/a.l") idb=$(rs_lease_id "$W/b.l")
	S=$W.st   # one state dir: one SVF log for both
	rs_bg "$S" "$W/a.l" /bin/sh "$W/a.sh"
	pa=$RS_BG
	rs_bg "$S" "$W/b.l" /bin/sh "$W/b.sh"
	pb=$RS_BG
	check "[$RS_BACKEND] two: sandbox A started" rs_wait_file "$W/a/ready" 600
	check "[$RS_BACKEND] two: sandbox B started" rs_wait_file "$W/b/ready" 600
	rs_status
	check "[$RS_BACKEND] two: both live in the one set at once (2 live, slots $(rs_slot_of "$pa" slot) and $(rs_slot_of "$pb" slot))" \
		rs_eq "$(rs_st live_sandboxes) $(rs_slot_of "$pa" live) $(rs_slot_of "$pb" live)" "2 true true"
	: > "$W/a/go"
	check "[$RS_BACKEND] two: A floods" rs_wait_file "$W/a/flooding" 600
	# Whether a flood outruns its consumer depends on how the two cores are shared, so the
	# test makes A's consumer slow for certain: A's runner (its sentinel) is stopped while
	# A floods, then let go. Its sandbox needs nothing from it meanwhile (no output, no
	# seccomp notification: the matrix relaxes inet_sockets).
	kill -STOP "$pa"
	check "[$RS_BACKEND] two: A's flood overflows A's ring buffer while its consumer is stopped (its slot loses records)" rs_wait_lost "$pa"
	kill -CONT "$pa"
	: > "$W/b/go"
	check "[$RS_BACKEND] two: B made its 50 denied attempts meanwhile" rs_wait_file "$W/b/done" 600
	rs_status
	check "[$RS_BACKEND] two: B's slot lost no record while A's was losing them" rs_eq "$(rs_slot_of "$pb" counters.records_lost)" 0
	: > "$W/a/stop"
	: > "$W/b/end"
	rs_reap "$pa" "$S"
	ra=$RS_RC
	rs_reap "$pb" "$S"
	rb=$RS_RC
	check "[$RS_BACKEND] two: both runs exit 0 ($ra, $rb)" rs_eq "$ra $rb" "0 0"
	local A=$S/outgoing/staging_runs/$ida B=$S/outgoing/staging_runs/$idb
	for x in a b; do
		local X
		X=$A
		[ $x = b ] && X=$B
		out=$(rs_stdout "$X")
		check "[$RS_BACKEND] two: $x reads its own file" rs_contains "$out" "own-read: ok read: $x-data"
	done
	check "[$RS_BACKEND] two: A cannot read B's file (EACCES)" rs_contains "$(rs_stdout "$A")" "other-read-b: errno=EACCES (open r)"
	check "[$RS_BACKEND] two: B cannot read A's file (EACCES)" rs_contains "$(rs_stdout "$B")" "other-read-a: errno=EACCES (open r)"
	out=$(rs_stdout "$A" | grep '^attempts=')
	attempts=$(echo "$out" | sed -n 's/^attempts=\([0-9]*\) .*/\1/p')
	check "[$RS_BACKEND] two: every one of A's attempts was denied ($out)" \
		rs_eq "$out" "attempts=$attempts denied=$attempts other=0"
	check "[$RS_BACKEND] two: ... at least $RS_FLOOD of them" rs_ge "${attempts:-0}" "$RS_FLOOD"
	check "[$RS_BACKEND] two: B's 50 attempts were denied" rs_contains "$(rs_stdout "$B")" "denied=50 other=0"
	cga=$(rs_meta "$A" enforcement.cgroup_id) cgb=$(rs_meta "$B" enforcement.cgroup_id)
	check "[$RS_BACKEND] two: the sandboxes had their own cgroups ($cga, $cgb)" rs_ne "$cga" "$cgb"
	# A's records: all of A's cgroup, none of B's.
	check "[$RS_BACKEND] two: every record in A's events.jsonl is of A's cgroup" \
		rs_eq "$("$RS_BIN/jget" -l "$A/events.jsonl" cgroup_id | sort -u | tr '\n' ' ')" "$cga "
	check "[$RS_BACKEND] two: every record in B's events.jsonl is of B's cgroup" \
		rs_eq "$("$RS_BIN/jget" -l "$B/events.jsonl" cgroup_id | sort -u | tr '\n' ' ')" "$cgb "
	nb=$("$RS_BIN/jget" -l "$B/events.jsonl" type class | grep -c "^deny	net$")
	check "[$RS_BACKEND] two: B's events.jsonl holds exactly its 50 network denials" rs_eq "$nb" 50
	check "[$RS_BACKEND] two: B's meta: denials.net 50, dropped_events 0" \
		rs_eq "$(rs_meta "$B" denials.net) $(rs_meta "$B" dropped_events)" "50 0"
	fa=$(rs_meta "$B" denials.file)
	[ "$fa" = null ] && fa=0
	check "[$RS_BACKEND] two: B's kernel-side count equals its recorded denials (nothing lost)" \
		rs_eq "$(rs_meta "$B" enforcement.resident.denied)" \
		"$(( $(rs_meta "$B" denials.net) + fa + $(rs_meta "$B" denials.exec) + $(rs_meta "$B" denials.other) ))"
	la=$(rs_meta "$A" dropped_events)
	da=$(rs_meta "$A" denials.net)
	fa=$(rs_meta "$A" denials.file)
	[ "$fa" = null ] && fa=0
	diag "A: $attempts attempts, $da recorded, $la records lost"
	check "[$RS_BACKEND] two: A lost records (dropped_events $la > 0)" rs_gt "$la" 0
	check "[$RS_BACKEND] two: A's kernel-side count is exact though records were lost ($attempts socket denials + $fa file)" \
		rs_eq "$(rs_meta "$A" enforcement.resident.denied)" \
		"$((attempts + fa + $(rs_meta "$A" denials.exec) + $(rs_meta "$A" denials.other)))"
	check "[$RS_BACKEND] two: A's recorded + lost records cover its attempts ($da + $la >= $attempts)" \
		rs_ge "$((da + la))" "$attempts"
	# The shared SVF log: each lease's denial records are of its own cgroup; B's all there.
	local svf=$S/logs/svf_audit/svf.jsonl
	"$RS_BIN/jget" -l "$svf" lease type data.cgroup_id | grep 'denied' > "$W/svf.denials"
	check "[$RS_BACKEND] two: SVF: every denial record of A's lease is of A's cgroup" \
		rs_eq "$(grep "^$ida	" "$W/svf.denials" | cut -f 3 | sort -u | tr '\n' ' ')" "$cga "
	check "[$RS_BACKEND] two: SVF: every denial record of B's lease is of B's cgroup" \
		rs_eq "$(grep "^$idb	" "$W/svf.denials" | cut -f 3 | sort -u | tr '\n' ' ')" "$cgb "
	check "[$RS_BACKEND] two: SVF: B's 50 net_event.denied records are all there" \
		rs_eq "$(grep -c "^$idb	net_event.denied	" "$W/svf.denials")" 50
	rs_status
	check "[$RS_BACKEND] two: afterwards no slot is held" rs_eq "$(rs_st live_sandboxes) $("$RS_BIN/jget" "$RS_WORK/status.json" '#0.slots')" "0 0"
}

# rs_wait_lost PID: until the slot of runner PID has lost records (60 s)
rs_wait_lost() {
	local i=0 v
	while [ $i -lt 600 ]; do
		rs_status
		v=$(rs_slot_of "$1" counters.records_lost)
		[ "$v" != none ] && [ "$v" -gt 0 ] 2>/dev/null && return 0
		i=$((i + 1))
		sleep 0.1
	done
	WHY="after 60 s the slot of runner $1 has records_lost '$v'"
	return 1
}

# ================================================================== c'. ten at once
rs_case_ten() {
	local W=$RS_WORK/ten i pids="" bad=0 slots rc out
	mkdir -p "$W"
	i=1
	while [ $i -le 10 ]; do
		rs_dir "$W/$i"
		echo "ten-$i" > "$W/$i/data"
		rs_issue "$W/$i.l" --cmd "$RS_BIN/res_probe reopen $W/$i $W/$i/data" --path "$W/$i/**:rw" || return 0
		i=$((i + 1))
	done
	i=1
	while [ $i -le 10 ]; do
		rs_bg "$W/s$i" "$W/$i.l" "$RS_BIN/res_probe" reopen "$W/$i" "$W/$i/data"
		pids="$pids $RS_BG"
		i=$((i + 1))
	done
	i=1
	while [ $i -le 10 ]; do
		rs_wait_file "$W/$i/ready" 600 || bad=$((bad + 1))
		i=$((i + 1))
	done
	check "[$RS_BACKEND] ten: all ten sandboxes started" rs_eq "$bad" 0
	rs_status
	slots=$(for p in $pids; do rs_slot_of "$p" slot; done | sort -u | grep -c '^[0-9]')
	check "[$RS_BACKEND] ten: all ten live at once in the set, each in its own slot" \
		rs_eq "$(rs_st live_sandboxes) $slots" "10 10"
	i=1
	while [ $i -le 10 ]; do : > "$W/$i/go"; i=$((i + 1)); done
	i=1 bad=""
	for p in $pids; do
		rs_reap "$p" "$W/s$i"
		out=$(rs_stdout "$RS_RUNDIR")
		[ "$RS_RC $out" = "0 $W/$i/data: ok read: ten-$i" ] || bad="$bad [$i: rc $RS_RC '$out']"
		i=$((i + 1))
	done
	check "[$RS_BACKEND] ten: all ten exit 0 and read their file" rs_eq "$bad" ""
	rs_status
	check "[$RS_BACKEND] ten: afterwards every slot is free (no slot, none live)" \
		rs_eq "$(rs_st live_sandboxes) $("$RS_BIN/jget" "$RS_WORK/status.json" '#0.slots')" "0 0"
	check "[$RS_BACKEND] ten: ... no runner cgroup left in $RS_ROOTCG" rs_eq "$(rs_runner_dirs)" 0
	check "[$RS_BACKEND] ten: the set is still up and usable" rs_usable
}

# ================================================================== d. SIGKILL of a runner
rs_case_killrunner() {
	local W=$RS_WORK/kill M=calyx-bg-marker-resident rp id SB n i left moved
	mkdir -p "$W"
	rs_dir "$W/rw"
	# res_probe is a lease binary too: the process moved into the dead sandbox runs it.
	rs_issue "$W/k.l" --cmd "$RS_BIN/daemonize_and_sleep 60 $M" --helper "$RS_BIN/res_probe" --net deny_all || return 0
	id=$(rs_lease_id "$W/k.l")
	rs_bg "$W/k" "$W/k.l" "$RS_BIN/daemonize_and_sleep" 60 "$M"
	rp=$RS_BG
	SB=$RS_ROOTCG/$id-$rp/r1
	i=0
	while ! rs_daemon_settled "$SB" && [ $i -lt 600 ]; do
		kill -0 "$rp" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	check "[$RS_BACKEND] kill: the sandbox runs (its process and the daemon it forked, in $SB)" \
		rs_daemon_settled "$SB"
	rs_status
	check "[$RS_BACKEND] kill: status shows its slot, live" rs_eq "$(rs_slot_of "$rp" live)" true
	kill -9 "$rp"
	wait "$rp" 2>/dev/null
	left=""
	i=0
	while [ $i -lt 100 ]; do
		left=$(rs_procs_with "$M")
		[ -z "$left" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	check "[$RS_BACKEND] kill: no sandboxed process survives the runner's SIGKILL" rs_eq "$left" ""
	check "[$RS_BACKEND] kill: its sandbox cgroup is empty" rs_file_has "$SB/cgroup.events" "populated 0"
	# Until a sweep, the dead sandbox stays registered: anything put into its cgroup is
	# still confined (a root shell outside any Landlock domain: only the set decides).
	moved=$(sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" net-deny 1' _ "$SB" "$RS_BIN/res_probe" 2>&1)
	check "[$RS_BACKEND] kill: a process moved into the dead sandbox is still denied the network ($moved)" \
		rs_eq "$moved" "denied=1 other=0"
	rs_status
	n=$(rs_slot_of "$rp" live)
	check "[$RS_BACKEND] kill: status shows the dead runner's slot as not live (or already freed): '$n'" \
		rs_one_of "$n" false none
	check "[$RS_BACKEND] kill: ... and counts no live sandbox (what stop and a replacement go by)" \
		rs_eq "$(rs_st live_sandboxes)" 0
	rs_issue "$W/n.l" --cmd "$RS_BIN/res_probe net-deny 1" --net deny_all || return 0
	rs_run "$W/n" "$W/n.l" "$RS_BIN/res_probe" net-deny 1
	check "[$RS_BACKEND] kill: the next run works" rs_eq "$RS_RC $(rs_stdout "$RS_RUNDIR")" "0 denied=1 other=0"
	rs_status
	check "[$RS_BACKEND] kill: after it the dead runner's slot is gone" rs_eq "$(rs_slot_of "$rp" slot)" none
	check "[$RS_BACKEND] kill: ... no slot held at all" rs_eq "$("$RS_BIN/jget" "$RS_WORK/status.json" '#0.slots')" 0
	check "[$RS_BACKEND] kill: ... and its cgroups are gone" rs_absent "$RS_ROOTCG/$id-$rp"
}
# daemonize_and_sleep has settled in cgroup SB: exactly its process and the daemon, the
# middle child gone. On the way there SB holds 2 tasks twice: the process and the middle
# child (before the daemon exists), then the process and the daemon. The process (calyx
# makes it a session leader) and the middle child (setsid) lead their sessions; the daemon
# alone is in a session it does not lead.
rs_daemon_settled() {
	local procs p sid n=0 led=0
	procs=$(cat "$1/cgroup.procs" 2>/dev/null)
	for p in $procs; do
		n=$((n + 1))
		sid=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f4)
		[ "$sid" = "$p" ] && led=$((led + 1))
	done
	if [ "$n" -ne 2 ] || [ "$led" -ne 1 ]; then
		WHY="$n tasks in $1 ($led leading their session), want 2 (1)"
		return 1
	fi
	return 0
}
# Live (non-zombie) processes whose command line contains MARKER.
rs_procs_with() {
	local p st
	for p in $(ls /proc | grep '^[0-9][0-9]*$'); do
		p=/proc/$p
		[ -r "$p/cmdline" ] || continue
		tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF -- "$1" || continue
		st=$(awk '/^State:/ {print $2}' "$p/status" 2>/dev/null)
		{ [ "$st" = Z ] || [ -z "$st" ]; } && continue
		echo "${p#/proc/}"
	done
}

# ================================================================== e. another build's set
rs_case_upgrade() {
	local W=$RS_WORK/up rp out rc
	mkdir -p "$W"
	rs_dir "$W/bg"
	echo up-data > "$W/data"
	rs_issue "$W/l" --runs 4 --cmd "$RS_BIN/try_open $W/data r" --path "$W/**:ro" || return 0
	rs_run "$W.s0" "$W/l" "$RS_BIN/try_open" "$W/data" r
	check "[$RS_BACKEND] upgrade: a run brings the set up" rs_usable
	# Idle: a set stamped by another build is replaced by the next run.
	"$RS_BIN/bpf_objects" age-stamp "$RS_PINS/stamp" > "$W/age.out" 2>&1
	rc=$?
	check "[$RS_BACKEND] upgrade: bpf_objects age-stamp rewrote the stamp $(cat "$W/age.out")" rs_eq "$rc" 0
	rs_status
	check "[$RS_BACKEND] upgrade: status: up, loaded by 'older-build', not usable by this calyx, exit 69" \
		rs_eq "$(rs_st up) $(rs_st loaded_by) $(rs_st usable_by_this_calyx) $RS_STATUS_RC" "true older-build false 69"
	rs_run "$W.s1" "$W/l" "$RS_BIN/try_open" "$W/data" r
	check "[$RS_BACKEND] upgrade: the next run (idle set) exits 0 and read its file" \
		rs_eq "$RS_RC $(rs_stdout "$RS_RUNDIR")" "0 ok read: up-data"
	check "[$RS_BACKEND] upgrade: ... it replaced the set (resident.loaded_by_this_run true, loaded_by $RS_VERSION)" \
		rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run) $(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by)" \
		"true $RS_VERSION"
	check "[$RS_BACKEND] upgrade: status usable again, loaded by this calyx" rs_usable
	check "[$RS_BACKEND] upgrade: ... one set's links pinned" \
		rs_eq "$(ls "$RS_PINS" | grep -c '^link_')" "$(rs_st programs)"
	# Live: a sandbox of the old set keeps it; a new run is refused with 75 and told why.
	rs_issue "$W/bg.l" --cmd "$RS_BIN/res_probe reopen $W/bg $W/data" --path "$W/**:ro" --path "$W/bg/**:rw" || return 0
	rs_bg "$W.sbg" "$W/bg.l" "$RS_BIN/res_probe" reopen "$W/bg" "$W/data"
	rp=$RS_BG
	check "[$RS_BACKEND] upgrade: a long-running sandbox started" rs_wait_file "$W/bg/ready" 600
	"$RS_BIN/bpf_objects" age-stamp "$RS_PINS/stamp" > "$W/age.out" 2>&1
	rc=$?
	check "[$RS_BACKEND] upgrade: the stamp aged again while the sandbox lives $(cat "$W/age.out")" rs_eq "$rc" 0
	rs_run "$W.s2" "$W/l" "$RS_BIN/try_open" "$W/data" r
	out=$(cat "$RS_ERR")
	check "[$RS_BACKEND] upgrade: a run meanwhile exits 75 (the old set serves a live sandbox)" rs_eq "$RS_RC" 75
	check "[$RS_BACKEND] upgrade: ... its message names \`calyx enforcer stop --force\`" rs_contains "$out" "calyx enforcer stop --force"
	check "[$RS_BACKEND] upgrade: ... nothing ran, the lease was not used (no run directory, still 2 runs used)" \
		rs_eq "$RS_RUNDIR $(rs_runs_used "$W/l")" "$W.s2/no-run-dir 2"
	rs_status
	check "[$RS_BACKEND] upgrade: status: usable_by_this_calyx false, 1 live sandbox, exit 69" \
		rs_eq "$(rs_st usable_by_this_calyx) $(rs_st live_sandboxes) $RS_STATUS_RC" "false 1 69"
	: > "$W/bg/go"
	rs_reap "$rp" "$W.sbg"
	check "[$RS_BACKEND] upgrade: the old set's sandbox ran to its end undisturbed (exit 0, read its file)" \
		rs_eq "$RS_RC $(rs_stdout "$RS_RUNDIR")" "0 $W/data: ok read: up-data"
	rs_run "$W.s3" "$W/l" "$RS_BIN/try_open" "$W/data" r
	check "[$RS_BACKEND] upgrade: once it is idle the next run replaces the set (exit 0, loaded_by_this_run true)" \
		rs_eq "$RS_RC $(rs_meta "$RS_RUNDIR" enforcement.resident.loaded_by_this_run)" "0 true"
	check "[$RS_BACKEND] upgrade: status usable" rs_usable
}

# ================================================================== f. enforcer stop
rs_case_stop() {
	local W=$RS_WORK/stop rp id err rc base=$1
	mkdir -p "$W"
	rs_dir "$W/bg"
	echo stop-data > "$W/data"
	rs_issue "$W/bg.l" --cmd "$RS_BIN/res_probe reopen $W/bg $W/data" --path "$W/**:ro" --path "$W/bg/**:rw" || return 0
	id=$(rs_lease_id "$W/bg.l")
	rs_bg "$W.sbg" "$W/bg.l" "$RS_BIN/res_probe" reopen "$W/bg" "$W/data"
	rp=$RS_BG
	check "[$RS_BACKEND] stop: a long-running sandbox started" rs_wait_file "$W/bg/ready" 600
	"$CALYX" enforcer stop --enforce "$RS_BACKEND" > "$W/stop1.out" 2> "$W/stop1.err"
	rc=$?
	check "[$RS_BACKEND] stop: enforcer stop with a live sandbox exits 75" rs_eq "$rc" 75
	err=$(cat "$W/stop1.err")
	check "[$RS_BACKEND] stop: ... naming it ($id-$rp/r1, runner pid $rp)" rs_contains "$err" "$id-$rp/r1 (runner pid $rp)"
	check "[$RS_BACKEND] stop: ... the set is still up and the sandbox alive" \
		rs_eq "$(rs_usable && echo up) $(kill -0 "$rp" 2>/dev/null && echo alive)" "up alive"
	"$CALYX" enforcer stop --enforce "$RS_BACKEND" --force > "$W/stop2.out" 2> "$W/stop2.err"
	rc=$?
	check "[$RS_BACKEND] stop: enforcer stop --force exits 0 ($(cat "$W/stop2.out" "$W/stop2.err" | tr '\n' ' '))" rs_eq "$rc" 0
	rs_reap "$rp" "$W.sbg"
	check "[$RS_BACKEND] stop: ... the sandbox was killed (calyx run exit 137, meta signal 9)" \
		rs_eq "$RS_RC $(rs_meta "$RS_RUNDIR" signal)" "137 9"
	check "[$RS_BACKEND] stop: ... it never got past its wait" rs_lacks "$(rs_stdout "$RS_RUNDIR")" "ok read"
	check "[$RS_BACKEND] stop: nothing pinned in $RS_PINS, no cgroup $RS_ROOTCG" rs_nothing_left
	check "[$RS_BACKEND] stop: status: not up (exit 69)" rs_not_up
	check "[$RS_BACKEND] stop: the host's BPF programs and links are back to before the set ($base)" rs_count_is "$base"
}
