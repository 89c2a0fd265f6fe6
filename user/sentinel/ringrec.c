/* The ring-buffer record check (see ringrec.h). */
#include "sentinel/ringrec.h"

#include <stdint.h>

#include "calyx.h"

/* calyx.h: one size per type, two for denials (with and without a path). */
static bool size_ok(uint32_t type, size_t size)
{
	switch (type) {
	case CALYX_EV_DENY:
		return size == sizeof(struct calyx_deny_event) || size == sizeof(struct calyx_deny_path_event);
	case CALYX_EV_EXEC: return size == sizeof(struct calyx_exec_event);
	case CALYX_EV_EXIT: return size == sizeof(struct calyx_exit_event);
	case CALYX_EV_FORK: return size == sizeof(struct calyx_fork_event);
	case CALYX_EV_KILL: return size == sizeof(struct calyx_kill_event);
	default: return false;
	}
}

bool ringrec_valid(const void *data, size_t size)
{
	const struct calyx_event *ev = data;
	return size >= sizeof(struct calyx_event) && ev->size == size && size_ok(ev->type, size);
}
