// SPDX-License-Identifier: GPL-2.0
/* calyx in-kernel enforcer and monitor: one object, two program sets.
 *
 *  - bpf-lsm backend (autoloaded only for ENFORCE_BPF_LSM): lsm/ programs deciding exec,
 *    open, socket create/connect/sendmsg, bpf(), mount-like operations, user namespaces,
 *    and signals / ptrace to tasks outside the sandbox.
 *  - landlock backend (autoloaded only for ENFORCE_LANDLOCK): cgroup sock programs for the
 *    network, an exec-image check that kills non-lease images (Landlock cannot see fileless
 *    exec), and a syscall-exit observer that records what Landlock refused.
 *  - both: tp_btf sched_process_{exec,fork,exit} monitoring.
 *
 * Scope: every sandbox is a direct child of calyx's parent cgroup (parent_cgid at
 * parent_level). A task whose ancestor at parent_level is not the parent leaves after one
 * helper call. A task under the parent is confined by the sandbox at parent_level + 1,
 * which covers every descendant cgroup it might create. No task belongs directly in the
 * parent (the runner stays in its own cgroup): one there is treated like an orphan.
 *
 * Every failure path below says whether it fails open or closed. They all fail closed:
 * a decision we cannot make is a denial. The ring buffer never changes a decision: a
 * failed reserve is counted in `stats` and the decision stands.
 *
 * All LSM programs are non-sleepable lsm/: bpf_d_path is allowed there for hooks in the
 * sleepable set (file_open, bprm_check_security, ...) and only non-sleepable programs may
 * use the LPM trie. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "calyx.h"

/* uapi constants: vmlinux.h carries types, not macros */
#define EPERM 1
#define EACCES 13
#define AF_UNSPEC 0
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC 0x20
#define __FMODE_EXEC 0x20 /* in f_flags: set only by the kernel's exec opens (not a valid O_ flag) */
#define SIGKILL 9
#define PROT_EXEC 0x4
#define RENAME_EXCHANGE (1 << 1)
#define S_IFMT 00170000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFBLK 0060000
/* _IOW('f', 2, long), _IOW('f', 2, int), _IOW('X', 32, struct fsxattr) */
#define FS_IOC_SETFLAGS 0x40086602
#define FS_IOC32_SETFLAGS 0x40046602
#define FS_IOC_FSSETXATTR 0x401c5820
#define PAGE_KB 4 /* x86-64 PAGE_SIZE / 1024: signal->maxrss counts pages */

/* x86-64 syscall numbers observed at sys_exit (landlock backend). */
#define NR_open 2
#define NR_connect 42
#define NR_execve 59
#define NR_openat 257
#define NR_execveat 322
#define NR_openat2 437
#define NR_bind 49
#define NR_truncate 76
#define NR_ftruncate 77
#define NR_rename 82
#define NR_mkdir 83
#define NR_rmdir 84
#define NR_creat 85
#define NR_link 86
#define NR_unlink 87
#define NR_symlink 88
#define NR_mknod 133
#define NR_mkdirat 258
#define NR_mknodat 259
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_linkat 265
#define NR_symlinkat 266
#define NR_renameat2 316

char LICENSE[] SEC("license") = "GPL";

/* Set by user space before load (rodata). */
const volatile __u64 parent_cgid = 0;
const volatile __u32 parent_level = 0;

/* cgroup id of a sandbox -> its config. One entry per concurrent sandbox. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CALYX_MAX_SANDBOXES);
	__type(key, __u64);
	__type(value, struct calyx_sandbox);
} sandboxes SEC(".maps");

/* (sandbox, dev, ino) of an allowed binary -> its canonical path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CALYX_MAX_EXEC_RULES);
	__type(key, struct calyx_exec_key);
	__type(value, struct calyx_exec_val);
} exec_rules SEC(".maps");

/* (sandbox, path prefix) -> access; see calyx.h for the encoding. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CALYX_MAX_PATH_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct calyx_path_key);
	__type(value, struct calyx_path_val);
} path_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CALYX_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CALYX_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* Per-CPU scratch for the LPM key / resolved path: 264 bytes do not fit the 512-byte
 * stack next to everything else. Non-sleepable programs are not preempted by another
 * program on the same CPU that uses this map, except from NMI context, which none of
 * these hooks run in. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct calyx_path_key);
} scratch SEC(".maps");

/* Per-CPU buffer in which walk_path() builds a path backwards (see there). */
#define WALK_BUF 512
#define WALK_END 256  /* the path's last byte is written just before this offset */
#define WALK_STEPS 160 /* > 125 components of a path that fits CALYX_LPM_PATH_MAX, plus mounts */
struct walk_buf {
	char b[WALK_BUF];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_buf);
} walkbuf SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

enum scope { SCOPE_OUT = 0, SCOPE_IN = 1, SCOPE_ORPHAN = 2 };

/* Where is the current task? SCOPE_IN fills *sb and *sb_cgid. SCOPE_ORPHAN: under calyx's
 * parent in a cgroup that is not (or no longer) a sandbox: callers deny (fail closed). */
static __always_inline int current_scope(__u64 *sb_cgid, struct calyx_sandbox **sb)
{
	if (bpf_get_current_ancestor_cgroup_id(parent_level) != parent_cgid)
		return SCOPE_OUT;
	__u64 id = bpf_get_current_ancestor_cgroup_id(parent_level + 1);
	if (!id)
		return SCOPE_ORPHAN; /* directly in calyx's parent: the runner never is (it stays in
				      * its own cgroup), so a task there was moved out of its sandbox */
	*sb_cgid = id;
	*sb = bpf_map_lookup_elem(&sandboxes, &id);
	return *sb ? SCOPE_IN : SCOPE_ORPHAN;
}

/* Reserve and pre-fill a record; NULL when the ring buffer is full (counted). */
static __always_inline struct calyx_event *ev_new(__u32 type, __u32 hook, __u64 sb_cgid)
{
	struct calyx_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(CALYX_STAT_RB_DROPPED);
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	__u64 pt = bpf_get_current_pid_tgid();
	ev->type = type;
	ev->hook = hook;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->sandbox_cgid = sb_cgid;
	ev->pid = (__u32)pt;
	ev->tgid = pt >> 32;
	return ev;
}

/* Fields only tracing/LSM programs can fill (cgroup sock programs lack these helpers). */
static __always_inline void ev_task(struct calyx_event *ev)
{
	struct task_struct *t = bpf_get_current_task_btf();
	ev->ppid = BPF_CORE_READ(t, real_parent, tgid);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

static __always_inline void ev_submit(struct calyx_event *ev)
{
	/* The consumer polls; a wake-up per record doubles the cost of a denied op. */
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

/* Record a denial from an LSM program. path may be NULL. */
static __always_inline void deny_record(__u32 hook, __u64 sb_cgid, int err, __u32 family,
					__u32 flags, const char *path)
{
	stat_inc(CALYX_STAT_DENIED);
	struct calyx_event *ev = ev_new(CALYX_EV_DENY, hook, sb_cgid);
	if (!ev)
		return; /* counted; the denial itself stands */
	ev_task(ev);
	ev->err = err;
	ev->family = family;
	ev->flags = flags;
	if (path)
		bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), path);
	ev_submit(ev);
}

static __always_inline struct calyx_path_key *scratch_key(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

struct slash_scan {
	__u32 start;
	__u32 found;
};

static long slash_cb(__u32 idx, void *data)
{
	struct slash_scan *sc = data;
	struct calyx_path_key *k = scratch_key();
	__u32 i = sc->start + idx;
	if (!k || i >= CALYX_LPM_PATH_MAX) {
		sc->found = 1; /* cannot happen; treat as "deeper" (the narrower grant) */
		return 1;
	}
	if (k->path[i] == '/') {
		sc->found = 1;
		return 1;
	}
	return 0;
}

/* Access the sandbox's path rules grant to k->path (len bytes incl. the NUL). k is the
 * per-CPU scratch key (slash_cb looks it up again).
 * Returns a calyx_access; CALYX_ACC_NONE when no rule applies. */
static __always_inline int path_access(struct calyx_path_key *k, __u32 sandbox, long len)
{
	if (len < 2 || len > CALYX_LPM_PATH_MAX)
		return CALYX_ACC_NONE; /* "" or too long: closed, never matched truncated */
	if (k->path[0] != '/')
		return CALYX_ACC_NONE; /* "pipe:[..]", "anon_inode:..", relative: closed */
	k->sandbox_be[0] = sandbox >> 24;
	k->sandbox_be[1] = sandbox >> 16;
	k->sandbox_be[2] = sandbox >> 8;
	k->sandbox_be[3] = sandbox;
	k->prefixlen = 32 + 8 * (__u32)len; /* the NUL included: EXACT rules end in it */
	struct calyx_path_val *v = bpf_map_lookup_elem(&path_rules, k);
	if (!v)
		return CALYX_ACC_NONE;
	if (v->kind != CALYX_PATH_CHILDREN)
		return v->match; /* EXACT matched through its NUL; SUBTREE: any depth */
	/* CHILDREN: only when no '/' follows the "dir/" prefix. bpf_loop keeps the verifier
	 * from walking every (length, prefix) combination. */
	struct slash_scan sc = { .start = v->plen, .found = 0 };
	__u32 n = (__u32)len - 1; /* bytes before the NUL */
	if (n > sc.start)
		bpf_loop(n - sc.start, slash_cb, &sc, 0);
	return sc.found ? v->fallback : v->match;
}

/* bpf_d_path is refused in the path_* hooks and file_mprotect on 6.1 (not in the
 * sleepable set), and the inode_* hooks that allow it have no struct path to give it. So
 * the path_* programs resolve (dentry, vfsmount) themselves, the way the kernel's
 * prepend_path() does for d_path: names up the d_parent chain, crossing to the parent
 * mount at each mount root, ending at the task's root or the namespace root. Fails closed
 * on anything d_path would not report as a plain path: a dentry cut off from its mount
 * root, a mount outside any namespace or in an anonymous one (open_tree clones), more
 * than CALYX_LPM_PATH_MAX - 1 bytes or WALK_STEPS steps.
 * Renames by others racing the walk can tear the result, as they can d_path's; the
 * sandbox itself can only rename inside its :rw paths. */
struct mnt_namespace___seq {
	__u64 seq; /* 0 for anonymous namespaces (6.1); renamed in later kernels */
} __attribute__((preserve_access_index));

struct walk {
	__u64 d;        /* struct dentry * still to prepend */
	__u64 m;        /* struct mount * it lives on */
	__u64 m_root;   /* m->mnt.mnt_root, read once per mount */
	__u64 root_d;   /* the task's root (current->fs->root) */
	__u64 root_mnt;
	__u32 pos;      /* offset of the path built so far in walk_buf; WALK_END: empty */
	int rc;         /* 0: walking, 1: done, -1: failed */
};

static long walk_cb(__u32 idx, void *data)
{
	struct walk *w = data;
	struct mount *m = (struct mount *)w->m;
	struct dentry *d = (struct dentry *)w->d;
	__u64 vfsmnt = w->m + bpf_core_field_offset(struct mount, mnt);
	if (w->d == w->root_d && vfsmnt == w->root_mnt) {
		w->rc = 1;
		return 1;
	}
	if (w->d == w->m_root) {
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);
		if (parent && parent != m) {
			w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
			w->m = (__u64)parent;
			w->m_root = (__u64)BPF_CORE_READ(parent, mnt.mnt_root);
			return 0;
		}
		/* the namespace's root mount: only a real (non-anonymous) namespace */
		struct mnt_namespace *ns = BPF_CORE_READ(m, mnt_ns);
		w->rc = 1;
		if (!ns)
			w->rc = -1;
		else if (bpf_core_field_exists(((struct mnt_namespace___seq *)ns)->seq) &&
			 BPF_CORE_READ((struct mnt_namespace___seq *)ns, seq) == 0)
			w->rc = -1; /* is_anon_ns() up to 6.x: a detached tree's own namespace */
		return 1;
	}
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	struct qstr q;
	/* one read for length and name pointer: each helper call counts on this path */
	if (bpf_core_read(&q, sizeof(q), &d->d_name))
		q.name = NULL;
	__u32 n = q.len;
	const unsigned char *name = q.name;
	__u32 pos = w->pos;
	struct walk_buf *wb;
	__u32 zero = 0;
	/* parent == d: disconnected from its mount root. Then: the name and its '/' must
	 * fit the matcher (the NUL included). */
	if (!parent || parent == d || !name || n == 0 || n > 255 || pos > WALK_END ||
	    (WALK_END - pos) + n + 1 > CALYX_LPM_PATH_MAX - 1 ||
	    !(wb = bpf_map_lookup_elem(&walkbuf, &zero))) {
		w->rc = -1;
		return 1;
	}
	pos -= n; /* >= 1: at most CALYX_LPM_PATH_MAX - 2 bytes are in use before */
	/* n <= 255 was checked, but clang folds a plain mask away and the verifier then
	 * has no bound on the size */
	asm volatile("%[n] &= 255" : [n] "+r"(n));
	bpf_probe_read_kernel(&wb->b[pos & 255], n, name);
	pos -= 1;
	wb->b[pos & 255] = '/';
	w->pos = pos;
	w->d = (__u64)parent;
	return 0;
}

/* Resolve (dentry, vfsmount) into k->path like d_path. Returns the length including the
 * NUL, or -1 (unresolvable, too long: callers deny). */
static __always_inline long walk_path(struct calyx_path_key *k, __u64 dentry, __u64 vfsmnt)
{
	if (!dentry || !vfsmnt)
		return -1;
	struct task_struct *t = bpf_get_current_task_btf();
	struct vfsmount *vm = (struct vfsmount *)vfsmnt;
	struct walk w = {
		.d = dentry,
		.m = vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.m_root = (__u64)BPF_CORE_READ(vm, mnt_root),
		.root_d = (__u64)BPF_CORE_READ(t, fs, root.dentry),
		.root_mnt = (__u64)BPF_CORE_READ(t, fs, root.mnt),
		.pos = WALK_END,
		.rc = 0,
	};
	bpf_loop(WALK_STEPS, walk_cb, &w, 0);
	__u32 pos = w.pos;
	if (w.rc != 1 || pos > WALK_END)
		return -1; /* failed, or more steps than WALK_STEPS: closed */
	__u32 len = WALK_END - pos;
	if (len == 0) {
		k->path[0] = '/';
		k->path[1] = 0;
		return 2;
	}
	__u32 zero = 0;
	struct walk_buf *wb = bpf_map_lookup_elem(&walkbuf, &zero);
	if (!wb || len > CALYX_LPM_PATH_MAX - 1)
		return -1;
	bpf_probe_read_kernel(k->path, len, &wb->b[pos & 255]);
	k->path[len] = 0;
	return len + 1;
}

/* Access granted to every descendant of the directory k->path (len incl. the NUL): the
 * best SUBTREE grant covering "dir/". A directory moved elsewhere takes its contents with
 * it, so it may only move if they were all writable where it was. k->path is restored. */
static __always_inline int subtree_floor(struct calyx_path_key *k, __u32 sandbox, long len)
{
	if (len < 2 || len > CALYX_LPM_PATH_MAX)
		return CALYX_ACC_NONE;
	__u32 n = (__u32)len - 1; /* bytes before the NUL */
	if (n >= CALYX_LPM_PATH_MAX)
		return CALYX_ACC_NONE;
	k->path[n] = '/';
	k->sandbox_be[0] = sandbox >> 24;
	k->sandbox_be[1] = sandbox >> 16;
	k->sandbox_be[2] = sandbox >> 8;
	k->sandbox_be[3] = sandbox;
	k->prefixlen = 32 + 8 * (n + 1);
	struct calyx_path_val *v = bpf_map_lookup_elem(&path_rules, k);
	k->path[n] = 0;
	if (!v)
		return CALYX_ACC_NONE;
	/* Only "X/" keys can prefix "dir/" (EXACT keys end in a NUL). A CHILDREN entry's
	 * fallback is what its deeper descendants get. */
	return v->kind == CALYX_PATH_SUBTREE ? v->match : v->fallback;
}

/* A task's sandbox from its own cgroup (0 when outside calyx's parent). Used for fork
 * records (clone3(CLONE_INTO_CGROUP) puts a sandbox's first task into it while the parent,
 * calyx, is outside) and for signal / ptrace targets. */
static __always_inline __u64 task_sandbox_cgid(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	int level = BPF_CORE_READ(cg, level);
	if (level < (int)parent_level + 1)
		return 0;
	struct cgroup *anc = NULL;
	bpf_probe_read_kernel(&anc, sizeof(anc), &cg->ancestors[(parent_level + 1) & 0xff]);
	struct cgroup *par = NULL;
	bpf_probe_read_kernel(&par, sizeof(par), &cg->ancestors[parent_level & 0xff]);
	if (!anc || BPF_CORE_READ(par, kn, id) != parent_cgid)
		return 0;
	return BPF_CORE_READ(anc, kn, id);
}

/* ------------------------------------------------------------------ bpf-lsm backend */

SEC("lsm/bprm_check_security")
int BPF_PROG(calyx_exec, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	/* The file being executed: called once per binfmt round, so a #! script is checked,
	 * then its interpreter (bprm->file is replaced by bprm->interpreter in exec_binprm). */
	struct file *f = bprm->file;
	long len = bpf_d_path((struct path *)&f->f_path, k->path, CALYX_LPM_PATH_MAX);
	if (s != SCOPE_IN) {
		deny_record(CALYX_HOOK_EXEC, sb_cgid, EACCES, 0, 0, len > 0 ? k->path : NULL);
		return -EACCES; /* torn-down sandbox: closed */
	}
	if (len < 2 || len > CALYX_LPM_PATH_MAX) {
		deny_record(CALYX_HOOK_EXEC, sb_cgid, EACCES, 0, 0, NULL);
		return -EACCES; /* unresolvable or too long: closed */
	}
	struct calyx_exec_key key = {
		.sandbox = sb->id,
		.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev),
		.ino = BPF_CORE_READ(f, f_inode, i_ino),
	};
	struct calyx_exec_val *v = bpf_map_lookup_elem(&exec_rules, &key);
	if (!v) {
		deny_record(CALYX_HOOK_EXEC, sb_cgid, EACCES, 0, 0, k->path);
		return -EACCES;
	}
	/* Same inode is not enough: a hard link of the binary elsewhere, or "(deleted)". */
	for (__u32 i = 0; i < CALYX_LPM_PATH_MAX; i++) {
		if (k->path[i] != v->path[i]) {
			deny_record(CALYX_HOOK_EXEC, sb_cgid, EACCES, 0, 0, k->path);
			return -EACCES;
		}
		if (!k->path[i])
			break;
	}
	return 0;
}

SEC("lsm/file_open")
int BPF_PROG(calyx_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	__u32 fmode = file->f_mode;
	/* 6.1 marks exec opens in f_flags only; later kernels also in f_mode */
	if (file->f_flags & __FMODE_EXEC)
		fmode |= FMODE_EXEC;
	__u32 flags = fmode & (FMODE_READ | FMODE_WRITE | FMODE_EXEC);
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = bpf_d_path((struct path *)&file->f_path, k->path, CALYX_LPM_PATH_MAX);
	if (s != SCOPE_IN) {
		deny_record(CALYX_HOOK_FILE_OPEN, sb_cgid, EACCES, 0, flags, len > 0 ? k->path : NULL);
		return -EACCES; /* torn-down sandbox: closed */
	}
	int need = (fmode & FMODE_WRITE) ? CALYX_ACC_RW : CALYX_ACC_RO;
	int acc = path_access(k, sb->id, len); /* NONE on error / too long: closed */
	if (acc >= need)
		return 0;
	/* The open done by execve itself: the exec decision is bprm_check_security's, so a
	 * lease binary need not also be under a path rule. Read-only, identity-checked. */
	if ((fmode & FMODE_EXEC) && !(fmode & FMODE_WRITE)) {
		struct calyx_exec_key key = {
			.sandbox = sb->id,
			.dev = BPF_CORE_READ(file, f_inode, i_sb, s_dev),
			.ino = BPF_CORE_READ(file, f_inode, i_ino),
		};
		if (bpf_map_lookup_elem(&exec_rules, &key))
			return 0;
	}
	deny_record(CALYX_HOOK_FILE_OPEN, sb_cgid, EACCES, 0, flags, len > 0 ? k->path : NULL);
	return -EACCES;
}

SEC("lsm/socket_create")
int BPF_PROG(calyx_socket_create, int family, int type, int protocol, int kern, int ret)
{
	if (ret)
		return ret;
	if (kern)
		return 0; /* kernel-internal sockets are not the task's */
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT || family == AF_UNIX)
		return 0;
	if (s == SCOPE_IN && !(sb->flags & CALYX_SB_NET_DENY_ALL))
		return 0;
	/* deny_all, or a torn-down sandbox (closed) */
	deny_record(CALYX_HOOK_SOCKET_CREATE, sb_cgid, EACCES, family,
		    ((__u32)type & 0xffff) | ((__u32)protocol << 16), NULL);
	return -EACCES;
}

/* Decide a destination address for connect / sendmsg. addr is a kernel copy. Returns 0 or
 * -EACCES (recorded). */
static __always_inline int net_decide(__u32 hook, __u64 sb_cgid, struct calyx_sandbox *sb,
				      int in_scope, struct socket *sock, struct sockaddr *addr,
				      int addrlen)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	/* Kernel sockets used on the task's behalf (sunrpc, ...) are not the task's: they
	 * were never created through socket(2) by it. */
	if (sk && BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock))
		return 0;
	__u16 sk_family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 family = AF_UNSPEC;
	if (addr && addrlen >= 2)
		bpf_probe_read_kernel(&family, sizeof(family), &addr->sa_family);
	if (!in_scope) {
		deny_record(hook, sb_cgid, EACCES, family, 0, NULL);
		return -EACCES; /* torn-down sandbox: closed */
	}
	bool deny_all = sb->flags & CALYX_SB_NET_DENY_ALL;

	if (sk_family != AF_UNIX) {
		/* connect(AF_UNSPEC) dissolves an association; it reaches nothing. A send
		 * without an address goes wherever the socket is connected: denied. */
		if (!deny_all || (hook == CALYX_HOOK_SOCKET_CONNECT && family == AF_UNSPEC))
			return 0;
		struct calyx_event *ev;
		stat_inc(CALYX_STAT_DENIED);
		ev = ev_new(CALYX_EV_DENY, hook, sb_cgid);
		if (ev) {
			ev_task(ev);
			ev->err = EACCES;
			ev->family = family ? family : sk_family;
			if (family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
				struct sockaddr_in *in = (void *)addr;
				__u16 port = 0;
				bpf_probe_read_kernel(&port, 2, &in->sin_port);
				ev->port = __builtin_bswap16(port);
				bpf_probe_read_kernel(ev->addr, 4, &in->sin_addr);
			} else if (family == AF_INET6 && addrlen >= (int)sizeof(struct sockaddr_in6)) {
				struct sockaddr_in6 *in6 = (void *)addr;
				__u16 port = 0;
				bpf_probe_read_kernel(&port, 2, &in6->sin6_port);
				ev->port = __builtin_bswap16(port);
				bpf_probe_read_kernel(ev->addr, 16, &in6->sin6_addr);
			}
			ev_submit(ev);
		}
		return -EACCES;
	}

	/* AF_UNIX: no address (connected send) was decided at connect time. */
	if (!addr || addrlen <= 2 || family != AF_UNIX)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen; closed */
		return -EACCES;
	__u32 n = (__u32)addrlen - 2; /* sun_path bytes given */
	if (n > 108)
		n = 108;
	k->path[0] = 0;
	bpf_probe_read_kernel(k->path, 1, ((struct sockaddr_un *)addr)->sun_path);
	/* Abstract names (leading NUL) reach any listener on the host: closed. Relative
	 * names fail path_access (no leading '/'): closed. sun_path need not be
	 * NUL-terminated: read at most n bytes and terminate. */
	long len = 0;
	if (k->path[0])
		len = bpf_probe_read_kernel_str(k->path, (n + 1) & 127, ((struct sockaddr_un *)addr)->sun_path);
	if (len > 0 && path_access(k, sb->id, len) >= CALYX_ACC_RW)
		return 0;
	/* abstract names are binary: recorded without a path */
	deny_record(hook, sb_cgid, EACCES, AF_UNIX, 0, len > 0 ? k->path : NULL);
	return -EACCES;
}

SEC("lsm/socket_connect")
int BPF_PROG(calyx_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen,
	     int ret)
{
	if (ret)
		return ret;
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	return net_decide(CALYX_HOOK_SOCKET_CONNECT, sb_cgid, sb, s == SCOPE_IN, sock, address,
			  addrlen);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(calyx_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	if (ret)
		return ret;
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	/* msg_name is the kernel copy of the destination (NULL for connected sends). */
	struct sockaddr *name = BPF_CORE_READ(msg, msg_name);
	int namelen = BPF_CORE_READ(msg, msg_namelen);
	return net_decide(CALYX_HOOK_SOCKET_SENDMSG, sb_cgid, sb, s == SCOPE_IN, sock,
			  name, name ? namelen : 0);
}

/* AF_UNIX peers are decided on the socket they reach, not on the name the task passed:
 * socket_connect / socket_sendmsg above only see the sun_path string, which the kernel
 * then resolves (following symlinks and "..") to whatever socket it names. A link made in
 * an :rw directory to /run/docker.sock, or "/rw/../run/docker.sock", passes any string
 * check. These hooks get the peer socket after resolution: its bound path (unix_sock.path,
 * set by bind) must be :rw. Abstract and unbound peers have no path: denied. */
static __always_inline int unix_peer_decide(__u32 hook, struct sock *other)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	struct unix_sock *u = (struct unix_sock *)other;
	long len = walk_path(k, (__u64)BPF_CORE_READ(u, path.dentry), (__u64)BPF_CORE_READ(u, path.mnt));
	if (s == SCOPE_IN && path_access(k, sb->id, len) >= CALYX_ACC_RW)
		return 0;
	/* torn-down sandbox, abstract or unbound peer, unresolvable, not :rw: closed */
	deny_record(hook, sb_cgid, EACCES, AF_UNIX, 0, len > 0 ? k->path : NULL);
	return -EACCES;
}

SEC("lsm/unix_stream_connect")
int BPF_PROG(calyx_unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk,
	     int ret)
{
	if (ret)
		return ret;
	return unix_peer_decide(CALYX_HOOK_SOCKET_CONNECT, other);
}

/* Datagram connect and every datagram send (connected or to an address). */
SEC("lsm/unix_may_send")
int BPF_PROG(calyx_unix_may_send, struct socket *sock, struct socket *other, int ret)
{
	if (ret)
		return ret;
	return unix_peer_decide(CALYX_HOOK_SOCKET_SENDMSG, BPF_CORE_READ(other, sk));
}

/* Hooks whose operation no sandboxed task may perform at all: tasks outside leave after
 * the scope check; inside (or in a torn-down sandbox: closed) the call is refused with
 * EPERM and recorded, `what` saying which operation. */
static __always_inline int deny_in_sandbox(__u32 hook, __u32 what)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	if (current_scope(&sb_cgid, &sb) == SCOPE_OUT)
		return 0;
	deny_record(hook, sb_cgid, EPERM, what, 0, NULL);
	return -EPERM;
}

/* Linux 6.1 signature; newer kernels add a `bool kernel` before ret. Whatever the value of
 * the last argument, a task inside a sandbox is denied. */
SEC("lsm/bpf")
int BPF_PROG(calyx_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	if (ret)
		return ret;
	/* in a sandbox or a torn-down one: the sandbox must not touch its enforcer */
	return deny_in_sandbox(CALYX_HOOK_BPF, (__u32)cmd);
}

/* Mount-like operations change what bpf_d_path reports for a file (a bind mount or chroot
 * can make any file look like an allowed path), so a sandbox may not do them at all. */
static __always_inline int deny_mountish(__u32 what)
{
	return deny_in_sandbox(CALYX_HOOK_MOUNT, what);
}

SEC("lsm/sb_mount")
int BPF_PROG(calyx_sb_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	if (ret)
		return ret;
	return deny_mountish(1);
}

SEC("lsm/move_mount")
int BPF_PROG(calyx_move_mount, const struct path *from, const struct path *to, int ret)
{
	if (ret)
		return ret;
	return deny_mountish(2);
}

SEC("lsm/sb_pivotroot")
int BPF_PROG(calyx_sb_pivotroot, const struct path *old, const struct path *new, int ret)
{
	if (ret)
		return ret;
	return deny_mountish(3);
}

SEC("lsm/path_chroot")
int BPF_PROG(calyx_path_chroot, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return deny_mountish(4);
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
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	if (s == SCOPE_IN && task_sandbox_cgid(target) == sb_cgid)
		return 0;
	/* outside target, or a torn-down sandbox: closed */
	deny_record(hook, sb_cgid, EPERM, what, BPF_CORE_READ(target, tgid), NULL);
	return -EPERM;
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

/* ------------------------------------------------------------------ bpf-lsm: file system changes
 * Everything that changes the file system without an open for writing (which file_open
 * decides): the object must resolve to a path the sandbox's rules grant :rw. */

static __always_inline bool dentry_is_dir(__u64 dentry)
{
	struct dentry *d = (struct dentry *)dentry;
	struct inode *i = BPF_CORE_READ(d, d_inode);
	return i && (BPF_CORE_READ(i, i_mode) & S_IFMT) == S_IFDIR;
}

/* 0 when the object (dentry on vfsmnt) is writable for the sandbox, else -EACCES
 * (recorded). floor: the object is a directory that moves; its whole subtree must have
 * been writable. */
static __always_inline int mutate_check(__u32 op, int s, __u64 sb_cgid, struct calyx_sandbox *sb,
					__u64 dentry, __u64 vfsmnt, bool floor)
{
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = walk_path(k, dentry, vfsmnt);
	if (s == SCOPE_IN && path_access(k, sb->id, len) >= CALYX_ACC_RW &&
	    (!floor || subtree_floor(k, sb->id, len) >= CALYX_ACC_RW))
		return 0;
	/* torn-down sandbox, unresolvable, too long, not :rw: closed */
	deny_record(CALYX_HOOK_PATH_MUTATE, sb_cgid, EACCES, 0, op, len > 0 ? k->path : NULL);
	return -EACCES;
}

/* The hooks that name an object by (directory path, dentry): the dentry is the entry in
 * that directory (negative for a new name), so the walk starts at the dentry itself. */
static __always_inline int mutate_dir_entry(__u32 op, const struct path *dir, struct dentry *dentry)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	return mutate_check(op, s, sb_cgid, sb, (__u64)dentry, (__u64)BPF_CORE_READ(dir, mnt), false);
}

static __always_inline int mutate_path(__u32 op, const struct path *path)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	return mutate_check(op, s, sb_cgid, sb, (__u64)BPF_CORE_READ(path, dentry),
			    (__u64)BPF_CORE_READ(path, mnt), false);
}

SEC("lsm/path_unlink")
int BPF_PROG(calyx_path_unlink, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return mutate_dir_entry(CALYX_MUT_UNLINK, dir, dentry);
}

SEC("lsm/path_rmdir")
int BPF_PROG(calyx_path_rmdir, const struct path *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return mutate_dir_entry(CALYX_MUT_RMDIR, dir, dentry);
}

SEC("lsm/path_mkdir")
int BPF_PROG(calyx_path_mkdir, const struct path *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return mutate_dir_entry(CALYX_MUT_MKDIR, dir, dentry);
}

/* mknod(2), and also may_o_create() (O_CREAT of a new file, before file_open is asked)
 * and unix_bind() (a pathname AF_UNIX socket). */
SEC("lsm/path_mknod")
int BPF_PROG(calyx_path_mknod, const struct path *dir, struct dentry *dentry, umode_t mode,
	     unsigned int dev, int ret)
{
	if (ret)
		return ret;
	__u32 fmt = mode & S_IFMT;
	if (fmt == S_IFCHR || fmt == S_IFBLK) {
		/* A device node in a :rw directory would open the device under a :rw path
		 * (a disk, /dev/mem): never, wherever. */
		__u64 sb_cgid = 0;
		struct calyx_sandbox *sb = NULL;
		if (current_scope(&sb_cgid, &sb) == SCOPE_OUT)
			return 0;
		deny_record(CALYX_HOOK_PATH_MUTATE, sb_cgid, EACCES, 0, CALYX_MUT_MKNOD_DEV, NULL);
		return -EACCES;
	}
	return mutate_dir_entry(CALYX_MUT_MKNOD, dir, dentry);
}

SEC("lsm/path_symlink")
int BPF_PROG(calyx_path_symlink, const struct path *dir, struct dentry *dentry,
	     const char *old_name, int ret)
{
	if (ret)
		return ret;
	/* The target string is not checked: opens through the link are decided on the
	 * resolved file. */
	return mutate_dir_entry(CALYX_MUT_SYMLINK, dir, dentry);
}

/* A hard link makes the file reachable under the new name, with the new name's access:
 * the file itself must already be writable where it is (THREATS.md: a file outside the
 * lease, or a :ro one, linked into a :rw directory). Both names are on one mount
 * (do_linkat refuses EXDEV before this hook). */
SEC("lsm/path_link")
int BPF_PROG(calyx_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	__u64 mnt = (__u64)BPF_CORE_READ(new_dir, mnt);
	int rc = mutate_check(CALYX_MUT_LINK_SRC, s, sb_cgid, sb, (__u64)old_dentry, mnt, false);
	if (rc)
		return rc;
	return mutate_check(CALYX_MUT_LINK, s, sb_cgid, sb, (__u64)new_dentry, mnt, false);
}

/* Both names must be :rw; a directory that moves (the source, or either side of
 * RENAME_EXCHANGE) must have had a writable subtree (subtree_floor). */
SEC("lsm/path_rename")
int BPF_PROG(calyx_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	int rc = mutate_check(CALYX_MUT_RENAME, s, sb_cgid, sb, (__u64)old_dentry,
			      (__u64)BPF_CORE_READ(old_dir, mnt), dentry_is_dir((__u64)old_dentry));
	if (rc)
		return rc;
	/* An existing target is only replaced (an empty directory at most), unless exchanged */
	return mutate_check(CALYX_MUT_RENAME_DST, s, sb_cgid, sb, (__u64)new_dentry,
			    (__u64)BPF_CORE_READ(new_dir, mnt),
			    (flags & RENAME_EXCHANGE) && dentry_is_dir((__u64)new_dentry));
}

/* truncate(2), ftruncate(2), and open(O_TRUNC) of an existing file, which file_open sees
 * as a read when the open is O_RDONLY|O_TRUNC. */
SEC("lsm/path_truncate")
int BPF_PROG(calyx_path_truncate, const struct path *path, int ret)
{
	if (ret)
		return ret;
	return mutate_path(CALYX_MUT_TRUNCATE, path);
}

/* Since 6.2, O_TRUNC on open and ftruncate(2) reach file_truncate instead of
 * path_truncate (on 6.1 the hook does not exist and path_truncate sees both). */
SEC("lsm/file_truncate")
int BPF_PROG(calyx_file_truncate, struct file *file, int ret)
{
	if (ret)
		return ret;
	return mutate_path(CALYX_MUT_TRUNCATE, &file->f_path);
}

/* chmod, fchmod, fchmodat (chmod_common) */
SEC("lsm/path_chmod")
int BPF_PROG(calyx_path_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return mutate_path(CALYX_MUT_CHMOD, path);
}

SEC("lsm/path_chown")
int BPF_PROG(calyx_path_chown, const struct path *path, __u64 uid, __u64 gid, int ret)
{
	if (ret)
		return ret;
	return mutate_path(CALYX_MUT_CHOWN, path);
}

/* The xattr hooks get a dentry without its mount, so no path can be resolved: a sandbox
 * may not set or remove extended attributes at all (ACLs, file capabilities, user.*). */
static __always_inline int deny_xattr(__u32 op)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	if (current_scope(&sb_cgid, &sb) == SCOPE_OUT)
		return 0;
	deny_record(CALYX_HOOK_PATH_MUTATE, sb_cgid, EACCES, 0, op, NULL);
	return -EACCES;
}

/* 6.1: (struct user_namespace *, ...); later kernels: (struct mnt_idmap *, ...). Same arity. */
SEC("lsm/inode_setxattr")
int BPF_PROG(calyx_inode_setxattr, void *userns, struct dentry *dentry, const char *name,
	     const void *value, size_t size, int flags, int ret)
{
	if (ret)
		return ret;
	return deny_xattr(CALYX_MUT_SETXATTR);
}

SEC("lsm/inode_removexattr")
int BPF_PROG(calyx_inode_removexattr, void *userns, struct dentry *dentry, const char *name,
	     int ret)
{
	if (ret)
		return ret;
	return deny_xattr(CALYX_MUT_REMOVEXATTR);
}

/* chattr works on a file opened read-only: the inode flags (immutable, append-only, ...)
 * are a change to the file. The command is compared first: this runs for every ioctl. */
SEC("lsm/file_ioctl")
int BPF_PROG(calyx_file_ioctl, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	if (ret)
		return ret;
	if (cmd != FS_IOC_SETFLAGS && cmd != FS_IOC32_SETFLAGS && cmd != FS_IOC_FSSETXATTR)
		return 0;
	return mutate_path(CALYX_MUT_SETFLAGS, &file->f_path);
}

/* ------------------------------------------------------------------ bpf-lsm: executable mappings
 * PROT_EXEC of a file needs a file the sandbox could open for reading under a rule (the
 * runtime baseline, lease paths) or a lease binary (the kernel maps it at exec). What
 * that leaves out: memfds and deleted files (fileless code), and files the sandbox can
 * only hold through a descriptor it could not have opened itself. */
static __always_inline int exec_map_decide(__u32 op, int s, __u64 sb_cgid, struct calyx_sandbox *sb,
					   struct calyx_path_key *k, long len, struct inode *ino)
{
	if (s == SCOPE_IN && BPF_CORE_READ(ino, __i_nlink) > 0) {
		struct calyx_exec_key key = {
			.sandbox = sb->id,
			.dev = BPF_CORE_READ(ino, i_sb, s_dev),
			.ino = BPF_CORE_READ(ino, i_ino),
		};
		if (bpf_map_lookup_elem(&exec_rules, &key))
			return 0;
		if (path_access(k, sb->id, len) >= CALYX_ACC_RO)
			return 0;
	}
	deny_record(CALYX_HOOK_MMAP_EXEC, sb_cgid, EACCES, 0, op, len > 0 ? k->path : NULL);
	return -EACCES;
}

SEC("lsm/mmap_file")
int BPF_PROG(calyx_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0; /* anonymous memory (JITs) is not a file's code */
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = bpf_d_path((struct path *)&file->f_path, k->path, CALYX_LPM_PATH_MAX);
	return exec_map_decide(1, s, sb_cgid, sb, k, len, file->f_inode);
}

SEC("lsm/file_mprotect")
int BPF_PROG(calyx_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	struct file *f = BPF_CORE_READ(vma, vm_file);
	if (!f)
		return 0; /* anonymous memory */
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = walk_path(k, (__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt));
	return exec_map_decide(2, s, sb_cgid, sb, k, len, BPF_CORE_READ(f, f_inode));
}

/* ------------------------------------------------------------------ monitoring (both) */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(calyx_tp_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	if (current_scope(&sb_cgid, &sb) == SCOPE_OUT)
		return 0;
	struct calyx_event *ev = ev_new(CALYX_EV_EXEC, CALYX_HOOK_NONE, sb_cgid);
	if (!ev)
		return 0; /* counted; monitoring only */
	ev_task(ev);
	/* Informational only (the decision was made on the file): the name given to exec. */
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), BPF_CORE_READ(bprm, filename));
	ev_submit(ev);
	return 0;
}

/* landlock backend: Landlock does not stop fileless exec (memfd, deleted file), and the
 * image must be a lease binary whatever name it ran under. Kill before it runs. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(calyx_exec_image, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	if (s == SCOPE_OUT)
		return 0;
	struct file *f = BPF_CORE_READ(bprm, file);
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 nlink = BPF_CORE_READ(ino, __i_nlink);
	bool ok = false;
	if (s == SCOPE_IN && nlink > 0) {
		struct calyx_exec_key key = {
			.sandbox = sb->id,
			.dev = BPF_CORE_READ(ino, i_sb, s_dev),
			.ino = BPF_CORE_READ(ino, i_ino),
		};
		ok = bpf_map_lookup_elem(&exec_rules, &key) != NULL;
	}
	if (ok)
		return 0;
	/* closed: unknown image, fileless image, or a torn-down sandbox */
	bpf_send_signal(SIGKILL);
	stat_inc(CALYX_STAT_DENIED);
	struct calyx_event *ev = ev_new(CALYX_EV_KILL, CALYX_HOOK_EXEC_IMAGE, sb_cgid);
	if (!ev)
		return 0; /* counted; the kill stands */
	ev_task(ev);
	ev->err = SIGKILL;
	ev->flags = nlink;
	bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), BPF_CORE_READ(bprm, filename));
	ev_submit(ev);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(calyx_tp_fork, struct task_struct *parent, struct task_struct *child)
{
	__u64 sb_cgid = task_sandbox_cgid(child);
	if (!sb_cgid)
		return 0;
	struct calyx_event *ev = ev_new(CALYX_EV_FORK, CALYX_HOOK_NONE, sb_cgid);
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
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	if (current_scope(&sb_cgid, &sb) == SCOPE_OUT)
		return 0;
	struct signal_struct *sig = p->signal;
	if (BPF_CORE_READ(sig, live.counter) != 0)
		return 0; /* other threads of the group still run: report once, at the last */
	struct calyx_event *ev = ev_new(CALYX_EV_EXIT, CALYX_HOOK_NONE, sb_cgid);
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

/* landlock backend: what Landlock refused shows up as EACCES/EPERM from these syscalls.
 * Cheapest tests first: this runs at every syscall exit on the host. */
SEC("tp_btf/sys_exit")
int BPF_PROG(calyx_sys_exit, struct pt_regs *regs, long ret)
{
	if (ret != -EACCES && ret != -EPERM)
		return 0;
	long nr = BPF_CORE_READ(regs, orig_ax);
	const char *upath = NULL;
	/* Every syscall a Landlock right refuses (EXECUTE, READ/WRITE_FILE, MAKE_*, REMOVE_*,
	 * REFER, TRUNCATE, CONNECT_TCP): without the ones that change names, refused mkdir,
	 * unlink, rename, link, ... would be neither counted nor logged. */
	switch (nr) {
	case NR_open:
	case NR_execve:
	case NR_creat:
	case NR_truncate:
	case NR_mkdir:
	case NR_rmdir:
	case NR_unlink:
	case NR_rename:  /* the old name */
	case NR_link:    /* the existing file */
	case NR_mknod:
		upath = (const char *)BPF_CORE_READ(regs, di);
		break;
	case NR_openat:
	case NR_openat2:
	case NR_execveat:
	case NR_mkdirat:
	case NR_unlinkat:
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
	case NR_mknodat:
	case NR_symlink: /* the new link's name */
		upath = (const char *)BPF_CORE_READ(regs, si);
		break;
	case NR_symlinkat:
		upath = (const char *)BPF_CORE_READ(regs, dx);
		break;
	case NR_connect:
	case NR_bind:
	case NR_ftruncate:
		break;
	default:
		return 0;
	}
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	if (current_scope(&sb_cgid, &sb) == SCOPE_OUT)
		return 0;
	stat_inc(CALYX_STAT_DENIED);
	struct calyx_event *ev = ev_new(CALYX_EV_DENY, CALYX_HOOK_SYSCALL_EXIT, sb_cgid);
	if (!ev)
		return 0; /* counted */
	ev_task(ev);
	ev->err = -ret;
	ev->family = nr;
	/* Best effort: the name as the task passed it (may be paged out: then ""). */
	if (upath)
		bpf_probe_read_user_str(ev->path, sizeof(ev->path), upath);
	ev_submit(ev);
	return 0;
}

/* ------------------------------------------------------------------ landlock backend: network
 * cgroup sock programs are attached to each sandbox's cgroup (so they see nothing else);
 * 1 allows, 0 denies (EPERM to the caller). */

static __always_inline int cg_decide(__u32 hook, __u32 family, struct bpf_sock_addr *sa)
{
	__u64 sb_cgid = 0;
	struct calyx_sandbox *sb = NULL;
	int s = current_scope(&sb_cgid, &sb);
	/* Attached only to sandbox cgroups, so SCOPE_OUT means the task was moved under a
	 * different parent than configured: closed like an orphan. */
	if (s == SCOPE_IN && !(sb->flags & CALYX_SB_NET_DENY_ALL))
		return 1;
	stat_inc(CALYX_STAT_DENIED);
	struct calyx_event *ev = ev_new(CALYX_EV_DENY, hook, sb_cgid);
	if (!ev)
		return 0; /* counted; the denial stands */
	ev->err = EPERM;
	ev->family = family;
	if (sa) {
		ev->port = __builtin_bswap16((__u16)sa->user_port);
		if (family == AF_INET) {
			__u32 a = sa->user_ip4;
			__builtin_memcpy(ev->addr, &a, 4);
		} else if (family == AF_INET6) {
			__u32 a[4];
			a[0] = sa->user_ip6[0];
			a[1] = sa->user_ip6[1];
			a[2] = sa->user_ip6[2];
			a[3] = sa->user_ip6[3];
			__builtin_memcpy(ev->addr, a, 16);
		}
	}
	ev_submit(ev);
	return 0;
}

SEC("cgroup/connect4")
int calyx_cg_connect4(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_CONNECT, AF_INET, ctx);
}

SEC("cgroup/connect6")
int calyx_cg_connect6(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_CONNECT, AF_INET6, ctx);
}

SEC("cgroup/sendmsg4")
int calyx_cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_SENDMSG, AF_INET, ctx);
}

SEC("cgroup/sendmsg6")
int calyx_cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_SENDMSG, AF_INET6, ctx);
}

/* Runs for AF_INET/AF_INET6 socket creation by tasks (not kernel sockets). */
SEC("cgroup/sock_create")
int calyx_cg_sock_create(struct bpf_sock *ctx)
{
	if (ctx->family == AF_UNIX)
		return 1;
	return cg_decide(CALYX_HOOK_SOCKET_CREATE, ctx->family, NULL);
}
