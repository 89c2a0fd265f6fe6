/* bpf-lsm: what a sandbox may not do to the host or its enforcer at all (bpf(), mount-like
 * operations, user namespaces, perf events, SysV IPC, keyrings), and signals / ptrace
 * only within its own sandbox. Part of the calyx.bpf.c unit. */

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

/* SysV IPC: message queues, shared memory and semaphore sets live in the IPC namespace,
 * not in the file system, so no path rule can grant them; a host segment is reachable by
 * its key from anywhere in the namespace, and one made inside outlives the run. Every
 * operation is refused inside a sandbox: creating (the *_alloc_security hooks), getting
 * an existing one (*_associate), and any use of one (ipc_permission and the per-operation
 * hooks, for a descriptor-less object a task might have learned the id of), with EACCES
 * (what the kernel itself makes of an ipc_permission refusal). No exceptions: a command
 * that needs shared memory uses memfd or a file under :rw. */
#define IPC_HOOK(hook, op, ...)                                 \
	SEC("lsm/" #hook)                                       \
	int BPF_PROG(calyx_##hook, ##__VA_ARGS__, int ret)      \
	{                                                       \
		if (ret)                                        \
			return ret;                             \
		SCOPE_ENTER(sc);                                \
		return deny_simple(&sc, CALYX_HOOK_IPC, EACCES, op, 0, NULL); \
	}

IPC_HOOK(ipc_permission, CALYX_IPC_PERMISSION, struct kern_ipc_perm *ipcp, short flag)
IPC_HOOK(msg_queue_alloc_security, CALYX_IPC_MSG_ALLOC, struct kern_ipc_perm *perm)
IPC_HOOK(msg_queue_associate, CALYX_IPC_MSG_ASSOC, struct kern_ipc_perm *perm, int msqflg)
IPC_HOOK(msg_queue_msgctl, CALYX_IPC_MSG_CTL, struct kern_ipc_perm *perm, int cmd)
IPC_HOOK(msg_queue_msgsnd, CALYX_IPC_MSG_SND, struct kern_ipc_perm *perm, struct msg_msg *msg, int msqflg)
IPC_HOOK(msg_queue_msgrcv, CALYX_IPC_MSG_RCV, struct kern_ipc_perm *perm, struct msg_msg *msg,
	 struct task_struct *target, long type, int mode)
IPC_HOOK(shm_alloc_security, CALYX_IPC_SHM_ALLOC, struct kern_ipc_perm *perm)
IPC_HOOK(shm_associate, CALYX_IPC_SHM_ASSOC, struct kern_ipc_perm *perm, int shmflg)
IPC_HOOK(shm_shmctl, CALYX_IPC_SHM_CTL, struct kern_ipc_perm *perm, int cmd)
IPC_HOOK(shm_shmat, CALYX_IPC_SHM_AT, struct kern_ipc_perm *perm, char *shmaddr, int shmflg)
IPC_HOOK(sem_alloc_security, CALYX_IPC_SEM_ALLOC, struct kern_ipc_perm *perm)
IPC_HOOK(sem_associate, CALYX_IPC_SEM_ASSOC, struct kern_ipc_perm *perm, int semflg)
IPC_HOOK(sem_semctl, CALYX_IPC_SEM_CTL, struct kern_ipc_perm *perm, int cmd)
IPC_HOOK(sem_semop, CALYX_IPC_SEM_OP, struct kern_ipc_perm *perm, struct sembuf *sops, unsigned nsops,
	 int alter)

/* Keyrings: a sandbox may not read, add, link, search or change any key, its own
 * session's included (key_permission refuses every use), nor make a key of any type but
 * "keyring" (key_alloc). The exception: an empty keyring may be made, because the
 * kernel makes one for the task itself (a new session keyring joined before exec, the
 * user and user-session keyrings on first use), and an empty keyring holds nothing and
 * can be given nothing (linking needs key_permission). */
SEC("lsm/key_alloc")
int BPF_PROG(calyx_key_alloc, struct key *key, const struct cred *cred, unsigned long flags, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	char type[8] = {};
	/* an unreadable type name is no keyring: closed */
	bpf_probe_read_kernel_str(type, sizeof(type), BPF_CORE_READ(key, type, name));
	if (sc.sb && type[0] == 'k' && type[1] == 'e' && type[2] == 'y' && type[3] == 'r' && type[4] == 'i' &&
	    type[5] == 'n' && type[6] == 'g' && type[7] == 0)
		return 0;
	return deny_simple(&sc, CALYX_HOOK_KEY, EACCES, CALYX_KEY_ALLOC, 0, NULL);
}

SEC("lsm/key_permission")
int BPF_PROG(calyx_key_permission, key_ref_t key_ref, const struct cred *cred, enum key_need_perm need_perm,
	     int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	return deny_simple(&sc, CALYX_HOOK_KEY, EACCES, CALYX_KEY_PERMISSION, (__u32)need_perm, NULL);
}
