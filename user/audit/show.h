/* `calyx audit show`: which records of the SVF log pass the filters, and how a record is
 * shown (docs/audit.md "calyx audit show"). Pure: no files, no clock (now is given), so
 * tests/unit/test_audit_show.c checks exact bytes. The log is read by cli/audit_show.c. */
#ifndef CALYX_AUDIT_SHOW_H
#define CALYX_AUDIT_SHOW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct audit_filter {
	const char *lease;    /* NULL: any; else the record's lease, exactly */
	const char *intent;   /* NULL: any; else the record's intent, exactly */
	const char *type;     /* NULL: any; "lease_event.refused" exactly, or a family with no
			       * dot ("lease_event") for every lease_event.* */
	bool have_since;
	int64_t since_ms;     /* only records whose ts is at or after this (ms since the epoch) */
};

/* --since VALUE: RFC 3339 ("2026-12-03T07:00:00Z", an offset, a fraction: whole seconds
 * count) or a duration back from now_ms ("90s", "10m", "2h", "1d"). 0, or -EINVAL with
 * the problem in err. */
int audit_since_parse(const char *s, int64_t now_ms, int64_t *since_ms, char *err, size_t errlen);

/* A record's ts ("2026-12-03T07:00:00.123Z", as svf_format_ts writes it; an RFC 3339 time
 * without a fraction is read too) in ms since the epoch. 0 or -EINVAL. */
int audit_ts_ms(const char *ts, int64_t *ms);

/* Whether rec (one parsed record) passes every filter set in f. A record without the
 * member a filter asks about fails that filter. */
bool audit_record_match(const struct audit_filter *f, const cJSON *rec);

/* The line for people, without '\n' (malloc'd, NULL when out of memory):
 *   TS TYPE LEASE INTENT SUMMARY
 * an empty lease or intent shown as "-", SUMMARY the members of data that say most about
 * the type (docs/audit.md), as key=value. Every byte outside printable ASCII is shown as
 * \xNN: a record holds what a command or a lease put there, and none of it may drive the
 * reader's terminal. */
char *audit_record_text(const cJSON *rec);

/* One line of the log (len bytes, its '\n' not included) through the filter: 1 with *out
 * malloc'd and *outlen set (json: the line's bytes and '\n', exactly as in the log; else
 * the text and '\n'), 0 when the filter drops it, -EBADMSG when the line is not a record
 * (not a JSON object with a string type and ts), -ENOMEM. */
int audit_show_line(const struct audit_filter *f, bool json, const char *line, size_t len, char **out,
		    size_t *outlen);

#endif
