/* `calyx audit show`: the SVF log's records, filtered (docs/audit.md "calyx audit show"). */
#ifndef CALYX_CLI_AUDIT_SHOW_H
#define CALYX_CLI_AUDIT_SHOW_H
#include "cli/cli.h"

/* 0; 64 for a bad --since; 74 when there is no log, it cannot be read, or a line of it is
 * not a record (each named on stderr; the records around it are still shown). */
int audit_show_run(const struct audit_opts *o);

#endif
