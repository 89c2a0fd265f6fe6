/* mkcgroup_and_move child|root PATH: try to get out of the sandbox's cgroup, then open
 * PATH for reading.
 *   child  mkdir a child of our own cgroup and move ourselves into it (allowed by cgroup
 *          v2 when we own the directory; the sandbox must follow us there)
 *   root   write our pid to the v2 root's cgroup.procs (leaving the sandbox)
 * Prints each step's outcome, then "ok read: ..." or errno=NAME for the final open.
 * Exit status is the final open's (0 = the open succeeded = confinement lost). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"

#define CG "/sys/fs/cgroup"

static int write_pid(const char *procs)
{
	int fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char b[32];
	int n = snprintf(b, sizeof(b), "%d\n", getpid());
	int r = write(fd, b, n) == n ? 0 : -1;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static void print_cgroup(void)
{
	char b[512] = "";
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, b, sizeof(b) - 1);
		b[n > 0 ? n : 0] = 0;
		close(fd);
		printf("cgroup: %s", b);
	} else {
		report_errno("read /proc/self/cgroup", errno);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mkcgroup_and_move child|root PATH\n");
		return 2;
	}
	print_cgroup();
	if (strcmp(argv[1], "child") == 0) {
		char own[512] = "", dir[700], procs[800];
		FILE *f = fopen("/proc/self/cgroup", "re");
		if (f && fgets(own, sizeof(own), f)) {
			own[strcspn(own, "\n")] = 0;
		}
		if (f)
			fclose(f);
		const char *rel = strncmp(own, "0::", 3) == 0 ? own + 3 : "/";
		snprintf(dir, sizeof(dir), CG "%s/escape", rel);
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			report_errno("mkdir child cgroup", errno);
		else if (write_pid(procs) < 0)
			report_errno("move into child", errno);
		else
			printf("ok moved into %s\n", dir);
	} else {
		if (write_pid(CG "/cgroup.procs") < 0)
			report_errno("move to root", errno);
		else
			printf("ok moved to root\n");
	}
	print_cgroup();
	fflush(stdout);
	int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return report_errno("final open", errno);
	printf("ok read: opened %s\n", argv[2]);
	close(fd);
	return 0;
}
