/* rollback.tar.gz (docs/rollback.md "The pack"): a gzip'd POSIX (pax) tar, written and read
 * with libarchive. One member per manifest entry but sockets (tar has no type for them)
 * and absent roots, named by its absolute host path without the leading '/'. The writer
 * is a snapshot sink (rollback/snapshot.h); the reader hands back each member as a
 * manifest-like entry whose name already passed the checks every name must pass
 * (relative in the archive, no "", "." or ".." component) and its contents. No logging. */
#ifndef CALYX_ROLLBACK_PACK_H
#define CALYX_ROLLBACK_PACK_H
#include <stddef.h>
#include <sys/types.h>
#include "rollback/manifest.h"
#include "rollback/snapshot.h"

#define RB_PACK_NAME "rollback.tar.gz"
#define RB_MANIFEST_NAME "rollback.json"
#define RB_AFTER_NAME "rollback-after.json"

struct rb_pack_writer;

/* Create name in dirfd (O_EXCL, O_NOFOLLOW, mode 0640) and start the archive. 0 or -errno. */
int rb_pack_create(int dirfd, const char *name, struct rb_pack_writer **out, char *err, size_t errlen);
/* The sink that appends each walked entry to the archive. */
const struct rb_sink *rb_pack_sink(struct rb_pack_writer *w);
/* Finish the archive, fsync and close. Frees w, also on failure. 0 or -errno. */
int rb_pack_finish(struct rb_pack_writer *w, char *err, size_t errlen);
/* Give up: the archive is closed and name removed from dirfd. NULL-safe. */
void rb_pack_abort(struct rb_pack_writer *w);

struct rb_pack_reader;

int rb_pack_open(int dirfd, const char *name, struct rb_pack_reader **out, char *err, size_t errlen);
/* The next member: 1 with e filled (path "/" + its name, type, mode, uid, gid, size, mtime,
 * target, rdev; no hash; e->path and e->target malloc'd, freed by the next call or by
 * rb_pack_close), 0 at the end, -EINVAL for a name or type no pack may hold (absolute,
 * "..", ".", empty component; a hard link; an unknown type), -EIO for a damaged archive.
 * err says which member and why. */
int rb_pack_next(struct rb_pack_reader *r, struct rb_entry *e, char *err, size_t errlen);
/* The current member's contents: up to n bytes, 0 at its end, -EIO on damage. */
ssize_t rb_pack_data(struct rb_pack_reader *r, void *buf, size_t n);
void rb_pack_close(struct rb_pack_reader *r);

#endif
