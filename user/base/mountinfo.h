/* /proc/self/mountinfo: the one scanner of it, for the cgroup v2 mounts and the v1
 * hierarchies of a controller (hybrid hosts). */
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

/* A mountinfo line of a cgroup v1 mount whose super options name controller ctrl
 * ("memory", "pids"): its root within that hierarchy and its mount point, split and
 * unescaped in place. false for any other line, which is left as it is. Pure. */
bool mountinfo_cgroup1(char *line, const char *ctrl, char **root, char **mnt);
/* The first v1 mount of ctrl's hierarchy. 0, -ENOENT (none mounted), -ENAMETOOLONG,
 * -errno. */
int mountinfo_cgroup1_mount(const char *ctrl, char *root, size_t rootlen, char *mnt, size_t mntlen);

#endif
