/* `calyx run`'s limits (docs/run.md "Limits"): how each is enforced on this host, decided
 * before the ledger (sandbox/limits_host.h); the sandbox's cgroups given their bounds;
 * the live checks every tick (cpu, OOM kills, refused forks, refused writes); the
 * violation that ends a run; what meta.json, the alert log
 * (STATE/logs/resource_monitoring/alerts.jsonl) and the SVF record say of them. */
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/svf.h"
#include "base/cgroupfs.h"
#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/safedir.h"
#include "base/testhook.h"
#include "state/state.h"

#define ALERTS_FILE "alerts.jsonl"

static enum cgroup_v1_ctrl ctrl_of(enum limit_kind k)
{
	return k == LIMIT_MEM ? CG1_MEMORY : CG1_PIDS;
}

/* ---- before the ledger ---- */

/* Where v1 is the mechanism: the runner's v1 directory of that controller, made and
 * locked like its v2 one. A failure means nothing enforces the limit after all. */
static void make_v1_parent(struct runner *r, enum limit_kind k)
{
	enum cgroup_v1_ctrl c = ctrl_of(k);
	char root[PATH_MAX], err[256];
	int rc = cgroup_v1_set_root(c, enforce_backend_name(r->backend), true, root, sizeof(root), err, sizeof(err));
	if (rc == 0)
		rc = sandbox_parent_create(root, r->parent_name, &r->v1_parent[c], err, sizeof(err));
	if (rc < 0) {
		r->lim_how[k].mech = LM_NONE;
		snprintf(r->lim_how[k].how, sizeof(r->lim_how[k].how), "cgroup v1 %s: %s", cgroup_v1_name(c), err);
		return;
	}
	r->v1_used[c] = true;
}

int run_limits_check(struct runner *r)
{
	struct limits_host h;
	limits_host_probe(r->parent.path, true, &h);
	char msg[4 * sizeof(r->lim_how[0].how)] = "";
	size_t n = 0;
	for (int k = 0; k < LIMIT_COUNT; k++) {
		limits_host_decide(&h, (enum limit_kind)k, &r->lim_how[k]);
		if (!r->eff.set[k])
			continue;
		if (r->lim_how[k].mech == LM_CGROUP_V1)
			make_v1_parent(r, (enum limit_kind)k);
		if (r->lim_how[k].mech != LM_NONE)
			continue;
		char b[32];
		limit_format((enum limit_kind)k, r->eff.v[k], b, sizeof(b));
		if (r->m.unenforceable_warn) {
			r->lim_unenforced[k] = true;
			run_say(0, "warning: limit %s = %s is not enforced on this host: %s (the matrix says "
				"unenforceable_limits: warn)", limit_claim_name((enum limit_kind)k), b, r->lim_how[k].how);
			continue;
		}
		size_t o = strlen(msg);
		snprintf(msg + o, sizeof(msg) - o, "%slimit %s = %s cannot be enforced on this host: %s", n++ ? "; " : "",
			 limit_claim_name((enum limit_kind)k), b, r->lim_how[k].how);
	}
	if (n)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s; nothing was run, the lease was "
			       "not used (a matrix with unenforceable_limits: warn runs it without)", msg);
	return 0;
}

/* ---- the sandbox's cgroups ---- */

int run_limits_apply(struct runner *r)
{
	char err[PATH_MAX + 512], name[32];
	if (sandbox_cgroup_limits(&r->cg, &r->eff, &r->cgl, err, sizeof(err)) < 0)
		return run_say(EXIT_INTERNAL, "sandbox limits: %s", err);
	/* What was decided must be what is in place: closed otherwise. */
	if ((r->lim_how[LIMIT_MEM].mech == LM_CGROUP_V2 && r->eff.set[LIMIT_MEM] && !r->cgl.mem) ||
	    (r->lim_how[LIMIT_PIDS].mech == LM_CGROUP_V2 && r->eff.set[LIMIT_PIDS] && !r->cgl.pids))
		return run_say(EXIT_INTERNAL, "sandbox limits: the sandbox cgroup %s lacks a controller its parent "
			       "enabled (mem: %s; pids: %s)", r->cg.path, r->cgl.mem_how, r->cgl.pids_how);
	snprintf(name, sizeof(name), "r%u", r->run_no);
	for (int c = 0; c < CG1_COUNT; c++) {
		if (!r->v1_used[c])
			continue;
		struct sandbox_cgroup *g = &r->v1_cg[c];
		int rc = sandbox_cgroup_create(r->v1_parent[c].path, name, g, err, sizeof(err));
		if (rc == 0)
			rc = c == CG1_MEMORY ? cgroup_v1_memory_limit(g->fd, g->path, r->eff.v[LIMIT_MEM], err, sizeof(err))
					     : cgroup_v1_pids_limit(g->fd, g->path, r->eff.v[LIMIT_PIDS], err, sizeof(err));
		if (rc < 0)
			return run_say(EXIT_INTERNAL, "sandbox limits: %s", err);
	}
	return 0;
}

void run_limits_v1_fds(const struct runner *r, int fds[CG1_COUNT])
{
	for (int c = 0; c < CG1_COUNT; c++)
		fds[c] = r->v1_used[c] ? r->v1_cg[c].fd : -1;
}

void run_limits_teardown(struct runner *r)
{
	char err[PATH_MAX + 256];
	/* After the v2 cgroup is empty: the same tasks were in these. */
	for (int c = 0; c < CG1_COUNT; c++) {
		if (sandbox_cgroup_destroy(&r->v1_cg[c], err, sizeof(err)) < 0)
			run_say(0, "cleanup: %s", err);
		if (sandbox_parent_remove(&r->v1_parent[c], err, sizeof(err)) < 0)
			run_say(0, "cleanup: %s", err);
		r->v1_used[c] = false;
	}
}

/* ---- measuring ---- */

/* The cgroup that holds the controller's files for this run: v2 or v1. fd or -1. */
static int ctrl_fd(const struct runner *r, enum limit_kind k)
{
	if (r->lim_how[k].mech == LM_CGROUP_V2)
		return r->cg.fd;
	if (r->lim_how[k].mech == LM_CGROUP_V1)
		return r->v1_cg[ctrl_of(k)].fd;
	return -1;
}

static bool read_single(int fd, const char *file, uint64_t *v)
{
	char buf[64];
	if (fd < 0 || fileio_read_small_at(fd, file, buf, sizeof(buf)) <= 0)
		return false;
	char *end;
	errno = 0;
	unsigned long long x = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return false;   /* e.g. "max" */
	*v = x;
	return true;
}

/* The peak (or at a violation: the value) of a limit as the kernel or the runner tells it;
 * false when nothing tells it (from says why). now_mono: the wall clock's end. */
static bool measure(const struct runner *r, const struct outcome *oc, const struct calyx_stats *st,
		    enum limit_kind k, int64_t now_mono, uint64_t *v, const char **from)
{
	int fd = ctrl_fd(r, k);
	uint64_t x;
	switch (k) {
	case LIMIT_WALL:
		*from = "runner clock (monotonic), start to end";
		*v = (uint64_t)((now_mono - oc->start_mono) / 1000000);
		return true;
	case LIMIT_OUTPUT:
		*from = "stdout and stderr bytes produced";
		*v = oc->out.seen + oc->err.seen;
		return true;
	case LIMIT_CPU:
		*from = "cpu.stat usage_usec (the whole cgroup)";
		if (sandbox_cgroup_cpu_usec((struct sandbox_cgroup *)&r->cg, &x) < 0)
			return false;
		*v = x / 1000;
		return true;
	case LIMIT_MEM:
		if (r->lim_how[k].mech == LM_CGROUP_V2) {
			*from = "memory.peak";
			return read_single(fd, "memory.peak", v);
		}
		if (r->lim_how[k].mech == LM_CGROUP_V1) {
			*from = "memory.max_usage_in_bytes (v1)";
			return read_single(fd, "memory.max_usage_in_bytes", v);
		}
		*from = "no memory cgroup";
		return false;
	case LIMIT_PIDS:
		if (fd < 0) {
			*from = "no pids cgroup";
			return false;
		}
		if (read_single(fd, "pids.peak", v)) {
			*from = "pids.peak";
			return true;
		}
		/* No peak file (v1, and v2 before pids.peak): the count now, which is the peak
		 * only while the bound is being hit (pids.events max > 0). */
		*from = "pids.current (no pids.peak here: the tasks alive when read)";
		return read_single(fd, "pids.current", v);
	case LIMIT_FSIZE:
		(void)st;
		*from = "not measurable: the kernel refuses the write and says only that (SIGXFSZ)";
		return false;
	default:
		return false;
	}
}

/* ---- while it runs ---- */

void run_violation(struct runner *r, struct outcome *oc, enum limit_kind k, bool have_measured,
		   uint64_t measured, const char *measured_from)
{
	if (oc->v.set || oc->interrupted_by)
		return;   /* the first reason to stop is the one recorded */
	oc->status = ST_VIOLATION;
	oc->v = (struct violation){ .set = true, .limit = k, .bound = r->eff.v[k], .have_measured = have_measured,
				    .measured = measured, .measured_from = measured_from };
	sandbox_cgroup_kill(&r->cg);
	run_verbose(r, "%s: killing the sandbox", limit_claim_name(k));
}

/* A controller's event counter moved: memory.events oom_kill (v2), memory.oom_control
 * oom_kill (v1), pids.events max (both). */
static uint64_t ctrl_events(const struct runner *r, enum limit_kind k)
{
	int fd = ctrl_fd(r, k);
	uint64_t n = 0;
	if (fd < 0)
		return 0;
	if (k == LIMIT_PIDS)
		cgroupfs_keyed_value(fd, "pids.events", "max", &n);
	else if (r->lim_how[k].mech == LM_CGROUP_V2)
		cgroupfs_keyed_value(fd, "memory.events", "oom_kill", &n);
	else
		cgroupfs_keyed_value(fd, "memory.oom_control", "oom_kill", &n);
	return n;
}

void run_limits_watch(struct runner *r, struct outcome *oc, const struct calyx_stats *st)
{
	uint64_t v;
	const char *from;
	int64_t now = clock_mono_ns();
	if (r->eff.set[LIMIT_CPU] && measure(r, oc, st, LIMIT_CPU, now, &v, &from)) {
		oc->cpu_polled = true;
		if (v > r->eff.v[LIMIT_CPU])
			run_violation(r, oc, LIMIT_CPU, true, v, from);
	}
	static const enum limit_kind ctrl_limits[] = { LIMIT_MEM, LIMIT_PIDS };
	for (size_t i = 0; i < 2; i++) {
		enum limit_kind k = ctrl_limits[i];
		if (!r->eff.set[k] || !ctrl_events(r, k))
			continue;
		bool have = measure(r, oc, st, k, now, &v, &from);
		run_violation(r, oc, k, have, v, from);
	}
	if (r->eff.set[LIMIT_FSIZE] && st && st->v[CALYX_STAT_FSIZE]) {
		measure(r, oc, st, LIMIT_FSIZE, now, &v, &from);
		run_violation(r, oc, LIMIT_FSIZE, false, 0, "refused writes (SIGXFSZ raised by the kernel)");
		if (oc->v.limit == LIMIT_FSIZE)
			oc->v.refused_writes = st->v[CALYX_STAT_FSIZE];
	}
}

/* ---- what is said of them ---- */

static void add_u64_or_null(cJSON *o, const char *key, bool have, uint64_t v)
{
	if (have)
		cJSON_AddNumberToObject(o, key, (double)v);
	else
		cJSON_AddNullToObject(o, key);
}

cJSON *run_violation_json(const struct runner *r, const struct outcome *oc)
{
	(void)r;
	if (!oc->v.set)
		return NULL;
	const struct violation *v = &oc->v;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "limit", limit_claim_name(v->limit));
	add_u64_or_null(o, "measured", v->have_measured, v->measured);
	cJSON_AddNumberToObject(o, "bound", (double)v->bound);
	cJSON_AddStringToObject(o, "how", r->lim_how[v->limit].how);
	cJSON_AddStringToObject(o, "measured_from", v->measured_from ? v->measured_from : "");
	if (v->limit == LIMIT_FSIZE)
		cJSON_AddNumberToObject(o, "refused_writes", (double)v->refused_writes);
	return o;
}

/* {claim: peak or null} and {claim: where it came from}, for meta.json and the alert. */
static void measured_json(const struct runner *r, const struct outcome *oc, const struct calyx_stats *st,
			  cJSON **vals, cJSON **froms)
{
	*vals = cJSON_CreateObject();
	*froms = cJSON_CreateObject();
	for (int k = 0; k < LIMIT_COUNT; k++) {
		uint64_t v = 0;
		const char *from = "";
		bool have = measure(r, oc, st, (enum limit_kind)k, oc->end_mono, &v, &from);
		if (oc->v.set && oc->v.limit == (enum limit_kind)k && oc->v.have_measured) {
			/* the value at the violation, which a later read (pids.current) may not show */
			have = true;
			v = oc->v.measured;
			from = oc->v.measured_from;
		}
		add_u64_or_null(*vals, limit_claim_name((enum limit_kind)k), have, v);
		cJSON_AddStringToObject(*froms, limit_claim_name((enum limit_kind)k), from);
	}
	cJSON_AddNumberToObject(*vals, "fsize_refused_writes", st ? (double)st->v[CALYX_STAT_FSIZE] : 0);
}

static cJSON *bounds_json(const struct limits *l)
{
	cJSON *o = cJSON_CreateObject();
	for (int k = 0; k < LIMIT_COUNT; k++)
		add_u64_or_null(o, limit_claim_name((enum limit_kind)k), l->set[k], l->v[k]);
	return o;
}

cJSON *run_limits_json(const struct runner *r, const struct outcome *oc, const struct calyx_stats *st)
{
	cJSON *lim = cJSON_CreateObject();
	cJSON_AddItemToObject(lim, "effective", bounds_json(&r->eff));
	cJSON *enf = cJSON_AddObjectToObject(lim, "enforced");
	cJSON *not = cJSON_AddArrayToObject(lim, "not_enforced");
	for (int k = 0; k < LIMIT_COUNT; k++) {
		const char *claim = limit_claim_name((enum limit_kind)k);
		char buf[sizeof(r->lim_how[0].how) + 32];
		if (!r->eff.set[k])
			snprintf(buf, sizeof(buf), "no limit set");
		else if (r->lim_unenforced[k])
			snprintf(buf, sizeof(buf), "not enforced: %s", r->lim_how[k].how);
		else
			snprintf(buf, sizeof(buf), "%s", r->lim_how[k].how);
		cJSON_AddStringToObject(enf, claim, buf);
		if (r->lim_unenforced[k])
			cJSON_AddItemToArray(not, cJSON_CreateString(claim));
	}
	cJSON *vals, *froms;
	measured_json(r, oc, st, &vals, &froms);
	cJSON_AddItemToObject(lim, "measured", vals);
	cJSON_AddItemToObject(lim, "measured_from", froms);
	cJSON_AddNumberToObject(lim, "oom_kills", (double)ctrl_events(r, LIMIT_MEM));
	cJSON_AddNumberToObject(lim, "pids_max_hits", (double)ctrl_events(r, LIMIT_PIDS));
	return lim;
}

/* One line appended to STATE/logs/resource_monitoring/alerts.jsonl, opened beneath the
 * state dir's fd without following any symlink (base/safedir.h). 0 or -errno. */
static int append_alert(struct runner *r, const cJSON *line)
{
	char *s = cJSON_PrintUnformatted(line);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	s[n] = '\n';   /* cJSON's buffer holds the NUL there */
	int dfd = safedir_mkdirs(r->sp.fd, STATE_RESOURCE_LOG_DIR, STATE_DIR_MODE);
	int rc = dfd;
	if (dfd >= 0) {
		int fd = safedir_openat(dfd, ALERTS_FILE, O_WRONLY | O_APPEND | O_CREAT, 0640);
		rc = fd;
		if (fd >= 0) {
			/* One write: concurrent runners' lines never interleave (O_APPEND). */
			int fault = testhook_write_fault();
			ssize_t w = fault ? (errno = -fault, -1) : write(fd, s, n + 1);
			rc = w == (ssize_t)(n + 1) ? 0 : w < 0 ? -errno : -EIO;
			if (rc == 0 && fsync(fd) < 0)
				rc = -errno;
			close(fd);
		}
		close(dfd);
	}
	cJSON_free(s);
	return rc;
}

int run_limits_alert(struct runner *r, const struct outcome *oc, const struct calyx_stats *st)
{
	if (r->child_pid <= 0)
		return 0;   /* the command never ran: nothing was measured */
	char ts[32];
	svf_format_now(ts);
	cJSON *a = cJSON_CreateObject();
	cJSON_AddStringToObject(a, "ts", ts);
	cJSON_AddStringToObject(a, "lease", r->l.jti);
	cJSON_AddNumberToObject(a, "run", r->run_no);
	cJSON_AddStringToObject(a, "run_dir", r->run_name);
	if (oc->v.set) {
		cJSON_AddStringToObject(a, "status", "violation");
		cJSON *v = run_violation_json(r, oc);
		cJSON *it;
		cJSON_ArrayForEach(it, v)
			cJSON_AddItemToObject(a, it->string, cJSON_Duplicate(it, true));
		cJSON_Delete(v);
	} else {
		cJSON *vals, *froms;
		cJSON_AddStringToObject(a, "status", "within_limits");
		cJSON_AddStringToObject(a, "run_status", oc->status == ST_OK ? "ok" :
					oc->status == ST_INTERRUPTED ? "interrupted" : "failed");
		measured_json(r, oc, st, &vals, &froms);
		cJSON_AddItemToObject(a, "measured", vals);
		cJSON_AddItemToObject(a, "bounds", bounds_json(&r->eff));
		cJSON_AddItemToObject(a, "measured_from", froms);
	}
	int rc = append_alert(r, a);
	cJSON_Delete(a);
	if (rc < 0)
		return run_say(EXIT_IO, "resource alert log %s/%s/%s: %s", r->sp.path, STATE_RESOURCE_LOG_DIR,
			       ALERTS_FILE, strerror(-rc));
	return 0;
}
