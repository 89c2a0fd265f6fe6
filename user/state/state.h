/* The state directory layout (docs/run.md: artifacts, SVF log, runner records) and the
 * opening of the two places a run keeps state in: the state dir and the host-wide
 * single-use ledger (docs/run.md "The state directory and the ledger"). Both must be
 * directories only root controls; every file beneath them is then opened relative to the
 * directory's fd without following symlinks (base/safedir.h). */
#ifndef CALYX_STATE_H
#define CALYX_STATE_H
#include <limits.h>
#include <stddef.h>

#define CALYX_STATE_DEFAULT "/var/lib/calyx"
#define CALYX_STATE_ENV "CALYX_STATE"
#define STATE_LEASES_DIR "outgoing/leases"
#define STATE_RUNS_DIR "outgoing/staging_runs"
#define STATE_RESOURCE_LOG_DIR "logs/resource_monitoring"
#define STATE_SVF_DIR "logs/svf_audit"
#define STATE_SVF_LOG "logs/svf_audit/svf.jsonl"
#define STATE_RUNNERS_DIR "run"     /* STATE/run/<run name>.json: one record per runner at work */
#define STATE_DIR_MODE 0750

/* --state, else $CALYX_STATE, else the default. */
const char *state_dir_resolve(const char *cli_value);

/* An open state place: its fd and its canonical path (for messages and the overlap guard). */
struct state_place {
	int fd;
	char path[PATH_MAX];
};

/* Make path (mkdir -p, mode 0750) unless it exists, open it and check it is a directory
 * only root controls (safedir_check_root_only). what names it in messages ("state dir",
 * "ledger"). 0; -EPERM when it is not safe, with a message naming the directory, why and
 * the fix; other -errno (not creatable, not openable) with a message. */
int state_place_open(const char *path, const char *what, struct state_place *out, char *err,
		     size_t errlen);
void state_place_close(struct state_place *p);   /* idempotent; fd -1 after */

/* mkdir -p of sub beneath the place, without following symlinks. 0 or -errno. */
int state_mkdirs(const struct state_place *p, const char *sub);

#endif
