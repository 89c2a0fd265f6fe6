/* Paths longer than the in-kernel matcher handles (THREATS.md "Long paths").
 *   long_path mk PATH [DATA]      create PATH (any length) with its directories, write DATA
 *   long_path open PATH r|w       open PATH (any length) for read or write
 *   long_path gen BASE LEN [SUFFIX]  print BASE + "/" + directories of "d"s + SUFFIX file name
 *                                 such that the whole path is exactly LEN bytes
 * Paths beyond PATH_MAX are walked with O_PATH openat() per directory (an O_PATH open is
 * not a file_open), so only the final open is the one an enforcer decides on. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common.h"

/* Walk PATH's directories; returns the fd of the last directory and sets *leaf. */
static int walk(char *path, int create, char **leaf)
{
	int dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char *p = path + 1, *slash;
	while ((slash = strchr(p, '/'))) {
		*slash = 0;
		if (create && mkdirat(dfd, p, 0755) < 0 && errno != EEXIST)
			return report_errno("mkdirat", errno), -1;
		int n = openat(dfd, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (n < 0)
			return report_errno("openat dir", errno), -1;
		close(dfd);
		dfd = n;
		p = slash + 1;
	}
	*leaf = p;
	return dfd;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "gen") == 0) {
		size_t want = strtoul(argv[3], NULL, 10);
		const char *suffix = argc > 4 ? argv[4] : "f";
		char *out = malloc(want + 512);
		size_t n = (size_t)sprintf(out, "%s", argv[2]);
		/* directories of up to 200 'd's; the file name takes the exact remainder */
		while (n + 1 + strlen(suffix) < want) {
			size_t room = want - n - 1 - strlen(suffix);
			size_t seg = room > 201 ? 200 : (room > 1 ? room - 1 : 0);
			if (seg == 0)
				break;
			out[n++] = '/';
			memset(out + n, 'd', seg);
			n += seg;
		}
		n += (size_t)sprintf(out + n, "/%s", suffix);
		while (n < want) /* pad the file name when the last step left a byte over */
			out[n++] = 'x';
		out[n] = 0;
		printf("%s\n", out);
		return 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: long_path mk|open|gen ...\n");
		return 2;
	}
	char *leaf;
	int create = strcmp(argv[1], "mk") == 0;
	int dfd = walk(argv[2], create, &leaf);
	if (dfd < 0)
		return 1;
	if (create) {
		int fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return report_errno("create", errno);
		const char *d = argc > 3 ? argv[3] : "long-path-data";
		if (write(fd, d, strlen(d)) < 0)
			return report_errno("write", errno);
		close(fd);
		printf("ok created\n");
		return 0;
	}
	int w = argc > 3 && argv[3][0] == 'w';
	int fd = openat(dfd, leaf, (w ? O_WRONLY | O_TRUNC : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return report_errno(w ? "open w" : "open r", errno);
	if (w) {
		if (write(fd, "overwritten", 11) < 0)
			return report_errno("write", errno);
		printf("ok wrote\n");
	} else {
		char buf[256];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = 0;
		printf("ok read: %s\n", buf);
	}
	return 0;
}
