/* Inside the CLI parser (cli.c, options.c): the option ids the tables and the value
 * handlers share. */
#ifndef CALYX_CLI_OPTIONS_H
#define CALYX_CLI_OPTIONS_H
#include <stddef.h>
#include "cli/cli.h"

enum opt_id {
	O_HELP = 256,
	O_OUT, O_FORCE,
	O_KEY, O_INTENT, O_TTL, O_CMD, O_PATH, O_NET, O_LIMIT, O_RUNS, O_ENV, O_HELPER, O_AUD, O_CWD, O_OUTPUT,
	O_PUB, O_MATRIX, O_SKEW, O_JSON,
	O_LEASE, O_STATE, O_ENFORCE, O_VERBOSE, O_QUIET, O_FAIL_ON_DENIAL, O_AUDIT_ONLY,
	O_AUDIT, O_ALLOW_UNSIGNED,
	O_TYPE, O_SINCE,
	O_LOG, O_HOST,
	O_MAX,
};

/* Take the value v of option id for the subcommand being parsed (c->cmd). 0, or -EINVAL
 * with the problem in err. */
int cli_handle_opt(struct cli *c, int id, const char *v, char *err, size_t errlen);

#endif
