/* What every calyx BPF program shares: kernel constants, the set's configuration, the
 * maps, the scope check, ring-buffer records and the one place a denial is decided.
 * Included once, by bpf/calyx.bpf.c (the one compilation unit of the resident set).
 *
 * Scope. A resident set serves every sandbox of one backend on the host. Its root cgroup
 * (<v2 mount>/calyx/<backend>, root_cgid at root_level) holds one directory per runner
 * (root_level + 1), and each runner's sandbox below it (root_level + 2). A task whose
 * ancestor at root_level is not the root leaves every hook after that one helper call,
 * whatever the number of live sandboxes. A task under the root is in the sandbox at
 * root_level + 2 (which covers every descendant cgroup it might create) when that cgroup
 * is registered in `sandboxes`; a task under the root that is not (directly in the root
 * or a runner's directory, where no task belongs, or in a sandbox whose entry is gone) is
 * an orphan: every hook denies it everything (fail closed).
 *
 * Every failure path says whether it fails open or closed. They all fail closed: a
 * decision we cannot make is a denial. The ring buffer never changes a decision: a failed
 * reserve is counted in the sandbox's counters and the decision stands. */
#ifndef CALYX_COMMON_BPF_H
#define CALYX_COMMON_BPF_H
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
#define PAGE_KB 4 /* x86-64 PAGE_SIZE / 1024: signal->maxrss counts pages */
#define MQUEUE_MAGIC 0x19800202

/* Set by user space before load (rodata), recorded in the set's stamp. */
const volatile __u64 root_cgid = 0;
const volatile __u32 root_level = 0;
/* Kernel addresses of rename_lock's and mount_lock's sequence counts (from /proc/kallsyms),
 * 0 when unknown: then the verdict cache is off (every open takes the full decision). */
const volatile __u64 rename_seq_addr = 0;
const volatile __u64 mount_seq_addr = 0;

/* sandbox cgroup id -> its configuration. One entry per live sandbox. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CALYX_MAX_SANDBOXES);
	__type(key, __u64);
	__type(value, struct calyx_sandbox);
} sandboxes SEC(".maps");

/* (slot, dev, ino) of an allowed binary -> its canonical path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CALYX_MAX_EXEC_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory only for the rules of live sandboxes */
	__type(key, struct calyx_exec_key);
	__type(value, struct calyx_exec_val);
} exec_rules SEC(".maps");

/* (slot, argv length, image file, argv hash) -> the argv bytes; see calyx.h. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CALYX_MAX_ARGV_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* memory only for the rules of live sandboxes */
	__type(key, struct calyx_argv_key);
	__type(value, struct calyx_argv_val);
} argv_rules SEC(".maps");

/* Per-CPU copy of the argv being decided (sched_process_exec). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct calyx_argv_val);
} argv_scratch SEC(".maps");

/* (slot, path prefix) -> access; see calyx.h for the encoding. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CALYX_MAX_PATH_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct calyx_path_key);
	__type(value, struct calyx_path_val);
} path_rules SEC(".maps");

/* One ring buffer per slot, put in by the run that owns the slot. */
struct calyx_rb {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CALYX_RINGBUF_BYTES);
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, CALYX_SLOTS);
	__type(key, __u32);
	__array(values, struct calyx_rb);
} slot_rb SEC(".maps");

/* Per-slot counters, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CALYX_SLOTS);
	__type(key, __u32);
	__type(value, struct calyx_stats);
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

static __always_inline void stat_inc(__u32 slot, __u32 idx)
{
	struct calyx_stats *v = bpf_map_lookup_elem(&stats, &slot);
	if (v && idx < CALYX_STAT_MAX)
		__sync_fetch_and_add(&v->v[idx], 1);
}

/* The slot's peak ring-buffer fill: written only when above the stored value, so the
 * common case is one lookup and one compare. Per CPU, so no other CPU races the write; a
 * program nested on the same CPU between the compare and the write could only lower the
 * stored peak below its own value by the size of one record. */
static __always_inline void stat_max(__u32 slot, __u32 idx, __u64 val)
{
	struct calyx_stats *v = bpf_map_lookup_elem(&stats, &slot);
	if (v && idx < CALYX_STAT_MAX && val > v->v[idx])
		v->v[idx] = val;
}

/* ------------------------------------------------------------------ scope */

struct scope {
	__u64 sb_cgid;             /* the cgroup at the sandbox level; 0 when the task is higher */
	struct calyx_sandbox *sb;  /* its entry; NULL: an orphan (callers deny) */
	__u32 slot;                /* sb->slot, 0 for orphans */
};

/* false: the task is outside every sandbox of this set (leave the hook). true: *sc says
 * which sandbox, or that the task is an orphan (sc->sb NULL). */
static __always_inline bool scope_enter(struct scope *sc)
{
	if (bpf_get_current_ancestor_cgroup_id(root_level) != root_cgid)
		return false;
	__u64 id = bpf_get_current_ancestor_cgroup_id(root_level + 2);
	sc->sb_cgid = id;
	sc->sb = id ? bpf_map_lookup_elem(&sandboxes, &id) : NULL;
	sc->slot = sc->sb ? sc->sb->slot : 0;
	return true;
}

/* The prologue of every hook that decides for sandboxed tasks. */
#define SCOPE_ENTER(sc)            \
	struct scope sc;           \
	if (!scope_enter(&sc))     \
		return 0

/* A task's sandbox cgroup from its own cgroup (0 when outside this set's root). Used for
 * fork records (clone3(CLONE_INTO_CGROUP) puts a sandbox's first task into it while the
 * parent, calyx, is outside) and for signal / ptrace targets. */
static __always_inline __u64 task_sandbox_cgid(struct task_struct *t)
{
	struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	int level = BPF_CORE_READ(cg, level);
	if (level < (int)root_level + 2)
		return 0;
	struct cgroup *anc = NULL, *root = NULL;
	/* A failed read leaves NULL: treated as outside, for records and as "not the same
	 * sandbox" for signal / ptrace targets (denied). */
	bpf_probe_read_kernel(&anc, sizeof(anc), &cg->ancestors[(root_level + 2) & 0xff]);
	bpf_probe_read_kernel(&root, sizeof(root), &cg->ancestors[root_level & 0xff]);
	if (!anc || !root || BPF_CORE_READ(root, kn, id) != root_cgid)
		return 0;
	return BPF_CORE_READ(anc, kn, id);
}

/* Whether an inode is on the POSIX message queue file system (a failed read: no, and
 * the object is then decided by its path like any file). */
static __always_inline bool inode_is_mqueue(struct inode *ino)
{
	return BPF_CORE_READ(ino, i_sb, s_magic) == MQUEUE_MAGIC;
}

/* ------------------------------------------------------------------ records */

/* Reserve size bytes (a record that starts with a struct calyx_event, calyx.h) in the
 * sandbox's own ring buffer and pre-fill its head; NULL when it is full or there is none
 * (orphans, a slot whose run is gone): counted in the slot's drops. The body is zeroed
 * here and the caller's to fill. size is a constant at every call site (the verifier
 * wants one). */
static __always_inline void *ev_reserve_bare(const struct scope *sc, __u32 type, __u32 hook, __u64 size)
{
	__u32 slot = sc->slot;
	void *rb = bpf_map_lookup_elem(&slot_rb, &slot);
	struct calyx_event *ev = rb ? bpf_ringbuf_reserve(rb, size, 0) : NULL;
	if (!ev) {
		stat_inc(slot, CALYX_STAT_RB_DROPPED);
		if (type == CALYX_EV_FORK || type == CALYX_EV_EXEC || type == CALYX_EV_EXIT)
			stat_inc(slot, CALYX_STAT_RB_DROPPED_PROC);
		return NULL;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	/* Past the wake-up fill the consumer is woken (ev_submit) instead of waiting for its
	 * next tick: a flood fills the buffer faster than one tick drains. wake carries the
	 * choice to ev_submit and is zeroed there. */
	/* The bytes the ring holds now, this record included (the producer position has
	 * moved past it): the slot's peak fill (meta.json ringbuf, docs/fleet.md "Metrics"). */
	__u64 fill = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	if (fill > CALYX_RINGBUF_WAKE_FILL)
		ev->wake = 1;
	stat_max(slot, CALYX_STAT_RB_PEAK, fill);
	ev->type = type;
	ev->hook = hook;
	ev->size = (__u16)size;
	ev->ts_ns = bpf_ktime_get_ns();
	ev->sandbox_cgid = sc->sb_cgid;
	return ev;
}

/* ev_reserve_bare plus the current task's ids: for every program that runs in the task
 * (the packet program of landlock.bpf.c runs in whatever the CPU was doing: bare). */
static __always_inline void *ev_reserve(const struct scope *sc, __u32 type, __u32 hook, __u64 size)
{
	struct calyx_event *ev = ev_reserve_bare(sc, type, hook, size);
	if (ev) {
		__u64 pt = bpf_get_current_pid_tgid();
		ev->cgroup_id = bpf_get_current_cgroup_id();
		ev->pid = (__u32)pt;
		ev->tgid = pt >> 32;
	}
	return ev;
}

/* Fields only tracing/LSM programs can fill (cgroup sock programs lack these helpers). */
static __always_inline void ev_task(struct calyx_event *ev)
{
	struct task_struct *t = bpf_get_current_task_btf();
	ev->ppid = BPF_CORE_READ(t, real_parent, tgid);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

/* The same for the cgroup sock programs, which have neither bpf_get_current_task_btf nor
 * (before 6.x) bpf_get_current_comm: the task pointer and probed reads (root loads the set,
 * so the base helpers include both). A failed read leaves zeros. */
static __always_inline void ev_task_probed(struct calyx_event *ev)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	ev->ppid = BPF_CORE_READ(t, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&ev->comm, t, comm);
}

static __always_inline void ev_submit(struct calyx_event *ev)
{
	/* The consumer polls; a wake-up per record doubles the cost of a denied op. */
	__u64 flags = ev->wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	ev->wake = 0;
	bpf_ringbuf_submit(ev, flags);
}

/* ------------------------------------------------------------------ the verdict */

/* Where a denial came from and what it concerned, for its record. */
struct deny_info {
	__u32 hook;        /* calyx_hook */
	int err;           /* positive errno the operation fails with */
	__u32 family;      /* socket family, or which operation (calyx_mutate_op, bpf cmd, ...) */
	__u32 flags;
	const char *path;  /* kernel string, or NULL */
	const __u8 *addr;  /* 16 address bytes (IPv4 in the first 4), or NULL */
	__u16 port;
	bool no_task;      /* cgroup sock programs: the task's fields by probed reads */
};

static __always_inline void deny_fill(struct calyx_deny_event *r, const struct deny_info *d)
{
	if (!d->no_task)
		ev_task(&r->ev);
	else
		ev_task_probed(&r->ev);
	r->err = d->err;
	r->family = d->family;
	r->flags = d->flags;
	r->port = d->port;
	if (d->addr)
		__builtin_memcpy(r->addr, d->addr, sizeof(r->addr));
}

/* Whether a refusal of this hook is only recorded (an audit-only sandbox, a hook that is
 * not one of the containment hooks): the one place audit-only mode is decided. Orphans
 * have no sandbox entry: never (closed). */
static __always_inline bool would_deny_only(const struct scope *sc, __u32 hook)
{
	return sc->sb && (sc->sb->flags & CALYX_SB_AUDIT_ONLY) && !CALYX_HOOK_KEEPS_DENYING(hook);
}

/* The one place a denial is decided: counted, recorded, returned as -errno (or, in an
 * audit-only sandbox, recorded as a would-deny and returned as 0). Every hook that
 * refuses an operation returns what this returns. A denial that names a path takes the
 * larger record; the others a 96-byte one. */
static __always_inline int deny(const struct scope *sc, const struct deny_info *d)
{
	bool would = would_deny_only(sc, d->hook);
	stat_inc(sc->slot, would ? CALYX_STAT_WOULD_DENY : CALYX_STAT_DENIED);
	if (d->path) {
		struct calyx_deny_path_event *r = ev_reserve(sc, CALYX_EV_DENY, d->hook, sizeof(*r));
		if (r) { /* else counted as dropped; the denial itself stands */
			__builtin_memset((char *)r + sizeof(r->d.ev), 0, sizeof(*r) - sizeof(r->d.ev));
			deny_fill(&r->d, d);
			r->d.verdict = would ? CALYX_VERDICT_WOULD_DENY : CALYX_VERDICT_DENIED;
			/* a failed read leaves "": the record says less, the decision is the same */
			bpf_probe_read_kernel_str(r->path, sizeof(r->path), d->path);
			ev_submit(&r->d.ev);
		}
	} else {
		struct calyx_deny_event *r = ev_reserve(sc, CALYX_EV_DENY, d->hook, sizeof(*r));
		if (r) {
			__builtin_memset((char *)r + sizeof(r->ev), 0, sizeof(*r) - sizeof(r->ev));
			deny_fill(r, d);
			r->verdict = would ? CALYX_VERDICT_WOULD_DENY : CALYX_VERDICT_DENIED;
			ev_submit(&r->ev);
		}
	}
	return would ? 0 : -d->err;
}

/* The common shape: hook, errno, detail, path. */
static __always_inline int deny_simple(const struct scope *sc, __u32 hook, int err, __u32 family,
				       __u32 flags, const char *path)
{
	struct deny_info d = { .hook = hook, .err = err, .family = family, .flags = flags, .path = path };
	return deny(sc, &d);
}

#endif
