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
 *   listenwait  the same, then print "listening PORT" (the autobound port) and wait up to
 *            PORT seconds (the argument's port field) for a connection from outside; print
 *            "accepted DATA" (the first bytes received) or "no connection"
 *   raw      a raw ICMP socket of the address's family
 * An address with ':' is IPv6 (::ffff:a.b.c.d is IPv4-mapped, on an AF_INET6 socket).
 * net_try serve OUT KIND,ADDR,PORT...: the listeners (outside the sandbox; KIND tcp or
 * udp): "ready" in OUT once all are bound, then one line "KIND ADDR PORT DATA" per
 * datagram, and per TCP connection once it closed (DATA: the bytes, without the newline);
 * runs until killed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
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

static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *out, int *family);

#define SERVE_MAX 64
struct served { int fd; int listener; char what[96]; char got[256]; size_t n; };

static int serve(const char *outpath, int n, char **specs)
{
	FILE *out = fopen(outpath, "a");
	if (!out)
		return 1;
	setvbuf(out, NULL, _IOLBF, 0);
	struct served sv[SERVE_MAX];
	struct pollfd pf[SERVE_MAX];
	int ns = 0;
	for (int i = 0; i < n && ns < SERVE_MAX; i++) {
		char buf[128];
		snprintf(buf, sizeof buf, "%s", specs[i]);
		char *kind = strtok(buf, ","), *addr = strtok(NULL, ","), *port = strtok(NULL, ",");
		struct sockaddr_storage ss;
		int fam, one = 1;
		if (!kind || !addr || !port)
			return 2;
		socklen_t len = sockaddr_of(addr, atoi(port), &ss, &fam);
		int tcp = !strcmp(kind, "tcp");
		int fd = socket(fam, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
		if (fd < 0 || !len)
			return 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 || (tcp && listen(fd, 16) < 0)) {
			fprintf(stderr, "serve %s: %s\n", specs[i], strerror(errno));
			return 1;
		}
		sv[ns] = (struct served){ .fd = fd, .listener = tcp };
		snprintf(sv[ns].what, sizeof sv[ns].what, "%s %s %s", kind, addr, port);
		ns++;
	}
	fprintf(out, "ready\n");
	for (;;) {
		for (int i = 0; i < ns; i++)
			pf[i] = (struct pollfd){ .fd = sv[i].fd, .events = POLLIN };
		if (poll(pf, (nfds_t)ns, -1) < 0)
			return 1;
		/* downwards: an accepted connection goes to the end and a closed one is
		 * replaced by the last, so every index below i is still the one polled */
		for (int i = ns - 1; i >= 0; i--) {
			if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct served *s = &sv[i];
			if (s->listener == 1) {
				int c = accept(s->fd, NULL, NULL);
				if (c >= 0 && ns < SERVE_MAX) {
					sv[ns] = (struct served){ .fd = c, .listener = 2 };
					memcpy(sv[ns].what, s->what, sizeof s->what);
					ns++;
				} else if (c >= 0) {
					close(c);
				}
				continue;
			}
			char b[256];
			ssize_t r = recv(s->fd, b, sizeof b - 1, 0);
			if (s->listener == 0) {   /* a datagram */
				if (r > 0) {
					b[r] = 0;
					b[strcspn(b, "\n")] = 0;
					fprintf(out, "%s %s\n", s->what, b);
				}
				continue;
			}
			if (r > 0 && s->n + (size_t)r < sizeof s->got) {
				memcpy(s->got + s->n, b, (size_t)r);
				s->n += (size_t)r;
				continue;
			}
			/* the connection closed: its line, and its slot to the last one */
			s->got[s->n] = 0;
			s->got[strcspn(s->got, "\n")] = 0;
			fprintf(out, "%s %s\n", s->what, s->got);
			close(s->fd);
			sv[i] = sv[--ns];
		}
	}
}

static socklen_t sockaddr_of(const char *addr, int port, struct sockaddr_storage *out, int *family)
{
	memset(out, 0, sizeof(*out));
	if (strchr(addr, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		s6->sin6_family = *family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1 ? sizeof(*s6) : 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)out;
	s4->sin_family = *family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, addr, &s4->sin_addr) == 1 ? sizeof(*s4) : 0;
}

/* listenwait: the sandbox serving on an autobound port; the test connects from outside. */
static int listen_wait(int fd, int fam, int secs)
{
	struct sockaddr_storage me = { 0 };
	socklen_t ml = sizeof me;
	if (listen(fd, 1) < 0 || getsockname(fd, (struct sockaddr *)&me, &ml) < 0)
		return -errno;
	int lp = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port : ((struct sockaddr_in *)&me)->sin_port);
	printf("listening %d\n", lp);
	fflush(stdout);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, secs * 1000) <= 0) {
		printf("no connection\n");
		return 0;
	}
	int c = accept(fd, NULL, NULL);
	if (c < 0)
		return -errno;
	char got[64] = "";
	struct pollfd q = { .fd = c, .events = POLLIN };
	ssize_t n = poll(&q, 1, 2000) > 0 ? read(c, got, sizeof got - 1) : 0;
	got[n > 0 ? n : 0] = 0;
	got[strcspn(got, "\n")] = 0;
	printf("accepted %s\n", got);
	close(c);
	return 0;
}

static int try(int idx, const char *kind, const char *addr, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fam;
	if (!(len = sockaddr_of(addr, port, &ss, &fam)))
		return -EINVAL;
	char msg[32];
	int n = snprintf(msg, sizeof msg, "calyx-net-%d\n", idx);
	int stream = !strcmp(kind, "tcp") || !strcmp(kind, "tfo") || !strcmp(kind, "bind") || !strcmp(kind, "listen") ||
		     !strcmp(kind, "listenwait");
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
	} else if (!strcmp(kind, "listenwait")) {
		rc = listen_wait(fd, fam, port);
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
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argc - 3, argv + 3);
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
