/* `calyx lease suggest LEASE-ID [--state DIR] [--json]`: the smallest lease a recorded run
 * needed (policy/suggest.h derives it; docs/suggest.md). */
#ifndef CALYX_CLI_SUGGEST_H
#define CALYX_CLI_SUGGEST_H
#include "cli/cli.h"

int suggest_cmd_run(const struct suggest_opts *o);

#endif
