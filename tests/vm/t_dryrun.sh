# The origin system's dry run (DESIGN.md "Origins"): a lease for INT-TEST-SANDBOX allowing
# `python3 --version` with paths repo://calyx/tools/*, run under BPF LSM enforcement.
mkdir -p /srv/calyx/tools
echo 'print("tool")' > /srv/calyx/tools/lint.py
INTENT=INT-TEST-SANDBOX issue "$WORK/dry.lease" --cmd 'python3 --version' --path 'repo://calyx/tools/*' || exit 0
check "lease verify accepts the fresh lease" sh -c "$CALYX lease verify --pub $PUB $WORK/dry.lease > $WORK/verify.out 2>&1"
S=$WORK/dry.state
crun "$S" "$WORK/dry.lease" python3 --version
check "calyx run exits 0" run_ok
check "stdout.log holds 'Python 3.'" has "$RUN/stdout.log" "Python 3."
check "exit_code.txt says 0" eq "$(tr -d ' \n' < "$RUN/exit_code.txt" 2>/dev/null)" 0
check "stderr.log exists" exists "$RUN/stderr.log"
check "events.jsonl exists" exists "$RUN/events.jsonl"
lease_id=$(basename "$RUN")
check "run dir named after the lease" sh -c "echo $lease_id | grep -q '^LEASE-[0-9]\{8\}-[0-9]\{6\}-[0-9a-f]\{4\}$'"
check "meta.json lease" eq "$(meta lease)" "$lease_id"
check "meta.json intent" eq "$(meta intent)" INT-TEST-SANDBOX
check "meta.json argv" eq "$(meta argv)" '["python3","--version"]'
check "meta.json binary is the resolved python3" eq "$(meta binary)" "$(readlink -f /usr/bin/python3)"
check "meta.json exit_code 0" eq "$(meta exit_code)" 0
check "meta.json status ok" eq "$(meta status)" ok
check "meta.json enforcement.backend bpf-lsm" eq "$(meta enforcement.backend)" bpf-lsm
check "meta.json enforcement.kernel" eq "$(meta enforcement.kernel)" "$(uname -r)"
check "meta.json start, end, duration_ms" sh -c "jget $RUN/meta.json start end duration_ms > /dev/null"
check "meta.json denials all 0" eq "$(meta denials.exec)/$(meta denials.file)/$(meta denials.net)" 0/0/0
check "meta.json dropped_events 0" eq "$(meta dropped_events)" 0
# The digest may be SHA-256 or BLAKE2b (256 or 512 bits): any of them, of the real bytes.
digest_ok() {
	local a d
	a=$(jget "$RUN/meta.json" artifacts.stdout.log 2>/dev/null) || { WHY="no artifacts.stdout.log in meta.json"; return 1; }
	for d in "$(sha256sum "$RUN/stdout.log" | cut -d' ' -f1)" \
		"$(b2sum -l 256 "$RUN/stdout.log" | cut -d' ' -f1)" "$(b2sum "$RUN/stdout.log" | cut -d' ' -f1)"; do
		case $a in *"$d"*) return 0 ;; esac
	done
	WHY="artifacts.stdout.log '$a' is no digest of stdout.log"
	return 1
}
check "meta.json artifacts: digest of stdout.log's bytes" digest_ok
for ev in lease_event.verified lease_event.consumed exec_event.started exec_event.completed; do
	check "SVF $ev" has_event "$S" "$ev" "$lease_id"
done
check "no denial recorded in SVF" eq "$(svf_count "$S" exec_event.denied)$(svf_count "$S" file_event.denied)$(svf_count "$S" net_event.denied)" 000
svf=$(svf_log "$S")
# The chain: every record's prev is the previous record's hash, seq counts up from its start.
chain_ok() {
	jget -l "$svf" seq prev hash > "$WORK/chain" || { WHY="SVF not JSON Lines"; return 1; }
	awk -F'\t' 'NR > 1 && ($1 != pseq + 1 || $2 != phash) { bad = NR } { pseq = $1; phash = $3 }
		END { exit bad ? 1 : 0 }' "$WORK/chain" && return 0
	WHY="prev/seq chain broken: $(head -n 5 "$WORK/chain" | tr '\n' '|')"
	return 1
}
check "SVF records chained by seq and prev=hash" chain_ok
fields_ok() {
	jget -l "$svf" lease intent host ts type data > "$WORK/fields" || { WHY="SVF not JSON Lines"; return 1; }
	[ -s "$WORK/fields" ] || { WHY="SVF log empty"; return 1; }
	awk -F'\t' -v id="$lease_id" '$5 !~ /^(lease|exec|file|net|resource)_event\./ { next }
		{ for (i = 1; i <= 6; i++) if ($i == "-" || $i == "") bad = NR }
		$1 != id { bad = NR } END { exit bad ? 1 : 0 }' "$WORK/fields" && return 0
	WHY="a record lacks a field or names another lease: $(head -n 3 "$WORK/fields" | tr '\n' '|')"
	return 1
}
# Checkpoint records (signed chain heads) may lack a lease; event records may not.
check "SVF event records carry lease, intent, host, ts, type, data" fields_ok
check "no sandbox cgroup or BPF program left" no_sandbox_left
