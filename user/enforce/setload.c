/* Bringing a resident set up: open the object, choose the programs of the backend from
 * their section names, set rodata, load (the load is the probe: a kernel that refuses the
 * backend refuses here), attach, pin links and maps, and pin the stamp last. Runs once per
 * host and backend, under the enforcer lock held exclusive. */
#include "enforce/resident_int.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/version.h"
#include "calyx.skel.h"
#include "base/cgroupfs.h"

/* ------------------------------------------------------------------ libbpf output */

static bool g_verbose;

/* libbpf's own messages (verifier logs) only with -v: without it the caller reports our
 * one-line error, which says that -v shows more. */
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return g_verbose ? vfprintf(stderr, fmt, args) : 0;
}

/* ------------------------------------------------------------------ which programs */

/* A program's set follows from its section: lsm/ programs are the bpf-lsm backend's,
 * cgroup/ programs the landlock backend's, the tp_btf programs (the exec image and argv
 * check, the monitors) both's. */
/* cgroup/ (sock and sock_addr) and cgroup_skb/ (the listener drop) programs: attached to
 * the set's root cgroup, the landlock backend's. */
static bool sec_is_cgroup(const char *sec)
{
	return strncmp(sec, "cgroup/", 7) == 0 || strncmp(sec, "cgroup_skb/", 11) == 0;
}

static bool prog_in_set(const struct bpf_program *p, enum enforce_backend b)
{
	const char *sec = bpf_program__section_name(p);
	if (strncmp(sec, "lsm/", 4) == 0)
		return b == ENFORCE_BPF_LSM;
	if (sec_is_cgroup(sec))
		return b == ENFORCE_LANDLOCK;
	return true;
}

/* The only lsm/ programs that may be left out on some kernels, and why. Every other hook
 * is required: without the path_* hooks (CONFIG_SECURITY_PATH) a sandbox could change the
 * file system outside its :rw paths; without userns_create it could open_tree() a
 * detached tree whose paths bpf_d_path reports relative to its own root. */
static const struct {
	const char *prog;
	int nargs;          /* the kernel hook's argument count this program fits; 0: any */
	const char *absent; /* why a kernel may lack the hook */
} lsm_optional[] = {
	{ "calyx_perf_event_open", 2, "perf_event_open(attr, type) (before 6.3; no CONFIG_PERF_EVENTS: no perf events)" },
	{ "calyx_perf_event_open_type", 1, "perf_event_open(type) (6.3+)" },
	{ "calyx_file_truncate", 0, "file_truncate (6.2+; path_truncate covers O_TRUNC before)" },
	{ "calyx_inode_set_acl", 0, "inode_set_acl (6.2+; inode_setxattr covers ACLs before)" },
	{ "calyx_inode_remove_acl", 0, "inode_remove_acl (6.2+; inode_removexattr covers ACLs before)" },
};

/* Number of arguments of the kernel's bpf_lsm_<hook> stub, or -1 if it is missing. */
static int lsm_hook_nargs(const struct btf *vmbtf, const char *hook)
{
	char fn[64];
	snprintf(fn, sizeof(fn), "bpf_lsm_%s", hook);
	int id = btf__find_by_name_kind(vmbtf, fn, BTF_KIND_FUNC);
	if (id < 0)
		return -1;
	const struct btf_type *f = btf__type_by_id(vmbtf, (__u32)id);
	const struct btf_type *proto = f ? btf__type_by_id(vmbtf, f->type) : NULL;
	return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
}

/* Autoload exactly the backend's programs that this kernel has hooks for. note collects
 * what was left out. */
static int choose_programs(struct calyx_bpf *s, enum enforce_backend b, char *note, size_t notelen,
			   char *err, size_t errlen)
{
	struct btf *vmbtf = NULL;
	if (b == ENFORCE_BPF_LSM && !(vmbtf = btf__load_vmlinux_btf()))
		return errmsg(err, errlen, -ENOTSUP, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
	int rc = 0;
	struct bpf_program *p;
	bpf_object__for_each_program(p, s->obj) {
		bool on = prog_in_set(p, b);
		const char *sec = bpf_program__section_name(p);
		if (on && vmbtf && strncmp(sec, "lsm/", 4) == 0) {
			int have = lsm_hook_nargs(vmbtf, sec + 4);
			size_t k = 0, nopt = sizeof(lsm_optional) / sizeof(lsm_optional[0]);
			while (k < nopt && strcmp(lsm_optional[k].prog, bpf_program__name(p)) != 0)
				k++;
			if (have < 0 && k == nopt) {
				rc = errmsg(err, errlen, -ENOTSUP, "the kernel has no LSM hook %s (needed by bpf-lsm)", sec + 4);
				break;
			}
			if (have < 0 || (k < nopt && lsm_optional[k].nargs && lsm_optional[k].nargs != have)) {
				on = false;
				if (have < 0) {   /* the other shape of a hook serving this kernel is no news */
					size_t o = strlen(note);
					snprintf(note + o, notelen - o, "%sabsent: %s", o ? "; " : "", lsm_optional[k].absent);
				}
			}
		}
		bpf_program__set_autoload(p, on);
		if (sec_is_cgroup(sec))
			bpf_program__set_autoattach(p, false);   /* attached to the root cgroup below */
	}
	btf__free(vmbtf);
	return rc;
}

/* ------------------------------------------------------------------ kernel addresses */

/* The sequence counts of rename_lock and mount_lock (the first member of a seqlock_t, as
 * in the kernel's seqlock.h), from /proc/kallsyms. Both or none: the verdict cache needs
 * both. Kernels without CONFIG_KALLSYMS_ALL, or a kptr_restrict that shows zeros, give
 * none. */
static void seq_addresses(uint64_t *rename_seq, uint64_t *mount_seq)
{
	*rename_seq = *mount_seq = 0;
	_cleanup_fclose_ FILE *f = fopen("/proc/kallsyms", "re");
	if (!f)
		return;
	char line[256];
	uint64_t r = 0, m = 0;
	while ((!r || !m) && fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, name[128];
		if (sscanf(line, "%llx %c %127s", &a, &type, name) != 3 || strchr(line, '['))
			continue;   /* a module's symbol */
		if (!strcmp(name, "rename_lock"))
			r = a;
		else if (!strcmp(name, "mount_lock"))
			m = a;
	}
	if (r && m) {
		*rename_seq = r;
		*mount_seq = m;
	}
}

/* ------------------------------------------------------------------ bpffs */

static bool is_bpffs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* bpffs at RESIDENT_BPFFS (mounted when it is not: the caller holds the enforcer lock
 * exclusive, so two loaders never stack two instances) and RESIDENT_PIN_ROOT. */
static int bpffs_ready(char *err, size_t errlen)
{
	if (!is_bpffs(RESIDENT_BPFFS)) {
		if (mount("bpf", RESIDENT_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") != 0)
			return errmsg(err, errlen, -errno, "mounting bpffs at %s failed: %s", RESIDENT_BPFFS, strerror(errno));
		if (!is_bpffs(RESIDENT_BPFFS))
			return errmsg(err, errlen, -ENOTSUP, "%s is not a bpffs after mounting one there", RESIDENT_BPFFS);
	}
	if (mkdir(RESIDENT_PIN_ROOT, 0700) < 0 && errno != EEXIST)
		return errmsg(err, errlen, -errno, "mkdir %s: %s", RESIDENT_PIN_ROOT, strerror(errno));
	struct stat st;
	if (lstat(RESIDENT_PIN_ROOT, &st) < 0 || !S_ISDIR(st.st_mode))
		return errmsg(err, errlen, -ENOTDIR, "%s is not a directory", RESIDENT_PIN_ROOT);
	return 0;
}

static int pin_fd(const char *dir, const char *prefix, const char *name, int fd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s%s", dir, prefix, name) >= (int)sizeof(path))
		return errmsg(err, errlen, -ENAMETOOLONG, "BPF pin path too long: %s/%s%s", dir, prefix, name);
	if (bpf_obj_pin(fd, path) < 0)
		return errmsg(err, errlen, -errno, "pinning %s failed: %s", path, strerror(errno));
	return 0;
}

int resident_unpin_dir(const char *dir, char *err, size_t errlen)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return errno == ENOENT ? 0 : errmsg(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	DIR *d = fileio_fdopendir_dup(dfd);
	if (!d)
		return errmsg(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *de;
	/* The stamp first: from then on the set is incomplete, never half-usable. */
	if (unlinkat(dfd, "stamp", 0) < 0 && errno != ENOENT)
		rc = errmsg(err, errlen, -errno, "unpinning %s/stamp: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && !rc)
			rc = errmsg(err, errlen, -errno, "unpinning %s/%s: %s", dir, de->d_name, strerror(errno));
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT && !rc)
		rc = errmsg(err, errlen, -errno, "rmdir %s: %s", dir, strerror(errno));
	return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------------ the load */

/* The maps runs need, from the skeleton (the stamp and slots are made by user space). */
static struct bpf_map *skel_map(struct calyx_bpf *s, enum resident_map m)
{
	switch (m) {
	case RM_SANDBOXES: return s->maps.sandboxes;
	case RM_EXEC_RULES: return s->maps.exec_rules;
	case RM_ARGV_RULES: return s->maps.argv_rules;
	case RM_PATH_RULES: return s->maps.path_rules;
	case RM_SLOT_RB: return s->maps.slot_rb;
	case RM_STATS: return s->maps.stats;
	case RM_VCACHE: return s->maps.vcache;
	case RM_NET_RULES: return s->maps.net_rules;
	default: return NULL;
	}
}

/* Attach every loaded program (cgroup ones to the root cgroup) and pin its link. */
static int attach_and_pin(struct calyx_bpf *s, const char *dir, int root_fd, char *err, size_t errlen)
{
	struct bpf_program *p;
	int n = 0;
	bpf_object__for_each_program(p, s->obj) {
		if (!bpf_program__autoload(p))
			continue;
		bool cg = sec_is_cgroup(bpf_program__section_name(p));
		struct bpf_link *l = cg ? bpf_program__attach_cgroup(p, root_fd) : bpf_program__attach(p);
		if (!l)
			return errmsg(err, errlen, -errno, "attaching %s failed: %s", bpf_program__name(p), strerror(errno));
		int rc = pin_fd(dir, "link_", bpf_program__name(p), bpf_link__fd(l), err, errlen);
		bpf_link__destroy(l);   /* closes our fd; the pin keeps it attached */
		if (rc)
			return rc;
		n++;
	}
	return n ? 0 : errmsg(err, errlen, -ENOENT, "no BPF program to attach");
}

/* The user-space maps: slots, then the stamp (pinned last: it completes the set). */
static int pin_bookkeeping(struct resident *r, const struct calyx_stamp *st, char *err, size_t errlen)
{
	_cleanup_close_ int slots = bpf_map_create(BPF_MAP_TYPE_HASH, "calyx_slots", sizeof(uint32_t),
						   sizeof(struct calyx_slot), CALYX_MAX_SANDBOXES, NULL);
	if (slots < 0)
		return errmsg(err, errlen, -errno, "creating the slots map failed: %s", strerror(errno));
	int rc = pin_fd(r->dir, "map_", resident_map_names[RM_SLOTS], slots, err, errlen);
	if (rc)
		return rc;
	_cleanup_close_ int stamp = bpf_map_create(BPF_MAP_TYPE_ARRAY, "calyx_stamp", sizeof(uint32_t),
						   sizeof(*st), 1, NULL);
	uint32_t zero = 0;
	if (stamp < 0 || bpf_map_update_elem(stamp, &zero, st, BPF_ANY) < 0)
		return errmsg(err, errlen, -errno, "writing the stamp failed: %s", strerror(errno));
	return pin_fd(r->dir, "", "stamp", stamp, err, errlen);
}

/* The part of the load that needs the skeleton; s is destroyed by the caller. */
static int load_pin(struct resident *r, struct calyx_bpf *s, int root_fd, struct calyx_stamp *st,
		    char *err, size_t errlen)
{
	int rc = choose_programs(s, r->backend, st->note, sizeof(st->note), err, errlen);
	if (rc)
		return rc;
	s->rodata->root_cgid = st->root_cgid;
	s->rodata->root_level = st->root_level;
	/* Only bpf-lsm's file_open uses the verdict cache: the landlock set keeps a stub
	 * (an LRU map preallocates all its entries). */
	if (r->backend != ENFORCE_BPF_LSM && (rc = bpf_map__set_max_entries(s->maps.vcache, 1)))
		return errmsg(err, errlen, rc, "sizing the verdict cache failed: %s", strerror(-rc));
	if (r->backend == ENFORCE_BPF_LSM) {
		uint64_t rs, ms;
		seq_addresses(&rs, &ms);
		s->rodata->rename_seq_addr = rs;
		s->rodata->mount_seq_addr = ms;
		if (rs)
			st->flags |= CALYX_STAMP_VCACHE;
		else
			snprintf(st->note + strlen(st->note), sizeof(st->note) - strlen(st->note),
				 "%sverdict cache off (no rename_lock/mount_lock in /proc/kallsyms)", st->note[0] ? "; " : "");
	}
	rc = calyx_bpf__load(s);
	if (rc) {
		if (rc == -EPERM && r->backend == ENFORCE_BPF_LSM)
			return errmsg(err, errlen, -ENOTSUP,
				      "loading the bpf-lsm programs failed: the kernel refuses trampoline-based BPF programs (lsm/, fentry/)");
		return errmsg(err, errlen, rc == -EINVAL || rc == -EPERM || rc == -ESRCH ? -ENOTSUP : rc,
			      "loading the %s BPF programs failed: %s%s", enforce_backend_name(r->backend),
			      strerror(-rc), g_verbose ? "" : " (calyx run -vv or calyx enforcer start -v shows the verifier log)");
	}
	if ((rc = bpffs_ready(err, errlen)))
		return rc;
	if (mkdir(r->dir, 0700) < 0)
		return errmsg(err, errlen, -errno, "mkdir %s: %s", r->dir, strerror(errno));
	/* Programs first, then maps: a run finds the maps only in a complete set anyway. */
	if ((rc = attach_and_pin(s, r->dir, root_fd, err, errlen)))
		return rc;
	for (int m = 0; m < RM_COUNT; m++) {
		struct bpf_map *map = skel_map(s, (enum resident_map)m);
		if (map && (rc = pin_fd(r->dir, "map_", resident_map_names[m], bpf_map__fd(map), err, errlen)))
			return rc;
	}
	return pin_bookkeeping(r, st, err, errlen);
}

int resident_load(struct resident *r, bool verbose, char *err, size_t errlen)
{
	g_verbose = verbose;
	libbpf_set_print(print_fn);
	/* No RLIMIT_MEMLOCK bump of our own: the sandbox inherits our limits, and an
	 * unlimited one lets the command mlock all of the host's memory. Kernels >= 5.11
	 * charge BPF memory to the memcg. */
	struct calyx_stamp st = {
		.magic = CALYX_STAMP_MAGIC,
		.abi = CALYX_ABI_VERSION,
		.backend = (uint32_t)r->backend,
		.loaded_at = (uint64_t)time(NULL),
		.loader_pid = (uint32_t)getpid(),
	};
	memcpy(st.object, resident_object_hash(), sizeof(st.object));
	snprintf(st.version, sizeof(st.version), "%s", calyx_version);
	/* The root cgroup: <mount>/calyx/<backend>, two levels below the hierarchy root
	 * (the mount shows the root: resident_paths checked), so at level 2. */
	_cleanup_close_ int root_fd = -1;
	char rel[64];
	snprintf(rel, sizeof(rel), "%s/%s", RESIDENT_CGROUP_DIR, enforce_backend_name(r->backend));
	/* A root cgroup that was already there may hold a live set's sandboxes (a loader in
	 * another mount namespace sees no pins but the same cgroups): never remove it below. */
	struct stat pre;
	bool root_existed = stat(r->cg_root, &pre) == 0;
	int rc = cgroupfs_mkdir_delegated(r->cg_mount, rel, &root_fd, err, errlen);
	uint64_t root_cgid = 0;
	if (rc == 0 && (rc = cgroup_id_of(r->cg_root, &root_cgid)) < 0)
		errmsg(err, errlen, rc, "cgroup id of %s: %s", r->cg_root, strerror(-rc));
	if (rc < 0)
		return rc;
	st.root_cgid = root_cgid;
	st.root_level = 2;
	struct calyx_bpf *s = calyx_bpf__open();
	if (!s)
		return errmsg(err, errlen, -errno, "opening the BPF object failed: %s", strerror(errno));
	rc = load_pin(r, s, root_fd, &st, err, errlen);
	calyx_bpf__destroy(s);
	if (rc) {
		resident_unpin_dir(r->dir, NULL, 0);   /* nothing half-loaded stays attached */
		if (!root_existed)
			(void)rmdir(r->cg_root);   /* made for nothing (EBUSY: dead runners' left, swept later) */
		return rc;
	}
	return resident_attach_pins(r, err, errlen);
}
