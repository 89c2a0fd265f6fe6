/* open_flood PATH N: try to open PATH read-only N times as fast as possible and report how
 * each attempt ended. Used to flood the ring buffer with denials: every attempt must still
 * be refused, and the records delivered plus the records dropped must add up to N. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: open_flood PATH N\n");
		return 2;
	}
	long n = strtol(argv[2], NULL, 10);
	long denied = 0, opened = 0, other = 0;
	for (long i = 0; i < n; i++) {
		int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			opened++;
			close(fd);
		} else if (errno == EACCES || errno == EPERM) {
			denied++;
		} else {
			other++;
		}
	}
	printf("denied=%ld opened=%ld other=%ld\n", denied, opened, other);
	return opened ? 1 : 0;
}
