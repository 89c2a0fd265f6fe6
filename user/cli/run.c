/* `calyx run`: what the command line must hold before the runner starts (the flow itself
 * is run/flow.c). */
#include "cli/run.h"

#include <stdio.h>

#include "base/exitcodes.h"
#include "cli/needroot.h"

int run_cmd_run(const struct run_opts *o)
{
	if (!o->lease_file || !*o->lease_file) {
		fprintf(stderr, "calyx: run: --lease is required\n");
		return EXIT_USAGE;
	}
	if (!o->argv || o->argc < 1 || !o->argv[0] || !*o->argv[0]) {
		fprintf(stderr, "calyx: run: no command given after --\n");
		return EXIT_USAGE;
	}
	int rc = cli_need_root("run", "it loads the enforcer (BPF LSM or Landlock), makes the sandbox's cgroup "
			       "and namespaces, and keeps the state dir and the ledger root's",
			       "nothing was run, the lease was not used");
	return rc ? rc : runner_run(o);
}
