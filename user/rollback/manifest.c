/* The rollback manifest: entries, their comparison and their JSON form (rollback/manifest.h). */
#include "rollback/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"

static const char *const type_names[RB_TYPE_COUNT] = {
	[RB_ABSENT] = "absent", [RB_FILE] = "file", [RB_DIR] = "dir", [RB_SYMLINK] = "symlink",
	[RB_FIFO] = "fifo", [RB_CHR] = "chardev", [RB_BLK] = "blockdev", [RB_SOCK] = "socket",
};

const char *rb_type_name(enum rb_type t)
{
	return (unsigned)t < RB_TYPE_COUNT ? type_names[t] : "?";
}

int rb_type_from_name(const char *s)
{
	for (int t = 0; s && t < RB_TYPE_COUNT; t++)
		if (strcmp(s, type_names[t]) == 0)
			return t;
	return -1;
}

void rb_manifest_init(struct rb_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void rb_manifest_free(struct rb_manifest *m)
{
	for (size_t i = 0; i < m->n_roots; i++)
		free(m->roots[i]);
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].path);
		free(m->e[i].target);
	}
	free(m->e);
	rb_manifest_init(m);
}

int rb_manifest_add_root(struct rb_manifest *m, const char *path)
{
	if (m->n_roots >= RB_MAX_ROOTS)
		return -ENOSPC;
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	m->roots[m->n_roots++] = p;
	return 0;
}

struct rb_entry *rb_manifest_add(struct rb_manifest *m, const char *path)
{
	if (m->n >= RB_MAX_ENTRIES)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct rb_entry *e = realloc(m->e, cap * sizeof(*e));
		if (!e)
			return NULL;
		m->e = e;
		m->cap = cap;
	}
	struct rb_entry *e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	if (!(e->path = strdup(path)))
		return NULL;
	m->n++;
	return e;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct rb_entry *)a)->path, ((const struct rb_entry *)b)->path);
}

void rb_manifest_sort(struct rb_manifest *m)
{
	if (m->n)
		qsort(m->e, m->n, sizeof(*m->e), cmp_entry);
}

const struct rb_entry *rb_manifest_find(const struct rb_manifest *m, const char *path)
{
	struct rb_entry key = { .path = (char *)path };
	return m->n ? bsearch(&key, m->e, m->n, sizeof(*m->e), cmp_entry) : NULL;
}

bool rb_path_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return path[0] == '/' && path[1] != '\0';
	return strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1] != '\0';
}

const char *rb_manifest_root_of(const struct rb_manifest *m, const char *path)
{
	for (size_t i = 0; i < m->n_roots; i++)
		if (strcmp(path, m->roots[i]) == 0 || rb_path_below(path, m->roots[i]))
			return m->roots[i];
	return NULL;
}

bool rb_path_canonical(const char *path)
{
	if (!path || path[0] != '/' || path[1] == '\0')
		return false;
	const char *c = path + 1;
	for (;;) {
		const char *s = strchr(c, '/');
		size_t n = s ? (size_t)(s - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!s)
			return true;
		c = s + 1;
	}
}

const char *rb_entry_differs(const struct rb_entry *a, const struct rb_entry *b, bool with_mtime)
{
	if (a->type != b->type)
		return "type";
	if (a->type == RB_ABSENT)
		return NULL;
	/* A symlink's mode is always 0777 and never used: not compared. */
	if (a->type != RB_SYMLINK && a->mode != b->mode)
		return "mode";
	if (a->uid != b->uid)
		return "uid";
	if (a->gid != b->gid)
		return "gid";
	if (a->type == RB_FILE || a->type == RB_SYMLINK) {
		if (a->size != b->size)
			return "size";
		if (strcmp(a->hash, b->hash) != 0)
			return a->type == RB_FILE ? "contents" : "target";
	}
	if ((a->type == RB_CHR || a->type == RB_BLK) && a->rdev != b->rdev)
		return "rdev";
	if (with_mtime && (a->mtime_s != b->mtime_s || a->mtime_ns != b->mtime_ns))
		return "mtime";
	return NULL;
}

/* ---- JSON ---- */

cJSON *rb_manifest_to_json(const struct rb_manifest *m)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	bool ok = cJSON_AddNumberToObject(j, "schema", RB_MANIFEST_SCHEMA) != NULL;
	cJSON *roots = cJSON_AddArrayToObject(j, "roots");
	ok = ok && roots;
	for (size_t i = 0; ok && i < m->n_roots; i++)
		ok = cJSON_AddItemToArray(roots, cJSON_CreateString(m->roots[i]));
	ok = ok && cJSON_AddNumberToObject(j, "bytes", (double)m->bytes);
	cJSON *es = ok ? cJSON_AddArrayToObject(j, "entries") : NULL;
	ok = ok && es;
	for (size_t i = 0; ok && i < m->n; i++) {
		const struct rb_entry *e = &m->e[i];
		cJSON *o = cJSON_CreateObject();
		char mode[8];
		snprintf(mode, sizeof(mode), "%04o", (unsigned)e->mode);
		ok = o && cJSON_AddItemToArray(es, o) && cJSON_AddStringToObject(o, "path", e->path) &&
		     cJSON_AddStringToObject(o, "type", rb_type_name(e->type));
		if (ok && e->type != RB_ABSENT)
			ok = cJSON_AddStringToObject(o, "mode", mode) &&
			     cJSON_AddNumberToObject(o, "uid", e->uid) && cJSON_AddNumberToObject(o, "gid", e->gid) &&
			     cJSON_AddNumberToObject(o, "size", (double)e->size) &&
			     cJSON_AddNumberToObject(o, "mtime_s", (double)e->mtime_s) &&
			     cJSON_AddNumberToObject(o, "mtime_ns", (double)e->mtime_ns);
		if (ok && e->hash[0])
			ok = cJSON_AddStringToObject(o, "blake2b", e->hash) != NULL;
		if (ok && e->type == RB_SYMLINK)
			ok = cJSON_AddStringToObject(o, "target", e->target ? e->target : "") != NULL;
		if (ok && (e->type == RB_CHR || e->type == RB_BLK))
			ok = cJSON_AddNumberToObject(o, "rdev", (double)e->rdev) != NULL;
	}
	if (!ok) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

/* A whole number in [0, max] (JSON numbers are doubles: 2^53 is exact). */
static bool get_uint(const cJSON *o, const char *k, double max, uint64_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > max ||
	    n->valuedouble != (double)(uint64_t)n->valuedouble)
		return false;
	*v = (uint64_t)n->valuedouble;
	return true;
}

static bool get_int(const cJSON *o, const char *k, int64_t *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(n) || n->valuedouble < -9007199254740992.0 || n->valuedouble > 9007199254740992.0 ||
	    n->valuedouble != (double)(int64_t)n->valuedouble)
		return false;
	*v = (int64_t)n->valuedouble;
	return true;
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != RB_HASH_HEX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* One entry's fields (the path already taken). 0 or -EINVAL with the field named. */
static int entry_from_json(const cJSON *o, struct rb_entry *e, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8];
	errmsg_quote(q, sizeof(q), e->path, strlen(e->path));
	int t = rb_type_from_name(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "type")));
	if (t < 0)
		return errmsg(err, errlen, -EINVAL, "entry '%s': unknown type", q);
	e->type = (enum rb_type)t;
	if (e->type == RB_ABSENT)
		return 0;
	const char *mode = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "mode"));
	char *end = NULL;
	unsigned long mv = mode ? strtoul(mode, &end, 8) : 0;
	if (!mode || !*mode || *end || mv > 07777)
		return errmsg(err, errlen, -EINVAL, "entry '%s': bad mode", q);
	e->mode = (uint32_t)mv;
	uint64_t v;
	if (!get_uint(o, "uid", 4294967294.0, &v))
		return errmsg(err, errlen, -EINVAL, "entry '%s': bad uid", q);
	e->uid = (uint32_t)v;
	if (!get_uint(o, "gid", 4294967294.0, &v))
		return errmsg(err, errlen, -EINVAL, "entry '%s': bad gid", q);
	e->gid = (uint32_t)v;
	if (!get_uint(o, "size", 9007199254740992.0, &e->size))
		return errmsg(err, errlen, -EINVAL, "entry '%s': bad size", q);
	if (!get_int(o, "mtime_s", &e->mtime_s) || !get_int(o, "mtime_ns", &e->mtime_ns) ||
	    e->mtime_ns < 0 || e->mtime_ns > 999999999)
		return errmsg(err, errlen, -EINVAL, "entry '%s': bad mtime", q);
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "blake2b"));
	if (e->type == RB_FILE || e->type == RB_SYMLINK) {
		if (!is_hex64(h))
			return errmsg(err, errlen, -EINVAL, "entry '%s': bad or missing blake2b", q);
		memcpy(e->hash, h, RB_HASH_HEX + 1);
	}
	if (e->type == RB_SYMLINK) {
		const char *tg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "target"));
		if (!tg || !*tg || strlen(tg) != e->size)
			return errmsg(err, errlen, -EINVAL, "entry '%s': bad symlink target", q);
		if (!(e->target = strdup(tg)))
			return errmsg(err, errlen, -ENOMEM, "out of memory");
	}
	if ((e->type == RB_CHR || e->type == RB_BLK) && !get_uint(o, "rdev", 9007199254740992.0, &e->rdev))
		return errmsg(err, errlen, -EINVAL, "entry '%s': bad rdev", q);
	return 0;
}

/* The tree shape: unique paths, each inside a root, each one's parent (below the root) a
 * directory entry. A manifest that puts an entry below a symlink or a file describes a
 * restore that would write through it: refused. */
static int check_shape(const struct rb_manifest *m, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8];
	for (size_t i = 0; i < m->n; i++) {
		const struct rb_entry *e = &m->e[i];
		errmsg_quote(q, sizeof(q), e->path, strlen(e->path));
		if (i && strcmp(m->e[i - 1].path, e->path) == 0)
			return errmsg(err, errlen, -EINVAL, "entry '%s' is listed twice", q);
		const char *root = rb_manifest_root_of(m, e->path);
		if (!root)
			return errmsg(err, errlen, -EINVAL, "entry '%s' lies outside the snapshotted paths", q);
		if (strcmp(root, e->path) == 0)
			continue;
		if (e->type == RB_ABSENT)
			return errmsg(err, errlen, -EINVAL, "entry '%s': only a root can be absent", q);
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s", e->path);
		*strrchr(parent, '/') = '\0';
		const struct rb_entry *p = rb_manifest_find(m, parent);
		if (!p || p->type != RB_DIR)
			return errmsg(err, errlen, -EINVAL,
				      "entry '%s': its parent is %s in the manifest (a restore would write through it)",
				      q, p ? rb_type_name(p->type) : "missing");
	}
	for (size_t r = 0; r < m->n_roots; r++)
		if (!rb_manifest_find(m, m->roots[r])) {
			errmsg_quote(q, sizeof(q), m->roots[r], strlen(m->roots[r]));
			return errmsg(err, errlen, -EINVAL, "root '%s' has no entry", q);
		}
	return 0;
}

int rb_manifest_from_json(const cJSON *j, struct rb_manifest *m, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8];
	rb_manifest_init(m);
	uint64_t v;
	if (!cJSON_IsObject(j) || !get_uint(j, "schema", 1e9, &v) || v != RB_MANIFEST_SCHEMA)
		return errmsg(err, errlen, -EINVAL, "not a rollback manifest of schema %d", RB_MANIFEST_SCHEMA);
	if (!get_uint(j, "bytes", 9007199254740992.0, &m->bytes))
		return errmsg(err, errlen, -EINVAL, "bad bytes");
	const cJSON *roots = cJSON_GetObjectItemCaseSensitive(j, "roots");
	const cJSON *es = cJSON_GetObjectItemCaseSensitive(j, "entries");
	if (!cJSON_IsArray(roots) || !cJSON_IsArray(es))
		return errmsg(err, errlen, -EINVAL, "roots and entries must be arrays");
	const cJSON *x;
	cJSON_ArrayForEach(x, roots) {
		const char *p = cJSON_GetStringValue(x);
		if (!rb_path_canonical(p))
			return errmsg(err, errlen, -EINVAL, "root '%s' is not an absolute canonical path",
				      (errmsg_quote(q, sizeof(q), p ? p : "", p ? strlen(p) : 0), q));
		for (size_t i = 0; i < m->n_roots; i++)
			if (strcmp(p, m->roots[i]) == 0 || rb_path_below(p, m->roots[i]) || rb_path_below(m->roots[i], p))
				return errmsg(err, errlen, -EINVAL, "roots overlap");
		int rc = rb_manifest_add_root(m, p);
		if (rc < 0)
			return errmsg(err, errlen, rc, "too many roots");
	}
	cJSON_ArrayForEach(x, es) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "path"));
		if (!rb_path_canonical(p)) {
			errmsg_quote(q, sizeof(q), p ? p : "", p ? strlen(p) : 0);
			return errmsg(err, errlen, -EINVAL, "entry '%s': not an absolute canonical path", q);
		}
		struct rb_entry *e = rb_manifest_add(m, p);
		if (!e)
			return errmsg(err, errlen, -ENOMEM, "too many entries or out of memory");
		int rc = entry_from_json(x, e, err, errlen);
		if (rc < 0)
			return rc;
	}
	rb_manifest_sort(m);
	return check_shape(m, err, errlen);
}
