# THREATS.md fileless exec: memfd_create + execveat(AT_EMPTY_PATH), exec of
# /proc/self/fd/N, of a file deleted after open: refused whatever the memfd's name (here
# the names of allowed binaries).
mkdir -p "$WORK/sb"
sb_script "$WORK/sb/memfd.sh" <<'EOF2'
M=/usr/local/bin/memfd_exec
t memfd $M memfd /usr/local/bin/hello python3
t memfd-own $M memfd /usr/local/bin/memfd_exec memfd_exec
t procfd $M procfd /usr/local/bin/hello python3
t deleted $M deleted /usr/local/bin/hello
EOF2
S=/tmp/calyx-states/m   # outside $WORK/**, which the lease grants (the overlap guard)
issue "$WORK/m.lease" --cmd "/bin/sh $WORK/sb/memfd.sh" --helper /bin/sh --cmd 'python3 --version' \
	--helper /usr/local/bin/memfd_exec --path "$WORK/sb/**:ro" --path "$WORK/**:rw" || exit 0
crun "$S" "$WORK/m.lease" /bin/sh "$WORK/sb/memfd.sh"
check "calyx run exits 0" run_ok
check "memfd named python3 + execveat(AT_EMPTY_PATH): refused" not_ran memfd
# A memfd copy of an allowed binary is still not that binary's file.
check "memfd copy of an allowed binary: refused" sh -c "! grep -q '^memfd-own: rc=0' $RUN/stdout.log && grep -qE '^memfd-own: rc=(137|1) ' $RUN/stdout.log"
check "exec of /proc/self/fd/N (memfd): refused" not_ran procfd
check "exec of a deleted file through /proc/self/fd/N: refused" not_ran deleted
check "the payload never ran" lacks "$RUN/stdout.log" HELLO-RAN
check "no sandbox cgroup or BPF program left" no_sandbox_left
