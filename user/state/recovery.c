/* Runner records and the sweep that finishes dead runners' runs: see recovery.h. */
#include "state/recovery.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "audit/completion.h"
#include "audit/auditlog.h"
#include "audit/svf.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"
#include "base/testhook.h"
#include "rollback/pack.h"
#include "state/artifacts.h"
#include "state/rollrec.h"
#include "state/runmeta.h"
#include "state/state.h"

#define RUNNERS_LOCK_MS 30000
#define RECORD_MAX 65536   /* a record (or a meta.json read back) is far smaller */

/* STATE/run, made if needed, opened and locked (every writer and sweeper of records). */
static int runners_dir_lock(const struct state_place *state, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "%s/%s", state->path, STATE_RUNNERS_DIR);
	_cleanup_close_ int fd = safedir_mkdirs(state->fd, STATE_RUNNERS_DIR, STATE_DIR_MODE);
	if (fd < 0)
		return fd;
	int rc = fileio_flock_timed(fd, LOCK_EX, RUNNERS_LOCK_MS);
	if (rc < 0)
		return rc;
	return TAKE_FD(fd);
}

/* Write j as STATE/run/<name> (dfd: STATE/run, locked by the caller), locked before it
 * gets its name (the lock follows the inode through the rename). 0 with *out, or -errno
 * with a message. */
static int record_write_locked(const struct state_place *state, int dfd, const char *dir, cJSON *j,
			       const char *name, struct run_record_lock *out, char *err, size_t errlen)
{
	char tmp[192 + 16];
	_cleanup_free_ char *txt = cJSON_PrintUnformatted(j);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	snprintf(out->path, sizeof(out->path), "%s/%s", dir, name);
	snprintf(out->name, sizeof(out->name), "%s", name);
	if (!txt)
		return errmsg(err, errlen, -ENOMEM, "runner record %s: %s", out->path, strerror(ENOMEM));
	unlinkat(dfd, tmp, 0);
	_cleanup_close_ int fd = safedir_openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0640);
	int rc = fd < 0 ? fd : 0;
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || (rc = fileio_write_all(fd, txt, strlen(txt))) < 0 ||
	    (rc = fileio_write_all(fd, "\n", 1)) < 0 || fsync(fd) < 0 ||
	    renameat2(dfd, tmp, dfd, out->name, RENAME_NOREPLACE) < 0 || fsync(dfd) < 0) {
		/* Never 0 here: a failure that left errno 0 must not pass for a record written. */
		if (!rc)
			rc = errno ? -errno : -EIO;
		unlinkat(dfd, tmp, 0);
		return errmsg(err, errlen, rc, "runner record %s: %s", out->path, strerror(-rc));
	}
	/* Closing dfd drops the directory lock; the record stays locked by out->fd. The
	 * directory is opened anew for the record's removal: a dup of dfd would share its
	 * open file and so hold the directory lock for the whole run. */
	out->dirfd = safedir_openat(state->fd, STATE_RUNNERS_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (out->dirfd < 0) {
		rc = out->dirfd;
		out->dirfd = -1;
		unlinkat(dfd, out->name, 0);
		return errmsg(err, errlen, rc, "runner record %s: %s", out->path, strerror(-rc));
	}
	out->fd = TAKE_FD(fd);
	return 0;
}

/* A record j named name in STATE/run, its "start" (now) added last, written under flock
 * on STATE/run and locked (record_write_locked). 0 with *out, or -errno with a message. */
static int record_put(const struct state_place *state, cJSON *j, const char *name, struct run_record_lock *out,
		      char *err, size_t errlen)
{
	char dir[PATH_MAX + 64], start[32];
	out->fd = out->dirfd = -1;
	out->path[0] = out->name[0] = '\0';
	if (!j)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	_cleanup_close_ int dfd = runners_dir_lock(state, dir, sizeof(dir));
	if (dfd < 0)
		return errmsg(err, errlen, dfd, "state dir %s: %s: %s", state->path, STATE_RUNNERS_DIR,
			      strerror(-dfd));
	svf_format_now(start);
	cJSON_AddStringToObject(j, "start", start);
	return record_write_locked(state, dfd, dir, j, name, out, err, errlen);
}

int recovery_record_write(const struct state_place *state, const struct run_record *rec,
			  struct run_record_lock *out, char *err, size_t errlen)
{
	char name[192];
	_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "schema", 1);
	cJSON_AddNumberToObject(j, "runner_pid", (double)getpid());
	cJSON_AddStringToObject(j, "lease", rec->lease);
	cJSON_AddStringToObject(j, "intent", rec->intent);
	cJSON_AddNumberToObject(j, "run", rec->run);
	cJSON_AddNumberToObject(j, "runs_allowed", rec->runs_allowed);
	cJSON_AddStringToObject(j, "run_dir", rec->run_dir);
	cJSON_AddStringToObject(j, "run_dir_tmp", rec->run_dir_tmp);
	cJSON_AddItemToObject(j, "argv", runmeta_argv(rec->argv, rec->argc));
	cJSON_AddStringToObject(j, "binary", rec->binary);
	cJSON_AddStringToObject(j, "backend", rec->backend);
	cJSON_AddStringToObject(j, "cgroup", rec->cgroup);
	snprintf(name, sizeof(name), "%s.json", rec->run_dir);
	return record_put(state, j, name, out, err, errlen);
}

int recovery_consuming_write(const struct state_place *state, const struct consuming_record *rec,
			     struct run_record_lock *out, char *err, size_t errlen)
{
	char name[192];
	_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "schema", 1);
	cJSON_AddStringToObject(j, "state", "consuming");
	cJSON_AddNumberToObject(j, "runner_pid", (double)getpid());
	cJSON_AddStringToObject(j, "lease", rec->lease);
	cJSON_AddStringToObject(j, "intent", rec->intent);
	cJSON_AddStringToObject(j, "iss", rec->iss);
	cJSON_AddNumberToObject(j, "runs_allowed", rec->runs_allowed);
	if (rec->ledger) {
		cJSON_AddStringToObject(j, "ledger", rec->ledger);
	} else {
		cJSON_AddStringToObject(j, "group", rec->group);
		cJSON_AddStringToObject(j, "nonce", rec->nonce);
	}
	snprintf(name, sizeof(name), "%s%s-%d.json", CONSUMING_PREFIX, rec->lease, (int)getpid());
	return record_put(state, j, name, out, err, errlen);
}

void recovery_record_release(struct run_record_lock *rl, bool keep)
{
	if (rl->fd >= 0) {
		if (!keep && rl->dirfd >= 0)
			unlinkat(rl->dirfd, rl->name, 0);
		close(rl->fd);   /* drops the lock */
	}
	if (rl->dirfd >= 0)
		close(rl->dirfd);
	rl->fd = rl->dirfd = -1;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return v ? v : "";
}

/* NaN (printed as null) when absent. */
static double jnum(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool plain_name(const char *s)
{
	return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

#define ABANDONED_REASON "the runner ended (killed or crashed) without finishing the run; its sandbox died " \
	"with it (PID namespace) or was killed by the sweep"
#define UNWRITTEN_REASON "the run finished, but its runner could not write its artifacts (meta.json or " \
	"events.jsonl; its exec_event.completed says artifacts_written false): this meta.json is the sweep's, " \
	"listing what the runner had written; the run's outcome is in that completion record"

/* meta.json of a run whose runner died (status "abandoned") or could not write it
 * (status "artifacts_not_written"): what is known, and what the directory holds. */
static cJSON *swept_meta(const cJSON *rec, const struct svf_run_state *st, int dirfd, const char *now,
			 const char *status, const char *reason)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(rec, "argv");
	struct runmeta_head h = {
		.lease = jstr(rec, "lease"),
		.intent = jstr(rec, "intent"),
		.run = jnum(rec, "run"),
		.runs_allowed = jnum(rec, "runs_allowed"),
		.argv = cJSON_IsArray(argv) ? cJSON_Duplicate(argv, 1) : NULL,
		.binary = jstr(rec, "binary"),
		.start = st->started_ts[0] ? st->started_ts : jstr(rec, "start"),
		.status = status,
	};
	cJSON *m = runmeta_head(&h);
	if (!m)
		return NULL;
	cJSON *ab = cJSON_AddObjectToObject(m, status);
	cJSON_AddNumberToObject(ab, "runner_pid", jnum(rec, "runner_pid"));
	cJSON_AddStringToObject(ab, "reason", reason);
	cJSON_AddStringToObject(ab, "detected", now);
	cJSON_AddNumberToObject(ab, "swept_by_pid", (double)getpid());
	cJSON *enf = cJSON_AddObjectToObject(m, "enforcement");
	cJSON_AddStringToObject(enf, "backend", jstr(rec, "backend"));
	cJSON_AddStringToObject(enf, "cgroup", jstr(rec, "cgroup"));
	cJSON_AddItemToObject(m, "artifacts", runmeta_artifacts(dirfd));
	/* The rollback pack the runner made before it started the command (docs/rollback.md):
	 * recorded so that `calyx rollback` can put the paths back, with --force (nobody
	 * walked them after the run). */
	cJSON *pack = runmeta_file(dirfd, RB_PACK_NAME), *man = pack ? runmeta_file(dirfd, RB_MANIFEST_NAME) : NULL;
	if (pack && man) {
		cJSON_AddNullToObject(m, "changes");
		cJSON *rb = cJSON_AddObjectToObject(m, "rollback");
		cJSON_AddItemToObject(rb, "pack", pack);
		cJSON_AddItemToObject(rb, "manifest", man);
		cJSON_AddNullToObject(rb, "after");
		cJSON_AddStringToObject(rb, "after_error", "the runner did not record the paths after the run");
	} else {
		cJSON_Delete(pack);
		cJSON_Delete(man);
	}
	return m;
}

/* meta.json of a run directory already in place, NULL when it cannot be read. */
static cJSON *meta_read(int dirfd)
{
	char buf[RECORD_MAX];
	_cleanup_close_ int fd = dirfd >= 0 ? safedir_openat(dirfd, "meta.json", O_RDONLY, 0) : -1;
	ssize_t n = fd >= 0 ? fileio_read_all(fd, buf, sizeof(buf)) : -1;
	return n > 0 ? cJSON_ParseWithLength(buf, (size_t)n) : NULL;
}

static int recovered_record(const struct state_place *state, const cJSON *rec, const char *final,
			    const char *meta_hash, const char *lease, const char *intent, uint32_t run, char *err,
			    size_t errlen);

/* A finished run's temp run directory (its runner could not write meta.json or
 * events.jsonl): into place with the sweep's meta.json (status "artifacts_not_written"),
 * and exec_event.artifacts_recovered naming it, sealed. 0, or -errno (kept for the next
 * sweep: a rename done and a record not written is finished then, the directory being in
 * place and no artifacts_recovered in the log). */
static int recover_unwritten(const struct state_place *state, const cJSON *rec, const struct svf_run_state *st,
			     struct run_dir *rd, const char *lease, const char *intent, uint32_t run, char *err,
			     size_t errlen)
{
	char now[32], meta_hash[ARTIFACT_HASH_HEX + 1] = "";
	svf_format_now(now);
	_cleanup_cjson_ cJSON *meta = swept_meta(rec, st, rd->fd, now, "artifacts_not_written", UNWRITTEN_REASON);
	if (!meta)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = runmeta_write(rd->fd, meta, meta_hash, err, errlen);
	if (rc == 0)
		rc = run_dir_commit(rd, err, errlen);
	if (rc < 0)
		return rc;
	testhook_crash_point("recovered");   /* the directory in place, its record not yet */
	return recovered_record(state, rec, rd->final_name, meta_hash, lease, intent, run, err, errlen);
}

/* exec_event.artifacts_recovered: the run directory the sweep moved into place. */
static int recovered_record(const struct state_place *state, const cJSON *rec, const char *final,
			    const char *meta_hash, const char *lease, const char *intent, uint32_t run, char *err,
			    size_t errlen)
{
	_cleanup_cjson_ cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddNumberToObject(d, "run", run) || !cJSON_AddStringToObject(d, "run_dir", final) ||
	    !cJSON_AddStringToObject(d, "meta_blake2b", meta_hash) ||
	    !cJSON_AddStringToObject(d, "status", "artifacts_not_written") ||
	    !cJSON_AddNumberToObject(d, "runner_pid", jnum(rec, "runner_pid")) ||
	    !cJSON_AddStringToObject(d, "completed_by", "sweep"))
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	return auditlog_append_one(state->fd, "exec_event.artifacts_recovered", lease, intent, d, true, err, errlen,
				   NULL);
}

/* Finish one dead runner's run from its record. 0 when the record can go. */
static int finish_abandoned(const struct state_place *state, const cJSON *rec, char *err, size_t errlen)
{
	const char *lease = jstr(rec, "lease"), *intent = jstr(rec, "intent");
	const char *final = jstr(rec, "run_dir"), *tmp = jstr(rec, "run_dir_tmp");
	const cJSON *rn = cJSON_GetObjectItemCaseSensitive(rec, "run");
	if (!*lease || !plain_name(final) || final[0] == '.' || !plain_name(tmp) || tmp[0] != '.' ||
	    !cJSON_IsNumber(rn) || rn->valuedouble < 1 || rn->valuedouble > UINT32_MAX)
		return errmsg(err, errlen, -EBADMSG, "malformed record");
	uint32_t run = (uint32_t)rn->valuedouble;
	char runs_dir[PATH_MAX + 64];
	snprintf(runs_dir, sizeof(runs_dir), "%s/%s", state->path, STATE_RUNS_DIR);
	struct svf_run_state st;
	int rc = svf_find_run_at(state->fd, STATE_SVF_LOG, lease, run, &st, err, errlen);
	if (rc < 0)
		return rc;
	if (st.completed && st.recovered)
		return 0;

	struct run_dir rd;
	memset(&rd, 0, sizeof(rd));
	rd.fd = -1;
	rd.parent_fd = safedir_openat(state->fd, STATE_RUNS_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (rd.parent_fd < 0)
		return errmsg(err, errlen, rd.parent_fd, "%s: %s", runs_dir, strerror(-rd.parent_fd));
	snprintf(rd.final_name, sizeof(rd.final_name), "%s", final);
	snprintf(rd.tmp_name, sizeof(rd.tmp_name), "%s", tmp);
	rd.fd = safedir_openat(rd.parent_fd, tmp, O_RDONLY | O_DIRECTORY, 0);
	if (st.completed) {
		/* Its completion record is there: nothing is owed but a temp run directory the
		 * runner could not commit (its artifacts failed), which holds the rollback pack. */
		rc = rd.fd >= 0 ? recover_unwritten(state, rec, &st, &rd, lease, intent, run, err, errlen) : 0;
		if (rd.fd < 0) {
			/* A sweep killed between moving it into place and its record: the record now. */
			_cleanup_close_ int dfd = safedir_openat(rd.parent_fd, final, O_RDONLY | O_DIRECTORY, 0);
			_cleanup_cjson_ cJSON *m = meta_read(dfd);
			char meta_hash[ARTIFACT_HASH_HEX + 1];
			uint64_t bytes;
			const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "status"));
			if (status && !strcmp(status, "artifacts_not_written") &&
			    artifact_hash_file(dfd, "meta.json", meta_hash, &bytes) == 0)
				rc = recovered_record(state, rec, final, meta_hash, lease, intent, run, err, errlen);
		}
		run_dir_close(&rd);
		return rc;
	}
	if (!st.started) {
		/* Died before exec_event.started: nothing ran. Like its own teardown would. */
		run_dir_discard(&rd);
		run_dir_close(&rd);
		return 0;
	}

	char meta_hash[ARTIFACT_HASH_HEX + 1] = "";
	bool hashed = false;
	const char *run_dir = final;
	_cleanup_cjson_ cJSON *meta = NULL;
	struct stat fst;
	if (rd.fd >= 0) {
		char now[32];
		svf_format_now(now);
		meta = swept_meta(rec, &st, rd.fd, now, "abandoned", ABANDONED_REASON);
		rc = runmeta_write(rd.fd, meta, meta_hash, err, errlen);
		if (rc == 0)
			rc = run_dir_commit(&rd, err, errlen);
		if (rc < 0) {
			run_dir_close(&rd);
			return rc;
		}
		hashed = true;
		testhook_crash_point("sweep");   /* the dead run's meta.json in place, its completion not yet */
	} else if (fstatat(rd.parent_fd, final, &fst, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Died between renaming its run directory into place and its completion
		 * record: the run finished and its meta.json says how. */
		_cleanup_close_ int dfd = safedir_openat(rd.parent_fd, final, O_RDONLY | O_DIRECTORY, 0);
		meta = meta_read(dfd);
		uint64_t bytes;
		hashed = dfd >= 0 && artifact_hash_file(dfd, "meta.json", meta_hash, &bytes) == 0;
	} else {
		run_dir = "";   /* its run directory is gone */
	}
	run_dir_close(&rd);
	struct svf_completion c = {
		.run = run,
		.meta = meta,
		.denials_not_logged = -1,
		.run_dir = run_dir,
		.meta_hash = hashed ? meta_hash : NULL,
		.by_sweep = true,
		.runner_pid = jnum(rec, "runner_pid"),
	};
	_cleanup_cjson_ cJSON *d = svf_completion_data(&c);
	if (!d)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	/* Sealed: the dead run's records, unsigned until now, are covered by a checkpoint. */
	return auditlog_append_one(state->fd, "exec_event.completed", lease, intent, d, true, err, errlen, NULL);
}

/* Another runner of lease holds its consuming record (it lives, between its ledger entry
 * and its lease_event.consumed): the ledger's count cannot be told apart from its run. */
static bool consuming_live(int dfd, const char *lease, const char *self)
{
	char prefix[192];
	snprintf(prefix, sizeof(prefix), "%s%s-", CONSUMING_PREFIX, lease);
	/* Opened anew: a dup would share the sweep's own walk's offset. */
	int nfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = nfd >= 0 ? fdopendir(nfd) : NULL;
	if (!d) {
		if (nfd >= 0)
			close(nfd);
		return true;   /* cannot tell: wait for a later sweep */
	}
	bool live = false;
	struct dirent *e;
	while (!live && (e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) || !strcmp(e->d_name, self))
			continue;
		_cleanup_close_ int fd = safedir_openat(dfd, e->d_name, O_RDONLY, 0);
		if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0)
			live = true;
	}
	closedir(d);
	return live;
}

/* A runner that died with its consuming record: every run the ledger counts for the lease
 * whose lease_event.consumed is not in the log was consumed by a runner that died before
 * writing it; the sweep writes it (completed_by "sweep"), sealed. 0 when the record can go,
 * 1 to keep it silently (another runner of the lease is consuming it now). */
/* The lease_event.consumed a dead runner owed for run k of lease, unless the log has it. */
static int consumed_owed(const struct state_place *state, const cJSON *rec, uint32_t k, const char *ledger,
			 const char *group, char *err, size_t errlen)
{
	const char *lease = jstr(rec, "lease"), *intent = jstr(rec, "intent");
	struct svf_run_state st;
	int rc = svf_find_run_at(state->fd, STATE_SVF_LOG, lease, k, &st, err, errlen);
	if (rc < 0 || st.consumed)
		return rc < 0 ? rc : 0;
	_cleanup_cjson_ cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddNumberToObject(d, "run", k) ||
	    !cJSON_AddNumberToObject(d, "runs_allowed", jnum(rec, "runs_allowed")) ||
	    !cJSON_AddNumberToObject(d, "runner_pid", jnum(rec, "runner_pid")) ||
	    (ledger && !cJSON_AddStringToObject(d, "ledger", ledger)) ||
	    (group && !cJSON_AddStringToObject(d, "group_ledger", group)) ||
	    !cJSON_AddStringToObject(d, "completed_by", "sweep"))
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	return auditlog_append_one(state->fd, "lease_event.consumed", lease, intent, d, true, err, errlen, NULL);
}

/* A group lease's consuming record: etcd says which run, if any, the dead runner's
 * transaction counted (its nonce); that run is owed its lease_event.consumed. None: the
 * transaction was never applied, nothing is owed. etcd unreachable: kept for a later
 * sweep. */
static int finish_group_consuming(const struct state_place *state, const struct recovery_report *rep,
				  const cJSON *rec, char *err, size_t errlen)
{
	const char *lease = jstr(rec, "lease"), *iss = jstr(rec, "iss");
	const char *group = jstr(rec, "group"), *nonce = jstr(rec, "nonce");
	double runs = jnum(rec, "runs_allowed");
	if (!*lease || !*iss || !*group || !*nonce || !(runs >= 1 && runs <= UINT32_MAX))
		return errmsg(err, errlen, -EBADMSG, "malformed record");
	if (!rep || !rep->group_find)
		return errmsg(err, errlen, -ENOTSUP, "a group consuming record and no group ledger to ask");
	uint32_t k = 0;
	int rc = rep->group_find(rep->ctx, group, iss, lease, (uint32_t)runs, nonce, &k, err, errlen);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	return consumed_owed(state, rec, k, NULL, group, err, errlen);
}

static int finish_consuming(const struct state_place *state, const struct recovery_report *rep, int dfd,
			    const char *name, const cJSON *rec, char *err, size_t errlen)
{
	const char *lease = jstr(rec, "lease"), *iss = jstr(rec, "iss");
	const char *ledger = jstr(rec, "ledger");
	if (cJSON_GetObjectItemCaseSensitive(rec, "group"))
		return finish_group_consuming(state, rep, rec, err, errlen);
	if (!*lease || !*iss || ledger[0] != '/')
		return errmsg(err, errlen, -EBADMSG, "malformed record");
	if (!rep || !rep->ledger_used)
		return errmsg(err, errlen, -ENOTSUP, "a consuming record and no ledger to check it against");
	if (consuming_live(dfd, lease, name))
		return 1;
	_cleanup_close_ int lfd = open(ledger, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (lfd < 0)
		return errmsg(err, errlen, -errno, "ledger %s: %s", ledger, strerror(errno));
	uint32_t used = 0;
	int rc = rep->ledger_used(lfd, iss, lease, &used);
	if (rc < 0)
		return errmsg(err, errlen, rc, "ledger %s: %s: %s", ledger, lease, strerror(-rc));
	for (uint32_t k = 1; k <= used; k++)
		if ((rc = consumed_owed(state, rec, k, ledger, NULL, err, errlen)) < 0)
			return rc;
	return 0;
}

int recovery_sweep(const struct state_place *state, const struct recovery_report *rep)
{
	char dir[PATH_MAX + 64];
	_cleanup_close_ int dfd = runners_dir_lock(state, dir, sizeof(dir));
	if (dfd < 0)
		return dfd;
	DIR *d = fileio_fdopendir_dup(dfd);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		bool is_tmp = e->d_name[0] == '.' && len > 9 && !strcmp(e->d_name + len - 9, ".json.tmp");
		bool is_rec = e->d_name[0] != '.' && len > 5 && !strcmp(e->d_name + len - 5, ".json");
		if (!is_tmp && !is_rec)
			continue;
		_cleanup_close_ int fd = safedir_openat(dfd, e->d_name, O_RDONLY, 0);
		/* A live runner holds this lock until it has finished its run. */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		if (is_tmp) {
			/* Died while writing its record: before its run directory existed. */
			unlinkat(dfd, e->d_name, 0);
			continue;
		}
		char buf[RECORD_MAX], err[PATH_MAX + 512];
		ssize_t got = fileio_read_all(fd, buf, sizeof(buf));
		_cleanup_cjson_ cJSON *rec = got > 0 ? cJSON_ParseWithLength(buf, (size_t)got) : NULL;
		bool consuming = rec && !strcmp(jstr(rec, "state"), "consuming");
		int rc = !rec ? errmsg(err, sizeof(err), -EBADMSG, "unreadable record")
			 : consuming ? finish_consuming(state, rep, dfd, e->d_name, rec, err, sizeof(err))
			 : rollrec_is(rec) ? rollrec_finish(state, rec, err, sizeof(err))
				     : finish_abandoned(state, rec, err, sizeof(err));
		if (rc == 1)
			continue;
		if (rc == 0) {
			unlinkat(dfd, e->d_name, 0);
			if (rep && rep->finished)
				rep->finished(rep->ctx, jstr(rec, "lease"),
					      jnum(rec, rollrec_is(rec) ? "rollback_pid" : "runner_pid"));
		} else if (rep && rep->failed) {
			char path[PATH_MAX + 256];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			rep->failed(rep->ctx, path, err);
		}
	}
	closedir(d);
	fsync(dfd);
	return 0;
}

/* A `calyx rollback`'s record (state/rollrec.h), through the runner records' writer. */
int recovery_rollback_write(const struct state_place *state, const struct rollback_record *rec,
			    struct run_record_lock *out, char *err, size_t errlen)
{
	char name[192];
	_cleanup_cjson_ cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "schema", 1);
	cJSON_AddStringToObject(j, "state", ROLLBACK_STATE);
	cJSON_AddStringToObject(j, "run_dir", rec->run_dir);
	cJSON_AddStringToObject(j, "lease", rec->lease);
	if (rec->intent)
		cJSON_AddStringToObject(j, "intent", rec->intent);
	else
		cJSON_AddNullToObject(j, "intent");
	cJSON_AddNumberToObject(j, "run", rec->run);
	cJSON_AddNumberToObject(j, "rollback_pid", (double)getpid());
	if ((size_t)snprintf(name, sizeof(name), "%s%s-%d.json", ROLLBACK_PREFIX, rec->run_dir, (int)getpid()) >=
	    sizeof(name)) {
		out->fd = out->dirfd = -1;
		return errmsg(err, errlen, -ENAMETOOLONG, "rollback record of %s: %s", rec->run_dir,
			      strerror(ENAMETOOLONG));
	}
	return record_put(state, j, name, out, err, errlen);
}

/* recovery_sweep for the rollback records only: `calyx rollback` first closes the story
 * of a dead rollback (any run's), without touching a dead runner's run, which is the
 * business of `calyx run` (its sweep needs the enforcer and the ledger). */
int recovery_sweep_rollbacks(const struct state_place *state, const struct recovery_report *rep)
{
	char dir[PATH_MAX + 64];
	_cleanup_close_ int dfd = runners_dir_lock(state, dir, sizeof(dir));
	if (dfd < 0)
		return dfd;
	DIR *d = fileio_fdopendir_dup(dfd);
	if (!d)
		return 0;
	struct dirent *e;
	size_t plen = strlen(ROLLBACK_PREFIX);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, ROLLBACK_PREFIX, plen) || len <= plen + 5 || strcmp(e->d_name + len - 5, ".json"))
			continue;   /* a stale .rollback-….json.tmp goes with recovery_sweep */
		_cleanup_close_ int fd = safedir_openat(dfd, e->d_name, O_RDONLY, 0);
		/* A live rollback holds this lock until its end record is written. */
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
			continue;
		char buf[RECORD_MAX], err[PATH_MAX + 512];
		ssize_t got = fileio_read_all(fd, buf, sizeof(buf));
		_cleanup_cjson_ cJSON *rec = got > 0 ? cJSON_ParseWithLength(buf, (size_t)got) : NULL;
		if (!rec || !rollrec_is(rec))
			continue;   /* not a rollback's: recovery_sweep's to judge */
		int rc = rollrec_finish(state, rec, err, sizeof(err));
		if (rc == 0) {
			unlinkat(dfd, e->d_name, 0);
			if (rep && rep->finished)
				rep->finished(rep->ctx, jstr(rec, "lease"), jnum(rec, "rollback_pid"));
		} else if (rep && rep->failed) {
			char path[PATH_MAX + 256];
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			rep->failed(rep->ctx, path, err);
		}
	}
	closedir(d);
	fsync(dfd);
	return 0;
}
