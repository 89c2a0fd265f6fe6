/* Fault injection for the reliability tests (docs/reliability.md). Compiled in only when
 * the build defines CALYX_TEST_HOOKS (`make test-hooks`, into build/testhooks/): in the
 * shipped binary both hooks are inline no-ops, so no environment variable can kill a
 * runner or fail its writes.
 *
 *   CALYX_TEST_CRASH_AT=<point>      SIGKILL this process when it reaches <point>
 *                                    (the names: docs/reliability.md "Crash points")
 *   CALYX_TEST_FAIL_WRITE=<n>:<err>  the n-th state write of this process (1-based,
 *                                    counted at testhook_write_fault) fails with <err>,
 *                                    ENOSPC or EIO; the ones before and after succeed
 *
 * A hook that fires says so on stderr first ("calyx: test hook: …"), so a test can tell
 * a fault it injected from one it did not, and knows when n is past the last write. */
#ifndef CALYX_TESTHOOK_H
#define CALYX_TESTHOOK_H
#include <stdbool.h>

#define TESTHOOK_CRASH_ENV "CALYX_TEST_CRASH_AT"
#define TESTHOOK_WRITE_ENV "CALYX_TEST_FAIL_WRITE"

/* True in a build with the hooks compiled in (`calyx --version` says so). */
bool testhook_built_in(void);

#ifdef CALYX_TEST_HOOKS
/* SIGKILL the process (no cleanup, like the OOM killer or a power cut of the runner)
 * when CALYX_TEST_CRASH_AT names point. */
void testhook_crash_point(const char *point);
/* Called before each write of a state file: -ENOSPC or -EIO when this is the write
 * CALYX_TEST_FAIL_WRITE names, else 0. */
int testhook_write_fault(void);
#else
static inline void testhook_crash_point(const char *point)
{
	(void)point;
}
static inline int testhook_write_fault(void)
{
	return 0;
}
#endif

#endif
