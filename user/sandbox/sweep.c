/* The sweep of what killed runners left (sweep.h). */
#include "sandbox/sweep.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "enforce/resident.h"
#include "sandbox/cgroup.h"
#include "sandbox/cgroup_v1.h"

int sandbox_sweep(struct resident *r, const char *cg_mount, struct sweep_counts *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	char legacy[PATH_MAX];
	int rc = 0, r2;
	/* The cgroups first: a slot is freed only once its sandbox cgroup is gone. */
	if ((r2 = sandbox_sweep_stale(resident_cgroup_root(r), NULL, &c->runner_dirs, err, errlen)) < 0)
		rc = r2;
	static const char *const sets[] = { "bpf-lsm", "landlock", NULL };
	snprintf(legacy, sizeof(legacy), "%s/%s", cg_mount, RESIDENT_CGROUP_DIR);
	if ((r2 = sandbox_sweep_stale(legacy, sets, &c->old_dirs, rc ? NULL : err, rc ? 0 : errlen)) < 0 && !rc)
		rc = r2;
	if ((r2 = resident_sweep_legacy_pins(legacy, &c->old_pins, rc ? NULL : err, rc ? 0 : errlen)) < 0 && !rc)
		rc = r2;
	/* A dead runner's cgroup v1 directories (hybrid hosts), below our own v1 cgroup of
	 * each controller: the same locks tell who is dead. Its tasks died with its v2 cgroup
	 * above. A runner that ran in another v1 cgroup left them where only a runner there
	 * sweeps them. */
	for (int k = 0; k < CG1_COUNT; k++) {
		char v1root[PATH_MAX], why[PATH_MAX + 128];
		unsigned n = 0;
		if (cgroup_v1_set_root((enum cgroup_v1_ctrl)k, enforce_backend_name(resident_backend(r)), false, v1root,
				       sizeof(v1root), why, sizeof(why)) < 0)
			continue;   /* no such v1 hierarchy here: nothing of it to sweep */
		if ((r2 = sandbox_sweep_stale(v1root, NULL, &n, rc ? NULL : err, rc ? 0 : errlen)) < 0 && !rc)
			rc = r2;
		c->v1_dirs += n;
	}
	if ((r2 = resident_reclaim(r, &c->slots, rc ? NULL : err, rc ? 0 : errlen)) < 0 && !rc)
		rc = r2;
	return rc;
}
