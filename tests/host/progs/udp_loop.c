/* A UDP probe for the "SIGKILLed runner" tests (tests/host/run.sh; the VM check in the
 * report of that change uses it too). Static-friendly, no Python needed in the guest.
 *   udp_loop send LOG PORT [once]  try, again and again (every ~200 us), to create an
 *       AF_INET UDP socket and sendto 127.0.0.1:PORT; append one line per attempt to LOG:
 *       "<CLOCK_REALTIME ns> <sent | socket:ERRNO | sendto:ERRNO>". With "once": a single
 *       attempt, also printed on stdout; exit 0 when sent, 1 otherwise.
 *   udp_loop listen PORTFILE COUNTFILE STOPFILE  bind 127.0.0.1:0, write the port to
 *       PORTFILE, keep the number of datagrams received in COUNTFILE until STOPFILE
 *       exists (or 120 s passed).
 *   udp_loop now  print CLOCK_REALTIME in ns (busybox date has no %N). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

/* Whole-file replace, so a reader never sees a half-written number. */
static int put_file(const char *path, const char *text)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	if (n != (ssize_t)strlen(text))
		return -1;
	return rename(tmp, path);
}

static int do_listen(const char *portfile, const char *countfile, const char *stopfile)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0) {
		perror("udp_loop listen");
		return 2;
	}
	char buf[64];
	unsigned long count = 0;
	put_file(countfile, "0\n");
	snprintf(buf, sizeof(buf), "%u\n", ntohs(a.sin_port));
	if (put_file(portfile, buf) < 0) {
		perror(portfile);
		return 2;
	}
	long long end = now_ns() + 120LL * 1000000000LL;
	while (now_ns() < end && access(stopfile, F_OK) != 0) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 100) > 0 && recv(s, buf, sizeof(buf), 0) >= 0) {
			count++;
			snprintf(buf, sizeof(buf), "%lu\n", count);
			put_file(countfile, buf);
		}
	}
	return 0;
}

static int do_send(const char *logpath, const char *port, bool once)
{
	int log = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (log < 0) {
		fprintf(stderr, "udp_loop: %s: %s\n", logpath, strerror(errno));
		return 2;
	}
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (;;) {
		char res[64];
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(res, sizeof(res), "socket:%s", ename(errno));
		} else {
			if (sendto(fd, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) == 1)
				snprintf(res, sizeof(res), "sent");
			else
				snprintf(res, sizeof(res), "sendto:%s", ename(errno));
			close(fd);
		}
		char line[128];
		int n = snprintf(line, sizeof(line), "%lld %s\n", now_ns(), res);
		if (write(log, line, (size_t)n) != n)
			return 2;
		if (once) {
			puts(res);
			return strcmp(res, "sent") == 0 ? 0 : 1;
		}
		struct timespec nap = { 0, 200000 };
		nanosleep(&nap, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%lld\n", now_ns());
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "listen"))
		return do_listen(argv[2], argv[3], argv[4]);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "send"))
		return do_send(argv[2], argv[3], argc == 5 && !strcmp(argv[4], "once"));
	fprintf(stderr, "usage: udp_loop send LOG PORT [once] | listen PORTFILE COUNTFILE STOPFILE | now\n");
	return 2;
}
