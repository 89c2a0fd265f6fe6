/* Loads calyx's BPF program set and manages per-sandbox rules in its maps.
 * Lifecycle (STYLE.md): open → configure rodata → load → attach, all before the first task
 * enters a sandbox cgroup. One enforcer serves any number of sandboxes. */
#ifndef CALYX_LOADER_H
#define CALYX_LOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "calyx.h"
#include "matrix.h"
#include "pathpat.h"

struct enforcer;

struct enforcer_opts {
	enum enforce_backend backend;  /* ENFORCE_BPF_LSM or ENFORCE_LANDLOCK (never AUTO here) */
	uint64_t parent_cgid;          /* calyx's parent cgroup: every sandbox is its direct child */
	int parent_level;              /* its level in the v2 hierarchy (root = 0) */
	bool verbose;                  /* show libbpf debug output */
};

/* BPF LSM usable? Checks "bpf" in /sys/kernel/security/lsm (mounting securityfs if needed)
 * and really loads and attaches a tiny lsm/ program. Returns 0, or -errno with a reason. */
int enforcer_probe_bpf_lsm(char *why, size_t len);

/* Which backend to use for `requested` (AUTO: bpf-lsm when the probe works, else landlock
 * when the Landlock ABI is >= 1 and the cgroup sock programs and tp_btf load). A specific
 * request is checked, never substituted. Returns 0 with *chosen set, or -ENOTSUP with the
 * reason in why. */
int enforcer_pick_backend(enum enforce_backend requested, enum enforce_backend *chosen,
			  char *why, size_t len);

/* Smaller probes for `calyx doctor`: each really loads (and attaches) a test program.
 * 0 with a description, or -errno with the reason, in why. */
int enforcer_probe_tp_btf(char *why, size_t len);
int enforcer_probe_cgroup_sock(char *why, size_t len);
/* /sys/kernel/security/lsm (mounting securityfs when needed) into buf. 0 or -errno. */
int enforcer_lsm_list(char *buf, size_t len);

int enforcer_open(struct enforcer **out, const struct enforcer_opts *o, char *err, size_t errlen);
void enforcer_close(struct enforcer *e);   /* detaches everything; NULL-safe */

struct exec_rule {
	dev_t dev;                     /* st_dev as user space sees it; converted to the kernel encoding */
	ino_t ino;
	char path[CALYX_PATH_MAX];     /* canonical path (realpath) */
};
struct path_rule {
	struct pathpat pat;            /* resolved pattern */
	enum path_access access;
};
struct sandbox_rules {
	uint64_t cgid;                 /* the sandbox cgroup's v2 id */
	int cgroup_fd;                 /* O_DIRECTORY fd of it (cgroup-attached programs use it) */
	const struct exec_rule *exec; size_t n_exec;
	const struct path_rule *paths; size_t n_paths;  /* lease paths + baseline (ro) */
	enum net_policy network;
};
/* Fill the maps for one sandbox (and attach per-cgroup programs where the backend uses
 * them). On failure nothing of this sandbox is left in the maps. */
int enforcer_add_sandbox(struct enforcer *e, const struct sandbox_rules *r, char *err, size_t errlen);
/* Remove every map entry of the sandbox. Idempotent. */
int enforcer_remove_sandbox(struct enforcer *e, uint64_t cgid);

/* Drain the ring buffer without blocking, calling fn for each record. The BPF side submits
 * with BPF_RB_NO_WAKEUP, so callers poll this on a timer (e.g. every 50 ms) and once more
 * after the sandbox is empty. Returns records consumed or -errno. */
typedef void (*enforcer_event_fn)(const struct calyx_event *ev, void *ctx);
int enforcer_consume(struct enforcer *e, enforcer_event_fn fn, void *ctx);
/* Records the BPF side could not put in the ring buffer (summed over CPUs). */
uint64_t enforcer_dropped(struct enforcer *e);

/* Helpers for user space: the v2 mount point (from /proc/self/mountinfo) and a cgroup's id. */
int cgroup2_mount_point(char *buf, size_t len);
int cgroup_id_of(const char *path, uint64_t *id);   /* name_to_handle_at or stat's inode */

#endif
