/* `calyx run` steps 4 and 5 (docs/run.md): the command must be one of the lease's, and
 * argv[0] of every lease command is resolved through the sandbox PATH to the file that
 * will run: those files are the exec rules, and each must be one only root can change
 * ("Lease binaries only root can change"). */
#include "run/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "policy/pathpat.h"

/* Resolve argv0 like execvp would in the sandbox: a name with '/' as is, else the first
 * executable regular file along SANDBOX_PATH. Then canonicalise. 0 or -errno. */
static int resolve_program(const char *argv0, char out[PATH_MAX], struct stat *st)
{
	char cand[PATH_MAX];
	if (strchr(argv0, '/')) {
		if (!realpath(argv0, out))
			return -errno;
	} else {
		const char *p = SANDBOX_PATH;
		bool found = false;
		while (*p && !found) {
			const char *colon = strchr(p, ':');
			size_t dl = colon ? (size_t)(colon - p) : strlen(p);
			if (dl && snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, p, argv0) < (int)sizeof(cand)) {
				struct stat cs;
				if (stat(cand, &cs) == 0 && S_ISREG(cs.st_mode) && (cs.st_mode & 0111))
					found = true;
			}
			p += dl + (colon ? 1 : 0);
		}
		if (!found)
			return -ENOENT;
		if (!realpath(cand, out))
			return -errno;
	}
	if (stat(out, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode) || !(st->st_mode & 0111))
		return -EACCES;
	return 0;
}

/* A lease binary is allowed by dev+ino+path, and an in-place edit keeps all three: so only
 * a file whose contents no one but root can change may be one. Refused (reason in why):
 * not owned by root; group- or world-writable; under one of the lease's :rw paths (the
 * sandbox itself could rewrite it); a directory on the way up to / not owned by root, or
 * group/world-writable without the sticky bit: whoever can write it decides which file
 * the lease's path names (a rename puts any file they can reach there, also a root-owned
 * one, before our stat; after it the exec rule's inode refuses the swap, so the run only
 * fails). A sticky root-owned directory (/tmp) passes: others can add entries but not
 * remove or rename root's. 0 safe, 1 unsafe, -errno. */
static int binary_unsafe(const struct runner *r, const char *real, const struct stat *st,
			 char *why, size_t wlen)
{
	if (st->st_uid != 0) {
		snprintf(why, wlen, "it is owned by uid %ju, not root", (uintmax_t)st->st_uid);
		return 1;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, wlen, "it is %s-writable (mode %04o)",
			 st->st_mode & S_IWOTH ? "world" : "group", (unsigned)(st->st_mode & 07777));
		return 1;
	}
	char err[256];
	for (size_t i = 0; i < r->l.n_paths; i++) {
		if (r->l.paths[i].access != ACCESS_RW)
			continue;
		struct pathpat pat;
		/* A pattern that does not resolve fails the run later (step 8, exit 66); here it
		 * cannot admit anything. */
		if (pathpat_parse(r->l.paths[i].pattern, matrix_root_lookup, (void *)&r->m, &pat, err,
				  sizeof(err)) < 0)
			continue;
		if (pathpat_match(&pat, real)) {
			snprintf(why, wlen, "it lies under the lease's :rw path %s (the sandbox could rewrite it)",
				 r->l.paths[i].pattern);
			return 1;
		}
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", real);
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		struct stat ds;
		if (lstat(dir, &ds) < 0)
			return -errno;
		if (ds.st_uid != 0) {
			snprintf(why, wlen, "its directory %s is owned by uid %ju, not root", dir,
				 (uintmax_t)ds.st_uid);
			return 1;
		}
		if ((ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX)) {
			snprintf(why, wlen, "its directory %s is %s-writable without the sticky bit (mode %04o)",
				 dir, ds.st_mode & S_IWOTH ? "world" : "group", (unsigned)(ds.st_mode & 07777));
			return 1;
		}
		if (!strcmp(dir, "/"))
			break;
	}
	return 0;
}

static bool exec_rule_has(const struct runner *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->n_exec; i++)
		if (r->exec[i].dev == dev && r->exec[i].ino == ino)
			return true;
	return false;
}

/* A #! script runs its interpreter: that file must be a lease binary too. */
static int check_script_interpreter(struct runner *r)
{
	_cleanup_close_ int fd = open(r->binary, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;   /* unreadable for us: the kernel decides at exec */
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);   /* the #! line only */
	if (n < 2 || buf[0] != '#' || buf[1] != '!')
		return 0;
	buf[n] = '\0';
	char *s = buf + 2;
	while (*s == ' ' || *s == '\t')
		s++;
	size_t len = strcspn(s, " \t\n");
	s[len] = '\0';
	char real[PATH_MAX];
	struct stat st;
	if (!*s || !realpath(s, real) || stat(real, &st) < 0)
		return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: interpreter %s of script %s not found",
			       *s ? s : "(none)", r->binary);
	if (!exec_rule_has(r, st.st_dev, st.st_ino))
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: %s is a script for %s, which is not one of the lease's commands",
			       r->binary, real);
	return 0;
}

static void argv_render(char *const *argv, size_t argc, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < argc && o + 1 < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

/* One exec rule for the program a0 names (a lease command's argv[0] or a helper). The
 * command being run (is_main) must exist: it becomes r->binary. 0 or the run's exit code. */
static int add_exec_rule(struct runner *r, const char *a0, bool is_main)
{
	char real[PATH_MAX];
	struct stat st;
	int rc = resolve_program(a0, real, &st);
	if (is_main) {
		if (rc < 0)
			return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: binary not found: %s (%s; PATH=%s)",
				       a0, strerror(-rc), SANDBOX_PATH);
		snprintf(r->binary, sizeof(r->binary), "%s", real);
	}
	if (rc < 0) {
		run_verbose(r, "lease program %s: not found, no exec rule", a0);
		return 0;
	}
	if (strlen(real) >= CALYX_PATH_MAX)
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: %s resolves to a path longer than the enforcer's %d bytes",
			       a0, CALYX_PATH_MAX - 1);
	char why[PATH_MAX + 128];
	int u = binary_unsafe(r, real, &st, why, sizeof(why));
	if (u < 0)
		return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: lease binary %s: checking its directories: %s",
			       real, strerror(-u));
	if (u > 0)
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease binary %s could be changed by someone other than root: %s",
			       real, why);
	if (exec_rule_has(r, st.st_dev, st.st_ino) || r->n_exec >= MAX_EXEC_RULES)
		return 0;
	struct exec_rule *e = &r->exec[r->n_exec++];
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	snprintf(e->path, sizeof(e->path), "%s", real);
	run_verbose(r, "exec rule %s (dev %#jx ino %ju)", real, (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	return 0;
}

int run_match_and_resolve(struct runner *r)
{
	const struct run_opts *o = r->o;
	char shown[512];
	r->cmd_index = lease_match_command(&r->l, o->argv, (size_t)o->argc);
	if (r->cmd_index < 0) {
		argv_render(o->argv, (size_t)o->argc, shown, sizeof(shown));
		return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: '%s' is not one of the lease's commands",
			       shown);
	}
	/* Exec rules: argv[0] of every lease command (interpreters named in the lease), and
	 * every helper. */
	for (size_t i = 0; i < r->l.n_commands; i++) {
		int rc = add_exec_rule(r, r->l.commands[i].argv[0], (int)i == r->cmd_index);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < r->l.n_helpers; i++) {
		int rc = add_exec_rule(r, r->l.helpers[i], false);
		if (rc)
			return rc;
	}
	return check_script_interpreter(r);
}
