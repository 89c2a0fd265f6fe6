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

#include "base/errmsg.h"
#include "base/fileio.h"

struct svf_writer {
	int fd;
	uint64_t last_seq;
	char prev[SVF_HASH_HEX + 1];
	char host[256];
	int err;                 /* first write/fsync error, reported by svf_close */
};

static const char *const svf_keys[] = {
	"seq", "ts", "type", "lease", "intent", "host", "data", "prev", "hash",
};
#define SVF_NKEYS (sizeof(svf_keys) / sizeof(svf_keys[0]))

void svf_format_ts(int64_t sec, long nsec, char out[32])
{
	struct tm tm;
	time_t t = (time_t)sec;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03ldZ", base, (nsec / 1000000) % 1000);
}

void svf_format_now(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	svf_format_ts(ts.tv_sec, ts.tv_nsec, out);
}

static void hash_hex(const char *buf, size_t len, char out[SVF_HASH_HEX + 1])
{
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof(h), (const unsigned char *)buf, len, NULL, 0);
	sodium_bin2hex(out, SVF_HASH_HEX + 1, h, sizeof(h));
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != SVF_HASH_HEX)
		return false;
	for (size_t i = 0; i < SVF_HASH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Long: each check relies on the ones before it (parse, key order, types, canonical bytes,
 * hash); together, in order, they are the record format. */
int svf_check_line(const char *line, size_t len, uint64_t *seq, char prev[SVF_HASH_HEX + 1],
		   char hash[SVF_HASH_HEX + 1], char *err, size_t errlen)
{
	if (len == 0)
		return errmsg(err, errlen, -EBADMSG, "empty line");
	if (len > SVF_MAX_LINE)
		return errmsg(err, errlen, -EBADMSG, "record longer than %u bytes", SVF_MAX_LINE);
	if (memchr(line, '\0', len))
		return errmsg(err, errlen, -EBADMSG, "NUL byte in record");
	cJSON *j = cJSON_ParseWithLengthOpts(line, len, NULL, 0);
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return errmsg(err, errlen, -EBADMSG, "not a JSON object (cut or edited)");
	}
	int rc = 0;
	char *canon = NULL;
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, j) {
		if (i >= SVF_NKEYS || !it->string || strcmp(it->string, svf_keys[i]) != 0) {
			rc = errmsg(err, errlen, -EBADMSG, "unexpected key '%s' at position %zu",
				    it->string ? it->string : "?", i + 1);
			goto out;
		}
		i++;
	}
	if (i != SVF_NKEYS) {
		rc = errmsg(err, errlen, -EBADMSG, "record has %zu keys, expected %zu", i, SVF_NKEYS);
		goto out;
	}
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seq");
	double d = cJSON_GetNumberValue(s);
	if (!cJSON_IsNumber(s) || d < 1 || d > 9007199254740992.0 || d != (double)(uint64_t)d) {
		rc = errmsg(err, errlen, -EBADMSG, "bad seq");
		goto out;
	}
	for (size_t k = 1; k < 6; k++) {
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, svf_keys[k]))) {
			rc = errmsg(err, errlen, -EBADMSG, "'%s' is not a string", svf_keys[k]);
			goto out;
		}
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "data"))) {
		rc = errmsg(err, errlen, -EBADMSG, "'data' is not an object");
		goto out;
	}
	const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "prev"));
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hash"));
	if (!is_hex64(p) || !is_hex64(h)) {
		rc = errmsg(err, errlen, -EBADMSG, "'prev' or 'hash' is not 64 lowercase hex digits");
		goto out;
	}
	snprintf(prev, SVF_HASH_HEX + 1, "%s", p);
	snprintf(hash, SVF_HASH_HEX + 1, "%s", h);
	*seq = (uint64_t)d;

	cJSON_DeleteItemFromObjectCaseSensitive(j, "hash");
	canon = cJSON_PrintUnformatted(j);
	if (!canon) {
		rc = errmsg(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	/* The line must be byte-for-byte the canonical record plus the hash member, so a
	 * verifier in any language can hash the bytes it reads without re-serialising. */
	size_t cl = strlen(canon);
	char tail[SVF_HASH_HEX + 16];
	int tl = snprintf(tail, sizeof(tail), ",\"hash\":\"%s\"}", hash);
	if (cl + (size_t)tl - 1 != len || memcmp(line, canon, cl - 1) != 0 ||
	    memcmp(line + cl - 1, tail, (size_t)tl) != 0) {
		rc = errmsg(err, errlen, -EBADMSG, "record is not in canonical form");
		goto out;
	}
	char want[SVF_HASH_HEX + 1];
	hash_hex(canon, cl, want);
	if (strcmp(want, hash) != 0)
		rc = errmsg(err, errlen, -EBADMSG, "hash mismatch (record edited)");
out:
	free(canon);
	cJSON_Delete(j);
	return rc;
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

int svf_open(const char *path, struct svf_writer **out, char *err, size_t errlen)
{
	*out = NULL;
	if (sodium_init() < 0)
		return errmsg(err, errlen, -EIO, "libsodium init failed");
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
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

int svf_append(struct svf_writer *w, const char *type, const char *lease, const char *intent,
	       const cJSON *data, char *err, size_t errlen)
{
	if (w->err)
		return errmsg(err, errlen, w->err, "earlier write failed: %s", strerror(-w->err));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char ts[32];
	svf_format_ts(now.tv_sec, now.tv_nsec, ts);

	cJSON *r = cJSON_CreateObject();
	cJSON *d = data ? cJSON_Duplicate(data, 1) : cJSON_CreateObject();
	if (!r || !d || !cJSON_IsObject(d)) {
		cJSON_Delete(r);
		cJSON_Delete(d);
		return errmsg(err, errlen, -EINVAL, "record data must be a JSON object");
	}
	cJSON_AddNumberToObject(r, "seq", (double)(w->last_seq + 1));
	cJSON_AddStringToObject(r, "ts", ts);
	cJSON_AddStringToObject(r, "type", type);
	cJSON_AddStringToObject(r, "lease", lease ? lease : "");
	cJSON_AddStringToObject(r, "intent", intent ? intent : "");
	cJSON_AddStringToObject(r, "host", w->host);
	cJSON_AddItemToObject(r, "data", d);
	cJSON_AddStringToObject(r, "prev", w->prev);
	char *canon = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	if (!canon)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	size_t cl = strlen(canon);
	if (cl + 80 > SVF_MAX_LINE) {
		free(canon);
		return errmsg(err, errlen, -E2BIG, "record too large");
	}
	char hash[SVF_HASH_HEX + 1];
	hash_hex(canon, cl, hash);
	char *line = malloc(cl + 80);
	if (!line) {
		free(canon);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	memcpy(line, canon, cl - 1);
	int tl = snprintf(line + cl - 1, 81, ",\"hash\":\"%s\"}\n", hash);
	free(canon);
	/* One write() of the whole line under the lock: readers never see two records
	 * interleaved, and a crash can only cut the last line (detected). */
	int rc = fileio_write_all(w->fd, line, cl - 1 + (size_t)tl);
	free(line);
	if (rc < 0) {
		w->err = rc;
		return errmsg(err, errlen, rc, "write: %s", strerror(-rc));
	}
	w->last_seq++;
	memcpy(w->prev, hash, sizeof(w->prev));
	return 0;
}

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

int svf_append_one(const char *path, const char *type, const char *lease, const char *intent,
		   const cJSON *data, char *err, size_t errlen)
{
	struct svf_writer *w;
	int rc = svf_open(path, &w, err, errlen);
	if (rc < 0)
		return rc;
	rc = svf_append(w, type, lease, intent, data, err, errlen);
	int rc2 = svf_close(w);
	if (!rc && rc2)
		rc = errmsg(err, errlen, rc2, "%s: fsync: %s", path, strerror(-rc2));
	return rc;
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

int svf_find_run(const char *path, const char *lease, uint32_t run, struct svf_run_state *st,
		 char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	}
	flock(fileno(f), LOCK_SH);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	char needle[160];
	snprintf(needle, sizeof(needle), "\"lease\":\"%s\"", lease);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (!strstr(line, needle) || !strstr(line, "\"exec_event."))
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
			}
		}
		cJSON_Delete(j);
	}
	int rc = ferror(f) ? errmsg(err, errlen, -EIO, "%s: read error", path) : 0;
	free(line);
	fclose(f);
	return rc;
}
