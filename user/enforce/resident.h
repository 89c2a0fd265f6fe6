/* The resident program set: one per host and backend, loaded, attached and pinned once,
 * shared by every `calyx run` (life cycle in docs/enforcer.md).
 *
 *   /sys/fs/bpf/calyx/<backend>/       the set: link_<program> for every attached program,
 *                                      map_<name> for every map a run needs, and `stamp`,
 *                                      pinned last (a directory without it is incomplete)
 *   <v2 mount>/calyx/<backend>/        the set's root cgroup (the programs' scope):
 *        <runner>/<sandbox>            one directory per runner (locked by it while it
 *                                      lives), its sandbox below
 *   /run/calyx/enforcer.lock           shared by runs while they register a sandbox,
 *                                      exclusive for bring-up, replacement, reclaim, stop
 *   /run/calyx/bpf-lsm.unavailable     this boot's answer to "does bpf-lsm load here?"
 *
 * A run adds its sandbox (slot, rules, ring buffer, then the sandbox entry) and removes it
 * once its cgroup is empty; nothing is loaded, attached or detached per run. */
#ifndef CALYX_ENFORCE_RESIDENT_H
#define CALYX_ENFORCE_RESIDENT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "calyx.h"
#include "enforce/rules.h"
#include "policy/backend.h"

#define RESIDENT_BPFFS "/sys/fs/bpf"
#define RESIDENT_PIN_ROOT RESIDENT_BPFFS "/calyx"
#define RESIDENT_RUN_DIR "/run/calyx"
#define RESIDENT_LOCK RESIDENT_RUN_DIR "/enforcer.lock"
#define RESIDENT_LSM_VERDICT RESIDENT_RUN_DIR "/bpf-lsm.unavailable"
#define RESIDENT_CGROUP_DIR "calyx"      /* below the v2 mount */
#define RESIDENT_LOCK_MS 120000          /* a bring-up in a slow VM takes seconds */

struct resident;

enum resident_flags {
	RESIDENT_BRING_UP = 1 << 0,   /* load the set when it is not up (else -ENOENT) */
	RESIDENT_VERBOSE = 1 << 1,    /* libbpf's messages (verifier logs) to stderr */
};

/* Open the resident set for backend b (ENFORCE_BPF_LSM or ENFORCE_LANDLOCK), bringing it
 * up when asked and needed, and replacing a set of another build when it serves no live
 * sandbox. On success the set is open and the enforcer lock is held shared until
 * resident_unlock() or resident_close(): while it is held the set cannot be stopped or
 * replaced. Errors (message in err): -ENOENT not up (and not asked to bring it up);
 * -EBUSY a set of another build serves live sandboxes; -ENOTSUP the backend does not load
 * or attach on this kernel; -errno otherwise. */
int resident_open(enum enforce_backend b, unsigned flags, struct resident **out, char *err, size_t errlen);
void resident_unlock(struct resident *r);
/* Still safe to register in r: the lock is held and the set is the one opened (calls that
 * change the lock's mode, like resident_reclaim, cannot do so atomically). 0, -ENOLCK,
 * -ESTALE (message in err). */
int resident_recheck(const struct resident *r, char *err, size_t errlen);
void resident_close(struct resident *r);   /* NULL-safe; never detaches anything */

/* Which backend serves `requested` (AUTO: bpf-lsm when its set is up or loads, else
 * landlock), its set opened as by resident_open. why says how it was chosen (recorded in
 * meta.json). Same errors as resident_open; -ENOTSUP when no backend works. */
int resident_pick(enum enforce_backend requested, unsigned flags, struct resident **out,
		  char *why, size_t whylen);

/* A ring buffer map of a sandbox's size, made with the bpf(2) syscall itself (libbpf's
 * bpf_map_create() first loads feature-probe programs of its own). fd or -1 with errno. */
int resident_ringbuf_create(void);

/* This boot's record that the bpf-lsm set does not load here, with the reason. */
bool resident_lsm_verdict(char *why, size_t len);

enum enforce_backend resident_backend(const struct resident *r);
const struct calyx_stamp *resident_stamp(const struct resident *r);
bool resident_loaded_now(const struct resident *r);   /* this process brought the set up */
const char *resident_cgroup_root(const struct resident *r); /* <v2 mount>/calyx/<backend> */

/* ---- sandboxes ---- */

struct sandbox_rules {
	uint64_t cgid;                 /* the sandbox cgroup's v2 id: a directory below a runner's
					* directory in resident_cgroup_root(), no task in it yet */
	const char *cgroup;            /* its path below resident_cgroup_root() */
	const struct exec_rule *exec; size_t n_exec;
	const struct argv_rule *argv; size_t n_argv;  /* the argvs exec rules may run with */
	const struct path_rule *paths; size_t n_paths;  /* lease paths + baseline (ro) */
	enum net_policy network;
	const struct net_rule *net_allow; size_t n_net_allow;  /* NET_ALLOW: the lease's rules */
	bool audit_only;               /* calyx run --audit-only: CALYX_SB_AUDIT_ONLY */
};

struct resident_sandbox;

/* Register a sandbox: claim a slot, fill its rules, give it its own ring buffer, and add
 * the sandbox entry last (until then its cgroup counts as an orphan: everything denied).
 * On failure nothing of it is left in the set. */
int resident_add_sandbox(struct resident *r, const struct sandbox_rules *rules,
			 struct resident_sandbox **out, char *err, size_t errlen);
uint32_t resident_sandbox_slot(const struct resident_sandbox *s);

/* Drain the sandbox's ring buffer without blocking, calling fn for each record. The BPF
 * side submits with BPF_RB_NO_WAKEUP (until the buffer is past its wake-up fill), so
 * callers poll this on a timer and once more after the sandbox is empty. fn sees only
 * records whose size is their type's (calyx.h), so it may read the type's body; others
 * are counted (resident_sandbox_malformed). Returns records consumed or -errno. */
typedef void (*resident_event_fn)(const struct calyx_event *ev, void *ctx);
int resident_consume(struct resident_sandbox *s, resident_event_fn fn, void *ctx);
uint64_t resident_sandbox_malformed(const struct resident_sandbox *s);

/* An fd that polls readable when the BPF side wakes the consumer (the ring buffer is past
 * its wake-up fill): add it to the run's poll set and consume then too. */
int resident_sandbox_poll_fd(const struct resident_sandbox *s);

/* The sandbox's counters (summed over CPUs). 0 or -errno. */
int resident_sandbox_stats(const struct resident *r, const struct resident_sandbox *s, struct calyx_stats *out);

/* Remove every entry of the sandbox (sandbox entry first, slot last) and free s. Call only
 * once its cgroup is empty. NULL-safe. */
void resident_remove_sandbox(struct resident *r, struct resident_sandbox *s);

/* Free the slots whose sandbox cgroup is gone (a killed runner's, once the sweep has
 * emptied and removed its cgroups): every entry they hold goes. Takes the lock exclusive
 * for the removal (and back shared before returning) only when there is something to
 * reclaim. *reclaimed counts the slots freed. 0 or -errno. */
int resident_reclaim(struct resident *r, unsigned *reclaimed, char *err, size_t errlen);

/* ---- management (calyx enforcer, calyx doctor) ---- */

struct resident_slot_info {
	uint32_t slot;
	struct calyx_slot owner;
	bool live;                     /* its cgroup exists and holds tasks or its runner
					* lives (a killed runner's emptied one: not live) */
	struct calyx_stats stats;
};
struct resident_status {
	bool up;                       /* a set is pinned for this backend */
	bool complete;                 /* it has its stamp */
	bool ours;                     /* ... and this binary may use it */
	struct calyx_stamp stamp;
	unsigned links;                /* link pins in the set's directory */
	unsigned n_slots;              /* claimed slots */
	unsigned live;                 /* of them with a live cgroup */
	struct calyx_stats orphans;    /* slot 0: denials of tasks in no live sandbox */
	struct resident_slot_info slots[CALYX_MAX_SANDBOXES];
};
/* What is pinned for backend b; never loads anything. 0 (st->up false when nothing is
 * pinned) or -errno. */
int resident_status(enum enforce_backend b, struct resident_status *st, char *err, size_t errlen);

/* Old layout (a program set per run, pinned in RESIDENT_PIN_ROOT/<runner>): unpin every
 * such directory whose runner cgroup (<legacy_dir>/<name>) is gone (its runner is dead and
 * its sandbox swept). *unpinned counts them. 0 or -errno. */
int resident_sweep_legacy_pins(const char *legacy_dir, unsigned *unpinned, char *err, size_t errlen);

/* Stop the set of backend b: refuse (-EBUSY, the live sandboxes named in msg) while any
 * sandbox is live, unless force, which kills them first and waits up to wait_ms for their
 * runners to remove them. Then every pin goes (detaching every program) and the set's root
 * cgroup. 0 stopped, -ENOENT nothing was up, -errno. msg says what happened. */
int resident_stop(enum enforce_backend b, bool force, int wait_ms, char *msg, size_t msglen);

#endif
