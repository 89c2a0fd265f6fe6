/* `calyx run` after the command (docs/run.md step 12): calyx's exit code, meta.json and
 * the other artifacts, and the run's records in the audit log. */
#include "run/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "audit/completion.h"
#include "audit/auditlog.h"
#include "audit/svf.h"
#include "base/cleanup.h"
#include "base/testhook.h"
#include "base/errmsg.h"
#include "sandbox/namespaces.h"
#include "base/exitcodes.h"
#include "enforce/landlock.h"
#include "enforce/resident.h"
#include "fleet/metrics_write.h"
#include "state/runmeta.h"

static const char *const status_names[] = { "ok", "failed", "violation", "interrupted" };

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

/* The counters of a process line (sentinel/procs.h), summed; rusage has no rchar/wchar. */
static void add_counters(cJSON *o, const struct proc_counters *c, bool have_chars)
{
	add_u64(o, "cpu_ms", c->cpu_ns / 1000000);
	add_u64(o, "cpu_ns", c->cpu_ns);
	add_u64(o, "user_ns", c->user_ns);
	add_u64(o, "sys_ns", c->sys_ns);
	add_u64(o, "maxrss_kb", c->maxrss_kb);
	add_u64(o, "min_flt", c->min_flt);
	add_u64(o, "maj_flt", c->maj_flt);
	add_u64(o, "nvcsw", c->nvcsw);
	add_u64(o, "nivcsw", c->nivcsw);
	add_u64(o, "read_bytes", c->read_bytes);
	add_u64(o, "write_bytes", c->write_bytes);
	if (have_chars) {
		add_u64(o, "rchar", c->rchar);
		add_u64(o, "wchar", c->wchar);
	} else {
		cJSON_AddNullToObject(o, "rchar");
		cJSON_AddNullToObject(o, "wchar");
	}
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

/* The whole tree's resources: the sums (and the peak RSS) of the processes whose exit
 * records arrived (the same counters as their events.jsonl lines); wait4's rusage of the
 * main process only when no exit record arrived at all. */
static cJSON *resources_json(const struct runner *r, const struct outcome *oc, const struct calyx_stats *st)
{
	cJSON *o = cJSON_CreateObject();
	const struct proc_totals *t = &r->procs.totals;
	uint64_t dropped = st ? st->v[CALYX_STAT_RB_DROPPED] : 0;
	char src[256];
	if (t->processes) {
		int n = snprintf(src, sizeof(src), "bpf exit records of %ju process%s", (uintmax_t)t->processes,
				 t->processes == 1 ? "" : "es");
		if (dropped && n > 0 && (size_t)n < sizeof(src))
			snprintf(src + n, sizeof(src) - (size_t)n,
				 "; %ju record%s lost: the totals are lower bounds", (uintmax_t)dropped,
				 dropped == 1 ? " was" : "s were");
		cJSON_AddStringToObject(o, "source", src);
		add_u64(o, "processes", t->processes);
		cJSON_AddBoolToObject(o, "lower_bound", dropped > 0);
		add_counters(o, &t->sum, true);
	} else if (oc->have_ru) {
		const struct rusage *u = &oc->ru;
		struct proc_counters c = {
			.user_ns = tv_ns(&u->ru_utime), .sys_ns = tv_ns(&u->ru_stime),
			.maxrss_kb = (uint64_t)u->ru_maxrss,
			.min_flt = (uint64_t)u->ru_minflt, .maj_flt = (uint64_t)u->ru_majflt,
			.nvcsw = (uint64_t)u->ru_nvcsw, .nivcsw = (uint64_t)u->ru_nivcsw,
			.read_bytes = (uint64_t)u->ru_inblock * 512, .write_bytes = (uint64_t)u->ru_oublock * 512,
		};
		c.cpu_ns = c.user_ns + c.sys_ns;
		cJSON_AddStringToObject(o, "source", "wait4 rusage of the main process only (no exit record arrived)");
		add_u64(o, "processes", 1);
		cJSON_AddBoolToObject(o, "lower_bound", true);
		add_counters(o, &c, false);
	} else {
		cJSON_AddStringToObject(o, "source", "none (the command never ran)");
	}
	uint64_t usec;
	if (r->cg.fd >= 0 && sandbox_cgroup_cpu_usec((struct sandbox_cgroup *)&r->cg, &usec) == 0)
		cJSON_AddNumberToObject(o, "cgroup_cpu_ms", (double)(usec / 1000));
	return o;
}

/* Denials by class, from the records. On the landlock backend Landlock's own refusals of
 * files are enforced but never seen by calyx (docs/backends.md): that class is null, not
 * a count that would read as "none". An audit-only run applies no Landlock ruleset, so
 * nothing refuses files unseen: a count. */
static cJSON *denials_json(const struct runner *r)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < DENY_CLASS_COUNT; k++) {
		if (k == DENY_FILE && r->backend == ENFORCE_LANDLOCK && !r->o->audit_only)
			cJSON_AddNullToObject(o, deny_class_name((enum deny_class)k));
		else
			cJSON_AddNumberToObject(o, deny_class_name((enum deny_class)k), (double)r->counts.denials[k]);
	}
	return o;
}

/* Audit-only would-denies by class (docs/audit-only.md), every class a count: on the
 * landlock backend the file count is of the opens the observer saw (changes that open
 * nothing are not observed there: docs/audit-only.md "The landlock backend"). */
static cJSON *would_deny_json(const struct runner *r)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < DENY_CLASS_COUNT; k++)
		cJSON_AddNumberToObject(o, deny_class_name((enum deny_class)k), (double)r->counts.would_deny[k]);
	return o;
}

int run_exit_code(const struct outcome *oc)
{
	if (oc->kill_failed)   /* first: the sandbox held a process the enforcer meant to kill */
		return EXIT_ENFORCE_UNAVAILABLE;
	if (oc->interrupted_by)
		return 128 + oc->interrupted_by;
	if (oc->status == ST_VIOLATION)
		return oc->v.limit == LIMIT_WALL ? EXIT_TIMEOUT : EXIT_LIMIT;
	if (oc->spawn_stage == SB_STAGE_EXEC)
		return oc->spawn_errno == ENOENT ? 127 : 126;
	if (oc->spawn_stage == SB_STAGE_CONFINE || oc->spawn_stage == SB_STAGE_LIVE ||
	    oc->spawn_stage == SB_STAGE_NAMESPACES || oc->spawn_stage == SB_STAGE_CGROUP ||
	    (oc->spawn_stage >= SB_STAGE_VIEW && oc->spawn_stage <= SB_STAGE_VIEW_LAST))
		return EXIT_ENFORCE_UNAVAILABLE;
	if (oc->spawn_stage == SB_STAGE_CWD)
		return EXIT_IO;
	if (oc->spawn_stage)
		return EXIT_INTERNAL;
	if (oc->exited)
		return oc->exit_code;
	if (oc->signal)
		return 128 + oc->signal;
	return EXIT_INTERNAL;
}

/* The "enforcement" object: which backend, why, and what it was given. */
static cJSON *enforcement_json(const struct runner *r)
{
	cJSON *enf = cJSON_CreateObject();
	struct utsname u;
	uname(&u);
	cJSON_AddStringToObject(enf, "backend", enforce_backend_name(r->backend));
	cJSON_AddStringToObject(enf, "requested", enforce_backend_name(r->o->enforce));
	cJSON_AddStringToObject(enf, "matrix_requires", enforce_backend_name(r->m.enforcement));
	cJSON_AddStringToObject(enf, "reason", r->backend_why);
	cJSON_AddStringToObject(enf, "kernel", u.release);   /* kernel release (uname -r) */
	if (r->ll)
		cJSON_AddStringToObject(enf, "landlock", r->ll_desc);
	cJSON_AddStringToObject(enf, "cgroup", r->cg.path);
	cJSON_AddNumberToObject(enf, "cgroup_id", (double)r->cg.cgid);
	cJSON_AddNumberToObject(enf, "exec_rules", (double)r->n_exec);
	cJSON_AddNumberToObject(enf, "argv_rules", (double)r->n_argv);
	cJSON_AddNumberToObject(enf, "path_rules", (double)r->n_paths);
	if (r->l.network == NET_ALLOW) {
		/* the rules in the claim's shape; the sandbox had the host's network namespace */
		cJSON *net = cJSON_AddObjectToObject(enf, "network");
		cJSON *allow = net ? cJSON_AddArrayToObject(net, "allow") : NULL;
		for (size_t i = 0; allow && i < r->l.n_net_allow; i++) {
			char cidr[NETRULE_TEXT_MAX];
			cJSON *a = cJSON_CreateObject();
			netrule_cidr_text(&r->l.net_allow[i], cidr, sizeof cidr);
			cJSON_AddStringToObject(a, "cidr", cidr);
			cJSON_AddNumberToObject(a, "port", r->l.net_allow[i].port);
			cJSON_AddStringToObject(a, "proto", netrule_proto_name(r->l.net_allow[i].proto));
			cJSON_AddItemToArray(allow, a);
		}
	} else {
		cJSON_AddStringToObject(enf, "network", "deny_all");
	}
	cJSON_AddBoolToObject(enf, "pid_namespace", r->pidns);
	return enf;
}

/* The "sandbox" object: the namespaces the child made, its host name, its session
 * keyring and its working directory (docs/run.md "The sandbox's view and namespaces").
 * Only for a child that started: a start that failed says why in start_error. */
static cJSON *sandbox_json(const struct runner *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *ns = cJSON_AddArrayToObject(o, "namespaces");
	if (r->pidns)
		cJSON_AddItemToArray(ns, cJSON_CreateString("pid"));
	if (r->l.network == NET_DENY_ALL && !r->o->audit_only)
		cJSON_AddItemToArray(ns, cJSON_CreateString("net"));
	if (!r->o->audit_only)   /* audit-only: the host's mount view (docs/audit-only.md) */
		cJSON_AddItemToArray(ns, cJSON_CreateString("mnt"));
	static const char *const always[] = { "ipc", "uts", "cgroup" };
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		cJSON_AddItemToArray(ns, cJSON_CreateString(always[i]));
	cJSON_AddStringToObject(o, "hostname", SANDBOX_HOSTNAME);
	cJSON_AddStringToObject(o, "session_keyring", "new, anonymous");
	cJSON_AddItemToObject(o, "view", run_view_json(r));
	return o;
}

/* The "resident" object: the program set that served the run and what the kernel side
 * counted for this sandbox (exact, also when records were lost). */
static cJSON *resident_json(const struct runner *r, const struct calyx_stats *st)
{
	cJSON *o = cJSON_CreateObject();
	const struct calyx_stamp *sp = r->set ? resident_stamp(r->set) : NULL;
	char at[32] = "";
	if (sp)
		svf_format_ts((int64_t)sp->loaded_at, 0, at);
	cJSON_AddBoolToObject(o, "loaded_by_this_run", r->set && resident_loaded_now(r->set));
	cJSON_AddStringToObject(o, "loaded_at", at);
	cJSON_AddStringToObject(o, "loaded_by", sp ? sp->version : "");
	cJSON_AddNumberToObject(o, "slot", r->sb ? resident_sandbox_slot(r->sb) : 0);
	if (r->backend == ENFORCE_BPF_LSM) {
		cJSON_AddBoolToObject(o, "verdict_cache", sp && (sp->flags & CALYX_STAMP_VCACHE));
		cJSON_AddNumberToObject(o, "verdict_cache_misses", (double)st->v[CALYX_STAT_VCACHE_MISS]);
	}
	cJSON_AddNumberToObject(o, "denied", (double)st->v[CALYX_STAT_DENIED]);
	if (r->o->audit_only)
		cJSON_AddNumberToObject(o, "would_deny", (double)st->v[CALYX_STAT_WOULD_DENY]);
	cJSON_AddNumberToObject(o, "kills_not_sent", (double)st->v[CALYX_STAT_KILL_FAILED]);
	return o;
}

/* meta.json of this run as it ended (docs/run.md "Artifacts"). NULL when out of memory. */
static cJSON *meta_json(struct runner *r, const struct outcome *oc, int exit_rc, const struct calyx_stats *st)
{
	struct runmeta_head h = {
		.lease = r->l.jti,
		.intent = r->l.intent,
		.run = r->run_no,
		.runs_allowed = r->l.runs,
		.argv = runmeta_argv(r->o->argv, (size_t)r->o->argc),
		.binary = r->binary,
		.start = oc->start,
		.end = oc->end,
		.duration_ms = (oc->end_mono - oc->start_mono) / 1000000,
		.exited = oc->exited,
		.exit_code = oc->exit_code,
		.signal = oc->signal,
		.have_calyx_exit = true,
		.calyx_exit_code = exit_rc,
		.status = status_names[oc->status],
	};
	cJSON *m = runmeta_head(&h);
	if (!m)
		return NULL;
	cJSON *v = run_violation_json(r, oc);
	if (v)
		cJSON_ReplaceItemInObjectCaseSensitive(m, "violation", v);
	if (oc->interrupted_by)
		cJSON_AddStringToObject(m, "interrupted_by", sigabbrev_np(oc->interrupted_by));
	if (oc->spawn_stage) {
		char why[256];
		snprintf(why, sizeof(why), "%s: %s", sandbox_stage_name(oc->spawn_stage), strerror(oc->spawn_errno));
		cJSON_AddStringToObject(m, "start_error", why);
	}
	cJSON *enf = enforcement_json(r);
	cJSON_AddItemToObject(enf, "resident", resident_json(r, st));
	cJSON_AddItemToObject(m, "enforcement", enf);
	if (r->child_pid > 0)
		cJSON_AddItemToObject(m, "sandbox", sandbox_json(r));
	cJSON *ra = cJSON_AddObjectToObject(m, "run_as");
	cJSON_AddNumberToObject(ra, "uid", r->m.run_as_uid);
	cJSON_AddNumberToObject(ra, "gid", r->m.run_as_gid);

	cJSON_AddItemToObject(m, "limits", run_limits_json(r, oc, st));

	cJSON_AddItemToObject(m, "denials", denials_json(r));
	cJSON_AddBoolToObject(m, "audit_only", r->o->audit_only);
	if (r->o->audit_only)
		cJSON_AddItemToObject(m, "would_deny", would_deny_json(r));
	cJSON_AddItemToObject(m, "seccomp", run_seccomp_json(r));
	cJSON_AddNumberToObject(m, "events", (double)r->counts.records);
	cJSON_AddNumberToObject(m, "dropped_events", (double)st->v[CALYX_STAT_RB_DROPPED]);
	cJSON_AddNumberToObject(m, "dropped_process_events", (double)st->v[CALYX_STAT_RB_DROPPED_PROC]);
	/* How close the sandbox's ring buffer came to full (dropping records): its peak fill
	 * at a reserve, and its size (docs/fleet.md "Metrics"). */
	cJSON *rbj = cJSON_AddObjectToObject(m, "ringbuf");
	cJSON_AddNumberToObject(rbj, "peak_bytes", (double)st->v[CALYX_STAT_RB_PEAK]);
	cJSON_AddNumberToObject(rbj, "size_bytes", CALYX_RINGBUF_BYTES);
	if (r->consume_err || r->events_lost_oom) {
		char err[256];
		if (r->consume_err)
			snprintf(err, sizeof(err), "ring buffer: %s", strerror(-r->consume_err));
		else
			snprintf(err, sizeof(err), "events.jsonl: %ju chunk(s) of lines not written: out of memory",
				 (uintmax_t)r->events_lost_oom);
		cJSON_AddStringToObject(m, "events_error", err);
	}
	cJSON_AddItemToObject(m, "resources", resources_json(r, oc, st));
	run_report_meta(r, m);
	run_rollback_meta(r, m);

	cJSON *art = runmeta_artifacts(r->rd.fd);
	const struct capped_log *logs[] = { &oc->out, &oc->err };
	static const char *const log_names[] = { "stdout.log", "stderr.log" };
	for (size_t i = 0; i < 2; i++) {
		cJSON *f = cJSON_GetObjectItemCaseSensitive(art, log_names[i]);
		if (!f)
			continue;
		cJSON_AddNumberToObject(f, "bytes_produced", (double)logs[i]->seen);
		cJSON_AddBoolToObject(f, "truncated", logs[i]->truncated);
		if (logs[i]->werr)   /* the file misses bytes the command wrote: exit 74 */
			cJSON_AddStringToObject(f, "write_error", strerror(logs[i]->werr));
	}
	cJSON_AddItemToObject(m, "artifacts", art);
	return m;
}

/* events.jsonl, the logs and exit_code.txt on disk, before meta.json hashes them. */
static int finish_files(struct runner *r, const struct outcome *oc, int exit_rc)
{
	char err[PATH_MAX + 256], buf[32];
	if (r->events) {
		bool bad = fflush(r->events) != 0 || ferror(r->events) || fsync(fileno(r->events)) < 0;
		if (!bad && r->events_werr) {
			bad = true;
			errno = r->events_werr;
		}
		fclose(r->events);
		r->events = NULL;
		if (bad)
			return run_say(EXIT_IO, "events.jsonl: %s", strerror(errno));
	}
	if ((oc->out.fd >= 0 && fsync(oc->out.fd) < 0) || (oc->err.fd >= 0 && fsync(oc->err.fd) < 0))
		return run_say(EXIT_IO, "output logs: fsync: %s", strerror(errno));
	snprintf(buf, sizeof(buf), "%d\n", exit_rc);
	if (artifact_write_atomic(r->rd.fd, "exit_code.txt", buf, strlen(buf), 0640, err, sizeof(err)) < 0)
		return run_say(EXIT_IO, "artifacts: %s", err);
	return 0;
}

/* event_log.gap: records of this run the BPF side could not deliver (its ring buffer
 * was full), so events.jsonl and the denial records above are incomplete by that many. */
static int audit_gap(struct runner *r, struct auditlog *w, uint64_t dropped, char *err, size_t errlen)
{
	_cleanup_cjson_ cJSON *d = cJSON_CreateObject();
	if (!d || !cJSON_AddNumberToObject(d, "run", r->run_no) ||
	    !cJSON_AddNumberToObject(d, "dropped_events", (double)dropped) ||
	    !cJSON_AddNumberToObject(d, "events", (double)r->counts.records))
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	return auditlog_append(w, "event_log.gap", r->l.jti, r->l.intent, d, err, errlen);
}

/* Write the queued denials, the gap record (when records were lost) and the completion
 * record in one locked session, sealed with a checkpoint. */
static int audit_completion(struct runner *r, const struct outcome *oc, const cJSON *meta, const char *meta_hash,
			    uint64_t dropped)
{
	char err[PATH_MAX + 256];
	struct auditlog *w;
	struct audit_result why;
	int rc = auditlog_open(r->sp.fd, NULL, &w, &why);
	if (rc < 0)
		return run_audit_refused(r, rc, &why);
	const cJSON *q;
	cJSON_ArrayForEach(q, r->svf_denials) {
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "type"));
		rc = auditlog_append(w, type, r->l.jti, r->l.intent, cJSON_GetObjectItemCaseSensitive(q, "data"),
				err, sizeof(err));
		if (rc < 0)
			break;
		testhook_crash_point("denial");
	}
	if (rc == 0 && dropped)
		rc = audit_gap(r, w, dropped, err, sizeof(err));
	_cleanup_cjson_ cJSON *viol = rc == 0 ? run_violation_json(r, oc) : NULL;
	if (viol) {
		/* resource_event.violation: the limit that ended the run, as meta.json says it. */
		cJSON_AddNumberToObject(viol, "run", r->run_no);
		rc = auditlog_append(w, "resource_event.violation", r->l.jti, r->l.intent, viol, err, sizeof(err));
	}
	if (rc == 0) {
		struct svf_completion c = {
			.run = r->run_no,
			.meta = meta,
			.denials_not_logged = (int64_t)r->svf_denials_omitted,
			/* Never a run directory that is not in place (a full disk): "" then, and
			 * artifacts_written false. */
			.run_dir = meta_hash ? r->run_name : NULL,
			.meta_hash = meta_hash,
		};
		_cleanup_cjson_ cJSON *d = svf_completion_data(&c);
		if (d)
			cJSON_AddBoolToObject(d, "artifacts_written", meta_hash != NULL);
		rc = d ? auditlog_append(w, "exec_event.completed", r->l.jti, r->l.intent, d, err, sizeof(err))
		       : errmsg(err, sizeof(err), -ENOMEM, "out of memory");
	}
	/* The append is one write(): once it returned, the record is in the file. */
	if (rc == 0)
		r->completed = true;
	testhook_crash_point("completed");
	if (rc == 0)
		rc = auditlog_seal(w, err, sizeof(err));
	int rc2 = auditlog_close(w);
	if (rc < 0)
		return run_say(EXIT_IO, "audit log: %s", err);
	if (rc2 < 0)
		return run_say(EXIT_IO, "audit log: %s: %s", r->svf_path, strerror(-rc2));
	return 0;
}

int run_finish(struct runner *r, struct outcome *oc, int exit_rc, const struct calyx_stats *st)
{
	char err[PATH_MAX + 256], meta_hash[ARTIFACT_HASH_HEX + 1] = "";
	int rc = finish_files(r, oc, exit_rc);
	testhook_crash_point("artifacts");
	/* Built even when the files failed: the completion record says what meta.json would. */
	_cleanup_cjson_ cJSON *meta = meta_json(r, oc, exit_rc, st);
	if (!rc) {
		int w = runmeta_write(r->rd.fd, meta, meta_hash, err, sizeof(err));
		if (w == -ENOMEM)
			rc = run_say(EXIT_INTERNAL, "%s", err);
		else if (w < 0)
			rc = run_say(EXIT_IO, "artifacts: %s", err);
		else if (run_dir_commit(&r->rd, err, sizeof(err)) < 0)
			rc = run_say(EXIT_IO, "artifacts: %s", err);
	}
	testhook_crash_point("committed");
	/* Not renamed into place: the temp directory stays with what it holds (the rollback
	 * pack is the only copy of the :rw paths before the run), claimed by nothing. */
	if (rc && !r->rd.committed)
		run_say(0, "run: what was written is kept in %s/%s%s; no record names it", r->runs_dir, r->rd.tmp_name,
			r->rb_packed ? " (its rollback pack among it)" : "");
	/* The alert line once the run directory it names is in place. */
	int lrc = rc ? 0 : run_limits_alert(r, oc, st);
	int arc = audit_completion(r, oc, meta, rc ? NULL : meta_hash, st ? st->v[CALYX_STAT_RB_DROPPED] : 0);
	run_report_keep(r, meta);
	return rc ? rc : lrc ? lrc : arc;
}

void run_write_metrics(struct runner *r)
{
	if (!r->m.metrics_textfile || r->sp.fd < 0)
		return;
	char err[PATH_MAX + 256];
	if (metrics_write_textfile(r->sp.fd, r->m.metrics_textfile, err, sizeof(err)) < 0)
		run_say(0, "warning: metrics file %s not written: %s", r->m.metrics_textfile, err);
}
