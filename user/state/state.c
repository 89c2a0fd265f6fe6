/* State directory resolution and creation. */
#include "state/state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

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

static int mkdir_one(const char *p)
{
	if (mkdir(p, 0750) == 0)
		return 0;
	int e = errno;
	if (e != EEXIST)
		return -e;
	/* An existing non-directory (or dangling symlink) must not pass as the state dir. */
	struct stat st;
	if (stat(p, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
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
	/* Strip trailing slashes so the final mkdir sees a real name. */
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		if (p[-1] == '/')
			continue;  /* "a//b": the empty component was already made */
		*p = '\0';
		int rc = mkdir_one(path);
		*p = '/';
		if (rc)
			return rc;
	}
	return mkdir_one(path);
}
