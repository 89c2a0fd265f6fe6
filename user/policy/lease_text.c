/* A lease as JSON (`lease verify --json`) and as text for people (`lease show`). */
#include "policy/lease.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "base/units.h"

/* ---- serialisation ---- */

static bool add_time(cJSON *o, const char *k, int64_t t)
{
	char buf[32];
	units_format_rfc3339(t, buf, sizeof(buf));
	return cJSON_AddStringToObject(o, k, buf) != NULL;
}

/* Raw integer text: cJSON would print big values through a double in %g form. */
static bool add_uint(cJSON *o, const char *k, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_AddRawToObject(o, k, buf) != NULL;
}

char *lease_to_json(const struct lease *l)
{
	if (!l)
		return NULL;
	char *out = NULL;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	if (!cJSON_AddStringToObject(o, "jti", l->jti) ||
	    !cJSON_AddStringToObject(o, "intent", l->intent ? l->intent : "") ||
	    !add_time(o, "iat", l->iat) || !add_time(o, "nbf", l->nbf) || !add_time(o, "exp", l->exp) ||
	    !cJSON_AddStringToObject(o, "iss", l->iss ? l->iss : ""))
		goto done;
	cJSON *cmds = cJSON_AddArrayToObject(o, "commands");
	if (!cmds)
		goto done;
	for (size_t i = 0; i < l->n_commands; i++) {
		cJSON *a = cJSON_CreateStringArray((const char *const *)l->commands[i].argv,
						   (int)l->commands[i].argc);
		if (!a || !cJSON_AddItemToArray(cmds, a)) {
			cJSON_Delete(a);
			goto done;
		}
	}
	cJSON *paths = cJSON_AddArrayToObject(o, "paths");
	if (!paths)
		goto done;
	for (size_t i = 0; i < l->n_paths; i++) {
		cJSON *p = cJSON_CreateObject();
		if (!p || !cJSON_AddItemToArray(paths, p)) {
			cJSON_Delete(p);
			goto done;
		}
		if (!cJSON_AddStringToObject(p, "pattern", l->paths[i].pattern) ||
		    !cJSON_AddStringToObject(p, "access", l->paths[i].access == ACCESS_RW ? "rw" : "ro"))
			goto done;
	}
	if (l->network == NET_ALLOW) {
		cJSON *net = cJSON_AddObjectToObject(o, "network");
		cJSON *allow = net ? cJSON_AddArrayToObject(net, "allow") : NULL;
		if (!allow)
			goto done;
		for (size_t i = 0; i < l->n_net_allow; i++) {
			const struct net_rule *r = &l->net_allow[i];
			char cidr[NETRULE_TEXT_MAX];
			cJSON *a = cJSON_CreateObject();
			if (!a || !cJSON_AddItemToArray(allow, a)) {
				cJSON_Delete(a);
				goto done;
			}
			netrule_cidr_text(r, cidr, sizeof cidr);
			if (!cJSON_AddStringToObject(a, "cidr", cidr) || !add_uint(a, "port", r->port) ||
			    !cJSON_AddStringToObject(a, "proto", netrule_proto_name(r->proto)))
				goto done;
		}
	} else if (!cJSON_AddStringToObject(o, "network", "deny_all")) {
		goto done;
	}
	cJSON *lim = cJSON_AddObjectToObject(o, "limits");
	if (!lim)
		goto done;
	for (int k = 0; k < LIMIT_COUNT; k++)
		if (l->limits.set[k] && !add_uint(lim, limit_claim_name((enum limit_kind)k), l->limits.v[k]))
			goto done;
	if (!add_uint(o, "runs", l->runs))
		goto done;
	if (l->n_env) {
		cJSON *e = cJSON_CreateStringArray((const char *const *)l->env, (int)l->n_env);
		if (!e || !cJSON_AddItemToObject(o, "env", e)) {
			cJSON_Delete(e);
			goto done;
		}
	}
	if (l->n_helpers) {
		cJSON *h = cJSON_CreateStringArray((const char *const *)l->helpers, (int)l->n_helpers);
		if (!h || !cJSON_AddItemToObject(o, "helpers", h)) {
			cJSON_Delete(h);
			goto done;
		}
	}
	if (l->aud && !cJSON_AddStringToObject(o, "aud", l->aud))
		goto done;
	if (l->cwd && !cJSON_AddStringToObject(o, "cwd", l->cwd))
		goto done;
	out = cJSON_PrintUnformatted(o);
done:
	cJSON_Delete(o);
	return out;
}

/* ---- description ---- */

static void shell_quote(FILE *f, const char *s)
{
	bool plain = *s != '\0', ctrl = false;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			ctrl = true;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("@%+=:,./_-", c)))
			plain = false;
	}
	if (plain) {
		fputs(s, f);
	} else if (ctrl) {
		/* $'…' so control bytes never reach the terminal raw. */
		fputs("$'", f);
		for (const char *p = s; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else if (c == '\\' || c == '\'')
				fprintf(f, "\\%c", c);
			else
				fputc(c, f);
		}
		fputc('\'', f);
	} else {
		fputc('\'', f);
		for (const char *p = s; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", f);
			else
				fputc(*p, f);
		}
		fputc('\'', f);
	}
}

char *lease_describe(const struct lease *l)
{
	if (!l)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	char t[32], d[32];
	fprintf(f, "lease       %s\n", l->jti);
	fprintf(f, "intent      %s\n", l->intent ? l->intent : "");
	units_format_rfc3339(l->iat, t, sizeof(t));
	fprintf(f, "issued      %s\n", t);
	units_format_rfc3339(l->nbf, t, sizeof(t));
	fprintf(f, "not before  %s\n", t);
	units_format_rfc3339(l->exp, t, sizeof(t));
	if (l->exp > l->iat) {
		units_format_duration((uint64_t)(l->exp - l->iat) * 1000, d, sizeof(d));
		fprintf(f, "expires     %s (ttl %s)\n", t, d);
	} else {
		fprintf(f, "expires     %s\n", t);
	}
	fprintf(f, "signer      %s\n", l->iss ? l->iss : "");
	for (size_t i = 0; i < l->n_commands; i++) {
		fputs(i == 0 ? "commands    " : "            ", f);
		for (size_t j = 0; j < l->commands[i].argc; j++) {
			if (j)
				fputc(' ', f);
			shell_quote(f, l->commands[i].argv[j]);
		}
		fputc('\n', f);
	}
	if (l->n_paths == 0)
		fputs("paths       (none)\n", f);
	for (size_t i = 0; i < l->n_paths; i++)
		fprintf(f, "%s%s (%s)\n", i == 0 ? "paths       " : "            ", l->paths[i].pattern,
			l->paths[i].access == ACCESS_RW ? "rw" : "ro");
	if (l->network != NET_ALLOW)
		fputs("network     deny_all\n", f);
	for (size_t i = 0; l->network == NET_ALLOW && i < l->n_net_allow; i++) {
		char t[NETRULE_TEXT_MAX];
		netrule_text(&l->net_allow[i], t, sizeof t);
		fprintf(f, "%sallow %s\n", i == 0 ? "network     " : "            ", t);
	}
	fputs("limits      ", f);
	bool any = false;
	for (int k = 0; k < LIMIT_COUNT; k++) {
		if (!l->limits.set[k])
			continue;
		limit_format((enum limit_kind)k, l->limits.v[k], d, sizeof(d));
		fprintf(f, "%s%s %s", any ? ", " : "", limit_name((enum limit_kind)k), d);
		any = true;
	}
	fputs(any ? "\n" : "(matrix defaults)\n", f);
	fprintf(f, "runs        %" PRIu32 "\n", l->runs);
	fputs("env         ", f);
	for (size_t i = 0; i < l->n_env; i++)
		fprintf(f, "%s%s", i ? " " : "", l->env[i]);
	fputs(l->n_env ? "\n" : "(none)\n", f);
	fputs("helpers     ", f);
	for (size_t i = 0; i < l->n_helpers; i++) {
		if (i)
			fputc(' ', f);
		shell_quote(f, l->helpers[i]);
	}
	fputs(l->n_helpers ? "\n" : "(none)\n", f);
	fputs("aud         ", f);
	fputs(l->aud ? l->aud : "(none)", f);
	fputs("\ncwd         ", f);
	if (l->cwd)
		shell_quote(f, l->cwd);
	else
		fputs("(default)", f);
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
