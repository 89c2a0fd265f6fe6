/* try_kill PID [SIG]: kill(PID, SIG) (default SIGTERM). Prints "ok signalled" or
 * errno=NAME. Landlock's signal scoping (ABI 6) must refuse a target outside the sandbox. */
#include <signal.h>
#include <stdlib.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_kill PID [SIG]\n");
		return 2;
	}
	if (kill((pid_t)atoi(argv[1]), argc > 2 ? atoi(argv[2]) : SIGTERM) < 0)
		return report_errno("kill", errno);
	printf("ok signalled\n");
	return 0;
}
