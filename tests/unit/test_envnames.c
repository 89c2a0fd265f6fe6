/* links: policy/envnames policy/lease base/units policy/pathpat base/errmsg policy/limits policy/argv policy/lease_text policy/netrule */
/* Environment names that load code: the code's table and docs/lease-format.md's agree
 * entry for entry; prefixes and exact names match as documented; the lease parser
 * refuses every one, naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/envnames.h"
#include "policy/lease.h"

#define SECTION "### Environment names that load code"

/* The rows of the docs table: "| `NAME` | WHY |". */
static void test_docs_table_matches_code(void **state)
{
	(void)state;
	const char *dir = getenv("CALYX_DOCS_DIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/lease-format.md", dir && *dir ? dir : "docs");
	FILE *f = fopen(path, "re");
	if (!f)
		fail_msg("cannot open %s (run from the repo root or set CALYX_DOCS_DIR)", path);
	char line[1024];
	bool in_section = false, in_table = false;
	size_t i = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!in_section) {
			in_section = strcmp(line, SECTION) == 0;
			continue;
		}
		if (strncmp(line, "| `", 3) != 0) {
			if (in_table || strncmp(line, "#", 1) == 0)
				break;   /* the table ended, or the section did without one */
			continue;
		}
		in_table = true;
		char *name = line + 3, *tick = strchr(name, '`');
		assert_non_null(tick);
		*tick = '\0';
		if (strncmp(tick + 1, " | ", 3) != 0)
			fail_msg("%s: row '%s': no ' | ' after the name", path, name);
		char *why = tick + 4, *end = why + strlen(why);
		if (end - why < 2 || strcmp(end - 2, " |") != 0)
			fail_msg("%s: row '%s': does not end in ' |'", path, name);
		end[-2] = '\0';
		if (i >= envname_n_rules)
			fail_msg("%s: row %zu '%s' is not in envname_rules (%zu entries)", path, i, name, envname_n_rules);
		if (strcmp(name, envname_rules[i].name) != 0)
			fail_msg("%s: row %zu is '%s', envname_rules[%zu] is '%s'", path, i, name, i, envname_rules[i].name);
		if (strcmp(why, envname_rules[i].why) != 0)
			fail_msg("%s: row '%s' says '%s', the code says '%s'", path, name, why, envname_rules[i].why);
		i++;
	}
	fclose(f);
	if (!in_section)
		fail_msg("%s: no section '%s'", path, SECTION);
	if (i != envname_n_rules)
		fail_msg("%s: %zu rows, envname_rules has %zu entries (first missing: '%s')", path, i,
			 envname_n_rules, envname_rules[i].name);
}

static void refused_by(const char *name, const char *rule)
{
	const struct envname_rule *r = envname_refused(name);
	if (!r)
		fail_msg("'%s' passes, want refused by '%s'", name, rule);
	if (strcmp(r->name, rule) != 0)
		fail_msg("'%s' refused by '%s', want '%s'", name, r->name, rule);
}

static void test_matching(void **state)
{
	(void)state;
	/* The names issue 8's review used, and their kind. */
	refused_by("BASH_ENV", "BASH_ENV");
	refused_by("ENV", "ENV");
	refused_by("PYTHONSTARTUP", "PYTHON*");
	refused_by("PYTHONPATH", "PYTHON*");
	refused_by("PYTHONINSPECT", "PYTHON*");
	refused_by("PERL5OPT", "PERL*");
	refused_by("PERLLIB", "PERL*");
	refused_by("RUBYOPT", "RUBY*");
	refused_by("NODE_OPTIONS", "NODE_*");
	refused_by("LD_PRELOAD", "LD_*");
	refused_by("LD_", "LD_*");
	refused_by("GCONV_PATH", "GCONV_PATH");
	refused_by("GLIBC_TUNABLES", "GLIBC_TUNABLES");
	refused_by("GIT_CONFIG_PARAMETERS", "GIT_CONFIG*");
	refused_by("GIT_CONFIG_KEY_0", "GIT_CONFIG*");
	refused_by("GIT_SSH_COMMAND", "GIT_SSH_COMMAND");
	refused_by("LUA_INIT_5_4", "LUA_*");
	/* Exact names are exact: neither longer nor shorter names, nor harmless neighbours. */
	const char *pass[] = { "ENVIRONMENT", "MY_ENV", "BASH_ENVX", "BASH", "GIT_AUTHOR_NAME", "GIT_SSH_X",
			       "LD", "LDFLAGS", "NODE", "EDITORS", "CI", "TERM", "NO_COLOR", "TMPDIR",
			       "USER", "HOSTNAME", "PS1", "OPENSSL", "R_HOME" };
	for (size_t i = 0; i < sizeof(pass) / sizeof(pass[0]); i++)
		if (envname_refused(pass[i]))
			fail_msg("'%s' refused by '%s', want it passed", pass[i], envname_refused(pass[i])->name);
	/* Every table entry refuses its own name (a prefix: the prefix itself and a longer name). */
	for (size_t i = 0; i < envname_n_rules; i++) {
		char n[128];
		snprintf(n, sizeof(n), "%s", envname_rules[i].name);
		size_t k = strlen(n);
		assert_true(k > 0 && strchr(n, '*') == (n[k - 1] == '*' ? n + k - 1 : NULL));
		if (n[k - 1] == '*')
			snprintf(n + k - 1, sizeof(n) - (k - 1), "X1");
		refused_by(n, envname_rules[i].name);
		assert_true(envname_rules[i].why[0] != '\0' && !strchr(envname_rules[i].why, '|'));
	}
}

/* The lease parser (lease issue's check and every verify) refuses them with the name,
 * the entry and why. */
static void test_lease_refuses(void **state)
{
	(void)state;
	const char *names[] = { "BASH_ENV", "PYTHONSTARTUP", "PERL5OPT", "LD_AUDIT", "GIT_CONFIG_COUNT" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char json[1024], err[512] = "";
		snprintf(json, sizeof(json),
			 "{\"jti\":\"LEASE-20251027-021816-2ed3\",\"intent\":\"INT-X\",\"iat\":\"2025-10-27T02:18:16Z\","
			 "\"nbf\":\"2025-10-27T02:18:16Z\",\"exp\":\"2025-10-27T02:23:16Z\","
			 "\"iss\":\"k4.pid.Eu5_9EoNmz_8LfUlxK6A_FQkRP6OLCNe7dN83rYePkLk\",\"commands\":[[\"true\"]],"
			 "\"paths\":[],\"network\":\"deny_all\",\"limits\":{},\"runs\":1,\"env\":[\"TERM\",\"%s\"]}",
			 names[i]);
		struct lease l;
		memset(&l, 0, sizeof(l));
		int rc = lease_from_json(json, strlen(json), &l, err, sizeof(err));
		lease_free(&l);
		if (rc == 0)
			fail_msg("env '%s' accepted", names[i]);
		const struct envname_rule *r = envname_refused(names[i]);
		char want[256];
		snprintf(want, sizeof(want), "claim 'env[1]': '%s' is refused (%s): %s", names[i], r->name, r->why);
		if (!strstr(err, want))
			fail_msg("env '%s': error '%s', want it to contain '%s'", names[i], err, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docs_table_matches_code),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_lease_refuses),
	};
	return cmocka_run_group_tests_name("envnames", tests, NULL, NULL);
}
