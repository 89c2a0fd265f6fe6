# The end-of-run summary and fail_on_denial on bpf-lsm (docs/run.md "The summary"), where
# file refusals are seen and counted: a job that lost access to a file but exits 0 exits
# 125 with --fail-on-denial, and its summary names the refused file; without the flag the
# same job exits 0; -q prints no summary.
mkdir -p "$WORK/sum/vis/in" "$WORK/sum/sb"
echo outside > "$WORK/sum/vis/in/outside"
sb_script "$WORK/sum/sb/job.sh" <<EOF2
t read-sibling /usr/local/bin/try_open $WORK/sum/vis/in/outside r
echo job-done >&2
exit 0
EOF2
# sum_run NAME [calyx run options]: the job under a fresh lease, RC/ERR/RUN as crun sets.
sum_run() {
	local name=$1
	shift
	issue "$WORK/sum/$name.lease" --cmd "/bin/sh $WORK/sum/sb/job.sh" --helper /bin/sh \
		--helper /usr/local/bin/try_open --path "$WORK/sum/sb/**:ro" --path "$WORK/sum/vis/*:ro" || return 1
	CALYX_RUN_ARGS="$*" crun "$WORK/sum/$name.state" "$WORK/sum/$name.lease" /bin/sh "$WORK/sum/sb/job.sh"
}
sum_run flag --fail-on-denial
check "the read is refused inside" is_denied read-sibling
check "--fail-on-denial: the job exited 0 but lost a file: exit 125" eq "$RC" 125
check "meta.json: status ok, the command's 0, calyx's 125" eq "$(meta status)/$(meta exit_code)/$(meta calyx_exit_code)" ok/0/125
check "meta.json: fail_on_denial turned the exit code, by the flag" \
	eq "$(meta fail_on_denial.exit_code_turned)/$(meta fail_on_denial.by)" "true/--fail-on-denial"
check "meta.json: it counted the kernel's refusals" eq "$(meta fail_on_denial.denials)" "$(meta enforcement.resident.denied)"
check "the summary's file row names the refused file" has "$ERR" "calyx:     file        "
check "... with its path and access" has "$ERR" "$WORK/sum/vis/in/outside (read)"
check "the summary's denial rule line" has "$ERR" "calyx:   denial rule   exit 125: the command exited 0, but"
check "bpf-lsm: no word of Landlock's unseen refusals" lacks "$ERR" "Landlock"
check "the command's own stderr line is there, before the summary" \
	sh -c "[ \$(grep -n '^job-done\$' $ERR | cut -d: -f1) -lt \$(grep -n '^calyx: summary' $ERR | cut -d: -f1) ]"
sum_run plain
check "without the flag the same job exits 0" eq "$RC" 0
check "meta.json: fail_on_denial off" eq "$(meta fail_on_denial.enabled)" false
sum_run quiet -q
check "-q: exit 0" eq "$RC" 0
check "-q: no summary" lacks "$ERR" "calyx: summary"
check "nothing left" no_sandbox_left
