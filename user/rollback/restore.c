/* Restoring a tree from its pack and manifest (rollback/restore.h). */
#include "rollback/restore.h"

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
#include "base/safedir.h"
#include "base/testhook.h"
#include "rollback/pack.h"

/* ---- the pack against the manifest ---- */

int rb_pack_verify(int dirfd, const char *name, const struct rb_manifest *m, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8];
	struct rb_pack_reader *r;
	int rc = rb_pack_open(dirfd, name, &r, err, errlen);
	if (rc < 0)
		return rc;
	/* Which manifest entries the pack held, and the symlink members seen so far. */
	_cleanup_free_ unsigned char *seen = calloc(m->n ? m->n : 1, 1);
	_cleanup_free_ char **links = calloc(m->n ? m->n : 1, sizeof(char *));
	size_t n_links = 0;
	if (!seen || !links) {
		rb_pack_close(r);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	static unsigned char buf[1 << 16];
	struct rb_entry pe;
	while ((rc = rb_pack_next(r, &pe, err, errlen)) == 1) {
		errmsg_quote(q, sizeof(q), pe.path + 1, strlen(pe.path + 1));
		for (size_t i = 0; i < n_links; i++)
			if (rb_path_below(pe.path, links[i])) {
				rc = errmsg(err, errlen, -EINVAL, "member '%s' lies beneath the symlink member '%s': "
					    "restoring it would write through the link", q, links[i] + 1);
				goto out;
			}
		if (!rb_manifest_root_of(m, pe.path)) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s' lies outside the snapshotted paths", q);
			goto out;
		}
		const struct rb_entry *me = rb_manifest_find(m, pe.path);
		if (!me) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s' is not in the manifest", q);
			goto out;
		}
		size_t idx = (size_t)(me - m->e);
		if (seen[idx]) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s' is in the pack twice", q);
			goto out;
		}
		seen[idx] = 1;
		if (me->type != pe.type) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s' is a %s, the manifest says %s", q,
				    rb_type_name(pe.type), rb_type_name(me->type));
			goto out;
		}
		if (pe.type == RB_SYMLINK) {
			links[n_links++] = me->path;
			if (strcmp(pe.target, me->target) != 0) {
				rc = errmsg(err, errlen, -EINVAL, "member '%s': its target differs from the manifest's", q);
				goto out;
			}
		}
		if (pe.type != RB_FILE)
			continue;
		if (pe.size != me->size) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s' holds %ju bytes, the manifest says %ju", q,
				    (uintmax_t)pe.size, (uintmax_t)me->size);
			goto out;
		}
		crypto_generichash_state hs;
		unsigned char h[crypto_generichash_BYTES];
		char hex[RB_HASH_HEX + 1];
		crypto_generichash_init(&hs, NULL, 0, sizeof(h));
		uint64_t got = 0;
		ssize_t k;
		while ((k = rb_pack_data(r, buf, sizeof(buf))) > 0) {
			crypto_generichash_update(&hs, buf, (size_t)k);
			got += (uint64_t)k;
		}
		if (k < 0 || got != me->size) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s': its contents are damaged or short", q);
			goto out;
		}
		crypto_generichash_final(&hs, h, sizeof(h));
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		if (strcmp(hex, me->hash) != 0) {
			rc = errmsg(err, errlen, -EINVAL, "member '%s': its contents differ from the manifest's hash", q);
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < m->n; i++)
		if (!seen[i] && m->e[i].type != RB_ABSENT && m->e[i].type != RB_SOCK) {
			errmsg_quote(q, sizeof(q), m->e[i].path, strlen(m->e[i].path));
			rc = errmsg(err, errlen, -EINVAL, "the pack lacks '%s', which the manifest lists", q);
			goto out;
		}
	rc = 0;
out:
	rb_pack_close(r);
	return rc;
}

/* ---- the restore ---- */

struct rctx {
	const struct rb_manifest *m;
	int pfd[RB_MAX_ROOTS];      /* each root's parent directory */
	size_t plen[RB_MAX_ROOTS];  /* the length of its path ("/" counts 0) */
	char *err;
	size_t errlen;
};

/* The directory holding path, opened beneath its root's parent without following any
 * symlink, and path's last component. The fd (close it) or -errno with err said. */
static int at(struct rctx *c, const char *path, const char **leaf)
{
	for (size_t i = 0; i < c->m->n_roots; i++) {
		const char *root = c->m->roots[i];
		if (strcmp(path, root) != 0 && !rb_path_below(path, root))
			continue;
		if (c->pfd[i] < 0)
			return errmsg(c->err, c->errlen, -ENOENT, "%s: the directory above %s is missing", path, root);
		const char *rel = path + c->plen[i] + 1;
		const char *slash = strrchr(rel, '/');
		if (!slash) {
			*leaf = rel;
			int fd = dup(c->pfd[i]);
			return fd >= 0 ? fd : errmsg(c->err, c->errlen, -errno, "%s: %s", path, strerror(errno));
		}
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
		*leaf = slash + 1;
		int fd = safedir_openat(c->pfd[i], dir, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0)
			return errmsg(c->err, c->errlen, fd, "%s: opening its directory without following links: %s", path,
				      strerror(-fd));
		return fd;
	}
	return errmsg(c->err, c->errlen, -EINVAL, "%s is outside the snapshotted paths", path);
}

/* Remove name in dirfd, a directory with everything in it; never through a symlink. */
static int remove_tree(int parent, const char *name, int depth)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (depth > 4096)
		return -ELOOP;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = remove_tree(dirfd(d), de->d_name, depth + 1);
	closedir(d);
	if (rc)
		return rc;
	return unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

static int remove_path(struct rctx *c, const char *path)
{
	const char *leaf;
	int fd = at(c, path, &leaf);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	int rc = remove_tree(fd, leaf, 0);
	close(fd);
	if (rc < 0)
		return errmsg(c->err, c->errlen, rc, "%s: removing it: %s", path, strerror(-rc));
	return 0;
}

static int set_times(struct rctx *c, int dirfd, const char *leaf, const struct rb_entry *e)
{
	struct timespec ts[2] = {
		{ .tv_sec = e->mtime_s, .tv_nsec = e->mtime_ns },
		{ .tv_sec = e->mtime_s, .tv_nsec = e->mtime_ns },
	};
	if (utimensat(dirfd, leaf, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return errmsg(c->err, c->errlen, -errno, "%s: setting its mtime: %s", e->path, strerror(errno));
	return 0;
}

/* Owner and mode (in that order: chown clears setuid/setgid) through an fd. */
static int set_owner_mode_fd(struct rctx *c, int fd, const struct rb_entry *e)
{
	if (fchown(fd, e->uid, e->gid) < 0)
		return errmsg(c->err, c->errlen, -errno, "%s: chown: %s", e->path, strerror(errno));
	if (fchmod(fd, e->mode) < 0)
		return errmsg(c->err, c->errlen, -errno, "%s: chmod: %s", e->path, strerror(errno));
	return 0;
}

static int restore_dir(struct rctx *c, const struct rb_entry *e)
{
	const char *leaf;
	_cleanup_close_ int pfd = at(c, e->path, &leaf);
	if (pfd < 0)
		return pfd;
	if (mkdirat(pfd, leaf, 0700) < 0 && errno != EEXIST)
		return errmsg(c->err, c->errlen, -errno, "%s: mkdir: %s", e->path, strerror(errno));
	_cleanup_close_ int fd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errmsg(c->err, c->errlen, -errno, "%s: %s", e->path, strerror(errno));
	return set_owner_mode_fd(c, fd, e);
}

/* A file whose contents are right: only its owner, mode and mtime. */
static int fix_file(struct rctx *c, const struct rb_entry *e)
{
	const char *leaf;
	_cleanup_close_ int pfd = at(c, e->path, &leaf);
	if (pfd < 0)
		return pfd;
	_cleanup_close_ int fd = openat(pfd, leaf, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return errmsg(c->err, c->errlen, fd < 0 ? -errno : -EAGAIN, "%s: changed while it was restored", e->path);
	int rc = set_owner_mode_fd(c, fd, e);
	return rc ? rc : set_times(c, pfd, leaf, e);
}

/* A file from the pack's current member: a temp file beside it, renamed over the name. */
static int write_file(struct rctx *c, struct rb_pack_reader *r, const struct rb_entry *e)
{
	static unsigned char buf[1 << 16];
	const char *leaf;
	_cleanup_close_ int pfd = at(c, e->path, &leaf);
	if (pfd < 0)
		return pfd;
	char tmp[64];
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(tmp, sizeof(tmp), ".calyx-rollback-%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
		 rnd[4], rnd[5]);
	_cleanup_close_ int fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errmsg(c->err, c->errlen, -errno, "%s: creating its temp file: %s", e->path, strerror(errno));
	int rc = 0;
	ssize_t k;
	uint64_t got = 0;
	while (!rc && (k = rb_pack_data(r, buf, sizeof(buf))) != 0) {
		if (k < 0) {
			rc = errmsg(c->err, c->errlen, -EIO, "%s: the pack is damaged", e->path);
			break;
		}
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(fd, buf + off, (size_t)(k - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = errmsg(c->err, c->errlen, -errno, "%s: write: %s", e->path, strerror(errno));
				break;
			}
			off += w;
		}
		got += (uint64_t)k;
	}
	if (!rc && got != e->size)
		rc = errmsg(c->err, c->errlen, -EIO, "%s: the pack held %ju bytes, not %ju", e->path, (uintmax_t)got,
			    (uintmax_t)e->size);
	if (!rc)
		rc = set_owner_mode_fd(c, fd, e);
	struct timespec ts[2] = { { e->mtime_s, e->mtime_ns }, { e->mtime_s, e->mtime_ns } };
	if (!rc && futimens(fd, ts) < 0)
		rc = errmsg(c->err, c->errlen, -errno, "%s: setting its mtime: %s", e->path, strerror(errno));
	if (!rc && fsync(fd) < 0)
		rc = errmsg(c->err, c->errlen, -errno, "%s: fsync: %s", e->path, strerror(errno));
	if (!rc && renameat(pfd, tmp, pfd, leaf) < 0)
		rc = errmsg(c->err, c->errlen, -errno, "%s: rename into place: %s", e->path, strerror(errno));
	if (rc)
		unlinkat(pfd, tmp, 0);
	return rc;
}

/* A symlink or special file, made anew unless the tree has it as it was. */
static int restore_node(struct rctx *c, const struct rb_entry *e, const struct rb_entry *now)
{
	const char *leaf;
	_cleanup_close_ int pfd = at(c, e->path, &leaf);
	if (pfd < 0)
		return pfd;
	bool same = now && now->type == e->type &&
		    (e->type != RB_SYMLINK || strcmp(now->target, e->target) == 0) &&
		    ((e->type != RB_CHR && e->type != RB_BLK) || now->rdev == e->rdev);
	if (!same) {
		if (e->type == RB_SOCK)
			return errmsg(c->err, c->errlen, -EOPNOTSUPP, "%s: a socket cannot be recreated", e->path);
		int rc = remove_tree(pfd, leaf, 0);
		if (rc < 0)
			return errmsg(c->err, c->errlen, rc, "%s: removing it: %s", e->path, strerror(-rc));
		if (e->type == RB_SYMLINK)
			rc = symlinkat(e->target, pfd, leaf);
		else
			rc = mknodat(pfd, leaf, (e->type == RB_FIFO ? S_IFIFO : e->type == RB_CHR ? S_IFCHR : S_IFBLK) | 0600,
				     (dev_t)e->rdev);
		if (rc < 0)
			return errmsg(c->err, c->errlen, -errno, "%s: recreating it: %s", e->path, strerror(errno));
	}
	if (fchownat(pfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return errmsg(c->err, c->errlen, -errno, "%s: chown: %s", e->path, strerror(errno));
	if (e->type != RB_SYMLINK) {
		/* fchmodat cannot be told not to follow a symlink (before fchmodat2), and opening
		 * a fifo or a device for real has effects: an O_PATH fd of the node itself,
		 * checked, then chmod through its /proc/self/fd link, which names that inode
		 * whatever is put at the name meanwhile. */
		_cleanup_close_ int fd = openat(pfd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))
			return errmsg(c->err, c->errlen, -EAGAIN, "%s: changed while it was restored", e->path);
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, e->mode) < 0)
			return errmsg(c->err, c->errlen, -errno, "%s: chmod: %s", e->path, strerror(errno));
	}
	return set_times(c, pfd, leaf, e);
}

/* The files, in the pack's order: each rewritten unless the tree holds its contents. */
static int restore_files(struct rctx *c, int dirfd, const char *name, const struct rb_manifest *cur)
{
	struct rb_pack_reader *r;
	int rc = rb_pack_open(dirfd, name, &r, c->err, c->errlen);
	if (rc < 0)
		return rc;
	struct rb_entry pe;
	while ((rc = rb_pack_next(r, &pe, c->err, c->errlen)) == 1) {
		if (pe.type != RB_FILE)
			continue;
		const struct rb_entry *e = rb_manifest_find(c->m, pe.path);
		if (!e || e->type != RB_FILE) {
			rc = errmsg(c->err, c->errlen, -EINVAL, "%s: not a file in the manifest", pe.path);
			break;
		}
		const struct rb_entry *now = rb_manifest_find(cur, e->path);
		bool same = now && now->type == RB_FILE && now->size == e->size && strcmp(now->hash, e->hash) == 0;
		if ((rc = same ? fix_file(c, e) : write_file(c, r, e)) < 0)
			break;
		if (!same)
			testhook_crash_point("restore");   /* the tree half restored */
	}
	rb_pack_close(r);
	return rc < 0 ? rc : 0;
}

/* Long: the restore's passes in order, each a short loop. */
int rb_restore(int dirfd, const char *name, const struct rb_manifest *m, const struct rb_manifest *cur,
	       char *err, size_t errlen)
{
	struct rctx c = { .m = m, .err = err, .errlen = errlen };
	int rc = 0;
	for (size_t i = 0; i < RB_MAX_ROOTS; i++)
		c.pfd[i] = -1;
	for (size_t i = 0; i < m->n_roots; i++) {
		char parent[PATH_MAX];
		rb_root_parent(m->roots[i], parent, sizeof(parent));
		c.plen[i] = strcmp(parent, "/") == 0 ? 0 : strlen(parent);
		c.pfd[i] = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		const struct rb_entry *re = rb_manifest_find(m, m->roots[i]);
		if (c.pfd[i] < 0 && !(errno == ENOENT && re && re->type == RB_ABSENT)) {
			rc = errmsg(err, errlen, -errno, "%s: %s", parent, strerror(errno));
			goto out;
		}
	}
	/* 1. What the run created, and what changed type, deepest first. */
	for (size_t i = cur->n; i-- > 0;) {
		const struct rb_entry *now = &cur->e[i], *was = rb_manifest_find(m, now->path);
		if (now->type == RB_ABSENT || (was && was->type == now->type))
			continue;
		if ((rc = remove_path(&c, now->path)) < 0)
			goto out;
	}
	/* 2. Directories, parents first. */
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].type == RB_DIR && (rc = restore_dir(&c, &m->e[i])) < 0)
			goto out;
	/* 3. Files from the pack, then symlinks and special files. */
	if ((rc = restore_files(&c, dirfd, name, cur)) < 0)
		goto out;
	for (size_t i = 0; i < m->n; i++) {
		const struct rb_entry *e = &m->e[i];
		if (e->type == RB_ABSENT || e->type == RB_DIR || e->type == RB_FILE)
			continue;
		if ((rc = restore_node(&c, e, rb_manifest_find(cur, e->path))) < 0)
			goto out;
	}
	/* 4. Directory mtimes last, children first: every change above moved them. */
	for (size_t i = m->n; i-- > 0;) {
		const struct rb_entry *e = &m->e[i];
		if (e->type != RB_DIR)
			continue;
		const char *leaf;
		int pfd = at(&c, e->path, &leaf);
		if (pfd < 0) {
			rc = pfd;
			goto out;
		}
		rc = set_times(&c, pfd, leaf, e);
		close(pfd);
		if (rc < 0)
			goto out;
	}
out:
	for (size_t i = 0; i < m->n_roots; i++)
		if (c.pfd[i] >= 0)
			close(c.pfd[i]);
	return rc;
}
