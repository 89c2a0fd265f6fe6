/* links: enforce/seccomp policy/seccomp_groups base/errmsg sentinel/syscall_events sentinel/events sentinel/jsonfmt */
/* The seccomp baseline: the complement of allowed argument values, the filter libseccomp
 * builds (loaded for real in a child: without a listener the kernel fails the refused
 * calls with ENOSYS, the others run), and the records of refused calls. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "enforce/seccomp.h"
#include "policy/seccomp_groups.h"
#include "sentinel/syscall_events.h"

static int in_set(const uint64_t *a, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == v)
			return 1;
	return 0;
}

/* Every value near an allowed one, near a power of two and a few others: refused exactly
 * when not allowed. */
static void check_complement(const uint64_t *allowed, size_t n, uint64_t max)
{
	struct seccomp_cmp c[96];
	int k = seccomp_complement(allowed, n, max, c, 96);
	assert_true(k > 0);
	uint64_t probes[600];
	size_t np = 0;
	for (size_t i = 0; i < n; i++)
		for (int d = -2; d <= 2; d++)
			probes[np++] = allowed[i] + (uint64_t)(int64_t)d;
	for (int b = 0; b < 64; b++)
		for (int d = -1; d <= 1; d++)
			probes[np++] = (1ULL << b) + (uint64_t)(int64_t)d;
	probes[np++] = 0;
	probes[np++] = max;
	probes[np++] = 0x12345678;
	probes[np++] = 0xfffffffe;
	probes[np++] = 0x1ffffffffULL;
	for (size_t i = 0; i < np; i++) {
		uint64_t v = probes[i];
		if (v > max)
			continue;
		int refused = seccomp_cmp_any(c, (size_t)k, v);
		if (refused == in_set(allowed, n, v))
			print_error("value 0x%llx: refused=%d\n", (unsigned long long)v, refused);
		assert_int_equal(refused, !in_set(allowed, n, v));
	}
}

static void test_complement(void **state)
{
	(void)state;
	static const uint64_t unix_only[] = { AF_UNIX };
	static const uint64_t inet[] = { AF_UNIX, AF_INET, AF_INET6 };
	static const uint64_t pers[] = { 0, 8, 0xffffffff };
	static const uint64_t zero_top[] = { 0, UINT32_MAX };
	check_complement(unix_only, 1, UINT64_MAX);
	check_complement(unix_only, 1, UINT32_MAX);
	check_complement(inet, 3, UINT64_MAX);
	check_complement(pers, 3, UINT64_MAX);
	check_complement(pers, 3, UINT32_MAX);
	check_complement(zero_top, 2, UINT64_MAX);
	check_complement(zero_top, 2, UINT32_MAX);
	/* nothing allowed: one rule, everything refused */
	struct seccomp_cmp c[4];
	assert_int_equal(seccomp_complement(NULL, 0, UINT64_MAX, c, 4), 1);
	assert_true(seccomp_cmp_any(c, 1, 0) && seccomp_cmp_any(c, 1, UINT64_MAX));
	/* unsorted input and too little room are errors, not a wrong filter */
	static const uint64_t unsorted[] = { 8, 0 };
	assert_int_equal(seccomp_complement(unsorted, 2, UINT64_MAX, c, 4), -EINVAL);
	assert_int_equal(seccomp_complement(pers, 3, UINT64_MAX, c, 4), -ENOSPC);
}

static void test_build_lists(void **state)
{
	(void)state;
	struct seccomp_baseline b;
	char err[256];
	assert_int_equal(seccomp_baseline_build(NET_DENY_ALL, 0, &b, err, sizeof err), 0);
	assert_true(b.prog.len > 10 && b.prog.len <= 4096);
	assert_int_equal(b.n_families, 1);
	assert_int_equal(b.families[0], AF_UNIX);
	static const char *const want[] = {
		"io_uring_setup", "io_uring_enter", "io_uring_register", "add_key", "request_key",
		"keyctl", "fanotify_init", "userfaultfd", "ioctl(USERFAULTFD_IOC_NEW)",
	};
	assert_true(b.n_refused >= sizeof(want) / sizeof(want[0]) + 3);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(b.refused[i], want[i]);
	seccomp_baseline_free(&b);

	unsigned all = (1U << SECCOMP_GROUP_COUNT) - 1;
	assert_int_equal(seccomp_baseline_build(NET_DENY_ALL, all, &b, err, sizeof err), 0);
	assert_int_equal(b.n_families, 3);
	/* relaxed everything: only the socket families outside unix/inet/inet6 are left */
	assert_int_equal(b.n_refused, 2);
	assert_string_equal(b.refused[0], "socket(other families)");
	seccomp_baseline_free(&b);
}

/* In a child: no_new_privs, the filter, its listener closed at once (the kernel then
 * answers ENOSYS), then each call; the exit status is the number of the first check that
 * went wrong. */
static int run_child(unsigned relax)
{
	struct seccomp_baseline b;
	char err[256];
	if (seccomp_baseline_build(NET_DENY_ALL, relax, &b, err, sizeof err) < 0) {
		print_error("%s\n", err);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(100);
		int lfd = seccomp_baseline_install(&b);
		if (lfd < 0)
			_exit(101);
		close(lfd);
		int inet = relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_INET_SOCKETS);
		int uring = relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_IO_URING);
		int pers = relax & SECCOMP_GROUP_BIT(SECCOMP_GROUP_PERSONALITY);
#define EXPECT(n, call, want_errno)                                                      \
	do {                                                                             \
		int w_ = (want_errno);                                                   \
		errno = 0;                                                               \
		long r_ = (call);                                                        \
		if (w_ != 0 ? (r_ != -1 || errno != w_) : r_ < 0)                        \
			_exit(n);                                                        \
	} while (0)
		EXPECT(1, syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0), 0);
		EXPECT(2, syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0), inet ? 0 : ENOSYS);
		EXPECT(3, syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0), inet ? 0 : ENOSYS);
		EXPECT(4, syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0), ENOSYS);
		EXPECT(5, syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0), ENOSYS);
		EXPECT(6, syscall(SYS_socket, 0x100000000L | AF_UNIX, SOCK_STREAM, 0), ENOSYS);
		int sv[2];
		EXPECT(7, syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv), 0);
		EXPECT(8, syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv), inet ? EOPNOTSUPP : ENOSYS);
		EXPECT(9, syscall(SYS_io_uring_setup, 1, NULL), uring ? EFAULT : ENOSYS);
		EXPECT(10, syscall(SYS_personality, 0xffffffffUL), 0);
		EXPECT(11, syscall(SYS_personality, (unsigned long)PER_LINUX), 0);
		EXPECT(12, syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC), pers ? 0 : ENOSYS);
		EXPECT(13, syscall(SYS_personality, (unsigned long)PER_LINUX), 0);
		EXPECT(14, syscall(SYS_personality, 0x1ffffffffUL), pers ? 0 : ENOSYS);
		EXPECT(15, syscall(SYS_clone3, NULL, 0), ENOSYS);
		int fd = open("/dev/null", O_RDONLY);
		EXPECT(16, syscall(SYS_ioctl, fd, 0xaa00UL, 0), ENOSYS);
		EXPECT(17, syscall(SYS_ioctl, fd, 0x10000aa00UL, 0), ENOSYS);
		EXPECT(18, syscall(SYS_ioctl, fd, 0x5401UL /* TCGETS */, 0), ENOTTY);
		EXPECT(19, syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), ENOSYS);
		EXPECT(20, syscall(SYS_fanotify_init, 0, 0), ENOSYS);
		EXPECT(21, syscall(SYS_userfaultfd, 0), ENOSYS);
		_exit(0);
	}
	seccomp_baseline_free(&b);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_filter_refuses(void **state)
{
	(void)state;
	assert_int_equal(run_child(0), 0);
}

static void test_filter_relaxed(void **state)
{
	(void)state;
	assert_int_equal(run_child(SECCOMP_GROUP_BIT(SECCOMP_GROUP_INET_SOCKETS) |
				   SECCOMP_GROUP_BIT(SECCOMP_GROUP_IO_URING) |
				   SECCOMP_GROUP_BIT(SECCOMP_GROUP_PERSONALITY)), 0);
}

static void test_records(void **state)
{
	(void)state;
	struct syscall_denial d = { .arch = AUDIT_ARCH_X86_64, .nr = 425, .tid = 7, .tgid = 6,
				    .comm = "probe", .ts_real_ns = 1000000000LL * 86400, .err = EPERM };
	assert_string_equal(syscall_denial_svf_type(&d), "syscall_event.denied");
	assert_int_equal(syscall_denial_class(&d), DENY_SYSCALL);
	cJSON *j = syscall_denial_to_json(&d);
	char *s = cJSON_PrintUnformatted(j);
	assert_string_equal(s, "{\"type\":\"deny\",\"ts\":\"1970-01-02T00:00:00.000000Z\",\"pid\":6,\"tid\":7,"
			       "\"comm\":\"probe\",\"hook\":\"seccomp\",\"class\":\"syscall\",\"errno\":1,"
			       "\"syscall\":\"io_uring_setup\",\"abi\":\"x86_64\",\"nr\":425}");
	free(s);
	cJSON_Delete(j);

	d.nr = 41;   /* socket */
	d.args[0] = 16;   /* AF_NETLINK */
	d.args[1] = 3;
	assert_string_equal(syscall_denial_svf_type(&d), "net_event.denied");
	j = syscall_denial_to_json(&d);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "family")), "netlink");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "class")), "net");
	assert_int_equal(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "sock_type")), 3);
	cJSON_Delete(j);

	/* i386 socketcall(SYS_SOCKET): a socket creation whose family was not looked at */
	d.arch = AUDIT_ARCH_I386;
	d.nr = 102;
	d.args[0] = 1;
	assert_string_equal(syscall_denial_abi(&d), "i386");
	assert_string_equal(syscall_denial_svf_type(&d), "net_event.denied");
	j = syscall_denial_to_json(&d);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "syscall")), "socketcall");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "socketcall")), "socket");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "family")));
	cJSON_Delete(j);
	d.args[0] = 3;   /* SYS_CONNECT: not a creation (never refused, but never a net record) */
	assert_string_equal(syscall_denial_svf_type(&d), "syscall_event.denied");

	/* i386 keyctl, x32 io_uring_setup, personality's persona */
	d.nr = 288;
	char *n = syscall_denial_name(&d);
	assert_string_equal(n, "keyctl");
	free(n);
	d.arch = AUDIT_ARCH_X86_64;
	d.nr = 0x40000000 | 425;
	assert_string_equal(syscall_denial_abi(&d), "x32");
	n = syscall_denial_name(&d);
	assert_string_equal(n, "io_uring_setup");
	free(n);
	d.nr = 135;
	d.args[0] = READ_IMPLIES_EXEC;
	j = syscall_denial_to_json(&d);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(j, "persona")), "0x400000");
	cJSON_Delete(j);
	d.nr = 99999;
	n = syscall_denial_name(&d);
	assert_string_equal(n, "syscall_99999");
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complement),
		cmocka_unit_test(test_build_lists),
		cmocka_unit_test(test_filter_refuses),
		cmocka_unit_test(test_filter_relaxed),
		cmocka_unit_test(test_records),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
