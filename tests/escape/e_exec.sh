# THREATS.md "Exec": decide on the executed file, never on a name.
# Lease binaries: python3 (via the lease command 'python3 --version'), /usr/bin/git,
# try_exec, set_name_exec, and the driver shell. Everything else must be refused.
B=$WORK/bin
mkdir -p "$B" "$WORK/sb"
ln -s /usr/bin/python3 "$B/py"                 # allowed binary through a symlink
ln -s /usr/local/bin/hello "$B/python3"        # denied binary behind an allowed name
ln -s /usr/bin/git-evil "$B/git"               # ... and behind git's name
cp /usr/local/bin/hello "$B/git-copy"          # a copy of an allowed-looking tool in /tmp
cp /usr/local/bin/hello /dev/shm/python3
chmod 755 "$B/git-copy" /dev/shm/python3
sb_script "$WORK/sb/exec.sh" <<EOF2
X=/usr/local/bin/try_exec
t sym-allowed \$X $B/py --version
t rel-allowed sh -c "cd /usr/bin && exec /usr/local/bin/try_exec ./python3 --version"
t sym-denied \$X $B/python3
t sym-denied-git \$X $B/git
t git \$X /usr/bin/git
t git-evil \$X /usr/bin/git-evil
t git-copy \$X $B/git-copy
t shm \$X /dev/shm/python3
t loader \$X /lib64/ld-linux-x86-64.so.2 /usr/local/bin/hello
t loader-allowed \$X /lib64/ld-linux-x86-64.so.2 /usr/bin/git
t comm /usr/local/bin/set_name_exec python3 /usr/bin/git-evil
t comm-git /usr/local/bin/set_name_exec git /usr/local/bin/hello
EOF2
S=$WORK/x.state
issue "$WORK/x.lease" --cmd "/bin/sh $WORK/sb/exec.sh" --helper /bin/sh --helper python3 \
	--helper /usr/bin/git --helper /usr/local/bin/try_exec --helper /usr/local/bin/set_name_exec \
	--path "$WORK/sb/**:ro" --path "$B/**:ro" || exit 0
crun "$S" "$WORK/x.lease" /bin/sh "$WORK/sb/exec.sh"
check "calyx run exits 0" run_ok
check "allowed binary through a symlink runs" is_ok sym-allowed "Python 3."
check "allowed binary through a relative path runs" is_ok rel-allowed "Python 3."
check "denied binary behind a symlink named python3: refused" not_ran sym-denied
check "denied binary behind a symlink named git: refused" not_ran sym-denied-git
check "/usr/bin/git (in the lease) runs" is_ok git "HELLO-RAN argv0=/usr/bin/git"
check "/usr/bin/git-evil (prefix of no rule) refused" not_ran git-evil
check "a copy of a tool in /tmp refused" not_ran git-copy
# The view's /dev is a minimal one without shm (docs/run.md "The sandbox's view"); an
# executable the view does show but the lease does not name is git-copy above.
check "a binary in /dev/shm named python3: not in the view (ENOENT)" errno_is shm ENOENT
check "the ELF loader as a launcher refused" not_ran loader
check "the ELF loader as a launcher of an allowed binary refused (loader not in the lease)" not_ran loader-allowed
check "prctl(PR_SET_NAME, python3) then exec of git-evil: refused" not_ran comm
check "prctl(PR_SET_NAME, git) then exec of hello: refused" not_ran comm-git
check "SVF exec_event.denied for git-evil" has_event "$S" exec_event.denied /usr/bin/git-evil
check "SVF exec_event.denied for the symlink's target, not its name" has_event "$S" exec_event.denied /usr/local/bin/hello
check "no sandbox cgroup or BPF program left" no_sandbox_left
