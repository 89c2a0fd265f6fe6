/* Shared by the VM test programs: they report outcomes as one line a test script greps,
 * "ok ..." on success or "errno=NAME" on failure, so a denial is told apart from any other
 * error by its exact errno. */
#ifndef VMTEST_COMMON_H
#define VMTEST_COMMON_H
#include <errno.h>
#include <stdio.h>
#include <string.h>

static inline const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* Print "errno=NAME (what)" on stdout and return 1 (the programs' failure status). */
static inline int report_errno(const char *what, int e)
{
	printf("errno=%s (%s)\n", errname(e), what);
	fflush(stdout);
	return 1;
}
#endif
