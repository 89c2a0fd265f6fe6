/* Command-line parsing for the calyx binary. Pure: parsing never touches files, keys or
 * the clock, so tests/unit/test_cli.c checks every rejection without side effects.
 * One option table per subcommand produces both the getopt_long options and --help. */
#ifndef CALYX_CLI_H
#define CALYX_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "policy/backend.h"
#include "policy/lease.h"
#include "run/run.h"

enum cli_cmd {
	CLI_NONE = 0,
	CLI_KEYGEN,
	CLI_LEASE,          /* the "lease" group itself: only for --help */
	CLI_LEASE_ISSUE,
	CLI_LEASE_VERIFY,
	CLI_LEASE_SHOW,
	CLI_RUN,
	CLI_DOCTOR,
	CLI_ENFORCER,       /* the "enforcer" group itself: only for --help */
	CLI_ENFORCER_START,
	CLI_ENFORCER_STATUS,
	CLI_ENFORCER_STOP,
	CLI_AUDIT,          /* the "audit" group itself: only for --help */
	CLI_AUDIT_VERIFY,
	CLI_AUDIT_REPAIR,
	CLI_ROLLBACK,
	CLI_AUDIT_SHOW,
	CLI_REPORT,
	CLI_MATRIX,         /* the "matrix" group itself: only for --help */
	CLI_MATRIX_CHECK,
	CLI_LEASE_SUGGEST,
	CLI_ENFORCER_METRICS,
	CLI_CMD_COUNT,
};

/* What main() should do after a successful parse. */
enum cli_action {
	CLI_ACT_RUN = 0,    /* execute cli.cmd */
	CLI_ACT_HELP,       /* print the help of cli.cmd (CLI_NONE: the top-level help) */
	CLI_ACT_VERSION,
};

struct keygen_opts {
	const char *out_dir;          /* default "." */
	bool force;
	bool audit;                   /* --audit: the host audit key of the state dir */
	const char *state_dir;        /* --state (with --audit) */
};

/* verify --host NAME=LOG:PUB: one host's shipped log and its audit public key. */
struct audit_host {
	char *spec;                   /* malloc'd copy of the value, split in place */
	const char *name, *log, *pub; /* point into spec */
};
#define AUDIT_MAX_HOSTS 64

/* The audit group's commands (verify, repair, show: the same state dir option for each). */
struct audit_opts {
	const char *state_dir;        /* --state, else $CALYX_STATE, else the default */
	const char *pub_file;         /* verify: the audit public key (default: the state dir's own) */
	bool json;                    /* verify: the result as JSON; show: the records' lines as they are */
	bool allow_unsigned_tail;     /* verify: records after the last checkpoint are not a fault */
	const char *log_file;         /* verify --log: one shipped log file, instead of a state dir */
	struct audit_host *hosts;     /* verify --host (repeatable): several hosts' shipped logs */
	size_t n_hosts;
	const char *lease;            /* show: --lease ID */
	const char *intent;           /* show: --intent ID */
	const char *type;             /* show: --type T (a type, or a family: lease_event) */
	const char *since;            /* show: --since TIME|DURATION, checked when run (needs now) */
};

struct issue_path {
	char *pattern;                /* malloc'd, syntax-checked (pathpat_check) */
	enum path_access access;
};

struct issue_opts {
	const char *key_file;
	const char *intent;
	uint64_t ttl_s;               /* whole seconds, > 0 */
	struct argv_list *cmds;       /* split with lease_split_command */
	size_t n_cmds;
	struct issue_path *paths;
	size_t n_paths;
	enum net_policy network;
	struct net_rule net_allow[NETRULE_MAX];  /* --net allow=CIDR:PORT[/proto], repeatable */
	size_t n_net_allow;
	bool net_deny_all_given;      /* --net deny_all: then no allow= may follow (or precede) */
	struct limits limits;
	uint32_t runs;                /* default 1 */
	const char **env;             /* names, validated, no duplicates */
	size_t n_env;
	const char **helpers;         /* --helper: programs runnable with any argv */
	size_t n_helpers;
	const char *aud;              /* --aud: the host or host group the lease is for */
	const char *cwd;              /* --cwd: the command's working directory */
	const char *out_file;         /* -o; NULL = stdout */
	const char *matrix_file;      /* --matrix: the lease must fit it before it is signed */
};

struct verify_opts {
	const char *pub_file;
	const char *matrix_file;
	bool skew_set;
	int64_t skew_s;
	bool json;
	const char *token_file;
};

struct show_opts {
	const char *token_file;
};

struct doctor_opts {
	bool json;
	bool verbose;
};

struct enforcer_opts {
	enum enforce_backend backend; /* --enforce: start: AUTO picks; status/stop: AUTO = every backend */
	bool force;                   /* stop: kill live sandboxes first */
	bool json;                    /* status */
	int verbose;                  /* start: 1 (-v) calyx's own steps, 2 (-vv) libbpf's debug output too */
	const char *state_dir;        /* metrics: --state, else $CALYX_STATE, else the default */
	const char *matrix_file;      /* metrics: --matrix (else the host matrix): its metrics.textfile */
	const char *out_file;         /* metrics: -o FILE ("-": stdout) instead of the matrix's */
};

struct rollback_opts {
	const char *run;              /* LEASE-ID (or LEASE-ID-rN): the run directory's name */
	const char *state_dir;        /* --state, else $CALYX_STATE, else /var/lib/calyx */
	bool force;                   /* restore even when the paths changed since the run */
};

struct report_opts {
	const char *run_name;         /* LEASE-… or LEASE-…-rN: a run directory's name */
	const char *state_dir;        /* --state, else $CALYX_STATE, else /var/lib/calyx */
	const char *out_file;         /* -o: written atomically; NULL = stdout */
};

struct suggest_opts {
	const char *run_name;         /* LEASE-… or LEASE-…-rN: a run directory's name */
	const char *state_dir;        /* --state, else $CALYX_STATE, else /var/lib/calyx */
	bool json;                    /* the claims as JSON instead of lease issue flags */
};

struct matrix_check_opts {
	const char *file;             /* the capability matrix to check */
};

struct cli {
	enum cli_action action;
	enum cli_cmd cmd;
	struct keygen_opts keygen;
	struct issue_opts issue;
	struct verify_opts verify;
	struct show_opts show;
	struct run_opts run;         /* run/run.h: given to runner_run as it is */
	struct doctor_opts doctor;
	struct enforcer_opts enforcer;
	struct audit_opts audit;
	struct rollback_opts rollback;
	struct report_opts report;
	struct matrix_check_opts matrix;
	struct suggest_opts suggest;
};

/* Parse argv (argv[0] is the program name). Returns 0 with *out filled, or -EINVAL with
 * a one-line problem in err and out->cmd set to the subcommand that was being parsed (for
 * the "try 'calyx CMD --help'" hint). argv may be permuted (getopt_long); the run
 * command's argv points into it. Call cli_free even after a failure. */
int cli_parse(int argc, char **argv, struct cli *out, char *err, size_t errlen);
void cli_free(struct cli *c);

/* "keygen", "lease issue", … ("" for CLI_NONE). */
const char *cli_cmd_name(enum cli_cmd cmd);
/* Help text of a subcommand (CLI_NONE: the top-level help), generated from the tables. */
void cli_print_help(FILE *f, enum cli_cmd cmd);

#endif
