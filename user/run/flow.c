/* `calyx run`, the CP20 sandbox runner: the flow, in order (docs/run.md):
 *
 *   verify lease + matrix → argv match → resolve binaries → state dir writable →
 *   SVF lease_event.verified → enforcement backend picked and the enforcer loaded →
 *   the rollback pack measured → ledger consumed (only now: a host that cannot enforce
 *   never burns a lease) → cgroup + maps → rollback pack written → child started inside
 *   the cgroup → supervise (logs, limits, events) →
 *   kill + clean up → artifacts → SVF exec_event.completed.
 *
 * Every exit after resources exist goes through runner_teardown(), so no cgroup or map
 * entry is left behind on any path. The steps' details live in the other run/ modules
 * (runner.h). */
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "audit/auditlog.h"
#include "audit/svf.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/errmsg.h"
#include "base/exitcodes.h"
#include "base/paserk.h"
#include "base/safedir.h"
#include "base/testhook.h"
#include "base/version.h"
#include "enforce/landlock.h"
#include "enforce/observe.h"
#include "enforce/resident.h"
#include "sandbox/namespaces.h"
#include "sandbox/sweep.h"
#include "state/guard.h"
#include "state/group_ledger.h"
#include "state/ledger.h"
#include "state/runmeta.h"
#include "state/state.h"
#include "token/keys.h"
#include "token/verify.h"

/* One run per process: the last failure said is the reason its refusal record gives. */
static char last_said[2 * PATH_MAX + 1024];

const char *run_last_said(void)
{
	return last_said;
}

int run_say(int code, const char *fmt, ...)
{
	va_list ap, keep;
	va_start(ap, fmt);
	va_copy(keep, ap);
	fputs("calyx: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (code != 0)
		vsnprintf(last_said, sizeof(last_said), fmt, keep);
	va_end(keep);
	va_end(ap);
	return code;
}

void run_verbose(const struct runner *r, const char *fmt, ...)
{
	if (!r->o->verbose)
		return;
	va_list ap;
	fputs("calyx: run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void runner_teardown(struct runner *r)
{
	char err[512];
	/* Kill and empty the cgroup before its entries leave the resident set: no task of the
	 * sandbox ever runs without its rules. */
	bool empty = true;
	if (r->cg.fd >= 0 || r->cg.created) {
		if (sandbox_cgroup_destroy(&r->cg, err, sizeof(err)) < 0) {
			run_say(0, "cleanup: %s", err);
			empty = false;
		}
	}
	run_limits_teardown(r);
	testhook_crash_point("teardown");
	if (r->sb && empty) {
		resident_remove_sandbox(r->set, r->sb);
	} else if (r->sb) {
		/* Tasks may be left: the sandbox stays registered (confined by its rules) until
		 * a later run's sweep has emptied its cgroup and reclaims its slot. */
		run_say(0, "cleanup: sandbox %s stays confined until a later calyx run sweeps it", r->cg.path);
	}
	/* The observer before the set's maps it uses are closed: the tracepoint is off again. */
	audit_observer_free(r->observer);
	r->observer = NULL;
	r->sb = NULL;
	resident_close(r->set);   /* the set itself stays up */
	r->set = NULL;
	if (sandbox_parent_remove(&r->parent, err, sizeof(err)) < 0)
		run_say(0, "cleanup: %s", err);
	landlock_plan_free(r->ll);
	run_view_free(r);
	r->ll = NULL;
	run_seccomp_free(r);
	run_rollback_free(r);
	run_events_free(r);
	if (r->events) {
		fclose(r->events);
		r->events = NULL;
	}
	if (!r->started)
		run_dir_discard(&r->rd);   /* nothing ran: no half-empty run directory */
	run_dir_close(&r->rd);
	if (r->sigfd >= 0) {
		close(r->sigfd);
		r->sigfd = -1;
	}
	if (r->mask_set) {
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
		r->mask_set = false;
	}
	cJSON_Delete(r->svf_denials);
	r->svf_denials = NULL;
	free(r->paths);
	r->paths = NULL;
	free(r->argv);
	r->argv = NULL;
	/* The sandbox has left the resident set; the matrix and the state dir are still open. */
	run_write_metrics(r);
	if (r->have_l)
		lease_free(&r->l);
	r->have_l = false;
	verify_info_free(&r->vi);
	if (r->have_m)
		matrix_free(&r->m);
	r->have_m = false;
	/* The record is kept (for the sweep) only when the run started and its completion
	 * record could not be written, or its run directory could not be committed (its
	 * artifacts failed): the next run's sweep writes the completion or moves the temp run
	 * directory, with its rollback pack, into place. */
	recovery_record_release(&r->rec, r->started && (!r->completed || !r->rd.committed));
	/* Kept when the lease was consumed and lease_event.consumed could not be written, or
	 * when a group ledger's transaction went unanswered: the next sweep writes it from the
	 * ledger (or etcd), if owed. */
	recovery_record_release(&r->consuming, (r->consumed && !r->consumed_logged) || r->consumed_unknown);
	state_place_close(&r->sp);
	state_place_close(&r->ledger);
}

/* ---- step 1: lease and matrix ---- */

static int load_and_verify(struct runner *r)
{
	const struct run_opts *o = r->o;
	char err[PATH_MAX + 512];
	uint8_t pk[PASERK_PK_BYTES];
	int rc;

	r->step = "pub key";
	if (o->pub_file) {
		rc = keyfile_read_public(o->pub_file, pk, err, sizeof(err));
		if (rc < 0)
			return run_say(rc == -EINVAL ? EXIT_CONFIG : EXIT_IO, "%s", err);
	}
	r->step = "matrix";
	rc = r->matrix_path ? matrix_load_file(r->matrix_path, &r->m, err, sizeof(err))
			    : matrix_load_shipped(&r->m, err, sizeof(err));
	if (rc < 0) {
		/* The hash of what was read stays: the refusal record names the file by it. */
		char hash[sizeof(r->m.blake2b)];
		memcpy(hash, r->m.blake2b, sizeof(hash));
		matrix_free(&r->m);
		memcpy(r->m.blake2b, hash, sizeof(hash));
		return run_say(rc == -EINVAL ? EXIT_CONFIG : EXIT_IO, "capability matrix: %s", err);
	}
	r->have_m = true;
	if (o->pub_file) {
		char *pid = paserk_k4_pid(pk);
		bool known = pid && matrix_find_key(&r->m, pid);
		free(pid);
		if (!known && matrix_trust_key(&r->m, "--pub", pk) < 0)
			return run_say(EXIT_CONFIG, "capability matrix: cannot add the --pub key");
	}
	/* The real clock, always: a test hook that moves time must never revive an expired
	 * lease for a command that really runs. */
	int64_t now = (int64_t)time(NULL);
	int64_t skew = (int64_t)(r->m.clock_skew_ms / 1000);
	/* --pub alone: that key must have signed (a wrong key is an invalid lease);
	 * with --matrix the signer must be one the matrix (plus --pub) trusts. */
	const uint8_t *want_pk = (o->pub_file && !o->matrix_file) ? pk : NULL;
	r->step = "lease";
	rc = verify_lease_file_ex(o->lease_file, want_pk, &r->m, now, skew, &r->l, &r->vi, err, sizeof(err));
	switch (rc) {
	case EXIT_OK:
		r->have_l = r->verified = true;
		break;
	case EXIT_LEASE_INVALID:
		return run_say(rc, "lease invalid: %s", err);
	case EXIT_LEASE_MATRIX:
		/* err names the refusal itself ("lease outside the matrix: ...", "signer ... is
		 * not trusted by the matrix"): no second prefix. */
		return run_say(rc, "%s; nothing was run, the lease was not used", err);
	case EXIT_IO:
		return run_say(rc, "%s", err);
	default:
		return run_say(rc, "lease: %s", err);
	}
	r->step = "capability";
	if (!r->m.exec_staging_with_lease)
		return run_say(EXIT_LEASE_MATRIX,
			       "lease outside the capability matrix: capability exec_staging_with_lease is disabled in %s",
			       r->m.source ? r->m.source : "the matrix");
	r->step = "audit-only";
	if (o->audit_only && !r->m.audit_only_allowed)
		return run_say(EXIT_LEASE_MATRIX,
			       "--audit-only refused: the capability matrix %s does not say audit_only: allow; "
			       "nothing was run, the lease was not used", r->m.source ? r->m.source : "(shipped)");
	return 0;
}

/* ---- state dir ---- */

static int probe_writable(int dirfd)
{
	char name[64];
	unsigned char rnd[8];
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(name, sizeof(name), ".calyx-probe-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
	int fd = safedir_openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fd;
	close(fd);
	unlinkat(dirfd, name, 0);
	return 0;
}

/* A state place (the state dir, the ledger): made if missing, only root's, writable
 * (step 6). 0 or the exit code: 78 when it is not only root's, 74 otherwise. */
static int open_place(const char *path, const char *what, struct state_place *p)
{
	char err[2 * PATH_MAX + 512];
	int rc = state_place_open(path, what, p, err, sizeof(err));
	if (rc == -EPERM)
		return run_say(EXIT_CONFIG, "%s", err);
	if (rc < 0)
		return run_say(EXIT_IO, "%s", err);
	return 0;
}

static int open_places(struct runner *r)
{
	r->step = "state dir";
	int rc = open_place(r->state, "state dir", &r->sp);
	if (rc) {
		r->sp_unusable = true;
		return rc;
	}
	r->step = "ledger";
	return open_place(r->m.ledger, "ledger", &r->ledger);
}

/* The state dir's own directories, made and really written to. */
static int check_state(struct runner *r)
{
	static const char *const subs[] = { STATE_RUNS_DIR, STATE_SVF_DIR };
	int rc;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int fd = safedir_mkdirs(r->sp.fd, subs[i], STATE_DIR_MODE);
		int e = fd < 0 ? fd : probe_writable(fd);
		if (fd >= 0)
			close(fd);
		if (e < 0)
			return run_say(EXIT_IO, "state dir %s: %s is not writable: %s", r->state, subs[i], strerror(-e));
	}
	if ((rc = probe_writable(r->ledger.fd)) < 0)
		return run_say(EXIT_IO, "ledger %s is not writable: %s", r->ledger.path, strerror(-rc));
	snprintf(r->svf_path, sizeof(r->svf_path), "%s/%s", r->sp.path, STATE_SVF_LOG);
	snprintf(r->runs_dir, sizeof(r->runs_dir), "%s/%s", r->sp.path, STATE_RUNS_DIR);
	return 0;
}

/* The overlap guard (state/guard.h): no lease path at, in or above the state dir or the
 * ledger, before anything runs or is consumed. 0, 66, or 74. */
static int guard_state(struct runner *r)
{
	char err[2 * PATH_MAX + 512];
	size_t n = r->l.n_paths;
	_cleanup_free_ struct pathpat *pats = calloc(n ? n : 1, sizeof(*pats));
	_cleanup_free_ struct guard_path *gps = calloc(n ? n : 1, sizeof(*gps));
	if (!pats || !gps)
		return run_say(EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (pathpat_parse(r->l.paths[i].pattern, matrix_root_lookup, &r->m, &pats[i], err, sizeof(err)) < 0)
			return run_say(EXIT_LEASE_MATRIX, "lease outside the capability matrix: path '%s': %s",
				       r->l.paths[i].pattern, err);
		gps[i] = (struct guard_path){ .pattern = r->l.paths[i].pattern, .pat = &pats[i],
					      .access = r->l.paths[i].access == ACCESS_RW ? "rw" : "ro" };
	}
	const struct guard_place places[] = {
		{ .what = "state dir", .path = r->sp.path, .fd = r->sp.fd },
		{ .what = "ledger", .path = r->ledger.path, .fd = r->ledger.fd },
	};
	int rc = state_guard_check(gps, n, places, 2, err, sizeof(err));
	if (rc == -EPERM)
		return run_say(EXIT_LEASE_MATRIX, "lease refused: %s; nothing was run, the lease was not used", err);
	if (rc < 0)
		return run_say(EXIT_IO, "%s", err);
	return 0;
}

int run_audit_refused(const struct runner *r, int rc, const struct audit_result *why)
{
	if (rc != -EBADMSG)
		return run_say(EXIT_IO, "audit log %s: %s", r->svf_path, why->msg);
	int code = audit_fault_exit(why->fault);
	if (why->fault == AUDIT_CUT_RECORD)
		return run_say(code, "audit log %s: %s: %s; nothing was run, the lease was not used until "
			       "`calyx audit repair --state %s` cuts it off and records that",
			       r->svf_path, why->where, why->msg, r->state);
	return run_say(code, "audit log %s does not verify (%s) at %s: %s; nothing was run, the lease was "
		       "not used. `calyx audit verify --state %s` says more; the log must be investigated, "
		       "not appended to", r->svf_path, audit_fault_name(why->fault), why->where, why->msg, r->state);
}

void run_audit_new_key(const struct runner *r, const char *pub)
{
	run_say(0, "made the host audit key %s/keys/audit.key, which signs the audit log's checkpoints; "
		"give its public key to your auditors (also in %s/keys/audit.pub): %s", r->state, r->state, pub);
}

/* One record in its own locked session: the tail since the last checkpoint verifies
 * first, so nothing is appended to a damaged log. */
static int audit(struct runner *r, const char *type, cJSON *data)
{
	char err[PATH_MAX + 256];
	struct auditlog *a;
	struct audit_result why;
	int rc = auditlog_open(r->sp.fd, NULL, &a, &why);
	if (rc < 0) {
		cJSON_Delete(data);
		return run_audit_refused(r, rc, &why);
	}
	if (auditlog_new_key(a))
		run_audit_new_key(r, auditlog_new_key(a));
	rc = auditlog_append(a, type, r->l.jti, r->l.intent, data, err, sizeof(err));
	cJSON_Delete(data);
	int rc2 = auditlog_close(a);
	if (rc < 0)
		return run_say(EXIT_IO, "audit log: %s", err);
	if (rc2 < 0)
		return run_say(EXIT_IO, "audit log: %s: %s", r->svf_path, strerror(-rc2));
	return 0;
}

static void sweep_finished(void *ctx, const char *lease, double runner_pid)
{
	run_verbose(ctx, "sweep: finished the run of %s (runner pid %.0f)", lease, runner_pid);
}

/* A dead runner's group-ledger transaction: asked of the cluster the matrix names for
 * the group now. A group no longer counted in etcd keeps the record (said). */
static int sweep_group_find(void *ctx, const char *group, const char *iss, const char *jti, uint32_t runs_allowed,
			    const char *nonce, uint32_t *run_no, char *err, size_t errlen)
{
	const struct runner *r = ctx;
	const struct etcd_conf *e = matrix_ledger_for(&r->m.audience, group);
	if (!e)
		return errmsg(err, errlen, -ESRCH,
			      "group '%s' is not counted in etcd by this matrix: kept", group);
	char why[2048];
	int rc = group_ledger_find(e, iss, jti, runs_allowed, nonce, run_no, why, sizeof(why));
	if (rc < 0 && rc != -ENOENT)
		errmsg(err, errlen, rc, "group ledger of '%s' (etcd) %s: %s; kept for a later sweep", group,
		       rc == -EHOSTUNREACH ? "unreachable" : rc == -EBADMSG ? "untrusted answer" : strerror(-rc),
		       why[0] ? why : strerror(-rc));
	return rc;
}

static void sweep_failed(void *ctx, const char *record, const char *why)
{
	(void)ctx;
	run_say(0, "sweep: %s: %s", record, why);
}

/* What killed runners left in this state dir: their unfinished runs. Best effort: a
 * failure is reported and retried by the next run. */
static void sweep_state(struct runner *r)
{
	struct recovery_report rep = {
		.finished = sweep_finished, .failed = sweep_failed, .ledger_used = ledger_runs_used,
		.group_find = sweep_group_find, .ctx = r,
	};
	int rc = recovery_sweep(&r->sp, &rep);
	if (rc < 0)
		run_say(0, "sweep: %s/%s: %s", r->state, STATE_RUNNERS_DIR, strerror(-rc));
}

/* What killed runners left host-wide (sandbox/sweep.h). Best effort, like sweep_state,
 * but the set must still be the one opened, under the lock (the sweep changes the lock's
 * mode to free slots): else 69 before anything is consumed. */
static int sweep_enforcer(struct runner *r)
{
	char err[PATH_MAX + 512];
	struct sweep_counts c;
	if (sandbox_sweep(r->set, r->cg_mount, &c, err, sizeof(err)) < 0)
		run_say(0, "sweep: %s", err);
	if (resident_recheck(r->set, err, sizeof(err)) < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s; nothing was run (retry)", err);
	if (c.runner_dirs || c.slots || c.old_dirs || c.old_pins || c.v1_dirs)
		run_verbose(r, "sweep: removed %u stale runner cgroup%s (and %u cgroup v1 one%s), freed %u slot%s "
			    "of dead runners, %u old-layout runner%s and %u old pin director%s", c.runner_dirs,
			    c.runner_dirs == 1 ? "" : "s", c.v1_dirs, c.v1_dirs == 1 ? "" : "s", c.slots,
			    c.slots == 1 ? "" : "s", c.old_dirs, c.old_dirs == 1 ? "" : "s", c.old_pins,
			    c.old_pins == 1 ? "y" : "ies");
	return 0;
}

/* An interrupt that came in while we were verifying and loading: stop before the lease is
 * burned. 0 or 128 + the signal. */
static int interrupted_before_start(struct runner *r)
{
	struct pollfd ip = { .fd = r->sigfd, .events = POLLIN };
	if (poll(&ip, 1, 0) <= 0)
		return 0;
	struct signalfd_siginfo si;
	int sig = read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) ? (int)si.ssi_signo : SIGINT;
	return run_say(128 + sig, "run: interrupted by %s before the start; the lease was not used",
		       strsignal(sig));
}

/* The lease is burned only now: verified, command allowed, state writable and enforcement
 * loaded (steps 9-10). 0 or an exit code. */
static int consume_lease(struct runner *r)
{
	/* A group lease whose matrix entry names etcd is counted there and only there: the
	 * local ledger knows nothing of the group's other hosts (docs/fleet.md). */
	const struct etcd_conf *group = matrix_ledger_for(&r->m.audience, r->l.aud);
	int rc;
	if (group) {
		char err[2048], nonce[GROUP_LEDGER_NONCE_LEN + 1];
		if (!ledger_issuer_valid(r->l.iss))
			return run_say(EXIT_LEASE_INVALID, "lease issuer '%s' is not usable as a ledger name", r->l.iss);
		if (group_ledger_nonce(nonce) < 0)
			return run_say(EXIT_INTERNAL, "libsodium initialisation failed");
		/* As for the local ledger, with the transaction's nonce: a runner killed around
		 * the transaction leaves this record, and the sweep asks etcd which run, if any,
		 * holds the nonce. */
		struct consuming_record cr = {
			.lease = r->l.jti, .intent = r->l.intent, .iss = r->l.iss,
			.runs_allowed = r->l.runs, .group = r->l.aud, .nonce = nonce,
		};
		if (recovery_consuming_write(&r->sp, &cr, &r->consuming, err, sizeof(err)) < 0)
			return run_say(EXIT_IO, "%s; nothing was run, the lease was not used", err);
		testhook_crash_point("consuming");
		rc = group_ledger_consume(group, r->l.iss, r->l.jti, r->l.runs, r->m.audience.hostname,
					  nonce, &r->run_no, err, sizeof(err));
		if (rc == -EINPROGRESS) {
			/* The record stays: a later sweep, with etcd answering, says which. */
			r->consumed_unknown = true;
			return run_say(EXIT_GROUP_LEDGER, "group ledger of '%s' (etcd) unreachable: %s; nothing was run, "
				       "the lease may have been used (its last transaction went unanswered)",
				       r->l.aud, err[0] ? err : strerror(-rc));
		}
		if (rc < 0 && rc != -EALREADY) {
			const char *what = rc == -EHOSTUNREACH ? "unreachable" : rc == -EBADMSG ? "untrusted answer"
					   : rc == -EBUSY ? "contended" : strerror(-rc);
			return run_say(EXIT_GROUP_LEDGER, "group ledger of '%s' (etcd) %s: %s; nothing was run, the lease was not used",
				       r->l.aud, what, err[0] ? err : strerror(-rc));
		}
	} else {
		/* Before the ledger entry: a runner killed between it and lease_event.consumed
		 * leaves this record, and the sweep writes the record the ledger proves owed. */
		char err[PATH_MAX + 512];
		struct consuming_record cr = {
			.lease = r->l.jti, .intent = r->l.intent, .iss = r->l.iss,
			.runs_allowed = r->l.runs, .ledger = r->ledger.path,
		};
		if (recovery_consuming_write(&r->sp, &cr, &r->consuming, err, sizeof(err)) < 0)
			return run_say(EXIT_IO, "%s; nothing was run, the lease was not used", err);
		rc = ledger_consume(r->ledger.fd, r->l.iss, r->l.jti, r->l.runs, &r->run_no);
	}
	if (rc == -EALREADY)
		return run_say(EXIT_LEASE_REPLAYED, "lease replayed: %s has already been used (%u run%s allowed)",
			       r->l.jti, r->l.runs, r->l.runs == 1 ? "" : "s");
	if (rc < 0)
		return run_say(EXIT_IO, "ledger %s: %s", r->ledger.path, strerror(-rc));
	r->consumed = true;
	testhook_crash_point("ledger");
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "run", r->run_no);
	cJSON_AddNumberToObject(d, "runs_allowed", r->l.runs);
	if (group)
		cJSON_AddStringToObject(d, "group_ledger", r->l.aud);
	int rc2 = audit(r, "lease_event.consumed", d);
	if (rc2 == 0) {
		r->consumed_logged = true;
		recovery_record_release(&r->consuming, false);
	}
	testhook_crash_point("consumed");
	return rc2;
}

/* The runner record, the run directory, the sandbox cgroup with its limits and the
 * enforcer's rules for it (step 10). 0 or an exit code. */
static int prepare_sandbox(struct runner *r)
{
	char err[PATH_MAX + 512];
	if (r->l.runs > 1)
		snprintf(r->run_name, sizeof(r->run_name), "%s-r%u", r->l.jti, r->run_no);
	else
		snprintf(r->run_name, sizeof(r->run_name), "%s", r->l.jti);
	char cgname[32];
	snprintf(cgname, sizeof(cgname), "r%u", r->run_no);
	char tmp_name[sizeof(r->rd.tmp_name)];
	snprintf(tmp_name, sizeof(tmp_name), ".%s.tmp-%d", r->run_name, (int)getpid());
	char cg[PATH_MAX + 40];
	snprintf(cg, sizeof(cg), "%s/%s", r->parent.path, cgname);
	struct run_record rec = {
		.lease = r->l.jti,
		.intent = r->l.intent,
		.run = r->run_no,
		.runs_allowed = r->l.runs,
		.run_dir = r->run_name,
		.run_dir_tmp = tmp_name,
		.argv = r->o->argv,
		.argc = (size_t)r->o->argc,
		.binary = r->binary,
		.backend = enforce_backend_name(r->backend),
		.cgroup = cg,
	};
	/* Before anything a dead runner would leave behind exists. */
	if (recovery_record_write(&r->sp, &rec, &r->rec, err, sizeof(err)) < 0)
		return run_say(EXIT_IO, "%s", err);
	testhook_crash_point("record");
	if (run_dir_create(r->sp.fd, STATE_RUNS_DIR, r->run_name, &r->rd, err, sizeof(err)) < 0)
		return run_say(EXIT_IO, "run directory: %s", err);
	if (strcmp(r->rd.tmp_name, tmp_name) != 0)
		return run_say(EXIT_INTERNAL, "run directory: temp name %s, recorded %s", r->rd.tmp_name, tmp_name);
	if (sandbox_cgroup_create(r->parent.path, cgname, &r->cg, err, sizeof(err)) < 0)
		return run_say(EXIT_INTERNAL, "sandbox cgroup: %s", err);
	int rc = run_limits_apply(r);
	if (rc)
		return rc;
	char rel[sizeof(r->parent_name) + 40];
	snprintf(rel, sizeof(rel), "%s/%s", r->parent_name, cgname);
	struct sandbox_rules sr = {
		.cgid = r->cg.cgid,
		.cgroup = rel,
		.exec = r->exec, .n_exec = r->n_exec,
		.argv = r->argv, .n_argv = r->n_argv,
		.paths = r->paths, .n_paths = r->n_paths,
		.network = r->l.network,
		.net_allow = r->l.net_allow, .n_net_allow = r->l.n_net_allow,
		.audit_only = r->o->audit_only,
	};
	if (resident_add_sandbox(r->set, &sr, &r->sb, err, sizeof(err)) < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: filling the rules: %s", err);
	if (r->observer && audit_observer_start(r->observer, r->cg.cgid, err, sizeof(err)) < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s", err);
	/* Registered: from here on the set cannot be stopped or replaced without seeing us. */
	resident_unlock(r->set);
	testhook_crash_point("sandbox");
	run_verbose(r, "sandbox %s in slot %u of the resident %s set", r->cg.path,
		    resident_sandbox_slot(r->sb), enforce_backend_name(r->backend));
	return 0;
}

static int open_log(struct runner *r, const char *name)
{
	return openat(r->rd.fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
}

/* Start the child inside the cgroup (unless a signal came first) and supervise it until it
 * is reaped (step 11). oc says how it went. 0, or an exit code when supervision failed. */
static int start_and_supervise(struct runner *r, struct outcome *oc, char **env)
{
	char err[PATH_MAX + 512];
	struct sandbox_confine conf = { .landlock = r->ll };
	int v1_fds[CG1_COUNT];
	run_limits_v1_fds(r, v1_fds);
	struct sandbox_ns ns = {
		/* audit-only: the host's network, so a would-deny connect really reaches */
		.net = r->l.network == NET_DENY_ALL && !r->o->audit_only,
		.hostname = SANDBOX_HOSTNAME,
		.cwd = r->cwd,
	};
	uid_t uid = r->m.run_as_uid;
	gid_t gid = r->m.run_as_gid;
	struct sandbox_spawn sp = {
		.path = r->binary,
		.argv = r->o->argv,
		.envp = env,
		.cgroup_fd = r->cg.fd,
		.v1_fds = v1_fds,
		.n_v1 = CG1_COUNT,
		.fsize = r->eff.set[LIMIT_FSIZE] && !r->lim_unenforced[LIMIT_FSIZE] ? r->eff.v[LIMIT_FSIZE] : 0,
		.drop_privs = !(getuid() == uid && geteuid() == uid && getgid() == gid && getegid() == gid),
		.uid = uid,
		.gid = gid,
		.confine = &conf,
		.ns = &ns,
		.view = r->have_mns ? &r->mns : NULL,
		.view_plan = r->have_view ? &r->view : NULL,
		.seccomp = &r->sc,
		.new_pidns = true,
		.live_check = run_live_check,
		.live_ctx = r,
		.live_timeout_ms = LIVE_CHECK_MS,
	};
	struct sandbox_child c;
	int stage = 0, cerr = 0, rc;
	/* A signal that arrived while we were setting up: don't start anything. */
	struct pollfd sp_poll = { .fd = r->sigfd, .events = POLLIN };
	if (poll(&sp_poll, 1, 0) > 0) {
		struct signalfd_siginfo si;
		if (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			oc->interrupted_by = (int)si.ssi_signo;
		oc->status = oc->interrupted_by ? ST_INTERRUPTED : ST_FAILED;
		return 0;
	}
	rc = sandbox_spawn(&sp, &c, &stage, &cerr, err, sizeof(err));
	if (rc < 0) {
		/* Recorded like any other run (artifacts, completion record): exec_event.started
		 * is already in the audit log. */
		oc->status = ST_FAILED;
		oc->spawn_stage = stage ? stage : SB_STAGE_SETUP;
		oc->spawn_errno = stage ? cerr : -rc;
		run_say(0, "run: starting %s: %s", r->binary, err);
		return 0;
	}
	r->child_pid = c.pid;
	r->pidns = c.pidns;
	testhook_crash_point("spawned");
	r->notify_fd = c.notify_fd;
	run_verbose(r, "started %s as pid %d in %s%s", r->binary, (int)c.pid, r->cg.path,
		    c.clone3 ? " (clone3)" : " (fork + cgroup.procs)");
	rc = run_supervise(r, &c, oc);
	close(c.pidfd);
	if (rc)
		return rc;
	if (oc->interrupted_by && oc->status != ST_VIOLATION)
		oc->status = ST_INTERRUPTED;
	if (oc->status == ST_OK && !(oc->exited && oc->exit_code == 0))
		oc->status = ST_FAILED;
	return 0;
}

static void env_freep(char ***env)
{
	run_env_free(*env);
}

/* Steps 9-13 once the enforcer is loaded: the ledger, the sandbox, the child, the
 * artifacts. Every fd and buffer of its own is released by its cleanup attribute; the
 * runner's resources by runner_teardown. The exit code of the run. */
static int run_sandbox(struct runner *r)
{
	int rc;
	if ((rc = interrupted_before_start(r)) || (rc = consume_lease(r)))
		return rc;
	r->step = "sandbox";
	if ((rc = prepare_sandbox(r)))
		return rc;

	struct outcome oc;
	memset(&oc, 0, sizeof(oc));
	oc.exit_code = -1;
	_cleanup_close_ int out_fd = open_log(r, "stdout.log");
	_cleanup_close_ int err_fd = open_log(r, "stderr.log");
	int evfd = open_log(r, "events.jsonl");
	r->events = evfd >= 0 ? fdopen(evfd, "w") : NULL;
	if (out_fd < 0 || err_fd < 0 || !r->events) {
		int e = errno;
		if (!r->events && evfd >= 0)
			close(evfd);
		return run_say(EXIT_IO, "run directory: %s", strerror(e));
	}
	oc.out.fd = out_fd;
	oc.err.fd = err_fd;
	/* output_bytes bounds both logs together: drain_fd gives each what is left. */
	oc.out.cap = oc.err.cap = r->eff.set[LIMIT_OUTPUT] ? r->eff.v[LIMIT_OUTPUT] : UINT64_MAX;

	__attribute__((cleanup(env_freep))) char **env = run_env_build(&r->l);
	if (!env)
		return run_say(EXIT_INTERNAL, "out of memory");
	/* The pack before anything of the command runs: no pack, no run. */
	if ((rc = run_rollback_pack(r)))
		return rc;
	cJSON *d = cJSON_CreateObject();
	cJSON_AddItemToObject(d, "argv", runmeta_argv(r->o->argv, (size_t)r->o->argc));
	cJSON_AddStringToObject(d, "binary", r->binary);
	cJSON_AddStringToObject(d, "backend", enforce_backend_name(r->backend));
	cJSON_AddStringToObject(d, "backend_reason", r->backend_why);
	cJSON_AddStringToObject(d, "cgroup", r->cg.path);
	cJSON_AddNumberToObject(d, "run", r->run_no);
	cJSON_AddBoolToObject(d, "audit_only", r->o->audit_only);
	if ((rc = audit(r, "exec_event.started", d)))
		return rc;
	r->started = true;
	testhook_crash_point("started");

	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t mono = clock_mono_ns();
	r->mono_to_real_ns = ((int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec) - mono;
	oc.start_mono = mono;
	svf_format_now(oc.start);
	if ((rc = start_and_supervise(r, &oc, env)))
		return rc;
	oc.end_mono = clock_mono_ns();
	svf_format_now(oc.end);

	/* Empty the cgroup, then the last records. */
	sandbox_cgroup_kill(&r->cg);
	if (sandbox_cgroup_wait_empty(&r->cg, KILL_WAIT_MS) < 0)
		run_say(0, "run: sandbox cgroup %s did not empty after kill", r->cg.path);
	run_consume(r);
	run_events_end(r);
	run_rollback_after(r);
	struct calyx_stats st = { 0 };
	bool have_st = resident_sandbox_stats(r->set, r->sb, &st) == 0;
	if (!have_st)
		run_say(0, "run: the sandbox's counters could not be read");
	/* A violation the last tick did not see (an OOM kill that ended the command). */
	if (r->child_pid > 0)
		run_limits_watch(r, &oc, have_st ? &st : NULL);
	run_note_kill_failures(r, &oc, have_st ? &st : NULL);
	int exit_rc = run_fail_on_denial(r, run_exit_code(&oc), &st);
	/* An output log the disk refused is an artifact not fully written: the run says so
	 * and exits 74 (meta.json names the log's write_error), never 0 over a cut log. */
	const struct capped_log *bad_log = oc.out.werr ? &oc.out : oc.err.werr ? &oc.err : NULL;
	if (bad_log)
		exit_rc = run_say(EXIT_IO, "artifacts: %s: %s (the log misses output the command wrote)",
				  bad_log == &oc.out ? "stdout.log" : "stderr.log", strerror(bad_log->werr));
	if ((rc = run_finish(r, &oc, exit_rc, &st)))
		return rc;
	if (oc.status == ST_VIOLATION) {
		char b[32], m[40] = "not measurable";
		limit_format(oc.v.limit, oc.v.bound, b, sizeof(b));
		if (oc.v.have_measured)
			limit_format(oc.v.limit, oc.v.measured, m, sizeof(m));
		run_say(0, "run: %s: violation: %s (bound %s, measured %s%s): the sandbox was killed", r->l.jti,
			limit_claim_name(oc.v.limit), b, m,
			oc.v.limit == LIMIT_FSIZE ? "; the kernel refused writes past it" : "");
	} else if (oc.kill_failed)
		run_say(0, "run: %s: a denied exec could not be killed; the whole sandbox was killed and the run failed",
			r->l.jti);
	run_verbose(r, "artifacts in %s/%s", r->runs_dir, r->run_name);
	return exit_rc;
}

int runner_run(const struct run_opts *o)
{
	struct runner r;
	memset(&r, 0, sizeof(r));
	r.o = o;
	/* Decided once, first: every record of the attempt, a refusal before the matrix is
	 * read included, names the same matrix. */
	r.matrix_path = o->matrix_file ? o->matrix_file : matrix_host_file(calyx_host_matrix);
	r.cg.fd = -1;
	for (int c = 0; c < CG1_COUNT; c++)
		r.v1_cg[c].fd = -1;
	r.rd.fd = r.rd.parent_fd = -1;
	r.sigfd = -1;
	r.rec.fd = r.rec.dirfd = -1;
	r.consuming.fd = r.consuming.dirfd = -1;
	r.notify_fd = -1;
	r.sp.fd = r.ledger.fd = -1;
	int rc;

	if (sodium_init() < 0)
		return run_say(EXIT_INTERNAL, "libsodium initialisation failed");
	r.state = state_dir_resolve(o->state_dir);

	/* Signals are taken through a signalfd from here on so that every exit path,
	 * including an interrupt, runs the teardown. */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, &r.oldmask) == 0)
		r.mask_set = true;
	r.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r.sigfd < 0) {
		rc = run_say(EXIT_INTERNAL, "signalfd: %s", strerror(errno));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	if ((rc = load_and_verify(&r)))
		goto out;
	r.step = "command";
	if ((rc = run_match_and_resolve(&r)))
		goto out;
	r.step = "cwd";
	if ((rc = run_resolve_cwd(&r)))
		goto out;
	/* The guard before anything is made in the state dir: a refused run leaves nothing
	 * but its lease_event.refused record. */
	if ((rc = open_places(&r)))
		goto out;
	r.step = "overlap guard";
	if ((rc = guard_state(&r)))
		goto out;
	r.step = "state dir";
	if ((rc = check_state(&r)))
		goto out;
	r.step = "cgroup scope";
	if ((rc = run_check_cgroup_scope(&r)))
		goto out;
	sweep_state(&r);
	r.step = "audit log";
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "iss", r.l.iss);
	cJSON_AddNumberToObject(d, "exp", (double)r.l.exp);
	cJSON_AddStringToObject(d, "matrix", r.m.source ? r.m.source : "");
	cJSON_AddNumberToObject(d, "command", r.cmd_index);
	cJSON_AddItemToObject(d, "claims", run_rec_claims(&r.l));
	cJSON_AddBoolToObject(d, "audit_only", o->audit_only);
	run_rec_common(&r, d);
	if ((rc = audit(&r, "lease_event.verified", d)))
		goto out;
	testhook_crash_point("verified");
	matrix_effective_limits(&r.m, &r.l, &r.eff);
	r.step = "backend";
	if ((rc = run_pick_enforcement(&r)))
		goto out;
	r.step = "enforcer";
	if ((rc = sweep_enforcer(&r)))
		goto out;
	r.step = "lease paths";
	if ((rc = run_build_path_rules(&r)))
		goto out;
	run_check_lease_paths(&r);
	r.step = "run_as access";
	if ((rc = run_check_run_as_access(&r)))
		goto out;
	r.step = "enforcer";
	if ((rc = run_load_enforcer(&r)))
		goto out;
	r.step = "limits";
	if ((rc = run_limits_check(&r)))
		goto out;
	/* Audit-only runs in the host's mount view: a private view would hide what a
	 * would-deny is about (ENOENT, no record). */
	r.step = "view";
	if (!o->audit_only && (rc = run_build_view(&r)))
		goto out;
	r.step = "seccomp";
	if ((rc = run_build_seccomp(&r)))
		goto out;
	/* The last check before the ledger: a pack over the matrix's cap is refused now. */
	if ((rc = run_rollback_measure(&r)))
		goto out;
	r.svf_denials = cJSON_CreateArray();
	r.step = "ledger";
	rc = run_sandbox(&r);
out:
	/* While the lease, the matrix and the state dir are still open. */
	run_record_refusal(&r, rc);
	runner_teardown(&r);
	run_report_summary(&r, rc);
	return rc;
}
