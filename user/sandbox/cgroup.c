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

#include "base/cgroupfs.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "base/units.h"

#define SHARED_LOCK_MS 30000   /* a sweep may wait up to 5 s per stale sandbox to empty */

/* dir (a set root, or the old layout's shared directory), opened and locked: every maker
 * and sweeper of runner directories in it takes this lock. The fd or -errno. */
static int dir_open_locked(const char *dir, char *err, size_t errlen)
{
	int fd, rc = cgroupfs_open(dir, &fd, err, errlen);
	if (rc < 0)
		return rc;
	rc = fileio_flock_timed(fd, LOCK_EX, SHARED_LOCK_MS);
	if (rc < 0) {
		close(fd);
		return errmsg(err, errlen, rc, "lock %s: %s", dir, rc == -ETIMEDOUT ? "held too long by another process" : strerror(-rc));
	}
	return fd;
}

int sandbox_parent_create(const char *set_root, const char *name, struct sandbox_parent *p,
			  char *err, size_t errlen)
{
	int fd, rc;
	memset(p, 0, sizeof(*p));
	p->lock_fd = -1;
	if (strchr(name, '/') || name[0] == '.' ||
	    snprintf(p->path, sizeof(p->path), "%s/%s", set_root, name) >= (int)sizeof(p->path))
		return errmsg(err, errlen, -ENAMETOOLONG, "%s: bad or too long cgroup path", set_root);
	_cleanup_close_ int shared = dir_open_locked(set_root, err, errlen);
	if (shared < 0)
		return shared;
	/* 0711: only root can open it, so nobody else can hold its lock and keep a dead
	 * runner's directory from being swept. */
	if (mkdir(p->path, 0711) < 0)
		return errmsg(err, errlen, -errno, "mkdir %s: %s", p->path, strerror(errno));
	p->created = true;
	if ((rc = cgroupfs_open(p->path, &fd, err, errlen)) < 0)
		return rc;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errmsg(err, errlen, -errno, "lock %s: %s", p->path, strerror(errno));
		close(fd);
		return rc;
	}
	p->lock_fd = fd;
	p->has_lock = true;
	cgroupfs_enable_controllers(fd);
	rc = cgroup_id_of(p->path, &p->cgid);
	if (rc < 0)
		return errmsg(err, errlen, rc, "cgroup id of %s: %s", p->path, strerror(-rc));
	return 0;   /* the close of `shared` releases its lock: ours is locked by now */
}

int sandbox_parent_remove(struct sandbox_parent *p, char *err, size_t errlen)
{
	int r = 0;
	if (p->created) {
		r = cgroupfs_rmdir(p->path);
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
	if (!cgroupfs_has_word(ctrls, ctrl)) {
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
	out->cpu_stat = cgroupfs_keyed_value(cg->fd, "cpu.stat", "usage_usec", &dummy) == 0;

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
		/* One OOM kill takes the whole cgroup (4.19+): a tree cannot survive by
		 * sacrificing one process. The runner kills the rest anyway (cgroup.kill). */
		rc = fileio_write_small_at(cg->fd, "memory.oom.group", "1");
		if (rc < 0 && rc != -ENOENT)
			return errmsg(err, errlen, rc, "%s/memory.oom.group: %s", cg->path, strerror(-rc));
		out->mem = true;
		snprintf(out->mem_how, sizeof(out->mem_how), "cgroup v2 memory.max (OOM kill of the whole cgroup on excess)");
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

int sandbox_cgroup_kill(struct sandbox_cgroup *cg)
{
	return cgroupfs_kill(cg->fd);
}

int sandbox_cgroup_populated(struct sandbox_cgroup *cg)
{
	return cgroupfs_populated(cg->fd);
}

int sandbox_cgroup_wait_empty(struct sandbox_cgroup *cg, int timeout_ms)
{
	return cgroupfs_wait_empty(cg->fd, timeout_ms);
}

int sandbox_cgroup_cpu_usec(struct sandbox_cgroup *cg, uint64_t *usec)
{
	return cgroupfs_keyed_value(cg->fd, "cpu.stat", "usage_usec", usec);
}

int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, char *err, size_t errlen)
{
	if (cg->fd < 0 && !cg->created)
		return 0;
	int rc = 0;
	if (cg->fd >= 0 && cg->created) {
		rc = cgroupfs_destroy(cg->fd, cg->path, err, errlen);
		if (rc == 0)
			cg->created = false;
	} else if (cg->created) {
		rc = cgroupfs_rmdir(cg->path);
		if (rc < 0)
			errmsg(err, errlen, rc, "rmdir %s: %s", cg->path, strerror(-rc));
		else
			cg->created = false;
	} else {
		cgroupfs_kill(cg->fd);
		rc = cgroupfs_wait_empty(cg->fd, 5000);
	}
	if (cg->fd >= 0) {
		close(cg->fd);
		cg->fd = -1;
	}
	return rc;
}

/* ---- sweeping what killed runners left ---- */

int sandbox_sweep_stale(const char *dir, const char *const *skip, unsigned *removed, char *err,
			size_t errlen)
{
	*removed = 0;
	if (err && errlen)
		err[0] = '\0';
	if (access(dir, F_OK) < 0 && errno == ENOENT)
		return 0;   /* no runner directory exists */
	_cleanup_close_ int fd = dir_open_locked(dir, err, errlen);
	if (fd < 0)
		return fd;
	return cgroupfs_sweep_unlocked(fd, dir, skip, removed, err, errlen);
}
