/* /proc/self/mountinfo: the one scanner of it, for the cgroup v2 mounts. */
#ifndef CALYX_MOUNTINFO_H
#define CALYX_MOUNTINFO_H
#include <stdbool.h>
#include <stddef.h>

/* A mountinfo line of a cgroup2 mount: its root within the hierarchy (field 4) and its
 * mount point (field 5), split and unescaped in place. false for any other (or malformed)
 * line. Pure. */
bool mountinfo_cgroup2(char *line, char **root, char **mnt);

/* fn(root, mnt, ctx) for each cgroup2 mount of /proc/self/mountinfo, in order, until fn
 * returns non-zero. Returns what fn returned last (0 after the last line), or -errno when
 * the file cannot be opened. */
typedef int (*mountinfo_cgroup2_fn)(const char *root, const char *mnt, void *ctx);
int mountinfo_each_cgroup2(mountinfo_cgroup2_fn fn, void *ctx);

/* The first cgroup2 mount point, whatever root it shows. 0, -ENOENT (none),
 * -ENAMETOOLONG (does not fit len), or -errno. */
int cgroup2_mount_point(char *buf, size_t len);

#endif
