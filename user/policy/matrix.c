/* The capability matrix once loaded (matrix_load.c): its trusted keys and roots, and
 * whether a lease fits it. */
#include "policy/matrix.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/units.h"
#include "policy/pathpat.h"

static int add_key(struct matrix *m, const char *name, const uint8_t pk[PASERK_PK_BYTES])
{
	struct matrix_key *k;

	if (m->n_keys >= MATRIX_MAX_KEYS)
		return -ENOSPC;
	k = &m->keys[m->n_keys];
	memset(k, 0, sizeof *k);
	k->name = strdup(name);
	k->pid = paserk_k4_pid(pk);
	if (!k->name || !k->pid) {
		free(k->name);
		free(k->pid);
		memset(k, 0, sizeof *k);
		return -ENOMEM;
	}
	memcpy(k->pk, pk, PASERK_PK_BYTES);
	m->n_keys++;
	return 0;
}

void matrix_free(struct matrix *m)
{
	if (!m)
		return;
	free(m->source);
	for (size_t i = 0; i < m->n_keys && i < MATRIX_MAX_KEYS; i++) {
		free(m->keys[i].name);
		free(m->keys[i].pid);
	}
	for (size_t i = 0; i < m->n_roots && i < MATRIX_MAX_ROOTS; i++) {
		free(m->roots[i].name);
		free(m->roots[i].dir);
	}
	for (size_t i = 0; i < m->n_baseline && i < MATRIX_MAX_BASELINE; i++)
		free(m->baseline[i]);
	for (size_t i = 0; i < m->n_bounds && i < MATRIX_MAX_BOUNDS; i++)
		free(m->bounds[i].pattern);
	free(m->ledger);
	free(m->metrics_textfile);
	matrix_audience_free(&m->audience);
	memset(m, 0, sizeof *m);
}




int matrix_trust_key(struct matrix *m, const char *name, const uint8_t pk[PASERK_PK_BYTES])
{
	/* Trusting a key that is already trusted changes nothing. */
	for (size_t i = 0; i < m->n_keys; i++)
		if (!memcmp(m->keys[i].pk, pk, PASERK_PK_BYTES))
			return 0;
	return add_key(m, name ? name : "cli", pk);
}

const struct matrix_key *matrix_find_key(const struct matrix *m, const char *kid)
{
	if (!m || !kid)
		return NULL;
	for (size_t i = 0; i < m->n_keys; i++)
		if (m->keys[i].pid && !strcmp(m->keys[i].pid, kid))
			return &m->keys[i];
	return NULL;
}

const char *matrix_root_lookup(const char *name, void *matrix)
{
	const struct matrix *m = matrix;

	if (!m || !name)
		return NULL;
	for (size_t i = 0; i < m->n_roots; i++)
		if (!strcmp(m->roots[i].name, name))
			return m->roots[i].dir;
	return NULL;
}

static const char *access_name(enum path_access a)
{
	return a == ACCESS_RW ? "rw" : "ro";
}

/* "the matrix allows: A:rw, B:ro" (or that it allows none), so the operator sees what a
 * refused path could have been instead of only that it was refused. Cut with "..." when
 * the bounds do not fit. */
static void bounds_list(const struct matrix *m, char *out, size_t outlen)
{
	size_t n;

	if (!m->n_bounds) {
		snprintf(out, outlen, "the matrix has no lease_paths bounds: its leases can name no paths");
		return;
	}
	n = (size_t)snprintf(out, outlen, "the matrix allows:");
	for (size_t b = 0; b < m->n_bounds && n < outlen; b++) {
		int w = snprintf(out + n, outlen - n, "%s %s:%s", b ? "," : "", m->bounds[b].pattern,
				 access_name(m->bounds[b].access));
		if (w < 0 || (size_t)w >= outlen - n) {
			/* Did not fit: end with "..." where there is room for it. */
			if (outlen > 4)
				memcpy(out + outlen - 4, "...", 4);
			return;
		}
		n += (size_t)w;
	}
}

static int check_path(const struct matrix *m, const struct lease_path *lp, size_t i, char *err,
		      size_t errlen)
{
	char perr[160], shown[ERRMSG_QUOTE_MAX + 8];
	struct pathpat lpp;
	int r, weaker = -1;

	errmsg_quote(shown, sizeof shown, lp->pattern ? lp->pattern : "", lp->pattern ? strlen(lp->pattern) : 0);
	if (!lp->pattern)
		return errmsg(err, errlen, -EPERM, "claim 'paths[%zu]' has no pattern", i);
	perr[0] = '\0';
	r = pathpat_parse(lp->pattern, matrix_root_lookup, (void *)m, &lpp, perr, sizeof perr);
	if (r == -ENOENT)
		return errmsg(err, errlen, -EPERM,
			      "claim 'paths[%zu]' (%s) names a root the matrix does not know "
			      "(roots): %s", i, shown, perr);
	if (r)
		return errmsg(err, errlen, -EPERM,
			      "claim 'paths[%zu]' (%s) is not a valid pattern: %s", i, shown, perr);
	for (size_t b = 0; b < m->n_bounds; b++) {
		struct pathpat bpp;
		/* A bound that no longer resolves (cannot happen after load) admits nothing. */
		if (pathpat_parse(m->bounds[b].pattern, matrix_root_lookup, (void *)m, &bpp, perr,
				  sizeof perr))
			continue;
		if (!pathpat_within(&lpp, &bpp))
			continue;
		if (m->bounds[b].access >= lp->access)
			return 0;
		weaker = (int)b;
	}
	if (weaker >= 0)
		return errmsg(err, errlen, -EPERM,
			      "claim 'paths[%zu]' (%s) asks for %s but the matrix allows at most "
			      "%s there (lease_paths[%d] %s)", i, shown, access_name(lp->access),
			      access_name(m->bounds[weaker].access), weaker, m->bounds[weaker].pattern);
	char have[768];
	bounds_list(m, have, sizeof have);
	return errmsg(err, errlen, -EPERM,
		      "claim 'paths[%zu]' (%s:%s) is outside every lease_paths bound; %s", i, shown,
		      access_name(lp->access), have);
}

/* The matrix's network rules as text, for refusals: "network: deny_all" or
 * "network.allow: 10.0.0.0/8:443/tcp, ...". */
static void matrix_net_bounds(const struct matrix *m, char *out, size_t outlen)
{
	if (m->network != NET_ALLOW || !m->n_net_allow) {
		snprintf(out, outlen, "network: deny_all");
		return;
	}
	size_t o = (size_t)snprintf(out, outlen, "network.allow:");
	for (size_t i = 0; i < m->n_net_allow && o < outlen; i++) {
		char t[NETRULE_TEXT_MAX];
		netrule_text(&m->net_allow[i], t, sizeof t);
		o += (size_t)snprintf(out + o, outlen - o, "%s %s", i ? "," : "", t);
	}
}

/* deny_all always fits. Allow rules need a matrix with allow rules, and each lease rule
 * must lie within one of them (netrule_within: same family and protocol, network inside,
 * port equal or the matrix's '*'). */
static int check_network(const struct matrix *m, const struct lease *l, char *err, size_t errlen)
{
	if (l->network == NET_DENY_ALL)
		return 0;
	char bounds[NETRULE_MAX * (NETRULE_TEXT_MAX + 2) + 32], t[NETRULE_TEXT_MAX];
	matrix_net_bounds(m, bounds, sizeof bounds);
	if (l->network != NET_ALLOW || !l->n_net_allow)
		return errmsg(err, errlen, -EPERM, "claim 'network' names no rule the matrix allows (%s)", bounds);
	for (size_t i = 0; i < l->n_net_allow; i++) {
		bool ok = false;
		for (size_t j = 0; m->network == NET_ALLOW && j < m->n_net_allow && !ok; j++)
			ok = netrule_within(&l->net_allow[i], &m->net_allow[j]);
		if (ok)
			continue;
		netrule_text(&l->net_allow[i], t, sizeof t);
		return errmsg(err, errlen, -EPERM,
			      "claim 'network.allow[%zu]' = %s is not within the matrix's bounds (%s)", i, t, bounds);
	}
	return 0;
}

int matrix_check_lease(const struct matrix *m, const struct lease *l, char *err, size_t errlen)
{
	char a[32], b[32];

	if (err && errlen)
		err[0] = '\0';
	if (!m || !l)
		return errmsg(err, errlen, -EPERM, "no matrix or no lease to check");
	if (!m->exec_staging_with_lease)
		return errmsg(err, errlen, -EPERM,
			      "capability 'exec_staging_with_lease' is disabled in the matrix: "
			      "every lease is refused");
	/* A lease for another host is refused here, so `lease verify --matrix` says so too. */
	if (matrix_audience_check(&m->audience, l->aud, err, errlen) < 0)
		return -EPERM;
	if (l->exp <= l->iat)
		return errmsg(err, errlen, -EPERM, "lease ttl is not positive (exp is not after iat)");
	/* exp > iat, so the unsigned difference is exact even where the signed one would
	 * overflow; in ms like the bound, and a ttl too large to convert is too long. */
	uint64_t ttl_s = (uint64_t)l->exp - (uint64_t)l->iat;
	if (ttl_s > UINT64_MAX / 1000 || ttl_s * 1000 > m->max_lease_ttl_ms) {
		units_format_duration(ttl_s <= UINT64_MAX / 1000 ? ttl_s * 1000 : UINT64_MAX, a, sizeof a);
		units_format_duration(m->max_lease_ttl_ms, b, sizeof b);
		return errmsg(err, errlen, -EPERM, "lease ttl %s exceeds max_lease_ttl %s", a, b);
	}
	if (l->runs == 0)
		return errmsg(err, errlen, -EPERM, "claim 'runs' = 0 is not a valid run count");
	if (l->runs > m->max_runs)
		return errmsg(err, errlen, -EPERM,
			      "claim 'runs' = %" PRIu32 " exceeds the matrix maximum %" PRIu32
			      " (max_runs)", l->runs, m->max_runs);
	for (int k = 0; k < LIMIT_COUNT; k++) {
		if (!l->limits.set[k] || !m->max_limits.set[k] || l->limits.v[k] <= m->max_limits.v[k])
			continue;
		limit_format((enum limit_kind)k, l->limits.v[k], a, sizeof a);
		limit_format((enum limit_kind)k, m->max_limits.v[k], b, sizeof b);
		return errmsg(err, errlen, -EPERM,
			      "claim 'limits.%s' = %s exceeds the matrix maximum %s (limits.max.%s)",
			      limit_claim_name((enum limit_kind)k), a, b, limit_name((enum limit_kind)k));
	}
	int nr = check_network(m, l, err, errlen);
	if (nr)
		return nr;
	if (l->n_paths && !l->paths)
		return errmsg(err, errlen, -EPERM, "claim 'paths' is missing its entries");
	for (size_t i = 0; i < l->n_paths; i++) {
		int r = check_path(m, &l->paths[i], i, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

void matrix_effective_limits(const struct matrix *m, const struct lease *l, struct limits *out)
{
	for (int k = 0; k < LIMIT_COUNT; k++) {
		bool own = l && l->limits.set[k];
		out->set[k] = own || m->default_limits.set[k];
		out->v[k] = own ? l->limits.v[k] : m->default_limits.v[k];
	}
}
