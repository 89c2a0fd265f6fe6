/* The sandbox's cgroup v1 directories on a hybrid host (see cgroup_v1.h). */
#include "sandbox/cgroup_v1.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cgroupfs.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/mountinfo.h"

static const char *const names[CG1_COUNT] = { "memory", "pids" };

const char *cgroup_v1_name(enum cgroup_v1_ctrl c)
{
	return (unsigned)c < CG1_COUNT ? names[c] : "?";
}

struct own_find {
	const char *ctrl;
	char *path;
	size_t len;
};

/* /proc/self/cgroup's line "N:a,b,ctrl:PATH" for ctrl: 1 with the path taken, 0 another. */
static int own_line(char *line, void *ctx)
{
	struct own_find *q = ctx;
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2)
		return 0;
	*c2 = '\0';
	char *save = NULL;
	for (char *t = strtok_r(c1 + 1, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, q->ctrl) != 0)
			continue;
		char *p = c2 + 1;
		p[strcspn(p, "\n")] = '\0';
		return snprintf(q->path, q->len, "%s", p) >= (int)q->len ? -ENAMETOOLONG : 1;
	}
	return 0;
}

/* The path /proc/self/cgroup names for ctrl. 0, -ENOENT, -errno. */
static int own_path(const char *ctrl, char *path, size_t len)
{
	struct own_find q = { ctrl, path, len };
	int rc = fileio_each_line("/proc/self/cgroup", own_line, &q);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

int cgroup_v1_own_dir(enum cgroup_v1_ctrl c, char *dir, size_t len, char *err, size_t errlen)
{
	const char *ctrl = cgroup_v1_name(c);
	char root[PATH_MAX], mnt[PATH_MAX], own[PATH_MAX];
	int rc = mountinfo_cgroup1_mount(ctrl, root, sizeof(root), mnt, sizeof(mnt));
	if (rc == -ENOENT)
		return errmsg(err, errlen, rc, "no cgroup v1 %s hierarchy is mounted", ctrl);
	if (rc < 0)
		return errmsg(err, errlen, rc, "/proc/self/mountinfo: %s", strerror(-rc));
	if ((rc = own_path(ctrl, own, sizeof(own))) < 0)
		return errmsg(err, errlen, rc, "/proc/self/cgroup names no %s cgroup: %s", ctrl,
			      rc == -ENOENT ? "not in that hierarchy" : strerror(-rc));
	/* The mount shows the hierarchy from root on: our cgroup must lie at or below it. */
	size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if (rl && (strncmp(own, root, rl) != 0 || (own[rl] != '/' && own[rl] != '\0')))
		return errmsg(err, errlen, -ENOENT, "the cgroup v1 %s mount at %s shows %s, not our cgroup %s",
			      ctrl, mnt, root, own);
	const char *rest = own + rl;
	if (strcmp(rest, "/") == 0)
		rest = "";
	if (snprintf(dir, len, "%s%s", mnt, rest) >= (int)len)
		return errmsg(err, errlen, -ENAMETOOLONG, "%s%s: path too long", mnt, rest);
	return 0;
}

int cgroup_v1_set_root(enum cgroup_v1_ctrl c, const char *backend, bool make, char *dir, size_t len,
		       char *err, size_t errlen)
{
	char own[PATH_MAX], rel[64];
	int rc = cgroup_v1_own_dir(c, own, sizeof(own), err, errlen);
	if (rc < 0)
		return rc;
	snprintf(rel, sizeof(rel), "calyx/%s", backend);
	if (snprintf(dir, len, "%s/%s", own, rel) >= (int)len)
		return errmsg(err, errlen, -ENAMETOOLONG, "%s/%s: path too long", own, rel);
	if (!make)
		return 0;
	int fd;
	/* cgroupfs_mkdir_delegated's controller enabling reads v2 files: a no-op here. */
	rc = cgroupfs_mkdir_delegated(own, rel, &fd, err, errlen);
	if (rc < 0)
		return rc;
	close(fd);
	return 0;
}

bool cgroup_v1_has_memsw(const char *dir)
{
	char f[PATH_MAX + 40];
	snprintf(f, sizeof(f), "%s/memory.memsw.limit_in_bytes", dir);
	return access(f, F_OK) == 0;
}

static int write_u64(int dirfd, const char *path, const char *file, uint64_t v, char *err, size_t errlen)
{
	char s[32];
	snprintf(s, sizeof(s), "%" PRIu64, v);
	int rc = fileio_write_small_at(dirfd, file, s);
	if (rc < 0)
		return errmsg(err, errlen, rc, "%s/%s: %s", path, file, strerror(-rc));
	return 0;
}

int cgroup_v1_memory_limit(int dirfd, const char *path, uint64_t bytes, char *err, size_t errlen)
{
	/* memsw must stay >= the memory limit: memory first (a fresh cgroup has both
	 * unlimited), then memsw to the same bound. */
	int rc = write_u64(dirfd, path, "memory.limit_in_bytes", bytes, err, errlen);
	if (rc < 0)
		return rc;
	if (faccessat(dirfd, "memory.memsw.limit_in_bytes", F_OK, 0) == 0)
		rc = write_u64(dirfd, path, "memory.memsw.limit_in_bytes", bytes, err, errlen);
	return rc;
}

int cgroup_v1_pids_limit(int dirfd, const char *path, uint64_t n, char *err, size_t errlen)
{
	return write_u64(dirfd, path, "pids.max", n, err, errlen);
}
