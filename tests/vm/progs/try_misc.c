/* try_misc OP [ARG]: the enforcer-evasion and host-reach operations of THREATS.md, each
 * printing "ok OP" or errno=NAME.
 *   kill PID          kill(PID, 0): signal reach outside the sandbox
 *   ptrace PID        PTRACE_ATTACH (then detach)
 *   readfd FD         read() an fd that calyx should have closed (expect EBADF)
 *   unshare-user      unshare(CLONE_NEWUSER | CLONE_NEWNS)
 *   mount DIR         mount a tmpfs on DIR
 *   chroot DIR
 *   perf              perf_event_open of a software counter
 *   socket FAMILY     socket() of raw4 | packet | netlink | unix
 *   unix PATH         connect an AF_UNIX stream socket to PATH ("@name": abstract)
 *   unix-bind NAME    bind an AF_UNIX stream socket to NAME ("@name": abstract; "@":
 *                     autobind, an address of the family alone) and listen */
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>
#include "common.h"

/* The address for NAME: "@name" abstract, a path otherwise; "@" alone is the empty
 * abstract name, or with autobind an address of the family alone (the kernel picks). */
static socklen_t unix_name(const char *a, struct sockaddr_un *sun, bool autobind)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (a[0] != '@') {
		strncpy(sun->sun_path, a, sizeof(sun->sun_path) - 1);
		return sizeof(*sun);
	}
	if (autobind && !a[1])
		return offsetof(struct sockaddr_un, sun_path);
	strncpy(sun->sun_path + 1, a + 1, sizeof(sun->sun_path) - 2);
	return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a + 1);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_misc OP [ARG]\n");
		return 2;
	}
	const char *op = argv[1], *a = argc > 2 ? argv[2] : "";
	long r;
	if (!strcmp(op, "kill")) {
		r = kill(atoi(a), 0);
	} else if (!strcmp(op, "ptrace")) {
		r = ptrace(PTRACE_ATTACH, atoi(a), 0, 0);
		if (r == 0) {
			/* detach only works once the tracee has stopped */
			waitpid(atoi(a), NULL, __WALL);
			ptrace(PTRACE_DETACH, atoi(a), 0, 0);
		}
	} else if (!strcmp(op, "readfd")) {
		char c;
		r = read(atoi(a), &c, 1);
	} else if (!strcmp(op, "unshare-user")) {
		r = unshare(CLONE_NEWUSER | CLONE_NEWNS);
	} else if (!strcmp(op, "mount")) {
		r = mount("none", a, "tmpfs", 0, NULL);
	} else if (!strcmp(op, "chroot")) {
		r = chroot(a);
	} else if (!strcmp(op, "perf")) {
		struct perf_event_attr pa;
		memset(&pa, 0, sizeof(pa));
		pa.size = sizeof(pa);
		pa.type = PERF_TYPE_SOFTWARE;
		pa.config = PERF_COUNT_SW_CPU_CLOCK;
		pa.disabled = 1;
		r = syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);
	} else if (!strcmp(op, "socket")) {
		int fam = AF_UNIX, type = SOCK_STREAM, proto = 0;
		if (!strcmp(a, "raw4"))
			fam = AF_INET, type = SOCK_RAW, proto = IPPROTO_ICMP;
		else if (!strcmp(a, "packet"))
			fam = AF_PACKET, type = SOCK_RAW;
		else if (!strcmp(a, "netlink"))
			fam = AF_NETLINK, type = SOCK_RAW;
		r = socket(fam, type | SOCK_CLOEXEC, proto);
	} else if (!strcmp(op, "unix") || !strcmp(op, "unix-bind")) {
		struct sockaddr_un sun;
		bool bind_op = op[4] == '-';
		socklen_t len = unix_name(a, &sun, bind_op);
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return report_errno("socket", errno);
		if (!bind_op) {
			r = connect(fd, (struct sockaddr *)&sun, len);
		} else {
			r = bind(fd, (struct sockaddr *)&sun, len);
			if (r == 0)
				r = listen(fd, 1);
		}
	} else {
		fprintf(stderr, "try_misc: unknown op %s\n", op);
		return 2;
	}
	if (r < 0)
		return report_errno(op, errno);
	printf("ok %s\n", op);
	return 0;
}
