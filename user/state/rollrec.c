/* A dead `calyx rollback`'s record, finished from the audit log: see rollrec.h. */
#include "state/rollrec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "audit/auditlog.h"
#include "audit/svf.h"
#include "audit/verify.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/safedir.h"

#define INTERRUPTED_TREE "may be partly restored: the rollback was killed after its lease_event.rollback_started " \
	"(before or during the restore, or before its lease_event.rolled_back); calyx rollback --force %s restores " \
	"the paths and verifies them against rollback.json"

static const char *jstr(const cJSON *o, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return v ? v : "";
}

bool rollrec_is(const cJSON *rec)
{
	return !strcmp(jstr(rec, "state"), ROLLBACK_STATE);
}

struct find {
	const char *lease, *run_dir, *start;
	double pid;
	struct rollrec_log *out;
};

/* One record line: a rollback record of this process (its pid, its run directory, not
 * before its record's start: a pid reused by an earlier rollback is told apart by that). */
static void match_line(struct find *f, const char *line, size_t len)
{
	_cleanup_cjson_ cJSON *j = cJSON_ParseWithLength(line, len);
	const char *type = jstr(j, "type"), *ts = jstr(j, "ts");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "data");
	bool started = !strcmp(type, "lease_event.rollback_started");
	bool interrupted = !strcmp(type, "lease_event.rollback_interrupted");
	bool end = interrupted || !strcmp(type, "lease_event.rolled_back") ||
		   !strcmp(type, "lease_event.rollback_failed");
	if ((!started && !end) || strcmp(jstr(j, "lease"), f->lease) || strcmp(jstr(d, "run_dir"), f->run_dir) ||
	    strcmp(ts, f->start) < 0)   /* fixed-width RFC 3339 UTC: in time order as strings */
		return;
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(d, interrupted ? "rollback_pid" : "pid");
	if (!cJSON_IsNumber(pid) || pid->valuedouble != f->pid)
		return;
	if (started) {
		f->out->started = true;
		snprintf(f->out->started_ts, sizeof(f->out->started_ts), "%s", ts);
	} else {
		f->out->ended = true;
	}
}

static int scan(struct find *f, int fd, const char *name, char *err, size_t errlen)
{
	FILE *fp = fdopen(fd, "re");
	if (!fp) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "%s/%s: %s", STATE_SVF_DIR, name, strerror(ENOMEM));
	}
	flock(fileno(fp), LOCK_SH);   /* never a line half appended */
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, fp)) > 0)
		if (strstr(line, "\"lease_event.roll"))   /* cheap filter before parsing */
			match_line(f, line, (size_t)len);
	int rc = ferror(fp) ? errmsg(err, errlen, -EIO, "%s/%s: read error", STATE_SVF_DIR, name) : 0;
	free(line);
	fclose(fp);
	return rc;
}

int rollrec_find(int state_fd, const char *lease, const char *run_dir, double pid, const char *start,
		 struct rollrec_log *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct find f = { .lease = lease, .run_dir = run_dir, .start = start, .pid = pid, .out = out };
	_cleanup_close_ int dfd = safedir_openat(state_fd, STATE_SVF_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return errmsg(err, errlen, dfd, "%s: %s", STATE_SVF_DIR, strerror(-dfd));
	/* svf.jsonl opened before the rotated files are listed: should it be rotated meanwhile,
	 * the file held is among them, so no record is missed (one seen twice changes nothing:
	 * the search only says whether there is one). */
	int cur = safedir_openat(dfd, "svf.jsonl", O_RDONLY, 0);
	if (cur < 0 && cur != -ENOENT)
		return errmsg(err, errlen, cur, "%s/svf.jsonl: %s", STATE_SVF_DIR, strerror(-cur));
	char **names = NULL;
	size_t n = 0;
	int rc = audit_rotated_files(dfd, &names, &n);
	if (rc < 0) {
		if (cur >= 0)
			close(cur);
		return errmsg(err, errlen, rc, "%s: %s", STATE_SVF_DIR, strerror(-rc));
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		int fd = safedir_openat(dfd, names[i], O_RDONLY, 0);
		rc = fd < 0 ? errmsg(err, errlen, fd, "%s/%s: %s", STATE_SVF_DIR, names[i], strerror(-fd))
			    : scan(&f, fd, names[i], err, errlen);
	}
	audit_free_names(names, n);
	if (cur >= 0) {
		if (rc == 0)
			rc = scan(&f, cur, "svf.jsonl", err, errlen);
		else
			close(cur);
	}
	return rc;
}

int rollrec_finish(const struct state_place *state, const cJSON *rec, char *err, size_t errlen)
{
	const char *lease = jstr(rec, "lease"), *run_dir = jstr(rec, "run_dir"), *start = jstr(rec, "start");
	const char *intent = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "intent"));
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(rec, "rollback_pid");
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(rec, "run");
	if (!*lease || !*run_dir || !*start || !cJSON_IsNumber(pid) || pid->valuedouble < 1 || !cJSON_IsNumber(run))
		return errmsg(err, errlen, -EBADMSG, "malformed record");
	struct rollrec_log lg;
	int rc = rollrec_find(state->fd, lease, run_dir, pid->valuedouble, start, &lg, err, errlen);
	if (rc < 0)
		return rc;
	/* Died before its rollback_started: nothing was touched, nothing to say. Or after its
	 * end record (rolled_back, rollback_failed; an earlier sweep's rollback_interrupted),
	 * before the record's removal: the story is told. */
	if (!lg.started || lg.ended)
		return 0;
	char tree[512], now[32];
	snprintf(tree, sizeof(tree), INTERRUPTED_TREE, run_dir);
	svf_format_now(now);
	_cleanup_cjson_ cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddNumberToObject(d, "run", run->valuedouble) ||
	    !cJSON_AddStringToObject(d, "run_dir", run_dir) ||
	    !cJSON_AddNumberToObject(d, "rollback_pid", pid->valuedouble) ||
	    !cJSON_AddStringToObject(d, "started", lg.started_ts) || !cJSON_AddStringToObject(d, "detected", now) ||
	    !cJSON_AddNumberToObject(d, "swept_by_pid", (double)getpid()) ||
	    !cJSON_AddStringToObject(d, "tree", tree) || !cJSON_AddStringToObject(d, "completed_by", "sweep"))
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	/* Sealed: the log verifies after the sweep, the dead rollback's records covered. */
	return auditlog_append_one(state->fd, "lease_event.rollback_interrupted", lease, intent, d, true, err, errlen,
				   NULL);
}
