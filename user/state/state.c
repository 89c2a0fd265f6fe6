/* State directory resolution and the opening of the state dir and the ledger: see state.h. */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"

const char *state_dir_resolve(const char *cli_value)
{
	if (cli_value && *cli_value)
		return cli_value;
	/* secure_getenv: should calyx ever run with elevated privileges, the caller's
	 * environment must not pick where the audit log lives. */
	const char *env = secure_getenv(CALYX_STATE_ENV);
	if (env && *env)
		return env;
	return CALYX_STATE_DEFAULT;
}

int state_place_open(const char *path, const char *what, struct state_place *out, char *err,
		     size_t errlen)
{
	out->fd = -1;
	out->path[0] = '\0';
	if (!path || path[0] != '/')
		return errmsg(err, errlen, -EINVAL, "%s %s: must be an absolute path", what, path ? path : "");
	int rc = fileio_mkdir_p(path, STATE_DIR_MODE);
	if (rc < 0)
		return errmsg(err, errlen, rc, "%s %s: cannot create: %s", what, path, strerror(-rc));
	/* The operator's path may hold symlinks (it is theirs); what it names is checked. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "%s %s: %s", what, path, strerror(errno));
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, out->path, sizeof(out->path) - 1);
	if (n <= 0 || out->path[0] != '/')
		return errmsg(err, errlen, -EIO, "%s %s: cannot read its canonical path", what, path);
	out->path[n] = '\0';
	char why[PATH_MAX + 128];
	rc = safedir_check_root_only(fd, out->path, why, sizeof(why));
	if (rc == -EPERM)
		return errmsg(err, errlen, rc,
			      "%s %s is not safe: %s; it and every directory above it must be owned by root "
			      "and not writable by group or others (e.g. chown root:root %s && chmod 0750 %s)",
			      what, path, why, out->path, out->path);
	if (rc < 0)
		return errmsg(err, errlen, rc, "%s %s: %s", what, path, why);
	out->fd = TAKE_FD(fd);
	return 0;
}

void state_place_close(struct state_place *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int state_mkdirs(const struct state_place *p, const char *sub)
{
	int fd = safedir_mkdirs(p->fd, sub, STATE_DIR_MODE);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}
