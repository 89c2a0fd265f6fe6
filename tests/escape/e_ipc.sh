# Issue 8 classes 3 and 4, on bpf-lsm: SysV IPC, POSIX message queues and keyrings are
# the host's (one IPC namespace, the run_as user's keyrings), so the enforcer refuses
# them inside a sandbox (bpf/host.bpf.c, bpf/file.bpf.c): a world-accessible host shm
# segment, message queue and semaphore set made by this test cannot be got or attached
# (by key or by id), no new one can be made (none is left after the run), a host POSIX
# queue cannot be opened or unlinked and no new one made, a host key in the user keyring
# cannot be read or found, and no key can be added; each refusal is recorded
# (ipc_event.denied / key_event.denied). The one exception: a new empty session keyring
# (the kernel makes keyrings for the task itself) works.
# The seccomp baseline already refuses the keyring calls; this test runs under a copy of
# the matrix that re-opens the keyring group (docs/seccomp.md), so the enforcer's hooks are
# what is tested. Where a private IPC namespace hides the host's objects (ENOENT,
# EINVAL), they are out of reach too: that is accepted for the host objects, while the
# creations always reach the hooks.
I=/usr/local/bin/try_ipc
mkdir -p "$WORK/sb"
sed -e 's/^seccomp: .*/seccomp: {allow: [inet_sockets, keyring]}/' "$MATRIX" > "$WORK/ipc-matrix.yaml"
MATRIX=$WORK/ipc-matrix.yaml
id_of() { sed -n "s/^ok $1 //p" "$WORK/setup-$1.out"; }
for o in shm msg sem; do
	$I $o-create 0xca1c0 > "$WORK/setup-$o-create.out" 2>&1
	check "setup: host $o object made" has "$WORK/setup-$o-create.out" "ok $o-create"
done
$I mq-create /calyx-host > "$WORK/setup-mq.out" 2>&1
check "setup: host POSIX queue made" has "$WORK/setup-mq.out" "ok mq-create"
$I key-create calyx-host-key host-key-data > "$WORK/setup-key-create.out" 2>&1
check "setup: host key in the user keyring" has "$WORK/setup-key-create.out" "ok key-create"
SHMID=$(id_of shm-create)
KEYID=$(id_of key-create)
sb_script "$WORK/sb/ipc.sh" <<EOF2
t shm-get $I shm-get 0xca1c0
t shm-at $I shm-at $SHMID
t msg-get $I msg-get 0xca1c0
t sem-get $I sem-get 0xca1c0
t shm-new $I shm-new
t msg-new $I msg-new
t sem-new $I sem-new
t mq-open $I mq-open /calyx-host
t mq-unlink $I mq-unlink /calyx-host
t mq-new $I mq-new /calyx-inside
t key-read $I key-read $KEYID
t key-search $I key-search calyx-host-key
t key-add $I key-add calyx-planted
t key-session $I key-session
EOF2
S=$WORK/ipc.state
issue "$WORK/ipc.lease" --cmd "/bin/sh $WORK/sb/ipc.sh" --helper /bin/sh --helper "$I" \
	--path "$WORK/sb/**:ro" || exit 0
crun "$S" "$WORK/ipc.lease" /bin/sh "$WORK/sb/ipc.sh"
check "calyx run exits 0" run_ok
check "the run is on bpf-lsm" eq "$(meta enforcement.backend)" bpf-lsm
# out of reach: EACCES, or the object is not there at all from inside (ENOENT, EINVAL)
OUT_OF_REACH="EACCES ENOENT EINVAL"
check "shmget + shmat of the host segment refused" errno_is shm-get $OUT_OF_REACH
check "shmat of the host segment by id refused" errno_is shm-at $OUT_OF_REACH
check "msgget of the host queue refused" errno_is msg-get $OUT_OF_REACH
check "semget of the host semaphore set refused" errno_is sem-get $OUT_OF_REACH
check "a new shm segment: EACCES" errno_is shm-new EACCES
check "a new message queue: EACCES" errno_is msg-new EACCES
check "a new semaphore set: EACCES" errno_is sem-new EACCES
check "mq_open of the host queue refused" errno_is mq-open $OUT_OF_REACH
check "mq_unlink of the host queue refused" errno_is mq-unlink $OUT_OF_REACH
check "a new POSIX queue: EACCES" errno_is mq-new EACCES
# A refused key_permission during the key look-up surfaces as ENOKEY from keyctl(READ)
# and add_key (the kernel maps any look-up failure to it); the records below show the
# hook refused.
check "reading the host key by id refused" errno_is key-read EACCES ENOKEY
check "... its data never printed" lacks "$RUN/stdout.log" host-key-data
check "searching the user keyring refused" errno_is key-search EACCES ENOKEY
check "adding a key to the session keyring refused" errno_is key-add EACCES ENOKEY
check "joining a new empty session keyring works (the exception)" is_ok key-session
# the host's objects are unchanged, and nothing was left behind
$I shm-get 0xca1c0 > "$WORK/after-shm.out" 2>&1
check "the host segment still holds its data" has "$WORK/after-shm.out" "read 'host-secret'"
$I mq-open /calyx-host > "$WORK/after-mq.out" 2>&1
check "the host POSIX queue is still there" has "$WORK/after-mq.out" "ok mq-open"
$I mq-open /calyx-inside > "$WORK/after-mq-in.out" 2>&1
check "no POSIX queue was left by the refused create" has "$WORK/after-mq-in.out" "errno=ENOENT"
check "the only SysV objects are the test's own (one of each)" eq "$(awk 'NR > 1 && $1 ~ /^[0-9]/' /proc/sysvipc/shm /proc/sysvipc/msg /proc/sysvipc/sem | grep -c .)" 3
$I key-read "$KEYID" > "$WORK/after-key.out" 2>&1
check "the host key is unchanged" has "$WORK/after-key.out" "ok key-read 'host-key-data'"
for op in shmget_create msgget_create semget_create mq_open; do
	check "SVF ipc_event.denied: $op" has_event "$S" ipc_event.denied "\"op\":\"$op\""
done
check "SVF key_event.denied: key_permission" has_event "$S" key_event.denied "\"op\":\"key_permission\""
check "nothing left" no_sandbox_left
