/* `calyx lease issue|verify|show`: execution of already parsed options (cli.h). Each
 * prints its result on stdout and problems on stderr, and returns an exit code. */
#ifndef CALYX_CLI_LEASE_H
#define CALYX_CLI_LEASE_H
#include <stdint.h>
#include <stddef.h>
#include "cli/cli.h"

/* Test hook: env CALYX_TEST_NOW=<epoch seconds> replaces the clock for issue and verify
 * (documented in README.md as test-only). Returns 0, or -EINVAL for a malformed value. */
#define CALYX_TEST_NOW_ENV "CALYX_TEST_NOW"
int lease_cmd_now(int64_t *now, char *err, size_t errlen);

/* Build the claims JSON of a new lease (malloc'd) from parsed options, for key id kid at
 * time now. Pure; exposed for the unit tests. */
char *lease_cmd_claims_json(const struct issue_opts *o, const char *jti, const char *kid, int64_t now);

int lease_issue_run(const struct issue_opts *o);
int lease_verify_run(const struct verify_opts *o);
int lease_show_run(const struct show_opts *o);

#endif
