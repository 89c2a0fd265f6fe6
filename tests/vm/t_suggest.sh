# `calyx lease suggest` on bpf-lsm (docs/suggest.md), where file refusals are recorded: a
# job reads two files one level below a DIR/* lease path (in the sandbox's view, refused by
# the pattern's depth) and one file the lease admits. The suggestion adds DIR/sub/* :ro
# (two files of one directory) and keeps the granted paths; issued as printed (the flags
# eval'd after `lease issue`) it runs the same job with both reads right and no refusal
# but the guest busybox's own readlink of /proc/N/exe (it looks for itself before an
# applet exec, and goes on without), which names a process of one run: the suggestion
# leaves /proc out by design (docs/suggest.md), so those stay, and nothing else does.
#
# Then the audit-only workflow on bpf-lsm (docs/suggest.md): a job (reads a file of C,
# rewrites a file of D, try_open with its argvs, a TCP connect and a connected UDP send to
# listeners on 127.0.0.1) run --audit-only under a lease naming only its command; the
# suggestion from that run is exactly the hand-written minimal lease (the script :ro, the
# exact files :ro / :rw, each program with its argv, --net allow=127.0.0.1/32:P/tcp and
# :Q/udp: the protocol from the records' sock_flags, a UDP connect no tcp guess); issued,
# it runs the job enforcing with zero refusals and the listeners reached again.
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

# ---- the audit-only workflow
AO=$WORK/sga
mkdir -p "$AO/c" "$AO/d"
echo audit-in > "$AO/c/in.txt"
echo old > "$AO/d/out.txt" && chmod 666 "$AO/d/out.txt"
PT=7193 PU=7194
/usr/local/bin/net_try serve "$AO/got" tcp,127.0.0.1,$PT udp,127.0.0.1,$PU > "$AO/listen.log" 2>&1 &
lsn=$!
trap 'kill $lsn 2>/dev/null' EXIT
i=0
while ! grep -qx ready "$AO/got" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "audit-only: listeners up" has "$AO/got" ready
cat > "$AO/job.sh" <<EOF2
/usr/local/bin/try_open $AO/c/in.txt r
/usr/local/bin/try_open $AO/d/out.txt w new-data
/usr/local/bin/net_try tcp,127.0.0.1,$PT udpconn,127.0.0.1,$PU
EOF2
sed -e 's|^network: deny_all$|network: {allow: ["127.0.0.0/8:*/tcp", "127.0.0.0/8:*/udp"]}|' -e '$a audit_only: allow' \
	"$MATRIX" > "$AO/m.yaml"
MATRIX0=$MATRIX
MATRIX=$AO/m.yaml
issue "$AO/first.lease" --cmd "/bin/sh $AO/job.sh"
CALYX_RUN_ARGS=--audit-only
crun "$WORK/sga1.state" "$AO/first.lease" /bin/sh "$AO/job.sh"
CALYX_RUN_ARGS=
check "audit-only run of the command-only lease ends 0" run_ok
check "... every step really done: the file read, the file rewritten, both sends" \
	sh -c 'grep -q "^ok read: audit-in" "$1/stdout.log" && [ "$(cat "$2")" = new-data ] &&
	       grep -qx "ok tcp 127.0.0.1 $3" "$1/stdout.log" && grep -qx "ok udpconn 127.0.0.1 $4" "$1/stdout.log"' \
	_ "$RUN" "$AO/d/out.txt" $PT $PU
check "... no deny or kill line" sh -c "! grep -q '\"type\":\"deny\"\\|\"type\":\"kill\"' '$RUN/events.jsonl'"
check "... the UDP connect's would_deny names UDP (sock_flags: SOCK_DGRAM, IPPROTO_UDP)" \
	sh -c "grep '\"type\":\"would_deny\"' '$RUN/events.jsonl' | grep '\"hook\":\"socket_connect\"' | grep -qF '\"sock_flags\":1114114,\"addr\":\"127.0.0.1\",\"port\":$PU'"
LID=$(basename "$RUN")
$CALYX lease suggest --state "$WORK/sga1.state" --json "$LID" > "$AO/s.json" 2> "$AO/s.err"
check "suggest --json from the audit-only run: exit 0" eq "$?" 0
diag "suggestion: $(tr '\n\t' '  ' < "$AO/s.json" | head -c 1200); stderr: $(tr '\n' '|' < "$AO/s.err" | head -c 600)"
has_cmd() { jget "$AO/s.json" commands | grep -qF -- "$1" && return 0; WHY="no $1 in $(jget "$AO/s.json" commands)"; return 1; }
check "... four commands, no helper" eq "$(jget "$AO/s.json" '#commands')/$(jget "$AO/s.json" helpers 2>/dev/null)" 4/
check "... the job's own command" eq "$(jget "$AO/s.json" commands.0)" "[\"/bin/sh\",\"$AO/job.sh\"]"
check "... try_open with its read argv" has_cmd "[\"/usr/local/bin/try_open\",\"$AO/c/in.txt\",\"r\"]"
check "... try_open with its write argv" has_cmd "[\"/usr/local/bin/try_open\",\"$AO/d/out.txt\",\"w\",\"new-data\"]"
check "... net_try with its argv" has_cmd "[\"/usr/local/bin/net_try\",\"tcp,127.0.0.1,$PT\",\"udpconn,127.0.0.1,$PU\"]"
check "... three paths" eq "$(jget "$AO/s.json" '#paths')" 3
check "... the paths: the script and the read file :ro, the rewritten file :rw" \
	eq "$(for i in 0 1 2; do jget "$AO/s.json" paths.$i.pattern paths.$i.access 2>/dev/null; done | sort | tr '\n\t' '; ')" \
	"$AO/c/in.txt ro;$AO/d/out.txt rw;$AO/job.sh ro;"
check "... the network: the TCP and the UDP destination, each its protocol" eq "$(jget "$AO/s.json" network)" \
	"{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"port\":$PT,\"proto\":\"tcp\"},{\"cidr\":\"127.0.0.1/32\",\"port\":$PU,\"proto\":\"udp\"}]}"
$CALYX lease suggest --state "$WORK/sga1.state" "$LID" > "$AO/s.flags" 2>/dev/null
eval "$CALYX lease issue --key \"\$KEY\" --ttl 5m --matrix \"\$MATRIX\" -o \"\$AO/sugg.lease\" $(cat "$AO/s.flags")" > "$AO/issue.log" 2>&1
check "the suggested flags issue a lease within the matrix" sh -c "[ -s '$AO/sugg.lease' ] || { cat '$AO/issue.log'; exit 1; }"
echo old > "$AO/d/out.txt"
crun "$WORK/sga2.state" "$AO/sugg.lease" /bin/sh "$AO/job.sh"
check "the suggestion enforcing: the run ends 0" run_ok
check "... the file read and rewritten" \
	sh -c 'grep -q "^ok read: audit-in" "$1/stdout.log" && [ "$(cat "$2")" = new-data ]' _ "$RUN" "$AO/d/out.txt"
check "... both destinations reached again" \
	sh -c '[ "$(grep -c "calyx-net-" "$1")" -ge 4 ] || { cat "$1"; exit 1; }' _ "$AO/got"
check "... not audit-only, no exec or net refusal" eq "$(meta audit_only)/$(meta denials.exec)/$(meta denials.net)" false/0/0
check "... no refusal of the job's paths" eq "$(refusals "$AO")" 0
check "... every refusal left is busybox's readlink of /proc/N/exe (left out by design)" \
	eq "$(refusals '')" "$(refusals "metadata	/proc/[0-9]*/exe$")"
MATRIX=$MATRIX0
check "nothing left" no_sandbox_left
