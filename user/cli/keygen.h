/* `calyx keygen`. The atomic file writer it uses is in artifacts.h. */
#ifndef CALYX_KEYGEN_H
#define CALYX_KEYGEN_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cli/cli.h"

#define KEYGEN_SECRET_NAME "calyx.key"
#define KEYGEN_PUBLIC_NAME "calyx.pub"

/* Runs the command; prints the key id on stdout, problems on stderr; returns an exit code. */
int keygen_run(const struct keygen_opts *o);

#endif
