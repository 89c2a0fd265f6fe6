# Helpers for the VM tests (sourced by run.sh and by every t_*.sh / e_*.sh).
# A test reports each check with pass/fail; the runner counts them. Every helper that runs
# calyx keeps its stdout/stderr in files next to the state dir for the failure dump.

CALYX=${CALYX:-/usr/bin/calyx}
KEYS=/tmp/calyx-keys
KEY=$KEYS/calyx.key
PUB=$KEYS/calyx.pub
MATRIX=/tests/vm/matrix.yaml
WORK=/tmp/calyx-test           # every test's scratch dir; the matrix's lease_paths bound
CG=/sys/fs/cgroup
PINS=/sys/fs/bpf/calyx         # the resident program sets: PINS/<backend>/{link_*,map_*,stamp}
VM_RESULTS=${VM_RESULTS:-/tmp/vm-results.txt}
VM_RESULTS_TTY=${VM_RESULTS_TTY:-/dev/null}
TNAME=${TNAME:-test}

# --- reporting -------------------------------------------------------------------------
_report() {
	echo "$1" >> "$VM_RESULTS"
	echo "$1" > "$VM_RESULTS_TTY"
	echo "$1"
}
pass() { _report "ok - $TNAME: $*"; }
fail() { _report "not ok - $TNAME: $*"; }
diag() { _report "# $TNAME: $*"; }

# check DESC CMD...: pass if CMD succeeds, else fail with $WHY (set by the helpers below).
check() {
	local desc=$1
	shift
	WHY=
	if "$@"; then pass "$desc"; else fail "$desc${WHY:+: $WHY}"; fi
}

# --- predicates (set WHY when false) -----------------------------------------------------
eq() { [ "$1" = "$2" ] && return 0; WHY="got '$1', want '$2'"; return 1; }
ne() { [ "$1" != "$2" ] && return 0; WHY="got '$1', want anything else"; return 1; }
# has FILE STRING: fixed-string search
has() {
	[ -f "$1" ] || { WHY="$1 does not exist"; return 1; }
	grep -qF -- "$2" "$1" && return 0
	WHY="'$2' not in $1: $(head -c 300 "$1" | tr '\n' '|')"
	return 1
}
lacks() {
	[ -f "$1" ] || return 0
	grep -qF -- "$2" "$1" || return 0
	WHY="'$2' found in $1: $(grep -F -- "$2" "$1" | head -n 2 | tr '\n' '|')"
	return 1
}
# denied FILE: the test program printed a permission error (EACCES or EPERM)
denied() {
	[ -f "$1" ] || { WHY="$1 does not exist"; return 1; }
	grep -qE 'errno=(EACCES|EPERM)' "$1" && return 0
	WHY="no errno=EACCES/EPERM in $1: $(head -c 300 "$1" | tr '\n' '|')"
	return 1
}
exists() { [ -e "$1" ] && return 0; WHY="$1 does not exist"; return 1; }
absent() { [ -e "$1" ] || return 0; WHY="$1 exists"; return 1; }
ge() { [ "$1" -ge "$2" ] 2>/dev/null && return 0; WHY="got '$1', want >= $2"; return 1; }

# --- leases and runs ---------------------------------------------------------------------
# issue OUT [lease issue args...]: INTENT and TTL from the environment.
issue() {
	local out=$1
	shift
	if ! $CALYX lease issue --key "$KEY" --aud "$(uname -n)" --intent "${INTENT:-INT-TEST-SANDBOX}" \
		--ttl "${TTL:-5m}" -o "$out" "$@" > "$out.issue.log" 2>&1; then
		fail "lease issue $*: $(tr '\n' ' ' < "$out.issue.log")"
		return 1
	fi
	return 0
}

# crun STATE LEASE CMD...: `calyx run` in the foreground. Sets RC (calyx's exit code),
# OUT/ERR (calyx's own stdout/stderr files) and RUN (the run's artifact directory, or a
# non-existent path when there is none). STATE should be fresh for each run unless the
# test wants the ledger (replay).
crun() {
	local state=$1 lease=$2
	shift 2
	mkdir -p "$(dirname "$state")" /tmp/crun
	# calyx's own output goes next to nothing it tests (the state dir may be read-only).
	OUT=/tmp/crun/$(echo "$state" | tr / _).out ERR=/tmp/crun/$(echo "$state" | tr / _).err
	$CALYX run --lease "$lease" --matrix "$MATRIX" --pub "$PUB" --state "$state" \
		${CALYX_RUN_ARGS:-} -- "$@" > "$OUT" 2> "$ERR"
	RC=$?
	RUN=$(ls -d "$state"/outgoing/staging_runs/LEASE-* 2>/dev/null | tail -n 1)
	[ -n "$RUN" ] || RUN=$state/no-run-dir
	echo "crun: calyx run -- $* => rc $RC, run dir $RUN"
	echo "  calyx stderr: $(head -c 600 "$ERR" | tr '\n' '|')"
	[ -f "$RUN/stdout.log" ] && echo "  stdout.log: $(head -c 600 "$RUN/stdout.log" | tr '\n' '|')"
	[ -f "$RUN/stderr.log" ] && echo "  stderr.log: $(head -c 600 "$RUN/stderr.log" | tr '\n' '|')"
	return 0
}

# meta FIELD: a field of the last run's meta.json ("" if missing).
meta() { jget "$RUN/meta.json" "$1" 2>/dev/null; }
svf_log() { echo "$1/logs/svf_audit/svf.jsonl"; }
# svf_count STATE TYPE: records of that type in the state's SVF log.
svf_count() {
	local f
	f=$(svf_log "$1")
	[ -f "$f" ] || { echo 0; return; }
	jget -l "$f" type | grep -cxF "$2"
}
# has_event STATE TYPE [STRING]: at least one record of TYPE (whose line contains STRING).
has_event() {
	local f n
	f=$(svf_log "$1")
	[ -f "$f" ] || { WHY="no SVF log $f"; return 1; }
	n=$(jget -l "$f" type | grep -cxF "$2")
	if [ "$n" -eq 0 ]; then
		WHY="no $2 record in $f (types: $(jget -l "$f" type | sort | uniq -c | tr '\n' ' '))"
		return 1
	fi
	[ -z "${3:-}" ] && return 0
	grep -F "\"$2\"" "$f" | grep -qF -- "$3" && return 0
	WHY="no $2 record mentioning '$3': $(grep -F "\"$2\"" "$f" | head -n 2 | head -c 500)"
	return 1
}
# has_event_re STATE TYPE ERE: at least one record of TYPE whose line matches the extended
# regular expression ERE.
has_event_re() {
	local f
	f=$(svf_log "$1")
	[ -f "$f" ] || { WHY="no SVF log $f"; return 1; }
	grep -F "\"$2\"" "$f" | grep -qE -- "$3" && return 0
	WHY="no $2 record matching '$3': $(grep -F "\"$2\"" "$f" | head -n 2 | head -c 500)"
	return 1
}
# run_event TYPE [STRING]: the run's own events.jsonl ("type" "deny" or "kill": one line per
# denial record; "process": one line per process) has a TYPE line (which contains STRING).
run_event() {
	local f=$RUN/events.jsonl
	[ -f "$f" ] || { WHY="no $f"; return 1; }
	grep -q "\"type\":\"$1\"" "$f" || { WHY="no type '$1' in $f: $(head -c 400 "$f")"; return 1; }
	[ -z "${2:-}" ] && return 0
	grep "\"type\":\"$1\"" "$f" | grep -qF -- "$2" && return 0
	WHY="no '$1' record mentioning '$2' in $f: $(grep "\"type\":\"$1\"" "$f" | head -n 2 | head -c 400)"
	return 1
}

# --- leftovers ---------------------------------------------------------------------------
# Runner directories still present in a resident set's root cgroup (calyx/<backend>/), or
# directly under calyx/ (the old layout).
sandbox_cgroups() {
	[ -d "$CG/calyx" ] || return 0
	find "$CG/calyx" -mindepth 1 -maxdepth 2 -type d ! -path "$CG/calyx/bpf-lsm" ! -path "$CG/calyx/landlock"
}
# Slots held in the resident sets (a live sandbox, or a dead runner's not yet swept).
held_slots() {
	local m
	for m in "$PINS"/*/map_slots; do
		[ -e "$m" ] || continue
		bpftool map dump pinned "$m" 2>/dev/null | grep -c '^key'
	done | awk '{ n += $1 } END { print n + 0 }'
}
# Programs the resident sets keep attached: one pinned link each.
set_programs() {
	ls "$PINS"/*/ 2>/dev/null | grep -c '^link_'
}
no_sandbox_left() {
	local left
	left=$(sandbox_cgroups | tr '\n' ' ')
	[ -z "$left" ] || { WHY="sandbox cgroups left behind: $left"; return 1; }
	left=$(held_slots)
	[ "$left" -eq 0 ] || { WHY="$left slots still held in the resident sets"; return 1; }
	# Old-layout pin directories (a program set per run) must not appear at all.
	left=$(ls "$PINS" 2>/dev/null | grep -vx -e bpf-lsm -e landlock | tr '\n' ' ')
	[ -z "$left" ] || { WHY="pin directories other than the resident sets in $PINS: $left"; return 1; }
	# No calyx process around means no BPF program may be loaded but the resident sets'
	# (a stopped set's programs are released asynchronously: wait up to 5 s for that).
	local progs sets i=0
	while :; do
		progs=$(bpftool prog show 2>/dev/null | grep -c '^[0-9]*:')
		sets=$(set_programs)
		[ "$progs" -eq "$sets" ] || [ $i -ge 50 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	[ "$progs" -eq "$sets" ] || { WHY="$progs BPF programs loaded, the resident sets hold $sets: $(bpftool prog show | grep '^[0-9]*:' | head -n 3 | tr '\n' ' ')"; return 1; }
	return 0
}
# Live (non-zombie) processes whose command line contains MARKER.
procs_with() {
	local p st
	for p in /proc/[0-9]*; do
		[ -r "$p/cmdline" ] || continue
		tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -qF -- "$1" || continue
		st=$(awk '/^State:/ {print $2}' "$p/status" 2>/dev/null)
		[ "$st" = Z ] || [ -z "$st" ] && continue
		echo "${p#/proc/}"
	done
}
# Between tests: kill every sandbox still alive and every calyx process, remove the
# sandbox cgroups, then let each resident set that is up free the slots of the dead
# runners (`calyx enforcer start` on an up set sweeps, like a run does; it loads nothing).
kill_leftovers() {
	local k p d b i=0
	for k in $(find "$CG/calyx" -name cgroup.kill 2>/dev/null); do echo 1 > "$k" 2>/dev/null; done
	for p in $(procs_with /usr/bin/calyx) $(procs_with calyx-bg-marker); do
		kill -9 "$p" 2>/dev/null
	done
	while [ $i -lt 30 ]; do
		sleep 0.1
		for d in $(sandbox_cgroups | sort -r); do
			for k in $(find "$d" -mindepth 1 -depth -type d); do rmdir "$k" 2>/dev/null; done
			rmdir "$d" 2>/dev/null
		done
		[ -z "$(sandbox_cgroups)" ] && break
		i=$((i + 1))
	done
	for b in bpf-lsm landlock; do
		[ -e "$PINS/$b/stamp" ] && $CALYX enforcer start --enforce "$b" >/dev/null 2>&1
	done
	return 0
}

# --- sandboxed scripts -------------------------------------------------------------------
# Many checks share one sandbox run: a busybox sh script runs them and prints, per check,
# its whole output as "NAME| LINE" lines, then "NAME: rc=N LAST-OUTPUT-LINE". Allowing /bin/sh (busybox) in such a lease only
# matters for exec tests, which therefore launch the real test binaries through try_exec.
SB_PRELUDE='t() { n=$1; shift; r=$("$@" 2>&1); rc=$?; echo "$r" | sed "s/^/$n| /"; echo "$n: rc=$rc $(echo "$r" | tail -n 1)"; }'

# sb_script FILE: write stdin, prefixed by the prelude, to FILE.
sb_script() {
	mkdir -p "$(dirname "$1")"
	{ echo "$SB_PRELUDE"; cat; } > "$1"
}
# script_run NAME SCRIPT [lease issue args...]: a lease for `/bin/sh SCRIPT` (plus the
# given args), run in a fresh state dir $WORK/NAME.state. /bin/sh is also a helper: the
# prelude runs busybox applets (sed, tail), which are /bin/sh's file with other argvs.
# Every other program such a script runs with arguments must be a --helper (or a --cmd
# with exactly that argv): the enforcer kills any other exec (docs/lease-format.md "Argv
# binding").
script_run() {
	local name=$1 script=$2
	shift 2
	issue "$WORK/$name.lease" --cmd "/bin/sh $script" --helper /bin/sh "$@" || { RC=-1; RUN=/nonexistent; return 1; }
	crun "$WORK/$name.state" "$WORK/$name.lease" /bin/sh "$script"
}
# line NAME: that check's line from the last run's stdout.log (without the "NAME: ").
line() { grep "^$1: " "$RUN/stdout.log" 2>/dev/null | head -n 1 | cut -d' ' -f2-; }
# is_denied NAME: the check saw EACCES or EPERM.
is_denied() {
	local l
	l=$(line "$1")
	case $l in
	*errno=EACCES*|*errno=EPERM*) return 0 ;;
	esac
	WHY="want errno=EACCES/EPERM, got '${l:-<no line $1 in stdout.log>}'"
	return 1
}
# errno_is NAME ERRNO...: the check failed with one of these errnos (e.g. EACCES ENOKEY):
# any other outcome, ENOENT included unless listed, means the attack was not really tried.
errno_is() {
	local l e
	l=$(line "$1")
	shift
	for e in "$@"; do
		case $l in *"errno=$e "*|*"errno=$e") return 0 ;; esac
	done
	WHY="want errno=$(echo "$@" | tr ' ' /), got '${l:-<no line in stdout.log>}'"
	return 1
}
# unreachable NAME: denied, or the target does not even exist from inside (ESRCH: the
# sandbox has its own PID namespace, so outside pids cannot be named).
unreachable() {
	local l
	l=$(line "$1")
	case $l in
	*errno=EACCES*|*errno=EPERM*|*errno=ESRCH*) return 0 ;;
	esac
	WHY="want errno=EACCES/EPERM/ESRCH, got '${l:-<no line $1 in stdout.log>}'"
	return 1
}
# is_ok NAME [STRING]: the check succeeded (rc=0) and printed STRING (default "ok").
is_ok() {
	local l
	l=$(line "$1")
	case $l in
	"rc=0 "*"${2:-ok}"*) return 0 ;;
	esac
	WHY="want rc=0 and '${2:-ok}', got '${l:-<no line $1 in stdout.log>}'"
	return 1
}
# not_ran NAME: an exec was refused one way or another (errno, or killed before it ran),
# and the payload's marker never printed.
not_ran() {
	local l
	l=$(line "$1")
	case $l in
	"") WHY="no line $1 in stdout.log"; return 1 ;;
	*HELLO-RAN*) WHY="the payload ran: '$l'"; return 1 ;;
	*errno=EACCES*|*errno=EPERM*|"rc=137"*) return 0 ;;
	esac
	WHY="want EACCES/EPERM or SIGKILL, got '$l'"
	return 1
}
# The run itself: calyx exit code, enforcement backend.
run_ok() {
	[ "$RC" = 0 ] || { WHY="calyx run exited $RC: $(head -c 300 "$ERR" 2>/dev/null | tr '\n' ' ')"; return 1; }
	return 0
}

# Background sandboxes. bg_run NAME LEASE CMD...: start `calyx run` in the background
# (state $WORK/NAME.state, pid in BG_PID); wait_sandbox_procs N [BG_PID]: wait (up to
# 60 s, or until BG_PID is gone) until at least N processes live in sandbox cgroups.
bg_run() {
	local name=$1 lease=$2
	shift 2
	( crun "$WORK/$name.state" "$lease" "$@"; echo "$RC" > "$WORK/$name.rc" ) > "$WORK/$name.bg.log" 2>&1 &
	BG_PID=$!
}
sandboxed_pids() {
	[ -d "$CG/calyx" ] || return 0
	find "$CG/calyx" -name cgroup.procs -mindepth 2 -exec cat {} + 2>/dev/null
}
wait_sandbox_procs() {
	local i=0
	while [ "$(sandboxed_pids | grep -c .)" -lt "$1" ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && { WHY="fewer than $1 sandboxed processes after 60s"; return 1; }
		# A background calyx that already gave up will never get there.
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			WHY="calyx run ended first: $(tail -n 3 "$WORK"/*.bg.log 2>/dev/null | tr '\n' ' ' | head -c 400)"
			return 1
		fi
		sleep 0.1
	done
	return 0
}
# wait_file_has FILE STRING [TENTHS]: until FILE holds STRING (default 5 s).
wait_file_has() {
	local i=0
	until grep -qF -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt "${3:-50}" ] && { WHY="'$2' not in $1 after $((${3:-50} / 10))s: $(head -c 200 "$1" 2>/dev/null)"; return 1; }
		sleep 0.1
	done
	return 0
}
# wait_file FILE [TENTHS]: until FILE exists (default 60 s).
wait_file() {
	local i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt "${2:-600}" ] && { WHY="$1 did not appear"; return 1; }
		sleep 0.1
	done
	return 0
}

# --- the resident-set cases (tests/lib/resident.sh, shared with the host tier) ----------
# resident_setup BACKEND: this guest's settings for the shared cases, then load them. The
# landlock backend runs under a copy of the matrix that does not demand bpf-lsm and runs
# as uid 65534 (calyx refuses a root sandbox on landlock).
resident_setup() {
	RS_BACKEND=$1
	RS_KEY=$KEY
	RS_CG2=$CG
	RS_BIN=/usr/local/bin
	RS_UID=0
	RS_WORK=$WORK/resident-$1
	if [ "$1" = landlock ]; then
		RS_UID=65534
		sed -e 's/^enforcement: .*/enforcement: auto/' -e 's/^run_as: .*/run_as: {uid: 65534, gid: 65534}/' \
			"$MATRIX" > "$WORK/resident-matrix.yaml"
		RS_RUN_ARGS="--matrix $WORK/resident-matrix.yaml --pub $PUB --enforce landlock"
	else
		RS_RUN_ARGS="--matrix $MATRIX --pub $PUB"
	fi
	. /tests/lib/resident.sh
	rs_init
}
