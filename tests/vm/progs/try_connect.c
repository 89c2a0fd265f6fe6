/* try_connect tcp4|tcp6|udp4|udp6 ADDR PORT: socket + connect. Prints "ok connected" or
 * errno=NAME (of socket or connect, named in parentheses). */
#include <unistd.h>
#include "common.h"
#include "sockaddr.h"

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: try_connect tcp4|tcp6|udp4|udp6 ADDR PORT\n");
		return 2;
	}
	int family, type;
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_target(argv[1], argv[2], argv[3], &family, &type, &ss, &len) < 0) {
		fprintf(stderr, "try_connect: bad address %s\n", argv[2]);
		return 2;
	}
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_errno("socket", errno);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		return report_errno("connect", errno);
	if (type == SOCK_STREAM && write(fd, "hi\n", 3) != 3)
		return report_errno("write", errno);
	printf("ok connected\n");
	close(fd);
	return 0;
}
