/* Command-line parsing. One table per subcommand drives both getopt_long and --help, so
 * the two cannot drift apart. Parsing is pure (no files, no clock): main() executes. */
#include "cli/cli.h"
#include "cli/options.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"
#include "base/units.h"
#include "policy/lease.h"
#include "policy/matrix.h"
#include "policy/pathpat.h"

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
	{ O_AUDIT, "audit", 0, NULL, false, "make the state dir's host audit key instead (STATE/keys/audit.key)" },
	{ O_STATE, "state", 's', "DIR", false, "with --audit: the state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt issue_opts[] = {
	{ O_KEY, "key", 'k', "FILE", false, "secret key (PASERK k4.secret, mode 0600) [required]" },
	{ O_INTENT, "intent", 'i', "ID", false, "approved intent, e.g. INT-TEST-SANDBOX [required]" },
	{ O_TTL, "ttl", 't', "DUR", false, "lifetime with its unit: 90s, 5m, 2h, 1d (a bare number is refused) [required]" },
	{ O_CMD, "cmd", 'c', "'ARGV'", true,
	  "an allowed command line, split like a shell without expansion [required, repeatable]" },
	{ O_PATH, "path", 'p', "'PATTERN[:ro|:rw]'", true,
	  "allowed path: /abs/path or repo://NAME/rel, optional final * or **; default ro [repeatable]" },
	{ O_NET, "net", 0, "POLICY", true,
	  "deny_all (the default), or allow=CIDR:PORT[/tcp|/udp] (IPv6 in brackets; PORT or *) [repeatable]" },
	{ O_LIMIT, "limit", 'l', "NAME=VALUE[,…]", true,
	  "cpu=10s, mem=256M, pids=64, wall=5m, output=16M, fsize=1M [repeatable]" },
	{ O_RUNS, "runs", 0, "N", false, "how many runs the lease allows (1..1000, default 1)" },
	{ O_ENV, "env", 'e', "NAME", true, "environment variable passed through to the command [repeatable]" },
	{ O_HELPER, "helper", 0, "PROGRAM", true,
	  "a program the command tree may exec with any arguments: /abs/path or a name in PATH [repeatable]" },
	{ O_AUD, "aud", 0, "NAME", false, "the host (or host group) the lease is for; the matrix says which a host answers to" },
	{ O_CWD, "cwd", 0, "DIR", false, "the command's working directory: a directory within one of the --path patterns" },
	{ O_MATRIX, "matrix", 'm', "FILE", false,
	  "check the lease against this capability matrix before signing; one that does not fit is not signed (66)" },
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
	{ O_PUB, "pub", 0, "FILE", false, "trust this public key (with the host matrix unless --matrix: /etc/calyx/capability_matrix.yaml if there, else the shipped one)" },
	{ O_MATRIX, "matrix", 'm', "FILE", false, "capability matrix to enforce" },
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_ENFORCE, "enforce", 0, "BACKEND", false, "auto, bpf-lsm or landlock (default auto)" },
	{ O_VERBOSE, "verbose", 'v', NULL, true, "-v: calyx's own steps on stderr; -vv: libbpf's debug output (verifier logs) too" },
	{ O_QUIET, "quiet", 'q', NULL, false, "no summary at the end, no warning about missing lease paths" },
	{ O_FAIL_ON_DENIAL, "fail-on-denial", 0, NULL, false,
	  "exit 125, not 0, when anything the command tried was denied (the matrix may make it the default)" },
	{ O_AUDIT_ONLY, "audit-only", 0, NULL, false,
	  "deny nothing the lease governs, record each would-deny (the matrix must say audit_only: allow)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt doctor_opts[] = {
	{ O_JSON, "json", 0, NULL, false, "print the report as JSON" },
	{ O_VERBOSE, "verbose", 'v', NULL, false, "then the details: who runs it, the state dir, bpffs, the cgroup root, what each Landlock ABI adds" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt enforcer_start_opts[] = {
	{ O_ENFORCE, "enforce", 0, "BACKEND", false, "auto, bpf-lsm or landlock (default auto: what `calyx run` would use)" },
	{ O_VERBOSE, "verbose", 'v', NULL, true, "-v: calyx's own steps on stderr; -vv: libbpf's debug output (verifier logs) too" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt enforcer_status_opts[] = {
	{ O_ENFORCE, "enforce", 0, "BACKEND", false, "only this backend's set (default: both)" },
	{ O_JSON, "json", 0, NULL, false, "print the status as JSON" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt enforcer_stop_opts[] = {
	{ O_ENFORCE, "enforce", 0, "BACKEND", false, "only this backend's set (default: every set that is up)" },
	{ O_FORCE, "force", 0, NULL, false, "kill the live sandboxes first (their runs end as killed)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt enforcer_metrics_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory whose audit log is counted (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_MATRIX, "matrix", 0, "FILE", false, "the matrix whose metrics.textfile is written (default: the host matrix)" },
	{ O_OUTPUT, "output", 'o', "FILE", false, "write FILE instead (atomically; '-': stdout)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt audit_verify_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx); a copy works" },
	{ O_PUB, "pub", 0, "FILE", false,
	  "the host audit public key you were given (default: the state dir's own keys/audit.pub)" },
	{ O_ALLOW_UNSIGNED, "allow-unsigned-tail", 0, NULL, false,
	  "records after the last checkpoint (a run in progress) are not a fault" },
	{ O_JSON, "json", 0, NULL, false, "print the result as JSON (with --host: one line per host)" },
	{ O_LOG, "log", 0, "FILE", false,
	  "verify this one log file (a shipped copy of a host's svf.jsonl, no state dir) with --pub" },
	{ O_HOST, "host", 0, "NAME=LOG:PUB", true,
	  "verify host NAME's shipped log LOG with its audit public key PUB; reported per host [repeatable]" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt audit_repair_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt rollback_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_FORCE, "force", 0, NULL, false,
	  "restore even when the paths changed again after the run (those changes are undone too)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt audit_show_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_LEASE, "lease", 0, "ID", false, "only the records of this lease (LEASE-…)" },
	{ O_INTENT, "intent", 0, "ID", false, "only the records of this intent (INT-…)" },
	{ O_TYPE, "type", 0, "T", false,
	  "only records of type T (lease_event.refused), or of a family (lease_event: every lease_event.*)" },
	{ O_SINCE, "since", 0, "TIME", false, "only records at or after TIME: RFC 3339, or a duration back from now (10m, 2h, 1d)" },
	{ O_JSON, "json", 0, NULL, false, "print the records' lines exactly as they are in the log (JSON Lines)" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt report_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_OUTPUT, "output", 'o', "FILE", false, "write the page to FILE (atomically, 0644) instead of stdout" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt suggest_opts[] = {
	{ O_STATE, "state", 's', "DIR", false, "state directory (default $CALYX_STATE, else /var/lib/calyx)" },
	{ O_JSON, "json", 0, NULL, false, "print the suggested claims as JSON instead of lease issue flags" },
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt matrix_check_opts[] = {
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_opt lease_group_opts[] = {
	{ 0, NULL, 0, NULL, false, NULL },
};

static const struct cli_spec specs[] = {
	{ CLI_KEYGEN, "keygen", "[--out DIR] [--force] | --audit [--state DIR] [--force]",
	  "Create an Ed25519 signing key pair and print its key id (PASERK k4.pid).", keygen_opts,
	  "Refuses to overwrite existing keys (exit 73) unless --force.\n"
	  "--audit: the state dir's host audit key (STATE/keys/audit.key, audit.pub), which signs the\n"
	  "audit log's checkpoints; prints its public key for the auditor. `calyx run` makes one on\n"
	  "first use. Replacing it (--force) leaves older checkpoints verifiable only with the old\n"
	  "public key." },
	{ CLI_LEASE, "lease", "issue|verify|show …",
	  "Issue, verify and inspect leases (PASETO v4.public tokens).", lease_group_opts,
	  "subcommands:\n"
	  "  issue    sign a new lease\n"
	  "  verify   check a lease: signature, key, times, claims, matrix\n"
	  "  show     print a lease's claims WITHOUT checking the signature\n"
	  "  suggest  the smallest lease a recorded run needed\n"
	  "Try 'calyx lease SUBCOMMAND --help'." },
	{ CLI_LEASE_ISSUE, "lease issue",
	  "--key FILE --intent ID --ttl DUR --cmd 'ARGV' [--cmd …] [--path 'PATTERN[:ro|:rw]' …]\n"
	  "                   [--net deny_all|allow=CIDR:PORT[/tcp|/udp] …] [--limit NAME=VALUE …]\n"
	  "                   [--runs N] [--env NAME …]\n"
	  "                   [--helper PROGRAM …] [--aud NAME] [--cwd DIR] [--matrix FILE] [-o FILE]",
	  "Sign a lease (PASETO v4.public) and print it, or write it to FILE.", issue_opts,
	  "The lease id is LEASE-YYYYMMDD-HHMMSS-xxxx (UTC); iat = nbf = now, exp = now + ttl.\n"
	  "Path patterns: DIR/* admits the entries directly in DIR (DIR/a.txt, and DIR/sub itself,\n"
	  "but not DIR/sub/b.txt); DIR/** admits DIR and everything below it, at any depth.\n"
	  "A path missing here, or DIR/* over a DIR holding only directories, is a warning." },
	{ CLI_LEASE_VERIFY, "lease verify", "(--pub FILE | --matrix FILE) [--skew DUR] [--json] TOKEN_FILE",
	  "Verify a lease. Exit 0 only for a valid lease.", verify_opts,
	  "With both --pub and --matrix, the matrix is used with that key trusted as well.\n"
	  "Exit 65: lease invalid (malformed, signature, key, times, claims);\n"
	  "exit 66: signer not trusted by the matrix, or lease outside the matrix." },
	{ CLI_LEASE_SHOW, "lease show", "TOKEN_FILE",
	  "Print a lease's claims. UNVERIFIED: the signature is not checked.", show_opts, NULL },
	{ CLI_LEASE_SUGGEST, "lease suggest", "LEASE-ID [--state DIR] [--json]",
	  "Print the smallest lease a recorded run needed, as lease issue flags (or claims JSON).",
	  suggest_opts,
	  "From the run's meta.json, events.jsonl and the claims of the lease it ran under (its\n"
	  "lease_event.verified record): the commands it ran with their argv, the paths it was\n"
	  "refused added to the ones it was granted, network destinations it was refused, limits\n"
	  "with headroom over what was measured (docs/suggest.md). What cannot be known is said on\n"
	  "stderr. Reads only. Exit 88: no such run; 89: its meta.json is damaged or the audit log\n"
	  "has no claims for it; 74: the state dir or a file could not be read." },
	{ CLI_RUN, "run",
	  "--lease FILE (--pub FILE | --matrix FILE) [--state DIR] [--enforce auto|bpf-lsm|landlock] [-v|-vv]\n"
	  "             [-q] [--fail-on-denial] [--audit-only] -- CMD [ARG…]",
	  "Run CMD in a sandbox enforcing the lease (CP20 sandbox runner).", run_opts,
	  "CMD [ARG…] must equal one of the lease's commands. The exit code is the command's own,\n"
	  "or a calyx code (see 'calyx --help')." },
	{ CLI_DOCTOR, "doctor", "[--json] [-v]",
	  "Report what this kernel supports (BPF LSM, Landlock, cgroup v2, BTF) and what calyx will use.",
	  doctor_opts, NULL },
	{ CLI_ENFORCER, "enforcer", "start|status|stop …",
	  "Manage the resident program set (loaded once per host and backend, shared by every run).",
	  lease_group_opts,
	  "subcommands:\n"
	  "  start    load, attach and pin the set (the first `calyx run` does it too)\n"
	  "  status   what is up: version, backend, live sandboxes, lost records\n"
	  "  stop     detach and unpin it; refused while sandboxes are live unless --force\n"
	  "  metrics  write the host's counters for Prometheus (node_exporter's textfile collector)\n"
	  "Try 'calyx enforcer SUBCOMMAND --help'." },
	{ CLI_ENFORCER_START, "enforcer start", "[--enforce auto|bpf-lsm|landlock] [-v]",
	  "Bring the resident program set up (a set of another build is replaced when idle).",
	  enforcer_start_opts, "Exit 69: the backend does not load here; 75: another build's set serves live sandboxes." },
	{ CLI_ENFORCER_STATUS, "enforcer status", "[--enforce bpf-lsm|landlock] [--json]",
	  "Show the resident program sets. Loads nothing.", enforcer_status_opts,
	  "Exit 0 when a set this calyx can use is up, 69 otherwise." },
	{ CLI_ENFORCER_STOP, "enforcer stop", "[--enforce bpf-lsm|landlock] [--force]",
	  "Stop the resident program sets: every program detached, every pin and cgroup removed.",
	  enforcer_stop_opts, "Exit 75: refused, sandboxes are live (they are named); --force kills them first." },
	{ CLI_ENFORCER_METRICS, "enforcer metrics", "[--state DIR] [--matrix FILE | -o FILE]",
	  "Write the host's counters in Prometheus text format (node_exporter's textfile collector).",
	  enforcer_metrics_opts,
	  "Counters from the state dir's audit log (runs by status, refusals, denials by class, records\n"
	  "lost, limit violations), gauges from the resident sets (live sandboxes, slots) (docs/fleet.md).\n"
	  "Written to the matrix's metrics.textfile (temp file, rename), or -o. Exit 64: nowhere to write;\n"
	  "74: the log or a set could not be read, or the file not written; 78: the matrix is malformed." },
	{ CLI_ROLLBACK, "rollback", "LEASE-ID [--state DIR] [--force]",
	  "Put a run's :rw paths back as they were before it started, from its rollback pack.", rollback_opts,
	  "LEASE-ID names the run directory (LEASE-ID-rN for run N of a multi-run lease).\n"
	  "Exit 74: no such run, or the tree could not be written; 76: the paths changed again after\n"
	  "the run (--force); 77: the pack or manifest refused (hostile or not the run's);\n"
	  "79: the restored tree does not match the manifest (the first difference is named);\n"
	  "80-87: the audit log's tail does not verify (as calyx audit verify names it): nothing changed." },
	{ CLI_REPORT, "report", "LEASE-ID [--state DIR] [-o FILE]",
	  "Write one self-contained HTML page about a run: lease, processes, resources, denials, audit.",
	  report_opts,
	  "LEASE-ID names the run directory: LEASE-… (its first run) or LEASE-…-rN (its N-th run).\n"
	  "Reads only; the page loads nothing from anywhere. Exit 88: no such run; 89: its meta.json\n"
	  "is damaged; 74: the state dir or a file could not be read or FILE written." },
	{ CLI_AUDIT, "audit", "verify|repair|show …",
	  "Check, mend and read the SVF audit log (docs/audit.md).", lease_group_opts,
	  "subcommands:\n"
	  "  verify   check every record, the chain and the signed checkpoints\n"
	  "  repair   cut off a last record cut short by a crash or a full disk, and record that\n"
	  "  show     the records, filtered: text for people, or the log's own lines (--json)\n"
	  "Try 'calyx audit SUBCOMMAND --help'." },
	{ CLI_AUDIT_VERIFY, "audit verify", "[--state DIR | --log FILE | --host NAME=LOG:PUB …] [--pub FILE] [--allow-unsigned-tail] [--json]",
	  "Verify the audit log. Exit 0 only for an intact log.", audit_verify_opts,
	  "Exit 80 edited, 81 deleted, 82 inserted, 83 reordered, 84 truncated (records cut off the end),\n"
	  "85 the last record cut short (`calyx audit repair`), 86 bad signature, 87 unsigned records\n"
	  "or checkpoint file missing, 74 unreadable. The first fault is named with its file and line.\n"
	  "--log/--host: a shipped copy (docs/fleet.md) has no checkpoint file: the log's own checkpoints\n"
	  "sign it, so it must end in one (87 otherwise). --host: one line (or JSON object) per host;\n"
	  "the exit code is the worst host's (tampering, then a cut record, then unsigned, then unreadable)." },
	{ CLI_AUDIT_REPAIR, "audit repair", "[--state DIR]",
	  "Cut off a last record cut short (crash, full disk) and append a signed log_event.repaired.",
	  audit_repair_opts,
	  "Anything else that does not verify is not repaired: exit with `audit verify`'s code, nothing changed." },
	{ CLI_AUDIT_SHOW, "audit show",
	  "[--state DIR] [--lease ID] [--intent ID] [--type T] [--since TIME] [--json]",
	  "Show the audit log's records (read under a shared lock; the chain is not checked).",
	  audit_show_opts,
	  "Text: one line per record, 'TS TYPE LEASE INTENT SUMMARY'. Every filter given must match.\n"
	  "Exit 64: bad option or time; 74: no audit log, or a line that is not a record (named)." },
	{ CLI_MATRIX, "matrix", "check …",
	  "Check capability matrix files (docs/matrix.md).", lease_group_opts,
	  "subcommands:\n"
	  "  check    load a matrix as `calyx run` would and name its first problem\n"
	  "Try 'calyx matrix SUBCOMMAND --help'." },
	{ CLI_MATRIX_CHECK, "matrix check", "FILE",
	  "Check a capability matrix: exit 0 only when `calyx run --matrix FILE` would load it.",
	  matrix_check_opts,
	  "A problem is named FILE:LINE:COLUMN: key.path: what is wrong (a mis-indented key says so).\n"
	  "Settings that load but refuse or grant nothing are warnings on stderr (exit still 0).\n"
	  "Exit 78: the matrix is not valid; 74: it cannot be read." },
};

/* The subcommands of the command groups that lookup_cmd resolves from a table. */
struct cli_sub {
	const char *name;
	enum cli_cmd cmd;
};
static const struct cli_sub audit_subs[] = {
	{ "verify", CLI_AUDIT_VERIFY },
	{ "repair", CLI_AUDIT_REPAIR },
	{ "show", CLI_AUDIT_SHOW },
	{ NULL, CLI_NONE },
};

static const struct cli_sub matrix_subs[] = {
	{ "check", CLI_MATRIX_CHECK },
	{ NULL, CLI_NONE },
};

static bool is_help_arg(const char *a);

/* "GROUP SUB" at argv[i]: the words used (1 for "GROUP --help"), or -EINVAL naming the
 * subcommands the table has. */
static int lookup_sub(int argc, char **argv, int i, const char *group, enum cli_cmd group_cmd,
		      const struct cli_sub *subs, enum cli_cmd *cmd, char *err, size_t errlen)
{
	char names[128] = "";
	for (const struct cli_sub *s = subs; s->name; s++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", names[0] ? ", " : "", s->name);
	*cmd = group_cmd;
	if (i + 1 >= argc)
		return errmsg(err, errlen, -EINVAL, "missing %s subcommand (%s)", group, names);
	const char *b = argv[i + 1];
	for (const struct cli_sub *s = subs; s->name; s++)
		if (strcmp(b, s->name) == 0) {
			*cmd = s->cmd;
			return 2;
		}
	if (is_help_arg(b))
		return 1;
	if (b[0] == '-')
		return errmsg(err, errlen, -EINVAL, "unknown option '%s' (an %s subcommand comes first)", b, group);
	return errmsg(err, errlen, -EINVAL, "unknown %s subcommand '%s' (%s)", group, b, names);
}

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
		/* The column as wide as the longest command name, so none runs into its summary. */
		int w = 0;
		for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
			if ((int)strlen(specs[i].name) > w)
				w = (int)strlen(specs[i].name);
		for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
			fprintf(f, "  %-*s  %s\n", w, specs[i].name, specs[i].summary);
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
			"  73  key exists        74  I/O error            75  enforcer busy (live sandboxes)\n"
			"  76  rollback: paths changed since the run   77  rollback: pack refused\n"
			"  78  bad matrix or key file  79  rollback: restored tree does not match\n"
			"  80-87 the audit log does not verify (see 'calyx audit verify --help')\n"
			"  88  report, lease suggest: no such run   89  the run's meta.json (or its claims) damaged\n"
			"  90  group ledger (etcd) unreachable or untrusted\n"
			"  123 resource limit    124 wall-clock timeout   125 denied (--fail-on-denial)\n"
			"  otherwise: the command's own code\n");
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

static bool is_help_arg(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* argv[0] is the subcommand's last word; argc counts only the part before a run's "--".
 * Long: the getopt_long tables are built from the spec here and used by the loop and the
 * positional checks that follow. */
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
		int rc = cli_handle_opt(c, o->id, o->metavar ? optarg : NULL, err, errlen);
		if (rc < 0)
			return rc;
	}

	int npos = argc - optind;
	char **pos = argv + optind;

	switch (c->cmd) {
	case CLI_KEYGEN:
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[0]);
		if (c->keygen.audit && c->keygen.out_dir)
			return errmsg(err, errlen, -EINVAL, "--audit writes into the state dir: use --state DIR, not --out");
		if (c->keygen.state_dir && !c->keygen.audit)
			return errmsg(err, errlen, -EINVAL, "--state goes with --audit");
		if (c->keygen.audit)
			return 0;
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
	case CLI_ROLLBACK:
		if (npos == 0)
			return errmsg(err, errlen, -EINVAL, "missing LEASE-ID");
		if (npos > 1)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[1]);
		c->rollback.run = pos[0];
		return 0;
	case CLI_LEASE_SUGGEST:
	case CLI_REPORT:
		if (npos == 0)
			return errmsg(err, errlen, -EINVAL, "missing LEASE-ID");
		if (npos > 1)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[1]);
		/* A run directory's name: one plain path component, never a path. */
		if (strncmp(pos[0], "LEASE-", 6) != 0 || !pos[0][6] || strlen(pos[0]) > 100 ||
		    strspn(pos[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(pos[0])) {
			char q[ERRMSG_QUOTE_MAX + 8];
			errmsg_quote(q, sizeof(q), pos[0], strlen(pos[0]));
			return errmsg(err, errlen, -EINVAL,
				      "bad LEASE-ID '%s': expected LEASE-YYYYMMDD-HHMMSS-xxxx or LEASE-…-rN", q);
		}
		if (c->cmd == CLI_LEASE_SUGGEST)
			c->suggest.run_name = pos[0];
		else
			c->report.run_name = pos[0];
		return 0;
	case CLI_MATRIX_CHECK:
		if (npos == 0)
			return errmsg(err, errlen, -EINVAL, "missing FILE (the capability matrix to check)");
		if (npos > 1)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[1]);
		c->matrix.file = pos[0];
		return 0;
	case CLI_AUDIT_VERIFY:
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[0]);
		if ((c->audit.log_file || c->audit.n_hosts) && c->audit.state_dir)
			return errmsg(err, errlen, -EINVAL, "--state verifies a state dir; --log and --host verify shipped files: one of them");
		if (c->audit.log_file && c->audit.n_hosts)
			return errmsg(err, errlen, -EINVAL, "--log goes alone; for several logs give each as --host NAME=LOG:PUB");
		if (c->audit.log_file && !c->audit.pub_file)
			return errmsg(err, errlen, -EINVAL, "--log needs --pub FILE (a shipped copy has no state dir to take the key from)");
		if (c->audit.n_hosts && c->audit.pub_file)
			return errmsg(err, errlen, -EINVAL, "--host names each host's key (NAME=LOG:PUB): no --pub");
		return 0;
	case CLI_ENFORCER_METRICS:
		if (npos > 0)
			return errmsg(err, errlen, -EINVAL, "unexpected argument '%s'", pos[0]);
		if (c->enforcer.matrix_file && c->enforcer.out_file)
			return errmsg(err, errlen, -EINVAL, "--matrix names where to write (metrics.textfile), -o too: one of them");
		return 0;
	case CLI_AUDIT_REPAIR:
	case CLI_DOCTOR:
	case CLI_ENFORCER_START:
	case CLI_ENFORCER_STATUS:
	case CLI_ENFORCER_STOP:
	case CLI_AUDIT_SHOW:
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
	if (strcmp(a, "rollback") == 0) { *cmd = CLI_ROLLBACK; return 1; }
	if (strcmp(a, "audit") == 0)
		return lookup_sub(argc, argv, i, "audit", CLI_AUDIT, audit_subs, cmd, err, errlen);
	if (strcmp(a, "report") == 0) { *cmd = CLI_REPORT; return 1; }
	if (strcmp(a, "matrix") == 0)
		return lookup_sub(argc, argv, i, "matrix", CLI_MATRIX, matrix_subs, cmd, err, errlen);
	if (strcmp(a, "enforcer") == 0) {
		*cmd = CLI_ENFORCER;
		if (i + 1 >= argc)
			return errmsg(err, errlen, -EINVAL, "missing enforcer subcommand (start, status, stop or metrics)");
		const char *b = argv[i + 1];
		if (strcmp(b, "start") == 0) { *cmd = CLI_ENFORCER_START; return 2; }
		if (strcmp(b, "status") == 0) { *cmd = CLI_ENFORCER_STATUS; return 2; }
		if (strcmp(b, "stop") == 0) { *cmd = CLI_ENFORCER_STOP; return 2; }
		if (strcmp(b, "metrics") == 0) { *cmd = CLI_ENFORCER_METRICS; return 2; }
		if (is_help_arg(b))
			return 1;
		if (b[0] == '-')
			return errmsg(err, errlen, -EINVAL,
				      "unknown option '%s' (an enforcer subcommand comes first)", b);
		return errmsg(err, errlen, -EINVAL, "unknown enforcer subcommand '%s' (start, status, stop or metrics)", b);
	}
	if (strcmp(a, "lease") == 0) {
		*cmd = CLI_LEASE;
		if (i + 1 >= argc)
			return errmsg(err, errlen, -EINVAL,
				      "missing lease subcommand (issue, verify, show or suggest)");
		const char *b = argv[i + 1];
		if (strcmp(b, "issue") == 0) { *cmd = CLI_LEASE_ISSUE; return 2; }
		if (strcmp(b, "verify") == 0) { *cmd = CLI_LEASE_VERIFY; return 2; }
		if (strcmp(b, "show") == 0) { *cmd = CLI_LEASE_SHOW; return 2; }
		if (strcmp(b, "suggest") == 0) { *cmd = CLI_LEASE_SUGGEST; return 2; }
		if (is_help_arg(b))
			return 1;
		if (b[0] == '-')
			return errmsg(err, errlen, -EINVAL,
				      "unknown option '%s' (a lease subcommand comes first)", b);
		return errmsg(err, errlen, -EINVAL,
			      "unknown lease subcommand '%s' (issue, verify, show or suggest)", b);
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
	if (out->cmd == CLI_LEASE || out->cmd == CLI_ENFORCER || out->cmd == CLI_AUDIT || out->cmd == CLI_MATRIX) {
		/* only "calyx lease --help" / "calyx enforcer --help" / "calyx audit --help" reach here */
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
	for (size_t i = 0; i < c->audit.n_hosts; i++)
		free(c->audit.hosts[i].spec);
	free(c->audit.hosts);
	c->audit.hosts = NULL;
	c->audit.n_hosts = 0;
	struct issue_opts *o = &c->issue;
	for (size_t i = 0; i < o->n_cmds; i++)
		argv_list_free(&o->cmds[i]);
	free(o->cmds);
	for (size_t i = 0; i < o->n_paths; i++)
		free(o->paths[i].pattern);
	free(o->paths);
	free(o->env);
	free(o->helpers);
	o->cmds = NULL;
	o->paths = NULL;
	o->env = NULL;
	o->helpers = NULL;
	o->n_cmds = o->n_paths = o->n_env = o->n_helpers = 0;
}
