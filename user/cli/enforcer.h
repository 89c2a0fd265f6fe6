/* `calyx enforcer start|status|stop`: the resident program set, by hand (docs/enforcer.md).
 * The status renderers serve `calyx doctor` too. */
#ifndef CALYX_CLI_ENFORCER_H
#define CALYX_CLI_ENFORCER_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "cli/cli.h"
#include "enforce/resident.h"

int enforcer_start_run(const struct enforcer_opts *o);
int enforcer_status_run(const struct enforcer_opts *o);
int enforcer_stop_run(const struct enforcer_opts *o);

/* One backend's status, as lines of text (each starting with indent) or as a JSON object. */
void enforcer_status_print(FILE *f, enum enforce_backend b, const struct resident_status *st, const char *indent);
cJSON *enforcer_status_json(enum enforce_backend b, const struct resident_status *st);

#endif
