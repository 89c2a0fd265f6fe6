/* The audit-only observer (enforce/observe.h): the observe.bpf.c skeleton, its maps the
 * resident set's own (by name), its scope the set's root cgroup, its target one sandbox. */
#include "enforce/observe.h"
#include "enforce/resident_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "observe.skel.h"

struct audit_observer {
	struct observe_bpf *skel;
};

void audit_observer_free(struct audit_observer *o)
{
	if (!o)
		return;
	observe_bpf__destroy(o->skel);   /* the link first: the tracepoint is off again */
	free(o);
}

int audit_observer_load(const struct resident *set, struct audit_observer **out, char *err, size_t errlen)
{
	*out = NULL;
	struct audit_observer *o = calloc(1, sizeof(*o));
	if (!o)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	o->skel = observe_bpf__open();
	if (!o->skel) {
		int e = -errno;
		free(o);
		return errmsg(err, errlen, e, "audit-only observer: opening the BPF object failed: %s", strerror(-e));
	}
	o->skel->rodata->root_cgid = set->stamp.root_cgid;
	o->skel->rodata->root_level = set->stamp.root_level;
	/* The set's maps, so the rules, the ring buffer and the counters are the sandbox's
	 * own; the per-CPU scratch maps are this copy's. */
	int rc = 0;
	struct bpf_map *m;
	bpf_object__for_each_map(m, o->skel->obj) {
		for (int i = 0; i < RM_COUNT && rc == 0; i++) {
			if (set->map_fd[i] < 0 || strcmp(bpf_map__name(m), resident_map_names[i]))
				continue;
			if (bpf_map__reuse_fd(m, set->map_fd[i]) < 0)
				rc = errmsg(err, errlen, -errno, "audit-only observer: map %s: %s",
					    resident_map_names[i], strerror(errno));
		}
	}
	if (rc == 0 && observe_bpf__load(o->skel) < 0)
		rc = errmsg(err, errlen, -errno, "audit-only observer: the kernel refused the program: %s",
			    strerror(errno));
	if (rc < 0) {
		audit_observer_free(o);
		return rc;
	}
	*out = o;
	return 0;
}

int audit_observer_start(struct audit_observer *o, uint64_t cgid, char *err, size_t errlen)
{
	o->skel->bss->target_cgid = cgid;
	if (observe_bpf__attach(o->skel) < 0)
		return errmsg(err, errlen, -errno, "audit-only observer: attaching to sys_exit and sys_enter failed: %s",
			      strerror(errno));
	return 0;
}
