/* `calyx run` steps 6a and 8 (docs/run.md): the cgroup scope the BPF programs can rely
 * on, the backend and its resident program set (brought up if this is the host's first
 * run), the path rules, the runner's directory in the set's root cgroup: everything that
 * can fail for lack of kernel support, all before the ledger. */
#include "run/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "enforce/landlock.h"
#include "enforce/observe.h"
#include "base/cgroupfs.h"
#include "enforce/resident.h"
#include "policy/pathpat.h"

int run_pick_enforcement(struct runner *r)
{
	enum enforce_backend req = r->o->enforce, need = r->m.enforcement;
	if (need != ENFORCE_AUTO && req != ENFORCE_AUTO && req != need)
		return run_say(EXIT_ENFORCE_UNAVAILABLE,
			       "enforcement unavailable: the capability matrix requires %s, --enforce %s refused",
			       enforce_backend_name(need), enforce_backend_name(req));
	if (need != ENFORCE_AUTO)
		req = need;
	char why[1024] = "";
	/* libbpf's debug output (about 1,300 lines for a load) only at -vv: -v is calyx's steps. */
	unsigned flags = RESIDENT_BRING_UP | (r->o->verbose >= 2 ? RESIDENT_VERBOSE : 0);
	int rc = resident_pick(req, flags, &r->set, why, sizeof(why));
	if (rc == -EBUSY)
		return run_say(EXIT_ENFORCER_BUSY, "enforcement unavailable: %s; nothing was run", why);
	if (rc < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s: %s; nothing was run",
			       enforce_backend_name(req), why[0] ? why : strerror(-rc));
	r->backend = resident_backend(r->set);
	/* Landlock (every ABI so far) does not mediate chmod, chown or setxattr, and root
	 * keeps CAP_DAC_OVERRIDE/CAP_FOWNER: a uid 0 sandbox would change the mode, owner
	 * and ACLs of any host file it can name. Refused before the ledger (docs/backends.md
	 * "Root matrices"). */
	if (r->backend == ENFORCE_LANDLOCK && r->m.run_as_uid == 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE,
			       "enforcement unavailable: run_as uid 0 on the landlock backend: Landlock does not "
			       "mediate chmod, chown or setxattr (ACLs), so a root sandbox could change the mode, "
			       "owner and ACLs of host files outside its lease; the bpf-lsm backend can run it "
			       "(matrix 'enforcement: bpf-lsm' on a kernel with BPF LSM), or set run_as to an "
			       "unprivileged uid; nothing was run");
	snprintf(r->backend_why, sizeof(r->backend_why), "%s", why);
	run_verbose(r, "backend %s: %s", enforce_backend_name(r->backend), why);
	return 0;
}

int run_build_path_rules(struct runner *r)
{
	char err[512];
	size_t n = r->l.n_paths + r->m.n_baseline;
	r->paths = calloc(n ? n : 1, sizeof(*r->paths));
	if (!r->paths)
		return run_say(EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; i < r->l.n_paths; i++) {
		struct path_rule *p = &r->paths[r->n_paths];
		if (pathpat_parse(r->l.paths[i].pattern, matrix_root_lookup, &r->m, &p->pat, err, sizeof(err)) < 0)
			return run_say(EXIT_LEASE_MATRIX, "lease outside the capability matrix: path '%s': %s",
				       r->l.paths[i].pattern, err);
		p->access = r->l.paths[i].access;
		r->n_paths++;
	}
	for (size_t i = 0; i < r->m.n_baseline; i++) {
		struct path_rule *p = &r->paths[r->n_paths];
		if (pathpat_parse(r->m.baseline[i], matrix_root_lookup, &r->m, &p->pat, err, sizeof(err)) < 0)
			return run_say(EXIT_CONFIG, "capability matrix: runtime_baseline '%s': %s", r->m.baseline[i], err);
		p->access = ACCESS_RO;
		r->n_paths++;
	}
	return 0;
}

/* The runner's directory in the set's root cgroup and, for landlock, the ruleset. The set
 * itself is up (run_pick_enforcement). */
int run_load_enforcer(struct runner *r)
{
	char err[1024];
	int rc;
	snprintf(r->parent_name, sizeof(r->parent_name), "%s-%d", r->l.jti, (int)getpid());
	/* The set's root was made when the set came up; a controller the host offers since
	 * (the memory or pids limits) is enabled down to it now, for this runner's sandbox. */
	cgroupfs_enable_down(r->cg_mount, resident_cgroup_root(r->set));
	rc = sandbox_parent_create(resident_cgroup_root(r->set), r->parent_name, &r->parent, err, sizeof(err));
	if (rc < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: the runner's cgroup: %s", err);
	/* Audit-only: no Landlock ruleset, whose refusals nothing could record (docs/audit-only.md);
	 * the cgroup sock programs and the exec-image check record the would-denies. */
	if (r->backend == ENFORCE_LANDLOCK && !r->o->audit_only) {
		rc = landlock_prepare(r->paths, r->n_paths, r->exec, r->n_exec, r->l.network, &r->ll,
				      err, sizeof(err));
		if (rc < 0)
			return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: landlock: %s", err);
		landlock_plan_describe(r->ll, r->ll_desc, sizeof(r->ll_desc));
	}
	/* Loaded now, attached once the sandbox's cgroup exists (prepare_sandbox). */
	if (r->backend == ENFORCE_LANDLOCK && r->o->audit_only &&
	    audit_observer_load(r->set, &r->observer, err, sizeof(err)) < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s; nothing was run, the lease was not used", err);
	return 0;
}

/* The enforcer's scope check uses an absolute cgroup level computed from the path below
 * the v2 mount: refuse to run where that level cannot be right (cgroup namespace, mount
 * not showing the hierarchy root) rather than confine nothing. Nothing is made yet. */
int run_check_cgroup_scope(struct runner *r)
{
	char err[PATH_MAX + 256];
	int rc = cgroup2_root_mount(r->cg_mount, sizeof(r->cg_mount), err, sizeof(err));
	if (rc < 0)
		return run_say(EXIT_ENFORCE_UNAVAILABLE, "enforcement unavailable: %s; nothing was run", err);
	run_verbose(r, "cgroup v2 hierarchy root at %s (initial cgroup namespace)", r->cg_mount);
	return 0;
}
