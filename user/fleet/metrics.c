/* The host's calyx counters in Prometheus text format (metrics.h). */
#include "fleet/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[MS_COUNT] = { "ok", "failed", "violation", "interrupted", "abandoned", "other" };
static const char *const class_names[MC_COUNT] = { "exec", "file", "net", "other", "syscall" };
static const char *const limit_names[ML_COUNT] = { "cpu_ms", "mem_bytes", "pids", "wall_ms", "output_bytes",
						   "fsize_bytes", "other" };

static size_t index_of(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i + 1 < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return n - 1;   /* the last name is "other" */
}

/* A count member: a non-negative whole number, else nothing (null: not seen, e.g. file
 * denials on the landlock backend). */
static uint64_t count_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0)
		return 0;
	return (uint64_t)v->valuedouble;
}

void metrics_count_record(struct metrics_counts *c, const cJSON *rec)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "type"));
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "data");
	c->records++;
	if (!type)
		return;
	if (strcmp(type, "exec_event.completed") == 0) {
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "status"));
		c->runs[index_of(status_names, MS_COUNT, st)]++;
		const cJSON *den = cJSON_GetObjectItemCaseSensitive(d, "denials");
		for (size_t i = 0; i < MC_COUNT; i++)
			c->denials[i] += count_of(den, class_names[i]);
		c->records_lost += count_of(d, "dropped_events");
	} else if (strcmp(type, "lease_event.refused") == 0) {
		c->refused++;
	} else if (strcmp(type, "resource_event.violation") == 0) {
		const char *l = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "limit"));
		c->violations[index_of(limit_names, ML_COUNT, l)]++;
	}
}

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(o->p ? o->p + o->len : NULL, o->p ? o->cap - o->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if (o->p && o->len + (size_t)n < o->cap) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = (o->cap + (size_t)n + 1) * 2;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
}

static void head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *metrics_render(const struct metrics_counts *c, const struct metrics_backend *b, size_t nb)
{
	struct out o = { 0 };
	head(&o, "calyx_runs_total", "counter", "Runs that ended, by status (exec_event.completed in the audit log).");
	for (size_t i = 0; i < MS_COUNT; i++)
		put(&o, "calyx_runs_total{status=\"%s\"} %" PRIu64 "\n", status_names[i], c->runs[i]);
	head(&o, "calyx_runs_refused_total", "counter", "Attempts refused before the command started (lease_event.refused).");
	put(&o, "calyx_runs_refused_total %" PRIu64 "\n", c->refused);
	head(&o, "calyx_denials_total", "counter", "Operations denied in the runs that ended, by class.");
	for (size_t i = 0; i < MC_COUNT; i++)
		put(&o, "calyx_denials_total{class=\"%s\"} %" PRIu64 "\n", class_names[i], c->denials[i]);
	head(&o, "calyx_records_lost_total", "counter",
	     "Event records the kernel side could not deliver (ring buffer full) in the runs that ended.");
	put(&o, "calyx_records_lost_total %" PRIu64 "\n", c->records_lost);
	head(&o, "calyx_limit_violations_total", "counter", "Runs stopped by a resource limit, by limit.");
	for (size_t i = 0; i < ML_COUNT; i++)
		put(&o, "calyx_limit_violations_total{limit=\"%s\"} %" PRIu64 "\n", limit_names[i], c->violations[i]);
	head(&o, "calyx_audit_log_records", "gauge", "Records in the state dir's audit log.");
	put(&o, "calyx_audit_log_records %" PRIu64 "\n", c->records);
	head(&o, "calyx_enforcer_up", "gauge", "1 when the backend's resident program set is pinned and complete.");
	for (size_t i = 0; i < nb; i++)
		put(&o, "calyx_enforcer_up{backend=\"%s\"} %d\n", b[i].name, b[i].up ? 1 : 0);
	head(&o, "calyx_sandboxes_live", "gauge", "Sandboxes the resident set serves now.");
	for (size_t i = 0; i < nb; i++)
		put(&o, "calyx_sandboxes_live{backend=\"%s\"} %u\n", b[i].name, b[i].live);
	head(&o, "calyx_sandbox_slots_held", "gauge", "Sandbox slots held (live, or a dead runner's not freed yet).");
	for (size_t i = 0; i < nb; i++)
		put(&o, "calyx_sandbox_slots_held{backend=\"%s\"} %u\n", b[i].name, b[i].slots);
	head(&o, "calyx_orphan_denials", "gauge",
	     "Refusals of tasks in no live sandbox since the resident set was loaded (its slot 0).");
	for (size_t i = 0; i < nb; i++)
		put(&o, "calyx_orphan_denials{backend=\"%s\"} %" PRIu64 "\n", b[i].name, b[i].orphan_denials);
	head(&o, "calyx_live_records_lost", "gauge", "Ring-buffer drops so far of the sandboxes held now.");
	for (size_t i = 0; i < nb; i++)
		put(&o, "calyx_live_records_lost{backend=\"%s\"} %" PRIu64 "\n", b[i].name, b[i].records_lost);
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	return o.p;
}
