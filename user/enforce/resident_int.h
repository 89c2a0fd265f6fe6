/* Inside the resident set (resident.c, setload.c, slots.c, manage.c): the open handle, the
 * pinned maps by name, and the helpers those files share. Not for other modules. */
#ifndef CALYX_ENFORCE_RESIDENT_INT_H
#define CALYX_ENFORCE_RESIDENT_INT_H
#include <limits.h>
#include "enforce/resident.h"

/* The maps a run needs, pinned as map_<name> (stamp: as "stamp", last). */
enum resident_map {
	RM_SANDBOXES, RM_EXEC_RULES, RM_ARGV_RULES, RM_PATH_RULES, RM_SLOT_RB, RM_STATS, RM_VCACHE, RM_SLOTS,
	RM_NET_RULES, RM_STAMP, RM_COUNT
};
extern const char *const resident_map_names[RM_COUNT];

struct resident {
	enum enforce_backend backend;
	int lock_fd;                   /* RESIDENT_LOCK, -1 when not open */
	bool lock_held;                /* a failed change of mode leaves none (flock) */
	bool lock_ex;
	int map_fd[RM_COUNT];
	struct calyx_stamp stamp;
	bool loaded_now;
	int ncpus;
	char dir[PATH_MAX];            /* RESIDENT_PIN_ROOT/<backend> */
	char cg_mount[PATH_MAX];       /* the v2 mount showing the hierarchy root */
	char cg_root[PATH_MAX];        /* <v2 mount>/calyx/<backend> */
};

/* r->dir, r->cg_mount and r->cg_root for r->backend. 0 or -errno (message). */
int resident_paths(struct resident *r, char *err, size_t errlen);
/* A handle for backend b with nothing open (resident_close frees it). NULL with err. */
struct resident *resident_new(enum enforce_backend b, char *err, size_t errlen);

/* The BLAKE2b-256 of the BPF object this binary embeds (computed once). */
const uint8_t *resident_object_hash(void);
/* Does the stamp name this build's set for backend b? why (may be NULL) says what differs. */
bool resident_stamp_ours(const struct calyx_stamp *st, enum enforce_backend b, char *why, size_t len);

/* The enforcer lock: shared or exclusive, waiting up to RESIDENT_LOCK_MS. Changing the
 * mode is not atomic (flock): callers re-check what they saw. 0 or -errno. */
int resident_lock(struct resident *r, bool exclusive, char *err, size_t errlen);
void resident_lock_drop(struct resident *r);

/* Is the stamp pinned in r->dir still the one r opened? (A lock mode change is not
 * atomic: a stop or replacement may have come in between.) */
bool resident_still_pinned(const struct resident *r);

/* Open the pinned maps and read the stamp of r->dir. 0, -ENOENT (no set, or no stamp:
 * incomplete), -errno. */
int resident_attach_pins(struct resident *r, char *err, size_t errlen);
void resident_detach_pins(struct resident *r);   /* closes the map fds */

/* Load, attach and pin a new set for r->backend in r->dir, its root cgroup r->cg_root
 * (made if needed). Caller holds the lock exclusive and r->dir does not exist. On failure
 * nothing is left pinned. 0, -ENOTSUP (the kernel refuses the backend), -errno. */
int resident_load(struct resident *r, bool verbose, char *err, size_t errlen);

/* Remove every pin in dir and dir itself (detaching the programs). 1 removed, 0 there was
 * none, -errno. */
int resident_unpin_dir(const char *dir, char *err, size_t errlen);

/* Per-slot counters summed over CPUs. 0 or -errno. */
int resident_slot_stats(const struct resident *r, uint32_t slot, struct calyx_stats *out);
/* Does the slot's sandbox cgroup still exist (the directory recorded for it, with its id)? */
bool resident_slot_cgroup_live(const struct resident *r, const struct calyx_slot *owner);
/* Does the slot serve a live sandbox: its cgroup exists and holds tasks, or its runner
 * still lives? (What status, stop and replacement count; a reclaim needs the cgroup gone.) */
bool resident_slot_live(const struct resident *r, const struct calyx_slot *owner);
/* Remove every entry the slot holds (sandbox entry, rules, the slot itself last; its ring
 * buffer stays for the slot's next run, see slots.c). Idempotent. */
void resident_slot_clear(struct resident *r, uint32_t slot, const struct calyx_slot *owner);

#endif
