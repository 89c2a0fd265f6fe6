/* Putting a tree back as its manifest says (docs/rollback.md "Restoring"). The pack is
 * checked whole against the manifest before anything is touched; then what the run
 * created is removed, directories are made, files rewritten from the pack (a temp file
 * beside the name, renamed over it: never written through an existing link), symlinks
 * and special files recreated, owners, modes and mtimes set. Every change is made
 * relative to the root's parent directory fd, each directory below it opened without
 * following a symlink (base/safedir.h), the last component with AT_SYMLINK_NOFOLLOW or
 * O_NOFOLLOW. No logging. */
#ifndef CALYX_ROLLBACK_RESTORE_H
#define CALYX_ROLLBACK_RESTORE_H
#include <stddef.h>
#include "rollback/manifest.h"

/* Every member of the pack (name in dirfd) against the manifest: its name inside one of
 * the roots, not beneath a symlink member, listed once, of the manifest's type, with the
 * manifest's size and contents hash (symlink: target); and every manifest entry that a
 * pack holds present. 0, -EINVAL (refused: err names the member and why) or -errno. */
int rb_pack_verify(int dirfd, const char *name, const struct rb_manifest *m, char *err, size_t errlen);

/* Restore the tree to m (checked with rb_pack_verify first by the caller) from the pack,
 * given cur, a hashed snapshot of the tree as it is now (same roots). 0 or -errno with
 * the path and the step in err. */
int rb_restore(int dirfd, const char *name, const struct rb_manifest *m, const struct rb_manifest *cur,
	       char *err, size_t errlen);

#endif
