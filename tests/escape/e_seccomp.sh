# The seccomp baseline (docs/seccomp.md), on both backends: the bpf-lsm half under the VM
# matrix (run_as root), the landlock half as uid 65534 (never root: a root matrix fails
# closed on landlock). The matrix relaxes nothing here (the VM matrix's inet_sockets line
# is dropped). Each attack must get exactly EPERM, and its refusal must be in the SVF log
# by name (syscall_event.denied, net_event.denied for socket creation) and in meta.json.
sed -e '/^seccomp:/d' "$MATRIX" > "$WORK/sc-matrix.yaml"
sed -e 's/^enforcement: .*/enforcement: auto/' -e 's/^run_as: .*/run_as: {uid: 65534, gid: 65534}/' \
	"$WORK/sc-matrix.yaml" > "$WORK/sc-ll-matrix.yaml"
if grep -q '^seccomp:' "$WORK/sc-matrix.yaml" || ! grep -q '^run_as: {uid: 65534' "$WORK/sc-ll-matrix.yaml"; then
	fail "could not render the unrelaxed matrices"
	exit 0
fi
P=/usr/local/bin/try_seccomp
mkdir -p "$WORK/sb"
sb_script "$WORK/sb/sc.sh" <<'EOF2'
P=/usr/local/bin/try_seccomp
t io_uring_setup $P io_uring_setup
t io_uring_enter $P io_uring_enter
t keyctl-read $P keyctl-read
t add_key $P add_key
t request_key $P request_key
t fanotify $P fanotify
t userfaultfd $P userfaultfd
t uffd-dev $P uffd-dev
t uffd-ioctl $P uffd-ioctl-hi
t personality-rie $P personality-rie
t personality-nor $P personality-nor
t personality-q $P personality-q
t socket-netlink $P socket netlink
t socket-vsock $P socket vsock
t socket-inet $P socket inet
t socket-inet6 $P socket inet6
t socketpair-inet $P socketpair inet
t socket-unix $P socket unix
t i386-io_uring $P i386-io_uring
t i386-keyctl $P i386-keyctl
t i386-socketcall $P i386-socketcall
t x32-io_uring $P x32-io_uring
EOF2
chmod -R a+rX "$WORK/sb"

# is_eperm NAME: exactly EPERM (the baseline's answer), not any refusal.
is_eperm() {
	local l
	l=$(line "$1")
	case $l in *errno=EPERM*) return 0 ;; esac
	WHY="want errno=EPERM, got '${l:-<no line $1 in stdout.log>}'"
	return 1
}

for half in bpf-lsm landlock; do
	if [ "$half" = bpf-lsm ]; then
		MATRIX=$WORK/sc-matrix.yaml CALYX_RUN_ARGS= uid=0
	else
		MATRIX=$WORK/sc-ll-matrix.yaml CALYX_RUN_ARGS="--enforce landlock" uid=65534
	fi
	S=$WORK/sc-$half.state
	# /bin/sh is a helper too: the prelude runs busybox applets (tests/vm/lib.sh script_run)
	issue "$WORK/sc-$half.lease" --cmd "/bin/sh $WORK/sb/sc.sh" --helper /bin/sh --helper "$P" \
		--path "$WORK/sb/**:ro" || exit 0
	crun "$S" "$WORK/sc-$half.lease" /bin/sh "$WORK/sb/sc.sh"
	check "[$half] calyx run exits 0" run_ok
	check "[$half] backend $half, uid $uid" eq "$(meta enforcement.backend)/$(meta run_as.uid)" "$half/$uid"
	for a in io_uring_setup io_uring_enter keyctl-read add_key request_key fanotify userfaultfd uffd-ioctl \
		personality-rie personality-nor socket-netlink socket-vsock socket-inet socket-inet6 socketpair-inet \
		i386-io_uring i386-keyctl i386-socketcall x32-io_uring; do
		check "[$half] $a: EPERM" is_eperm "$a"
	done
	check "[$half] /dev/userfaultfd is not even opened" sh -c \
		"grep -Eq '^uffd-dev: rc=1 errno=(EACCES|ENOENT) \(open /dev/userfaultfd\)' '$RUN/stdout.log'"
	check "[$half] personality query still works" is_ok personality-q
	check "[$half] AF_UNIX sockets still work" is_ok socket-unix
	# recorded by name (data keys in this order: syscall, abi, nr, then the arguments)
	for n in io_uring_setup io_uring_enter keyctl add_key request_key fanotify_init userfaultfd personality ioctl; do
		check "[$half] SVF syscall_event.denied names $n" has_event "$S" syscall_event.denied "\"syscall\":\"$n\",\"abi\":\"x86_64\""
	done
	check "[$half] SVF: personality(READ_IMPLIES_EXEC) with its flags" has_event "$S" syscall_event.denied '"persona":"0x400000"'
	check "[$half] SVF: the i386 entry of io_uring_setup, by name" has_event "$S" syscall_event.denied '"syscall":"io_uring_setup","abi":"i386"'
	check "[$half] SVF: the i386 entry of keyctl, by name" has_event "$S" syscall_event.denied '"syscall":"keyctl","abi":"i386"'
	check "[$half] SVF: the x32 entry of io_uring_setup, by name" has_event "$S" syscall_event.denied '"syscall":"io_uring_setup","abi":"x32"'
	for f in netlink vsock inet inet6; do
		check "[$half] SVF net_event.denied: socket($f)" has_event "$S" net_event.denied "\"syscall\":\"socket\",\"abi\":\"x86_64\",\"nr\":41,\"family\":\"$f\""
	done
	check "[$half] SVF net_event.denied: socketpair(inet)" has_event "$S" net_event.denied '"syscall":"socketpair","abi":"x86_64","nr":53,"family":"inet"'
	check "[$half] SVF net_event.denied: i386 socketcall(SYS_SOCKET)" has_event "$S" net_event.denied '"syscall":"socketcall","abi":"i386"'
	check "[$half] SVF: one record per refused call (19)" eq "$(grep -c '"hook":"seccomp"' "$(svf_log "$S")")" 19
	check "[$half] meta.json seccomp: 19 refusals, all recorded" eq \
		"$(meta seccomp.refusals)/$(meta seccomp.recorded)/$(meta seccomp.not_recorded)" 19/19/0
	check "[$half] meta.json: nothing relaxed" eq "$(meta seccomp.relaxed.0)" ""
	check "[$half] events.jsonl has the seccomp refusals" run_event deny '"hook":"seccomp"'
	check "[$half] no sandbox cgroup or BPF program left" no_sandbox_left
done
MATRIX=/tests/vm/matrix.yaml CALYX_RUN_ARGS=
