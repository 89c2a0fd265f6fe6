# Exec control: only the lease's binaries run; decided on the executed file.
# (1) try_exec is the command; exec of busybox (not in the lease) must fail with EACCES in
# the child, and exec_event.denied must be recorded.
issue "$WORK/x.lease" --cmd '/usr/local/bin/try_exec /usr/bin/busybox true' || exit 0
S=$WORK/x.state
crun "$S" "$WORK/x.lease" /usr/local/bin/try_exec /usr/bin/busybox true
check "exec of a binary outside the lease: EACCES in the child" has "$RUN/stdout.log" "errno=EACCES"
check "the sandboxed command's own exit code (1) passed through" eq "$RC" 1
check "SVF exec_event.denied names the binary" has_event "$S" exec_event.denied /usr/bin/busybox
check "meta.json denials.exec >= 1" ge "$(meta denials.exec)" 1
check "events.jsonl has the deny record with the path" run_event deny /usr/bin/busybox
check "no sandbox cgroup or BPF program left" no_sandbox_left

# (2) #! scripts: the script is a lease binary and the kernel then runs its interpreter,
# which the lease need not name: calyx binds the argv the kernel builds for it
# (interpreter, script, arguments; docs/lease-format.md "Argv binding"). good.sh's
# interpreter is hello, named nowhere in the lease: launched by try_exec (the lease
# command) it runs. A script whose interpreter cannot be bound (a relative name, which the
# kernel resolves from the caller's working directory) is refused before anything runs.
mkdir -p "$WORK/s"
printf '#!/bin/sh\necho SCRIPT-RAN\n' > "$WORK/s/notlease.sh"
printf '#!/usr/local/bin/hello\n' > "$WORK/s/good.sh"
printf '#!hello\n' > "$WORK/s/relative.sh"
chmod 755 "$WORK/s/notlease.sh" "$WORK/s/good.sh" "$WORK/s/relative.sh"
issue "$WORK/sb.lease" --cmd "/usr/local/bin/try_exec $WORK/s/notlease.sh" --path "$WORK/s/**:ro" || exit 0
crun "$WORK/sb.state" "$WORK/sb.lease" /usr/local/bin/try_exec "$WORK/s/notlease.sh"
check "#! script that is no lease binary: EACCES" has "$RUN/stdout.log" "errno=EACCES"
check "#! script that is no lease binary: it did not run" lacks "$RUN/stdout.log" "SCRIPT-RAN"
check "SVF exec_event.denied for the script" has_event "$WORK/sb.state" exec_event.denied notlease.sh
issue "$WORK/sg.lease" --cmd "/usr/local/bin/try_exec $WORK/s/good.sh" \
	--cmd "$WORK/s/good.sh" --path "$WORK/s/**:ro" || exit 0
crun "$WORK/sg.state" "$WORK/sg.lease" /usr/local/bin/try_exec "$WORK/s/good.sh"
check "#! script command: its interpreter runs with the argv the kernel builds" has "$RUN/stdout.log" "HELLO-RAN argv0=/usr/local/bin/hello"
check "calyx run exits 0" run_ok
issue "$WORK/sr.lease" --cmd "$WORK/s/relative.sh" --path "$WORK/s/**:ro" || exit 0
crun "$WORK/sr.state" "$WORK/sr.lease" "$WORK/s/relative.sh"
check "#! script with a relative interpreter: refused with 68" eq "$RC" 68
check "... naming the command and its interpreter" has "$ERR" "lease command '$WORK/s/relative.sh'"
check "... before anything ran (no run directory)" absent "$RUN"
