/* The walk of the rollback roots (docs/rollback.md "The snapshot"): every file,
 * directory, symlink and special file under each root, recorded in a manifest, never
 * following a symlink (fstatat AT_SYMLINK_NOFOLLOW, openat O_NOFOLLOW, each directory
 * read through the fd it was opened as). A root is opened by its parent directory (the
 * host's path, above anything a lease may write) and its own name. Optionally the
 * contents are hashed (BLAKE2b-256) and streamed to a sink (the pack writer) in the same
 * read. No logging. */
#ifndef CALYX_ROLLBACK_SNAPSHOT_H
#define CALYX_ROLLBACK_SNAPSHOT_H
#include <stddef.h>
#include <stdint.h>
#include "rollback/manifest.h"

/* Receives the entries in walk order (a directory before what is in it). For a file,
 * entry is called with its size known and its hash not yet, then data until size bytes,
 * then done. Each returns 0 or -errno (with a message in the walk's err). */
struct rb_sink {
	int (*entry)(void *ctx, const struct rb_entry *e, char *err, size_t errlen);
	int (*data)(void *ctx, const void *buf, size_t n, char *err, size_t errlen);
	int (*done)(void *ctx, char *err, size_t errlen);
	void *ctx;
};

enum {
	RB_SNAP_HASH = 1u << 0,       /* read and hash contents (else sizes only: the measure) */
};

/* Turn the lease's `:rw` paths (resolved patterns; a wildcard pattern gives its directory) into roots
 * of m: a root inside another is dropped (the outer one covers it). "/" is refused
 * (-EINVAL): nothing above it to restore it from. 0 or -errno, with a message. */
int rb_roots_add(struct rb_manifest *m, const char *const *paths, size_t n, char *err, size_t errlen);

/* Walk m's roots into m's entries (sorted at the end). max_bytes (0: none): with
 * RB_SNAP_HASH the walk stops at the first byte over it (-EFBIG); without, it measures
 * everything and the caller compares m->bytes. A file that changes size while it is read
 * is -EAGAIN. sink may be NULL. 0 or -errno with the path in err. */
int rb_snapshot(struct rb_manifest *m, unsigned flags, uint64_t max_bytes, const struct rb_sink *sink,
		char *err, size_t errlen);

/* The parent directory of a root ("/x" of "/x/out", "/" of "/out") into buf. */
void rb_root_parent(const char *root, char *buf, size_t len);

#endif
