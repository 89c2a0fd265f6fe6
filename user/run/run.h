/* `calyx run`: the CP20 sandbox runner flow (verify → ledger → cgroup → enforce → spawn →
 * collect → artifacts → cleanup). Called by the CLI with parsed options. */
#ifndef CALYX_RUN_H
#define CALYX_RUN_H
#include <stdbool.h>
#include "policy/backend.h"

struct run_opts {
	const char *lease_file;
	const char *pub_file;      /* --pub: shipped matrix with this key trusted */
	const char *matrix_file;   /* --matrix: this matrix (may be combined with --pub) */
	const char *state_dir;     /* --state, else $CALYX_STATE, else /var/lib/calyx */
	enum enforce_backend enforce; /* --enforce, default ENFORCE_AUTO */
	char **argv;               /* the command after "--", NULL-terminated */
	int argc;
	bool verbose;
};

/* Runs the whole flow; returns the process exit code (exitcodes.h, or the child's). */
int runner_run(const struct run_opts *o);

#endif
