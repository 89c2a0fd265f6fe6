/* cgroup v2 directories, generically (cgroupfs.h). */
#include "base/cgroupfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/clock.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "base/units.h"

/* ------------------------------------------------------------------ the hierarchy */

/* cgroup2_root_mount's pick: the first cgroup2 mount showing the hierarchy root, and the
 * first one that does not (for the message when none does). */
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

int cgroup2_root_mount(char *mount, size_t len, char *err, size_t errlen)
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

/* ------------------------------------------------------------------ files */

int cgroupfs_open(const char *path, int *fd, char *err, size_t errlen)
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

bool cgroupfs_has_word(const char *list, const char *word)
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

int cgroupfs_keyed_value(int dirfd, const char *file, const char *key, uint64_t *v)
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

void cgroupfs_enable_controllers(int dirfd)
{
	char avail[512], on[512];
	if (fileio_read_small_at(dirfd, "cgroup.controllers", avail, sizeof(avail)) < 0)
		return;
	if (fileio_read_small_at(dirfd, "cgroup.subtree_control", on, sizeof(on)) < 0)
		return;
	static const char *const ctrls[] = { "memory", "pids" };
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		if (!cgroupfs_has_word(avail, ctrls[i]) || cgroupfs_has_word(on, ctrls[i]))
			continue;
		char req[32];
		snprintf(req, sizeof(req), "+%s", ctrls[i]);
		/* Best effort: a refusal (e.g. processes in a non-root parent) only means the
		 * limit is reported as not enforced by the cgroup. */
		(void)fileio_write_small_at(dirfd, "cgroup.subtree_control", req);
	}
}

void cgroupfs_enable_down(const char *mount, const char *dir)
{
	size_t ml = strlen(mount);
	char path[PATH_MAX];
	if (strncmp(dir, mount, ml) != 0 || (dir[ml] != '/' && dir[ml] != '\0') ||
	    snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return;
	int mfd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (mfd >= 0) {
		cgroupfs_enable_controllers(mfd);
		close(mfd);
	}
	for (char *p = path + ml; *p;) {
		char *slash = strchr(p + 1, '/');
		if (slash)
			*slash = '\0';
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			cgroupfs_enable_controllers(fd);
			close(fd);
		}
		if (!slash)
			return;
		*slash = '/';
		p = slash;
	}
}

int cgroupfs_mkdir_delegated(const char *mount, const char *rel, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	*fd = -1;
	if (!*rel || rel[0] == '/' || snprintf(path, sizeof(path), "%s/%s", mount, rel) >= (int)sizeof(path))
		return errmsg(err, errlen, -ENAMETOOLONG, "%s/%s: bad or too long cgroup path", mount, rel);
	int dfd, rc = cgroupfs_open(mount, &dfd, err, errlen);
	if (rc < 0)
		return rc;
	cgroupfs_enable_controllers(dfd);
	close(dfd);
	for (char *p = path + strlen(mount) + 1;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (mkdir(path, 0711) < 0 && errno != EEXIST)
			return errmsg(err, errlen, -errno, "mkdir %s: %s", path, strerror(errno));
		if ((rc = cgroupfs_open(path, &dfd, err, errlen)) < 0)
			return rc;
		/* Made 0755 by earlier versions: anyone could open it and hold its lock. */
		(void)fchmod(dfd, 0711);
		cgroupfs_enable_controllers(dfd);
		if (!slash) {
			*fd = dfd;
			return 0;
		}
		close(dfd);
		*slash = '/';
		p = slash + 1;
	}
}

/* ------------------------------------------------------------------ killing and removing */

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

int cgroupfs_kill(int dirfd)
{
	if (dirfd < 0)
		return 0;
	if (fileio_write_small_at(dirfd, "cgroup.kill", "1") == 0)
		return 0;
	/* Kernels before 5.14 have no cgroup.kill: kill what is listed (repeated by the
	 * waiter until the cgroup is empty, since a fork can race the listing). */
	kill_listed(dirfd, 0);
	return 0;
}

/* A cgroup v1 directory has no cgroup.events: 1 when a pid is listed in its cgroup.procs
 * or in a descendant's, 0 when none is, -errno. */
static int procs_listed(int dirfd, int depth)
{
	char buf[64];
	int n = fileio_read_small_at(dirfd, "cgroup.procs", buf, sizeof(buf));
	if (n < 0)
		return n;
	if (n > 0)
		return 1;
	if (depth > 32)
		return 0;
	DIR *d = fileio_fdopendir_dup(dirfd);
	if (!d)
		return -errno;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		int cfd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (cfd >= 0) {
			rc = procs_listed(cfd, depth + 1);
			close(cfd);
		}
	}
	closedir(d);
	return rc;
}

int cgroupfs_populated(int dirfd)
{
	uint64_t v;
	int rc = cgroupfs_keyed_value(dirfd, "cgroup.events", "populated", &v);
	if (rc == -ENOENT && faccessat(dirfd, "cgroup.events", F_OK, 0) < 0)
		return procs_listed(dirfd, 0);   /* a v1 hierarchy */
	if (rc < 0)
		return rc;
	return v ? 1 : 0;
}

int cgroupfs_wait_empty(int dirfd, int timeout_ms)
{
	if (dirfd < 0)
		return 0;
	_cleanup_close_ int efd = openat(dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
	int64_t deadline = clock_mono_ms() + timeout_ms;
	int rc;
	for (;;) {
		rc = cgroupfs_populated(dirfd);
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
		cgroupfs_kill(dirfd);
	}
	return rc < 0 ? rc : 0;
}

int cgroupfs_rmdir(const char *path)
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

int cgroupfs_destroy(int dirfd, const char *path, char *err, size_t errlen)
{
	cgroupfs_kill(dirfd);
	int rc = cgroupfs_wait_empty(dirfd, 5000);
	if (rc < 0)
		errmsg(err, errlen, rc, "%s: tasks still present after kill", path);
	int r = rmdir_children(dirfd, 0);
	if (r < 0 && !rc)
		rc = errmsg(err, errlen, r, "%s: removing child cgroups: %s", path, strerror(-r));
	r = cgroupfs_rmdir(path);
	if (r < 0 && !rc)
		rc = errmsg(err, errlen, r, "rmdir %s: %s", path, strerror(-r));
	return rc;
}

int cgroupfs_kill_path(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : cgroupfs_kill(fd);
}

int cgroupfs_populated_path(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : cgroupfs_populated(fd);
}

/* ------------------------------------------------------------------ owners */

static bool skipped(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!strcmp(name, *skip))
			return true;
	return false;
}

int cgroupfs_sweep_unlocked(int dirfd, const char *dir, const char *const *skip, unsigned *removed,
			    char *err, size_t errlen)
{
	*removed = 0;
	DIR *d = fileio_fdopendir_dup(dirfd);
	if (!d)
		return errmsg(err, errlen, -errno, "%s: %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		if (e->d_type != DT_DIR || e->d_name[0] == '.' || skipped(e->d_name, skip) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		_cleanup_close_ int cfd = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		/* A live owner holds this lock for as long as it lives. */
		if (cfd < 0 || flock(cfd, LOCK_EX | LOCK_NB) < 0)
			continue;
		/* cgroup.kill on it kills its whole subtree (PID namespace init and
		 * PR_SET_PDEATHSIG have normally done that already). */
		char why[PATH_MAX + 128];
		int r = cgroupfs_destroy(cfd, path, why, sizeof(why));
		if (r < 0) {
			/* Not empty (or not removable): the next sweep tries again. */
			if (!rc)
				rc = errmsg(err, errlen, r, "%s", why);
			continue;
		}
		(*removed)++;
	}
	closedir(d);
	return rc;
}

int cgroupfs_count_locked(const char *dir, bool lock_dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int rc = lock_dir ? fileio_flock_timed(dirfd(d), LOCK_EX, 30000) : 0;
	if (rc < 0) {
		closedir(d);
		return rc;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		_cleanup_close_ int cfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (cfd < 0)
			continue;
		if (flock(cfd, LOCK_EX | LOCK_NB) < 0)
			n += errno == EWOULDBLOCK;
		/* the close drops the lock we may have taken */
	}
	closedir(d);
	return n;
}
