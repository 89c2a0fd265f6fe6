# Issue 8 class 5, on bpf-lsm: metadata of host files outside the lease (stat, lstat,
# readlink, getxattr, listxattr) and change notification on host directories
# (inotify) are refused with EACCES and recorded (file_event.denied, hook "metadata",
# with the op and the path the kernel resolved); the same reads of the lease's own files
# and of the runtime baseline work; every ancestor directory of a granted path can be
# stat'ed (path lookup, the loader) but not listed; pseudo files on kernel-internal mounts
# (a pipe, a socket, an eventfd) can be fstat'ed (progs/try_metaread).
# The host files lie in $H = $WORK/vis/host: the lease's `$WORK/vis/*:ro` puts $WORK/vis in
# the sandbox's mount view (so they are there to be looked at, not ENOENT) but grants only
# its direct entries, so nothing beneath $H is granted and the metadata hooks decide.
H=$WORK/vis/host
L=$WORK/lease
M=/usr/local/bin/try_metaread
mkdir -p "$H/dir" "$L/dir" "$WORK/sb"
echo host-secret > "$H/secret"
ln -sf secret "$H/link"
echo own > "$L/own.txt"
ln -sf own.txt "$L/own-link"
sb_script "$WORK/sb/meta.sh" <<EOF2
t stat $M stat $H/secret
t lstat $M lstat $H/link
t stat-dir $M stat $H/dir
t readlink $M readlink $H/link
t getxattr $M getxattr security.calyx $H/secret
t listxattr $M listxattr $H/secret
t inotify $M inotify $H/dir
t own-stat $M stat $L/own.txt
t own-lstat $M lstat $L/own-link
t own-readlink $M readlink $L/own-link
t own-getxattr $M getxattr security.calyx $L/own.txt
t own-listxattr $M listxattr $L/own.txt
t own-inotify $M inotify $L/dir
t own-dnotify $M dnotify $L/dir
t baseline-stat $M stat /usr/local/bin/try_metaread
t baseline-readlink $M readlink /bin/sh
t anc-root $M stat /
t anc-tmp $M stat /tmp
t anc-work $M stat $WORK
t anc-list /usr/local/bin/try_open $WORK r
t pseudo $M fstat-pipe
EOF2
S=$WORK/meta.state
issue "$WORK/meta.lease" --cmd "/bin/sh $WORK/sb/meta.sh" --helper /bin/sh --helper "$M" \
	--helper /usr/local/bin/try_open --path "$WORK/sb/**:ro" --path "$WORK/vis/*:ro" --path "$L/**:rw" || exit 0
crun "$S" "$WORK/meta.lease" /bin/sh "$WORK/sb/meta.sh"
check "calyx run exits 0" run_ok
check "the run is on bpf-lsm" eq "$(meta enforcement.backend)" bpf-lsm
check "stat of a host file outside the lease: EACCES" errno_is stat EACCES
check "lstat of a host symlink: EACCES" errno_is lstat EACCES
check "stat of a host directory no rule grants (no ancestor of a lease path): EACCES" errno_is stat-dir EACCES
check "readlink of a host symlink: EACCES" errno_is readlink EACCES
check "getxattr of a host file: EACCES" errno_is getxattr EACCES
check "listxattr of a host file: EACCES" errno_is listxattr EACCES
check "inotify watch on a host directory: EACCES" errno_is inotify EACCES
check "stat of the lease's own file works" is_ok own-stat
check "lstat of the lease's own symlink works" is_ok own-lstat
check "readlink of it works" is_ok own-readlink "ok readlink own.txt"
check "getxattr of the lease's file reaches the file system (ENODATA: no such attribute)" eq "$(line own-getxattr)" "rc=1 errno=ENODATA (getxattr)"
check "listxattr of it works" is_ok own-listxattr
check "inotify on a lease directory works" is_ok own-inotify
check "dnotify on a lease directory works" is_ok own-dnotify
check "stat of a baseline binary works" is_ok baseline-stat
check "readlink in the baseline works" is_ok baseline-readlink
check "stat of / works (an ancestor: TRAVERSE)" is_ok anc-root
check "stat of /tmp works (an ancestor)" is_ok anc-tmp
check "stat of $WORK works (an ancestor)" is_ok anc-work
check "... but an ancestor cannot be listed (open: EACCES)" errno_is anc-list EACCES
check "fstat of a pipe, a socket and an eventfd works (kernel-internal mounts)" is_ok pseudo
for op in stat readlink getxattr listxattr notify; do
	check "SVF file_event.denied: metadata $op" has_event "$S" file_event.denied "\"hook\":\"metadata\""
	check "... with op $op" has_event "$S" file_event.denied "\"op\":\"$op\""
done
check "... naming the host file, resolved by the kernel" has_event "$S" file_event.denied "\"op\":\"stat\",\"path\":\"$H/secret\",\"path_source\":\"kernel\""
check "... and the watched directory" has_event "$S" file_event.denied "\"op\":\"notify\",\"path\":\"$H/dir\""
check "meta.json counts the file denials" ge "$(meta denials.file)" 8
check "nothing left" no_sandbox_left
