/* Paths: the rule matcher (LPM trie + the CHILDREN check), the in-kernel path walk for
 * hooks where bpf_d_path is not allowed, the subtree floor of a moving directory, and the
 * verdict cache of file_open. Included once, by bpf/calyx.bpf.c, after common.bpf.h. */
#ifndef CALYX_PATH_BPF_H
#define CALYX_PATH_BPF_H
#include "common.bpf.h"

static __always_inline struct calyx_path_key *scratch_key(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline void key_set_slot(struct calyx_path_key *k, __u32 slot, __u32 bytes)
{
	k->sandbox_be[0] = slot >> 24;
	k->sandbox_be[1] = slot >> 16;
	k->sandbox_be[2] = slot >> 8;
	k->sandbox_be[3] = slot;
	k->prefixlen = 32 + 8 * bytes;
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
static __always_inline int path_access_inl(struct calyx_path_key *k, __u32 slot, long len)
{
	if (len < 2 || len > CALYX_LPM_PATH_MAX)
		return CALYX_ACC_NONE; /* "" or too long: closed, never matched truncated */
	if (k->path[0] != '/')
		return CALYX_ACC_NONE; /* "pipe:[..]", "anon_inode:..", relative: closed */
	key_set_slot(k, slot, (__u32)len); /* the NUL included: EXACT rules end in it */
	struct calyx_path_val *v = bpf_map_lookup_elem(&path_rules, k);
	if (!v)
		return CALYX_ACC_NONE;
	if (v->kind != CALYX_PATH_CHILDREN)
		return v->match; /* EXACT matched through its NUL; SUBTREE: any depth */
	/* CHILDREN: only when no '/' follows the "dir/" prefix. bpf_loop keeps the verifier
	 * from walking every (length, prefix) combination. */
	struct slash_scan sc = { .start = v->plen, .found = 0 };
	__u32 n = (__u32)len - 1; /* bytes before the NUL */
	if (n > sc.start && bpf_loop(n - sc.start, slash_cb, &sc, 0) != n - sc.start && !sc.found)
		return CALYX_ACC_NONE; /* the scan neither finished nor found a '/': closed */
	return sc.found ? v->fallback : v->match;
}

/* Access granted to every descendant of the directory k->path (len incl. the NUL): the
 * best SUBTREE grant covering "dir/". A directory moved elsewhere takes its contents with
 * it, so it may only move if they were all writable where it was. k->path is restored. */
static __always_inline int subtree_floor(struct calyx_path_key *k, __u32 slot, long len)
{
	if (len < 2 || len > CALYX_LPM_PATH_MAX)
		return CALYX_ACC_NONE;
	__u32 n = (__u32)len - 1; /* bytes before the NUL */
	if (n >= CALYX_LPM_PATH_MAX)
		return CALYX_ACC_NONE;
	k->path[n] = '/';
	key_set_slot(k, slot, n + 1);
	struct calyx_path_val *v = bpf_map_lookup_elem(&path_rules, k);
	k->path[n] = 0;
	if (!v)
		return CALYX_ACC_NONE;
	/* Only "X/" keys can prefix "dir/" (EXACT keys end in a NUL). A CHILDREN entry's
	 * fallback is what its deeper descendants get. */
	return v->kind == CALYX_PATH_SUBTREE ? v->match : v->fallback;
}

/* ------------------------------------------------------------------ the path walk
 * bpf_d_path is refused in the path_* hooks and file_mprotect on 6.1 (not in the
 * sleepable set), and the inode_* hooks that allow it have no struct path to give it. So
 * the path_* programs resolve (dentry, vfsmount) themselves, the way the kernel's
 * prepend_path() does for d_path: names up the d_parent chain, crossing to the parent
 * mount at each mount root, ending at the task's root or the namespace root. Fails closed
 * on anything d_path would not report as a plain path: a dentry cut off from its mount
 * root, a mount outside any namespace or in an anonymous one (open_tree clones), more
 * than CALYX_LPM_PATH_MAX - 1 bytes or WALK_STEPS steps, a name that cannot be read.
 * Renames by others racing the walk can tear the result, as they can d_path's; the
 * sandbox itself can only rename inside its :rw paths. */
#define WALK_BUF 512
#define WALK_END 256  /* the path's last byte is written just before this offset */
#define WALK_STEPS 160 /* > 125 components of a path that fits CALYX_LPM_PATH_MAX, plus mounts */
struct walk_buf {
	char b[WALK_BUF];
};
/* Per-CPU buffer in which walk_path() builds a path backwards. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk_buf);
} walkbuf SEC(".maps");

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
	int rc;         /* 0: walking, 1: done, -1: failed, -2: the dentry is not below the
			 * start mount's root (dentry_access tries each mount of a super block) */
	bool crossed;   /* left the start mount */
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
			w->crossed = true;
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
	if (parent == d && !w->crossed) {
		w->rc = -2; /* the super block's root, never passing the mount's: not its mount */
		return 1;
	}
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
	if (bpf_probe_read_kernel(&wb->b[pos & 255], n, name)) {
		w->rc = -1; /* zeroed bytes would be a different path: closed */
		return 1;
	}
	pos -= 1;
	wb->b[pos & 255] = '/';
	w->pos = pos;
	w->d = (__u64)parent;
	return 0;
}

/* Resolve (dentry, vfsmount) into k->path like d_path. Returns the length including the
 * NUL, or -1 (unresolvable, too long: callers deny), or -2 (the dentry is not below the
 * mount's root: callers that know the mount deny, dentry_access tries the next). */
static __always_inline long walk_path_inl(struct calyx_path_key *k, __u64 dentry, __u64 vfsmnt)
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
	if (bpf_loop(WALK_STEPS, walk_cb, &w, 0) < 0)
		return -1;
	if (w.rc == -2)
		return -2;
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
	if (bpf_probe_read_kernel(k->path, len, &wb->b[pos & 255]))
		return -1;
	k->path[len] = 0;
	return len + 1;
}

/* ------------------------------------------------------------------ global functions
 * The walk and the matcher are global (non-inlined) functions: the verifier checks each
 * once per program, with no state of its caller, instead of once per call site and per
 * caller state (what made loading the set slow as the hooks grew: docs/bpf-hooks.md
 * "Load time"). Arguments are scalars only; both work on the per-CPU scratch key, which
 * every caller also holds (a failed look-up: the walk fails, the match grants nothing). */
__noinline long calyx_walk(__u64 dentry, __u64 vfsmnt)
{
	struct calyx_path_key *k = scratch_key();
	if (!k)
		return -1; /* closed */
	return walk_path_inl(k, dentry, vfsmnt);
}

__noinline int calyx_match(__u32 slot, long len)
{
	struct calyx_path_key *k = scratch_key();
	if (!k)
		return CALYX_ACC_NONE; /* closed */
	return path_access_inl(k, slot, len);
}

/* A global function takes scalars only: a BTF-typed pointer (a hook's argument) keeps
 * its type through casts and moves, so its value is copied through the helper, which
 * makes it a plain number (the walk reads through it with probe reads anyway). */
static __always_inline __u64 as_scalar(__u64 v)
{
	__u64 out = 0;
	bpf_probe_read_kernel(&out, sizeof(out), &v); /* a stack copy: cannot fail; 0 fails the walk */
	return out;
}

/* k is the scratch key the globals resolve into and match (the caller's look-up of it). */
static __always_inline long walk_path(struct calyx_path_key *k, __u64 dentry, __u64 vfsmnt)
{
	(void)k;
	return calyx_walk(as_scalar(dentry), as_scalar(vfsmnt));
}

static __always_inline int path_access(struct calyx_path_key *k, __u32 slot, long len)
{
	(void)k;
	return calyx_match(slot, len);
}

/* ------------------------------------------------------------------ the verdict cache
 * file_open's decision for a sandbox is a function of the path the file resolves to and
 * the sandbox's rules (fixed for the run). Resolving the path (bpf_d_path) and matching it
 * are most of a sandboxed open's cost, so the access a file's path was granted is kept per
 * (slot, run epoch, file) until anything could have changed what that path names:
 *  - a rename anywhere on the host (the kernel's rename_lock sequence moves; d_move also
 *    covers directories above the file), a mount change anywhere (mount_lock moves):
 *    both are read before the path is resolved, so a change racing the resolution makes
 *    the stored counts stale, never the other way round;
 *  - a second name (link): only files with exactly one link are cached or served;
 *  - unlink: the link count drops to 0, so it is neither served nor cached;
 *  - a reused inode number: the entry holds the inode pointer and its generation;
 *  - the same file on another mount (a bind mount): the entry holds the vfsmount.
 * Any doubt (counts unreadable, odd = a writer active, no kernel addresses) means no
 * cache: the full decision. Only grants are cached; a denial always resolves the path
 * (its record carries it). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CALYX_VCACHE_ENTRIES);
	__type(key, struct calyx_vcache_key);
	__type(value, struct calyx_vcache_val);
} vcache SEC(".maps");

struct vc_probe {
	struct calyx_vcache_key key;
	struct calyx_vcache_val now;   /* what the file and the host look like now */
	bool usable;                   /* the cache may be asked and filled */
};

static __always_inline bool seq_read(__u64 addr, __u32 *seq)
{
	if (!addr || bpf_probe_read_kernel(seq, sizeof(*seq), (const void *)addr))
		return false;
	return !(*seq & 1); /* odd: a rename or mount change is in progress */
}

/* Fill p for file in the sandbox; p->usable says whether the cache may be used at all.
 * The hit path is the one every repeated open takes: the inode's fields are read with
 * plain loads of the BTF-typed pointers (the verifier makes them fault-safe), no helper
 * call but the two sequence counts. */
static __always_inline void vc_prepare(struct vc_probe *p, const struct scope *sc, struct file *file)
{
	struct inode *ino = file->f_inode;
	p->usable = false;
	if (!sc->sb || !ino)
		return;
	__u32 nlink = ino->__i_nlink;
	if (!((ino->i_mode & S_IFMT) == S_IFDIR ? nlink > 0 : nlink == 1))
		return;
	if (!seq_read(rename_seq_addr, &p->now.rename_seq) || !seq_read(mount_seq_addr, &p->now.mount_seq))
		return;
	struct super_block *sb = ino->i_sb;
	if (!sb)
		return;
	p->now.gen = ino->i_generation;
	p->key.slot = sc->slot;
	p->key.epoch = sc->sb->epoch;
	p->key.dev = sb->s_dev;
	p->key.ino = ino->i_ino;
	p->now.inode = (__u64)ino;
	p->now.mnt = (__u64)file->f_path.mnt;
	p->usable = true;
}

/* The cached grant for p, or CALYX_ACC_NONE. */
static __always_inline int vc_lookup(const struct vc_probe *p)
{
	if (!p->usable)
		return CALYX_ACC_NONE;
	struct calyx_vcache_val *v = bpf_map_lookup_elem(&vcache, &p->key);
	if (!v || v->inode != p->now.inode || v->mnt != p->now.mnt || v->gen != p->now.gen ||
	    v->rename_seq != p->now.rename_seq || v->mount_seq != p->now.mount_seq)
		return CALYX_ACC_NONE;
	return v->access;
}

static __always_inline void vc_store(struct vc_probe *p, int access)
{
	if (!p->usable || access <= CALYX_ACC_NONE)
		return;
	p->now.access = (__u32)access;
	/* A full map evicts the least recently used entry; a failed update only costs a miss. */
	bpf_map_update_elem(&vcache, &p->key, &p->now, BPF_ANY);
}

#endif
