/* Both backends: the fsize limit's witness. RLIMIT_FSIZE (set in the sandbox's child
 * before exec) makes the kernel refuse a write or truncate past it with EFBIG and raise
 * SIGXFSZ at the writer (send_sig(SIGXFSZ, current, 0): no siginfo). A command that
 * ignores or blocks SIGXFSZ, or is its PID namespace's init (whose default-action signals
 * are dropped), never dies of it and no exit status says so; this counts each one in the
 * sandbox's slot (CALYX_STAT_FSIZE), which the runner reads every tick. Monitoring only:
 * the kernel already refused the write. Part of the calyx.bpf.c unit.
 *
 * Cost: it runs for every signal generated on the host. Anything but a SIGXFSZ without
 * siginfo leaves at the first compare; only those do one cgroup walk (task_sandbox_cgid:
 * a few reads) and one hash lookup. */

#define SIGXFSZ 25

/* signal_generate's arguments (include/trace/events/signal.h), the same on 6.1 and 6.12:
 * (int sig, struct kernel_siginfo *info, struct task_struct *task, int group, int result).
 * result is TRACE_SIGNAL_IGNORED for an ignored SIGXFSZ, which is counted too: the write
 * was refused all the same. */
SEC("tp_btf/signal_generate")
int BPF_PROG(calyx_tp_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task)
{
	/* kill(2), tgkill(2) and sigqueue(3) always pass a siginfo: a sandbox sending itself
	 * SIGXFSZ is not counted as a refused write. */
	if (sig != SIGXFSZ || info)
		return 0;
	__u64 cgid = task_sandbox_cgid(task);
	if (!cgid)
		return 0;
	struct calyx_sandbox *sb = bpf_map_lookup_elem(&sandboxes, &cgid);
	if (!sb)
		return 0; /* an orphan: no slot to count in (its writes were refused all the same) */
	stat_inc(sb->slot, CALYX_STAT_FSIZE);
	return 0;
}
