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

# (2) #! scripts: the interpreter is checked too. Each script is itself a lease binary,
# launched by try_exec for the exact errno. bad.sh's interpreter /bin/sh (busybox) is not
# in the lease: denied. good.sh's interpreter (hello) is: it runs.
mkdir -p "$WORK/s"
printf '#!/bin/sh\necho SCRIPT-RAN\n' > "$WORK/s/bad.sh"
printf '#!/usr/local/bin/hello\n' > "$WORK/s/good.sh"
chmod 755 "$WORK/s/bad.sh" "$WORK/s/good.sh"
issue "$WORK/sb.lease" --cmd "/usr/local/bin/try_exec $WORK/s/bad.sh" \
	--cmd "$WORK/s/bad.sh" --path "$WORK/s/**:ro" || exit 0
crun "$WORK/sb.state" "$WORK/sb.lease" /usr/local/bin/try_exec "$WORK/s/bad.sh"
check "#! script with a disallowed interpreter: EACCES" has "$RUN/stdout.log" "errno=EACCES"
check "#! script with a disallowed interpreter: the script did not run" lacks "$RUN/stdout.log" "SCRIPT-RAN"
check "SVF exec_event.denied for the interpreter" has_event "$WORK/sb.state" exec_event.denied
issue "$WORK/sg.lease" --cmd "/usr/local/bin/try_exec $WORK/s/good.sh" \
	--cmd "$WORK/s/good.sh" --cmd /usr/local/bin/hello --path "$WORK/s/**:ro" || exit 0
crun "$WORK/sg.state" "$WORK/sg.lease" /usr/local/bin/try_exec "$WORK/s/good.sh"
check "#! script with an allowed interpreter runs" has "$RUN/stdout.log" "HELLO-RAN"
check "calyx run exits 0" run_ok
