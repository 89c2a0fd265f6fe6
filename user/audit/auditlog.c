/* The state dir's audit log (auditlog.h). */
#include "audit/auditlog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "audit/auditkey.h"
#include "audit/checkpoint.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/safedir.h"
#include "state/state.h"

struct auditlog {
	struct svf_writer *w;
	int dirfd;                   /* logs/svf_audit */
	int lockfd;                  /* svf.lock, LOCK_EX while open */
	uint8_t sk[PASERK_SK_BYTES];
	unsigned every, since;       /* records since the last checkpoint */
	bool last_is_checkpoint;
	char *new_key;               /* k4.public when this open made the key */
};

static int io_fault(struct audit_result *why, int rc, const char *fmt, const char *what)
{
	if (why) {
		why->fault = AUDIT_IO;
		snprintf(why->msg, sizeof(why->msg), fmt, what, strerror(-rc));
	}
	return rc;
}

static void free_log(struct auditlog *a)
{
	if (!a)
		return;
	if (a->dirfd >= 0)
		close(a->dirfd);
	if (a->lockfd >= 0)
		close(a->lockfd);
	sodium_memzero(a->sk, sizeof(a->sk));
	free(a->new_key);
	free(a);
}

/* The first seq of the file open as fd: the rotated file's name. */
static uint64_t first_seq(int fd)
{
	char b[40] = { 0 };
	if (pread(fd, b, sizeof(b) - 1, 0) < 8 || strncmp(b, "{\"seq\":", 7) != 0)
		return 0;
	return strtoull(b + 7, NULL, 10);
}

/* A checkpoint of the head; then (sidecar) the sidecar names it. */
static int write_checkpoint(struct auditlog *a, bool sidecar, char *err, size_t errlen)
{
	cJSON *d = checkpoint_make(svf_writer_seq(a->w), svf_writer_head(a->w), a->sk);
	if (!d)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = svf_append(a->w, CHECKPOINT_TYPE, "", "", d, err, errlen);
	cJSON_Delete(d);
	if (rc < 0)
		return rc;
	/* On disk before the sidecar names it: the sidecar never points past the log. */
	if (fsync(svf_writer_fd(a->w)) < 0)
		return errmsg(err, errlen, -errno, "fsync: %s", strerror(errno));
	a->since = 0;
	a->last_is_checkpoint = true;
	if (!sidecar)
		return 0;
	struct checkpoint_sidecar sc = { .seq = svf_writer_seq(a->w), .offset = svf_writer_last_offset(a->w) };
	snprintf(sc.hash, sizeof(sc.hash), "%s", svf_writer_head(a->w));
	return checkpoint_sidecar_write(a->dirfd, &sc, err, errlen);
}

/* Rotate: a new file whose first record is a checkpoint of the old head is swapped in
 * for svf.jsonl (RENAME_EXCHANGE: readers always find a svf.jsonl), then the old file
 * takes its name svf.<first seq>.jsonl. Under svf.lock, so no writer sees the middle.
 * oldfd is closed. */
static int rotate(struct auditlog *a, int oldfd, uint64_t seq, const char *head, char *err, size_t errlen)
{
	char name[40];
	snprintf(name, sizeof(name), "svf.%012" PRIu64 ".jsonl", first_seq(oldfd));
	unlinkat(a->dirfd, ".svf.new", 0);
	int fd = safedir_openat(a->dirfd, ".svf.new", O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0640);
	if (fd < 0) {
		close(oldfd);
		return errmsg(err, errlen, fd, "rotate: .svf.new: %s", strerror(-fd));
	}
	flock(fd, LOCK_EX);
	a->w = svf_writer_adopt(fd, seq, head);
	if (!a->w) {
		close(fd);
		close(oldfd);
		unlinkat(a->dirfd, ".svf.new", 0);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	int rc = write_checkpoint(a, false, err, errlen);
	if (rc == 0 && renameat2(a->dirfd, ".svf.new", a->dirfd, SVF_LOG_NAME, RENAME_EXCHANGE) < 0)
		rc = errmsg(err, errlen, -errno, "rotate: exchange: %s", strerror(errno));
	if (rc < 0) {   /* nothing was swapped: the new file goes, the old stays the log */
		svf_close(a->w);
		a->w = NULL;
		unlinkat(a->dirfd, ".svf.new", 0);
		close(oldfd);
		return rc;
	}
	close(oldfd);
	/* From here the new file is the log; the old one must never be lost. */
	if (renameat2(a->dirfd, ".svf.new", a->dirfd, name, RENAME_NOREPLACE) < 0)
		return errmsg(err, errlen, -errno, "rotate: the old log is left as .svf.new: naming it %s: %s",
			      name, strerror(errno));
	fsync(a->dirfd);
	struct checkpoint_sidecar sc = { .seq = svf_writer_seq(a->w), .offset = 0 };
	snprintf(sc.hash, sizeof(sc.hash), "%s", svf_writer_head(a->w));
	return checkpoint_sidecar_write(a->dirfd, &sc, err, errlen);
}

/* svf.lock, then svf.jsonl, each LOCK_EX; the log opened again if it was rotated while we
 * waited. *fd: the log. */
static int lock_log(struct auditlog *a, int *fd, char *err, size_t errlen)
{
	a->lockfd = safedir_openat(a->dirfd, AUDITLOG_LOCK, O_RDWR | O_CREAT, 0640);
	if (a->lockfd < 0)
		return errmsg(err, errlen, a->lockfd, "%s: %s", AUDITLOG_LOCK, strerror(-a->lockfd));
	if (flock(a->lockfd, LOCK_EX) < 0)
		return errmsg(err, errlen, -errno, "%s: lock: %s", AUDITLOG_LOCK, strerror(errno));
	*fd = safedir_openat(a->dirfd, SVF_LOG_NAME, O_RDWR | O_APPEND | O_CREAT, 0640);
	if (*fd < 0)
		return errmsg(err, errlen, *fd, "%s: %s", SVF_LOG_NAME, strerror(-*fd));
	/* Readers take LOCK_SH on the log itself: they never see half an append. */
	if (flock(*fd, LOCK_EX) < 0) {
		int e = errno;
		close(*fd);
		return errmsg(err, errlen, -e, "%s: lock: %s", SVF_LOG_NAME, strerror(e));
	}
	return 0;
}

/* What open and repair share: the log directory, the audit key (made on first use), both
 * locks, the tail checked (*f: its verdict, t filled when intact). 0 with *out and *fd
 * (the log, locked), else -errno with why->msg (nothing left open). */
static int begin(int state_fd, unsigned every, struct auditlog **out, int *fd, struct audit_tail *t,
		 enum audit_fault *f, struct audit_result *why)
{
	char err[512];
	*out = NULL;
	*fd = -1;
	if (sodium_init() < 0)
		return io_fault(why, -EIO, "%s: %s", "libsodium init");
	struct auditlog *a = calloc(1, sizeof(*a));
	if (!a)
		return io_fault(why, -ENOMEM, "%s: %s", "audit log");
	a->lockfd = -1;
	a->every = every;
	a->dirfd = safedir_mkdirs(state_fd, STATE_SVF_DIR, 0750);
	if (a->dirfd < 0) {
		int rc = a->dirfd;
		free_log(a);
		return io_fault(why, rc, "%s: %s", STATE_SVF_DIR);
	}
	bool created = false;
	int rc = auditkey_load_or_create(state_fd, a->sk, &created, err, sizeof(err));
	if (rc == 0 && created)
		a->new_key = paserk_k4_public_encode(a->sk + 32);
	if (rc == 0)
		rc = lock_log(a, fd, err, sizeof(err));
	if (rc < 0) {
		why->fault = AUDIT_IO;
		snprintf(why->msg, sizeof(why->msg), "%s", err);
		free_log(a);
		return rc;
	}
	*f = audit_check_tail(a->dirfd, *fd, a->sk + 32, t, why);
	*out = a;
	return 0;
}

int auditlog_open(int state_fd, const struct auditlog_opts *o, struct auditlog **out, struct audit_result *why)
{
	*out = NULL;
	struct audit_result dummy;
	if (!why)
		why = &dummy;
	memset(why, 0, sizeof(*why));
	char err[512];
	uint64_t rotate_bytes = o && o->rotate_bytes ? o->rotate_bytes : AUDITLOG_ROTATE_BYTES;
	struct auditlog *a;
	struct audit_tail t;
	enum audit_fault f;
	int fd, rc = begin(state_fd, o && o->checkpoint_every ? o->checkpoint_every : AUDITLOG_CHECKPOINT_EVERY,
			   &a, &fd, &t, &f, why);
	if (rc < 0)
		return rc;
	if (f != AUDIT_INTACT) {
		close(fd);
		free_log(a);
		return f == AUDIT_IO ? -EIO : -EBADMSG;
	}
	a->last_is_checkpoint = t.last_is_checkpoint;
	struct stat st;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size >= rotate_bytes && t.last_is_checkpoint) {
		rc = rotate(a, fd, t.last_seq, t.head, err, sizeof(err));
		if (rc < 0) {
			why->fault = AUDIT_IO;
			snprintf(why->msg, sizeof(why->msg), "%s", err);
			if (a->w)
				svf_close(a->w);
			free_log(a);
			return rc;
		}
	} else {
		a->w = svf_writer_adopt(fd, t.last_seq, t.head);
		if (!a->w) {
			close(fd);
			free_log(a);
			return io_fault(why, -ENOMEM, "%s: %s", "audit log");
		}
	}
	*out = a;
	return 0;
}

const char *auditlog_new_key(const struct auditlog *a) { return a->new_key; }

int auditlog_append(struct auditlog *a, const char *type, const char *lease, const char *intent,
		    const cJSON *data, char *err, size_t errlen)
{
	int rc = svf_append(a->w, type, lease, intent, data, err, errlen);
	if (rc < 0)
		return rc;
	a->last_is_checkpoint = false;
	if (++a->since >= a->every)
		return write_checkpoint(a, true, err, errlen);
	return 0;
}

int auditlog_seal(struct auditlog *a, char *err, size_t errlen)
{
	if (a->last_is_checkpoint || svf_writer_seq(a->w) == 0)
		return 0;
	return write_checkpoint(a, true, err, errlen);
}

int auditlog_close(struct auditlog *a)
{
	if (!a)
		return 0;
	int rc = svf_close(a->w);   /* fsync, then the log's own lock goes */
	free_log(a);                /* then svf.lock */
	return rc;
}

int auditlog_append_one(int state_fd, const char *type, const char *lease, const char *intent,
			const cJSON *data, bool seal, char *err, size_t errlen, struct audit_result *why)
{
	struct audit_result local;
	struct audit_result *r = why ? why : &local;
	struct auditlog *a;
	int rc = auditlog_open(state_fd, NULL, &a, r);
	if (rc < 0) {
		if (r->where[0])
			errmsg(err, errlen, rc, "audit log %s: %s", r->where, r->msg);
		else
			errmsg(err, errlen, rc, "audit log: %s", r->msg);
		return rc;
	}
	rc = auditlog_append(a, type, lease, intent, data, err, errlen);
	if (rc == 0 && seal)
		rc = auditlog_seal(a, err, errlen);
	int rc2 = auditlog_close(a);
	if (rc == 0 && rc2 < 0)
		rc = errmsg(err, errlen, rc2, "audit log: fsync: %s", strerror(-rc2));
	return rc;
}

int auditlog_repair(int state_fd, struct auditlog_repair *out, struct audit_result *why)
{
	memset(out, 0, sizeof(*out));
	memset(why, 0, sizeof(*why));
	char err[512];
	struct auditlog *a;
	struct audit_tail t;
	enum audit_fault f;
	int fd, rc = begin(state_fd, AUDITLOG_CHECKPOINT_EVERY, &a, &fd, &t, &f, why);
	if (rc < 0)
		return rc;
	if (f == AUDIT_INTACT) {
		close(fd);
		free_log(a);
		return 0;
	}
	if (f != AUDIT_CUT_RECORD) {
		close(fd);
		free_log(a);
		return f == AUDIT_IO ? -EIO : -EBADMSG;
	}
	/* Cut the bytes after the last end of line, keeping them to put back should the rest
	 * not verify either (then nothing is changed). */
	struct stat st;
	rc = fstat(fd, &st) < 0 ? -errno : 0;
	off_t keep = 0;
	char *cut = NULL;
	if (rc == 0) {
		off_t from = st.st_size > (off_t)SVF_MAX_LINE + 1 ? st.st_size - (off_t)SVF_MAX_LINE - 1 : 0;
		size_t n = (size_t)(st.st_size - from);
		char *buf = malloc(n ? n : 1);
		if (!buf || pread(fd, buf, n, from) != (ssize_t)n) {
			rc = -EIO;
		} else {
			char *nl = memrchr(buf, '\n', n);
			keep = nl ? from + (nl - buf) + 1 : from;
			out->cut_bytes = (size_t)(st.st_size - keep);
			cut = malloc(out->cut_bytes);
			if (cut)
				memcpy(cut, buf + (keep - from), out->cut_bytes);
			else
				rc = -ENOMEM;
		}
		free(buf);
	}
	if (rc == 0 && ftruncate(fd, keep) < 0)
		rc = -errno;
	if (rc == 0 && audit_check_tail(a->dirfd, fd, a->sk + 32, &t, why) != AUDIT_INTACT) {
		if (pwrite(fd, cut, out->cut_bytes, keep) != (ssize_t)out->cut_bytes)
			snprintf(why->msg + strlen(why->msg), sizeof(why->msg) - strlen(why->msg),
				 " (and putting the cut record back failed: %s)", strerror(errno));
		free(cut);
		close(fd);
		free_log(a);
		return -EBADMSG;
	}
	if (rc < 0) {
		free(cut);
		close(fd);
		free_log(a);
		return io_fault(why, rc, "%s: %s", SVF_LOG_NAME);
	}
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), (const unsigned char *)cut, out->cut_bytes, NULL, 0);
	sodium_bin2hex(out->cut_blake2b, sizeof(out->cut_blake2b), h, sizeof(h));
	free(cut);
	out->cut_offset = (int64_t)keep;
	a->w = svf_writer_adopt(fd, t.last_seq, t.head);
	if (!a->w) {
		close(fd);
		free_log(a);
		return io_fault(why, -ENOMEM, "%s: %s", "audit log");
	}
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "reason", "the last record was cut short (a crash or a full disk)");
	cJSON_AddNumberToObject(d, "cut_bytes", (double)out->cut_bytes);
	cJSON_AddNumberToObject(d, "cut_offset", (double)out->cut_offset);
	cJSON_AddStringToObject(d, "cut_blake2b", out->cut_blake2b);
	cJSON_AddNumberToObject(d, "after_seq", (double)t.last_seq);
	rc = auditlog_append(a, "log_event.repaired", "", "", d, err, sizeof(err));
	cJSON_Delete(d);
	if (rc == 0) {
		out->record_seq = svf_writer_seq(a->w);
		rc = auditlog_seal(a, err, sizeof(err));
	}
	int rc2 = auditlog_close(a);
	if (rc == 0)
		rc = rc2;
	if (rc < 0) {
		why->fault = AUDIT_IO;
		snprintf(why->msg, sizeof(why->msg), "%s", err);
		return rc;
	}
	out->repaired = true;
	return 0;
}
