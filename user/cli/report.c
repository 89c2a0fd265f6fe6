/* `calyx report`: load the run (report/load.c), render the page (report/html.c), write it. */
#include "cli/report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/version.h"
#include "report/html.h"
#include "report/load.h"
#include "state/state.h"

int report_cmd_run(const struct report_opts *o)
{
	const char *state = state_dir_resolve(o->state_dir);
	/* Read only: the state dir is opened, never made; everything beneath it is opened
	 * without following a symlink (report/load.h). */
	_cleanup_close_ int sfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "calyx: report: state dir %s: %s\n", state, strerror(errno));
		return EXIT_IO;
	}
	struct report_run r;
	char err[1024] = "";
	int rc = report_load(sfd, state, o->run_name, &r, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "calyx: report: %s\n", err);
		return rc == -ENOENT ? EXIT_NO_RUN : rc == -EBADMSG ? EXIT_RUN_DAMAGED
		     : rc == -ENOMEM ? EXIT_INTERNAL : EXIT_IO;
	}
	char generator[128];
	snprintf(generator, sizeof(generator), "calyx %s report", calyx_version);
	struct html_buf page = { 0 };
	rc = report_html(&r, generator, &page);
	if (!r.audit.verifies)
		fprintf(stderr, "calyx: report: warning: the audit of %s does not verify: %s\n", r.name, r.audit.reason);
	report_run_free(&r);
	if (rc < 0) {
		html_free(&page);
		fprintf(stderr, "calyx: report: out of memory rendering the page\n");
		return EXIT_INTERNAL;
	}
	int ret = EXIT_OK;
	if (o->out_file) {
		rc = fileio_write_atomic(o->out_file, page.p, page.len, 0644, true, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "calyx: report: writing %s: %s\n", o->out_file, err[0] ? err : strerror(-rc));
			ret = EXIT_IO;
		}
	} else if ((rc = fileio_write_all(STDOUT_FILENO, page.p, page.len)) < 0) {
		fprintf(stderr, "calyx: report: writing the page to stdout: %s\n", strerror(-rc));
		ret = EXIT_IO;
	}
	html_free(&page);
	return ret;
}
