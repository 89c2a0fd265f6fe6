/* `calyx enforcer status|stop` and `calyx doctor`'s view of the resident set: what is
 * pinned, which sandboxes it serves, and taking it down (resident.h). */
#include "enforce/resident_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "sandbox/cgroup.h"

/* Fill st from an attached (or partly attached) r. */
static void status_fill(struct resident *r, struct resident_status *st)
{
	st->complete = r->map_fd[RM_STAMP] >= 0 && r->stamp.magic == CALYX_STAMP_MAGIC;
	st->stamp = r->stamp;
	st->ours = st->complete && resident_stamp_ours(&r->stamp, r->backend, NULL, 0);
	DIR *d = opendir(r->dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "link_", 5))
			st->links++;
	if (d)
		closedir(d);
	if (r->map_fd[RM_STATS] >= 0)
		resident_slot_stats(r, 0, &st->orphans);
	if (r->map_fd[RM_SLOTS] < 0)
		return;
	for (uint32_t slot = 1; slot <= CALYX_MAX_SANDBOXES; slot++) {
		struct resident_slot_info *si = &st->slots[st->n_slots];
		if (bpf_map_lookup_elem(r->map_fd[RM_SLOTS], &slot, &si->owner) < 0)
			continue;
		si->slot = slot;
		si->live = resident_slot_cgroup_live(r, &si->owner);
		if (r->map_fd[RM_STATS] >= 0)
			resident_slot_stats(r, slot, &si->stats);
		st->live += si->live;
		st->n_slots++;
	}
}

int resident_status(enum enforce_backend b, struct resident_status *st, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	struct resident r = { .backend = b, .lock_fd = -1 };
	for (int i = 0; i < RM_COUNT; i++)
		r.map_fd[i] = -1;
	r.ncpus = libbpf_num_possible_cpus();
	int rc = resident_paths(b, r.dir, sizeof(r.dir), r.cg_root, sizeof(r.cg_root), err, errlen);
	if (rc < 0)
		return rc;
	struct stat sb;
	if (stat(r.dir, &sb) < 0)
		return errno == ENOENT ? 0 : errmsg(err, errlen, -errno, "%s: %s", r.dir, strerror(errno));
	st->up = true;
	rc = resident_attach_pins(&r, err, errlen);
	if (rc == -EPROTO) {
		/* Another ABI's set: its maps have other shapes and are not read. Its live
		 * sandboxes are those whose runner still holds its directory's lock. */
		st->complete = true;
		int n = cgroup_count_locked_children(r.cg_root);
		st->live = n > 0 ? (unsigned)n : 0;
	} else if (rc < 0 && rc != -ENOENT) {
		resident_detach_pins(&r);
		return rc;
	} else if (r.ncpus > 0) {
		status_fill(&r, st);
	}
	resident_detach_pins(&r);
	return 0;
}

/* cgroup.kill of every live sandbox of st. */
static void kill_live(const struct resident *r, const struct resident_status *st)
{
	for (unsigned i = 0; i < st->n_slots; i++) {
		if (!st->slots[i].live)
			continue;
		char path[PATH_MAX + 200];
		snprintf(path, sizeof(path), "%s/%s", r->cg_root, st->slots[i].owner.cgroup);
		cgroup_kill_path(path);
	}
}

/* ": a/r1 (runner pid 12), ..." for the live sandboxes of st. */
static void describe_live(const struct resident_status *st, char *msg, size_t len)
{
	size_t o = 0;
	msg[0] = '\0';
	for (unsigned i = 0; i < st->n_slots && o + 1 < len; i++) {
		if (!st->slots[i].live)
			continue;
		int n = snprintf(msg + o, len - o, "%s%s (runner pid %u)", o ? ", " : ": ", st->slots[i].owner.cgroup,
				 st->slots[i].owner.runner_pid);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* Free the slots whose cgroup is gone now; wait until the runners of the live ones (killed
 * by the caller) have removed theirs; after wait_ms free those whose cgroups are empty.
 * 0, or -EBUSY when a sandbox still holds tasks. */
static int drain_slots(struct resident *r, int wait_ms, char *err, size_t errlen)
{
	struct resident_status *st = calloc(1, sizeof(*st));
	if (!st)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = 0;
	for (int waited = 0;; waited += 50) {
		memset(st, 0, sizeof(*st));
		status_fill(r, st);
		for (unsigned i = 0; i < st->n_slots; i++) {
			struct resident_slot_info *si = &st->slots[i];
			char path[PATH_MAX + 200];
			snprintf(path, sizeof(path), "%s/%s", r->cg_root, si->owner.cgroup);
			if (!si->live) {
				resident_slot_clear(r, si->slot, &si->owner);
			} else if (waited >= wait_ms) {
				/* Its runner did not finish in time: a cgroup that still holds
				 * tasks keeps the set up (closed); an empty one is freed here. */
				if (cgroup_populated_path(path) != 0)
					rc = errmsg(err, errlen, -EBUSY, "sandbox %s still holds tasks after being killed",
						    si->owner.cgroup);
				else
					resident_slot_clear(r, si->slot, &si->owner);
			}
		}
		if (st->live == 0 || waited >= wait_ms)
			break;
		kill_live(r, st);
		usleep(50000);
	}
	free(st);
	return rc;
}

/* With the lock exclusive and st filled: end what runs in the set (force) and free its
 * slots. 0 or -errno. */
static int end_sandboxes(struct resident *r, const struct resident_status *st, int wait_ms, char *msg, size_t msglen)
{
	int rc = resident_attach_pins(r, msg, msglen);
	if (rc == 0)
		return drain_slots(r, wait_ms, msg, msglen);
	if (rc != -ENOENT && rc != -EPROTO)
		return rc;
	/* Incomplete, or another ABI's set whose slots cannot be read: whatever runs below its
	 * root cgroup is killed, and must be gone before its programs are. */
	if (!st->live)
		return 0;
	for (int waited = 0; cgroup_populated_path(r->cg_root) > 0; waited += 50) {
		if (waited >= wait_ms)
			return errmsg(msg, msglen, -EBUSY, "%s still holds tasks after being killed", r->cg_root);
		cgroup_kill_path(r->cg_root);
		usleep(50000);
	}
	return 0;
}

int resident_stop(enum enforce_backend b, bool force, int wait_ms, char *msg, size_t msglen)
{
	struct resident *r = calloc(1, sizeof(*r));
	struct resident_status *st = calloc(1, sizeof(*st));
	int rc = r && st ? 0 : errmsg(msg, msglen, -ENOMEM, "out of memory");
	if (rc == 0) {
		r->backend = b;
		r->lock_fd = -1;
		for (int i = 0; i < RM_COUNT; i++)
			r->map_fd[i] = -1;
		r->ncpus = libbpf_num_possible_cpus();
		rc = resident_paths(b, r->dir, sizeof(r->dir), r->cg_root, sizeof(r->cg_root), msg, msglen);
	}
	if (rc == 0)
		rc = resident_lock(r, true, msg, msglen);
	if (rc == 0)
		rc = resident_status(b, st, msg, msglen);
	if (rc == 0 && !st->up)
		rc = errmsg(msg, msglen, -ENOENT, "no resident %s set is up", enforce_backend_name(b));
	if (rc == 0 && st->live && !force) {
		rc = errmsg(msg, msglen, -EBUSY, "the resident %s set serves %u live sandbox%s", enforce_backend_name(b),
			    st->live, st->live == 1 ? "" : "es");
		describe_live(st, msg + strlen(msg), msglen - strlen(msg));
		snprintf(msg + strlen(msg), msglen - strlen(msg),
			 ": let them finish, or `calyx enforcer stop --force` ends them first");
	}
	if (rc == 0)
		rc = end_sandboxes(r, st, wait_ms, msg, msglen);
	resident_detach_pins(r);
	if (rc == 0)
		rc = resident_unpin_dir(r->dir, msg, msglen);
	/* The runners' directories go with their runners; wait for them, then the root
	 * cgroup itself. */
	if (rc >= 0)
		rc = cgroup_remove_tree_wait(r->cg_root, wait_ms, msg, msglen);
	if (rc == 0)
		errmsg(msg, msglen, 0, "stopped the resident %s set%s", enforce_backend_name(b),
		       st->live ? " (its live sandboxes were killed first)" : "");
	free(st);
	resident_close(r);
	return rc;
}
