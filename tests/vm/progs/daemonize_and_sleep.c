/* daemonize_and_sleep SECONDS MARKER: forks a child that double-forks a setsid()'d
 * grandchild (a classic daemon escaping its parent), then all three sleep SECONDS.
 * MARKER is only in the argv so a test can find leftovers in /proc/PID/cmdline. */
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static void sleep_s(long s)
{
	struct timespec ts = { .tv_sec = s };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: daemonize_and_sleep SECONDS MARKER\n");
		return 2;
	}
	long s = atol(argv[1]);
	pid_t c = fork();
	if (c < 0)
		return report_errno("fork", errno);
	if (c == 0) {
		setsid();
		pid_t g = fork();
		if (g < 0)
			_exit(1);
		if (g > 0)
			_exit(0);       /* the grandchild is orphaned: a daemon */
		printf("daemon %d\n", getpid());
		fflush(stdout);
		sleep_s(s);
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("parent %d sleeping\n", getpid());
	fflush(stdout);
	sleep_s(s);
	return 0;
}
