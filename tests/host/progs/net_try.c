/* Network allow rules, tried from inside a sandbox (tests/host/netallow.sh,
 * tests/vm/t_netallow.sh). Each argument is one attempt KIND,ADDR,PORT and prints one line
 * "ok KIND ADDR PORT" or "err KIND ADDR PORT ERRNO-NAME":
 *   tcp      connect a TCP socket, send "calyx-net-N" (N: the argument's index)
 *   tfo      TCP Fast Open: sendto(MSG_FASTOPEN) of the bytes with the address, no connect
 *   udp      unconnected UDP sendto of the bytes
 *   udpconn  connect a UDP socket, then send
 *   bind     bind a TCP socket to the address
 *   bindudp  bind a UDP socket to the address
 *   listen   listen on a TCP socket of the address's family without bind (autobind)
 *   raw      a raw ICMP socket of the address's family
 * An address with ':' is IPv6 (::ffff:a.b.c.d is IPv4-mapped, on an AF_INET6 socket). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECONNREFUSED: return "ECONNREFUSED";
	case EINPROGRESS: return "EINPROGRESS";
	case EADDRINUSE: return "EADDRINUSE";
	case EINVAL: return "EINVAL";
	case ENETUNREACH: return "ENETUNREACH";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default: return strerrorname_np(e) ? strerrorname_np(e) : "E?";
	}
}

static int try(int idx, const char *kind, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fam;
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = fam = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = fam = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*s4);
	}
	char msg[32];
	int n = snprintf(msg, sizeof msg, "calyx-net-%d\n", idx);
	int stream = !strcmp(kind, "tcp") || !strcmp(kind, "tfo") || !strcmp(kind, "bind") || !strcmp(kind, "listen");
	int fd;
	if (!strcmp(kind, "raw"))
		fd = socket(fam, SOCK_RAW, fam == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	else
		fd = socket(fam, stream ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (!strcmp(kind, "tcp") || !strcmp(kind, "udpconn")) {
		if (connect(fd, (struct sockaddr *)&ss, len) < 0 || send(fd, msg, (size_t)n, 0) != n)
			rc = -errno;
	} else if (!strcmp(kind, "tfo")) {
		if (sendto(fd, msg, (size_t)n, MSG_FASTOPEN, (struct sockaddr *)&ss, len) != n)
			rc = -errno;
	} else if (!strcmp(kind, "udp")) {
		if (sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&ss, len) != n)
			rc = -errno;
	} else if (!strcmp(kind, "bind") || !strcmp(kind, "bindudp")) {
		if (bind(fd, (struct sockaddr *)&ss, len) < 0)
			rc = -errno;
	} else if (!strcmp(kind, "listen")) {
		if (listen(fd, 1) < 0)
			rc = -errno;
	} else if (strcmp(kind, "raw")) {
		rc = -EINVAL;
	}
	/* a moment for the peer to read before the close (a reset could drop the bytes) */
	if (!rc && stream)
		shutdown(fd, SHUT_WR);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char buf[128];
		snprintf(buf, sizeof buf, "%s", argv[i]);
		char *kind = strtok(buf, ","), *addr = strtok(NULL, ","), *port = strtok(NULL, ",");
		if (!kind || !addr || !port) {
			printf("usage %s\n", argv[i]);
			return 2;
		}
		int rc = try(i, kind, addr, atoi(port));
		if (rc)
			printf("err %s %s %s %s\n", kind, addr, port, ename(-rc));
		else
			printf("ok %s %s %s\n", kind, addr, port);
		fflush(stdout);
	}
	return 0;
}
