/* Programs named by a lease, found the way the sandbox finds them (resolve.h). */
#include "sandbox/resolve.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/spawn.h"

int sandbox_resolve_program(const char *argv0, char found[PATH_MAX], char out[PATH_MAX], struct stat *st)
{
	if (strchr(argv0, '/')) {
		if (snprintf(found, PATH_MAX, "%s", argv0) >= PATH_MAX)
			return -ENAMETOOLONG;
	} else {
		const char *p = SANDBOX_PATH;
		bool ok = false;
		while (*p && !ok) {
			const char *colon = strchr(p, ':');
			size_t dl = colon ? (size_t)(colon - p) : strlen(p);
			if (dl && snprintf(found, PATH_MAX, "%.*s/%s", (int)dl, p, argv0) < PATH_MAX) {
				struct stat cs;
				if (stat(found, &cs) == 0 && S_ISREG(cs.st_mode) && (cs.st_mode & 0111))
					ok = true;
			}
			p += dl + (colon ? 1 : 0);
		}
		if (!ok)
			return -ENOENT;
	}
	if (!realpath(found, out))
		return -errno;
	if (stat(out, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111))
		return -EACCES;
	return 0;
}
