/* `calyx run`: what the command line must hold before the runner starts (the flow itself
 * is run/flow.c). */
#include "cli/run.h"

#include <stdio.h>

#include "base/exitcodes.h"

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
	return runner_run(o);
}
