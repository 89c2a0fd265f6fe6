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
 * sandbox records a would-deny. It decides nothing: the open has already happened.
 * A second program (sys_enter, below) records the changes that open nothing. */
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

/* The current task's struct file for fd, or NULL (no such fd, or closed meanwhile by
 * another thread). */
static __always_inline struct file *fd_file(long fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	__u32 max = BPF_CORE_READ(fdt, max_fds);
	if (fd < 0 || (__u64)fd >= max)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

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
	/* a failed read (the fd closed meanwhile by another thread): no record */
	struct file *f = fd_file(ret);
	if (!f)
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

/* ------------------------------------------------------------------ file changes
 * The system calls that change the file system without opening anything (bpf-lsm's
 * path_* and inode_*xattr hooks: hook path_mutate), seen at their entry: at the exit the
 * name may be gone (unlink, rename) and no fd names it. The object is named by
 *  - kernel-resolved: the directory the name is relative to (the dirfd's struct file, or
 *    the task's cwd for AT_FDCWD and the calls without a dirfd), walked like an open's
 *    file (walk_path), and the whole path of the fd-based calls (fchmod, fchown,
 *    ftruncate, an empty name with a dirfd);
 *  - the caller's: the name argument itself, appended after a '/' (or taken whole when
 *    it is absolute), read once from user memory at the entry.
 * The caller's part is not resolved: a name with a "." or ".." component or a "//" is
 * never matched (recorded, with the name as given), and a symlink inside the caller's
 * part, or a chmod/chown/truncate that follows a symlink as its last component, is
 * matched where the name points, not where the link does (docs/audit-only.md). It is
 * recorded whether the call then succeeds or not (an entry cannot know). */
#define NR_TRUNCATE 76
#define NR_FTRUNCATE 77
#define NR_RENAME 82
#define NR_MKDIR 83
#define NR_RMDIR 84
#define NR_LINK 86
#define NR_UNLINK 87
#define NR_SYMLINK 88
#define NR_CHMOD 90
#define NR_FCHMOD 91
#define NR_CHOWN 92
#define NR_FCHOWN 93
#define NR_LCHOWN 94
#define NR_MKNOD 133
#define NR_SETXATTR 188
#define NR_LSETXATTR 189
#define NR_FSETXATTR 190
#define NR_REMOVEXATTR 197
#define NR_LREMOVEXATTR 198
#define NR_FREMOVEXATTR 199
#define NR_MKDIRAT 258
#define NR_MKNODAT 259
#define NR_FCHOWNAT 260
#define NR_UNLINKAT 263
#define NR_RENAMEAT 264
#define NR_LINKAT 265
#define NR_SYMLINKAT 266
#define NR_FCHMODAT 268
#define NR_RENAMEAT2 316
#define NR_FCHMODAT2 452
#define AT_FDCWD_ (-100)
#define AT_REMOVEDIR_ 0x200

/* The joined path is built here: the kernel part (< CALYX_LPM_PATH_MAX bytes) and a
 * '/' before the caller's part (at most CALYX_LPM_PATH_MAX bytes) always fit, and the
 * scan below reads up to 3 bytes past any '/' (masked into the buffer). */
#define MUT_BUF 512
struct mut_buf {
	char b[MUT_BUF + 8];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mut_buf);
} mutbuf SEC(".maps");

struct dot_scan {
	__u32 bad;
};

/* bad = 1 when the component after the '/' at idx is empty, "." or "..". */
static long dot_cb(__u32 idx, void *data)
{
	struct dot_scan *ds = data;
	__u32 zero = 0;
	struct mut_buf *mb = bpf_map_lookup_elem(&mutbuf, &zero);
	if (!mb) {
		ds->bad = 1;
		return 1;
	}
	__u32 i = idx & (MUT_BUF - 1);
	if (mb->b[i] != '/')
		return 0;
	char c1 = mb->b[(i + 1) & (MUT_BUF - 1)];
	char c2 = mb->b[(i + 2) & (MUT_BUF - 1)];
	char c3 = mb->b[(i + 3) & (MUT_BUF - 1)];
	if (c1 == '/' || (c1 == '.' && (c2 == '/' || c2 == 0)) ||
	    (c1 == '.' && c2 == '.' && (c3 == '/' || c3 == 0))) {
		ds->bad = 1;
		return 1;
	}
	return 0;
}

/* Resolve (dfd, the caller's name) into k->path. Returns the length incl. the NUL, or
 * -1 (unresolvable, too long, unreadable: recorded without a path); *plain = false when
 * the caller's part is not a plain name (never matched). */
static __always_inline long mut_resolve(struct calyx_path_key *k, int dfd, const char *uname, bool *plain,
					bool *caller)
{
	__u32 zero = 0;
	struct mut_buf *mb = bpf_map_lookup_elem(&mutbuf, &zero);
	*plain = true;
	*caller = false;
	if (!mb)
		return -1;
	char c = 0;
	if (uname && bpf_probe_read_user(&c, 1, uname))
		return -1;
	*caller = c != 0;
	if (c == '/') {
		long n = bpf_probe_read_user_str(mb->b, CALYX_LPM_PATH_MAX, uname);
		if (n < 2 || n >= CALYX_LPM_PATH_MAX)
			return -1; /* unreadable, or maybe cut: closed */
		struct dot_scan ds = { 0 };
		bpf_loop((__u32)n - 1, dot_cb, &ds, 0);
		if (n > 2 && mb->b[(n - 2) & (MUT_BUF - 1)] == '/') /* "dir/" names dir */
			mb->b[(--n - 1) & (MUT_BUF - 1)] = 0;
		*plain = !ds.bad;
		if (bpf_probe_read_kernel(k->path, CALYX_LPM_PATH_MAX, mb->b))
			return -1;
		return n;
	}
	const struct path *base;
	struct file *f = NULL;
	if (dfd == AT_FDCWD_) {
		struct task_struct *t = bpf_get_current_task_btf();
		base = &t->fs->pwd;
	} else {
		f = fd_file(dfd);
		if (!f)
			return -1;
		base = &f->f_path;
	}
	long len = walk_path(k, (__u64)BPF_CORE_READ(base, dentry), (__u64)BPF_CORE_READ(base, mnt));
	if (len < 2 || len > CALYX_LPM_PATH_MAX)
		return -1;
	if (c == 0) /* an empty name (AT_EMPTY_PATH, the fd-based calls): the base itself */
		return len;
	if (bpf_probe_read_kernel(mb->b, CALYX_LPM_PATH_MAX, k->path))
		return -1;
	__u32 off = (__u32)len - 1; /* at the NUL */
	if (len > 2)
		mb->b[off++ & (MUT_BUF - 1)] = '/';
	off &= 255;
	long n = bpf_probe_read_user_str(&mb->b[off], CALYX_LPM_PATH_MAX, uname);
	if (n < 2 || n >= CALYX_LPM_PATH_MAX || off + n > CALYX_LPM_PATH_MAX)
		return -1; /* unreadable, or too long for the matcher: closed */
	n += off;
	/* the whole path: the kernel's part has no such component, so only the caller's can */
	struct dot_scan ds = { 0 };
	bpf_loop((__u32)n - 1, dot_cb, &ds, 0);
	if (n > 2 && mb->b[(n - 2) & (MUT_BUF - 1)] == '/')
		mb->b[(--n - 1) & (MUT_BUF - 1)] = 0;
	*plain = !ds.bad;
	if (bpf_probe_read_kernel(k->path, CALYX_LPM_PATH_MAX, mb->b))
		return -1;
	return n;
}

/* One object of a change: a would-deny unless its path is granted :rw. */
static __always_inline void mut_check(const struct scope *sc, __u32 op, long dfd_reg, const char *uname)
{
	struct calyx_path_key *k = scratch_key();
	if (!k)
		return;
	k->path[0] = 0;
	bool plain = true, caller = false;
	/* the kernel reads a dirfd as an int: the register's upper half is not part of it */
	long len = mut_resolve(k, (int)dfd_reg, uname, &plain, &caller);
	if (len > 0 && plain && path_access(k, sc->slot, len) >= CALYX_ACC_RW)
		return;
	deny_simple(sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, op | (len > 0 && caller ? CALYX_MUT_CALLER_NAME : 0),
		    len > 0 ? k->path : NULL);
}

static __always_inline bool is_dev(long mode)
{
	return (mode & S_IFMT) == S_IFCHR || (mode & S_IFMT) == S_IFBLK;
}

static __always_inline bool is_mutation(long nr)
{
	switch (nr) {
	case NR_TRUNCATE ... NR_FTRUNCATE:
	case NR_RENAME ... NR_FCHOWN:
	case NR_LCHOWN:
	case NR_MKNOD:
	case NR_SETXATTR ... NR_FSETXATTR:
	case NR_REMOVEXATTR ... NR_FREMOVEXATTR:
	case NR_MKDIRAT ... NR_FCHOWNAT:
	case NR_UNLINKAT ... NR_SYMLINKAT:
	case NR_FCHMODAT:
	case NR_RENAMEAT2:
	case NR_FCHMODAT2:
		return true;
	}
	return false;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(calyx_observe_mutate, struct pt_regs *regs, long nr)
{
	/* what every system call of the host pays: a few comparisons */
	if (!is_mutation(nr))
		return 0;
	SCOPE_ENTER(sc);
	if (sc.sb_cgid != target_cgid || !sc.sb)
		return 0;
	long a0 = BPF_CORE_READ(regs, di), a1 = BPF_CORE_READ(regs, si);
	long a2 = BPF_CORE_READ(regs, dx), a3 = BPF_CORE_READ(regs, r10);
	const char *empty = NULL;
	switch (nr) {
	case NR_UNLINK: mut_check(&sc, CALYX_MUT_UNLINK, AT_FDCWD_, (const char *)a0); break;
	case NR_RMDIR: mut_check(&sc, CALYX_MUT_RMDIR, AT_FDCWD_, (const char *)a0); break;
	case NR_UNLINKAT:
		mut_check(&sc, (a2 & AT_REMOVEDIR_) ? CALYX_MUT_RMDIR : CALYX_MUT_UNLINK, a0, (const char *)a1);
		break;
	case NR_MKDIR: mut_check(&sc, CALYX_MUT_MKDIR, AT_FDCWD_, (const char *)a0); break;
	case NR_MKDIRAT: mut_check(&sc, CALYX_MUT_MKDIR, a0, (const char *)a1); break;
	case NR_MKNOD:
	case NR_MKNODAT: {
		long mode = nr == NR_MKNOD ? a1 : a2;
		if (is_dev(mode)) /* as bpf-lsm: refused everywhere, no path */
			deny_simple(&sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, CALYX_MUT_MKNOD_DEV, NULL);
		else if (nr == NR_MKNOD)
			mut_check(&sc, CALYX_MUT_MKNOD, AT_FDCWD_, (const char *)a0);
		else
			mut_check(&sc, CALYX_MUT_MKNOD, a0, (const char *)a1);
		break;
	}
	case NR_SYMLINK: mut_check(&sc, CALYX_MUT_SYMLINK, AT_FDCWD_, (const char *)a1); break;
	case NR_SYMLINKAT: mut_check(&sc, CALYX_MUT_SYMLINK, a1, (const char *)a2); break;
	case NR_LINK:
		mut_check(&sc, CALYX_MUT_LINK_SRC, AT_FDCWD_, (const char *)a0);
		mut_check(&sc, CALYX_MUT_LINK, AT_FDCWD_, (const char *)a1);
		break;
	case NR_LINKAT:
		mut_check(&sc, CALYX_MUT_LINK_SRC, a0, (const char *)a1);
		mut_check(&sc, CALYX_MUT_LINK, a2, (const char *)a3);
		break;
	case NR_RENAME:
		mut_check(&sc, CALYX_MUT_RENAME, AT_FDCWD_, (const char *)a0);
		mut_check(&sc, CALYX_MUT_RENAME_DST, AT_FDCWD_, (const char *)a1);
		break;
	case NR_RENAMEAT:
	case NR_RENAMEAT2:
		mut_check(&sc, CALYX_MUT_RENAME, a0, (const char *)a1);
		mut_check(&sc, CALYX_MUT_RENAME_DST, a2, (const char *)a3);
		break;
	case NR_TRUNCATE: mut_check(&sc, CALYX_MUT_TRUNCATE, AT_FDCWD_, (const char *)a0); break;
	case NR_FTRUNCATE: mut_check(&sc, CALYX_MUT_TRUNCATE, a0, empty); break;
	case NR_CHMOD: mut_check(&sc, CALYX_MUT_CHMOD, AT_FDCWD_, (const char *)a0); break;
	case NR_FCHMOD: mut_check(&sc, CALYX_MUT_CHMOD, a0, empty); break;
	case NR_FCHMODAT:
	case NR_FCHMODAT2: mut_check(&sc, CALYX_MUT_CHMOD, a0, (const char *)a1); break;
	case NR_CHOWN:
	case NR_LCHOWN: mut_check(&sc, CALYX_MUT_CHOWN, AT_FDCWD_, (const char *)a0); break;
	case NR_FCHOWN: mut_check(&sc, CALYX_MUT_CHOWN, a0, empty); break;
	case NR_FCHOWNAT: mut_check(&sc, CALYX_MUT_CHOWN, a0, (const char *)a1); break;
	case NR_SETXATTR:
	case NR_LSETXATTR:
	case NR_FSETXATTR: /* as bpf-lsm: refused everywhere, no path */
		deny_simple(&sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, CALYX_MUT_SETXATTR, NULL);
		break;
	case NR_REMOVEXATTR:
	case NR_LREMOVEXATTR:
	case NR_FREMOVEXATTR:
		deny_simple(&sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, CALYX_MUT_REMOVEXATTR, NULL);
		break;
	}
	return 0;
}
