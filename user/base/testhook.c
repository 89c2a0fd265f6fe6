/* Fault injection for the reliability tests: testhook.h. Everything but
 * testhook_built_in() exists only in a build with CALYX_TEST_HOOKS. */
#include "base/testhook.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool testhook_built_in(void)
{
#ifdef CALYX_TEST_HOOKS
	return true;
#else
	return false;
#endif
}

#ifdef CALYX_TEST_HOOKS
void testhook_crash_point(const char *point)
{
	const char *want = getenv(TESTHOOK_CRASH_ENV);
	if (!want || strcmp(want, point) != 0)
		return;
	fprintf(stderr, "calyx: test hook: SIGKILL at %s\n", point);
	fflush(stderr);
	raise(SIGKILL);
	_exit(137);   /* not reached: SIGKILL cannot be blocked or caught */
}

int testhook_write_fault(void)
{
	/* One counter per process: the sandbox child never writes state files. */
	static unsigned long count;
	const char *spec = getenv(TESTHOOK_WRITE_ENV);
	if (!spec)
		return 0;
	count++;
	char *end;
	errno = 0;
	unsigned long n = strtoul(spec, &end, 10);
	if (errno || end == spec || *end != ':' || n != count)
		return 0;
	int e = !strcmp(end + 1, "ENOSPC") ? ENOSPC : !strcmp(end + 1, "EIO") ? EIO : 0;
	if (!e) {
		fprintf(stderr, "calyx: test hook: %s='%s': the error must be ENOSPC or EIO\n", TESTHOOK_WRITE_ENV,
			spec);
		return -EINVAL;
	}
	fprintf(stderr, "calyx: test hook: write %lu fails with %s\n", n, end + 1);
	errno = e;   /* as the write(2) it stands for would leave it */
	return -e;
}
#endif
