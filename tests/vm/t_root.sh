# A sandbox running as root (the matrix's run_as) keeps no way out of its cgroup and only
# the capabilities a build needs. clone3(CLONE_INTO_CGROUP) with an O_PATH fd of the root
# cgroup would start a child outside every BPF program's scope (the kernel only checks
# write access to the common ancestor's cgroup.procs, which root has): the child's seccomp
# filter makes clone3 fail with ENOSYS, so libc falls back to clone, which has no cgroup
# argument. The bounding set is chown, dac_override, fowner, fsetid, kill, setuid, setgid,
# net_bind_service (0x4fb): no CAP_SYS_ADMIN, CAP_BPF, CAP_NET_ADMIN, CAP_SYS_PTRACE...
mkdir -p "$WORK/sb"
# The cgroup hierarchy is not in the sandbox's view (ENOENT there): a matrix that lets the
# lease name it read-only binds it in, so the fd exists and clone3 itself is what is refused.
sed 's|^  - /dev/null:rw$|  - /dev/null:rw\n  - /sys/fs/cgroup/**:ro|' "$MATRIX" > "$WORK/cg-matrix.yaml"
grep -q '^  - /sys/fs/cgroup/\*\*:ro$' "$WORK/cg-matrix.yaml" || fail "could not write the cgroup matrix"
ROOT_MATRIX=$MATRIX
MATRIX=$WORK/cg-matrix.yaml
sb_script "$WORK/sb/r.sh" <<EOF2
t esc /usr/local/bin/try_cgroup_escape $CG
t esc-parent /usr/local/bin/try_cgroup_escape $CG/calyx
t fork /bin/sh -c 'echo forked-child'
EOF2
S=$WORK/r.state
issue "$WORK/r.lease" --cmd "/bin/sh $WORK/sb/r.sh" --helper /bin/sh --helper /usr/local/bin/try_cgroup_escape \
	--path "$WORK/sb/**:ro" --path "$CG/**:ro" || exit 0
crun "$S" "$WORK/r.lease" /bin/sh "$WORK/sb/r.sh"
MATRIX=$ROOT_MATRIX
check "calyx run exits 0" run_ok
check "clone3(CLONE_INTO_CGROUP) into the root cgroup refused with ENOSYS" \
	sh -c "grep -q '^esc: rc=1 errno=ENOSYS' $RUN/stdout.log"
check "clone3(CLONE_INTO_CGROUP) into calyx/ refused with ENOSYS" \
	sh -c "grep -q '^esc-parent: rc=1 errno=ENOSYS' $RUN/stdout.log"
check "no child escaped" lacks "$RUN/stdout.log" "escaped pid"
check "starting a child process still works" is_ok fork forked-child

# The credentials of a running root sandbox, read from outside.
issue "$WORK/s.lease" --cmd "/bin/sleep 4" || exit 0
bg_run s "$WORK/s.lease" /bin/sleep 4
check "the root sandbox started" wait_sandbox_procs 1 "$BG_PID"
p=$(sandboxed_pids | head -n 1)
st=$WORK/status
cat "/proc/$p/status" > "$st" 2>/dev/null
diag "sandbox $p: $(grep -E '^(Uid|Groups|Cap|NoNewPrivs|Seccomp)' "$st" | tr '\t\n' ' ')"
field() { awk -v f="$1:" '$1 == f { print $2 }' "$st"; }
check "runs as uid 0" eq "$(field Uid)" 0
check "CapBnd is 0x4fb" eq "$(field CapBnd)" 00000000000004fb
check "CapEff is 0x4fb" eq "$(field CapEff)" 00000000000004fb
check "CapPrm is 0x4fb" eq "$(field CapPrm)" 00000000000004fb
check "CapInh is empty" eq "$(field CapInh)" 0000000000000000
check "CapAmb is empty" eq "$(field CapAmb)" 0000000000000000
check "no supplementary groups" eq "$(awk '$1 == "Groups:" { print NF - 1 }' "$st")" 0
check "no_new_privs set" eq "$(field NoNewPrivs)" 1
check "a seccomp filter is installed" eq "$(field Seccomp)" 2
wait "$BG_PID"
check "the root sandbox finished with exit 0" eq "$(cat "$WORK/s.rc")" 0
check "no sandbox cgroup or BPF program left" no_sandbox_left
