/* The group ledger on etcd: see group_ledger.h and docs/fleet.md "Group ledger".
 *
 * Why a nonce in the run record: a transaction whose answer is lost (a timeout, a member
 * that died after proposing it) may still have been applied. The next round then sees the
 * count moved; before trying again it reads the run records of its own unanswered rounds,
 * and one holding its nonce is its run — so a lost answer never consumes a second run
 * for the same `calyx run`.
 *
 * Why libcurl is dlopen()ed: linked, it (and through it OpenSSL, GSSAPI, LDAP, SSH, …)
 * is loaded by every calyx invocation (about 13 ms each, measured on a loaded 2-core
 * machine: 22 ms against 9 for `calyx --version`), yet only a run of a group lease
 * counted in etcd uses it. Loaded here, the first time such a run needs it; a host
 * without it fails that run closed (90), never another. */
#include "state/group_ledger.h"

#include <cjson/cJSON.h>
#define CURL_DISABLE_TYPECHECK   /* the typecheck macros would hide the functions' names */
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/errmsg.h"
#include "base/units.h"

#define ANSWER_MAX (1u << 20)   /* an answer larger than this is not one we asked for */
#define KEY_MAX (ETCD_PREFIX_MAX + 512)

#define LIBCURL_SONAME "libcurl.so.4"

/* The libcurl functions used, from LIBCURL_SONAME. */
static struct {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *setopt;
	__typeof__(curl_easy_perform) *perform;
	__typeof__(curl_easy_getinfo) *getinfo;
	__typeof__(curl_easy_strerror) *strerror;
	__typeof__(curl_easy_cleanup) *cleanup;
} cu;

/* 0, or -ELIBACC with why (dlerror's words) in err. Once per process. */
static int load_libcurl(char *err, size_t errlen)
{
	static bool loaded;
	if (loaded)
		return 0;
	void *d = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!d)
		return errmsg(err, errlen, -ELIBACC, "group ledger: cannot load %s: %s", LIBCURL_SONAME, dlerror());
	const struct { void **slot; const char *name; } syms[] = {
		{ (void **)&cu.global_init, "curl_global_init" }, { (void **)&cu.easy_init, "curl_easy_init" },
		{ (void **)&cu.setopt, "curl_easy_setopt" },      { (void **)&cu.perform, "curl_easy_perform" },
		{ (void **)&cu.getinfo, "curl_easy_getinfo" },    { (void **)&cu.strerror, "curl_easy_strerror" },
		{ (void **)&cu.cleanup, "curl_easy_cleanup" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!(*syms[i].slot = dlsym(d, syms[i].name))) {
			dlclose(d);
			return errmsg(err, errlen, -ELIBACC, "group ledger: %s lacks %s", LIBCURL_SONAME, syms[i].name);
		}
	if (cu.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errmsg(err, errlen, -ELIBACC, "group ledger: curl_global_init failed");
	loaded = true;
	return 0;
}

struct client {
	const struct etcd_conf *e;
	CURL *h;
	size_t cur;                /* the endpoint that answered last: tried first */
	char cluster[32];          /* cluster_id of the first answer; every other must match */
	char *buf;                 /* the answer being read */
	size_t len;
	bool too_big;
	char *err;
	size_t errlen;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct client *cl = ud;
	size_t add = sz * n;
	if (cl->len + add > ANSWER_MAX) {
		cl->too_big = true;
		return 0;   /* curl stops the transfer */
	}
	char *nb = realloc(cl->buf, cl->len + add + 1);
	if (!nb)
		return 0;
	cl->buf = nb;
	memcpy(cl->buf + cl->len, p, add);
	cl->len += add;
	cl->buf[cl->len] = '\0';
	return add;
}

/* Append "; ENDPOINT: what" to err (the first without "; "). */
static void say(struct client *cl, const char *ep, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct client *cl, const char *ep, const char *fmt, ...)
{
	if (!cl->err || !cl->errlen)
		return;
	size_t o = strlen(cl->err);
	if (o + 1 >= cl->errlen)
		return;
	o += (size_t)snprintf(cl->err + o, cl->errlen - o, "%s%s: ", o ? "; " : "", ep);
	if (o + 1 >= cl->errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cl->err + o, cl->errlen - o, fmt, ap);
	va_end(ap);
}

static char *b64(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *out = malloc(cap);
	if (out)
		sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	return out;
}

/* A base64 value of the answer, decoded and NUL-terminated, or NULL. */
static char *unb64(const char *s, size_t *outlen)
{
	size_t n = strlen(s), got = 0;
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	if (sodium_base642bin((unsigned char *)out, n, s, n, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) < 0) {
		free(out);
		return NULL;
	}
	out[got] = '\0';
	if (outlen)
		*outlen = got;
	return out;
}

/* The answer's header: present, its cluster_id the same as every earlier answer's. */
static int trusted_header(struct client *cl, const char *ep, const cJSON *ans)
{
	const cJSON *hd = cJSON_GetObjectItemCaseSensitive(ans, "header");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(hd, "cluster_id");
	/* etcd's ids are uint64s, which the gateway writes as decimal strings. */
	if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) >= sizeof(cl->cluster) ||
	    strspn(id->valuestring, "0123456789") != strlen(id->valuestring)) {
		say(cl, ep, "an answer without the gateway's header (not etcd?)");
		return -EBADMSG;
	}
	if (!cl->cluster[0])
		snprintf(cl->cluster, sizeof(cl->cluster), "%s", id->valuestring);
	else if (strcmp(cl->cluster, id->valuestring)) {
		char q[ERRMSG_QUOTE_MAX + 8];
		errmsg_quote(q, sizeof(q), id->valuestring, strlen(id->valuestring));
		say(cl, ep, "answers from two clusters (cluster_id %s, then %s)", cl->cluster, q);
		return -EBADMSG;
	}
	return 0;
}

/* POST body to PATH of each endpoint in turn until one answers 200 with the gateway's
 * JSON. *ambiguous is set when an endpoint failed in a way that may have let the request
 * through (anything once connected). 0 and *ans, -EHOSTUNREACH, -EBADMSG, -ENOMEM. */
static int post(struct client *cl, const char *path, const char *body, cJSON **ans, bool *ambiguous)
{
	const struct etcd_conf *e = cl->e;
	char url[512];
	for (size_t t = 0; t < e->n_endpoints; t++) {
		size_t i = (cl->cur + t) % e->n_endpoints;
		const char *ep = e->endpoints[i];
		snprintf(url, sizeof(url), "%s%s", ep, path);
		free(cl->buf);
		cl->buf = NULL;
		cl->len = 0;
		cl->too_big = false;
		cu.setopt(cl->h, CURLOPT_URL, url);
		cu.setopt(cl->h, CURLOPT_POSTFIELDS, body);
		CURLcode cc = cu.perform(cl->h);
		long status = 0;
		cu.getinfo(cl->h, CURLINFO_RESPONSE_CODE, &status);
		if (cc != CURLE_OK) {
			if (cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST)
				*ambiguous = true;
			say(cl, ep, "%s", cl->too_big ? "an answer over 1 MiB" : cu.strerror(cc));
			continue;
		}
		*ambiguous = *ambiguous || status != 200;
		cJSON *j = cl->buf ? cJSON_ParseWithLength(cl->buf, cl->len) : NULL;
		if (status != 200) {
			/* The gateway's error body names the cause ("etcdserver: request timed out"),
			 * quoted: the server's words must not reach the terminal raw. */
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
			char q[ERRMSG_QUOTE_MAX + 8] = "";
			if (cJSON_IsString(m))
				errmsg_quote(q, sizeof(q), m->valuestring, strlen(m->valuestring));
			say(cl, ep, "HTTP %ld%s%s", status, q[0] ? ": " : "", q);
			cJSON_Delete(j);
			continue;
		}
		if (!cJSON_IsObject(j)) {
			say(cl, ep, "an answer that is not JSON");
			cJSON_Delete(j);
			return -EBADMSG;
		}
		int r = trusted_header(cl, ep, j);
		if (r) {
			cJSON_Delete(j);
			return r;
		}
		cl->cur = i;
		*ans = j;
		return 0;
	}
	return -EHOSTUNREACH;
}

/* Read key: 0 with *val (malloc'd, NULL when absent) and *mod (its mod_revision, 0
 * when absent), or -errno. */
static int get(struct client *cl, const char *key, char **val, char *mod, size_t modlen, bool *amb)
{
	char *k = b64(key, strlen(key));
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	char *body = NULL;
	int r = -ENOMEM;
	*val = NULL;
	snprintf(mod, modlen, "0");
	if (!k || !req || !cJSON_AddStringToObject(req, "key", k) || !(body = cJSON_PrintUnformatted(req)))
		goto out;
	if ((r = post(cl, "/v3/kv/range", body, &ans, amb)))
		goto out;
	const cJSON *kvs = cJSON_GetObjectItemCaseSensitive(ans, "kvs");
	r = 0;
	if (!kvs)   /* the gateway leaves out an empty list */
		goto out;
	const cJSON *kv = cJSON_GetArrayItem(kvs, 0);
	const cJSON *rk = cJSON_GetObjectItemCaseSensitive(kv, "key");
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(kv, "value");
	const cJSON *rm = cJSON_GetObjectItemCaseSensitive(kv, "mod_revision");
	r = -EBADMSG;
	if (!cJSON_IsArray(kvs) || cJSON_GetArraySize(kvs) != 1 || !cJSON_IsString(rk) ||
	    strcmp(rk->valuestring, k) || !cJSON_IsString(rm) || strlen(rm->valuestring) >= modlen) {
		say(cl, cl->e->endpoints[cl->cur], "a range answer that is not for %s", key);
		goto out;
	}
	snprintf(mod, modlen, "%s", rm->valuestring);
	/* An empty value is left out of the answer. */
	*val = cJSON_IsString(rv) ? unb64(rv->valuestring, NULL) : strdup("");
	if (!*val) {
		say(cl, cl->e->endpoints[cl->cur], "%s: a value that is not base64", key);
		goto out;
	}
	r = 0;
out:
	free(k);
	free(body);
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return r;
}

static cJSON *compare(const char *b64key, const char *target, const char *field, const char *rev)
{
	cJSON *c = cJSON_CreateObject();
	if (c && cJSON_AddStringToObject(c, "key", b64key) && cJSON_AddStringToObject(c, "target", target) &&
	    cJSON_AddStringToObject(c, "result", "EQUAL") && cJSON_AddStringToObject(c, field, rev))
		return c;
	cJSON_Delete(c);
	return NULL;
}

static cJSON *put(const char *key, const char *val)
{
	char *k = b64(key, strlen(key)), *v = b64(val, strlen(val));
	cJSON *op = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(op, "requestPut");
	if (!k || !v || !p || !cJSON_AddStringToObject(p, "key", k) || !cJSON_AddStringToObject(p, "value", v)) {
		cJSON_Delete(op);
		op = NULL;
	}
	free(k);
	free(v);
	return op;
}

/* The transaction: count unchanged since read (mod_revision, or never created) and no
 * record of run n yet → count = n and the record. 0 with *won, or -errno. */
static int txn(struct client *cl, const char *ckey, const char *cmod, const char *rkey, uint32_t n,
	       const char *record, bool *won, bool *amb)
{
	char *ck = b64(ckey, strlen(ckey)), *rk = b64(rkey, strlen(rkey)), num[16], *body = NULL;
	cJSON *req = cJSON_CreateObject(), *ans = NULL;
	cJSON *cmp = cJSON_AddArrayToObject(req, "compare"), *ok = cJSON_AddArrayToObject(req, "success");
	int r = -ENOMEM;
	snprintf(num, sizeof(num), "%" PRIu32, n);
	if (!ck || !rk || !cmp || !ok)
		goto out;
	cJSON *c1 = strcmp(cmod, "0") ? compare(ck, "MOD", "mod_revision", cmod)
				       : compare(ck, "CREATE", "create_revision", "0");
	cJSON *c2 = compare(rk, "CREATE", "create_revision", "0");
	cJSON *p1 = put(ckey, num), *p2 = put(rkey, record);
	if (c1) cJSON_AddItemToArray(cmp, c1);
	if (c2) cJSON_AddItemToArray(cmp, c2);
	if (p1) cJSON_AddItemToArray(ok, p1);
	if (p2) cJSON_AddItemToArray(ok, p2);
	if (!c1 || !c2 || !p1 || !p2 || !(body = cJSON_PrintUnformatted(req)))
		goto out;
	if ((r = post(cl, "/v3/kv/txn", body, &ans, amb)))
		goto out;
	/* "succeeded" is left out when false. */
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(ans, "succeeded");
	*won = cJSON_IsTrue(s);
	r = 0;
out:
	free(ck);
	free(rk);
	free(body);
	cJSON_Delete(req);
	cJSON_Delete(ans);
	return r;
}

/* Does the record of run n hold our nonce? 0 with *ours, or -errno. */
static int record_is_ours(struct client *cl, const char *rkey, const char *nonce, bool *ours)
{
	char *v = NULL, mod[32];
	bool amb = false;
	int r = get(cl, rkey, &v, mod, sizeof(mod), &amb);
	*ours = false;
	if (!r && v) {
		cJSON *j = cJSON_Parse(v);
		const cJSON *jn = cJSON_GetObjectItemCaseSensitive(j, "nonce");
		*ours = cJSON_IsString(jn) && !strcmp(jn->valuestring, nonce);
		cJSON_Delete(j);
	}
	free(v);
	return r;
}

static char *make_record(const char *host, uint32_t n, const char *nonce)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cJSON *j = cJSON_CreateObject();
	char *s = NULL;
	if (j && cJSON_AddStringToObject(j, "host", host) && cJSON_AddNumberToObject(j, "run", n) &&
	    cJSON_AddStringToObject(j, "time", when) && cJSON_AddStringToObject(j, "nonce", nonce))
		s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

/* Every option is checked: a libcurl that does not know one (too old for
 * CURLOPT_PROTOCOLS_STR, built without TLS) must fail the run, not run it with less. */
static int setup(struct client *cl, char *err, size_t errlen)
{
	const struct etcd_conf *e = cl->e;
	if (!(cl->h = cu.easy_init()))
		return errmsg(err, errlen, -ENOMEM, "group ledger: curl_easy_init failed");
	CURL *h = cl->h;
	CURLcode c = CURLE_OK;
#define SET(opt, v) do { if (c == CURLE_OK && (c = cu.setopt(h, opt, v)) != CURLE_OK) what = #opt; } while (0)
	const char *what = "";
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");           /* never an *_proxy of the environment */
	SET(CURLOPT_TIMEOUT_MS, (long)e->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)e->timeout_ms);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, (void *)cl);
	if (e->ca) {
		/* Only the cluster's CA: no CA directory or bundle of the system besides. */
		SET(CURLOPT_CAINFO, e->ca);
		SET(CURLOPT_CAPATH, (char *)NULL);
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (e->cert) {
		SET(CURLOPT_SSLCERT, e->cert);
		SET(CURLOPT_SSLKEY, e->key);
	}
#undef SET
	if (c != CURLE_OK)
		return errmsg(err, errlen, -ELIBACC, "group ledger: libcurl refuses %s: %s", what, cu.strerror(c));
	return 0;
}

/* The lease's count and its mod_revision: 0 with *k (0 when never counted), or -errno. */
static int read_count(struct client *cl, const char *ckey, uint32_t runs, uint64_t *k, char *mod, size_t modlen)
{
	char *v = NULL;
	bool amb = false;
	int r = get(cl, ckey, &v, mod, modlen, &amb);
	if (r)
		return r;
	*k = 0;
	bool bad = v && (!v[0] || strlen(v) > 10 || units_parse_u64(v, k) < 0);
	free(v);
	if (bad || *k > runs) {
		say(cl, cl->e->endpoints[cl->cur], "%s holds %s, not a count of at most %" PRIu32,
		    ckey, bad ? "something" : "more", runs);
		return -EBADMSG;
	}
	return 0;
}

static int consume(struct client *cl, const char *iss, const char *jti, uint32_t runs,
		   const char *host, const char *nonce, uint32_t *run_no)
{
	const struct etcd_conf *e = cl->e;
	char ckey[KEY_MAX], rkey[KEY_MAX], mod[32], last_mod[32] = "";
	uint32_t unanswered[GROUP_LEDGER_ROUNDS];
	size_t n_unanswered = 0;
	int r;

	snprintf(ckey, sizeof(ckey), "%s/leases/%s/%s/count", e->prefix, iss, jti);
	for (unsigned round = 0; round < GROUP_LEDGER_ROUNDS; round++) {
		uint64_t k = 0;
		bool amb = false;
		if ((r = read_count(cl, ckey, runs, &k, mod, sizeof(mod))))
			return r;
		/* A round of ours whose answer was lost may have gone through. */
		for (size_t i = 0; i < n_unanswered; i++) {
			if (unanswered[i] > k)
				continue;
			bool ours;
			snprintf(rkey, sizeof(rkey), "%s/leases/%s/%s/runs/%" PRIu32, e->prefix, iss, jti, unanswered[i]);
			if ((r = record_is_ours(cl, rkey, nonce, &ours)))
				return r;
			if (ours) {
				*run_no = unanswered[i];
				return 0;
			}
		}
		if (k >= runs)
			return -EALREADY;
		/* Lost the last round, yet the count did not move: the record of run k+1 is
		 * there while the count says it is not — a ledger nobody should trust. */
		if (!strcmp(mod, last_mod)) {
			say(cl, e->endpoints[cl->cur], "%s/leases/%s/%s/runs/%" PRIu64 " exists but the count is %" PRIu64,
			    e->prefix, iss, jti, k + 1, k);
			return -EBADMSG;
		}
		snprintf(rkey, sizeof(rkey), "%s/leases/%s/%s/runs/%" PRIu64, e->prefix, iss, jti, k + 1);
		char *rec = make_record(host, (uint32_t)k + 1, nonce);
		if (!rec)
			return -ENOMEM;
		bool won = false;
		amb = false;
		r = txn(cl, ckey, mod, rkey, (uint32_t)k + 1, rec, &won, &amb);
		free(rec);
		if (r == -EHOSTUNREACH && amb) {
			say(cl, e->endpoints[cl->cur], "run %" PRIu64 " may have been used without an answer", k + 1);
			return -EINPROGRESS;   /* the caller must not say the lease was not used */
		}
		if (r)
			return r;
		if (won) {
			*run_no = (uint32_t)k + 1;
			return 0;
		}
		if (amb)
			unanswered[n_unanswered++] = (uint32_t)k + 1;
		snprintf(last_mod, sizeof(last_mod), "%s", mod);
	}
	say(cl, e->endpoints[cl->cur], "%d rounds lost to other hosts", GROUP_LEDGER_ROUNDS);
	return -EBUSY;
}

/* The run records 1..count, each read for the nonce: a dead runner's run, if counted. */
static int find(struct client *cl, const char *iss, const char *jti, uint32_t runs, const char *nonce,
		uint32_t *run_no)
{
	const struct etcd_conf *e = cl->e;
	char ckey[KEY_MAX], rkey[KEY_MAX], mod[32];
	uint64_t k = 0;
	snprintf(ckey, sizeof(ckey), "%s/leases/%s/%s/count", e->prefix, iss, jti);
	int r = read_count(cl, ckey, runs, &k, mod, sizeof(mod));
	for (uint64_t n = 1; !r && n <= k; n++) {
		bool ours;
		snprintf(rkey, sizeof(rkey), "%s/leases/%s/%s/runs/%" PRIu64, e->prefix, iss, jti, n);
		if (!(r = record_is_ours(cl, rkey, nonce, &ours)) && ours) {
			*run_no = (uint32_t)n;
			return 0;
		}
	}
	return r ? r : -ENOENT;
}

int group_ledger_nonce(char out[GROUP_LEDGER_NONCE_LEN + 1])
{
	unsigned char raw[GROUP_LEDGER_NONCE_LEN / 2];
	if (sodium_init() < 0)
		return -ENOMEM;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, GROUP_LEDGER_NONCE_LEN + 1, raw, sizeof(raw));
	return 0;
}

static bool nonce_ok(const char *nonce)
{
	return nonce && strlen(nonce) == GROUP_LEDGER_NONCE_LEN &&
	       strspn(nonce, "0123456789abcdef") == GROUP_LEDGER_NONCE_LEN;
}

/* One client for one call: libcurl loaded, the handle set up, op run, all freed. */
static int with_client(const struct etcd_conf *e, char *err, size_t errlen,
		       int (*op)(struct client *, const void *), const void *arg)
{
	if (sodium_init() < 0)
		return errmsg(err, errlen, -ENOMEM, "group ledger: libsodium did not initialise");
	struct client cl = { .e = e, .err = err, .errlen = errlen };
	int r = load_libcurl(err, errlen);
	if (!r)
		r = setup(&cl, err, errlen);
	if (!r)
		r = op(&cl, arg);
	free(cl.buf);
	if (cl.h)
		cu.cleanup(cl.h);
	return r;
}

struct call {
	const char *iss, *jti, *host, *nonce;
	uint32_t runs, *run_no;
};

static int consume_op(struct client *cl, const void *arg)
{
	const struct call *c = arg;
	return consume(cl, c->iss, c->jti, c->runs, c->host, c->nonce, c->run_no);
}

static int find_op(struct client *cl, const void *arg)
{
	const struct call *c = arg;
	return find(cl, c->iss, c->jti, c->runs, c->nonce, c->run_no);
}

int group_ledger_consume(const struct etcd_conf *e, const char *iss, const char *jti,
			 uint32_t runs_allowed, const char *host, const char *nonce, uint32_t *run_no,
			 char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!e || !e->n_endpoints || !iss || !jti || !host || !run_no || !runs_allowed || !nonce_ok(nonce))
		return errmsg(err, errlen, -EINVAL, "group ledger: bad arguments");
	struct call c = { .iss = iss, .jti = jti, .host = host, .nonce = nonce, .runs = runs_allowed, .run_no = run_no };
	return with_client(e, err, errlen, consume_op, &c);
}

int group_ledger_find(const struct etcd_conf *e, const char *iss, const char *jti,
		      uint32_t runs_allowed, const char *nonce, uint32_t *run_no,
		      char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!e || !e->n_endpoints || !iss || !jti || !run_no || !runs_allowed || !nonce_ok(nonce))
		return errmsg(err, errlen, -EINVAL, "group ledger: bad arguments");
	struct call c = { .iss = iss, .jti = jti, .nonce = nonce, .runs = runs_allowed, .run_no = run_no };
	return with_client(e, err, errlen, find_op, &c);
}
