#!/usr/bin/env bash
# Host tier, real kernel, landlock backend: the counters of the process lines in
# events.jsonl against the kernel's own accounting of the same processes (wait4's rusage)
# and what they did, and meta.json's resources against the lines (tests/lib/counters.sh).
# The measured child writes its bytes to a file of a lease :rw directory on this host's
# disk (so write_bytes, too, is known).
# Usage: tests/host/counters.sh [path/to/calyx]   (as root; run by tests/host/run.sh)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
. tests/lib/counters.sh
[ "$(id -u)" = 0 ] || { bad "counters.sh: must run as root"; finish; }
suite_scratch counters
trap 'rm -rf "$T" "$T.state"' EXIT
mkdir -p "$T/bin" "$T/k" "$T/rw"
chmod 777 "$T/rw"
for p in counters_tree jget; do
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$T/bin/$p" "tests/vm/progs/$p.c" -lcjson -lm ||
		{ bad "build $p"; finish; }
done
JGET=$T/bin/jget
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || { bad "keygen"; finish; }
CT_PAGES=2048 CT_BYTES=$((64 * 4096))
args=("$T/bin/counters_tree" "$CT_PAGES" "$CT_BYTES" "$T/rw/data" 300)
"$CALYX" lease issue -k "$T/k/calyx.key" --aud "$(uname -n)" -i INT-TEST-COUNTERS --ttl 5m \
	--cmd "${args[*]}" --path "$T/rw/**:rw" -o "$T/l" 2>"$T/issue.err" || { bad "lease issue: $(cat "$T/issue.err")"; finish; }
"$CALYX" run --lease "$T/l" --pub "$T/k/calyx.pub" --state "$T.state" -- "${args[@]}" >"$T/out" 2>"$T/err"
rc=$?
check "calyx run exits 0 (rc $rc: $(head -c 300 "$T/err"))" [ "$rc" = 0 ]
CT_OUT=$T/out
CT_RUN=$(find "$T.state/outgoing/staging_runs" -mindepth 1 -maxdepth 1 -type d | head -n1)
check "it ran on the landlock backend" [ "$("$JGET" "$CT_RUN/meta.json" enforcement.backend)" = landlock ]
check "the data file is on a disk file system ($(stat -f -c %T "$T/rw")), not tmpfs" \
	[ "$(stat -f -c %T "$T/rw")" != tmpfs ]
CT_DISK=1
ct_checks
finish
