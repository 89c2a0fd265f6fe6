# `calyx lease suggest` on bpf-lsm (docs/suggest.md), where file refusals are recorded: a
# job reads two files one level below a DIR/* lease path (in the sandbox's view, refused by
# the pattern's depth) and one file the lease admits. The suggestion adds DIR/sub/* :ro
# (two files of one directory) and keeps the granted paths; issued as printed (the flags
# eval'd after `lease issue`) it runs the same job with both reads right and no refusal
# but the guest busybox's own readlink of /proc/N/exe (it looks for itself before an
# applet exec, and goes on without), which names a process of one run: the suggestion
# leaves /proc out by design (docs/suggest.md), so those stay, and nothing else does.
W=$WORK/sg
mkdir -p "$W/a/sub" "$W/sb"
echo top-data > "$W/a/top"
echo one > "$W/a/sub/f1"
echo two > "$W/a/sub/f2"
sb_script "$W/sb/job.sh" <<EOF2
t r0 /usr/local/bin/try_open $W/a/top r
t r1 /usr/local/bin/try_open $W/a/sub/f1 r
t r2 /usr/local/bin/try_open $W/a/sub/f2 r
EOF2
script_run sg1 "$W/sb/job.sh" --helper /usr/local/bin/try_open --path "$W/sb/**:ro" --path "$W/a/*:ro"
check "narrow lease: the run ends 0" run_ok
check "... the admitted file is read" is_ok r0 "top-data"
check "... r1 refused" is_denied r1
check "... r2 refused" is_denied r2
# refusals PATH-PATTERN: events.jsonl's refusal lines (type, hook, path) whose path matches
refusals() { jget -l "$RUN/events.jsonl" type hook path | grep -v '^process' | grep -c -- "$1"; }
check "... both recorded (file_open, their paths)" eq "$(refusals "file_open	$W/a/sub/f[12]$")" 2
LID=$(basename "$RUN")
$CALYX lease suggest --state "$WORK/sg1.state" --json "$LID" > "$W/s.json" 2> "$W/s.err"
check "suggest --json: exit 0" eq "$?" 0
diag "suggestion: $(tr '\n\t' '  ' < "$W/s.json" | head -c 900); stderr: $(tr '\n' '|' < "$W/s.err")"
check "suggest: three paths" eq "$(jget "$W/s.json" '#paths')" 3
check "... the granted two kept, in order" eq "$(jget "$W/s.json" paths.0.pattern paths.0.access paths.1.pattern paths.1.access)" \
	"$W/sb/**	ro	$W/a/*	ro"
check "... the refused pair as a/sub/* :ro" eq "$(jget "$W/s.json" paths.2.pattern paths.2.access)" "$W/a/sub/*	ro"
check "... network deny_all" eq "$(jget "$W/s.json" network)" deny_all
check "... the job's own command first" eq "$(jget "$W/s.json" commands.0)" "[\"/bin/sh\",\"$W/sb/job.sh\"]"
check "... try_open with each argv it ran, not as a helper" \
	sh -c 'jget "$1" commands | grep -qF "[\"/usr/local/bin/try_open\",\"$2/a/sub/f1\",\"r\"]" &&
	       jget "$1" commands | grep -qF "[\"/usr/local/bin/try_open\",\"$2/a/sub/f2\",\"r\"]" &&
	       ! jget "$1" helpers 2>/dev/null | grep -q try_open' _ "$W/s.json" "$W"
check "... /proc's refusals left out, and said so" has "$W/s.err" "a refusal under /proc"
$CALYX lease suggest --state "$WORK/sg1.state" "$LID" > "$W/s.flags" 2>> "$W/s.err"
eval "$CALYX lease issue --key \"\$KEY\" --ttl 5m -o \"\$W/sugg.lease\" $(cat "$W/s.flags")" > "$W/issue.log" 2>&1
check "the suggested flags issue a lease" sh -c "[ -s '$W/sugg.lease' ] || { cat '$W/issue.log'; exit 1; }"
crun "$WORK/sg2.state" "$W/sugg.lease" /bin/sh "$W/sb/job.sh"
check "suggested lease: the run ends 0" run_ok
check "... r1 read" is_ok r1 "one"
check "... r2 read" is_ok r2 "two"
check "... r0 still read" is_ok r0 "top-data"
check "... no exec or net refusal" eq "$(meta denials.exec)/$(meta denials.net)" 0/0
check "... no refusal of the job's paths" eq "$(refusals "$W")" 0
check "... every refusal left is busybox's readlink of /proc/N/exe" \
	eq "$(refusals '')" "$(refusals "metadata	/proc/[0-9]*/exe$")"
check "nothing left" no_sandbox_left
