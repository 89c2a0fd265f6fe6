/* listen_tcp tcp4|tcp6 ADDR PORT [COUNT]: a loopback listener for the "outside the
 * sandbox still works" tests. Prints "listening" once bound, accepts COUNT connections
 * (default unlimited), printing each first line received.
 * listen_tcp unix PATH|@NAME - [COUNT]: the same on an AF_UNIX path or abstract name. */
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"
#include "sockaddr.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: listen_tcp tcp4|tcp6 ADDR PORT [COUNT]\n");
		return 2;
	}
	int family, type, one = 1;
	struct sockaddr_storage ss;
	socklen_t len;
	if (strcmp(argv[1], "unix") == 0) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		const char *a = argv[2];
		memset(&ss, 0, sizeof(ss));
		sun->sun_family = family = AF_UNIX;
		if (a[0] == '@') {
			strncpy(sun->sun_path + 1, a + 1, sizeof(sun->sun_path) - 2);
			len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a + 1);
		} else {
			strncpy(sun->sun_path, a, sizeof(sun->sun_path) - 1);
			len = sizeof(*sun);
			unlink(a);
		}
	} else if (parse_target(argv[1], argv[2], argv[3], &family, &type, &ss, &len) < 0) {
		return 2;
	}
	int count = argc > 4 ? atoi(argv[4]) : -1;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_errno("socket", errno);
	if (family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return report_errno("bind", errno);
	if (listen(fd, 16) < 0)
		return report_errno("listen", errno);
	printf("listening\n");
	fflush(stdout);
	for (int i = 0; count < 0 || i < count; i++) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			return report_errno("accept", errno);
		char buf[256];
		ssize_t n = read(c, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		printf("got: %s", buf);
		fflush(stdout);
		close(c);
	}
	return 0;
}
