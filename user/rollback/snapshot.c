/* The walk of the rollback roots (rollback/snapshot.h). */
#include "rollback/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/errmsg.h"

void rb_root_parent(const char *root, char *buf, size_t len)
{
	snprintf(buf, len, "%s", root);
	char *s = strrchr(buf, '/');
	if (s == buf)
		buf[1] = '\0';
	else if (s)
		*s = '\0';
}

int rb_roots_add(struct rb_manifest *m, const char *const *paths, size_t n, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8];
	for (size_t i = 0; i < n; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s", paths[i]);
		size_t l = strlen(p);
		while (l > 1 && p[l - 1] == '/')
			p[--l] = '\0';
		errmsg_quote(q, sizeof(q), p, l);
		if (!rb_path_canonical(p))
			return errmsg(err, errlen, -EINVAL, "rollback: cannot snapshot '%s': not below /", q);
		bool covered = false;
		for (size_t k = 0; k < n && !covered; k++) {
			char o[PATH_MAX];
			snprintf(o, sizeof(o), "%s", paths[k]);
			size_t ol = strlen(o);
			while (ol > 1 && o[ol - 1] == '/')
				o[--ol] = '\0';
			/* inside another one, or the same one listed earlier */
			covered = rb_path_below(p, o) || (k < i && strcmp(p, o) == 0);
		}
		if (covered)
			continue;
		int rc = rb_manifest_add_root(m, p);
		if (rc < 0)
			return errmsg(err, errlen, rc, "rollback: more than %d :rw paths", RB_MAX_ROOTS);
	}
	return 0;
}

struct walk {
	struct rb_manifest *m;
	size_t root;
	unsigned flags;
	uint64_t max;
	const struct rb_sink *sink;
	char *err;
	size_t errlen;
};

static enum rb_type type_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return RB_FILE;
	case S_IFDIR: return RB_DIR;
	case S_IFLNK: return RB_SYMLINK;
	case S_IFIFO: return RB_FIFO;
	case S_IFCHR: return RB_CHR;
	case S_IFBLK: return RB_BLK;
	default: return RB_SOCK;
	}
}

static void hash_hex(const void *buf, size_t n, char hex[RB_HASH_HEX + 1])
{
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof(h), buf, n, NULL, 0);
	sodium_bin2hex(hex, RB_HASH_HEX + 1, h, sizeof(h));
}

static int count_bytes(struct walk *w, const char *path, uint64_t n)
{
	w->m->bytes += n;
	w->m->root_bytes[w->root] += n;
	if ((w->flags & RB_SNAP_HASH) && w->max && w->m->bytes > w->max)
		return errmsg(w->err, w->errlen, -EFBIG, "rollback: %s: the :rw paths hold more than %ju bytes",
			      path, (uintmax_t)w->max);
	return 0;
}

/* A regular file's contents: exactly the size fstat gave, hashed and given to the sink. */
static int read_file(struct walk *w, int dirfd, const char *name, const char *path, const struct stat *st,
		     size_t idx)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM)   /* O_NOATIME needs ownership or CAP_FOWNER */
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(w->err, w->errlen, -errno, "rollback: %s: %s", path, strerror(errno));
	_cleanup_close_ int f = fd;
	struct stat fs;
	if (fstat(f, &fs) < 0)
		return errmsg(w->err, w->errlen, -errno, "rollback: %s: %s", path, strerror(errno));
	if (fs.st_dev != st->st_dev || fs.st_ino != st->st_ino || !S_ISREG(fs.st_mode) || fs.st_size != st->st_size)
		return errmsg(w->err, w->errlen, -EAGAIN, "rollback: %s changed while it was read", path);
	int rc;
	if (w->sink && (rc = w->sink->entry(w->sink->ctx, &w->m->e[idx], w->err, w->errlen)) < 0)
		return rc;
	crypto_generichash_state hs;
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash_init(&hs, NULL, 0, sizeof(h));
	static unsigned char buf[1 << 16];
	uint64_t left = (uint64_t)st->st_size;
	while (left) {
		ssize_t n = read(f, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errmsg(w->err, w->errlen, -errno, "rollback: %s: %s", path, strerror(errno));
		if (n == 0)
			return errmsg(w->err, w->errlen, -EAGAIN, "rollback: %s shrank while it was read", path);
		crypto_generichash_update(&hs, buf, (size_t)n);
		if (w->sink && (rc = w->sink->data(w->sink->ctx, buf, (size_t)n, w->err, w->errlen)) < 0)
			return rc;
		left -= (uint64_t)n;
	}
	ssize_t more = read(f, buf, 1);
	if (more > 0)
		return errmsg(w->err, w->errlen, -EAGAIN, "rollback: %s grew while it was read", path);
	crypto_generichash_final(&hs, h, sizeof(h));
	sodium_bin2hex(w->m->e[idx].hash, RB_HASH_HEX + 1, h, sizeof(h));
	if (w->sink && (rc = w->sink->done(w->sink->ctx, w->err, w->errlen)) < 0)
		return rc;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int visit(struct walk *w, int dirfd, const char *name, const char *path, bool is_root);

/* A directory's entries, sorted, each visited through the directory's own fd. */
static int read_dir(struct walk *w, int dirfd, const char *name, const char *path, const struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errmsg(w->err, w->errlen, -errno, "rollback: %s: %s", path, strerror(errno));
	_cleanup_close_ int d = fd;
	struct stat ds;
	if (fstat(d, &ds) < 0 || ds.st_dev != st->st_dev || ds.st_ino != st->st_ino)
		return errmsg(w->err, w->errlen, -EAGAIN, "rollback: %s changed while it was read", path);
	int dfd = dup(d);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!dir) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return errmsg(w->err, w->errlen, -e, "rollback: %s: %s", path, strerror(e));
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(dir))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	if (!rc && errno)
		rc = -errno;
	closedir(dir);
	if (rc)
		errmsg(w->err, w->errlen, rc, "rollback: %s: %s", path, strerror(-rc));
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; !rc && i < n; i++) {
		char child[PATH_MAX];
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, names[i]) >= sizeof(child))
			rc = errmsg(w->err, w->errlen, -ENAMETOOLONG, "rollback: %s/%s: path too long", path, names[i]);
		else
			rc = visit(w, d, names[i], child, false);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int visit(struct walk *w, int dirfd, const char *name, const char *path, bool is_root)
{
	struct stat st;
	bool absent = false;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && !is_root)
			return 0;   /* gone since its directory was read: it is not there */
		if (errno != ENOENT)
			return errmsg(w->err, w->errlen, -errno, "rollback: %s: %s", path, strerror(errno));
		absent = true;
	}
	struct rb_entry *e = rb_manifest_add(w->m, path);
	if (!e)
		return errmsg(w->err, w->errlen, -ENOMEM, "rollback: %s: more than %u entries or out of memory",
			      path, RB_MAX_ENTRIES);
	size_t idx = (size_t)(e - w->m->e);
	if (absent) {
		e->type = RB_ABSENT;
		return 0;
	}
	e->type = type_of(st.st_mode);
	e->mode = st.st_mode & 07777;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->mtime_s = st.st_mtim.tv_sec;
	e->mtime_ns = st.st_mtim.tv_nsec;
	if (e->type == RB_CHR || e->type == RB_BLK)
		e->rdev = st.st_rdev;
	int rc;
	switch (e->type) {
	case RB_FILE:
		e->size = (uint64_t)st.st_size;
		if ((rc = count_bytes(w, path, e->size)) < 0)
			return rc;
		if (w->flags & RB_SNAP_HASH)
			return read_file(w, dirfd, name, path, &st, idx);
		return 0;
	case RB_SYMLINK: {
		char t[PATH_MAX + 1];
		ssize_t n = readlinkat(dirfd, name, t, sizeof(t));
		if (n < 0)
			return errmsg(w->err, w->errlen, -errno, "rollback: %s: %s", path, strerror(errno));
		if ((size_t)n >= sizeof(t) - 1)
			return errmsg(w->err, w->errlen, -ENAMETOOLONG, "rollback: %s: symlink target too long", path);
		t[n] = '\0';
		if (memchr(t, '\0', (size_t)n))
			return errmsg(w->err, w->errlen, -EINVAL, "rollback: %s: bad symlink", path);
		e = &w->m->e[idx];
		if (!(e->target = strdup(t)))
			return errmsg(w->err, w->errlen, -ENOMEM, "out of memory");
		e->size = (uint64_t)n;
		hash_hex(t, (size_t)n, e->hash);
		if ((rc = count_bytes(w, path, e->size)) < 0)
			return rc;
		break;
	}
	case RB_DIR:
		if (w->sink && (rc = w->sink->entry(w->sink->ctx, e, w->err, w->errlen)) < 0)
			return rc;
		return read_dir(w, dirfd, name, path, &st);
	default:
		break;
	}
	if (w->sink && (rc = w->sink->entry(w->sink->ctx, &w->m->e[idx], w->err, w->errlen)) < 0)
		return rc;
	return 0;
}

int rb_snapshot(struct rb_manifest *m, unsigned flags, uint64_t max_bytes, const struct rb_sink *sink,
		char *err, size_t errlen)
{
	if (sodium_init() < 0)
		return errmsg(err, errlen, -EIO, "libsodium initialisation failed");
	struct walk w = { .m = m, .flags = flags, .max = max_bytes, .sink = sink, .err = err, .errlen = errlen };
	m->bytes = 0;
	for (size_t r = 0; r < m->n_roots; r++) {
		m->root_bytes[r] = 0;
		char parent[PATH_MAX];
		rb_root_parent(m->roots[r], parent, sizeof(parent));
		const char *name = strrchr(m->roots[r], '/') + 1;
		int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 && errno == ENOENT) {
			/* Its parent is missing too: the root is absent. */
			struct rb_entry *e = rb_manifest_add(m, m->roots[r]);
			if (!e)
				return errmsg(err, errlen, -ENOMEM, "out of memory");
			e->type = RB_ABSENT;
			continue;
		}
		if (pfd < 0)
			return errmsg(err, errlen, -errno, "rollback: %s: %s", parent, strerror(errno));
		w.root = r;
		int rc = visit(&w, pfd, name, m->roots[r], true);
		close(pfd);
		if (rc < 0)
			return rc;
	}
	rb_manifest_sort(m);
	return 0;
}
