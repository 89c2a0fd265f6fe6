/* Pure parsers/formatters for integers, durations, sizes and RFC 3339 times. No side
 * effects. */
#ifndef CALYX_UNITS_H
#define CALYX_UNITS_H
#include <stdint.h>
#include <stddef.h>
#include <time.h>

/* The decimal digits at the start of s into *v (0 when there are none): the count of
 * digits, or -ERANGE when they exceed UINT64_MAX. */
int units_scan_u64(const char *s, uint64_t *v);
/* A whole string of decimal digits (no sign, space or anything after): 0, -EINVAL or
 * -ERANGE. The one unsigned integer parser of calyx. */
int units_parse_u64(const char *s, uint64_t *v);

/* "500ms", "90s", "5m", "2h", "1d"; a bare number is seconds. Result in milliseconds.
 * Returns 0, or -EINVAL (malformed, zero, negative) / -ERANGE (overflow). */
int units_parse_duration_ms(const char *s, uint64_t *out_ms);
/* "4096", "16K", "256M", "1G" (binary multiples, optional trailing "B" or "iB").
 * Returns 0, -EINVAL, -ERANGE. Zero is accepted (callers decide whether it is absurd). */
int units_parse_size(const char *s, uint64_t *out_bytes);
/* Shortest exact rendering, e.g. 300000 -> "5m", 1500 -> "1500ms". */
void units_format_duration(uint64_t ms, char *buf, size_t len);
void units_format_size(uint64_t bytes, char *buf, size_t len);

/* RFC 3339 "2026-11-29T04:00:00Z" or with "+HH:MM"/"-HH:MM" offset, optional fraction.
 * Returns 0 and seconds since the epoch (UTC), or -EINVAL. */
int units_parse_rfc3339(const char *s, int64_t *out_epoch);
/* Always "YYYY-MM-DDTHH:MM:SSZ"; buf needs 21 bytes. */
void units_format_rfc3339(int64_t epoch, char *buf, size_t len);

#endif
