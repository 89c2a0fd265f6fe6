/* cgroup v2 directories, generically: finding the hierarchy, ids, flat-keyed files,
 * controllers, killing, emptiness, removal, and the sweep of directories whose owner died
 * (an owner holds flock on its directory for as long as it lives). Used by the sandbox's
 * own cgroups (sandbox/cgroup.c) and the resident set's root cgroup (enforce/). No
 * logging: -errno, plus a message where the signature has err. */
#ifndef CALYX_BASE_CGROUPFS_H
#define CALYX_BASE_CGROUPFS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The BPF scope check compares a task's ancestor at an *absolute* level of the v2
 * hierarchy with the resident set's root cgroup; calyx computes that level from the path
 * below the v2 mount. That is the absolute level only when calyx sees the hierarchy from
 * the initial cgroup namespace and the mount shows the hierarchy's root. Otherwise the
 * level is wrong and nothing would be confined (fail open), so calyx refuses to run. */
#define PROC_CGROUP_INIT_INO 0xEFFFFFFBU   /* include/linux/proc_ns.h */
/* Check both (/proc/self/ns/cgroup is the initial namespace; a cgroup2 mount in
 * /proc/self/mountinfo has root "/") and return that mount point. 0, -ENOTSUP with the
 * reason (namespace or mount root), -ENOENT (no v2 mount), or -errno. */
int cgroup2_root_mount(char *mount, size_t len, char *err, size_t errlen);

/* A cgroup's v2 id (name_to_handle_at, else its directory's inode). 0 or -errno. */
int cgroup_id_of(const char *path, uint64_t *id);

/* Open a cgroup v2 directory (O_DIRECTORY, checked to be one). 0 or -errno. */
int cgroupfs_open(const char *path, int *fd, char *err, size_t errlen);
/* Does the space-separated list (cgroup.controllers) contain word? */
bool cgroupfs_has_word(const char *list, const char *word);
/* The "key value" line of a flat-keyed file (cgroup.events, cpu.stat, memory.events).
 * 0, -ENOENT (no such key), -errno. */
int cgroupfs_keyed_value(int dirfd, const char *file, const char *key, uint64_t *v);
/* Enable the memory and pids controllers in dirfd's subtree_control where available
 * (best effort: a refusal means the limits are reported as not enforced). */
void cgroupfs_enable_controllers(int dirfd);

/* cgroupfs_enable_controllers on mount and every directory down to dir (a directory below
 * mount, which exists): a controller the host offers later (or gave back) is enabled on
 * the way to a new runner's directory. Best effort, like cgroupfs_enable_controllers. */
void cgroupfs_enable_down(const char *mount, const char *dir);

/* mkdir -p of a cgroup directory below the v2 mount (mode 0711: only root may open it,
 * so nobody else can hold its lock), enabling the controllers on the way down; opened.
 * 0 or -errno. */
int cgroupfs_mkdir_delegated(const char *mount, const char *rel, int *fd, char *err, size_t errlen);

/* cgroup.kill (falls back to SIGKILL of every listed pid). 0 or -errno. */
int cgroupfs_kill(int dirfd);
/* 1 while any task is in the cgroup or below it, 0 when empty, -errno. A cgroup v1
 * directory (no cgroup.events) is read from the cgroup.procs of it and its descendants:
 * the kill, wait, destroy and sweep below work on v1 directories too (sandbox/cgroup_v1.h). */
int cgroupfs_populated(int dirfd);
/* Wait until empty (cgroup.events "populated 0"), killing again every 100 ms. 0 or
 * -ETIMEDOUT. */
int cgroupfs_wait_empty(int dirfd, int timeout_ms);
/* rmdir, retrying briefly while the last task is being released. 0 (also when it is
 * already gone) or -errno. */
int cgroupfs_rmdir(const char *path);
/* Kill, wait until empty, remove the descendant cgroups and then path itself. 0 or
 * -errno (message in err). */
int cgroupfs_destroy(int dirfd, const char *path, char *err, size_t errlen);

/* By path, for callers that hold no fd: kill (0 or -errno) and populated (1, 0, -errno). */
int cgroupfs_kill_path(const char *path);
int cgroupfs_populated_path(const char *path);

/* The child directories of dir whose owner is gone (their flock is free): each is
 * destroyed (killed, emptied, removed with its subtree). Children named in skip (a
 * NULL-terminated list, may be NULL) are left alone. The caller holds a lock that keeps
 * owners from making or locking children meanwhile. *removed counts them. 0, or the first
 * -errno (err names it; the rest is still swept). */
int cgroupfs_sweep_unlocked(int dirfd, const char *dir, const char *const *skip, unsigned *removed,
			    char *err, size_t errlen);
/* How many child directories of dir are locked by a live owner; -errno. Each is tried
 * with flock(LOCK_NB), so the caller must hold the lock that makers of children take
 * (dir's own, see sandbox_parent_create) or a maker could fail its own lock meanwhile:
 * lock_dir makes this function take it (for callers that do not hold it). */
int cgroupfs_count_locked(const char *dir, bool lock_dir);

#endif
