# THREATS.md "Files": changes outside the lease that never open() the target: unlink,
# rename, truncate(2), chmod, mkdir, mknod, O_CREAT of a new file (the inode is created
# before file_open decides), and a hard link of an outside file into a writable allowed
# directory, then opened there. Each must be refused AND leave the outside file as it was.
# The outside files are in the sandbox's view, on a writable mount (the lease's
# $WORK/fsv/*:rw binds $WORK/fsv read-write and grants only its entries, not what is
# beneath them), so the enforcer is what refuses each change, not the view (ENOENT) or a
# read-only mount (EROFS); the allowed directory is on that same mount (a rename across
# two binds would be EXDEV before any LSM hook).
O=$WORK/fsv/outside
A=$WORK/fsv/allowed
mkdir -p "$O" "$A" "$WORK/sb"
for f in victim-unlink victim-rename victim-trunc victim-chmod secret; do echo "$f-data" > "$O/$f"; done
chmod 644 "$O/victim-chmod"
mkdir "$O/victim-dir"
sb_script "$WORK/sb/fs.sh" <<EOF2
F=/usr/local/bin/try_fsop
t unlink \$F unlink $O/victim-unlink
t rmdir \$F rmdir $O/victim-dir
t rename \$F rename $O/victim-rename $A/stolen
t truncate \$F truncate $O/victim-trunc
t chmod \$F chmod $O/victim-chmod
t mkdir \$F mkdir $O/newdir
t mknod \$F mknod $O/fifo
t create \$F create $O/created
t link \$F link $O/secret $A/secret-link
t link-open /usr/local/bin/try_open $A/secret-link r
t symlink-open-setup \$F symlink $O/secret $A/secret-sym
t symlink-open /usr/local/bin/try_open $A/secret-sym r
t unlink-allowed \$F unlink $A/own
EOF2
echo own > "$A/own"
S=$WORK/fs.state
issue "$WORK/fs.lease" --cmd "/bin/sh $WORK/sb/fs.sh" --helper /bin/sh --helper /usr/local/bin/try_fsop \
	--helper /usr/local/bin/try_open --path "$WORK/sb/**:ro" --path "$A/**:rw" --path "$WORK/fsv/*:rw" || exit 0
crun "$S" "$WORK/fs.lease" /bin/sh "$WORK/sb/fs.sh"
check "calyx run exits 0" run_ok
check "unlink outside the lease refused" is_denied unlink
check "the outside file still exists" exists "$O/victim-unlink"
check "rmdir outside the lease refused" is_denied rmdir
check "the outside directory still exists" exists "$O/victim-dir"
check "rename of an outside file into the lease refused" is_denied rename
check "the renamed file is still outside" exists "$O/victim-rename"
check "truncate(2) outside the lease refused" is_denied truncate
check "the truncated file kept its bytes" eq "$(cat "$O/victim-trunc")" victim-trunc-data
check "chmod outside the lease refused" is_denied chmod
check "the mode is unchanged" eq "$(stat -c %a "$O/victim-chmod")" 644
check "mkdir outside the lease refused" is_denied mkdir
check "no directory created outside" absent "$O/newdir"
check "mknod outside the lease refused" is_denied mknod
check "no fifo created outside" absent "$O/fifo"
check "O_CREAT of a new file outside the lease refused" is_denied create
check "no file created outside (not even empty)" absent "$O/created"
check "a hard link of an outside file: link or open refused" sh -c "grep -qE '^(link|link-open): rc=[^0]' $RUN/stdout.log"
check "the hard-linked secret was not read" lacks "$RUN/stdout.log" "ok read: secret-data"
check "a symlink to an outside file: open refused" is_denied symlink-open
check "unlink inside a :rw path works" is_ok unlink-allowed
check "no sandbox cgroup or BPF program left" no_sandbox_left
