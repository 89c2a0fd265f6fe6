/* links: sentinel/jsonfmt sentinel/events */
/* The hot path's JSON formatter against an independent parser (cJSON): every string it
 * writes parses back to the bytes the json_safe_strn rule gives (valid UTF-8 as is,
 * every other byte the text \xNN), control characters and quotes escaped per RFC 8259;
 * integers exact over their whole range; timestamps as event_format_ts writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "sentinel/events.h"
#include "sentinel/jsonfmt.h"

/* jb_str(s, n) inside an array, parsed back: the decoded string (malloc'd). */
static char *roundtrip(const char *s, size_t n)
{
	struct jbuf b = { 0 };
	jb_raw(&b, "[", 1);
	jb_str(&b, s, n);
	jb_raw(&b, "]", 1);
	assert_false(b.oom);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	if (!j)
		fail_msg("not JSON: %.*s", (int)b.len, b.p);
	cJSON *v = cJSON_GetArrayItem(j, 0);
	assert_true(cJSON_IsString(v));
	char *out = strdup(v->valuestring);
	cJSON_Delete(j);
	jb_free(&b);
	return out;
}

static void expect(const char *s, size_t n, const char *want)
{
	char *got = roundtrip(s, n);
	assert_string_equal(got, want);
	free(got);
}

static void test_escapes(void **state)
{
	(void)state;
	expect("plain", 5, "plain");
	expect("a\"b\\c", 5, "a\"b\\c");
	expect("\n\r\t\b\f", 5, "\n\r\t\b\f");
	expect("\x01\x1f\x7f", 3, "\x01\x1f\x7f");
	expect("/ok", 3, "/ok");
	expect("stop\0here", 9, "stop");          /* the first NUL ends it */
	expect("abcdef", 3, "abc");               /* at most n bytes */
	expect("", 0, "");
	/* the raw text of escapes that need no escaping beyond RFC 8259's */
	struct jbuf b = { 0 };
	jb_str(&b, "q\"\x01", 3);
	assert_int_equal(b.len, strlen("\"q\\\"\\u0001\""));
	assert_memory_equal(b.p, "\"q\\\"\\u0001\"", b.len);
	jb_free(&b);
}

static void test_utf8(void **state)
{
	(void)state;
	expect("caf\xc3\xa9", 5, "caf\xc3\xa9");                 /* é */
	expect("\xe2\x82\xac", 3, "\xe2\x82\xac");               /* € */
	expect("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");       /* U+1F600 */
	expect("\xff", 1, "\\xff");
	expect("a\xc3", 2, "a\\xc3");                            /* cut short */
	expect("\xc0\xaf", 2, "\\xc0\\xaf");                     /* overlong '/' */
	expect("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");            /* a surrogate */
	expect("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");   /* above U+10FFFF */
	expect("\xe2\x28\xa1", 3, "\\xe2(\\xa1");
}

/* Random bytes: the formatter's output always parses, to json_safe_strn's text. */
static void test_random_bytes(void **state)
{
	(void)state;
	unsigned seed = 12345;
	char s[64];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand_r(&seed) % (int)sizeof(s));
		for (size_t i = 0; i < n; i++) {
			int r = rand_r(&seed);
			/* bias towards the interesting bytes: controls, quotes, UTF-8 leads */
			static const char pick[] = "\"\\\x01\x1f\xc3\xa9\xe2\x82\xac\xf0\x9f\x80\xed\xa0\xff a";
			s[i] = (r & 1) ? (char)(r >> 8) : pick[(r >> 8) % (int)(sizeof(pick) - 1)];
		}
		char *want = json_safe_strn(s, n);
		assert_non_null(want);
		char *got = roundtrip(s, n);
		if (strcmp(got, want) != 0)
			fail_msg("round %d: got '%s' want '%s'", round, got, want);
		free(got);
		free(want);
	}
}

static void test_numbers(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	jb_raw(&b, "[", 1);
	const uint64_t u[] = { 0, 1, 9, 10, 4294967295u, 9007199254740993ull, UINT64_MAX };
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		jb_sep(&b);
		jb_u64(&b, u[i]);
	}
	jb_sep(&b);
	jb_i64(&b, INT64_MIN);
	jb_sep(&b);
	jb_i64(&b, -7);
	jb_sep(&b);
	jb_bool(&b, true);
	jb_sep(&b);
	jb_null(&b);
	jb_raw(&b, "]", 1);
	/* exact text (cJSON reads numbers as doubles: the text is what must be exact) */
	const char *want = "[0,1,9,10,4294967295,9007199254740993,18446744073709551615,"
			   "-9223372036854775808,-7,true,null]";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(j), 11);
	cJSON_Delete(j);
	jb_free(&b);
}

static void test_keys_and_ts(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	jb_raw(&b, "{", 1);
	jb_key(&b, "a");
	jb_u64(&b, 1);
	jb_key(&b, "t");
	int64_t ns = 1764655896123456789ll;   /* 2025-12-02T06:11:36.123456Z */
	jb_ts(&b, ns);
	jb_key(&b, "t2");
	jb_ts(&b, ns + 1000);                 /* the same second: the cached date part */
	jb_key(&b, "t3");
	jb_ts(&b, ns + 3600ll * 1000000000);  /* another second */
	jb_raw(&b, "}", 1);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(j);
	char ts[EVENT_TS_LEN];
	event_format_ts(ns, ts);
	assert_string_equal(cJSON_GetObjectItem(j, "t")->valuestring, ts);
	assert_string_equal(ts, "2025-12-02T06:11:36.123456Z");
	event_format_ts(ns + 1000, ts);
	assert_string_equal(cJSON_GetObjectItem(j, "t2")->valuestring, ts);
	event_format_ts(ns + 3600ll * 1000000000, ts);
	assert_string_equal(cJSON_GetObjectItem(j, "t3")->valuestring, ts);
	assert_int_equal(cJSON_GetObjectItem(j, "a")->valueint, 1);
	cJSON_Delete(j);
	jb_free(&b);
}

/* The buffer is reused: once grown, formatting allocates nothing (its pointer and
 * capacity stay), and growth keeps what was written. */
static void test_growth_and_reuse(void **state)
{
	(void)state;
	struct jbuf b = { 0 };
	char big[5000];
	memset(big, 'x', sizeof(big));
	jb_raw(&b, "[", 1);
	for (int i = 0; i < 100; i++) {
		jb_sep(&b);
		jb_str(&b, big, sizeof(big));
	}
	jb_raw(&b, "]", 1);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(j), 100);
	assert_int_equal(strlen(cJSON_GetArrayItem(j, 99)->valuestring), sizeof(big));
	cJSON_Delete(j);
	char *p = b.p;
	size_t cap = b.cap;
	for (int k = 0; k < 1000; k++) {
		jb_reset(&b);
		jb_str(&b, big, 200);
		jb_u64(&b, (uint64_t)k);
	}
	assert_ptr_equal(b.p, p);
	assert_int_equal(b.cap, cap);
	jb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_keys_and_ts),
		cmocka_unit_test(test_growth_and_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
