/* Small file I/O helpers: see fileio.h. */
#include "base/fileio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/testhook.h"

int fileio_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	/* Every state file calyx writes (audit log, ledger, runner records, artifacts,
	 * checkpoints) is written here: the place a test build injects ENOSPC/EIO. */
	int fault = testhook_write_fault();
	if (fault)
		return fault;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fileio_write_small_at(int dirfd, const char *name, const char *s)
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

/* Up to cap - 1 bytes from fd to EOF, NUL-terminated. With more, one byte past them is
 * tried and *more says whether the file holds any. The count, or -errno. */
static ssize_t read_bounded(int fd, char *buf, size_t cap, bool *more)
{
	size_t n = 0;
	while (n < cap - 1) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (more) {
		*more = false;
		if (n == cap - 1) {
			char c;
			ssize_t r;
			do
				r = read(fd, &c, 1);
			while (r < 0 && errno == EINTR);
			if (r < 0)
				return -errno;
			*more = r > 0;
		}
	}
	return (ssize_t)n;
}

ssize_t fileio_read_all(int fd, char *buf, size_t cap)
{
	bool more;
	ssize_t n = read_bounded(fd, buf, cap, &more);
	return n >= 0 && more ? -EFBIG : n;
}

int fileio_read_small_at(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read_bounded(fd, buf, len, NULL);
	close(fd);
	return (int)n;
}

int fileio_read_line(const char *path, char *buf, size_t len)
{
	int n = fileio_read_small_at(AT_FDCWD, path, buf, len);
	if (n < 0)
		return n;
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

/* One directory of fileio_mkdir_p: made, or already there as a directory. */
static int mkdir_one(const char *p, mode_t mode)
{
	if (mkdir(p, mode) == 0)
		return 0;
	int e = errno;
	if (e != EEXIST)
		return -e;
	/* An existing non-directory (or dangling symlink) must not pass as the directory. */
	struct stat st;
	if (stat(p, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fileio_mkdir_p(const char *dir, mode_t mode)
{
	char path[PATH_MAX];
	if (!dir || !*dir)
		return -EINVAL;
	int n = snprintf(path, sizeof(path), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	/* Strip trailing slashes so the final mkdir sees a real name. */
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		if (p[-1] == '/')
			continue;  /* "a//b": the empty component was already made */
		*p = '\0';
		int rc = mkdir_one(path, mode);
		*p = '/';
		if (rc)
			return rc;
	}
	return mkdir_one(path, mode);
}

int fileio_flock_timed(int fd, int op, int timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (clock_mono_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

static void dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

int fileio_write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool replace,
		      char *err, size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int rc;

	if (!base[0]) {
		snprintf(err, errlen, "%s: not a file name", path);
		return -EINVAL;
	}
	dir_of(path, dir, sizeof(dir));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", path);
		return -ENAMETOOLONG;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = fileio_write_all(fd, data, len);
	if (rc == 0 && mode != 0600 && fchmod(fd, mode) < 0)
		rc = -errno;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	if (replace) {
		if (rename(tmp, path) < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
			unlink(tmp);
			return rc;
		}
	} else {
		/* link() never replaces: an existing file wins, atomically. */
		if (link(tmp, path) < 0) {
			rc = -errno;
			snprintf(err, errlen, rc == -EEXIST ? "%s already exists" : "cannot write %s: %s",
				 path, strerror(-rc));
			unlink(tmp);
			return rc;
		}
		unlink(tmp);
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		/* Without this the rename may not survive a crash. */
		if (fsync(dfd) < 0)
			rc = -errno;
		close(dfd);
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot sync %s: %s", dir, strerror(-rc));
		return rc;
	}
	return 0;
}

int fileio_each_line(const char *path, int (*fn)(char *line, void *ctx), void *ctx)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) > 0)
		rc = fn(line, ctx);
	free(line);
	fclose(f);
	return rc;
}

DIR *fileio_fdopendir_dup(int dirfd)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	/* The dup shares dirfd's file offset: an earlier walk of the same directory left it
	 * at the end, and this one would see nothing. */
	rewinddir(d);
	return d;
}

bool fileio_plain_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}
