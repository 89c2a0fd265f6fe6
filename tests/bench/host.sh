#!/usr/bin/env bash
# Host rows of `make bench` (tests/bench/run.sh runs this under flock /tmp/calyx-tier.lock):
# this machine's real kernel, no BPF LSM, so calyx runs on the landlock backend. Timings
# here are noisy (other engineers share the machine): the report shows ratios.
#
# Usage: tests/bench/host.sh CALYX_BIN OUT_DIR
# Writes OUT_DIR/host.txt, machine-readable lines for tests/bench/report.py:
#   H NAME MEDIAN_S MEAN_S STDDEV_S MIN_S MAX_S RUNS   one hyperfine result (seconds)
#   M NAME KB KB...                                    peak RSS of each run (GNU time -v)
#   I KEY VALUE...                                     facts (kernel, tool versions)
#   R ...                                              the records rows (tests/bench/records.sh)
#   E text                                             something went wrong
# Env: BENCH_HOST_RUNS ("bare bwrap firejail calyx" hyperfine runs, default
# "300 100 50 100"), BENCH_RSS_RUNS (GNU time runs per command, default 5).
set -uo pipefail

die() { echo "bench host: $*" >&2; echo "E $*" >> "$out/host.txt"; exit 1; }
[ $# -eq 2 ] || { echo "usage: $0 CALYX_BIN OUT_DIR" >&2; exit 64; }
calyx=$(realpath -e "$1") || exit 1
out=$(realpath -m "$2")   # calyx wants absolute paths (--state)
mkdir -p "$out"
: > "$out/host.txt"
read -r n_bare n_bwrap n_fj n_calyx <<< "${BENCH_HOST_RUNS:-300 100 50 100}"
rss_runs=${BENCH_RSS_RUNS:-5}

w=$(mktemp -d "$out/host.XXXXXX")
trap 'rm -rf "$w"' EXIT
"$calyx" keygen --out "$w/keys" > "$w/keygen.log" 2>&1 || die "calyx keygen: $(cat "$w/keygen.log")"
# The shipped matrix (calyx run --pub alone) allows at most 10 runs per lease: every timed
# run gets a fresh single-run lease, issued by hyperfine's --prepare (not timed).
lease=$w/lease.tok
issue="$calyx lease issue --key $w/keys/calyx.key --aud $(uname -n) --intent INT-BENCH --ttl 10m --cmd /bin/true -o $lease"
crun="$calyx run --lease $lease --pub $w/keys/calyx.pub --state $w/state --enforce landlock -- /bin/true"
bwrap_cmd="bwrap --ro-bind / / --unshare-net --dev /dev --proc /proc /bin/true"
fj_cmd="firejail --noprofile --net=none /bin/true"

{
  echo "I host_kernel $(uname -r)"
  echo "I host_cpus $(nproc)"
  echo "I host_load_before $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "I hyperfine $(hyperfine --version 2>&1 | head -n 1)"
  echo "I bwrap $(bwrap --version 2>&1 | head -n 1)"
  echo "I firejail $(firejail --version 2>&1 | head -n 1)"
} >> "$out/host.txt"

# The calyx run must work here at all before it is timed.
$issue > "$w/issue.log" 2>&1 || die "calyx lease issue: $(cat "$w/issue.log")"
$crun > "$w/crun.out" 2> "$w/crun.err" || die "calyx run --enforce landlock -- /bin/true exited $?: $(head -c 400 "$w/crun.err")"
$bwrap_cmd > /dev/null 2>&1 || die "$bwrap_cmd failed"
$fj_cmd > /dev/null 2>&1 || die "$fj_cmd failed"

# hf NAME RUNS CMD [PREPARE]: one hyperfine measurement, no shell in between (-N).
hf() {
  local name=$1 runs=$2 cmd=$3 prep=${4:-}
  local args=(-N --style none --warmup 3 --runs "$runs" --export-json "$w/$name.json")
  [ -n "$prep" ] && args+=(--prepare "$prep")
  echo "bench host: hyperfine $name ($runs runs)" >&2
  hyperfine "${args[@]}" "$cmd" > "$w/$name.hf.log" 2>&1 ||
    die "hyperfine $name: $(tail -n 5 "$w/$name.hf.log" | tr '\n' ' ')"
  python3 - "$w/$name.json" "$name" >> "$out/host.txt" <<'EOF' || die "reading $w/$name.json"
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print("H %s %.6f %.6f %.6f %.6f %.6f %d" % (sys.argv[2], r["median"], r["mean"],
      r.get("stddev") or 0.0, r["min"], r["max"], len(r["times"])))
EOF
}
hf bare "$n_bare" /bin/true
hf bwrap "$n_bwrap" "$bwrap_cmd"
hf firejail "$n_fj" "$fj_cmd"
hf calyx "$n_calyx" "$crun" "$issue"

# rss NAME CMD...: peak RSS (kB) of each of rss_runs runs under GNU time -v. For a
# process that waited for its children this is the largest of it and them.
rss() {
  local name=$1 i kb
  local line=(M "$name")
  shift
  for ((i = 0; i < rss_runs; i++)); do
    [ "$name" = calyx ] && { $issue > /dev/null 2>&1 || die "calyx lease issue failed"; }
    /usr/bin/time -v -o "$w/$name.time" "$@" > /dev/null 2>&1 || die "/usr/bin/time -v $* failed"
    kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$w/$name.time")
    [ -n "$kb" ] || die "no peak RSS in $w/$name.time"
    line+=("$kb")
  done
  echo "${line[*]}" >> "$out/host.txt"
}
rss bare /bin/true
rss bwrap $bwrap_cmd
rss calyx $crun
# The sentinel's records: zero-loss rate, consumer CPU per record, the runner's RSS.
echo "bench host: records (floods of denials)" >&2
tests/bench/records.sh "$calyx" "$out/host.txt" || die "tests/bench/records.sh failed"
echo "I host_load_after $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/host.txt"
exit 0
