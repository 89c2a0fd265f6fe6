/* deny_flood open PATH N [OPTIONS] | socket N [OPTIONS]: try N times to open PATH
 * read-only or to create an AF_INET socket, and report how each attempt ended. Used to
 * flood the ring buffer with denials: every attempt must still be refused, and the records
 * delivered plus the records dropped must add up to N.
 *   --after FILE   create FILE.ready, start only once FILE exists (polled every 10 ms,
 *                  at most 60 s), and create FILE.done when finished (so a test can stop
 *                  the consumer once the command runs, and let it go after)
 *   --rate R       paced: at most R attempts per second, in a batch every millisecond
 *                  (without it: as fast as possible)
 *   --procs K      K processes share the N attempts and the rate (the first does the
 *                  remainder); the counts printed are their sums
 * Prints "denied=D allowed=A other=O" on stdout and "elapsed_ms=E" on stderr. Exit 0 when
 * nothing was allowed, 1 otherwise, 2 on bad usage or a wait that ran out. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	bool sock = argc >= 3 && !strcmp(argv[1], "socket");
	int first_opt = sock ? 3 : 4;
	if (!sock && !(argc >= 4 && !strcmp(argv[1], "open"))) {
	usage:
		fprintf(stderr, "usage: deny_flood open PATH N [--after FILE] [--rate R] | socket N [--after FILE] [--rate R]\n");
		return 2;
	}
	long n = strtol(argv[first_opt - 1], NULL, 10);
	const char *after = NULL;
	long rate = 0, procs = 1;
	for (int i = first_opt; i < argc; i++) {
		if (!strcmp(argv[i], "--after") && i + 1 < argc)
			after = argv[++i];
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--procs") && i + 1 < argc)
			procs = strtol(argv[++i], NULL, 10);
		else
			goto usage;
	}
	if (after) {
		char ready[4096];
		snprintf(ready, sizeof(ready), "%s.ready", after);
		int rfd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (rfd < 0) {
			fprintf(stderr, "deny_flood: %s: %s\n", ready, strerror(errno));
			return 2;
		}
		close(rfd);
		int waited = 0;
		while (access(after, F_OK) != 0) {
			if (++waited > 6000) {
				fprintf(stderr, "deny_flood: %s did not appear in 60 s\n", after);
				return 2;
			}
			usleep(10000);
		}
	}
	if (procs < 1 || procs > 64)
		goto usage;
	/* workers 1..K-1 each take n / K attempts at rate / K and report through a pipe */
	int pfd[2];
	if (procs > 1 && pipe(pfd) < 0)
		return 2;
	long share = n / procs, worker = 0;
	for (long k = 1; k < procs; k++) {
		pid_t c = fork();
		if (c < 0)
			return 2;
		if (c == 0) {
			worker = k;
			break;
		}
	}
	if (procs > 1) {
		n = worker ? share : n - share * (procs - 1);
		rate = rate / procs;
	}
	long denied = 0, allowed = 0, other = 0;
	int64_t start = now_ns();
	for (long i = 0; i < n; i++) {
		if (rate > 0) {
			/* attempt i belongs at start + i / rate seconds: wait for it */
			int64_t due = start + (int64_t)((__int128)i * 1000000000 / rate);
			int64_t t = now_ns();
			if (t < due && due - t >= 1000000) {
				struct timespec d = { .tv_sec = 0, .tv_nsec = (long)(due - t) };
				nanosleep(&d, NULL);
			}
		}
		int fd = sock ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			allowed++;
			close(fd);
		} else if (errno == EACCES || errno == EPERM) {
			denied++;
		} else {
			other++;
		}
	}
	if (worker) {
		long r[3] = { denied, allowed, other };
		_exit(write(pfd[1], r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	for (long k = 1; k < procs; k++) {
		long r[3];
		if (read(pfd[0], r, sizeof(r)) != (ssize_t)sizeof(r))
			return 2;
		denied += r[0];
		allowed += r[1];
		other += r[2];
	}
	while (procs > 1 && wait(NULL) > 0)
		;
	int64_t elapsed = now_ns() - start;
	printf("denied=%ld allowed=%ld other=%ld\n", denied, allowed, other);
	fprintf(stderr, "elapsed_ms=%lld\n", (long long)(elapsed / 1000000));
	fflush(NULL);
	if (after) {
		char done[4096];
		snprintf(done, sizeof(done), "%s.done", after);
		int fd = open(done, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	return allowed ? 1 : 0;
}
