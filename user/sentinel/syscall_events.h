/* Calls the seccomp baseline refused (enforce/seccomp.h), as the runner's listener
 * receives them → events.jsonl objects, SVF types and denial classes. Pure module: no I/O
 * (names come from libseccomp's tables). Schema in docs/seccomp.md. */
#ifndef CALYX_SYSCALL_EVENTS_H
#define CALYX_SYSCALL_EVENTS_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "sentinel/events.h"

struct syscall_denial {
	uint32_t arch;          /* AUDIT_ARCH_* of the call (seccomp_data.arch) */
	int32_t nr;             /* its number in that ABI (x32: with the x32 bit) */
	uint64_t args[6];
	pid_t tid;              /* host pid namespace */
	pid_t tgid;             /* 0 when unknown */
	char comm[16];          /* "" when unknown; informational only */
	int64_t ts_real_ns;     /* when the runner received it (CLOCK_REALTIME) */
	int err;                /* the error returned (EPERM; audit-only: the one it would have been) */
	bool would_deny;        /* audit-only: the call went ahead (type "would_deny") */
};

/* "x86_64", "x32", "i386" or "unknown". */
const char *syscall_denial_abi(const struct syscall_denial *d);
/* The call's name in its ABI ("socket", "socketcall", "io_uring_setup", …); malloc'd,
 * NULL when out of memory. Unknown numbers are "syscall_N". */
char *syscall_denial_name(const struct syscall_denial *d);
/* DENY_NET for socket creation (socket, socketpair, i386 socketcall of either), else
 * DENY_SYSCALL. */
enum deny_class syscall_denial_class(const struct syscall_denial *d);
/* "net_event.denied" or "syscall_event.denied" (would_deny: "….would_deny"). */
const char *syscall_denial_svf_type(const struct syscall_denial *d);
/* The events.jsonl object (type "deny", or "would_deny"; hook "seccomp"). NULL when out of memory. */
cJSON *syscall_denial_to_json(const struct syscall_denial *d);

#endif
