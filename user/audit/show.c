/* `calyx audit show`: filters and the text form of a record. Pure (show.h). */
#include "audit/show.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/units.h"

int audit_since_parse(const char *s, int64_t now_ms, int64_t *since_ms, char *err, size_t errlen)
{
	int64_t sec;
	uint64_t ms;
	if (!s || !s[0])
		return errmsg(err, errlen, -EINVAL, "bad --since '': expected an RFC 3339 time or a duration");
	/* A time starts with its year and a '-'; a duration never does. */
	bool is_time = strlen(s) > 4 && s[4] == '-';
	for (int i = 0; i < 4 && is_time; i++)
		is_time = isdigit((unsigned char)s[i]);
	if (is_time) {
		if (units_parse_rfc3339(s, &sec) < 0)
			return errmsg(err, errlen, -EINVAL,
				      "bad --since '%s': not an RFC 3339 time (e.g. 2026-12-03T07:00:00Z)", s);
		*since_ms = sec * 1000;
		return 0;
	}
	int rc = units_parse_duration_ms(s, &ms);
	if (rc < 0 || ms > (uint64_t)now_ms)
		return errmsg(err, errlen, -EINVAL,
			      "bad --since '%s': expected an RFC 3339 time or a duration like 10m, 2h or 1d", s);
	*since_ms = now_ms - (int64_t)ms;
	return 0;
}

int audit_ts_ms(const char *ts, int64_t *ms)
{
	int64_t sec;
	if (!ts || units_parse_rfc3339(ts, &sec) < 0)
		return -EINVAL;
	/* units_parse_rfc3339 drops the fraction: take its milliseconds back. */
	int64_t frac = 0;
	const char *dot = strchr(ts, '.');
	if (dot) {
		int digits = 0;
		for (const char *p = dot + 1; isdigit((unsigned char)*p); p++)
			if (digits < 3) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
		for (; digits < 3; digits++)
			frac *= 10;
	}
	*ms = sec * 1000 + (sec < 0 ? -frac : frac);
	return 0;
}

static const char *member_str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool type_matches(const char *want, const char *type)
{
	if (strchr(want, '.'))
		return strcmp(want, type) == 0;
	size_t n = strlen(want);
	return strncmp(type, want, n) == 0 && type[n] == '.';
}

bool audit_record_match(const struct audit_filter *f, const cJSON *rec)
{
	const char *type = member_str(rec, "type"), *lease = member_str(rec, "lease"),
		   *intent = member_str(rec, "intent");
	if (f->type && !(type && type_matches(f->type, type)))
		return false;
	if (f->lease && !(lease && strcmp(f->lease, lease) == 0))
		return false;
	if (f->intent && !(intent && strcmp(f->intent, intent) == 0))
		return false;
	if (f->have_since) {
		int64_t ms;
		if (audit_ts_ms(member_str(rec, "ts"), &ms) < 0 || ms < f->since_ms)
			return false;
	}
	return true;
}

/* ---- the text form ---- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Text from a record, shown safely: printable ASCII as is, every other byte \xNN. */
static void sb_safe(struct sbuf *b, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c >= 0x20 && *c < 0x7f) {
			sb_put(b, (const char *)c, 1);
		} else {
			char x[5];
			snprintf(x, sizeof(x), "\\x%02x", *c);
			sb_put(b, x, 4);
		}
	}
}

static bool plain_word(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '\'' || *p == '=' || (unsigned char)*p < 0x20)
			return false;
	return true;
}

/* key=value: a plain string as is, any other string JSON-quoted, numbers, booleans, null,
 * arrays and objects as JSON. */
static void sb_member(struct sbuf *b, const char *k, const cJSON *v)
{
	if (b->len)
		sb_put(b, " ", 1);
	sb_safe(b, k);
	sb_put(b, "=", 1);
	if (cJSON_IsString(v) && plain_word(v->valuestring)) {
		sb_safe(b, v->valuestring);
		return;
	}
	if (cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15 &&
	    v->valuedouble == (double)(int64_t)v->valuedouble) {
		char n[32];
		snprintf(n, sizeof(n), "%.0f", v->valuedouble);
		sb_put(b, n, strlen(n));
		return;
	}
	char *j = cJSON_PrintUnformatted(v);
	if (!j) {
		b->oom = true;
		return;
	}
	sb_safe(b, j);
	free(j);
}

/* The members that say most about each type; NULL-terminated. A type not listed shows every
 * member of its data that is not an object. */
static const char *const *summary_keys(const char *type)
{
	static const char *const verified[] = { "command", "iss", "matrix", NULL };
	static const char *const refused[] = { "exit_code", "step", "reason", NULL };
	static const char *const consumed[] = { "run", "runs_allowed", NULL };
	static const char *const started[] = { "run", "backend", "binary", "argv", NULL };
	static const char *const completed[] = { "run", "status", "exit_code", "calyx_exit_code", "duration_ms", NULL };
	static const struct { const char *type; const char *const *keys; } tab[] = {
		{ "lease_event.verified", verified },
		{ "lease_event.refused", refused },
		{ "lease_event.consumed", consumed },
		{ "exec_event.started", started },
		{ "exec_event.completed", completed },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].type, type) == 0)
			return tab[i].keys;
	return NULL;
}

/* lease_event.verified: the command run, from the claims (data.command is its index). */
static void verified_argv(struct sbuf *b, const cJSON *d)
{
	const cJSON *idx = cJSON_GetObjectItemCaseSensitive(d, "command");
	const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "claims"),
							     "commands");
	if (!cJSON_IsNumber(idx) || !cJSON_IsArray(cmds))
		return;
	const cJSON *argv = cJSON_GetArrayItem(cmds, idx->valueint);
	if (cJSON_IsArray(argv))
		sb_member(b, "argv", argv);
}

static void summary(struct sbuf *b, const char *type, const cJSON *d)
{
	const char *const *keys = summary_keys(type);
	if (!keys) {
		for (const cJSON *m = d ? d->child : NULL; m; m = m->next)
			if (m->string && !cJSON_IsObject(m))
				sb_member(b, m->string, m);
		return;
	}
	for (size_t i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, keys[i]);
		if (v)
			sb_member(b, keys[i], v);
	}
	if (strcmp(type, "lease_event.verified") == 0)
		verified_argv(b, d);
}

static void sb_field(struct sbuf *b, const char *s)
{
	sb_safe(b, s && s[0] ? s : "-");
	sb_put(b, " ", 1);
}

char *audit_record_text(const cJSON *rec)
{
	struct sbuf line = { 0 }, sum = { 0 };
	const char *type = member_str(rec, "type");
	sb_field(&line, member_str(rec, "ts"));
	sb_field(&line, type);
	sb_field(&line, member_str(rec, "lease"));
	sb_field(&line, member_str(rec, "intent"));
	summary(&sum, type ? type : "", cJSON_GetObjectItemCaseSensitive(rec, "data"));
	if (sum.len)
		sb_put(&line, sum.p, sum.len);
	else if (line.len)
		line.len--;   /* no summary: no trailing space */
	if (line.p)
		line.p[line.len] = '\0';
	bool oom = line.oom || sum.oom;
	free(sum.p);
	if (oom) {
		free(line.p);
		return NULL;
	}
	return line.p;
}

int audit_show_line(const struct audit_filter *f, bool json, const char *line, size_t len, char **out,
		    size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	const char *end = NULL;
	cJSON *rec = cJSON_ParseWithLengthOpts(line, len, &end, false);
	if (!rec) {
		/* cJSON returns NULL both for bad JSON and for no memory; a line is small. */
		return -EBADMSG;
	}
	int rc;
	if (end != line + len || !cJSON_IsObject(rec) || !member_str(rec, "type") || !member_str(rec, "ts")) {
		rc = -EBADMSG;
	} else if (!audit_record_match(f, rec)) {
		rc = 0;
	} else if (json) {
		char *o = malloc(len + 1);
		if (o) {
			memcpy(o, line, len);
			o[len] = '\n';
			*out = o;
			*outlen = len + 1;
		}
		rc = o ? 1 : -ENOMEM;
	} else {
		char *t = audit_record_text(rec);
		size_t n = t ? strlen(t) : 0;
		char *o = t ? realloc(t, n + 2) : NULL;
		if (o) {
			o[n] = '\n';
			o[n + 1] = '\0';
			*out = o;
			*outlen = n + 1;
		} else {
			free(t);
		}
		rc = o ? 1 : -ENOMEM;
	}
	cJSON_Delete(rec);
	return rc;
}
