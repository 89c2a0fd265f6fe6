/* Run artifacts: atomic writes, BLAKE2b hashes, capped logs, run directories. */
#include "state/artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"

int artifact_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
			  char *err, size_t errlen)
{
	char tmp[256];
	unsigned char rnd[6];
	if (sodium_init() < 0)
		return errmsg(err, errlen, -EIO, "libsodium init failed");
	randombytes_buf(rnd, sizeof(rnd));
	int n = snprintf(tmp, sizeof(tmp), ".%s.tmp-%02x%02x%02x%02x%02x%02x", name,
			 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	if (n < 0 || (size_t)n >= sizeof(tmp) || strchr(name, '/'))
		return errmsg(err, errlen, -EINVAL, "%s: bad artifact name", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s: create: %s", name, strerror(errno));
	int rc = fileio_write_all(fd, buf, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && renameat(dirfd, tmp, dirfd, name) < 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return errmsg(err, errlen, rc, "%s: %s", name, strerror(-rc));
	}
	/* The rename is only durable once the directory itself is synced. */
	if (fsync(dirfd) < 0)
		return errmsg(err, errlen, -errno, "%s: fsync dir: %s", name, strerror(errno));
	return 0;
}

int artifact_hash_fd(int fd, char hex[ARTIFACT_HASH_HEX + 1], uint64_t *bytes)
{
	crypto_generichash_state st;
	unsigned char h[crypto_generichash_BYTES];
	unsigned char buf[65536];
	uint64_t total = 0;
	if (sodium_init() < 0)
		return -EIO;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		crypto_generichash_update(&st, buf, (size_t)n);
		total += (uint64_t)n;
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(hex, ARTIFACT_HASH_HEX + 1, h, sizeof(h));
	if (bytes)
		*bytes = total;
	return 0;
}

int artifact_hash_file(int dirfd, const char *name, char hex[ARTIFACT_HASH_HEX + 1], uint64_t *bytes)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int rc = artifact_hash_fd(fd, hex, bytes);
	close(fd);
	return rc;
}

int capped_log_write(struct capped_log *c, const void *buf, size_t n)
{
	c->seen += n;
	size_t room = c->written >= c->cap ? 0 : (size_t)(c->cap - c->written);
	size_t take = n < room ? n : room;
	if (take < n)
		c->truncated = true;
	if (!take)
		return 0;
	int rc = fileio_write_all(c->fd, buf, take);
	if (rc < 0) {
		if (!c->werr)
			c->werr = -rc;
		return rc;
	}
	c->written += take;
	return 0;
}

int run_dir_create(int base_fd, const char *runs_dir, const char *final_name, struct run_dir *rd,
		   char *err, size_t errlen)
{
	memset(rd, 0, sizeof(*rd));
	rd->parent_fd = rd->fd = -1;
	if (!*final_name || strchr(final_name, '/') || final_name[0] == '.' ||
	    snprintf(rd->final_name, sizeof(rd->final_name), "%s", final_name) >= (int)sizeof(rd->final_name))
		return errmsg(err, errlen, -EINVAL, "%s: bad run directory name", final_name);
	snprintf(rd->tmp_name, sizeof(rd->tmp_name), ".%s.tmp-%d", final_name, (int)getpid());
	rd->parent_fd = safedir_openat(base_fd, runs_dir, O_RDONLY | O_DIRECTORY, 0);
	if (rd->parent_fd < 0)
		return errmsg(err, errlen, rd->parent_fd, "%s: %s", runs_dir, strerror(-rd->parent_fd));
	struct stat st;
	if (fstatat(rd->parent_fd, final_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return errmsg(err, errlen, -EEXIST, "%s/%s: already exists", runs_dir, final_name);
	if (mkdirat(rd->parent_fd, rd->tmp_name, 0750) < 0)
		return errmsg(err, errlen, -errno, "%s/%s: %s", runs_dir, rd->tmp_name, strerror(errno));
	rd->fd = openat(rd->parent_fd, rd->tmp_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (rd->fd < 0) {
		int e = errno;
		unlinkat(rd->parent_fd, rd->tmp_name, AT_REMOVEDIR);
		return errmsg(err, errlen, -e, "%s/%s: %s", runs_dir, rd->tmp_name, strerror(e));
	}
	return 0;
}

int run_dir_commit(struct run_dir *rd, char *err, size_t errlen)
{
	if (fsync(rd->fd) < 0)
		return errmsg(err, errlen, -errno, "fsync %s: %s", rd->tmp_name, strerror(errno));
	if (renameat2(rd->parent_fd, rd->tmp_name, rd->parent_fd, rd->final_name, RENAME_NOREPLACE) < 0)
		return errmsg(err, errlen, -errno, "rename %s to %s: %s", rd->tmp_name, rd->final_name,
			      strerror(errno));
	rd->committed = true;
	if (fsync(rd->parent_fd) < 0)
		return errmsg(err, errlen, -errno, "fsync run dir parent: %s", strerror(errno));
	return 0;
}

void run_dir_discard(struct run_dir *rd)
{
	if (rd->fd < 0 || rd->committed)
		return;
	DIR *d = fileio_fdopendir_dup(rd->fd);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(rd->fd, e->d_name, 0);
		closedir(d);
	}
	unlinkat(rd->parent_fd, rd->tmp_name, AT_REMOVEDIR);
}

void run_dir_close(struct run_dir *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	if (rd->parent_fd >= 0)
		close(rd->parent_fd);
	rd->fd = rd->parent_fd = -1;
}
