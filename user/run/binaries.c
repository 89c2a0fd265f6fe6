/* `calyx run` steps 4 and 5 (docs/run.md): the command must be one of the lease's, and
 * argv[0] of every lease command and every helper is resolved through the sandbox PATH to
 * the file that will run: those files (and the interpreters of #! script commands) are
 * the exec rules, and each must be one only root can change ("Lease binaries only root
 * can change"). Each lease command's exact argv is bound to the image the kernel runs for
 * it (docs/lease-format.md "Argv binding"); helpers run with any argv. */
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
#include "base/shebang.h"
#include "policy/pathpat.h"
#include "sandbox/resolve.h"

static int resolve_program(const char *argv0, char out[PATH_MAX], struct stat *st)
{
	char found[PATH_MAX];
	return sandbox_resolve_program(argv0, found, out, st);
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

static struct exec_rule *exec_rule_find(struct runner *r, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < r->n_exec; i++)
		if (r->exec[i].dev == dev && r->exec[i].ino == ino)
			return &r->exec[i];
	return NULL;
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

/* The file real (resolved from what, for messages) may become an exec rule: a path the
 * enforcer holds, a file only root can change. 0 or the run's exit code, said. */
static int check_lease_binary(struct runner *r, const char *what, const char *real, const struct stat *st)
{
	if (strlen(real) >= CALYX_PATH_MAX)
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: %s resolves to a path longer than the enforcer's %d bytes",
			       what, CALYX_PATH_MAX - 1);
	char why[PATH_MAX + 128];
	int u = binary_unsafe(r, real, st, why, sizeof(why));
	if (u < 0)
		return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: lease binary %s: checking its directories: %s",
			       real, strerror(-u));
	if (u > 0)
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease binary %s could be changed by someone other than root: %s",
			       real, why);
	return 0;
}

/* The exec rule of a checked file; a helper's makes it runnable with any argv. 0 or the
 * run's exit code. */
static int exec_rule_put(struct runner *r, const char *real, const struct stat *st, bool any_argv)
{
	struct exec_rule *e = exec_rule_find(r, st->st_dev, st->st_ino);
	if (!e) {
		if (r->n_exec >= MAX_EXEC_RULES)
			return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: more than %d lease binaries",
				       MAX_EXEC_RULES);
		e = &r->exec[r->n_exec++];
		memset(e, 0, sizeof(*e));
		e->dev = st->st_dev;
		e->ino = st->st_ino;
		snprintf(e->path, sizeof(e->path), "%s", real);
	}
	e->any_argv = e->any_argv || any_argv;
	run_verbose(r, "exec rule %s (dev %#jx ino %ju)%s", real, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
		    any_argv ? ", any argv (helper)" : "");
	return 0;
}

/* An argv rule for the image img: the strings head[] then tail[], each with its NUL.
 * Identical rules are kept once. 0 or the run's exit code (the argv is longer than the
 * kernel compares; cmd names the command). */
static int argv_rule_put(struct runner *r, const struct stat *img, const char *const *head, size_t nhead,
			 char *const *tail, size_t ntail, const char *cmd)
{
	struct argv_rule *a = calloc(1, sizeof(*a));
	if (!a)
		return run_say(EXIT_INTERNAL, "out of memory");
	size_t len = 0;
	bool fits = true;
	for (size_t i = 0; i < nhead + ntail && fits; i++) {
		const char *s = i < nhead ? head[i] : tail[i - nhead];
		size_t l = strlen(s) + 1;
		if (len + l > CALYX_ARGV_MAX)
			fits = false;
		else
			memcpy(a->bytes + len, s, l);
		len += l;
	}
	if (!fits) {
		free(a);
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease command '%s': its argv is longer than the %d bytes the enforcer compares",
			       cmd, CALYX_ARGV_MAX);
	}
	a->dev = img->st_dev;
	a->ino = img->st_ino;
	a->len = (uint32_t)len;
	for (size_t i = 0; i < r->n_argv; i++)
		if (r->argv[i].dev == a->dev && r->argv[i].ino == a->ino && r->argv[i].len == a->len &&
		    memcmp(r->argv[i].bytes, a->bytes, len) == 0) {
			free(a);
			return 0;
		}
	if (r->n_argv >= CALYX_SB_MAX_ARGV) {
		free(a);
		return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: more than %d argv rules", CALYX_SB_MAX_ARGV);
	}
	struct argv_rule *grown = realloc(r->argv, (r->n_argv + 1) * sizeof(*r->argv));
	if (!grown) {
		free(a);
		return run_say(EXIT_INTERNAL, "out of memory");
	}
	r->argv = grown;
	r->argv[r->n_argv++] = *a;
	free(a);
	return 0;
}

/* A #! script command: the kernel runs its interpreter with the argv
 *     interpreter [optional-arg] <the path given to execve> argv[1..]
 * so that is what is bound, on the interpreter's file, once for each path the script can
 * be exec'd by: its canonical path (what the runner execs), argv[0] as the lease writes
 * it when that is a path, and its PATH resolution when argv[0] is a bare name. The
 * interpreter becomes an exec rule (with no argv of its own). Refused (68, naming the
 * command) when the interpreter cannot be bound: a #! line the kernel refuses, a relative
 * interpreter (the kernel resolves it from the caller's working directory), one that is
 * not found, is itself a script, or is not a file only root can change. */
static int bind_script(struct runner *r, const struct argv_list *c, const struct shebang *sb,
		       const char *found, const char *real, const char *cmd)
{
	if (sb->interp[0] != '/')
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease command '%s': script %s names the relative interpreter '%s', which cannot be bound",
			       cmd, real, sb->interp);
	char ireal[PATH_MAX];
	struct stat ist;
	if (!realpath(sb->interp, ireal) || stat(ireal, &ist) < 0 || !S_ISREG(ist.st_mode) || !(ist.st_mode & 0111))
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease command '%s': interpreter %s of script %s is not an executable file",
			       cmd, sb->interp, real);
	struct shebang nested;
	int rc = shebang_read(ireal, &nested);
	if (rc != 0)
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease command '%s': interpreter %s of script %s %s",
			       cmd, ireal, real, rc > 0 ? "is itself a script (not bound)" : "cannot be read");
	if ((rc = check_lease_binary(r, sb->interp, ireal, &ist)) || (rc = exec_rule_put(r, ireal, &ist, false)))
		return rc;
	const char *paths[3] = { real, NULL, NULL };
	size_t np = 1;
	if (strcmp(found, real) != 0)
		paths[np++] = found;   /* argv[0] as written (a path) or its PATH resolution */
	for (size_t i = 0; i < np; i++) {
		const char *head[3];
		size_t nh = 0;
		head[nh++] = sb->interp;
		if (sb->has_arg)
			head[nh++] = sb->arg;
		head[nh++] = paths[i];
		if ((rc = argv_rule_put(r, &ist, head, nh, c->argv + 1, c->argc - 1, cmd)))
			return rc;
	}
	return 0;
}

/* Lease command c: its binary an exec rule, its argv bound (docs/lease-format.md "Argv
 * binding"). The command being run (is_main) must exist: it becomes r->binary. A command
 * whose binary is not found here binds nothing (nothing could exec it). 0 or the run's
 * exit code. */
static int bind_command(struct runner *r, const struct argv_list *c, bool is_main)
{
	const char *a0 = c->argv[0];
	char found[PATH_MAX], real[PATH_MAX], cmd[512];
	struct stat st;
	argv_render(c->argv, c->argc, cmd, sizeof(cmd));
	int rc = sandbox_resolve_program(a0, found, real, &st);
	if (is_main) {
		if (rc < 0)
			return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: binary not found: %s (%s; PATH=%s)",
				       a0, strerror(-rc), SANDBOX_PATH);
		snprintf(r->binary, sizeof(r->binary), "%s", real);
	}
	if (rc < 0) {
		run_verbose(r, "lease command %s: not found, no exec rule", a0);
		return 0;
	}
	if ((rc = check_lease_binary(r, a0, real, &st)) || (rc = exec_rule_put(r, real, &st, false)))
		return rc;
	struct shebang sb;
	int s = shebang_read(real, &sb);
	if (s < 0)
		return run_say(EXIT_CMD_NOT_ALLOWED, "command not allowed: lease command '%s': %s %s", cmd, real,
			       s == -ENOEXEC ? "has a #! line the kernel refuses" : "cannot be read to bind its argv");
	if (s > 0)
		return bind_script(r, c, &sb, found, real, cmd);
	return argv_rule_put(r, &st, NULL, 0, c->argv, c->argc, cmd);
}

/* A helper: an exec rule that runs with any argv. A helper not found binds nothing. A #!
 * script cannot be one: the image the kernel runs is its interpreter, which would have to
 * run with any argv (any program). */
static int bind_helper(struct runner *r, const char *name)
{
	char real[PATH_MAX];
	struct stat st;
	int rc = resolve_program(name, real, &st);
	if (rc < 0) {
		run_verbose(r, "lease helper %s: not found, no exec rule", name);
		return 0;
	}
	if ((rc = check_lease_binary(r, name, real, &st)))
		return rc;
	struct shebang sb;
	int s = shebang_read(real, &sb);
	if (s != 0)
		return run_say(EXIT_CMD_NOT_ALLOWED,
			       "command not allowed: lease helper %s: %s is %s; a helper runs with any argv, so it must be a binary (make the script a command)",
			       name, real, s > 0 ? "a #! script" : "unreadable or has a #! line the kernel refuses");
	return exec_rule_put(r, real, &st, true);
}

/* "#!/usr/bin/env python3": calyx binds env (the script's interpreter), but env then execs
 * python3, a program of its own that needs its own exec rule. Without one the run is
 * certain to be killed at that exec: refused now (68) with the fix, before anything is
 * consumed. Only the command being run; a program that has any exec rule is left to it. */
static int check_env_script(struct runner *r, const struct argv_list *c)
{
	char found[PATH_MAX], real[PATH_MAX], pfound[PATH_MAX], preal[PATH_MAX], cmd[512];
	struct stat st, pst;
	struct shebang sb;
	if (sandbox_resolve_program(c->argv[0], found, real, &st) < 0 || shebang_read(real, &sb) != 1)
		return 0;
	const char *prog = shebang_env_program(&sb);
	if (!prog || sandbox_resolve_program(prog, pfound, preal, &pst) < 0 ||
	    exec_rule_find(r, pst.st_dev, pst.st_ino))
		return 0;
	argv_render(c->argv, c->argc, cmd, sizeof(cmd));
	return run_say(EXIT_CMD_NOT_ALLOWED,
		       "command not allowed: lease command '%s': script %s starts with '#!%s %s', so env then "
		       "execs %s (%s), which the lease does not allow (the run would be killed at that exec): "
		       "add --helper %s to the lease, or make the #! line '#!%s' (calyx binds a script's own "
		       "interpreter); nothing was run, the lease was not used",
		       cmd, real, sb.interp, sb.arg, prog, preal, prog, preal);
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
	for (size_t i = 0; i < r->l.n_commands; i++) {
		int rc = bind_command(r, &r->l.commands[i], (int)i == r->cmd_index);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < r->l.n_helpers; i++) {
		int rc = bind_helper(r, r->l.helpers[i]);
		if (rc)
			return rc;
	}
	return check_env_script(r, &r->l.commands[r->cmd_index]);
}

int run_resolve_cwd(struct runner *r)
{
	char err[256];
	struct pathpat p;
	if (!r->l.cwd) {
		snprintf(r->cwd, sizeof(r->cwd), "/");
		return 0;
	}
	/* The lease parser checked the syntax and that a lease path covers it. */
	if (pathpat_parse(r->l.cwd, matrix_root_lookup, &r->m, &p, err, sizeof(err)) < 0)
		return run_say(EXIT_LEASE_MATRIX, "lease outside the capability matrix: cwd '%s': %s", r->l.cwd, err);
	snprintf(r->cwd, sizeof(r->cwd), "%s", p.path);
	struct stat st;
	if (stat(r->cwd, &st) < 0)
		return run_say(EXIT_IO, "lease cwd '%s' (%s): %s; nothing was run, the lease was not used",
			       r->l.cwd, r->cwd, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return run_say(EXIT_IO, "lease cwd '%s' (%s) is not a directory; nothing was run, the lease was not used",
			       r->l.cwd, r->cwd);
	return 0;
}
