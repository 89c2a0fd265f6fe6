/* Feature probes for `calyx doctor` when no resident set is up (with one up, the set
 * itself is the answer): each loads and attaches a tiny program of bpf/probe.bpf.c on its
 * own, so that one missing feature does not fail the others' probes. Like systemd's
 * bpf_restrict_fs_supported(), "bpf" in the LSM list proves nothing: only a real load +
 * attach of an lsm/ program does. */
#include "enforce/probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/mountinfo.h"
#include "probe.skel.h"

/* A failing probe is an answer, not noise: libbpf is silent while probing. */
static int print_none(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

int enforcer_lsm_list(char *buf, size_t len)
{
	static const char lsm_file[] = "/sys/kernel/security/lsm";
	int rc = fileio_read_line(lsm_file, buf, len);
	if (rc == -ENOENT) {
		/* securityfs not mounted yet (busybox inits, minimal hosts) */
		if (mount("securityfs", "/sys/kernel/security", "securityfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0 && errno != EBUSY)
			return -errno;
		rc = fileio_read_line(lsm_file, buf, len);
	}
	return rc;
}

static bool list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n == wl && strncmp(p, word, n) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

/* The probe object holds one program per feature; a probe loads only its own, so that
 * one missing feature does not fail the others' probes. */
enum probe_prog { PROBE_LSM, PROBE_TP_BTF, PROBE_CGROUP_SOCK, PROBE_NPROGS };
static const char *const probe_what[PROBE_NPROGS] = {
	[PROBE_LSM] = "test lsm/", [PROBE_TP_BTF] = "tp_btf", [PROBE_CGROUP_SOCK] = "cgroup/connect4",
};

static struct bpf_program *probe_prog(const struct probe_bpf *p, enum probe_prog i)
{
	switch (i) {
	case PROBE_LSM:
		return p->progs.probe_lsm;
	case PROBE_TP_BTF:
		return p->progs.probe_tp_btf;
	default:
		return p->progs.probe_cgroup_sock;
	}
}

/* Opens the probe object and loads program `keep` alone,. 0 with *out loaded, or -errno
 * with why filled (and nothing left to close). */
static int probe_load(enum probe_prog keep, struct probe_bpf **out, char *why, size_t len)
{
	libbpf_set_print(print_none);
	struct probe_bpf *p = probe_bpf__open();
	if (!p) {
		int rc = -errno;
		return errmsg(why, len, rc, "opening the probe object failed: %s", strerror(-rc));
	}
	for (int i = 0; i < PROBE_NPROGS; i++)
		if (i != (int)keep)
			bpf_program__set_autoload(probe_prog(p, (enum probe_prog)i), false);
	int rc = probe_bpf__load(p);
	if (rc) {
		probe_bpf__destroy(p);
		if (rc == -EPERM && keep == PROBE_LSM)
			return errmsg(why, len, rc,
				      "the kernel refuses trampoline-based BPF programs (lsm/, fentry/)");
		return errmsg(why, len, rc, "loading a %s program failed: %s", probe_what[keep],
			      strerror(-rc));
	}
	*out = p;
	return 0;
}

static void probe_close(struct probe_bpf *p)
{
	probe_bpf__destroy(p);
}

/* Attaches a loaded probe program (a cgroup one to cgroup_fd) and detaches it again.
 * 0, or -errno with why filled. */
static int probe_attach(struct probe_bpf *p, enum probe_prog which, int cgroup_fd, char *why,
			size_t len)
{
	struct bpf_program *prog = probe_prog(p, which);
	struct bpf_link *l = cgroup_fd >= 0 ? bpf_program__attach_cgroup(prog, cgroup_fd) :
					      bpf_program__attach(prog);
	if (!l) {
		int rc = -errno;
		return errmsg(why, len, rc, "attaching a %s program failed: %s", probe_what[which],
			      strerror(-rc));
	}
	bpf_link__destroy(l);
	return 0;
}

/* Load, attach to its own hook, detach and free: the whole probe of a program that needs
 * no attach target. 0, or -errno with why filled. */
static int probe_load_attach(enum probe_prog which, char *why, size_t len)
{
	struct probe_bpf *p;
	int rc = probe_load(which, &p, why, len);
	if (rc)
		return rc;
	rc = probe_attach(p, which, -1, why, len);
	probe_close(p);
	return rc;
}

int enforcer_probe_bpf_lsm(char *why, size_t len)
{
	char list[512];
	int rc = enforcer_lsm_list(list, sizeof(list));
	if (rc)
		return errmsg(why, len, rc, "cannot read the active LSM list (/sys/kernel/security/lsm): %s",
			      strerror(-rc));
	if (!list_has(list, "bpf"))
		return errmsg(why, len, -ENOTSUP,
			      "\"bpf\" is not in the active LSM list (%s): boot with lsm=%s,bpf", list, list);


	rc = probe_load_attach(PROBE_LSM, why, len);
	if (!rc)
		errmsg(why, len, 0, "active (%s) and a test lsm/ program loads and attaches", list);
	return rc;
}

int enforcer_probe_tp_btf(char *why, size_t len)
{
	int rc = probe_load_attach(PROBE_TP_BTF, why, len);
	if (!rc)
		errmsg(why, len, 0, "a tp_btf program loads and attaches");
	return rc;
}

int enforcer_probe_cgroup_sock(char *why, size_t len)
{
	struct probe_bpf *p;
	int rc = probe_load(PROBE_CGROUP_SOCK, &p, why, len);
	if (rc)
		return rc;
	/* Attach to a fresh empty cgroup: proves attach works without touching anyone. */
	char mnt[PATH_MAX], dir[PATH_MAX + 64];
	rc = cgroup2_mount_point(mnt, sizeof(mnt));
	if (rc) {
		errmsg(why, len, rc, "no cgroup v2 mount to attach to");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/calyx-probe-%d", mnt, (int)getpid());
	if (mkdir(dir, 0700) != 0) {
		rc = -errno;
		errmsg(why, len, rc, "cannot create a probe cgroup %s: %s", dir, strerror(-rc));
		goto out;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		errmsg(why, len, rc, "cannot open %s: %s", dir, strerror(-rc));
	} else {
		rc = probe_attach(p, PROBE_CGROUP_SOCK, fd, why, len);
		if (!rc)
			errmsg(why, len, 0, "cgroup/connect4 loads and attaches to a cgroup v2 directory");
		close(fd);
	}
	rmdir(dir);
out:
	probe_close(p);
	return rc;
}
