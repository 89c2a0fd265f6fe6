/* `calyx run`: the command line checked, then the runner (run/run.h). */
#ifndef CALYX_CLI_RUN_H
#define CALYX_CLI_RUN_H
#include "run/run.h"

/* Returns the process exit code: 64 for a usage error, else runner_run's. */
int run_cmd_run(const struct run_opts *o);

#endif
