/* Names of the relaxable seccomp groups (seccomp_groups.h). */
#include "policy/seccomp_groups.h"

#include <string.h>

static const char *const names[SECCOMP_GROUP_COUNT] = {
	[SECCOMP_GROUP_IO_URING] = "io_uring",
	[SECCOMP_GROUP_KEYRING] = "keyring",
	[SECCOMP_GROUP_FANOTIFY] = "fanotify",
	[SECCOMP_GROUP_USERFAULTFD] = "userfaultfd",
	[SECCOMP_GROUP_PERSONALITY] = "personality",
	[SECCOMP_GROUP_INET_SOCKETS] = "inet_sockets",
};

const char *seccomp_group_name(enum seccomp_group g)
{
	return (unsigned)g < SECCOMP_GROUP_COUNT ? names[g] : "unknown";
}

int seccomp_group_from_name(const char *s)
{
	for (int g = 0; g < SECCOMP_GROUP_COUNT; g++)
		if (!strcmp(s, names[g]))
			return g;
	return -1;
}
