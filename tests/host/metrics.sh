#!/usr/bin/env bash
# The host's Prometheus text file (docs/fleet.md "Metrics"), on this host's landlock
# backend: a matrix with metrics.textfile makes every run write it at its end, and
# `calyx enforcer metrics` writes the same; `promtool check metrics` (Debian's prometheus)
# accepts it; its values after real runs are what the runs' meta.json files and the audit
# log say (denials by class, runs by backend and status, an audit-only run's would-deny
# counts, the ring buffers' peak fill, the limit violation, the refusal, the record count)
# and what `calyx enforcer status` says of the resident set; the file is replaced
# atomically (no temp file left, mode 0644); the errors (no textfile, a bad path in the
# matrix, a directory that is not there) are said with their codes.
#   tests/host/metrics.sh build/calyx      (run by tests/host/run.sh, under the tier lock)
set -u
cd "$(dirname "$0")/../.."
CALYX=$(realpath "${1:-build/calyx}")
. tests/lib/suite.sh
. tests/lib/seccomp.sh

command -v promtool >/dev/null || { bad "promtool missing: scripts/deps.sh test installs prometheus"; finish; }
suite_scratch metrics
set -f
"$CALYX" keygen --out "$T/k" >/dev/null 2>&1 || bad "keygen"
PROM=$T/textfile/calyx.prom
mkdir -p "$T/textfile"
inet_matrix "$T/inet.yaml" || bad "inet_sockets matrix"
printf 'metrics:\n  textfile: %s\naudit_only: allow\n' "$PROM" | cat "$T/inet.yaml" - > "$T/m.yaml"
"$CALYX" matrix check "$T/m.yaml" >/dev/null 2>"$T/mc.err" || bad "the matrix with metrics.textfile checks: $(cat "$T/mc.err")"

# The job (as tests/host/summary.sh's): two refused sockets (net, the cgroup programs),
# one refused io_uring_setup (syscall, seccomp); "limit" then writes past output=1K.
cat > "$T/job.py" <<'EOF'
#!/usr/bin/python3
import ctypes, socket, sys
for fam in (socket.AF_INET, socket.AF_INET6):
    try:
        socket.socket(fam, socket.SOCK_STREAM)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall(425, 1, None)
sys.stdout.flush()
if sys.argv[1] == "limit":
    sys.stdout.write("x" * 5000)
    sys.stdout.flush()
EOF
chmod 755 "$T/job.py"

N=0
# job MATRIX [LEASE-OPTIONS…] -- CMD…: RC, ERR (stderr file) set.
job() {
	local matrix=$1; shift
	local lopts=()
	while [ "$1" != -- ]; do lopts+=("$1"); shift; done
	shift
	N=$((N + 1))
	"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-METRICS --ttl 5m \
		--cmd "$*" ${lopts[@]+"${lopts[@]}"} -o "$T/$N.tok" 2>/dev/null || bad "issue $N"
	RC=0
	ERR=$T/$N.err
	"$CALYX" run --lease "$T/$N.tok" --matrix "$matrix" --pub "$T/k/calyx.pub" --state "$T/st" ${RUNOPT:-} --quiet \
		-- "$@" >"$T/$N.out" 2>"$ERR" || RC=$?
}
# sample NAME{LABELS}: the value in the textfile ("" when absent).
sample() { awk -v k="$1" '$1 == k { print $2 }' "${2:-$PROM}"; }
promtool_ok() { WHY=$(promtool check metrics < "$1" 2>&1) && [ -z "$WHY" ]; }

job "$T/m.yaml" -- "$T/job.py" ok
check "run 1 (denials): exit 0" test "$RC" = 0
check "run 1 wrote the textfile" test -s "$PROM"
check "promtool check metrics accepts it after run 1" promtool_ok "$PROM"
check "after run 1: calyx_runs_total{backend=\"landlock\",status=\"ok\"} 1" \
	test "$(sample 'calyx_runs_total{backend="landlock",status="ok"}')" = 1
cp "$PROM" "$T/after1.prom"

job "$T/m.yaml" --limit output=1K -- "$T/job.py" limit
check "run 2 (output limit): exit 123" test "$RC" = 123
job "$T/m.yaml" -- "$T/job.py" ok
check "run 3 (denials): exit 0" test "$RC" = 0
# The same job in audit-only mode: its socket() and io_uring_setup are would-denials.
RUNOPT=--audit-only job "$T/m.yaml" -- "$T/job.py" ok
check "run 4 (--audit-only): exit 0" test "$RC" = 0
# A refused attempt: argv outside its lease (68); lease_event.refused, no run. The runner
# writes no metrics for it (it did not run): the next write counts it.
"$CALYX" lease issue --key "$T/k/calyx.key" --aud "$(uname -n)" --intent INT-TEST-METRICS --ttl 5m \
	--cmd /bin/true -o "$T/refused.tok" 2>/dev/null || bad "issue refused"
"$CALYX" run --lease "$T/refused.tok" --matrix "$T/m.yaml" --pub "$T/k/calyx.pub" --state "$T/st" --quiet \
	-- /bin/false >/dev/null 2>&1; RC=$?
check "an argv outside the lease is refused (68)" test "$RC" = 68
job "$T/m.yaml" -- /bin/true
check "run 5 (clean): exit 0" test "$RC" = 0
check "promtool check metrics accepts it after five runs and a refusal" promtool_ok "$PROM"
check "promtool refuses a file with a TYPE line twice (the check can fail)" \
	test "$(sed -n '2p' "$PROM" | cat "$PROM" - | promtool check metrics >/dev/null 2>&1; echo $?)" != 0

# What the runs' meta.json files say (tests/lib/metrics_want.py: every run counter,
# denial, would-deny and ring-fill sample by backend, enforcement.backend), and what the
# checks need to be meaningful.
python3 tests/lib/metrics_want.py "$T/st" > "$T/want" 2>"$T/want.err" || bad "metrics_want.py: $(cat "$T/want.err")"
read -r _ n_runs n_ll n_ao <<<"$(grep '^#runs' "$T/want")"
read -r _ w_net w_sys <<<"$(grep '^#would' "$T/want")"
read -r _ pk_min pk_max pk_last rb_size <<<"$(grep '^#peak' "$T/want")"
check "five runs completed, all on landlock, one audit-only (meta.json: $n_runs, $n_ll, $n_ao)" \
	test "${n_runs:-0}" = 5 -a "${n_ll:-0}" = 5 -a "${n_ao:-0}" = 1
check "the audit-only run had net and syscall would-denials to count (meta.json: net $w_net, syscall $w_sys)" \
	test "${w_net:-0}" -ge 2 -a "${w_sys:-0}" -ge 1
check "every run's ring buffer held records (peak fill $pk_min..$pk_max of $rb_size bytes, 8-byte aligned)" \
	test "${pk_min:-0}" -gt 0 -a "${pk_max:-0}" -le "${rb_size:-0}" -a $((${pk_min:-1} % 8)) = 0 -a "${rb_size:-0}" = 2097152
n_want=$(grep -vc '^#' "$T/want")
mism=$(grep -v '^#' "$T/want" | while read -r k v; do
	got=$(sample "$k")
	[ "$got" = "$v" ] || echo "$k: $got, meta.json $v;"
done)
check "every run counter, denial, would-deny and ring-fill sample (by backend) = the meta.json files' ($n_want samples)${mism:+: $mism}" \
	test -z "$mism" -a "$n_want" = 87
check "calyx_would_deny_total{backend=\"landlock\",class=\"net\"} = the audit-only run's ($w_net)" \
	test "$(sample 'calyx_would_deny_total{backend="landlock",class="net"}')" = "$w_net"
check "calyx_runs_audit_only_total{backend=\"landlock\"} 1" test "$(sample 'calyx_runs_audit_only_total{backend="landlock"}')" = 1
check "calyx_denials_total{backend=\"landlock\",class=\"file\"} 0 (landlock: not seen, meta.json null)" \
	test "$(sample 'calyx_denials_total{backend="landlock",class="file"}')" = 0
check "calyx_runs_total{backend=\"landlock\",status=\"ok\"} 4, violation 1" \
	test "$(sample 'calyx_runs_total{backend="landlock",status="ok"}')" = 4 \
	-a "$(sample 'calyx_runs_total{backend="landlock",status="violation"}')" = 1
check "calyx_ringbuf_last_peak_fill_ratio{backend=\"landlock\"} = the last run's peak / size ($pk_last / $rb_size)" \
	test "$(sample 'calyx_ringbuf_last_peak_fill_ratio{backend="landlock"}')" = \
	"$(python3 -c "import sys; print('%.9g' % (int(sys.argv[1]) / int(sys.argv[2])))" "${pk_last:-0}" "${rb_size:-1}")"
check "calyx_live_ringbuf_peak_fill_ratio{backend=\"landlock\"} 0 (no sandbox held)" \
	test "$(sample 'calyx_live_ringbuf_peak_fill_ratio{backend="landlock"}')" = 0
check "calyx_limit_violations_total{limit=\"output_bytes\"} 1" test "$(sample 'calyx_limit_violations_total{limit="output_bytes"}')" = 1
check "calyx_limit_violations_total{limit=\"mem_bytes\"} 0" test "$(sample 'calyx_limit_violations_total{limit="mem_bytes"}')" = 0
check "calyx_runs_refused_total 1 (the refusal before run 5)" test "$(sample calyx_runs_refused_total)" = 1
check "calyx_audit_log_records = the log's lines" test "$(sample calyx_audit_log_records)" = "$(wc -l < "$T/st/logs/svf_audit/svf.jsonl")"
check "calyx_records_lost_total{backend=\"landlock\"} 0" test "$(sample 'calyx_records_lost_total{backend="landlock"}')" = 0
read -r st_up st_live st_slots <<<"$("$CALYX" enforcer status --enforce landlock --json | python3 -c 'import json,sys
b = json.load(sys.stdin)[0]
print(int(b["up"] and b.get("complete", False)), b.get("live_sandboxes", 0), len(b.get("slots", [])))')"
check "calyx_enforcer_up{backend=\"landlock\"} = enforcer status's ($st_up)" test "$(sample 'calyx_enforcer_up{backend="landlock"}')" = "$st_up" -a "$st_up" = 1
check "calyx_sandboxes_live{backend=\"landlock\"} = enforcer status's ($st_live)" test "$(sample 'calyx_sandboxes_live{backend="landlock"}')" = "$st_live"
check "calyx_sandbox_slots_held{backend=\"landlock\"} = enforcer status's ($st_slots)" test "$(sample 'calyx_sandbox_slots_held{backend="landlock"}')" = "$st_slots"
check "every sample has its HELP and TYPE (calyx_* names only)" \
	test "$(grep -v '^#' "$PROM" | grep -Ecv '^calyx_[a-z_]*(\{[a-z]+="[a-z0-9_.+-]+"(,[a-z]+="[a-zA-Z0-9_.+-]+")*\})? [0-9][0-9.e-]*$')" = 0
check "the file is mode 0644" test "$(stat -c %a "$PROM")" = 644
check "no temp file left beside it" test "$(ls -A "$T/textfile")" = calyx.prom
check "run 1's file said less (the file is rewritten at each run's end)" \
	test "$(sample 'calyx_runs_total{backend="landlock",status="ok"}' "$T/after1.prom")" = 1

# `calyx enforcer metrics`: the same text (nothing ran since run 5 but the refusal it
# already counted), to the matrix's file, or -o.
ino=$(stat -c %i "$PROM")
cp "$PROM" "$T/run5.prom"
"$CALYX" enforcer metrics --state "$T/st" --matrix "$T/m.yaml" 2>"$T/em.err"; RC=$?
check "enforcer metrics --matrix: exit 0" test "$RC" = 0
check "... the same bytes as the last run wrote" cmp "$T/run5.prom" "$PROM"
check "... a new file renamed over the old one (atomic), not rewritten in place" test "$(stat -c %i "$PROM")" != "$ino"
"$CALYX" enforcer metrics --state "$T/st" -o - > "$T/stdout.prom" 2>"$T/em.err"; RC=$?
check "enforcer metrics -o -: exit 0, the same text on stdout" cmp "$T/run5.prom" "$T/stdout.prom"
"$CALYX" enforcer metrics --state "$T/st" -o "$T/textfile/other.prom" 2>"$T/em.err"
check "enforcer metrics -o FILE writes FILE" cmp "$T/run5.prom" "$T/textfile/other.prom"

# Errors.
"$CALYX" enforcer metrics --state "$T/st" --matrix "$T/inet.yaml" >/dev/null 2>"$T/em.err"; RC=$?
check "a matrix without metrics.textfile and no -o: 64, said" \
	test "$RC" = 64 -a "$(cat "$T/em.err")" = "calyx: enforcer metrics: the matrix $T/inet.yaml has no metrics.textfile: give -o FILE (or -o - for stdout)"
printf 'metrics:\n  textfile: %s\n' "$T/textfile/calyx.txt" | cat "$T/inet.yaml" - > "$T/bad.yaml"
"$CALYX" matrix check "$T/bad.yaml" >/dev/null 2>"$T/mc.err"; RC=$?
check "metrics.textfile not ending in .prom: the matrix is refused (78)" test "$RC" = 78
check "... naming the key" grep -q "metrics.textfile: '$T/textfile/calyx.txt' must end in .prom" "$T/mc.err"
printf 'metrics:\n  textfile: %s\n' "$T/absent/calyx.prom" | cat "$T/inet.yaml" - > "$T/absent.yaml"
"$CALYX" enforcer metrics --state "$T/st" --matrix "$T/absent.yaml" >/dev/null 2>"$T/em.err"; RC=$?
check "a textfile directory that is not there: 74" test "$RC" = 74
job "$T/absent.yaml" -- /bin/true
check "a run whose metrics file cannot be written still ends as its command did (0)" test "$RC" = 0
check "... and says so" grep -q "^calyx: warning: metrics file $T/absent/calyx.prom not written: " "$ERR"
"$CALYX" enforcer metrics --matrix "$T/m.yaml" -o - >/dev/null 2>&1; RC=$?
check "--matrix and -o together: a usage error (64)" test "$RC" = 64

finish
