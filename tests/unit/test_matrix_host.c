/* links: policy/matrix_host policy/matrix policy/matrix_load policy/seccomp_groups policy/yamltree policy/backend policy/lease policy/envnames base/units policy/pathpat base/paserk base/b64url shipped_matrix base/errmsg base/fileio policy/limits policy/argv policy/lease_text policy/netrule policy/matrix_ledger */
/* The matrix's `ledger` and `audience` (which hosts' leases this host runs), and the check
 * of a lease's `aud` against them. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <cmocka.h>

#include "policy/matrix.h"
#include "policy/matrix_host.h"

static const char BASE[] =
	"version: 1\n"
	"capabilities: {exec_staging_with_lease: true}\n"
	"max_lease_ttl: 1h\n"
	"max_runs: 10\n"
	"clock_skew: 30s\n"
	"trusted_keys: []\n"
	"roots: {}\n"
	"runtime_baseline: [/usr/**]\n"
	"lease_paths: [/tmp/calyx/**:rw]\n"
	"limits:\n"
	"  default: {cpu: 10s, mem: 256M, pids: 64, wall: 5m, output: 16M}\n"
	"  max:     {cpu: 10m, mem: 512M, pids: 512, wall: 1h, output: 256M}\n"
	"run_as: {uid: 65534, gid: 65534}\n"
	"network: deny_all\n"
	"enforcement: auto\n";   /* 15 lines: what a test appends starts at line 16 */

static int load(const char *extra, struct matrix *m, char *err, size_t errlen)
{
	char y[4096];
	snprintf(y, sizeof(y), "%s%s", BASE, extra);
	return matrix_load_buffer("t.yaml", y, strlen(y), m, err, errlen);
}

static void expect_load_error(const char *extra, const char *want)
{
	struct matrix m;
	char err[512] = "";
	int r = load(extra, &m, err, sizeof(err));
	if (r != -EINVAL || strcmp(err, want))
		print_error("got r=%d err=\"%s\"\nwant \"%s\"\n", r, err, want);
	assert_int_equal(r, -EINVAL);
	assert_string_equal(err, want);
}

static void test_defaults(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	assert_int_equal(load("", &m, err, sizeof(err)), 0);
	/* Absent, each key means the safe choice. */
	assert_string_equal(m.ledger, MATRIX_LEDGER_DEFAULT);
	assert_string_equal(m.audience.hostname, u.nodename);
	assert_int_equal(m.audience.n_groups, 0);
	assert_false(m.audience.accept_without_aud);
	matrix_free(&m);
}

static void test_given(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	assert_int_equal(load("ledger: /srv/ledger/\n"
			      "audience: {hostname: build-7, groups: [staging, eu-west.ci], accept_without_aud: true}\n",
			      &m, err, sizeof(err)), 0);
	assert_string_equal(m.ledger, "/srv/ledger");   /* trailing '/' dropped like a root */
	assert_string_equal(m.audience.hostname, "build-7");
	assert_int_equal(m.audience.n_groups, 2);
	assert_string_equal(m.audience.groups[1], "eu-west.ci");
	assert_true(m.audience.accept_without_aud);
	matrix_free(&m);
}

static void test_load_errors(void **state)
{
	(void)state;
	expect_load_error("ledger: relative/dir\n", "t.yaml:16:9: ledger: 'relative/dir' must be an absolute path");
	expect_load_error("ledger: /srv/../etc\n", "t.yaml:16:9: ledger: '/srv/../etc' must not contain '.' or '..' components");
	expect_load_error("ledger: /\n", "t.yaml:16:9: ledger: '/' must not be / (a root is a directory a lease may be confined to)");
	expect_load_error("ledger: [a]\n", "t.yaml:16:9: ledger: expected a scalar, got a sequence");
	expect_load_error("audience: {hostname: \"-x\"}\n",
			  "t.yaml:16:22: audience.hostname: bad host or group name '-x' (1 to 253 of a-z A-Z 0-9 . _ -)");
	expect_load_error("audience: {groups: [ok, \"a/b\"]}\n",
			  "t.yaml:16:25: audience.groups[1]: bad host or group name 'a/b' (1 to 253 of a-z A-Z 0-9 . _ -)");
	expect_load_error("audience: {accept_without_aud: yes}\n",
			  "t.yaml:16:32: audience.accept_without_aud: expected true or false, got 'yes'");
	expect_load_error("audience: {hostnme: x}\n", "t.yaml:16:12: audience.hostnme: unknown key");
	expect_load_error("audience: x\n", "t.yaml:16:11: audience: expected a mapping, got a scalar");
}

static void test_check(void **state)
{
	(void)state;
	char err[512];
	struct matrix_audience a = { .hostname = (char *)"build-7", .n_groups = 2,
				     .groups = { (char *)"staging", (char *)"ci" } };
	assert_int_equal(matrix_audience_check(&a, "build-7", err, sizeof(err)), 0);
	assert_int_equal(matrix_audience_check(&a, "ci", err, sizeof(err)), 0);
	/* Exact names only: no prefix, no case folding. */
	assert_int_equal(matrix_audience_check(&a, "build-70", err, sizeof(err)), -EPERM);
	assert_int_equal(matrix_audience_check(&a, "Build-7", err, sizeof(err)), -EPERM);
	assert_int_equal(matrix_audience_check(&a, "other", err, sizeof(err)), -EPERM);
	/* Both names in the refusal. */
	assert_string_equal(err, "the lease is for 'other' (claim 'aud'), this host is 'build-7' (groups: 'staging', 'ci')");
	assert_int_equal(matrix_audience_check(&a, NULL, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "names no audience"));
	assert_non_null(strstr(err, "--aud build-7"));
	a.accept_without_aud = true;
	assert_int_equal(matrix_audience_check(&a, NULL, err, sizeof(err)), 0);
	/* Accepting leases without aud never admits a lease for another host. */
	assert_int_equal(matrix_audience_check(&a, "other", err, sizeof(err)), -EPERM);
	a.n_groups = 0;
	assert_int_equal(matrix_audience_check(&a, "other", err, sizeof(err)), -EPERM);
	assert_string_equal(err, "the lease is for 'other' (claim 'aud'), this host is 'build-7'");
}

static void test_names(void **state)
{
	(void)state;
	assert_true(audience_name_ok("a"));
	assert_true(audience_name_ok("host-1.example.org"));
	assert_true(audience_name_ok("0_x"));
	assert_false(audience_name_ok(""));
	assert_false(audience_name_ok(NULL));
	assert_false(audience_name_ok(".x"));
	assert_false(audience_name_ok("_x"));
	assert_false(audience_name_ok("a b"));
	char big[300];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(audience_name_ok(big));
	big[AUDIENCE_NAME_MAX] = '\0';
	assert_true(audience_name_ok(big));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_given),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
