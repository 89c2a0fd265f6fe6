/* The capability matrix read from YAML (schema: docs/matrix.md), strictly: every key is
 * required, unknown keys and every YAML feature a policy does not need are refused, and
 * each error names "file:line:col: key.path". The YAML reading itself is yamltree.c. */
#include "policy/matrix.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/units.h"
#include "policy/pathpat.h"
#include "policy/seccomp_groups.h"
#include "policy/yamltree.h"

/* A matrix is a page of policy; anything bigger is an attack on the parser. */
#define MATRIX_MAX_BYTES (1u << 20)
#define NAME_MAX_LEN 64
#define CLOCK_SKEW_MAX_MS (3600ull * 1000)
#define PIDS_MAX 4194304ull   /* the kernel's PID_MAX_LIMIT */

extern const char calyx_shipped_matrix[];

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	return n <= NAME_MAX_LEN && strcmp(s, ".") && strcmp(s, "..") && fileio_plain_name(s);
}

/* The repo://NAME grammar of pathpat.h. */
static bool root_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* A root directory is a plain canonical absolute path (trailing '/' dropped), because
 * repo://NAME/rel is resolved by string joining and must not gain "//", "..", or
 * wildcards along the way. */
static const char *root_dir_problem(char *d)
{
	size_t n = strlen(d);

	if (d[0] != '/')
		return "must be an absolute path";
	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	if (n == 1)
		return "must not be / (a root is a directory a lease may be confined to)";
	if (n > PATHPAT_MAX - 3)
		return "is too long";
	if (strchr(d, '*'))
		return "must not contain '*'";
	for (const char *p = d; *p; ) {
		const char *q;
		size_t cl;
		p++; /* past '/' */
		q = strchr(p, '/');
		cl = q ? (size_t)(q - p) : strlen(p);
		if (cl == 0)
			return "must not contain '//'";
		if ((cl == 1 && p[0] == '.') || (cl == 2 && p[0] == '.' && p[1] == '.'))
			return "must not contain '.' or '..' components";
		p += cl;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int load_keys(struct yctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "name", "public" };
	char cp[KEYPATH_MAX], fp[KEYPATH_MAX];
	int r = yt_want(c, n, "trusted_keys", YN_SEQ);

	if (r)
		return r;
	if (n->n > MATRIX_MAX_KEYS)
		return yt_errf(c, n->line, n->col, "trusted_keys", "too many keys (at most %d)",
			    MATRIX_MAX_KEYS);
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		const char *name, *pub;
		uint8_t pk[PASERK_PK_BYTES];

		yt_pidx(cp, "trusted_keys", i);
		if ((r = yt_want(c, e, cp, YN_MAP)) || (r = yt_check_keys(c, e, cp, keys, 2)))
			return r;
		yt_pjoin(fp, cp, "name", 4);
		if ((r = yt_str(c, yt_get(e, "name"), fp, &name)))
			return r;
		if (!name_ok(name))
			return yt_errf(c, yt_get(e, "name")->line, yt_get(e, "name")->col, fp,
				    "key names are 1-%d characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
		for (size_t j = 0; j < m->n_keys; j++)
			if (!strcmp(m->keys[j].name, name))
				return yt_errf(c, yt_get(e, "name")->line, yt_get(e, "name")->col, fp,
					    "duplicate key name '%s' (also trusted_keys[%zu])", name, j);
		yt_pjoin(fp, cp, "public", 6);
		if ((r = yt_str(c, yt_get(e, "public"), fp, &pub)))
			return r;
		if (paserk_k4_public_decode(pub, pk))
			return yt_errf(c, yt_get(e, "public")->line, yt_get(e, "public")->col, fp,
				    "not a PASERK k4.public key");
		for (size_t j = 0; j < m->n_keys; j++)
			if (!memcmp(m->keys[j].pk, pk, PASERK_PK_BYTES))
				return yt_errf(c, yt_get(e, "public")->line, yt_get(e, "public")->col, fp,
					    "same key as trusted_keys[%zu]", j);
		r = matrix_trust_key(m, name, pk);   /* not trusted yet: checked above */
		if (r)
			return yt_oom(c);
	}
	return 0;
}

static int load_roots(struct yctx *c, const struct yn *n, struct matrix *m)
{
	char cp[KEYPATH_MAX];
	int r = yt_want(c, n, "roots", YN_MAP);

	if (r)
		return r;
	if (n->n / 2 > MATRIX_MAX_ROOTS)
		return yt_errf(c, n->line, n->col, "roots", "too many roots (at most %d)", MATRIX_MAX_ROOTS);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct yn *k = n->kid[i], *v = n->kid[i + 1];
		const char *dir, *why;
		char *d;

		yt_pjoin(cp, "roots", k->s, k->len);
		if (strlen(k->s) != k->len || !root_name_ok(k->s))
			return yt_errf(c, k->line, k->col, cp,
				    "root names are 1-%d characters of a-z 0-9 _ - (as in repo://NAME/)",
				    NAME_MAX_LEN);
		if ((r = yt_str(c, v, cp, &dir)))
			return r;
		d = strdup(dir);
		if (!d)
			return yt_oom(c);
		why = root_dir_problem(d);
		if (why) {
			free(d);
			return yt_errf(c, v->line, v->col, cp, "root directory %s", why);
		}
		m->roots[m->n_roots].name = strdup(k->s);
		m->roots[m->n_roots].dir = d;
		m->n_roots++;
		if (!m->roots[m->n_roots - 1].name)
			return yt_oom(c);
	}
	return 0;
}

/* network: deny_all, or {allow: ["CIDR:PORT[/tcp|/udp]", ...]}: the rules a lease may
 * ask for a subset of (matrix.c). */
static int load_network(struct yctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "allow" };
	char cp[KEYPATH_MAX], perr[200];
	const char *s;
	int r;

	m->network = NET_DENY_ALL;
	if (n && n->type == YN_SCALAR) {
		if ((r = yt_str(c, n, "network", &s)))
			return r;
		if (strcmp(s, "deny_all")) {
			char sh[ERRMSG_QUOTE_MAX + 8];
			errmsg_quote(sh, sizeof sh, n->s, n->len);
			return yt_errf(c, n->line, n->col, "network",
				    "unknown network policy '%s' (deny_all, or {allow: [CIDR:PORT/proto, ...]})", sh);
		}
		return 0;
	}
	if ((r = yt_want(c, n, "network", YN_MAP)) || (r = yt_check_keys(c, n, "network", keys, 1)))
		return r;
	const struct yn *a = yt_get(n, "allow");
	if ((r = yt_want(c, a, "network.allow", YN_SEQ)))
		return r;
	if (a->n < 1 || a->n > NETRULE_MAX)
		return yt_errf(c, a->line, a->col, "network.allow", "want 1..%d rules", NETRULE_MAX);
	for (size_t i = 0; i < a->n; i++) {
		const struct yn *e = a->kid[i];
		yt_pidx(cp, "network.allow", i);
		if ((r = yt_str(c, e, cp, &s)))
			return r;
		if (netrule_parse(s, &m->net_allow[i], perr, sizeof perr))
			return yt_errf(c, e->line, e->col, cp, "%s", perr);
	}
	m->n_net_allow = a->n;
	m->network = NET_ALLOW;
	return 0;
}

static int load_baseline(struct yctx *c, const struct yn *n, struct matrix *m)
{
	char cp[KEYPATH_MAX], perr[160];
	int r = yt_want(c, n, "runtime_baseline", YN_SEQ);

	if (r)
		return r;
	if (n->n > MATRIX_MAX_BASELINE)
		return yt_errf(c, n->line, n->col, "runtime_baseline", "too many patterns (at most %d)",
			    MATRIX_MAX_BASELINE);
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		struct pathpat pp;
		const char *s;

		yt_pidx(cp, "runtime_baseline", i);
		if ((r = yt_str(c, e, cp, &s)))
			return r;
		if (strncmp(s, "/", 1))
			return yt_errf(c, e->line, e->col, cp,
				    "runtime baseline patterns must be absolute paths");
		if (ends_with(s, ":ro") || ends_with(s, ":rw"))
			return yt_errf(c, e->line, e->col, cp,
				    "the runtime baseline is always read-only: drop the access suffix");
		perr[0] = '\0';
		if (pathpat_parse(s, NULL, NULL, &pp, perr, sizeof perr))
			return yt_errf(c, e->line, e->col, cp, "bad pattern: %s", perr);
		m->baseline[m->n_baseline] = strdup(s);
		if (!m->baseline[m->n_baseline])
			return yt_oom(c);
		m->n_baseline++;
	}
	return 0;
}

static int load_bounds(struct yctx *c, const struct yn *n, struct matrix *m)
{
	char cp[KEYPATH_MAX], perr[160];
	int r = yt_want(c, n, "lease_paths", YN_SEQ);

	if (r)
		return r;
	if (n->n > MATRIX_MAX_BOUNDS)
		return yt_errf(c, n->line, n->col, "lease_paths", "too many bounds (at most %d)",
			    MATRIX_MAX_BOUNDS);
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		struct pathpat pp;
		const char *s;
		char *pat = NULL;
		int rw = 0;

		yt_pidx(cp, "lease_paths", i);
		if ((r = yt_str(c, e, cp, &s)))
			return r;
		perr[0] = '\0';
		if (pathpat_split_access(s, &pat, &rw, perr, sizeof perr)) {
			free(pat);
			return yt_errf(c, e->line, e->col, cp, "bad pattern: %s", perr);
		}
		perr[0] = '\0';
		r = pathpat_parse(pat, matrix_root_lookup, m, &pp, perr, sizeof perr);
		if (r) {
			free(pat);
			return yt_errf(c, e->line, e->col, cp, "%s: %s",
				    r == -ENOENT ? "unknown root (not in roots)" : "bad pattern", perr);
		}
		m->bounds[m->n_bounds].pattern = pat;
		m->bounds[m->n_bounds].access = rw ? ACCESS_RW : ACCESS_RO;
		m->n_bounds++;
	}
	return 0;
}

static int load_limit_set(struct yctx *c, const struct yn *n, const char *path, struct limits *l)
{
	const char *keys[LIMIT_COUNT], *opt[LIMIT_COUNT];
	size_t nkeys = 0, nopt = 0;
	char cp[KEYPATH_MAX];
	int r;

	for (int k = 0; k < LIMIT_COUNT; k++) {
		if (limit_optional_in_matrix((enum limit_kind)k))
			opt[nopt++] = limit_name((enum limit_kind)k);
		else
			keys[nkeys++] = limit_name((enum limit_kind)k);
	}
	if ((r = yt_want(c, n, path, YN_MAP)) || (r = yt_check_keys_opt(c, n, path, keys, nkeys, opt, nopt)))
		return r;
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct yn *v = n->kid[i + 1];
		int k = limit_from_name(n->kid[i]->s);

		yt_pjoin(cp, path, n->kid[i]->s, n->kid[i]->len);
		if (k < 0)  /* check_keys knows the same names: cannot happen */
			return yt_errf(c, n->kid[i]->line, n->kid[i]->col, cp, "unknown key");
		if (limit_is_duration((enum limit_kind)k))
			r = yt_duration(c, v, cp, &l->v[k]);
		else if (limit_is_size((enum limit_kind)k))
			r = yt_size(c, v, cp, &l->v[k]);
		else
			r = yt_uint(c, v, cp, 1, PIDS_MAX, &l->v[k]);
		if (r)
			return r;
		if (l->v[k] == 0)   /* a zero bound would refuse every run (and means "none" nowhere) */
			return yt_errf(c, v->line, v->col, cp, "must be greater than zero");
		l->set[k] = true;
	}
	return 0;
}

static int load_limits(struct yctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "default", "max" };
	int r;

	if ((r = yt_want(c, n, "limits", YN_MAP)) || (r = yt_check_keys(c, n, "limits", keys, 2)) ||
	    (r = load_limit_set(c, yt_get(n, "default"), "limits.default", &m->default_limits)) ||
	    (r = load_limit_set(c, yt_get(n, "max"), "limits.max", &m->max_limits)))
		return r;
	for (int k = 0; k < LIMIT_COUNT; k++) {
		const char *name = limit_name((enum limit_kind)k);
		char cp[KEYPATH_MAX], a[32], b[32];
		/* An optional limit bounded by the matrix needs a default within that bound:
		 * else a lease that leaves it out would run without any. */
		if (m->max_limits.set[k] && !m->default_limits.set[k]) {
			const struct yn *d = yt_get(n, "default");
			yt_pjoin(cp, "limits.default", name, strlen(name));
			return yt_errf(c, d->line, d->col, cp, "missing: limits.max.%s is set, so a default is needed", name);
		}
		if (m->default_limits.set[k] && m->max_limits.set[k] && m->default_limits.v[k] > m->max_limits.v[k]) {
			const struct yn *d = yt_get(yt_get(n, "default"), name);
			yt_pjoin(cp, "limits.default", name, strlen(name));
			limit_format((enum limit_kind)k, m->default_limits.v[k], a, sizeof a);
			limit_format((enum limit_kind)k, m->max_limits.v[k], b, sizeof b);
			return yt_errf(c, d->line, d->col, cp, "default %s exceeds limits.max.%s %s", a, name, b);
		}
	}
	return 0;
}

/* unenforceable_limits: refuse (the default) or warn: what a run does with a limit no
 * mechanism of this host can enforce (docs/run.md "Limits"). */
static int load_unenforceable(struct yctx *c, const struct yn *n, struct matrix *m)
{
	const char *s;
	int r;
	m->unenforceable_warn = false;
	if (!n)
		return 0;
	if ((r = yt_str(c, n, "unenforceable_limits", &s)))
		return r;
	if (strcmp(s, "warn") == 0)
		m->unenforceable_warn = true;
	else if (strcmp(s, "refuse") != 0) {
		char q[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(q, sizeof q, n->s, n->len);
		return yt_errf(c, n->line, n->col, "unenforceable_limits", "unknown value '%s' (refuse or warn)", q);
	}
	return 0;
}

/* seccomp: {allow: [GROUP, ...]}: the baseline groups this host lets every sandbox use
 * (policy/seccomp_groups.h). An unknown or repeated name is an error naming it. */
static int load_seccomp(struct yctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "allow" };
	char cp[KEYPATH_MAX];
	int r;

	if ((r = yt_want(c, n, "seccomp", YN_MAP)) || (r = yt_check_keys(c, n, "seccomp", keys, 1)))
		return r;
	n = yt_get(n, "allow");
	if ((r = yt_want(c, n, "seccomp.allow", YN_SEQ)))
		return r;
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		const char *s;

		yt_pidx(cp, "seccomp.allow", i);
		if ((r = yt_str(c, e, cp, &s)))
			return r;
		int g = seccomp_group_from_name(s);
		if (g < 0) {
			char sh[ERRMSG_QUOTE_MAX + 8];
			errmsg_quote(sh, sizeof sh, e->s, e->len);
			return yt_errf(c, e->line, e->col, cp,
				    "unknown seccomp group '%s' (io_uring, keyring, fanotify, userfaultfd, "
				    "personality or inet_sockets)", sh);
		}
		if (m->seccomp_allow & SECCOMP_GROUP_BIT(g))
			return yt_errf(c, e->line, e->col, cp, "seccomp group '%s' listed twice", s);
		m->seccomp_allow |= SECCOMP_GROUP_BIT(g);
	}
	return 0;
}

/* The single-use ledger's directory: a plain canonical absolute path like a root. */
static int load_ledger(struct yctx *c, const struct yn *n, struct matrix *m)
{
	const char *s;
	int r;
	if (!n) {
		m->ledger = strdup(MATRIX_LEDGER_DEFAULT);
		return m->ledger ? 0 : yt_oom(c);
	}
	if ((r = yt_str(c, n, "ledger", &s)))
		return r;
	_cleanup_free_ char *d = strdup(s);
	if (!d)
		return yt_oom(c);
	const char *why = root_dir_problem(d);
	if (why) {
		char q[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(q, sizeof q, n->s, n->len);
		return yt_errf(c, n->line, n->col, "ledger", "'%s' %s", q, why);
	}
	m->ledger = TAKE_PTR(d);
	return 0;
}

/* metrics: {textfile: PATH}: where the Prometheus text file goes (docs/fleet.md
 * "Metrics"): absolute, canonical like a root, ending in ".prom" (node_exporter's textfile
 * collector reads only those). */
static int load_metrics(struct yctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "textfile" };
	const char *s;
	int r;
	if (!n)
		return 0;
	if ((r = yt_want(c, n, "metrics", YN_MAP)) || (r = yt_check_keys(c, n, "metrics", keys, 1)))
		return r;
	const struct yn *t = yt_get(n, "textfile");
	if ((r = yt_str(c, t, "metrics.textfile", &s)))
		return r;
	_cleanup_free_ char *d = strdup(s);
	if (!d)
		return yt_oom(c);
	size_t len = strlen(d);
	const char *why = len && d[len - 1] == '/' ? "must name a file, not a directory" : root_dir_problem(d);
	if (!why && (strlen(d) < 6 || strcmp(d + strlen(d) - 5, ".prom") != 0 || strrchr(d, '/')[1] == '.'))
		why = "must end in .prom (node_exporter's textfile collector reads only those) and not be hidden";
	if (why) {
		char q[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(q, sizeof q, t->s, t->len);
		return yt_errf(c, t->line, t->col, "metrics.textfile", "'%s' %s", q, why);
	}
	m->metrics_textfile = TAKE_PTR(d);
	return 0;
}

/* The whole matrix. Long: the top-level keys in schema order (docs/matrix.md), a few lines
 * each. */
static int load_tree(struct yctx *c, const struct yn *root, struct matrix *m)
{
	static const char *const top[] = {
		"version", "capabilities", "max_lease_ttl", "max_runs", "clock_skew",
		"trusted_keys", "roots", "runtime_baseline", "lease_paths", "limits",
		"run_as", "network", "enforcement",
	};
	/* Optional: absent, each means the safe choice (docs/matrix.md): seccomp relaxes
	 * nothing, the default ledger, leases for this host only; fail_on_denial off (it
	 * changes exit codes only, never what is enforced); unenforceable_limits refuse. */
	static const char *const top_opt[] = { "seccomp", "ledger", "audience", "fail_on_denial",
					       "unenforceable_limits", "rollback_max_bytes", "audit_only", "metrics" };
	static const char *const caps[] = { "exec_staging_with_lease" };
	static const char *const ids[] = { "uid", "gid" };
	const struct yn *n;
	const char *s;
	uint64_t v;
	int r;

	if ((r = yt_want(c, root, "", YN_MAP)))
		return r;
	/* Version first: a newer file should say so, not trip over keys this reader lacks. */
	n = yt_get(root, "version");
	if (!n)
		return yt_errf(c, root->line, root->col, "version", "missing required key");
	if ((r = yt_uint(c, n, "version", 0, UINT64_MAX, &v)))
		return r;
	if (v != 1)
		return yt_errf(c, n->line, n->col, "version",
			    "unsupported version %" PRIu64 " (this calyx reads version 1)", v);
	if ((r = yt_check_keys_opt(c, root, "", top, sizeof top / sizeof top[0], top_opt,
				   sizeof top_opt / sizeof top_opt[0])))
		return r;

	n = yt_get(root, "capabilities");
	if ((r = yt_want(c, n, "capabilities", YN_MAP)) ||
	    (r = yt_check_keys(c, n, "capabilities", caps, 1)) ||
	    (r = yt_bool(c, yt_get(n, "exec_staging_with_lease"),
			   "capabilities.exec_staging_with_lease", &m->exec_staging_with_lease)))
		return r;

	if ((r = yt_duration(c, yt_get(root, "max_lease_ttl"), "max_lease_ttl", &m->max_lease_ttl_ms)))
		return r;
	if ((r = yt_uint(c, yt_get(root, "max_runs"), "max_runs", 1, LEASE_MAX_RUNS, &v)))
		return r;
	m->max_runs = (uint32_t)v;
	n = yt_get(root, "clock_skew");
	if ((r = yt_duration(c, n, "clock_skew", &m->clock_skew_ms)))
		return r;
	if (m->clock_skew_ms > CLOCK_SKEW_MAX_MS)
		return yt_errf(c, n->line, n->col, "clock_skew", "at most 1h");

	if ((r = load_keys(c, yt_get(root, "trusted_keys"), m)) ||
	    (r = load_roots(c, yt_get(root, "roots"), m)) ||
	    (r = load_baseline(c, yt_get(root, "runtime_baseline"), m)) ||
	    (r = load_bounds(c, yt_get(root, "lease_paths"), m)) ||
	    (r = load_limits(c, yt_get(root, "limits"), m)) ||
	    (r = load_unenforceable(c, yt_get(root, "unenforceable_limits"), m)))
		return r;

	n = yt_get(root, "run_as");
	if ((r = yt_want(c, n, "run_as", YN_MAP)) || (r = yt_check_keys(c, n, "run_as", ids, 2)))
		return r;
	/* (uid_t)-1 means "leave unchanged" to setresuid(): never a valid target. */
	if ((r = yt_uint(c, yt_get(n, "uid"), "run_as.uid", 0, UINT32_MAX - 1, &v)))
		return r;
	m->run_as_uid = (uid_t)v;
	if ((r = yt_uint(c, yt_get(n, "gid"), "run_as.gid", 0, UINT32_MAX - 1, &v)))
		return r;
	m->run_as_gid = (gid_t)v;

	if ((r = load_network(c, yt_get(root, "network"), m)))
		return r;

	n = yt_get(root, "enforcement");
	if ((r = yt_str(c, n, "enforcement", &s)))
		return r;
	r = enforce_backend_from_name(s);
	if (r < 0) {
		char sh[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(sh, sizeof sh, n->s, n->len);
		return yt_errf(c, n->line, n->col, "enforcement",
			    "unknown backend '%s' (auto, bpf-lsm or landlock)", sh);
	}
	m->enforcement = (enum enforce_backend)r;
	if ((r = load_ledger(c, yt_get(root, "ledger"), m)) ||
	    (r = matrix_audience_load(c, yt_get(root, "audience"), &m->audience)))
		return r;
	n = yt_get(root, "fail_on_denial");
	if (n && (r = yt_bool(c, n, "fail_on_denial", &m->fail_on_denial)))
		return r;
	/* audit_only: deny (absent) or allow: whether `calyx run --audit-only` may run. */
	n = yt_get(root, "audit_only");
	if (n) {
		if ((r = yt_str(c, n, "audit_only", &s)))
			return r;
		if (strcmp(s, "allow") && strcmp(s, "deny")) {
			char sh[ERRMSG_QUOTE_MAX + 8];
			errmsg_quote(sh, sizeof sh, n->s, n->len);
			return yt_errf(c, n->line, n->col, "audit_only", "unknown value '%s' (allow or deny)", sh);
		}
		m->audit_only_allowed = strcmp(s, "allow") == 0;
	}
	/* No "0 = no pack": a run whose :rw paths could not be put back is what the cap
	 * exists to refuse, so a host that wants no packs has no :rw leases. */
	m->rollback_max_bytes = MATRIX_ROLLBACK_MAX_DEFAULT;
	n = yt_get(root, "rollback_max_bytes");
	if (n && (r = yt_size(c, n, "rollback_max_bytes", &m->rollback_max_bytes)))
		return r;
	if ((r = load_metrics(c, yt_get(root, "metrics"), m)))
		return r;
	n = yt_get(root, "seccomp");
	return n ? load_seccomp(c, n, m) : 0;
}

/* Where each key of the schema lives (docs/matrix.md), for yamltree's "mis-indented?"
 * hint. A name used in two places (cpu in limits.default and limits.max) names both. */
static const char *matrix_key_home(const char *key)
{
	static const struct { const char *key, *home; } homes[] = {
		{ "version", "" }, { "capabilities", "" }, { "max_lease_ttl", "" }, { "max_runs", "" },
		{ "clock_skew", "" }, { "trusted_keys", "" }, { "roots", "" }, { "runtime_baseline", "" },
		{ "lease_paths", "" }, { "limits", "" }, { "run_as", "" }, { "network", "" },
		{ "enforcement", "" }, { "seccomp", "" }, { "ledger", "" }, { "audience", "" },
		{ "fail_on_denial", "" }, { "unenforceable_limits", "" }, { "rollback_max_bytes", "" },
		{ "audit_only", "" },
		{ "metrics", "" }, { "textfile", "metrics" },
		{ "exec_staging_with_lease", "capabilities" },
		{ "name", "trusted_keys[]" }, { "public", "trusted_keys[]" },
		{ "default", "limits" }, { "max", "limits" },
		{ "cpu", "limits.default and limits.max" }, { "mem", "limits.default and limits.max" },
		{ "pids", "limits.default and limits.max" }, { "wall", "limits.default and limits.max" },
		{ "output", "limits.default and limits.max" }, { "fsize", "limits.default and limits.max" },
		{ "uid", "run_as" }, { "gid", "run_as" },
		{ "allow", "seccomp" },
		{ "hostname", "audience" }, { "groups", "audience" }, { "accept_without_aud", "audience" },
	};
	for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++)
		if (!strcmp(homes[i].key, key))
			return homes[i].home;
	return NULL;
}

int matrix_load_buffer(const char *name, const char *buf, size_t len, struct matrix *m,
		       char *err, size_t errlen)
{
	const char *nm = name ? name : "<matrix>";
	struct yctx c;
	struct yn *root = NULL;
	int r;

	memset(m, 0, sizeof *m);
	if (err && errlen)
		err[0] = '\0';
	if (!buf && len)
		return errmsg(err, errlen, -EINVAL, "%s: no buffer", nm);
	if (len > MATRIX_MAX_BYTES)
		return errmsg(err, errlen, -EINVAL,
			      "%s: the matrix is larger than 1 MiB (%zu bytes)", nm, len);
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof(h), (const unsigned char *)buf, len, NULL, 0);
	sodium_bin2hex(m->blake2b, sizeof(m->blake2b), h, sizeof(h));
	if ((r = yt_open(&c, nm, buf, len, err, errlen)) < 0)
		return r;
	c.key_home = matrix_key_home;
	m->source = strdup(nm);
	if (!m->source)
		r = yt_oom(&c);
	else
		r = yt_parse(&c, &root);
	if (!r)
		r = load_tree(&c, root, m);
	yn_free(root);
	yt_close(&c);
	if (r) {
		char keep[sizeof(m->blake2b)];
		memcpy(keep, m->blake2b, sizeof(keep));
		matrix_free(m);
		memcpy(m->blake2b, keep, sizeof(keep));
	}
	return r;
}

int matrix_load_file(const char *path, struct matrix *m, char *err, size_t errlen)
{
	struct stat st;

	memset(m, 0, sizeof *m);
	/* O_NONBLOCK: a FIFO planted where the matrix should be must not hang us in open(). */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errmsg(err, errlen, -EIO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return errmsg(err, errlen, -EIO, "%s: not a regular file", path);
	/* Refuse before reading: a huge file must not cost memory. */
	if (st.st_size > (off_t)MATRIX_MAX_BYTES)
		return errmsg(err, errlen, -EINVAL, "%s: the matrix is larger than 1 MiB (%lld bytes)", path,
			      (long long)st.st_size);
	_cleanup_free_ char *buf = malloc(MATRIX_MAX_BYTES + 1);
	if (!buf)
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	ssize_t n = fileio_read_all(fd, buf, MATRIX_MAX_BYTES + 1);
	if (n == -EFBIG)   /* it grew past the limit after fstat */
		return errmsg(err, errlen, -EINVAL, "%s: the matrix is larger than 1 MiB", path);
	if (n < 0)
		return errmsg(err, errlen, -EIO, "%s: cannot read: %s", path, strerror((int)-n));
	return matrix_load_buffer(path, buf, (size_t)n, m, err, errlen);
}

const char *matrix_host_file(const char *path)
{
	struct stat st;

	/* lstat: a dangling symlink is a file someone put there (its open fails, closed). */
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return NULL;
	return path;
}

int matrix_load_shipped(struct matrix *m, char *err, size_t errlen)
{
	return matrix_load_buffer("<shipped>", calyx_shipped_matrix, strlen(calyx_shipped_matrix),
				  m, err, errlen);
}
