/* The overlap guard: see guard.h. */
#include "state/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/errmsg.h"

#define PARENT_WALK_MAX 4096   /* deeper than any real path; a loop guard, not a limit */

int guard_canonical_prefix(const struct pathpat *pat, char *out, size_t outlen)
{
	char lit[PATHPAT_MAX + 1];
	snprintf(lit, sizeof(lit), "%s", pat->path);
	size_t n = strlen(lit);
	while (n > 1 && lit[n - 1] == '/')
		lit[--n] = '\0';
	/* Cut components off the end until what is left exists, resolve that, re-append. */
	char head[PATHPAT_MAX + 1];
	snprintf(head, sizeof(head), "%s", lit);
	const char *rest = "";
	for (;;) {
		char real[PATH_MAX];
		if (realpath(head, real)) {
			const char *tail = rest[0] ? lit + strlen(head) : "";
			if (!strcmp(real, "/") && tail[0] == '/')
				tail++;
			if (snprintf(out, outlen, "%s%s", real, tail) >= (int)outlen)
				return -ENAMETOOLONG;
			return 0;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		char *slash = strrchr(head, '/');
		if (!slash)
			return -EINVAL;
		if (slash == head) {
			head[1] = '\0';
		} else {
			*slash = '\0';
		}
		rest = "x";
	}
}

/* a == b or a lies below b, as strings of canonical paths. */
static bool at_or_below(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (!strcmp(b, "/"))
		return true;
	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

/* Is the directory `target` (dev, ino) on the parent chain of fd (fd itself included)? */
static bool on_parent_chain(int fd, const struct stat *target)
{
	_cleanup_close_ int cur = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	struct stat st, prev = { 0 };
	for (int i = 0; cur >= 0 && i < PARENT_WALK_MAX; i++) {
		if (fstat(cur, &st) < 0)
			return false;
		if (st.st_dev == target->st_dev && st.st_ino == target->st_ino)
			return true;
		if (i && st.st_dev == prev.st_dev && st.st_ino == prev.st_ino)
			return false;   /* "/": its parent is itself */
		prev = st;
		int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(cur);
		cur = up;
	}
	return false;
}

/* The longest existing part of the lease prefix, open (O_PATH), or -errno; *whole: it is
 * the prefix itself. */
static int open_existing(const char *canon, bool *whole)
{
	*whole = true;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", canon);
	for (;;) {
		int fd = open(p, O_PATH | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		char *slash = strrchr(p, '/');
		if (errno != ENOENT || !slash)
			return -errno;
		*whole = false;
		if (slash == p) {
			if (p[1] == '\0')
				return -ENOENT;
			p[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

static int refuse(const struct guard_path *gp, const char *canon, const struct guard_place *pl,
		  const char *how, char *err, size_t errlen)
{
	return errmsg(err, errlen, -EPERM,
		      "lease path %s (pattern '%s:%s') %s the %s %s: a sandbox that reaches it could "
		      "read or rewrite what calyx keeps there; give the lease paths outside it, or move "
		      "the %s",
		      canon, gp->pattern, gp->access, how, pl->what, pl->path, pl->what);
}

int state_guard_check(const struct guard_path *paths, size_t n_paths, const struct guard_place *places,
		      size_t n_places, char *err, size_t errlen)
{
	struct stat pst[8];
	if (n_places > sizeof(pst) / sizeof(pst[0]))
		return errmsg(err, errlen, -EINVAL, "too many places to guard");
	for (size_t j = 0; j < n_places; j++)
		if (fstat(places[j].fd, &pst[j]) < 0)
			return errmsg(err, errlen, -errno, "%s %s: %s", places[j].what, places[j].path,
				      strerror(errno));
	for (size_t i = 0; i < n_paths; i++) {
		const struct guard_path *gp = &paths[i];
		char canon[PATH_MAX];
		int rc = guard_canonical_prefix(gp->pat, canon, sizeof(canon));
		if (rc < 0)
			return errmsg(err, errlen, rc, "lease path '%s': resolving %s: %s", gp->pattern,
				      gp->pat->path, strerror(-rc));
		bool whole;
		_cleanup_close_ int efd = open_existing(canon, &whole);
		struct stat est;
		bool have_e = efd >= 0 && fstat(efd, &est) == 0;
		for (size_t j = 0; j < n_places; j++) {
			const struct guard_place *pl = &places[j];
			if (at_or_below(canon, pl->path))
				return refuse(gp, canon, pl, strcmp(canon, pl->path) ? "is inside" : "is", err,
					      errlen);
			if (at_or_below(pl->path, canon))
				return refuse(gp, canon, pl, "is above", err, errlen);
			/* The same directories under other names (bind mounts): the place on the
			 * prefix's parent chain (what exists of it), or the prefix, when it exists
			 * whole, on the place's. */
			if (have_e && on_parent_chain(efd, &pst[j]))
				return refuse(gp, canon, pl, "is (through a bind mount) inside", err, errlen);
			if (have_e && whole && S_ISDIR(est.st_mode) && on_parent_chain(pl->fd, &est))
				return refuse(gp, canon, pl, "is (through a bind mount) above", err, errlen);
		}
	}
	return 0;
}
