/* hog mem MB | pids N | out: resource bombs for the limit tests.
 *   mem MB   allocate and touch MB MiB, then sleep
 *   pids N   fork N children that sleep (a bounded fork bomb)
 *   out      write to stdout forever */
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hog mem MB | pids N | out\n");
		return 2;
	}
	if (!strcmp(argv[1], "out")) {
		static char buf[65536];
		memset(buf, 'x', sizeof(buf));
		for (;;)
			if (write(1, buf, sizeof(buf)) < 0)
				return report_errno("write", errno);
	}
	long n = argc > 2 ? atol(argv[2]) : 0;
	if (!strcmp(argv[1], "mem")) {
		for (long i = 0; i < n; i++) {
			char *p = malloc(1 << 20);
			if (!p)
				return report_errno("malloc", ENOMEM);
			memset(p, 1, 1 << 20);
		}
		printf("ok allocated %ld MiB\n", n);
	} else if (!strcmp(argv[1], "pids")) {
		long made = 0;
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0) {
				sleep(60);
				_exit(0);
			}
			if (p < 0) {
				report_errno("fork", errno);
				break;
			}
			made++;
		}
		printf("forked %ld\n", made);
	}
	fflush(stdout);
	sleep(60);
	return 0;
}
