#!/bin/sh
# Guest side of `make bench` (tests/bench/run.sh boots the VM with it as --shell-cmd). Runs
# every VM row in this one boot, under QEMU TCG -smp 1 -icount shift=0,sleep=off, so that
# CLOCK_MONOTONIC counts instructions. Prints machine-readable lines on stdout, which the
# host driver turns into the table:
#   I KEY VALUE...                 facts about the guest (kernel, LSMs, Landlock ABI, ...)
#   T TAG I NS RC                  one timed process (calyx_bench time), TAG e.g. bpf-lsm.warm
#   R COLUMN OP NS STATUS LOOPS    one per-operation figure (calyx_bench ops)
#   S COLUMN ...                   how a column's environment was set up
#   N text                         a note for the output (reduced repeats, ...)
#   E text                         something went wrong: the driver fails
# Settings (environment, from run.sh): BENCH_SRC (dir of calyx_bench, true, matrix.yaml in
# the guest), BENCH_WARM (warm calyx runs per backend), BENCH_WARM_BPF (the same for the
# bpf-lsm backend), BENCH_BARE (bare runs), BENCH_LOOPS ("open stat fork connect" loop
# counts), BENCH_COLUMNS (which per-op columns, default "a b c d e f g a2").
. /tests/vm/lib.sh

: "${BENCH_SRC:?}"
: "${BENCH_WARM:=5}" "${BENCH_WARM_BPF:=$BENCH_WARM}" "${BENCH_BARE:=21}"
: "${BENCH_LOOPS:=40000 40000 1000 20000}"
: "${BENCH_COLUMNS:=a b c d e f g a2}"
set -- $BENCH_LOOPS
LOOPS="--loops-open $1 --loops-stat $2 --loops-fork $3 --loops-connect $4"

D=/tmp/calyx-bench                 # root-owned 0755 in sticky /tmp: fine for lease binaries
BENCH=$D/calyx_bench
TRUE=$D/true
DATA=$D/data
PORT=9                             # nothing listens on it in the guest: connect is refused
MATRIX=$D/matrix.yaml
STATE=/tmp/calyx-bench-state       # calyx's state dirs (outside the lease's paths)
LOGS=/tmp/calyx-bench-logs
OPS_ARGS="--file $DATA --stat $DATA --true $TRUE --port $PORT $LOOPS"

err() { echo "E $*"; }
note() { echo "N $*"; }

rm -rf "$D" "$STATE" "$LOGS"
mkdir -p "$D" "$STATE" "$LOGS"
chmod 0755 "$D"
cp "$BENCH_SRC/calyx_bench" "$BENCH_SRC/true" "$BENCH_SRC/matrix.yaml" "$D/" || { err "copying the bench files failed"; exit 1; }
chmod 0755 "$BENCH" "$TRUE"
chmod 0644 "$MATRIX"
echo "calyx bench data" > "$DATA"
chmod 0644 "$DATA"

echo "I kernel $(uname -r)"
echo "I lsm $(cat /sys/kernel/security/lsm)"
echo "I landlock_abi $(/usr/local/bin/landlock_abi 2>/dev/null || echo '?')"
echo "I calyx $($CALYX --version 2>&1 | head -n 1)"
echo "I cpus $(grep -c ^processor /proc/cpuinfo)"
ENFORCER=0
if $CALYX enforcer --help > /dev/null 2>&1; then
	ENFORCER=1
	echo "I enforcer present (calyx enforcer): first = after 'calyx enforcer stop --force'"
else
	echo "I enforcer absent (no 'calyx enforcer' command): every run loads its own program set"
fi

mkdir -p "$KEYS"
$CALYX keygen --out "$KEYS" > "$LOGS/keygen.log" 2>&1 || { err "calyx keygen: $(cat "$LOGS/keygen.log")"; exit 1; }

# issue OUT ARGS...: a lease for the benchmark.
issue_lease() {
	local out=$1
	shift
	$CALYX lease issue --key "$KEY" --aud "$(uname -n)" --intent INT-BENCH --ttl 2h -o "$out" "$@" \
		> "$out.log" 2>&1 || { err "lease issue $*: $(tr '\n' ' ' < "$out.log")"; return 1; }
}
# No resident program set (and nothing else of calyx's) loaded: the "no calyx" state.
enforcer_stop() {
	[ "$ENFORCER" = 1 ] || return 0
	$CALYX enforcer stop --force > "$LOGS/enforcer-stop.log" 2>&1 ||
		note "calyx enforcer stop --force: $(tr '\n' ' ' < "$LOGS/enforcer-stop.log")"
}
# A finished run's programs can take a moment to be freed (6.12 frees its tp_btf programs
# asynchronously, a few guest-ms after calyx exits): wait up to 5 guest-s before calling
# anything a leftover (and clearing it).
no_calyx_left() {
	enforcer_stop
	local i=0
	while ! no_sandbox_left; do
		i=$((i + 1))
		if [ $i -ge 50 ]; then
			note "${1:-before a 'no calyx' step}: $WHY (cleared)"
			kill_leftovers
			break
		fi
		sleep 0.1
	done
}

N=0
# crun_timed TAG BACKEND: one `calyx run` of the static true with a fresh single-run lease,
# timed from fork to wait (the lease is issued outside the timing).
crun_timed() {
	local tag=$1 backend=$2
	N=$((N + 1))
	issue_lease "$LOGS/t$N.lease" --cmd "$TRUE" || return 1
	$BENCH time --out "$LOGS/t$N.time" -- $CALYX run --lease "$LOGS/t$N.lease" --matrix "$MATRIX" \
		--pub "$PUB" --state "$STATE/$backend" --enforce "$backend" -- "$TRUE" \
		> "$LOGS/t$N.out" 2> "$LOGS/t$N.err"
	local line
	line=$(cat "$LOGS/t$N.time")
	set -- $line
	echo "T $tag $N $3 $4"
	[ "$4" = 0 ] || err "calyx run --enforce $backend -- $TRUE exited $4: $(head -c 400 "$LOGS/t$N.err" | tr '\n' ' ')"
}

# --- 1. calyx run of the static true, first and warm, against the bare binary ----------
no_calyx_left
"$TRUE"   # once untimed: the first exec of a file pays for mapping it in
$BENCH time --repeat "$BENCH_BARE" --out "$LOGS/bare.time" -- "$TRUE"
sed 's/^T /T bare /' "$LOGS/bare.time"
[ "$BENCH_WARM_BPF" = "$BENCH_WARM" ] ||
	note "bpf-lsm: $BENCH_WARM_BPF warm runs instead of $BENCH_WARM (BENCH_WARM_BPF: each costs seconds of guest time)"
for backend in bpf-lsm landlock; do
	warm=$BENCH_WARM
	[ "$backend" = bpf-lsm ] && warm=$BENCH_WARM_BPF
	no_calyx_left
	crun_timed "$backend.first" "$backend"
	if [ "$ENFORCER" = 1 ]; then
		# Warm = the runs after the first. Should the first run not have left a resident
		# set behind (status fails), start one explicitly, timed, before the warm runs.
		if st=$($CALYX enforcer status 2>&1); then
			note "$backend: after the first run, calyx enforcer status: $(echo "$st" | head -n 2 | tr '\n' ' ')"
		else
			$BENCH time --out "$LOGS/start-$backend.time" -- $CALYX enforcer start \
				> "$LOGS/start-$backend.out" 2>&1
			set -- $(cat "$LOGS/start-$backend.time")
			note "$backend: no resident set after the first run ($(echo "$st" | head -n 1)); 'calyx enforcer start' took $(($3 / 1000000)) guest-ms, exit $4: $(head -c 200 "$LOGS/start-$backend.out" | tr '\n' ' ')"
		fi
	fi
	i=0
	while [ $i -lt "$warm" ]; do
		crun_timed "$backend.warm" "$backend"
		i=$((i + 1))
	done
done
no_calyx_left

# --- 2. per-operation cost --------------------------------------------------------------
ops_plain() { $BENCH ops --label "$1" $OPS_ARGS 2> "$LOGS/ops-$1.err" || err "ops $1 exited $?: $(head -c 300 "$LOGS/ops-$1.err")"; }

# bg_sleep BACKEND: a `calyx run` of a long sleep in the background (pid in BG).
bg_sleep() {
	issue_lease "$LOGS/bg-$1.lease" --cmd "/bin/sleep 3600" --limit wall=1h,cpu=1h || return 1
	$CALYX run --lease "$LOGS/bg-$1.lease" --matrix "$MATRIX" --pub "$PUB" --state "$STATE/bg-$1" \
		--enforce "$1" -- /bin/sleep 3600 > "$LOGS/bg-$1.out" 2> "$LOGS/bg-$1.err" &
	BG=$!
	if ! wait_sandbox_procs 1 "$BG"; then
		err "background calyx run --enforce $1: $WHY"
		return 1
	fi
	return 0
}
bg_stop() {
	kill -TERM "$BG" 2> /dev/null
	wait "$BG" 2> /dev/null
	no_calyx_left "after the background $1 run"
}
# inside COLUMN BACKEND: the microbench as the sandboxed command.
inside() {
	local col=$1 backend=$2
	local argv="$BENCH ops --label $col $OPS_ARGS"
	issue_lease "$LOGS/in-$col.lease" --cmd "$argv" --helper "$TRUE" --path "$D/**:ro" \
		--limit wall=1h,cpu=1h || return 1
	$CALYX run --lease "$LOGS/in-$col.lease" --matrix "$MATRIX" --pub "$PUB" --state "$STATE/in-$col" \
		--enforce "$backend" -- $argv > "$LOGS/in-$col.out" 2> "$LOGS/in-$col.err"
	local rc=$?
	local run
	run=$(ls -d "$STATE/in-$col"/outgoing/staging_runs/LEASE-* 2> /dev/null | tail -n 1)
	cat "$run/stdout.log" 2> /dev/null
	[ "$rc" = 0 ] || err "calyx run --enforce $backend of the microbench exited $rc: $(head -c 300 "$LOGS/in-$col.err" | tr '\n' ' ') $(head -c 300 "$run/stderr.log" 2> /dev/null | tr '\n' ' ')"
	echo "I denials_$col $(jget "$run/meta.json" denials.net 2> /dev/null) net, $(jget "$run/meta.json" denials.file 2> /dev/null) file, dropped_events $(jget "$run/meta.json" dropped_events 2> /dev/null)"
}

for col in $BENCH_COLUMNS; do
	case $col in
	a|a2)
		no_calyx_left
		ops_plain "$col" ;;
	b)
		no_calyx_left
		bg_sleep bpf-lsm && ops_plain b
		bg_stop bpf-lsm ;;
	c)
		no_calyx_left
		bg_sleep landlock && ops_plain c
		bg_stop landlock ;;
	d)
		no_calyx_left
		inside d bpf-lsm ;;
	e)
		no_calyx_left
		inside e landlock ;;
	f)
		no_calyx_left
		$BENCH ops --label f --setup env --uid 65534 --gid 65534 $OPS_ARGS 2> "$LOGS/ops-f.err" ||
			err "ops f exited $?: $(head -c 300 "$LOGS/ops-f.err")" ;;
	g)
		no_calyx_left
		$BENCH ops --label g --setup landlock --ll-read /usr --ll-read /lib --ll-read /lib64 \
			--ll-read /etc --ll-exec "$D" $OPS_ARGS 2> "$LOGS/ops-g.err" ||
			err "ops g exited $?: $(head -c 300 "$LOGS/ops-g.err")" ;;
	*) err "unknown column $col" ;;
	esac
done
echo "I guest_uptime $(cut -d' ' -f1 /proc/uptime)"
exit 0
