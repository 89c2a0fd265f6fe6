# Issue 8 class 8, on bpf-lsm: a sandbox running as root (the matrix's run_as) keeps
# CAP_CHOWN, CAP_FOWNER and CAP_FSETID, so file permissions do not stop it changing a
# host file's metadata; only the enforcer's path_chmod, path_chown, inode_setxattr and
# inode_removexattr hooks do, outside the lease's :rw paths. (On the landlock backend,
# which does not mediate these, a root matrix is refused before anything runs:
# t_landlock case 0, tests/host/run.sh.)
# The attacks: the setuid bit on a host binary (chmod, and fchmod on a descriptor opened
# for reading), a file capability (security.capability) on it, chown of a root-only file
# and of a symlink, an ACL granting uid 65534 rwx (setxattr system.posix_acl_access), a
# trusted.* attribute planted and one removed (tmpfs on 6.1 has no user.* attributes).
# The targets lie in $V/sub: visible in the mount view (the `$V/*:rw` grant binds $V,
# writable) but granted by no rule (`*` admits direct children only); each must be
# refused AND leave the file as it was. The same operations on the lease's own :rw file
# $V/own.txt succeed: the capabilities are there, the enforcer is what says no (but for
# extended attributes, which bpf-lsm refuses everywhere, `:rw` included).
V=$WORK/v
D=$V/sub
M=/usr/local/bin/try_meta
mkdir -p "$D" "$WORK/sb"
cp /usr/local/bin/hello "$D/suid-victim" && chmod 755 "$D/suid-victim"
echo root-only > "$D/root-only" && chmod 600 "$D/root-only"
echo acl-victim > "$D/acl-victim" && chmod 640 "$D/acl-victim"
echo readable > "$D/readable.bin" && chmod 644 "$D/readable.bin"
echo xattr-victim > "$D/xattr-victim"
ln -sf root-only "$D/link-victim"
echo own > "$V/own.txt"
$M setxattr trusted.calyx keep "$D/xattr-victim" > "$WORK/setup.out" 2>&1
check "setup: trusted.calyx set on the xattr victim" has "$WORK/setup.out" "ok setxattr"
sb_script "$WORK/sb/meta.sh" <<EOF2
t suid $M chmod 4755 $D/suid-victim
t fchmod $M fchmod 4755 $D/readable.bin
t chmod-ro $M chmod 0666 $D/readable.bin
t setcap $M setcap $D/suid-victim
t chown $M chown 65534 65534 $D/root-only
t lchown $M lchown 65534 65534 $D/link-victim
t acl $M acl 65534 $D/acl-victim
t trusted $M setxattr trusted.planted yes $D/acl-victim
t rmxattr $M removexattr trusted.calyx $D/xattr-victim
t own-chmod $M chmod 0600 $V/own.txt
t own-chown $M chown 65534 65534 $V/own.txt
t own-acl $M acl 65534 $V/own.txt
EOF2
S=$WORK/meta.state
issue "$WORK/meta.lease" --cmd "/bin/sh $WORK/sb/meta.sh" --helper /bin/sh --helper "$M" \
	--path "$WORK/sb/**:ro" --path "$V/*:rw" --path "$D/readable.bin:ro" || exit 0
crun "$S" "$WORK/meta.lease" /bin/sh "$WORK/sb/meta.sh"
check "calyx run exits 0" run_ok
check "the run is on bpf-lsm" eq "$(meta enforcement.backend)" bpf-lsm
# refused: EACCES/EPERM (the hook) or EROFS (a read-only bind of a :ro path): any other
# outcome, ENOENT included, means the attack was not really tried.
REFUSED="EACCES EPERM EROFS"
check "setuid bit on a host binary refused" errno_is suid $REFUSED
check "... its mode is still 755" eq "$(stat -c %a "$D/suid-victim")" 755
check "fchmod on a read-only descriptor refused" errno_is fchmod $REFUSED
check "chmod of a :ro file refused" errno_is chmod-ro $REFUSED
check "... its mode is still 644" eq "$(stat -c %a "$D/readable.bin")" 644
check "a file capability (security.capability) on a host binary refused" errno_is setcap $REFUSED
check "... the binary carries none" eq "$($M getxattr security.capability "$D/suid-victim")" "errno=ENODATA (getxattr)"
check "chown of a root-only file refused" errno_is chown $REFUSED
check "... still root:root" eq "$(stat -c %u:%g "$D/root-only")" 0:0
check "lchown of a symlink outside the lease refused" errno_is lchown $REFUSED
check "... the link is still root's" eq "$(stat -c %u "$D/link-victim")" 0
check "an ACL through setxattr system.posix_acl_access refused" errno_is acl $REFUSED
check "... the file has no ACL" eq "$($M getxattr system.posix_acl_access "$D/acl-victim")" "errno=ENODATA (getxattr)"
check "... and its mode is still 640" eq "$(stat -c %a "$D/acl-victim")" 640
check "a trusted.* attribute refused" errno_is trusted $REFUSED
check "... none was set" eq "$($M getxattr trusted.planted "$D/acl-victim")" "errno=ENODATA (getxattr)"
check "removexattr of a trusted.* attribute refused" errno_is rmxattr $REFUSED
check "... the attribute is still there" eq "$($M getxattr trusted.calyx "$D/xattr-victim")" "ok getxattr 4"
check "chmod of the lease's own :rw file works (root, the hook allows :rw)" is_ok own-chmod
check "... chown of it works" is_ok own-chown
check "... an ACL on it is refused too (the xattr hooks refuse everywhere, :rw included)" errno_is own-acl $REFUSED
check "... the :rw file is now 65534's" eq "$(stat -c %u "$V/own.txt")" 65534
check "SVF file_event.denied recorded" has_event "$S" file_event.denied
check "nothing left" no_sandbox_left
