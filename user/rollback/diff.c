/* Manifest against manifest (rollback/diff.h). Both are sorted by path, so one merge walk
 * finds every difference. An "absent" root entry counts as no entry at all: a root the
 * run made is created, one it removed is deleted. */
#include "rollback/diff.h"

#include <string.h>

static const struct rb_entry *present(const struct rb_entry *e)
{
	return e && e->type != RB_ABSENT ? e : NULL;
}

/* The merge walk: calls f(a_entry or NULL, b_entry or NULL) for every path of either
 * (absent entries as NULL), in order; stops when f returns non-zero and returns that. */
typedef int (*pair_fn)(const struct rb_entry *a, const struct rb_entry *b, void *ctx);

static int merge(const struct rb_manifest *a, const struct rb_manifest *b, pair_fn f, void *ctx)
{
	size_t i = 0, k = 0;
	while (i < a->n || k < b->n) {
		int c = i >= a->n ? 1 : k >= b->n ? -1 : strcmp(a->e[i].path, b->e[k].path);
		const struct rb_entry *x = c <= 0 ? present(&a->e[i]) : NULL;
		const struct rb_entry *y = c >= 0 ? present(&b->e[k]) : NULL;
		if (c <= 0)
			i++;
		if (c >= 0)
			k++;
		if (!x && !y)
			continue;
		int rc = f(x, y, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

struct diff_out {
	cJSON *created, *modified, *deleted;
};

static int add_change(const struct rb_entry *a, const struct rb_entry *b, void *ctx)
{
	struct diff_out *d = ctx;
	cJSON *to = NULL;
	const char *path = a ? a->path : b->path;
	if (!a)
		to = d->created;
	else if (!b)
		to = d->deleted;
	else if (rb_entry_differs(a, b, false))
		to = d->modified;
	if (to && !cJSON_AddItemToArray(to, cJSON_CreateString(path)))
		return -1;
	return 0;
}

cJSON *rb_manifest_diff(const struct rb_manifest *before, const struct rb_manifest *after)
{
	cJSON *o = cJSON_CreateObject();
	struct diff_out d = {
		.created = cJSON_AddArrayToObject(o, "created"),
		.modified = cJSON_AddArrayToObject(o, "modified"),
		.deleted = cJSON_AddArrayToObject(o, "deleted"),
	};
	if (!o || !d.created || !d.modified || !d.deleted || merge(before, after, add_change, &d)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

struct first_out {
	const char *path;
	const char *why;
	bool with_mtime;
};

static int first_change(const struct rb_entry *a, const struct rb_entry *b, void *ctx)
{
	struct first_out *f = ctx;
	const char *why = !a ? "new" : !b ? "missing" : rb_entry_differs(a, b, f->with_mtime);
	if (!why)
		return 0;
	f->path = a ? a->path : b->path;
	f->why = why;
	return 1;
}

const char *rb_manifest_first_difference(const struct rb_manifest *a, const struct rb_manifest *b,
					 const char **why)
{
	/* A real change first: a file made in a directory also moves the directory's mtime,
	 * and the file is what the operator wants named. */
	struct first_out f = { 0 };
	merge(a, b, first_change, &f);
	if (!f.path) {
		f.with_mtime = true;
		merge(a, b, first_change, &f);
	}
	if (why)
		*why = f.why;
	return f.path;
}
