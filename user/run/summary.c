/* The end-of-run summary (summary.h). The examples come from the records as they arrive;
 * everything else from the run's meta.json, so the summary never says what meta.json does
 * not. */
#include "run/summary.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "run/termout.h"

/* ---------------------------------------------------------------- collecting */

static const char *jstr(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static bool jnum(const cJSON *o, const char *key, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(n))
		return false;
	*v = n->valuedouble;
	return true;
}

/* What a socket hook tried, in a word. */
static const char *net_verb(const char *hook)
{
	static const struct { const char *hook, *verb; } v[] = {
		{ "socket_create", "socket" }, { "socket_connect", "connect" },
		{ "socket_sendmsg", "send" },  { "socket_bind", "bind" },
		{ "socket_recvmsg", "receive" }, { "socket_listen", "listen" },
		{ "seccomp", "socket, seccomp" },
	};
	for (size_t i = 0; hook && i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(hook, v[i].hook))
			return v[i].verb;
	return hook ? hook : "?";
}

/* The example text of one denial, from its events.jsonl object (the same fields the
 * record has there: one formatter for ring-buffer records and seccomp refusals). */
static void json_text(const cJSON *j, char *out, size_t outlen)
{
	const char *cls = jstr(j, "class"), *hook = jstr(j, "hook"), *path = jstr(j, "path");
	const char *op = jstr(j, "op"), *access = jstr(j, "access"), *addr = jstr(j, "addr");
	const char *sys = jstr(j, "syscall"), *type = jstr(j, "type");
	const cJSON *fam = cJSON_GetObjectItemCaseSensitive(j, "family");
	char fbuf[32];
	const char *family = cJSON_GetStringValue(fam);
	if (!family && cJSON_IsNumber(fam)) {
		snprintf(fbuf, sizeof(fbuf), "family %.0f", fam->valuedouble);   /* a u32: no int cast */
		family = fbuf;
	}
	if (!family)
		family = "socket";
	double port = 0, sig = 0;
	bool has_port = jnum(j, "port", &port);
	if (!cls)
		cls = "other";
	if (path && !*path)
		path = NULL;

	if (!strcmp(cls, "syscall")) {
		snprintf(out, outlen, "%s", sys ? sys : "?");
	} else if (!strcmp(cls, "net")) {
		char where[SUMMARY_EXAMPLE_MAX] = "";
		if (addr && has_port)
			snprintf(where, sizeof(where), strchr(addr, ':') ? " [%s]:%.0f" : " %s:%.0f", addr, port);
		else if (path)
			snprintf(where, sizeof(where), " %s", path);
		snprintf(out, outlen, "%s%s (%s)", family, where, net_verb(hook));
	} else if (!strcmp(cls, "file")) {
		snprintf(out, outlen, "%s (%s)", path ? path : "?", op ? op : access ? access : hook ? hook : "?");
	} else if (!strcmp(cls, "exec")) {
		const char *why = type && !strcmp(type, "kill") ? (hook && !strcmp(hook, "exec_argv")
								  ? "argv, killed" : "killed")
			: op ? op : NULL;
		if (why)
			snprintf(out, outlen, "%s (%s)", path ? path : "?", why);
		else
			snprintf(out, outlen, "%s", path ? path : "?");
	} else {
		char extra[48] = "";
		if (jnum(j, "signal", &sig))
			snprintf(extra, sizeof(extra), " signal %.0f", sig);
		snprintf(out, outlen, "%s%s%s%s%s%s", hook ? hook : "?", op ? " " : "", op ? op : "",
			 path ? " " : "", path ? path : "", extra);
	}
}

void summary_event_text(const struct calyx_event *ev, char *out, size_t outlen)
{
	/* the record's events.jsonl line, parsed: a tree only for an example kept */
	struct jbuf b = { 0 };
	event_format_denial(&b, ev, 0, NULL);
	cJSON *j = b.oom ? NULL : cJSON_ParseWithLength(b.p, b.len);
	jb_free(&b);
	if (j)
		json_text(j, out, outlen);
	else
		snprintf(out, outlen, "%s", event_hook_name(ev->hook));
	cJSON_Delete(j);
}

/* Keep text as an example of class c, or count it against the one it repeats. The index
 * kept or repeated, -1 when the class is full and this is none of them. */
static int keep(struct summary_class *c, const char *text)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (!strcmp(c->ex[i], text)) {
			c->count[i]++;
			return (int)i;
		}
	}
	if (c->n >= SUMMARY_EXAMPLES)
		return -1;
	snprintf(c->ex[c->n], sizeof(c->ex[c->n]), "%s", text);
	c->count[c->n] = 1;
	return (int)c->n++;
}

/* ev: a DENY or KILL record (its body a struct calyx_deny_event) */
static void key_of(const struct calyx_event *ev, struct summary_key *k)
{
	const struct calyx_deny_event *d = (const struct calyx_deny_event *)ev;
	const char *path = event_path(ev);
	memset(k, 0, sizeof(*k));
	k->type = ev->type;
	k->hook = ev->hook;
	k->family = d->family;
	k->flags = d->flags;
	k->port = d->port;
	memcpy(k->addr, d->addr, sizeof(k->addr));
	memcpy(k->path, path, strnlen(path, sizeof(k->path) - 1));
}

void summary_collect_event(struct run_summary *s, const struct calyx_event *ev)
{
	int dc = event_deny_class(ev);
	if (dc < 0)
		return;
	struct summary_class *c = event_is_would_deny(ev) ? &s->would[dc] : &s->cls[dc];
	c->seen++;
	struct summary_key k;
	key_of(ev, &k);
	for (unsigned i = 0; i < c->n; i++) {
		if (c->have_key[i] && !memcmp(&c->key[i], &k, sizeof(k))) {
			c->count[i]++;
			return;
		}
	}
	/* A full class keeps no more: the record is counted (seen), not formatted. */
	if (c->n >= SUMMARY_EXAMPLES)
		return;
	char text[SUMMARY_EXAMPLE_MAX];
	summary_event_text(ev, text, sizeof(text));
	int i = keep(c, text);
	if (i >= 0 && !c->have_key[i]) {
		c->key[i] = k;
		c->have_key[i] = true;
	}
}

void summary_collect_syscall(struct run_summary *s, const struct syscall_denial *d)
{
	struct summary_class *c = d->would_deny ? &s->would[syscall_denial_class(d)] : &s->cls[syscall_denial_class(d)];
	c->seen++;
	char text[SUMMARY_EXAMPLE_MAX] = "?";
	cJSON *j = syscall_denial_to_json(d);
	if (j)
		json_text(j, text, sizeof(text));
	cJSON_Delete(j);
	keep(c, text);
}

/* ---------------------------------------------------------------- showing */

void summary_safe(const char *s, size_t n, char *out)
{
	struct termout t = { 0 };
	size_t o = 0, from = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '\n' && s[i] != '\t')
			continue;
		o += termout_filter(&t, s + from, i - from, out + o);
		if (i < n) {
			/* the filter keeps \n and \t (right for output, wrong inside one line) */
			o += termout_flush(&t, out + o);
			o += (size_t)sprintf(out + o, "\\x%02x", (unsigned char)s[i]);
		}
		from = i + 1;
	}
	o += termout_flush(&t, out + o);
	out[o] = '\0';
}

#define LABEL "calyx:   %-13s "
#define SUB   "calyx:     %-11s "

static void put_safe(FILE *f, const char *s)
{
	size_t n = strlen(s);
	char *buf = malloc(SUMMARY_SAFE_MAX(n));
	if (!buf)
		return;
	summary_safe(s, n, buf);
	fputs(buf, f);
	free(buf);
}

static double num_at(const cJSON *meta, const char *a, const char *b, const char *c, bool *ok)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(meta, a);
	if (b)
		o = cJSON_GetObjectItemCaseSensitive(o, b);
	if (c)
		o = cJSON_GetObjectItemCaseSensitive(o, c);
	if (ok)
		*ok = cJSON_IsNumber(o);
	return cJSON_IsNumber(o) ? o->valuedouble : 0;
}

static void header(FILE *f, const cJSON *meta)
{
	const char *lease = jstr(meta, "lease"), *status = jstr(meta, "status");
	const char *start_error = jstr(meta, "start_error"), *intr = jstr(meta, "interrupted_by");
	double code = num_at(meta, "calyx_exit_code", NULL, NULL, NULL);
	double ms = num_at(meta, "duration_ms", NULL, NULL, NULL);
	fprintf(f, "calyx: summary of %s: %s, exit %.0f", lease ? lease : "the run", status ? status : "?", code);
	bool ok;
	double child = num_at(meta, "exit_code", NULL, NULL, &ok);
	if (ok && child != code)
		fprintf(f, " (the command's %.0f)", child);
	double sig = num_at(meta, "signal", NULL, NULL, &ok);
	if (ok)
		fprintf(f, " (the command died of signal %.0f)", sig);
	if (intr)
		fprintf(f, ", calyx interrupted by SIG%s", intr);
	fprintf(f, ", %.0f ms\n", ms);
	if (start_error) {
		fprintf(f, LABEL, "not started");
		fputs("the command never ran: ", f);
		put_safe(f, start_error);
		fputc('\n', f);
	}
}

static void examples(FILE *f, const struct summary_class *cls, const cJSON *d);

/* "denied" and one row of examples per class that has any. */
static void denials(FILE *f, const struct run_summary *s, const cJSON *meta)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(meta, "denials");
	const char *backend = jstr(cJSON_GetObjectItemCaseSensitive(meta, "enforcement"), "backend");
	bool blind_files = false;
	double total = 0;
	char parts[256] = "";
	size_t pl = 0;
	for (int k = 0; k < DENY_CLASS_COUNT; k++) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, deny_class_name((enum deny_class)k));
		if (cJSON_IsNull(n))
			blind_files = true;
		if (!cJSON_IsNumber(n) || n->valuedouble <= 0)
			continue;
		total += n->valuedouble;
		pl += (size_t)snprintf(parts + pl, sizeof(parts) - pl, "%s%s %.0f", pl ? ", " : "",
				       deny_class_name((enum deny_class)k), n->valuedouble);
		if (pl >= sizeof(parts))
			pl = sizeof(parts) - 1;
	}
	fprintf(f, LABEL, "denied");
	if (total > 0)
		fprintf(f, "%.0f: %s", total, parts);
	else
		fputs("none recorded", f);
	if (blind_files)
		fprintf(f, " (%s backend: Landlock's own refusals are enforced but not seen)", backend ? backend : "this");
	fputc('\n', f);
	examples(f, s->cls, d);
}

/* Audit-only runs: "audit-only: N would-deny: exec 1, file 2" and the examples, from
 * meta.json's would_deny (docs/audit-only.md). */
static void would_denials(FILE *f, const struct run_summary *s, const cJSON *meta)
{
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "audit_only")))
		return;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(meta, "would_deny");
	double total = 0;
	char parts[256] = "";
	size_t pl = 0;
	const char *backend = jstr(cJSON_GetObjectItemCaseSensitive(meta, "enforcement"), "backend");
	for (int k = 0; k < DENY_CLASS_COUNT; k++) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, deny_class_name((enum deny_class)k));
		if (!cJSON_IsNumber(n) || n->valuedouble <= 0)
			continue;
		total += n->valuedouble;
		pl += (size_t)snprintf(parts + pl, sizeof(parts) - pl, "%s%s %.0f", pl ? ", " : "",
				       deny_class_name((enum deny_class)k), n->valuedouble);
		if (pl >= sizeof(parts))
			pl = sizeof(parts) - 1;
	}
	fprintf(f, LABEL, "audit-only");
	fprintf(f, "%.0f would-deny%s%s", total, pl ? ": " : "", parts);
	if (backend && !strcmp(backend, "landlock"))
		fputs(" (landlock backend: metadata reads are not observed)", f);
	fputc('\n', f);
	examples(f, s->would, d);
}

/* One row of examples per class that has any; d: the counts by class. */
static void examples(FILE *f, const struct summary_class *cls, const cJSON *d)
{
	for (int k = 0; k < DENY_CLASS_COUNT; k++) {
		const struct summary_class *c = &cls[k];
		if (!c->n)
			continue;
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, deny_class_name((enum deny_class)k));
		double all = cJSON_IsNumber(n) ? n->valuedouble : (double)c->seen;
		uint64_t shown = 0;
		fprintf(f, SUB, deny_class_name((enum deny_class)k));
		for (unsigned i = 0; i < c->n; i++) {
			if (i)
				fputs(", ", f);
			put_safe(f, c->ex[i]);
			if (c->count[i] > 1)
				fprintf(f, " x%" PRIu64, c->count[i]);
			shown += c->count[i];
		}
		if (all > (double)shown)
			fprintf(f, ", +%.0f more", all - (double)shown);
		fputc('\n', f);
	}
}

static void measured_text(const char *limit, double v, char *out, size_t outlen)
{
	size_t l = strlen(limit);
	if (l > 3 && !strcmp(limit + l - 3, "_ms"))
		snprintf(out, outlen, "%.0f ms", v);
	else if (l > 6 && !strcmp(limit + l - 6, "_bytes"))
		snprintf(out, outlen, "%.0f bytes", v);
	else
		snprintf(out, outlen, "%.0f", v);
}

/* The limit that stopped the run: meta.json's violation object {limit, measured, bound},
 * or (a violation named by a string) what the run measured for it. */
static void limit_hit(FILE *f, const cJSON *meta)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, "violation");
	const char *limit = cJSON_IsString(v) ? v->valuestring : jstr(v, "limit");
	if (!limit)
		return;
	double measured = 0, bound = 0;
	bool have_m = false, have_b = false;
	if (cJSON_IsObject(v)) {
		have_m = jnum(v, "measured", &measured);
		have_b = jnum(v, "bound", &bound);
	} else {
		bound = num_at(meta, "limits", "effective", limit, &have_b);
		if (!strcmp(limit, "wall_ms")) {
			measured = num_at(meta, "duration_ms", NULL, NULL, &have_m);
		} else if (!strcmp(limit, "cpu_ms")) {
			measured = num_at(meta, "resources", "cgroup_cpu_ms", NULL, &have_m);
		} else if (!strcmp(limit, "output_bytes")) {
			bool a, b;
			double o = num_at(cJSON_GetObjectItemCaseSensitive(meta, "artifacts"), "stdout.log", "bytes_produced", NULL, &a);
			double e = num_at(cJSON_GetObjectItemCaseSensitive(meta, "artifacts"), "stderr.log", "bytes_produced", NULL, &b);
			have_m = a || b;
			measured = o > e ? o : e;
		}
	}
	char m[64] = "not measured", b[64] = "?";
	if (have_m)
		measured_text(limit, measured, m, sizeof(m));
	if (!strcmp(limit, "mem_bytes") && !have_m)
		snprintf(m, sizeof(m), "the kernel's OOM killer fired");
	if (have_b)
		measured_text(limit, bound, b, sizeof(b));
	fprintf(f, LABEL "%s: measured %s, bound %s\n", "limit hit", limit, m, b);
}

/* Limits the lease set that nothing enforced on this host (meta.json limits.enforced). */
static void not_enforced(FILE *f, const cJSON *meta)
{
	const cJSON *lim = cJSON_GetObjectItemCaseSensitive(meta, "limits");
	const cJSON *how = cJSON_GetObjectItemCaseSensitive(lim, "enforced");
	const cJSON *e;
	bool first = true;
	cJSON_ArrayForEach(e, how) {
		const char *s = cJSON_GetStringValue(e);
		if (!s || strncmp(s, "not enforced", 12) != 0)
			continue;
		const char *why = s + 12;
		why += strspn(why, ": ");
		fprintf(f, first ? LABEL : "calyx:   %-13s ", first ? "not enforced" : "");
		fprintf(f, "%s%s%s%s\n", e->string, *why ? " (" : "", why, *why ? ")" : "");
		first = false;
	}
}

static void missing(FILE *f, const cJSON *meta)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(meta, "lease_paths_missing"), *e;
	bool first = true;
	cJSON_ArrayForEach(e, a) {
		const char *pat = jstr(e, "pattern"), *path = jstr(e, "path"), *why = jstr(e, "why");
		fprintf(f, LABEL, first ? "missing" : "");
		put_safe(f, pat ? pat : "?");
		if (path && pat && strcmp(path, pat)) {
			fputs(" (", f);
			put_safe(f, path);
			fputc(')', f);
		}
		fprintf(f, ": %s at the start\n", why ? why : "missing");
		first = false;
	}
}

/* Lost records: the ring buffer's drops, and kernel refusals without a record. */
static void lost(FILE *f, const cJSON *meta)
{
	double dropped = num_at(meta, "dropped_events", NULL, NULL, NULL);
	double kernel = num_at(meta, "enforcement", "resident", "denied", NULL);
	double refusals = num_at(meta, "seccomp", "refusals", NULL, NULL);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(meta, "denials"), *e;
	double recorded = 0;
	cJSON_ArrayForEach(e, d)
		if (cJSON_IsNumber(e))
			recorded += e->valuedouble;
	recorded -= refusals;   /* the seccomp baseline's are counted there too */
	const char *ev_err = jstr(meta, "events_error");
	const char *sc_err = jstr(cJSON_GetObjectItemCaseSensitive(meta, "seccomp"), "error");
	if (dropped <= 0 && kernel <= recorded && !ev_err && !sc_err)
		return;
	fprintf(f, LABEL, "records lost");
	fprintf(f, "%.0f dropped", dropped);
	if (kernel > recorded)
		fprintf(f, "; the enforcer refused %.0f operations, %.0f of them have no record", kernel,
			kernel - recorded);
	if (ev_err)
		fprintf(f, "; %s", ev_err);
	if (sc_err)
		fprintf(f, "; seccomp %s (later refusals unrecorded)", sc_err);
	fputs(": the examples are incomplete\n", f);
}

static void denial_rule(FILE *f, const cJSON *meta)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(meta, "fail_on_denial");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "enabled")))
		return;
	double n = num_at(r, "denials", NULL, NULL, NULL);
	const char *by = jstr(r, "by");
	fprintf(f, LABEL, "denial rule");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "exit_code_turned")))
		fprintf(f, "exit %.0f: the command exited 0, but %.0f operation%s denied", 
			num_at(meta, "calyx_exit_code", NULL, NULL, NULL), n, n == 1 ? " was" : "s were");
	else if (n > 0)
		fprintf(f, "%.0f denied, the exit code was not 0 already", n);
	else
		fputs("no denial seen", f);
	fprintf(f, " (%s)", by ? by : "on");
	const char *backend = jstr(cJSON_GetObjectItemCaseSensitive(meta, "enforcement"), "backend");
	if (backend && !strcmp(backend, "landlock"))
		fputs("; Landlock's own refusals are not seen, so they cannot count", f);
	fputc('\n', f);
}

void summary_print(FILE *f, const struct run_summary *s, const cJSON *meta)
{
	header(f, meta);
	denials(f, s, meta);
	would_denials(f, s, meta);
	limit_hit(f, meta);
	not_enforced(f, meta);
	missing(f, meta);
	lost(f, meta);
	denial_rule(f, meta);
	fflush(f);
}

void summary_print_not_started(FILE *f, int exit_code, bool lease_used, bool command_started)
{
	if (command_started)
		fprintf(f, "calyx: summary: the run failed before its meta.json was written (exit %d); the lease was used\n",
			exit_code);
	else
		fprintf(f, "calyx: summary: the command did not start (exit %d); the lease was %s\n", exit_code,
			lease_used ? "used" : "not used");
	fflush(f);
}
