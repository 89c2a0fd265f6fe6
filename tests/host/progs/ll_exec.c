/* links: landlock pathpat
 * ll_exec [--ro PAT]... [--rw PAT]... [--exec BIN]... -- CMD [ARG...]
 * ll_exec --abi        prints the kernel's Landlock ABI (or -errno)
 * Applies a calyx Landlock ruleset (user/enforce/landlock.c, network deny_all) to itself and execs
 * CMD: the module tested alone on the real kernel, without the runner or any BPF. CMD must
 * be one of the --exec binaries. Prints the plan on stderr; exits 125 if setup fails. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "enforce/landlock.h"
#include "policy/pathpat.h"

#define MAXR 64

int main(int argc, char **argv)
{
	static struct path_rule paths[MAXR];
	static struct exec_rule exec[MAXR];
	size_t np = 0, ne = 0;
	char err[512];
	int i = 1;
	if (argc == 2 && !strcmp(argv[1], "--abi")) {
		printf("%d\n", landlock_abi());
		return 0;
	}
	for (; i < argc && strcmp(argv[i], "--"); i += 2) {
		if (i + 1 >= argc || np >= MAXR || ne >= MAXR)
			goto usage;
		if (!strcmp(argv[i], "--ro") || !strcmp(argv[i], "--rw")) {
			if (pathpat_parse(argv[i + 1], NULL, NULL, &paths[np].pat, err, sizeof(err))) {
				fprintf(stderr, "ll_exec: %s: %s\n", argv[i + 1], err);
				return 125;
			}
			paths[np++].access = argv[i][3] == 'w' ? ACCESS_RW : ACCESS_RO;
		} else if (!strcmp(argv[i], "--exec")) {
			struct stat st;
			if (!realpath(argv[i + 1], exec[ne].path) || stat(exec[ne].path, &st) < 0) {
				fprintf(stderr, "ll_exec: %s: %s\n", argv[i + 1], strerror(errno));
				return 125;
			}
			exec[ne].dev = st.st_dev;
			exec[ne].ino = st.st_ino;
			ne++;
		} else {
			goto usage;
		}
	}
	if (i >= argc - 1)
		goto usage;
	struct landlock_plan *p;
	int rc = landlock_prepare(paths, np, exec, ne, NET_DENY_ALL, &p, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "ll_exec: prepare: %s\n", err);
		return 125;
	}
	char d[512];
	landlock_plan_describe(p, d, sizeof(d));
	fprintf(stderr, "ll_exec: %s\n", d);
	rc = landlock_apply(p);
	if (rc) {
		fprintf(stderr, "ll_exec: apply: %s\n", strerror(-rc));
		landlock_plan_free(p);
		return 125;
	}
	execv(argv[i + 1], argv + i + 1);
	printf("errno=%s (ll_exec execv)\n", strerrorname_np(errno));
	/* Confined now: like calyx's own sandbox child (user/sandbox/spawn.c), end with
	 * _exit(), no exit handlers. Built against make test-asan's objects, an exit() here
	 * would run LeakSanitizer, which needs /proc/<pid>/task that the ruleset may not
	 * grant ("LeakSanitizer has encountered a fatal error": SIGABRT under the tier's
	 * abort_on_error, exit 1 without it, whatever the probe did). */
	fflush(stdout);
	_exit(1);
usage:
	fprintf(stderr, "usage: ll_exec [--ro PAT]... [--rw PAT]... [--exec BIN]... -- CMD [ARG...]\n");
	return 125;
}
