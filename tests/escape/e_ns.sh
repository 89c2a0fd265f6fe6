# The sandbox's namespaces (docs/run.md "The sandbox's view and namespaces"), on both
# backends: the bpf-lsm half under the VM matrix (run_as root: the worst case), the
# landlock half as uid 65534. A root sandbox must not reach what the host holds in its
# IPC namespace (a world-readable SysV segment, queue and semaphore set), its network
# namespace (interfaces, sockets, an abstract AF_UNIX listener) or its UTS name; what it
# creates there is gone with the run; its working directory is /; its mount view shows
# no host file outside it (ENOENT for open, stat, readlink, listxattr, inotify) and a /proc
# of its own PID namespace. (The session keyring:
# tests/host/view.sh, which re-opens the keyring calls the seccomp baseline refuses.)
# The host looks at the running sandbox through /proc/PID/ns.
P=/usr/local/bin/ns_probe
TAG=calyx-ens-$$
HK=$((0x5c000000 + $$ % 65536)) IK=$((0x5d000000 + $$ % 65536))
for t in shm msg sem; do
	$P "$t-make" "$HK" | grep -q '^ok' || fail "host: SysV $t $HK could not be made"
done
mkdir -p "$WORK/sb" "$WORK/outside-dir"
echo host-file > "$WORK/outside-file"
chmod 644 "$WORK/outside-file"
ln -s /etc/passwd "$WORK/outside-link"
mkfifo -m 666 "$WORK/sb/fifo"
sb_script "$WORK/sb/ns.sh" <<EOF2
P=$P
t hostname \$P hostname
t cwd \$P cwd
t shm-get \$P shm-get $HK
t msg-get \$P msg-get $HK
t sem-get \$P sem-get $HK
t shm-make \$P shm-make $IK
t msg-make \$P msg-make $IK
t sem-make \$P sem-make $IK
t abs-bind \$P abs-bind $TAG
t abs-connect \$P abs-connect $TAG
t links \$P links
t stat-out \$P stat $WORK/outside-file
t read-out \$P read $WORK/outside-file
t readlink-out \$P readlink $WORK/outside-link
t listxattr-out \$P listxattr $WORK/outside-file
t inotify-out \$P inotify $WORK/outside-dir
t proc-fs \$P read /proc/filesystems
echo waiting
read x < $WORK/sb/fifo
EOF2
chmod -R a+rX "$WORK/sb"
sed -e 's/^enforcement: .*/enforcement: auto/' -e 's/^run_as: .*/run_as: {uid: 65534, gid: 65534}/' \
	"$MATRIX" > "$WORK/ns-ll-matrix.yaml"
grep -q '^run_as: {uid: 65534' "$WORK/ns-ll-matrix.yaml" || fail "could not render the landlock matrix"

for half in bpf-lsm landlock; do
	if [ "$half" = bpf-lsm ]; then
		M=/tests/vm/matrix.yaml A=
	else
		M=$WORK/ns-ll-matrix.yaml A="--enforce landlock"
	fi
	$P abs-listen "$TAG" 60 > "$WORK/listener-$half.out" &
	LPID=$!
	wait_file "$WORK/listener-$half.out" 50
	issue "$WORK/ns-$half.lease" --cmd "/bin/sh $WORK/sb/ns.sh" --helper /bin/sh --helper "$P" \
		--path "$WORK/sb/**:ro" --path "$WORK/sb/fifo:rw" || exit 0
	MATRIX=$M CALYX_RUN_ARGS=$A bg_run "ns-$half" "$WORK/ns-$half.lease" /bin/sh "$WORK/sb/ns.sh"
	check "[$half] the sandbox is up" wait_sandbox_procs 1 "$BG_PID"
	SPID=$(sandboxed_pids | head -n 1)
	RUNDIR=$WORK/ns-$half.state/outgoing/staging_runs
	i=0
	while ! grep -qs '^waiting' "$RUNDIR"/*/stdout.log "$RUNDIR"/.*tmp*/stdout.log && [ $i -lt 300 ]; do
		i=$((i + 1)); sleep 0.1
	done
	if [ -n "$SPID" ]; then
		PIDS=$(ls "/proc/$SPID/root/proc" | grep -E '^[0-9]+$' | sort -n | tr '\n' ' ')
		check "[$half] its /proc holds only its own PID namespace's pids ($PIDS)" \
			sh -c "printf '%s\n' '$PIDS' | grep -Eqx '1( [2-9])* '"
		check "[$half] the host file is not in its root" absent "/proc/$SPID/root$WORK/outside-file"
		for ns in net ipc uts cgroup pid mnt; do
			check "[$half] its $ns namespace is not the host's" \
				ne "$(readlink "/proc/$SPID/ns/$ns")" "$(readlink /proc/self/ns/$ns)"
		done
		check "[$half] RTM_GETLINK in its network namespace: only loopback, up" \
			eq "$($P in "/proc/$SPID/ns/net" links)" "ok lo+up"
		# The guest kernel has unix_diag as a module it does not load: /proc/net/unix
		# instead (what ss falls back to), read in that namespace. tests/host/view.sh
		# asks sock_diag.
		check "[$half] /proc/net/unix in its network namespace: no host socket (host: $(($(wc -l < /proc/net/unix) - 1)))" \
			eq "$($P in "/proc/$SPID/ns/net" cat /proc/net/unix | wc -l)" 1
		check "[$half] its cgroup namespace is rooted at the sandbox cgroup" \
			eq "$($P in "/proc/$SPID/ns/cgroup" cat "/proc/$SPID/cgroup")" "0::/"
	fi
	echo go > "$WORK/sb/fifo"
	wait "$BG_PID"
	RC=$(cat "$WORK/ns-$half.rc")
	RUN=$(ls -d "$WORK/ns-$half.state"/outgoing/staging_runs/LEASE-* 2>/dev/null | tail -n 1)
	check "[$half] calyx run exits 0" run_ok
	check "[$half] backend $half" eq "$(meta enforcement.backend)" "$half"
	check "[$half] host name calyx" is_ok hostname "ok calyx"
	check "[$half] working directory /" eq "$(line cwd)" "rc=0 ok /"
	for t in shm msg sem; do
		check "[$half] the host's world-readable SysV $t is invisible" eq "$(line $t-get)" "rc=1 errno=ENOENT ($t-get)"
		check "[$half] a SysV $t made inside is gone with the run" eq "$($P $t-get $IK)" "errno=ENOENT ($t-get)"
	done
	if [ "$half" = landlock ]; then
		check "[$half] its own SysV segment is made (its IPC namespace)" is_ok shm-make "ok 0"
		check "[$half] binding the name a host listener holds succeeds (its own namespace)" is_ok abs-bind "ok bound"
	fi
	case $(line abs-connect) in
	*errno=ECONNREFUSED*|*errno=EACCES*|*errno=EPERM*) pass "[$half] the host's abstract listener is not reached: $(line abs-connect)" ;;
	*) fail "[$half] connecting to the host's abstract listener: $(line abs-connect)" ;;
	esac
	for o in stat read readlink listxattr inotify; do
		check "[$half] the view: $o of a host path outside it is ENOENT" eq "$(line $o-out)" "rc=1 errno=ENOENT ($o)"
	done
	check "[$half] the view: the baseline's /proc/filesystems opens in its own /proc" eq "$(line proc-fs)" "rc=0 ok"
	check "[$half] netlink stays refused (seccomp, deny_all)" eq "$(line links)" "rc=1 errno=EPERM (socket(AF_NETLINK))"
	check "[$half] the host's abstract listener still waits: the host connects" eq "$($P abs-connect "$TAG")" "ok connected"
	wait "$LPID"
	check "[$half] ... and it saw that one connection only" eq "$(tr '\n' ' ' < "$WORK/listener-$half.out")" "ok listening ok accepted "
	check "[$half] meta.json sandbox.namespaces" eq \
		"$(meta sandbox.namespaces.0) $(meta sandbox.namespaces.1) $(meta sandbox.namespaces.2) $(meta sandbox.namespaces.3) $(meta sandbox.namespaces.4) $(meta sandbox.namespaces.5)" \
		"pid net mnt ipc uts cgroup"
	check "[$half] meta.json sandbox.hostname, view.cwd" eq "$(meta sandbox.hostname) $(meta sandbox.view.cwd)" "calyx /"
	for t in shm msg sem; do $P "$t-rm" "$IK" >/dev/null; done
	check "[$half] no sandbox cgroup or BPF program left" no_sandbox_left
done
for t in shm msg sem; do $P "$t-rm" "$HK" >/dev/null; done
