/* How this host enforces each limit (see limits_host.h). */
#include "sandbox/limits_host.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cgroupfs.h"
#include "base/fileio.h"

static bool swap_is_on(void)
{
	char buf[512];
	/* A header line, then one line per active swap area. */
	if (fileio_read_small_at(AT_FDCWD, "/proc/swaps", buf, sizeof(buf)) <= 0)
		return false;
	char *nl = strchr(buf, '\n');
	return nl && nl[1] != '\0';
}

void limits_host_probe(const char *v2_dir, bool subtree, struct limits_host *h)
{
	memset(h, 0, sizeof(*h));
	char ctrls[512] = "";
	int fd = v2_dir ? open(v2_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		fileio_read_small_at(fd, subtree ? "cgroup.subtree_control" : "cgroup.controllers", ctrls,
				     sizeof(ctrls));
		uint64_t v;
		/* cpu.stat is a core v2 file of every cgroup (no controller needed). */
		h->cpu_stat = cgroupfs_keyed_value(fd, "cpu.stat", "usage_usec", &v) == 0;
		close(fd);
	}
	for (int c = 0; c < CG1_COUNT; c++) {
		h->v2[c] = cgroupfs_has_word(ctrls, cgroup_v1_name((enum cgroup_v1_ctrl)c));
		if (h->v2[c])
			continue;   /* a controller is bound to one hierarchy: v1 cannot have it */
		h->v1[c] = cgroup_v1_own_dir((enum cgroup_v1_ctrl)c, h->v1_dir[c], sizeof(h->v1_dir[c]),
					     h->v1_why[c], sizeof(h->v1_why[c])) == 0;
		if (h->v1[c] && access(h->v1_dir[c], W_OK) < 0) {
			h->v1[c] = false;
			snprintf(h->v1_why[c], sizeof(h->v1_why[c]), "cgroup v1 %s directory %s is not writable",
				 cgroup_v1_name((enum cgroup_v1_ctrl)c), h->v1_dir[c]);
		}
	}
	if (h->v1[CG1_MEMORY])
		h->memsw = cgroup_v1_has_memsw(h->v1_dir[CG1_MEMORY]);
	h->swap_on = swap_is_on();
}

__attribute__((format(printf, 3, 4)))
static void say(struct limit_how *o, enum limit_mech m, const char *fmt, ...)
{
	va_list ap;
	o->mech = m;
	va_start(ap, fmt);
	vsnprintf(o->how, sizeof(o->how), fmt, ap);
	va_end(ap);
}

/* memory or pids: v2, else v1, else none. */
static void decide_ctrl(const struct limits_host *h, enum cgroup_v1_ctrl c, struct limit_how *o)
{
	const char *name = cgroup_v1_name(c);
	if (h->v2[c]) {
		if (c == CG1_MEMORY)
			say(o, LM_CGROUP_V2, "cgroup v2 memory.max, memory.swap.max 0 and memory.oom.group 1 "
			    "(the OOM killer takes the whole cgroup), then cgroup.kill");
		else
			say(o, LM_CGROUP_V2, "cgroup v2 pids.max (a fork past it fails with EAGAIN), then "
			    "cgroup.kill at the first refused fork");
		return;
	}
	if (!h->v1[c]) {
		o->mech = LM_NONE;
		snprintf(o->how, sizeof(o->how), "the %s controller is not in the cgroup v2 hierarchy and %s",
			 name, h->v1_why[c][0] ? h->v1_why[c] : "no cgroup v1 hierarchy offers it");
		return;
	}
	if (c == CG1_PIDS) {
		say(o, LM_CGROUP_V1, "cgroup v1 pids.max below %s (a fork past it fails with EAGAIN), then "
		    "cgroup.kill at the first refused fork", h->v1_dir[c]);
		return;
	}
	if (h->memsw)
		say(o, LM_CGROUP_V1, "cgroup v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes below %s "
		    "(memory + swap; the OOM killer on excess), then cgroup.kill", h->v1_dir[c]);
	else if (!h->swap_on)
		say(o, LM_CGROUP_V1, "cgroup v1 memory.limit_in_bytes below %s (no swap accounting, and no swap "
		    "is on; the OOM killer on excess), then cgroup.kill", h->v1_dir[c]);
	else
		say(o, LM_NONE, "the cgroup v1 memory controller at %s does not account swap (no "
		    "memory.memsw.limit_in_bytes) and swap is on: memory could go to swap past the bound",
		    h->v1_dir[c]);
}

void limits_host_decide(const struct limits_host *h, enum limit_kind k, struct limit_how *out)
{
	memset(out, 0, sizeof(*out));
	switch (k) {
	case LIMIT_WALL:
		say(out, LM_RUNNER, "runner timerfd, then cgroup.kill");
		break;
	case LIMIT_OUTPUT:
		say(out, LM_RUNNER, "runner counts stdout and stderr together; past the bound nothing more is "
		    "written, then cgroup.kill");
		break;
	case LIMIT_CPU:
		if (h->cpu_stat)
			say(out, LM_CPU_POLL, "runner polls the cgroup's cpu.stat usage_usec (the whole tree) every "
			    "%d ms, then cgroup.kill", LIMITS_HOST_POLL_MS);
		else
			say(out, LM_NONE, "cpu.stat usage_usec is not readable in the cgroup v2 hierarchy");
		break;
	case LIMIT_MEM:
		decide_ctrl(h, CG1_MEMORY, out);
		break;
	case LIMIT_PIDS:
		decide_ctrl(h, CG1_PIDS, out);
		break;
	case LIMIT_FSIZE:
		say(out, LM_RLIMIT, "RLIMIT_FSIZE in the sandbox (a write past it fails with EFBIG and raises "
		    "SIGXFSZ, which the enforcer counts), then cgroup.kill");
		break;
	default:
		say(out, LM_NONE, "unknown limit");
		break;
	}
}
