/* unix_dgram recv|send|connect PATH|@NAME: the AF_UNIX datagram side of the t_unix checks
 * ("@NAME": an abstract address).
 *   recv PATH      bind PATH (replacing a stale one) and print "got: X" per datagram, forever
 *   send PATH      sendto(PATH) one byte from an unbound socket
 *   connect PATH   connect(PATH), then send one byte
 * The sender prints "ok send" / "ok connect" or errno=NAME: the kernel decides on the socket
 * reached (unix_may_send), so a refusal is a permission errno, never a wrong address. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: unix_dgram recv|send|connect PATH\n");
		return 2;
	}
	const char *op = argv[1];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(argv[2]) >= sizeof(a.sun_path)) {
		fprintf(stderr, "unix_dgram: path too long\n");
		return 2;
	}
	socklen_t len = sizeof(a);
	if (argv[2][0] == '@') {
		memcpy(a.sun_path + 1, argv[2] + 1, strlen(argv[2] + 1));
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(argv[2]));
	} else {
		strncpy(a.sun_path, argv[2], sizeof(a.sun_path) - 1);
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_errno("socket", errno);
	long r;
	if (!strcmp(op, "recv")) {
		if (argv[2][0] != '@')
			unlink(argv[2]);
		if (bind(fd, (struct sockaddr *)&a, len) < 0)
			return report_errno("bind", errno);
		printf("listening\n");
		fflush(stdout);
		char buf[64];
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				printf("got: %s\n", buf);
				fflush(stdout);
			}
		}
	} else if (!strcmp(op, "connect")) {
		r = connect(fd, (struct sockaddr *)&a, len);
		if (r == 0)
			r = send(fd, "c", 1, 0);
	} else if (!strcmp(op, "send")) {
		r = sendto(fd, "s", 1, 0, (struct sockaddr *)&a, len);
	} else {
		fprintf(stderr, "unix_dgram: unknown op %s\n", op);
		return 2;
	}
	if (r < 0)
		return report_errno(op, errno);
	printf("ok %s\n", op);
	return 0;
}
