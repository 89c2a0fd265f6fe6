/* The named groups of the seccomp baseline that a capability matrix may relax
 * (`seccomp: {allow: [...]}`, docs/matrix.md; what each re-opens: docs/seccomp.md). */
#ifndef CALYX_SECCOMP_GROUPS_H
#define CALYX_SECCOMP_GROUPS_H

enum seccomp_group {
	SECCOMP_GROUP_IO_URING = 0,     /* io_uring_setup, io_uring_enter, io_uring_register */
	SECCOMP_GROUP_KEYRING,          /* add_key, request_key, keyctl */
	SECCOMP_GROUP_FANOTIFY,         /* fanotify_init */
	SECCOMP_GROUP_USERFAULTFD,      /* userfaultfd, ioctl(USERFAULTFD_IOC_NEW) */
	SECCOMP_GROUP_PERSONALITY,      /* personality() other than PER_LINUX, PER_LINUX32, query */
	SECCOMP_GROUP_INET_SOCKETS,     /* socket/socketpair of AF_INET and AF_INET6 */
	SECCOMP_GROUP_COUNT
};

/* Bit of a group in a mask of relaxed groups. */
#define SECCOMP_GROUP_BIT(g) (1U << (unsigned)(g))

const char *seccomp_group_name(enum seccomp_group g);   /* "io_uring", …, "inet_sockets" */
int seccomp_group_from_name(const char *s);              /* the group, or -1 */

#endif
