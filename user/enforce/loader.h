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
#include "enforce/rules.h"
#include "policy/backend.h"

struct enforcer;

/* Where the runner pins its BPF links (bpffs, mounted at /sys/fs/bpf when it is not).
 * A link held only by the runner's fds is released when the runner's fds are closed in
 * do_exit, before the death signal reaches its sandbox: a SIGKILLed runner would leave
 * its sandbox running unconfined for that moment. A pinned link stays attached until it
 * is unpinned, which happens only once no task of the sandbox is left: by the runner's
 * own teardown after the cgroup is empty, else by a later run's sweep after it has
 * killed and emptied the dead runner's cgroup tree. */
#define ENFORCER_BPFFS "/sys/fs/bpf"
#define ENFORCER_PIN_ROOT ENFORCER_BPFFS "/calyx"

struct enforcer_opts {
	enum enforce_backend backend;  /* ENFORCE_BPF_LSM or ENFORCE_LANDLOCK (never AUTO here) */
	uint64_t parent_cgid;          /* calyx's parent cgroup: every sandbox is its direct child */
	int parent_level;              /* its level in the v2 hierarchy (root = 0) */
	bool verbose;                  /* show libbpf debug output */
	/* Pin every link under ENFORCER_PIN_ROOT/<pin_name> (the runner's parent cgroup
	 * name; no '/' or '.', the directory must not exist). Pinning that fails fails
	 * enforcer_open. NULL: nothing pinned (tests and tools that never run a sandbox
	 * which could outlive them). */
	const char *pin_name;
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

/* On failure nothing is left pinned or attached. */
int enforcer_open(struct enforcer **out, const struct enforcer_opts *o, char *err, size_t errlen);
/* Closes every fd: what is not pinned is detached. Pinned links stay attached (and their
 * programs keep confining with the maps as they are) until unpinned. NULL-safe. */
void enforcer_close(struct enforcer *e);
/* Remove every pin of this enforcer and its directory. Call only when no task is left in
 * any of its sandboxes (their cgroups are empty). 0 when nothing is left pinned, or
 * -errno with err. NULL-safe, idempotent. */
int enforcer_unpin(struct enforcer *e, char *err, size_t errlen);
/* The pin directory (ENFORCER_PIN_ROOT/<pin_name>), "" when not pinning. */
const char *enforcer_pin_dir(const struct enforcer *e);
/* Remove ENFORCER_PIN_ROOT/<name> and every pin in it (the sweep, for a dead runner whose
 * cgroup tree is empty and removed). 1 removed, 0 none existed, or -errno with err. */
int enforcer_unpin_name(const char *name, char *err, size_t errlen);

struct sandbox_rules {
	uint64_t cgid;                 /* the sandbox cgroup's v2 id */
	int cgroup_fd;                 /* O_DIRECTORY fd of it (cgroup-attached programs use it) */
	const struct exec_rule *exec; size_t n_exec;
	const struct path_rule *paths; size_t n_paths;  /* lease paths + baseline (ro) */
	enum net_policy network;
};
/* Fill the maps for one sandbox (and attach per-cgroup programs where the backend uses
 * them, pinned like the rest). On failure nothing of this sandbox is left in the maps,
 * attached or pinned. */
int enforcer_add_sandbox(struct enforcer *e, const struct sandbox_rules *r, char *err, size_t errlen);
/* Remove every map entry of the sandbox, detach and unpin its per-cgroup links. Call only
 * once its cgroup is empty. Idempotent. */
int enforcer_remove_sandbox(struct enforcer *e, uint64_t cgid);

/* Drain the ring buffer without blocking, calling fn for each record. The BPF side submits
 * with BPF_RB_NO_WAKEUP, so callers poll this on a timer (e.g. every 50 ms) and once more
 * after the sandbox is empty. Returns records consumed or -errno. */
typedef void (*enforcer_event_fn)(const struct calyx_event *ev, void *ctx);
int enforcer_consume(struct enforcer *e, enforcer_event_fn fn, void *ctx);
/* Records the BPF side could not put in the ring buffer (summed over CPUs). */
uint64_t enforcer_dropped(struct enforcer *e);

#endif
