/* Symlink-free opens beneath a directory fd: see safedir.h. */
#include "base/safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

#define SAFEDIR_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

static bool force_walk;
/* -1: not known yet, 0: the kernel lacks openat2 (ENOSYS), 1: it has it. */
static int have_openat2 = -1;

void safedir_force_walk(bool on)
{
	force_walk = on;
}

/* A relative path of plain components: no leading '/', no "", ".", "..". */
static int rel_check(const char *rel)
{
	if (!rel || !*rel)
		return -EINVAL;
	if (rel[0] == '/')
		return -EXDEV;
	for (const char *p = rel; *p; ) {
		const char *q = strchr(p, '/');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			return -EINVAL;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -EXDEV;
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		p += n + (q ? 1 : 0);
	}
	return 0;
}

/* A symlink where a directory was wanted is ELOOP, whatever open said (ENOTDIR). */
static int link_or_errno(int dirfd, const char *name, int e)
{
	struct stat st;
	if (e == ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return -e;
}

/* O_NOFOLLOW on a symlink gives ELOOP, or with O_PATH an fd of the link itself: refuse it. */
static int open_last(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return link_or_errno(dirfd, name, errno);
	struct stat st;
	if ((flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		close(fd);
		return -ELOOP;
	}
	return fd;
}

/* One component at a time, each directory opened O_NOFOLLOW | O_DIRECTORY (made first with
 * dir_mode when make_dirs, the last component too), else the last opened with flags: the
 * same outcome as openat2 with SAFEDIR_RESOLVE for plain components. */
static int walk(int dirfd, const char *rel, bool make_dirs, mode_t dir_mode, int flags, mode_t mode)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	int cur = dirfd;
	_cleanup_close_ int owned = -1;
	char *p = buf;
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		else if (!make_dirs)
			return open_last(cur, p, flags, mode);
		if (make_dirs && mkdirat(cur, p, dir_mode) < 0 && errno != EEXIST)
			return -errno;
		int next = openat(cur, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return link_or_errno(cur, p, errno);
		if (owned >= 0)
			close(owned);
		owned = cur = next;
		if (!slash)
			return TAKE_FD(owned);
		p = slash + 1;
	}
}

int safedir_openat(int dirfd, const char *rel, int flags, mode_t mode)
{
	int rc = rel_check(rel);
	if (rc < 0)
		return rc;
	if (!force_walk && have_openat2 != 0) {
		struct open_how how = {
			.flags = (unsigned)(flags | O_CLOEXEC),
			/* O_TMPFILE holds O_DIRECTORY: test it whole, or a directory open gets a mode (EINVAL). */
			.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
			.resolve = SAFEDIR_RESOLVE,
		};
		/* openat2 alone does not refuse a symlink as the last component: O_NOFOLLOW
		 * does (ELOOP), and keeps the same outcome as the walk. */
		how.flags |= O_NOFOLLOW;
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		struct stat st;
		if (fd >= 0) {
			have_openat2 = 1;
			if (!(flags & O_PATH) || fstat((int)fd, &st) < 0 || !S_ISLNK(st.st_mode))
				return (int)fd;
			close((int)fd);
			return -ELOOP;
		}
		/* ENOTDIR may be a symlink where a directory was wanted: the walk says which. */
		if (errno != ENOSYS && errno != ENOTDIR)
			return -errno;
		if (errno == ENOSYS)
			have_openat2 = 0;
	}
	return walk(dirfd, rel, false, 0, flags, mode);
}

int safedir_mkdirs(int dirfd, const char *rel, mode_t mode)
{
	int rc = rel_check(rel);
	return rc < 0 ? rc : walk(dirfd, rel, true, mode, 0, 0);
}

static int check_one(const struct stat *st, const char *path, bool self, char *why, size_t whylen)
{
	if (!S_ISDIR(st->st_mode)) {
		snprintf(why, whylen, "%s is not a directory", path);
		return -ENOTDIR;
	}
	if (st->st_uid != 0) {
		snprintf(why, whylen, "%s is owned by uid %u, not root", path, (unsigned)st->st_uid);
		return -EPERM;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && (self || !(st->st_mode & S_ISVTX))) {
		snprintf(why, whylen, "%s is %s-writable%s (mode %04o)", path,
			 (st->st_mode & S_IWOTH) ? "world" : "group", self ? "" : " without the sticky bit",
			 (unsigned)(st->st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

int safedir_check_root_only(int fd, const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	int rc = check_one(&st, path, true, why, whylen);
	if (rc < 0)
		return rc;
	/* The directories above: whoever can rename in one of them decides what path names. */
	char up[PATH_MAX];
	if (path[0] != '/' || snprintf(up, sizeof(up), "%s", path) >= (int)sizeof(up)) {
		snprintf(why, whylen, "%s: not a canonical absolute path", path);
		return -EINVAL;
	}
	for (;;) {
		char *slash = strrchr(up, '/');
		if (slash == up) {
			if (up[1] == '\0')
				return 0;
			up[1] = '\0';
		} else {
			*slash = '\0';
		}
		if (lstat(up, &st) < 0) {
			snprintf(why, whylen, "%s: %s", up, strerror(errno));
			return -errno;
		}
		if ((rc = check_one(&st, up, false, why, whylen)) < 0)
			return rc;
		if (!strcmp(up, "/"))
			return 0;
	}
}
