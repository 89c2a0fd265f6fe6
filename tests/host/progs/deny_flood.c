/* deny_flood open PATH N | socket N: try N times, as fast as possible, to open PATH
 * read-only or to create an AF_INET socket, and report how each attempt ended. Used to
 * flood the ring buffer with denials: every attempt must still be refused, and the records
 * delivered plus the records dropped must add up to N. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	bool sock = argc == 3 && !strcmp(argv[1], "socket");
	if (!sock && !(argc == 4 && !strcmp(argv[1], "open"))) {
		fprintf(stderr, "usage: deny_flood open PATH N | socket N\n");
		return 2;
	}
	long n = strtol(argv[argc - 1], NULL, 10);
	long denied = 0, allowed = 0, other = 0;
	for (long i = 0; i < n; i++) {
		int fd = sock ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			allowed++;
			close(fd);
		} else if (errno == EACCES || errno == EPERM) {
			denied++;
		} else {
			other++;
		}
	}
	printf("denied=%ld allowed=%ld other=%ld\n", denied, allowed, other);
	return allowed ? 1 : 0;
}
