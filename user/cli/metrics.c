/* `calyx enforcer metrics` (cli/metrics.h): where to write (-o, else the matrix's
 * metrics.textfile), then fleet/metrics_write.h does the rest. */
#include "cli/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/version.h"
#include "fleet/metrics_write.h"
#include "policy/matrix.h"
#include "state/state.h"

int metrics_run(const struct enforcer_opts *o)
{
	char err[PATH_MAX + 512];
	const char *state = state_dir_resolve(o->state_dir);
	struct matrix m = { 0 };
	const char *target = o->out_file;
	if (!target) {
		const char *mf = o->matrix_file ? o->matrix_file : matrix_host_file(calyx_host_matrix);
		int rc = mf ? matrix_load_file(mf, &m, err, sizeof(err)) : matrix_load_shipped(&m, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "calyx: matrix: %s\n", err);
			matrix_free(&m);
			return rc == -EIO ? EXIT_IO : EXIT_CONFIG;
		}
		if (!m.metrics_textfile) {
			fprintf(stderr, "calyx: enforcer metrics: the matrix %s has no metrics.textfile: give -o FILE "
				"(or -o - for stdout)\n", mf ? mf : "(shipped)");
			matrix_free(&m);
			return EXIT_USAGE;
		}
		target = m.metrics_textfile;
	}
	/* The state dir is only read: a copy works, as for `calyx audit verify`. */
	int sfd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "calyx: state dir %s: %s\n", state, strerror(errno));
		matrix_free(&m);
		return EXIT_IO;
	}
	int rc;
	if (strcmp(target, "-") == 0) {
		_cleanup_free_ char *text = metrics_collect(sfd, err, sizeof(err));
		rc = text && fileio_write_all(STDOUT_FILENO, text, strlen(text)) == 0 ? 0 : -EIO;
		if (!text)
			fprintf(stderr, "calyx: enforcer metrics: %s\n", err);
	} else {
		rc = metrics_write_textfile(sfd, target, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "calyx: enforcer metrics: %s: %s\n", target, err);
	}
	close(sfd);
	matrix_free(&m);
	return rc < 0 ? EXIT_IO : EXIT_OK;
}
