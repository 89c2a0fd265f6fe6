/* links: state/group_ledger base/errmsg base/units */
/* The group ledger's client without an etcd (tests/host/etcd.sh has the real cluster):
 * endpoints that refuse the connection are each named and the result is "unreachable",
 * never a run; bad arguments are refused before any I/O. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "state/group_ledger.h"

#define NONCE "0123456789abcdef0123456789abcdef"

/* A loopback port bound but not listening: a connection to it is refused at once, and
 * nothing else can take it while the socket is open. */
static int refusing_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	*fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*fd >= 0);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

static void test_unreachable(void **state)
{
	(void)state;
	int fd1, fd2;
	char ep1[64], ep2[64], err[2048], want[256];
	snprintf(ep1, sizeof(ep1), "http://127.0.0.1:%d", refusing_port(&fd1));
	snprintf(ep2, sizeof(ep2), "http://127.0.0.1:%d", refusing_port(&fd2));
	struct etcd_conf e = { .endpoints = { ep1, ep2 }, .n_endpoints = 2, .prefix = (char *)"/calyx",
			       .timeout_ms = 2000 };
	uint32_t run = 0;
	int r = group_ledger_consume(&e, "k4.pid.x", "LEASE-20261203-000000-abcd", 1, "build-7", NONCE, &run,
				     err, sizeof(err));
	assert_int_equal(r, -EHOSTUNREACH);
	assert_int_equal(run, 0);
	snprintf(want, sizeof(want), "%s: Couldn't connect to server; %s: Couldn't connect to server", ep1, ep2);
	assert_string_equal(err, want);
	close(fd1);
	close(fd2);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	char err[256];
	uint32_t run;
	struct etcd_conf none = { .n_endpoints = 0, .prefix = (char *)"/calyx", .timeout_ms = 100 };
	assert_int_equal(group_ledger_consume(&none, "i", "j", 1, "h", NONCE, &run, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "group ledger: bad arguments");
	char ep[] = "http://127.0.0.1:9";
	struct etcd_conf one = { .endpoints = { ep }, .n_endpoints = 1, .prefix = (char *)"/calyx", .timeout_ms = 100 };
	assert_int_equal(group_ledger_consume(&one, "i", "j", 0, "h", NONCE, &run, err, sizeof(err)), -EINVAL);
	assert_int_equal(group_ledger_consume(&one, NULL, "j", 1, "h", NONCE, &run, err, sizeof(err)), -EINVAL);
	/* The nonce is what a sweep later looks for: never a short, empty or non-hex one. */
	assert_int_equal(group_ledger_consume(&one, "i", "j", 1, "h", NULL, &run, err, sizeof(err)), -EINVAL);
	assert_int_equal(group_ledger_consume(&one, "i", "j", 1, "h", "0123", &run, err, sizeof(err)), -EINVAL);
	assert_int_equal(group_ledger_consume(&one, "i", "j", 1, "h", "0123456789abcdef0123456789abcdeG", &run, err,
					      sizeof(err)), -EINVAL);
	assert_int_equal(group_ledger_find(&one, "i", "j", 1, "0123", &run, err, sizeof(err)), -EINVAL);
	assert_int_equal(group_ledger_find(&none, "i", "j", 1, NONCE, &run, err, sizeof(err)), -EINVAL);
	assert_int_equal(group_ledger_find(&one, "i", "j", 0, NONCE, &run, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "group ledger: bad arguments");
}

/* The sweep's question with no endpoint answering: unreachable, never "not counted"
 * (-ENOENT would let the sweep drop the dead runner's record). */
static void test_find_unreachable(void **state)
{
	(void)state;
	int fd;
	char ep[64], err[2048], want[256];
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", refusing_port(&fd));
	struct etcd_conf e = { .endpoints = { ep }, .n_endpoints = 1, .prefix = (char *)"/calyx", .timeout_ms = 2000 };
	uint32_t run = 0;
	assert_int_equal(group_ledger_find(&e, "k4.pid.x", "LEASE-20261203-000000-abcd", 2, NONCE, &run, err,
					   sizeof(err)), -EHOSTUNREACH);
	assert_int_equal(run, 0);
	snprintf(want, sizeof(want), "%s: Couldn't connect to server", ep);
	assert_string_equal(err, want);
	close(fd);
}

/* Two nonces are 32 lowercase hex digits and differ. */
static void test_nonce(void **state)
{
	(void)state;
	char a[GROUP_LEDGER_NONCE_LEN + 1], b[GROUP_LEDGER_NONCE_LEN + 1];
	assert_int_equal(group_ledger_nonce(a), 0);
	assert_int_equal(group_ledger_nonce(b), 0);
	assert_int_equal(strlen(a), GROUP_LEDGER_NONCE_LEN);
	assert_int_equal(strspn(a, "0123456789abcdef"), GROUP_LEDGER_NONCE_LEN);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_find_unreachable),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
