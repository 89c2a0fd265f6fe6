/* A program with one known sanitizer finding per mode, for tests/asan/selftest.sh: the
 * sanitizer tier must report each of them and fail (a clean tier proves nothing if the
 * sanitizers were never there).
 *   canary ok | leak | heap | ub     (exit 0 unless a sanitizer stops it) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "ok";
	/* volatile: the compiler may not fold the finding away at -O2 */
	volatile int big = INT_MAX, idx = 8;
	if (!strcmp(mode, "leak")) {
		char *volatile p = malloc(77);
		p[0] = 1;
		p = NULL;           /* the only pointer gone: a direct leak at exit */
	} else if (!strcmp(mode, "heap")) {
		char *volatile p = malloc(8);
		printf("%d\n", p[idx]); /* a read one byte past the block */
		free(p);
	} else if (!strcmp(mode, "ub")) {
		int v = big + 1;    /* signed overflow */
		printf("%d\n", v);
	} else if (strcmp(mode, "ok")) {
		fprintf(stderr, "canary: unknown mode %s\n", mode);
		return 2;
	}
	return 0;
}
