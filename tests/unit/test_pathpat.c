/* links: policy/pathpat base/errmsg */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy/pathpat.h"

static const char *roots(const char *name, void *ctx)
{
	(void)ctx;
	if (strcmp(name, "calyx") == 0)
		return "/srv/calyx";
	if (strcmp(name, "slash") == 0)
		return "/";
	if (strcmp(name, "trailing") == 0)
		return "/srv/t/";
	if (strcmp(name, "dotty") == 0)
		return "/srv/../etc";
	if (strcmp(name, "long") == 0)
		return "/srv/calyx/a/much/longer/root";
	if (strcmp(name, "rel") == 0)
		return "srv/rel";
	return NULL;
}

static struct pathpat must_parse(const char *pat)
{
	struct pathpat p;
	char err[256] = "";
	int rc = pathpat_parse(pat, roots, NULL, &p, err, sizeof(err));
	if (rc)
		fail_msg("parse '%s': %d %s", pat, rc, err);
	return p;
}

static void test_check_accepts(void **s)
{
	(void)s;
	const char *ok[] = { "/usr/bin/git", "/srv/out/*", "/srv/out/**", "repo://calyx/tools/*",
			     "repo://my-repo_2/a/b/**", "repo://calyx/x", "/a", "/etc/ld.so.cache",
			     "/srv/a:b" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char err[256] = "";
		int rc = pathpat_check(ok[i], err, sizeof(err));
		if (rc)
			fail_msg("'%s' refused: %s", ok[i], err);
	}
}

static void test_check_refuses(void **s)
{
	(void)s;
	const char *bad[] = { "", "usr/bin", "./x", "/", "/*", "/**", "//etc", "/etc//passwd",
			      "/etc/", "/etc/./x", "/etc/../x", "/etc/..", "/srv/*/x", "/srv/**/x",
			      "/srv/a*", "/srv/*.py", "/srv/***", "repo://", "repo://calyx",
			      "repo://Calyx/x", "repo://ca lyx/x", "repo:///x", "repo://calyx/",
			      "repo://calyx//x", "repo://calyx/../etc", "/srv/a\nb", "/srv/\x7f",
			      "http://x/y", "~/x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		int rc = pathpat_check(bad[i], err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("'%s' accepted (rc %d)", bad[i], rc);
		assert_true(strlen(err) > 0);
	}
	assert_int_equal(pathpat_check(NULL, NULL, 0), -EINVAL);
}

static void test_parse_kinds(void **s)
{
	(void)s;
	struct pathpat p = must_parse("/usr/bin/git");
	assert_int_equal(p.kind, PATHPAT_EXACT);
	assert_string_equal(p.path, "/usr/bin/git");
	p = must_parse("/srv/out/*");
	assert_int_equal(p.kind, PATHPAT_CHILDREN);
	assert_string_equal(p.path, "/srv/out/");
	p = must_parse("/srv/out/**");
	assert_int_equal(p.kind, PATHPAT_SUBTREE);
	assert_string_equal(p.path, "/srv/out/");
}

static void test_repo_resolution(void **s)
{
	(void)s;
	struct pathpat p = must_parse("repo://calyx/tools/*");
	assert_int_equal(p.kind, PATHPAT_CHILDREN);
	assert_string_equal(p.path, "/srv/calyx/tools/");
	p = must_parse("repo://calyx/tools/lint.py");
	assert_string_equal(p.path, "/srv/calyx/tools/lint.py");
	p = must_parse("repo://calyx/**");
	assert_int_equal(p.kind, PATHPAT_SUBTREE);
	assert_string_equal(p.path, "/srv/calyx/");
	p = must_parse("repo://trailing/x");
	assert_string_equal(p.path, "/srv/t/x");
	p = must_parse("repo://slash/etc/x");
	assert_string_equal(p.path, "/etc/x");

	struct pathpat q;
	char err[256] = "";
	assert_int_equal(pathpat_parse("repo://nope/x", roots, NULL, &q, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope"));
	assert_int_equal(pathpat_parse("repo://calyx/x", NULL, NULL, &q, err, sizeof(err)), -ENOENT);
	/* A root of "/" must not smuggle in a subtree of everything. */
	assert_int_equal(pathpat_parse("repo://slash/**", roots, NULL, &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_parse("repo://slash/*", roots, NULL, &q, err, sizeof(err)), -EINVAL);
	/* Roots are held to the same normal form. */
	assert_int_equal(pathpat_parse("repo://dotty/x", roots, NULL, &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_parse("repo://rel/x", roots, NULL, &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_parse("/srv/../x", roots, NULL, &q, err, sizeof(err)), -EINVAL);
}

static void test_too_long(void **s)
{
	(void)s;
	char pat[PATHPAT_MAX + 8];
	struct pathpat p;
	char err[256] = "";
	/* Exactly PATHPAT_MAX bytes: fits. */
	memset(pat, 'a', PATHPAT_MAX);
	pat[0] = '/';
	pat[PATHPAT_MAX] = '\0';
	assert_int_equal(pathpat_parse(pat, roots, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(strlen(p.path), PATHPAT_MAX);
	assert_true(pathpat_match(&p, pat));
	/* One more: refused by both check and parse. */
	pat[PATHPAT_MAX] = 'a';
	pat[PATHPAT_MAX + 1] = '\0';
	assert_int_equal(pathpat_check(pat, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_parse(pat, roots, NULL, &p, err, sizeof(err)), -ENAMETOOLONG);
	/* A 255-byte CHILDREN pattern stores a 254-byte "dir/": fits. */
	memset(pat, 'b', PATHPAT_MAX);
	pat[0] = '/';
	memcpy(pat + PATHPAT_MAX - 2, "/*", 3);
	assert_int_equal(pathpat_parse(pat, roots, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(p.kind, PATHPAT_CHILDREN);
	/* repo:// that only overflows once resolved. */
	char rp[PATHPAT_MAX + 1];
	memcpy(rp, "repo://long/", 12);
	memset(rp + 12, 'c', PATHPAT_MAX - 12);
	rp[PATHPAT_MAX] = '\0';
	assert_int_equal(pathpat_check(rp, err, sizeof(err)), 0);
	assert_int_equal(pathpat_parse(rp, roots, NULL, &p, err, sizeof(err)), -ENAMETOOLONG);
	/* The matcher never admits a path longer than it can hold, even under a subtree. */
	p = must_parse("/srv/**");
	char path[PATHPAT_MAX + 8];
	memset(path, 'd', sizeof(path));
	memcpy(path, "/srv/", 5);
	path[PATHPAT_MAX] = '\0';
	assert_true(pathpat_match(&p, path));
	path[PATHPAT_MAX] = 'd';
	path[PATHPAT_MAX + 1] = '\0';
	assert_false(pathpat_match(&p, path));
}

static void test_match_prefix_confusion(void **s)
{
	(void)s;
	struct pathpat git = must_parse("/usr/bin/git");
	assert_true(pathpat_match(&git, "/usr/bin/git"));
	assert_false(pathpat_match(&git, "/usr/bin/git-evil"));
	assert_false(pathpat_match(&git, "/usr/bin/gi"));
	assert_false(pathpat_match(&git, "/usr/bin/git/x"));
	assert_false(pathpat_match(&git, "usr/bin/git"));

	struct pathpat sub = must_parse("/srv/out/**");
	assert_true(pathpat_match(&sub, "/srv/out"));
	assert_true(pathpat_match(&sub, "/srv/out/a"));
	assert_true(pathpat_match(&sub, "/srv/out/a/b/c"));
	assert_false(pathpat_match(&sub, "/srv/outside"));
	assert_false(pathpat_match(&sub, "/srv/out-evil/a"));
	assert_false(pathpat_match(&sub, "/srv/ou"));
	assert_false(pathpat_match(&sub, "/srv"));

	struct pathpat ch = must_parse("/srv/out/*");
	assert_true(pathpat_match(&ch, "/srv/out/a"));
	assert_false(pathpat_match(&ch, "/srv/out"));
	assert_false(pathpat_match(&ch, "/srv/out/"));
	assert_false(pathpat_match(&ch, "/srv/out/a/b"));
	assert_false(pathpat_match(&ch, "/srv/outx"));
	assert_false(pathpat_match(&ch, "/srv/outx/a"));
	assert_false(pathpat_match(&ch, NULL));
}

static void test_within(void **s)
{
	(void)s;
	struct pathpat srv_sub = must_parse("/srv/**"), out_sub = must_parse("/srv/out/**"),
		       out_ch = must_parse("/srv/out/*"), out_a = must_parse("/srv/out/a"),
		       out_ab = must_parse("/srv/out/a/b"), srvx = must_parse("/srvx/**"),
		       srv_exact = must_parse("/srv"), out_a_ch = must_parse("/srv/out/a/*");

	assert_true(pathpat_within(&out_sub, &srv_sub));
	assert_true(pathpat_within(&out_ch, &srv_sub));
	assert_true(pathpat_within(&out_a, &srv_sub));
	assert_true(pathpat_within(&srv_sub, &srv_sub));
	assert_true(pathpat_within(&srv_exact, &srv_sub));
	assert_false(pathpat_within(&srv_sub, &out_sub));
	assert_false(pathpat_within(&srvx, &srv_sub));   /* prefix confusion */
	assert_false(pathpat_within(&srv_sub, &srvx));

	assert_true(pathpat_within(&out_a, &out_ch));
	assert_true(pathpat_within(&out_ch, &out_ch));
	assert_false(pathpat_within(&out_ab, &out_ch));
	assert_false(pathpat_within(&out_sub, &out_ch)); /* subtree admits grandchildren */
	assert_false(pathpat_within(&out_a_ch, &out_ch));
	assert_false(pathpat_within(&out_ch, &out_a));

	assert_true(pathpat_within(&out_a, &out_a));
	assert_false(pathpat_within(&out_ab, &out_a));
	assert_false(pathpat_within(&out_ch, &out_a));
	assert_false(pathpat_within(NULL, &out_a));
}

static void test_malformed_struct(void **s)
{
	(void)s;
	/* Built by hand without the trailing '/': must admit nothing rather than "/srvx". */
	struct pathpat bad = { .path = "/srv", .kind = PATHPAT_SUBTREE };
	assert_false(pathpat_match(&bad, "/srv"));
	assert_false(pathpat_match(&bad, "/srvx"));
	assert_false(pathpat_match(&bad, "/srv/a"));
	struct pathpat badc = { .path = "/srv", .kind = PATHPAT_CHILDREN };
	assert_false(pathpat_match(&badc, "/srvx"));
	struct pathpat empty = { .path = "", .kind = PATHPAT_EXACT };
	assert_false(pathpat_match(&empty, ""));
	struct pathpat good = must_parse("/srv/**"), a = must_parse("/srvx");
	assert_false(pathpat_within(&a, &bad));
	assert_false(pathpat_within(&bad, &good));
	struct pathpat odd = { .path = "/srv/", .kind = (enum pathpat_kind)7 };
	assert_false(pathpat_match(&odd, "/srv/a"));
}

static void test_split_access(void **s)
{
	(void)s;
	char *p = NULL;
	int rw = -1;
	char err[256] = "";
	assert_int_equal(pathpat_split_access("/srv/out/**:rw", &p, &rw, err, sizeof(err)), 0);
	assert_string_equal(p, "/srv/out/**");
	assert_int_equal(rw, 1);
	free(p);
	assert_int_equal(pathpat_split_access("repo://calyx/tools/*", &p, &rw, err, sizeof(err)), 0);
	assert_string_equal(p, "repo://calyx/tools/*");
	assert_int_equal(rw, 0);
	free(p);
	assert_int_equal(pathpat_split_access("repo://calyx/tools/*:ro", &p, &rw, err, sizeof(err)), 0);
	assert_string_equal(p, "repo://calyx/tools/*");
	assert_int_equal(rw, 0);
	free(p);
	assert_int_equal(pathpat_split_access("repo://calyx/x:rw", &p, &rw, err, sizeof(err)), 0);
	assert_string_equal(p, "repo://calyx/x");
	assert_int_equal(rw, 1);
	free(p);
	p = NULL;
	assert_int_equal(pathpat_split_access("/srv/out:rx", &p, &rw, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rx"));
	assert_int_equal(pathpat_split_access(":rw", &p, &rw, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_split_access("", &p, &rw, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_split_access("/:rw", &p, &rw, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_split_access("rel/x:ro", &p, &rw, err, sizeof(err)), -EINVAL);
	assert_int_equal(pathpat_split_access("repo://calyx:rw", &p, &rw, err, sizeof(err)), -EINVAL);
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_accepts),
		cmocka_unit_test(test_check_refuses),
		cmocka_unit_test(test_parse_kinds),
		cmocka_unit_test(test_repo_resolution),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_match_prefix_confusion),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_malformed_struct),
		cmocka_unit_test(test_split_access),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
