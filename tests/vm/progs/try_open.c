/* try_open PATH r|w|a [DATA]: open for reading (prints "read: CONTENT"), writing
 * (O_CREAT|O_TRUNC, writes DATA, default "calyx-test") or appending. Prints "ok ..." and
 * exits 0, or errno=NAME and exits 1. */
#include <fcntl.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: try_open PATH r|w|a [DATA]\n");
		return 2;
	}
	const char *path = argv[1], *mode = argv[2];
	const char *data = argc > 3 ? argv[3] : "calyx-test";
	if (mode[0] == 'r') {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open r", errno);
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		if (n < 0)
			return report_errno("read", errno);
		buf[n] = 0;
		printf("ok read: %s\n", buf);
		close(fd);
		return 0;
	}
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (mode[0] == 'a' ? O_APPEND : O_TRUNC);
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return report_errno("open w", errno);
	size_t len = strlen(data);
	if (write(fd, data, len) != (ssize_t)len)
		return report_errno("write", errno);
	if (close(fd) < 0)
		return report_errno("close", errno);
	printf("ok wrote %zu\n", len);
	return 0;
}
