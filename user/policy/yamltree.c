/* The strict YAML reader: see yamltree.h. */
#include "policy/yamltree.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/units.h"

/* The schema is three levels deep; the caps bound recursion and work on hostile input
 * while leaving room far above what MATRIX_MAX_* allow (a full matrix is < 500 nodes). */
#define YN_MAX_DEPTH 16
#define YN_MAX_NODES 4096

int yt_open(struct yctx *c, const char *name, const char *buf, size_t len, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->buf = buf;
	c->len = len;
	c->err = err;
	c->errlen = errlen;
	if (!yaml_parser_initialize(&c->p))
		return yt_oom(c);
	yaml_parser_set_input_string(&c->p, (const unsigned char *)(buf ? buf : ""), len);
	yaml_parser_set_encoding(&c->p, YAML_UTF8_ENCODING);
	return 0;
}

void yt_close(struct yctx *c)
{
	yaml_parser_delete(&c->p);
}

void yn_free(struct yn *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		yn_free(n->kid[i]);
	free(n->kid);
	free(n->s);
	free(n);
}

int yt_errf(struct yctx *c, size_t line, size_t col, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return errmsg(c->err, c->errlen, -EINVAL, "%s:%zu:%zu: %s: %s", c->name, line, col,
		      path && *path ? path : "(top level)", msg);
}

int yt_oom(struct yctx *c)
{
	return errmsg(c->err, c->errlen, -ENOMEM, "%s: out of memory", c->name);
}

void yt_pjoin(char out[KEYPATH_MAX], const char *parent, const char *key, size_t klen)
{
	char k[ERRMSG_QUOTE_MAX + 8];

	int n;

	errmsg_quote(k, sizeof k, key, klen);
	n = snprintf(out, KEYPATH_MAX, "%s%s%s", parent, *parent ? "." : "", k);
	if (n < 0 || n >= KEYPATH_MAX)  /* only at absurd depths; say it was cut */
		memcpy(out + KEYPATH_MAX - 4, "...", 4);
}

void yt_pidx(char out[KEYPATH_MAX], const char *parent, size_t i)
{
	int n = snprintf(out, KEYPATH_MAX, "%s[%zu]", parent, i);

	if (n < 0 || n >= KEYPATH_MAX)
		memcpy(out + KEYPATH_MAX - 4, "...", 4);
}

/* The column (1-based) where line's first character other than a space is, or 0 for a
 * line that is blank or a comment: what a mis-indented key is told by. */
static size_t line_indent(const struct yctx *c, size_t line)
{
	size_t at = 0, l = 1;
	while (l < line && at < c->len) {
		if (c->buf[at++] == '\n')
			l++;
	}
	if (l != line)
		return 0;
	size_t col = 1;
	while (at < c->len && c->buf[at] == ' ') {
		at++;
		col++;
	}
	if (at >= c->len || c->buf[at] == '\n' || c->buf[at] == '\r' || c->buf[at] == '#')
		return 0;
	return col;
}

/* libyaml's two messages for a key out of line with its siblings ("mapping values are
 * not allowed in this context", "did not find expected key") say nothing of indentation:
 * say what the lines' indentation is, so the operator sees the misplaced key. */
static void indent_hint(const struct yctx *c, size_t line, char *out, size_t outlen)
{
	out[0] = '\0';
	const char *prob = c->p.problem ? c->p.problem : "";
	if (strcmp(prob, "mapping values are not allowed in this context") &&
	    strcmp(prob, "did not find expected key"))
		return;
	size_t here = line_indent(c, line), before = 0, bl = line;
	while (bl > 1 && !(before = line_indent(c, --bl)))
		;
	if (!here || !before || here == before)   /* lined up: the problem is not indentation */
		return;
	snprintf(out, outlen, "; a mis-indented key? line %zu starts at column %zu, line %zu at column %zu",
		 line, here, bl, before);
}

static int yaml_fail(struct yctx *c, const char *path)
{
	size_t line = c->p.problem_mark.line + 1, col = c->p.problem_mark.column + 1;
	const char *prob = c->p.problem ? c->p.problem : "unknown error";

	if (c->p.error == YAML_MEMORY_ERROR)
		return yt_oom(c);
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
	char hint[160];
	indent_hint(c, line, hint, sizeof(hint));
	if (c->p.context)
		return yt_errf(c, line, col, path, "YAML syntax error: %s (%s at line %zu)%s", prob,
			    c->p.context, (size_t)c->p.context_mark.line + 1, hint);
	return yt_errf(c, line, col, path, "YAML syntax error: %s%s", prob, hint);
}

static int next_event(struct yctx *c, yaml_event_t *e)
{
	if (!yaml_parser_parse(&c->p, e))
		return yaml_fail(c, c->last);
	return 0;
}

static struct yn *yn_new(struct yctx *c, struct yn *parent, enum yn_type t, const yaml_mark_t *mk)
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

static int refuse_props(struct yctx *c, const yaml_event_t *e, const char *path,
			const yaml_char_t *anchor, const yaml_char_t *tag)
{
	size_t line = e->start_mark.line + 1, col = e->start_mark.column + 1;

	if (anchor)
		return yt_errf(c, line, col, path, "anchors and aliases are not allowed");
	if (tag)
		return yt_errf(c, line, col, path, "YAML tags are not allowed");
	return 0;
}

/* Build the node that starts with event e (owned by the caller) under parent (or into
 * *root). The node is linked in before it is filled, so on error the caller frees one tree.
 * Long: scalars, sequences and mappings share the node bookkeeping and the limits. */
static int build(struct yctx *c, const yaml_event_t *e, const char *path, int depth,
		 struct yn *parent, struct yn **root)
{
	char cp[KEYPATH_MAX];
	struct yn *n;
	int r;

	snprintf(c->last, sizeof c->last, "%s", path);
	if (c->nodes >= YN_MAX_NODES)
		return yt_errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "too many YAML nodes (at most %d)", YN_MAX_NODES);
	switch (e->type) {
	case YAML_ALIAS_EVENT:
		return yt_errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "anchors and aliases are not allowed");
	case YAML_SCALAR_EVENT:
		r = refuse_props(c, e, path, e->data.scalar.anchor, e->data.scalar.tag);
		if (r)
			return r;
		n = yn_new(c, parent, YN_SCALAR, &e->start_mark);
		if (!n)
			return yt_oom(c);
		if (!parent)
			*root = n;
		n->len = e->data.scalar.length;
		n->s = malloc(n->len + 1);
		if (!n->s)
			return yt_oom(c);
		memcpy(n->s, e->data.scalar.value, n->len);
		n->s[n->len] = '\0';
		n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		return yt_errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "unexpected YAML event");
	}

	if (depth >= YN_MAX_DEPTH)
		return yt_errf(c, e->start_mark.line + 1, e->start_mark.column + 1, path,
			    "nested deeper than %d levels", YN_MAX_DEPTH);
	if (e->type == YAML_SEQUENCE_START_EVENT)
		r = refuse_props(c, e, path, e->data.sequence_start.anchor, e->data.sequence_start.tag);
	else
		r = refuse_props(c, e, path, e->data.mapping_start.anchor, e->data.mapping_start.tag);
	if (r)
		return r;
	n = yn_new(c, parent, e->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP, &e->start_mark);
	if (!n)
		return yt_oom(c);
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
			yt_pidx(cp, path, n->n);
			r = build(c, &k, cp, depth + 1, n, root);
			yaml_event_delete(&k);
			if (r)
				return r;
			continue;
		}

		/* Mapping: the key must be a scalar, unique in this mapping. */
		if (k.type != YAML_SCALAR_EVENT && k.type != YAML_ALIAS_EVENT) {
			r = yt_errf(c, k.start_mark.line + 1, k.start_mark.column + 1, path,
				 "mapping keys must be strings");
			yaml_event_delete(&k);
			return r;
		}
		yt_pjoin(cp, path, k.type == YAML_SCALAR_EVENT ? (const char *)k.data.scalar.value : "",
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
					return yt_errf(c, key->line, key->col, cp,
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
int yt_parse(struct yctx *c, struct yn **root)
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
		return yt_errf(c, 1, 1, "", "the matrix is empty");
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
		r = yt_errf(c, e.start_mark.line + 1, e.start_mark.column + 1, "",
			 "only one YAML document is allowed");
		yaml_event_delete(&e);
		return r;
	}
	yaml_event_delete(&e);
	return 0;
}

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

int yt_want(struct yctx *c, const struct yn *n, const char *path, enum yn_type t)
{
	static const char *const names[] = { "a scalar", "a sequence", "a mapping" };

	if (n->type == t && !(t == YN_SCALAR && yn_is_null(n)))
		return 0;
	if (t == YN_SEQ && yn_is_null(n))
		return yt_errf(c, n->line, n->col, path, "expected a sequence (write [] for none), got %s",
			    yn_kind(n));
	if (t == YN_MAP && yn_is_null(n))
		return yt_errf(c, n->line, n->col, path, "expected a mapping (write {} for none), got %s",
			    yn_kind(n));
	return yt_errf(c, n->line, n->col, path, "expected %s, got %s", names[t], yn_kind(n));
}

const struct yn *yt_get(const struct yn *m, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; i + 1 < m->n; i += 2)
		if (m->kid[i]->len == kl && !memcmp(m->kid[i]->s, key, kl))
			return m->kid[i + 1];
	return NULL;
}

static bool key_in(const struct yn *k, const char *const *keys, size_t nkeys)
{
	for (size_t j = 0; j < nkeys; j++)
		if (k->len == strlen(keys[j]) && !memcmp(k->s, keys[j], k->len))
			return true;
	return false;
}

/* Every key of every matrix mapping is required: a policy that silently falls back to a
 * default is a policy nobody wrote. */
int yt_check_keys(struct yctx *c, const struct yn *m, const char *path,
		      const char *const *keys, size_t nkeys)
{
	return yt_check_keys_opt(c, m, path, keys, nkeys, NULL, 0);
}

/* The few optional keys are those whose absence means the safe choice (docs/matrix.md). */
int yt_check_keys_opt(struct yctx *c, const struct yn *m, const char *path, const char *const *keys,
		      size_t nkeys, const char *const *opt, size_t nopt)
{
	char cp[KEYPATH_MAX];

	for (size_t i = 0; i + 1 < m->n; i += 2) {
		const struct yn *k = m->kid[i];
		if (!key_in(k, keys, nkeys) && !key_in(k, opt, nopt)) {
			yt_pjoin(cp, path, k->s, k->len);
			const char *home = c->key_home && strlen(k->s) == k->len ? c->key_home(k->s) : NULL;
			if (home && strcmp(home, path))
				return yt_errf(c, k->line, k->col, cp,
					       "unknown key here: '%s' is a key of %s (mis-indented?)", k->s,
					       home[0] ? home : "the top level");
			return yt_errf(c, k->line, k->col, cp, "unknown key");
		}
	}
	for (size_t j = 0; j < nkeys; j++) {
		if (!yt_get(m, keys[j])) {
			yt_pjoin(cp, path, keys[j], strlen(keys[j]));
			/* Indented under a sibling by mistake? That is where it went missing. */
			for (size_t i = 0; c->key_home && i + 1 < m->n; i += 2) {
				const struct yn *v = m->kid[i + 1], *in = NULL;
				for (size_t q = 0; v->type == YN_MAP && q + 1 < v->n; q += 2)
					if (v->kid[q]->type == YN_SCALAR && !strcmp(v->kid[q]->s, keys[j]))
						in = v->kid[q];
				if (in)
					return yt_errf(c, m->line, m->col, cp,
						       "missing required key; there is a '%s' at line %zu column %zu "
						       "under %s: mis-indented?", keys[j], in->line, in->col, m->kid[i]->s);
			}
			return yt_errf(c, m->line, m->col, cp, "missing required key");
		}
	}
	return 0;
}

int yt_str(struct yctx *c, const struct yn *n, const char *path, const char **out)
{
	int r = yt_want(c, n, path, YN_SCALAR);

	if (r)
		return r;
	if (strlen(n->s) != n->len)
		return yt_errf(c, n->line, n->col, path, "contains a NUL byte");
	*out = n->s;
	return 0;
}

int yt_bool(struct yctx *c, const struct yn *n, const char *path, bool *out)
{
	char v[ERRMSG_QUOTE_MAX + 8];
	int r = yt_want(c, n, path, YN_SCALAR);

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
	errmsg_quote(v, sizeof v, n->s, n->len);
	return yt_errf(c, n->line, n->col, path, "expected true or false, got '%s'", v);
}

int yt_uint(struct yctx *c, const struct yn *n, const char *path, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	char v[ERRMSG_QUOTE_MAX + 8];
	uint64_t x = 0;
	int r = yt_want(c, n, path, YN_SCALAR);

	if (r)
		return r;
	errmsg_quote(v, sizeof v, n->s, n->len);
	/* Plain decimal only: "010", "0x10", "1_000", "+1" and quoted numbers are refused. */
	if (!n->plain || strlen(n->s) != n->len || (n->len > 1 && n->s[0] == '0') ||
	    units_parse_u64(n->s, &x) < 0)
		return yt_errf(c, n->line, n->col, path, "expected an integer, got '%s'", v);
	if (x < min || x > max)
		return yt_errf(c, n->line, n->col, path, "%" PRIu64 " is out of range %" PRIu64 "..%" PRIu64,
			    x, min, max);
	*out = x;
	return 0;
}

int yt_duration(struct yctx *c, const struct yn *n, const char *path, uint64_t *ms)
{
	char v[ERRMSG_QUOTE_MAX + 8];
	const char *s;
	int r = yt_str(c, n, path, &s);

	if (r)
		return r;
	r = units_parse_duration_ms(s, ms);
	if (r) {
		errmsg_quote(v, sizeof v, n->s, n->len);
		return yt_errf(c, n->line, n->col, path, "%s duration '%s'",
			    r == -ERANGE ? "too large a" : "bad", v);
	}
	return 0;
}

int yt_size(struct yctx *c, const struct yn *n, const char *path, uint64_t *bytes)
{
	char v[ERRMSG_QUOTE_MAX + 8];
	const char *s;
	int r = yt_str(c, n, path, &s);

	if (r)
		return r;
	errmsg_quote(v, sizeof v, n->s, n->len);
	r = units_parse_size(s, bytes);
	if (r)
		return yt_errf(c, n->line, n->col, path, "%s size '%s'",
			    r == -ERANGE ? "too large a" : "bad", v);
	if (*bytes == 0)
		return yt_errf(c, n->line, n->col, path, "size must be above zero, got '%s'", v);
	return 0;
}

/* Key and root names: what fits in a repo:// URI and a log line without quoting. */
