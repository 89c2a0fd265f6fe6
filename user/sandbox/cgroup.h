/* The sandbox's cgroup v2 directories: the runner's parent, the sandbox cgroup, its limits,
 * kill and removal, and the sweep of what killed runners left. The child started inside
 * it is sandbox/spawn.h. OS-touching module used by the runner. No logging: -errno plus a
 * message. */
#ifndef CALYX_SANDBOX_CGROUP_H
#define CALYX_SANDBOX_CGROUP_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "policy/lease.h"

struct sandbox_cgroup {
	char path[PATH_MAX];
	int fd;                 /* O_DIRECTORY of the cgroup, -1 when none */
	uint64_t cgid;          /* v2 id (inode number) */
	bool created;           /* we made the directory and must remove it */
};

/* The runner's own directory in the resident set's root cgroup: <set root>/<name>, made
 * fresh for this runner; its sandbox goes below it. Where the v2 hierarchy has them, the
 * memory and pids controllers are enabled down to it.
 *
 * Liveness: the runner holds flock(LOCK_EX) on its directory for its whole life
 * (lock_fd). The kernel drops the lock when the runner dies, however it dies, so an
 * unlocked directory belongs to a dead runner; no pid (reusable) is trusted. It is made
 * and locked while holding flock on the set root, which sandbox_sweep_stale holds too, so
 * a sweep never sees a runner's directory between its mkdir and its lock. */
struct sandbox_parent {
	char path[PATH_MAX];
	uint64_t cgid;
	int level;
	bool created;
	int lock_fd;            /* the locked directory; valid while has_lock */
	bool has_lock;
};
int sandbox_parent_create(const char *set_root, const char *name, struct sandbox_parent *p,
			  char *err, size_t errlen);
/* rmdir the runner's parent (after its sandbox is gone), then drop its lock. Idempotent.
 * 0 or -errno. */
int sandbox_parent_remove(struct sandbox_parent *p, char *err, size_t errlen);

/* Remove what killed runners left in dir (a set root, or the old layout's <mount>/calyx):
 * every runner directory whose lock is free: cgroup.kill of its subtree, wait until
 * empty, rmdir the tree. Children named in skip are left alone. Runs under flock on dir.
 * *removed counts the directories removed. 0, or the first -errno (err names what could
 * not be removed; the rest is still swept). */
int sandbox_sweep_stale(const char *dir, const char *const *skip, unsigned *removed, char *err,
			size_t errlen);

/* mkdir parent/name (must not exist), open it, read its id. */
int sandbox_cgroup_create(const char *parent, const char *name, struct sandbox_cgroup *cg,
			  char *err, size_t errlen);

/* What the cgroup itself enforces of the limits. */
struct sandbox_cg_limits {
	bool mem;               /* memory.max written */
	bool pids;              /* pids.max written */
	bool cpu_stat;          /* cpu.stat usage_usec readable: the runner polls it for cpu */
	char mem_how[160];      /* "memory.max" or why not */
	char pids_how[160];
};
/* Apply memory.max (+ memory.swap.max 0, memory.oom.group 1) and pids.max where the
 * controllers are enabled.
 * Missing controllers are reported in out, not an error; a write that fails is. */
int sandbox_cgroup_limits(struct sandbox_cgroup *cg, const struct limits *l,
			  struct sandbox_cg_limits *out, char *err, size_t errlen);

/* cgroup.kill (falls back to SIGKILL of every listed pid until empty). 0 or -errno. */
int sandbox_cgroup_kill(struct sandbox_cgroup *cg);
/* 1 while any task is in the cgroup or below it, 0 when empty, -errno. */
int sandbox_cgroup_populated(struct sandbox_cgroup *cg);
/* Wait until empty (cgroup.events "populated 0"), killing again every 100 ms.
 * 0 or -ETIMEDOUT. */
int sandbox_cgroup_wait_empty(struct sandbox_cgroup *cg, int timeout_ms);
/* Total CPU time of the cgroup (cpu.stat usage_usec). 0 or -errno. */
int sandbox_cgroup_cpu_usec(struct sandbox_cgroup *cg, uint64_t *usec);
/* Kill, wait until empty, remove descendant cgroups and the cgroup itself, close the fd.
 * Idempotent. 0 or -errno (the directory could not be removed). */
int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, char *err, size_t errlen);

#endif
