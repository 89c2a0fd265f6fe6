/* fd_pass: a socket made outside, handed into the sandbox over a pathname AF_UNIX socket
 * (SCM_RIGHTS), then used inside (bpf/net.bpf.c judges the task that uses it).
 *   fd_pass serve SOCKPATH PORT N [connected]
 *                                   outside: bind a UDP "target" to 127.0.0.1:PORT, listen
 *                                   on SOCKPATH, hand a fresh unbound UDP socket (with
 *                                   "connected": one connected to the target) to each of
 *                                   N connections, then wait 2 s and print
 *                                   "target received K" (datagrams that reached it)
 *   fd_pass send SOCKPATH PORT      inside: receive the socket, sendto 127.0.0.1:PORT
 *   fd_pass csend SOCKPATH          inside: receive the socket, send (no address: it goes
 *                                   where the socket is connected)
 *   fd_pass recv SOCKPATH           inside: receive the socket, recvfrom (MSG_DONTWAIT)
 * The inside modes print "ok received" first, then the operation's "ok ..." or errno. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "common.h"

static int unix_addr(struct sockaddr_un *un, const char *path)
{
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(un->sun_path))
		return -1;
	strcpy(un->sun_path, path);
	return 0;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return in;
}

static int serve(const char *path, int port, int n, bool connected)
{
	struct sockaddr_in t = loopback(port);
	int target = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (target < 0 || bind(target, (struct sockaddr *)&t, sizeof(t)) < 0)
		return report_errno("bind target", errno);
	struct sockaddr_un un;
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (l < 0 || unix_addr(&un, path) || bind(l, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(l, 4) < 0)
		return report_errno("listen", errno);
	printf("ok listening\n");
	fflush(stdout);
	for (int i = 0; i < n; i++) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (c < 0 || u < 0)
			return report_errno("accept/socket", errno);
		if (connected && connect(u, (struct sockaddr *)&t, sizeof(t)) < 0)
			return report_errno("connect to the target", errno);
		char byte = 'x', cbuf[CMSG_SPACE(sizeof(int))];
		memset(cbuf, 0, sizeof(cbuf));
		struct iovec iov = { &byte, 1 };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &u, sizeof(int));
		if (sendmsg(c, &m, 0) < 0)
			return report_errno("sendmsg SCM_RIGHTS", errno);
		close(u);
		close(c);
	}
	sleep(2);
	int k = 0;
	char buf[64];
	while (recv(target, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		k++;
	printf("target received %d\n", k);
	return 0;
}

static int receive(const char *path)
{
	struct sockaddr_un un;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || unix_addr(&un, path) || connect(s, (struct sockaddr *)&un, sizeof(un)) < 0)
		return -report_errno("connect", errno);
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	if (recvmsg(s, &m, MSG_CMSG_CLOEXEC) < 1)
		return -report_errno("recvmsg", errno);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -report_errno("no descriptor received", EBADMSG);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	printf("ok received\n");
	return fd;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "serve"))
		return serve(argv[2], atoi(argv[3]), atoi(argv[4]), argc >= 6 && !strcmp(argv[5], "connected"));
	if (argc >= 4 && !strcmp(argv[1], "send")) {
		int fd = receive(argv[2]);
		if (fd < 0)
			return 1;
		struct sockaddr_in t = loopback(atoi(argv[3]));
		if (sendto(fd, "leak", 4, 0, (struct sockaddr *)&t, sizeof(t)) < 0)
			return report_errno("sendto", errno);
		printf("ok sendto\n");
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "csend")) {
		int fd = receive(argv[2]);
		if (fd < 0)
			return 1;
		if (send(fd, "leak", 4, 0) < 0)
			return report_errno("send", errno);
		printf("ok send\n");
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "recv")) {
		int fd = receive(argv[2]);
		if (fd < 0)
			return 1;
		char buf[8];
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
			return report_errno("recv", errno);
		printf("ok recv\n");
		return 0;
	}
	fprintf(stderr, "usage: fd_pass serve PATH PORT N [connected] | send PATH PORT | csend PATH | recv PATH\n");
	return 2;
}
