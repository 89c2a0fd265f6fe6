/* links: policy/matrix policy/matrix_host policy/backend policy/lease base/units policy/pathpat base/paserk base/b64url base/errmsg base/fileio policy/limits policy/argv policy/lease_text policy/netrule policy/matrix_load policy/seccomp_groups policy/yamltree policy/envnames policy/matrix_ledger */
/* libFuzzer target for the capability matrix reader: any byte string must either load
 * (and then be self-consistent) or fail with -EINVAL/-ENOMEM and a message, never crash,
 * hang or leak. Also exercises the lease check against whatever loaded. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/matrix.h"

/* matrix.c refers to the compiled-in policy; the fuzzer does not link the generated file. */
const char calyx_shipped_matrix[] = "";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct matrix m;
	char err[512];
	int r;

	err[0] = 'x';
	r = matrix_load_buffer("fuzz.yaml", (const char *)data, size, &m, err, sizeof err);
	if (r) {
		/* Every refusal says why, in the file:... form. */
		if ((r != -EINVAL && r != -ENOMEM) || strncmp(err, "fuzz.yaml:", 10) != 0)
			abort();
		return 0;
	}
	/* An optional limit (fsize) may be unset in both sets: then there is no bound to hold. */
	for (int k = 0; k < LIMIT_COUNT; k++)
		if (m.max_limits.set[k] && (m.default_limits.v[k] > m.max_limits.v[k] || !m.max_limits.v[k]))
			abort();
	if (m.max_runs < 1 || m.max_lease_ttl_ms == 0)
		abort();

	/* A lease made of the matrix's own bounds, for this host, must fit it (within its ttl
	 * and runs). */
	struct lease_path paths[MATRIX_MAX_BOUNDS];
	struct lease l = { .iat = 0, .nbf = 0, .exp = (int64_t)(m.max_lease_ttl_ms / 1000),
			   .runs = 1, .network = NET_DENY_ALL, .paths = paths,
			   .n_paths = m.n_bounds, .aud = m.audience.hostname };
	if (!m.ledger || !m.audience.hostname)
		abort();
	for (size_t i = 0; i < m.n_bounds; i++) {
		paths[i].pattern = m.bounds[i].pattern;
		paths[i].access = m.bounds[i].access;
	}
	l.limits = m.max_limits;
	if (l.exp > 0 && matrix_check_lease(&m, &l, err, sizeof err) != 0 &&
	    m.exec_staging_with_lease)
		abort();
	struct limits eff;
	matrix_effective_limits(&m, &l, &eff);
	for (size_t i = 0; i < m.n_keys; i++)
		if (matrix_find_key(&m, m.keys[i].pid) != &m.keys[i])
			abort();
	matrix_free(&m);
	return 0;
}
