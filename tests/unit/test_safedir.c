/* links: base/safedir */
/* Opens beneath a directory fd never follow a symlink nor leave the directory, with
 * openat2 and with the per-component walk alike. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/safedir.h"

#define TMPDIR_NAME "calyx-safedir"
#include "tmpdir.h"

static int dfd = -1;

static void mk(const char *rel, bool is_dir)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (is_dir) {
		assert_int_equal(mkdir(p, 0750), 0);
	} else {
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "x", 1), 1);
		close(fd);
	}
}

static void ln(const char *target, const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int group_setup(void **state)
{
	if (setup(state))
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	mk("a", true);
	mk("a/b", true);
	mk("a/b/f", false);
	mk("outside", true);
	mk("outside/secret", false);
	ln("b", "a/lb");                      /* relative link to a sibling directory */
	ln("f", "a/b/lf");                    /* link to a file next to it */
	ln("../outside", "a/up");             /* out of a */
	ln("/etc", "a/abs");                  /* absolute */
	return 0;
}

static int group_teardown(void **state)
{
	close(dfd);
	return teardown(state);
}

static void expect_open(const char *rel, int flags, int want)
{
	int fd = safedir_openat(dfd, rel, flags, 0640);
	if (want == 0) {
		if (fd < 0)
			fail_msg("%s: %s", rel, strerror(-fd));
		/* O_CLOEXEC is always there. */
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		close(fd);
	} else if (fd != want) {
		fail_msg("%s: got %d, want %d", rel, fd, want);
	}
}

static void cases(void)
{
	expect_open("a/b/f", O_RDONLY, 0);
	expect_open("a/b", O_RDONLY | O_DIRECTORY, 0);
	expect_open("a/b/f", O_PATH, 0);
	/* A symlink anywhere on the path, the last component too, and in every open mode. */
	expect_open("a/lb/f", O_RDONLY, -ELOOP);
	expect_open("a/lb", O_RDONLY | O_DIRECTORY, -ELOOP);
	expect_open("a/b/lf", O_RDONLY, -ELOOP);
	expect_open("a/b/lf", O_WRONLY | O_TRUNC, -ELOOP);
	expect_open("a/b/lf", O_PATH, -ELOOP);
	expect_open("a/up/secret", O_RDONLY, -ELOOP);
	expect_open("a/abs/passwd", O_RDONLY, -ELOOP);
	/* O_CREAT on a planted link: refused, nothing created at the target. */
	expect_open("a/b/lf", O_WRONLY | O_CREAT, -ELOOP);
	int fd = safedir_openat(dfd, "a/b/lf", O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd == -EEXIST || fd == -ELOOP);
	/* Never out of the directory, never absolute, no empty or "." components. */
	expect_open("../x", O_RDONLY, -EXDEV);
	expect_open("a/../../x", O_RDONLY, -EXDEV);
	expect_open("/etc/passwd", O_RDONLY, -EXDEV);
	expect_open("", O_RDONLY, -EINVAL);
	expect_open("a//b", O_RDONLY, -EINVAL);
	expect_open("a/./b", O_RDONLY, -EINVAL);
	expect_open("a/missing", O_RDONLY, -ENOENT);
	/* Creating a new file works. */
	char name[64];
	snprintf(name, sizeof(name), "a/b/new-%d", (int)getpid());
	expect_open(name, O_WRONLY | O_CREAT | O_EXCL, 0);
	expect_open(name, O_RDONLY, 0);
	assert_int_equal(unlinkat(dfd, name, 0), 0);
}

static void test_openat2(void **state)
{
	(void)state;
	safedir_force_walk(false);
	cases();
}

static void test_walk(void **state)
{
	(void)state;
	safedir_force_walk(true);
	cases();
	safedir_force_walk(false);
}

static void test_mkdirs(void **state)
{
	(void)state;
	int fd = safedir_mkdirs(dfd, "m/n/o", 0750);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750 & ~umask(022));
	close(fd);
	fd = safedir_mkdirs(dfd, "m/n/o", 0750);   /* there already: fine */
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(safedir_mkdirs(dfd, "a/lb/x", 0750), -ELOOP);
	assert_int_equal(safedir_mkdirs(dfd, "a/up", 0750), -ELOOP);
	assert_int_equal(safedir_mkdirs(dfd, "a/b/f", 0750), -ENOTDIR);
	assert_int_equal(safedir_mkdirs(dfd, "../m", 0750), -EXDEV);
	/* Nothing was made through the links. */
	char p[256];
	snprintf(p, sizeof(p), "%s/a/b/x", dir);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_root_only(void **state)
{
	(void)state;
	char why[512], p[256];
	if (geteuid() != 0)
		skip();   /* the owner must be root: only root can make such a directory */
	snprintf(p, sizeof(p), "%s/a", dir);
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(safedir_check_root_only(fd, p, why, sizeof(why)), 0);
	assert_int_equal(fchmod(fd, 0757), 0);
	assert_int_equal(safedir_check_root_only(fd, p, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "world-writable"));
	/* Sticky does not excuse the directory itself. */
	assert_int_equal(fchmod(fd, 01777), 0);
	assert_int_equal(safedir_check_root_only(fd, p, why, sizeof(why)), -EPERM);
	assert_int_equal(fchmod(fd, 0750), 0);
	assert_int_equal(fchown(fd, 65534, 0), 0);
	assert_int_equal(safedir_check_root_only(fd, p, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "uid 65534"));
	assert_int_equal(fchown(fd, 0, 0), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openat2),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_root_only),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
