/* Prints the running kernel's Landlock ABI version (0 when Landlock is absent or disabled),
 * asked of the kernel itself, so that tests expect what this kernel really offers instead of
 * one release's number. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#define CREATE_RULESET_VERSION (1U << 0)

int main(void)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, CREATE_RULESET_VERSION);

	if (abi < 0) {
		if (errno == ENOSYS || errno == EOPNOTSUPP) {
			printf("0\n");
			return 0;
		}
		fprintf(stderr, "landlock_create_ruleset: %s\n", strerror(errno));
		return 1;
	}
	printf("%ld\n", abi);
	return 0;
}
