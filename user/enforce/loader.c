/* Loads bpf/calyx.bpf.c (one object, two program sets) and keeps the per-sandbox map
 * entries. Encoding of rules into map entries: loader_rules.c (pure, unit-tested). */
#include "enforce/loader.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "calyx.skel.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "enforce/landlock.h"
#include "enforce/loader_rules.h"
#include "probe.skel.h"

/* ------------------------------------------------------------------ libbpf output */

static bool g_verbose;
static bool g_silent;

/* libbpf's own messages (including verifier logs) only with -v: without it the caller
 * reports our one-line error, which says that -v shows more. None at all while probing,
 * where a failure is an answer, not an error. */
static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	if (g_silent || !g_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void libbpf_setup(bool verbose)
{
	g_verbose = verbose;
	libbpf_set_print(print_fn);
	/* No RLIMIT_MEMLOCK bump of our own: the sandbox inherits our limits, and an
	 * unlimited one lets the command mlock all of the host's memory. Kernels >= 5.11
	 * charge BPF memory to the memcg; on older ones libbpf (>= 1.0) raises the limit
	 * itself, only there. */
}

/* ------------------------------------------------------------------ program sets */

/* Hooks the bpf-lsm set needs. `optional` ones are defence in depth whose absence on an
 * older kernel leaves the others sufficient. userns_create (6.1) is not: in a user
 * namespace of its own the sandbox could open_tree(OPEN_TREE_CLONE) a directory, and
 * bpf_d_path of a file in that detached tree is relative to its root ("/work/x" for
 * /home/a/work/x), which path rules would match. */
struct lsm_prog {
	const char *hook;
	bool optional;
	int nargs;     /* > 0: this program fits only a hook with that many arguments */
};
#define N_LSM 33
static struct bpf_program *lsm_prog(struct calyx_bpf *s, int i)
{
	struct bpf_program *p[N_LSM] = {
		s->progs.calyx_exec,          s->progs.calyx_file_open,   s->progs.calyx_socket_create,
		s->progs.calyx_socket_connect, s->progs.calyx_socket_sendmsg, s->progs.calyx_bpf,
		s->progs.calyx_sb_mount,      s->progs.calyx_move_mount,  s->progs.calyx_sb_pivotroot,
		s->progs.calyx_path_chroot,   s->progs.calyx_userns_create, s->progs.calyx_task_kill,
		s->progs.calyx_ptrace,
		s->progs.calyx_path_unlink,   s->progs.calyx_path_rmdir,  s->progs.calyx_path_mkdir,
		s->progs.calyx_path_mknod,    s->progs.calyx_path_symlink, s->progs.calyx_path_link,
		s->progs.calyx_path_rename,   s->progs.calyx_path_truncate, s->progs.calyx_path_chmod,
		s->progs.calyx_path_chown,    s->progs.calyx_inode_setxattr, s->progs.calyx_inode_removexattr,
		s->progs.calyx_file_ioctl,    s->progs.calyx_mmap_file,   s->progs.calyx_file_mprotect,
		s->progs.calyx_perf_event_open, s->progs.calyx_unix_stream_connect,
		s->progs.calyx_unix_may_send, s->progs.calyx_perf_event_open_type,
		s->progs.calyx_file_truncate,
	};
	return p[i];
}
/* The path_* hooks exist only with CONFIG_SECURITY_PATH; without them a sandbox could
 * change the file system outside its :rw paths, so they are required. */
static const struct lsm_prog lsm_hooks[N_LSM] = {
	{ "bprm_check_security", false, 0 }, { "file_open", false, 0 }, { "socket_create", false, 0 },
	{ "socket_connect", false, 0 }, { "socket_sendmsg", false, 0 }, { "bpf", false, 0 },
	{ "sb_mount", false, 0 }, { "move_mount", false, 0 }, { "sb_pivotroot", false, 0 },
	{ "path_chroot", false, 0 }, { "userns_create", false, 0 }, { "task_kill", false, 0 },
	{ "ptrace_access_check", false, 0 },
	{ "path_unlink", false, 0 }, { "path_rmdir", false, 0 }, { "path_mkdir", false, 0 },
	{ "path_mknod", false, 0 }, { "path_symlink", false, 0 }, { "path_link", false, 0 },
	{ "path_rename", false, 0 }, { "path_truncate", false, 0 }, { "path_chmod", false, 0 },
	{ "path_chown", false, 0 }, { "inode_setxattr", false, 0 }, { "inode_removexattr", false, 0 },
	{ "file_ioctl", false, 0 }, { "mmap_file", false, 0 }, { "file_mprotect", false, 0 },
	/* only with CONFIG_PERF_EVENTS: then there is none; (attr, type) before 6.3, (type) since */
	{ "perf_event_open", true, 2 },
	{ "unix_stream_connect", false, 0 }, { "unix_may_send", false, 0 },
	{ "perf_event_open", true, 1 },
	/* 6.2+: O_TRUNC and ftruncate; absent on 6.1, where path_truncate covers both */
	{ "file_truncate", true, 0 },
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

#define N_CG 5
static struct bpf_program *cg_prog(struct calyx_bpf *s, int i)
{
	struct bpf_program *p[N_CG] = {
		s->progs.calyx_cg_connect4, s->progs.calyx_cg_connect6, s->progs.calyx_cg_sendmsg4,
		s->progs.calyx_cg_sendmsg6, s->progs.calyx_cg_sock_create,
	};
	return p[i];
}

/* Opens the object and sets rodata and autoload for backend b; loads it. */
static int load_set(enum enforce_backend b, uint64_t parent_cgid, int parent_level,
		    struct calyx_bpf **out, char *err, size_t errlen)
{
	if (b != ENFORCE_BPF_LSM && b != ENFORCE_LANDLOCK)
		return errmsg(err, errlen, -EINVAL, "enforcer: backend must be bpf-lsm or landlock");
	if (parent_level < 0 || parent_level > 200)
		return errmsg(err, errlen, -EINVAL, "enforcer: bad parent cgroup level %d", parent_level);
	struct calyx_bpf *s = calyx_bpf__open();
	if (!s)
		return errmsg(err, errlen, -errno, "opening the BPF object failed: %s", strerror(errno));
	s->rodata->parent_cgid = parent_cgid;
	s->rodata->parent_level = (uint32_t)parent_level;

	bool lsm = b == ENFORCE_BPF_LSM;
	struct btf *vmbtf = lsm ? btf__load_vmlinux_btf() : NULL;
	if (lsm && !vmbtf) {
		calyx_bpf__destroy(s);
		return errmsg(err, errlen, -ENOTSUP, "the kernel has no BTF (/sys/kernel/btf/vmlinux)");
	}
	for (int i = 0; i < N_LSM; i++) {
		bool on = lsm;
		if (lsm) {
			int nargs = lsm_hook_nargs(vmbtf, lsm_hooks[i].hook);
			if (nargs >= 0 && lsm_hooks[i].nargs > 0 && nargs != lsm_hooks[i].nargs) {
				on = false;   /* the other shape of this hook serves this kernel */
			} else if (nargs < 0) {
				if (!lsm_hooks[i].optional) {
					btf__free(vmbtf);
					calyx_bpf__destroy(s);
					return errmsg(err, errlen, -ENOTSUP,
						      "the kernel has no LSM hook %s (needed by bpf-lsm)",
						      lsm_hooks[i].hook);
				}
				on = false;
			}
		}
		bpf_program__set_autoload(lsm_prog(s, i), on);
	}
	btf__free(vmbtf);
	for (int i = 0; i < N_CG; i++) {
		bpf_program__set_autoload(cg_prog(s, i), !lsm);
		/* attached per sandbox cgroup in enforcer_add_sandbox */
		bpf_program__set_autoattach(cg_prog(s, i), false);
	}
	bpf_program__set_autoload(s->progs.calyx_exec_image, !lsm);
	bpf_program__set_autoload(s->progs.calyx_sys_exit, !lsm);

	int rc = calyx_bpf__load(s);
	if (rc) {
		calyx_bpf__destroy(s);
		if (rc == -EPERM && lsm)
			return errmsg(err, errlen, rc,
				      "loading the bpf-lsm programs failed: the kernel refuses trampoline-based BPF programs (lsm/, fentry/)");
		return errmsg(err, errlen, rc, "loading the %s BPF programs failed: %s%s",
			      enforce_backend_name(b), strerror(-rc),
			      g_verbose ? "" : " (-v shows the verifier log)");
	}
	*out = s;
	return 0;
}

/* ------------------------------------------------------------------ probes */

int enforcer_lsm_list(char *buf, size_t len)
{
	static const char lsm_file[] = "/sys/kernel/security/lsm";
	int rc = fileio_read_line(lsm_file, buf, len);
	if (rc == -ENOENT) {
		/* securityfs not mounted yet (busybox inits, minimal hosts) */
		if (mount("securityfs", "/sys/kernel/security", "securityfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0 && errno != EBUSY)
			return -errno;
		rc = fileio_read_line(lsm_file, buf, len);
	}
	return rc;
}

static bool list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n == wl && strncmp(p, word, n) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

/* The probe object holds one program per feature; a probe loads only its own, so that
 * one missing feature does not fail the others' probes. */
enum probe_prog { PROBE_LSM, PROBE_TP_BTF, PROBE_CGROUP_SOCK, PROBE_NPROGS };
static const char *const probe_what[PROBE_NPROGS] = {
	[PROBE_LSM] = "test lsm/", [PROBE_TP_BTF] = "tp_btf", [PROBE_CGROUP_SOCK] = "cgroup/connect4",
};

static struct bpf_program *probe_prog(const struct probe_bpf *p, enum probe_prog i)
{
	switch (i) {
	case PROBE_LSM:
		return p->progs.probe_lsm;
	case PROBE_TP_BTF:
		return p->progs.probe_tp_btf;
	default:
		return p->progs.probe_cgroup_sock;
	}
}

/* Opens the probe object and loads program `keep` alone, with libbpf silent until
 * probe_close: a failing probe is an answer, not noise. 0 with *out loaded, or -errno
 * with why filled (and nothing left to close). */
static int probe_load(enum probe_prog keep, struct probe_bpf **out, char *why, size_t len)
{
	libbpf_setup(g_verbose);
	g_silent = true;
	struct probe_bpf *p = probe_bpf__open();
	if (!p) {
		int rc = -errno;
		g_silent = false;
		return errmsg(why, len, rc, "opening the probe object failed: %s", strerror(-rc));
	}
	for (int i = 0; i < PROBE_NPROGS; i++)
		if (i != (int)keep)
			bpf_program__set_autoload(probe_prog(p, (enum probe_prog)i), false);
	int rc = probe_bpf__load(p);
	if (rc) {
		probe_bpf__destroy(p);
		g_silent = false;
		if (rc == -EPERM && keep == PROBE_LSM)
			return errmsg(why, len, rc,
				      "the kernel refuses trampoline-based BPF programs (lsm/, fentry/)");
		return errmsg(why, len, rc, "loading a %s program failed: %s", probe_what[keep],
			      strerror(-rc));
	}
	*out = p;
	return 0;
}

static void probe_close(struct probe_bpf *p)
{
	probe_bpf__destroy(p);
	g_silent = false;
}

/* Attaches a loaded probe program (a cgroup one to cgroup_fd) and detaches it again.
 * 0, or -errno with why filled. */
static int probe_attach(struct probe_bpf *p, enum probe_prog which, int cgroup_fd, char *why,
			size_t len)
{
	struct bpf_program *prog = probe_prog(p, which);
	struct bpf_link *l = cgroup_fd >= 0 ? bpf_program__attach_cgroup(prog, cgroup_fd) :
					      bpf_program__attach(prog);
	if (!l) {
		int rc = -errno;
		return errmsg(why, len, rc, "attaching a %s program failed: %s", probe_what[which],
			      strerror(-rc));
	}
	bpf_link__destroy(l);
	return 0;
}

/* Load, attach to its own hook, detach and free: the whole probe of a program that needs
 * no attach target. 0, or -errno with why filled. */
static int probe_load_attach(enum probe_prog which, char *why, size_t len)
{
	struct probe_bpf *p;
	int rc = probe_load(which, &p, why, len);
	if (rc)
		return rc;
	rc = probe_attach(p, which, -1, why, len);
	probe_close(p);
	return rc;
}

int enforcer_probe_bpf_lsm(char *why, size_t len)
{
	char list[512];
	int rc = enforcer_lsm_list(list, sizeof(list));
	if (rc)
		return errmsg(why, len, rc, "cannot read the active LSM list (/sys/kernel/security/lsm): %s",
			      strerror(-rc));
	if (!list_has(list, "bpf"))
		return errmsg(why, len, -ENOTSUP,
			      "\"bpf\" is not in the active LSM list (%s): boot with lsm=%s,bpf", list, list);


	rc = probe_load_attach(PROBE_LSM, why, len);
	if (!rc)
		errmsg(why, len, 0, "active (%s) and a test lsm/ program loads and attaches", list);
	return rc;
}

int enforcer_probe_tp_btf(char *why, size_t len)
{
	int rc = probe_load_attach(PROBE_TP_BTF, why, len);
	if (!rc)
		errmsg(why, len, 0, "a tp_btf program loads and attaches");
	return rc;
}

int enforcer_probe_cgroup_sock(char *why, size_t len)
{
	struct probe_bpf *p;
	int rc = probe_load(PROBE_CGROUP_SOCK, &p, why, len);
	if (rc)
		return rc;
	/* Attach to a fresh empty cgroup: proves attach works without touching anyone. */
	char mnt[PATH_MAX], dir[PATH_MAX + 64];
	rc = cgroup2_mount_point(mnt, sizeof(mnt));
	if (rc) {
		errmsg(why, len, rc, "no cgroup v2 mount to attach to");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/calyx-probe-%d", mnt, (int)getpid());
	if (mkdir(dir, 0700) != 0) {
		rc = -errno;
		errmsg(why, len, rc, "cannot create a probe cgroup %s: %s", dir, strerror(-rc));
		goto out;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		errmsg(why, len, rc, "cannot open %s: %s", dir, strerror(-rc));
	} else {
		rc = probe_attach(p, PROBE_CGROUP_SOCK, fd, why, len);
		if (!rc)
			errmsg(why, len, 0, "cgroup/connect4 loads and attaches to a cgroup v2 directory");
		close(fd);
	}
	rmdir(dir);
out:
	probe_close(p);
	return rc;
}

/* The real landlock-backend program set passes the verifier on this kernel. */
static int probe_landlock_set(char *why, size_t len)
{
	struct calyx_bpf *s = NULL;
	libbpf_setup(g_verbose);
	g_silent = true;
	int rc = load_set(ENFORCE_LANDLOCK, 0, 0, &s, why, len);
	g_silent = false;
	calyx_bpf__destroy(s);
	return rc;
}

int enforcer_pick_backend(enum enforce_backend requested, enum enforce_backend *chosen,
			  char *why, size_t len)
{
	char lsm_why[256] = "", ll_why[256] = "";
	int rc;
	if (requested == ENFORCE_BPF_LSM || requested == ENFORCE_AUTO) {
		rc = enforcer_probe_bpf_lsm(lsm_why, sizeof(lsm_why));
		if (rc == 0) {
			*chosen = ENFORCE_BPF_LSM;
			return errmsg(why, len, 0, "BPF LSM %s", lsm_why);
		}
		if (requested == ENFORCE_BPF_LSM)
			return errmsg(why, len, -ENOTSUP, "bpf-lsm is unavailable: %s", lsm_why);
	}
	if (requested != ENFORCE_LANDLOCK && requested != ENFORCE_AUTO)
		return errmsg(why, len, -EINVAL, "unknown enforcement backend %d", (int)requested);

	int abi = landlock_abi();
	if (abi < 1) {
		snprintf(ll_why, sizeof(ll_why), "Landlock unavailable (%s)",
			 abi == -EOPNOTSUPP ? "disabled at boot: add landlock to lsm=" :
			 abi == -ENOSYS     ? "not built into this kernel" : strerror(-abi));
	} else {
		char w[200];
		rc = enforcer_probe_tp_btf(w, sizeof(w));
		if (rc == 0)
			rc = enforcer_probe_cgroup_sock(w, sizeof(w));
		if (rc == 0)
			rc = probe_landlock_set(w, sizeof(w));
		if (rc == 0) {
			*chosen = ENFORCE_LANDLOCK;
			if (requested == ENFORCE_AUTO)
				return errmsg(why, len, 0,
					      "Landlock ABI %d + cgroup BPF; bpf-lsm unavailable: %s",
					      abi, lsm_why);
			return errmsg(why, len, 0, "Landlock ABI %d + cgroup BPF", abi);
		}
		snprintf(ll_why, sizeof(ll_why), "Landlock ABI %d, but %s", abi, w);
	}
	if (requested == ENFORCE_LANDLOCK)
		return errmsg(why, len, -ENOTSUP, "landlock backend unavailable: %s", ll_why);
	return errmsg(why, len, -ENOTSUP, "no enforcement backend works: bpf-lsm: %s; landlock: %s",
		      lsm_why, ll_why);
}

/* ------------------------------------------------------------------ the enforcer */

struct sb_state {
	bool used;
	uint64_t cgid;
	uint32_t id;
	struct calyx_exec_key *exec_keys;
	size_t n_exec;
	struct calyx_path_key *path_keys;
	size_t n_path;
	struct bpf_link *links[N_CG];
};

struct enforcer {
	struct calyx_bpf *skel;
	struct ring_buffer *rb;
	enum enforce_backend backend;
	struct sb_state sb[CALYX_MAX_SANDBOXES];
	enforcer_event_fn fn;
	void *fn_ctx;
	int ncpus;
	char pin_dir[192];             /* "" when not pinning; ENFORCER_PIN_ROOT/<name < 128> */
};

/* ------------------------------------------------------------------ pinning */

static bool is_bpffs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* bpffs at ENFORCER_BPFFS, mounted when it is not. Two runners mounting at once would
 * stack two instances and pin into different ones (the lower one hidden from every
 * sweep), so the check and the mount happen under flock on the directory: a runner that
 * waited re-checks by path and finds the other's mount. */
static int bpffs_ready(char *err, size_t errlen)
{
	if (is_bpffs(ENFORCER_BPFFS))
		return 0;
	int fd = open(ENFORCER_BPFFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s: %s", ENFORCER_BPFFS, strerror(errno));
	int rc = 0;
	if (flock(fd, LOCK_EX) < 0) {
		rc = errmsg(err, errlen, -errno, "lock %s: %s", ENFORCER_BPFFS, strerror(errno));
	} else if (!is_bpffs(ENFORCER_BPFFS)) {
		if (mount("bpf", ENFORCER_BPFFS, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") != 0)
			rc = errmsg(err, errlen, -errno, "mounting bpffs at %s failed: %s", ENFORCER_BPFFS,
				    strerror(errno));
		else if (!is_bpffs(ENFORCER_BPFFS))
			rc = errmsg(err, errlen, -ENOTSUP, "%s is not a bpffs after mounting one there",
				    ENFORCER_BPFFS);
	}
	close(fd);
	return rc;
}

/* bpffs refuses names with '.', and the name is one path component. */
static bool pin_name_ok(const char *name)
{
	size_t n = strlen(name);
	return n > 0 && n < 128 && !strchr(name, '/') && !strchr(name, '.');
}

/* ENFORCER_PIN_ROOT/<name>, fresh. */
static int pin_dir_create(struct enforcer *e, const char *name, char *err, size_t errlen)
{
	if (!pin_name_ok(name))
		return errmsg(err, errlen, -EINVAL, "bad BPF pin directory name '%s'", name);
	int rc = bpffs_ready(err, errlen);
	if (rc)
		return rc;
	if (mkdir(ENFORCER_PIN_ROOT, 0700) < 0 && errno != EEXIST)
		return errmsg(err, errlen, -errno, "mkdir %s: %s", ENFORCER_PIN_ROOT, strerror(errno));
	struct stat st;
	if (lstat(ENFORCER_PIN_ROOT, &st) < 0 || !S_ISDIR(st.st_mode))
		return errmsg(err, errlen, -ENOTDIR, "%s is not a directory", ENFORCER_PIN_ROOT);
	snprintf(e->pin_dir, sizeof(e->pin_dir), "%s/%s", ENFORCER_PIN_ROOT, name);
	if (mkdir(e->pin_dir, 0700) < 0) {
		rc = errmsg(err, errlen, -errno, "mkdir %s: %s", e->pin_dir, strerror(errno));
		e->pin_dir[0] = '\0';
		return rc;
	}
	return 0;
}

static int pin_link(struct enforcer *e, struct bpf_link *l, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", e->pin_dir, name) >= (int)sizeof(path))
		return errmsg(err, errlen, -ENAMETOOLONG, "BPF pin path too long: %s/%s", e->pin_dir, name);
	int rc = bpf_link__pin(l, path);
	if (rc)
		return errmsg(err, errlen, rc, "pinning the BPF link %s failed: %s", path, strerror(-rc));
	return 0;
}

/* Pins of one sandbox's cgroup links: sb<cgid>_<program>. */
static void sb_pin_name(const struct enforcer *e, uint64_t cgid, int i, char *buf, size_t len)
{
	snprintf(buf, len, "sb%llu_%s", (unsigned long long)cgid, bpf_program__name(cg_prog(e->skel, i)));
}

/* 1 removed, 0 there was none, -errno. */
static int unpin_dir(const char *dir, char *err, size_t errlen)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0) {
		if (errno == ENOENT)
			return 0;
		return errmsg(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	}
	DIR *d = fileio_fdopendir_dup(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return errmsg(err, errlen, -e, "%s: %s", dir, strerror(e));
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && !rc)
			rc = errmsg(err, errlen, -errno, "unpinning %s/%s: %s", dir, de->d_name, strerror(errno));
	}
	closedir(d);
	close(dfd);
	if (rmdir(dir) < 0 && errno != ENOENT && !rc)
		rc = errmsg(err, errlen, -errno, "rmdir %s: %s", dir, strerror(errno));
	return rc < 0 ? rc : 1;
}

int enforcer_unpin_name(const char *name, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if (!pin_name_ok(name))
		return 0;   /* no pin directory can have this name (bpffs refuses '.') */
	snprintf(dir, sizeof(dir), "%s/%s", ENFORCER_PIN_ROOT, name);
	return unpin_dir(dir, err, errlen);
}

int enforcer_unpin(struct enforcer *e, char *err, size_t errlen)
{
	if (!e || !e->pin_dir[0])
		return 0;
	int rc = unpin_dir(e->pin_dir, err, errlen);
	if (rc < 0)
		return rc;
	e->pin_dir[0] = '\0';
	return 0;
}

const char *enforcer_pin_dir(const struct enforcer *e)
{
	return e ? e->pin_dir : "";
}

/* Every link the skeleton attached, under its program's name. */
static int pin_all(struct enforcer *e, char *err, size_t errlen)
{
	const struct bpf_object_skeleton *sk = e->skel->skeleton;
	int n = 0;
	for (int i = 0; i < sk->prog_cnt; i++) {
		struct bpf_link *l = *sk->progs[i].link;
		if (!l)
			continue;
		int rc = pin_link(e, l, sk->progs[i].name, err, errlen);
		if (rc)
			return rc;
		n++;
	}
	if (n == 0)
		return errmsg(err, errlen, -ENOENT, "no BPF link to pin");
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct enforcer *e = ctx;
	if (size < sizeof(struct calyx_event) || !e->fn)
		return 0;
	e->fn(data, e->fn_ctx);
	return 0;
}

int enforcer_open(struct enforcer **out, const struct enforcer_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	libbpf_setup(o->verbose);
	if (o->parent_cgid == 0)
		return errmsg(err, errlen, -EINVAL, "enforcer: parent cgroup id not set");
	struct enforcer *e = calloc(1, sizeof(*e));
	if (!e)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	e->backend = o->backend;
	e->ncpus = libbpf_num_possible_cpus();
	if (e->ncpus <= 0) {
		free(e);
		return errmsg(err, errlen, -EIO, "cannot count possible CPUs");
	}
	int rc;
	if (o->pin_name) {
		char why[512] = "";
		rc = pin_dir_create(e, o->pin_name, why, sizeof(why));
		if (rc) {
			free(e);
			return errmsg(err, errlen, rc,
				      "cannot pin the BPF links (without pins a SIGKILLed calyx run would leave its sandbox unconfined for a moment): %s",
				      why);
		}
	}
	rc = load_set(o->backend, o->parent_cgid, o->parent_level, &e->skel, err, errlen);
	if (rc) {
		enforcer_unpin(e, NULL, 0);
		free(e);
		return rc;
	}
	/* LSM and tracepoint programs attach now, before any sandbox exists; the cgroup
	 * programs attach per sandbox. */
	rc = calyx_bpf__attach(e->skel);
	if (rc) {
		errmsg(err, errlen, rc, "attaching the %s BPF programs failed: %s",
		       enforce_backend_name(o->backend), strerror(-rc));
		enforcer_unpin(e, NULL, 0);
		enforcer_close(e);
		return rc;
	}
	/* Pinned before any sandbox exists: from its first task on, the links outlive us. */
	if (e->pin_dir[0] && (rc = pin_all(e, err, errlen))) {
		enforcer_unpin(e, NULL, 0);
		enforcer_close(e);
		return rc;
	}
	e->rb = ring_buffer__new(bpf_map__fd(e->skel->maps.events), on_record, e, NULL);
	if (!e->rb) {
		rc = -errno;
		errmsg(err, errlen, rc, "creating the ring buffer consumer failed: %s", strerror(-rc));
		enforcer_unpin(e, NULL, 0);
		enforcer_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* unpin: the sandbox's cgroup is empty (or never held a task), so its cgroup links may
 * go; enforcer_close leaves them pinned. */
static void sb_clear(struct enforcer *e, struct sb_state *s, bool unpin)
{
	/* The sandbox entry goes first: from then on its tasks are denied everything
	 * (an orphan cgroup fails closed) while the rules are removed. */
	bpf_map__delete_elem(e->skel->maps.sandboxes, &s->cgid, sizeof(s->cgid), 0);
	for (size_t i = 0; i < s->n_exec; i++)
		bpf_map__delete_elem(e->skel->maps.exec_rules, &s->exec_keys[i],
				     sizeof(s->exec_keys[i]), 0);
	for (size_t i = 0; i < s->n_path; i++)
		bpf_map__delete_elem(e->skel->maps.path_rules, &s->path_keys[i],
				     sizeof(s->path_keys[i]), 0);
	for (int i = 0; i < N_CG; i++) {
		if (unpin && e->pin_dir[0]) {
			char name[128], path[PATH_MAX];
			sb_pin_name(e, s->cgid, i, name, sizeof(name));
			snprintf(path, sizeof(path), "%s/%s", e->pin_dir, name);
			(void)unlink(path);   /* ENOENT: never pinned */
		}
		bpf_link__destroy(s->links[i]);
	}
	free(s->exec_keys);
	free(s->path_keys);
	memset(s, 0, sizeof(*s));
}

void enforcer_close(struct enforcer *e)
{
	if (!e)
		return;
	for (int i = 0; i < CALYX_MAX_SANDBOXES; i++)
		if (e->sb[i].used)
			sb_clear(e, &e->sb[i], false);
	ring_buffer__free(e->rb);
	calyx_bpf__destroy(e->skel);
	free(e);
}

static struct sb_state *sb_find(struct enforcer *e, uint64_t cgid)
{
	for (int i = 0; i < CALYX_MAX_SANDBOXES; i++)
		if (e->sb[i].used && e->sb[i].cgid == cgid)
			return &e->sb[i];
	return NULL;
}

int enforcer_add_sandbox(struct enforcer *e, const struct sandbox_rules *r, char *err, size_t errlen)
{
	if (!e || !r || r->cgid == 0)
		return errmsg(err, errlen, -EINVAL, "enforcer: sandbox cgroup id not set");
	if (sb_find(e, r->cgid))
		return errmsg(err, errlen, -EEXIST, "enforcer: cgroup %llu is already a sandbox",
			      (unsigned long long)r->cgid);
	struct sb_state *s = NULL;
	for (int i = 0; i < CALYX_MAX_SANDBOXES && !s; i++)
		if (!e->sb[i].used) {
			s = &e->sb[i];
			s->id = (uint32_t)i + 1; /* 0 never names a sandbox */
		}
	if (!s)
		return errmsg(err, errlen, -ENOSPC, "enforcer: more than %d concurrent sandboxes",
			      CALYX_MAX_SANDBOXES);
	s->used = true;
	s->cgid = r->cgid;
	int rc = 0;

	/* exec rules: one entry per distinct file. */
	s->exec_keys = calloc(r->n_exec ? r->n_exec : 1, sizeof(*s->exec_keys));
	if (!s->exec_keys) {
		rc = errmsg(err, errlen, -ENOMEM, "out of memory");
		goto undo;
	}
	for (size_t i = 0; i < r->n_exec; i++) {
		const struct exec_rule *x = &r->exec[i];
		size_t pl = strnlen(x->path, sizeof(x->path));
		if (pl == 0 || pl >= CALYX_LPM_PATH_MAX || x->path[0] != '/') {
			/* the exec hook resolves paths into a CALYX_LPM_PATH_MAX buffer */
			rc = errmsg(err, errlen, -ENAMETOOLONG, "exec rule %zu: not an absolute path of 1..%d bytes",
				    i, CALYX_LPM_PATH_MAX - 1);
			goto undo;
		}
		struct calyx_exec_key k = {
			.sandbox = s->id,
			.dev = calyx_kernel_dev(x->dev),
			.ino = (uint64_t)x->ino,
		};
		struct calyx_exec_val v;
		memset(&v, 0, sizeof(v));
		memcpy(v.path, x->path, pl);
		struct calyx_exec_val old;
		if (bpf_map__lookup_elem(e->skel->maps.exec_rules, &k, sizeof(k), &old, sizeof(old), 0) == 0) {
			if (strcmp(old.path, v.path) == 0)
				continue; /* the same binary named by two commands */
			/* One inode, two names (hard links): the kernel side holds one path per
			 * file, and silently denying one of them would be a puzzle at run time. */
			rc = errmsg(err, errlen, -EINVAL, "lease binaries %s and %s are the same file (hard links)",
				    old.path, v.path);
			goto undo;
		}
		rc = bpf_map__update_elem(e->skel->maps.exec_rules, &k, sizeof(k), &v, sizeof(v), BPF_NOEXIST);
		if (rc) {
			rc = errmsg(err, errlen, rc, "adding exec rule %s failed: %s%s", x->path, strerror(-rc),
				    rc == -E2BIG ? " (exec rule map full)" : "");
			goto undo;
		}
		s->exec_keys[s->n_exec++] = k;
	}

	/* path rules: only the bpf-lsm backend decides opens in BPF (Landlock does it
	 * for the other). */
	if (e->backend == ENFORCE_BPF_LSM && r->n_paths) {
		struct calyx_path_entry *ents = calloc(CALYX_MAX_PATH_RULES, sizeof(*ents));
		if (!ents) {
			rc = errmsg(err, errlen, -ENOMEM, "out of memory");
			goto undo;
		}
		int n = calyx_path_entries(r->paths, r->n_paths, ents, CALYX_MAX_PATH_RULES, err, errlen);
		if (n < 0) {
			free(ents);
			rc = n;
			goto undo;
		}
		s->path_keys = calloc((size_t)n ? (size_t)n : 1, sizeof(*s->path_keys));
		if (!s->path_keys) {
			free(ents);
			rc = errmsg(err, errlen, -ENOMEM, "out of memory");
			goto undo;
		}
		for (int i = 0; i < n; i++) {
			struct calyx_path_key k;
			calyx_path_key_of(&ents[i], s->id, &k);
			rc = bpf_map__update_elem(e->skel->maps.path_rules, &k, sizeof(k), &ents[i].val,
						  sizeof(ents[i].val), BPF_NOEXIST);
			if (rc) {
				errmsg(err, errlen, rc, "adding path rule %s failed: %s%s", ents[i].path,
				       strerror(-rc), rc == -ENOSPC ? " (path rule map full)" : "");
				free(ents);
				goto undo;
			}
			s->path_keys[s->n_path++] = k;
		}
		free(ents);
	}

	if (e->backend == ENFORCE_LANDLOCK) {
		if (r->cgroup_fd < 0) {
			rc = errmsg(err, errlen, -EBADF, "enforcer: no cgroup fd for the network programs");
			goto undo;
		}
		for (int i = 0; i < N_CG; i++) {
			s->links[i] = bpf_program__attach_cgroup(cg_prog(e->skel, i), r->cgroup_fd);
			if (!s->links[i]) {
				rc = -errno;
				errmsg(err, errlen, rc, "attaching %s to the sandbox cgroup failed: %s",
				       bpf_program__name(cg_prog(e->skel, i)), strerror(-rc));
				goto undo;
			}
			if (e->pin_dir[0]) {
				char name[128];
				sb_pin_name(e, r->cgid, i, name, sizeof(name));
				if ((rc = pin_link(e, s->links[i], name, err, errlen)))
					goto undo;
			}
		}
	}

	/* Last: until this entry exists the cgroup counts as an orphan (everything denied). */
	struct calyx_sandbox sbv = {
		.id = s->id,
		.flags = r->network == NET_DENY_ALL ? CALYX_SB_NET_DENY_ALL : 0,
	};
	rc = bpf_map__update_elem(e->skel->maps.sandboxes, &r->cgid, sizeof(r->cgid), &sbv, sizeof(sbv),
				  BPF_NOEXIST);
	if (rc) {
		errmsg(err, errlen, rc, "adding the sandbox failed: %s", strerror(-rc));
		goto undo;
	}
	return 0;
undo:
	sb_clear(e, s, true);   /* no task has entered the cgroup yet */
	return rc;
}

int enforcer_remove_sandbox(struct enforcer *e, uint64_t cgid)
{
	if (!e)
		return 0;
	struct sb_state *s = sb_find(e, cgid);
	if (s)
		sb_clear(e, s, true);
	return 0;
}

int enforcer_consume(struct enforcer *e, enforcer_event_fn fn, void *ctx)
{
	if (!e || !e->rb)
		return -EINVAL;
	e->fn = fn;
	e->fn_ctx = ctx;
	int rc = ring_buffer__consume(e->rb);
	e->fn = NULL;
	e->fn_ctx = NULL;
	return rc;
}

uint64_t enforcer_dropped(struct enforcer *e)
{
	if (!e)
		return 0;
	uint64_t *v = calloc((size_t)e->ncpus, sizeof(*v));
	if (!v)
		return 0;
	uint32_t k = CALYX_STAT_RB_DROPPED;
	uint64_t sum = 0;
	if (bpf_map__lookup_elem(e->skel->maps.stats, &k, sizeof(k), v, sizeof(*v) * (size_t)e->ncpus, 0) == 0)
		for (int i = 0; i < e->ncpus; i++)
			sum += v[i];
	free(v);
	return sum;
}
