/* try_metaread OP [ARGS]: metadata reads and change notification (bpf/meta.bpf.c), each
 * printing "ok OP ..." or errno=NAME.
 *   stat PATH | lstat PATH     stat(2) / lstat(2)
 *   readlink PATH
 *   getxattr NAME PATH         lgetxattr(2) (ENODATA: the hook allowed it, no attribute)
 *   listxattr PATH             llistxattr(2)
 *   inotify PATH               inotify_add_watch(2) (IN_ALL_EVENTS)
 *   dnotify DIR                fcntl(F_NOTIFY) on DIR (opened O_RDONLY)
 *   fstat-pipe                 fstat(2) of a pipe, a socketpair and an eventfd (pseudo
 *                              files on kernel-internal mounts: must work) */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: try_metaread OP [ARGS]\n");
		return 2;
	}
	const char *op = argv[1], *a = argc > 2 ? argv[2] : "";
	struct stat st;
	if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
		if ((op[0] == 's' ? stat(a, &st) : lstat(a, &st)) < 0)
			return report_errno(op, errno);
		printf("ok %s mode=%o size=%lld\n", op, (unsigned)st.st_mode, (long long)st.st_size);
	} else if (!strcmp(op, "readlink")) {
		char buf[256];
		ssize_t n = readlink(a, buf, sizeof(buf) - 1);
		if (n < 0)
			return report_errno(op, errno);
		buf[n] = 0;
		printf("ok readlink %s\n", buf);
	} else if (!strcmp(op, "getxattr") && argc > 3) {
		char buf[256];
		ssize_t n = lgetxattr(argv[3], a, buf, sizeof(buf));
		if (n < 0)
			return report_errno(op, errno);
		printf("ok getxattr %zd\n", n);
	} else if (!strcmp(op, "listxattr")) {
		char buf[1024];
		ssize_t n = llistxattr(a, buf, sizeof(buf));
		if (n < 0)
			return report_errno(op, errno);
		printf("ok listxattr %zd\n", n);
	} else if (!strcmp(op, "inotify")) {
		int fd = inotify_init1(IN_CLOEXEC);
		if (fd < 0)
			return report_errno("inotify_init1", errno);
		if (inotify_add_watch(fd, a, IN_ALL_EVENTS) < 0)
			return report_errno(op, errno);
		printf("ok inotify\n");
	} else if (!strcmp(op, "dnotify")) {
		int fd = open(a, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open", errno);
		if (fcntl(fd, F_NOTIFY, DN_CREATE | DN_MULTISHOT) < 0)
			return report_errno(op, errno);
		printf("ok dnotify\n");
	} else if (!strcmp(op, "fstat-pipe")) {
		int p[2], s[2];
		if (pipe(p) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s) < 0)
			return report_errno("pipe/socketpair", errno);
		int e = eventfd(0, EFD_CLOEXEC);
		if (e < 0)
			return report_errno("eventfd", errno);
		if (fstat(p[0], &st) < 0)
			return report_errno("fstat pipe", errno);
		if (!S_ISFIFO(st.st_mode))
			return report_errno("fstat pipe: not a FIFO", EINVAL);
		if (fstat(s[0], &st) < 0)
			return report_errno("fstat socket", errno);
		if (fstat(e, &st) < 0)
			return report_errno("fstat eventfd", errno);
		printf("ok fstat-pipe\n");
	} else {
		fprintf(stderr, "try_metaread: unknown op %s\n", op);
		return 2;
	}
	return 0;
}
