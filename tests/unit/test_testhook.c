/* links: (none: the two modules are included below, with the hooks compiled in) */
/* base/testhook.c in a test build (docs/reliability.md): CALYX_TEST_FAIL_WRITE fails the
 * n-th fileio_write_all() exactly, with that errno, and no other; CALYX_TEST_CRASH_AT
 * SIGKILLs at its point only. Each case runs in a child: the write counter is the
 * process's, and the parent never counts. */
#define CALYX_TEST_HOOKS 1
#include "base/testhook.c"
#include "base/fileio.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

/* Run fn in a child; its wait status. */
static int in_child(void (*fn)(void))
{
	fflush(NULL);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		fn();
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	return st;
}

static int pipe_write(int fds[2], const char *s)
{
	errno = 0;
	return fileio_write_all(fds[1], s, strlen(s));
}

/* Writes 1 and 3 go through, write 2 fails with ENOSPC and errno ENOSPC, nothing of it
 * reaches the file. */
static void second_write_fails(void)
{
	int fds[2];
	if (pipe(fds) < 0)
		_exit(10);
	setenv(TESTHOOK_WRITE_ENV, "2:ENOSPC", 1);
	if (pipe_write(fds, "one ") != 0)
		_exit(11);
	if (pipe_write(fds, "two ") != -ENOSPC || errno != ENOSPC)
		_exit(12);
	if (pipe_write(fds, "three") != 0)
		_exit(13);
	char buf[32] = "";
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	_exit(n == 9 && !memcmp(buf, "one three", 9) ? 0 : 14);
}

static void eio_first(void)
{
	int fds[2];
	if (pipe(fds) < 0)
		_exit(10);
	setenv(TESTHOOK_WRITE_ENV, "1:EIO", 1);
	_exit(pipe_write(fds, "x") == -EIO && errno == EIO && pipe_write(fds, "y") == 0 ? 0 : 11);
}

/* An error the hook does not know fails the write as a misuse, never passes silently. */
static void bad_error_name(void)
{
	int fds[2];
	if (pipe(fds) < 0)
		_exit(10);
	setenv(TESTHOOK_WRITE_ENV, "1:EPERM", 1);
	_exit(pipe_write(fds, "x") == -EINVAL ? 0 : 11);
}

static void unset_never_fails(void)
{
	int fds[2];
	if (pipe(fds) < 0)
		_exit(10);
	unsetenv(TESTHOOK_WRITE_ENV);
	for (int i = 0; i < 5; i++)
		if (pipe_write(fds, "x") != 0)
			_exit(11);
	_exit(0);
}

static void test_fail_write(void **state)
{
	(void)state;
	assert_int_equal(in_child(second_write_fails), 0);
	assert_int_equal(in_child(eio_first), 0);
	assert_int_equal(in_child(bad_error_name), 0);
	assert_int_equal(in_child(unset_never_fails), 0);
}

static void crash_elsewhere(void)
{
	setenv(TESTHOOK_CRASH_ENV, "ledger", 1);
	testhook_crash_point("verified");
	testhook_crash_point("ledge");
	_exit(0);
}

static void crash_here(void)
{
	setenv(TESTHOOK_CRASH_ENV, "ledger", 1);
	testhook_crash_point("ledger");
	_exit(0);   /* not reached */
}

static void test_crash_point(void **state)
{
	(void)state;
	assert_true(testhook_built_in());
	assert_int_equal(in_child(crash_elsewhere), 0);
	int st = in_child(crash_here);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_write),
		cmocka_unit_test(test_crash_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
