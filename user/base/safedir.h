/* Files beneath a directory fd, never through a symlink (docs/run.md "The state directory").
 * Every file of the state directory and the ledger is opened relative to the directory's
 * fd: openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) where the
 * kernel has it (5.6+), else one component at a time with O_NOFOLLOW. Either way a symlink
 * anywhere on the relative path is ELOOP, and "..", an absolute path or an empty component
 * is EXDEV/EINVAL: whoever plants a link inside the directory cannot redirect a root
 * runner's writes elsewhere. No logging. */
#ifndef CALYX_SAFEDIR_H
#define CALYX_SAFEDIR_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* openat(dirfd, rel, flags, mode) beneath dirfd without following any symlink (the last
 * component included). fd or -errno: -ELOOP (a symlink), -EXDEV ("..", absolute path),
 * -EINVAL (empty component). O_CLOEXEC is always added. */
int safedir_openat(int dirfd, const char *rel, int flags, mode_t mode);
/* The directory rel beneath dirfd, each missing component made with mode (a component that
 * exists must be a real directory, not a symlink). Its fd (O_RDONLY | O_DIRECTORY) or -errno. */
int safedir_mkdirs(int dirfd, const char *rel, mode_t mode);

/* Test hook: true forces the per-component walk even where openat2 exists. */
void safedir_force_walk(bool on);

/* Whether the directory open as fd, whose canonical path is path, is one only root
 * controls: it and every directory above it up to / owned by root, the directory itself
 * not writable by group or others, and those above not writable by group or others
 * unless sticky (a root-owned sticky directory such as /tmp keeps root's entries root's).
 * 0, or -EPERM with the reason in why ("owned by uid 1000", "/srv is group-writable
 * (mode 0775)"), or -errno. */
int safedir_check_root_only(int fd, const char *path, char *why, size_t whylen);

#endif
