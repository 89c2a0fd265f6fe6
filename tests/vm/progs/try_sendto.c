/* try_sendto udp4|udp6|tfo4|tfo6 ADDR PORT: an unconnected UDP sendto, or a TCP Fast
 * Open sendto(MSG_FASTOPEN): neither calls connect(), so a connect-only hook misses them.
 * Prints "ok sent N" or errno=NAME. */
#include <netinet/tcp.h>
#include <unistd.h>
#include "common.h"
#include "sockaddr.h"

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: try_sendto udp4|udp6|tfo4|tfo6 ADDR PORT\n");
		return 2;
	}
	int tfo = strncmp(argv[1], "tfo", 3) == 0;
	char proto[8];
	snprintf(proto, sizeof(proto), "%s%s", tfo ? "tcp" : "udp", strchr(argv[1], '6') ? "6" : "4");
	int family, type;
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_target(proto, argv[2], argv[3], &family, &type, &ss, &len) < 0) {
		fprintf(stderr, "try_sendto: bad address %s\n", argv[2]);
		return 2;
	}
	int fd = socket(family, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_errno("socket", errno);
	ssize_t n = sendto(fd, "calyx\n", 6, tfo ? MSG_FASTOPEN : 0, (struct sockaddr *)&ss, len);
	if (n < 0)
		return report_errno("sendto", errno);
	printf("ok sent %zd\n", n);
	close(fd);
	return 0;
}
