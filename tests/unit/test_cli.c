/* links: cli/cli cli/options policy/backend cli/lease policy/pathuse sandbox/resolve base/shebang cli/keygen token/verify token/keys policy/lease base/units policy/pathpat policy/matrix policy/matrix_host shipped_matrix token/paseto base/paserk base/b64url base/errmsg base/fileio policy/limits policy/argv policy/lease_text policy/netrule policy/matrix_load policy/seccomp_groups policy/yamltree policy/envnames policy/matrix_ledger */
/* Command-line parsing without side effects: every rejection names its problem, the
 * accepted forms fill the option structs, and what `lease issue` would sign parses with
 * the same strict claim parser `lease verify` uses. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/exitcodes.h"
#include "cli/cli.h"
#include "cli/lease.h"
#include "policy/lease.h"
#include "token/paseto.h"

#define MAXARGS 64

/* getopt permutes argv, so each parse gets fresh mutable copies. */
struct argv_buf {
	int argc;
	char *argv[MAXARGS + 1];
};

static void argv_fill(struct argv_buf *b, va_list ap)
{
	b->argc = 0;
	b->argv[b->argc++] = strdup("calyx");
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		assert_true(b->argc < MAXARGS);
		b->argv[b->argc++] = strdup(a);
	}
	b->argv[b->argc] = NULL;
}

static void argv_release(struct argv_buf *b)
{
	for (int i = 0; i < b->argc; i++)
		free(b->argv[i]);
	b->argc = 0;
}

static struct argv_buf g_args;
static struct cli g_cli;
static char g_err[512];

/* Parse; returns cli_parse's result. The globals stay valid until the next call. */
static int parse(const char *first, ...)
{
	va_list ap;
	cli_free(&g_cli);
	argv_release(&g_args);
	/* re-pack with the first argument included */
	struct argv_buf tmp;
	va_start(ap, first);
	argv_fill(&tmp, ap);
	va_end(ap);
	g_args.argc = 0;
	g_args.argv[g_args.argc++] = tmp.argv[0];
	if (first)
		g_args.argv[g_args.argc++] = strdup(first);
	for (int i = 1; i < tmp.argc; i++)
		g_args.argv[g_args.argc++] = tmp.argv[i];
	g_args.argv[g_args.argc] = NULL;
	g_err[0] = '\0';
	return cli_parse(g_args.argc, g_args.argv, &g_cli, g_err, sizeof(g_err));
}

#define assert_err(substr)                                                          \
	do {                                                                        \
		if (!strstr(g_err, (substr)))                                       \
			fail_msg("error '%s' does not contain '%s'", g_err, (substr)); \
	} while (0)

#define REJECT(msg, ...)                                   \
	do {                                               \
		assert_int_equal(parse(__VA_ARGS__, NULL), -EINVAL); \
		assert_err(msg);                           \
	} while (0)

#define ACCEPT(...) assert_int_equal(parse(__VA_ARGS__, NULL), 0)

#define ISSUE_BASE "lease", "issue", "--key", "k", "--intent", "INT-TEST-SANDBOX", "--ttl", "5m", \
		   "--cmd", "python3 --version"

static int teardown(void **state)
{
	(void)state;
	cli_free(&g_cli);
	argv_release(&g_args);
	return 0;
}

/* ---- top level ---- */

static void test_top_level(void **state)
{
	(void)state;
	assert_int_equal(parse(NULL, NULL), -EINVAL);
	assert_err("missing command");
	assert_int_equal(g_cli.cmd, CLI_NONE);

	ACCEPT("--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_NONE);
	ACCEPT("-h");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	ACCEPT("--version");
	assert_int_equal(g_cli.action, CLI_ACT_VERSION);
	REJECT("unexpected argument 'x'", "--version", "x");

	REJECT("unknown command 'frobnicate'", "frobnicate");
	REJECT("unknown option '--bogus'", "--bogus");

	ACCEPT("help", "lease", "issue");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_LEASE_ISSUE);
	REJECT("unknown command", "help", "nope");
}

static void test_lease_group(void **state)
{
	(void)state;
	REJECT("missing lease subcommand", "lease");
	assert_int_equal(g_cli.cmd, CLI_LEASE);
	REJECT("unknown lease subcommand 'sign'", "lease", "sign");
	ACCEPT("lease", "--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_LEASE);
	/* --help wins even when required options are missing */
	ACCEPT("lease", "issue", "--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_LEASE_ISSUE);
	ACCEPT("lease", "verify", "-h");
	assert_int_equal(g_cli.cmd, CLI_LEASE_VERIFY);
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
}

/* ---- keygen ---- */

static void test_keygen(void **state)
{
	(void)state;
	ACCEPT("keygen");
	assert_int_equal(g_cli.action, CLI_ACT_RUN);
	assert_int_equal(g_cli.cmd, CLI_KEYGEN);
	assert_string_equal(g_cli.keygen.out_dir, ".");
	assert_false(g_cli.keygen.force);

	ACCEPT("keygen", "--out", "/tmp/keys", "--force");
	assert_string_equal(g_cli.keygen.out_dir, "/tmp/keys");
	assert_true(g_cli.keygen.force);
	ACCEPT("keygen", "--out=/tmp/k2");
	assert_string_equal(g_cli.keygen.out_dir, "/tmp/k2");

	REJECT("unknown option '--bogus'", "keygen", "--bogus");
	assert_int_equal(g_cli.cmd, CLI_KEYGEN);
	REJECT("unknown option '-x'", "keygen", "-x");
	REJECT("option '--out' needs a value", "keygen", "--out");
	REJECT("unexpected argument 'extra'", "keygen", "extra");
	REJECT("given more than once", "keygen", "--out", "a", "--out", "b");
	REJECT("given more than once", "keygen", "--force", "--force");
}

/* ---- lease issue ---- */

static void test_issue_full(void **state)
{
	(void)state;
	ACCEPT(ISSUE_BASE, "--cmd", "sh -c 'echo hi there'",
	       "--path", "repo://calyx/tools/*", "--path", "/tmp/calyx/out/**:rw", "--path", "/dev/null:ro",
	       "--net", "deny_all", "--limit", "cpu=10s,mem=256M", "--limit", "pids=64",
	       "--runs", "3", "--env", "LANG", "--env", "TZ", "-o", "out.tok");
	const struct issue_opts *o = &g_cli.issue;
	assert_int_equal(g_cli.cmd, CLI_LEASE_ISSUE);
	assert_string_equal(o->key_file, "k");
	assert_string_equal(o->intent, "INT-TEST-SANDBOX");
	assert_int_equal(o->ttl_s, 300);
	assert_int_equal(o->n_cmds, 2);
	assert_int_equal(o->cmds[0].argc, 2);
	assert_string_equal(o->cmds[0].argv[0], "python3");
	assert_string_equal(o->cmds[0].argv[1], "--version");
	assert_int_equal(o->cmds[1].argc, 3);
	assert_string_equal(o->cmds[1].argv[2], "echo hi there");
	assert_int_equal(o->n_paths, 3);
	assert_string_equal(o->paths[0].pattern, "repo://calyx/tools/*");
	assert_int_equal(o->paths[0].access, ACCESS_RO);
	assert_string_equal(o->paths[1].pattern, "/tmp/calyx/out/**");
	assert_int_equal(o->paths[1].access, ACCESS_RW);
	assert_int_equal(o->paths[2].access, ACCESS_RO);
	assert_true(o->limits.set[LIMIT_CPU]);
	assert_int_equal(o->limits.v[LIMIT_CPU], 10000);
	assert_true(o->limits.set[LIMIT_MEM]);
	assert_int_equal(o->limits.v[LIMIT_MEM], 256u << 20);
	assert_true(o->limits.set[LIMIT_PIDS]);
	assert_int_equal(o->limits.v[LIMIT_PIDS], 64);
	assert_false(o->limits.set[LIMIT_WALL]);
	assert_int_equal(o->runs, 3);
	assert_int_equal(o->n_env, 2);
	assert_string_equal(o->env[1], "TZ");
	assert_string_equal(o->out_file, "out.tok");

	/* short forms and defaults */
	ACCEPT("lease", "issue", "-k", "key", "-i", "INT-X", "-t", "90s", "-c", "true");
	assert_int_equal(g_cli.issue.ttl_s, 90);
	assert_int_equal(g_cli.issue.runs, 1);
	assert_int_equal(g_cli.issue.n_paths, 0);
	assert_null(g_cli.issue.out_file);
	ACCEPT("lease", "issue", "--key=key", "--intent=INT-X", "--ttl=2h", "--cmd=true");
	assert_int_equal(g_cli.issue.ttl_s, 7200);
}

static void test_issue_required(void **state)
{
	(void)state;
	REJECT("missing required option --key", "lease", "issue", "--intent", "I", "--ttl", "5m", "--cmd", "x");
	assert_int_equal(g_cli.cmd, CLI_LEASE_ISSUE);
	REJECT("missing required option --intent", "lease", "issue", "--key", "k", "--ttl", "5m", "--cmd", "x");
	REJECT("missing required option --ttl", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x");
	REJECT("missing required option --cmd", "lease", "issue", "--key", "k", "--intent", "I", "--ttl", "5m");
	REJECT("option '--key' needs a value", "lease", "issue", "--intent", "I", "--key");
	REJECT("option '--ttl' needs a value", "lease", "issue", "-t");
	REJECT("unexpected argument 'stray'", ISSUE_BASE, "stray");
	REJECT("unknown option '--ttl-max'", ISSUE_BASE, "--ttl-max", "5");
	REJECT("bad --intent", "lease", "issue", "--key", "k", "--intent", "", "--ttl", "5m", "--cmd", "x");
}

static void test_issue_durations(void **state)
{
	(void)state;
	REJECT("bad --ttl '5x'", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "5x");
	REJECT("bad --ttl '0'", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "0");
	REJECT("bad --ttl '5': a number needs a unit (5s? 5m?): give it as 90s, 5m, 2h or 1d",
	       "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "5");
	REJECT("bad --ttl '300': a number needs a unit", "lease", "issue", "--key", "k", "--intent", "I",
	       "--cmd", "x", "--ttl", "300");
	REJECT("bad --ttl '0s'", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "0s");
	REJECT("bad --ttl '-5s'", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "-5s");
	REJECT("whole number of seconds", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x",
	       "--ttl", "1500ms");
	REJECT("bad --ttl ''", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "");
	REJECT("too large", "lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x",
	       "--ttl", "99999999999999999999s");
	ACCEPT("lease", "issue", "--key", "k", "--intent", "I", "--cmd", "x", "--ttl", "2000ms");
	assert_int_equal(g_cli.issue.ttl_s, 2);
}

static void test_issue_paths(void **state)
{
	(void)state;
	REJECT("bad --path 'repo://calyx/tools/*:rx'", ISSUE_BASE, "--path", "repo://calyx/tools/*:rx");
	REJECT("bad --path 'tools/x'", ISSUE_BASE, "--path", "tools/x");
	REJECT("bad --path '/a/../etc'", ISSUE_BASE, "--path", "/a/../etc");
	REJECT("bad --path '/a/*/b'", ISSUE_BASE, "--path", "/a/*/b");
	REJECT("bad --path ''", ISSUE_BASE, "--path", "");
	REJECT("given more than once", ISSUE_BASE, "--path", "/srv/x", "--path", "/srv/x:rw");
	REJECT("option '--path' needs a value", ISSUE_BASE, "--path");
}

static void test_issue_limits(void **state)
{
	(void)state;
	REJECT("bad --limit 'cpu=abc'", ISSUE_BASE, "--limit", "cpu=abc");
	REJECT("bad --limit 'foo=1'", ISSUE_BASE, "--limit", "foo=1");
	REJECT("bad --limit 'mem='", ISSUE_BASE, "--limit", "mem=");
	REJECT("bad --limit 'mem'", ISSUE_BASE, "--limit", "mem");
	REJECT("bad --limit 'mem=12Q'", ISSUE_BASE, "--limit", "mem=12Q");
	REJECT("limit 'cpu' given more than once", ISSUE_BASE, "--limit", "cpu=1s", "--limit", "cpu=2s");
	REJECT("bad --limit 'mem=0'", ISSUE_BASE, "--limit", "mem=0");
	ACCEPT(ISSUE_BASE, "--limit", "wall=5m", "--limit", "output=16M");
	assert_int_equal(g_cli.issue.limits.v[LIMIT_WALL], 300000);
	assert_int_equal(g_cli.issue.limits.v[LIMIT_OUTPUT], 16u << 20);
}

static void test_issue_misc(void **state)
{
	(void)state;
	REJECT("bad --runs '0'", ISSUE_BASE, "--runs", "0");
	REJECT("bad --runs '1001'", ISSUE_BASE, "--runs", "1001");
	REJECT("bad --runs '-1'", ISSUE_BASE, "--runs", "-1");
	REJECT("bad --runs '2x'", ISSUE_BASE, "--runs", "2x");
	REJECT("bad --runs ' 2'", ISSUE_BASE, "--runs", " 2");
	ACCEPT(ISSUE_BASE, "--runs", "1000");
	assert_int_equal(g_cli.issue.runs, 1000);

	REJECT("bad --net 'allow_all'", ISSUE_BASE, "--net", "allow_all");
	REJECT("bad --env '1BAD'", ISSUE_BASE, "--env", "1BAD");
	REJECT("bad --env 'A=B'", ISSUE_BASE, "--env", "A=B");
	REJECT("--env 'LANG' given more than once", ISSUE_BASE, "--env", "LANG", "--env", "LANG");

	REJECT("option '--intent' given more than once", ISSUE_BASE, "--intent", "INT-OTHER");
	REJECT("option '--key' given more than once", ISSUE_BASE, "-k", "k2");
	REJECT("option '--ttl' given more than once", ISSUE_BASE, "--ttl", "5m");
	REJECT("option '--output' given more than once", ISSUE_BASE, "-o", "a", "-o", "b");
	ACCEPT(ISSUE_BASE, "--matrix", "m.yaml");
	assert_string_equal(g_cli.issue.matrix_file, "m.yaml");
	ACCEPT(ISSUE_BASE);
	assert_null(g_cli.issue.matrix_file);
	REJECT("bad --matrix: empty file name", ISSUE_BASE, "-m", "");

	REJECT("bad --cmd ''", "lease", "issue", "--key", "k", "--intent", "I", "--ttl", "5m", "--cmd", "");
	REJECT("bad --cmd", "lease", "issue", "--key", "k", "--intent", "I", "--ttl", "5m", "--cmd", "sh -c 'unterminated");
}

/* ---- lease verify / show ---- */

static void test_verify(void **state)
{
	(void)state;
	ACCEPT("lease", "verify", "--pub", "k.pub", "tok");
	assert_int_equal(g_cli.cmd, CLI_LEASE_VERIFY);
	assert_string_equal(g_cli.verify.pub_file, "k.pub");
	assert_null(g_cli.verify.matrix_file);
	assert_string_equal(g_cli.verify.token_file, "tok");
	assert_false(g_cli.verify.skew_set);
	assert_false(g_cli.verify.json);

	ACCEPT("lease", "verify", "tok", "--matrix", "m.yaml", "--pub", "k.pub", "--skew", "2m", "--json");
	assert_string_equal(g_cli.verify.token_file, "tok");
	assert_string_equal(g_cli.verify.matrix_file, "m.yaml");
	assert_true(g_cli.verify.skew_set);
	assert_int_equal(g_cli.verify.skew_s, 120);
	assert_true(g_cli.verify.json);

	ACCEPT("lease", "verify", "--pub", "k", "--skew", "0", "tok");
	assert_true(g_cli.verify.skew_set);
	assert_int_equal(g_cli.verify.skew_s, 0);
	REJECT("bad --skew '30': a number needs a unit (30s? 30m?)", "lease", "verify", "--pub", "k", "--skew", "30", "tok");

	/* "--" ends options: a token file may start with '-' */
	ACCEPT("lease", "verify", "--pub", "k", "--", "-tok");
	assert_string_equal(g_cli.verify.token_file, "-tok");

	REJECT("missing TOKEN_FILE", "lease", "verify", "--pub", "k");
	REJECT("one of --pub FILE or --matrix FILE is required", "lease", "verify", "tok");
	REJECT("unexpected argument 'tok2'", "lease", "verify", "--pub", "k", "tok", "tok2");
	REJECT("bad --skew 'soon'", "lease", "verify", "--pub", "k", "--skew", "soon", "tok");
	REJECT("bad --skew '2d'", "lease", "verify", "--pub", "k", "--skew", "2d", "tok");
	REJECT("given more than once", "lease", "verify", "--pub", "k", "--pub", "k", "tok");
	REJECT("unknown option '--key'", "lease", "verify", "--key", "k", "tok");
}

static void test_show(void **state)
{
	(void)state;
	ACCEPT("lease", "show", "tok");
	assert_int_equal(g_cli.cmd, CLI_LEASE_SHOW);
	assert_string_equal(g_cli.show.token_file, "tok");
	REJECT("missing TOKEN_FILE", "lease", "show");
	REJECT("unexpected argument 'b'", "lease", "show", "a", "b");
	REJECT("unknown option '--pub'", "lease", "show", "--pub", "k", "tok");
}

/* ---- run / doctor ---- */

static void test_run(void **state)
{
	(void)state;
	ACCEPT("run", "--lease", "l.tok", "--pub", "k.pub", "--", "python3", "--version", "--help", "-v");
	assert_int_equal(g_cli.action, CLI_ACT_RUN);
	assert_int_equal(g_cli.cmd, CLI_RUN);
	assert_string_equal(g_cli.run.lease_file, "l.tok");
	assert_string_equal(g_cli.run.pub_file, "k.pub");
	assert_false(g_cli.run.verbose);   /* the -v after "--" belongs to the command */
	assert_int_equal(g_cli.run.enforce, ENFORCE_AUTO);
	assert_int_equal(g_cli.run.argc, 4);
	assert_string_equal(g_cli.run.argv[0], "python3");
	assert_string_equal(g_cli.run.argv[1], "--version");
	assert_string_equal(g_cli.run.argv[2], "--help");
	assert_string_equal(g_cli.run.argv[3], "-v");
	assert_null(g_cli.run.argv[4]);

	ACCEPT("run", "-v", "--matrix", "m.yaml", "--state", "/tmp/st", "--enforce", "landlock",
	       "--lease", "l", "--", "--", "x");
	assert_int_equal(g_cli.run.verbose, 1);
	assert_string_equal(g_cli.run.state_dir, "/tmp/st");
	assert_int_equal(g_cli.run.enforce, ENFORCE_LANDLOCK);
	assert_int_equal(g_cli.run.argc, 2);
	assert_string_equal(g_cli.run.argv[0], "--");
	ACCEPT("run", "-vv", "--lease", "l", "--pub", "k", "--", "x");
	assert_int_equal(g_cli.run.verbose, 2);   /* -vv: libbpf's output too */
	ACCEPT("run", "-v", "--verbose", "-v", "--lease", "l", "--pub", "k", "--", "x");
	assert_int_equal(g_cli.run.verbose, 2);   /* more is -vv */

	ACCEPT("run", "--lease", "l", "--pub", "k", "--enforce", "bpf-lsm", "--", "true");
	assert_int_equal(g_cli.run.enforce, ENFORCE_BPF_LSM);
	assert_false(g_cli.run.quiet);
	assert_false(g_cli.run.fail_on_denial);

	/* the summary's options; -q after "--" belongs to the command */
	ACCEPT("run", "-q", "--fail-on-denial", "--lease", "l", "--pub", "k", "--", "true", "-q");
	assert_true(g_cli.run.quiet);
	assert_true(g_cli.run.fail_on_denial);
	assert_string_equal(g_cli.run.argv[1], "-q");
	ACCEPT("run", "--quiet", "--lease", "l", "--pub", "k", "--", "true");
	assert_true(g_cli.run.quiet);
	assert_false(g_cli.run.fail_on_denial);
	REJECT("unknown option '--no-fail-on-denial'", "run", "--lease", "l", "--pub", "k", "--no-fail-on-denial", "--", "true");

	REJECT("missing command: give it after '--'", "run", "--lease", "l", "--pub", "k");
	REJECT("missing command after '--'", "run", "--lease", "l", "--pub", "k", "--");
	REJECT("unexpected argument 'python3': the command goes after '--'",
	       "run", "--lease", "l", "--pub", "k", "python3", "--", "x");
	REJECT("missing required option --lease", "run", "--pub", "k", "--", "true");
	REJECT("one of --pub FILE or --matrix FILE is required", "run", "--lease", "l", "--", "true");
	REJECT("bad --enforce 'seccomp'", "run", "--lease", "l", "--pub", "k", "--enforce", "seccomp", "--", "true");
	REJECT("unknown option '--frob'", "run", "--lease", "l", "--pub", "k", "--frob", "--", "true");
	/* an option whose value would be "--" is a missing value, never a silent swallow */
	REJECT("option '--lease' needs a value", "run", "--pub", "k", "--lease", "--", "true");

	ACCEPT("run", "--help", "--", "x");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_RUN);
}

static void test_doctor(void **state)
{
	(void)state;
	ACCEPT("doctor");
	assert_int_equal(g_cli.cmd, CLI_DOCTOR);
	assert_false(g_cli.doctor.json);
	ACCEPT("doctor", "--json", "-v");
	assert_true(g_cli.doctor.json);
	assert_true(g_cli.doctor.verbose);
	REJECT("unexpected argument 'now'", "doctor", "now");
	REJECT("unknown option '--xml'", "doctor", "--xml");
}

/* enforcer start: -v calyx's own steps (1), -vv libbpf's output too (2), -vvv is -vv. */
static void test_enforcer_start_verbose(void **state)
{
	(void)state;
	ACCEPT("enforcer", "start");
	assert_int_equal(g_cli.cmd, CLI_ENFORCER_START);
	assert_int_equal(g_cli.enforcer.verbose, 0);
	ACCEPT("enforcer", "start", "-v");
	assert_int_equal(g_cli.enforcer.verbose, 1);
	ACCEPT("enforcer", "start", "-vv", "--enforce", "landlock");
	assert_int_equal(g_cli.enforcer.verbose, 2);
	ACCEPT("enforcer", "start", "-v", "--verbose", "-v");
	assert_int_equal(g_cli.enforcer.verbose, 2);
	REJECT("unknown option '--verbose'", "enforcer", "status", "--verbose");
}

static void test_rollback(void **state)
{
	(void)state;
	ACCEPT("rollback", "LEASE-20261203-101010-abcd");
	assert_int_equal(g_cli.cmd, CLI_ROLLBACK);
	assert_string_equal(g_cli.rollback.run, "LEASE-20261203-101010-abcd");
	assert_null(g_cli.rollback.state_dir);
	assert_false(g_cli.rollback.force);
	ACCEPT("rollback", "--state", "/srv/st", "LEASE-20261203-101010-abcd-r2", "--force");
	assert_string_equal(g_cli.rollback.state_dir, "/srv/st");
	assert_string_equal(g_cli.rollback.run, "LEASE-20261203-101010-abcd-r2");
	assert_true(g_cli.rollback.force);
	REJECT("missing LEASE-ID", "rollback");
	REJECT("missing LEASE-ID", "rollback", "--force");
	REJECT("unexpected argument 'b'", "rollback", "a", "b");
	REJECT("bad --state: empty directory name", "rollback", "--state", "", "a");
	REJECT("option '--force' given more than once", "rollback", "a", "--force", "--force");
}

static void test_audit_verify_shipped(void **state)
{
	(void)state;
	ACCEPT("audit", "verify", "--log", "/c/a.log", "--pub", "/k/a.pub");
	assert_int_equal(g_cli.cmd, CLI_AUDIT_VERIFY);
	assert_string_equal(g_cli.audit.log_file, "/c/a.log");
	assert_string_equal(g_cli.audit.pub_file, "/k/a.pub");
	assert_int_equal(g_cli.audit.n_hosts, 0);
	/* the key file is after the last ':' (a log path may hold one) */
	ACCEPT("audit", "verify", "--host", "web-1=/c/x:y.log:/k/w.pub", "--host", "db.2=/c/d.log:/k/d.pub", "--json");
	assert_int_equal(g_cli.audit.n_hosts, 2);
	assert_string_equal(g_cli.audit.hosts[0].name, "web-1");
	assert_string_equal(g_cli.audit.hosts[0].log, "/c/x:y.log");
	assert_string_equal(g_cli.audit.hosts[0].pub, "/k/w.pub");
	assert_string_equal(g_cli.audit.hosts[1].name, "db.2");
	assert_string_equal(g_cli.audit.hosts[1].log, "/c/d.log");
	assert_string_equal(g_cli.audit.hosts[1].pub, "/k/d.pub");
	assert_true(g_cli.audit.json);
	REJECT("--log needs --pub FILE", "audit", "verify", "--log", "/c/a.log");
	REJECT("bad --log: empty file name", "audit", "verify", "--log", "", "--pub", "k");
	REJECT("bad --host 'a=/c/a.log': expected NAME=LOG:PUB", "audit", "verify", "--host", "a=/c/a.log");
	REJECT("bad --host '=/c/a.log:k': expected NAME=LOG:PUB", "audit", "verify", "--host", "=/c/a.log:k");
	REJECT("bad --host 'a=/c/a.log:': expected NAME=LOG:PUB", "audit", "verify", "--host", "a=/c/a.log:");
	REJECT("bad --host 'a b=/l:k': NAME is letters", "audit", "verify", "--host", "a b=/l:k");
	REJECT("bad --host 'a=/m:k': host a given more than once", "audit", "verify", "--host", "a=/l:k", "--host", "a=/m:k");
	REJECT("--host names each host's key", "audit", "verify", "--host", "a=/l:k", "--pub", "k");
	REJECT("--log goes alone", "audit", "verify", "--host", "a=/l:k", "--log", "/l", "--pub", "k");
	REJECT("--state verifies a state dir", "audit", "verify", "--log", "/l", "--pub", "k", "--state", "/s");
}

static void test_enforcer_metrics(void **state)
{
	(void)state;
	ACCEPT("enforcer", "metrics");
	assert_int_equal(g_cli.cmd, CLI_ENFORCER_METRICS);
	assert_null(g_cli.enforcer.state_dir);
	assert_null(g_cli.enforcer.matrix_file);
	assert_null(g_cli.enforcer.out_file);
	ACCEPT("enforcer", "metrics", "-s", "/srv/st", "--matrix", "/etc/m.yaml");
	assert_string_equal(g_cli.enforcer.state_dir, "/srv/st");
	assert_string_equal(g_cli.enforcer.matrix_file, "/etc/m.yaml");
	ACCEPT("enforcer", "metrics", "-o", "-");
	assert_string_equal(g_cli.enforcer.out_file, "-");
	REJECT("--matrix names where to write", "enforcer", "metrics", "--matrix", "m", "-o", "f");
	REJECT("bad --output: empty file name", "enforcer", "metrics", "-o", "");
	REJECT("unexpected argument 'x'", "enforcer", "metrics", "x");
	REJECT("unknown enforcer subcommand 'metric' (start, status, stop or metrics)", "enforcer", "metric");
}

static void test_audit_show(void **state)
{
	(void)state;
	ACCEPT("audit", "show");
	assert_int_equal(g_cli.cmd, CLI_AUDIT_SHOW);
	assert_null(g_cli.audit.state_dir);
	assert_null(g_cli.audit.type);
	assert_false(g_cli.audit.json);
	ACCEPT("audit", "show", "--state", "/srv/st", "--lease", "LEASE-20261203-065900-ab12", "--intent", "INT-X",
	       "--type", "lease_event.refused", "--since", "10m", "--json");
	assert_string_equal(g_cli.audit.state_dir, "/srv/st");
	assert_string_equal(g_cli.audit.lease, "LEASE-20261203-065900-ab12");
	assert_string_equal(g_cli.audit.intent, "INT-X");
	assert_string_equal(g_cli.audit.type, "lease_event.refused");
	assert_string_equal(g_cli.audit.since, "10m");
	assert_true(g_cli.audit.json);
	ACCEPT("audit", "show", "-s", "/srv/st", "--type", "lease_event");
	assert_string_equal(g_cli.audit.type, "lease_event");

	REJECT("missing audit subcommand (", "audit");
	assert_int_equal(g_cli.cmd, CLI_AUDIT);
	REJECT("unknown audit subcommand 'tail' (", "audit", "tail");
	REJECT("unknown option '--json' (an audit subcommand comes first)", "audit", "--json");
	REJECT("unexpected argument 'x'", "audit", "show", "x");
	REJECT("unknown option '--follow'", "audit", "show", "--follow");
	REJECT("bad --type 'Lease Event': a record type is lower case", "audit", "show", "--type", "Lease Event");
	REJECT("bad --lease: empty value", "audit", "show", "--lease", "");
	REJECT("option '--json' given more than once", "audit", "show", "--json", "--json");
	REJECT("option '--since' needs a value", "audit", "show", "--since");
	ACCEPT("audit", "--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_AUDIT);
	ACCEPT("audit", "show", "--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_AUDIT_SHOW);
}

static void test_matrix_check(void **state)
{
	(void)state;
	ACCEPT("matrix", "check", "m.yaml");
	assert_int_equal(g_cli.action, CLI_ACT_RUN);
	assert_int_equal(g_cli.cmd, CLI_MATRIX_CHECK);
	assert_string_equal(g_cli.matrix.file, "m.yaml");
	REJECT("missing FILE (the capability matrix to check)", "matrix", "check");
	assert_int_equal(g_cli.cmd, CLI_MATRIX_CHECK);
	REJECT("unexpected argument 'b.yaml'", "matrix", "check", "a.yaml", "b.yaml");
	REJECT("unknown option '--json'", "matrix", "check", "--json", "a.yaml");
	REJECT("missing matrix subcommand (check)", "matrix");
	assert_int_equal(g_cli.cmd, CLI_MATRIX);
	REJECT("unknown matrix subcommand 'lint' (check)", "matrix", "lint");
	ACCEPT("matrix", "--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_MATRIX);
	ACCEPT("matrix", "check", "--help");
	assert_int_equal(g_cli.action, CLI_ACT_HELP);
	assert_int_equal(g_cli.cmd, CLI_MATRIX_CHECK);
}

static void test_report(void **state)
{
	(void)state;
	ACCEPT("report", "LEASE-20261203-071500-ab12");
	assert_int_equal(g_cli.cmd, CLI_REPORT);
	assert_string_equal(g_cli.report.run_name, "LEASE-20261203-071500-ab12");
	assert_null(g_cli.report.state_dir);
	assert_null(g_cli.report.out_file);
	ACCEPT("report", "--state", "/srv/st", "LEASE-20261203-071500-ab12-r2", "-o", "r.html");
	assert_string_equal(g_cli.report.run_name, "LEASE-20261203-071500-ab12-r2");
	assert_string_equal(g_cli.report.state_dir, "/srv/st");
	assert_string_equal(g_cli.report.out_file, "r.html");
	REJECT("missing LEASE-ID", "report");
	REJECT("missing LEASE-ID", "report", "--state", "/srv/st");
	REJECT("unexpected argument 'LEASE-2'", "report", "LEASE-1", "LEASE-2");
	/* A run directory's name, never a path. */
	REJECT("bad LEASE-ID '../LEASE-1'", "report", "../LEASE-1");
	REJECT("bad LEASE-ID 'LEASE-1/../../x'", "report", "LEASE-1/../../x");
	REJECT("bad LEASE-ID 'LEASE-'", "report", "LEASE-");
	REJECT("bad LEASE-ID 'lease.token'", "report", "lease.token");
	REJECT("bad LEASE-ID 'LEASE-?[31m'", "report", "LEASE-\x1b[31m");
	REJECT("bad --state: empty directory name", "report", "--state", "", "LEASE-1");
	REJECT("bad --output: empty file name", "report", "-o", "", "LEASE-1");
	REJECT("option '--output' given more than once", "report", "-o", "a", "-o", "b", "LEASE-1");
	REJECT("unknown option '--json'", "report", "--json", "LEASE-1");
}

/* lease suggest: a run directory's name (as report), --state, --json. */
static void test_lease_suggest(void **state)
{
	(void)state;
	ACCEPT("lease", "suggest", "LEASE-20261203-071500-ab12");
	assert_int_equal(g_cli.cmd, CLI_LEASE_SUGGEST);
	assert_string_equal(g_cli.suggest.run_name, "LEASE-20261203-071500-ab12");
	assert_null(g_cli.suggest.state_dir);
	assert_false(g_cli.suggest.json);
	ACCEPT("lease", "suggest", "--json", "--state", "/srv/st", "LEASE-20261203-071500-ab12-r2");
	assert_string_equal(g_cli.suggest.run_name, "LEASE-20261203-071500-ab12-r2");
	assert_string_equal(g_cli.suggest.state_dir, "/srv/st");
	assert_true(g_cli.suggest.json);
	assert_null(g_cli.report.run_name);
	REJECT("missing LEASE-ID", "lease", "suggest");
	REJECT("unexpected argument 'LEASE-2'", "lease", "suggest", "LEASE-1", "LEASE-2");
	REJECT("bad LEASE-ID '../LEASE-1'", "lease", "suggest", "../LEASE-1");
	REJECT("bad --state: empty directory name", "lease", "suggest", "--state", "", "LEASE-1");
	REJECT("unknown option '-o'", "lease", "suggest", "-o", "x", "LEASE-1");
	REJECT("unknown lease subcommand 'sugest' (issue, verify, show or suggest)", "lease", "sugest");
}

/* ---- help text comes from the same tables ---- */

static char *help_of(enum cli_cmd cmd)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	cli_print_help(f, cmd);
	fclose(f);
	return buf;
}

static void test_help_text(void **state)
{
	(void)state;
	static const char *const issue_names[] = { "--key", "--intent", "--ttl", "--cmd", "--path", "--net",
						   "--limit", "--runs", "--env", "--output", "--help" };
	char *h = help_of(CLI_LEASE_ISSUE);
	assert_non_null(strstr(h, "usage: calyx lease issue"));
	for (size_t i = 0; i < sizeof(issue_names) / sizeof(issue_names[0]); i++)
		if (!strstr(h, issue_names[i]))
			fail_msg("lease issue --help does not mention %s", issue_names[i]);
	free(h);

	h = help_of(CLI_RUN);
	assert_non_null(strstr(h, "--enforce BACKEND"));
	assert_non_null(strstr(h, "-- CMD"));
	free(h);

	h = help_of(CLI_REPORT);
	assert_non_null(strstr(h, "usage: calyx report LEASE-ID [--state DIR] [-o FILE]"));
	assert_non_null(strstr(h, "--output FILE"));
	free(h);

	h = help_of(CLI_NONE);
	static const char *const cmds[] = { "keygen", "lease issue", "lease verify", "lease show", "lease suggest", "run",
					    "doctor", "audit show", "audit verify", "rollback", "report", "exit codes",
					    "88  report, lease suggest: no such run" };
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strstr(h, cmds[i]))
			fail_msg("top-level help does not mention %s", cmds[i]);
	free(h);
}

/* ---- what issue would sign ---- */

static void test_claims_roundtrip(void **state)
{
	(void)state;
	/* PASERK k4.pid of the all-zero key (public PASERK vector k4.pid-1) */
	const char *kid = "k4.pid.S_XQmeEwHbbvRmiyfXfHYpLGjXGzjTRSDoT1YtTakWFE";
	const int64_t now = 1764388800; /* 2025-11-29T04:00:00Z */
	ACCEPT(ISSUE_BASE, "--path", "repo://calyx/tools/*", "--path", "/tmp/calyx/out/**:rw",
	       "--limit", "cpu=10s,mem=256M,pids=64,wall=5m,output=16M", "--runs", "2", "--env", "CALYX_DEMO_VAR");
	char *json = lease_cmd_claims_json(&g_cli.issue, "LEASE-20251129-040000-ab12", kid, now);
	assert_non_null(json);

	struct lease l;
	char err[256] = "";
	if (lease_from_json(json, strlen(json), &l, err, sizeof(err)) != 0)
		fail_msg("issued claims rejected: %s\n%s", err, json);
	assert_string_equal(l.jti, "LEASE-20251129-040000-ab12");
	assert_string_equal(l.intent, "INT-TEST-SANDBOX");
	assert_string_equal(l.iss, kid);
	assert_int_equal(l.iat, now);
	assert_int_equal(l.nbf, now);
	assert_int_equal(l.exp, now + 300);
	assert_int_equal(l.n_commands, 1);
	assert_string_equal(l.commands[0].argv[1], "--version");
	assert_int_equal(l.n_paths, 2);
	assert_int_equal(l.paths[1].access, ACCESS_RW);
	assert_int_equal(l.limits.v[LIMIT_MEM], 256u << 20);
	assert_int_equal(l.limits.v[LIMIT_WALL], 300000);
	assert_int_equal(l.runs, 2);
	assert_int_equal(l.n_env, 1);
	assert_int_equal(lease_check_times(&l, now, 0, err, sizeof(err)), 0);
	assert_int_equal(lease_check_times(&l, now + 300, 0, err, sizeof(err)), -ETIME);
	lease_free(&l);
	free(json);
}

static void test_now_hook(void **state)
{
	(void)state;
	char err[256];
	int64_t now = 0;
	unsetenv(CALYX_TEST_NOW_ENV);
	int64_t before = (int64_t)time(NULL);
	assert_int_equal(lease_cmd_now(&now, err, sizeof(err)), 0);
	assert_true(now >= before && now <= before + 5);

	setenv(CALYX_TEST_NOW_ENV, "1700000000", 1);
	assert_int_equal(lease_cmd_now(&now, err, sizeof(err)), 0);
	assert_int_equal(now, 1700000000);
	setenv(CALYX_TEST_NOW_ENV, "17e8", 1);
	assert_int_equal(lease_cmd_now(&now, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, CALYX_TEST_NOW_ENV));
	setenv(CALYX_TEST_NOW_ENV, "-5", 1);
	assert_int_equal(lease_cmd_now(&now, err, sizeof(err)), -EINVAL);
	unsetenv(CALYX_TEST_NOW_ENV);
}

/* lease_show_run on a token file holding tok; stdout (the claims) goes to /dev/null. */
static int show_token(const char *tok)
{
	char path[] = "/tmp/calyx-test-show.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, tok, strlen(tok)), (ssize_t)strlen(tok));
	close(fd);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO), devnull = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && devnull >= 0);
	dup2(devnull, STDOUT_FILENO);
	close(devnull);
	struct show_opts o = { .token_file = path };
	int rc = lease_show_run(&o);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	unlink(path);
	return rc;
}

/* `lease show` decodes with the one strict base64url decoder: libsodium 1.0.18 alone reads
 * every byte 0x80-0xFF as '_' in URL-safe mode, so a token with such a byte in place of a
 * '_' must be refused, not shown as the token it resembles. */
static void test_show_strict_base64url(void **state)
{
	(void)state;
	const char *kid = "k4.pid.S_XQmeEwHbbvRmiyfXfHYpLGjXGzjTRSDoT1YtTakWFE";
	ACCEPT(ISSUE_BASE);
	char *json = lease_cmd_claims_json(&g_cli.issue, "LEASE-20251129-040000-ab12", kid, 1764388800);
	assert_non_null(json);
	/* Claims, then a 64-byte "signature" of 0xFF bytes: base64url "____…" (not checked). */
	size_t jl = strlen(json), bl = jl + 64;
	unsigned char *body = malloc(bl);
	assert_non_null(body);
	memcpy(body, json, jl);
	memset(body + jl, 0xff, 64);
	size_t b64 = sodium_base64_ENCODED_LEN(bl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *tok = malloc(sizeof(PASETO_V4_PUBLIC_HEADER) + b64);
	assert_non_null(tok);
	strcpy(tok, PASETO_V4_PUBLIC_HEADER);
	sodium_bin2base64(tok + strlen(tok), b64, body, bl, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert_int_equal(show_token(tok), EXIT_OK);

	char *u = strrchr(tok, '_');
	assert_non_null(u);
	u[-1] = (char)0x80;   /* a '_' of the signature run, not the last character */
	assert_int_equal(u[-2], '_');
	assert_int_equal(show_token(tok), EXIT_LEASE_INVALID);
	u[-1] = (char)0xff;
	assert_int_equal(show_token(tok), EXIT_LEASE_INVALID);
	free(tok);
	free(body);
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_top_level, teardown),
		cmocka_unit_test_teardown(test_lease_group, teardown),
		cmocka_unit_test_teardown(test_keygen, teardown),
		cmocka_unit_test_teardown(test_issue_full, teardown),
		cmocka_unit_test_teardown(test_issue_required, teardown),
		cmocka_unit_test_teardown(test_issue_durations, teardown),
		cmocka_unit_test_teardown(test_issue_paths, teardown),
		cmocka_unit_test_teardown(test_issue_limits, teardown),
		cmocka_unit_test_teardown(test_issue_misc, teardown),
		cmocka_unit_test_teardown(test_verify, teardown),
		cmocka_unit_test_teardown(test_show, teardown),
		cmocka_unit_test_teardown(test_run, teardown),
		cmocka_unit_test_teardown(test_doctor, teardown),
		cmocka_unit_test_teardown(test_enforcer_start_verbose, teardown),
		cmocka_unit_test_teardown(test_lease_suggest, teardown),
		cmocka_unit_test_teardown(test_rollback, teardown),
		cmocka_unit_test_teardown(test_audit_verify_shipped, teardown),
		cmocka_unit_test_teardown(test_enforcer_metrics, teardown),
		cmocka_unit_test_teardown(test_audit_show, teardown),
		cmocka_unit_test_teardown(test_report, teardown),
		cmocka_unit_test_teardown(test_matrix_check, teardown),
		cmocka_unit_test_teardown(test_help_text, teardown),
		cmocka_unit_test_teardown(test_claims_roundtrip, teardown),
		cmocka_unit_test_teardown(test_now_hook, teardown),
		cmocka_unit_test_teardown(test_show_strict_base64url, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
