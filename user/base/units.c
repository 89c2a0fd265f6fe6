/* Durations, sizes and RFC 3339 times. Parsers are strict (no whitespace, signs,
 * compound values or unknown suffixes) because their input is policy: a typo must be
 * an error, never a silently different limit. */
#include "base/units.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int units_scan_u64(const char *s, uint64_t *v)
{
	uint64_t acc = 0;
	int n = 0;

	while (is_digit(s[n])) {
		unsigned d = (unsigned)(s[n] - '0');
		if (acc > (UINT64_MAX - d) / 10)
			return -ERANGE;
		acc = acc * 10 + d;
		n++;
	}
	*v = acc;
	return n;
}

int units_parse_u64(const char *s, uint64_t *v)
{
	uint64_t x;
	int n = s ? units_scan_u64(s, &x) : -EINVAL;
	if (n < 0)
		return n;
	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	*v = x;
	return 0;
}

static int mul_checked(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b && a > UINT64_MAX / b)
		return -ERANGE;
	*out = a * b;
	return 0;
}

struct unit { const char *suffix; uint64_t mult; };

/* Largest first: the formatters pick the first unit that divides exactly. */
static const struct unit dur_units[] = {
	{ "d", 86400000ULL }, { "h", 3600000ULL }, { "m", 60000ULL }, { "s", 1000ULL },
	{ "ms", 1ULL },
};
static const struct unit size_units[] = {
	{ "T", 1ULL << 40 }, { "G", 1ULL << 30 }, { "M", 1ULL << 20 }, { "K", 1ULL << 10 },
};

int units_parse_duration_ms(const char *s, uint64_t *out_ms)
{
	uint64_t v;
	int n;

	if (!s || !is_digit(s[0]))
		return -EINVAL;
	n = units_scan_u64(s, &v);
	if (n < 0)
		return n;
	const char *suf = s + n;
	uint64_t mult = 0;
	if (*suf == '\0') {
		mult = 1000; /* a bare number is seconds */
	} else {
		for (size_t k = 0; k < sizeof(dur_units) / sizeof(dur_units[0]); k++)
			if (strcmp(suf, dur_units[k].suffix) == 0)
				mult = dur_units[k].mult;
	}
	if (!mult || v == 0)
		return -EINVAL;
	return mul_checked(v, mult, out_ms);
}

int units_parse_size(const char *s, uint64_t *out_bytes)
{
	uint64_t v;
	int n;

	if (!s || !is_digit(s[0]))
		return -EINVAL;
	n = units_scan_u64(s, &v);
	if (n < 0)
		return n;
	const char *suf = s + n;
	uint64_t mult = 1;
	for (size_t k = 0; k < sizeof(size_units) / sizeof(size_units[0]); k++) {
		if (*suf == size_units[k].suffix[0]) {
			mult = size_units[k].mult;
			suf++;
			break;
		}
	}
	/* "iB" only makes sense after a binary multiplier; a plain "B" is always fine. */
	if (strcmp(suf, "B") == 0 || (mult > 1 && strcmp(suf, "iB") == 0))
		suf += strlen(suf);
	if (*suf != '\0')
		return -EINVAL;
	return mul_checked(v, mult, out_bytes);
}

void units_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (size_t k = 0; k < sizeof(dur_units) / sizeof(dur_units[0]); k++) {
		if (ms % dur_units[k].mult == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ms / dur_units[k].mult,
				 dur_units[k].suffix);
			return;
		}
	}
}

void units_format_size(uint64_t bytes, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	for (size_t k = 0; bytes && k < sizeof(size_units) / sizeof(size_units[0]); k++) {
		if (bytes % size_units[k].mult == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", bytes / size_units[k].mult,
				 size_units[k].suffix);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, bytes);
}

/* Exactly n digits at s into *v. */
static bool fixed_digits(const char *s, int n, int *v)
{
	int acc = 0;

	for (int k = 0; k < n; k++) {
		if (!is_digit(s[k]))
			return false;
		acc = acc * 10 + (s[k] - '0');
	}
	*v = acc;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

int units_parse_rfc3339(const char *s, int64_t *out_epoch)
{
	int Y, M, D, h, mi, sec, oh = 0, om = 0, sign = 0;

	if (!s)
		return -EINVAL;
	/* Fixed layout "YYYY-MM-DDTHH:MM:SS"; RFC 3339 allows lower-case 't' and 'z'. */
	if (!fixed_digits(s, 4, &Y) || s[4] != '-' || !fixed_digits(s + 5, 2, &M) ||
	    s[7] != '-' || !fixed_digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') ||
	    !fixed_digits(s + 11, 2, &h) || s[13] != ':' || !fixed_digits(s + 14, 2, &mi) ||
	    s[16] != ':' || !fixed_digits(s + 17, 2, &sec))
		return -EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		/* Fractions are accepted and dropped: lease times have second precision,
		 * and truncating a non-negative fraction rounds toward the past. */
		p++;
		if (!is_digit(*p))
			return -EINVAL;
		while (is_digit(*p))
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && fixed_digits(p + 1, 2, &oh) && p[3] == ':' &&
		   fixed_digits(p + 4, 2, &om) && p[6] == '\0') {
		sign = *p == '+' ? 1 : -1;
	} else {
		return -EINVAL;
	}
	/* Leap second 60 is refused: timegm would silently move it into the next minute. */
	if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 ||
	    sec > 59 || oh > 23 || om > 59)
		return -EINVAL;

	struct tm tm = {
		.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
		.tm_hour = h, .tm_min = mi, .tm_sec = sec,
	};
	errno = 0;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 && errno)
		return -EINVAL;
	*out_epoch = (int64_t)t - sign * (int64_t)(oh * 3600 + om * 60);
	return 0;
}

void units_format_rfc3339(int64_t epoch, char *buf, size_t len)
{
	struct tm tm;
	time_t t = (time_t)epoch;

	if (!buf || !len)
		return;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		/* Not representable in the fixed layout: an empty string cannot be
		 * mistaken for a valid time. */
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}
