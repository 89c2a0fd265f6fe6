/* The sandbox cgroup and the child process (see sandbox.h). */
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "base/fileio.h"
#include "enforce/landlock.h"
#include "enforce/loader.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* ---- small cgroupfs helpers ---- */

static int write_str(int dirfd, const char *name, const char *s)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* Does the space-separated list contain word? */
static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += wl) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n';
		if (start && end)
			return true;
	}
	return false;
}

/* "key value" line of a flat-keyed file (cgroup.events, cpu.stat, memory.events). */
static int keyed_value(int dirfd, const char *file, const char *key, uint64_t *v)
{
	char buf[2048];
	int n = fileio_read_small_at(dirfd, file, buf, sizeof(buf));
	if (n < 0)
		return n;
	size_t kl = strlen(key);
	for (char *line = buf; line && *line; ) {
		char *nl = strchr(line, '\n');
		if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
			*v = strtoull(line + kl + 1, NULL, 10);
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/* Enable the memory and pids controllers in dirfd's subtree_control where available. */
static void enable_controllers(int dirfd)
{
	char avail[512], on[512];
	if (fileio_read_small_at(dirfd, "cgroup.controllers", avail, sizeof(avail)) < 0)
		return;
	if (fileio_read_small_at(dirfd, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return;
	static const char *const ctrls[] = { "memory", "pids" };
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		if (!has_word(avail, ctrls[i]) || has_word(on, ctrls[i]))
			continue;
		char req[32];
		snprintf(req, sizeof(req), "+%s", ctrls[i]);
		/* Best effort: a refusal (e.g. processes in a non-root parent) only means the
		 * limit is reported as not enforced by the cgroup. */
		(void)write_str(dirfd, "cgroup.subtree_control", req);
	}
}

static int open_cgroup_dir(const char *path, int *fd, char *err, size_t errlen)
{
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return errmsg(err, errlen, -errno, "open %s: %s", path, strerror(errno));
	/* Must really be a cgroup: cgroup.procs exists only in cgroupfs. */
	if (faccessat(*fd, "cgroup.procs", F_OK, 0) < 0) {
		close(*fd);
		*fd = -1;
		return errmsg(err, errlen, -ENOTDIR, "%s is not a cgroup v2 directory", path);
	}
	return 0;
}

int sandbox_cgroup2_root_mount(char *mount, size_t len, char *err, size_t errlen)
{
	struct stat st;
	if (stat("/proc/self/ns/cgroup", &st) < 0)
		return errmsg(err, errlen, errno == ENOENT ? -ENOTSUP : -errno,
			      "cannot tell the cgroup namespace (/proc/self/ns/cgroup: %s)", strerror(errno));
	if (st.st_ino != PROC_CGROUP_INIT_INO)
		return errmsg(err, errlen, -ENOTSUP,
			      "calyx runs in a non-initial cgroup namespace (cgroup:[%ju]): the cgroup level the "
			      "BPF scope check needs cannot be known from here", (uintmax_t)st.st_ino);
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return errmsg(err, errlen, -errno, "/proc/self/mountinfo: %s", strerror(errno));
	char *line = NULL, first_mnt[256] = "", first_root[256] = "";
	size_t cap = 0;
	int rc = -ENOENT;
	while (getline(&line, &cap, f) > 0) {
		char *root, *mnt;
		if (!mountinfo_cgroup2(line, &root, &mnt))
			continue;
		if (strcmp(root, "/") != 0) {
			if (!first_mnt[0]) {
				snprintf(first_mnt, sizeof(first_mnt), "%s", mnt);
				snprintf(first_root, sizeof(first_root), "%s", root);
			}
			continue;
		}
		if (strlen(mnt) >= len) {
			rc = errmsg(err, errlen, -ENAMETOOLONG, "cgroup v2 mount point too long: %s", mnt);
			break;
		}
		strcpy(mount, mnt);
		rc = 0;
		break;
	}
	free(line);
	fclose(f);
	if (rc == -ENOENT && first_mnt[0])
		rc = errmsg(err, errlen, -ENOTSUP,
			    "the cgroup v2 mount at %s shows %s of the hierarchy, not its root, and no other "
			    "v2 mount does: the cgroup level the BPF scope check needs cannot be known",
			    first_mnt, first_root);
	else if (rc == -ENOENT)
		errmsg(err, errlen, rc, "no cgroup v2 hierarchy mounted (/proc/self/mountinfo)");
	return rc;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sandbox_flock_timed(int fd, int timeout_ms)
{
	int64_t deadline = mono_ms() + timeout_ms;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (mono_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

#define SHARED_LOCK_MS 30000   /* a sweep may wait up to 5 s per stale sandbox to empty */

/* <mount>/calyx, made if needed (0711: only root may open it, hence lock it), opened and
 * locked. Returns the locked fd or -errno. */
static int shared_open_locked(const char *mount, bool create, char *err, size_t errlen)
{
	char shared[PATH_MAX];
	int fd, rc;
	if (snprintf(shared, sizeof(shared), "%s/%s", mount, SANDBOX_PARENT_NAME) >= (int)sizeof(shared))
		return errmsg(err, errlen, -ENAMETOOLONG, "%s: cgroup path too long", mount);
	if (create) {
		if ((rc = open_cgroup_dir(mount, &fd, err, errlen)) < 0)
			return rc;
		enable_controllers(fd);
		close(fd);
		if (mkdir(shared, 0711) < 0 && errno != EEXIST)
			return errmsg(err, errlen, -errno, "mkdir %s: %s", shared, strerror(errno));
	}
	if ((rc = open_cgroup_dir(shared, &fd, err, errlen)) < 0)
		return rc;
	/* Made 0755 by earlier versions: anyone could open it and hold its lock. */
	(void)fchmod(fd, 0711);
	rc = sandbox_flock_timed(fd, SHARED_LOCK_MS);
	if (rc < 0) {
		close(fd);
		return errmsg(err, errlen, rc, "lock %s: %s", shared, rc == -ETIMEDOUT ? "held too long by another process" : strerror(-rc));
	}
	return fd;
}

int sandbox_parent_create(const char *mount, const char *name, struct sandbox_parent *p,
			  char *err, size_t errlen)
{
	int fd, rc;
	memset(p, 0, sizeof(*p));
	p->lock_fd = -1;
	if (strchr(name, '/') || name[0] == '.' ||
	    snprintf(p->path, sizeof(p->path), "%s/%s/%s", mount, SANDBOX_PARENT_NAME, name) >= (int)sizeof(p->path))
		return errmsg(err, errlen, -ENAMETOOLONG, "%s: bad or too long cgroup path", mount);
	int shared = shared_open_locked(mount, true, err, errlen);
	if (shared < 0)
		return shared;
	enable_controllers(shared);
	/* 0711 too: only root can open it, so nobody else can hold its lock and keep a dead
	 * runner's parent from being swept. */
	if (mkdir(p->path, 0711) < 0) {
		rc = errmsg(err, errlen, -errno, "mkdir %s: %s", p->path, strerror(errno));
		goto out;
	}
	p->created = true;
	if ((rc = open_cgroup_dir(p->path, &fd, err, errlen)) < 0)
		goto out;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errmsg(err, errlen, -errno, "lock %s: %s", p->path, strerror(errno));
		close(fd);
		goto out;
	}
	p->lock_fd = fd;
	p->has_lock = true;
	enable_controllers(fd);
	rc = cgroup_id_of(p->path, &p->cgid);
	if (rc < 0) {
		errmsg(err, errlen, rc, "cgroup id of %s: %s", p->path, strerror(-rc));
		goto out;
	}
	p->level = 2;
	rc = 0;
out:
	close(shared);   /* releases the shared lock: our parent is locked by now */
	return rc;
}

/* rmdir of a cgroup can briefly fail with EBUSY while the last task is being released;
 * retry a little. 0 (also when it is already gone) or -errno. */
static int cgroup_rmdir(const char *path)
{
	int r = -EBUSY;
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		r = -errno;
		if (r != -EBUSY)
			break;
		usleep(10000);
	}
	return r;
}

int sandbox_parent_remove(struct sandbox_parent *p, char *err, size_t errlen)
{
	int r = 0;
	if (p->created) {
		r = cgroup_rmdir(p->path);
		if (r == 0)
			p->created = false;
	}
	/* Unlocked only once it is gone (or on failure, so that a later sweep removes it). */
	if (p->has_lock) {
		close(p->lock_fd);
		p->lock_fd = -1;
		p->has_lock = false;
	}
	if (r < 0)
		return errmsg(err, errlen, r, "rmdir %s: %s", p->path, strerror(-r));
	return 0;
}

int sandbox_cgroup_create(const char *parent, const char *name, struct sandbox_cgroup *cg,
			  char *err, size_t errlen)
{
	memset(cg, 0, sizeof(*cg));
	cg->fd = -1;
	if (strchr(name, '/') || snprintf(cg->path, sizeof(cg->path), "%s/%s", parent, name) >= (int)sizeof(cg->path))
		return errmsg(err, errlen, -EINVAL, "bad cgroup name %s", name);
	if (mkdir(cg->path, 0755) < 0)
		return errmsg(err, errlen, -errno, "mkdir %s: %s", cg->path, strerror(errno));
	cg->created = true;
	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (cg->fd < 0)
		return errmsg(err, errlen, -errno, "open %s: %s", cg->path, strerror(errno));
	int rc = cgroup_id_of(cg->path, &cg->cgid);
	if (rc < 0)
		return errmsg(err, errlen, rc, "cgroup id of %s: %s", cg->path, strerror(-rc));
	return 0;
}

/* One controller's <ctrl>.max: written when the limit is set and the controller is
 * available; otherwise how says why nothing enforces it. 1 written, 0 not, or -errno. */
static int write_ctrl_max(const struct sandbox_cgroup *cg, const char *ctrls, const char *ctrl,
			  bool set, uint64_t value, char *how, size_t howlen, char *err, size_t errlen)
{
	if (!set) {
		snprintf(how, howlen, "no limit set");
		return 0;
	}
	if (!has_word(ctrls, ctrl)) {
		snprintf(how, howlen,
			 "not enforced: the %s controller is not available in the cgroup v2 hierarchy", ctrl);
		return 0;
	}
	char file[32], v[32];
	snprintf(file, sizeof(file), "%s.max", ctrl);
	snprintf(v, sizeof(v), "%" PRIu64, value);
	int rc = write_str(cg->fd, file, v);
	if (rc < 0)
		return errmsg(err, errlen, rc, "%s/%s: %s", cg->path, file, strerror(-rc));
	return 1;
}

int sandbox_cgroup_limits(struct sandbox_cgroup *cg, const struct limits *l,
			  struct sandbox_cg_limits *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	char ctrls[512] = "";
	fileio_read_small_at(cg->fd, "cgroup.controllers", ctrls, sizeof(ctrls));
	uint64_t dummy;
	out->cpu_stat = keyed_value(cg->fd, "cpu.stat", "usage_usec", &dummy) == 0;

	int rc = write_ctrl_max(cg, ctrls, "memory", l->set[LIMIT_MEM], l->v[LIMIT_MEM], out->mem_how,
				sizeof(out->mem_how), err, errlen);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		/* Without this the limit could be dodged by swapping. Absent without swap
		 * accounting: then there is nothing to dodge with. */
		rc = write_str(cg->fd, "memory.swap.max", "0");
		if (rc < 0 && rc != -ENOENT)
			return errmsg(err, errlen, rc, "%s/memory.swap.max: %s", cg->path, strerror(-rc));
		out->mem = true;
		snprintf(out->mem_how, sizeof(out->mem_how), "cgroup v2 memory.max (OOM kill on excess)");
	}
	rc = write_ctrl_max(cg, ctrls, "pids", l->set[LIMIT_PIDS], l->v[LIMIT_PIDS], out->pids_how,
			    sizeof(out->pids_how), err, errlen);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		out->pids = true;
		snprintf(out->pids_how, sizeof(out->pids_how), "cgroup v2 pids.max (fork fails with EAGAIN)");
	}
	return 0;
}

/* SIGKILL every pid in cgroup.procs of dirfd and of its descendants. */
static void kill_listed(int dirfd, int depth)
{
	char buf[65536];
	int n = fileio_read_small_at(dirfd, "cgroup.procs", buf, sizeof(buf));
	if (n > 0) {
		for (char *p = buf; *p; ) {
			char *end;
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			p = end;
			while (*p == '\n')
				p++;
		}
	}
	if (depth > 32)
		return;
	DIR *d = fileio_fdopendir_dup(dirfd);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		int cfd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (cfd >= 0) {
			kill_listed(cfd, depth + 1);
			close(cfd);
		}
	}
	closedir(d);
}

int sandbox_cgroup_kill(struct sandbox_cgroup *cg)
{
	if (cg->fd < 0)
		return 0;
	int rc = write_str(cg->fd, "cgroup.kill", "1");
	if (rc == 0)
		return 0;
	/* Kernels before 5.14 have no cgroup.kill: kill what is listed (repeated by the
	 * waiter until the cgroup is empty, since a fork can race the listing). */
	kill_listed(cg->fd, 0);
	return 0;
}

int sandbox_cgroup_populated(struct sandbox_cgroup *cg)
{
	uint64_t v;
	int rc = keyed_value(cg->fd, "cgroup.events", "populated", &v);
	if (rc < 0)
		return rc;
	return v ? 1 : 0;
}

int sandbox_cgroup_wait_empty(struct sandbox_cgroup *cg, int timeout_ms)
{
	if (cg->fd < 0)
		return 0;
	int efd = openat(cg->fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	int64_t deadline = mono_ms() + timeout_ms;
	int rc;
	for (;;) {
		rc = sandbox_cgroup_populated(cg);
		if (rc <= 0)
			break;
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			rc = -ETIMEDOUT;
			break;
		}
		/* cgroup.events signals POLLPRI on change; wake every 100 ms anyway to kill
		 * again (fallback kill path, or a task forked while being killed). */
		if (efd >= 0) {
			struct pollfd p = { .fd = efd, .events = POLLPRI };
			poll(&p, 1, left < 100 ? (int)left : 100);
		} else {
			usleep(10000);
		}
		sandbox_cgroup_kill(cg);
	}
	if (efd >= 0)
		close(efd);
	return rc < 0 ? rc : 0;
}

int sandbox_cgroup_cpu_usec(struct sandbox_cgroup *cg, uint64_t *usec)
{
	return keyed_value(cg->fd, "cpu.stat", "usage_usec", usec);
}

void sandbox_cgroup_violations(struct sandbox_cgroup *cg, uint64_t *oom_kills, uint64_t *pids_max)
{
	*oom_kills = *pids_max = 0;
	if (cg->fd < 0)
		return;
	keyed_value(cg->fd, "memory.events", "oom_kill", oom_kills);
	keyed_value(cg->fd, "pids.events", "max", pids_max);
}

/* rmdir every descendant cgroup of dirfd, deepest first. */
static int rmdir_children(int dirfd, int depth)
{
	if (depth > 64)
		return -ELOOP;
	DIR *d = fileio_fdopendir_dup(dirfd);
	if (!d)
		return -errno;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		int cfd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (cfd < 0)
			continue;
		int r = rmdir_children(cfd, depth + 1);
		close(cfd);
		if (!r && unlinkat(dirfd, e->d_name, AT_REMOVEDIR) < 0)
			r = -errno;
		if (r && !rc)
			rc = r;
	}
	closedir(d);
	return rc;
}

int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, char *err, size_t errlen)
{
	if (cg->fd < 0 && !cg->created)
		return 0;
	int rc = 0;
	if (cg->fd >= 0) {
		sandbox_cgroup_kill(cg);
		rc = sandbox_cgroup_wait_empty(cg, 5000);
		if (rc < 0)
			errmsg(err, errlen, rc, "%s: tasks still present after kill", cg->path);
		int r = rmdir_children(cg->fd, 0);
		if (r < 0 && !rc)
			rc = errmsg(err, errlen, r, "%s: removing child cgroups: %s", cg->path, strerror(-r));
		close(cg->fd);
		cg->fd = -1;
	}
	if (cg->created) {
		int r = cgroup_rmdir(cg->path);
		if (r < 0)
			return errmsg(err, errlen, r, "rmdir %s: %s", cg->path, strerror(-r));
		cg->created = false;
	}
	return rc;
}

/* ---- child ---- */

const char *sandbox_stage_name(int stage)
{
	switch (stage) {
	case SB_STAGE_SETUP: return "setting up the child";
	case SB_STAGE_CREDS: return "dropping privileges";
	case SB_STAGE_NNP: return "setting no_new_privs";
	case SB_STAGE_CONFINE: return "applying the confinement";
	case SB_STAGE_EXEC: return "exec";
	case SB_STAGE_SYNC: return "waiting to be moved into the cgroup";
	case SB_STAGE_LIVE: return "verifying that the enforcer sees the sandbox";
	default: return "starting";
	}
}

int sandbox_child_confine(const struct sandbox_confine *c)
{
	if (!c || !c->landlock)
		return 0;   /* bpf-lsm: the programs attached to the cgroup already confine us */
	return landlock_apply(c->landlock);
}

struct child_fds {
	int devnull, out, err, status, sync, go;
	/* The runner's ends of those pipes, closed first thing in the child: while the child
	 * holds the status pipe's read end the pipe never reports the runner gone (POLLERR),
	 * and while it holds the go pipe's write end a runner that died never gives it EOF. */
	int parent_ends[5];
};

/* What a command running as uid 0 keeps: file ownership and permission overrides,
 * signals, changing its own ids, low ports (Docker's default set, less what the enforcer
 * cannot mediate or what reaches the host: NET_RAW, MKNOD, SYS_CHROOT, SETPCAP, SETFCAP,
 * AUDIT_WRITE). Everything else (SYS_MODULE: init_module() from memory, SYS_ADMIN,
 * SYS_BOOT, SYS_TIME, SYS_RAWIO, BPF, NET_ADMIN, DAC_READ_SEARCH: open_by_handle_at, ...)
 * is beyond what any LSM hook here decides, so it is dropped from the bounding set: no
 * exec, not even uid 0's, gets it back. */
#define CAP_KEEP ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | \
		  (1ULL << CAP_FSETID) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | \
		  (1ULL << CAP_SETUID) | (1ULL << CAP_NET_BIND_SERVICE))

/* Before the uid change (PR_CAPBSET_DROP needs CAP_SETPCAP). Async-signal-safe. */
static int caps_drop_bounding(void)
{
	for (int c = 0; c < 64; c++) {
		if (CAP_KEEP & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;   /* past the kernel's last capability */
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

/* After the uid change: the sets themselves (the uid change already emptied them unless
 * the command runs as uid 0), inheritable emptied. */
static int caps_limit(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t keep = (uint32_t)(CAP_KEEP >> (32 * i));
		d[i].effective &= keep;
		d[i].permitted &= keep;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#define X32_SYSCALL_BIT 0x40000000U

/* clone3 fails ENOSYS (libcs fall back to clone): CLONE_INTO_CGROUP takes an O_PATH
 * descriptor of any cgroup directory (no file_open hook, no Landlock right), and the
 * kernel then checks only write permission on the common ancestor's cgroup.procs, which
 * uid 0 owns. A command running as root would start children outside its sandbox
 * cgroup, out of the scope of every BPF program. Seccomp cannot look into clone3's
 * arguments, so the whole call goes. x86-64 (also x32) and i386 numbers. */
static int deny_clone3(void)
{
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 5, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3 | X32_SYSCALL_BIT, 4, 3),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 2),
		/* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* i386 clone3 */, 1, 0),
		/* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}

static __attribute__((noreturn)) void child_fail(int status_fd, int stage, int e)
{
	int msg[2] = { stage, e };
	ssize_t n = write(status_fd, msg, sizeof(msg));
	(void)n;
	_exit(127);
}

/* Runs between clone/fork and exec: only async-signal-safe calls, no allocation. */
static __attribute__((noreturn)) void child_main(const struct sandbox_spawn *s, struct child_fds f,
						 pid_t parent)
{
	for (size_t i = 0; i < sizeof(f.parent_ends) / sizeof(f.parent_ends[0]); i++)
		if (f.parent_ends[i] >= 0)
			close(f.parent_ends[i]);
	if (f.sync >= 0) {
		char go = 0;
		ssize_t n;
		do
			n = read(f.sync, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || go != 'g')
			_exit(127);   /* the parent could not move us into the cgroup */
	}
	if (f.go >= 0) {
		if (f.sync >= 0) {
			/* Moved after a plain fork, which the enforcer saw outside the cgroup:
			 * fork once from inside so that it reports a fork of this sandbox. Raw
			 * clone: no glibc fork machinery in a child of a raw clone3/fork. */
			pid_t g = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL, 0UL);
			if (g < 0)
				child_fail(f.status, SB_STAGE_LIVE, errno);
			if (g == 0)
				_exit(0);
			while (waitpid(g, NULL, 0) < 0 && errno == EINTR)
				;
		}
		/* No instruction of the command before the runner has seen the enforcer
		 * attribute this cgroup to the sandbox. */
		char go = 0;
		ssize_t n;
		do
			n = read(f.go, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || go != 'g')
			_exit(127);
	}
	/* Move the fds we keep above 2 first, so dup2 onto 0-2 cannot clobber one. */
	int dn = fcntl(f.devnull, F_DUPFD_CLOEXEC, 10);
	int o = fcntl(f.out, F_DUPFD_CLOEXEC, 10);
	int e = fcntl(f.err, F_DUPFD_CLOEXEC, 10);
	int st = fcntl(f.status, F_DUPFD_CLOEXEC, 10);
	if (dn < 0 || o < 0 || e < 0 || st < 0)
		child_fail(f.status, SB_STAGE_SETUP, errno);
	if (dup2(dn, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup3(st, 3, O_CLOEXEC) < 0)
		child_fail(st, SB_STAGE_SETUP, errno);
	st = 3;
	if (setsid() < 0)
		child_fail(st, SB_STAGE_SETUP, errno);

	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);   /* fails harmlessly for SIGKILL/SIGSTOP/RT */

	int r = caps_drop_bounding();
	if (r < 0)
		child_fail(st, SB_STAGE_CREDS, -r);
	/* uid 0 kept as is still sheds the runner's supplementary groups. */
	if ((s->drop_privs || s->uid == 0) && setgroups(0, NULL) < 0)
		child_fail(st, SB_STAGE_CREDS, errno);
	if (s->drop_privs) {
		if (setresgid(s->gid, s->gid, s->gid) < 0 || setresuid(s->uid, s->uid, s->uid) < 0)
			child_fail(st, SB_STAGE_CREDS, errno);
	}
	if ((r = caps_limit()) < 0)
		child_fail(st, SB_STAGE_CREDS, -r);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(st, SB_STAGE_NNP, errno);
	if ((r = deny_clone3()) < 0)
		child_fail(st, SB_STAGE_CONFINE, -r);
	/* After the credential change, which clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(st, SB_STAGE_SETUP, errno);
	/* The runner may have died before the death signal was armed. getppid() cannot
	 * tell inside a new PID namespace (it reads 0), but the status pipe can: the
	 * runner holds its only read end, so POLLERR means it is gone. */
	(void)parent;
	struct pollfd alive = { .fd = st, .events = POLLOUT };
	if (poll(&alive, 1, 0) < 0 || (alive.revents & POLLERR))
		_exit(127);
	int rc = sandbox_child_confine(s->confine);
	if (rc < 0)
		child_fail(st, SB_STAGE_CONFINE, -rc);
	/* Nothing of the runner's (enforcer, state dir, audit log) reaches the command.
	 * Only now: the confinement may have needed an fd of its own (Landlock ruleset). */
	if (close_range(4, ~0U, 0) < 0)
		child_fail(st, SB_STAGE_SETUP, errno);
	execve(s->path, s->argv, s->envp);
	child_fail(st, SB_STAGE_EXEC, errno);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* A started child that is not let go after all: kill and reap it, and forget it. */
static void child_discard(struct sandbox_child *c, pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->pid = -1;
}

int sandbox_spawn(const struct sandbox_spawn *s, struct sandbox_child *c, int *stage,
		  int *child_errno, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = c->out_fd = c->err_fd = -1;
	*stage = SB_STAGE_NONE;
	*child_errno = 0;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, stp[2] = { -1, -1 }, syncp[2] = { -1, -1 };
	int gop[2] = { -1, -1 };
	bool released = false;   /* live check passed: the child may exec */
	int pidfd_errno = 0;     /* why pidfd_open failed on the fork path, kept past later calls */
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int rc = 0;
	if (devnull < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(stp, O_CLOEXEC) < 0 || (s->live_check && pipe2(gop, O_CLOEXEC) < 0)) {
		rc = errmsg(err, errlen, -errno, "pipes: %s", strerror(errno));
		goto out;
	}
	pid_t parent = getpid();
	int pidfd = -1;
	struct clone_args ca = {
		.flags = CLONE_INTO_CGROUP | CLONE_PIDFD | (s->new_pidns ? CLONE_NEWPID : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)s->cgroup_fd,
	};
	struct child_fds f = { devnull, outp[1], errp[1], stp[1], -1, gop[0],
			       { outp[0], errp[0], stp[0], gop[1], -1 } };
	/* clone3 puts the child into the cgroup atomically: it never runs a single
	 * instruction outside the sandbox (THREATS: a fork racing the start). */
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		child_main(s, f, parent);
	if (pid > 0) {
		c->clone3 = true;
		c->pidns = s->new_pidns;
		c->pidfd = pidfd;
	} else {
		if (errno != ENOSYS && errno != EINVAL && errno != E2BIG && errno != EOPNOTSUPP) {
			rc = errmsg(err, errlen, -errno, "clone3: %s", strerror(errno));
			goto out;
		}
		/* Older kernel: fork, and the child waits until it has been moved. */
		if (pipe2(syncp, O_CLOEXEC) < 0) {
			rc = errmsg(err, errlen, -errno, "pipe: %s", strerror(errno));
			goto out;
		}
		f.sync = syncp[0];
		f.parent_ends[4] = syncp[1];
		pid = fork();
		if (pid < 0) {
			rc = errmsg(err, errlen, -errno, "fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0)
			child_main(s, f, parent);
		close(syncp[0]);
		syncp[0] = -1;
		c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		pidfd_errno = c->pidfd < 0 ? errno : 0;
		char buf[32];
		snprintf(buf, sizeof(buf), "%d", (int)pid);
		int r = write_str(s->cgroup_fd, "cgroup.procs", buf);
		if (r < 0) {
			child_discard(c, pid);
			rc = errmsg(err, errlen, r, "moving the child into the cgroup: %s", strerror(-r));
			goto out;
		}
		if (write(syncp[1], "g", 1) != 1) {
			int e = errno;
			child_discard(c, pid);
			rc = errmsg(err, errlen, -EIO, "releasing the child: %s", strerror(e));
			goto out;
		}
	}
	c->pid = pid;
	close(stp[1]);
	stp[1] = -1;
	close(outp[1]);
	outp[1] = -1;
	close(errp[1]);
	errp[1] = -1;

	if (s->live_check) {
		close(gop[0]);
		gop[0] = -1;
		int64_t deadline = mono_ms() + s->live_timeout_ms;
		int seen = 0;
		for (;;) {
			seen = s->live_check(s->live_ctx);
			if (seen != 0)
				break;
			/* The child failed before it got here: its report is on the status pipe. */
			struct pollfd sp = { .fd = stp[0], .events = POLLIN };
			if (poll(&sp, 1, 2) > 0)
				break;
			if (mono_ms() >= deadline) {
				seen = -ETIMEDOUT;
				break;
			}
		}
		if (seen < 0) {
			child_discard(c, pid);
			*stage = SB_STAGE_LIVE;
			*child_errno = -seen;
			rc = errmsg(err, errlen, seen, "%s: %s", sandbox_stage_name(SB_STAGE_LIVE),
				    seen == -ETIMEDOUT ? "the enforcer reported no fork of the sandbox's cgroup in time"
						     : strerror(-seen));
			goto out;
		}
		if (seen > 0 && write(gop[1], "g", 1) != 1) {
			int e = errno;
			child_discard(c, pid);
			rc = errmsg(err, errlen, -EIO, "releasing the child: %s", strerror(e));
			goto out;
		}
		released = seen > 0;
		/* Not released: the child failed or died first; the status read says how. */
		close(gop[1]);
		gop[1] = -1;
	}

	/* EOF without a message means execve succeeded (the pipe was CLOEXEC). */
	int msg[2];
	ssize_t n;
	do
		n = read(stp[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n == 0 && s->live_check && !released) {
		/* EOF without a message, but it was never let go: it died before exec. */
		msg[0] = SB_STAGE_LIVE;
		msg[1] = ECHILD;
		n = sizeof(msg);
	}
	if (n == (ssize_t)sizeof(msg) || n != 0) {
		*stage = n == (ssize_t)sizeof(msg) ? msg[0] : SB_STAGE_SETUP;
		*child_errno = n == (ssize_t)sizeof(msg) ? msg[1] : EIO;
		if (*stage == SB_STAGE_NONE)
			*stage = SB_STAGE_SETUP;
		waitpid(pid, NULL, 0);
		if (c->pidfd >= 0)
			close(c->pidfd);
		c->pidfd = -1;
		c->pid = -1;
		rc = errmsg(err, errlen, -(*child_errno ? *child_errno : EIO), "%s: %s",
			    sandbox_stage_name(*stage), strerror(*child_errno ? *child_errno : EIO));
		goto out;
	}
	if (c->pidfd < 0) {
		/* A waitable fd is how the runner's poll loop sees the exit; without it the
		 * runner cannot supervise the child. */
		child_discard(c, pid);
		rc = errmsg(err, errlen, -ENOSYS, "pidfd_open: %s", strerror(pidfd_errno));
		goto out;
	}
	c->out_fd = outp[0];
	c->err_fd = errp[0];
	outp[0] = errp[0] = -1;
out:
	close_pair(outp);
	close_pair(errp);
	close_pair(stp);
	close_pair(syncp);
	close_pair(gop);
	if (devnull >= 0)
		close(devnull);
	return rc;
}

/* ---- sweeping what killed runners left ---- */

/* Unpins the links of the runner named name: counts a pin directory removed, keeps the
 * first error in rc and err. */
static void unpin_counted(const char *name, unsigned *unpinned, int *rc, char *err, size_t errlen)
{
	char why[PATH_MAX + 128];
	int r = enforcer_unpin_name(name, why, sizeof(why));
	if (r < 0) {
		if (!*rc)
			*rc = errmsg(err, errlen, r, "%s", why);
	} else if (r > 0) {
		(*unpinned)++;
	}
}

/* Pin directories whose runner parent cgroup is gone. shared_fd: <mount>/calyx, or -1
 * when it does not exist (then no runner parent exists either). */
static int sweep_orphan_pins(int shared_fd, unsigned *unpinned, char *err, size_t errlen)
{
	DIR *d = opendir(ENFORCER_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : errmsg(err, errlen, -errno, "%s: %s", ENFORCER_PIN_ROOT, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		/* Its runner made the parent first and removes it last: a pin directory
		 * without one has no live runner. */
		if (shared_fd >= 0 && (faccessat(shared_fd, e->d_name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
				       errno != ENOENT))
			continue;
		unpin_counted(e->d_name, unpinned, &rc, err, errlen);
	}
	closedir(d);
	return rc;
}

int sandbox_sweep_stale(const char *mount, unsigned *removed, unsigned *unpinned, char *err,
			size_t errlen)
{
	*removed = 0;
	*unpinned = 0;
	if (err && errlen)
		err[0] = '\0';
	char shared[PATH_MAX];
	snprintf(shared, sizeof(shared), "%s/%s", mount, SANDBOX_PARENT_NAME);
	if (access(shared, F_OK) < 0 && errno == ENOENT)
		return sweep_orphan_pins(-1, unpinned, err, errlen);   /* no runner parent exists */
	int sfd = shared_open_locked(mount, false, err, errlen);
	if (sfd < 0)
		return sfd;
	DIR *d = fileio_fdopendir_dup(sfd);
	if (!d) {
		int e = errno;
		close(sfd);
		return errmsg(err, errlen, -e, "%s: %s", shared, strerror(e));
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		struct sandbox_cgroup cg;
		memset(&cg, 0, sizeof(cg));
		if (snprintf(cg.path, sizeof(cg.path), "%s/%s", shared, e->d_name) >= (int)sizeof(cg.path))
			continue;
		cg.fd = openat(sfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (cg.fd < 0)
			continue;
		/* A live runner holds this lock for as long as it lives. */
		if (flock(cg.fd, LOCK_EX | LOCK_NB) < 0) {
			close(cg.fd);
			continue;
		}
		cg.created = true;
		/* cgroup.kill on the runner's parent kills its whole subtree (PID namespace
		 * init and PR_SET_PDEATHSIG have normally done that already). destroy drops
		 * the directory's lock before its rmdir; the shared lock we hold keeps every
		 * other sweeper and every starting runner out meanwhile. */
		char why[PATH_MAX + 128];
		int r = sandbox_cgroup_destroy(&cg, why, sizeof(why));
		if (cg.fd >= 0)
			close(cg.fd);
		if (r < 0) {
			/* Not empty (or not removable): its pinned programs stay to confine
			 * what is left; the next sweep tries again. */
			if (!rc)
				rc = errmsg(err, errlen, r, "%s", why);
			continue;
		}
		(*removed)++;
		/* Empty and removed: now its links may go. */
		unpin_counted(e->d_name, unpinned, &rc, err, errlen);
	}
	closedir(d);
	int r = sweep_orphan_pins(sfd, unpinned, err && !rc ? err : NULL, err && !rc ? errlen : 0);
	if (r < 0 && !rc)
		rc = r;
	close(sfd);
	return rc;
}
