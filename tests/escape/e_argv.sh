# Issue 8 class 7: argv is bound at every exec, not only the first (docs/lease-format.md
# "Argv binding"). Every exec inside a sandbox must be one of the lease's commands with its
# exact argv (argv[0] included; a #! script as the argv the kernel builds for its
# interpreter) or a helper; anything else is killed with SIGKILL at sched_process_exec,
# before its first instruction, and recorded as exec_event.denied with its argv. Once on
# bpf-lsm (the suite's matrix, root inside) and once on landlock (a copy of the matrix that
# says `enforcement: auto`, run as 65534, --enforce landlock).
# The payloads print 42001 (python3 -c 'print(6*7*1000+1)') or HELLO-RAN: a killed exec's
# never shows.
CODE='print(6*7*1000+1)'
A=$(printf '%4000s' '' | tr ' ' a)     # 4000 bytes: the 4 KiB mark falls in the next argument
B=$(printf '%200s' '' | tr ' ' b)
LONG_BYTES=$(( ${#A} + 1 + ${#B} + 2 + 21 ))   # "/usr/local/bin/hello\0" A\0 B?\0
mkdir -p "$WORK/s" "$WORK/bin" "$WORK/sb"
# The guest's python3 has no standard library: the #! scripts run hello (which prints its
# argv) through an interpreter line with an optional argument. tests/host/argv.sh runs a
# python3 script on the host.
printf '#!/usr/local/bin/hello --tool\n' > "$WORK/s/tool.sh"
printf '#!/usr/local/bin/hello --tool\n' > "$WORK/s/evil.sh"
chmod 755 "$WORK/s/tool.sh" "$WORK/s/evil.sh"
TOOL_OUT="HELLO-RAN argv0=/usr/local/bin/hello --tool $WORK/s/tool.sh --mode safe"
ln -s /usr/bin/python3 "$WORK/bin/py"
HARD=/usr/local/bin/calyx-e-argv-py   # a hard link of the lease's python3 (same file system)
rm -f "$HARD"
ln "$(readlink -f /usr/bin/python3)" "$HARD" || fail "could not hard-link /usr/bin/python3 to $HARD"
X=/usr/local/bin/exec_as

sb_script "$WORK/sb/attacks.sh" <<EOF2
t py-version python3 --version
t py-c python3 -c '$CODE'
t argv0-abs $X /usr/bin/python3 /usr/bin/python3 --version
t argv0-joined $X 'python3 --version' /usr/bin/python3
t argv0-ok $X python3 /usr/bin/python3 --version
t tool-ok $WORK/s/tool.sh --mode safe
t tool-args $WORK/s/tool.sh --mode evil
t tool-interp-name hello --tool $WORK/s/tool.sh --mode safe
t tool-interp-same /usr/local/bin/hello --tool $WORK/s/tool.sh --mode safe
t tool-interp-c /usr/local/bin/hello -c '$CODE'
t tool-interp-other /usr/local/bin/hello --tool $WORK/s/evil.sh --mode safe
t sym-ok $X python3 $WORK/bin/py --version
t sym-c $X python3 $WORK/bin/py -c '$CODE'
t hard-ok $X python3 $HARD --version
t hard-c $X python3 $HARD -c '$CODE'
t long-ok /usr/local/bin/hello $A ${B}1
t long-diff /usr/local/bin/hello $A ${B}2
EOF2
sb_script "$WORK/sb/helper.sh" <<'EOF2'
t helper-a /usr/local/bin/hello one two
t helper-b /usr/local/bin/hello -c anything
t helper-none /usr/local/bin/hello
EOF2

# killed NAME (tests/lib/argv.sh): SIGKILL, and no payload ran.
. /tests/lib/argv.sh
# refused_for NAME: bpf-lsm refuses the image itself at exec (EACCES); landlock's
# exec-image check kills it.
refused_for() {
	if [ "$BK" = bpf-lsm ]; then is_denied "$1"; else killed "$1"; fi
}
# denied_has STATE STRING: an exec_event.denied record whose line holds STRING.
denied_has() { has_event "$1" exec_event.denied "$2"; }
no_output() { lacks "$RUN/stdout.log" "$1"; }

argv_suite() {
	BK=$1
	S=$WORK/$BK.state
	issue "$WORK/$BK.lease" --cmd "/bin/sh $WORK/sb/attacks.sh" --helper /bin/sh \
		--cmd 'python3 --version' --cmd "$WORK/s/tool.sh --mode safe" \
		--cmd "/usr/local/bin/hello $A ${B}1" --helper $X \
		--path "$WORK/sb/**:ro" --path "$WORK/s/**:ro" --path "$WORK/bin/**:ro" || return 0
	crun "$S" "$WORK/$BK.lease" /bin/sh "$WORK/sb/attacks.sh"
	check "[$BK] calyx run exits 0" run_ok
	check "[$BK] backend $BK" eq "$(meta enforcement.backend)" "$BK"
	check "[$BK] the lease command python3 --version runs" is_ok py-version "Python 3."
	check "[$BK] python3 -c CODE under a 'python3 --version' lease: SIGKILL" killed py-c
	check "[$BK] argv[0] spoofed as the full path: SIGKILL" killed argv0-abs
	check "[$BK] argv[0] 'python3 --version' as one string: SIGKILL" killed argv0-joined
	check "[$BK] argv[0] as the lease has it (through exec_as): runs" is_ok argv0-ok "Python 3."
	check "[$BK] #! script command with its argv: runs" is_ok tool-ok "$TOOL_OUT"
	check "[$BK] #! script command with other arguments: SIGKILL" killed tool-args
	check "[$BK] its interpreter by another name (hello --tool SCRIPT): SIGKILL" killed tool-interp-name
	check "[$BK] its interpreter with the very argv the kernel builds: runs (the same thing)" \
		is_ok tool-interp-same "$TOOL_OUT"
	check "[$BK] its interpreter with -c CODE: SIGKILL" killed tool-interp-c
	check "[$BK] its interpreter on another script: SIGKILL" killed tool-interp-other
	check "[$BK] the lease binary through a symlink, lease argv: runs" is_ok sym-ok "Python 3."
	check "[$BK] the lease binary through a symlink, other args: SIGKILL" killed sym-c
	if [ "$BK" = bpf-lsm ]; then
		check "[$BK] a hard link of the lease binary, lease argv: refused at exec (another path)" is_denied hard-ok
	else
		check "[$BK] a hard link of the lease binary, lease argv: runs (Landlock follows the inode)" is_ok hard-ok "Python 3."
	fi
	check "[$BK] a hard link of the lease binary, other args: refused" refused_for hard-c
	check "[$BK] an argv of $LONG_BYTES bytes equal to the lease's: runs" is_ok long-ok "HELLO-RAN"
	check "[$BK] an argv differing only after the first 4 KiB: SIGKILL" killed long-diff
	check "[$BK] no payload ran (42001)" no_output 42001
	check "[$BK] exec_event.denied carries the argv of python3 -c" \
		denied_has "$S" "\"argv\":[\"python3\",\"-c\",\"$CODE\"]"
	check "[$BK] ... says it was an argv kill, sent" denied_has "$S" '"hook":"exec_argv","class":"exec","errno":9'
	check "[$BK] ... and that the kill was sent" denied_has "$S" '"killed":true'
	check "[$BK] the spoofed argv[0] is in its record" denied_has "$S" '"argv":["python3 --version"]'
	check "[$BK] the long argv's record: its size, marked truncated" \
		denied_has "$S" "\"argv_bytes\":$LONG_BYTES,\"argv_truncated\":true"
	check "[$BK] meta.json counts the kills as exec denials" ge "$(meta denials.exec)" 9
	check "[$BK] nothing left" no_sandbox_left

	S=$WORK/$BK-helper.state
	issue "$WORK/$BK-helper.lease" --cmd "/bin/sh $WORK/sb/helper.sh" --helper /bin/sh \
		--helper /usr/local/bin/hello --path "$WORK/sb/**:ro" || return 0
	crun "$S" "$WORK/$BK-helper.lease" /bin/sh "$WORK/sb/helper.sh"
	check "[$BK] helper: calyx run exits 0" run_ok
	check "[$BK] a helper runs with any args" is_ok helper-a "HELLO-RAN argv0=/usr/local/bin/hello one two"
	check "[$BK] ... with other args" is_ok helper-b "HELLO-RAN argv0=/usr/local/bin/hello -c anything"
	check "[$BK] ... with none" is_ok helper-none "HELLO-RAN argv0=/usr/local/bin/hello"
	check "[$BK] helper: no exec denied" eq "$(svf_count "$S" exec_event.denied)" 0
	check "[$BK] helper: nothing left" no_sandbox_left
}

argv_suite bpf-lsm

# The landlock backend: the matrix says auto, the sandbox runs as 65534 (a root run on
# landlock is refused: docs/backends.md), the run asks for landlock.
sed -e 's/^enforcement: .*/enforcement: auto/' -e 's/^run_as: .*/run_as: {uid: 65534, gid: 65534}/' \
	"$MATRIX" > "$WORK/ll-matrix.yaml"
if grep -q '^enforcement: auto$' "$WORK/ll-matrix.yaml" && grep -q '^run_as: {uid: 65534' "$WORK/ll-matrix.yaml"; then
	MATRIX=$WORK/ll-matrix.yaml
	CALYX_RUN_ARGS="--enforce landlock"
	argv_suite landlock
else
	fail "could not render the landlock matrix"
fi
rm -f "$HARD"
