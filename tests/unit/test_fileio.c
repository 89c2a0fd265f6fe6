/* links: base/fileio */
/* base/fileio.c: the bounded whole-file reader and mkdir -p. */
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
#include "base/fileio.h"

#define TMPDIR_NAME "calyx-test-fileio"
#include "tmpdir.h"

/* A file of n bytes 'x', opened for reading. */
static int file_of(size_t n)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/f%zu", dir, n);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	char *b = malloc(n + 1);
	assert_non_null(b);
	memset(b, 'x', n);
	assert_int_equal(fileio_write_all(fd, b, n), 0);
	free(b);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void test_read_all_bounds(void **state)
{
	(void)state;
	char buf[8];
	int fd = file_of(7);   /* exactly cap - 1 */
	assert_int_equal(fileio_read_all(fd, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "xxxxxxx");
	close(fd);
	fd = file_of(8);       /* one byte too many */
	assert_int_equal(fileio_read_all(fd, buf, sizeof(buf)), -EFBIG);
	close(fd);
	fd = file_of(0);
	assert_int_equal(fileio_read_all(fd, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	close(fd);
	/* A pipe delivers in pieces: still read whole. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "ab", 2), 2);
	assert_int_equal(write(p[1], "cd", 2), 2);
	close(p[1]);
	assert_int_equal(fileio_read_all(p[0], buf, sizeof(buf)), 4);
	assert_string_equal(buf, "abcd");
	close(p[0]);
	assert_int_equal(fileio_read_all(-1, buf, sizeof(buf)), -EBADF);
}

static void test_read_small_cuts(void **state)
{
	(void)state;
	char buf[4];
	int fd = file_of(10);
	close(fd);
	char p[128];
	snprintf(p, sizeof(p), "%s/f10", dir);
	assert_int_equal(fileio_read_small_at(AT_FDCWD, p, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "xxx");
}

static void test_mkdir_p(void **state)
{
	(void)state;
	char p[160];
	struct stat st;
	snprintf(p, sizeof(p), "%s/a//b/c/", dir);
	assert_int_equal(fileio_mkdir_p(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fileio_mkdir_p(p, 0700), 0);   /* exists: fine */
	int fd = file_of(1);
	close(fd);
	snprintf(p, sizeof(p), "%s/f1", dir);
	assert_int_equal(fileio_mkdir_p(p, 0700), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/f1/sub", dir);
	assert_int_equal(fileio_mkdir_p(p, 0700), -ENOTDIR);
	assert_int_equal(fileio_mkdir_p("", 0700), -EINVAL);
	assert_int_equal(fileio_mkdir_p("/", 0700), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_all_bounds),
		cmocka_unit_test(test_read_small_cuts),
		cmocka_unit_test(test_mkdir_p),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
