/* The sandbox's cgroup v1 directories on a hybrid host, where the v2 hierarchy lacks the
 * memory or pids controller but a v1 hierarchy has it (docs/run.md "Limits"). Laid out
 * like the v2 ones, below the runner's own cgroup of that controller so that a limit
 * above it still applies: <v1 mount><own cgroup>/calyx/<backend>/<LEASE-id>-<pid>/r<N>.
 * The runner's directory is made and locked by sandbox_parent_create, the sandbox's by
 * sandbox_cgroup_create, and a dead runner's are swept by sandbox_sweep_stale, exactly as
 * in v2 (base/cgroupfs.c reads a v1 directory's emptiness from cgroup.procs). The child
 * joins them itself before it joins its v2 cgroup (sandbox/spawn.h). OS-touching; no
 * logging: -errno plus a message. */
#ifndef CALYX_SANDBOX_CGROUP_V1_H
#define CALYX_SANDBOX_CGROUP_V1_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cgroup_v1_ctrl { CG1_MEMORY, CG1_PIDS, CG1_COUNT };
const char *cgroup_v1_name(enum cgroup_v1_ctrl c);   /* "memory", "pids" */

/* This process's own cgroup in ctrl's v1 hierarchy, as a directory path: the mount of
 * the hierarchy (/proc/self/mountinfo) joined with the path /proc/self/cgroup names for
 * it. 0, -ENOENT (no v1 hierarchy of ctrl is mounted, or the mount does not show our
 * cgroup) with err saying which, or -errno. */
int cgroup_v1_own_dir(enum cgroup_v1_ctrl c, char *dir, size_t len, char *err, size_t errlen);

/* The set's v1 root of ctrl for a backend: <own dir>/calyx/<backend>; made (mode 0711,
 * opened to check it) when make is true. 0 or -errno with err. */
int cgroup_v1_set_root(enum cgroup_v1_ctrl c, const char *backend, bool make, char *dir, size_t len,
		       char *err, size_t errlen);

/* Whether the memory hierarchy accounts swap (memory.memsw.limit_in_bytes exists in dir). */
bool cgroup_v1_has_memsw(const char *dir);

/* memory.limit_in_bytes = bytes, then memory.memsw.limit_in_bytes = bytes where it exists
 * (memory + swap: swap is no way around the bound). 0 or -errno with err. */
int cgroup_v1_memory_limit(int dirfd, const char *path, uint64_t bytes, char *err, size_t errlen);
/* pids.max = n. 0 or -errno with err. */
int cgroup_v1_pids_limit(int dirfd, const char *path, uint64_t n, char *err, size_t errlen);

#endif
