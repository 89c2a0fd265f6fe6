/* The matrix's `audience.ledgers`: see matrix_ledger.h. */
#include "policy/matrix_ledger.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "policy/matrix_host.h"
#include "policy/yamltree.h"

#define ETCD_PREFIX_DEFAULT "/calyx"
#define ETCD_URL_MAX 255

/* http://HOST[:PORT] or https://HOST[:PORT], HOST a name, an IPv4 address or a bracketed
 * IPv6 one; no user, path, query or fragment (the client appends the gateway's paths).
 * Returns the scheme's length or 0 with *why set. */
static size_t endpoint_scheme(const char *u, const char **why)
{
	size_t sl = !strncmp(u, "https://", 8) ? 8 : !strncmp(u, "http://", 7) ? 7 : 0;
	if (!sl) {
		*why = "must start with http:// or https://";
		return 0;
	}
	const char *h = u + sl;
	if (!*h) {
		*why = "names no host";
		return 0;
	}
	if (strlen(u) > ETCD_URL_MAX) {
		*why = "is too long";
		return 0;
	}
	for (const char *p = h; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]", *p)) {
			*why = "must be scheme://HOST[:PORT] only (no user, path or query)";
			return 0;
		}
	return sl;
}

/* The prefix every key of this cluster's ledger lives under: '/' then names of
 * A-Z a-z 0-9 . _ - joined by single '/', no trailing '/'. */
static bool prefix_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n > ETCD_PREFIX_MAX || s[0] != '/' || s[n - 1] == '/' || strstr(s, "//"))
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-/", *p))
			return false;
	return true;
}

static int abs_file(struct yctx *c, const struct yn *n, const char *path, char **out)
{
	const char *s;
	int r = yt_str(c, n, path, &s);
	if (r)
		return r;
	if (s[0] != '/') {
		char q[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(q, sizeof q, n->s, n->len);
		return yt_errf(c, n->line, n->col, path, "'%s' must be an absolute path", q);
	}
	*out = strdup(s);
	return *out ? 0 : yt_oom(c);
}

static int load_etcd(struct yctx *c, const struct yn *n, const char *path, struct etcd_conf *e)
{
	static const char *const req[] = { "endpoints" };
	static const char *const opt[] = { "ca", "cert", "key", "prefix", "timeout" };
	char cp[KEYPATH_MAX];
	const struct yn *v;
	int r;

	if ((r = yt_want(c, n, path, YN_MAP)) || (r = yt_check_keys_opt(c, n, path, req, 1, opt, 5)))
		return r;
	yt_pjoin(cp, path, "endpoints", 9);
	v = yt_get(n, "endpoints");
	if ((r = yt_want(c, v, cp, YN_SEQ)))
		return r;
	if (v->n == 0 || v->n > ETCD_MAX_ENDPOINTS)
		return yt_errf(c, v->line, v->col, cp, "1 to %d endpoints, got %zu", ETCD_MAX_ENDPOINTS, v->n);
	size_t scheme0 = 0;
	for (size_t i = 0; i < v->n; i++) {
		char ip[KEYPATH_MAX], q[ERRMSG_QUOTE_MAX + 8];
		const char *s, *why = NULL;
		yt_pidx(ip, cp, i);
		if ((r = yt_str(c, v->kid[i], ip, &s)))
			return r;
		errmsg_quote(q, sizeof q, v->kid[i]->s, v->kid[i]->len);
		size_t sl = endpoint_scheme(s, &why);
		if (!sl)
			return yt_errf(c, v->kid[i]->line, v->kid[i]->col, ip, "endpoint '%s' %s", q, why);
		if (i && sl != scheme0)
			return yt_errf(c, v->kid[i]->line, v->kid[i]->col, ip,
				       "endpoint '%s': every endpoint must use the same scheme as the first", q);
		scheme0 = sl;
		if (!(e->endpoints[e->n_endpoints] = strdup(s)))
			return yt_oom(c);
		e->n_endpoints++;
	}
	static const char *const files[] = { "ca", "cert", "key" };
	char **dst[] = { &e->ca, &e->cert, &e->key };
	for (size_t i = 0; i < 3; i++) {
		if (!(v = yt_get(n, files[i])))
			continue;
		yt_pjoin(cp, path, files[i], strlen(files[i]));
		if (scheme0 != 8)
			return yt_errf(c, v->line, v->col, cp, "TLS files need https:// endpoints");
		if ((r = abs_file(c, v, cp, dst[i])))
			return r;
	}
	/* https: the cluster's own CA, never the system store (any public CA could then vouch
	 * for a ledger); a client certificate is the cert and its key, both or neither. */
	if (scheme0 == 8 && !e->ca)
		return yt_errf(c, n->line, n->col, path, "https endpoints need 'ca' (the etcd cluster's CA)");
	if (!e->cert != !e->key)
		return yt_errf(c, n->line, n->col, path, "'cert' and 'key' go together");
	if ((v = yt_get(n, "prefix"))) {
		const char *s;
		yt_pjoin(cp, path, "prefix", 6);
		if ((r = yt_str(c, v, cp, &s)))
			return r;
		if (!prefix_ok(s)) {
			char q[ERRMSG_QUOTE_MAX + 8];
			errmsg_quote(q, sizeof q, v->s, v->len);
			return yt_errf(c, v->line, v->col, cp,
				       "bad prefix '%s' (/NAME[/NAME...], names of A-Z a-z 0-9 . _ -, at most %d bytes)",
				       q, ETCD_PREFIX_MAX);
		}
		e->prefix = strdup(s);
	} else {
		e->prefix = strdup(ETCD_PREFIX_DEFAULT);
	}
	if (!e->prefix)
		return yt_oom(c);
	e->timeout_ms = ETCD_TIMEOUT_DEFAULT_MS;
	if ((v = yt_get(n, "timeout"))) {
		yt_pjoin(cp, path, "timeout", 7);
		if ((r = yt_duration(c, v, cp, &e->timeout_ms)))
			return r;
		if (e->timeout_ms > ETCD_TIMEOUT_MAX_MS)
			return yt_errf(c, v->line, v->col, cp, "at most 60s");
	}
	return 0;
}

static bool is_group(const struct matrix_audience *a, const char *g)
{
	for (size_t i = 0; i < a->n_groups; i++)
		if (!strcmp(a->groups[i], g))
			return true;
	return false;
}

int matrix_ledgers_load(struct yctx *c, const struct yn *n, struct matrix_audience *a)
{
	int r;
	if (!n)
		return 0;
	if ((r = yt_want(c, n, "audience.ledgers", YN_MAP)))
		return r;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct yn *k = n->kid[i], *v = n->kid[i + 1];
		char cp[KEYPATH_MAX], q[ERRMSG_QUOTE_MAX + 8];
		yt_pjoin(cp, "audience.ledgers", k->s, k->len);
		errmsg_quote(q, sizeof q, k->s, k->len);
		/* Only a group: a lease for this host alone has nothing to share with others. */
		if (!is_group(a, k->s))
			return yt_errf(c, k->line, k->col, cp, "'%s' is not one of audience.groups", q);
		if (!strcmp(k->s, a->hostname))
			return yt_errf(c, k->line, k->col, cp,
				       "'%s' is also this host's name: a lease for it would be counted locally", q);
		if (v->type == YN_SCALAR) {
			const char *s;
			if ((r = yt_str(c, v, cp, &s)))
				return r;
			if (strcmp(s, "local")) {
				errmsg_quote(q, sizeof q, v->s, v->len);
				return yt_errf(c, v->line, v->col, cp, "unknown ledger '%s' (local, or a mapping with etcd)", q);
			}
			continue;
		}
		static const char *const kinds[] = { "etcd" };
		if ((r = yt_want(c, v, cp, YN_MAP)) || (r = yt_check_keys(c, v, cp, kinds, 1)))
			return r;
		struct matrix_group_ledger *g = &a->ledgers[a->n_ledgers];
		memset(g, 0, sizeof(*g));
		a->n_ledgers++;   /* counted now, so a half-filled entry is freed with the rest */
		if (!(g->group = strdup(k->s)))
			return yt_oom(c);
		char ep[KEYPATH_MAX];
		yt_pjoin(ep, cp, "etcd", 4);
		if ((r = load_etcd(c, yt_get(v, "etcd"), ep, &g->etcd)))
			return r;
	}
	return 0;
}

void matrix_group_ledger_free(struct matrix_group_ledger *g)
{
	free(g->group);
	for (size_t i = 0; i < g->etcd.n_endpoints && i < ETCD_MAX_ENDPOINTS; i++)
		free(g->etcd.endpoints[i]);
	free(g->etcd.ca);
	free(g->etcd.cert);
	free(g->etcd.key);
	free(g->etcd.prefix);
	memset(g, 0, sizeof(*g));
}

const struct etcd_conf *matrix_ledger_for(const struct matrix_audience *a, const char *aud)
{
	/* This host's own name is always local (the loader refuses a group of that name). */
	if (!aud || !strcmp(aud, a->hostname))
		return NULL;
	for (size_t i = 0; i < a->n_ledgers; i++)
		if (!strcmp(a->ledgers[i].group, aud))
			return &a->ledgers[i].etcd;
	return NULL;
}
