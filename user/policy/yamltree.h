/* A strict YAML reader for policy files (the capability matrix, docs/matrix.md): libyaml's
 * event API read into a small tree of our own, because the document API expands aliases
 * silently (billion laughs) and forgets where anchors were. Every node keeps its
 * line/column, so each schema error names "file:line:col: key.path: problem". Anchors,
 * aliases, tags, duplicate keys and more than one document are refused. Pure: reads a
 * buffer. Used by matrix_load.c. */
#ifndef CALYX_YAMLTREE_H
#define CALYX_YAMLTREE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#define KEYPATH_MAX 192

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

struct yctx {
	const char *name;
	const char *buf;
	size_t len;
	char *err;
	size_t errlen;
	yaml_parser_t p;
	size_t nodes;
	char last[KEYPATH_MAX];  /* key path of the node read last: where a syntax error is */
	/* Optional: where the schema has key (path of the mapping, e.g. "run_as", "" for the
	 * top level), or NULL when nowhere. An unknown key that belongs elsewhere is then
	 * named as mis-indented rather than only unknown. */
	const char *(*key_home)(const char *key);
};

/* Start reading buf (len bytes, UTF-8) as name; errors go to err. 0 or -ENOMEM. */
int yt_open(struct yctx *c, const char *name, const char *buf, size_t len, char *err, size_t errlen);
void yt_close(struct yctx *c);
/* The whole buffer as one tree: exactly one document, no aliases. 0 or -EINVAL/-ENOMEM
 * with the message in c's err; *root is set (and to be freed) even on failure. */
int yt_parse(struct yctx *c, struct yn **root);
void yn_free(struct yn *n);

/* "name:line:col: path: msg" into c's err; returns -EINVAL. */
int yt_errf(struct yctx *c, size_t line, size_t col, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int yt_oom(struct yctx *c);   /* "name: out of memory"; returns -ENOMEM */
/* Key paths for messages: parent.key and parent[i]. */
void yt_pjoin(char out[KEYPATH_MAX], const char *parent, const char *key, size_t klen);
void yt_pidx(char out[KEYPATH_MAX], const char *parent, size_t i);

/* Schema checks. Each returns 0, or -EINVAL with a message naming the node. */
int yt_want(struct yctx *c, const struct yn *n, const char *path, enum yn_type t);
const struct yn *yt_get(const struct yn *m, const char *key);   /* value of key, or NULL */
/* Every key of m is one of keys, and all of keys are there. */
int yt_check_keys(struct yctx *c, const struct yn *m, const char *path, const char *const *keys,
		  size_t nkeys);
/* The same with optional keys too: each of keys is there, every key of m is in keys or opt. */
int yt_check_keys_opt(struct yctx *c, const struct yn *m, const char *path, const char *const *keys,
		      size_t nkeys, const char *const *opt, size_t nopt);
int yt_str(struct yctx *c, const struct yn *n, const char *path, const char **out);  /* no NUL inside */
int yt_bool(struct yctx *c, const struct yn *n, const char *path, bool *out);        /* true/false only */
/* A plain decimal integer in min..max. */
int yt_uint(struct yctx *c, const struct yn *n, const char *path, uint64_t min, uint64_t max,
	    uint64_t *out);
int yt_duration(struct yctx *c, const struct yn *n, const char *path, uint64_t *ms);  /* base/units.h */
int yt_size(struct yctx *c, const struct yn *n, const char *path, uint64_t *bytes);   /* > 0 */

#endif
