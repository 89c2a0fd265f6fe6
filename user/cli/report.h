/* `calyx report LEASE-ID`: one self-contained HTML page about a run (docs/report.md). */
#ifndef CALYX_CLI_REPORT_H
#define CALYX_CLI_REPORT_H
#include "cli/cli.h"

/* Writes the page to o->out_file (atomically) or stdout. 0; EXIT_NO_RUN, EXIT_RUN_DAMAGED,
 * EXIT_IO, EXIT_INTERNAL (out of memory) with one "calyx: report: …" line on stderr. */
int report_cmd_run(const struct report_opts *o);

#endif
