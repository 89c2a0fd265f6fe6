/* Both backends: what the sentinel learns about a sandbox's tasks (tp_btf sched_process_
 * exec / fork / exit), each record in the sandbox's own ring buffer. Monitoring only:
 * nothing here decides. Part of the calyx.bpf.c unit. */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(calyx_tp_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	SCOPE_ENTER(sc);
	struct calyx_exec_event *x = ev_reserve(&sc, CALYX_EV_EXEC, CALYX_HOOK_NONE, sizeof(*x));
	if (!x)
		return 0; /* counted; monitoring only */
	ev_task(&x->ev);
	x->flags = 0;
	x->pad = 0;
	/* The binary: the executed file's path in the task's own view (the in-kernel walk:
	 * bpf_d_path is not allowed in a tracepoint), else the name given to exec, marked. */
	struct calyx_path_key *k = scratch_key();
	struct file *f = BPF_CORE_READ(bprm, file);
	long len = k ? walk_path(k, (__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt)) : -1;
	if (k && len > 0 && len <= CALYX_LPM_PATH_MAX) {
		bpf_probe_read_kernel_str(x->binary, sizeof(x->binary), k->path);
	} else {
		x->flags |= CALYX_EXEC_BINARY_NAME;
		if (bpf_probe_read_kernel_str(x->binary, sizeof(x->binary), BPF_CORE_READ(bprm, filename)) < 0)
			x->binary[0] = 0;
	}
	/* The argv as the kernel laid it out in the new image's memory (p is current). */
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
	__u64 total = end > start ? end - start : 0;
	x->argv_len = total > 0xffffffffull ? 0xffffffffu : (__u32)total;
	__u32 shown = x->argv_len > CALYX_EXEC_ARGV_SHOWN ? CALYX_EXEC_ARGV_SHOWN : x->argv_len;
	if (x->argv_len > shown)
		x->flags |= CALYX_EXEC_ARGV_TRUNCATED;
	asm volatile("" : "+r"(shown));   /* keep the bound check next to the call */
	if (shown > CALYX_EXEC_ARGV_SHOWN)
		shown = CALYX_EXEC_ARGV_SHOWN;
	if (shown && bpf_probe_read_user(x->argv, shown, (const void *)start)) {
		shown = 0;
		x->flags |= CALYX_EXEC_ARGV_UNREAD;
	}
	x->shown = shown;
	ev_submit(&x->ev);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(calyx_tp_fork, struct task_struct *parent, struct task_struct *child)
{
	/* The child's sandbox, not the parent's: the runner (outside) starts the first task
	 * of a sandbox with clone3(CLONE_INTO_CGROUP). */
	struct scope sc = { .sb_cgid = task_sandbox_cgid(child) };
	if (!sc.sb_cgid)
		return 0;
	sc.sb = bpf_map_lookup_elem(&sandboxes, &sc.sb_cgid);
	sc.slot = sc.sb ? sc.sb->slot : 0;
	struct calyx_fork_event *r = ev_reserve(&sc, CALYX_EV_FORK, CALYX_HOOK_NONE, sizeof(*r));
	if (!r)
		return 0; /* counted; monitoring only */
	struct calyx_event *ev = &r->ev;
	ev->cgroup_id = BPF_CORE_READ(child, cgroups, dfl_cgrp, kn, id);
	ev->pid = BPF_CORE_READ(child, pid);
	ev->tgid = BPF_CORE_READ(child, tgid);
	ev->ppid = BPF_CORE_READ(parent, tgid);
	BPF_CORE_READ_STR_INTO(&ev->comm, child, comm);
	ev_submit(ev);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(calyx_tp_exit, struct task_struct *p)
{
	SCOPE_ENTER(sc);
	struct signal_struct *sig = p->signal;
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0; /* other threads of the group still run: report once, at the last */
	struct calyx_exit_event *x = ev_reserve(&sc, CALYX_EV_EXIT, CALYX_HOOK_NONE, sizeof(*x));
	if (!x)
		return 0; /* counted; monitoring only */
	ev_task(&x->ev);
	x->status = BPF_CORE_READ(p, exit_code);
	x->pad = 0;
	/* The whole thread group: what the threads already gone left in signal_struct plus
	 * this, the last one (the kernel's own thread_group_cputime / getrusage sums). */
	x->cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime) + BPF_CORE_READ(p, se.sum_exec_runtime);
	x->utime_ns = BPF_CORE_READ(sig, utime) + BPF_CORE_READ(p, utime);
	x->stime_ns = BPF_CORE_READ(sig, stime) + BPF_CORE_READ(p, stime);
	x->maxrss_kb = BPF_CORE_READ(sig, maxrss) * PAGE_KB;
	x->min_flt = BPF_CORE_READ(sig, min_flt) + BPF_CORE_READ(p, min_flt);
	x->maj_flt = BPF_CORE_READ(sig, maj_flt) + BPF_CORE_READ(p, maj_flt);
	x->nvcsw = BPF_CORE_READ(sig, nvcsw) + BPF_CORE_READ(p, nvcsw);
	x->nivcsw = BPF_CORE_READ(sig, nivcsw) + BPF_CORE_READ(p, nivcsw);
	x->read_bytes = BPF_CORE_READ(sig, ioac.read_bytes) + BPF_CORE_READ(p, ioac.read_bytes);
	x->write_bytes = BPF_CORE_READ(sig, ioac.write_bytes) + BPF_CORE_READ(p, ioac.write_bytes);
	x->rchar = BPF_CORE_READ(sig, ioac.rchar) + BPF_CORE_READ(p, ioac.rchar);
	x->wchar = BPF_CORE_READ(sig, ioac.wchar) + BPF_CORE_READ(p, ioac.wchar);
	ev_submit(&x->ev);
	return 0;
}
