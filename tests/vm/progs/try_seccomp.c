/* try_seccomp OP: the calls the seccomp baseline refuses (docs/seccomp.md), each printing
 * "ok OP ..." when the kernel let it through or errno=NAME. A refusal by the baseline is
 * exactly EPERM; the arguments are chosen so that the call itself, if allowed, would
 * succeed or fail with another errno (EFAULT, EINVAL, EOPNOTSUPP, ENOKEY).
 *   io_uring_setup  io_uring_enter  io_uring_register
 *   keyctl-read     keyctl(KEYCTL_READ) of the session keyring
 *   add_key         a user key into the session keyring
 *   request_key     a user key by description
 *   fanotify        fanotify_init(FAN_CLASS_NOTIF)
 *   userfaultfd     userfaultfd(O_CLOEXEC)
 *   uffd-dev        open /dev/userfaultfd (errno when not reachable), then USERFAULTFD_IOC_NEW
 *   uffd-ioctl      ioctl(USERFAULTFD_IOC_NEW) on /dev/null (the request, not the device)
 *   uffd-ioctl-hi   the same request with high bits set (the kernel cuts them off)
 *   personality-rie personality(READ_IMPLIES_EXEC)
 *   personality-nor personality(ADDR_NO_RANDOMIZE)
 *   personality-0   personality(PER_LINUX)          (allowed)
 *   personality-q   personality(0xffffffff): query  (allowed)
 *   socket FAMILY   socket(): unix inet inet6 netlink vsock packet
 *   socket-hi       socket() of AF_INET with high bits set in the family
 *   socketpair FAMILY   socketpair(): unix inet vsock
 *   i386-io_uring   io_uring_setup through int 0x80 (the i386 ABI)
 *   i386-keyctl     keyctl(KEYCTL_GET_KEYRING_ID) through int 0x80
 *   i386-socketcall socketcall(SYS_SOCKET) through int 0x80
 *   x32-io_uring    io_uring_setup through the x32 ABI */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>
#include "common.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define USERFAULTFD_IOC_NEW_ 0xaa00UL
#define X32_BIT 0x40000000L

static int family(const char *s)
{
	if (!strcmp(s, "unix")) return AF_UNIX;
	if (!strcmp(s, "inet")) return AF_INET;
	if (!strcmp(s, "inet6")) return AF_INET6;
	if (!strcmp(s, "netlink")) return AF_NETLINK;
	if (!strcmp(s, "vsock")) return AF_VSOCK;
	if (!strcmp(s, "packet")) return AF_PACKET;
	return -1;
}

/* A system call through int 0x80: the i386 ABI, whatever the binary's own. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
	return ret;
}

static int done(const char *op, long r, int e)
{
	if (r < 0)
		return report_errno(op, e);
	printf("ok %s %ld\n", op, r);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_seccomp OP [ARG]\n");
		return 2;
	}
	const char *op = argv[1], *a = argc > 2 ? argv[2] : "";
	long r;
	errno = 0;
	if (!strcmp(op, "io_uring_setup")) {
		r = syscall(SYS_io_uring_setup, 1, NULL);        /* allowed: EFAULT */
	} else if (!strcmp(op, "io_uring_enter")) {
		r = syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0);   /* allowed: EBADF */
	} else if (!strcmp(op, "io_uring_register")) {
		r = syscall(SYS_io_uring_register, -1, 0, NULL, 0);      /* allowed: EBADF */
	} else if (!strcmp(op, "keyctl-read")) {
		char buf[256];
		r = syscall(SYS_keyctl, KEYCTL_READ, KEY_SPEC_SESSION_KEYRING, buf, sizeof(buf));
	} else if (!strcmp(op, "add_key")) {
		r = syscall(SYS_add_key, "user", "calyx-seccomp-test", "x", 1, KEY_SPEC_SESSION_KEYRING);
	} else if (!strcmp(op, "request_key")) {
		r = syscall(SYS_request_key, "user", "calyx-seccomp-test", NULL, 0);
	} else if (!strcmp(op, "fanotify")) {
		r = syscall(SYS_fanotify_init, 0 /* FAN_CLASS_NOTIF */, O_RDONLY);
	} else if (!strcmp(op, "userfaultfd")) {
		r = syscall(SYS_userfaultfd, O_CLOEXEC);
	} else if (!strcmp(op, "uffd-dev")) {
		int fd = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open /dev/userfaultfd", errno);
		r = ioctl(fd, USERFAULTFD_IOC_NEW_, O_CLOEXEC);
	} else if (!strcmp(op, "uffd-ioctl") || !strcmp(op, "uffd-ioctl-hi")) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open /dev/null", errno);
		unsigned long req = USERFAULTFD_IOC_NEW_ | (!strcmp(op, "uffd-ioctl-hi") ? 0x100000000UL : 0);
		r = syscall(SYS_ioctl, fd, req, 0);       /* allowed: ENOTTY */
	} else if (!strcmp(op, "personality-rie")) {
		r = syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC);
	} else if (!strcmp(op, "personality-nor")) {
		r = syscall(SYS_personality, (unsigned long)ADDR_NO_RANDOMIZE);
	} else if (!strcmp(op, "personality-0")) {
		r = syscall(SYS_personality, (unsigned long)PER_LINUX);
	} else if (!strcmp(op, "personality-q")) {
		r = syscall(SYS_personality, 0xffffffffUL);
	} else if (!strcmp(op, "socket")) {
		int f = family(a);
		if (f < 0) {
			fprintf(stderr, "unknown family %s\n", a);
			return 2;
		}
		r = syscall(SYS_socket, f, f == AF_NETLINK || f == AF_PACKET ? SOCK_RAW : SOCK_DGRAM, 0);
	} else if (!strcmp(op, "socket-hi")) {
		r = syscall(SYS_socket, 0x100000000L | AF_INET, SOCK_DGRAM, 0);
	} else if (!strcmp(op, "socketpair")) {
		int f = family(a), sv[2];
		if (f < 0) {
			fprintf(stderr, "unknown family %s\n", a);
			return 2;
		}
		r = syscall(SYS_socketpair, f, SOCK_STREAM, 0, sv);
	} else if (!strcmp(op, "i386-io_uring")) {
		r = int80(425 /* i386 io_uring_setup */, 1, 0, 0);
		if (r < 0) {
			errno = (int)-r;
			r = -1;
		}
	} else if (!strcmp(op, "i386-keyctl")) {
		r = int80(288 /* i386 keyctl */, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
		if (r < 0) {
			errno = (int)-r;
			r = -1;
		}
	} else if (!strcmp(op, "i386-socketcall")) {
		r = int80(102 /* i386 socketcall */, 1 /* SYS_SOCKET */, 0, 0);   /* allowed: EFAULT */
		if (r < 0) {
			errno = (int)-r;
			r = -1;
		}
	} else if (!strcmp(op, "x32-io_uring")) {
		r = syscall(X32_BIT | SYS_io_uring_setup, 1, NULL);
	} else {
		fprintf(stderr, "unknown op %s\n", op);
		return 2;
	}
	return done(op, r, errno);
}
