/* The sandbox's private mount view, built (docs/run.md "The sandbox's view and
 * namespaces"): the plan of sandbox/view.h turned into a list of steps in the parent,
 * which the child, in its new mount namespace, runs with system calls only (it is the
 * child of a raw clone: async-signal-safe, no allocation). OS-touching module. */
#ifndef CALYX_SANDBOX_MOUNTNS_H
#define CALYX_SANDBOX_MOUNTNS_H
#include <stdbool.h>
#include <stddef.h>

#include "sandbox/view.h"

/* Where the child mounts the view's tmpfs root before it pivots into it: root-only, and
 * the same directory for every run (each child mounts on it in its own mount namespace,
 * so the host's directory stays empty and nothing is left behind by a killed run). */
#define MOUNTNS_ROOT "/run/calyx/view"

enum mountns_op_kind { MNS_MKDIR = 0, MNS_MKFILE, MNS_SYMLINK, MNS_BIND, MNS_TMPFS, MNS_PROC };

struct mountns_op {
	enum mountns_op_kind kind;
	char *dst;            /* beneath MOUNTNS_ROOT */
	const char *src;      /* BIND: the host path; SYMLINK: the link text; TMPFS: mount data */
	unsigned long flags;  /* TMPFS, PROC: mount flags */
	unsigned long long attr;   /* BIND: MOUNT_ATTR_* set on the bind, recursively */
};

struct mountns {
	struct mountns_op *ops;
	size_t n;
};

/* The real host for view_plan_build: lstat and readlink, component by component. */
int mountns_resolve(const char *path, char **real, bool *is_dir, struct view_hops *hops, void *ctx);

/* Parent: MOUNTNS_ROOT made (root-only) and the steps of the plan. 0 or -errno, said. */
int mountns_prepare(const struct view_plan *v, struct mountns *m, char *err, size_t errlen);
void mountns_free(struct mountns *m);

/* Which part of mountns_enter failed (meta.json start_error names it). */
enum mountns_step {
	MNS_STEP_NONE = 0, MNS_STEP_PRIVATE, MNS_STEP_ROOT, MNS_STEP_OPS, MNS_STEP_PIVOT, MNS_STEP_SEAL,
};
const char *mountns_step_name(int step);

/* Child, in its new mount namespace with all its privileges: the host's mounts made
 * private to it, a tmpfs on MOUNTNS_ROOT, the steps, then pivot_root into it (on an
 * initramfs root, where pivot_root is refused, MS_MOVE onto / and chroot) and the root
 * read-only. Afterwards the child sees only the view. 0 or -errno with *step. */
int mountns_enter(const struct mountns *m, int *step);

#endif
