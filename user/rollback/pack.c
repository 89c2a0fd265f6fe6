/* rollback.tar.gz with libarchive (rollback/pack.h). */
#include "rollback/pack.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/testhook.h"
#include <sys/stat.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "rollback/archive_lib.h"

/* Set by rb_pack_create and rb_pack_open, the only ways in: every other function here
 * runs on a writer or reader one of them made. */
static const struct archive_lib *al;

struct rb_pack_writer {
	struct archive *a;
	int dirfd;
	int fd;
	char name[NAME_MAX + 1];
	struct rb_sink sink;
	bool in_file;
};

static mode_t ifmt_of(enum rb_type t)
{
	switch (t) {
	case RB_FILE: return AE_IFREG;
	case RB_DIR: return AE_IFDIR;
	case RB_SYMLINK: return AE_IFLNK;
	case RB_FIFO: return AE_IFIFO;
	case RB_CHR: return AE_IFCHR;
	case RB_BLK: return AE_IFBLK;
	default: return 0;
	}
}

static int sink_entry(void *ctx, const struct rb_entry *e, char *err, size_t errlen)
{
	struct rb_pack_writer *w = ctx;
	mode_t ifmt = ifmt_of(e->type);
	if (!ifmt)
		return 0;   /* a socket: in the manifest only */
	int fault = testhook_write_fault();
	if (fault)
		return errmsg(err, errlen, fault, "rollback pack: %s: %s", e->path, strerror(-fault));
	struct archive_entry *ae = al->archive_entry_new();
	if (!ae)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	al->archive_entry_set_pathname(ae, e->path + 1);
	al->archive_entry_set_filetype(ae, ifmt);
	al->archive_entry_set_perm(ae, e->mode);
	al->archive_entry_set_uid(ae, e->uid);
	al->archive_entry_set_gid(ae, e->gid);
	al->archive_entry_set_mtime(ae, (time_t)e->mtime_s, (long)e->mtime_ns);
	al->archive_entry_set_size(ae, e->type == RB_FILE ? (la_int64_t)e->size : 0);
	if (e->type == RB_SYMLINK)
		al->archive_entry_set_symlink(ae, e->target);
	if (e->type == RB_CHR || e->type == RB_BLK)
		al->archive_entry_set_rdev(ae, (dev_t)e->rdev);
	int rc = al->archive_write_header(w->a, ae);
	al->archive_entry_free(ae);
	if (rc != ARCHIVE_OK)
		return errmsg(err, errlen, -EIO, "rollback pack: %s: %s", e->path, al->archive_error_string(w->a));
	w->in_file = e->type == RB_FILE;
	return 0;
}

static int sink_data(void *ctx, const void *buf, size_t n, char *err, size_t errlen)
{
	struct rb_pack_writer *w = ctx;
	while (n) {
		la_ssize_t k = al->archive_write_data(w->a, buf, n);
		if (k <= 0)
			return errmsg(err, errlen, -EIO, "rollback pack: %s", al->archive_error_string(w->a));
		buf = (const char *)buf + k;
		n -= (size_t)k;
	}
	return 0;
}

static int sink_done(void *ctx, char *err, size_t errlen)
{
	struct rb_pack_writer *w = ctx;
	w->in_file = false;
	if (al->archive_write_finish_entry(w->a) != ARCHIVE_OK)
		return errmsg(err, errlen, -EIO, "rollback pack: %s", al->archive_error_string(w->a));
	testhook_crash_point("pack-entry");   /* the pack half written */
	return 0;
}

int rb_pack_create(int dirfd, const char *name, struct rb_pack_writer **out, char *err, size_t errlen)
{
	if (!al && !(al = archive_lib_load(err, errlen)))
		return -ELIBACC;
	struct rb_pack_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->dirfd = dirfd;
	w->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		int e = errno;
		free(w);
		return errmsg(err, errlen, -e, "%s: %s", name, strerror(e));
	}
	w->a = al->archive_write_new();
	if (!w->a || al->archive_write_add_filter_gzip(w->a) != ARCHIVE_OK ||
	    al->archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    al->archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK) {
		errmsg(err, errlen, -EIO, "%s: %s", name, w->a ? al->archive_error_string(w->a) : "out of memory");
		rb_pack_abort(w);
		return -EIO;
	}
	w->sink = (struct rb_sink){ .entry = sink_entry, .data = sink_data, .done = sink_done, .ctx = w };
	*out = w;
	return 0;
}

const struct rb_sink *rb_pack_sink(struct rb_pack_writer *w)
{
	return &w->sink;
}

int rb_pack_finish(struct rb_pack_writer *w, char *err, size_t errlen)
{
	int rc = 0;
	if (al->archive_write_close(w->a) != ARCHIVE_OK)
		rc = errmsg(err, errlen, -EIO, "%s: %s", w->name, al->archive_error_string(w->a));
	al->archive_write_free(w->a);
	w->a = NULL;
	if (!rc && fsync(w->fd) < 0)
		rc = errmsg(err, errlen, -errno, "%s: fsync: %s", w->name, strerror(errno));
	if (close(w->fd) < 0 && !rc)
		rc = errmsg(err, errlen, -errno, "%s: close: %s", w->name, strerror(errno));
	w->fd = -1;
	if (rc)
		unlinkat(w->dirfd, w->name, 0);
	free(w);
	return rc;
}

void rb_pack_abort(struct rb_pack_writer *w)
{
	if (!w)
		return;
	if (w->a)
		al->archive_write_free(w->a);
	if (w->fd >= 0)
		close(w->fd);
	unlinkat(w->dirfd, w->name, 0);
	free(w);
}

/* ---- reading ---- */

struct rb_pack_reader {
	struct archive *a;
	int fd;
	struct rb_entry cur;
};

int rb_pack_open(int dirfd, const char *name, struct rb_pack_reader **out, char *err, size_t errlen)
{
	if (!al && !(al = archive_lib_load(err, errlen)))
		return -ELIBACC;
	struct rb_pack_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	r->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (r->fd < 0) {
		int e = errno;
		free(r);
		return errmsg(err, errlen, -e, "%s: %s", name, strerror(e));
	}
	r->a = al->archive_read_new();
	/* gzip'd tar and nothing else: no other format's parser sees the bytes. */
	if (!r->a || al->archive_read_support_filter_gzip(r->a) != ARCHIVE_OK ||
	    al->archive_read_support_format_tar(r->a) != ARCHIVE_OK ||
	    al->archive_read_open_fd(r->a, r->fd, 1 << 16) != ARCHIVE_OK) {
		errmsg(err, errlen, -EIO, "%s: %s", name, r->a ? al->archive_error_string(r->a) : "out of memory");
		rb_pack_close(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

static enum rb_type type_of_ae(mode_t t)
{
	switch (t) {
	case AE_IFREG: return RB_FILE;
	case AE_IFDIR: return RB_DIR;
	case AE_IFLNK: return RB_SYMLINK;
	case AE_IFIFO: return RB_FIFO;
	case AE_IFCHR: return RB_CHR;
	case AE_IFBLK: return RB_BLK;
	default: return RB_TYPE_COUNT;
	}
}

static void clear_cur(struct rb_pack_reader *r)
{
	free(r->cur.path);
	free(r->cur.target);
	memset(&r->cur, 0, sizeof(r->cur));
}

int rb_pack_next(struct rb_pack_reader *r, struct rb_entry *e, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8];
	struct archive_entry *ae;
	clear_cur(r);
	int rc = al->archive_read_next_header(r->a, &ae);
	if (rc == ARCHIVE_EOF)
		return 0;
	if (rc != ARCHIVE_OK)
		return errmsg(err, errlen, -EIO, "the pack is damaged: %s", al->archive_error_string(r->a));
	const char *name = al->archive_entry_pathname(ae);
	if (!name)
		return errmsg(err, errlen, -EINVAL, "a member has no name");
	errmsg_quote(q, sizeof(q), name, strlen(name));
	if (name[0] == '/')
		return errmsg(err, errlen, -EINVAL, "member '%s' has an absolute name", q);
	enum rb_type t = type_of_ae(al->archive_entry_filetype(ae));
	if (al->archive_entry_hardlink(ae))
		return errmsg(err, errlen, -EINVAL, "member '%s' is a hard link", q);
	if (t == RB_TYPE_COUNT)
		return errmsg(err, errlen, -EINVAL, "member '%s' has an unknown type", q);
	size_t n = strlen(name);
	char *path = malloc(n + 2);
	if (!path)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	path[0] = '/';
	memcpy(path + 1, name, n + 1);
	if (t == RB_DIR && n > 1 && path[n] == '/')
		path[n] = '\0';   /* tar writers end a directory's name with '/' */
	r->cur.path = path;
	if (!rb_path_canonical(path))
		return errmsg(err, errlen, -EINVAL, "member '%s': a name with an empty, '.' or '..' component", q);
	r->cur.type = t;
	r->cur.mode = al->archive_entry_perm(ae) & 07777;
	r->cur.uid = (uint32_t)al->archive_entry_uid(ae);
	r->cur.gid = (uint32_t)al->archive_entry_gid(ae);
	r->cur.size = al->archive_entry_size_is_set(ae) ? (uint64_t)al->archive_entry_size(ae) : 0;
	r->cur.mtime_s = al->archive_entry_mtime(ae);
	r->cur.mtime_ns = al->archive_entry_mtime_nsec(ae);
	r->cur.rdev = al->archive_entry_rdev(ae);
	if (t == RB_SYMLINK) {
		const char *tg = al->archive_entry_symlink(ae);
		if (!tg || !(r->cur.target = strdup(tg)))
			return errmsg(err, errlen, -EINVAL, "member '%s': a symlink without a target", q);
		r->cur.size = strlen(tg);
	}
	*e = r->cur;
	return 1;
}

ssize_t rb_pack_data(struct rb_pack_reader *r, void *buf, size_t n)
{
	la_ssize_t k = al->archive_read_data(r->a, buf, n);
	return k < 0 ? -EIO : (ssize_t)k;
}

void rb_pack_close(struct rb_pack_reader *r)
{
	if (!r)
		return;
	clear_cur(r);
	if (r->a)
		al->archive_read_free(r->a);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}
