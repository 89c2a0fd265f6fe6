/* try_fsop OP ARGS: filesystem changes that never call open(), so a file_open-only
 * enforcer misses them (THREATS.md "Files"). Prints "ok OP" or errno=NAME.
 *   unlink PATH | rmdir PATH | mkdir PATH | truncate PATH | chmod PATH | create PATH
 *   rename FROM TO | link FROM TO | symlink TARGET LINK | mknod PATH */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "common.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: try_fsop OP PATH [PATH2]\n");
		return 2;
	}
	const char *op = argv[1], *a = argv[2], *b = argc > 3 ? argv[3] : NULL;
	int r;
	if (!strcmp(op, "unlink"))
		r = unlink(a);
	else if (!strcmp(op, "rmdir"))
		r = rmdir(a);
	else if (!strcmp(op, "mkdir"))
		r = mkdir(a, 0755);
	else if (!strcmp(op, "truncate"))
		r = truncate(a, 0);
	else if (!strcmp(op, "chmod"))
		r = chmod(a, 0777);
	else if (!strcmp(op, "mknod"))
		r = mknod(a, S_IFIFO | 0644, 0);
	else if (!strcmp(op, "create")) {
		/* O_CREAT: the inode is created before file_open is asked */
		r = open(a, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (r >= 0)
			close(r);
	} else if (b && !strcmp(op, "rename"))
		r = rename(a, b);
	else if (b && !strcmp(op, "link"))
		r = link(a, b);
	else if (b && !strcmp(op, "symlink"))
		r = symlink(a, b);
	else {
		fprintf(stderr, "try_fsop: unknown op %s\n", op);
		return 2;
	}
	if (r < 0)
		return report_errno(op, errno);
	printf("ok %s\n", op);
	return 0;
}
