/* The resident set: finding it, checking its stamp, bringing it up once under the lock,
 * replacing a set of another build, and choosing a backend (resident.h). */
#include "enforce/resident_int.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "base/fileio.h"
#include "calyx.objhash.h"
#include "enforce/landlock.h"
#include "base/cgroupfs.h"

const char *const resident_map_names[RM_COUNT] = {
	[RM_SANDBOXES] = "sandboxes", [RM_EXEC_RULES] = "exec_rules", [RM_PATH_RULES] = "path_rules",
	[RM_ARGV_RULES] = "argv_rules",
	[RM_SLOT_RB] = "slot_rb",     [RM_STATS] = "stats",           [RM_VCACHE] = "vcache",
	[RM_SLOTS] = "slots",         [RM_STAMP] = "stamp",           [RM_NET_RULES] = "net_rules",
};

int resident_paths(struct resident *r, char *err, size_t errlen)
{
	if (r->backend != ENFORCE_BPF_LSM && r->backend != ENFORCE_LANDLOCK)
		return errmsg(err, errlen, -EINVAL, "enforcer: backend must be bpf-lsm or landlock");
	const char *name = enforce_backend_name(r->backend);
	snprintf(r->dir, sizeof(r->dir), "%s/%s", RESIDENT_PIN_ROOT, name);
	int rc = cgroup2_root_mount(r->cg_mount, sizeof(r->cg_mount), err, errlen);
	if (rc < 0)
		return rc;
	if (snprintf(r->cg_root, sizeof(r->cg_root), "%s/%s/%s", r->cg_mount, RESIDENT_CGROUP_DIR, name) >=
	    (int)sizeof(r->cg_root))
		return errmsg(err, errlen, -ENAMETOOLONG, "%s: cgroup path too long", r->cg_mount);
	return 0;
}

const uint8_t *resident_object_hash(void)
{
	/* Computed at build time (the Makefile hashes the object the skeleton embeds): a run
	 * never reads the embedded object, which only a bring-up needs. */
	static const uint8_t hash[32] = CALYX_OBJECT_HASH_CALYX;
	return hash;
}

bool resident_stamp_ours(const struct calyx_stamp *st, enum enforce_backend b, char *why, size_t len)
{
	if (st->magic != CALYX_STAMP_MAGIC)
		return errmsg(why, len, 0, "it has no calyx stamp"), false;
	if (st->abi != CALYX_ABI_VERSION)
		return errmsg(why, len, 0, "it has map ABI %u, this calyx %u", st->abi, CALYX_ABI_VERSION), false;
	if (st->backend != (uint32_t)b)
		return errmsg(why, len, 0, "it is a set of another backend"), false;
	if (memcmp(st->object, resident_object_hash(), sizeof(st->object)) != 0)
		return errmsg(why, len, 0, "it was loaded from another BPF object (calyx %.*s)",
			      (int)sizeof(st->version), st->version), false;
	return true;
}

/* ------------------------------------------------------------------ the lock */

int resident_lock(struct resident *r, bool exclusive, char *err, size_t errlen)
{
	if (r->lock_fd < 0) {
		if (mkdir(RESIDENT_RUN_DIR, 0700) < 0 && errno != EEXIST)
			return errmsg(err, errlen, -errno, "mkdir %s: %s", RESIDENT_RUN_DIR, strerror(errno));
		r->lock_fd = open(RESIDENT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (r->lock_fd < 0)
			return errmsg(err, errlen, -errno, "%s: %s", RESIDENT_LOCK, strerror(errno));
	}
	int rc = fileio_flock_timed(r->lock_fd, exclusive ? LOCK_EX : LOCK_SH, RESIDENT_LOCK_MS);
	if (rc < 0) {
		r->lock_held = false;   /* a change of mode that failed released the old lock */
		return errmsg(err, errlen, rc, "%s: %s", RESIDENT_LOCK,
			      rc == -ETIMEDOUT ? "held too long by another calyx (bringing a set up or stopping one?)"
					       : strerror(-rc));
	}
	r->lock_held = true;
	r->lock_ex = exclusive;
	return 0;
}

void resident_lock_drop(struct resident *r)
{
	if (r->lock_fd >= 0) {
		close(r->lock_fd);   /* drops the lock */
		r->lock_fd = -1;
	}
	r->lock_held = false;
}

/* ------------------------------------------------------------------ the pins */

/* Key and value sizes of each pinned map in this ABI: a set of another build may have
 * maps of other shapes, which must never be read into our structs. */
static const struct { uint32_t key, value; } map_shape[RM_COUNT] = {
	[RM_SANDBOXES] = { sizeof(uint64_t), sizeof(struct calyx_sandbox) },
	[RM_EXEC_RULES] = { sizeof(struct calyx_exec_key), sizeof(struct calyx_exec_val) },
	[RM_ARGV_RULES] = { sizeof(struct calyx_argv_key), sizeof(struct calyx_argv_val) },
	[RM_PATH_RULES] = { sizeof(struct calyx_path_key), sizeof(struct calyx_path_val) },
	[RM_SLOT_RB] = { sizeof(uint32_t), sizeof(uint32_t) },
	[RM_STATS] = { sizeof(uint32_t), sizeof(struct calyx_stats) },
	[RM_VCACHE] = { sizeof(struct calyx_vcache_key), sizeof(struct calyx_vcache_val) },
	[RM_SLOTS] = { sizeof(uint32_t), sizeof(struct calyx_slot) },
	[RM_NET_RULES] = { sizeof(uint32_t), sizeof(struct calyx_net_rules) },
	[RM_STAMP] = { sizeof(uint32_t), sizeof(struct calyx_stamp) },
};

static int open_pinned_map(const char *path, enum resident_map m, int *fd, char *err, size_t errlen)
{
	*fd = bpf_obj_get(path);
	if (*fd < 0)
		return errno == ENOENT ? -ENOENT : errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(*fd, &info, &len) < 0)
		return errmsg(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (info.key_size != map_shape[m].key || info.value_size != map_shape[m].value)
		return errmsg(err, errlen, -EPROTO, "%s has another layout (another calyx build's set)", path);
	return 0;
}

int resident_attach_pins(struct resident *r, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/stamp", r->dir);
	int rc = open_pinned_map(path, RM_STAMP, &r->map_fd[RM_STAMP], err, errlen);
	if (rc < 0)
		return rc;
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(r->map_fd[RM_STAMP], &zero, &r->stamp) < 0)
		return errmsg(err, errlen, -errno, "reading %s: %s", path, strerror(errno));
	/* Whose set it is, the caller decides from the stamp; its maps are opened only if
	 * they have this ABI's shapes. */
	for (int i = 0; i < RM_COUNT; i++) {
		if (i == RM_STAMP)
			continue;
		snprintf(path, sizeof(path), "%s/map_%s", r->dir, resident_map_names[i]);
		if ((rc = open_pinned_map(path, (enum resident_map)i, &r->map_fd[i], err, errlen)) < 0)
			return rc == -ENOENT ? errmsg(err, errlen, -EPROTO, "%s is missing from a stamped set", path) : rc;
	}
	return 0;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

bool resident_still_pinned(const struct resident *r)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/stamp", r->dir);
	int fd = bpf_obj_get(path);
	bool same = fd >= 0 && map_id(fd) != 0 && map_id(fd) == map_id(r->map_fd[RM_STAMP]);
	if (fd >= 0)
		close(fd);
	return same;
}

void resident_detach_pins(struct resident *r)
{
	for (int i = 0; i < RM_COUNT; i++) {
		if (r->map_fd[i] >= 0)
			close(r->map_fd[i]);
		r->map_fd[i] = -1;
	}
	memset(&r->stamp, 0, sizeof(r->stamp));
}

/* ------------------------------------------------------------------ open */

struct resident *resident_new(enum enforce_backend b, char *err, size_t errlen)
{
	struct resident *r = calloc(1, sizeof(*r));
	if (!r) {
		errmsg(err, errlen, -ENOMEM, "out of memory");
		return NULL;
	}
	r->backend = b;
	r->lock_fd = -1;
	for (int i = 0; i < RM_COUNT; i++)
		r->map_fd[i] = -1;
	r->ncpus = libbpf_num_possible_cpus();
	int rc = r->ncpus > 0 ? resident_paths(r, err, errlen) : errmsg(err, errlen, -EIO, "cannot count possible CPUs");
	if (rc < 0) {
		free(r);
		return NULL;
	}
	return r;
}

/* With the lock exclusive: what is pinned in r->dir is not usable (missing, incomplete or
 * another build's). Replace it unless another build's set serves live sandboxes. */
static int replace_or_refuse(struct resident *r, bool verbose, char *err, size_t errlen)
{
	struct stat st;
	if (stat(r->dir, &st) == 0) {
		char why[256] = "";
		struct resident_status *s = calloc(1, sizeof(*s));
		if (!s)
			return errmsg(err, errlen, -ENOMEM, "out of memory");
		int rc = resident_status(r->backend, s, err, errlen);
		unsigned live = s->live;
		bool complete = s->complete;
		if (rc == 0 && complete)
			resident_stamp_ours(&s->stamp, r->backend, why, sizeof(why));
		free(s);
		if (rc < 0)
			return rc;
		if (complete && live > 0)
			return errmsg(err, errlen, -EBUSY,
				      "the resident %s set in %s cannot be used by this calyx (%s) and serves %u live "
				      "sandbox%s: let them finish (calyx enforcer status lists them) or end them with "
				      "`calyx enforcer stop --force`, then retry",
				      enforce_backend_name(r->backend), r->dir, why, live, live == 1 ? "" : "es");
		/* Idle (or an incomplete set, which never served a sandbox: its stamp, pinned
		 * last, is what makes a set usable). */
		rc = resident_unpin_dir(r->dir, err, errlen);
		if (rc < 0)
			return rc;
	}
	return resident_load(r, verbose, err, errlen);
}

int resident_open(enum enforce_backend b, unsigned flags, struct resident **out, char *err, size_t errlen)
{
	*out = NULL;
	struct resident *r = resident_new(b, err, errlen);
	if (!r)
		return -ENOMEM;
	int rc;
	bool exclusive = false;
	for (int attempt = 0; attempt < 3; attempt++) {
		if ((rc = resident_lock(r, exclusive, err, errlen)) < 0)
			break;
		rc = resident_attach_pins(r, err, errlen);
		if (rc == 0 && resident_stamp_ours(&r->stamp, b, NULL, 0)) {
			if (exclusive)   /* back to shared: others may register meanwhile */
				rc = resident_lock(r, false, err, errlen);
			if (rc == 0 && resident_still_pinned(r)) {
				*out = r;
				return 0;
			}
			if (rc < 0)
				break;
			/* stopped or replaced while the lock changed mode: look again */
		}
		resident_detach_pins(r);
		if (rc < 0 && rc != -ENOENT && rc != -EPROTO)
			break;   /* -ENOENT: none or incomplete, -EPROTO: another build's */
		if (!(flags & RESIDENT_BRING_UP)) {
			rc = errmsg(err, errlen, -ENOENT, "no resident %s set is up", enforce_backend_name(b));
			break;
		}
		if (!exclusive) {
			exclusive = true;   /* and look again: another run may have brought it up */
			continue;
		}
		rc = replace_or_refuse(r, flags & RESIDENT_VERBOSE, err, errlen);
		if (rc < 0)
			break;
		r->loaded_now = true;
	}
	if (rc == 0)
		rc = errmsg(err, errlen, -EAGAIN, "the resident %s set kept changing while it was opened",
			    enforce_backend_name(b));
	resident_close(r);
	return rc;
}

void resident_unlock(struct resident *r)
{
	if (r)
		resident_lock_drop(r);
}

int resident_recheck(const struct resident *r, char *err, size_t errlen)
{
	if (!r->lock_held)
		return errmsg(err, errlen, -ENOLCK, "the enforcer lock was lost while it changed mode");
	if (!resident_still_pinned(r))
		return errmsg(err, errlen, -ESTALE, "the resident %s set was stopped or replaced meanwhile",
			      enforce_backend_name(r->backend));
	return 0;
}

void resident_close(struct resident *r)
{
	if (!r)
		return;
	resident_detach_pins(r);
	resident_lock_drop(r);
	free(r);
}

enum enforce_backend resident_backend(const struct resident *r) { return r->backend; }
const struct calyx_stamp *resident_stamp(const struct resident *r) { return &r->stamp; }
bool resident_loaded_now(const struct resident *r) { return r->loaded_now; }
const char *resident_cgroup_root(const struct resident *r) { return r->cg_root; }

/* ------------------------------------------------------------------ choosing a backend */

/* This boot's record that bpf-lsm does not load here (so that `auto` does not pay a failed
 * load per run). /run is per boot; the boot id guards a /run that is not. */
bool resident_lsm_verdict(char *why, size_t len)
{
	char buf[512], boot[64];
	if (fileio_read_small_at(AT_FDCWD, RESIDENT_LSM_VERDICT, buf, sizeof(buf)) <= 0 ||
	    fileio_read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) < 0)
		return false;
	size_t bl = strlen(boot);
	if (strncmp(buf, boot, bl) != 0 || buf[bl] != '\n')
		return false;
	snprintf(why, len, "%s", buf + bl + 1);
	why[strcspn(why, "\n")] = '\0';
	return true;
}

static void lsm_verdict_write(const char *why)
{
	char boot[64], txt[600];
	if (fileio_read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)) < 0)
		return;
	snprintf(txt, sizeof(txt), "%s\n%s\n", boot, why);
	int fd = open(RESIDENT_LSM_VERDICT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		(void)fileio_write_all(fd, txt, strlen(txt));
		close(fd);
	}
}

int resident_pick(enum enforce_backend requested, unsigned flags, struct resident **out,
		  char *why, size_t whylen)
{
	char lsm_why[512] = "", ll_why[512] = "";
	int rc;
	*out = NULL;
	if (requested == ENFORCE_BPF_LSM || requested == ENFORCE_AUTO) {
		/* auto: a bpf-lsm set that is up always wins; one that failed to load on this
		 * boot is not tried again. An explicit request always tries. */
		bool known_bad = requested == ENFORCE_AUTO && resident_lsm_verdict(lsm_why, sizeof(lsm_why));
		if (!known_bad) {
			rc = resident_open(ENFORCE_BPF_LSM, flags, out, lsm_why, sizeof(lsm_why));
			if (rc == 0)
				return errmsg(why, whylen, 0, "BPF LSM (resident set%s)",
					      resident_loaded_now(*out) ? " loaded by this run" : "");
			if (rc == -ENOTSUP && (flags & RESIDENT_BRING_UP))
				lsm_verdict_write(lsm_why);
			if (requested == ENFORCE_BPF_LSM || rc != -ENOTSUP)
				return errmsg(why, whylen, rc, "bpf-lsm: %s", lsm_why);
		}
	}
	if (requested != ENFORCE_LANDLOCK && requested != ENFORCE_AUTO)
		return errmsg(why, whylen, -EINVAL, "unknown enforcement backend %d", (int)requested);
	int abi = landlock_abi();
	if (abi < 1) {
		rc = errmsg(ll_why, sizeof(ll_why), -ENOTSUP, "Landlock unavailable (%s)",
			    abi == -EOPNOTSUPP ? "disabled at boot: add landlock to lsm=" :
			    abi == -ENOSYS     ? "not built into this kernel" : strerror(-abi));
	} else {
		rc = resident_open(ENFORCE_LANDLOCK, flags, out, ll_why, sizeof(ll_why));
		if (rc == 0) {
			if (requested == ENFORCE_AUTO)
				return errmsg(why, whylen, 0, "Landlock ABI %d + cgroup BPF (resident set%s); bpf-lsm unavailable: %s",
					      abi, resident_loaded_now(*out) ? " loaded by this run" : "", lsm_why);
			return errmsg(why, whylen, 0, "Landlock ABI %d + cgroup BPF (resident set%s)", abi,
				      resident_loaded_now(*out) ? " loaded by this run" : "");
		}
	}
	if (requested == ENFORCE_LANDLOCK)
		return errmsg(why, whylen, rc, "landlock: %s", ll_why);
	return errmsg(why, whylen, rc == -ENOTSUP ? -ENOTSUP : rc, "no enforcement backend works: bpf-lsm: %s; landlock: %s",
		      lsm_why, ll_why);
}
