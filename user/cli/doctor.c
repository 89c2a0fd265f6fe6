/* `calyx doctor`: reports the resident program sets, what this kernel supports, each
 * answer from a real probe (load/attach/syscall) unless a resident set is up (then the set
 * is the answer, and no program of the doctor's own is loaded), and which backend
 * `--enforce auto` would use. */
#include "cli/doctor.h"

#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "enforce/landlock.h"
#include "cli/enforcer.h"
#include "enforce/probe.h"
#include "enforce/resident.h"
#include "sandbox/limits_host.h"
#include "state/state.h"

struct check {
	const char *key;    /* JSON key */
	const char *label;  /* human label */
	bool ok;
	char detail[512];
};

static void check_ringbuf(struct check *c)
{
	int fd = resident_ringbuf_create();   /* loads nothing (unlike libbpf's bpf_map_create) */
	if (fd < 0) {
		snprintf(c->detail, sizeof(c->detail), "creating a BPF ring buffer failed: %s",
			 strerror(errno));
		return;
	}
	close(fd);
	c->ok = true;
	snprintf(c->detail, sizeof(c->detail), "BPF_MAP_TYPE_RINGBUF maps can be created");
}

/* What `--enforce auto` would use, from the resident sets when one is up, else from the
 * probes' answers. */
static const char *will_use(const struct resident_status *lsm, const struct resident_status *ll, bool probed,
			    const struct check *bpf_lsm, bool landlock_ok, char *why, size_t len)
{
	char verdict[400];
	if (lsm->ours) {
		snprintf(why, len, "the resident bpf-lsm set is up");
		return "bpf-lsm";
	}
	if (ll->ours && resident_lsm_verdict(verdict, sizeof(verdict))) {
		snprintf(why, len, "the resident landlock set is up; bpf-lsm unavailable on this boot: %s", verdict);
		return "landlock";
	}
	if (!probed) {
		snprintf(why, len, "the first run tries bpf-lsm (only the landlock set is up)");
		return "bpf-lsm, else landlock";
	}
	if (bpf_lsm->ok) {
		snprintf(why, len, "BPF LSM works (the first run loads the resident set)");
		return "bpf-lsm";
	}
	if (landlock_ok) {
		snprintf(why, len, "Landlock, tp_btf and cgroup sock programs work; bpf-lsm unavailable: %s", bpf_lsm->detail);
		return "landlock";
	}
	snprintf(why, len, "neither BPF LSM nor Landlock with tp_btf and cgroup sock programs works; bpf-lsm: %s",
		 bpf_lsm->detail);
	return "nothing";
}

/* Long: one probe after another, then one report; a list, not logic. */
/* What each Landlock ABI adds (the kernel's landlock.h), for `doctor -v`. */
static const char *const landlock_abi_adds[] = {
	NULL,
	"file system access rights",
	"renaming and linking across directories (REFER)",
	"truncate",
	"TCP bind and connect",
	"ioctl on devices",
	"signal and abstract unix socket scoping",
	"audit logging of denials",
};

/* `doctor -v` and `doctor --json`: where things are and what they mean, after the
 * verdicts. Gathered once, so that the text and the JSON say the same. */
struct details {
	unsigned uid;
	const char *state_dir;
	bool state_exists;
	bool bpffs_mounted;
	bool cg2_ok;
	const char *cg2_mount;
	char subtree[256];          /* the v2 root's cgroup.subtree_control, "" = none */
	bool subtree_readable;
	int abi;
};

static void gather_details(struct details *d, int abi, const char *cg2_mnt, bool cg2_ok)
{
	memset(d, 0, sizeof(*d));
	d->uid = (unsigned)geteuid();
	d->state_dir = state_dir_resolve(NULL);
	d->state_exists = access(d->state_dir, F_OK) == 0;
	struct statfs sf;
	d->bpffs_mounted = statfs(RESIDENT_BPFFS, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
	d->cg2_ok = cg2_ok;
	d->cg2_mount = cg2_mnt;
	if (cg2_ok) {
		char path[240];
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg2_mnt);
		d->subtree_readable = fileio_read_line(path, d->subtree, sizeof(d->subtree)) == 0;
		if (!d->subtree_readable)
			d->subtree[0] = 0;
	}
	d->abi = abi;
}

enum { LANDLOCK_ABI_KNOWN = (int)(sizeof(landlock_abi_adds) / sizeof(landlock_abi_adds[0])) };

static void print_details(const struct details *d)
{
	printf("details (-v):\n");
	printf("  %-20s uid %u%s\n", "running as", d->uid, d->uid ? " (calyx run needs root)" : "");
	printf("  %-20s %s (%s; --state or $CALYX_STATE changes it)\n", "state dir", d->state_dir,
	       d->state_exists ? "exists" : "not made yet: the first run makes it");
	printf("  %-20s %s\n", "bpffs", d->bpffs_mounted ? RESIDENT_BPFFS " (mounted)" :
	       RESIDENT_BPFFS " not mounted: the first run or enforcer start mounts it");
	if (d->cg2_ok)
		printf("  %-20s %s (enabled below the root: %s)\n", "cgroup v2 root", d->cg2_mount,
		       !d->subtree_readable ? "(unreadable)" : d->subtree[0] ? d->subtree : "none");
	for (int a = 1; a <= d->abi && a < LANDLOCK_ABI_KNOWN; a++)
		printf("  %-20s %s\n", a == 1 ? "Landlock ABIs" : "", landlock_abi_adds[a]);
	if (d->abi >= LANDLOCK_ABI_KNOWN)
		printf("  %-20s ABI %d: newer than this calyx knows\n", "", d->abi);
}

/* The same facts as print_details, as the "details" object of `doctor --json`. */
static cJSON *details_json(const struct details *d)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "uid", d->uid);
	cJSON_AddBoolToObject(o, "root", d->uid == 0);
	cJSON *st = cJSON_AddObjectToObject(o, "state_dir");
	cJSON_AddStringToObject(st, "path", d->state_dir);
	cJSON_AddBoolToObject(st, "exists", d->state_exists);
	cJSON *b = cJSON_AddObjectToObject(o, "bpffs");
	cJSON_AddStringToObject(b, "path", RESIDENT_BPFFS);
	cJSON_AddBoolToObject(b, "mounted", d->bpffs_mounted);
	if (d->cg2_ok) {
		cJSON *cg = cJSON_AddObjectToObject(o, "cgroup_v2_root");
		cJSON_AddStringToObject(cg, "path", d->cg2_mount);
		if (d->subtree_readable)
			cJSON_AddStringToObject(cg, "subtree_control", d->subtree);
		else
			cJSON_AddNullToObject(cg, "subtree_control");
	} else {
		cJSON_AddNullToObject(o, "cgroup_v2_root");
	}
	cJSON *abis = cJSON_AddArrayToObject(o, "landlock_abis");
	for (int a = 1; a <= d->abi; a++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "abi", a);
		cJSON_AddStringToObject(e, "adds", a < LANDLOCK_ABI_KNOWN ? landlock_abi_adds[a]
								       : "newer than this calyx knows");
		cJSON_AddItemToArray(abis, e);
	}
	return o;
}

int doctor_run(bool verbose, bool json)
{
	enum { K_KERNEL, K_BTF, K_LSM, K_BPFLSM, K_CG2, K_LANDLOCK, K_RINGBUF, K_TPBTF, K_CGSOCK, K_N };
	struct check c[K_N] = {
		[K_KERNEL] = { "kernel", "kernel release", false, "" },
		[K_BTF] = { "btf", "kernel BTF", false, "" },
		[K_LSM] = { "lsm_list", "active LSMs", false, "" },
		[K_BPFLSM] = { "bpf_lsm", "BPF LSM", false, "" },
		[K_CG2] = { "cgroup2", "cgroup v2", false, "" },
		[K_LANDLOCK] = { "landlock", "Landlock", false, "" },
		[K_RINGBUF] = { "ringbuf", "BPF ring buffer", false, "" },
		[K_TPBTF] = { "tp_btf", "tp_btf programs", false, "" },
		[K_CGSOCK] = { "cgroup_sock", "cgroup sock programs", false, "" },
	};
	static struct resident_status sets[2];
	const enum enforce_backend set_b[2] = { ENFORCE_BPF_LSM, ENFORCE_LANDLOCK };
	char set_err[2][512] = { "", "" };
	for (int i = 0; i < 2; i++)
		if (resident_status(set_b[i], &sets[i], set_err[i], sizeof(set_err[i])) < 0)
			memset(&sets[i], 0, sizeof(sets[i]));
	bool any_set = sets[0].ours || sets[1].ours;

	struct utsname u;
	if (uname(&u) == 0) {
		c[K_KERNEL].ok = true;
		snprintf(c[K_KERNEL].detail, sizeof(c[K_KERNEL].detail), "%s %s", u.release, u.machine);
	} else {
		snprintf(c[K_KERNEL].detail, sizeof(c[K_KERNEL].detail), "uname: %s", strerror(errno));
	}

	c[K_BTF].ok = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	snprintf(c[K_BTF].detail, sizeof(c[K_BTF].detail), "%s",
		 c[K_BTF].ok ? "/sys/kernel/btf/vmlinux present (CO-RE works)"
			     : "/sys/kernel/btf/vmlinux missing: no CO-RE, no tp_btf, no BPF LSM");

	char list[400];
	int rc = enforcer_lsm_list(list, sizeof(list));
	c[K_LSM].ok = rc == 0;
	snprintf(c[K_LSM].detail, sizeof(c[K_LSM].detail), "%s",
		 rc == 0 ? list : "cannot read /sys/kernel/security/lsm");
	if (rc)
		snprintf(c[K_LSM].detail, sizeof(c[K_LSM].detail),
			 "cannot read /sys/kernel/security/lsm: %s", strerror(-rc));

	/* With a resident set up, the set is the proof, and no program of ours is loaded. */
	char verdict[400];
	if (sets[0].ours) {
		c[K_BPFLSM].ok = true;
		snprintf(c[K_BPFLSM].detail, sizeof(c[K_BPFLSM].detail), "works: the resident bpf-lsm set is up");
	} else if (resident_lsm_verdict(verdict, sizeof(verdict))) {
		snprintf(c[K_BPFLSM].detail, sizeof(c[K_BPFLSM].detail), "did not load on this boot: %s", verdict);
	} else if (any_set) {
		snprintf(c[K_BPFLSM].detail, sizeof(c[K_BPFLSM].detail),
			 "not probed (a resident set is up; `calyx enforcer start --enforce bpf-lsm` tries it)");
	} else {
		c[K_BPFLSM].ok = enforcer_probe_bpf_lsm(c[K_BPFLSM].detail, sizeof(c[K_BPFLSM].detail)) == 0;
	}

	char mnt[200];
	rc = cgroup2_mount_point(mnt, sizeof(mnt));
	if (rc) {
		snprintf(c[K_CG2].detail, sizeof(c[K_CG2].detail), "no cgroup2 mount in /proc/self/mountinfo");
	} else {
		char path[240], ctrls[256];
		snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
		if (fileio_read_line(path, ctrls, sizeof(ctrls)) != 0)
			snprintf(ctrls, sizeof(ctrls), "(unreadable)");
		c[K_CG2].ok = true;
		snprintf(c[K_CG2].detail, sizeof(c[K_CG2].detail), "mounted at %s; controllers: %s", mnt,
			 ctrls[0] ? ctrls : "(none)");
	}

	int abi = landlock_abi();
	c[K_LANDLOCK].ok = abi >= 1;
	if (abi >= 1)
		snprintf(c[K_LANDLOCK].detail, sizeof(c[K_LANDLOCK].detail), "ABI %d", abi);
	else
		snprintf(c[K_LANDLOCK].detail, sizeof(c[K_LANDLOCK].detail), "unavailable: %s",
			 abi == -EOPNOTSUPP ? "disabled at boot (not in lsm=)" :
			 abi == -ENOSYS     ? "not built into this kernel" : strerror(-abi));

	check_ringbuf(&c[K_RINGBUF]);
	if (any_set) {
		c[K_TPBTF].ok = true;
		snprintf(c[K_TPBTF].detail, sizeof(c[K_TPBTF].detail), "work: a resident set's monitors are attached");
		c[K_CGSOCK].ok = sets[1].ours;
		snprintf(c[K_CGSOCK].detail, sizeof(c[K_CGSOCK].detail), "%s",
			 sets[1].ours ? "work: the resident landlock set's are attached" : "not probed (a resident set is up)");
	} else {
		c[K_TPBTF].ok = enforcer_probe_tp_btf(c[K_TPBTF].detail, sizeof(c[K_TPBTF].detail)) == 0;
		c[K_CGSOCK].ok = enforcer_probe_cgroup_sock(c[K_CGSOCK].detail, sizeof(c[K_CGSOCK].detail)) == 0;
	}

	/* Each limit as `calyx run` would enforce it here: the same decision (limits_host.h),
	 * from the v2 mount's available controllers (a run enables them on its way down). */
	struct limits_host lh;
	struct limit_how how[LIMIT_COUNT];
	limits_host_probe(c[K_CG2].ok ? mnt : NULL, false, &lh);
	for (int k = 0; k < LIMIT_COUNT; k++)
		limits_host_decide(&lh, (enum limit_kind)k, &how[k]);

	char why[600];
	const char *use = will_use(&sets[0], &sets[1], !any_set, &c[K_BPFLSM],
				   c[K_LANDLOCK].ok && c[K_TPBTF].ok && c[K_CGSOCK].ok, why, sizeof(why));
	bool usable = strcmp(use, "nothing") != 0;
	struct details det;
	gather_details(&det, abi, mnt, c[K_CG2].ok);

	if (json) {
		cJSON *root = cJSON_CreateObject();
		for (int i = 0; i < K_N; i++) {
			cJSON *o = cJSON_AddObjectToObject(root, c[i].key);
			cJSON_AddBoolToObject(o, "ok", c[i].ok);
			cJSON_AddStringToObject(o, "detail", c[i].detail);
		}
		if (abi >= 1)
			cJSON_AddNumberToObject(cJSON_GetObjectItem(root, "landlock"), "abi", abi);
		cJSON *rs = cJSON_AddArrayToObject(root, "resident");
		for (int i = 0; i < 2; i++)
			cJSON_AddItemToArray(rs, enforcer_status_json(set_b[i], &sets[i]));
		cJSON *lim = cJSON_AddObjectToObject(root, "limits");
		for (int k = 0; k < LIMIT_COUNT; k++) {
			cJSON *o = cJSON_AddObjectToObject(lim, limit_claim_name((enum limit_kind)k));
			cJSON_AddBoolToObject(o, "enforceable", how[k].mech != LM_NONE);
			cJSON_AddStringToObject(o, "how", how[k].how);
		}
		cJSON *w = cJSON_AddObjectToObject(root, "will_use");
		cJSON_AddStringToObject(w, "backend", use);
		cJSON_AddStringToObject(w, "why", why);
		/* Always: a consumer of the JSON wants every fact, -v or not. */
		cJSON_AddItemToObject(root, "details", details_json(&det));
		char *s = cJSON_Print(root);
		if (s)
			puts(s);
		cJSON_free(s);
		cJSON_Delete(root);
	} else {
		/* As another user the BPF and cgroup probes fail for that reason alone: say so
		 * first, so "no ... Operation not permitted" is not read as the kernel's answer. */
		if (geteuid() != 0)
			printf("note: not running as root (uid %u): the BPF and cgroup probes below fail with "
			       "\"Operation not permitted\" for that reason alone; calyx run needs root, so run "
			       "sudo calyx doctor to see what it would get\n", (unsigned)geteuid());
		printf("resident program sets:\n");
		for (int i = 0; i < 2; i++) {
			if (set_err[i][0])
				printf("  %s: %s\n", enforce_backend_name(set_b[i]), set_err[i]);
			else
				enforcer_status_print(stdout, set_b[i], &sets[i], "  ");
		}
		for (int i = 0; i < K_N; i++)
			printf("%-22s %-4s %s\n", c[i].label, c[i].ok ? "ok" : "no", c[i].detail);
		printf("limits (how a run enforces each on this host; a set limit marked no fails the run, 69,\n"
		       "unless the matrix says unenforceable_limits: warn):\n");
		for (int k = 0; k < LIMIT_COUNT; k++)
			printf("  %-20s %-4s %s\n", limit_claim_name((enum limit_kind)k), how[k].mech != LM_NONE ? "ok" : "no",
			       how[k].how);
		printf("calyx will use: %s (%s)\n", use, why);
		if (verbose)
			print_details(&det);
	}
	fflush(stdout);
	return usable ? EXIT_OK : EXIT_ENFORCE_UNAVAILABLE;
}
