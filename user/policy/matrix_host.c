/* The matrix's `audience` and the lease `aud` check: see matrix_host.h. */
#include "policy/matrix_host.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/errmsg.h"
#include "base/fileio.h"
#include "policy/yamltree.h"

bool audience_name_ok(const char *s)
{
	/* The grammar of the lease's `aud` claim (policy/lease.c): it must be able to match. */
	return fileio_plain_name(s) && strlen(s) <= AUDIENCE_NAME_MAX && isalnum((unsigned char)s[0]);
}

static int name_value(struct yctx *c, const struct yn *n, const char *path, char **out)
{
	const char *s;
	int r = yt_str(c, n, path, &s);
	if (r)
		return r;
	if (!audience_name_ok(s)) {
		char q[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(q, sizeof q, n->s, n->len);
		return yt_errf(c, n->line, n->col, path,
			       "bad host or group name '%s' (1 to 253 of a-z A-Z 0-9 . _ -)", q);
	}
	*out = strdup(s);
	return *out ? 0 : yt_oom(c);
}

int matrix_audience_load(struct yctx *c, const struct yn *n, struct matrix_audience *a)
{
	static const char *const keys[] = { "hostname", "groups", "accept_without_aud", "ledgers" };
	const struct yn *v;
	int r;

	memset(a, 0, sizeof(*a));
	if (n) {
		if ((r = yt_want(c, n, "audience", YN_MAP)) ||
		    (r = yt_check_keys_opt(c, n, "audience", NULL, 0, keys, 4)))
			return r;
		if ((v = yt_get(n, "hostname")) && (r = name_value(c, v, "audience.hostname", &a->hostname)))
			return r;
		if ((v = yt_get(n, "groups"))) {
			if ((r = yt_want(c, v, "audience.groups", YN_SEQ)))
				return r;
			if (v->n > MATRIX_MAX_GROUPS)
				return yt_errf(c, v->line, v->col, "audience.groups", "more than %d groups",
					       MATRIX_MAX_GROUPS);
			for (size_t i = 0; i < v->n; i++) {
				char cp[KEYPATH_MAX];
				yt_pidx(cp, "audience.groups", i);
				if ((r = name_value(c, v->kid[i], cp, &a->groups[a->n_groups])))
					return r;
				a->n_groups++;
			}
		}
		if ((v = yt_get(n, "accept_without_aud")) &&
		    (r = yt_bool(c, v, "audience.accept_without_aud", &a->accept_without_aud)))
			return r;
	}
	if (!a->hostname) {
		/* The default is the name `lease issue --aud "$(uname -n)"` gives. */
		struct utsname u;
		if (uname(&u) < 0 || !audience_name_ok(u.nodename))
			return yt_errf(c, n ? n->line : 1, n ? n->col : 1, "audience.hostname",
				       "this host's name (uname -n) is not usable as an audience: set audience.hostname");
		a->hostname = strdup(u.nodename);
		if (!a->hostname)
			return yt_oom(c);
	}
	/* Last: an entry names one of the groups, and never this host's own name. */
	return matrix_ledgers_load(c, n ? yt_get(n, "ledgers") : NULL, a);
}

void matrix_audience_free(struct matrix_audience *a)
{
	free(a->hostname);
	for (size_t i = 0; i < a->n_groups && i < MATRIX_MAX_GROUPS; i++)
		free(a->groups[i]);
	for (size_t i = 0; i < a->n_ledgers && i < MATRIX_MAX_GROUPS; i++)
		matrix_group_ledger_free(&a->ledgers[i]);
	memset(a, 0, sizeof(*a));
}

static void describe_host(const struct matrix_audience *a, char *out, size_t len)
{
	size_t o = (size_t)snprintf(out, len, "this host is '%s'", a->hostname);
	for (size_t i = 0; i < a->n_groups && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s'%s'", i ? ", " : " (groups: ", a->groups[i]);
	if (a->n_groups && o < len)
		snprintf(out + o, len - o, ")");
}

int matrix_audience_check(const struct matrix_audience *a, const char *aud, char *err, size_t errlen)
{
	char host[1024];
	describe_host(a, host, sizeof(host));
	if (!aud) {
		if (a->accept_without_aud)
			return 0;
		return errmsg(err, errlen, -EPERM,
			      "the lease names no audience (claim 'aud') and the matrix accepts none without "
			      "(audience.accept_without_aud: false); %s: issue it with --aud %s", host, a->hostname);
	}
	if (!strcmp(aud, a->hostname))
		return 0;
	for (size_t i = 0; i < a->n_groups; i++)
		if (!strcmp(aud, a->groups[i]))
			return 0;
	return errmsg(err, errlen, -EPERM, "the lease is for '%s' (claim 'aud'), %s", aud, host);
}
