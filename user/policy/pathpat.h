/* Path patterns of leases and of the matrix's runtime baseline. Pure module.
 *
 * Grammar: an absolute path ("/srv/out") or "repo://NAME/rel/path", optionally ending in
 * a final component "*" (direct children of the directory) or "**" (anything below it,
 * any depth). No other wildcards: every pattern is a prefix plus a depth rule, which is
 * what the in-kernel matcher (an LPM trie on path bytes) can decide exactly.
 * No "." or ".." components, no "//", at most PATHPAT_MAX bytes once resolved.
 * Prefixes always end on a '/' boundary: "/usr/bin/git" never admits "/usr/bin/git-evil". */
#ifndef CALYX_PATHPAT_H
#define CALYX_PATHPAT_H
#include <stdbool.h>
#include <stddef.h>

#define PATHPAT_MAX 251   /* = CALYX_LPM_PATH_MAX - 1: the in-kernel matcher holds 252 bytes with the NUL */

enum pathpat_kind {
	PATHPAT_EXACT = 0,    /* exactly this path */
	PATHPAT_CHILDREN = 1, /* dir/X where X has no '/' */
	PATHPAT_SUBTREE = 2,  /* dir/ and anything below (also dir itself) */
};

struct pathpat {
	char path[PATHPAT_MAX + 1]; /* resolved absolute path; for CHILDREN/SUBTREE the dir, with trailing '/' */
	enum pathpat_kind kind;
};

/* Syntax check only (repo:// allowed, not resolved). 0 or -EINVAL with message. */
int pathpat_check(const char *pattern, char *err, size_t errlen);

/* Resolve "repo://NAME/…" with a lookup function returning the root directory of NAME
 * (or NULL when unknown), then parse. Returns 0, -EINVAL (syntax), -ENOENT (unknown root),
 * -ENAMETOOLONG. */
typedef const char *(*pathpat_root_fn)(const char *name, void *ctx);
int pathpat_parse(const char *pattern, pathpat_root_fn roots, void *ctx,
		  struct pathpat *out, char *err, size_t errlen);

/* Does the canonical absolute path match? Same semantics as the BPF matcher. */
bool pathpat_match(const struct pathpat *p, const char *path);

/* Is every path admitted by inner also admitted by outer? (lease ⊆ matrix bound checks) */
bool pathpat_within(const struct pathpat *inner, const struct pathpat *outer);

/* Split "PATTERN[:ro|:rw]" (CLI form). Default access ro. 0 or -EINVAL. pattern_out
 * gets a malloc'd copy. */
int pathpat_split_access(const char *arg, char **pattern_out, int *rw_out, char *err, size_t errlen);

#endif
