/* SVF audit log: hash-chained JSON Lines (format in svf.h and docs/run.md). */
#include "audit/svf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"

struct svf_writer {
	int fd;
	uint64_t last_seq;
	off_t last_off;          /* where the last record appended by this writer starts, -1: none */
	char prev[SVF_HASH_HEX + 1];
	char host[256];
	int err;                 /* first write/fsync error, reported by svf_close */
};

void svf_format_now(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	svf_format_ts(ts.tv_sec, ts.tv_nsec, out);
}

/* Read the last line of the file (which must end in '\n'). *line is malloc'd, without
 * the newline; NULL with rc 0 for an empty file. */
static int read_last_line(int fd, char **line, size_t *len, char *err, size_t errlen)
{
	*line = NULL;
	*len = 0;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errmsg(err, errlen, -errno, "stat: %s", strerror(errno));
	if (st.st_size == 0)
		return 0;
	char last;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		return errmsg(err, errlen, -EIO, "read: short read");
	if (last != '\n')
		return errmsg(err, errlen, -EBADMSG, "log ends with a partial record (cut mid-line)");
	size_t want = 4096;
	for (;;) {
		off_t end = st.st_size - 1;   /* exclude the final '\n' */
		size_t n = (size_t)end < want ? (size_t)end : want;
		char *buf = malloc(n + 1);
		if (!buf)
			return errmsg(err, errlen, -ENOMEM, "out of memory");
		ssize_t r = pread(fd, buf, n, end - (off_t)n);
		if (r != (ssize_t)n) {
			free(buf);
			return errmsg(err, errlen, -EIO, "read: short read");
		}
		char *nl = memrchr(buf, '\n', n);
		if (nl || (off_t)n == end) {
			size_t start = nl ? (size_t)(nl - buf) + 1 : 0;
			memmove(buf, buf + start, n - start);
			buf[n - start] = '\0';
			*line = buf;
			*len = n - start;
			return 0;
		}
		free(buf);
		if (want > SVF_MAX_LINE)
			return errmsg(err, errlen, -EBADMSG, "last record longer than %u bytes", SVF_MAX_LINE);
		want *= 4;
	}
}

/* The log open in fd (taken over), named path in messages. */
static int svf_open_fd(int fd, const char *path, struct svf_writer **out, char *err, size_t errlen)
{
	*out = NULL;
	if (fd < 0)
		return errmsg(err, errlen, fd, "%s: %s", path, strerror(-fd));
	if (sodium_init() < 0) {
		close(fd);
		return errmsg(err, errlen, -EIO, "libsodium init failed");
	}
	if (flock(fd, LOCK_EX) < 0) {
		int e = errno;
		close(fd);
		return errmsg(err, errlen, -e, "%s: lock: %s", path, strerror(e));
	}
	struct svf_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	w->fd = fd;
	w->last_off = -1;
	snprintf(w->prev, sizeof(w->prev), "%s", SVF_ZERO_HASH);
	if (gethostname(w->host, sizeof(w->host) - 1) < 0)
		snprintf(w->host, sizeof(w->host), "unknown");

	char *line = NULL, why[256];
	size_t len = 0;
	int rc = read_last_line(fd, &line, &len, why, sizeof(why));
	if (rc == 0 && line) {
		char prev[SVF_HASH_HEX + 1];
		rc = svf_check_line(line, len, &w->last_seq, prev, w->prev, why, sizeof(why));
	}
	free(line);
	if (rc < 0) {
		errmsg(err, errlen, rc, "%s: last record: %s", path, why);
		close(fd);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

#define SVF_OPEN_FLAGS (O_RDWR | O_APPEND | O_CREAT)

int svf_open(const char *path, struct svf_writer **out, char *err, size_t errlen)
{
	int fd = open(path, SVF_OPEN_FLAGS | O_CLOEXEC | O_NOFOLLOW, 0640);
	return svf_open_fd(fd < 0 ? -errno : fd, path, out, err, errlen);
}

int svf_open_at(int dirfd, const char *rel, struct svf_writer **out, char *err, size_t errlen)
{
	return svf_open_fd(safedir_openat(dirfd, rel, SVF_OPEN_FLAGS, 0640), rel, out, err, errlen);
}

int svf_append(struct svf_writer *w, const char *type, const char *lease, const char *intent,
	       const cJSON *data, char *err, size_t errlen)
{
	if (w->err)
		return errmsg(err, errlen, w->err, "earlier write failed: %s", strerror(-w->err));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[32];
	svf_format_ts(now.tv_sec, now.tv_nsec, ts);

	char hash[SVF_HASH_HEX + 1];
	size_t ll;
	_cleanup_free_ char *line = NULL;
	int rc = svf_record_line(w->last_seq + 1, ts, type, lease, intent, w->host, data, w->prev, &line,
				 &ll, hash, err, errlen);
	if (rc < 0)
		return rc;
	/* One write() of the whole line under the lock: readers never see two records
	 * interleaved, and a crash can only cut the last line (detected; `calyx audit
	 * repair`). A short write (a full disk) is rolled back here and now: the log never
	 * keeps half a record because the disk filled. */
	off_t off = lseek(w->fd, 0, SEEK_END);
	if (off < 0) {
		w->err = -errno;
		return errmsg(err, errlen, w->err, "seek: %s", strerror(-w->err));
	}
	rc = fileio_write_all(w->fd, line, ll);
	if (rc < 0) {
		w->err = rc;
		if (ftruncate(w->fd, off) < 0)
			return errmsg(err, errlen, rc, "write: %s; cutting the partial record back off failed too: %s",
				      strerror(-rc), strerror(errno));
		return errmsg(err, errlen, rc, "write: %s (the partial record was cut back off)", strerror(-rc));
	}
	w->last_off = off;
	w->last_seq++;
	memcpy(w->prev, hash, sizeof(w->prev));
	return 0;
}

struct svf_writer *svf_writer_adopt(int fd, uint64_t last_seq, const char prev[SVF_HASH_HEX + 1])
{
	struct svf_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = fd;
	w->last_seq = last_seq;
	w->last_off = -1;
	snprintf(w->prev, sizeof(w->prev), "%s", prev);
	if (gethostname(w->host, sizeof(w->host) - 1) < 0)
		snprintf(w->host, sizeof(w->host), "unknown");
	return w;
}

uint64_t svf_writer_seq(const struct svf_writer *w) { return w->last_seq; }
const char *svf_writer_head(const struct svf_writer *w) { return w->prev; }
off_t svf_writer_last_offset(const struct svf_writer *w) { return w->last_off; }
int svf_writer_fd(const struct svf_writer *w) { return w->fd; }

int svf_close(struct svf_writer *w)
{
	if (!w)
		return 0;
	int rc = w->err;
	if (fsync(w->fd) < 0 && !rc)
		rc = -errno;
	close(w->fd);   /* releases the flock */
	free(w);
	return rc;
}

static int append_one(struct svf_writer *w, const char *path, const char *type, const char *lease,
		      const char *intent, const cJSON *data, char *err, size_t errlen)
{
	int rc = svf_append(w, type, lease, intent, data, err, errlen);
	int rc2 = svf_close(w);
	if (!rc && rc2)
		rc = errmsg(err, errlen, rc2, "%s: fsync: %s", path, strerror(-rc2));
	return rc;
}

int svf_append_one(const char *path, const char *type, const char *lease, const char *intent,
		   const cJSON *data, char *err, size_t errlen)
{
	struct svf_writer *w;
	int rc = svf_open(path, &w, err, errlen);
	return rc < 0 ? rc : append_one(w, path, type, lease, intent, data, err, errlen);
}

int svf_append_one_at(int dirfd, const char *rel, const char *type, const char *lease,
		      const char *intent, const cJSON *data, char *err, size_t errlen)
{
	struct svf_writer *w;
	int rc = svf_open_at(dirfd, rel, &w, err, errlen);
	return rc < 0 ? rc : append_one(w, rel, type, lease, intent, data, err, errlen);
}

int svf_verify_file_ex(const char *path, uint64_t *n_records, char head[SVF_HASH_HEX + 1],
		       char *err, size_t errlen)
{
	if (sodium_init() < 0)
		return errmsg(err, errlen, -EIO, "libsodium init failed");
	FILE *f = fopen(path, "re");
	if (!f)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	char prev_hash[SVF_HASH_HEX + 1] = SVF_ZERO_HASH;
	uint64_t n = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	/* A reader may hold LOCK_SH so it never sees a line half appended. */
	flock(fileno(f), LOCK_SH);
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len == 0 || line[len - 1] != '\n') {
			rc = errmsg(err, errlen, -EBADMSG,
				    "%s:%" PRIu64 ": partial record at the end (log cut mid-line)", path, lineno);
			break;
		}
		uint64_t seq;
		char prev[SVF_HASH_HEX + 1], hash[SVF_HASH_HEX + 1], why[200];
		if (svf_check_line(line, (size_t)len - 1, &seq, prev, hash, why, sizeof(why)) < 0) {
			rc = errmsg(err, errlen, -EBADMSG, "%s:%" PRIu64 ": %s", path, lineno, why);
			break;
		}
		if (seq != n + 1) {
			rc = errmsg(err, errlen, -EBADMSG,
				    "%s:%" PRIu64 ": seq %" PRIu64 ", expected %" PRIu64
				    " (record deleted, inserted or reordered)", path, lineno, seq, n + 1);
			break;
		}
		if (strcmp(prev, prev_hash) != 0) {
			rc = errmsg(err, errlen, -EBADMSG,
				    "%s:%" PRIu64 ": prev does not match the hash of the record before"
				    " (record deleted, inserted or reordered)", path, lineno);
			break;
		}
		memcpy(prev_hash, hash, sizeof(prev_hash));
		n++;
	}
	if (!rc && ferror(f))
		rc = errmsg(err, errlen, -EIO, "%s: read error", path);
	free(line);
	fclose(f);
	if (rc == 0) {
		if (n_records)
			*n_records = n;
		if (head)
			memcpy(head, prev_hash, SVF_HASH_HEX + 1);
	}
	return rc;
}

int svf_verify_file(const char *path, char *err, size_t errlen)
{
	return svf_verify_file_ex(path, NULL, NULL, err, errlen);
}

int svf_find_run_at(int dirfd, const char *path, const char *lease, uint32_t run,
		    struct svf_run_state *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	int fd = dirfd == AT_FDCWD ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
				   : safedir_openat(dirfd, path, O_RDONLY, 0);
	if (dirfd == AT_FDCWD && fd < 0)
		fd = -errno;
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return errmsg(err, errlen, fd, "%s: %s", path, strerror(-fd));
	FILE *f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "%s: %s", path, strerror(ENOMEM));
	}
	flock(fileno(f), LOCK_SH);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	char needle[160];
	snprintf(needle, sizeof(needle), "\"lease\":\"%s\"", lease);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (!strstr(line, needle) || (!strstr(line, "\"exec_event.") && !strstr(line, "\"lease_event.consumed\"")))
			continue;   /* cheap filter before parsing */
		cJSON *j = cJSON_ParseWithLength(line, (size_t)len);
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
		const char *l = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "lease"));
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "data");
		const cJSON *rn = cJSON_GetObjectItemCaseSensitive(d, "run");
		if (type && l && strcmp(l, lease) == 0 && cJSON_IsNumber(rn) && rn->valuedouble == (double)run) {
			if (strcmp(type, "exec_event.started") == 0) {
				st->started = true;
				const char *ts = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ts"));
				snprintf(st->started_ts, sizeof(st->started_ts), "%s", ts ? ts : "");
			} else if (strcmp(type, "exec_event.completed") == 0) {
				st->completed = true;
			} else if (strcmp(type, "lease_event.consumed") == 0) {
				st->consumed = true;
			} else if (strcmp(type, "exec_event.artifacts_recovered") == 0) {
				st->recovered = true;
			}
		}
		cJSON_Delete(j);
	}
	int rc = ferror(f) ? errmsg(err, errlen, -EIO, "%s: read error", path) : 0;
	free(line);
	fclose(f);
	return rc;
}

int svf_find_run(const char *path, const char *lease, uint32_t run, struct svf_run_state *st,
		 char *err, size_t errlen)
{
	return svf_find_run_at(AT_FDCWD, path, lease, run, st, err, errlen);
}
