# Issue 8 class 10: a denial record must not name a path the kernel did not refuse. The
# sandbox opens a name a second thread keeps swapping, byte by byte, between a granted
# file and a refused one (race_open). A record built from the caller's buffer after the
# call would log some refused opens as opens of the granted file. On bpf-lsm every
# file_event.denied comes from the LSM hook's own struct path (bpf_d_path of the file
# being opened): each names the refused file and says "path_source": "kernel". On the
# landlock backend Landlock's refusals are enforced but not observed (no record at all,
# meta.json denials.file null), so nothing can claim a swapped name; the only records
# there with a path are exec records (the name given to execve), marked "caller".
# The refused file lies in $V/sub: visible in the mount view (the `$V/*:ro` grant binds
# $V) but granted by no rule (`*` admits direct children only).
V=$WORK/v
P=/usr/local/bin/race_open
mkdir -p "$V/sub"
echo allowed-data > "$V/allow.txt"
echo secret-data > "$V/sub/secret.bin"
chmod 755 "$V" "$V/sub" && chmod 644 "$V/allow.txt" "$V/sub/secret.bin"
N=3000

# deny_lines: the last run's file_open denials from events.jsonl, one per line.
deny_lines() { grep '"type":"deny"' "$RUN/events.jsonl" 2>/dev/null | grep '"hook":"file_open"'; }
# every_denial_names_secret: at least one, each naming $V/sub/secret.bin from the kernel.
every_denial_names_secret() {
	local n bad
	n=$(deny_lines | wc -l)
	[ "$n" -ge 1 ] || { WHY="no file_open denial in $RUN/events.jsonl"; return 1; }
	bad=$(deny_lines | grep -vF "\"path\":\"$V/sub/secret.bin\",\"path_source\":\"kernel\"" | head -n 2)
	[ -z "$bad" ] && return 0
	WHY="$n denials, some not naming $V/sub/secret.bin from the kernel: $bad"
	return 1
}
# race_counts_ok: the race really happened (refused opens, granted opens) and the secret's
# content was never read.
race_counts_ok() {
	local l
	l=$(cat "$RUN/stdout.log" 2>/dev/null)
	case $l in
	"ok opens=$N allowed="*" denied="*" secret_read=0") ;;
	*) WHY="race_open said '$l'"; return 1 ;;
	esac
	case $l in
	*" allowed=0 "*|*" denied=0 "*) WHY="no race: '$l'"; return 1 ;;
	esac
	return 0
}

# bpf-lsm (the tier's matrix): the hook's own path.
S=$WORK/ap.state
issue "$WORK/ap.lease" --cmd "$P $V/allow.txt $V/sub/secret.bin $N" --path "$V/*:ro" || exit 0
crun "$S" "$WORK/ap.lease" "$P" "$V/allow.txt" "$V/sub/secret.bin" "$N"
check "bpf-lsm: calyx run exits 0" run_ok
check "bpf-lsm: the opens raced (granted and refused), the secret was never read" race_counts_ok
check "bpf-lsm: every file_open denial names the refused file, path_source kernel" every_denial_names_secret
check "bpf-lsm: no record names the granted file as refused" \
	sh -c "! grep '\"type\":\"deny\"' '$RUN/events.jsonl' | grep -qF '$V/allow.txt'"
check "bpf-lsm: SVF file_event.denied names the refused file, from the kernel" \
	has_event "$S" file_event.denied "\"path\":\"$V/sub/secret.bin\",\"path_source\":\"kernel\""
check "bpf-lsm: no SVF denial names the granted file" \
	sh -c "! grep '_event.denied' '$(svf_log "$S")' | grep -qF '$V/allow.txt'"
check "bpf-lsm: the process line's binary is the file the kernel ran (its path in the sandbox's view)" \
	run_event process "\"binary\":\"$P\",\"binary_source\":\"kernel\""
check "bpf-lsm: nothing left" no_sandbox_left

# landlock (a copy of the matrix that allows it, as uid 65534): enforced, not observed.
sed -e 's/^enforcement: .*/enforcement: auto/' -e 's/^run_as: .*/run_as: {uid: 65534, gid: 65534}/' \
	"$MATRIX" > "$WORK/ap-ll-matrix.yaml"
MATRIX_SAVED=$MATRIX
MATRIX=$WORK/ap-ll-matrix.yaml
CALYX_RUN_ARGS="--enforce landlock"
S=$WORK/apl.state
issue "$WORK/apl.lease" --cmd "$P $V/allow.txt $V/sub/secret.bin $N" --path "$V/*:ro" || exit 0
crun "$S" "$WORK/apl.lease" "$P" "$V/allow.txt" "$V/sub/secret.bin" "$N"
MATRIX=$MATRIX_SAVED
CALYX_RUN_ARGS=
check "landlock: calyx run exits 0" run_ok
check "landlock: the run is on landlock" eq "$(meta enforcement.backend)" landlock
check "landlock: the opens raced (granted and refused), the secret was never read" race_counts_ok
check "landlock: no file denial record at all (not observed)" eq "$(deny_lines | wc -l)" 0
check "landlock: meta.json denials.file is null" eq "$(meta denials.file)" null
check "landlock: no SVF file_event.denied" eq "$(svf_count "$S" file_event.denied)" 0
check "landlock: no record claims a kernel path for the granted file" \
	sh -c "! grep -F '\"path\":\"$V/allow.txt\",\"path_source\":\"kernel\"' '$RUN/events.jsonl'"
check "landlock: the process line's binary is the file the kernel ran" \
	run_event process "\"binary\":\"$P\",\"binary_source\":\"kernel\""
check "landlock: nothing left" no_sandbox_left
