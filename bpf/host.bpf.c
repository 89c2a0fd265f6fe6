/* bpf-lsm: what a sandbox may not do to the host or its enforcer at all (bpf(), mount-like
 * operations, user namespaces, perf events), and signals / ptrace only within its own
 * sandbox. Part of the calyx.bpf.c unit. */

/* Hooks whose operation no sandboxed task may perform: tasks outside leave after the scope
 * check; inside (or orphaned: closed) the call is refused with EPERM, `what` saying which
 * operation. */
static __always_inline int deny_in_sandbox(__u32 hook, __u32 what)
{
	SCOPE_ENTER(sc);
	return deny_simple(&sc, hook, EPERM, what, 0, NULL);
}

/* Linux 6.1 signature; newer kernels add a `bool kernel` before ret. Whatever the value of
 * the last argument, a task inside a sandbox is denied. */
SEC("lsm/bpf")
int BPF_PROG(calyx_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	/* the sandbox must not touch its enforcer */
	return deny_in_sandbox(CALYX_HOOK_BPF, (__u32)cmd);
}

/* Mount-like operations change what bpf_d_path reports for a file (a bind mount or chroot
 * can make any file look like an allowed path), so a sandbox may not do them at all. */
SEC("lsm/sb_mount")
int BPF_PROG(calyx_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_MOUNT, 1);
}

SEC("lsm/move_mount")
int BPF_PROG(calyx_move_mount, const struct path *from, const struct path *to, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_MOUNT, 2);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(calyx_sb_pivotroot, const struct path *old, const struct path *new, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_MOUNT, 3);
}

SEC("lsm/path_chroot")
int BPF_PROG(calyx_path_chroot, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_MOUNT, 4);
}

/* A new user namespace hands the task CAP_SYS_ADMIN / CAP_SYS_CHROOT over its own mount
 * namespace: deny it up front (the hooks above deny the uses too). */
SEC("lsm/userns_create")
int BPF_PROG(calyx_userns_create, const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_USERNS, 0);
}

/* perf events expose other tasks' and the kernel's activity (and kprobe/uprobe events
 * instrument the kernel and other binaries): a sandbox may open none.
 * The hook lost its attr argument in 6.3 (perf_event_open(int type)); a program's
 * arguments are positional, so CO-RE cannot bridge that. Both shapes are built and the
 * loader enables the one whose argument count matches the kernel's hook. */
SEC("lsm/perf_event_open")
int BPF_PROG(calyx_perf_event_open, struct perf_event_attr *attr, int type, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_PERF, (__u32)type);
}

SEC("lsm/perf_event_open")
int BPF_PROG(calyx_perf_event_open_type, int type, int ret)
{
	if (ret)
		return ret;
	return deny_in_sandbox(CALYX_HOOK_PERF, (__u32)type);
}

/* Signals and ptrace may only reach tasks of the same sandbox: nothing outside (calyx,
 * other sandboxes, the host) can be killed, stopped or inspected from inside. */
static __always_inline int same_sandbox_only(__u32 hook, struct task_struct *target, __u32 what)
{
	SCOPE_ENTER(sc);
	if (sc.sb && task_sandbox_cgid(target) == sc.sb_cgid)
		return 0;
	/* outside target, or an orphan: closed */
	return deny_simple(&sc, hook, EPERM, what, BPF_CORE_READ(target, tgid), NULL);
}

SEC("lsm/task_kill")
int BPF_PROG(calyx_task_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	if (ret)
		return ret;
	return same_sandbox_only(CALYX_HOOK_SIGNAL, p, sig);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(calyx_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	if (ret)
		return ret;
	return same_sandbox_only(CALYX_HOOK_PTRACE, child, mode);
}
