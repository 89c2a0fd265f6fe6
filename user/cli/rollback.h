/* `calyx rollback LEASE-ID [--state DIR] [--force]`: a run's :rw paths put back as they
 * were before it started (docs/rollback.md). */
#ifndef CALYX_CLI_ROLLBACK_H
#define CALYX_CLI_ROLLBACK_H
#include "cli/cli.h"

/* The process exit code: 0 restored and verified; 74, 76, 77, 78, 79 (base/exitcodes.h),
 * each said on stderr. */
int rollback_run(const struct rollback_opts *o);

#endif
