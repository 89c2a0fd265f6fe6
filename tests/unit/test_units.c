/* links: base/units */
/* Durations, sizes and RFC 3339 times: accepted forms, rejected junk, round trips. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/units.h"

static void dur_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int r = units_parse_duration_ms(s, &v);
	if (r != 0 || v != want)
		fail_msg("duration '%s': ret %d value %llu, want %llu", s, r,
			 (unsigned long long)v, (unsigned long long)want);
}

static void dur_bad(const char *s, int want)
{
	uint64_t v = 12345;
	int r = units_parse_duration_ms(s, &v);
	if (r != want)
		fail_msg("duration '%s': ret %d, want %d", s ? s : "(null)", r, want);
}

static void test_u64(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_int_equal(units_parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(units_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(units_parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(units_parse_u64("", &v), -EINVAL);
	assert_int_equal(units_parse_u64("+1", &v), -EINVAL);
	assert_int_equal(units_parse_u64(" 1", &v), -EINVAL);
	assert_int_equal(units_parse_u64("1 ", &v), -EINVAL);
	assert_int_equal(units_parse_u64("-1", &v), -EINVAL);
	assert_int_equal(units_parse_u64("0x10", &v), -EINVAL);
	assert_int_equal(units_parse_u64(NULL, &v), -EINVAL);
	assert_int_equal(units_scan_u64("123 rest", &v), 3);
	assert_int_equal(v, 123);
	assert_int_equal(units_scan_u64("x", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(units_scan_u64("99999999999999999999", &v), -ERANGE);
}

static void test_duration_parse(void **state)
{
	(void)state;
	dur_ok("500ms", 500);
	dur_ok("1ms", 1);
	dur_ok("90s", 90000);
	dur_ok("90", 90000);
	dur_ok("5m", 300000);
	dur_ok("2h", 7200000);
	dur_ok("1d", 86400000);
	dur_ok("007s", 7000);
	dur_ok("18446744073709551615ms", UINT64_MAX);

	dur_bad("0", -EINVAL);
	dur_bad("0s", -EINVAL);
	dur_bad("0ms", -EINVAL);
	dur_bad("-5s", -EINVAL);
	dur_bad("+5s", -EINVAL);
	dur_bad("", -EINVAL);
	dur_bad(NULL, -EINVAL);
	dur_bad("s", -EINVAL);
	dur_bad("5x", -EINVAL);
	dur_bad("5 s", -EINVAL);
	dur_bad(" 5s", -EINVAL);
	dur_bad("5s ", -EINVAL);
	dur_bad("5S", -EINVAL);
	dur_bad("5sec", -EINVAL);
	dur_bad("1h30m", -EINVAL);
	dur_bad("1.5h", -EINVAL);
	dur_bad("0x10s", -EINVAL);
	dur_bad("5mss", -EINVAL);
	dur_bad("18446744073709551616ms", -ERANGE);
	dur_bad("18446744073709551615s", -ERANGE);
	dur_bad("213503982335d", -ERANGE);
	dur_bad("99999999999999999999999", -ERANGE);
}

static void size_ok(const char *s, uint64_t want)
{
	uint64_t v = 0;
	int r = units_parse_size(s, &v);
	if (r != 0 || v != want)
		fail_msg("size '%s': ret %d value %llu, want %llu", s, r,
			 (unsigned long long)v, (unsigned long long)want);
}

static void size_bad(const char *s, int want)
{
	uint64_t v = 12345;
	int r = units_parse_size(s, &v);
	if (r != want)
		fail_msg("size '%s': ret %d, want %d", s ? s : "(null)", r, want);
}

static void test_size_parse(void **state)
{
	(void)state;
	size_ok("4096", 4096);
	size_ok("4096B", 4096);
	size_ok("0", 0);
	size_ok("16K", 16384);
	size_ok("16KB", 16384);
	size_ok("16KiB", 16384);
	size_ok("256M", 256ull << 20);
	size_ok("256MiB", 256ull << 20);
	size_ok("1G", 1ull << 30);
	size_ok("2T", 2ull << 40);
	size_ok("16777215T", 16777215ull << 40);

	size_bad("", -EINVAL);
	size_bad(NULL, -EINVAL);
	size_bad("K", -EINVAL);
	size_bad("-1", -EINVAL);
	size_bad("1X", -EINVAL);
	size_bad("4096iB", -EINVAL);
	size_bad("16KBB", -EINVAL);
	size_bad("16 K", -EINVAL);
	size_bad("16k", -EINVAL);
	size_bad("1.5G", -EINVAL);
	size_bad("16K ", -EINVAL);
	size_bad("16777216T", -ERANGE);
	size_bad("99999999999999999999", -ERANGE);
}

static void test_format_roundtrip(void **state)
{
	(void)state;
	char buf[32];
	static const struct { uint64_t ms; const char *s; } d[] = {
		{ 300000, "5m" }, { 1500, "1500ms" }, { 1000, "1s" }, { 90000, "90s" },
		{ 3600000, "1h" }, { 5400000, "90m" }, { 86400000, "1d" }, { 172800000, "2d" },
		{ 1, "1ms" }, { UINT64_MAX, "18446744073709551615ms" },
	};
	for (size_t k = 0; k < sizeof(d) / sizeof(d[0]); k++) {
		units_format_duration(d[k].ms, buf, sizeof(buf));
		assert_string_equal(buf, d[k].s);
		uint64_t back = 0;
		assert_int_equal(units_parse_duration_ms(buf, &back), 0);
		assert_int_equal(back, d[k].ms);
	}
	static const struct { uint64_t b; const char *s; } z[] = {
		{ 4096, "4K" }, { 1000, "1000" }, { 1ull << 20, "1M" }, { 1536ull << 20, "1536M" },
		{ 1ull << 30, "1G" }, { 3ull << 40, "3T" }, { 0, "0" }, { 1, "1" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	for (size_t k = 0; k < sizeof(z) / sizeof(z[0]); k++) {
		units_format_size(z[k].b, buf, sizeof(buf));
		assert_string_equal(buf, z[k].s);
		uint64_t back = 1;
		assert_int_equal(units_parse_size(buf, &back), 0);
		assert_int_equal(back, z[k].b);
	}
	/* A short buffer truncates and stays terminated. */
	units_format_duration(1500, buf, 3);
	assert_string_equal(buf, "15");
}

static void t_ok(const char *s, int64_t want)
{
	int64_t v = 0;
	int r = units_parse_rfc3339(s, &v);
	if (r != 0 || v != want)
		fail_msg("rfc3339 '%s': ret %d value %lld, want %lld", s, r, (long long)v,
			 (long long)want);
}

static void t_bad(const char *s)
{
	int64_t v = 0;
	int r = units_parse_rfc3339(s, &v);
	if (r != -EINVAL)
		fail_msg("rfc3339 '%s': ret %d (value %lld), want -EINVAL", s ? s : "(null)", r,
			 (long long)v);
}

static void test_rfc3339_parse(void **state)
{
	(void)state;
	t_ok("1970-01-01T00:00:00Z", 0);
	t_ok("1969-12-31T23:59:59Z", -1);
	t_ok("2026-11-29T04:00:00Z", 1795924800);
	t_ok("2026-11-29T04:00:00+00:00", 1795924800);
	t_ok("2026-11-29T04:00:00-00:00", 1795924800);
	t_ok("2026-11-29T05:30:00+01:30", 1795924800);
	t_ok("2026-11-28T23:00:00-05:00", 1795924800);
	t_ok("2026-11-29t04:00:00z", 1795924800);
	t_ok("2026-11-29T04:00:00.999Z", 1795924800);
	t_ok("2026-11-29T04:00:00.000000001+00:00", 1795924800);
	t_ok("2022-01-01T00:00:00+00:00", 1640995200);
	t_ok("2024-02-29T12:00:00Z", 1709208000);  /* leap year */
	t_ok("2000-02-29T00:00:00Z", 951782400);   /* divisible by 400 */
	t_ok("2038-01-19T03:14:08Z", 2147483648LL); /* past 32-bit time_t */
	t_ok("9999-12-31T23:59:59Z", 253402300799LL);

	t_bad("2026-02-30T00:00:00Z");
	t_bad("2026-02-29T00:00:00Z"); /* not a leap year */
	t_bad("1900-02-29T00:00:00Z"); /* divisible by 100, not 400 */
	t_bad("2026-04-31T00:00:00Z");
	t_bad("2026-13-01T00:00:00Z");
	t_bad("2026-00-01T00:00:00Z");
	t_bad("2026-01-00T00:00:00Z");
	t_bad("2026-01-32T00:00:00Z");
	t_bad("2026-01-01T24:00:00Z");
	t_bad("2026-01-01T00:60:00Z");
	t_bad("2026-01-01T00:00:60Z");
	t_bad("2026-01-01T00:00:00+24:00");
	t_bad("2026-01-01T00:00:00+01:60");
	t_bad("2026-01-01T00:00:00");      /* no zone */
	t_bad("2026-01-01 00:00:00Z");
	t_bad("2026-01-01T00:00:00.Z");
	t_bad("2026-01-01T00:00:00Zjunk");
	t_bad("2026-01-01T00:00:00+0100");
	t_bad("2026-01-01T00:00:00+01");
	t_bad("2026-01-01T00:00Z");
	t_bad("2026-1-01T00:00:00Z");
	t_bad("26-01-01T00:00:00Z");
	t_bad("2026-01-01T00:00:00 Z");
	t_bad(" 2026-01-01T00:00:00Z");
	t_bad("2026-01-01");
	t_bad("");
	t_bad(NULL);
	t_bad("+2026-01-01T00:00:00Z");
}

static void test_rfc3339_format(void **state)
{
	(void)state;
	char buf[21];
	static const int64_t epochs[] = { 0, -1, 1795924800, 1709208000, 951782400,
					  2147483648LL, 253402300799LL, 1 };
	for (size_t k = 0; k < sizeof(epochs) / sizeof(epochs[0]); k++) {
		units_format_rfc3339(epochs[k], buf, sizeof(buf));
		assert_int_equal(strlen(buf), 20);
		int64_t back = 0;
		assert_int_equal(units_parse_rfc3339(buf, &back), 0);
		assert_int_equal(back, epochs[k]);
	}
	units_format_rfc3339(1795924800, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-29T04:00:00Z");
	units_format_rfc3339(1709208000, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T12:00:00Z");
	/* Years beyond the fixed 4-digit layout produce no time rather than a wrong one. */
	units_format_rfc3339(253402300800LL, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* Offsets normalise to UTC. */
	int64_t e;
	assert_int_equal(units_parse_rfc3339("2026-11-29T09:45:00+05:45", &e), 0);
	units_format_rfc3339(e, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-29T04:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_size_parse),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_rfc3339_parse),
		cmocka_unit_test(test_rfc3339_format),
	};
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
