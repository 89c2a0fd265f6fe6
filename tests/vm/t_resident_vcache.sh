# The bpf-lsm verdict cache of file_open (bpf/path.bpf.h): a file's granted access is kept
# per sandbox and file until anything could have changed what its path names. It must
# serve repeated opens (misses stay few), and never let a file be opened through a name
# outside the lease because that file was opened through an allowed name before: the host
# (outside the sandbox) renames it out of the lease, renames a directory above it out,
# hard-links it outside, bind-mounts its directory outside, or deletes it (reopened
# through /proc/self/fd/N: exactly what happens without the cache). Sandbox and host meet
# through files in a :rw directory (res_probe writes "ready", the host acts, writes "go").
resident_setup bpf-lsm
W=$RS_WORK/vc
P=$RS_BIN/res_probe
mkdir -p "$W"

# --- the cache serves: 1000 opens of one allowed file
mkdir -p "$W/rep"
echo rep-data > "$W/rep/data"
rs_issue "$W/rep.l" --runs 2 --cmd "$P open-n $W/rep/data 1" --cmd "$P open-n $W/rep/data 1000" --path "$W/rep/**:ro" || exit 0
rs_run "$W/rep1" "$W/rep.l" "$P" open-n "$W/rep/data" 1
m1=$(rs_meta "$RS_RUNDIR" enforcement.resident.verdict_cache_misses)
check "one open: exit 0, opened" rs_eq "$RS_RC $(rs_stdout "$RS_RUNDIR")" "0 ok opened 1"
rs_run "$W/rep1000" "$W/rep.l" "$P" open-n "$W/rep/data" 1000
m1000=$(rs_meta "$RS_RUNDIR" enforcement.resident.verdict_cache_misses)
diag "verdict cache misses: $m1 for a run with one open, $m1000 for one with 1000"
check "1000 opens: exit 0, all opened" rs_eq "$RS_RC $(rs_stdout "$RS_RUNDIR")" "0 ok opened 1000"
check "meta: enforcement.resident.verdict_cache true" rs_eq "$(rs_meta "$RS_RUNDIR" enforcement.resident.verdict_cache)" true
check "meta: verdict_cache_misses of the 1000-open run small ($m1000 <= 5)" rs_le "$m1000" 5
check "... and 999 more opens than the one-open run missed at most once more ($m1 -> $m1000)" rs_le "$m1000" "$((m1 + 1))"
rs_status
check "status: the set's verdict_cache is on" rs_eq "$(rs_st verdict_cache)" true

# vc_case NAME ACTION OUTSIDE [INSIDE_WANT [OUTSIDE_WANT]]: a sandbox opens D/in/data
# (allowed, cached), the host runs ACTION (sh, with D set), then the sandbox opens OUTSIDE
# (OUTSIDE_WANT, default EACCES, then recorded as a file_open denial naming it) and
# D/in/data again (INSIDE_WANT: "ok" or an errno name). The lease's D/* puts all of D in
# the sandbox's view (granting only D's entries), so what the host moves into D/out is
# there and the enforcer, with its cache, is what must refuse it; the host's mounts made
# after the sandbox started never reach its view (private propagation: ENOENT).
vc_case() {
	local name=$1 action=$2 outside=$3 inside=${4:-ok} want=${5:-EACCES} D=$W/$1 first out rp rc
	mkdir -p "$D/in" "$D/out" "$D/sync"
	echo "$name-data" > "$D/in/data"
	first=$D/in/data
	rs_issue "$D.l" --cmd "$P reopen $D/sync $first $outside" --path "$D/in/**:ro" --path "$D/sync/**:rw" \
		--path "$D/*:ro" || return 0
	rs_bg "$D.st" "$D.l" "$P" reopen "$D/sync" "$first" "$outside"
	rp=$RS_BG
	check "$name: the sandbox opened $first" rs_wait_file "$D/sync/ready" 600
	D=$D sh -c "$action" > "$D.action" 2>&1
	rc=$?
	check "$name: the host's change worked ($action)" rs_eq "$rc $(cat "$D.action")" "0 "
	: > "$D/sync/go"
	rs_reap "$rp" "$D.st"
	out=$(rs_stdout "$RS_RUNDIR")
	check "$name: calyx run exit 0" rs_eq "$RS_RC" 0
	check "$name: open through $outside (outside the lease) is refused: $want" rs_contains "$out" "$outside: errno=$want"
	if [ "$want" = EACCES ]; then
		check "$name: ... recorded as a file_open denial naming it" \
			rs_contains "$("$RS_BIN/jget" -l "$RS_RUNDIR/events.jsonl" type hook path)" "deny	file_open	$outside"
	fi
	if [ "$inside" = ok ]; then
		check "$name: open through $first (still there, in the lease) works" rs_contains "$out" "$first: ok read: $name-data"
	else
		check "$name: open through $first: $inside (it is gone from there)" rs_contains "$out" "$first: errno=$inside"
	fi
	rs_lacks "$out" "$outside: ok" || diag "$name: SANDBOX READ THE FILE OUTSIDE ITS LEASE: $out"
}
vc_case rename 'mv "$D/in/data" "$D/out/data"' "$W/rename/out/data" ENOENT
vc_case hardlink 'ln "$D/in/data" "$D/out/data"' "$W/hardlink/out/data"
vc_case bind 'mount --bind "$D/in" "$D/out"' "$W/bind/out/data" ok ENOENT
umount "$W/bind/out" 2>/dev/null
# A directory above the file moves out (d_move of the directory, not of the file). The
# file is D/in/sub/data, cached through that name.
D=$W/dirmv
mkdir -p "$D/in/sub" "$D/sync"
echo dirmv-data > "$D/in/sub/data"
rs_issue "$D.l" --cmd "$P reopen $D/sync $D/in/sub/data $D/moved/data" --path "$D/in/**:ro" --path "$D/sync/**:rw" \
	--path "$D/*:ro" || exit 0
rs_bg "$D.st" "$D.l" "$P" reopen "$D/sync" "$D/in/sub/data" "$D/moved/data"
rp=$RS_BG
check "dirmv: the sandbox opened $D/in/sub/data" rs_wait_file "$D/sync/ready" 600
mv "$D/in/sub" "$D/moved"
check "dirmv: the host moved $D/in/sub out of the lease to $D/moved" rs_file_has "$D/moved/data" dirmv-data
: > "$D/sync/go"
rs_reap "$rp" "$D.st"
out=$(rs_stdout "$RS_RUNDIR")
check "dirmv: open through $D/moved/data is refused: EACCES" rs_contains "$out" "$D/moved/data: errno=EACCES"
check "dirmv: open through the old name: ENOENT" rs_contains "$out" "$D/in/sub/data: errno=ENOENT"

# --- a deleted file reopened through /proc/self/fd/N: the same as without the cache.
# Cached: opened through its name (the grant is cached), then deleted by the host.
# Uncached: held by an O_PATH fd only (no file_open: nothing cached), then deleted.
# Under a lease naming the file exactly its path is now "PATH (deleted)": no rule grants
# it, denied both ways. Under a subtree rule both ways must agree too.
del_case() {
	local name=$1 rule=$2 mode=$3 D=$W/$1 rp
	mkdir -p "$D/sync"
	echo "$name-data" > "$D/data"
	rs_issue "$D.l" --cmd "$P deleted $D/sync $D/data${mode:+ $mode}" --path "$rule" --path "$D/sync/**:rw" || return 0
	# shellcheck disable=SC2086 # mode is empty or one word
	rs_bg "$D.st" "$D.l" "$P" deleted "$D/sync" "$D/data" $mode
	rp=$RS_BG
	check "$name: the sandbox holds $D/data open" rs_wait_file "$D/sync/ready" 600
	rm "$D/data"
	: > "$D/sync/go"
	rs_reap "$rp" "$D.st"
	DEL_OUT=$(rs_stdout "$RS_RUNDIR")
	DEL_EVENTS=$("$RS_BIN/jget" -l "$RS_RUNDIR/events.jsonl" type hook path)
	check "$name: calyx run exit 0, the file had no name left (links=0)" rs_eq "$RS_RC $(echo "$DEL_OUT" | head -n 1)" "0 links=0"
}
del_case del-exact "$W/del-exact/data:ro" ""
cached=$DEL_OUT
check "deleted (exact rule, cached): the reopen through /proc/self/fd is refused: EACCES" rs_contains "$cached" "reopen: errno=EACCES"
check "... recorded as a file_open denial of '$W/del-exact/data (deleted)'" \
	rs_contains "$DEL_EVENTS" "deny	file_open	$W/del-exact/data (deleted)"
del_case del-exact-opath "$W/del-exact-opath/data:ro" opath
check "deleted (exact rule): cached and uncached end the same ($(echo "$cached" | tail -n 1) / $(echo "$DEL_OUT" | tail -n 1))" \
	rs_eq "$(echo "$cached" | tail -n 1)" "$(echo "$DEL_OUT" | tail -n 1)"
del_case del-tree "$W/del-tree/**:ro" ""
cached=$DEL_OUT
del_case del-tree-opath "$W/del-tree-opath/**:ro" opath
diag "deleted under a subtree rule: cached '$(echo "$cached" | tail -n 1)', uncached '$(echo "$DEL_OUT" | tail -n 1)'"
check "deleted (subtree rule): cached and uncached end the same" \
	rs_eq "$(echo "$cached" | tail -n 1 | sed 's/ok read: .*/ok read/')" "$(echo "$DEL_OUT" | tail -n 1 | sed 's/ok read: .*/ok read/')"

rs_end
