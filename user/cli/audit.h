/* `calyx audit verify|repair` and `calyx keygen --audit` (docs/audit.md). */
#ifndef CALYX_CLI_AUDIT_H
#define CALYX_CLI_AUDIT_H
#include "cli/cli.h"
int audit_verify_run(const struct audit_opts *o);
int audit_repair_run(const struct audit_opts *o);
int audit_keygen_run(const struct keygen_opts *o);
#endif
