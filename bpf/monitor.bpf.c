/* Both backends: what the sentinel learns about a sandbox's tasks (tp_btf sched_process_
 * exec / fork / exit), each record in the sandbox's own ring buffer. Monitoring only:
 * nothing here decides. Part of the calyx.bpf.c unit. */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(calyx_tp_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	SCOPE_ENTER(sc);
	struct calyx_event *ev = ev_new(&sc, CALYX_EV_EXEC, CALYX_HOOK_NONE);
	if (!ev)
		return 0; /* counted; monitoring only */
	ev_task(ev);
	/* Informational only (the decision was made on the file): the name given to exec. */
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), BPF_CORE_READ(bprm, filename));
	ev_submit(ev);
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
	struct calyx_event *ev = ev_new(&sc, CALYX_EV_FORK, CALYX_HOOK_NONE);
	if (!ev)
		return 0; /* counted; monitoring only */
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
	struct calyx_event *ev = ev_new(&sc, CALYX_EV_EXIT, CALYX_HOOK_NONE);
	if (!ev)
		return 0; /* counted; monitoring only */
	ev_task(ev);
	ev->err = BPF_CORE_READ(p, exit_code);
	ev->cpu_ns = BPF_CORE_READ(sig, sum_sched_runtime) + BPF_CORE_READ(p, se.sum_exec_runtime);
	ev->maxrss_kb = BPF_CORE_READ(sig, maxrss) * PAGE_KB;
	ev->min_flt = BPF_CORE_READ(sig, min_flt) + BPF_CORE_READ(p, min_flt);
	ev->maj_flt = BPF_CORE_READ(sig, maj_flt) + BPF_CORE_READ(p, maj_flt);
	ev->nvcsw = BPF_CORE_READ(sig, nvcsw) + BPF_CORE_READ(p, nvcsw);
	ev->nivcsw = BPF_CORE_READ(sig, nivcsw) + BPF_CORE_READ(p, nivcsw);
	ev->read_bytes = BPF_CORE_READ(sig, ioac.read_bytes) + BPF_CORE_READ(p, ioac.read_bytes);
	ev->write_bytes = BPF_CORE_READ(sig, ioac.write_bytes) + BPF_CORE_READ(p, ioac.write_bytes);
	ev_submit(ev);
	return 0;
}
