/* race_open ALLOWED SECRET N: N opens for reading of a name that a second thread keeps
 * swapping between ALLOWED and SECRET while the kernel reads it (issue 8 class 10: a
 * record built from the caller's buffer after the call would name whichever string the
 * buffer held then, so a refused open of SECRET could be logged as an open of ALLOWED).
 * Prints one line: "ok opens=N allowed=A denied=D other=O secret_read=S", where
 * secret_read counts opens that returned SECRET's content (must be 0 in a sandbox that
 * is not granted it). The first line of each file tells them apart. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "common.h"

static char name[4096];
static const char *names[2];
static size_t lens[2];
static atomic_int stop;

static void *swapper(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
		/* Byte by byte, so the kernel may also catch a torn mix of the two. */
		const char *s = names[i & 1];
		for (size_t k = 0; k <= lens[i & 1]; k++)
			((volatile char *)name)[k] = s[k];
	}
	return NULL;
}

static int first_line(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: race_open ALLOWED SECRET N\n");
		return 2;
	}
	names[0] = argv[1];
	names[1] = argv[2];
	lens[0] = strlen(argv[1]);
	lens[1] = strlen(argv[2]);
	if (lens[0] >= sizeof(name) || lens[1] >= sizeof(name))
		return 2;
	char want_allowed[256];
	if (first_line(argv[1], want_allowed, sizeof(want_allowed)) < 0)
		return report_errno("open ALLOWED", errno);
	memcpy(name, argv[1], lens[0] + 1);
	long n = strtol(argv[3], NULL, 10);
	pthread_t t;
	if (pthread_create(&t, NULL, swapper, NULL) != 0)
		return report_errno("pthread_create", EAGAIN);
	long allowed = 0, denied = 0, other = 0, secret_read = 0;
	for (long i = 0; i < n; i++) {
		int fd = open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EACCES || errno == EPERM)
				denied++;
			else
				other++;
			continue;
		}
		char buf[256];
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[r > 0 ? r : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, want_allowed) == 0)
			allowed++;
		else
			secret_read++;
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	printf("ok opens=%ld allowed=%ld denied=%ld other=%ld secret_read=%ld\n", n, allowed, denied, other,
	       secret_read);
	return 0;
}
