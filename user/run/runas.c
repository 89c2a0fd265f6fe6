/* The run_as user's own access to what a run needs of it, checked before the lease is
 * used: the :rw lease paths it must write, the working directory it must enter. Without
 * this the first is a run that fails on its first write and the second a child that
 * cannot chdir, each after the ledger has consumed the lease. The kernel decides:
 * access(2) in a child that has become that user (mode bits, ACLs, the search permission
 * of every directory on the way), so no rule of ours can disagree with it. */
#include "run/runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/exitcodes.h"

/* In the child, as the user: may it write something the pattern admits? A directory it
 * can write is enough; a wildcard's directory it cannot write still serves when one of
 * its entries is writable (a :rw children pattern over a root-owned D holding the user's
 * own D/a). */
static int writable_here(const char *path, int mode, bool wildcard)
{
	if (access(path, mode) == 0)
		return 0;
	int e = errno;
	if (!wildcard)
		return e;
	DIR *d = opendir(path);
	if (!d)
		return e;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    faccessat(dirfd(d), de->d_name, W_OK, AT_SYMLINK_NOFOLLOW) == 0) {
			closedir(d);
			return 0;
		}
	closedir(d);
	return e;
}

/* 0 when uid:gid (no supplementary groups, as the sandbox has none) may access path with
 * mode (writable_here when wildcard), else the errno access(2) gave that user. */
static int access_as(uid_t uid, gid_t gid, const char *path, int mode, bool wildcard)
{
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
			_exit(EPERM);
		_exit(writable_here(path, mode, wildcard) & 0xff);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

static int refuse_rw(const struct runner *r, const char *pattern, const char *path, const struct stat *st, int e)
{
	uid_t u = r->m.run_as_uid;
	gid_t g = r->m.run_as_gid;
	return run_say(EXIT_IO,
		       "lease path %s is :rw, but the matrix's run_as user (uid %u, gid %u) cannot write %s (%s; "
		       "owner %u:%u, mode %04o): give it to that user (chown %u:%u %s) or make it writable for it, "
		       "or lease it :ro; nothing was run, the lease was not used",
		       pattern, (unsigned)u, (unsigned)g, path, strerror(e), (unsigned)st->st_uid,
		       (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777), (unsigned)u, (unsigned)g, path);
}

int run_check_run_as_access(struct runner *r)
{
	uid_t u = r->m.run_as_uid;
	gid_t g = r->m.run_as_gid;
	if (u == 0)
		return 0;   /* root's own access is not the question */
	for (size_t i = 0; i < r->l.n_paths && i < r->n_paths; i++) {
		if (r->l.paths[i].access != ACCESS_RW)
			continue;
		char path[sizeof(r->paths[i].pat.path)];
		snprintf(path, sizeof(path), "%s", r->paths[i].pat.path);
		size_t n = strlen(path);
		if (n > 1 && path[n - 1] == '/')
			path[n - 1] = '\0';   /* a wildcard pattern: its directory */
		struct stat st;
		if (stat(path, &st) < 0)
			continue;   /* missing: warned about (run_check_lease_paths) */
		/* A directory is written by making and removing entries in it; a file by itself. */
		int mode = S_ISDIR(st.st_mode) ? W_OK | X_OK : W_OK;
		int e = access_as(u, g, path, mode, r->paths[i].pat.kind != PATHPAT_EXACT && S_ISDIR(st.st_mode));
		if (e)
			return refuse_rw(r, r->l.paths[i].pattern, path, &st, e);
		run_verbose(r, "run_as %u:%u can write %s", (unsigned)u, (unsigned)g, path);
	}
	int e = access_as(u, g, r->cwd, X_OK, false);
	if (e) {
		struct stat st;
		if (stat(r->cwd, &st) < 0)
			memset(&st, 0, sizeof(st));
		return run_say(EXIT_IO,
			       "the working directory %s (%s) cannot be entered by the matrix's run_as user (uid %u, "
			       "gid %u): %s (owner %u:%u, mode %04o): give that user search permission (x) on it and "
			       "on every directory above it, or issue the lease with another --cwd; nothing was run, "
			       "the lease was not used",
			       r->cwd, r->l.cwd ? "the lease's cwd" : "the default", (unsigned)u, (unsigned)g,
			       strerror(e), (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
	}
	return 0;
}
