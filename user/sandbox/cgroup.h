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

#define SANDBOX_PARENT_NAME "calyx"

struct sandbox_cgroup {
	char path[PATH_MAX];
	int fd;                 /* O_DIRECTORY of the cgroup, -1 when none */
	uint64_t cgid;          /* v2 id (inode number) */
	bool created;           /* we made the directory and must remove it */
};

/* The BPF scope check compares a task's ancestor at an *absolute* level of the v2
 * hierarchy with the runner's parent cgroup; calyx computes that level from the path
 * below the v2 mount. That is the absolute level only when calyx sees the hierarchy from
 * the initial cgroup namespace and the mount shows the hierarchy's root. Otherwise the
 * level is wrong and nothing would be confined (fail open), so calyx refuses to run. */
#define PROC_CGROUP_INIT_INO 0xEFFFFFFBU   /* include/linux/proc_ns.h */
/* Check both (/proc/self/ns/cgroup is the initial namespace; a cgroup2 mount in
 * /proc/self/mountinfo has root "/") and return that mount point. 0, -ENOTSUP with the
 * reason (namespace or mount root), -ENOENT (no v2 mount), or -errno. */
int sandbox_cgroup2_root_mount(char *mount, size_t len, char *err, size_t errlen);

/* A cgroup's v2 id (name_to_handle_at, else its directory's inode). 0 or -errno. */
int cgroup_id_of(const char *path, uint64_t *id);

/* The runner's own parent cgroup: <mount>/calyx/<name>, made fresh for this runner (the
 * shared <mount>/calyx is made or reused, mode 0711). Each `calyx run` loads its own
 * enforcer, whose programs deny everything in cgroups under their parent that are not
 * their sandboxes: a parent per runner keeps concurrent runs out of each other's way. The
 * memory and pids controllers are enabled down to it where the v2 hierarchy has them.
 * level is its depth below the mount root (2); the mount must show the hierarchy root
 * (sandbox_cgroup2_root_mount).
 *
 * Liveness: the runner holds flock(LOCK_EX) on its parent directory for its whole life
 * (lock_fd). The kernel drops the lock when the runner dies, however it dies, so an
 * unlocked parent belongs to a dead runner; no pid (reusable) is trusted. The parent is
 * made and locked while holding flock on <mount>/calyx, which sandbox_sweep_stale holds
 * too, so a sweep never sees a parent between its mkdir and its lock. */
struct sandbox_parent {
	char path[PATH_MAX];
	uint64_t cgid;
	int level;
	bool created;
	int lock_fd;            /* the locked directory; valid while has_lock */
	bool has_lock;
};
int sandbox_parent_create(const char *mount, const char *name, struct sandbox_parent *p,
			  char *err, size_t errlen);
/* rmdir the runner's parent (after its sandbox is gone), then drop its lock. Idempotent.
 * 0 or -errno. */
int sandbox_parent_remove(struct sandbox_parent *p, char *err, size_t errlen);

/* Remove what killed runners left under <mount>/calyx: every runner parent whose lock is
 * free (its runner is gone): cgroup.kill of its subtree, wait until empty, rmdir the tree,
 * and only then unpin its BPF links (ENFORCER_PIN_ROOT/<parent name>): until its cgroup
 * is empty, the dead runner's programs keep confining what is left in it. Then every pin
 * directory whose runner parent cgroup no longer exists is unpinned too (a runner makes
 * its parent before its pins and removes its pins before its parent, so such a directory
 * has no live owner). Runs under flock on <mount>/calyx. *removed counts the parents
 * removed, *unpinned the pin directories removed. 0, or the first -errno (err names what
 * could not be removed; the rest is still swept). */
int sandbox_sweep_stale(const char *mount, unsigned *removed, unsigned *unpinned, char *err,
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
/* Apply memory.max (+ memory.swap.max 0) and pids.max where the controllers are enabled.
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
/* memory.events oom_kill and pids.events max counters (0 when the files are absent). */
void sandbox_cgroup_violations(struct sandbox_cgroup *cg, uint64_t *oom_kills, uint64_t *pids_max);
/* Kill, wait until empty, remove descendant cgroups and the cgroup itself, close the fd.
 * Idempotent. 0 or -errno (the directory could not be removed). */
int sandbox_cgroup_destroy(struct sandbox_cgroup *cg, char *err, size_t errlen);

#endif
