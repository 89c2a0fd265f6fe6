# The landlock backend on a pure cgroup v2 host (cgroup2 at /sys/fs/cgroup with memory,
# pids and cpu) and the guest kernel's Landlock ABI (2 on Debian's 6.1: no TCP rights, no
# scoping; 6 on 6.12), asked of the kernel by landlock_abi. The host tier only sees it on
# a hybrid layout with ABI >= 6. matrix.yaml demands bpf-lsm and runs as root, so
# this test runs under a copy that says `enforcement: auto`, asks for landlock and runs
# as the unprivileged uid 65534 (a root sandbox on landlock is refused: case 0).
sed -e 's/^enforcement: .*/enforcement: auto/' "$MATRIX" > "$WORK/ll-root-matrix.yaml"
sed -e 's/^run_as: .*/run_as: {uid: 65534, gid: 65534}/' "$WORK/ll-root-matrix.yaml" > "$WORK/ll-matrix.yaml"
grep -q '^enforcement: auto$' "$WORK/ll-matrix.yaml" && grep -q '^run_as: {uid: 65534, gid: 65534}$' "$WORK/ll-matrix.yaml" &&
	grep -q '^run_as: {uid: 0, gid: 0}$' "$WORK/ll-root-matrix.yaml" || { fail "could not render the auto matrices"; exit 0; }
MATRIX=$WORK/ll-matrix.yaml
CALYX_RUN_ARGS="--enforce landlock"

# line_has NAME STRING: that check's line of the last script run contains STRING.
line_has() {
	case $(line "$1") in
	*"$2"*) return 0 ;;
	esac
	WHY="want '$2' in '$(line "$1")'"
	return 1
}
# contains HAYSTACK NEEDLE
contains() {
	case $1 in
	*"$2"*) return 0 ;;
	esac
	WHY="'$2' not in '$1'"
	return 1
}

ABI=$(/usr/local/bin/landlock_abi) && [ "$ABI" -ge 1 ] || { fail "the kernel reports no Landlock ABI ('$ABI')"; exit 0; }
mkdir -p "$WORK/ro" "$WORK/rw" "$WORK/sb"
chown 65534:65534 "$WORK/rw"
echo ro-data > "$WORK/ro/data.txt"
# In the view (the lease's $WORK/vis/* binds vis) but under no rule: Landlock refuses it.
mkdir -p "$WORK/vis/in"
echo secret > "$WORK/vis/in/secret.txt"

# (0) A root matrix on landlock: Landlock does not mediate chmod, chown or setxattr, so
# the run is refused (69) at the choice of backend: nothing runs, the lease is not used.
S=$WORK/root.state
issue "$WORK/root.lease" --cmd "/bin/sh -c 'touch $WORK/root-ran'" || exit 0
MATRIX=$WORK/ll-root-matrix.yaml
crun "$S" "$WORK/root.lease" /bin/sh -c "touch $WORK/root-ran"
check "root matrix on landlock: refused with exit 69" eq "$RC" 69
check "... saying why" has "$ERR" "run_as uid 0 on the landlock backend: Landlock does not mediate chmod, chown or setxattr"
check "... and that bpf-lsm can run it" has "$ERR" "the bpf-lsm backend can run it"
check "... nothing ran" absent "$WORK/root-ran"
check "... no run directory" absent "$RUN"
check "... the lease was not consumed" eq "$(svf_count "$S" lease_event.consumed)" 0
crun "$S" "$WORK/root.lease" /bin/sh -c "touch $WORK/root-ran"
MATRIX=$WORK/ll-matrix.yaml
check "... refused again with 69 (not 67: not replayed)" eq "$RC" 69
check "root matrix on landlock: nothing left" no_sandbox_left

# (1) The allowed command runs, on the landlock backend, and meta.json says which ABI.
issue "$WORK/a.lease" --cmd "/usr/local/bin/try_open $WORK/ro/data.txt r" --path "$WORK/ro/**:ro" || exit 0
crun "$WORK/a.state" "$WORK/a.lease" /usr/local/bin/try_open "$WORK/ro/data.txt" r
check "allowed command: calyx run exits 0" run_ok
check "allowed command: stdout.log holds its output" eq "$(cat "$RUN/stdout.log" 2>/dev/null)" "ok read: ro-data"
check "meta.json enforcement.backend is landlock" eq "$(meta enforcement.backend)" landlock
check "meta.json enforcement.reason names the kernel's Landlock ABI $ABI" contains "$(meta enforcement.reason)" "Landlock ABI $ABI "
check "meta.json enforcement.cgroup lies in the v2 mount at /sys/fs/cgroup" \
	contains "$(meta enforcement.cgroup)" "/sys/fs/cgroup/calyx/"
check "meta.json enforcement.landlock names the kernel's Landlock ABI $ABI" contains "$(meta enforcement.landlock)" "Landlock ABI $ABI;"
check "meta.json status ok" eq "$(meta status)" ok
check "allowed command: nothing left" no_sandbox_left

# (2) Files and network in one sandbox. An allowed UDP send succeeds with or without a
# listener, and the TCP listener outside makes an allowed connect succeed, so only a real
# denial shows EACCES/EPERM.
listen_tcp tcp4 127.0.0.1 7201 > "$WORK/l4.out" 2>&1 &
l4=$!
trap 'kill $l4 2>/dev/null' EXIT
sleep 0.3
sb_script "$WORK/sb/ll.sh" <<EOF2
t rd-out /usr/local/bin/try_open $WORK/vis/in/secret.txt r
t wr-null /usr/local/bin/try_open /dev/null w x
t rd-ro /usr/local/bin/try_open $WORK/ro/data.txt r
t wr-ro /usr/local/bin/try_open $WORK/ro/data.txt w clobbered
t wr-rw /usr/local/bin/try_open $WORK/rw/out.txt w sandbox-wrote
t rd-rw /usr/local/bin/try_open $WORK/rw/out.txt r
t sendto4 /usr/local/bin/try_sendto udp4 127.0.0.1 7202
t tcp4 /usr/local/bin/try_connect tcp4 127.0.0.1 7201
EOF2
S=$WORK/f.state
script_run f "$WORK/sb/ll.sh" --net deny_all --helper /usr/local/bin/try_open \
	--helper /usr/local/bin/try_sendto --helper /usr/local/bin/try_connect \
	--path "$WORK/sb/**:ro" --path "$WORK/ro/**:ro" --path "$WORK/rw/**:rw" --path "$WORK/vis/*:ro" || exit 0
check "files/net: calyx run exits 0" run_ok
check "files/net: backend landlock" eq "$(meta enforcement.backend)" landlock
check "read outside the lease and baseline denied (EACCES)" line_has rd-out "errno=EACCES"
check ":ro path readable" is_ok rd-ro "ok read: ro-data"
check "write to a :ro path: its read-only mount refuses it" errno_is wr-ro EROFS
check "write to the baseline's /dev/null (ro rule, working device) denied" is_denied wr-null
check "... the :ro file is unchanged" eq "$(cat "$WORK/ro/data.txt")" ro-data
check ":rw path writable" is_ok wr-rw "ok wrote"
check "... and the file holds what the sandbox wrote" eq "$(cat "$WORK/rw/out.txt" 2>/dev/null)" sandbox-wrote
check ":rw path readable back" is_ok rd-rw "ok read: sandbox-wrote"
check "UDP sendto over IPv4 denied (cgroup BPF)" is_denied sendto4
check "TCP connect over IPv4 denied (ABI $ABI; cgroup BPF below ABI 4)" is_denied tcp4
check "the TCP listener received nothing" lacks "$WORK/l4.out" "got:"
# Landlock's own refusals of files are enforced (above) but not observed on this backend:
# meta.json says so with a null count, and no record is claimed.
check "meta.json denials.file is null (not observed on landlock)" eq "$(meta denials.file)" null
check "... and no file_event.denied is claimed" eq "$(svf_count "$S" file_event.denied)" 0
check "SVF net_event.denied recorded" has_event "$S" net_event.denied
check "meta.json denials.net >= 2" ge "$(meta denials.net)" 2
check "files/net: nothing left" no_sandbox_left
kill $l4 2>/dev/null

# (3) Fileless exec: Landlock lets it through; the exec-image check kills the task.
S=$WORK/x.state
issue "$WORK/x.lease" --cmd "/usr/local/bin/memfd_exec memfd /usr/local/bin/hello" || exit 0
crun "$S" "$WORK/x.lease" /usr/local/bin/memfd_exec memfd /usr/local/bin/hello
check "memfd exec: the payload never ran" lacks "$RUN/stdout.log" "HELLO-RAN"
check "memfd exec: killed by SIGKILL (meta.json signal 9)" eq "$(meta signal)" 9
check "memfd exec: calyx exit 137" eq "$RC" 137
check "memfd exec: SVF exec_event.denied" has_event "$S" exec_event.denied
check "memfd exec: nothing left" no_sandbox_left

# (4) The memory limit, through memory.max of the pure v2 hierarchy.
issue "$WORK/m.lease" --cmd '/usr/local/bin/hog mem 200' --limit mem=32M,wall=10s || exit 0
crun "$WORK/m.state" "$WORK/m.lease" /usr/local/bin/hog mem 200
check "memory bomb: not allowed to finish its 200 MiB" lacks "$RUN/stdout.log" "ok allocated"
check "memory bomb: exit 123 (limit)" eq "$RC" 123
check "memory bomb: status violation" eq "$(meta status)" violation
check "memory bomb: meta.json violation mem_bytes" eq "$(meta violation.limit)" mem_bytes
check "memory bomb: enforced through memory.max" contains "$(meta limits.enforced.mem_bytes)" "memory.max"
check "memory bomb: backend landlock" eq "$(meta enforcement.backend)" landlock
check "memory bomb: nothing left" no_sandbox_left
