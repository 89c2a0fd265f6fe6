/* links: policy/matrix policy/matrix_host policy/seccomp_groups policy/backend policy/lease base/units policy/pathpat base/paserk base/b64url shipped_matrix base/errmsg base/fileio policy/limits policy/argv policy/lease_text policy/netrule policy/matrix_load policy/yamltree policy/envnames policy/matrix_ledger */
/* Capability matrix: the strict YAML schema (every error class names file:line:col and
 * the key path), the shipped policy, and the lease-fits-the-matrix check. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "policy/matrix.h"
#include "policy/seccomp_groups.h"

/* PASERK k4.pid conformance vectors 2 and 3 (shared/conformance/paserk-k4-pid.json). */
#define PK2_PUBLIC "k4.public.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8"
#define PK2_PID "k4.pid.9ShR3xc8-qVJ_di0tc9nx0IDIqbatdeM2mqLFBJsKRHs"
#define PK3_PID "k4.pid.-nyvbaTz8U6TQz7OZWW-iB3va31iAxIpUgzUcVQVmW9A"

/* Line numbers matter: the error tests below name them. */
static const char VALID[] =
	"version: 1\n"                                                          /* 1 */
	"capabilities:\n"                                                       /* 2 */
	"  exec_staging_with_lease: true\n"                                     /* 3 */
	"max_lease_ttl: 1h\n"                                                   /* 4 */
	"max_runs: 10\n"                                                        /* 5 */
	"clock_skew: 30s\n"                                                     /* 6 */
	"trusted_keys:\n"                                                       /* 7 */
	"  - name: ops\n"                                                       /* 8 */
	"    public: " PK2_PUBLIC "\n"                                          /* 9 */
	"roots:\n"                                                              /* 10 */
	"  calyx: /srv/calyx\n"                                                 /* 11 */
	"  data: /var/lib/data/\n"                                              /* 12 */
	"runtime_baseline:\n"                                                   /* 13 */
	"  - /usr/**\n"                                                         /* 14 */
	"  - /etc/ld.so.cache\n"                                                /* 15 */
	"lease_paths:\n"                                                        /* 16 */
	"  - repo://calyx/**:rw\n"                                              /* 17 */
	"  - /srv/ro/**\n"                                                      /* 18 */
	"  - /tmp/calyx/*:rw\n"                                                 /* 19 */
	"limits:\n"                                                             /* 20 */
	"  default: {cpu: 10s, mem: 256M, pids: 64, wall: 5m, output: 16M}\n"   /* 21 */
	"  max:     {cpu: 10m, mem: 512M, pids: 512, wall: 1h, output: 256M}\n" /* 22 */
	"run_as: {uid: 65534, gid: 65534}\n"                                    /* 23 */
	"network: deny_all\n"                                                   /* 24 */
	"enforcement: bpf-lsm\n";                                               /* 25 */

/* VALID with the first occurrence of `from` replaced by `to`. */
static char *subst(const char *from, const char *to)
{
	const char *at = strstr(VALID, from);
	assert_non_null(at);
	size_t pre = (size_t)(at - VALID), fl = strlen(from), tl = strlen(to);
	char *out = malloc(sizeof VALID + tl);
	assert_non_null(out);
	memcpy(out, VALID, pre);
	memcpy(out + pre, to, tl);
	strcpy(out + pre + tl, at + fl);
	return out;
}

/* Load text that must be refused; the message must equal want exactly. */
static void expect_error(const char *yaml, const char *want)
{
	struct matrix m;
	char err[512];

	int r = matrix_load_buffer("t.yaml", yaml, strlen(yaml), &m, err, sizeof err);
	if (r != -EINVAL || strcmp(err, want))
		print_error("got r=%d err=\"%s\"\nwant \"%s\"\n", r, err, want);
	assert_int_equal(r, -EINVAL);
	assert_string_equal(err, want);
	/* A failed load leaves nothing to free, and freeing again is harmless. */
	assert_null(m.source);
	assert_int_equal(m.n_keys, 0);
	matrix_free(&m);
}

static void expect_subst_error(const char *from, const char *to, const char *want)
{
	char *y = subst(from, to);
	expect_error(y, want);
	free(y);
}

/* Same, when the tail of the message comes from another module (pathpat). */
static void expect_subst_error_prefix(const char *from, const char *to, const char *want)
{
	struct matrix m;
	char err[512];
	char *y = subst(from, to);

	int r = matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err);
	if (r != -EINVAL || strncmp(err, want, strlen(want)))
		print_error("got r=%d err=\"%s\"\nwant prefix \"%s\"\n", r, err, want);
	assert_int_equal(r, -EINVAL);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	free(y);
}

static void load_valid(struct matrix *m)
{
	char err[512] = "";
	int r = matrix_load_buffer("t.yaml", VALID, strlen(VALID), m, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
}

/* ---- loading ---------------------------------------------------------------------------- */

static void test_valid_full(void **state)
{
	(void)state;
	struct matrix m;

	load_valid(&m);
	assert_string_equal(m.source, "t.yaml");
	assert_true(m.exec_staging_with_lease);
	assert_int_equal(m.max_lease_ttl_ms, 3600000);
	assert_int_equal(m.max_runs, 10);
	assert_int_equal(m.clock_skew_ms, 30000);
	assert_int_equal(m.n_keys, 1);
	assert_string_equal(m.keys[0].name, "ops");
	assert_string_equal(m.keys[0].pid, PK2_PID);
	assert_int_equal(m.keys[0].pk[0], 0x70);
	assert_int_equal(m.keys[0].pk[31], 0x8f);
	assert_int_equal(m.n_roots, 2);
	assert_string_equal(matrix_root_lookup("calyx", &m), "/srv/calyx");
	/* Trailing '/' dropped: repo://data/x must resolve to /var/lib/data/x, not "//x". */
	assert_string_equal(matrix_root_lookup("data", &m), "/var/lib/data");
	assert_null(matrix_root_lookup("nope", &m));
	assert_int_equal(m.n_baseline, 2);
	assert_string_equal(m.baseline[0], "/usr/**");
	assert_string_equal(m.baseline[1], "/etc/ld.so.cache");
	assert_int_equal(m.n_bounds, 3);
	assert_string_equal(m.bounds[0].pattern, "repo://calyx/**");
	assert_int_equal(m.bounds[0].access, ACCESS_RW);
	assert_string_equal(m.bounds[1].pattern, "/srv/ro/**");
	assert_int_equal(m.bounds[1].access, ACCESS_RO);
	assert_int_equal(m.bounds[2].access, ACCESS_RW);
	assert_int_equal(m.default_limits.v[LIMIT_CPU], 10000);
	assert_int_equal(m.default_limits.v[LIMIT_MEM], 256ull << 20);
	assert_int_equal(m.default_limits.v[LIMIT_PIDS], 64);
	assert_int_equal(m.default_limits.v[LIMIT_WALL], 300000);
	assert_int_equal(m.default_limits.v[LIMIT_OUTPUT], 16ull << 20);
	assert_int_equal(m.max_limits.v[LIMIT_CPU], 600000);
	assert_int_equal(m.max_limits.v[LIMIT_MEM], 512ull << 20);
	assert_int_equal(m.max_limits.v[LIMIT_PIDS], 512);
	assert_int_equal(m.max_limits.v[LIMIT_WALL], 3600000);
	assert_int_equal(m.max_limits.v[LIMIT_OUTPUT], 256ull << 20);
	assert_int_equal(m.run_as_uid, 65534);
	assert_int_equal(m.run_as_gid, 65534);
	assert_int_equal(m.network, NET_DENY_ALL);
	assert_int_equal(m.enforcement, ENFORCE_BPF_LSM);
	matrix_free(&m);
	assert_null(m.source);
	matrix_free(&m);
}

static void test_valid_variants(void **state)
{
	(void)state;
	struct matrix m;
	char err[512];
	/* Empty key list, block-style limits, quoted strings, comments, explicit document. */
	const char *y =
		"# comment\n---\nversion: 1\ncapabilities: {exec_staging_with_lease: false}\n"
		"max_lease_ttl: '30m'\nmax_runs: 1\nclock_skew: \"5s\"\ntrusted_keys: []\n"
		"roots: {}\nruntime_baseline: [/usr/**]\nlease_paths: []\n"
		"limits:\n  default:\n    cpu: 1s\n    mem: 1M\n    pids: 1\n    wall: 1s\n    output: 1K\n"
		"  max:\n    cpu: 1s\n    mem: 1M\n    pids: 1\n    wall: 1s\n    output: 1K\n"
		"run_as: {uid: 0, gid: 0}\nnetwork: \"deny_all\"\nenforcement: landlock\n...\n";

	assert_int_equal(matrix_load_buffer("v.yaml", y, strlen(y), &m, err, sizeof err), 0);
	assert_false(m.exec_staging_with_lease);
	assert_int_equal(m.max_lease_ttl_ms, 1800000);
	assert_int_equal(m.clock_skew_ms, 5000);
	assert_int_equal(m.n_keys, 0);
	assert_int_equal(m.n_roots, 0);
	assert_int_equal(m.n_bounds, 0);
	assert_int_equal(m.max_limits.v[LIMIT_OUTPUT], 1024);
	assert_int_equal(m.enforcement, ENFORCE_LANDLOCK);
	matrix_free(&m);
}

static void test_shipped(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";

	int r = matrix_load_shipped(&m, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(m.source, "<shipped>");
	/* The origin system's settings. */
	assert_true(m.exec_staging_with_lease);
	assert_int_equal(m.network, NET_DENY_ALL);
	assert_non_null(matrix_root_lookup("calyx", &m));
	/* Keys come only from --pub on top of the shipped matrix. */
	assert_int_equal(m.n_keys, 0);
	assert_int_equal(m.enforcement, ENFORCE_AUTO);
	assert_int_not_equal(m.run_as_uid, 0);
	assert_int_not_equal(m.run_as_gid, 0);
	assert_true(m.n_baseline > 0);
	for (size_t i = 0; i < m.n_baseline; i++) {
		/* Secrets and other processes never come with the baseline. */
		assert_null(strstr(m.baseline[i], "shadow"));
		assert_true(strncmp(m.baseline[i], "/proc/self", 10) != 0);
		assert_true(strcmp(m.baseline[i], "/proc/**") != 0);
		assert_true(strcmp(m.baseline[i], "/etc/**") != 0);
	}
	for (int k = 0; k < LIMIT_COUNT; k++)
		assert_true(m.default_limits.v[k] <= m.max_limits.v[k]);

	/* The origin's lease (5 min, the calyx repo's tools directory) fits it. */
	struct lease_path p = { (char *)"repo://calyx/tools/*", ACCESS_RO };
	struct lease l = { .iat = 1000, .nbf = 1000, .exp = 1300, .runs = 1, .paths = &p, .n_paths = 1,
			   .aud = m.audience.hostname };
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);
	/* The host-wide ledger, and leases only for this host: none without aud. */
	assert_string_equal(m.ledger, "/var/lib/calyx/ledger");
	assert_false(m.audience.accept_without_aud);
	assert_int_equal(m.audience.n_groups, 0);
	struct utsname u;
	assert_int_equal(uname(&u), 0);
	assert_string_equal(m.audience.hostname, u.nodename);
	l.aud = NULL;
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "names no audience"));
	l.aud = (char *)"some-other-host";
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), -EPERM);
	assert_non_null(strstr(err, "'some-other-host'"));
	assert_non_null(strstr(err, u.nodename));
	l.aud = m.audience.hostname;
	p.pattern = (char *)"/etc/shadow";
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), -EPERM);
	matrix_free(&m);
}

static void test_err_unknown_key(void **state)
{
	(void)state;
	char *y = malloc(sizeof VALID + 32);
	assert_non_null(y);
	strcpy(y, VALID);
	strcat(y, "colour: blue\n");
	expect_error(y, "t.yaml:26:1: colour: unknown key");
	free(y);
	expect_subst_error("output: 16M}", "output: 16M, disk: 1G}",
			   "t.yaml:21:67: limits.default.disk: unknown key");
	expect_subst_error("  - name: ops\n", "  - name: ops\n    comment: x\n",
			   "t.yaml:9:5: trusted_keys[0].comment: unknown key");
	/* A key of a nested mapping at the wrong level is named as mis-indented, either way. */
	expect_subst_error("run_as: {uid: 65534, gid: 65534}", "run_as:\n  uid: 65534\ngid: 65534",
			   "t.yaml:25:1: gid: unknown key here: 'gid' is a key of run_as (mis-indented?)");
	expect_subst_error("run_as: {uid: 65534, gid: 65534}\nnetwork", "run_as:\n  uid: 65534\n  gid: 65534\n  network",
			   "t.yaml:1:1: network: missing required key; there is a 'network' at line 26 column 3 "
			   "under run_as: mis-indented?");
}

static void test_err_duplicate_key(void **state)
{
	(void)state;
	expect_subst_error("max_runs: 10\n", "max_runs: 10\nmax_runs: 11\n",
			   "t.yaml:6:1: max_runs: duplicate key (first at line 5)");
	expect_subst_error("  data: /var/lib/data/\n", "  calyx: /srv/other\n",
			   "t.yaml:12:3: roots.calyx: duplicate key (first at line 11)");
	expect_subst_error("pids: 64,", "pids: 64, pids: 65,",
			   "t.yaml:21:44: limits.default.pids: duplicate key (first at line 21)");
}

static void test_err_wrong_type(void **state)
{
	(void)state;
	expect_subst_error("max_runs: 10", "max_runs: [10]",
			   "t.yaml:5:11: max_runs: expected a scalar, got a sequence");
	expect_subst_error("run_as: {uid: 65534, gid: 65534}", "run_as: 65534",
			   "t.yaml:23:9: run_as: expected a mapping, got a scalar");
	expect_subst_error("runtime_baseline:\n  - /usr/**\n  - /etc/ld.so.cache\n",
			   "runtime_baseline:\n",
			   "t.yaml:13:18: runtime_baseline: expected a sequence (write [] for none), "
			   "got nothing (null)");
	expect_subst_error("network: deny_all", "network: [deny_all]",
			   "t.yaml:24:10: network: expected a mapping, got a sequence");
	/* Integers: plain decimal only. */
	expect_subst_error("max_runs: 10", "max_runs: 1.5",
			   "t.yaml:5:11: max_runs: expected an integer, got '1.5'");
	expect_subst_error("max_runs: 10", "max_runs: \"10\"",
			   "t.yaml:5:11: max_runs: expected an integer, got '10'");
	expect_subst_error("max_runs: 10", "max_runs: 0x10",
			   "t.yaml:5:11: max_runs: expected an integer, got '0x10'");
	expect_subst_error("max_runs: 10", "max_runs: 1001",
			   "t.yaml:5:11: max_runs: 1001 is out of range 1..1000");
	expect_subst_error("uid: 65534", "uid: 4294967295",
			   "t.yaml:23:15: run_as.uid: 4294967295 is out of range 0..4294967294");
	expect_subst_error("pids: 512", "pids: 99999999999999999999999",
			   "t.yaml:22:40: limits.max.pids: expected an integer, got "
			   "'99999999999999999999999'");
	/* Booleans: only true and false. */
	expect_subst_error("exec_staging_with_lease: true", "exec_staging_with_lease: yes",
			   "t.yaml:3:28: capabilities.exec_staging_with_lease: expected true or false, "
			   "got 'yes'");
	expect_subst_error("exec_staging_with_lease: true", "exec_staging_with_lease: True",
			   "t.yaml:3:28: capabilities.exec_staging_with_lease: expected true or false, "
			   "got 'True'");
	expect_subst_error("exec_staging_with_lease: true", "exec_staging_with_lease: 'true'",
			   "t.yaml:3:28: capabilities.exec_staging_with_lease: expected true or false, "
			   "got 'true'");
	expect_subst_error("    public: " PK2_PUBLIC, "    public: k4.public.AAAA",
			   "t.yaml:9:13: trusted_keys[0].public: not a PASERK k4.public key");
	expect_subst_error("    public: " PK2_PUBLIC, "    public: \"a\\0b\"",
			   "t.yaml:9:13: trusted_keys[0].public: contains a NUL byte");
}

static void test_err_duration_size(void **state)
{
	(void)state;
	expect_subst_error("max_lease_ttl: 1h", "max_lease_ttl: 1y",
			   "t.yaml:4:16: max_lease_ttl: bad duration '1y'");
	expect_subst_error("max_lease_ttl: 1h", "max_lease_ttl: 0s",
			   "t.yaml:4:16: max_lease_ttl: bad duration '0s'");
	expect_subst_error("clock_skew: 30s", "clock_skew: 2h",
			   "t.yaml:6:13: clock_skew: at most 1h");
	expect_subst_error("cpu: 10m", "cpu: ten",
			   "t.yaml:22:18: limits.max.cpu: bad duration 'ten'");
	expect_subst_error("mem: 512M", "mem: 12Q",
			   "t.yaml:22:28: limits.max.mem: bad size '12Q'");
	expect_subst_error("output: 16M", "output: 0",
			   "t.yaml:21:62: limits.default.output: size must be above zero, got '0'");
	expect_subst_error("cpu: 10s", "cpu: 20m",
			   "t.yaml:21:18: limits.default.cpu: default 20m exceeds limits.max.cpu 10m");
}

static void test_err_pattern(void **state)
{
	(void)state;
	expect_subst_error_prefix("  - /srv/ro/**", "  - /srv/ro/*.py",
				  "t.yaml:18:5: lease_paths[1]: bad pattern: ");
	expect_subst_error_prefix("  - /srv/ro/**", "  - /srv/../etc/**",
				  "t.yaml:18:5: lease_paths[1]: bad pattern: ");
	expect_subst_error_prefix("  - /tmp/calyx/*:rw", "  - /tmp/calyx/*:rx",
				  "t.yaml:19:5: lease_paths[2]: bad pattern: ");
	expect_subst_error_prefix("  - repo://calyx/**:rw", "  - repo://nope/**:rw",
				  "t.yaml:17:5: lease_paths[0]: unknown root (not in roots): ");
	expect_subst_error("  - /usr/**", "  - usr/**",
			   "t.yaml:14:5: runtime_baseline[0]: runtime baseline patterns must be "
			   "absolute paths");
	expect_subst_error("  - /usr/**", "  - repo://calyx/**",
			   "t.yaml:14:5: runtime_baseline[0]: runtime baseline patterns must be "
			   "absolute paths");
	expect_subst_error("  - /usr/**", "  - /usr/**:rw",
			   "t.yaml:14:5: runtime_baseline[0]: the runtime baseline is always read-only: "
			   "drop the access suffix");
	expect_subst_error_prefix("  - /usr/**", "  - /**",
				  "t.yaml:14:5: runtime_baseline[0]: bad pattern: ");
	expect_subst_error("  calyx: /srv/calyx", "  calyx: srv/calyx",
			   "t.yaml:11:10: roots.calyx: root directory must be an absolute path");
	expect_subst_error("  calyx: /srv/calyx", "  calyx: /srv/../etc",
			   "t.yaml:11:10: roots.calyx: root directory must not contain '.' or '..' "
			   "components");
	expect_subst_error("  calyx: /srv/calyx", "  Calyx: /srv/calyx",
			   "t.yaml:11:3: roots.Calyx: root names are 1-64 characters of a-z 0-9 _ - "
			   "(as in repo://NAME/)");
}

static void test_err_backend_network(void **state)
{
	(void)state;
	expect_subst_error("enforcement: bpf-lsm", "enforcement: selinux",
			   "t.yaml:25:14: enforcement: unknown backend 'selinux' (auto, bpf-lsm or "
			   "landlock)");
	expect_subst_error("network: deny_all", "network: allow_all",
			   "t.yaml:24:10: network: unknown network policy 'allow_all' (deny_all, or "
			   "{allow: [CIDR:PORT/proto, ...]})");
}

static void test_err_syntax(void **state)
{
	(void)state;
	expect_subst_error("max_runs: 10", "max_runs: 10: 11",
			   "t.yaml:5:13: max_runs: YAML syntax error: mapping values are not allowed "
			   "in this context");
	expect_subst_error("  max:     {cpu: 10m,", "  max:     {cpu: 10m,,",
			   "t.yaml:22:22: limits.max.cpu: YAML syntax error: did not find expected node "
			   "content (while parsing a flow node at line 22)");
	/* A key indented deeper, or less deep, than its siblings: the indentation is named. */
	expect_subst_error("clock_skew: 30s", "  clock_skew: 30s",
			   "t.yaml:6:13: max_runs: YAML syntax error: mapping values are not allowed "
			   "in this context; a mis-indented key? line 6 starts at column 3, line 5 at column 1");
	expect_subst_error("run_as: {uid: 65534, gid: 65534}", "run_as:\n  uid: 65534\n gid: 65534",
			   "t.yaml:25:2: run_as.uid: YAML syntax error: did not find expected key (while "
			   "parsing a block mapping at line 1); a mis-indented key? line 25 starts at column 2, "
			   "line 24 at column 3");
	/* Invalid UTF-8 is reported where it is. */
	expect_subst_error("network: deny_all", "network: deny\xff",
			   "t.yaml:24:14: YAML syntax error: invalid leading UTF-8 octet");
}

static void test_err_alias(void **state)
{
	(void)state;
	expect_subst_error("max_runs: 10", "max_runs: &n 10",
			   "t.yaml:5:11: max_runs: anchors and aliases are not allowed");
	expect_subst_error("clock_skew: 30s", "clock_skew: *skew",
			   "t.yaml:6:13: clock_skew: anchors and aliases are not allowed");
	expect_subst_error("max_runs: 10", "max_runs: !!int 10",
			   "t.yaml:5:11: max_runs: YAML tags are not allowed");
	/* Billion laughs: refused at the first anchor, before anything is expanded. */
	expect_error("a: &a [x, x, x, x, x, x, x, x, x]\n"
		     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		     "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
		     "t.yaml:1:4: a: anchors and aliases are not allowed");
}

static void test_err_missing(void **state)
{
	(void)state;
	expect_subst_error("version: 1\n", "", "t.yaml:1:1: version: missing required key");
	expect_subst_error("version: 1", "version: 2",
			   "t.yaml:1:10: version: unsupported version 2 (this calyx reads version 1)");
	expect_subst_error("clock_skew: 30s\n", "", "t.yaml:1:1: clock_skew: missing required key");
	expect_subst_error("uid: 65534, gid: 65534", "uid: 65534",
			   "t.yaml:23:9: run_as.gid: missing required key");
	expect_subst_error("    public: " PK2_PUBLIC "\n", "",
			   "t.yaml:8:5: trusted_keys[0].public: missing required key");
	expect_subst_error(", output: 256M}", "}",
			   "t.yaml:22:12: limits.max.output: missing required key");
	expect_error("", "t.yaml:1:1: (top level): the matrix is empty");
	expect_error("# nothing\n", "t.yaml:1:1: (top level): the matrix is empty");
	expect_error("- a\n", "t.yaml:1:1: (top level): expected a mapping, got a sequence");
	char *two = malloc(sizeof VALID + 16);
	assert_non_null(two);
	strcpy(two, VALID);
	strcat(two, "---\nversion: 1\n");
	expect_error(two, "t.yaml:26:1: (top level): only one YAML document is allowed");
	free(two);
}

static void test_err_limits_of_size(void **state)
{
	(void)state;
	struct matrix m;
	char err[512];
	size_t big = (1u << 20) + 1;
	char *y = malloc(big);

	assert_non_null(y);
	memset(y, '#', big);
	assert_int_equal(matrix_load_buffer("big.yaml", y, big, &m, err, sizeof err), -EINVAL);
	assert_string_equal(err, "big.yaml: the matrix is larger than 1 MiB (1048577 bytes)");
	free(y);

	/* Deep nesting is refused before it can exhaust the stack. */
	char deep[200];
	memset(deep, '[', 100);
	strcpy(deep + 100, "\n");
	assert_int_equal(matrix_load_buffer("d.yaml", deep, strlen(deep), &m, err, sizeof err),
			 -EINVAL);
	assert_non_null(strstr(err, "nested deeper than 16 levels"));

	/* Too many entries for the fixed-size tables. */
	size_t cap = 64 * 16 + 512;
	char *tail, *many = subst("runtime_baseline:\n  - /usr/**\n  - /etc/ld.so.cache\n", "runtime_baseline: [");
	char *y2 = malloc(strlen(many) + cap);
	assert_non_null(y2);
	char *at = strstr(many, "runtime_baseline: [");
	size_t pre = (size_t)(at - many) + strlen("runtime_baseline: [");
	memcpy(y2, many, pre);
	tail = y2 + pre;
	for (int i = 0; i < MATRIX_MAX_BASELINE + 1; i++)
		tail += sprintf(tail, "%s/opt/%d", i ? ", " : "", i);
	tail += sprintf(tail, "]\n");
	strcpy(tail, many + pre);
	assert_int_equal(matrix_load_buffer("t.yaml", y2, strlen(y2), &m, err, sizeof err), -EINVAL);
	assert_string_equal(err, "t.yaml:13:19: runtime_baseline: too many patterns (at most 64)");
	free(y2);
	free(many);
}

static void test_load_file(void **state)
{
	(void)state;
	struct matrix m;
	char err[512], path[] = "/tmp/calyx-test-matrix-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, VALID, strlen(VALID)), (ssize_t)strlen(VALID));
	close(fd);
	assert_int_equal(matrix_load_file(path, &m, err, sizeof err), 0);
	assert_string_equal(m.source, path);
	assert_int_equal(m.n_keys, 1);
	matrix_free(&m);

	/* Errors name the file. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "version: 1\nmax_runs: [\n", 23), 23);
	close(fd);
	assert_int_equal(matrix_load_file(path, &m, err, sizeof err), -EINVAL);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_non_null(strstr(err, ":3:1: max_runs: YAML syntax error: "));

	/* Over 1 MiB: refused from its size, unread. */
	assert_int_equal(truncate(path, (1 << 20) + 1), 0);
	assert_int_equal(matrix_load_file(path, &m, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "larger than 1 MiB"));
	unlink(path);

	assert_int_equal(matrix_load_file(path, &m, err, sizeof err), -EIO);
	assert_true(strncmp(err, path, strlen(path)) == 0);
	assert_int_equal(matrix_load_file("/tmp", &m, err, sizeof err), -EIO);
	/* A FIFO is refused at once, not waited on. */
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(matrix_load_file(path, &m, err, sizeof err), -EIO);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
}

/* ---- the lease check -------------------------------------------------------------------- */

static struct lease_path fit_paths[] = {
	{ (char *)"repo://calyx/tools/*", ACCESS_RO },
	{ (char *)"repo://calyx/out/**", ACCESS_RW },
	{ (char *)"/srv/ro/data.csv", ACCESS_RO },
	{ (char *)"/tmp/calyx/scratch", ACCESS_RW },
};

static struct utsname this_host;

static struct lease fitting(void)
{
	uname(&this_host);
	struct lease l = { .aud = this_host.nodename, .iat = 1700000000, .nbf = 1700000000, .exp = 1700000000 + 300,
			   .runs = 1, .network = NET_DENY_ALL, .paths = fit_paths,
			   .n_paths = sizeof fit_paths / sizeof fit_paths[0] };
	l.limits.set[LIMIT_MEM] = true;
	l.limits.v[LIMIT_MEM] = 256ull << 20;
	return l;
}

static void expect_refusal(const struct matrix *m, const struct lease *l, const char *want)
{
	char err[512] = "";
	int r = matrix_check_lease(m, l, err, sizeof err);

	if (r != -EPERM || strcmp(err, want))
		print_error("got r=%d err=\"%s\"\nwant \"%s\"\n", r, err, want);
	assert_int_equal(r, -EPERM);
	assert_string_equal(err, want);
}

static void test_check_fits(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";

	load_valid(&m);
	struct lease l = fitting();
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);
	/* Exactly at every bound still fits. */
	l.exp = l.iat + 3600;
	l.runs = 10;
	for (int k = 0; k < LIMIT_COUNT; k++) {
		l.limits.set[k] = true;
		l.limits.v[k] = m.max_limits.v[k];
	}
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);
	/* No paths at all is fine too. */
	l.n_paths = 0;
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);
	matrix_free(&m);
}

static void test_check_excess(void **state)
{
	(void)state;
	struct matrix m;
	struct lease l;

	load_valid(&m);

	l = fitting();
	l.exp = l.iat + 7200;
	expect_refusal(&m, &l, "lease ttl 2h exceeds max_lease_ttl 1h");
	l.exp = l.iat + 3601;
	expect_refusal(&m, &l, "lease ttl 3601s exceeds max_lease_ttl 1h");
	l.exp = l.iat;
	expect_refusal(&m, &l, "lease ttl is not positive (exp is not after iat)");
	/* Extreme times: the difference overflows int64 and must still be refused. */
	l.iat = INT64_MIN;
	l.exp = INT64_MAX;
	{
		char e2[512];
		assert_int_equal(matrix_check_lease(&m, &l, e2, sizeof e2), -EPERM);
		assert_true(strncmp(e2, "lease ttl ", 10) == 0);
		assert_non_null(strstr(e2, " exceeds max_lease_ttl 1h"));
	}

	l = fitting();
	l.runs = 11;
	expect_refusal(&m, &l, "claim 'runs' = 11 exceeds the matrix maximum 10 (max_runs)");

	l = fitting();
	l.limits.v[LIMIT_MEM] = 1ull << 30;
	expect_refusal(&m, &l, "claim 'limits.mem_bytes' = 1G exceeds the matrix maximum 512M "
			       "(limits.max.mem)");
	l = fitting();
	l.limits.set[LIMIT_PIDS] = true;
	l.limits.v[LIMIT_PIDS] = 513;
	expect_refusal(&m, &l, "claim 'limits.pids' = 513 exceeds the matrix maximum 512 "
			       "(limits.max.pids)");
	l = fitting();
	l.limits.set[LIMIT_WALL] = true;
	l.limits.v[LIMIT_WALL] = 2 * 3600000;
	expect_refusal(&m, &l, "claim 'limits.wall_ms' = 2h exceeds the matrix maximum 1h "
			       "(limits.max.wall)");
	l = fitting();
	l.limits.set[LIMIT_CPU] = true;
	l.limits.v[LIMIT_CPU] = 600001;
	expect_refusal(&m, &l, "claim 'limits.cpu_ms' = 600001ms exceeds the matrix maximum 10m "
			       "(limits.max.cpu)");
	l = fitting();
	l.limits.set[LIMIT_OUTPUT] = true;
	l.limits.v[LIMIT_OUTPUT] = (256ull << 20) + 1;
	expect_refusal(&m, &l, "claim 'limits.output_bytes' = 268435457 exceeds the matrix maximum "
			       "256M (limits.max.output)");

	l = fitting();
	l.network = NET_ALLOW;
	l.n_net_allow = 1;
	assert_int_equal(netrule_parse("127.0.0.1:80", &l.net_allow[0], NULL, 0), 0);
	expect_refusal(&m, &l, "claim 'network.allow[0]' = 127.0.0.1/32:80/tcp is not within the matrix's "
			       "bounds (network: deny_all)");

	struct lease_path p;
	l = fitting();
	l.paths = &p;
	l.n_paths = 1;
	p = (struct lease_path){ (char *)"/etc/shadow", ACCESS_RO };
	expect_refusal(&m, &l, "claim 'paths[0]' (/etc/shadow:ro) is outside every lease_paths bound"
			       "; the matrix allows: repo://calyx/**:rw, /srv/ro/**:ro, /tmp/calyx/*:rw");
	/* Prefix confusion: the /srv/ro subtree never admits /srv/ro-evil. */
	p = (struct lease_path){ (char *)"/srv/ro-evil/x", ACCESS_RO };
	expect_refusal(&m, &l, "claim 'paths[0]' (/srv/ro-evil/x:ro) is outside every lease_paths bound"
			       "; the matrix allows: repo://calyx/**:rw, /srv/ro/**:ro, /tmp/calyx/*:rw");
	/* A children bound on /tmp/calyx admits neither grandchildren nor a subtree. */
	p = (struct lease_path){ (char *)"/tmp/calyx/a/b", ACCESS_RO };
	expect_refusal(&m, &l, "claim 'paths[0]' (/tmp/calyx/a/b:ro) is outside every lease_paths bound"
			       "; the matrix allows: repo://calyx/**:rw, /srv/ro/**:ro, /tmp/calyx/*:rw");
	p = (struct lease_path){ (char *)"/tmp/calyx/**", ACCESS_RO };
	expect_refusal(&m, &l, "claim 'paths[0]' (/tmp/calyx/**:ro) is outside every lease_paths bound"
			       "; the matrix allows: repo://calyx/**:rw, /srv/ro/**:ro, /tmp/calyx/*:rw");
	/* An absolute path under a root's directory is inside the repo:// bound. */
	p = (struct lease_path){ (char *)"/srv/calyx/x", ACCESS_RW };
	char err[512];
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);
	p = (struct lease_path){ (char *)"/srv/ro/x", ACCESS_RW };
	expect_refusal(&m, &l, "claim 'paths[0]' (/srv/ro/x) asks for rw but the matrix allows at "
			       "most ro there (lease_paths[1] /srv/ro/**)");
	p = (struct lease_path){ (char *)"repo://nope/x", ACCESS_RO };
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), -EPERM);
	assert_true(strncmp(err, "claim 'paths[0]' (repo://nope/x) names a root the matrix does not "
				 "know (roots)", 75) == 0);
	p = (struct lease_path){ (char *)"/srv/ro/../../etc/shadow", ACCESS_RO };
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), -EPERM);
	if (!strstr(err, "claim 'paths[0]' (/srv/ro/../../etc/shadow) is not a valid pattern: "))
		print_error("%s\n", err);
	assert_non_null(strstr(err, "claim 'paths[0]' (/srv/ro/../../etc/shadow) is not a valid pattern: "));
	/* The second path is named when only it is out of bounds. */
	struct lease_path two[] = { { (char *)"/srv/ro/a", ACCESS_RO }, { (char *)"/srv/rw", ACCESS_RW } };
	l.paths = two;
	l.n_paths = 2;
	expect_refusal(&m, &l, "claim 'paths[1]' (/srv/rw:rw) is outside every lease_paths bound"
			       "; the matrix allows: repo://calyx/**:rw, /srv/ro/**:ro, /tmp/calyx/*:rw");
	matrix_free(&m);

	/* No bounds at all: the refusal says so rather than listing nothing. */
	char *nb = subst("lease_paths:\n  - repo://calyx/**:rw\n  - /srv/ro/**\n  - /tmp/calyx/*:rw\n",
			 "lease_paths: []\n");
	assert_int_equal(matrix_load_buffer("t.yaml", nb, strlen(nb), &m, err, sizeof err), 0);
	free(nb);
	l = fitting();
	l.paths = &p;
	l.n_paths = 1;
	p = (struct lease_path){ (char *)"/srv/ro/x", ACCESS_RO };
	expect_refusal(&m, &l, "claim 'paths[0]' (/srv/ro/x:ro) is outside every lease_paths bound; "
			       "the matrix has no lease_paths bounds: its leases can name no paths");
	matrix_free(&m);

	/* Capability off: every lease is refused, even one that fits. */
	char *y = subst("exec_staging_with_lease: true", "exec_staging_with_lease: false");
	assert_int_equal(matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err), 0);
	free(y);
	l = fitting();
	expect_refusal(&m, &l, "capability 'exec_staging_with_lease' is disabled in the matrix: "
			       "every lease is refused");
	matrix_free(&m);
}

static void test_effective_limits(void **state)
{
	(void)state;
	struct matrix m;
	struct limits out;

	load_valid(&m);
	struct lease l = fitting();
	l.limits.v[LIMIT_MEM] = 300ull << 20;
	matrix_effective_limits(&m, &l, &out);
	/* fsize: neither the matrix nor the lease sets it, so none applies. */
	for (int k = 0; k < LIMIT_COUNT; k++)
		assert_int_equal(out.set[k], k != LIMIT_FSIZE);
	assert_int_equal(out.v[LIMIT_MEM], 300ull << 20);
	assert_int_equal(out.v[LIMIT_CPU], 10000);
	assert_int_equal(out.v[LIMIT_PIDS], 64);
	assert_int_equal(out.v[LIMIT_WALL], 300000);
	assert_int_equal(out.v[LIMIT_OUTPUT], 16ull << 20);
	matrix_free(&m);
}

/* fsize is the optional limit: absent it bounds nothing; given, it has a default within its
 * maximum, and a lease past that maximum is refused. unenforceable_limits: refuse | warn. */
static void test_fsize_and_unenforceable(void **state)
{
	(void)state;
	struct matrix m;
	struct limits out;
	char err[512] = "";

	load_valid(&m);
	assert_false(m.default_limits.set[LIMIT_FSIZE]);
	assert_false(m.max_limits.set[LIMIT_FSIZE]);
	assert_false(m.unenforceable_warn);
	struct lease l = fitting();
	l.limits.set[LIMIT_FSIZE] = true;
	l.limits.v[LIMIT_FSIZE] = 1ull << 40;   /* no maximum: any bound fits */
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);
	matrix_effective_limits(&m, &l, &out);
	assert_true(out.set[LIMIT_FSIZE]);
	assert_int_equal(out.v[LIMIT_FSIZE], 1ull << 40);
	matrix_free(&m);

	char *y = subst("output: 16M}", "output: 16M, fsize: 1M}");
	char *y2 = NULL;
	size_t n = strlen(y) + 64;
	y2 = malloc(n);
	assert_non_null(y2);
	/* the max too, and the warn setting */
	char *at = strstr(y, "output: 256M}");
	assert_non_null(at);
	snprintf(y2, n, "%.*soutput: 256M, fsize: 64M}%s", (int)(at - y), y, at + strlen("output: 256M}"));
	free(y);
	size_t l2 = strlen(y2);
	y = malloc(l2 + 64);
	assert_non_null(y);
	snprintf(y, l2 + 64, "%sunenforceable_limits: warn\n", y2);
	assert_int_equal(matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err), 0);
	assert_true(m.unenforceable_warn);
	assert_int_equal(m.default_limits.v[LIMIT_FSIZE], 1u << 20);
	assert_int_equal(m.max_limits.v[LIMIT_FSIZE], 64u << 20);
	l = fitting();
	matrix_effective_limits(&m, &l, &out);
	assert_true(out.set[LIMIT_FSIZE]);
	assert_int_equal(out.v[LIMIT_FSIZE], 1u << 20);
	l.limits.set[LIMIT_FSIZE] = true;
	l.limits.v[LIMIT_FSIZE] = 65ull << 20;
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), -EPERM);
	assert_string_equal(err, "claim 'limits.fsize_bytes' = 65M exceeds the matrix maximum 64M (limits.max.fsize)");
	matrix_free(&m);
	free(y);
	free(y2);

	/* a maximum without a default; a bad setting */
	y = subst("output: 256M}", "output: 256M, fsize: 1M}");
	expect_error(y, "t.yaml:21:12: limits.default.fsize: missing: limits.max.fsize is set, so a default is needed");
	free(y);
	y = malloc(sizeof VALID + 64);
	assert_non_null(y);
	snprintf(y, sizeof VALID + 64, "%sunenforceable_limits: ignore\n", VALID);
	expect_error(y, "t.yaml:26:23: unenforceable_limits: unknown value 'ignore' (refuse or warn)");
	free(y);
}

static void test_keys(void **state)
{
	(void)state;
	struct matrix m;
	uint8_t pk3[PASERK_PK_BYTES];

	load_valid(&m);
	const struct matrix_key *k = matrix_find_key(&m, PK2_PID);
	assert_non_null(k);
	assert_string_equal(k->name, "ops");
	assert_null(matrix_find_key(&m, PK3_PID));
	assert_null(matrix_find_key(&m, NULL));
	assert_null(matrix_find_key(&m, "k4.pid."));

	for (int i = 0; i < PASERK_PK_BYTES; i++)
		pk3[i] = (uint8_t)(0x70 + i);
	pk3[31] = 0x90;
	assert_int_equal(matrix_trust_key(&m, "cli", pk3), 0);
	assert_int_equal(m.n_keys, 2);
	k = matrix_find_key(&m, PK3_PID);
	assert_non_null(k);
	assert_string_equal(k->name, "cli");
	assert_memory_equal(k->pk, pk3, PASERK_PK_BYTES);
	/* Trusting it again adds nothing. */
	assert_int_equal(matrix_trust_key(&m, "again", pk3), 0);
	assert_int_equal(m.n_keys, 2);
	/* The table is bounded. */
	for (int i = 2; i < MATRIX_MAX_KEYS; i++) {
		pk3[0] = (uint8_t)i;
		assert_int_equal(matrix_trust_key(&m, "more", pk3), 0);
	}
	pk3[0] = 0xff;
	assert_int_equal(matrix_trust_key(&m, "one-too-many", pk3), -ENOSPC);
	assert_int_equal(m.n_keys, MATRIX_MAX_KEYS);
	matrix_free(&m);

	/* The same public key twice in a file is a mistake worth naming. */
	expect_subst_error("    public: " PK2_PUBLIC "\n",
			   "    public: " PK2_PUBLIC "\n  - name: ops2\n    public: " PK2_PUBLIC "\n",
			   "t.yaml:11:13: trusted_keys[1].public: same key as trusted_keys[0]");
	expect_subst_error("    public: " PK2_PUBLIC "\n",
			   "    public: " PK2_PUBLIC "\n  - name: ops\n    public: " PK2_PUBLIC "\n",
			   "t.yaml:10:11: trusted_keys[1].name: duplicate key name 'ops' (also "
			   "trusted_keys[0])");
}

static void test_backend_names(void **state)
{
	(void)state;
	for (int b = ENFORCE_AUTO; b <= ENFORCE_LANDLOCK; b++)
		assert_int_equal(enforce_backend_from_name(enforce_backend_name((enum enforce_backend)b)), b);
	assert_string_equal(enforce_backend_name(ENFORCE_BPF_LSM), "bpf-lsm");
	assert_int_equal(enforce_backend_from_name("BPF-LSM"), -1);
	assert_int_equal(enforce_backend_from_name(""), -1);
	assert_int_equal(enforce_backend_from_name(NULL), -1);
}

/* seccomp.allow: optional (absent relaxes nothing), names checked, each once. */
/* fail_on_denial: optional, absent = false, true/false only. */
static void test_fail_on_denial(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	load_valid(&m);
	assert_false(m.fail_on_denial);
	matrix_free(&m);
	char *y = subst("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nfail_on_denial: true\n");
	int r = matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_true(m.fail_on_denial);
	matrix_free(&m);
	free(y);
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nfail_on_denial: yes\n",
			   "t.yaml:26:17: fail_on_denial: expected true or false, got 'yes'");
}

/* audit_only: optional, absent = deny; allow or deny only (calyx run --audit-only). */
static void test_audit_only(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	load_valid(&m);
	assert_false(m.audit_only_allowed);
	matrix_free(&m);
	const char *vals[] = { "allow", "deny" };
	for (int i = 0; i < 2; i++) {
		char add[64];
		snprintf(add, sizeof add, "enforcement: bpf-lsm\naudit_only: %s\n", vals[i]);
		char *y = subst("enforcement: bpf-lsm\n", add);
		int r = matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err);
		if (r)
			print_error("%s\n", err);
		assert_int_equal(r, 0);
		assert_int_equal(m.audit_only_allowed, i == 0);
		matrix_free(&m);
		free(y);
	}
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\naudit_only: true\n",
			   "t.yaml:26:13: audit_only: unknown value 'true' (allow or deny)");
}

/* rollback_max_bytes: optional, absent = 256M, a size > 0 (no "0 = no pack"). */
static void test_rollback_max_bytes(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	load_valid(&m);
	assert_int_equal(m.rollback_max_bytes, 256ull << 20);
	matrix_free(&m);
	char *y = subst("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nrollback_max_bytes: 4K\n");
	int r = matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_int_equal(m.rollback_max_bytes, 4096);
	matrix_free(&m);
	free(y);
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nrollback_max_bytes: 0\n",
			   "t.yaml:26:21: rollback_max_bytes: size must be above zero, got '0'");
}

/* metrics: {textfile: PATH}: optional, absent = none; an absolute canonical *.prom path. */
static void test_metrics_textfile(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	load_valid(&m);
	assert_null(m.metrics_textfile);
	matrix_free(&m);
	char *y = subst("enforcement: bpf-lsm\n",
			"enforcement: bpf-lsm\nmetrics: {textfile: /var/lib/prometheus/node-exporter/calyx.prom}\n");
	int r = matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(m.metrics_textfile, "/var/lib/prometheus/node-exporter/calyx.prom");
	matrix_free(&m);
	free(y);
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nmetrics: {textfile: /x/calyx.txt}\n",
			   "t.yaml:26:21: metrics.textfile: '/x/calyx.txt' must end in .prom (node_exporter's textfile collector reads only those) and not be hidden");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nmetrics: {textfile: x/calyx.prom}\n",
			   "t.yaml:26:21: metrics.textfile: 'x/calyx.prom' must be an absolute path");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nmetrics: {textfile: /x/../calyx.prom}\n",
			   "t.yaml:26:21: metrics.textfile: '/x/../calyx.prom' must not contain '.' or '..' components");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nmetrics: {textfile: /x/.prom}\n",
			   "t.yaml:26:21: metrics.textfile: '/x/.prom' must end in .prom (node_exporter's textfile collector reads only those) and not be hidden");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nmetrics: {textfile: /x/a.prom, interval: 15s}\n",
			   "t.yaml:26:32: metrics.interval: unknown key");
}

static void test_seccomp_allow(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	load_valid(&m);
	assert_int_equal(m.seccomp_allow, 0);
	matrix_free(&m);

	char *y = subst("enforcement: bpf-lsm\n",
			"enforcement: bpf-lsm\nseccomp: {allow: [io_uring, inet_sockets, personality]}\n");
	int r = matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, 0);
	assert_int_equal(m.seccomp_allow, SECCOMP_GROUP_BIT(SECCOMP_GROUP_IO_URING) |
			 SECCOMP_GROUP_BIT(SECCOMP_GROUP_INET_SOCKETS) |
			 SECCOMP_GROUP_BIT(SECCOMP_GROUP_PERSONALITY));
	matrix_free(&m);
	free(y);

	y = subst("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {allow: []}\n");
	assert_int_equal(matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err), 0);
	assert_int_equal(m.seccomp_allow, 0);
	matrix_free(&m);
	free(y);

	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {allow: [io_uring, ptrace]}\n",
			   "t.yaml:26:29: seccomp.allow[1]: unknown seccomp group 'ptrace' (io_uring, keyring, "
			   "fanotify, userfaultfd, personality or inet_sockets)");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {allow: [keyring, keyring]}\n",
			   "t.yaml:26:28: seccomp.allow[1]: seccomp group 'keyring' listed twice");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {allow: [io_uring], deny: [x]}\n",
			   "t.yaml:26:30: seccomp.deny: unknown key");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {}\n",
			   "t.yaml:26:10: seccomp.allow: missing required key");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {allow: io_uring}\n",
			   "t.yaml:26:18: seccomp.allow: expected a sequence, got a scalar");
	expect_subst_error("enforcement: bpf-lsm\n", "enforcement: bpf-lsm\nseccomp: {allow: [IO_URING]}\n",
			   "t.yaml:26:19: seccomp.allow[0]: unknown seccomp group 'IO_URING' (io_uring, keyring, "
			   "fanotify, userfaultfd, personality or inet_sockets)");
	for (int g = 0; g < SECCOMP_GROUP_COUNT; g++)
		assert_int_equal(seccomp_group_from_name(seccomp_group_name((enum seccomp_group)g)), g);
	assert_int_equal(seccomp_group_from_name("clone3"), -1);
}

/* The host matrix file (calyx run without --matrix): used whenever something is at the
 * path, the shipped one only when nothing is; a broken host file fails to load, it is
 * never passed over for the shipped one. */
/* network: {allow: [...]}: the rules a lease may ask for a subset of; and the schema's
 * errors naming file:line:col. */
static void test_network_allow(void **state)
{
	(void)state;
	struct matrix m;
	char err[512] = "";
	char *y = subst("network: deny_all",
			"network:\n  allow:\n    - 10.0.0.0/8:*/tcp\n    - \"[2001:db8::/32]:443/tcp\"\n"
			"    - 127.0.0.1:53/udp");
	if (matrix_load_buffer("t.yaml", y, strlen(y), &m, err, sizeof err))
		fail_msg("%s", err);
	free(y);
	assert_int_equal(m.network, NET_ALLOW);
	assert_int_equal(m.n_net_allow, 3);

	struct lease l = fitting();
	assert_int_equal(matrix_check_lease(&m, &l, err, sizeof err), 0);   /* deny_all always fits */
	l.network = NET_ALLOW;
	const char *fit[] = { "10.1.0.0/16:443", "[2001:db8:5::/48]:443", "127.0.0.1:53/udp", "10.2.3.4:*",
			      "[::ffff:10.9.9.9]:22" };
	l.n_net_allow = sizeof fit / sizeof fit[0];
	for (size_t i = 0; i < l.n_net_allow; i++)
		assert_int_equal(netrule_parse(fit[i], &l.net_allow[i], NULL, 0), 0);
	if (matrix_check_lease(&m, &l, err, sizeof err))
		fail_msg("refused: %s", err);

	const char *bounds = "(network.allow: 10.0.0.0/8:*/tcp, [2001:db8::/32]:443/tcp, 127.0.0.1/32:53/udp)";
	struct { const char *rule, *shown; } out[] = {
		{ "11.0.0.1:443", "11.0.0.1/32:443/tcp" },            /* another network */
		{ "10.0.0.0/7:443", "10.0.0.0/7:443/tcp" },           /* wider */
		{ "10.1.1.1:53/udp", "10.1.1.1/32:53/udp" },          /* another protocol */
		{ "[2001:db8::1]:80", "[2001:db8::1/128]:80/tcp" },   /* another port */
		{ "[2001:db8::1]:*", "[2001:db8::1/128]:*/tcp" },     /* any port under one port */
		{ "127.0.0.1:54/udp", "127.0.0.1/32:54/udp" },
	};
	for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
		char want[512];
		l.n_net_allow = 2;   /* the refused rule second: the message names its index */
		assert_int_equal(netrule_parse(out[i].rule, &l.net_allow[1], NULL, 0), 0);
		snprintf(want, sizeof want, "claim 'network.allow[1]' = %s is not within the matrix's bounds %s",
			 out[i].shown, bounds);
		expect_refusal(&m, &l, want);
	}
	matrix_free(&m);

	expect_subst_error("network: deny_all", "network: {allow: []}",
			   "t.yaml:24:18: network.allow: want 1..16 rules");
	expect_subst_error("network: deny_all", "network: {allow: [10.0.0.0/8]}",
			   "t.yaml:24:19: network.allow[0]: rule '10.0.0.0/8': no port (want CIDR:PORT[/tcp|/udp])");
	expect_subst_error("network: deny_all", "network: {allow: ['10.0.0.1/8:1']}",
			   "t.yaml:24:19: network.allow[0]: rule '10.0.0.1/8:1': network '10.0.0.1/8': address "
			   "has bits set beyond the /8 prefix (write the network address)");
	expect_subst_error("network: deny_all", "network: {deny: [1.2.3.4:1]}",
			   "t.yaml:24:11: network.deny: unknown key");
}

static void test_host_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/calyx-test-hostm.XXXXXX", path[64], link[80], sub[96];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/capability_matrix.yaml", dir);
	assert_null(matrix_host_file(path));                  /* absent: the shipped one */

	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("version: 1\nbroken: [\n", f);
	fclose(f);
	assert_ptr_equal(matrix_host_file(path), path);      /* there: that file, even broken */
	struct matrix m;
	char err[512];
	assert_int_equal(matrix_load_file(matrix_host_file(path), &m, err, sizeof(err)), -EINVAL);

	snprintf(link, sizeof(link), "%s/dangling.yaml", dir);
	assert_int_equal(symlink("/nonexistent/calyx-matrix.yaml", link), 0);
	assert_ptr_equal(matrix_host_file(link), link);      /* a dangling symlink is not "absent" */
	assert_int_equal(matrix_load_file(link, &m, err, sizeof(err)), -EIO);

	snprintf(sub, sizeof(sub), "%s/capability_matrix.yaml/x.yaml", dir);
	assert_ptr_equal(matrix_host_file(sub), sub);        /* ENOTDIR: not "absent" either */

	unlink(link);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_full),
		cmocka_unit_test(test_valid_variants),
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_host_file),
		cmocka_unit_test(test_network_allow),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_wrong_type),
		cmocka_unit_test(test_err_duration_size),
		cmocka_unit_test(test_err_pattern),
		cmocka_unit_test(test_err_backend_network),
		cmocka_unit_test(test_err_syntax),
		cmocka_unit_test(test_err_alias),
		cmocka_unit_test(test_err_missing),
		cmocka_unit_test(test_err_limits_of_size),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_check_fits),
		cmocka_unit_test(test_check_excess),
		cmocka_unit_test(test_effective_limits),
		cmocka_unit_test(test_fsize_and_unenforceable),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_backend_names),
		cmocka_unit_test(test_seccomp_allow),
		cmocka_unit_test(test_fail_on_denial),
		cmocka_unit_test(test_audit_only),
		cmocka_unit_test(test_rollback_max_bytes),
		cmocka_unit_test(test_metrics_textfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
