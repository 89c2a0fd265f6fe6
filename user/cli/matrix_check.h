/* `calyx matrix check FILE`: load a capability matrix exactly as `calyx run` would and say
 * whether it is valid (docs/matrix.md "Checking a matrix"). */
#ifndef CALYX_CLI_MATRIX_CHECK_H
#define CALYX_CLI_MATRIX_CHECK_H
#include "cli/cli.h"

/* 0 with "OK FILE: …" on stdout (and warnings on stderr for what loads but will refuse
 * leases); EXIT_CONFIG (78) for a matrix that does not load, its first problem named
 * "FILE:LINE:COL: key.path: problem"; EXIT_IO (74) when it cannot be read. */
int matrix_check_run(const struct matrix_check_opts *o);

#endif
