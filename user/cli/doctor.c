/* `calyx doctor`: reports what this kernel supports, each answer from a real probe
 * (load/attach/syscall), and which backend `--enforce auto` would use. */
#include "cli/doctor.h"

#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "enforce/landlock.h"
#include "enforce/loader.h"

struct check {
	const char *key;    /* JSON key */
	const char *label;  /* human label */
	bool ok;
	char detail[512];
};

static void check_ringbuf(struct check *c)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "calyx_probe", 0, 0, 4096, NULL);
	if (fd < 0) {
		snprintf(c->detail, sizeof(c->detail), "creating a BPF ring buffer failed: %s",
			 strerror(errno));
		return;
	}
	close(fd);
	c->ok = true;
	snprintf(c->detail, sizeof(c->detail), "BPF_MAP_TYPE_RINGBUF maps can be created");
}

/* Long: one probe after another, then one report; a list, not logic. */
int doctor_run(bool verbose, bool json)
{
	(void)verbose;
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

	c[K_BPFLSM].ok = enforcer_probe_bpf_lsm(c[K_BPFLSM].detail, sizeof(c[K_BPFLSM].detail)) == 0;

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
	c[K_TPBTF].ok = enforcer_probe_tp_btf(c[K_TPBTF].detail, sizeof(c[K_TPBTF].detail)) == 0;
	c[K_CGSOCK].ok = enforcer_probe_cgroup_sock(c[K_CGSOCK].detail, sizeof(c[K_CGSOCK].detail)) == 0;

	enum enforce_backend chosen = ENFORCE_AUTO;
	char why[600];
	rc = enforcer_pick_backend(ENFORCE_AUTO, &chosen, why, sizeof(why));
	const char *use = rc == 0 ? enforce_backend_name(chosen) : "nothing";

	if (json) {
		cJSON *root = cJSON_CreateObject();
		for (int i = 0; i < K_N; i++) {
			cJSON *o = cJSON_AddObjectToObject(root, c[i].key);
			cJSON_AddBoolToObject(o, "ok", c[i].ok);
			cJSON_AddStringToObject(o, "detail", c[i].detail);
		}
		if (abi >= 1)
			cJSON_AddNumberToObject(cJSON_GetObjectItem(root, "landlock"), "abi", abi);
		cJSON *w = cJSON_AddObjectToObject(root, "will_use");
		cJSON_AddStringToObject(w, "backend", use);
		cJSON_AddStringToObject(w, "why", why);
		char *s = cJSON_Print(root);
		if (s)
			puts(s);
		cJSON_free(s);
		cJSON_Delete(root);
	} else {
		for (int i = 0; i < K_N; i++)
			printf("%-22s %-4s %s\n", c[i].label, c[i].ok ? "ok" : "no", c[i].detail);
		printf("calyx will use: %s (%s)\n", use, why);
	}
	fflush(stdout);
	return rc == 0 ? EXIT_OK : EXIT_ENFORCE_UNAVAILABLE;
}
