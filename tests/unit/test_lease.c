/* links: policy/lease policy/envnames base/units policy/pathpat base/errmsg policy/limits policy/argv policy/lease_text policy/netrule */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "policy/lease.h"

#define ISS "k4.pid.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"
/* 2025-10-27T02:18:16Z, the origin system's lease */
#define T_IAT INT64_C(1761531496)

static const char *BASE =
	"{\"jti\":\"LEASE-20251027-021816-ab12\",\"intent\":\"INT-TEST-SANDBOX\","
	"\"iat\":\"2025-10-27T02:18:16Z\",\"nbf\":\"2025-10-27T02:18:16Z\",\"exp\":\"2025-10-27T02:23:16Z\","
	"\"iss\":\"" ISS "\",\"commands\":[[\"python3\",\"--version\"]],"
	"\"paths\":[{\"pattern\":\"repo://calyx/tools/*\",\"access\":\"ro\"}],"
	"\"network\":\"deny_all\",\"limits\":{}}";

/* BASE with claim `key` replaced by (or added as) value_json; NULL deletes it. */
static char *with_claim(const char *key, const char *value_json)
{
	cJSON *o = cJSON_Parse(BASE);
	assert_non_null(o);
	if (value_json) {
		cJSON *v = cJSON_Parse(value_json);
		if (!v)
			fail_msg("test bug: bad JSON %s", value_json);
		if (cJSON_GetObjectItemCaseSensitive(o, key))
			cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
		else
			cJSON_AddItemToObject(o, key, v);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static int parse(const char *json, struct lease *l, char *err, size_t errlen)
{
	return lease_from_json(json, strlen(json), l, err, errlen);
}

static void expect_bad_json(const char *json, const char *needle)
{
	struct lease l;
	char err[512] = "";
	int rc = parse(json, &l, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("accepted (rc %d): %.300s", rc, json);
	if (!strstr(err, needle))
		fail_msg("message '%s' lacks '%s' for %.300s", err, needle, json);
	/* A refused parse leaves nothing to free. */
	assert_null(l.intent);
	assert_null(l.commands);
}

static void expect_bad(const char *key, const char *value_json, const char *needle)
{
	char *j = with_claim(key, value_json);
	expect_bad_json(j, needle);
	free(j);
}

static void expect_ok(const char *key, const char *value_json, struct lease *l)
{
	char *j = with_claim(key, value_json);
	char err[512] = "";
	int rc = parse(j, l, err, sizeof(err));
	if (rc)
		fail_msg("refused (%s): %s", err, j);
	free(j);
}

static void test_parse_base(void **s)
{
	(void)s;
	struct lease l;
	char err[512] = "";
	assert_int_equal(parse(BASE, &l, err, sizeof(err)), 0);
	assert_string_equal(l.jti, "LEASE-20251027-021816-ab12");
	assert_string_equal(l.intent, "INT-TEST-SANDBOX");
	assert_int_equal(l.iat, T_IAT);
	assert_int_equal(l.nbf, T_IAT);
	assert_int_equal(l.exp, T_IAT + 300);
	assert_string_equal(l.iss, ISS);
	assert_int_equal(l.n_commands, 1);
	assert_int_equal(l.commands[0].argc, 2);
	assert_string_equal(l.commands[0].argv[0], "python3");
	assert_string_equal(l.commands[0].argv[1], "--version");
	assert_null(l.commands[0].argv[2]);
	assert_int_equal(l.n_paths, 1);
	assert_string_equal(l.paths[0].pattern, "repo://calyx/tools/*");
	assert_int_equal(l.paths[0].access, ACCESS_RO);
	assert_int_equal(l.network, NET_DENY_ALL);
	for (int k = 0; k < LIMIT_COUNT; k++)
		assert_false(l.limits.set[k]);
	assert_int_equal(l.runs, 1); /* default */
	assert_int_equal(l.n_env, 0);
	lease_free(&l);
	assert_null(l.intent);
}

static void test_missing_and_unknown(void **s)
{
	(void)s;
	const char *req[] = { "jti", "intent", "iat", "nbf", "exp", "iss", "commands", "paths", "network", "limits" };
	char needle[64];
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		snprintf(needle, sizeof(needle), "claim '%s': missing", req[i]);
		expect_bad(req[i], NULL, needle);
	}
	expect_bad("foo", "1", "claim 'foo': unknown claim");
	expect_bad("sub", "\"x\"", "claim 'sub': unknown claim");
	/* Optional claims really are optional. */
	struct lease l;
	expect_ok("runs", NULL, &l);
	lease_free(&l);
}

static void test_syntax_level(void **s)
{
	(void)s;
	expect_bad_json("", "payload");
	expect_bad_json("[]", "object");
	expect_bad_json("{\"jti\":", "not valid JSON");
	char buf[2048];
	snprintf(buf, sizeof(buf), "%s {}", BASE);
	expect_bad_json(buf, "trailing");
	/* Duplicate claim: parsers disagree on which wins, so neither does. */
	snprintf(buf, sizeof(buf), "{\"jti\":\"LEASE-20251027-021816-ab12\",%s", BASE + 1);
	expect_bad_json(buf, "claim 'jti': given more than once");
	/* \u0000 would truncate the string cJSON hands us. */
	char *j = with_claim("intent", "\"INT-AXB\"");
	char *x = strstr(j, "AXB");
	assert_non_null(x);
	snprintf(buf, sizeof(buf), "%.*sA\\u0000B%s", (int)(x - j), j, x + 3);
	free(j);
	expect_bad_json(buf, "\\u0000");
	/* ...but an escaped backslash followed by "u0000" is just text. */
	struct lease l;
	expect_ok("commands", "[[\"printf\",\"\\\\u0000\"]]", &l);
	assert_string_equal(l.commands[0].argv[1], "\\u0000");
	lease_free(&l);
	/* A NUL byte inside the declared length. */
	char nul[] = "{\"jti\":\"x\0\"}";
	char err[256];
	assert_int_equal(lease_from_json(nul, sizeof(nul) - 1, &l, err, sizeof(err)), -EINVAL);
}

static void test_wrong_types(void **s)
{
	(void)s;
	expect_bad("jti", "5", "claim 'jti'");
	expect_bad("intent", "[]", "claim 'intent'");
	expect_bad("iat", "1761531496", "claim 'iat'");
	expect_bad("iss", "null", "claim 'iss'");
	expect_bad("commands", "\"python3 --version\"", "claim 'commands'");
	expect_bad("commands", "[\"python3\"]", "claim 'commands[0]'");
	expect_bad("paths", "{}", "claim 'paths'");
	expect_bad("paths", "[\"/srv\"]", "claim 'paths[0]'");
	expect_bad("network", "0", "claim 'network'");
	expect_bad("limits", "[]", "claim 'limits'");
	expect_bad("runs", "\"1\"", "claim 'runs'");
	expect_bad("runs", "true", "claim 'runs'");
	expect_bad("env", "\"FOO\"", "claim 'env'");
	expect_bad("env", "[1]", "claim 'env[0]'");
}

static void test_strings_and_ids(void **s)
{
	(void)s;
	char big[200];
	memset(big, 'A', sizeof(big));
	memcpy(big, "\"INT-", 5);
	big[150] = '"';
	big[151] = '\0';
	expect_bad("intent", "\"\"", "claim 'intent': must be a non-empty string");
	expect_bad("intent", big, "claim 'intent': longer than");
	expect_bad("intent", "\"TEST-SANDBOX\"", "claim 'intent'");
	expect_bad("intent", "\"INT-\"", "claim 'intent'");
	expect_bad("intent", "\"INT-a b\"", "claim 'intent'");
	expect_bad("jti", "\"\"", "claim 'jti'");
	expect_bad("jti", "\"LEASE-20251027-021816-AB12\"", "claim 'jti'");
	expect_bad("jti", "\"LEASE-20251027-021816-ab1\"", "claim 'jti'");
	expect_bad("jti", "\"LEASE-20251027-021816-ab123\"", "claim 'jti'");
	expect_bad("jti", "\"LEASE-20251327-021816-ab12\"", "claim 'jti'");
	expect_bad("jti", "\"LEASE-20251027-251816-ab12\"", "claim 'jti'");
	expect_bad("jti", "\"LEASE-20251027-021816-gb12\"", "claim 'jti'");
	expect_bad("jti", "\"../../../etc/passwd\"", "claim 'jti'");
	expect_bad("iss", "\"\"", "claim 'iss'");
	expect_bad("iss", "\"k4.pid.short\"", "claim 'iss'");
	expect_bad("iss", "\"k3.pid.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"", "claim 'iss'");
	expect_bad("iss", "\"k4.pid.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"", "claim 'iss'");
	expect_bad("network", "\"allow_all\"", "claim 'network'");
	expect_bad("network", "\"\"", "claim 'network'");

	assert_true(lease_id_valid("LEASE-20251027-021816-ab12"));
	assert_false(lease_id_valid("LEASE-20251027-021816-ab12 "));
	assert_false(lease_id_valid("lease-20251027-021816-ab12"));
	assert_false(lease_id_valid("LEASE-20251000-021816-ab12"));
	assert_false(lease_id_valid(NULL));
	assert_false(lease_id_valid("LEASE-2025102a-021816-ab12"));
}

static void test_bad_times(void **s)
{
	(void)s;
	expect_bad("iat", "\"yesterday\"", "claim 'iat': must be an RFC 3339");
	expect_bad("nbf", "\"2025-10-27 02:18:16\"", "claim 'nbf'");
	expect_bad("exp", "\"2025-10-27T02:23:16\"", "claim 'exp'"); /* no zone */
	expect_bad("exp", "\"2025-02-30T02:23:16Z\"", "claim 'exp'");
	expect_bad("exp", "\"\"", "claim 'exp'");
	expect_bad("exp", "\"2025-10-27T02:18:16Z\"", "claim 'exp': must be later than 'iat'"); /* ttl 0 */
	expect_bad("exp", "\"2025-10-27T02:18:15Z\"", "claim 'exp'");
	expect_bad("nbf", "\"2025-10-27T02:23:17Z\"", "claim 'nbf': must not be later than 'exp'");
	expect_bad("iat", "\"1969-12-31T23:59:59Z\"", "claim 'iat'");
	/* An offset form is the same instant. */
	struct lease l;
	expect_ok("exp", "\"2025-10-27T04:23:16+02:00\"", &l);
	assert_int_equal(l.exp, T_IAT + 300);
	lease_free(&l);
}

static char *commands_json(size_t ncmd, size_t nargs, size_t arglen)
{
	size_t cap = ncmd * (nargs * (arglen + 3) + 4) + 8;
	char *b = malloc(cap), *p = b;
	assert_non_null(b);
	*p++ = '[';
	for (size_t i = 0; i < ncmd; i++) {
		*p++ = '[';
		for (size_t j = 0; j < nargs; j++) {
			*p++ = '"';
			memset(p, 'a', arglen);
			p += arglen;
			*p++ = '"';
			if (j + 1 < nargs)
				*p++ = ',';
		}
		*p++ = ']';
		if (i + 1 < ncmd)
			*p++ = ',';
	}
	*p++ = ']';
	*p = '\0';
	return b;
}

static void test_bad_commands(void **s)
{
	(void)s;
	expect_bad("commands", "[]", "claim 'commands'");
	expect_bad("commands", "[[]]", "claim 'commands[0]': must be a non-empty array");
	expect_bad("commands", "[[\"a\"],[\"b\"],[\"c\"],[\"\"]]", "claim 'commands[3][0]': must be a non-empty string");
	expect_bad("commands", "[[\"a\",\"\"]]", "claim 'commands[0][1]'");
	expect_bad("commands", "[[\"a\",1]]", "claim 'commands[0][1]'");
	expect_bad("commands", "[[\"a\",null]]", "claim 'commands[0][1]'");

	struct lease l;
	char *c = commands_json(LEASE_MAX_COMMANDS, 1, 1);
	expect_ok("commands", c, &l);
	assert_int_equal(l.n_commands, LEASE_MAX_COMMANDS);
	lease_free(&l);
	free(c);
	c = commands_json(LEASE_MAX_COMMANDS + 1, 1, 1);
	expect_bad("commands", c, "claim 'commands': more than");
	free(c);
	c = commands_json(10000, 1, 1);
	expect_bad("commands", c, "claim 'commands': more than");
	free(c);
	c = commands_json(1, LEASE_MAX_ARGS, 1);
	expect_ok("commands", c, &l);
	assert_int_equal(l.commands[0].argc, LEASE_MAX_ARGS);
	lease_free(&l);
	free(c);
	c = commands_json(1, LEASE_MAX_ARGS + 1, 1);
	expect_bad("commands", c, "claim 'commands[0]': more than");
	free(c);
	c = commands_json(1, 1, LEASE_MAX_ARG_BYTES);
	expect_ok("commands", c, &l);
	lease_free(&l);
	free(c);
	c = commands_json(1, 1, LEASE_MAX_ARG_BYTES + 1);
	expect_bad("commands", c, "claim 'commands[0][0]': longer than");
	free(c);
}

static void test_bad_paths(void **s)
{
	(void)s;
	expect_bad("paths", "[{\"pattern\":\"srv/out\",\"access\":\"ro\"}]", "claim 'paths[0].pattern'");
	expect_bad("paths", "[{\"pattern\":\"/**\",\"access\":\"ro\"}]", "claim 'paths[0].pattern'");
	expect_bad("paths", "[{\"pattern\":\"/srv/../etc\",\"access\":\"ro\"}]", "claim 'paths[0].pattern'");
	expect_bad("paths", "[{\"pattern\":\"/srv/*.py\",\"access\":\"ro\"}]", "claim 'paths[0].pattern'");
	expect_bad("paths", "[{\"pattern\":\"\",\"access\":\"ro\"}]", "claim 'paths[0].pattern'");
	expect_bad("paths", "[{\"access\":\"ro\"}]", "claim 'paths[0].pattern': missing");
	expect_bad("paths", "[{\"pattern\":\"/srv\"}]", "claim 'paths[0].access': missing");
	expect_bad("paths", "[{\"pattern\":\"/srv\",\"access\":\"rx\"}]", "claim 'paths[0].access'");
	expect_bad("paths", "[{\"pattern\":\"/srv\",\"access\":\"RW\"}]", "claim 'paths[0].access'");
	expect_bad("paths", "[{\"pattern\":\"/srv\",\"access\":\"ro\",\"mode\":1}]", "claim 'paths[0].mode'");
	expect_bad("paths", "[{\"pattern\":\"/a\",\"access\":\"ro\"},{\"pattern\":\"/b\",\"pattern\":\"/c\",\"access\":\"ro\"}]",
		   "claim 'paths[1].pattern': given more than once");
	char pat[LEASE_MAX_PATTERN_BYTES + 40];
	memset(pat, 'p', sizeof(pat));
	memcpy(pat, "[{\"pattern\":\"/", 14);
	snprintf(pat + 13 + LEASE_MAX_PATTERN_BYTES + 1, 24, "\",\"access\":\"ro\"}]");
	expect_bad("paths", pat, "claim 'paths[0].pattern'");
	/* Too many. */
	char *b = malloc(70 * 40 + 8), *p = b;
	*p++ = '[';
	for (int i = 0; i <= LEASE_MAX_PATHS; i++)
		p += sprintf(p, "%s{\"pattern\":\"/p%d\",\"access\":\"ro\"}", i ? "," : "", i);
	strcpy(p, "]");
	expect_bad("paths", b, "claim 'paths': more than");
	free(b);
	/* Empty list is fine. */
	struct lease l;
	expect_ok("paths", "[]", &l);
	assert_int_equal(l.n_paths, 0);
	lease_free(&l);
}

static void test_bad_numbers(void **s)
{
	(void)s;
	expect_bad("limits", "{\"gpu\":1}", "claim 'limits.gpu': unknown");
	expect_bad("limits", "{\"cpu\":1}", "claim 'limits.cpu': unknown");
	expect_bad("limits", "{\"cpu_ms\":1.5}", "claim 'limits.cpu_ms': must be an integer");
	expect_bad("limits", "{\"cpu_ms\":0}", "claim 'limits.cpu_ms'");
	expect_bad("limits", "{\"cpu_ms\":-5}", "claim 'limits.cpu_ms'");
	expect_bad("limits", "{\"cpu_ms\":\"10s\"}", "claim 'limits.cpu_ms'");
	expect_bad("limits", "{\"mem_bytes\":1e300}", "claim 'limits.mem_bytes'");
	expect_bad("limits", "{\"mem_bytes\":9007199254740994}", "claim 'limits.mem_bytes'");
	expect_bad("limits", "{\"pids\":5000000}", "claim 'limits.pids'");
	expect_bad("limits", "{\"wall_ms\":1000,\"wall_ms\":2000}", "claim 'limits.wall_ms': given more than once");
	expect_bad("runs", "0", "claim 'runs'");
	expect_bad("runs", "-1", "claim 'runs'");
	expect_bad("runs", "1001", "claim 'runs'");
	expect_bad("runs", "1.5", "claim 'runs'");
	expect_bad("runs", "null", "claim 'runs'");

	struct lease l;
	expect_ok("limits", "{\"cpu_ms\":10000,\"mem_bytes\":268435456,\"pids\":64,\"wall_ms\":300000,"
			    "\"output_bytes\":16777216}", &l);
	assert_true(l.limits.set[LIMIT_CPU] && l.limits.set[LIMIT_MEM] && l.limits.set[LIMIT_PIDS] &&
		    l.limits.set[LIMIT_WALL] && l.limits.set[LIMIT_OUTPUT]);
	assert_int_equal(l.limits.v[LIMIT_MEM], 268435456);
	assert_int_equal(l.limits.v[LIMIT_WALL], 300000);
	lease_free(&l);
	expect_ok("runs", "1000", &l);
	assert_int_equal(l.runs, 1000);
	lease_free(&l);
}

static void test_bad_env(void **s)
{
	(void)s;
	const char *bad[] = { "\"lower\"", "\"PATH\"", "\"HOME\"", "\"LANG\"", "\"TZ\"", "\"LD_PRELOAD\"",
			      "\"LD_LIBRARY_PATH\"", "\"1ABC\"", "\"A-B\"", "\"A=B\"", "\"\"" };
	char arr[64];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(arr, sizeof(arr), "[\"OK\",%s]", bad[i]);
		expect_bad("env", arr, "claim 'env[1]'");
	}
	expect_bad("env", "[\"FOO\",\"FOO\"]", "claim 'env[1]'");
	char big[64 * 8] = "[", *p = big + 1;
	for (int i = 0; i <= LEASE_MAX_ENV; i++)
		p += sprintf(p, "%s\"V%d\"", i ? "," : "", i);
	strcpy(p, "]");
	expect_bad("env", big, "claim 'env': more than");
	struct lease l;
	expect_ok("env", "[\"_X\",\"CI\",\"LDX\",\"PATHX\"]", &l);
	assert_int_equal(l.n_env, 4);
	assert_string_equal(l.env[3], "PATHX");
	lease_free(&l);
}

static void test_helpers_aud_cwd(void **s)
{
	(void)s;
	struct lease l;
	/* helpers: absolute paths or bare names, distinct, bounded */
	expect_ok("helpers", "[\"/usr/bin/cat\",\"grep\"]", &l);
	assert_int_equal(l.n_helpers, 2);
	assert_string_equal(l.helpers[0], "/usr/bin/cat");
	assert_string_equal(l.helpers[1], "grep");
	assert_null(l.aud);
	assert_null(l.cwd);
	lease_free(&l);
	expect_bad("helpers", "\"cat\"", "claim 'helpers': must be an array");
	expect_bad("helpers", "[\"cat\",\"./x\"]", "claim 'helpers[1]': './x' must be an absolute path or a bare program name");
	expect_bad("helpers", "[\"/usr/bin/../sbin/x\"]", "claim 'helpers[0]'");
	expect_bad("helpers", "[\"cat\",\"cat\"]", "claim 'helpers[1]': 'cat' listed twice");
	expect_bad("helpers", "[\"\"]", "claim 'helpers[0]': must be a non-empty string");
	char big[64 * 8] = "[", *p = big + 1;
	for (int i = 0; i <= LEASE_MAX_HELPERS; i++)
		p += sprintf(p, "%s\"h%d\"", i ? "," : "", i);
	strcpy(p, "]");
	expect_bad("helpers", big, "claim 'helpers': more than 32 entries");

	/* aud: one host or group name */
	expect_ok("aud", "\"build-01.example\"", &l);
	assert_string_equal(l.aud, "build-01.example");
	lease_free(&l);
	expect_bad("aud", "[\"a\"]", "claim 'aud': must be a non-empty string");
	expect_bad("aud", "\"a b\"", "claim 'aud': 'a b' must be a host or group name");
	expect_bad("aud", "\"-x\"", "claim 'aud'");

	/* cwd: a directory within one of the lease's paths (BASE: repo://calyx/tools/ *) */
	expect_ok("cwd", "\"repo://calyx/tools\"", &l);
	assert_string_equal(l.cwd, "repo://calyx/tools");
	lease_free(&l);
	expect_ok("cwd", "\"repo://calyx/tools/sub\"", &l);
	lease_free(&l);
	expect_bad("cwd", "\"repo://calyx/tools/sub/deeper\"", "claim 'cwd': 'repo://calyx/tools/sub/deeper' is not within any of the lease's paths");
	expect_bad("cwd", "\"/etc\"", "is not within any of the lease's paths");
	expect_bad("cwd", "\"repo://calyx/tools/*\"", "must be a directory, not a pattern");
	expect_bad("cwd", "\"relative\"", "claim 'cwd'");
	expect_bad("cwd", "\"repo://calyx/tools/../x\"", "claim 'cwd'");
	char *j = with_claim("paths", "[{\"pattern\":\"/srv/w/**\",\"access\":\"rw\"},{\"pattern\":\"/opt/f\",\"access\":\"ro\"}]");
	char err[512] = "";
	assert_int_equal(parse(j, &l, err, sizeof(err)), 0);
	assert_true(lease_cwd_covered(&l, "/srv/w"));
	assert_true(lease_cwd_covered(&l, "/srv/w/a/b/c"));
	assert_true(lease_cwd_covered(&l, "/opt/f"));
	assert_false(lease_cwd_covered(&l, "/srv/wx"));
	assert_false(lease_cwd_covered(&l, "/opt/f/g"));
	assert_false(lease_cwd_covered(&l, "/srv"));
	lease_free(&l);
	free(j);
}

static void test_round_trip(void **s)
{
	(void)s;
	const char *full =
		"{\"jti\":\"LEASE-20251027-021816-ab12\",\"intent\":\"INT-TEST-SANDBOX\","
		"\"iat\":\"2025-10-27T02:18:16Z\",\"nbf\":\"2025-10-27T02:19:00Z\",\"exp\":\"2025-10-27T03:18:16Z\","
		"\"iss\":\"" ISS "\",\"commands\":[[\"python3\",\"--version\"],[\"sh\",\"-c\",\"echo 'hi' \\\"there\\\"\\n\"]],"
		"\"paths\":[{\"pattern\":\"repo://calyx/tools/*\",\"access\":\"ro\"},{\"pattern\":\"/srv/out/**\",\"access\":\"rw\"}],"
		"\"network\":\"deny_all\",\"limits\":{\"cpu_ms\":10000,\"mem_bytes\":268435456,\"pids\":64,"
		"\"wall_ms\":300000,\"output_bytes\":9007199254740992},\"runs\":3,\"env\":[\"CI\",\"FOO_BAR\"],"
		"\"helpers\":[\"/usr/bin/cat\",\"grep\"],\"aud\":\"build-01\",\"cwd\":\"/srv/out/sub\"}";
	struct lease a, b;
	char err[512] = "";
	assert_int_equal(parse(full, &a, err, sizeof(err)), 0);
	char *j1 = lease_to_json(&a);
	assert_non_null(j1);
	/* Already in canonical order and compact form, so the text survives unchanged. */
	assert_string_equal(j1, full);
	assert_int_equal(parse(j1, &b, err, sizeof(err)), 0);
	char *j2 = lease_to_json(&b);
	assert_string_equal(j1, j2);
	assert_int_equal(b.nbf, a.nbf);
	assert_int_equal(b.runs, 3);
	assert_int_equal(b.paths[1].access, ACCESS_RW);
	assert_int_equal(b.limits.v[LIMIT_OUTPUT], UINT64_C(9007199254740992));
	assert_string_equal(b.commands[1].argv[2], "echo 'hi' \"there\"\n");
	assert_string_equal(b.helpers[1], "grep");
	assert_string_equal(b.aud, "build-01");
	assert_string_equal(b.cwd, "/srv/out/sub");
	free(j1);
	free(j2);
	lease_free(&a);
	lease_free(&b);

	/* Key order follows lease.h even when the input order differs; runs is made explicit. */
	const char *shuffled =
		"{\"limits\":{\"wall_ms\":1000,\"cpu_ms\":5},\"network\":\"deny_all\",\"paths\":[],"
		"\"commands\":[[\"true\"]],\"iss\":\"" ISS "\",\"exp\":\"2025-10-27T03:18:16+00:30\","
		"\"nbf\":\"2025-10-27T02:18:16Z\",\"iat\":\"2025-10-27T02:18:16Z\",\"intent\":\"INT-X\","
		"\"jti\":\"LEASE-20251027-021816-ab12\"}";
	assert_int_equal(parse(shuffled, &a, err, sizeof(err)), 0);
	j1 = lease_to_json(&a);
	assert_string_equal(j1,
		"{\"jti\":\"LEASE-20251027-021816-ab12\",\"intent\":\"INT-X\",\"iat\":\"2025-10-27T02:18:16Z\","
		"\"nbf\":\"2025-10-27T02:18:16Z\",\"exp\":\"2025-10-27T02:48:16Z\",\"iss\":\"" ISS "\","
		"\"commands\":[[\"true\"]],\"paths\":[],\"network\":\"deny_all\","
		"\"limits\":{\"cpu_ms\":5,\"wall_ms\":1000},\"runs\":1}");
	free(j1);
	lease_free(&a);
}

static void test_round_trip_times_offset(void **s)
{
	(void)s;
	/* exp equals iat once the offset is applied: a ttl of 0. */
	const char *j = "{\"jti\":\"LEASE-20251027-021816-ab12\",\"intent\":\"INT-X\",\"iat\":\"2025-10-27T02:18:16Z\","
			"\"nbf\":\"2025-10-27T02:18:16Z\",\"exp\":\"2025-10-27T03:18:16+01:00\",\"iss\":\"" ISS "\","
			"\"commands\":[[\"true\"]],\"paths\":[],\"network\":\"deny_all\",\"limits\":{}}";
	expect_bad_json(j, "claim 'exp'");
}

static void test_check_times(void **s)
{
	(void)s;
	struct lease l = { .iat = 1000, .nbf = 1100, .exp = 1400 };
	char err[256];
	assert_int_equal(lease_check_times(&l, 1100, 0, err, sizeof(err)), 0);
	assert_int_equal(lease_check_times(&l, 1399, 0, err, sizeof(err)), 0);
	assert_int_equal(lease_check_times(&l, 1400, 0, err, sizeof(err)), -ETIME);
	assert_non_null(strstr(err, "expired"));
	assert_int_equal(lease_check_times(&l, 1420, 30, err, sizeof(err)), 0);
	assert_int_equal(lease_check_times(&l, 1430, 30, err, sizeof(err)), -ETIME);
	assert_int_equal(lease_check_times(&l, 1099, 0, err, sizeof(err)), -EAGAIN);
	assert_non_null(strstr(err, "not yet valid"));
	assert_int_equal(lease_check_times(&l, 1080, 30, err, sizeof(err)), 0);
	/* Between iat and nbf, beyond skew: not yet valid. */
	assert_int_equal(lease_check_times(&l, 1050, 30, err, sizeof(err)), -EAGAIN);
	/* iat in the future beyond skew: inconsistent, even though nbf might pass. */
	struct lease f = { .iat = 2000, .nbf = 900, .exp = 3000 };
	assert_int_equal(lease_check_times(&f, 1000, 60, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "future"));
	assert_int_equal(lease_check_times(&f, 1950, 60, err, sizeof(err)), 0);
	struct lease bad = { .iat = 1000, .nbf = 1000, .exp = 1000 };
	assert_int_equal(lease_check_times(&bad, 1000, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "inconsistent"));
	struct lease bad2 = { .iat = 1000, .nbf = 2000, .exp = 1500 };
	assert_int_equal(lease_check_times(&bad2, 1200, 0, err, sizeof(err)), -EINVAL);
	/* Extreme values saturate instead of wrapping. */
	struct lease big = { .iat = 0, .nbf = 0, .exp = INT64_MAX };
	assert_int_equal(lease_check_times(&big, INT64_MAX - 1, INT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(lease_check_times(&l, INT64_MIN, 10, err, sizeof(err)), -EINVAL);
	assert_int_equal(lease_check_times(&l, INT64_MAX, 10, err, sizeof(err)), -ETIME);
}

static void test_new_id(void **s)
{
	(void)s;
	char a[LEASE_ID_MAX], b[LEASE_ID_MAX];
	lease_new_id(T_IAT, a);
	assert_true(lease_id_valid(a));
	assert_int_equal(strncmp(a, "LEASE-20251027-021816-", 22), 0);
	/* Randomness: 20 draws of 16 bits all equal would be a broken RNG. */
	int same = 0;
	for (int i = 0; i < 20; i++) {
		lease_new_id(T_IAT, b);
		assert_true(lease_id_valid(b));
		same += strcmp(a, b) == 0;
	}
	assert_true(same < 20);
}

static void expect_split(const char *in, size_t argc, const char *const *want)
{
	struct argv_list a;
	char err[256] = "";
	int rc = lease_split_command(in, &a, err, sizeof(err));
	if (rc)
		fail_msg("split '%s': %s", in, err);
	assert_int_equal(a.argc, argc);
	for (size_t i = 0; i < argc; i++)
		assert_string_equal(a.argv[i], want[i]);
	assert_null(a.argv[argc]);
	argv_list_free(&a);
}

static void expect_split_bad(const char *in, const char *needle)
{
	struct argv_list a;
	char err[256] = "";
	assert_int_equal(lease_split_command(in, &a, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("split '%s': message '%s' lacks '%s'", in, err, needle);
	assert_null(a.argv);
}

static void test_split(void **s)
{
	(void)s;
	expect_split("python3 --version", 2, (const char *const[]){ "python3", "--version" });
	expect_split("  a\t b \n c  ", 3, (const char *const[]){ "a", "b", "c" });
	expect_split("echo 'a b' \"c d\"", 3, (const char *const[]){ "echo", "a b", "c d" });
	expect_split("echo 'it'\\''s'", 2, (const char *const[]){ "echo", "it's" });
	expect_split("echo \"a\\\"b\\\\c\\d\"", 2, (const char *const[]){ "echo", "a\"b\\c\\d" });
	expect_split("echo a\\ b \\$HOME", 3, (const char *const[]){ "echo", "a b", "$HOME" });
	expect_split("echo '$HOME' \"$HOME\"", 3, (const char *const[]){ "echo", "$HOME", "$HOME" });
	expect_split("sh -c 'ls | wc -l'", 3, (const char *const[]){ "sh", "-c", "ls | wc -l" });
	expect_split("a'b'\"c\"d", 1, (const char *const[]){ "abcd" });
	expect_split("ls *.py ~", 3, (const char *const[]){ "ls", "*.py", "~" });
	expect_split_bad("", "empty");
	expect_split_bad("   ", "empty");
	expect_split_bad(NULL, "empty");
	expect_split_bad("echo 'abc", "unterminated single quote");
	expect_split_bad("echo \"abc", "unterminated double quote");
	expect_split_bad("echo abc\\", "trailing backslash");
	expect_split_bad("echo ''", "empty argument");
	expect_split_bad("ls | wc", "unquoted '|'");
	expect_split_bad("echo $HOME", "unquoted '$'");
	expect_split_bad("a;b", "unquoted ';'");
	char *big = malloc(LEASE_MAX_ARG_BYTES + 8);
	memset(big, 'x', LEASE_MAX_ARG_BYTES + 1);
	big[LEASE_MAX_ARG_BYTES + 1] = '\0';
	expect_split_bad(big, "longer than");
	big[LEASE_MAX_ARG_BYTES] = '\0';
	struct argv_list a;
	char err[256];
	assert_int_equal(lease_split_command(big, &a, err, sizeof(err)), 0);
	argv_list_free(&a);
	free(big);
	char many[(LEASE_MAX_ARGS + 1) * 2 + 1];
	for (int i = 0; i <= LEASE_MAX_ARGS; i++) {
		many[2 * i] = 'x';
		many[2 * i + 1] = ' ';
	}
	many[sizeof(many) - 1] = '\0';
	expect_split_bad(many, "more than");
}

static void test_match_and_describe(void **s)
{
	(void)s;
	struct lease l;
	char err[512] = "";
	char *j = with_claim("commands", "[[\"python3\",\"--version\"],[\"git\",\"status\"],[\"sh\",\"-c\",\"echo 'x y'\"],[\"printf\",\"a\\tb\"]]");
	assert_int_equal(parse(j, &l, err, sizeof(err)), 0);
	free(j);
	char *v1[] = { "git", "status", NULL };
	char *v2[] = { "git", "status", "--short", NULL };
	char *v3[] = { "git", NULL };
	char *v4[] = { "python3", "--version", NULL };
	char *v5[] = { "python", "--version", NULL };
	assert_int_equal(lease_match_command(&l, v1, 2), 1);
	assert_int_equal(lease_match_command(&l, v4, 2), 0);
	assert_int_equal(lease_match_command(&l, v2, 3), -1);
	assert_int_equal(lease_match_command(&l, v3, 1), -1);
	assert_int_equal(lease_match_command(&l, v5, 2), -1);
	/* Split then match: the CLI path. */
	struct argv_list a;
	assert_int_equal(lease_split_command("sh -c \"echo 'x y'\"", &a, err, sizeof(err)), 0);
	assert_int_equal(lease_match_command(&l, a.argv, a.argc), 2);
	argv_list_free(&a);

	l.limits.set[LIMIT_MEM] = true;
	l.limits.v[LIMIT_MEM] = 256u << 20;
	l.limits.set[LIMIT_WALL] = true;
	l.limits.v[LIMIT_WALL] = 300000;
	char *d = lease_describe(&l);
	assert_non_null(d);
	assert_non_null(strstr(d, "LEASE-20251027-021816-ab12"));
	assert_non_null(strstr(d, "INT-TEST-SANDBOX"));
	assert_non_null(strstr(d, "2025-10-27T02:18:16Z"));
	assert_non_null(strstr(d, "2025-10-27T02:23:16Z (ttl 5m)"));
	assert_non_null(strstr(d, ISS));
	assert_non_null(strstr(d, "python3 --version\n"));
	assert_non_null(strstr(d, "sh -c 'echo '\\''x y'\\'''\n"));
	assert_non_null(strstr(d, "printf $'a\\x09b'\n"));
	assert_non_null(strstr(d, "repo://calyx/tools/* (ro)"));
	assert_non_null(strstr(d, "deny_all"));
	assert_non_null(strstr(d, "mem 256M"));
	assert_non_null(strstr(d, "wall 5m"));
	assert_non_null(strstr(d, "runs        1\n"));
	free(d);
	lease_free(&l);
}

static void test_limits_assign(void **s)
{
	(void)s;
	struct limits l = { 0 };
	char err[256] = "";
	assert_int_equal(limits_parse_assignments("cpu=10s,mem=256M,pids=64,wall=5m,output=16M", &l, err, sizeof(err)), 0);
	assert_true(l.set[LIMIT_CPU]);
	assert_int_equal(l.v[LIMIT_CPU], 10000);
	assert_int_equal(l.v[LIMIT_MEM], 256u << 20);
	assert_int_equal(l.v[LIMIT_PIDS], 64);
	assert_int_equal(l.v[LIMIT_WALL], 300000);
	assert_int_equal(l.v[LIMIT_OUTPUT], 16u << 20);

	struct limits m = { 0 };
	assert_int_equal(limits_parse_assignments("wall=90s", &m, err, sizeof(err)), 0);
	assert_int_equal(limits_parse_assignments("cpu=500ms", &m, err, sizeof(err)), 0); /* accumulates */
	assert_int_equal(m.v[LIMIT_CPU], 500);
	assert_int_equal(m.v[LIMIT_WALL], 90000);
	assert_false(m.set[LIMIT_MEM]);
	struct limits before = m;
	assert_int_equal(limits_parse_assignments("mem=1G,wall=1s", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wall"));
	assert_memory_equal(&m, &before, sizeof(m)); /* refused input leaves l untouched */

	const struct { const char *in, *needle; } bad[] = {
		{ "gpu=1", "unknown" }, { "cpu=10s,cpu=5s", "more than once" }, { "cpu=0", "cpu" },
		{ "mem=0", "greater than zero" }, { "pids=0", "greater than zero" }, { "pids=-1", "pids" },
		{ "pids=1.5", "pids" }, { "pids=64k", "pids" }, { "pids=99999999", "too large" },
		{ "mem=12Q", "bad size" }, { "wall=forever", "bad duration" }, { "cpu", "NAME=VALUE" },
		{ "=5", "NAME=VALUE" }, { "cpu=", "NAME=VALUE" }, { "", "empty" }, { "cpu=1s,", "empty" },
		{ ",cpu=1s", "empty" }, { "cpu=1s,,mem=1M", "empty" }, { "cpu_ms=1000", "unknown" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct limits z = { 0 };
		err[0] = '\0';
		int rc = limits_parse_assignments(bad[i].in, &z, err, sizeof(err));
		if (rc != -EINVAL || !strstr(err, bad[i].needle))
			fail_msg("'%s': rc %d msg '%s' (want '%s')", bad[i].in, rc, err, bad[i].needle);
		for (int k = 0; k < LIMIT_COUNT; k++)
			assert_false(z.set[k]);
	}
	assert_int_equal(limit_from_name("output"), LIMIT_OUTPUT);
	assert_int_equal(limit_from_name("output_bytes"), -1);
	assert_string_equal(limit_claim_name(LIMIT_MEM), "mem_bytes");
	assert_string_equal(limit_name(LIMIT_PIDS), "pids");

	/* fsize: a size like mem, its claim fsize_bytes, shown like one */
	struct limits f = { 0 };
	assert_int_equal(limits_parse_assignments("fsize=1M", &f, err, sizeof(err)), 0);
	assert_true(f.set[LIMIT_FSIZE]);
	assert_int_equal(f.v[LIMIT_FSIZE], 1u << 20);
	assert_int_equal(limits_parse_assignments("fsize=5m", &(struct limits){ 0 }, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad size"));
	assert_string_equal(limit_claim_name(LIMIT_FSIZE), "fsize_bytes");
	assert_int_equal(limit_from_name("fsize"), LIMIT_FSIZE);
	char b[32];
	limit_format(LIMIT_FSIZE, 1u << 20, b, sizeof(b));
	assert_string_equal(b, "1M");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_base),
		cmocka_unit_test(test_missing_and_unknown),
		cmocka_unit_test(test_syntax_level),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_strings_and_ids),
		cmocka_unit_test(test_bad_times),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_bad_paths),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_bad_env),
		cmocka_unit_test(test_helpers_aud_cwd),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_times_offset),
		cmocka_unit_test(test_check_times),
		cmocka_unit_test(test_new_id),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_match_and_describe),
		cmocka_unit_test(test_limits_assign),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
