/* Reading one run for `calyx report` (report/load.h). */
#include "report/load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/auditkey.h"
#include "audit/svf.h"
#include "audit/verify.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"
#include "base/units.h"
#include "state/artifacts.h"
#include "state/state.h"

_Static_assert(REPORT_HASH_HEX == ARTIFACT_HASH_HEX, "the report shows the artifacts' hashes");
_Static_assert(REPORT_HASH_HEX == SVF_HASH_HEX, "the report shows the log's head hash");

int report_parse_ts_us(const char *s, int64_t *us)
{
	int64_t sec;
	if (!s || units_parse_rfc3339(s, &sec) < 0)
		return -EINVAL;
	int64_t frac = 0;
	if (s[19] == '.') {
		/* units_parse_rfc3339 checked the digits; keep the first six (µs). */
		int64_t scale = 100000;
		for (const char *p = s + 20; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
			if (!scale)
				break;
		}
	}
	*us = sec * 1000000 + frac;
	return 0;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* meta.json: a schema-1 object of this run directory's lease. */
static int load_meta(int run_fd, struct report_run *r, char *err, size_t errlen)
{
	const char *where = r->name;
	_cleanup_close_ int fd = safedir_openat(run_fd, "meta.json", O_RDONLY, 0);
	if (fd == -ENOENT)
		return errmsg(err, errlen, -EBADMSG, "run %s is damaged: it has no meta.json", where);
	if (fd < 0)
		return errmsg(err, errlen, fd, "run %s: meta.json: %s", where, strerror(-fd));
	_cleanup_free_ char *buf = malloc(REPORT_MAX_META_BYTES + 1);
	if (!buf)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	ssize_t n = fileio_read_all(fd, buf, REPORT_MAX_META_BYTES + 1);
	if (n == -EFBIG)
		return errmsg(err, errlen, -EBADMSG, "run %s: meta.json is damaged: larger than %u bytes",
			      where, REPORT_MAX_META_BYTES);
	if (n < 0)
		return errmsg(err, errlen, (int)n, "run %s: meta.json: %s", where, strerror((int)-n));
	const char *end = NULL;
	cJSON *m = cJSON_ParseWithLengthOpts(buf, (size_t)n, &end, false);
	if (!m || !cJSON_IsObject(m)) {
		size_t at = end && end >= buf && end <= buf + n ? (size_t)(end - buf) : 0;
		if (!m && cJSON_GetErrorPtr()) {
			const char *e = cJSON_GetErrorPtr();
			if (e >= buf && e <= buf + n)
				at = (size_t)(e - buf);
		}
		cJSON_Delete(m);
		if (n == 0)
			return errmsg(err, errlen, -EBADMSG, "run %s: meta.json is damaged: it is empty", where);
		return errmsg(err, errlen, -EBADMSG,
			      "run %s: meta.json is damaged: not a JSON object (the parse stops at byte %zu of %zd)",
			      where, at, n);
	}
	r->meta = m;
	/* Only white space may follow the object: meta.json is written whole, atomically. */
	size_t off = (size_t)(end - buf);
	while (off < (size_t)n && (buf[off] == ' ' || buf[off] == '\n' || buf[off] == '\t' || buf[off] == '\r'))
		off++;
	if (off < (size_t)n)
		return errmsg(err, errlen, -EBADMSG,
			      "run %s: meta.json is damaged: something follows the JSON object (byte %zu of %zd)",
			      where, off, n);
	const cJSON *schema = get(m, "schema");
	if (!cJSON_IsNumber(schema) || schema->valuedouble != 1)
		return errmsg(err, errlen, -EBADMSG,
			      "run %s: meta.json is damaged: \"schema\" is %s, expected 1", where,
			      cJSON_IsNumber(schema) ? "another number" : "missing or not a number");
	r->lease = cJSON_GetStringValue(get(m, "lease"));
	if (!r->lease || !fileio_plain_name(r->lease) || strncmp(r->lease, "LEASE-", 6) != 0)
		return errmsg(err, errlen, -EBADMSG,
			      "run %s: meta.json is damaged: \"lease\" is missing or not a lease id", where);
	const cJSON *run = get(m, "run");
	r->run = 1;
	if (run) {
		if (!cJSON_IsNumber(run) || run->valuedouble < 1 || run->valuedouble > 100000 ||
		    run->valuedouble != (double)(uint32_t)run->valuedouble)
			return errmsg(err, errlen, -EBADMSG,
				      "run %s: meta.json is damaged: \"run\" is not a run number", where);
		r->run = (uint32_t)run->valuedouble;
	}
	/* The directory is LEASE-… for run 1, LEASE-…-rN for run N (docs/run.md
	 * "Artifacts"): a meta.json of another lease or run is not this run's record. */
	char want[160];
	if (r->run == 1)
		snprintf(want, sizeof(want), "%s", r->lease);
	else
		snprintf(want, sizeof(want), "%s-r%" PRIu32, r->lease, r->run);
	if (strcmp(want, r->name) != 0)
		return errmsg(err, errlen, -EBADMSG,
			      "run %s: meta.json is damaged: it is the record of %s (lease %s, run %" PRIu32 ")",
			      where, want, r->lease, r->run);
	return 0;
}

/* events.jsonl: every line that is a JSON object, in order; the others counted. */
static int load_events(int run_fd, struct report_run *r, char *err, size_t errlen)
{
	r->events = cJSON_CreateArray();
	if (!r->events)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int fd = safedir_openat(run_fd, "events.jsonl", O_RDONLY, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return errmsg(err, errlen, fd, "run %s: events.jsonl: %s", r->name, strerror(-fd));
	FILE *f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	r->events_present = true;
	char *line = NULL;
	size_t cap = 0, kept = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			len--;
		if (len == 0)
			continue;
		if (kept >= REPORT_MAX_EVENT_LINES) {
			r->events_omitted++;
			continue;
		}
		cJSON *j = (size_t)len <= REPORT_MAX_EVENT_LINE ? cJSON_ParseWithLength(line, (size_t)len) : NULL;
		if (!cJSON_IsObject(j)) {
			cJSON_Delete(j);
			r->events_bad++;
			continue;
		}
		cJSON_AddItemToArray(r->events, j);
		kept++;
	}
	int rc = ferror(f) ? errmsg(err, errlen, -EIO, "run %s: events.jsonl: read error", r->name) : 0;
	free(line);
	fclose(f);
	return rc;
}

static int load_excerpt(int run_fd, const char *file, struct report_excerpt *x, const char *name,
			char *err, size_t errlen)
{
	_cleanup_close_ int fd = safedir_openat(run_fd, file, O_RDONLY, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return errmsg(err, errlen, fd, "run %s: %s: %s", name, file, strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errmsg(err, errlen, -errno, "run %s: %s: %s", name, file, strerror(errno));
	x->present = true;
	x->size = (uint64_t)st.st_size;
	x->data = malloc(REPORT_EXCERPT_BYTES + 1);
	if (!x->data)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	size_t got = 0;
	while (got < REPORT_EXCERPT_BYTES) {
		ssize_t k = pread(fd, x->data + got, REPORT_EXCERPT_BYTES - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return errmsg(err, errlen, -errno, "run %s: %s: %s", name, file, strerror(errno));
		if (k == 0)
			break;
		got += (size_t)k;
	}
	x->len = got;
	x->data[got] = '\0';
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct report_artifact *)a)->name, ((const struct report_artifact *)b)->name);
}

/* Every regular file of the run directory with its BLAKE2b-256, and the hash meta.json
 * records for it. Hidden temp files (a run directory is complete once renamed into place,
 * so there should be none) are listed like any other file. */
static int load_artifacts(int run_fd, struct report_run *r, char *err, size_t errlen)
{
	DIR *d = fileio_fdopendir_dup(run_fd);
	if (!d)
		return errmsg(err, errlen, -errno, "run %s: listing the directory: %s", r->name, strerror(errno));
	r->artifacts = calloc(REPORT_MAX_ARTIFACTS, sizeof(*r->artifacts));
	if (!r->artifacts) {
		closedir(d);
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	const cJSON *recorded = get(r->meta, "artifacts");
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(run_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
			r->artifacts_other++;
			continue;
		}
		if (r->n_artifacts >= REPORT_MAX_ARTIFACTS || strlen(e->d_name) >= sizeof(r->artifacts[0].name)) {
			r->artifacts_omitted++;
			continue;
		}
		struct report_artifact *a = &r->artifacts[r->n_artifacts++];
		snprintf(a->name, sizeof(a->name), "%s", e->d_name);
		int rc = artifact_hash_file(run_fd, a->name, a->blake2b, &a->bytes);
		if (rc < 0) {
			a->blake2b[0] = '\0';
			snprintf(a->error, sizeof(a->error), "%s", strerror(-rc));
		}
		const char *h = cJSON_GetStringValue(get(get(recorded, a->name), "blake2b"));
		if (h)
			snprintf(a->recorded, sizeof(a->recorded), "%s", h);
	}
	int rc = errno ? errmsg(err, errlen, -errno, "run %s: listing the directory: %s", r->name,
				strerror(errno)) : 0;
	closedir(d);
	if (r->n_artifacts)   /* qsort of a NULL array is undefined, even of 0 entries */
		qsort(r->artifacts, r->n_artifacts, sizeof(*r->artifacts), by_name);
	return rc;
}

/* data.run of a record: its number, 0 when it has none (lease_event.verified). */
static uint32_t record_run(const cJSON *rec)
{
	const cJSON *n = get(get(rec, "data"), "run");
	return cJSON_IsNumber(n) && n->valuedouble >= 1 ? (uint32_t)n->valuedouble : 0;
}

/* The log's records of this lease that belong to this run: data.run is the run, or there
 * is no data.run (lease_event.verified, which comes before the run number is known:
 * every run of a multi-run lease shows the verified records of all of its runs). */
static int load_svf(int log_fd, struct report_run *r)
{
	r->svf = cJSON_CreateArray();
	if (!r->svf)
		return -ENOMEM;
	if (log_fd < 0)
		return 0;
	int fd = dup(log_fd);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	rewind(f);
	/* As every reader of the log: LOCK_SH, so no line is seen half appended. */
	flock(fd, LOCK_SH);
	char needle[200];
	snprintf(needle, sizeof(needle), "\"lease\":\"%s\"", r->lease);
	char *line = NULL;
	size_t cap = 0, kept = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (!strstr(line, needle))
			continue;   /* cheap filter before parsing */
		cJSON *j = cJSON_ParseWithLength(line, (size_t)len);
		const char *l = cJSON_GetStringValue(get(j, "lease"));
		uint32_t run = record_run(j);
		if (!l || strcmp(l, r->lease) != 0 || (run && run != r->run)) {
			cJSON_Delete(j);
			continue;
		}
		if (kept >= REPORT_MAX_SVF_RECORDS) {
			cJSON_Delete(j);
			r->svf_omitted++;
			continue;
		}
		cJSON_AddItemToArray(r->svf, j);
		kept++;
	}
	if (ferror(f))
		snprintf(r->svf_error, sizeof(r->svf_error), "read error");
	free(line);
	fclose(f);
	return 0;
}

static void set_reason(struct report_audit *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_reason(struct report_audit *a, const char *fmt, ...)
{
	if (!a->verifies)
		return;   /* the first reason is the one shown */
	a->verifies = false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
}

static const struct report_artifact *artifact(const struct report_run *r, const char *name)
{
	for (size_t i = 0; i < r->n_artifacts; i++)
		if (!strcmp(r->artifacts[i].name, name))
			return &r->artifacts[i];
	return NULL;
}

/* The log's hash chain: the one call that `calyx audit verify` (signed checkpoints of
 * the head, which also catch lines cut off the end) is to replace. svf_verify_file_ex
 * takes a path: the log already open beneath the state dir (no symlink followed) is named
 * by its /proc/self/fd link, so the file verified is the file read. Its messages start
 * with that name: shown as the log's own. */
/* The whole log, as `calyx audit verify --allow-unsigned-tail` checks it, with the state
 * dir's own audit public key (the page says which key; an auditor with the key they were
 * given runs `calyx audit verify --pub`). */
static bool chain_verifies(int state_fd, struct report_audit *a)
{
	uint8_t pk[PASERK_PK_BYTES];
	char why[512];
	int rc = auditkey_load_public(state_fd, pk, why, sizeof(why));
	if (rc < 0) {
		set_reason(a, "the audit log's public key %s cannot be read: %s", AUDITKEY_PUBLIC,
			   rc == -ENOENT ? "missing" : why);
		return false;
	}
	_cleanup_close_ int dfd = safedir_openat(state_fd, STATE_SVF_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0) {
		set_reason(a, "the audit log directory %s cannot be opened: %s", STATE_SVF_DIR, strerror(-dfd));
		return false;
	}
	struct audit_result res;
	enum audit_fault f = audit_verify(dfd, pk, true, &res);
	if (f == AUDIT_INTACT) {
		a->records = res.records;
		snprintf(a->head, sizeof(a->head), "%s", res.head);
		return true;
	}
	set_reason(a, "the audit log does not verify (%s, exit %d of calyx audit verify): %s: %s",
		   audit_fault_name(f), audit_fault_exit(f), res.where, res.msg);
	return false;
}

void report_audit_status(int state_fd, int log_fd, struct report_run *r)
{
	struct report_audit *a = &r->audit;
	memset(a, 0, sizeof(*a));
	a->verifies = true;
	if (log_fd < 0) {
		set_reason(a, "there is no audit log (%s)", STATE_SVF_LOG);
		return;
	}
	if (!chain_verifies(state_fd, a))
		return;
	a->chain_verifies = true;
	if (r->svf_error[0]) {
		set_reason(a, "reading the audit log: %s", r->svf_error);
		return;
	}

	/* This run's records in it. */
	const cJSON *completed = NULL;
	const cJSON *rec;
	cJSON_ArrayForEach(rec, r->svf) {
		const char *type = cJSON_GetStringValue(get(rec, "type"));
		const cJSON *seq = get(rec, "seq");
		if (!type || !cJSON_IsNumber(seq) || record_run(rec) != r->run)
			continue;
		if (!strcmp(type, "exec_event.started") && !a->started_seq)
			a->started_seq = (uint64_t)seq->valuedouble;
		if (!strcmp(type, "exec_event.completed")) {
			a->completed_seq = (uint64_t)seq->valuedouble;
			completed = rec;
		}
	}
	if (!a->started_seq)
		set_reason(a, "the log has no exec_event.started record of run %" PRIu32 " of %s", r->run, r->lease);
	if (!completed) {
		set_reason(a, "the log has no exec_event.completed record of run %" PRIu32 " of %s", r->run, r->lease);
	} else {
		const char *mh = cJSON_GetStringValue(get(get(completed, "data"), "meta_blake2b"));
		const struct report_artifact *m = artifact(r, "meta.json");
		if (!mh)
			set_reason(a, "the completion record (seq %" PRIu64 ") holds no meta_blake2b", a->completed_seq);
		else if (!m || !m->blake2b[0])
			set_reason(a, "meta.json could not be hashed");
		else if (strcmp(mh, m->blake2b) != 0)
			set_reason(a, "meta.json's BLAKE2b-256 %s is not the %s the completion record (seq %" PRIu64 ") holds",
				   m->blake2b, mh, a->completed_seq);
	}
	/* The files against meta.json (itself vouched for by the chain, above). */
	for (size_t i = 0; i < r->n_artifacts; i++) {
		const struct report_artifact *f = &r->artifacts[i];
		if (f->recorded[0] && strcmp(f->recorded, f->blake2b) != 0)
			set_reason(a, "%s: its BLAKE2b-256 %s is not the %s meta.json records", f->name,
				   f->blake2b[0] ? f->blake2b : "(unreadable)", f->recorded);
	}
	const cJSON *listed = get(r->meta, "artifacts");
	cJSON_ArrayForEach(rec, listed) {
		if (rec->string && cJSON_GetStringValue(get(rec, "blake2b")) && !artifact(r, rec->string))
			set_reason(a, "meta.json records %s, which is not in the run directory", rec->string);
	}
}

int report_load(int state_fd, const char *state_path, const char *name, struct report_run *r,
		char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	if (!fileio_plain_name(name) || strlen(name) >= sizeof(r->name))
		return errmsg(err, errlen, -EINVAL, "'%s' is not a run name (LEASE-… or LEASE-…-rN)", name);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->state_path, sizeof(r->state_path), "%s", state_path);

	char rel[256];
	snprintf(rel, sizeof(rel), "%s/%s", STATE_RUNS_DIR, name);
	_cleanup_close_ int run_fd = safedir_openat(state_fd, rel, O_RDONLY | O_DIRECTORY, 0);
	if (run_fd == -ENOENT)
		return errmsg(err, errlen, -ENOENT,
			      "no run %s in %s/%s (a run in progress has no directory there until it ends;"
			      " the N-th run of a multi-run lease is LEASE-…-rN)", name, state_path, STATE_RUNS_DIR);
	if (run_fd < 0)
		return errmsg(err, errlen, run_fd, "run %s (%s/%s): %s", name, state_path, rel, strerror(-run_fd));

	int rc = load_meta(run_fd, r, err, errlen);
	if (rc == 0)
		rc = load_events(run_fd, r, err, errlen);
	if (rc == 0)
		rc = load_excerpt(run_fd, "stdout.log", &r->out, name, err, errlen);
	if (rc == 0)
		rc = load_excerpt(run_fd, "stderr.log", &r->err, name, err, errlen);
	if (rc == 0)
		rc = load_artifacts(run_fd, r, err, errlen);
	if (rc < 0) {
		report_run_free(r);
		return rc;
	}

	_cleanup_close_ int log_fd = safedir_openat(state_fd, STATE_SVF_LOG, O_RDONLY, 0);
	if (log_fd < 0 && log_fd != -ENOENT) {
		report_run_free(r);
		return errmsg(err, errlen, log_fd, "%s/%s: %s", state_path, STATE_SVF_LOG, strerror(-log_fd));
	}
	r->svf_present = log_fd >= 0;
	rc = load_svf(log_fd, r);
	if (rc < 0) {
		report_run_free(r);
		return errmsg(err, errlen, rc, "%s/%s: %s", state_path, STATE_SVF_LOG, strerror(-rc));
	}
	/* meta.json's own hash is vouched for by the completion record, not by itself. */
	const cJSON *rec;
	cJSON_ArrayForEach(rec, r->svf) {
		const char *type = cJSON_GetStringValue(get(rec, "type"));
		const char *mh = cJSON_GetStringValue(get(get(rec, "data"), "meta_blake2b"));
		if (type && !strcmp(type, "exec_event.completed") && mh && record_run(rec) == r->run)
			for (size_t i = 0; i < r->n_artifacts; i++)
				if (!strcmp(r->artifacts[i].name, "meta.json"))
					snprintf(r->artifacts[i].recorded, sizeof(r->artifacts[i].recorded), "%s", mh);
	}
	report_audit_status(state_fd, log_fd, r);
	return 0;
}

void report_run_free(struct report_run *r)
{
	cJSON_Delete(r->meta);
	cJSON_Delete(r->events);
	cJSON_Delete(r->svf);
	free(r->out.data);
	free(r->err.data);
	free(r->artifacts);
	r->meta = r->events = r->svf = NULL;
	r->out.data = r->err.data = NULL;
	r->artifacts = NULL;
	r->lease = NULL;
}
