/* bpf-lsm: files. Opens (file_open) need a path the rules grant with the access asked
 * for; everything that changes the file system without an open for writing (path_* hooks,
 * xattrs, chattr) needs a path the rules grant :rw. Part of the calyx.bpf.c unit. */

/* _IOW('f', 2, long), _IOW('f', 2, int), _IOW('X', 32, struct fsxattr) */
#define FS_IOC_SETFLAGS 0x40086602
#define FS_IOC32_SETFLAGS 0x40046602
#define FS_IOC_FSSETXATTR 0x401c5820

SEC("lsm/file_open")
int BPF_PROG(calyx_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	__u32 fmode = file->f_mode;
	/* 6.1 marks exec opens in f_flags only; later kernels also in f_mode */
	if (file->f_flags & __FMODE_EXEC)
		fmode |= FMODE_EXEC;
	__u32 flags = fmode & (FMODE_READ | FMODE_WRITE | FMODE_EXEC);
	int need = (fmode & FMODE_WRITE) ? CALYX_ACC_RW : CALYX_ACC_RO;
	/* POSIX message queues are host IPC objects (mq_open opens a file of the IPC
	 * namespace's internal mqueue mount, or of a mounted mqueue file system): refused
	 * like SysV IPC, whatever the path (host.bpf.c). */
	if (inode_is_mqueue(file->f_inode))
		return deny_simple(&sc, CALYX_HOOK_IPC, EACCES, CALYX_IPC_MQ_OPEN, flags, NULL);

	struct vc_probe vc;
	vc_prepare(&vc, &sc, file);
	if (vc_lookup(&vc) >= need)
		return 0;
	stat_inc(sc.slot, CALYX_STAT_VCACHE_MISS);

	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = bpf_d_path((struct path *)&file->f_path, k->path, CALYX_LPM_PATH_MAX);
	const char *shown = len > 0 ? k->path : NULL;
	if (!sc.sb) /* orphan: closed */
		return deny_simple(&sc, CALYX_HOOK_FILE_OPEN, EACCES, 0, flags, shown);
	int acc = path_access(k, sc.slot, len); /* NONE on error / too long: closed */
	vc_store(&vc, acc);
	if (acc >= need)
		return 0;
	/* The open done by execve itself: the exec decision is bprm_check_security's, so a
	 * lease binary need not also be under a path rule. Read-only, identity-checked. */
	if ((fmode & FMODE_EXEC) && !(fmode & FMODE_WRITE) && is_lease_binary(&sc, file->f_inode))
		return 0;
	return deny_simple(&sc, CALYX_HOOK_FILE_OPEN, EACCES, 0, flags, shown);
}

/* Whether a moving dentry is a directory (then its whole subtree must be writable). A
 * read that fails answers "directory": the stricter check (closed). A negative dentry
 * (no inode) is no directory. */
static __always_inline bool dentry_is_dir(__u64 dentry)
{
	struct dentry *d = (struct dentry *)dentry;
	struct inode *i = NULL;
	__u16 mode = 0;
	if (bpf_core_read(&i, sizeof(i), &d->d_inode))
		return true;
	if (!i)
		return false;
	if (bpf_core_read(&mode, sizeof(mode), &i->i_mode))
		return true;
	return (mode & S_IFMT) == S_IFDIR;
}

/* 0 when the object (dentry on vfsmnt) is writable for the sandbox, else the denial.
 * floor: the object is a directory that moves; its whole subtree must have been writable. */
static __always_inline int mutate_check(__u32 op, const struct scope *sc, __u64 dentry, __u64 vfsmnt,
					bool floor)
{
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = walk_path(k, dentry, vfsmnt);
	if (sc->sb && path_access(k, sc->slot, len) >= CALYX_ACC_RW &&
	    (!floor || subtree_floor(k, sc->slot, len) >= CALYX_ACC_RW))
		return 0;
	/* orphan, unresolvable, too long, not :rw: closed */
	return deny_simple(sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, op, len > 0 ? k->path : NULL);
}

/* The hooks that name an object by (directory path, dentry): the dentry is the entry in
 * that directory (negative for a new name), so the walk starts at the dentry itself. */
static __always_inline int mutate_dir_entry(__u32 op, const struct path *dir, struct dentry *dentry)
{
	SCOPE_ENTER(sc);
	return mutate_check(op, &sc, (__u64)dentry, (__u64)BPF_CORE_READ(dir, mnt), false);
}

static __always_inline int mutate_path(__u32 op, const struct path *path)
{
	SCOPE_ENTER(sc);
	return mutate_check(op, &sc, (__u64)BPF_CORE_READ(path, dentry), (__u64)BPF_CORE_READ(path, mnt), false);
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
		SCOPE_ENTER(sc);
		return deny_simple(&sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, CALYX_MUT_MKNOD_DEV, NULL);
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
 * the file itself must already be writable where it is (a file outside the lease, or a
 * :ro one, linked into a :rw directory). Both names are on one mount (do_linkat refuses
 * EXDEV before this hook). */
SEC("lsm/path_link")
int BPF_PROG(calyx_path_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	__u64 mnt = (__u64)BPF_CORE_READ(new_dir, mnt);
	int rc = mutate_check(CALYX_MUT_LINK_SRC, &sc, (__u64)old_dentry, mnt, false);
	if (rc)
		return rc;
	return mutate_check(CALYX_MUT_LINK, &sc, (__u64)new_dentry, mnt, false);
}

/* Both names must be :rw; a directory that moves (the source, or either side of
 * RENAME_EXCHANGE) must have had a writable subtree (subtree_floor). */
SEC("lsm/path_rename")
int BPF_PROG(calyx_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	int rc = mutate_check(CALYX_MUT_RENAME, &sc, (__u64)old_dentry, (__u64)BPF_CORE_READ(old_dir, mnt),
			      dentry_is_dir((__u64)old_dentry));
	if (rc)
		return rc;
	/* An existing target is only replaced (an empty directory at most), unless exchanged */
	return mutate_check(CALYX_MUT_RENAME_DST, &sc, (__u64)new_dentry, (__u64)BPF_CORE_READ(new_dir, mnt),
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

/* The inode hooks below decide only in a directory of the mqueue file system (the
 * comparison comes first: they run for every create and unlink on the host). */
static __always_inline int mqueue_refused(struct inode *dir, __u32 op)
{
	if (!inode_is_mqueue(dir))
		return 0;
	SCOPE_ENTER(sc);
	return deny_simple(&sc, CALYX_HOOK_IPC, EACCES, op, 0, NULL);
}

/* mq_unlink(3) removes a queue with vfs_unlink, without the path_unlink hook; an
 * unlink on a mounted mqueue file system passes both (path_unlink refuses it first
 * unless :rw). Only the mqueue file system is decided here: every other unlink is
 * path_unlink's. */
SEC("lsm/inode_unlink")
int BPF_PROG(calyx_inode_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret)
		return ret;
	return mqueue_refused(dir, CALYX_IPC_MQ_UNLINK);
}

/* mq_open(O_CREAT) makes the queue's inode (vfs_mkobj) before it opens it: refused here,
 * so no queue is left behind by a refused open. Every other create is path_mknod's /
 * path_mkdir's. */
SEC("lsm/inode_create")
int BPF_PROG(calyx_inode_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret)
		return ret;
	return mqueue_refused(dir, CALYX_IPC_MQ_OPEN);
}

/* The xattr hooks get a dentry without its mount, so no path can be resolved: a sandbox
 * may not set or remove extended attributes at all (ACLs, file capabilities, user.*). */
static __always_inline int deny_xattr(__u32 op)
{
	SCOPE_ENTER(sc);
	return deny_simple(&sc, CALYX_HOOK_PATH_MUTATE, EACCES, 0, op, NULL);
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

/* 6.2+: a POSIX ACL (system.posix_acl_access/_default) no longer goes through setxattr:
 * vfs_set_acl and vfs_remove_acl call these hooks instead of inode_setxattr/removexattr.
 * Without them a root command adds an ACL to any host file (e_root_meta on 6.12). Left
 * out, with a note, on kernels without them (user/enforce/setload.c). */
SEC("lsm/inode_set_acl")
int BPF_PROG(calyx_inode_set_acl, void *idmap, struct dentry *dentry, const char *acl_name, void *kacl,
	     int ret)
{
	if (ret)
		return ret;
	return deny_xattr(CALYX_MUT_SETXATTR);
}

SEC("lsm/inode_remove_acl")
int BPF_PROG(calyx_inode_remove_acl, void *idmap, struct dentry *dentry, const char *acl_name, int ret)
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
