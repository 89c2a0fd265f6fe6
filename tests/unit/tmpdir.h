/* A fresh directory under /tmp for one test program: cmocka group setup and teardown.
 * Define TMPDIR_NAME (its name prefix) before including. */
#ifndef CALYX_TEST_TMPDIR_H
#define CALYX_TEST_TMPDIR_H
#include <stdio.h>
#include <stdlib.h>

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", TMPDIR_NAME);
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
