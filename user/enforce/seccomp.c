/* The seccomp baseline (see seccomp.h; what and why: docs/seccomp.md). */
#include "enforce/seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "policy/seccomp_groups.h"

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW 0xaa00   /* _IO(0xAA, 0x00), <linux/userfaultfd.h> from 6.1 */
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* Calls refused whatever their arguments, by group. */
static const struct {
	enum seccomp_group group;
	const char *name;
} whole_calls[] = {
	/* io_uring's operations bypass the per-syscall LSM and audit view: Landlock refuses
	 * them but never records them, the sentinel cannot account them. */
	{ SECCOMP_GROUP_IO_URING, "io_uring_setup" },
	{ SECCOMP_GROUP_IO_URING, "io_uring_enter" },
	{ SECCOMP_GROUP_IO_URING, "io_uring_register" },
	/* The keyrings a task can reach (session, user, user-session) outlive the run and
	 * are shared with the operator or with the next run of the same uid. */
	{ SECCOMP_GROUP_KEYRING, "add_key" },
	{ SECCOMP_GROUP_KEYRING, "request_key" },
	{ SECCOMP_GROUP_KEYRING, "keyctl" },
	/* fanotify watches report activity on host files the sandbox cannot open. */
	{ SECCOMP_GROUP_FANOTIFY, "fanotify_init" },
	/* userfaultfd stalls kernel copies from user memory at will: the classic way to win
	 * a kernel race. */
	{ SECCOMP_GROUP_USERFAULTFD, "userfaultfd" },
};

/* personality() values that stay allowed: plain Linux, the 32-bit uname of `linux32`,
 * and the query. Everything else (READ_IMPLIES_EXEC: every readable mapping executable;
 * ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT, ADDR_LIMIT_*: the layout exploits want;
 * MMAP_PAGE_ZERO: page 0 mapped; UNAME26, ...) is refused. Sorted. */
static const uint64_t personality_allowed[] = { PER_LINUX, PER_LINUX32, 0xffffffffULL };

#define MAX_CMPS 80   /* the personality complement needs 62 on x86-64 */

int seccomp_cmp_any(const struct seccomp_cmp *c, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++) {
		if ((c[i].op == SECCOMP_CMP_LE && v <= c[i].datum) ||
		    (c[i].op == SECCOMP_CMP_GE && v >= c[i].datum) ||
		    (c[i].op == SECCOMP_CMP_MASKED && (v & c[i].mask) == c[i].datum))
			return 1;
	}
	return 0;
}

/* [lo, hi] (hi < UINT64_MAX) as aligned power-of-two blocks, each one masked compare. */
static int add_blocks(uint64_t lo, uint64_t hi, struct seccomp_cmp *out, size_t cap, size_t *n)
{
	while (lo <= hi) {
		unsigned k = 0;
		while (k < 63 && !(lo & (1ULL << k)) && lo + (1ULL << (k + 1)) - 1 <= hi)
			k++;
		if (*n >= cap)
			return -ENOSPC;
		out[(*n)++] = (struct seccomp_cmp){ SECCOMP_CMP_MASKED, ~((1ULL << k) - 1), lo };
		lo += 1ULL << k;
		if (lo == 0)
			break;   /* wrapped: hi was the top of the range */
	}
	return 0;
}

int seccomp_complement(const uint64_t *allowed, size_t n, uint64_t max, struct seccomp_cmp *out,
		       size_t cap)
{
	size_t k = 0;
	if (n == 0) {
		if (cap < 1)
			return -ENOSPC;
		out[0] = (struct seccomp_cmp){ SECCOMP_CMP_GE, 0, 0 };
		return 1;
	}
	if (allowed[0] > 0) {
		if (k >= cap)
			return -ENOSPC;
		out[k++] = (struct seccomp_cmp){ SECCOMP_CMP_LE, 0, allowed[0] - 1 };
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (allowed[i + 1] <= allowed[i])
			return -EINVAL;   /* not sorted and distinct */
		if (allowed[i + 1] - allowed[i] > 1 && add_blocks(allowed[i] + 1, allowed[i + 1] - 1, out, cap, &k) < 0)
			return -ENOSPC;
	}
	if (allowed[n - 1] < max) {
		if (max == UINT64_MAX || max == UINT32_MAX) {
			/* to the top of the argument's width: one GE */
			if (k >= cap)
				return -ENOSPC;
			out[k++] = (struct seccomp_cmp){ SECCOMP_CMP_GE, 0, allowed[n - 1] + 1 };
		} else if (add_blocks(allowed[n - 1] + 1, max, out, cap, &k) < 0) {
			return -ENOSPC;
		}
	}
	return (int)k;
}

static struct scmp_arg_cmp to_scmp(unsigned arg, const struct seccomp_cmp *c)
{
	switch (c->op) {
	case SECCOMP_CMP_LE: return SCMP_CMP64(arg, SCMP_CMP_LE, c->datum);
	case SECCOMP_CMP_GE: return SCMP_CMP64(arg, SCMP_CMP_GE, c->datum);
	default: return SCMP_CMP64(arg, SCMP_CMP_MASKED_EQ, c->mask, c->datum);
	}
}

/* Refuse (notify) `name` unless argument `arg` is one of allowed[]. */
static int refuse_unless(scmp_filter_ctx ctx, const char *name, unsigned arg, const uint64_t *allowed,
			 size_t n, uint64_t max)
{
	struct seccomp_cmp c[MAX_CMPS];
	int nc = seccomp_complement(allowed, n, max, c, MAX_CMPS);
	if (nc < 0)
		return nc;
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return -ENOSYS;
	for (int i = 0; i < nc; i++) {
		struct scmp_arg_cmp a = to_scmp(arg, &c[i]);
		/* seccomp_rule_add, not _exact: on i386 it also covers socketcall(SYS_SOCKET…),
		 * whose arguments are in memory: refused whatever the family. */
		int r = seccomp_rule_add_array(ctx, SCMP_ACT_NOTIFY, nr, 1, &a);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/* The rules of one argument width (the 32-bit ABIs compare 32-bit arguments: a 64-bit
 * datum there would be cut to its low half and mean another range). */
static int add_rules(scmp_filter_ctx ctx, uint64_t max, const uint64_t *families, size_t n_families,
		     unsigned relax)
{
	int r;
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
		return r;
	for (size_t i = 0; i < sizeof(whole_calls) / sizeof(whole_calls[0]); i++) {
		if (relax & SECCOMP_GROUP_BIT(whole_calls[i].group))
			continue;
		int nr = seccomp_syscall_resolve_name(whole_calls[i].name);
		if (nr == __NR_SCMP_ERROR)
			return -ENOSYS;
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, nr, 0)) < 0)
			return r;
	}
	if (!(relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_USERFAULTFD))) {
		/* /dev/userfaultfd hands out the same descriptor without the syscall. The
		 * command is an unsigned int: only the low 32 bits count. */
		r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(ioctl), 1,
				     SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffULL, USERFAULTFD_IOC_NEW));
		if (r < 0)
			return r;
	}
	if (!(relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_PERSONALITY)) &&
	    (r = refuse_unless(ctx, "personality", 0, personality_allowed,
			       sizeof(personality_allowed) / sizeof(personality_allowed[0]), max)) < 0)
		return r;
	if ((r = refuse_unless(ctx, "socket", 0, families, n_families, max)) < 0 ||
	    (r = refuse_unless(ctx, "socketpair", 0, families, n_families, max)) < 0)
		return r;
	return 0;
}

/* Attributes both halves share (seccomp_merge wants them equal). */
static int set_attrs(scmp_filter_ctx ctx)
{
	int r;
	/* A system call of any other architecture: the process dies. */
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0 ||
	    /* a binary tree over the syscall numbers: fewer instructions run per call */
	    (r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		return r;
	return 0;
}

/* The exported BPF program, read back from a memfd. */
static int export_prog(scmp_filter_ctx ctx, struct sock_fprog *prog)
{
	int fd = memfd_create("calyx-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	struct stat st;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	if (r == 0 && (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) ||
		       st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS))
		r = -E2BIG;
	if (r == 0) {
		prog->filter = malloc((size_t)st.st_size);
		if (!prog->filter)
			r = -ENOMEM;
		else if (pread(fd, prog->filter, (size_t)st.st_size, 0) != (ssize_t)st.st_size)
			r = -EIO;
		else
			prog->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	}
	close(fd);
	return r;
}

static scmp_filter_ctx new_ctx(const uint32_t *arches, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return NULL;
	bool native = false;
	for (size_t i = 0; i < n; i++) {
		if (arches[i] == seccomp_arch_native())
			native = true;
		else if (seccomp_arch_add(ctx, arches[i]) < 0)
			goto fail;
	}
	if (!native && seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) < 0)
		goto fail;
	if (set_attrs(ctx) < 0)
		goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

int seccomp_baseline_build(enum net_policy net, unsigned relax, struct seccomp_baseline *b,
			   char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->relaxed = relax;
	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		return errmsg(err, errlen, -EOPNOTSUPP, "seccomp: calyx builds its filter for x86-64 only");
	/* Level 5: the kernel and the library do user notification. */
	if (seccomp_api_get() < 5)
		return errmsg(err, errlen, -EOPNOTSUPP,
			      "seccomp: this kernel or libseccomp lacks user notification (API level %u, need 5)",
			      seccomp_api_get());
	/* The socket families the network policy needs: deny_all is local only. AF_VSOCK
	 * never: no cgroup or LSM network rule sees it. */
	uint64_t fam[3];
	size_t nf = 0;
	bool inet = relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_INET_SOCKETS);
	switch (net) {
	case NET_DENY_ALL:
		fam[nf++] = AF_UNIX;
		break;
	case NET_ALLOW:
		/* allow rules: the inet_sockets group is open (the network programs decide
		 * where such a socket may connect and send); netlink and the rest stay shut */
		fam[nf++] = AF_UNIX;
		inet = true;
		break;
	default:
		return errmsg(err, errlen, -EINVAL, "seccomp: unknown network policy %d", (int)net);
	}
	if (inet) {
		fam[nf++] = AF_INET;
		fam[nf++] = AF_INET6;
	}
	for (size_t i = 0; i < nf; i++)
		b->families[b->n_families++] = (int)fam[i];
	for (size_t i = 0; i < sizeof(whole_calls) / sizeof(whole_calls[0]); i++)
		if (!(relax & SECCOMP_GROUP_BIT(whole_calls[i].group)))
			b->refused[b->n_refused++] = whole_calls[i].name;
	if (!(relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_USERFAULTFD)))
		b->refused[b->n_refused++] = "ioctl(USERFAULTFD_IOC_NEW)";
	if (!(relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_PERSONALITY)))
		b->refused[b->n_refused++] = "personality(other than PER_LINUX, PER_LINUX32, 0xffffffff)";
	b->refused[b->n_refused++] = "socket(other families)";
	b->refused[b->n_refused++] = "socketpair(other families)";

	static const uint32_t wide[] = { SCMP_ARCH_X86_64 };
	static const uint32_t narrow[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };
	scmp_filter_ctx c64 = new_ctx(wide, 1), c32 = new_ctx(narrow, 2);
	int r = (!c64 || !c32) ? -ENOMEM : 0;
	if (r == 0)
		r = add_rules(c64, UINT64_MAX, fam, nf, relax);
	if (r == 0)
		r = add_rules(c32, UINT32_MAX, fam, nf, relax);
	if (r == 0) {
		r = seccomp_merge(c64, c32);
		if (r == 0)
			c32 = NULL;   /* merged into c64 */
	}
	if (r == 0)
		r = export_prog(c64, &b->prog);
	if (c32)
		seccomp_release(c32);
	if (c64)
		seccomp_release(c64);
	if (r < 0) {
		seccomp_baseline_free(b);
		return errmsg(err, errlen, r, "seccomp: building the filter with libseccomp: %s", strerror(-r));
	}
	return 0;
}

void seccomp_baseline_free(struct seccomp_baseline *b)
{
	free(b->prog.filter);
	b->prog.filter = NULL;
	b->prog.len = 0;
}

int seccomp_baseline_install(const struct seccomp_baseline *b)
{
	/* The exported program, loaded by hand: seccomp_load() would generate it again and
	 * allocate, which a child between clone and exec must not. */
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &b->prog);
	return fd < 0 ? -errno : (int)fd;
}
