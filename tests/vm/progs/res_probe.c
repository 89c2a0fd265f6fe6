/* res_probe: the sandboxed side of the resident-set tests (tests/lib/resident.sh,
 * tests/vm/t_resident*.sh, tests/host/resident.sh). The host and the sandbox talk through
 * files in a :rw lease directory: the sandbox writes "ready" (or "flooding"), the host acts
 * and writes "go" (or "stop"). No step depends on how long anything takes; every wait has
 * a bound, and running into it is reported, never taken as success.
 *
 *   res_probe touch FILE               create FILE (a sandbox's "I am here")
 *   res_probe wait FILE SECS           until FILE exists; "errno=ETIMEDOUT (wait FILE)" after SECS
 *   res_probe net-deny N               N attempts to create an AF_INET UDP socket (deny_all
 *                                      refuses each); "denied=D other=O"
 *   res_probe net-flood DIR MIN        writes DIR/flooding, then attempts like net-deny until
 *                                      at least MIN were made and DIR/stop exists (at most
 *                                      180 s); "attempts=A denied=D other=O"
 *   res_probe open-n PATH N            open(PATH, O_RDONLY) N times; "ok opened N" or
 *                                      "errno=NAME (open #I)"
 *   res_probe reopen DIR PATH...       opens the first PATH three times (its verdict is then
 *                                      cached), writes DIR/ready, waits (60 s) for DIR/go,
 *                                      then opens every PATH and prints one line each:
 *                                      "PATH: ok read: CONTENT" or "PATH: errno=NAME"
 *   res_probe deleted DIR PATH [opath] opens PATH and keeps the fd N (opened twice more by
 *                                      path, so its verdict is cached), writes DIR/ready,
 *                                      waits for DIR/go (the host deletes PATH meanwhile),
 *                                      then "links=L" (fstat of fd N) and one line for
 *                                      opening /proc/self/fd/N: "reopen: ok read: ..." or
 *                                      "reopen: errno=NAME". With "opath" the fd is an
 *                                      O_PATH one and PATH is never opened otherwise (no
 *                                      file_open, so nothing of it is cached)
 * Exit status 0 when the command ran to its end (whatever it reported), 1 on a failed
 * precondition (reported as errno=...), 2 on bad usage. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

static int touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return report_errno(path, errno);
	close(fd);
	return 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* 0 once path exists, -1 after secs. */
static int wait_for(const char *path, long secs)
{
	time_t end = time(NULL) + secs;
	while (access(path, F_OK) != 0) {
		if (time(NULL) > end)
			return -1;
		nap_ms(20);
	}
	return 0;
}

static int net_attempt(long *denied, long *other)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		close(fd);
		(*other)++;
	} else if (errno == EACCES || errno == EPERM) {
		(*denied)++;
	} else {
		(*other)++;
	}
	return 0;
}

/* "ok read: CONTENT" / "errno=NAME" for opening path, on one line after prefix. */
static void open_line(const char *prefix, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("%s: errno=%s\n", prefix, errname(errno));
		return;
	}
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		printf("%s: errno=%s (read)\n", prefix, errname(errno));
		return;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	printf("%s: ok read: %s\n", prefix, buf);
}

static int warm(const char *path, int times)
{
	for (int i = 0; i < times; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report_errno("warm-up open", errno);
		close(fd);
	}
	return 0;
}

static int sync_point(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/ready", dir);
	if (touch(p))
		return 1;
	snprintf(p, sizeof(p), "%s/go", dir);
	if (wait_for(p, 60) < 0)
		return report_errno("wait go", ETIMEDOUT);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *cmd = argc > 1 ? argv[1] : "";
	if (!strcmp(cmd, "touch") && argc == 3)
		return touch(argv[2]);
	if (!strcmp(cmd, "wait") && argc == 4) {
		if (wait_for(argv[2], atol(argv[3])) < 0) {
			printf("errno=ETIMEDOUT (wait %s)\n", argv[2]);
			return 1;
		}
		return 0;
	}
	if (!strcmp(cmd, "net-deny") && argc == 3) {
		long n = atol(argv[2]), denied = 0, other = 0;
		for (long i = 0; i < n; i++)
			net_attempt(&denied, &other);
		printf("denied=%ld other=%ld\n", denied, other);
		return 0;
	}
	if (!strcmp(cmd, "net-flood") && argc == 4) {
		char flooding[4096], stop[4096];
		snprintf(flooding, sizeof(flooding), "%s/flooding", argv[2]);
		snprintf(stop, sizeof(stop), "%s/stop", argv[2]);
		long min = atol(argv[3]), n = 0, denied = 0, other = 0;
		if (touch(flooding))
			return 1;
		time_t end = time(NULL) + 180;
		for (;;) {
			for (int i = 0; i < 1000; i++, n++)
				net_attempt(&denied, &other);
			if (n >= min && access(stop, F_OK) == 0)
				break;
			if (time(NULL) > end) {
				printf("errno=ETIMEDOUT (no %s) ", stop);
				break;
			}
		}
		printf("attempts=%ld denied=%ld other=%ld\n", n, denied, other);
		return 0;
	}
	if (!strcmp(cmd, "open-n") && argc == 4) {
		long n = atol(argv[3]);
		for (long i = 0; i < n; i++) {
			int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				printf("errno=%s (open #%ld)\n", errname(errno), i + 1);
				return 0;
			}
			close(fd);
		}
		printf("ok opened %ld\n", n);
		return 0;
	}
	if (!strcmp(cmd, "reopen") && argc >= 4) {
		if (warm(argv[3], 3) || sync_point(argv[2]))
			return 1;
		for (int i = 3; i < argc; i++)
			open_line(argv[i], argv[i]);
		return 0;
	}
	if (!strcmp(cmd, "deleted") && (argc == 4 || (argc == 5 && !strcmp(argv[4], "opath")))) {
		bool opath = argc == 5;
		int fd = open(argv[3], (opath ? O_PATH : O_RDONLY) | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open", errno);
		if ((!opath && warm(argv[3], 2)) || sync_point(argv[2]))
			return 1;
		struct stat st;
		if (fstat(fd, &st) < 0)
			return report_errno("fstat", errno);
		printf("links=%lu\n", (unsigned long)st.st_nlink);
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		open_line("reopen", p);
		return 0;
	}
	fprintf(stderr, "usage: res_probe touch FILE | wait FILE SECS | net-deny N | net-flood DIR MIN |\n"
			"       open-n PATH N | reopen DIR PATH... | deleted DIR PATH [opath]\n");
	return 2;
}
