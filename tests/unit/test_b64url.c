/* links: base/b64url */
/* The one base64url decoder (base/b64url.c): strict RFC 4648 URL-safe alphabet without
 * padding, whatever libsodium itself would let through. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/b64url.h"

static int decode(const char *s, uint8_t **out, size_t *n)
{
	*out = NULL;
	return b64url_decode(s, strlen(s), out, n);
}

static void test_valid(void **state)
{
	(void)state;
	uint8_t *b;
	size_t n;
	assert_int_equal(decode("aGVsbG8", &b, &n), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(b, "hello", 5);
	assert_int_equal(b[5], '\0');   /* the spare NUL */
	free(b);
	assert_int_equal(decode("-_-_", &b, &n), 0);   /* the two URL-safe characters */
	assert_int_equal(n, 3);
	assert_int_equal(b[0], 0xfb);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(b[2], 0xbf);
	free(b);
	assert_int_equal(decode("", &b, &n), 0);
	assert_int_equal(n, 0);
	free(b);
}

static void test_alphabet(void **state)
{
	(void)state;
	uint8_t *b;
	size_t n;
	/* libsodium 1.0.18 decodes 0x80-0xFF as '_' in URL-safe mode: refused here. */
	assert_int_equal(decode("AAA\x80", &b, &n), -EINVAL);
	assert_null(b);
	assert_int_equal(decode("AAA\xff", &b, &n), -EINVAL);
	assert_int_equal(decode("AA+A", &b, &n), -EINVAL);   /* standard alphabet */
	assert_int_equal(decode("AA/A", &b, &n), -EINVAL);
	assert_int_equal(decode("AA==", &b, &n), -EINVAL);   /* padding */
	assert_int_equal(decode("AA A", &b, &n), -EINVAL);
}

static void test_shape(void **state)
{
	(void)state;
	uint8_t *b;
	size_t n;
	assert_int_equal(decode("AAAAA", &b, &n), -EINVAL);  /* impossible length */
	assert_int_equal(decode("AB", &b, &n), -EINVAL);     /* bits set past the end */
	assert_int_equal(decode("AA", &b, &n), 0);
	assert_int_equal(n, 1);
	free(b);
	/* Decodes exactly len bytes: a NUL inside the span is not an end. */
	assert_int_equal(b64url_decode("AA\0A", 4, &b, &n), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_alphabet),
		cmocka_unit_test(test_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
