/* `calyx enforcer status|stop` and `calyx doctor`'s view of the resident set: what is
 * pinned, which sandboxes it serves, and taking it down (resident.h). */
#include "enforce/resident_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/cgroupfs.h"

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
		si->live = resident_slot_live(r, &si->owner);
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
	int rc = resident_paths(&r, err, errlen);
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
		int n = cgroupfs_count_locked(r.cg_root, true);
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
		cgroupfs_kill_path(path);
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
				/* Its runner did not finish in time: the slot goes first, so that a
				 * task its runner still starts is an orphan (denied everything, and
				 * never reported live to its runner), then a cgroup that still holds
				 * tasks keeps the set up (closed). */
				resident_slot_clear(r, si->slot, &si->owner);
				if (cgroupfs_populated_path(path) > 0)
					rc = errmsg(err, errlen, -EBUSY, "sandbox %s still holds tasks after being killed",
						    si->owner.cgroup);
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

/* The set's root cgroup, once the runners' directories are gone: a live runner removes
 * its own after its sandbox ended; a dead one's is swept here (killed, emptied, removed).
 * 0 or -errno. */
static int remove_root_cgroup(struct resident *r, int wait_ms, char *msg, size_t msglen)
{
	for (int waited = 0;; waited += 50) {
		_cleanup_close_ int fd = open(r->cg_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return errno == ENOENT ? 0 : errmsg(msg, msglen, -errno, "%s: %s", r->cg_root, strerror(errno));
		unsigned removed;
		/* The lock runners take to make their directories in it. */
		int rc = fileio_flock_timed(fd, LOCK_EX, 30000);
		if (rc == 0)
			rc = cgroupfs_sweep_unlocked(fd, r->cg_root, NULL, &removed, msg, msglen);
		if (rc < 0)
			return rc;
		int live = cgroupfs_count_locked(r->cg_root, false);   /* we hold its lock */
		if (live == 0)
			break;
		if (waited >= wait_ms)
			return errmsg(msg, msglen, -EBUSY, "%s: %d runner%s did not finish", r->cg_root, live,
				      live == 1 ? "" : "s");
		usleep(50000);
	}
	int rc = cgroupfs_rmdir(r->cg_root);
	return rc < 0 ? errmsg(msg, msglen, rc, "rmdir %s: %s", r->cg_root, strerror(-rc)) : 0;
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
	for (int waited = 0; cgroupfs_populated_path(r->cg_root) > 0; waited += 50) {
		if (waited >= wait_ms)
			return errmsg(msg, msglen, -EBUSY, "%s still holds tasks after being killed", r->cg_root);
		cgroupfs_kill_path(r->cg_root);
		usleep(50000);
	}
	return 0;
}

int resident_stop(enum enforce_backend b, bool force, int wait_ms, char *msg, size_t msglen)
{
	struct resident *r = resident_new(b, msg, msglen);
	struct resident_status *st = calloc(1, sizeof(*st));
	int rc = r && st ? 0 : -ENOMEM;
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
		rc = remove_root_cgroup(r, wait_ms, msg, msglen);
	if (rc == 0)
		errmsg(msg, msglen, 0, "stopped the resident %s set%s", enforce_backend_name(b),
		       st->live ? " (its live sandboxes were killed first)" : "");
	free(st);
	resident_close(r);
	return rc;
}

int resident_sweep_legacy_pins(const char *legacy_dir, unsigned *unpinned, char *err, size_t errlen)
{
	*unpinned = 0;
	DIR *d = opendir(RESIDENT_PIN_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : errmsg(err, errlen, -errno, "%s: %s", RESIDENT_PIN_ROOT, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char cg[PATH_MAX], pins[PATH_MAX];
		if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
		    enforce_backend_from_name(e->d_name) > 0)   /* a resident set */
			continue;
		snprintf(cg, sizeof(cg), "%s/%s", legacy_dir, e->d_name);
		/* Its runner made that cgroup first and removed it last. */
		if (access(cg, F_OK) == 0 || errno != ENOENT)
			continue;
		snprintf(pins, sizeof(pins), "%s/%s", RESIDENT_PIN_ROOT, e->d_name);
		int r = resident_unpin_dir(pins, err, errlen);
		if (r < 0 && !rc)
			rc = r;
		else if (r > 0)
			(*unpinned)++;
	}
	closedir(d);
	return rc;
}
