/* Capability matrix: a strict libyaml reader and the lease-fits-the-matrix check.
 *
 * The YAML is read with libyaml's event API into a small tree of our own, because the
 * document API expands aliases silently (billion laughs) and forgets where anchors were.
 * Every node keeps its line/column so each schema error can name "file:line:col: key.path".
 * Schema: docs/matrix.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "base/errmsg.h"
#include "base/fileio.h"
#include "policy/matrix.h"
#include "policy/pathpat.h"
#include "base/units.h"

/* A matrix is a page of policy; anything bigger is an attack on the parser. */
#define MATRIX_MAX_BYTES (1u << 20)
/* The schema is three levels deep; the caps bound recursion and work on hostile input
 * while leaving room far above what MATRIX_MAX_* allow (a full matrix is < 500 nodes). */
#define YN_MAX_DEPTH 16
#define YN_MAX_NODES 4096
#define KEYPATH_MAX 192
#define SHOW_MAX 64
#define NAME_MAX_LEN 64
#define CLOCK_SKEW_MAX_MS (3600ull * 1000)
#define PIDS_MAX 4194304ull   /* the kernel's PID_MAX_LIMIT */

extern const char calyx_shipped_matrix[];

/* ---- YAML tree ---------------------------------------------------------------------- */

enum yn_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct yn {
	enum yn_type type;
	size_t line, col;      /* 1-based */
	char *s;               /* scalar bytes, NUL-terminated (may hold NULs: checked on use) */
	size_t len;
	bool plain;            /* unquoted scalar: only these can be booleans, integers or null */
	struct yn **kid;       /* sequence items; mapping: key, value, key, value, ... */
	size_t n, cap;
};

struct ctx {
	const char *name;
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
	yaml_parser_t p;
	size_t nodes;
	char last[KEYPATH_MAX];  /* key path of the node read last: where a syntax error is */
};

static void yn_free(struct yn *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		yn_free(n->kid[i]);
	free(n->kid);
	free(n->s);
	free(n);
}

/* User text quoted in messages: bounded, control bytes replaced, so a hostile file
 * cannot write escape sequences to the operator's terminal. */
static void show(char *out, size_t outlen, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 4 < outlen && o < SHOW_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int errf(struct ctx *c, size_t line, size_t col, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int errf(struct ctx *c, size_t line, size_t col, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return errmsg(c->err, c->errlen, -EINVAL, "%s:%zu:%zu: %s: %s", c->name, line, col,
		      path && *path ? path : "(top level)", msg);
}

static int oom(struct ctx *c)
{
	return errmsg(c->err, c->errlen, -ENOMEM, "%s: out of memory", c->name);
}

static void pjoin(char out[KEYPATH_MAX], const char *parent, const char *key, size_t klen)
{
	char k[SHOW_MAX + 8];

	int n;

	show(k, sizeof k, key, klen);
	n = snprintf(out, KEYPATH_MAX, "%s%s%s", parent, *parent ? "." : "", k);
	if (n < 0 || n >= KEYPATH_MAX)  /* only at absurd depths; say it was cut */
		memcpy(out + KEYPATH_MAX - 4, "...", 4);
}

static void pidx(char out[KEYPATH_MAX], const char *parent, size_t i)
{
	int n = snprintf(out, KEYPATH_MAX, "%s[%zu]", parent, i);

	if (n < 0 || n >= KEYPATH_MAX)
		memcpy(out + KEYPATH_MAX - 4, "...", 4);
}

static int yaml_fail(struct ctx *c, const char *path)
{
	size_t line = c->p.problem_mark.line + 1, col = c->p.problem_mark.column + 1;
	const char *prob = c->p.problem ? c->p.problem : "unknown error";

	if (c->p.error == YAML_MEMORY_ERROR)
		return oom(c);
	if (c->p.error == YAML_READER_ERROR) {
		/* Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark. */
		size_t off = c->p.problem_offset < c->len ? c->p.problem_offset : c->len;
		line = 1;
		col = 1;
		for (size_t i = 0; i < off; i++) {
			if (c->buf[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		/* The reader runs ahead of the parser: no key path is known for these. */
		return errmsg(c->err, c->errlen, -EINVAL,
			      "%s:%zu:%zu: YAML syntax error: %s", c->name, line, col, prob);
	}
	if (c->p.context)
		return errf(c, line, col, path, "YAML syntax error: %s (%s at line %zu)", prob,
			    c->p.context, (size_t)c->p.context_mark.line + 1);
	return errf(c, line, col, path, "YAML syntax error: %s", prob);
}

static int next_event(struct ctx *c, yaml_event_t *e)
{
	if (!yaml_parser_parse(&c->p, e))
		return yaml_fail(c, c->last);
	return 0;
}

static struct yn *yn_new(struct ctx *c, struct yn *parent, enum yn_type t, const yaml_mark_t *mk)
{
	struct yn *n;

	if (parent && parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct yn **k = realloc(parent->kid, cap * sizeof *k);
		if (!k)
			return NULL;
		parent->kid = k;
		parent->cap = cap;
	}
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->type = t;
	n->line = mk->line + 1;
	n->col = mk->column + 1;
	if (parent)
		parent->kid[parent->n++] = n;
	c->nodes++;
	return n;
}

static int refuse_props(struct ctx *c, const yaml_event_t *e, const char *path,
			const yaml_char_t *anchor, const yaml_char_t *tag)
{
	size_t line = e->start_mark.line + 1, col = e->start_mark.column + 1;

	if (anchor)
		return errf(c, line, col, path, "anchors and aliases are not allowed");
	if (tag)
		return errf(c, line, col, path, "YAML tags are not allowed");
	return 0;
}

/* Build the node that starts with event e (owned by the caller) under parent (or into
 * *root). The node is linked in before it is filled, so on error the caller frees one tree. */
static int build(struct ctx *c, const yaml_event_t *e, const char *path, int depth,
		 struct yn *parent, struct yn **root)
{
	char cp[KEYPATH_MAX];
	struct yn *n;
	int r;

	snprintf(c->last, sizeof c->last, "%s", path);
	if (c->nodes >= YN_MAX_NODES)
		return errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "too many YAML nodes (at most %d)", YN_MAX_NODES);
	switch (e->type) {
	case YAML_ALIAS_EVENT:
		return errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "anchors and aliases are not allowed");
	case YAML_SCALAR_EVENT:
		r = refuse_props(c, e, path, e->data.scalar.anchor, e->data.scalar.tag);
		if (r)
			return r;
		n = yn_new(c, parent, YN_SCALAR, &e->start_mark);
		if (!n)
			return oom(c);
		if (!parent)
			*root = n;
		n->len = e->data.scalar.length;
		n->s = malloc(n->len + 1);
		if (!n->s)
			return oom(c);
		memcpy(n->s, e->data.scalar.value, n->len);
		n->s[n->len] = '\0';
		n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		return errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "unexpected YAML event");
	}

	if (depth >= YN_MAX_DEPTH)
		return errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "nested deeper than %d levels", YN_MAX_DEPTH);
	if (e->type == YAML_SEQUENCE_START_EVENT)
		r = refuse_props(c, e, path, e->data.sequence_start.anchor, e->data.sequence_start.tag);
	else
		r = refuse_props(c, e, path, e->data.mapping_start.anchor, e->data.mapping_start.tag);
	if (r)
		return r;
	n = yn_new(c, parent, e->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP, &e->start_mark);
	if (!n)
		return oom(c);
	if (!parent)
		*root = n;

	for (;;) {
		yaml_event_t k;

		r = next_event(c, &k);
		if (r)
			return r;
		if (k.type == YAML_SEQUENCE_END_EVENT || k.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&k);
			return 0;
		}
		if (n->type == YN_SEQ) {
			pidx(cp, path, n->n);
			r = build(c, &k, cp, depth + 1, n, root);
			yaml_event_delete(&k);
			if (r)
				return r;
			continue;
		}

		/* Mapping: the key must be a scalar, unique in this mapping. */
		if (k.type != YAML_SCALAR_EVENT && k.type != YAML_ALIAS_EVENT) {
			r = errf(c, k.start_mark.line + 1, k.start_mark.column + 1, path,
				 "mapping keys must be strings");
			yaml_event_delete(&k);
			return r;
		}
		pjoin(cp, path, k.type == YAML_SCALAR_EVENT ? (const char *)k.data.scalar.value : "",
		      k.type == YAML_SCALAR_EVENT ? k.data.scalar.length : 0);
		r = build(c, &k, cp, depth + 1, n, root);
		yaml_event_delete(&k);
		if (r)
			return r;
		{
			const struct yn *key = n->kid[n->n - 1];
			for (size_t i = 0; i + 1 < n->n; i += 2) {
				const struct yn *o = n->kid[i];
				if (o->len == key->len && !memcmp(o->s, key->s, key->len))
					return errf(c, key->line, key->col, cp,
						    "duplicate key (first at line %zu)", o->line);
			}
		}

		yaml_event_t v;
		r = next_event(c, &v);
		if (r)
			return r;
		r = build(c, &v, cp, depth + 1, n, root);
		yaml_event_delete(&v);
		if (r)
			return r;
	}
}

/* Parse the whole buffer into one tree: exactly one document, no aliases. */
static int parse_tree(struct ctx *c, struct yn **root)
{
	yaml_event_t e;
	int r;

	*root = NULL;
	r = next_event(c, &e);
	if (r)
		return r;
	yaml_event_delete(&e); /* STREAM_START */
	r = next_event(c, &e);
	if (r)
		return r;
	if (e.type != YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&e);
		return errf(c, 1, 1, "", "the matrix is empty");
	}
	yaml_event_delete(&e);
	r = next_event(c, &e);
	if (r)
		return r;
	r = build(c, &e, "", 0, NULL, root);
	yaml_event_delete(&e);
	if (r)
		return r;
	r = next_event(c, &e); /* DOCUMENT_END */
	if (r)
		return r;
	yaml_event_delete(&e);
	r = next_event(c, &e);
	if (r)
		return r;
	if (e.type != YAML_STREAM_END_EVENT) {
		r = errf(c, e.start_mark.line + 1, e.start_mark.column + 1, "",
			 "only one YAML document is allowed");
		yaml_event_delete(&e);
		return r;
	}
	yaml_event_delete(&e);
	return 0;
}

/* ---- schema helpers ------------------------------------------------------------------ */

static bool yn_is_null(const struct yn *n)
{
	return n->type == YN_SCALAR && n->plain &&
	       (n->len == 0 || !strcmp(n->s, "~") || !strcmp(n->s, "null") ||
		!strcmp(n->s, "Null") || !strcmp(n->s, "NULL"));
}

static const char *yn_kind(const struct yn *n)
{
	if (n->type == YN_MAP)
		return "a mapping";
	if (n->type == YN_SEQ)
		return "a sequence";
	return yn_is_null(n) ? "nothing (null)" : "a scalar";
}

static int want(struct ctx *c, const struct yn *n, const char *path, enum yn_type t)
{
	static const char *const names[] = { "a scalar", "a sequence", "a mapping" };

	if (n->type == t && !(t == YN_SCALAR && yn_is_null(n)))
		return 0;
	if (t == YN_SEQ && yn_is_null(n))
		return errf(c, n->line, n->col, path, "expected a sequence (write [] for none), got %s",
			    yn_kind(n));
	if (t == YN_MAP && yn_is_null(n))
		return errf(c, n->line, n->col, path, "expected a mapping (write {} for none), got %s",
			    yn_kind(n));
	return errf(c, n->line, n->col, path, "expected %s, got %s", names[t], yn_kind(n));
}

static const struct yn *map_get(const struct yn *m, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kid[i]->len == kl && !memcmp(m->kid[i]->s, key, kl))
			return m->kid[i + 1];
	return NULL;
}

/* Every key of every matrix mapping is required: a policy that silently falls back to a
 * default is a policy nobody wrote. */
static int check_keys(struct ctx *c, const struct yn *m, const char *path,
		      const char *const *keys, size_t nkeys)
{
	char cp[KEYPATH_MAX];

	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct yn *k = m->kid[i];
		bool known = false;
		for (size_t j = 0; j < nkeys && !known; j++)
			known = k->len == strlen(keys[j]) && !memcmp(k->s, keys[j], k->len);
		if (!known) {
			pjoin(cp, path, k->s, k->len);
			return errf(c, k->line, k->col, cp, "unknown key");
		}
	}
	for (size_t j = 0; j < nkeys; j++) {
		if (!map_get(m, keys[j])) {
			pjoin(cp, path, keys[j], strlen(keys[j]));
			return errf(c, m->line, m->col, cp, "missing required key");
		}
	}
	return 0;
}

static int want_str(struct ctx *c, const struct yn *n, const char *path, const char **out)
{
	int r = want(c, n, path, YN_SCALAR);

	if (r)
		return r;
	if (strlen(n->s) != n->len)
		return errf(c, n->line, n->col, path, "contains a NUL byte");
	*out = n->s;
	return 0;
}

static int want_bool(struct ctx *c, const struct yn *n, const char *path, bool *out)
{
	char v[SHOW_MAX + 8];
	int r = want(c, n, path, YN_SCALAR);

	if (r)
		return r;
	/* Only the two YAML 1.2 spellings: "yes"/"on"/"True" are how configs get misread. */
	if (n->plain && !strcmp(n->s, "true") && n->len == 4) {
		*out = true;
		return 0;
	}
	if (n->plain && !strcmp(n->s, "false") && n->len == 5) {
		*out = false;
		return 0;
	}
	show(v, sizeof v, n->s, n->len);
	return errf(c, n->line, n->col, path, "expected true or false, got '%s'", v);
}

static int want_uint(struct ctx *c, const struct yn *n, const char *path, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	char v[SHOW_MAX + 8];
	uint64_t x = 0;
	int r = want(c, n, path, YN_SCALAR);

	if (r)
		return r;
	show(v, sizeof v, n->s, n->len);
	/* Plain decimal only: "010", "0x10", "1_000", "+1" and quoted numbers are refused. */
	if (!n->plain || strlen(n->s) != n->len || (n->len > 1 && n->s[0] == '0') ||
	    units_parse_u64(n->s, &x) < 0)
		return errf(c, n->line, n->col, path, "expected an integer, got '%s'", v);
	if (x < min || x > max)
		return errf(c, n->line, n->col, path, "%" PRIu64 " is out of range %" PRIu64 "..%" PRIu64,
			    x, min, max);
	*out = x;
	return 0;
}

static int want_duration(struct ctx *c, const struct yn *n, const char *path, uint64_t *ms)
{
	char v[SHOW_MAX + 8];
	const char *s;
	int r = want_str(c, n, path, &s);

	if (r)
		return r;
	r = units_parse_duration_ms(s, ms);
	if (r) {
		show(v, sizeof v, n->s, n->len);
		return errf(c, n->line, n->col, path, "%s duration '%s'",
			    r == -ERANGE ? "too large a" : "bad", v);
	}
	return 0;
}

static int want_size(struct ctx *c, const struct yn *n, const char *path, uint64_t *bytes)
{
	char v[SHOW_MAX + 8];
	const char *s;
	int r = want_str(c, n, path, &s);

	if (r)
		return r;
	show(v, sizeof v, n->s, n->len);
	r = units_parse_size(s, bytes);
	if (r)
		return errf(c, n->line, n->col, path, "%s size '%s'",
			    r == -ERANGE ? "too large a" : "bad", v);
	if (*bytes == 0)
		return errf(c, n->line, n->col, path, "size must be above zero, got '%s'", v);
	return 0;
}

/* Key and root names: what fits in a repo:// URI and a log line without quoting. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
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

/* ---- the schema ---------------------------------------------------------------------- */

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

static int load_keys(struct ctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "name", "public" };
	char cp[KEYPATH_MAX], fp[KEYPATH_MAX];
	int r = want(c, n, "trusted_keys", YN_SEQ);

	if (r)
		return r;
	if (n->n > MATRIX_MAX_KEYS)
		return errf(c, n->line, n->col, "trusted_keys", "too many keys (at most %d)",
			    MATRIX_MAX_KEYS);
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		const char *name, *pub;
		uint8_t pk[PASERK_PK_BYTES];

		pidx(cp, "trusted_keys", i);
		if ((r = want(c, e, cp, YN_MAP)) || (r = check_keys(c, e, cp, keys, 2)))
			return r;
		pjoin(fp, cp, "name", 4);
		if ((r = want_str(c, map_get(e, "name"), fp, &name)))
			return r;
		if (!name_ok(name))
			return errf(c, map_get(e, "name")->line, map_get(e, "name")->col, fp,
				    "key names are 1-%d characters of A-Z a-z 0-9 . _ -", NAME_MAX_LEN);
		for (size_t j = 0; j < m->n_keys; j++)
			if (!strcmp(m->keys[j].name, name))
				return errf(c, map_get(e, "name")->line, map_get(e, "name")->col, fp,
					    "duplicate key name '%s' (also trusted_keys[%zu])", name, j);
		pjoin(fp, cp, "public", 6);
		if ((r = want_str(c, map_get(e, "public"), fp, &pub)))
			return r;
		if (paserk_k4_public_decode(pub, pk))
			return errf(c, map_get(e, "public")->line, map_get(e, "public")->col, fp,
				    "not a PASERK k4.public key");
		for (size_t j = 0; j < m->n_keys; j++)
			if (!memcmp(m->keys[j].pk, pk, PASERK_PK_BYTES))
				return errf(c, map_get(e, "public")->line, map_get(e, "public")->col, fp,
					    "same key as trusted_keys[%zu]", j);
		r = add_key(m, name, pk);
		if (r)
			return oom(c);
	}
	return 0;
}

static int load_roots(struct ctx *c, const struct yn *n, struct matrix *m)
{
	char cp[KEYPATH_MAX];
	int r = want(c, n, "roots", YN_MAP);

	if (r)
		return r;
	if (n->n / 2 > MATRIX_MAX_ROOTS)
		return errf(c, n->line, n->col, "roots", "too many roots (at most %d)", MATRIX_MAX_ROOTS);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct yn *k = n->kid[i], *v = n->kid[i + 1];
		const char *dir, *why;
		char *d;

		pjoin(cp, "roots", k->s, k->len);
		if (strlen(k->s) != k->len || !root_name_ok(k->s))
			return errf(c, k->line, k->col, cp,
				    "root names are 1-%d characters of a-z 0-9 _ - (as in repo://NAME/)",
				    NAME_MAX_LEN);
		if ((r = want_str(c, v, cp, &dir)))
			return r;
		d = strdup(dir);
		if (!d)
			return oom(c);
		why = root_dir_problem(d);
		if (why) {
			free(d);
			return errf(c, v->line, v->col, cp, "root directory %s", why);
		}
		m->roots[m->n_roots].name = strdup(k->s);
		m->roots[m->n_roots].dir = d;
		m->n_roots++;
		if (!m->roots[m->n_roots - 1].name)
			return oom(c);
	}
	return 0;
}

static int load_baseline(struct ctx *c, const struct yn *n, struct matrix *m)
{
	char cp[KEYPATH_MAX], perr[160];
	int r = want(c, n, "runtime_baseline", YN_SEQ);

	if (r)
		return r;
	if (n->n > MATRIX_MAX_BASELINE)
		return errf(c, n->line, n->col, "runtime_baseline", "too many patterns (at most %d)",
			    MATRIX_MAX_BASELINE);
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		struct pathpat pp;
		const char *s;

		pidx(cp, "runtime_baseline", i);
		if ((r = want_str(c, e, cp, &s)))
			return r;
		if (strncmp(s, "/", 1))
			return errf(c, e->line, e->col, cp,
				    "runtime baseline patterns must be absolute paths");
		if (ends_with(s, ":ro") || ends_with(s, ":rw"))
			return errf(c, e->line, e->col, cp,
				    "the runtime baseline is always read-only: drop the access suffix");
		perr[0] = '\0';
		if (pathpat_parse(s, NULL, NULL, &pp, perr, sizeof perr))
			return errf(c, e->line, e->col, cp, "bad pattern: %s", perr);
		m->baseline[m->n_baseline] = strdup(s);
		if (!m->baseline[m->n_baseline])
			return oom(c);
		m->n_baseline++;
	}
	return 0;
}

static int load_bounds(struct ctx *c, const struct yn *n, struct matrix *m)
{
	char cp[KEYPATH_MAX], perr[160];
	int r = want(c, n, "lease_paths", YN_SEQ);

	if (r)
		return r;
	if (n->n > MATRIX_MAX_BOUNDS)
		return errf(c, n->line, n->col, "lease_paths", "too many bounds (at most %d)",
			    MATRIX_MAX_BOUNDS);
	for (size_t i = 0; i < n->n; i++) {
		const struct yn *e = n->kid[i];
		struct pathpat pp;
		const char *s;
		char *pat = NULL;
		int rw = 0;

		pidx(cp, "lease_paths", i);
		if ((r = want_str(c, e, cp, &s)))
			return r;
		perr[0] = '\0';
		if (pathpat_split_access(s, &pat, &rw, perr, sizeof perr)) {
			free(pat);
			return errf(c, e->line, e->col, cp, "bad pattern: %s", perr);
		}
		perr[0] = '\0';
		r = pathpat_parse(pat, matrix_root_lookup, m, &pp, perr, sizeof perr);
		if (r) {
			free(pat);
			return errf(c, e->line, e->col, cp, "%s: %s",
				    r == -ENOENT ? "unknown root (not in roots)" : "bad pattern", perr);
		}
		m->bounds[m->n_bounds].pattern = pat;
		m->bounds[m->n_bounds].access = rw ? ACCESS_RW : ACCESS_RO;
		m->n_bounds++;
	}
	return 0;
}

static void format_limit(enum limit_kind k, uint64_t v, char *buf, size_t len)
{
	switch (k) {
	case LIMIT_CPU:
	case LIMIT_WALL:
		units_format_duration(v, buf, len);
		break;
	case LIMIT_MEM:
	case LIMIT_OUTPUT:
		units_format_size(v, buf, len);
		break;
	default:
		snprintf(buf, len, "%" PRIu64, v);
		break;
	}
}

static int load_limit_set(struct ctx *c, const struct yn *n, const char *path, struct limits *l)
{
	const char *keys[LIMIT_COUNT];
	char cp[KEYPATH_MAX];
	int r;

	for (int k = 0; k < LIMIT_COUNT; k++)
		keys[k] = limit_name((enum limit_kind)k);
	if ((r = want(c, n, path, YN_MAP)) || (r = check_keys(c, n, path, keys, LIMIT_COUNT)))
		return r;
	memset(l, 0, sizeof *l);
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct yn *v = n->kid[i + 1];
		int k = limit_from_name(n->kid[i]->s);

		pjoin(cp, path, n->kid[i]->s, n->kid[i]->len);
		if (k < 0)  /* check_keys knows the same names: cannot happen */
			return errf(c, n->kid[i]->line, n->kid[i]->col, cp, "unknown key");
		switch ((enum limit_kind)k) {
		case LIMIT_CPU:
		case LIMIT_WALL:
			r = want_duration(c, v, cp, &l->v[k]);
			break;
		case LIMIT_MEM:
		case LIMIT_OUTPUT:
			r = want_size(c, v, cp, &l->v[k]);
			break;
		default:
			r = want_uint(c, v, cp, 1, PIDS_MAX, &l->v[k]);
			break;
		}
		if (r)
			return r;
		l->set[k] = true;
	}
	return 0;
}

static int load_limits(struct ctx *c, const struct yn *n, struct matrix *m)
{
	static const char *const keys[] = { "default", "max" };
	int r;

	if ((r = want(c, n, "limits", YN_MAP)) || (r = check_keys(c, n, "limits", keys, 2)) ||
	    (r = load_limit_set(c, map_get(n, "default"), "limits.default", &m->default_limits)) ||
	    (r = load_limit_set(c, map_get(n, "max"), "limits.max", &m->max_limits)))
		return r;
	for (int k = 0; k < LIMIT_COUNT; k++) {
		if (m->default_limits.v[k] > m->max_limits.v[k]) {
			const struct yn *d = map_get(map_get(n, "default"), limit_name((enum limit_kind)k));
			char cp[KEYPATH_MAX], a[32], b[32];
			pjoin(cp, "limits.default", limit_name((enum limit_kind)k),
			      strlen(limit_name((enum limit_kind)k)));
			format_limit((enum limit_kind)k, m->default_limits.v[k], a, sizeof a);
			format_limit((enum limit_kind)k, m->max_limits.v[k], b, sizeof b);
			return errf(c, d->line, d->col, cp, "default %s exceeds limits.max.%s %s", a,
				    limit_name((enum limit_kind)k), b);
		}
	}
	return 0;
}

static int load_tree(struct ctx *c, const struct yn *root, struct matrix *m)
{
	static const char *const top[] = {
		"version", "capabilities", "max_lease_ttl", "max_runs", "clock_skew",
		"trusted_keys", "roots", "runtime_baseline", "lease_paths", "limits",
		"run_as", "network", "enforcement",
	};
	static const char *const caps[] = { "exec_staging_with_lease" };
	static const char *const ids[] = { "uid", "gid" };
	const struct yn *n;
	const char *s;
	uint64_t v;
	int r;

	if ((r = want(c, root, "", YN_MAP)))
		return r;
	/* Version first: a newer file should say so, not trip over keys this reader lacks. */
	n = map_get(root, "version");
	if (!n)
		return errf(c, root->line, root->col, "version", "missing required key");
	if ((r = want_uint(c, n, "version", 0, UINT64_MAX, &v)))
		return r;
	if (v != 1)
		return errf(c, n->line, n->col, "version",
			    "unsupported version %" PRIu64 " (this calyx reads version 1)", v);
	if ((r = check_keys(c, root, "", top, sizeof top / sizeof top[0])))
		return r;

	n = map_get(root, "capabilities");
	if ((r = want(c, n, "capabilities", YN_MAP)) ||
	    (r = check_keys(c, n, "capabilities", caps, 1)) ||
	    (r = want_bool(c, map_get(n, "exec_staging_with_lease"),
			   "capabilities.exec_staging_with_lease", &m->exec_staging_with_lease)))
		return r;

	if ((r = want_duration(c, map_get(root, "max_lease_ttl"), "max_lease_ttl", &m->max_lease_ttl_ms)))
		return r;
	if ((r = want_uint(c, map_get(root, "max_runs"), "max_runs", 1, LEASE_MAX_RUNS, &v)))
		return r;
	m->max_runs = (uint32_t)v;
	n = map_get(root, "clock_skew");
	if ((r = want_duration(c, n, "clock_skew", &m->clock_skew_ms)))
		return r;
	if (m->clock_skew_ms > CLOCK_SKEW_MAX_MS)
		return errf(c, n->line, n->col, "clock_skew", "at most 1h");

	if ((r = load_keys(c, map_get(root, "trusted_keys"), m)) ||
	    (r = load_roots(c, map_get(root, "roots"), m)) ||
	    (r = load_baseline(c, map_get(root, "runtime_baseline"), m)) ||
	    (r = load_bounds(c, map_get(root, "lease_paths"), m)) ||
	    (r = load_limits(c, map_get(root, "limits"), m)))
		return r;

	n = map_get(root, "run_as");
	if ((r = want(c, n, "run_as", YN_MAP)) || (r = check_keys(c, n, "run_as", ids, 2)))
		return r;
	/* (uid_t)-1 means "leave unchanged" to setresuid(): never a valid target. */
	if ((r = want_uint(c, map_get(n, "uid"), "run_as.uid", 0, UINT32_MAX - 1, &v)))
		return r;
	m->run_as_uid = (uid_t)v;
	if ((r = want_uint(c, map_get(n, "gid"), "run_as.gid", 0, UINT32_MAX - 1, &v)))
		return r;
	m->run_as_gid = (gid_t)v;

	n = map_get(root, "network");
	if ((r = want_str(c, n, "network", &s)))
		return r;
	if (strcmp(s, "deny_all")) {
		char sh[SHOW_MAX + 8];
		show(sh, sizeof sh, n->s, n->len);
		return errf(c, n->line, n->col, "network",
			    "unknown network policy '%s' (only deny_all is supported)", sh);
	}
	m->network = NET_DENY_ALL;

	n = map_get(root, "enforcement");
	if ((r = want_str(c, n, "enforcement", &s)))
		return r;
	r = enforce_backend_from_name(s);
	if (r < 0) {
		char sh[SHOW_MAX + 8];
		show(sh, sizeof sh, n->s, n->len);
		return errf(c, n->line, n->col, "enforcement",
			    "unknown backend '%s' (auto, bpf-lsm or landlock)", sh);
	}
	m->enforcement = (enum enforce_backend)r;
	return 0;
}

/* ---- public API ---------------------------------------------------------------------- */

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
	memset(m, 0, sizeof *m);
}

int matrix_load_buffer(const char *name, const char *buf, size_t len, struct matrix *m,
		       char *err, size_t errlen)
{
	struct ctx c = { .name = name ? name : "<matrix>", .buf = buf, .len = len,
			 .err = err, .errlen = errlen };
	struct yn *root = NULL;
	int r;

	memset(m, 0, sizeof *m);
	if (err && errlen)
		err[0] = '\0';
	if (!buf && len)
		return errmsg(err, errlen, -EINVAL, "%s: no buffer", c.name);
	if (len > MATRIX_MAX_BYTES)
		return errmsg(err, errlen, -EINVAL,
			      "%s: the matrix is larger than 1 MiB (%zu bytes)", c.name, len);
	if (!yaml_parser_initialize(&c.p))
		return oom(&c);
	yaml_parser_set_input_string(&c.p, (const unsigned char *)(buf ? buf : ""), len);
	yaml_parser_set_encoding(&c.p, YAML_UTF8_ENCODING);
	m->source = strdup(c.name);
	if (!m->source)
		r = oom(&c);
	else
		r = parse_tree(&c, &root);
	if (!r)
		r = load_tree(&c, root, m);
	yn_free(root);
	yaml_parser_delete(&c.p);
	if (r)
		matrix_free(m);
	return r;
}

int matrix_load_file(const char *path, struct matrix *m, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd, r, e;

	memset(m, 0, sizeof *m);
	/* O_NONBLOCK: a FIFO planted where the matrix should be must not hang us in open(). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		return errmsg(err, errlen, -EIO, "%s: cannot open: %s", path, strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errmsg(err, errlen, -EIO, "%s: not a regular file", path);
	}
	/* Refuse before reading: a huge file must not cost memory. */
	if (st.st_size > (off_t)MATRIX_MAX_BYTES) {
		close(fd);
		return errmsg(err, errlen, -EINVAL, "%s: the matrix is larger than 1 MiB (%lld bytes)", path,
			      (long long)st.st_size);
	}
	buf = malloc(MATRIX_MAX_BYTES + 1);
	if (!buf) {
		close(fd);
		return errmsg(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	n = fileio_read_all(fd, buf, MATRIX_MAX_BYTES + 1);
	close(fd);
	if (n < 0) {
		free(buf);
		if (n == -EFBIG)   /* it grew past the limit after fstat */
			return errmsg(err, errlen, -EINVAL, "%s: the matrix is larger than 1 MiB", path);
		return errmsg(err, errlen, -EIO, "%s: cannot read: %s", path, strerror((int)-n));
	}
	r = matrix_load_buffer(path, buf, (size_t)n, m, err, errlen);
	free(buf);
	return r;
}

int matrix_load_shipped(struct matrix *m, char *err, size_t errlen)
{
	return matrix_load_buffer("<shipped>", calyx_shipped_matrix, strlen(calyx_shipped_matrix),
				  m, err, errlen);
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

static int check_path(const struct matrix *m, const struct lease_path *lp, size_t i, char *err,
		      size_t errlen)
{
	char perr[160], shown[SHOW_MAX + 8];
	struct pathpat lpp;
	int r, weaker = -1;

	show(shown, sizeof shown, lp->pattern ? lp->pattern : "", lp->pattern ? strlen(lp->pattern) : 0);
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
	return errmsg(err, errlen, -EPERM,
		      "claim 'paths[%zu]' (%s) is outside every lease_paths bound", i, shown);
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
		if (!l->limits.set[k] || l->limits.v[k] <= m->max_limits.v[k])
			continue;
		format_limit((enum limit_kind)k, l->limits.v[k], a, sizeof a);
		format_limit((enum limit_kind)k, m->max_limits.v[k], b, sizeof b);
		return errmsg(err, errlen, -EPERM,
			      "claim 'limits.%s' = %s exceeds the matrix maximum %s (limits.max.%s)",
			      limit_claim_name((enum limit_kind)k), a, b, limit_name((enum limit_kind)k));
	}
	/* deny_all is the only policy either side can name today; anything else is refused. */
	if (l->network != NET_DENY_ALL || m->network != NET_DENY_ALL)
		return errmsg(err, errlen, -EPERM,
			      "claim 'network' = %d is not allowed by the matrix (network: deny_all)",
			      (int)l->network);
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
		out->set[k] = true;
		out->v[k] = l && l->limits.set[k] ? l->limits.v[k] : m->default_limits.v[k];
	}
}
