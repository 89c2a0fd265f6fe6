/* counters_tree PAGES BYTES FILE CPU_MS: a small process tree whose counters are known,
 * for the comparison of calyx's process lines (events.jsonl) with the kernel's own
 * accounting of the same processes (tests/lib/counters.sh: tests/host/counters.sh,
 * tests/vm/t_counters.sh).
 *
 *   measured child (exit 7): touches PAGES fresh anonymous pages (no huge pages: a fault
 *     each), write(2)s BYTES bytes
 *     to FILE (created empty) in 4 KiB writes, fsyncs it, burns CPU_MS of CPU time and
 *     _exit(7)s. It makes no other read- or write-like call (no stdio): its rchar is 0
 *     and its wchar BYTES exactly. Its write_bytes is what the kernel accounted for the
 *     pages it dirtied (on a disk file system the file's BYTES and at times a metadata
 *     block; on tmpfs 0: no writeback), which wait4's ru_oublock reports in 512-byte units.
 *   the parent wait4()s it and prints the rusage the kernel returns for it;
 *   a second child (exit 0) forks a grandchild (exit 3) and waits for it.
 * Output (stdout, one line each):
 *   rusage utime_us=U stime_us=S maxrss_kb=M minflt=F majflt=J nvcsw=V nivcsw=I inblock=B oublock=O
 *   tree exit=7,0 ok
 * Exit 0 when every step worked, 1 otherwise (said on stderr), 2 on bad usage. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void touch_pages(long pages)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)(pages * ps), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(20);
	/* one fault per page: a transparent huge page would take 512 in one */
	madvise(m, (size_t)(pages * ps), MADV_NOHUGEPAGE);
	for (long i = 0; i < pages; i++)
		m[i * ps] = 1;
}

static void burn(long ms)
{
	struct timespec t;
	volatile unsigned long x = 0;
	for (;;) {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) < 0)
			_exit(21);
		if (t.tv_sec * 1000 + t.tv_nsec / 1000000 >= ms)
			return;
	}
}

static void measured(long pages, long bytes, const char *file, long ms)
{
	touch_pages(pages);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(22);
	static char buf[4096];
	memset(buf, 'c', sizeof(buf));
	for (long done = 0; done < bytes;) {
		size_t n = (size_t)(bytes - done) < sizeof(buf) ? (size_t)(bytes - done) : sizeof(buf);
		ssize_t w = write(fd, buf, n);
		if (w <= 0)
			_exit(23);
		done += w;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		_exit(24);
	burn(ms);
	_exit(7);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: counters_tree PAGES BYTES FILE CPU_MS\n");
		return 2;
	}
	long pages = atol(argv[1]), bytes = atol(argv[2]), ms = atol(argv[4]);
	fflush(NULL);
	pid_t a = fork();
	if (a < 0)
		return perror("fork"), 1;
	if (a == 0)
		measured(pages, bytes, argv[3], ms);
	struct rusage ru;
	int st;
	if (wait4(a, &st, 0, &ru) != a)
		return perror("wait4"), 1;
	printf("rusage utime_us=%lld stime_us=%lld maxrss_kb=%ld minflt=%ld majflt=%ld nvcsw=%ld nivcsw=%ld inblock=%ld oublock=%ld\n",
	       (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
	       (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
	       ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw, ru.ru_inblock, ru.ru_oublock);
	fflush(stdout);
	pid_t b = fork();
	if (b < 0)
		return perror("fork"), 1;
	if (b == 0) {
		pid_t c = fork();
		if (c < 0)
			_exit(30);
		if (c == 0) {
			touch_pages(16);
			_exit(3);
		}
		int cs;
		_exit(waitpid(c, &cs, 0) == c && WIFEXITED(cs) && WEXITSTATUS(cs) == 3 ? 0 : 31);
	}
	int bs;
	if (waitpid(b, &bs, 0) != b)
		return perror("waitpid"), 1;
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 7 && WIFEXITED(bs) && WEXITSTATUS(bs) == 0;
	printf("tree exit=%d,%d %s\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1, WIFEXITED(bs) ? WEXITSTATUS(bs) : -1,
	       ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}
