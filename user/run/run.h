/* `calyx run`: the CP20 sandbox runner flow (verify → ledger → cgroup → enforce → spawn →
 * collect → artifacts → cleanup). Called by the CLI with parsed options. */
#ifndef CALYX_RUN_H
#define CALYX_RUN_H
#include <stdbool.h>
#include "policy/backend.h"

/* The options of `calyx run`, as cli_parse fills them (cli/cli.h). */
struct run_opts {
	const char *lease_file;       /* --lease */
	const char *pub_file;         /* --pub: the host matrix (or the shipped one) with this key trusted */
	const char *matrix_file;      /* --matrix: this matrix (may be combined with --pub) */
	const char *state_dir;        /* --state, else $CALYX_STATE, else /var/lib/calyx */
	enum enforce_backend enforce; /* --enforce, default ENFORCE_AUTO */
	int verbose;                  /* -v: 1 calyx's own steps, 2 (-vv) libbpf's debug output too */
	bool quiet;                   /* -q: no summary at the end, no warning at the start */
	bool fail_on_denial;          /* --fail-on-denial: exit 0 with a denial becomes 125 */
	bool audit_only;              /* --audit-only: record would-denies, deny nothing the
	                               * lease governs (docs/audit-only.md) */
	char **argv;                  /* the command after "--": points into the argv given to
	                               * cli_parse; NULL-terminated */
	int argc;
};

/* Runs the whole flow for a command line that has been checked (cli/run.c: a lease file
 * and a command are given); returns the process exit code (exitcodes.h, or the child's). */
int runner_run(const struct run_opts *o);

#endif
