#!/usr/bin/env bash
# The long fuzzing campaign (docs/fuzzing.md "The campaign"): each named target, one after
# the other, for RUNS executions (default 10,000,000) from its seeds (tests/fuzz/seeds/NAME)
# and its generated corpus (build/fuzz/corpus-NAME, kept between campaigns), at nice 19,
# its log in build/fuzz/long-NAME.log. A finding stops that target (libFuzzer writes the
# input as build/fuzz/crash-*); the next one still runs, and the exit status is 1.
# -t SECONDS bounds each target's time as well (libFuzzer's -max_total_time): the log's
# final stat::number_of_executed_units says how far it got.
#   scripts/fuzz-long.sh [-r RUNS] [-t SECONDS] NAME...   e.g. scripts/fuzz-long.sh claims argv
set -uo pipefail
RUNS=10000000
TIME=0
while [ $# -gt 0 ]; do
	case $1 in
	-r) RUNS=$2; shift 2 ;;
	-t) TIME=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: scripts/fuzz-long.sh [-r RUNS] [-t SECONDS] NAME..." >&2; exit 2; }
B=${BUILD:-build}/fuzz
status=0
for n in "$@"; do
	bin=$B/fuzz_$n
	[ -x "$bin" ] || { echo "fuzz-long: $bin missing: make fuzz-build first" >&2; status=1; continue; }
	mkdir -p "$B/corpus-$n"
	log=$B/long-$n.log
	start=$(date -u +%FT%TZ)
	echo "== $n: $RUNS runs from $start" | tee "$log"
	if nice -n 19 "$bin" -runs="$RUNS" -max_total_time="$TIME" -max_len="${MAX_LEN:-65536}" -print_final_stats=1 \
		-artifact_prefix="$B/" "$B/corpus-$n" "tests/fuzz/seeds/$n" >>"$log" 2>&1; then
		echo "== $n: done $(date -u +%FT%TZ)" | tee -a "$log"
	else
		rc=$?
		# 72: libFuzzer's exit on SIGINT (a run stopped by hand), after its final stats
		if [ $rc = 72 ]; then
			echo "== $n: interrupted $(date -u +%FT%TZ)" | tee -a "$log"
		else
			echo "== $n: FINDING or failure (exit $rc), see $log" | tee -a "$log"
		fi
		status=1
	fi
done
exit $status
