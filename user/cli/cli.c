/* Command-line parsing. One table per subcommand drives both getopt_long and --help, so
 * the two cannot drift apart. Parsing is pure (no files, no clock): main() executes. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "policy/lease.h"
#include "policy/matrix.h"
#include "policy/pathpat.h"
#include "base/units.h"

enum opt_id {
	O_HELP = 256,
	O_OUT, O_FORCE,
	O_KEY, O_INTENT, O_TTL, O_CMD, O_PATH, O_NET, O_LIMIT, O_RUNS, O_ENV, O_OUTPUT,
	O_PUB, O_MATRIX, O_SKEW, O_JSON,
	O_LEASE, O_STATE, O_ENFORCE, O_VERBOSE,
	O_MAX,
};

struct cli_opt {
	int id;
	const char *name;       /* long name without "--" */
	char short_name;        /* 0: none */
	const char *metavar;    /* NULL: a flag without a value */
	bool repeatable;
	const char *help;
};

struct cli_spec {
	enum cli_cmd cmd;
	const char *name;
	const char *synopsis;   /* printed after "calyx NAME " */
	const char *summary;
	const struct cli_opt *opts;
	const char *epilog;     /* NULL or extra lines after the options */
};

static const struct cli_opt keygen_opts[] = {
	{ O_OUT, "out", 0, "DIR", false,
	  "write DIR/calyx.key (secret, 0600) and DIR/calyx.pub; DIR is created if missing (default: .)" },
	{ O_FORCE, "force", 0, NULL, false, "replace existing key files" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt issue_opts[] = {
	{ O_KEY, "key", 'k', "FILE", false, "secret key (PASERK k4.secret, mode 0600) [required]" },
	{ O_INTENT, "intent", 'i', "ID", false, "approved intent, e.g. INT-TEST-SANDBOX [required]" },
	{ O_TTL, "ttl", 't', "DUR", false, "lifetime in whole seconds: 90s, 5m, 2h [required]" },
	{ O_CMD, "cmd", 'c', "'ARGV'", true,
	  "an allowed command line, split like a shell without expansion [required, repeatable]" },
	{ O_PATH, "path", 'p', "'PATTERN[:ro|:rw]'", true,
	  "allowed path: /abs/path or repo://NAME/rel, optional final * or **; default ro [repeatable]" },
	{ O_NET, "net", 0, "POLICY", false, "network policy; only deny_all (the default)" },
	{ O_LIMIT, "limit", 'l', "NAME=VALUE[,…]", true,
	  "cpu=10s, mem=256M, pids=64, wall=5m, output=16M [repeatable]" },
	{ O_RUNS, "runs", 0, "N", false, "how many runs the lease allows (1..1000, default 1)" },
	{ O_ENV, "env", 'e', "NAME", true, "environment variable passed through to the command [repeatable]" },
	{ O_OUTPUT, "output", 'o', "FILE", false, "write the token to FILE (atomically, 0644) instead of stdout" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt verify_opts[] = {
	{ O_PUB, "pub", 0, "FILE", false, "public key (PASERK k4.public) the lease must be signed with" },
	{ O_MATRIX, "matrix", 'm', "FILE", false,
	  "capability matrix: the signer must be trusted by it and the lease must fit it" },
	{ O_SKEW, "skew", 0, "DUR", false,
	  "clock-skew allowance (default: the matrix's clock_skew, else 30s; 0 for none)" },
	{ O_JSON, "json", 0, NULL, false, "print the verified claims as JSON" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt show_opts[] = {
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt run_opts[] = {
	{ O_LEASE, "lease", 'L', "FILE", false, "the lease token [required]" },
	{ O_PUB, "pub", 0, "FILE", false, "trust this public key (with the shipped matrix unless --matrix)" },
	{ O_MATRIX, "matrix", 'm', "FILE", false, "capability matrix to enforce" },
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_ENFORCE, "enforce", 0, "BACKEND", false, "auto, bpf-lsm or landlock (default auto)" },
	{ O_VERBOSE, "verbose", 'v', NULL, false, "say what is happening, with libbpf debug output" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt doctor_opts[] = {
	{ O_JSON, "json", 0, NULL, false, "print the report as JSON" },
	{ O_VERBOSE, "verbose", 'v', NULL, false, "more detail" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt lease_group_opts[] = {
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_spec specs[] = {
	{ CLI_KEYGEN, "keygen", "[--out DIR] [--force]",
	  "Create an Ed25519 signing key pair and print its key id (PASERK k4.pid).", keygen_opts,
	  "Refuses to overwrite existing keys (exit 73) unless --force." },
	{ CLI_LEASE, "lease", "issue|verify|show …",
	  "Issue, verify and inspect leases (PASETO v4.public tokens).", lease_group_opts,
	  "subcommands:\n"
	  "  issue    sign a new lease\n"
	  "  verify   check a lease: signature, key, times, claims, matrix\n"
	  "  show     print a lease's claims WITHOUT checking the signature\n"
	  "Try 'calyx lease SUBCOMMAND --help'." },
	{ CLI_LEASE_ISSUE, "lease issue",
	  "--key FILE --intent ID --ttl DUR --cmd 'ARGV' [--cmd …] [--path 'PATTERN[:ro|:rw]' …]\n"
	  "                   [--net deny_all] [--limit NAME=VALUE …] [--runs N] [--env NAME …] [-o FILE]",
	  "Sign a lease (PASETO v4.public) and print it, or write it to FILE.", issue_opts,
	  "The lease id is LEASE-YYYYMMDD-HHMMSS-xxxx (UTC); iat = nbf = now, exp = now + ttl." },
	{ CLI_LEASE_VERIFY, "lease verify", "(--pub FILE | --matrix FILE) [--skew DUR] [--json] TOKEN_FILE",
	  "Verify a lease. Exit 0 only for a valid lease.", verify_opts,
	  "With both --pub and --matrix, the matrix is used with that key trusted as well.\n"
	  "Exit 65: lease invalid (malformed, signature, key, times, claims);\n"
	  "exit 66: signer not trusted by the matrix, or lease outside the matrix." },
	{ CLI_LEASE_SHOW, "lease show", "TOKEN_FILE",
	  "Print a lease's claims. UNVERIFIED: the signature is not checked.", show_opts, NULL },
	{ CLI_RUN, "run",
	  "--lease FILE (--pub FILE | --matrix FILE) [--state DIR] [--enforce auto|bpf-lsm|landlock] [-v]\n"
	  "             -- CMD [ARG…]",
	  "Run CMD in a sandbox enforcing the lease (CP20 sandbox runner).", run_opts,
	  "CMD [ARG…] must equal one of the lease's commands. The exit code is the command's own,\n"
	  "or a calyx code (see 'calyx --help')." },
	{ CLI_DOCTOR, "doctor", "[--json] [-v]",
	  "Report what this kernel supports (BPF LSM, Landlock, cgroup v2, BTF) and what calyx will use.",
	  doctor_opts, NULL },
};

static const struct cli_spec *spec_of(enum cli_cmd cmd)
{
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		if (specs[i].cmd == cmd)
			return &specs[i];
	return NULL;
}

const char *cli_cmd_name(enum cli_cmd cmd)
{
	const struct cli_spec *s = spec_of(cmd);
	return s ? s->name : "";
}

static void print_opt(FILE *f, const struct cli_opt *o)
{
	char left[96];
	int n;
	if (o->short_name)
		n = snprintf(left, sizeof(left), "-%c, --%s", o->short_name, o->name);
	else
		n = snprintf(left, sizeof(left), "    --%s", o->name);
	if (o->metavar && n > 0 && (size_t)n < sizeof(left))
		snprintf(left + n, sizeof(left) - (size_t)n, " %s", o->metavar);
	if (strlen(left) > 24)
		fprintf(f, "  %s\n  %-24s  %s\n", left, "", o->help);
	else
		fprintf(f, "  %-24s  %s\n", left, o->help);
}

void cli_print_help(FILE *f, enum cli_cmd cmd)
{
	const struct cli_spec *s = spec_of(cmd);
	if (!s) {
		fprintf(f,
			"usage: calyx COMMAND [OPTIONS]\n"
			"\n"
			"calyx runs commands under a signed, expiring lease (PASETO v4.public) that names\n"
			"what may run and what it may touch, enforced in the kernel.\n"
			"\n"
			"commands:\n");
		for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
			fprintf(f, "  %-14s %s\n", specs[i].name, specs[i].summary);
		fprintf(f,
			"\n"
			"options:\n"
			"  -h, --help     this help; 'calyx COMMAND --help' for a command's options\n"
			"      --version  print the version\n"
			"\n"
			"exit codes:\n"
			"   0  success          64  usage error          65  lease invalid\n"
			"  66  lease outside the matrix / untrusted signer  67  lease already used\n"
			"  68  command not allowed  69  enforcement unavailable  70  internal error\n"
			"  73  key exists        74  I/O error            78  bad matrix or key file\n"
			"  123 resource limit    124 wall-clock timeout   otherwise: the command's own code\n");
		return;
	}
	fprintf(f, "usage: calyx %s %s\n\n%s\n", s->name, s->synopsis, s->summary);
	fprintf(f, "\noptions:\n");
	for (const struct cli_opt *o = s->opts; o->name; o++)
		print_opt(f, o);
	static const struct cli_opt help = { O_HELP, "help", 'h', NULL, false, "this help" };
	print_opt(f, &help);
	if (s->epilog)
		fprintf(f, "\n%s\n", s->epilog);
}

/* ---- parsing ---- */

static bool env_name_ok(const char *s)
{
	if (!s[0] || !(isupper((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
			return false;
	return strlen(s) <= 128;
}

static int parse_seconds(const char *opt, const char *v, bool zero_ok, uint64_t *out_s,
			 char *err, size_t errlen)
{
	uint64_t ms;
	if (zero_ok && strcmp(v, "0") == 0) {
		*out_s = 0;
		return 0;
	}
	int rc = units_parse_duration_ms(v, &ms);
	if (rc == -ERANGE)
		return errmsg(err, errlen, -EINVAL, "bad --%s '%s': too large", opt, v);
	if (rc < 0)
		return errmsg(err, errlen, -EINVAL,
			      "bad --%s '%s': expected a duration like 90s, 5m or 2h", opt, v);
	if (ms % 1000)
		return errmsg(err, errlen, -EINVAL,
			      "bad --%s '%s': must be a whole number of seconds", opt, v);
	/* Leases carry second-resolution times; anything beyond ~100 years is a typo. */
	if (ms / 1000 > 100ull * 366 * 86400)
		return errmsg(err, errlen, -EINVAL, "bad --%s '%s': too large", opt, v);
	*out_s = ms / 1000;
	return 0;
}

static int issue_opt(struct issue_opts *o, int id, const char *v, char *err, size_t errlen)
{
	char e[256] = "";
	switch (id) {
	case O_KEY:
		o->key_file = v;
		return 0;
	case O_INTENT:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --intent: must not be empty");
		o->intent = v;
		return 0;
	case O_TTL:
		return parse_seconds("ttl", v, false, &o->ttl_s, err, errlen);
	case O_CMD: {
		if (o->n_cmds >= LEASE_MAX_COMMANDS)
			return errmsg(err, errlen, -EINVAL,
				      "too many --cmd (at most %d)", LEASE_MAX_COMMANDS);
		struct argv_list a = { 0 };
		if (lease_split_command(v, &a, e, sizeof(e)) < 0) {
			argv_list_free(&a);
			return errmsg(err, errlen, -EINVAL, "bad --cmd '%s': %s", v, e);
		}
		if (a.argc == 0) {
			argv_list_free(&a);
			return errmsg(err, errlen, -EINVAL, "bad --cmd '%s': empty command", v);
		}
		struct argv_list *n = realloc(o->cmds, (o->n_cmds + 1) * sizeof(*n));
		if (!n) {
			argv_list_free(&a);
			return errmsg(err, errlen, -EINVAL, "out of memory");
		}
		o->cmds = n;
		o->cmds[o->n_cmds++] = a;
		return 0;
	}
	case O_PATH: {
		if (o->n_paths >= LEASE_MAX_PATHS)
			return errmsg(err, errlen, -EINVAL, "too many --path (at most %d)", LEASE_MAX_PATHS);
		char *pat = NULL;
		int rw = 0;
		if (pathpat_split_access(v, &pat, &rw, e, sizeof(e)) < 0) {
			free(pat);
			return errmsg(err, errlen, -EINVAL, "bad --path '%s': %s", v, e);
		}
		if (pathpat_check(pat, e, sizeof(e)) < 0) {
			free(pat);
			return errmsg(err, errlen, -EINVAL, "bad --path '%s': %s", v, e);
		}
		for (size_t i = 0; i < o->n_paths; i++)
			if (strcmp(o->paths[i].pattern, pat) == 0) {
				free(pat);
				return errmsg(err, errlen, -EINVAL, "--path '%s' given more than once", v);
			}
		struct issue_path *n = realloc(o->paths, (o->n_paths + 1) * sizeof(*n));
		if (!n) {
			free(pat);
			return errmsg(err, errlen, -EINVAL, "out of memory");
		}
		o->paths = n;
		o->paths[o->n_paths].pattern = pat;
		o->paths[o->n_paths].access = rw ? ACCESS_RW : ACCESS_RO;
		o->n_paths++;
		return 0;
	}
	case O_NET:
		if (strcmp(v, "deny_all") != 0)
			return errmsg(err, errlen, -EINVAL,
				      "bad --net '%s': only 'deny_all' is supported", v);
		o->network = NET_DENY_ALL;
		return 0;
	case O_LIMIT: {
		struct limits t;
		memset(&t, 0, sizeof(t));
		if (limits_parse_assignments(v, &t, e, sizeof(e)) < 0)
			return errmsg(err, errlen, -EINVAL, "bad --limit '%s': %s", v, e);
		for (int k = 0; k < LIMIT_COUNT; k++) {
			if (!t.set[k])
				continue;
			if (o->limits.set[k])
				return errmsg(err, errlen, -EINVAL,
					      "limit '%s' given more than once", limit_name(k));
			if (t.v[k] == 0)
				return errmsg(err, errlen, -EINVAL,
					      "bad --limit '%s': %s must be greater than 0", v,
					      limit_name(k));
			o->limits.set[k] = true;
			o->limits.v[k] = t.v[k];
		}
		return 0;
	}
	case O_RUNS: {
		uint64_t n;
		if (units_parse_u64(v, &n) < 0 || n < 1 || n > LEASE_MAX_RUNS)
			return errmsg(err, errlen, -EINVAL,
				      "bad --runs '%s': must be an integer from 1 to %d", v,
				      LEASE_MAX_RUNS);
		o->runs = (uint32_t)n;
		return 0;
	}
	case O_ENV: {
		if (!env_name_ok(v))
			return errmsg(err, errlen, -EINVAL,
				      "bad --env '%s': not a variable name [A-Z_][A-Z0-9_]*", v);
		for (size_t i = 0; i < o->n_env; i++)
			if (strcmp(o->env[i], v) == 0)
				return errmsg(err, errlen, -EINVAL, "--env '%s' given more than once", v);
		if (o->n_env >= LEASE_MAX_ENV)
			return errmsg(err, errlen, -EINVAL, "too many --env (at most %d)", LEASE_MAX_ENV);
		const char **n = realloc(o->env, (o->n_env + 1) * sizeof(*n));
		if (!n)
			return errmsg(err, errlen, -EINVAL, "out of memory");
		o->env = n;
		o->env[o->n_env++] = v;
		return 0;
	}
	case O_OUTPUT:
		if (!v[0])
			return errmsg(err, errlen, -EINVAL, "bad --output: empty file name");
		o->out_file = v;
		return 0;
	}
	return errmsg(err, errlen, -EINVAL, "internal: unhandled option");
}

static int handle_opt(struct cli *c, const struct cli_opt *opt, const char *v, char *err, size_t errlen)
{
	int id = opt->id;
	switch (c->cmd) {
	case CLI_KEYGEN:
		if (id == O_OUT) {
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --out: empty directory name");
			c->keygen.out_dir = v;
		} else if (id == O_FORCE) {
			c->keygen.force = true;
		}
		return 0;
	case CLI_LEASE_ISSUE:
		return issue_opt(&c->issue, id, v, err, errlen);
	case CLI_LEASE_VERIFY:
		if (id == O_PUB) {
			c->verify.pub_file = v;
		} else if (id == O_MATRIX) {
			c->verify.matrix_file = v;
		} else if (id == O_SKEW) {
			uint64_t s;
			int rc = parse_seconds("skew", v, true, &s, err, errlen);
			if (rc < 0)
				return rc;
			if (s > 86400)
				return errmsg(err, errlen, -EINVAL, "bad --skew '%s': at most 1 day", v);
			c->verify.skew_s = (int64_t)s;
			c->verify.skew_set = true;
		} else if (id == O_JSON) {
			c->verify.json = true;
		}
		return 0;
	case CLI_RUN:
		switch (id) {
		case O_LEASE: c->run.lease_file = v; break;
		case O_PUB: c->run.pub_file = v; break;
		case O_MATRIX: c->run.matrix_file = v; break;
		case O_STATE:
			if (!v[0])
				return errmsg(err, errlen, -EINVAL, "bad --state: empty directory name");
			c->run.state_dir = v;
			break;
		case O_ENFORCE: {
			int b = enforce_backend_from_name(v);
			if (b < 0)
				return errmsg(err, errlen, -EINVAL,
					      "bad --enforce '%s': expected auto, bpf-lsm or landlock", v);
			c->run.enforce = (enum enforce_backend)b;
			break;
		}
		case O_VERBOSE: c->run.verbose = true; break;
		}
		return 0;
	case CLI_DOCTOR:
		if (id == O_JSON)
			c->doctor.json = true;
		else if (id == O_VERBOSE)
			c->doctor.verbose = true;
		return 0;
	default:
		return errmsg(err, errlen, -EINVAL, "internal: no options for this command");
	}
}

static bool is_help_arg(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* argv[0] is the subcommand's last word; argc counts only the part before a run's "--". */
static int parse_sub(struct cli *c, const struct cli_spec *s, int argc, char **argv,
		     char *err, size_t errlen)
{
	struct option lopts[O_MAX - O_HELP + 2];
	char shorts[64] = ":";
	size_t nl = 0, ns = 1;
	int count[O_MAX] = { 0 };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (is_help_arg(argv[i])) {
			c->action = CLI_ACT_HELP;
			return 0;
		}
	}

	for (const struct cli_opt *o = s->opts; o->name; o++) {
		int val = o->short_name ? o->short_name : o->id;
		lopts[nl++] = (struct option){ o->name, o->metavar ? required_argument : no_argument, NULL, val };
		if (o->short_name) {
			shorts[ns++] = o->short_name;
			if (o->metavar)
				shorts[ns++] = ':';
		}
	}
	lopts[nl] = (struct option){ NULL, 0, NULL, 0 };
	shorts[ns] = '\0';

	optind = 0;   /* GNU: full reinitialisation, so repeated parses (tests) start clean */
	opterr = 0;
	for (;;) {
		int li = -1;
		int ch = getopt_long(argc, argv, shorts, lopts, &li);
		if (ch == -1)
			break;
		if (ch == '?') {
			if (optopt && optopt < 256 && isprint(optopt))
				return errmsg(err, errlen, -EINVAL, "unknown option '-%c'", optopt);
			return errmsg(err, errlen, -EINVAL, "unknown option '%s'", argv[optind - 1]);
		}
		if (ch == ':') {
			const struct cli_opt *o = NULL;
			for (const struct cli_opt *p = s->opts; p->name; p++)
				if ((p->short_name ? p->short_name : p->id) == optopt)
					o = p;
			if (o)
				return errmsg(err, errlen, -EINVAL,
					      "option '--%s' needs a value (%s)", o->name, o->metavar);
			return errmsg(err, errlen, -EINVAL, "option '%s' needs a value", argv[optind - 1]);
		}
		const struct cli_opt *o = NULL;
		for (const struct cli_opt *p = s->opts; p->name; p++)
			if ((p->short_name ? p->short_name : p->id) == ch)
				o = p;
		if (!o)
			return errmsg(err, errlen, -EINVAL, "internal: unexpected option");
		if (count[o->id]++ && !o->repeatable)
			return errmsg(err, errlen, -EINVAL, "option '--%s' given more than once", o->name);
		int rc = handle_opt(c, o, o->metavar ? optarg : NULL, err, errlen);
		if (rc < 0)
			return rc;
	}

	int npos = argc - optind;
	char **pos = argv + optind;

	switch (c->cmd) {
	case CLI_KEYGEN:
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[0]);
		if (!c->keygen.out_dir)
			c->keygen.out_dir = ".";
		return 0;
	case CLI_LEASE_ISSUE: {
		struct issue_opts *o = &c->issue;
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[0]);
		if (!o->key_file)
			return errmsg(err, errlen, -EINVAL, "missing required option --key FILE");
		if (!o->intent)
			return errmsg(err, errlen, -EINVAL, "missing required option --intent ID");
		if (!count[O_TTL])
			return errmsg(err, errlen, -EINVAL, "missing required option --ttl DUR");
		if (o->n_cmds == 0)
			return errmsg(err, errlen, -EINVAL, "missing required option --cmd 'ARGV'");
		return 0;
	}
	case CLI_LEASE_VERIFY:
		if (npos == 0)
			return errmsg(err, errlen, -EINVAL, "missing TOKEN_FILE");
		if (npos > 1)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[1]);
		if (!c->verify.pub_file && !c->verify.matrix_file)
			return errmsg(err, errlen, -EINVAL, "one of --pub FILE or --matrix FILE is required");
		c->verify.token_file = pos[0];
		return 0;
	case CLI_LEASE_SHOW:
		if (npos == 0)
			return errmsg(err, errlen, -EINVAL, "missing TOKEN_FILE");
		if (npos > 1)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[1]);
		c->show.token_file = pos[0];
		return 0;
	case CLI_RUN:
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL,
				      "unexpected argument '%s': the command goes after '--'", pos[0]);
		if (!c->run.lease_file)
			return errmsg(err, errlen, -EINVAL, "missing required option --lease FILE");
		if (!c->run.pub_file && !c->run.matrix_file)
			return errmsg(err, errlen, -EINVAL, "one of --pub FILE or --matrix FILE is required");
		return 0;
	case CLI_DOCTOR:
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[0]);
		return 0;
	default:
		return errmsg(err, errlen, -EINVAL, "internal: unknown command");
	}
}

static void defaults(struct cli *c)
{
	memset(c, 0, sizeof(*c));
	c->issue.runs = 1;
	c->issue.network = NET_DENY_ALL;
	c->run.enforce = ENFORCE_AUTO;
}

/* Resolve "keygen", "lease issue", … at argv[i]; returns the number of words used. */
static int lookup_cmd(int argc, char **argv, int i, enum cli_cmd *cmd, char *err, size_t errlen)
{
	const char *a = argv[i];
	if (strcmp(a, "keygen") == 0) { *cmd = CLI_KEYGEN; return 1; }
	if (strcmp(a, "run") == 0) { *cmd = CLI_RUN; return 1; }
	if (strcmp(a, "doctor") == 0) { *cmd = CLI_DOCTOR; return 1; }
	if (strcmp(a, "lease") == 0) {
		*cmd = CLI_LEASE;
		if (i + 1 >= argc)
			return errmsg(err, errlen, -EINVAL,
				      "missing lease subcommand (issue, verify or show)");
		const char *b = argv[i + 1];
		if (strcmp(b, "issue") == 0) { *cmd = CLI_LEASE_ISSUE; return 2; }
		if (strcmp(b, "verify") == 0) { *cmd = CLI_LEASE_VERIFY; return 2; }
		if (strcmp(b, "show") == 0) { *cmd = CLI_LEASE_SHOW; return 2; }
		if (is_help_arg(b))
			return 1;
		if (b[0] == '-')
			return errmsg(err, errlen, -EINVAL,
				      "unknown option '%s' (a lease subcommand comes first)", b);
		return errmsg(err, errlen, -EINVAL,
			      "unknown lease subcommand '%s' (issue, verify or show)", b);
	}
	return errmsg(err, errlen, -EINVAL, "unknown command '%s'", a);
}

int cli_parse(int argc, char **argv, struct cli *out, char *err, size_t errlen)
{
	defaults(out);
	if (errlen)
		err[0] = '\0';
	if (argc < 2)
		return errmsg(err, errlen, -EINVAL, "missing command");
	const char *a = argv[1];
	if (is_help_arg(a)) {
		out->action = CLI_ACT_HELP;
		return 0;
	}
	if (strcmp(a, "--version") == 0) {
		if (argc > 2)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", argv[2]);
		out->action = CLI_ACT_VERSION;
		return 0;
	}
	if (strcmp(a, "help") == 0) {
		out->action = CLI_ACT_HELP;
		if (argc == 2)
			return 0;
		enum cli_cmd cmd = CLI_NONE;
		int n = lookup_cmd(argc, argv, 2, &cmd, err, errlen);
		if (n < 0) {
			out->cmd = cmd;
			return n;
		}
		out->cmd = cmd;
		if (2 + n < argc)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", argv[2 + n]);
		return 0;
	}
	if (a[0] == '-')
		return errmsg(err, errlen, -EINVAL, "unknown option '%s' (the command comes first)", a);

	int n = lookup_cmd(argc, argv, 1, &out->cmd, err, errlen);
	if (n < 0)
		return n;
	if (out->cmd == CLI_LEASE) {
		/* only "calyx lease --help" reaches here */
		out->action = CLI_ACT_HELP;
		return 0;
	}
	int sub_argc = argc - n;
	char **sub_argv = argv + n;
	if (out->cmd == CLI_RUN) {
		/* Split at the first "--" before getopt sees anything: everything after it is the
		 * sandboxed command verbatim, never options of calyx. */
		int dd = -1;
		for (int i = 1; i < sub_argc; i++)
			if (strcmp(sub_argv[i], "--") == 0) {
				dd = i;
				break;
			}
		int rc = parse_sub(out, spec_of(CLI_RUN), dd < 0 ? sub_argc : dd, sub_argv, err, errlen);
		if (rc < 0 || out->action == CLI_ACT_HELP)
			return rc;
		if (dd < 0)
			return errmsg(err, errlen, -EINVAL,
				      "missing command: give it after '--' (calyx run … -- CMD [ARG…])");
		if (dd + 1 >= sub_argc)
			return errmsg(err, errlen, -EINVAL, "missing command after '--'");
		out->run.argv = sub_argv + dd + 1;
		out->run.argc = sub_argc - dd - 1;
		return 0;
	}
	return parse_sub(out, spec_of(out->cmd), sub_argc, sub_argv, err, errlen);
}

void cli_free(struct cli *c)
{
	struct issue_opts *o = &c->issue;
	for (size_t i = 0; i < o->n_cmds; i++)
		argv_list_free(&o->cmds[i]);
	free(o->cmds);
	for (size_t i = 0; i < o->n_paths; i++)
		free(o->paths[i].pattern);
	free(o->paths);
	free(o->env);
	o->cmds = NULL;
	o->paths = NULL;
	o->env = NULL;
	o->n_cmds = o->n_paths = o->n_env = 0;
}
