/* try_unix_abstract listen|connect NAME: an AF_UNIX stream socket, abstract ("\0NAME")
 * or, when NAME starts with '/', a pathname socket. listen prints "listening" and accepts
 * forever; connect prints "ok connected" or errno=NAME. Landlock's abstract-socket scoping
 * (ABI 6) must refuse an abstract listener outside the sandbox; pathname sockets are not
 * mediated by Landlock ABI <= 7 (docs/backends.md). */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc != 3 || strlen(argv[2]) > 100) {
		fprintf(stderr, "usage: try_unix_abstract listen|connect NAME\n");
		return 2;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(argv[2]);
	int abs = argv[2][0] != '/';
	memcpy(a.sun_path + abs, argv[2], n);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abs + n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_errno("socket", errno);
	if (!strcmp(argv[1], "listen")) {
		if (bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, 8) < 0)
			return report_errno("bind/listen", errno);
		printf("listening\n");
		fflush(stdout);
		for (;;) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				close(c);
		}
	}
	if (connect(fd, (struct sockaddr *)&a, len) < 0)
		return report_errno("connect", errno);
	printf("ok connected\n");
	return 0;
}
