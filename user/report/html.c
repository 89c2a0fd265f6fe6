/* The run report page (report/html.h). Sections, in order: the run at a glance, lease and
 * matrix, process tree with its timeline, resources against the limits, denials,
 * artifacts, output, audit. Trusted markup is written with html_lit/html_fmt (numbers and
 * constants only); every value from the run goes through html_text (report/escape.h). */
#include "report/html.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROCS_SHOWN 500       /* process rows (tree + timeline); the rest counted */
#define MAX_DENIALS_SHOWN 1000    /* denial rows; the rest counted */
#define MAX_JSON_SHOWN 600        /* bytes of a compact JSON value shown in a cell */
#define TL_W 1000                 /* the timeline's SVG user units across */
#define BAR_W 400                 /* a resource bar's SVG user units across */

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(get(o, key));
}

/* A JSON number that is an integer cJSON holds exactly. */
static bool as_int(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v))
		return false;
	double d = v->valuedouble;
	if (!(d > -9007199254740992.0 && d < 9007199254740992.0) || (double)(int64_t)d != d)
		return false;
	*out = (int64_t)d;
	return true;
}

/* Any JSON value as text: a string as itself, an integer in decimal, the rest as compact
 * JSON (cut at MAX_JSON_SHOWN bytes); all of it escaped. */
static void value(struct html_buf *b, const cJSON *v)
{
	int64_t i;
	if (!v) {
		html_lit(b, "<span class=\"none\">(absent)</span>");
	} else if (cJSON_IsString(v)) {
		html_cstr(b, v->valuestring);
	} else if (as_int(v, &i)) {
		html_fmt(b, "%" PRId64, i);
	} else if (cJSON_IsNull(v)) {
		html_lit(b, "<span class=\"none\">null</span>");
	} else {
		char *s = cJSON_PrintUnformatted(v);
		if (!s) {
			b->oom = true;
			return;
		}
		html_cstr_cut(b, s, MAX_JSON_SHOWN);
		free(s);
	}
}

static void kv(struct html_buf *b, const char *key, const cJSON *v)
{
	html_lit(b, "<tr><th>");
	html_cstr(b, key);
	html_lit(b, "</th><td>");
	value(b, v);
	html_lit(b, "</td></tr>\n");
}

/* Every member of an object as a row (for objects whose keys other engineers extend:
 * enforcement, the verified record's data). */
static void kv_object(struct html_buf *b, const cJSON *o)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, o)
		kv(b, m->string ? m->string : "", m);
}

/* An argv array: each argument in its own box, so spaces and empty arguments show. */
static void argv_boxes(struct html_buf *b, const cJSON *argv)
{
	if (!cJSON_IsArray(argv)) {
		value(b, argv);
		return;
	}
	const cJSON *a;
	cJSON_ArrayForEach(a, argv) {
		html_lit(b, "<code class=\"arg\">");
		if (cJSON_IsString(a))
			html_cstr(b, a->valuestring);
		else
			value(b, a);
		html_lit(b, "</code> ");
	}
}

static void fmt_bytes(struct html_buf *b, int64_t v)
{
	html_fmt(b, "%" PRId64 " bytes", v);
	if (v >= 10240)
		html_fmt(b, " (%.1f %s)", v >= 10485760 ? v / 1048576.0 : v / 1024.0, v >= 10485760 ? "MiB" : "KiB");
}

/* A limit's value in its unit (the claim name says which: *_ms, *_bytes, pids). */
static void fmt_limit(struct html_buf *b, const char *claim, const cJSON *v)
{
	int64_t i;
	if (!as_int(v, &i)) {
		value(b, v);
		return;
	}
	size_t n = strlen(claim);
	if (n > 6 && !strcmp(claim + n - 6, "_bytes"))
		fmt_bytes(b, i);
	else if (n > 3 && !strcmp(claim + n - 3, "_ms"))
		html_fmt(b, "%" PRId64 " ms", i);
	else
		html_fmt(b, "%" PRId64, i);
}

static void section(struct html_buf *b, const char *id, const char *title)
{
	html_fmt(b, "<section id=\"%s\">\n<h2>%s</h2>\n", id, title);
}

static const char *CSS =
	"body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em;color:#1b1b1b;background:#fff}"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}"
	"table{border-collapse:collapse;margin:.4em 0;width:100%}"
	"th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}"
	"td{overflow-wrap:break-word}table.kv td,td.wrap{overflow-wrap:anywhere}"
	"th{background:#f4f4f4;font-weight:600;white-space:nowrap}"
	"table.kv th{width:14em}"
	"code,pre,.hash{font-family:ui-monospace,monospace;font-size:12px}"
	"code.arg{background:#eef;border:1px solid #ccd;border-radius:3px;padding:0 3px;white-space:pre-wrap;word-break:break-all}"
	".hash{word-break:break-all}"
	"pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;white-space:pre-wrap;word-break:break-all;max-height:30em;overflow:auto}"
	".status{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:700;color:#fff;background:#666}"
	".st-ok{background:#2e7d32}.st-failed{background:#c62828}.st-violation{background:#ad1457}"
	".st-interrupted{background:#ef6c00}.st-abandoned{background:#6d4c41}"
	".verdict{font-size:1.2em;font-weight:700;padding:6px 10px;border-radius:4px}"
	".v-ok{background:#e8f5e9;color:#1b5e20;border:1px solid #a5d6a7}"
	".v-bad{background:#ffebee;color:#b71c1c;border:1px solid #ef9a9a}"
	".violation{background:#fce4ec;border:1px solid #f48fb1;padding:6px 10px;border-radius:4px}"
	".none{color:#888;font-style:italic}.warn{color:#b71c1c;font-weight:600}"
	".match{color:#1b5e20}.differs{color:#b71c1c;font-weight:700}"
	"nav a{margin-right:1em}summary{cursor:pointer;color:#444;margin:.4em 0}"
	"svg.tl{display:block;width:100%;height:12px;background:#f3f3f3}"
	"svg.tl .p{fill:#1565c0}svg.tl .open{fill:#90caf9}svg.tl .d{fill:#c62828}"
	"svg.bar{display:block;width:100%;max-width:400px;height:16px;background:#eee}"
	"svg.bar .f{fill:#43a047}svg.bar .f.over{fill:#c62828}svg.bar .b{stroke:#000;stroke-width:2}"
	"td.tree{white-space:nowrap}"
	"@media print{pre{max-height:none}}";

/* ---- the run at a glance ---- */

static void header(struct html_buf *b, const struct report_run *r)
{
	const cJSON *m = r->meta;
	const char *status = str(m, "status");
	html_lit(b, "<header>\n<h1>calyx run report: ");
	html_cstr(b, r->name);
	html_lit(b, "</h1>\n<p><span class=\"status st-");
	/* The class is one of the known statuses only: the status text itself is shown escaped. */
	static const char *known[] = { "ok", "failed", "violation", "interrupted", "abandoned" };
	const char *cls = "other";
	for (size_t i = 0; status && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(status, known[i]))
			cls = known[i];
	html_cstr(b, cls);
	html_lit(b, "\" id=\"status\">");
	if (status)
		html_cstr(b, status);
	else
		html_lit(b, "no status");
	html_lit(b, "</span> ");
	html_lit(b, "<span id=\"verdict-short\">audit: ");
	html_markup(b, r->audit.verifies ? "verifies" : "does not verify");
	html_lit(b, "</span></p>\n");
	html_lit(b, "<nav><a href=\"#lease\">lease</a><a href=\"#processes\">processes</a>"
		    "<a href=\"#resources\">resources</a><a href=\"#denials\">denials</a>"
		    "<a href=\"#artifacts\">artifacts</a><a href=\"#output\">output</a>"
		    "<a href=\"#audit\">audit</a></nav>\n</header>\n");

	section(b, "run", "Run");
	html_lit(b, "<table class=\"kv\">\n");
	kv(b, "lease", get(m, "lease"));
	html_lit(b, "<tr><th>run</th><td>");
	html_fmt(b, "%" PRIu32, r->run);
	int64_t n;
	if (as_int(get(m, "runs_allowed"), &n))
		html_fmt(b, " of %" PRId64 " allowed", n);
	html_lit(b, "</td></tr>\n");
	kv(b, "intent", get(m, "intent"));
	html_lit(b, "<tr><th>command</th><td id=\"command\">");
	argv_boxes(b, get(m, "argv"));
	html_lit(b, "</td></tr>\n");
	kv(b, "binary", get(m, "binary"));
	kv(b, "start", get(m, "start"));
	kv(b, "end", get(m, "end"));
	html_lit(b, "<tr><th>duration</th><td>");
	fmt_limit(b, "duration_ms", get(m, "duration_ms"));
	html_lit(b, "</td></tr>\n");
	kv(b, "exit code", get(m, "exit_code"));
	kv(b, "signal", get(m, "signal"));
	kv(b, "calyx exit code", get(m, "calyx_exit_code"));
	if (get(m, "interrupted_by"))
		kv(b, "interrupted by", get(m, "interrupted_by"));
	if (get(m, "start_error"))
		kv(b, "start error", get(m, "start_error"));
	if (get(m, "abandoned"))
		kv(b, "abandoned", get(m, "abandoned"));
	html_lit(b, "</table>\n");

	const cJSON *v = get(m, "violation");
	if (cJSON_IsObject(v)) {
		const char *limit = str(v, "limit");
		html_lit(b, "<div class=\"violation\" id=\"violation\"><strong>Stopped by a limit: <code>");
		html_cstr(b, limit ? limit : "?");
		html_lit(b, "</code></strong><br>measured ");
		if (cJSON_IsNull(get(v, "measured")))
			html_lit(b, "<span class=\"none\">not measurable</span>");
		else
			fmt_limit(b, limit ? limit : "", get(v, "measured"));
		html_lit(b, ", bound ");
		fmt_limit(b, limit ? limit : "", get(v, "bound"));
		if (get(v, "refused_writes")) {
			html_lit(b, ", refused writes ");
			value(b, get(v, "refused_writes"));
		}
		html_lit(b, "<br>enforced by: ");
		value(b, get(v, "how"));
		html_lit(b, "; measured from: ");
		value(b, get(v, "measured_from"));
		html_lit(b, "</div>\n");
	}
	html_lit(b, "</section>\n");
}

/* ---- lease and matrix ---- */

static void lease_section(struct html_buf *b, const struct report_run *r)
{
	const cJSON *m = r->meta;
	section(b, "lease", "Lease and matrix");
	const cJSON *rec, *verified = NULL, *consumed = NULL;
	cJSON_ArrayForEach(rec, r->svf) {
		const char *t = str(rec, "type");
		if (t && !strcmp(t, "lease_event.verified") && !verified)
			verified = rec;
		if (t && !strcmp(t, "lease_event.consumed"))
			consumed = rec;
	}
	html_lit(b, "<h3>Verified (audit record lease_event.verified)</h3>\n");
	if (verified) {
		html_lit(b, "<table class=\"kv\">\n");
		kv(b, "at", get(verified, "ts"));
		kv(b, "host", get(verified, "host"));
		kv_object(b, get(verified, "data"));
		html_lit(b, "</table>\n");
	} else {
		html_lit(b, "<p class=\"warn\">The audit log has no lease_event.verified record of this lease.</p>\n");
	}
	if (consumed) {
		html_lit(b, "<h3>Consumed (lease_event.consumed)</h3>\n<table class=\"kv\">\n");
		kv(b, "at", get(consumed, "ts"));
		kv_object(b, get(consumed, "data"));
		html_lit(b, "</table>\n");
	}
	html_lit(b, "<h3>Enforcement</h3>\n<table class=\"kv\">\n");
	kv_object(b, get(m, "enforcement"));
	kv(b, "run as", get(m, "run_as"));
	kv(b, "fail on denial", get(m, "fail_on_denial"));
	html_lit(b, "</table>\n");
	/* Long and rarely read: folded (a <details> element needs no script). */
	html_lit(b, "<details><summary>the sandbox's namespaces and view, the seccomp baseline</summary>\n"
		    "<table class=\"kv\">\n");
	kv(b, "sandbox", get(m, "sandbox"));
	kv(b, "seccomp", get(m, "seccomp"));
	html_lit(b, "</table>\n</details>\n");

	const cJSON *missing = get(m, "lease_paths_missing");
	if (cJSON_IsArray(missing) && cJSON_GetArraySize(missing) > 0) {
		html_lit(b, "<h3>Lease paths missing at the start</h3>\n<table>\n<tr><th>pattern</th><th>path</th><th>why</th></tr>\n");
		const cJSON *e;
		cJSON_ArrayForEach(e, missing) {
			html_lit(b, "<tr><td>");
			value(b, get(e, "pattern"));
			html_lit(b, "</td><td>");
			value(b, get(e, "path"));
			html_lit(b, "</td><td>");
			value(b, get(e, "why"));
			html_lit(b, "</td></tr>\n");
		}
		html_lit(b, "</table>\n");
	}
	html_lit(b, "</section>\n");
}

/* ---- processes ---- */

struct proc {
	const cJSON *j;
	int64_t pid, ppid;
	int64_t start, end;       /* µs since the epoch */
	bool has_start, has_end;
	int depth;
	bool placed;
};

struct span {
	int64_t t0, t1;           /* the timeline's ends, µs */
	bool ok;
};

static void widen(struct span *s, int64_t t)
{
	if (!s->ok) {
		s->t0 = s->t1 = t;
		s->ok = true;
		return;
	}
	if (t < s->t0)
		s->t0 = t;
	if (t > s->t1)
		s->t1 = t;
}

static bool ts_of(const cJSON *o, const char *key, int64_t *us)
{
	return report_parse_ts_us(str(o, key), us) == 0;
}

/* The run's time axis: from the first to the last time recorded (meta.json start and end,
 * every process's start and end, every denial), so the process table, its timeline and
 * the denial table share one origin. */
static struct span run_span(const struct report_run *r)
{
	struct span s = { 0 };
	int64_t t;
	if (ts_of(r->meta, "start", &t))
		widen(&s, t);
	if (ts_of(r->meta, "end", &t))
		widen(&s, t);
	const cJSON *e;
	cJSON_ArrayForEach(e, r->events) {
		if (ts_of(e, "start", &t))
			widen(&s, t);
		if (ts_of(e, "end", &t))
			widen(&s, t);
		if (ts_of(e, "ts", &t))
			widen(&s, t);
	}
	return s;
}

/* The x position (0..TL_W) of t on the span. */
static double tl_x(const struct span *s, int64_t t)
{
	if (s->t1 <= s->t0)
		return 0;
	double x = (double)(t - s->t0) * TL_W / (double)(s->t1 - s->t0);
	return x < 0 ? 0 : x > TL_W ? TL_W : x;
}

static void offset_ms(struct html_buf *b, const struct span *s, bool have, int64_t t)
{
	if (!have || !s->ok)
		html_lit(b, "<span class=\"none\">unknown</span>");
	else
		html_fmt(b, "+%.3f ms", (double)(t - s->t0) / 1000.0);
}

/* Depth-first order from the roots (processes whose parent is not one of the run's),
 * children by start time then pid. n is at most MAX_PROCS_SHOWN: quadratic is fine. */
static size_t place(struct proc *p, size_t n, size_t *order, size_t k, int64_t parent, int depth)
{
	for (;;) {
		size_t best = n;
		for (size_t i = 0; i < n; i++) {
			if (p[i].placed)
				continue;
			bool child;
			if (parent < 0) {
				child = true;
				for (size_t j = 0; j < n; j++)
					if (j != i && p[j].pid == p[i].ppid)
						child = false;
			} else {
				child = p[i].ppid == parent;
			}
			if (!child)
				continue;
			if (best == n || (p[i].has_start && (!p[best].has_start || p[i].start < p[best].start)) ||
			    (p[i].has_start == p[best].has_start && p[i].start == p[best].start && p[i].pid < p[best].pid))
				best = i;
		}
		if (best == n)
			return k;
		p[best].placed = true;
		p[best].depth = depth;
		order[k++] = best;
		k = place(p, n, order, k, p[best].pid, depth + 1);
	}
}

static void process_section(struct html_buf *b, const struct report_run *r)
{
	section(b, "processes", "Processes");
	size_t total = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, r->events) {
		const char *t = str(e, "type");
		if (t && !strcmp(t, "process"))
			total++;
	}
	if (!r->events_present)
		html_lit(b, "<p class=\"warn\">The run directory has no events.jsonl.</p>\n");
	if (r->events_bad || r->events_omitted)
		html_fmt(b, "<p class=\"warn\">events.jsonl: %zu lines are not JSON objects, %zu lines past the first %u not read.</p>\n",
			 r->events_bad, r->events_omitted, REPORT_MAX_EVENT_LINES);
	size_t n = total < MAX_PROCS_SHOWN ? total : MAX_PROCS_SHOWN;
	struct proc *p = calloc(n ? n : 1, sizeof(*p));
	size_t *order = calloc(n ? n : 1, sizeof(*order));
	if (!p || !order) {
		free(p);
		free(order);
		b->oom = true;
		return;
	}
	struct span s = run_span(r);
	int64_t t;
	size_t k = 0;
	cJSON_ArrayForEach(e, r->events) {
		const char *ty = str(e, "type");
		if (!ty || strcmp(ty, "process") != 0 || k >= n)
			continue;
		struct proc *q = &p[k++];
		q->j = e;
		if (!as_int(get(e, "pid"), &q->pid))
			q->pid = -1;
		if (!as_int(get(e, "ppid"), &q->ppid))
			q->ppid = -1;
		q->has_start = ts_of(e, "start", &q->start);
		q->has_end = ts_of(e, "end", &q->end);
	}
	size_t placed = place(p, n, order, 0, -1, 0);
	for (size_t i = 0; i < n; i++)   /* a cycle of ppids (damaged data): shown flat */
		if (!p[i].placed)
			order[placed++] = i;

	if (s.ok)
		html_fmt(b, "<p>Timeline: %.3f ms from the first to the last time recorded (run start, processes, denials).</p>\n",
			 (double)(s.t1 - s.t0) / 1000.0);
	html_lit(b, "<table id=\"proctable\">\n<tr><th>process</th><th>binary and argv</th><th>start</th>"
		    "<th>end</th><th>exit</th><th style=\"width:30%\">timeline</th></tr>\n");
	for (size_t oi = 0; oi < n; oi++) {
		const struct proc *q = &p[order[oi]];
		html_fmt(b, "<tr class=\"proc\"><td class=\"tree\" style=\"padding-left:%dpx\">", 6 + 16 * (q->depth > 30 ? 30 : q->depth));
		if (q->depth)
			html_lit(b, "\xe2\x94\x94 ");   /* └ */
		html_fmt(b, "%" PRId64 " <code>", q->pid);
		html_cstr_cut(b, str(q->j, "comm"), 64);
		html_fmt(b, "</code> <span class=\"none\">ppid %" PRId64 "</span></td><td>", q->ppid);
		const char *bin = str(q->j, "binary");
		if (bin) {
			html_lit(b, "<code>");
			html_cstr(b, bin);
			html_lit(b, "</code><br>");
			argv_boxes(b, get(q->j, "argv"));
			const cJSON *execs = get(q->j, "execs");
			if (cJSON_GetArraySize(execs) > 1)
				html_fmt(b, "<br><span class=\"none\">%d execs</span>", cJSON_GetArraySize(execs));
		} else {
			html_lit(b, "<span class=\"none\">no exec recorded</span>");
		}
		html_lit(b, "</td><td>");
		offset_ms(b, &s, q->has_start, q->start);
		html_lit(b, "</td><td>");
		if (q->has_end)
			offset_ms(b, &s, true, q->end);
		else
			html_lit(b, "<span class=\"none\">no exit record</span>");
		html_lit(b, "</td><td>");
		if (!cJSON_IsNull(get(q->j, "signal")) && get(q->j, "signal")) {
			html_lit(b, "signal ");
			value(b, get(q->j, "signal"));
		} else {
			value(b, get(q->j, "exit_code"));
		}
		html_lit(b, "</td><td>");
		if (s.ok) {
			double x0 = q->has_start ? tl_x(&s, q->start) : 0;
			double x1 = q->has_end ? tl_x(&s, q->end) : TL_W;
			double w = x1 - x0 < 2 ? 2 : x1 - x0;
			html_fmt(b, "<svg class=\"tl\" viewBox=\"0 0 %d 10\" preserveAspectRatio=\"none\" role=\"img\">"
				    "<rect class=\"%s\" x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"10\"><title>",
				 TL_W, q->has_end ? "p" : "open", x0, w);
			html_fmt(b, "pid %" PRId64 "</title></rect></svg>", q->pid);
		}
		html_lit(b, "</td></tr>\n");
	}
	/* The denials on the same time axis. */
	if (s.ok) {
		html_fmt(b, "<tr><td>denials</td><td colspan=\"4\"></td><td><svg class=\"tl\" viewBox=\"0 0 %d 10\" "
			    "preserveAspectRatio=\"none\" role=\"img\">", TL_W);
		cJSON_ArrayForEach(e, r->events) {
			const char *ty = str(e, "type");
			if (ty && (!strcmp(ty, "deny") || !strcmp(ty, "kill")) && ts_of(e, "ts", &t))
				html_fmt(b, "<rect class=\"d\" x=\"%.1f\" y=\"0\" width=\"3\" height=\"10\"></rect>", tl_x(&s, t));
		}
		html_lit(b, "</svg></td></tr>\n");
	}
	html_lit(b, "</table>\n");
	if (total > n)
		html_fmt(b, "<p class=\"warn\">%zu more processes are not shown.</p>\n", total - n);
	if (total == 0)
		html_lit(b, "<p class=\"none\">No process was recorded.</p>\n");

	const cJSON *res = get(r->meta, "resources");
	if (res) {
		html_lit(b, "<details><summary>totals over the process tree (meta.json resources)</summary>\n"
			    "<table class=\"kv\">\n");
		kv_object(b, res);
		html_lit(b, "</table>\n</details>\n");
	}
	html_lit(b, "</section>\n");
	free(p);
	free(order);
}

/* ---- resources against the limits ---- */

static void resource_section(struct html_buf *b, const struct report_run *r)
{
	section(b, "resources", "Resources against the limits");
	const cJSON *lim = get(r->meta, "limits");
	const cJSON *eff = get(lim, "effective"), *meas = get(lim, "measured");
	const cJSON *how = get(lim, "enforced"), *from = get(lim, "measured_from");
	const char *vlimit = str(get(r->meta, "violation"), "limit");
	if (!cJSON_IsObject(eff)) {
		html_lit(b, "<p class=\"warn\">meta.json has no limits.effective.</p>\n</section>\n");
		return;
	}
	html_lit(b, "<table id=\"limits\">\n<tr><th>limit</th><th style=\"width:30%\">measured against the bound</th>"
		    "<th>measured</th><th>bound</th><th>enforced by</th><th>measured from</th></tr>\n");
	const cJSON *bound;
	cJSON_ArrayForEach(bound, eff) {
		const char *claim = bound->string ? bound->string : "";
		const cJSON *mv = get(meas, claim);
		bool hit = vlimit && !strcmp(vlimit, claim);
		int64_t bi = 0, mi = 0;
		bool hb = as_int(bound, &bi) && bi > 0, hm = as_int(mv, &mi);
		html_fmt(b, "<tr class=\"limit%s\"><th>", hit ? " hit" : "");
		html_cstr(b, claim);
		if (hit)
			html_lit(b, " <span class=\"warn\">(violated)</span>");
		html_lit(b, "</th><td>");
		if (hb && hm) {
			double frac = (double)mi / (double)bi;
			double w = frac > 1 ? BAR_W : frac * BAR_W;
			/* The bound is at the right end; a measure past it is drawn to the end in red. */
			html_fmt(b, "<svg class=\"bar\" viewBox=\"0 0 %d 16\" preserveAspectRatio=\"none\" role=\"img\">"
				    "<rect class=\"f%s\" x=\"0\" y=\"0\" width=\"%.1f\" height=\"16\"></rect>"
				    "<line class=\"b\" x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"16\"></line></svg>%.1f%% of the bound",
				 BAR_W, hit || frac > 1 ? " over" : "", w, BAR_W - 1, BAR_W - 1, frac * 100);
		} else if (!hb) {
			html_lit(b, "<span class=\"none\">no limit</span>");
		} else {
			html_lit(b, "<span class=\"none\">not measured</span>");
		}
		html_lit(b, "</td><td class=\"measured\">");
		if (hm)
			fmt_limit(b, claim, mv);
		else
			html_lit(b, "<span class=\"none\">not known</span>");
		if (!strcmp(claim, "fsize_bytes") && get(meas, "fsize_refused_writes")) {
			html_lit(b, "; refused writes: ");
			value(b, get(meas, "fsize_refused_writes"));
		}
		html_lit(b, "</td><td>");
		if (cJSON_IsNull(bound))
			html_lit(b, "<span class=\"none\">none</span>");
		else
			fmt_limit(b, claim, bound);
		html_lit(b, "</td><td class=\"wrap\">");
		value(b, get(how, claim));
		html_lit(b, "</td><td class=\"wrap\">");
		value(b, get(from, claim));
		html_lit(b, "</td></tr>\n");
	}
	html_lit(b, "</table>\n");
	const cJSON *ne = get(lim, "not_enforced");
	if (cJSON_GetArraySize(ne) > 0) {
		html_lit(b, "<p class=\"warn\">Not enforced on this host (unenforceable_limits: warn): ");
		value(b, ne);
		html_lit(b, "</p>\n");
	}
	html_lit(b, "</section>\n");
}

/* ---- denials ---- */

static void denial_what(struct html_buf *b, const cJSON *e)
{
	if (str(e, "path")) {
		html_lit(b, "<code class=\"path\">");
		html_cstr(b, str(e, "path"));
		html_lit(b, "</code>");
		if (str(e, "path_source")) {
			html_lit(b, " <span class=\"none\">(");
			html_cstr(b, str(e, "path_source"));
			html_lit(b, ")</span>");
		}
	} else if (str(e, "syscall")) {
		html_lit(b, "syscall <code>");
		html_cstr(b, str(e, "syscall"));
		html_lit(b, "</code>");
	}
	if (get(e, "family")) {
		html_lit(b, " family ");
		value(b, get(e, "family"));
	}
	if (get(e, "addr")) {
		html_lit(b, " to <code>");
		value(b, get(e, "addr"));
		html_lit(b, "</code>");
		if (get(e, "port")) {
			html_lit(b, " port ");
			value(b, get(e, "port"));
		}
	}
	if (get(e, "argv")) {
		html_lit(b, "<br>argv ");
		argv_boxes(b, get(e, "argv"));
	}
}

static void denial_section(struct html_buf *b, const struct report_run *r)
{
	section(b, "denials", "Denials");
	const cJSON *counts = get(r->meta, "denials");
	html_lit(b, "<table class=\"kv\" id=\"denial-counts\">\n");
	const cJSON *c;
	cJSON_ArrayForEach(c, counts) {
		html_lit(b, "<tr><th>");
		html_cstr(b, c->string ? c->string : "");
		html_lit(b, "</th><td>");
		if (cJSON_IsNull(c))
			html_lit(b, "<span class=\"none\">not observed by this backend (Landlock's own refusals are"
				    " enforced but not reported)</span>");
		else
			value(b, c);
		html_lit(b, "</td></tr>\n");
	}
	html_lit(b, "</table>\n");
	/* Audit-only (docs/audit-only.md): the would-denies, listed below with the denials. */
	bool audit_only = cJSON_IsTrue(get(r->meta, "audit_only"));
	if (audit_only) {
		html_lit(b, "<p class=\"warn\" id=\"audit-only\">Audit-only run: nothing the lease governs was denied; "
			    "what would have been is recorded as would_deny.</p>\n<table class=\"kv\" id=\"would-deny-counts\">\n");
		cJSON_ArrayForEach(c, get(r->meta, "would_deny")) {
			html_lit(b, "<tr><th>would deny: ");
			html_cstr(b, c->string ? c->string : "");
			html_lit(b, "</th><td>");
			value(b, c);
			html_lit(b, "</td></tr>\n");
		}
		html_lit(b, "</table>\n");
	}
	int64_t dropped;
	if (as_int(get(r->meta, "dropped_events"), &dropped) && dropped > 0)
		html_fmt(b, "<p class=\"warn\">%" PRId64 " records were lost (the ring buffer was full): the table below lacks them.</p>\n", dropped);

	struct span s = run_span(r);
	int64_t t;
	size_t shown = 0, more = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, r->events) {
		const char *ty = str(e, "type");
		if (!ty || (strcmp(ty, "deny") && strcmp(ty, "kill") && strcmp(ty, "would_deny")))
			continue;
		if (shown >= MAX_DENIALS_SHOWN) {
			more++;
			continue;
		}
		if (!shown)
			html_lit(b, "<table id=\"denial-table\">\n<tr><th>time</th><th>type</th><th>class</th><th>hook</th>"
				    "<th>what</th><th>access / op</th><th>errno</th><th>process</th></tr>\n");
		shown++;
		html_lit(b, "<tr class=\"denial\"><td>");
		bool ht = ts_of(e, "ts", &t);
		offset_ms(b, &s, ht, t);
		html_lit(b, "</td><td>");
		html_cstr(b, ty);
		if (!strcmp(ty, "kill")) {
			html_markup(b, cJSON_IsTrue(get(e, "killed")) ? " (killed)" : " <span class=\"warn\">(not killed)</span>");
		} else if (!strcmp(ty, "would_deny")) {
			html_markup(b, " <span class=\"none\">(allowed: audit-only)</span>");
		}
		html_lit(b, "</td><td>");
		value(b, get(e, "class"));
		html_lit(b, "</td><td>");
		value(b, get(e, "hook"));
		html_lit(b, "</td><td class=\"wrap\">");
		denial_what(b, e);
		html_lit(b, "</td><td>");
		if (get(e, "access"))
			value(b, get(e, "access"));
		if (get(e, "op"))
			value(b, get(e, "op"));
		html_lit(b, "</td><td>");
		value(b, get(e, "errno"));
		html_lit(b, "</td><td>");
		value(b, get(e, "pid"));
		html_lit(b, " <code>");
		html_cstr_cut(b, str(e, "comm"), 64);
		html_lit(b, "</code></td></tr>\n");
	}
	if (shown)
		html_lit(b, "</table>\n");
	else
		html_lit(b, "<p class=\"none\" id=\"no-denials\">No denial was recorded.</p>\n");
	if (more)
		html_fmt(b, "<p class=\"warn\">%zu more denials are not shown.</p>\n", more);
	html_lit(b, "</section>\n");
}

/* ---- artifacts, output ---- */

static void artifact_section(struct html_buf *b, const struct report_run *r)
{
	section(b, "artifacts", "Artifacts");
	html_lit(b, "<p>BLAKE2b-256 of each file as it is now (the same as <code>b2sum -l 256</code>), beside the "
		    "hash meta.json records for it (for meta.json: the audit log's completion record).</p>\n");
	html_lit(b, "<table id=\"artifact-table\">\n<tr><th>file</th><th>bytes</th><th>BLAKE2b-256</th><th>recorded</th></tr>\n");
	for (size_t i = 0; i < r->n_artifacts; i++) {
		const struct report_artifact *a = &r->artifacts[i];
		html_lit(b, "<tr class=\"artifact\"><td class=\"name\"><code>");
		html_cstr(b, a->name);
		html_fmt(b, "</code></td><td>%" PRIu64 "</td><td class=\"hash\">", a->bytes);
		if (a->blake2b[0])
			html_cstr(b, a->blake2b);
		else {
			html_lit(b, "<span class=\"warn\">unreadable: ");
			html_cstr(b, a->error);
			html_lit(b, "</span>");
		}
		html_lit(b, "</td><td>");
		if (!a->recorded[0])
			html_lit(b, "<span class=\"none\">not recorded</span>");
		else if (!strcmp(a->recorded, a->blake2b))
			html_lit(b, "<span class=\"match\">matches</span>");
		else {
			html_lit(b, "<span class=\"differs\">differs: recorded ");
			html_cstr(b, a->recorded);
			html_lit(b, "</span>");
		}
		html_lit(b, "</td></tr>\n");
	}
	html_lit(b, "</table>\n");
	if (r->artifacts_omitted || r->artifacts_other)
		html_fmt(b, "<p class=\"warn\">%zu more files not hashed; %zu entries that are not regular files.</p>\n",
			 r->artifacts_omitted, r->artifacts_other);
	html_lit(b, "</section>\n");
}

static void excerpt(struct html_buf *b, const char *file, const char *id, const struct report_excerpt *x)
{
	html_fmt(b, "<h3>%s</h3>\n", file);
	if (!x->present) {
		html_lit(b, "<p class=\"none\">absent</p>\n");
		return;
	}
	html_fmt(b, "<p>%" PRIu64 " bytes%s</p>\n", x->size, x->size > x->len ? ", the first shown" : "");
	if (x->len) {
		html_fmt(b, "<pre id=\"%s\">", id);
		html_text(b, x->data, x->len);
		html_lit(b, "</pre>\n");
	}
}

static void output_section(struct html_buf *b, const struct report_run *r)
{
	section(b, "output", "Output");
	excerpt(b, "stdout.log", "stdout", &r->out);
	excerpt(b, "stderr.log", "stderr", &r->err);
	html_lit(b, "</section>\n");
}

/* ---- audit ---- */

static void audit_section(struct html_buf *b, const struct report_run *r)
{
	const struct report_audit *a = &r->audit;
	section(b, "audit", "Audit");
	if (a->verifies) {
		html_lit(b, "<p class=\"verdict v-ok\" id=\"verdict\">verifies</p>\n");
	} else {
		html_lit(b, "<p class=\"verdict v-bad\" id=\"verdict\">does not verify: ");
		html_cstr(b, a->reason);
		html_lit(b, "</p>\n");
	}
	html_lit(b, "<table class=\"kv\">\n<tr><th>hash chain</th><td>");
	if (a->chain_verifies) {
		html_fmt(b, "verifies: %" PRIu64 " records, head <span class=\"hash\">", a->records);
		html_cstr(b, a->head);
		html_lit(b, "</span>");
	} else {
		html_lit(b, "<span class=\"warn\">does not verify</span>");
	}
	html_lit(b, "</td></tr>\n<tr><th>this run</th><td>");
	if (a->started_seq)
		html_fmt(b, "exec_event.started at seq %" PRIu64 "; ", a->started_seq);
	if (a->completed_seq)
		html_fmt(b, "exec_event.completed at seq %" PRIu64 "", a->completed_seq);
	html_lit(b, "</td></tr>\n<tr><th>what it proves</th><td>Every record of the log is intact and in order "
		    "(BLAKE2b-256 chain), the run's completion record vouches for meta.json, and meta.json for the "
		    "other files. Whole records cut off the end of the log are not detectable without signed "
		    "checkpoints of the chain head.</td></tr>\n</table>\n");
	if (r->svf_omitted)
		html_fmt(b, "<p class=\"warn\">%zu more records of this run are not shown.</p>\n", r->svf_omitted);
	html_lit(b, "<table id=\"svf-table\">\n<tr><th>seq</th><th>time</th><th>type</th><th>data</th></tr>\n");
	const cJSON *rec;
	cJSON_ArrayForEach(rec, r->svf) {
		html_lit(b, "<tr class=\"svf\"><td>");
		value(b, get(rec, "seq"));
		html_lit(b, "</td><td>");
		value(b, get(rec, "ts"));
		html_lit(b, "</td><td>");
		value(b, get(rec, "type"));
		html_lit(b, "</td><td class=\"wrap\"><code>");
		value(b, get(rec, "data"));
		html_lit(b, "</code></td></tr>\n");
	}
	html_lit(b, "</table>\n</section>\n");
}

int report_html(const struct report_run *r, const char *generator, struct html_buf *b)
{
	html_lit(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
	/* Defence in depth beside the escaping: the page may load nothing and run nothing,
	 * even if something slipped through. */
	html_lit(b, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n");
	html_lit(b, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>calyx report ");
	html_cstr(b, r->name);
	html_lit(b, "</title>\n<style>");
	html_raw(b, CSS, strlen(CSS));
	html_lit(b, "</style>\n</head>\n<body>\n");
	header(b, r);
	lease_section(b, r);
	process_section(b, r);
	resource_section(b, r);
	denial_section(b, r);
	artifact_section(b, r);
	output_section(b, r);
	audit_section(b, r);
	html_lit(b, "<footer><p class=\"none\">");
	html_cstr(b, generator);
	html_lit(b, "; state dir ");
	html_cstr(b, r->state_path);
	html_lit(b, "</p></footer>\n</body>\n</html>\n");
	return b->oom ? -ENOMEM : 0;
}
