/* Manifest against manifest (docs/rollback.md "What changed"): the created, modified and
 * deleted paths meta.json lists, and the first difference a rollback reports when the
 * tree changed again after the run or does not match after a restore. Pure. */
#ifndef CALYX_ROLLBACK_DIFF_H
#define CALYX_ROLLBACK_DIFF_H
#include <cjson/cJSON.h>
#include "rollback/manifest.h"

/* What changed from before to after: created (in after only), deleted (in before only),
 * modified (in both, rb_entry_differs without mtime; a type change included). Three JSON
 * arrays of paths in an object {created, modified, deleted}. NULL when out of memory. */
cJSON *rb_manifest_diff(const struct rb_manifest *before, const struct rb_manifest *after);
/* The first path where the two differ, or NULL when the same: the first that differs by
 * more than its mtime, else the first whose mtime differs. why gets the field ("missing":
 * in a only, "new": in b only, or rb_entry_differs's). */
const char *rb_manifest_first_difference(const struct rb_manifest *a, const struct rb_manifest *b,
					 const char **why);

#endif
