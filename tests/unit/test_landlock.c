/* links: enforce/landlock policy/pathpat base/errmsg */
/* The pure part of the Landlock backend: access masks per ABI and the rule specs computed
 * from patterns. No kernel feature is needed (tests/host/landlock.sh covers the kernel). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/landlock.h>

#include "enforce/landlock.h"

/* Bit values straight from the kernel's UAPI (include/uapi/linux/landlock.h), written out
 * here so a typo in user/enforce/landlock.c cannot hide behind the same macro. */
#define X (1ULL << 0)      /* EXECUTE */
#define WF (1ULL << 1)     /* WRITE_FILE */
#define RF (1ULL << 2)     /* READ_FILE */
#define RD (1ULL << 3)     /* READ_DIR */
#define MCHAR (1ULL << 6)
#define MREG (1ULL << 8)
#define MBLK (1ULL << 11)
#define REFER (1ULL << 13)
#define TRUNC (1ULL << 14)
#define IOCTL (1ULL << 15)

static void test_fs_handled_per_abi(void **state)
{
	(void)state;
	assert_int_equal(landlock_fs_handled(0), 0);
	assert_int_equal(landlock_fs_handled(1), 0x1fff);
	assert_int_equal(landlock_fs_handled(2), 0x3fff);
	assert_int_equal(landlock_fs_handled(3), 0x7fff);
	assert_int_equal(landlock_fs_handled(4), 0x7fff);
	assert_int_equal(landlock_fs_handled(5), 0xffff);
	assert_int_equal(landlock_fs_handled(7), 0xffff);
	/* A newer kernel than we know: handle everything we know, nothing we don't. */
	assert_int_equal(landlock_fs_handled(42), 0xffff);
}

static void test_net_and_scope_per_abi(void **state)
{
	(void)state;
	assert_int_equal(landlock_net_handled(3, NET_DENY_ALL), 0);
	assert_int_equal(landlock_net_handled(4, NET_DENY_ALL), 0x3);
	assert_int_equal(landlock_net_handled(7, NET_DENY_ALL), 0x3);
	/* allow rules: the cgroup programs decide (and record) every port; Landlock none */
	assert_int_equal(landlock_net_handled(7, NET_ALLOW), 0);
	assert_int_equal(landlock_scoped(5), 0);
	assert_int_equal(landlock_scoped(6), 0x3);
	assert_int_equal(landlock_scoped(7), 0x3);
}

static void test_access_masks(void **state)
{
	(void)state;
	assert_int_equal(landlock_access_for(ACCESS_RO, 7, false), RF);
	assert_int_equal(landlock_access_for(ACCESS_RO, 7, true), RF | RD);
	assert_int_equal(landlock_access_for(ACCESS_RW, 2, false), RF | WF);
	assert_int_equal(landlock_access_for(ACCESS_RW, 3, false), RF | WF | TRUNC);
	uint64_t rw_dir = landlock_access_for(ACCESS_RW, 7, true);
	assert_true(rw_dir & MREG);
	assert_true(rw_dir & REFER);
	assert_true(rw_dir & TRUNC);
	/* Never: running files, device nodes, device ioctls. */
	assert_int_equal(rw_dir & (X | MCHAR | MBLK | IOCTL), 0);
	assert_int_equal(landlock_access_for(ACCESS_RW, 1, true) & (REFER | TRUNC), 0);
	/* File rules only carry rights the kernel accepts on a non-directory. */
	assert_int_equal(landlock_access_for(ACCESS_RW, 7, false) & ~(X | WF | RF | TRUNC | IOCTL), 0);
	assert_int_equal(landlock_exec_access(7), X | RF);
	assert_int_equal(landlock_exec_access(1), X | RF);
}

static struct path_rule mk(const char *path, enum pathpat_kind k, enum path_access a)
{
	struct path_rule r;
	memset(&r, 0, sizeof(r));
	snprintf(r.pat.path, sizeof(r.pat.path), "%s", path);
	r.pat.kind = k;
	r.access = a;
	return r;
}

static void test_specs(void **state)
{
	(void)state;
	struct path_rule p[3] = {
		mk("/srv/a.txt", PATHPAT_EXACT, ACCESS_RO),
		mk("/srv/out/", PATHPAT_SUBTREE, ACCESS_RW),
		mk("/srv/tools/", PATHPAT_CHILDREN, ACCESS_RW),
	};
	struct exec_rule e[1];
	memset(e, 0, sizeof(e));
	snprintf(e[0].path, sizeof(e[0].path), "/usr/bin/python3");
	struct landlock_spec s[8];
	char err[256];
	int n = landlock_specs(p, 3, e, 1, 7, s, 8, err, sizeof(err));
	assert_int_equal(n, 4);

	assert_int_equal(s[0].kind, LL_SPEC_EXEC);
	assert_string_equal(s[0].path, "/usr/bin/python3");
	assert_ptr_equal(s[0].ident, &e[0]);
	assert_int_equal(s[0].file_access, X | RF);
	assert_int_equal(s[0].dir_access, 0);

	/* EXACT on a directory: listing only, never its subtree. */
	assert_int_equal(s[1].kind, LL_SPEC_PATH);
	assert_int_equal(s[1].file_access, RF);
	assert_int_equal(s[1].dir_access, RD);
	assert_null(s[1].ident);

	assert_int_equal(s[2].kind, LL_SPEC_PATH);
	assert_string_equal(s[2].path, "/srv/out/");
	assert_int_equal(s[2].dir_access, landlock_access_for(ACCESS_RW, 7, true));
	assert_int_equal(s[2].file_access, RF | WF | TRUNC);

	/* CHILDREN: per entry; a sub-directory entry gets its listing only. */
	assert_int_equal(s[3].kind, LL_SPEC_CHILDREN);
	assert_int_equal(s[3].file_access, RF | WF | TRUNC);
	assert_int_equal(s[3].dir_access, RD);
	for (int i = 0; i < n; i++)
		assert_int_equal(s[i].file_access & s[i].dir_access & X, 0);
	for (int i = 1; i < n; i++)
		assert_int_equal((s[i].file_access | s[i].dir_access) & X, 0);
}

static void test_specs_errors(void **state)
{
	(void)state;
	struct path_rule p[2] = {
		mk("/a", PATHPAT_EXACT, ACCESS_RO),
		mk("rel/x", PATHPAT_EXACT, ACCESS_RO),
	};
	struct landlock_spec s[4];
	char err[256] = "";
	assert_int_equal(landlock_specs(p, 1, NULL, 0, 0, s, 4, err, sizeof(err)), -EINVAL);
	assert_int_equal(landlock_specs(p, 2, NULL, 0, 7, s, 1, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "limit"));
	assert_int_equal(landlock_specs(p, 2, NULL, 0, 7, s, 4, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rel/x"));
	assert_int_equal(landlock_specs(p, 1, NULL, 0, 7, s, 4, err, sizeof(err)), 1);
}

static void test_elf_interp(void **state)
{
	(void)state;
	char buf[256], err[256];
	/* This test binary is dynamically linked by the Makefile: it has a loader. */
	assert_int_equal(landlock_elf_interp("/proc/self/exe", buf, sizeof(buf), err, sizeof(err)), 0);
	assert_int_equal(buf[0], '/');
	assert_non_null(strstr(buf, "ld-linux"));

	char tmpl[] = "/tmp/calyx-ll-unit-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\necho hi\n", 18), 18);
	close(fd);
	strcpy(buf, "junk");
	assert_int_equal(landlock_elf_interp(tmpl, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "");
	unlink(tmpl);

	assert_int_equal(landlock_elf_interp("/nonexistent/calyx", buf, sizeof(buf), err, sizeof(err)),
			 -ENOENT);
	/* A loader path longer than the buffer is refused, not truncated. */
	assert_int_equal(landlock_elf_interp("/proc/self/exe", buf, 8, err, sizeof(err)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fs_handled_per_abi),
		cmocka_unit_test(test_net_and_scope_per_abi),
		cmocka_unit_test(test_access_masks),
		cmocka_unit_test(test_specs),
		cmocka_unit_test(test_specs_errors),
		cmocka_unit_test(test_elf_interp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
