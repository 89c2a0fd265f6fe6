/* calyx: parse (cli.c), then hand the parsed options to the command that executes them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "base/exitcodes.h"
#include "base/testhook.h"
#include "base/version.h"
#include "cli/audit.h"
#include "cli/audit_show.h"
#include "cli/cli.h"
#include "cli/doctor.h"
#include "cli/enforcer.h"
#include "cli/keygen.h"
#include "cli/lease.h"
#include "cli/matrix_check.h"
#include "cli/metrics.h"
#include "cli/rollback.h"
#include "cli/report.h"
#include "cli/run.h"
#include "cli/suggest.h"


static int dispatch(const struct cli *c)
{
	switch (c->action) {
	case CLI_ACT_HELP:
		cli_print_help(stdout, c->cmd);
		return EXIT_OK;
	case CLI_ACT_VERSION:
		/* A test build says so: its runner honours the fault-injection variables. */
		printf("calyx %s%s\n", calyx_version, testhook_built_in() ? " (test hooks)" : "");
		return EXIT_OK;
	case CLI_ACT_RUN:
		break;
	}
	switch (c->cmd) {
	case CLI_KEYGEN:
		return c->keygen.audit ? audit_keygen_run(&c->keygen) : keygen_run(&c->keygen);
	case CLI_AUDIT_VERIFY:
		return audit_verify_run(&c->audit);
	case CLI_AUDIT_REPAIR:
		return audit_repair_run(&c->audit);
	case CLI_LEASE_ISSUE:
		return lease_issue_run(&c->issue);
	case CLI_LEASE_VERIFY:
		return lease_verify_run(&c->verify);
	case CLI_LEASE_SHOW:
		return lease_show_run(&c->show);
	case CLI_RUN:
		return run_cmd_run(&c->run);
	case CLI_DOCTOR:
		return doctor_run(c->doctor.verbose, c->doctor.json);
	case CLI_ENFORCER_START:
		return enforcer_start_run(&c->enforcer);
	case CLI_ENFORCER_METRICS:
		return metrics_run(&c->enforcer);
	case CLI_ENFORCER_STATUS:
		return enforcer_status_run(&c->enforcer);
	case CLI_ENFORCER_STOP:
		return enforcer_stop_run(&c->enforcer);
	case CLI_ROLLBACK:
		return rollback_run(&c->rollback);
	case CLI_AUDIT_SHOW:
		return audit_show_run(&c->audit);
	case CLI_REPORT:
		return report_cmd_run(&c->report);
	case CLI_MATRIX_CHECK:
		return matrix_check_run(&c->matrix);
	case CLI_LEASE_SUGGEST:
		return suggest_cmd_run(&c->suggest);
	default:
		fprintf(stderr, "calyx: internal error: no command\n");
		return EXIT_INTERNAL;
	}
}

int main(int argc, char **argv)
{
	struct cli c;
	char err[1024];
	int rc;

	if (sodium_init() < 0) {
		fprintf(stderr, "calyx: libsodium initialisation failed\n");
		return EXIT_INTERNAL;
	}
	if (cli_parse(argc, argv, &c, err, sizeof(err)) < 0) {
		const char *name = cli_cmd_name(c.cmd);
		fprintf(stderr, "calyx: %s\ntry 'calyx %s%s--help'\n", err, name, name[0] ? " " : "");
		cli_free(&c);
		return EXIT_USAGE;
	}
	rc = dispatch(&c);
	cli_free(&c);
	/* A full disk or closed pipe on stdout must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "calyx: error writing output: %s\n", strerror(errno));
		if (rc == EXIT_OK)
			rc = EXIT_IO;
	}
	return rc;
}
