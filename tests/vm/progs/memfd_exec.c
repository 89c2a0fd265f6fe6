/* Fileless exec attempts. memfd_exec MODE SRC [NAME]
 *   memfd    copy SRC into memfd_create(NAME) and execveat(fd, "", AT_EMPTY_PATH)
 *   procfd   same memfd, exec'd as /proc/self/fd/N
 *   deleted  copy SRC to /tmp/calyx-test/deleted-XXXXXX, open it, unlink it, exec
 *            /proc/self/fd/N
 * NAME (default "python3") is the memfd's name: a name like an allowed binary must not
 * matter. Prints "errno=NAME" if the exec fails; if it succeeds the payload's output shows
 * (SRC should be the hello program, which prints HELLO-RAN). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"

static int copy_into(int dst, const char *src)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(dst, buf, n) != n)
			return -1;
	close(in);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: memfd_exec memfd|procfd|deleted SRC [NAME]\n");
		return 2;
	}
	const char *mode = argv[1], *src = argv[2];
	const char *name = argc > 3 ? argv[3] : "python3";
	char *args[] = { (char *)name, "from-fileless-exec", NULL };
	extern char **environ;
	int fd;

	if (strcmp(mode, "deleted") == 0) {
		char tmpl[] = "/tmp/calyx-test/deleted-XXXXXX";
		/* no O_CLOEXEC: the fd must survive into the exec of /proc/self/fd/N */
		fd = mkostemp(tmpl, 0);
		if (fd < 0)
			return report_errno("mkostemp", errno);
		if (copy_into(fd, src) < 0)
			return report_errno("copy", errno);
		fchmod(fd, 0755);
		close(fd);
		fd = open(tmpl, O_RDONLY);
		if (fd < 0)
			return report_errno("reopen", errno);
		if (unlink(tmpl) < 0)
			return report_errno("unlink", errno);
	} else {
		fd = memfd_create(name, 0);
		if (fd < 0)
			return report_errno("memfd_create", errno);
		if (copy_into(fd, src) < 0)
			return report_errno("copy", errno);
	}
	fflush(stdout);
	if (strcmp(mode, "memfd") == 0) {
		syscall(SYS_execveat, fd, "", args, environ, AT_EMPTY_PATH);
		return report_errno("execveat", errno);
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	execve(p, args, environ);
	return report_errno("execve procfd", errno);
}
