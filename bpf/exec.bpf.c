/* bpf-lsm: what a sandbox may execute. exec (bprm_check_security) is allowed only for the
 * lease's binaries, decided on the file being executed (inode identity and canonical
 * path), never on the name given to exec; executable mappings of files (mmap_file,
 * file_mprotect with PROT_EXEC) only of files the sandbox could read under a rule or of a
 * lease binary. Part of the calyx.bpf.c unit. */

static __always_inline struct calyx_exec_key exec_key_of(__u32 slot, struct inode *ino)
{
	struct calyx_exec_key key = {
		.sandbox = slot,
		.dev = BPF_CORE_READ(ino, i_sb, s_dev),
		.ino = BPF_CORE_READ(ino, i_ino),
	};
	return key;
}

static __always_inline bool is_lease_binary(const struct scope *sc, struct inode *ino)
{
	struct calyx_exec_key key = exec_key_of(sc->slot, ino);
	return bpf_map_lookup_elem(&exec_rules, &key) != NULL;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(calyx_exec, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	/* The file being executed: called once per binfmt round, so a #! script is checked,
	 * then its interpreter (bprm->file is replaced by bprm->interpreter in exec_binprm). */
	struct file *f = bprm->file;
	long len = bpf_d_path((struct path *)&f->f_path, k->path, CALYX_LPM_PATH_MAX);
	const char *shown = len > 0 ? k->path : NULL;
	if (!sc.sb) /* orphan: closed */
		return deny_simple(&sc, CALYX_HOOK_EXEC, EACCES, 0, 0, shown);
	if (len < 2 || len > CALYX_LPM_PATH_MAX) /* unresolvable or too long: closed */
		return deny_simple(&sc, CALYX_HOOK_EXEC, EACCES, 0, 0, NULL);
	struct calyx_exec_key key = exec_key_of(sc.slot, f->f_inode);
	struct calyx_exec_val *v = bpf_map_lookup_elem(&exec_rules, &key);
	if (!v)
		return deny_simple(&sc, CALYX_HOOK_EXEC, EACCES, 0, 0, k->path);
	/* Same inode is not enough: a hard link of the binary elsewhere, or "(deleted)". */
	for (__u32 i = 0; i < CALYX_LPM_PATH_MAX; i++) {
		if (k->path[i] != v->path[i])
			return deny_simple(&sc, CALYX_HOOK_EXEC, EACCES, 0, 0, k->path);
		if (!k->path[i])
			break;
	}
	return 0;
}

/* PROT_EXEC of a file needs a file the sandbox could open for reading under a rule (the
 * runtime baseline, lease paths) or a lease binary (the kernel maps it at exec). What
 * that leaves out: memfds and deleted files (fileless code), and files the sandbox can
 * only hold through a descriptor it could not have opened itself. */
static __always_inline int exec_map_decide(__u32 op, const struct scope *sc, struct calyx_path_key *k,
					   long len, struct inode *ino)
{
	if (sc->sb && BPF_CORE_READ(ino, __i_nlink) > 0) {
		if (is_lease_binary(sc, ino))
			return 0;
		if (path_access(k, sc->slot, len) >= CALYX_ACC_RO)
			return 0;
	}
	/* orphan, fileless or unreadable: closed */
	return deny_simple(sc, CALYX_HOOK_MMAP_EXEC, EACCES, 0, op, len > 0 ? k->path : NULL);
}

SEC("lsm/mmap_file")
int BPF_PROG(calyx_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0; /* anonymous memory (JITs) is not a file's code */
	SCOPE_ENTER(sc);
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	long len = bpf_d_path((struct path *)&file->f_path, k->path, CALYX_LPM_PATH_MAX);
	return exec_map_decide(1, &sc, k, len, file->f_inode);
}

SEC("lsm/file_mprotect")
int BPF_PROG(calyx_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	struct file *f = NULL;
	/* A failed read is not "anonymous memory": it says nothing about the mapping
	 * (closed). Inside the sandbox's scope only: outside, leave as early as ever. */
	bool unread = bpf_core_read(&f, sizeof(f), &vma->vm_file) != 0;
	if (!f && !unread)
		return 0; /* anonymous memory */
	SCOPE_ENTER(sc);
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	if (unread)
		return deny_simple(&sc, CALYX_HOOK_MMAP_EXEC, EACCES, 0, 2, NULL);
	long len = walk_path(k, (__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt));
	return exec_map_decide(2, &sc, k, len, BPF_CORE_READ(f, f_inode));
}
