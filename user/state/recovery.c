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

int recovery_record_write(const struct state_place *state, const struct run_record *rec,
			  struct run_record_lock *out, char *err, size_t errlen)
{
	char dir[PATH_MAX + 64], start[32], tmp[160 + 16];
	out->fd = out->dirfd = -1;
	out->path[0] = out->name[0] = '\0';
	_cleanup_close_ int dfd = runners_dir_lock(state, dir, sizeof(dir));
	if (dfd < 0)
		return errmsg(err, errlen, dfd, "state dir %s: %s: %s", state->path, STATE_RUNNERS_DIR,
			      strerror(-dfd));
	svf_format_now(start);
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
	cJSON_AddStringToObject(j, "start", start);
	_cleanup_free_ char *txt = cJSON_PrintUnformatted(j);
	snprintf(tmp, sizeof(tmp), ".%s.json.tmp", rec->run_dir);
	snprintf(out->path, sizeof(out->path), "%s/%s.json", dir, rec->run_dir);
	snprintf(out->name, sizeof(out->name), "%s.json", rec->run_dir);
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

/* meta.json of a run whose runner died: what is known, status "abandoned". */
static cJSON *abandoned_meta(const cJSON *rec, const struct svf_run_state *st, int dirfd, const char *now)
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
		.status = "abandoned",
	};
	cJSON *m = runmeta_head(&h);
	if (!m)
		return NULL;
	cJSON *ab = cJSON_AddObjectToObject(m, "abandoned");
	cJSON_AddNumberToObject(ab, "runner_pid", jnum(rec, "runner_pid"));
	cJSON_AddStringToObject(ab, "reason",
				"the runner ended (killed or crashed) without finishing the run; its sandbox died "
				"with it (PID namespace) or was killed by the sweep");
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
		cJSON_AddStringToObject(rb, "after_error", "the runner died before it walked the paths after the run");
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
	if (st.completed)
		return 0;   /* died after its completion record: nothing is owed */

	struct run_dir rd;
	memset(&rd, 0, sizeof(rd));
	rd.fd = -1;
	rd.parent_fd = safedir_openat(state->fd, STATE_RUNS_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (rd.parent_fd < 0)
		return errmsg(err, errlen, rd.parent_fd, "%s: %s", runs_dir, strerror(-rd.parent_fd));
	snprintf(rd.final_name, sizeof(rd.final_name), "%s", final);
	snprintf(rd.tmp_name, sizeof(rd.tmp_name), "%s", tmp);
	rd.fd = safedir_openat(rd.parent_fd, tmp, O_RDONLY | O_DIRECTORY, 0);
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
		meta = abandoned_meta(rec, &st, rd.fd, now);
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
		int rc = rec ? finish_abandoned(state, rec, err, sizeof(err))
			     : errmsg(err, sizeof(err), -EBADMSG, "unreadable record");
		if (rc == 0) {
			unlinkat(dfd, e->d_name, 0);
			if (rep && rep->finished)
				rep->finished(rep->ctx, jstr(rec, "lease"), jnum(rec, "runner_pid"));
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
