/* The seccomp baseline of every sandboxed command (docs/seccomp.md): built with libseccomp
 * by the runner before the start, installed by the child (sandbox/spawn.c) after
 * no_new_privs and before exec. The refused calls go to a user-notification listener the
 * runner answers (run/seccomp.c); clone3 fails ENOSYS without a record. */
#ifndef CALYX_SECCOMP_H
#define CALYX_SECCOMP_H
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#include "policy/lease.h"

#define SECCOMP_MAX_REFUSED 16
#define SECCOMP_MAX_FAMILIES 4

/* The filter as the kernel takes it, and what it refuses (for meta.json). */
struct seccomp_baseline {
	struct sock_fprog prog;          /* prog.filter malloc'd */
	unsigned relaxed;                /* SECCOMP_GROUP_BIT()s the matrix relaxed */
	const char *refused[SECCOMP_MAX_REFUSED];   /* calls refused (static strings) */
	size_t n_refused;
	int families[SECCOMP_MAX_FAMILIES];         /* socket families still allowed */
	size_t n_families;
};

/* Build the baseline for a network policy with the groups in `relax` relaxed, for the
 * x86-64, x32 and i386 system call ABIs (any other architecture: the process is killed).
 * Fails (-EOPNOTSUPP) when the kernel or libseccomp lacks user notification. 0 or -errno
 * with err set. */
int seccomp_baseline_build(enum net_policy net, unsigned relax, struct seccomp_baseline *b,
			   char *err, size_t errlen);
void seccomp_baseline_free(struct seccomp_baseline *b);

/* Install it on the calling thread (no_new_privs must be set): the listener fd, or
 * -errno. Async-signal-safe: one seccomp(2) call, no allocation. */
int seccomp_baseline_install(const struct seccomp_baseline *b);

/* One argument comparison of a rule (libseccomp's LE, GE and MASKED_EQ). */
enum seccomp_cmp_op { SECCOMP_CMP_LE, SECCOMP_CMP_GE, SECCOMP_CMP_MASKED };
struct seccomp_cmp {
	enum seccomp_cmp_op op;
	uint64_t mask;       /* SECCOMP_CMP_MASKED only */
	uint64_t datum;
};

/* The comparisons, one per rule, whose union is every value up to `max` (UINT32_MAX for
 * the 32-bit ABIs, UINT64_MAX for x86-64) except the n sorted, distinct `allowed` ones:
 * libseccomp compares an argument once per rule, so "not one of these" is a union of
 * ranges and aligned blocks. Pure. The count, or -ENOSPC when more than cap. */
int seccomp_complement(const uint64_t *allowed, size_t n, uint64_t max, struct seccomp_cmp *out,
		       size_t cap);
/* Does v match one of the comparisons? Pure (the unit tests check seccomp_complement). */
int seccomp_cmp_any(const struct seccomp_cmp *c, size_t n, uint64_t v);

#endif
