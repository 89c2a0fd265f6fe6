/* `calyx matrix check FILE`: the matrix loader run on its own, so a policy can be checked
 * before any lease meets it. Valid-but-useless settings are warned about, not refused:
 * they are legal, and `calyx run` accepts them too. */
#include "cli/matrix_check.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "base/exitcodes.h"
#include "base/units.h"
#include "policy/backend.h"
#include "policy/matrix.h"

static void warn_useless(const char *file, const struct matrix *m)
{
	if (!m->exec_staging_with_lease)
		fprintf(stderr, "calyx: warning: %s: capabilities.exec_staging_with_lease is false: every lease is refused\n",
			file);
	if (!m->n_keys)
		fprintf(stderr, "calyx: warning: %s: trusted_keys is empty: a run needs --pub with the signer's key\n",
			file);
	for (size_t i = 0; i < m->n_roots; i++) {
		struct stat st;
		if (stat(m->roots[i].dir, &st) < 0 || !S_ISDIR(st.st_mode))
			fprintf(stderr, "calyx: warning: %s: roots.%s: %s is not a directory here: leases naming "
				"repo://%s/ grant nothing on this host\n", file, m->roots[i].name, m->roots[i].dir,
				m->roots[i].name);
	}
}

int matrix_check_run(const struct matrix_check_opts *o)
{
	char err[4096], ttl[32];
	struct matrix m;
	int rc = matrix_load_file(o->file, &m, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		matrix_free(&m);
		return rc == -EINVAL ? EXIT_CONFIG : EXIT_IO;
	}
	warn_useless(o->file, &m);
	units_format_duration(m.max_lease_ttl_ms, ttl, sizeof(ttl));
	printf("OK %s: %zu trusted key%s, %zu root%s, %zu lease_paths bound%s, max_lease_ttl %s, "
	       "max_runs %u, enforcement %s\n", o->file, m.n_keys, m.n_keys == 1 ? "" : "s", m.n_roots,
	       m.n_roots == 1 ? "" : "s", m.n_bounds, m.n_bounds == 1 ? "" : "s", ttl, m.max_runs,
	       enforce_backend_name(m.enforcement));
	matrix_free(&m);
	return EXIT_OK;
}
