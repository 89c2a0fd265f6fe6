/* How this host enforces each limit, decided in one place: `calyx run` asks it before
 * the ledger (a limit nothing here can enforce fails the run closed, or is run without
 * and said, per the matrix's unenforceable_limits) and `calyx doctor` lists its answers.
 * Mechanisms, strongest first (docs/run.md "Limits"): the cgroup v2 controller, else the
 * cgroup v1 one (hybrid hosts), else none; wall and output are the runner's own, cpu
 * the runner's poll of cpu.stat, fsize RLIMIT_FSIZE with the enforcer's SIGXFSZ count.
 * The probe reads the host (OS-touching, no side effects); the decision is pure. */
#ifndef CALYX_SANDBOX_LIMITS_HOST_H
#define CALYX_SANDBOX_LIMITS_HOST_H
#include <limits.h>
#include <stdbool.h>
#include "policy/limits.h"
#include "sandbox/cgroup_v1.h"

/* The runner's poll period the cpu mechanism names (run/runner.h TICK_MS, tied there). */
#define LIMITS_HOST_POLL_MS 50

/* What the host offers, as the probe found it. */
struct limits_host {
	bool v2[CG1_COUNT];              /* memory / pids enabled for the sandbox cgroups in v2 */
	bool cpu_stat;                   /* cpu.stat usage_usec readable in the v2 directory */
	bool v1[CG1_COUNT];              /* a v1 hierarchy of the controller holds our cgroup */
	char v1_dir[CG1_COUNT][PATH_MAX];/* our own cgroup in it */
	char v1_why[CG1_COUNT][256];     /* why not, when !v1 */
	bool memsw;                      /* v1 memory accounts swap (memory.memsw.*) */
	bool swap_on;                    /* /proc/swaps lists a swap area */
};

enum limit_mech {
	LM_NONE = 0,     /* nothing on this host enforces it */
	LM_RUNNER,       /* the runner itself: wall-clock timer, output counting */
	LM_CPU_POLL,     /* the runner polls cpu.stat usage_usec */
	LM_CGROUP_V2,    /* memory.max / pids.max */
	LM_CGROUP_V1,    /* memory.limit_in_bytes (+ memsw) / pids.max in v1 */
	LM_RLIMIT,       /* RLIMIT_FSIZE set in the child, SIGXFSZ counted by the enforcer */
};

struct limit_how {
	enum limit_mech mech;
	char how[320];                   /* the mechanism, or why none works */
};

/* Probe. v2_dir: the v2 directory the sandbox cgroups go below (the runner's own
 * directory, its controllers already enabled: subtree_control is read), or, for the
 * doctor, the v2 mount (subtree false: cgroup.controllers, what could be enabled). */
void limits_host_probe(const char *v2_dir, bool subtree, struct limits_host *h);

/* The decision for one limit. Pure. */
void limits_host_decide(const struct limits_host *h, enum limit_kind k, struct limit_how *out);

#endif
