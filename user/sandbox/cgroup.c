/* The sandbox cgroup v2 directories: the runner's parent, the sandbox itself, its limits,
 * killing and removing it, and the sweep of what killed runners left (see cgroup.h). */
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "base/units.h"
#include "enforce/loader.h"

/* ---- small cgroupfs helpers ---- */

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
			int d = units_scan_u64(line + kl + 1, v);
			return d < 0 ? d : 0;
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
		(void)fileio_write_small_at(dirfd, "cgroup.subtree_control", req);
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

/* sandbox_cgroup2_root_mount's pick: the first cgroup2 mount showing the hierarchy root,
 * and the first one that does not (for the message when none does). */
struct root_scan {
	char *mount;
	size_t len;
	char first_mnt[256], first_root[256];
	char *err;
	size_t errlen;
	bool failed;            /* the callback's own error: err says it */
};

static int root_mount_of(const char *root, const char *mnt, void *ctx)
{
	struct root_scan *s = ctx;
	if (strcmp(root, "/") != 0) {
		if (!s->first_mnt[0]) {
			snprintf(s->first_mnt, sizeof(s->first_mnt), "%s", mnt);
			snprintf(s->first_root, sizeof(s->first_root), "%s", root);
		}
		return 0;
	}
	if (strlen(mnt) >= s->len) {
		s->failed = true;
		return errmsg(s->err, s->errlen, -ENAMETOOLONG, "cgroup v2 mount point too long: %s", mnt);
	}
	strcpy(s->mount, mnt);
	return 1;
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
	struct root_scan s = { .mount = mount, .len = len, .err = err, .errlen = errlen };
	int rc = mountinfo_each_cgroup2(root_mount_of, &s);
	if (rc == 1)
		return 0;
	if (rc < 0 && !s.failed)
		return errmsg(err, errlen, rc, "/proc/self/mountinfo: %s", strerror(-rc));
	if (rc < 0)
		return rc;
	if (s.first_mnt[0])
		return errmsg(err, errlen, -ENOTSUP,
			      "the cgroup v2 mount at %s shows %s of the hierarchy, not its root, and no other "
			      "v2 mount does: the cgroup level the BPF scope check needs cannot be known",
			      s.first_mnt, s.first_root);
	return errmsg(err, errlen, -ENOENT, "no cgroup v2 hierarchy mounted (/proc/self/mountinfo)");
}

int cgroup_id_of(const char *path, uint64_t *id)
{
	/* cgroup v2 ids are kernfs node ids; name_to_handle_at returns exactly that, and on
	 * 64-bit hosts it is also the directory's inode number (the fallback). */
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	int mount_id;
	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0 && h.fh.handle_bytes == 8) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	struct stat st;
	if (stat(path, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = (uint64_t)st.st_ino;
	return 0;
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
	rc = fileio_flock_timed(fd, SHARED_LOCK_MS);
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
	int rc = fileio_write_small_at(cg->fd, file, v);
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
		rc = fileio_write_small_at(cg->fd, "memory.swap.max", "0");
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
			uint64_t pid;
			int d = units_scan_u64(p, &pid);
			if (d <= 0)
				break;
			if (pid > 0 && pid <= INT32_MAX)
				kill((pid_t)pid, SIGKILL);
			p += d;
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
	int rc = fileio_write_small_at(cg->fd, "cgroup.kill", "1");
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
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int rc;
	for (;;) {
		rc = sandbox_cgroup_populated(cg);
		if (rc <= 0)
			break;
		int64_t left = deadline - clock_mono_ms();
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
