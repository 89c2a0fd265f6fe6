/* bpf-lsm: metadata reads and change notification. A sandbox may stat, readlink, read
 * or list the extended attributes of, and put an inotify / fanotify / dnotify mark on,
 * only paths a rule grants at least CALYX_ACC_TRAVERSE: the lease and baseline paths
 * (any access) and every ancestor directory of one (user space adds those as EXACT
 * TRAVERSE entries, user/enforce/rule_maps.c). Everything else of the host is EACCES:
 * its names, sizes, owners, times and activity are not the sandbox's to learn.
 *
 * Objects on a kernel-internal mount (MNT_INTERNAL: pipes, sockets, anonymous inodes,
 * memfds, the internal mounts of proc and mqueue) have no name any path lookup reaches;
 * a task can only hold them by a descriptor it was given or made, and fstat of its own
 * pipe must work. Their metadata is allowed. /proc, /dev and /sys as mounted are not
 * internal: their files are judged by their paths like any other (the baseline names
 * the few that programs need). Part of the calyx.bpf.c unit. */

#define MNT_INTERNAL 0x4000
#define DENTRY_MOUNTS_MAX 1024 /* mounts of one super block looked at (all namespaces:
				* every sandbox's bind mounts of the root file system count):
				* more is denied (closed). One of another namespace costs two
				* reads. */

static __always_inline bool mnt_is_internal(__u64 vfsmnt)
{
	struct vfsmount *vm = (struct vfsmount *)vfsmnt;
	int flags = 0;
	/* unreadable: not known to be internal, judged by its path (closed) */
	if (bpf_core_read(&flags, sizeof(flags), &vm->mnt_flags))
		return false;
	return flags & MNT_INTERNAL;
}

/* 0 when the sandbox may read the metadata of (dentry, vfsmnt), else the denial. */
static __always_inline int meta_path_decide(__u32 op, const struct scope *sc, __u64 dentry, __u64 vfsmnt)
{
	if (sc->sb && vfsmnt && mnt_is_internal(vfsmnt))
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = walk_path(k, dentry, vfsmnt);
	if (sc->sb && path_access(k, sc->slot, len) >= CALYX_ACC_TRAVERSE)
		return 0;
	/* orphan, unresolvable, too long, granted by no rule: closed */
	return deny_simple(sc, CALYX_HOOK_META, EACCES, 0, op, len > 0 ? k->path : NULL);
}

/* The dentry-only hooks (readlink, getxattr, listxattr) get no mount, so the path is
 * resolved on every mount of the dentry's super block that lies in the task's mount
 * namespace and has the dentry below its root: the narrowest of those names decides (a
 * file is seen no wider than through its least granted name). Mounts of other
 * namespaces are not the task's to reach the file by. A super block mounted only
 * internally (pipes, sockets, anonymous inodes) is allowed, as in meta_path_decide. */
/* Up to 6.16 a super block lists its mounts in s_mounts (a list_head through each
 * mount's mnt_instance); later kernels (the committed vmlinux.h) chain them with
 * mnt_next_for_sb from s_mounts (a struct mount *, NULL-terminated). */
struct mount___instance {
	struct list_head mnt_instance;
} __attribute__((preserve_access_index));
struct super_block___instance {
	struct list_head s_mounts;
} __attribute__((preserve_access_index));

struct dentry_mounts {
	__u64 dentry;
	__u64 head;          /* list_head layout: &sb->s_mounts; chained layout: 0 */
	__u64 next;          /* list_head layout: the node to look at; chained: the mount */
	__u64 mnt_ns;        /* the task's mount namespace */
	__u32 slot;
	int best;            /* narrowest access so far; CALYX_ACC_RW + 1: no mount yet */
	bool internal;       /* an internal mount of the super block was seen */
	bool failed;         /* a read failed or the list ran past DENTRY_MOUNTS_MAX: closed */
	long denied_len;     /* path length of the denying name (for the record), or <= 0 */
};

static long dentry_mount_cb(__u32 idx, void *data)
{
	struct dentry_mounts *dm = data;
	if (dm->next == dm->head)
		return 1; /* every mount seen */
	__u64 m, next = 0, ns = 0;
	long rc;
	if (bpf_core_field_exists(((struct mount___instance *)0)->mnt_instance)) {
		m = dm->next - bpf_core_field_offset(struct mount___instance, mnt_instance);
		rc = bpf_core_read(&next, sizeof(next), &((struct mount___instance *)m)->mnt_instance.next);
		if (!next)
			rc = -1; /* a list_head is never NULL-terminated */
	} else {
		m = dm->next;
		rc = bpf_core_read(&next, sizeof(next), &((struct mount *)m)->mnt_next_for_sb);
	}
	if (rc || bpf_core_read(&ns, sizeof(ns), &((struct mount *)m)->mnt_ns)) {
		dm->failed = true;
		return 1;
	}
	dm->next = next;
	__u64 vfsmnt = m + bpf_core_field_offset(struct mount, mnt);
	if (mnt_is_internal(vfsmnt)) {
		dm->internal = true;
		return 0;
	}
	if (ns != dm->mnt_ns)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) {
		dm->failed = true;
		return 1;
	}
	k->path[0] = 0;
	long len = walk_path(k, dm->dentry, vfsmnt);
	if (len == -2)
		return 0; /* the dentry is not below this mount's root */
	int acc = path_access(k, dm->slot, len); /* NONE for -1: closed */
	if (acc < dm->best)
		dm->best = acc;
	if (acc < CALYX_ACC_TRAVERSE) {
		dm->denied_len = len;
		return 1; /* denied: k->path holds the name, for the record */
	}
	return 0;
}

static __always_inline int meta_dentry_decide(__u32 op, struct dentry *dentry)
{
	SCOPE_ENTER(sc);
	if (!sc.sb) /* orphan: closed */
		return deny_simple(&sc, CALYX_HOOK_META, EACCES, 0, op, NULL);
	struct task_struct *t = bpf_get_current_task_btf();
	struct super_block *sb = BPF_CORE_READ(dentry, d_sb);
	struct dentry_mounts dm = {
		.dentry = (__u64)dentry,
		.mnt_ns = (__u64)BPF_CORE_READ(t, nsproxy, mnt_ns),
		.slot = sc.slot,
		.best = CALYX_ACC_RW + 1,
	};
	if (!sb || !dm.mnt_ns)
		return deny_simple(&sc, CALYX_HOOK_META, EACCES, 0, op, NULL);
	long rc;
	if (bpf_core_field_exists(((struct mount___instance *)0)->mnt_instance)) {
		struct super_block___instance *sbi = (void *)sb;
		dm.head = (__u64)sb + bpf_core_field_offset(struct super_block___instance, s_mounts);
		rc = bpf_core_read(&dm.next, sizeof(dm.next), &sbi->s_mounts.next);
		if (!dm.next)
			rc = -1;
	} else {
		rc = bpf_core_read(&dm.next, sizeof(dm.next), &sb->s_mounts);
	}
	if (rc) /* closed */
		return deny_simple(&sc, CALYX_HOOK_META, EACCES, 0, op, NULL);
	long n = bpf_loop(DENTRY_MOUNTS_MAX, dentry_mount_cb, &dm, 0);
	if (n < 0 || (dm.next != dm.head && dm.denied_len == 0 && dm.best > CALYX_ACC_NONE))
		dm.failed = true; /* the loop failed or more mounts than DENTRY_MOUNTS_MAX */
	if (!dm.failed && dm.best <= CALYX_ACC_RW && dm.best >= CALYX_ACC_TRAVERSE)
		return 0;
	if (!dm.failed && dm.best == CALYX_ACC_RW + 1 && dm.internal)
		return 0; /* only internal mounts: an object held by a descriptor */
	/* failed, no mount of the task's, or a name granted by no rule: closed */
	struct calyx_path_key *k = scratch_key();
	const char *shown = k && dm.denied_len > 0 ? k->path : NULL;
	return deny_simple(&sc, CALYX_HOOK_META, EACCES, 0, op, shown);
}

/* stat(2) and its kind: lstat, fstat, fstatat, statx (access(2) is inode_permission's,
 * which reveals only whether a path exists, as a failed open does). */
SEC("lsm/inode_getattr")
int BPF_PROG(calyx_inode_getattr, const struct path *path, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	return meta_path_decide(CALYX_META_GETATTR, &sc, (__u64)BPF_CORE_READ(path, dentry),
				(__u64)BPF_CORE_READ(path, mnt));
}

SEC("lsm/inode_readlink")
int BPF_PROG(calyx_inode_readlink, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return meta_dentry_decide(CALYX_META_READLINK, dentry);
}

SEC("lsm/inode_getxattr")
int BPF_PROG(calyx_inode_getxattr, struct dentry *dentry, const char *name, int ret)
{
	if (ret)
		return ret;
	return meta_dentry_decide(CALYX_META_GETXATTR, dentry);
}

SEC("lsm/inode_listxattr")
int BPF_PROG(calyx_inode_listxattr, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return meta_dentry_decide(CALYX_META_LISTXATTR, dentry);
}

/* inotify_add_watch, fanotify_mark (inode, mount or file system marks: the path named),
 * fcntl(F_NOTIFY). A mark reports names and activity below it, so a mark needs the same
 * grant as a stat of the path. */
SEC("lsm/path_notify")
int BPF_PROG(calyx_path_notify, const struct path *path, __u64 mask, unsigned int obj_type, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	return meta_path_decide(CALYX_META_NOTIFY, &sc, (__u64)BPF_CORE_READ(path, dentry),
				(__u64)BPF_CORE_READ(path, mnt));
}
