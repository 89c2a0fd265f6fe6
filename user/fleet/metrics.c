/* The host's calyx counters in Prometheus text format (metrics.h). */
#include "fleet/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[MS_COUNT] = { "ok", "failed", "violation", "interrupted", "abandoned", "other" };
static const char *const class_names[MC_COUNT] = { "exec", "file", "net", "other", "syscall" };
static const char *const limit_names[ML_COUNT] = { "cpu_ms", "mem_bytes", "pids", "wall_ms", "output_bytes",
						   "fsize_bytes", "other" };
static const char *const backend_names[MB_COUNT] = { "bpf-lsm", "landlock", "other" };
const double metrics_fill_bounds[METRICS_FILL_BUCKETS] = { 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1 };

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

/* The key of a run in c->started: its lease and run number ("" when the record lacks
 * them: such records share one key, and count as "other" at worst). */
static void run_key(const cJSON *rec, const cJSON *d, char *key, size_t len)
{
	const char *lease = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "lease"));
	snprintf(key, len, "%.200s %" PRIu64, lease ? lease : "", count_of(d, "run"));
}

/* The completed run's backend, from its exec_event.started (whose entry goes now). */
static size_t completed_backend(struct metrics_counts *c, const cJSON *rec, const cJSON *d)
{
	char key[256];
	run_key(rec, d, key, sizeof(key));
	cJSON *b = cJSON_DetachItemFromObjectCaseSensitive(c->started, key);
	size_t i = cJSON_IsNumber(b) && b->valueint >= 0 && b->valueint < MB_COUNT ? (size_t)b->valueint : MB_OTHER;
	cJSON_Delete(b);
	return i;
}

static void count_fill(struct metrics_counts *c, size_t be, const cJSON *rb)
{
	const cJSON *peak = cJSON_GetObjectItemCaseSensitive(rb, "peak_bytes");
	uint64_t size = count_of(rb, "size_bytes");
	if (!cJSON_IsNumber(peak) || peak->valuedouble < 0 || size == 0)
		return;   /* older runs, sweeps of runs without meta.json: not said */
	double r = peak->valuedouble / (double)size;
	size_t k = 0;
	while (k < METRICS_FILL_BUCKETS && r > metrics_fill_bounds[k])
		k++;
	c->fill_buckets[be][k]++;
	c->fill_count[be]++;
	c->fill_sum[be] += r;
	c->fill_last[be] = r;
}

static void count_completed(struct metrics_counts *c, const cJSON *rec, const cJSON *d)
{
	size_t be = completed_backend(c, rec, d);
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "status"));
	c->runs[be][index_of(status_names, MS_COUNT, st)]++;
	const cJSON *den = cJSON_GetObjectItemCaseSensitive(d, "denials");
	const cJSON *would = cJSON_GetObjectItemCaseSensitive(d, "would_deny");
	for (size_t i = 0; i < MC_COUNT; i++) {
		c->denials[be][i] += count_of(den, class_names[i]);
		c->would_deny[be][i] += count_of(would, class_names[i]);
	}
	c->records_lost[be] += count_of(d, "dropped_events");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "audit_only")))
		c->audit_only[be]++;
	count_fill(c, be, cJSON_GetObjectItemCaseSensitive(d, "ringbuf"));
}

int metrics_count_record(struct metrics_counts *c, const cJSON *rec)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "type"));
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "data");
	c->records++;
	if (!type)
		return 0;
	if (strcmp(type, "exec_event.started") == 0) {
		if (!c->started && !(c->started = cJSON_CreateObject()))
			return -ENOMEM;
		char key[256];
		run_key(rec, d, key, sizeof(key));
		const char *b = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "backend"));
		cJSON *v = cJSON_CreateNumber((double)index_of(backend_names, MB_COUNT, b));
		/* A run started twice in the log (it cannot be): the later one holds. */
		cJSON_DeleteItemFromObjectCaseSensitive(c->started, key);
		if (!v || !cJSON_AddItemToObject(c->started, key, v)) {
			cJSON_Delete(v);
			return -ENOMEM;
		}
	} else if (strcmp(type, "exec_event.completed") == 0) {
		count_completed(c, rec, d);
	} else if (strcmp(type, "lease_event.refused") == 0) {
		c->refused++;
	} else if (strcmp(type, "resource_event.violation") == 0) {
		const char *l = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "limit"));
		c->violations[index_of(limit_names, ML_COUNT, l)]++;
	}
	return 0;
}

void metrics_counts_release(struct metrics_counts *c)
{
	cJSON_Delete(c->started);
	c->started = NULL;
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

/* A ratio: up to 9 significant digits, "0" and "1" as such. */
static void put_ratio(struct out *o, double r)
{
	put(o, "%.9g\n", r);
}

char *metrics_render(const struct metrics_counts *c, const struct metrics_backend *b, size_t nb)
{
	struct out o = { 0 };
	head(&o, "calyx_runs_total", "counter",
	     "Runs that ended, by backend and status (exec_event.completed in the audit log).");
	for (size_t k = 0; k < MB_COUNT; k++)
		for (size_t i = 0; i < MS_COUNT; i++)
			put(&o, "calyx_runs_total{backend=\"%s\",status=\"%s\"} %" PRIu64 "\n", backend_names[k],
			    status_names[i], c->runs[k][i]);
	head(&o, "calyx_runs_audit_only_total", "counter", "Runs that ended that ran in audit-only mode, by backend.");
	for (size_t k = 0; k < MB_COUNT; k++)
		put(&o, "calyx_runs_audit_only_total{backend=\"%s\"} %" PRIu64 "\n", backend_names[k], c->audit_only[k]);
	head(&o, "calyx_runs_refused_total", "counter", "Attempts refused before the command started (lease_event.refused).");
	put(&o, "calyx_runs_refused_total %" PRIu64 "\n", c->refused);
	head(&o, "calyx_denials_total", "counter", "Operations denied in the runs that ended, by backend and class.");
	for (size_t k = 0; k < MB_COUNT; k++)
		for (size_t i = 0; i < MC_COUNT; i++)
			put(&o, "calyx_denials_total{backend=\"%s\",class=\"%s\"} %" PRIu64 "\n", backend_names[k],
			    class_names[i], c->denials[k][i]);
	head(&o, "calyx_would_deny_total", "counter",
	     "Operations audit-only runs that ended allowed and recorded as would-deny, by backend and class.");
	for (size_t k = 0; k < MB_COUNT; k++)
		for (size_t i = 0; i < MC_COUNT; i++)
			put(&o, "calyx_would_deny_total{backend=\"%s\",class=\"%s\"} %" PRIu64 "\n", backend_names[k],
			    class_names[i], c->would_deny[k][i]);
	head(&o, "calyx_records_lost_total", "counter",
	     "Event records the kernel side could not deliver (ring buffer full) in the runs that ended, by backend.");
	for (size_t k = 0; k < MB_COUNT; k++)
		put(&o, "calyx_records_lost_total{backend=\"%s\"} %" PRIu64 "\n", backend_names[k], c->records_lost[k]);
	head(&o, "calyx_ringbuf_peak_fill_ratio", "histogram",
	     "Peak fill of each run's ring buffer (peak bytes held / its size) in the runs that ended, by backend.");
	for (size_t k = 0; k < MB_COUNT; k++) {
		uint64_t cum = 0;
		for (size_t i = 0; i < METRICS_FILL_BUCKETS; i++) {
			cum += c->fill_buckets[k][i];
			put(&o, "calyx_ringbuf_peak_fill_ratio_bucket{backend=\"%s\",le=\"%g\"} %" PRIu64 "\n",
			    backend_names[k], metrics_fill_bounds[i], cum);
		}
		put(&o, "calyx_ringbuf_peak_fill_ratio_bucket{backend=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", backend_names[k],
		    c->fill_count[k]);
		put(&o, "calyx_ringbuf_peak_fill_ratio_sum{backend=\"%s\"} ", backend_names[k]);
		put_ratio(&o, c->fill_sum[k]);
		put(&o, "calyx_ringbuf_peak_fill_ratio_count{backend=\"%s\"} %" PRIu64 "\n", backend_names[k],
		    c->fill_count[k]);
	}
	head(&o, "calyx_ringbuf_last_peak_fill_ratio", "gauge",
	     "Peak fill of the ring buffer of the last run that ended, by backend (0 before the first).");
	for (size_t k = 0; k < MB_COUNT; k++) {
		put(&o, "calyx_ringbuf_last_peak_fill_ratio{backend=\"%s\"} ", backend_names[k]);
		put_ratio(&o, c->fill_last[k]);
	}
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
	head(&o, "calyx_live_ringbuf_peak_fill_ratio", "gauge",
	     "The largest peak fill so far of the ring buffers of the sandboxes held now (0 when none).");
	for (size_t i = 0; i < nb; i++) {
		put(&o, "calyx_live_ringbuf_peak_fill_ratio{backend=\"%s\"} ", b[i].name);
		put_ratio(&o, b[i].ringbuf_bytes ? (double)b[i].ringbuf_peak_bytes / (double)b[i].ringbuf_bytes : 0);
	}
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	return o.p;
}
