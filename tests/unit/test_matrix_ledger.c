/* links: policy/matrix_host policy/matrix_ledger policy/matrix policy/matrix_load policy/seccomp_groups policy/yamltree policy/backend policy/lease policy/envnames base/units policy/pathpat base/paserk base/b64url shipped_matrix base/errmsg base/fileio policy/limits policy/argv policy/lease_text policy/netrule */
/* The matrix's `audience.ledgers` (docs/matrix.md "Audience", docs/fleet.md "Group
 * ledger"): which audience is counted where, the etcd entry's keys, defaults and errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/matrix.h"
#include "policy/matrix_host.h"
#include "policy/matrix_ledger.h"

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
	"enforcement: auto\n"
	"audience:\n"
	"  hostname: build-7\n"
	"  groups: [fleet, staging]\n"
	"  ledgers:\n";   /* 19 lines: what a test appends starts at line 20 */

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

static void test_etcd_entry(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	int r = load("    staging: local\n"
		     "    fleet:\n"
		     "      etcd:\n"
		     "        endpoints: [https://10.0.0.1:2379, \"https://[2001:db8::1]:2379\"]\n"
		     "        ca: /etc/calyx/etcd/ca.pem\n"
		     "        cert: /etc/calyx/etcd/client.pem\n"
		     "        key: /etc/calyx/etcd/client.key\n"
		     "        prefix: /fleet/calyx\n"
		     "        timeout: 500ms\n", &m, err, sizeof(err));
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_int_equal(m.audience.n_ledgers, 1);   /* `local` is the default: not kept */
	const struct etcd_conf *e = matrix_ledger_for(&m.audience, "fleet");
	assert_non_null(e);
	assert_int_equal(e->n_endpoints, 2);
	assert_string_equal(e->endpoints[0], "https://10.0.0.1:2379");
	assert_string_equal(e->endpoints[1], "https://[2001:db8::1]:2379");
	assert_string_equal(e->ca, "/etc/calyx/etcd/ca.pem");
	assert_string_equal(e->cert, "/etc/calyx/etcd/client.pem");
	assert_string_equal(e->key, "/etc/calyx/etcd/client.key");
	assert_string_equal(e->prefix, "/fleet/calyx");
	assert_int_equal(e->timeout_ms, 500);
	/* The host's own name, a local group and no aud: the local ledger. */
	assert_null(matrix_ledger_for(&m.audience, "staging"));
	assert_null(matrix_ledger_for(&m.audience, "build-7"));
	assert_null(matrix_ledger_for(&m.audience, NULL));
	assert_null(matrix_ledger_for(&m.audience, "Fleet"));
	matrix_free(&m);
}

static void test_defaults(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	/* Plain http: no TLS files, the default prefix and timeout. */
	assert_int_equal(load("    fleet: {etcd: {endpoints: [http://127.0.0.1:2379]}}\n", &m, err, sizeof(err)), 0);
	const struct etcd_conf *e = matrix_ledger_for(&m.audience, "fleet");
	assert_non_null(e);
	assert_null(e->ca);
	assert_null(e->cert);
	assert_string_equal(e->prefix, "/calyx");
	assert_int_equal(e->timeout_ms, ETCD_TIMEOUT_DEFAULT_MS);
	matrix_free(&m);
	/* https with the CA only (no client certificate). */
	assert_int_equal(load("    fleet: {etcd: {endpoints: [https://e1:2379], ca: /ca.pem}}\n", &m, err, sizeof(err)), 0);
	assert_null(matrix_ledger_for(&m.audience, "fleet")->cert);
	matrix_free(&m);
	/* No ledgers key at all: every audience local. */
	char y[4096];
	snprintf(y, sizeof(y), "%.*s", (int)(strlen(BASE) - strlen("  ledgers:\n")), BASE);
	assert_int_equal(matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof(err)), 0);
	assert_int_equal(m.audience.n_ledgers, 0);
	assert_null(matrix_ledger_for(&m.audience, "fleet"));
	matrix_free(&m);
}

static void test_errors(void **state)
{
	(void)state;
	expect_load_error("    other: local\n", "t.yaml:20:5: audience.ledgers.other: 'other' is not one of audience.groups");
	expect_load_error("    build-7: local\n", "t.yaml:20:5: audience.ledgers.build-7: 'build-7' is not one of audience.groups");
	expect_load_error("    fleet: remote\n",
			  "t.yaml:20:12: audience.ledgers.fleet: unknown ledger 'remote' (local, or a mapping with etcd)");
	expect_load_error("    fleet: {consul: {}}\n", "t.yaml:20:13: audience.ledgers.fleet.consul: unknown key");
	expect_load_error("    fleet: {etcd: {}}\n", "t.yaml:20:19: audience.ledgers.fleet.etcd.endpoints: missing required key");
	expect_load_error("    fleet: {etcd: {endpoints: []}}\n",
			  "t.yaml:20:31: audience.ledgers.fleet.etcd.endpoints: 1 to 16 endpoints, got 0");
	expect_load_error("    fleet: {etcd: {endpoints: [10.0.0.1:2379]}}\n",
			  "t.yaml:20:32: audience.ledgers.fleet.etcd.endpoints[0]: endpoint '10.0.0.1:2379' must start with http:// or https://");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://u@h:1\"]}}\n",
			  "t.yaml:20:32: audience.ledgers.fleet.etcd.endpoints[0]: endpoint 'http://u@h:1' must be scheme://HOST[:PORT] only (no user, path or query)");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://h:1/v3\"]}}\n",
			  "t.yaml:20:32: audience.ledgers.fleet.etcd.endpoints[0]: endpoint 'http://h:1/v3' must be scheme://HOST[:PORT] only (no user, path or query)");
	expect_load_error("    fleet: {etcd: {endpoints: [\"https://\"], ca: /c}}\n",
			  "t.yaml:20:32: audience.ledgers.fleet.etcd.endpoints[0]: endpoint 'https://' names no host");
	expect_load_error("    fleet: {etcd: {endpoints: [\"https://a:1\", \"http://b:1\"], ca: /c}}\n",
			  "t.yaml:20:47: audience.ledgers.fleet.etcd.endpoints[1]: endpoint 'http://b:1': every endpoint must use the same scheme as the first");
	expect_load_error("    fleet: {etcd: {endpoints: [\"https://a:1\"]}}\n",
			  "t.yaml:20:19: audience.ledgers.fleet.etcd: https endpoints need 'ca' (the etcd cluster's CA)");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], ca: /c}}\n",
			  "t.yaml:20:51: audience.ledgers.fleet.etcd.ca: TLS files need https:// endpoints");
	expect_load_error("    fleet: {etcd: {endpoints: [\"https://a:1\"], ca: c.pem}}\n",
			  "t.yaml:20:52: audience.ledgers.fleet.etcd.ca: 'c.pem' must be an absolute path");
	expect_load_error("    fleet: {etcd: {endpoints: [\"https://a:1\"], ca: /c, cert: /d}}\n",
			  "t.yaml:20:19: audience.ledgers.fleet.etcd: 'cert' and 'key' go together");
	expect_load_error("    fleet: {etcd: {endpoints: [\"https://a:1\"], ca: /c, key: /d}}\n",
			  "t.yaml:20:19: audience.ledgers.fleet.etcd: 'cert' and 'key' go together");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], prefix: calyx}}\n",
			  "t.yaml:20:55: audience.ledgers.fleet.etcd.prefix: bad prefix 'calyx' (/NAME[/NAME...], names of A-Z a-z 0-9 . _ -, at most 128 bytes)");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], prefix: /a//b}}\n",
			  "t.yaml:20:55: audience.ledgers.fleet.etcd.prefix: bad prefix '/a//b' (/NAME[/NAME...], names of A-Z a-z 0-9 . _ -, at most 128 bytes)");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], prefix: /a/}}\n",
			  "t.yaml:20:55: audience.ledgers.fleet.etcd.prefix: bad prefix '/a/' (/NAME[/NAME...], names of A-Z a-z 0-9 . _ -, at most 128 bytes)");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], timeout: 2m}}\n",
			  "t.yaml:20:56: audience.ledgers.fleet.etcd.timeout: at most 60s");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], timeout: 0}}\n",
			  "t.yaml:20:56: audience.ledgers.fleet.etcd.timeout: bad duration '0'");
	expect_load_error("    fleet: {etcd: {endpoints: [\"http://a:1\"], tls: on}}\n",
			  "t.yaml:20:47: audience.ledgers.fleet.etcd.tls: unknown key");
	expect_load_error("    fleet: [etcd]\n", "t.yaml:20:12: audience.ledgers.fleet: expected a mapping, got a sequence");

	/* A group named like the host: a lease for that name is the host's own, counted
	 * locally, so an etcd entry for it would never be used. */
	char y[4096], err[512] = "";
	struct matrix m;
	snprintf(y, sizeof(y), "%.*s%s", (int)(strstr(BASE, "  groups:") - BASE), BASE,
		 "  groups: [build-7]\n  ledgers:\n    build-7: {etcd: {endpoints: [\"http://a:1\"]}}\n");
	assert_int_equal(matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.yaml:20:5: audience.ledgers.build-7: 'build-7' is also this host's name: "
				 "a lease for it would be counted locally");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etcd_entry),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
