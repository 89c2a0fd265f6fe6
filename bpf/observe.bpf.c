// SPDX-License-Identifier: GPL-2.0
/* landlock backend, audit-only runs only (docs/audit-only.md): the file opens of one
 * sandbox that Landlock would have refused, recorded as would-denies. No Landlock ruleset
 * is applied to an audit-only sandbox, and no hook short of a system-wide syscall
 * tracepoint sees its opens on a kernel without BPF LSM: this program, its own object,
 * is loaded and attached by the audit-only runner itself (user/enforce/observe.c) for its
 * sandbox (target_cgid) and goes when the runner does, so the tracepoint's cost to every
 * task of the host (the slow syscall-exit path) exists only while an audit-only run lives.
 *
 * The verdict is the bpf-lsm file_open's on the same data: the new fd's own struct file
 * (not the caller's path argument, which another thread could rewrite), its path walked
 * in the kernel (path.bpf.h), matched against the sandbox's path rules (the resident
 * set's maps, shared), and recorded by deny() (common.bpf.h), which for an audit-only
 * sandbox records a would-deny. It decides nothing: the open has already happened. */
#include "common.bpf.h"
#include "path.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The one sandbox this copy observes (its runner's): set once its cgroup exists, after
 * the load (which the runner does before the lease is used); 0 matches no sandbox. */
__u64 target_cgid = 0;

/* x86-64 system call numbers that return a new fd from a path */
#define NR_OPEN 2
#define NR_CREAT 85
#define NR_OPENAT 257
#define NR_OPENAT2 437
#define FMODE_PATH_BIT 0x4000 /* O_PATH: no open of the file, no file_open either */

SEC("tp_btf/sys_exit")
int BPF_PROG(calyx_observe_open, struct pt_regs *regs, long ret)
{
	if (ret < 0)
		return 0;
	long nr = BPF_CORE_READ(regs, orig_ax);
	if (nr != NR_OPENAT && nr != NR_OPEN && nr != NR_OPENAT2 && nr != NR_CREAT)
		return 0;
	SCOPE_ENTER(sc);
	if (sc.sb_cgid != target_cgid || !sc.sb)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	__u32 max = BPF_CORE_READ(fdt, max_fds);
	if ((__u64)ret >= max)
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	/* a failed read (the fd closed meanwhile by another thread): no record */
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[ret]) || !f)
		return 0;
	__u32 fmode = BPF_CORE_READ(f, f_mode);
	if (fmode & FMODE_PATH_BIT)
		return 0;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 flags = fmode & (FMODE_READ | FMODE_WRITE);
	int need = (fmode & FMODE_WRITE) ? CALYX_ACC_RW : CALYX_ACC_RO;
	if (inode_is_mqueue(ino)) {   /* as file_open: IPC, whatever the path */
		deny_simple(&sc, CALYX_HOOK_IPC, EACCES, CALYX_IPC_MQ_OPEN, flags, NULL);
		return 0;
	}
	struct calyx_path_key *k = scratch_key();
	if (!k)
		return 0;
	k->path[0] = 0;
	long len = walk_path(k, (__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt));
	if (path_access(k, sc.slot, len) >= need)
		return 0;
	/* A lease binary may be read where Landlock enforces (its exec rule grants
	 * READ_FILE: an interpreter reads the #! script it runs), so reading it would not
	 * have been refused. */
	struct calyx_exec_key ek = {
		.sandbox = sc.slot,
		.dev = BPF_CORE_READ(ino, i_sb, s_dev),
		.ino = BPF_CORE_READ(ino, i_ino),
	};
	if (!(fmode & FMODE_WRITE) && bpf_map_lookup_elem(&exec_rules, &ek))
		return 0;
	deny_simple(&sc, CALYX_HOOK_FILE_OPEN, EACCES, 0, flags, len > 0 ? k->path : NULL);
	return 0;
}
