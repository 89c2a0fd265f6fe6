/* Address parsing shared by try_connect, try_sendto and listen_tcp. */
#ifndef VMTEST_SOCKADDR_H
#define VMTEST_SOCKADDR_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* proto: tcp4 tcp6 udp4 udp6 (a "6" family also takes ::ffff:a.b.c.d). 0 or -1. */
static inline int parse_target(const char *proto, const char *addr, const char *port,
			       int *family, int *type, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	*type = strncmp(proto, "udp", 3) == 0 ? SOCK_DGRAM : SOCK_STREAM;
	if (strchr(proto, '6')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		*family = AF_INET6;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -1;
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		*family = AF_INET;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(port));
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -1;
		*len = sizeof(*s4);
	}
	return 0;
}
#endif
