/* The sweep of what killed runners left host-wide, for one resident set: their cgroup
 * directories in the set's root (killed, emptied, removed), then their slots in the set;
 * and what runners of the old layout (a program set per run) left: their cgroups directly
 * under <v2 mount>/calyx and their pin directories; and their cgroup v1 directories
 * (sandbox/cgroup_v1.h). Run by every `calyx run` (docs/run.md,
 * step 8) and by `calyx enforcer start` on a set that is up. */
#ifndef CALYX_SANDBOX_SWEEP_H
#define CALYX_SANDBOX_SWEEP_H
#include <stddef.h>

struct resident;

struct sweep_counts {
	unsigned runner_dirs;    /* dead runners' cgroup directories removed from the set's root */
	unsigned slots;          /* slots freed */
	unsigned old_dirs;       /* old-layout runner directories removed */
	unsigned old_pins;       /* old-layout pin directories removed */
	unsigned v1_dirs;        /* dead runners' cgroup v1 directories removed (hybrid hosts) */
};

/* Best effort: every step runs; *c counts what was done. 0, or the first -errno with err
 * saying what could not be swept (the next sweep tries again). */
int sandbox_sweep(struct resident *r, const char *cg_mount, struct sweep_counts *c, char *err, size_t errlen);

#endif
