/* `calyx enforcer metrics`: the host's counters for Prometheus (docs/fleet.md "Metrics"). */
#ifndef CALYX_CLI_METRICS_H
#define CALYX_CLI_METRICS_H
#include "cli/cli.h"

int metrics_run(const struct enforcer_opts *o);

#endif
