/* Lease claims: strict parsing, serialisation, time checks, command splitting and the
 * human rendering. Pure module: no I/O, no logging. Every refusal names the claim. */
#include "policy/lease.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/errmsg.h"
#include "base/units.h"
#include "policy/envnames.h"
#include "policy/pathpat.h"

/* A lease is a few KiB at most in practice; the cap bounds what an unauthenticated
 * payload can make us allocate before any claim is looked at. */
#define LEASE_MAX_JSON (1024 * 1024)
#define LEASE_MAX_INTENT 128
#define LEASE_MAX_TIME_STR 64
#define LEASE_MAX_ENV_NAME 128
#define PID_PREFIX "k4.pid."
#define PID_B64_LEN 44 /* base64url of the 33-byte PASERK id, unpadded */

/* "claim 'NAME': problem" */
__attribute__((format(printf, 4, 5)))
static int cfail(char *err, size_t errlen, const char *claim, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "claim '%s': ", claim);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

/* Attacker-chosen key names go into messages; keep them short and printable. */
static void sanitize(const char *in, char *out, size_t outlen)
{
	size_t i = 0;
	for (; in && in[i] && i + 1 < outlen && i < 64; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* ---- ids ---- */

static bool digits(const char *s, size_t n, int lo, int hi)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi;
}

bool lease_id_valid(const char *id)
{
	/* LEASE-YYYYMMDD-HHMMSS-xxxx */
	if (!id || strlen(id) != 26 || strncmp(id, "LEASE-", 6) != 0 || id[14] != '-' || id[21] != '-')
		return false;
	const char *d = id + 6, *t = id + 15, *x = id + 22;
	if (!digits(d, 4, 0, 9999) || !digits(d + 4, 2, 1, 12) || !digits(d + 6, 2, 1, 31) ||
	    !digits(t, 2, 0, 23) || !digits(t + 2, 2, 0, 59) || !digits(t + 4, 2, 0, 59))
		return false;
	for (int i = 0; i < 4; i++)
		if (!((x[i] >= '0' && x[i] <= '9') || (x[i] >= 'a' && x[i] <= 'f')))
			return false;
	return true;
}

void lease_new_id(int64_t now, char out[LEASE_ID_MAX])
{
	/* A failed sodium_init() leaves no trustworthy randomness; ids that collide would make
	 * the ledger refuse an unrelated lease, so stop rather than guess. */
	if (sodium_init() < 0)
		abort();
	unsigned char r[2];
	randombytes_buf(r, sizeof(r));
	struct tm tm;
	time_t t = (time_t)now;
	if (now < 0 || now > INT64_C(253402300799) || !gmtime_r(&t, &tm)) {
		out[0] = '\0';
		return;
	}
	snprintf(out, LEASE_ID_MAX, "LEASE-%04d%02d%02d-%02d%02d%02d-%02x%02x", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, r[0], r[1]);
}

/* ---- freeing ---- */

void lease_free(struct lease *l)
{
	if (!l)
		return;
	free(l->intent);
	free(l->iss);
	for (size_t i = 0; l->commands && i < l->n_commands; i++)
		argv_list_free(&l->commands[i]);
	free(l->commands);
	for (size_t i = 0; l->paths && i < l->n_paths; i++)
		free(l->paths[i].pattern);
	free(l->paths);
	for (size_t i = 0; l->env && i < l->n_env; i++)
		free(l->env[i]);
	free(l->env);
	for (size_t i = 0; l->helpers && i < l->n_helpers; i++)
		free(l->helpers[i]);
	free(l->helpers);
	free(l->aud);
	free(l->cwd);
	memset(l, 0, sizeof(*l));
}

/* ---- JSON parsing ---- */

enum claim_id {
	C_JTI, C_INTENT, C_IAT, C_NBF, C_EXP, C_ISS, C_COMMANDS, C_PATHS, C_NETWORK, C_LIMITS,
	C_RUNS, C_ENV, C_HELPERS, C_AUD, C_CWD, C_COUNT
};
static const char *const claim_names[C_COUNT] = { "jti", "intent", "iat", "nbf", "exp", "iss",
						  "commands", "paths", "network", "limits", "runs", "env",
						  "helpers", "aud", "cwd" };
static const bool claim_required[C_COUNT] = { true, true, true, true, true, true,
					      true, true, true, true, false, false,
					      false, false, false };

static int get_uint(const cJSON *it, const char *claim, uint64_t min, uint64_t max, uint64_t *out,
		    char *err, size_t errlen);

/* network: "deny_all", or {"allow": [{"cidr", "port", "proto"}, ...]} with every key of
 * each rule present and nothing else: a rule must say exactly what it admits. */
static int parse_net_rule(const cJSON *it, size_t i, struct net_rule *r, char *err, size_t errlen)
{
	char claim[48], cerr[160];
	snprintf(claim, sizeof claim, "network.allow[%zu]", i);
	if (!cJSON_IsObject(it))
		return cfail(err, errlen, claim, "must be an object {\"cidr\", \"port\", \"proto\"}");
	for (const cJSON *k = it->child; k; k = k->next)
		if (strcmp(k->string, "cidr") && strcmp(k->string, "port") && strcmp(k->string, "proto"))
			return cfail(err, errlen, claim, "unknown key '%s' (want cidr, port, proto)", k->string);
	const cJSON *cidr = cJSON_GetObjectItemCaseSensitive(it, "cidr");
	const cJSON *port = cJSON_GetObjectItemCaseSensitive(it, "port");
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(it, "proto");
	if (!cJSON_IsString(cidr) || !cidr->valuestring)
		return cfail(err, errlen, claim, "'cidr' must be a string like \"10.0.0.0/8\"");
	if (netrule_parse_cidr(cidr->valuestring, r, cerr, sizeof cerr))
		return cfail(err, errlen, claim, "%s", cerr);
	uint64_t pv;
	char pclaim[64];
	snprintf(pclaim, sizeof pclaim, "%s.port", claim);
	int rc = get_uint(port, pclaim, 0, 65535, &pv, err, errlen);
	if (rc)
		return rc;
	r->port = (uint16_t)pv;
	if (!cJSON_IsString(proto) || !proto->valuestring ||
	    (strcmp(proto->valuestring, "tcp") && strcmp(proto->valuestring, "udp")))
		return cfail(err, errlen, claim, "'proto' must be \"tcp\" or \"udp\"");
	r->proto = strcmp(proto->valuestring, "tcp") ? NETRULE_UDP : NETRULE_TCP;
	return 0;
}

static int parse_network(const cJSON *n, struct lease *out, char *err, size_t errlen)
{
	out->network = NET_DENY_ALL;
	if (cJSON_IsString(n) && n->valuestring && !strcmp(n->valuestring, "deny_all"))
		return 0;
	const cJSON *allow = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, "allow") : NULL;
	if (!allow || cJSON_GetArraySize(n) != 1)
		return cfail(err, errlen, "network", "must be \"deny_all\" or {\"allow\": [rules]}");
	int count = cJSON_GetArraySize(allow);
	if (!cJSON_IsArray(allow) || count < 1 || count > NETRULE_MAX)
		return cfail(err, errlen, "network.allow", "must be an array of 1..%d rules", NETRULE_MAX);
	size_t i = 0;
	for (const cJSON *it = allow->child; it; it = it->next, i++) {
		int rc = parse_net_rule(it, i, &out->net_allow[i], err, errlen);
		if (rc)
			return rc;
	}
	out->n_net_allow = i;
	out->network = NET_ALLOW;
	return 0;
}

/* cJSON turns "\u0000" into a string that silently ends there, so the signed bytes would
 * say one thing and the parsed claim another. Refuse the escape outright. */
static bool has_nul_escape(const char *s, size_t len)
{
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		if (!in_str) {
			if (s[i] == '"')
				in_str = true;
			continue;
		}
		if (s[i] == '"') {
			in_str = false;
		} else if (s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
				return true;
			i++;
		}
	}
	return false;
}

static int get_str(const cJSON *it, const char *claim, size_t maxlen, const char **out, char *err,
		   size_t errlen)
{
	if (!cJSON_IsString(it) || !it->valuestring || !it->valuestring[0])
		return cfail(err, errlen, claim, "must be a non-empty string");
	if (strlen(it->valuestring) > maxlen)
		return cfail(err, errlen, claim, "longer than %zu bytes", maxlen);
	*out = it->valuestring;
	return 0;
}

static int get_uint(const cJSON *it, const char *claim, uint64_t min, uint64_t max, uint64_t *out,
		    char *err, size_t errlen)
{
	if (!cJSON_IsNumber(it))
		return cfail(err, errlen, claim, "must be an integer");
	double d = it->valuedouble;
	if (!isfinite(d))
		return cfail(err, errlen, claim, "must be an integer");
	if (d < (double)min)
		return cfail(err, errlen, claim, "must be at least %" PRIu64, min);
	if (d > (double)max)
		return cfail(err, errlen, claim, "must be at most %" PRIu64, max);
	/* In range now, so the cast is defined; a fraction does not survive it. */
	uint64_t v = (uint64_t)d;
	if ((double)v != d)
		return cfail(err, errlen, claim, "must be an integer");
	*out = v;
	return 0;
}

static int get_time(const cJSON *it, const char *claim, int64_t *out, char *err, size_t errlen)
{
	const char *s;
	int rc = get_str(it, claim, LEASE_MAX_TIME_STR, &s, err, errlen);
	if (rc)
		return rc;
	if (units_parse_rfc3339(s, out) != 0)
		return cfail(err, errlen, claim, "must be an RFC 3339 time like 2026-01-31T12:00:00Z");
	/* Before the epoch is never a real lease time, and could not be printed back. */
	if (*out < 0)
		return cfail(err, errlen, claim, "must not be before 1970");
	return 0;
}

static bool intent_valid(const char *s)
{
	if (strncmp(s, "INT-", 4) != 0 || !s[4])
		return false;
	for (const char *p = s + 4; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static bool kid_valid(const char *s)
{
	size_t pl = strlen(PID_PREFIX);
	if (strncmp(s, PID_PREFIX, pl) != 0 || strlen(s) != pl + PID_B64_LEN)
		return false;
	for (const char *p = s + pl; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return false;
	return true;
}

static bool env_name_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || *s == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* Set by the runner itself; a lease must not be able to pass through the caller's copy.
 * Names that load code are policy/envnames' table. */
static bool env_name_reserved(const char *s)
{
	return strcmp(s, "PATH") == 0 || strcmp(s, "HOME") == 0 || strcmp(s, "LANG") == 0 ||
	       strcmp(s, "TZ") == 0;
}

static int parse_commands(const cJSON *arr, struct lease *out, char *err, size_t errlen)
{
	if (!cJSON_IsArray(arr))
		return cfail(err, errlen, "commands", "must be an array of argv arrays");
	int n = cJSON_GetArraySize(arr);
	if (n < 1)
		return cfail(err, errlen, "commands", "must list at least one command");
	if (n > LEASE_MAX_COMMANDS)
		return cfail(err, errlen, "commands", "more than %d commands", LEASE_MAX_COMMANDS);
	out->commands = calloc((size_t)n, sizeof(*out->commands));
	if (!out->commands)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	char name[64];
	size_t i = 0;
	const cJSON *cmd;
	cJSON_ArrayForEach(cmd, arr) {
		snprintf(name, sizeof(name), "commands[%zu]", i);
		if (!cJSON_IsArray(cmd))
			return cfail(err, errlen, name, "must be a non-empty array of strings");
		int argc = cJSON_GetArraySize(cmd);
		if (argc < 1)
			return cfail(err, errlen, name, "must be a non-empty array of strings");
		if (argc > LEASE_MAX_ARGS)
			return cfail(err, errlen, name, "more than %d arguments", LEASE_MAX_ARGS);
		struct argv_list *a = &out->commands[i];
		a->argv = calloc((size_t)argc + 1, sizeof(char *));
		if (!a->argv)
			return errmsg(err, errlen, -EINVAL, "out of memory");
		out->n_commands = i + 1;
		size_t j = 0;
		const cJSON *arg;
		cJSON_ArrayForEach(arg, cmd) {
			const char *s;
			snprintf(name, sizeof(name), "commands[%zu][%zu]", i, j);
			int rc = get_str(arg, name, LEASE_MAX_ARG_BYTES, &s, err, errlen);
			if (rc)
				return rc;
			a->argv[j] = strdup(s);
			if (!a->argv[j])
				return errmsg(err, errlen, -EINVAL, "out of memory");
			a->argc = ++j;
		}
		i++;
	}
	return 0;
}

static int parse_paths(const cJSON *arr, struct lease *out, char *err, size_t errlen)
{
	if (!cJSON_IsArray(arr))
		return cfail(err, errlen, "paths", "must be an array of {\"pattern\",\"access\"} objects");
	int n = cJSON_GetArraySize(arr);
	if (n > LEASE_MAX_PATHS)
		return cfail(err, errlen, "paths", "more than %d paths", LEASE_MAX_PATHS);
	if (n == 0)
		return 0;
	out->paths = calloc((size_t)n, sizeof(*out->paths));
	if (!out->paths)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	char name[32], sub[128];
	size_t i = 0;
	const cJSON *p;
	cJSON_ArrayForEach(p, arr) {
		snprintf(name, sizeof(name), "paths[%zu]", i);
		if (!cJSON_IsObject(p))
			return cfail(err, errlen, name, "must be an object {\"pattern\",\"access\"}");
		const cJSON *pat = NULL, *acc = NULL, *k;
		cJSON_ArrayForEach(k, p) {
			const cJSON **slot = NULL;
			if (k->string && strcmp(k->string, "pattern") == 0)
				slot = &pat;
			else if (k->string && strcmp(k->string, "access") == 0)
				slot = &acc;
			char kn[72];
			sanitize(k->string, kn, sizeof(kn));
			snprintf(sub, sizeof(sub), "%s.%s", name, kn);
			if (!slot)
				return cfail(err, errlen, sub, "unknown key (pattern, access)");
			if (*slot)
				return cfail(err, errlen, sub, "given more than once");
			*slot = k;
		}
		const char *s;
		snprintf(sub, sizeof(sub), "%s.pattern", name);
		if (!pat)
			return cfail(err, errlen, sub, "missing");
		int rc = get_str(pat, sub, LEASE_MAX_PATTERN_BYTES, &s, err, errlen);
		if (rc)
			return rc;
		char perr[192];
		if (pathpat_check(s, perr, sizeof(perr)) != 0)
			return cfail(err, errlen, sub, "%s", perr);
		out->paths[i].pattern = strdup(s);
		if (!out->paths[i].pattern)
			return errmsg(err, errlen, -EINVAL, "out of memory");
		out->n_paths = i + 1;
		snprintf(sub, sizeof(sub), "%s.access", name);
		if (!acc)
			return cfail(err, errlen, sub, "missing");
		if (!cJSON_IsString(acc) || !acc->valuestring ||
		    (strcmp(acc->valuestring, "ro") != 0 && strcmp(acc->valuestring, "rw") != 0))
			return cfail(err, errlen, sub, "must be \"ro\" or \"rw\"");
		out->paths[i].access = acc->valuestring[1] == 'w' ? ACCESS_RW : ACCESS_RO;
		i++;
	}
	return 0;
}

static int parse_limits(const cJSON *obj, struct lease *out, char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj))
		return cfail(err, errlen, "limits", "must be an object");
	char name[96];
	const cJSON *k;
	cJSON_ArrayForEach(k, obj) {
		int kind = -1;
		for (int j = 0; j < LIMIT_COUNT; j++)
			if (k->string && strcmp(k->string, limit_claim_name((enum limit_kind)j)) == 0)
				kind = j;
		char kn[72];
		sanitize(k->string, kn, sizeof(kn));
		snprintf(name, sizeof(name), "limits.%s", kn);
		if (kind < 0)
			return cfail(err, errlen, name,
				     "unknown limit (cpu_ms, mem_bytes, pids, wall_ms, output_bytes, fsize_bytes)");
		if (out->limits.set[kind])
			return cfail(err, errlen, name, "given more than once");
		uint64_t v;
		int rc = get_uint(k, name, 1, limit_max(kind), &v, err, errlen);
		if (rc)
			return rc;
		out->limits.set[kind] = true;
		out->limits.v[kind] = v;
	}
	return 0;
}

/* A string checked by a list claim's own rule: NULL if fine, else what is wrong. */
typedef const char *(*item_check_fn)(const char *s);

static const char *env_item_problem(const char *s)
{
	if (!env_name_valid(s))
		return "is not a variable name [A-Z_][A-Z0-9_]*";
	if (env_name_reserved(s))
		return "is set by the runner and cannot be passed through";
	const struct envname_rule *r = envname_refused(s);
	if (r) {
		/* The message names the table entry and what it loads (one claim at a time). */
		static char why[512];
		snprintf(why, sizeof(why), "is refused (%s): %s", r->name, r->why);
		return why;
	}
	return NULL;
}

/* A helper is named like a command's argv[0]: an absolute path, or a bare program name
 * looked up in the runner's PATH at run time. Nothing else (no "./x", no "a/b"). */
static const char *helper_item_problem(const char *s)
{
	if (s[0] == '/')
		return strstr(s, "/../") || strstr(s, "/./") || strstr(s, "//") ? "must be a normal absolute path (no '.', '..' or '//')" : NULL;
	if (strchr(s, '/'))
		return "must be an absolute path or a bare program name";
	return NULL;
}

/* A JSON array of distinct non-empty strings, each at most maxlen bytes and passing
 * check; stored as malloc'd copies in *items / *n_items. */
static int parse_string_list(const cJSON *arr, const char *claim, size_t max_items,
			     size_t maxlen, item_check_fn check, char ***items, size_t *n_items,
			     char *err, size_t errlen)
{
	if (!cJSON_IsArray(arr))
		return cfail(err, errlen, claim, "must be an array of strings");
	int n = cJSON_GetArraySize(arr);
	if ((size_t)n > max_items)
		return cfail(err, errlen, claim, "more than %zu entries", max_items);
	if (n == 0)
		return 0;
	*items = calloc((size_t)n, sizeof(char *));
	if (!*items)
		return errmsg(err, errlen, -EINVAL, "out of memory");
	char name[48];
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) {
		const char *s, *why;
		snprintf(name, sizeof(name), "%s[%zu]", claim, i);
		int rc = get_str(e, name, maxlen, &s, err, errlen);
		if (rc)
			return rc;
		if ((why = check(s)))
			return cfail(err, errlen, name, "'%s' %s", s, why);
		for (size_t j = 0; j < i; j++)
			if (strcmp((*items)[j], s) == 0)
				return cfail(err, errlen, name, "'%s' listed twice", s);
		(*items)[i] = strdup(s);
		if (!(*items)[i])
			return errmsg(err, errlen, -EINVAL, "out of memory");
		*n_items = ++i;
	}
	return 0;
}

/* Host names and host group names: DNS-like labels, so a matrix can compare them exactly. */
static bool aud_valid(const char *s)
{
	if (!isalnum((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
			return false;
	return true;
}

static int parse_cwd(const cJSON *it, struct lease *out, char *err, size_t errlen)
{
	const char *s;
	char perr[192];
	int rc = get_str(it, "cwd", LEASE_MAX_PATTERN_BYTES, &s, err, errlen);
	if (rc)
		return rc;
	if (strchr(s, '*'))
		return cfail(err, errlen, "cwd", "'%s' must be a directory, not a pattern", s);
	if (pathpat_check(s, perr, sizeof(perr)) != 0)
		return cfail(err, errlen, "cwd", "%s", perr);
	if (!(out->cwd = strdup(s)))
		return errmsg(err, errlen, -EINVAL, "out of memory");
	if (!lease_cwd_covered(out, s))
		return cfail(err, errlen, "cwd", "'%s' is not within any of the lease's paths", s);
	return 0;
}

bool lease_cwd_covered(const struct lease *l, const char *cwd)
{
	size_t cl = strlen(cwd);
	while (cl > 1 && cwd[cl - 1] == '/')
		cl--;
	for (size_t i = 0; i < l->n_paths; i++) {
		const char *p = l->paths[i].pattern;
		size_t pl = strlen(p);
		bool subtree = pl >= 3 && strcmp(p + pl - 3, "/**") == 0;
		bool children = !subtree && pl >= 2 && strcmp(p + pl - 2, "/*") == 0;
		size_t dl = subtree ? pl - 3 : children ? pl - 2 : pl;
		if (dl == 0)
			dl = 1; /* the pattern "/" + "**": the root itself */
		bool same = cl == dl && strncmp(cwd, p, dl) == 0;
		bool below = cl > dl && strncmp(cwd, p, dl) == 0 && (cwd[dl] == '/' || dl == 1);
		if (same)
			return true;
		if (subtree && below)
			return true;
		if (children && below && !memchr(cwd + dl + 1, '/', cl - dl - 1))
			return true;
	}
	return false;
}

static int parse_claims(const cJSON *root, struct lease *out, char *err, size_t errlen)
{
	const cJSON *c[C_COUNT] = { 0 };
	const cJSON *it;
	char kn[72];
	if (!cJSON_IsObject(root))
		return errmsg(err, errlen, -EINVAL, "lease payload: must be a JSON object");
	cJSON_ArrayForEach(it, root) {
		int id = -1;
		for (int j = 0; j < C_COUNT; j++)
			if (it->string && strcmp(it->string, claim_names[j]) == 0)
				id = j;
		sanitize(it->string, kn, sizeof(kn));
		if (id < 0)
			return cfail(err, errlen, kn, "unknown claim");
		/* cJSON keeps duplicates and returns the first; other parsers take the last.
		 * Refusing them removes the ambiguity. */
		if (c[id])
			return cfail(err, errlen, kn, "given more than once");
		c[id] = it;
	}
	for (int j = 0; j < C_COUNT; j++)
		if (claim_required[j] && !c[j])
			return cfail(err, errlen, claim_names[j], "missing");

	const char *s;
	int rc;
	if ((rc = get_str(c[C_JTI], "jti", LEASE_ID_MAX - 1, &s, err, errlen)))
		return rc;
	if (!lease_id_valid(s))
		return cfail(err, errlen, "jti", "must look like LEASE-YYYYMMDD-HHMMSS-xxxx (x: lowercase hex)");
	memcpy(out->jti, s, strlen(s) + 1);

	if ((rc = get_str(c[C_INTENT], "intent", LEASE_MAX_INTENT, &s, err, errlen)))
		return rc;
	if (!intent_valid(s))
		return cfail(err, errlen, "intent", "must look like INT-NAME ([A-Za-z0-9._-] after \"INT-\")");
	if (!(out->intent = strdup(s)))
		return errmsg(err, errlen, -EINVAL, "out of memory");

	if ((rc = get_time(c[C_IAT], "iat", &out->iat, err, errlen)) ||
	    (rc = get_time(c[C_NBF], "nbf", &out->nbf, err, errlen)) ||
	    (rc = get_time(c[C_EXP], "exp", &out->exp, err, errlen)))
		return rc;
	if (out->exp <= out->iat)
		return cfail(err, errlen, "exp", "must be later than 'iat'");
	if (out->nbf > out->exp)
		return cfail(err, errlen, "nbf", "must not be later than 'exp'");

	if ((rc = get_str(c[C_ISS], "iss", strlen(PID_PREFIX) + PID_B64_LEN, &s, err, errlen)))
		return rc;
	if (!kid_valid(s))
		return cfail(err, errlen, "iss", "must be a PASERK key id \"k4.pid.\" + 44 base64url characters");
	if (!(out->iss = strdup(s)))
		return errmsg(err, errlen, -EINVAL, "out of memory");

	if ((rc = parse_commands(c[C_COMMANDS], out, err, errlen)) ||
	    (rc = parse_paths(c[C_PATHS], out, err, errlen)))
		return rc;

	if ((rc = parse_network(c[C_NETWORK], out, err, errlen)))
		return rc;

	if ((rc = parse_limits(c[C_LIMITS], out, err, errlen)))
		return rc;

	out->runs = 1;
	if (c[C_RUNS]) {
		uint64_t v;
		if ((rc = get_uint(c[C_RUNS], "runs", 1, LEASE_MAX_RUNS, &v, err, errlen)))
			return rc;
		out->runs = (uint32_t)v;
	}
	if (c[C_ENV] && (rc = parse_string_list(c[C_ENV], "env", LEASE_MAX_ENV, LEASE_MAX_ENV_NAME,
						env_item_problem, &out->env, &out->n_env, err, errlen)))
		return rc;
	if (c[C_HELPERS] &&
	    (rc = parse_string_list(c[C_HELPERS], "helpers", LEASE_MAX_HELPERS, LEASE_MAX_ARG_BYTES,
				    helper_item_problem, &out->helpers, &out->n_helpers, err, errlen)))
		return rc;
	if (c[C_AUD]) {
		if ((rc = get_str(c[C_AUD], "aud", LEASE_MAX_AUD, &s, err, errlen)))
			return rc;
		if (!aud_valid(s))
			return cfail(err, errlen, "aud", "'%s' must be a host or group name [A-Za-z0-9._-]", s);
		if (!(out->aud = strdup(s)))
			return errmsg(err, errlen, -EINVAL, "out of memory");
	}
	if (c[C_CWD] && (rc = parse_cwd(c[C_CWD], out, err, errlen)))
		return rc;
	return 0;
}

int lease_from_json(const char *json, size_t len, struct lease *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!json || len == 0)
		return errmsg(err, errlen, -EINVAL, "lease payload: empty");
	if (len > LEASE_MAX_JSON)
		return errmsg(err, errlen, -EINVAL, "lease payload: larger than %d bytes", LEASE_MAX_JSON);
	if (memchr(json, '\0', len))
		return errmsg(err, errlen, -EINVAL, "lease payload: contains a NUL byte");
	if (has_nul_escape(json, len))
		return errmsg(err, errlen, -EINVAL, "lease payload: \\u0000 is not allowed in strings");
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root)
		return errmsg(err, errlen, -EINVAL,
			      "lease payload: not valid JSON (near byte %td)", end ? end - json : (ptrdiff_t)0);
	for (const char *p = end; p && p < json + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			cJSON_Delete(root);
			return errmsg(err, errlen, -EINVAL,
				      "lease payload: trailing data after the JSON object");
		}
	}
	int rc = parse_claims(root, out, err, errlen);
	cJSON_Delete(root);
	if (rc)
		lease_free(out);
	return rc;
}

/* ---- times ---- */

static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;
	return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

int lease_check_times(const struct lease *l, int64_t now, int64_t skew_s, char *err, size_t errlen)
{
	char a[32], b[32];
	if (skew_s < 0)
		skew_s = 0;
	if (l->exp <= l->iat)
		return errmsg(err, errlen, -EINVAL,
			      "lease times inconsistent: 'exp' is not later than 'iat'");
	if (l->nbf > l->exp)
		return errmsg(err, errlen, -EINVAL, "lease times inconsistent: 'nbf' is later than 'exp'");
	if (l->iat > sat_add(now, skew_s)) {
		units_format_rfc3339(l->iat, a, sizeof(a));
		units_format_rfc3339(now, b, sizeof(b));
		return errmsg(err, errlen, -EINVAL,
			      "lease times inconsistent: issued in the future (iat %s, now %s)", a, b);
	}
	if (now < sat_add(l->nbf, -skew_s)) {
		units_format_rfc3339(l->nbf, a, sizeof(a));
		errmsg(err, errlen, -EINVAL, "lease not yet valid: not before %s", a);
		return -EAGAIN;
	}
	if (now >= sat_add(l->exp, skew_s)) {
		units_format_rfc3339(l->exp, a, sizeof(a));
		errmsg(err, errlen, -EINVAL, "lease expired at %s", a);
		return -ETIME;
	}
	return 0;
}

/* ---- commands ---- */

int lease_match_command(const struct lease *l, char *const *argv, size_t argc)
{
	if (!l || !argv)
		return -1;
	for (size_t i = 0; i < l->n_commands; i++) {
		const struct argv_list *c = &l->commands[i];
		if (c->argc != argc)
			continue;
		size_t j = 0;
		while (j < argc && argv[j] && strcmp(c->argv[j], argv[j]) == 0)
			j++;
		if (j == argc)
			return (int)i;
	}
	return -1;
}
