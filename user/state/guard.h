/* The overlap guard (docs/run.md "The overlap guard"): a run whose lease paths reach the
 * state dir or the ledger, or lie above either, is refused before anything runs and before
 * the lease is consumed. A sandbox that can write there could swap the state dir or the
 * ledger (a single-use lease run again), plant a symlink for the next root runner, rewrite
 * the audit log; one that can read there reads other runs' output and the audit log. So
 * :ro paths are refused like :rw ones.
 *
 * A pattern is compared by its literal prefix (the path, or the directory D of D/ * and
 * D/ **), repo:// already resolved, both ways round: the prefix at or below a place, or a
 * place below the prefix. Symlinks are resolved first (realpath of the longest existing
 * part, the rest appended), and where the prefix exists its inode is compared along the
 * parent chains too, so a bind mount of the state dir (or of a directory above it) under
 * another name is caught as well. */
#ifndef CALYX_STATE_GUARD_H
#define CALYX_STATE_GUARD_H
#include <stddef.h>
#include "policy/pathpat.h"

struct guard_path {
	const char *pattern;          /* as the lease wrote it (for the message) */
	const struct pathpat *pat;    /* resolved */
	const char *access;           /* "ro" or "rw" (for the message) */
};

struct guard_place {
	const char *what;             /* "state dir", "ledger" */
	const char *path;             /* canonical */
	int fd;                       /* open on it (for the inode checks) */
};

/* 0, or -EPERM with a message naming the lease path, its pattern and the place
 * ("lease path /srv/x (pattern '/srv/ **:rw') is above the state dir /srv/x/state: ...").
 * Other -errno (a place that cannot be stat'ed) with a message. */
int state_guard_check(const struct guard_path *paths, size_t n_paths, const struct guard_place *places,
		      size_t n_places, char *err, size_t errlen);

/* The literal prefix of pat with symlinks resolved: realpath of its longest existing part,
 * the rest appended. 0 or -errno. Exposed for the tests. */
int guard_canonical_prefix(const struct pathpat *pat, char *out, size_t outlen);

#endif
