/* State directory resolution and creation. */
#include "state/state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "base/fileio.h"

const char *state_dir_resolve(const char *cli_value)
{
	if (cli_value && *cli_value)
		return cli_value;
	/* secure_getenv: should calyx ever run with elevated privileges, the caller's
	 * environment must not pick where the ledger and audit log live. */
	const char *env = secure_getenv(CALYX_STATE_ENV);
	if (env && *env)
		return env;
	return CALYX_STATE_DEFAULT;
}

int state_mkdirs(const char *dir, const char *sub)
{
	char path[PATH_MAX];
	if (!dir || !*dir)
		return -EINVAL;
	int n = (sub && *sub) ? snprintf(path, sizeof(path), "%s/%s", dir, sub)
			      : snprintf(path, sizeof(path), "%s", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return fileio_mkdir_p(path, 0750);
}
