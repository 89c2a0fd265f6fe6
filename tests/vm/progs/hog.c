/* hog MODE ...: resource bombs (and one well-behaved run) for the limit tests.
 *   mem MB          allocate and touch MB MiB, then sleep
 *   pids N          fork N children that sleep (a bounded fork bomb)
 *   out             write to stdout forever
 *   out2            write to stdout and stderr in turn, forever (the limit is on the sum)
 *   cpu             spin forever, in two processes (the limit is on the whole tree)
 *   fsize PATH MB [ignore]
 *                   write MB MiB to PATH in 64 KiB writes; with "ignore", SIGXFSZ is
 *                   ignored first and a refused write prints "errno=EFBIG (write)" and
 *                   keeps trying 9 more times; then sleep
 *   under MB N BYTES PATH
 *                   stay just under every limit: touch MB MiB, fork N children that
 *                   exit, write BYTES bytes to PATH and BYTES bytes to stdout, exit 0
 *   sleep S         sleep S seconds, exit 0 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common.h"

static char buf[65536];

static int write_file(const char *path, long bytes, bool ignore)
{
	if (ignore)
		signal(SIGXFSZ, SIG_IGN);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return report_errno("open", errno);
	int refused = 0;
	for (long done = 0; done < bytes;) {
		long n = bytes - done < (long)sizeof(buf) ? bytes - done : (long)sizeof(buf);
		ssize_t w = write(fd, buf, (size_t)n);
		if (w < 0) {
			report_errno("write", errno);
			if (errno != EFBIG || ++refused >= 10)
				break;
			continue;
		}
		done += w;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hog mem MB | pids N | out | out2 | cpu | fsize PATH MB [ignore] | "
				"under MB N BYTES PATH | sleep S\n");
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	if (!strcmp(argv[1], "out")) {
		for (;;)
			if (write(1, buf, sizeof(buf)) < 0)
				return report_errno("write", errno);
	}
	if (!strcmp(argv[1], "out2")) {
		for (int fd = 1;; fd = 3 - fd)
			if (write(fd, buf, 4096) < 0)
				return report_errno("write", errno);
	}
	if (!strcmp(argv[1], "cpu")) {
		fork();
		for (volatile unsigned long i = 0;; i++)
			;
	}
	if (!strcmp(argv[1], "sleep")) {
		sleep(argc > 2 ? (unsigned)atoi(argv[2]) : 1);
		printf("ok slept\n");
		return 0;
	}
	if (!strcmp(argv[1], "fsize") && argc > 3) {
		write_file(argv[2], atol(argv[3]) << 20, argc > 4 && !strcmp(argv[4], "ignore"));
		printf("fsize: done\n");
		fflush(stdout);
		sleep(60);
		return 0;
	}
	if (!strcmp(argv[1], "under") && argc > 5) {
		long mb = atol(argv[2]), n = atol(argv[3]), bytes = atol(argv[4]);
		for (long i = 0; i < mb; i++) {
			char *p = malloc(1 << 20);
			if (!p)
				return report_errno("malloc", ENOMEM);
			memset(p, 1, 1 << 20);
		}
		for (long i = 0; i < n; i++) {
			pid_t p = fork();
			if (p == 0)
				_exit(0);
			if (p < 0)
				return report_errno("fork", errno);
			waitpid(p, NULL, 0);
		}
		if (write_file(argv[5], bytes, false))
			return 1;
		for (long done = 0; done < bytes;) {
			long k = bytes - done < (long)sizeof(buf) ? bytes - done : (long)sizeof(buf);
			ssize_t w = write(1, buf, (size_t)k);
			if (w < 0)
				return report_errno("write", errno);
			done += w;
		}
		return 0;
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
