/* links: base/mountinfo base/fileio */
/* The mountinfo line parser behind every cgroup v2 mount lookup and the v1 hierarchies of
 * a controller (base/mountinfo.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "base/mountinfo.h"

static void test_cgroup2_line(void **state)
{
	(void)state;
	char line[] = "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
		      "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
	char *root, *mnt;
	assert_true(mountinfo_cgroup2(line, &root, &mnt));
	assert_string_equal(root, "/");
	assert_string_equal(mnt, "/sys/fs/cgroup");
}

static void test_escapes_and_subtree_root(void **state)
{
	(void)state;
	/* A mount point with a space and a tab, showing a subtree of the hierarchy. */
	char line[] = "40 35 0:30 /a\\040b /mnt/cg\\011x rw - cgroup2 none rw\n";
	char *root, *mnt;
	assert_true(mountinfo_cgroup2(line, &root, &mnt));
	assert_string_equal(root, "/a b");
	assert_string_equal(mnt, "/mnt/cg\tx");
}

static void test_other_lines(void **state)
{
	(void)state;
	char *root, *mnt;
	char v1[] = "30 24 0:26 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory\n";
	assert_false(mountinfo_cgroup2(v1, &root, &mnt));
	char tmpfs[] = "22 1 0:20 / /tmp rw - tmpfs tmpfs rw\n";
	assert_false(mountinfo_cgroup2(tmpfs, &root, &mnt));
	char short_line[] = "35 24 / - cgroup2 cgroup2 rw\n";
	assert_false(mountinfo_cgroup2(short_line, &root, &mnt));
	char no_sep[] = "35 24 0:30 / /sys/fs/cgroup rw cgroup2\n";
	assert_false(mountinfo_cgroup2(no_sep, &root, &mnt));
}

/* A v1 hierarchy is found by its super options, word by word: "cpu" is not "cpuacct". */
static void test_cgroup1_line(void **state)
{
	(void)state;
	char l1[] = "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n";
	char *root, *mnt;
	assert_true(mountinfo_cgroup1(l1, "memory", &root, &mnt));
	assert_string_equal(root, "/");
	assert_string_equal(mnt, "/sys/fs/cgroup/memory");
	char l2[] = "33 31 0:30 /sub /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
	assert_true(mountinfo_cgroup1(l2, "cpuacct", &root, &mnt));
	assert_string_equal(root, "/sub");
	assert_string_equal(mnt, "/sys/fs/cgroup/cpu,cpuacct");
	char l3[] = "33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n";
	assert_false(mountinfo_cgroup1(l3, "cpu", &root, &mnt));
	char l4[] = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	assert_false(mountinfo_cgroup1(l4, "pids", &root, &mnt));
	char l5[] = "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n";
	assert_false(mountinfo_cgroup1(l5, "memory", &root, &mnt));
	assert_true(mountinfo_cgroup1(l5, "pids", &root, &mnt));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup2_line),
		cmocka_unit_test(test_escapes_and_subtree_root),
		cmocka_unit_test(test_other_lines),
		cmocka_unit_test(test_cgroup1_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
