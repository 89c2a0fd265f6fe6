/* `calyx rollback` (docs/rollback.md "calyx rollback"): in order, the state dir (only
 * root's), the run directory (locked against a second rollback), meta.json's record of
 * the pack, the three files checked against the hashes it names, the manifests parsed
 * and checked, the pack checked member by member against the manifest, the tree now
 * against the tree the run left (refused unless --force), the restore, the result
 * against the manifest, and the SVF record lease_event.rolled_back. Nothing is changed
 * before every check that can refuse has passed. From just before its rollback_started on,
 * it holds a record in STATE/run (state/rollrec.h) until the log says how it ended
 * (rolled_back, or rollback_failed): a rollback killed in between is finished by the next
 * sweep (lease_event.rollback_interrupted), which every rollback runs first. */
#include "cli/rollback.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/auditlog.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/safedir.h"
#include "base/testhook.h"
#include "rollback/diff.h"
#include "rollback/manifest.h"
#include "rollback/pack.h"
#include "rollback/restore.h"
#include "rollback/snapshot.h"
#include "state/artifacts.h"
#include "state/recovery.h"
#include "state/rollrec.h"
#include "state/state.h"

#define META_MAX_BYTES (64u << 20)
#define MANIFEST_MAX_BYTES (1u << 30)

static int say(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int say(int code, const char *fmt, ...)
{
	va_list ap;
	fputs("calyx: rollback: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* A JSON file of the run directory, at most max bytes. NULL with err said. */
static cJSON *read_json(int dirfd, const char *name, size_t max, char *err, size_t errlen)
{
	_cleanup_close_ int fd = safedir_openat(dirfd, name, O_RDONLY, 0);
	if (fd < 0) {
		errmsg(err, errlen, fd, "%s: %s", name, strerror(-fd));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size >= max) {
		errmsg(err, errlen, -EFBIG, "%s: not a regular file of at most %zu bytes", name, max);
		return NULL;
	}
	_cleanup_free_ char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		errmsg(err, errlen, -ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	ssize_t n = fileio_read_all(fd, buf, (size_t)st.st_size + 1);
	if (n < 0) {
		errmsg(err, errlen, (int)n, "%s: %s", name, strerror((int)-n));
		return NULL;
	}
	cJSON *j = cJSON_ParseWithLength(buf, (size_t)n);
	if (!j)
		errmsg(err, errlen, -EINVAL, "%s: not JSON", name);
	return j;
}

/* The file meta.json's rollback.<key> names must be there with the bytes and hash named. */
static int check_file(int dirfd, const cJSON *rb, const char *key, const char *want_name, char *err, size_t errlen)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(rb, key);
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "file"));
	const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "blake2b"));
	if (!name || !hash || strcmp(name, want_name) != 0)
		return errmsg(err, errlen, -EINVAL, "meta.json names no %s (rollback.%s)", want_name, key);
	char hex[ARTIFACT_HASH_HEX + 1];
	uint64_t bytes;
	int rc = artifact_hash_file(dirfd, name, hex, &bytes);
	if (rc < 0)
		return errmsg(err, errlen, rc == -ENOENT ? -ENOENT : rc, "%s: %s", name, strerror(-rc));
	if (strcmp(hex, hash) != 0)
		return errmsg(err, errlen, -EINVAL, "%s is not the file the run wrote: its BLAKE2b-256 %s, meta.json says %s",
			      name, hex, hash);
	return 0;
}

static int load_manifest(int dirfd, const char *name, struct rb_manifest *m, char *err, size_t errlen)
{
	char why[1024];
	_cleanup_cjson_ cJSON *j = read_json(dirfd, name, MANIFEST_MAX_BYTES, why, sizeof(why));
	if (!j)
		return errmsg(err, errlen, -EINVAL, "%s", why);
	int rc = rb_manifest_from_json(j, m, why, sizeof(why));
	if (rc < 0)
		return errmsg(err, errlen, rc, "%s: %s", name, why);
	return 0;
}

static bool same_roots(const struct rb_manifest *a, const struct rb_manifest *b)
{
	if (a->n_roots != b->n_roots)
		return false;
	for (size_t i = 0; i < a->n_roots; i++)
		if (strcmp(a->roots[i], b->roots[i]) != 0)
			return false;
	return true;
}

/* The tree as it is now, hashed. */
static int snapshot_now(const struct rb_manifest *like, struct rb_manifest *now, char *err, size_t errlen)
{
	rb_manifest_init(now);
	for (size_t i = 0; i < like->n_roots; i++)
		if (rb_manifest_add_root(now, like->roots[i]) < 0)
			return errmsg(err, errlen, -ENOMEM, "out of memory");
	return rb_snapshot(now, RB_SNAP_HASH, 0, NULL, err, errlen);
}

static int count_of(const cJSON *d, const char *k)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(d, k));
}

struct rb_state {
	struct state_place sp;
	int run_fd;
	cJSON *meta;
	struct rb_manifest pre, post, now, result;
	bool have_post;
	struct run_record_lock rec;   /* the rollback's record (state/rollrec.h), fd -1: none */
	bool rec_keep;                /* the log does not say how it ended: the sweep's to finish */
};

static void state_free(struct rb_state *s)
{
	/* Before the run directory's lock goes: no second rollback while it is there. */
	recovery_record_release(&s->rec, s->rec_keep);
	state_place_close(&s->sp);
	if (s->run_fd >= 0)
		close(s->run_fd);
	cJSON_Delete(s->meta);
	rb_manifest_free(&s->pre);
	rb_manifest_free(&s->post);
	rb_manifest_free(&s->now);
	rb_manifest_free(&s->result);
}

/* The run directory, locked, and meta.json. 0 or an exit code, said. */
static int open_run(const struct rollback_opts *o, struct rb_state *s)
{
	char err[2 * PATH_MAX + 512];
	const char *state = state_dir_resolve(o->state_dir);
	if (!fileio_plain_name(o->run) || o->run[0] == '.')
		return say(EXIT_USAGE, "'%s' is not a run name (LEASE-ID or LEASE-ID-rN)", o->run);
	int rc = state_place_open(state, "state dir", &s->sp, err, sizeof(err));
	if (rc == -EPERM)
		return say(EXIT_CONFIG, "%s", err);
	if (rc < 0)
		return say(EXIT_IO, "%s", err);
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "%s/%s", STATE_RUNS_DIR, o->run);
	s->run_fd = safedir_openat(s->sp.fd, rel, O_RDONLY | O_DIRECTORY, 0);
	if (s->run_fd < 0)
		return say(EXIT_IO, "no run %s in %s/%s: %s", o->run, s->sp.path, STATE_RUNS_DIR, strerror(-s->run_fd));
	/* One rollback of a run at a time: a second one would restore over the first's work. */
	if (flock(s->run_fd, LOCK_EX | LOCK_NB) < 0)
		return say(EXIT_IO, "%s: another rollback of this run is under way", o->run);
	if (!(s->meta = read_json(s->run_fd, "meta.json", META_MAX_BYTES, err, sizeof(err))))
		return say(EXIT_IO, "%s: %s", o->run, err);
	return 0;
}

/* The pack, its manifest and the post-run manifest: the files meta.json names, parsed and
 * checked, the pack against the manifest. 0 or an exit code, said. */
static int check_pack(const struct rollback_opts *o, struct rb_state *s)
{
	char err[PATH_MAX + 1024];
	const cJSON *rb = cJSON_GetObjectItemCaseSensitive(s->meta, "rollback");
	if (!cJSON_IsObject(rb))
		return say(EXIT_IO, "%s: meta.json has no rollback pack (a run without one, or one that never finished)",
			   o->run);
	int rc;
	if ((rc = check_file(s->run_fd, rb, "pack", RB_PACK_NAME, err, sizeof(err))) < 0 ||
	    (rc = check_file(s->run_fd, rb, "manifest", RB_MANIFEST_NAME, err, sizeof(err))) < 0)
		return say(rc == -EINVAL ? EXIT_ROLLBACK_REFUSED : EXIT_IO, "%s: %s; nothing was changed", o->run, err);
	if ((rc = load_manifest(s->run_fd, RB_MANIFEST_NAME, &s->pre, err, sizeof(err))) < 0)
		return say(EXIT_ROLLBACK_REFUSED, "%s: refused: %s; nothing was changed", o->run, err);
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rb, "after"))) {
		if ((rc = check_file(s->run_fd, rb, "after", RB_AFTER_NAME, err, sizeof(err))) < 0)
			return say(rc == -EINVAL ? EXIT_ROLLBACK_REFUSED : EXIT_IO, "%s: %s; nothing was changed", o->run, err);
		if ((rc = load_manifest(s->run_fd, RB_AFTER_NAME, &s->post, err, sizeof(err))) < 0)
			return say(EXIT_ROLLBACK_REFUSED, "%s: refused: %s; nothing was changed", o->run, err);
		if (!same_roots(&s->pre, &s->post))
			return say(EXIT_ROLLBACK_REFUSED, "%s: refused: %s and %s name different paths; nothing was changed",
				   o->run, RB_MANIFEST_NAME, RB_AFTER_NAME);
		s->have_post = true;
	}
	rc = rb_pack_verify(s->run_fd, RB_PACK_NAME, &s->pre, err, sizeof(err));
	if (rc == -EINVAL)
		return say(EXIT_ROLLBACK_REFUSED, "%s: %s refused: %s; nothing was changed", o->run, RB_PACK_NAME, err);
	if (rc < 0)
		return say(EXIT_IO, "%s: %s: %s; nothing was changed", o->run, RB_PACK_NAME, err);
	return 0;
}

static const char *log_lease(const struct rollback_opts *o, const struct rb_state *s)
{
	const char *lease = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->meta, "lease"));
	return lease ? lease : o->run;
}

static const char *log_intent(const struct rb_state *s)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->meta, "intent"));
}

/* The data every rollback record starts with: the run, its directory and, for the ones
 * that speak of the tree, the paths the pack covers. */
static cJSON *record_data(const struct rollback_opts *o, const struct rb_state *s, bool with_paths)
{
	cJSON *d = cJSON_CreateObject();
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(s->meta, "run");
	cJSON_AddNumberToObject(d, "run", cJSON_IsNumber(run) ? run->valuedouble : 0);
	cJSON_AddStringToObject(d, "run_dir", o->run);
	if (with_paths) {
		cJSON *paths = cJSON_AddArrayToObject(d, "paths");
		for (size_t i = 0; i < s->pre.n_roots; i++)
			cJSON_AddItemToArray(paths, cJSON_CreateString(s->pre.roots[i]));
	}
	return d;
}

/* The record a sweep finishes this rollback from should it die: written before
 * lease_event.rollback_started. 0 or an exit code, said (nothing changed). */
static int record_start(const struct rollback_opts *o, struct rb_state *s)
{
	char err[PATH_MAX + 512];
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(s->meta, "run");
	struct rollback_record rr = {
		.lease = log_lease(o, s),
		.intent = log_intent(s),
		.run_dir = o->run,
		.run = cJSON_IsNumber(run) && run->valuedouble >= 0 && run->valuedouble <= UINT32_MAX
			       ? (uint32_t)run->valuedouble : 0,
	};
	if (recovery_rollback_write(&s->sp, &rr, &s->rec, err, sizeof(err)) < 0)
		return say(EXIT_IO, "%s: %s; nothing was changed", o->run, err);
	testhook_crash_point("rollback-record");   /* the record written, rollback_started not yet */
	return 0;
}

/* A rollback that fails after its lease_event.rollback_started: said, and the sealed
 * lease_event.rollback_failed (the reason, the exit code) ends its story in the log. When
 * that record cannot be written either, the rollback's record in STATE/run is kept: the
 * next sweep writes lease_event.rollback_interrupted. Returns code. */
static int failed(const struct rollback_opts *o, struct rb_state *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int failed(const struct rollback_opts *o, struct rb_state *s, int code, const char *fmt, ...)
{
	char reason[3 * PATH_MAX + 1024], err[PATH_MAX + 256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	say(code, "%s", reason);
	_cleanup_cjson_ cJSON *d = record_data(o, s, false);
	cJSON_AddNumberToObject(d, "pid", (double)getpid());
	cJSON_AddStringToObject(d, "reason", reason);
	cJSON_AddNumberToObject(d, "exit_code", code);
	if (auditlog_append_one(s->sp.fd, "lease_event.rollback_failed", log_lease(o, s), log_intent(s), d, true, err,
				sizeof(err), NULL) < 0) {
		s->rec_keep = true;
		say(code, "%s: the audit log: %s; %s is kept: the next calyx run or calyx rollback records that this "
		    "rollback did not finish", o->run, err, s->rec.path);
	}
	return code;
}

static int audit(const struct rollback_opts *o, struct rb_state *s, const cJSON *changes, const char *changed_since)
{
	char err[PATH_MAX + 256];
	_cleanup_cjson_ cJSON *d = record_data(o, s, true);
	cJSON_AddNumberToObject(d, "removed", count_of(changes, "created"));
	cJSON_AddNumberToObject(d, "restored_modified", count_of(changes, "modified"));
	cJSON_AddNumberToObject(d, "restored_deleted", count_of(changes, "deleted"));
	cJSON_AddNumberToObject(d, "entries", (double)s->pre.n);
	cJSON_AddBoolToObject(d, "forced", o->force);
	cJSON_AddNumberToObject(d, "pid", (double)getpid());   /* ends this process's rollback_started */
	if (changed_since)
		cJSON_AddStringToObject(d, "changed_since_run", changed_since);
	else
		cJSON_AddNullToObject(d, "changed_since_run");
	/* Through the audit log's writer, sealed: the record is covered by a signed checkpoint
	 * at once, so `calyx audit verify` finds the log intact after a rollback, not an
	 * unsigned tail (87) waiting for the next run. */
	struct audit_result why = { 0 };
	testhook_crash_point("restored");   /* the tree restored and verified, no record yet */
	int rc = auditlog_append_one(s->sp.fd, "lease_event.rolled_back", log_lease(o, s), log_intent(s), d, true,
				     err, sizeof(err), &why);
	if (rc < 0)
		return failed(o, s, why.fault ? audit_fault_exit(why.fault) : EXIT_IO,
			      "%s: the tree is restored, but the audit log: %s", o->run, err);
	return 0;
}

/* lease_event.rollback_started, sealed, before the first file is touched: a rollback
 * killed during or after the restore leaves a log that says a rollback of this run began
 * (the tree may be partly restored); the next `calyx rollback` of the run restores and
 * verifies it and writes the lease_event.rolled_back that ends the story. 0 or an exit
 * code, said (nothing changed). */
static int audit_started(const struct rollback_opts *o, struct rb_state *s)
{
	char err[PATH_MAX + 256];
	_cleanup_cjson_ cJSON *d = record_data(o, s, true);
	cJSON_AddNumberToObject(d, "entries", (double)s->pre.n);
	cJSON_AddBoolToObject(d, "forced", o->force);
	cJSON_AddNumberToObject(d, "pid", (double)getpid());
	struct audit_result why = { 0 };
	int rc = auditlog_append_one(s->sp.fd, "lease_event.rollback_started", log_lease(o, s), log_intent(s), d, true,
				     err, sizeof(err), &why);
	/* Whether the record is in the log (its checkpoint may be what failed) is the sweep's
	 * to tell from the log: the rollback's record is kept for it. */
	s->rec_keep = rc < 0;
	if (rc < 0)
		return say(why.fault ? audit_fault_exit(why.fault) : EXIT_IO,
			   "%s: the audit log: %s; nothing was changed", o->run, err);
	return 0;
}

/* The audit log must take the record before anything is restored: a log whose tail does not
 * verify (edited, cut, unsigned: audit_check_tail) refuses the rollback with that fault's
 * code, nothing changed, rather than a restored tree no record speaks of. */
static int check_log(const struct rollback_opts *o, struct rb_state *s)
{
	struct audit_result why = { 0 };
	struct auditlog *a = NULL;
	int rc = auditlog_open(s->sp.fd, NULL, &a, &why);
	auditlog_close(a);
	if (rc == 0)
		return 0;
	return say(why.fault ? audit_fault_exit(why.fault) : EXIT_IO, "%s: the audit log%s%s: %s; nothing was changed",
		   o->run, why.where[0] ? " " : "", why.where, why.msg);
}

static void sweep_failed(void *ctx, const char *record, const char *why)
{
	(void)ctx;
	say(0, "sweep: %s: %s (kept for the next sweep)", record, why);
}

/* A dead rollback's story closed first (lease_event.rollback_interrupted), so that this
 * one's records follow it. Best effort: a record that cannot be finished is said and kept. */
static void sweep_rollbacks(struct rb_state *s)
{
	struct recovery_report rep = { .failed = sweep_failed };
	int rc = recovery_sweep_rollbacks(&s->sp, &rep);
	if (rc < 0)
		say(0, "sweep: %s/%s: %s", s->sp.path, STATE_RUNNERS_DIR, strerror(-rc));
}

int rollback_run(const struct rollback_opts *o)
{
	char err[PATH_MAX + 1024];
	struct rb_state s = { .run_fd = -1, .sp.fd = -1, .rec.fd = -1, .rec.dirfd = -1 };
	_cleanup_cjson_ cJSON *changes = NULL;
	int rc;
	if ((rc = open_run(o, &s)))
		goto out;
	sweep_rollbacks(&s);
	if ((rc = check_pack(o, &s)))
		goto out;
	if (snapshot_now(&s.pre, &s.now, err, sizeof(err)) < 0) {
		rc = say(EXIT_IO, "%s: the paths now: %s; nothing was changed", o->run, err);
		goto out;
	}
	/* Whatever happened to the paths since the run would be undone too: only on purpose. */
	const char *why = "no record of the tree after the run";
	const char *changed = s.have_post ? rb_manifest_first_difference(&s.post, &s.now, &why) : "";
	if (changed && !o->force) {
		if (changed[0])
			rc = say(EXIT_ROLLBACK_CHANGED, "%s: %s changed since the run (%s): a rollback would undo that "
				 "too; --force to restore anyway; nothing was changed", o->run, changed, why);
		else
			rc = say(EXIT_ROLLBACK_CHANGED, "%s: %s (%s), so whether the paths changed since cannot be told; "
				 "--force to restore anyway; nothing was changed", o->run, why, RB_AFTER_NAME);
		goto out;
	}
	if (!(changes = rb_manifest_diff(&s.pre, &s.now))) {
		rc = say(EXIT_INTERNAL, "out of memory");
		goto out;
	}
	if ((rc = check_log(o, &s)) || (rc = record_start(o, &s)) || (rc = audit_started(o, &s)))
		goto out;
	if (rb_restore(s.run_fd, RB_PACK_NAME, &s.pre, &s.now, err, sizeof(err)) < 0) {
		rc = failed(o, &s, EXIT_IO, "%s: restoring: %s; the tree may be partly restored: run the rollback again",
			    o->run, err);
		goto out;
	}
	if (snapshot_now(&s.pre, &s.result, err, sizeof(err)) < 0) {
		rc = failed(o, &s, EXIT_IO, "%s: verifying: %s", o->run, err);
		goto out;
	}
	const char *mismatch = rb_manifest_first_difference(&s.pre, &s.result, &why);
	if (mismatch) {
		rc = failed(o, &s, EXIT_ROLLBACK_MISMATCH, "%s: after the restore %s differs from %s (%s)", o->run,
			    mismatch, RB_MANIFEST_NAME, why);
		goto out;
	}
	if ((rc = audit(o, &s, changes, changed && changed[0] ? changed : NULL)))
		goto out;
	printf("rollback: %s: restored", o->run);
	for (size_t i = 0; i < s.pre.n_roots; i++)
		printf("%s %s", i ? "," : "", s.pre.roots[i]);
	printf(" (%d created removed, %d modified and %d deleted put back%s); verified against %s\n",
	       count_of(changes, "created"), count_of(changes, "modified"), count_of(changes, "deleted"),
	       changed ? ", --force" : "", RB_MANIFEST_NAME);
	rc = EXIT_OK;
out:
	state_free(&s);
	return rc;
}
