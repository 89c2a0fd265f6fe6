/* links: audit/show base/units base/errmsg */
/* `calyx audit show`'s filters and text form: --since's two forms and their rejections,
 * record times with and without a fraction, each filter alone and together, a family type,
 * the exact text line (summary keys per type, escaping of bytes a terminal would act on),
 * --json giving the line byte for byte, and lines that are not records. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/show.h"

/* 2026-12-03T07:00:00Z */
#define T0 INT64_C(1796281200)

static const char REFUSED[] =
	"{\"seq\":3,\"ts\":\"2026-12-03T07:00:05.250Z\",\"type\":\"lease_event.refused\","
	"\"lease\":\"LEASE-20261203-065900-ab12\",\"intent\":\"INT-TEST\",\"host\":\"h\","
	"\"data\":{\"exit_code\":68,\"reason\":\"command not allowed: argv is not one of the lease's commands\","
	"\"step\":\"command\",\"lease_used\":false,\"claims\":{\"jti\":\"LEASE-20261203-065900-ab12\"}},"
	"\"prev\":\"00\",\"hash\":\"11\"}";
static const char VERIFIED[] =
	"{\"seq\":1,\"ts\":\"2026-12-03T06:59:59.999Z\",\"type\":\"lease_event.verified\","
	"\"lease\":\"LEASE-20261203-065900-ab12\",\"intent\":\"INT-TEST\",\"host\":\"h\","
	"\"data\":{\"iss\":\"k4.pid.X\",\"exp\":1796281500,\"matrix\":\"<shipped>\",\"command\":1,"
	"\"claims\":{\"commands\":[[\"true\"],[\"sh\",\"-c\",\"echo hi\"]]}},\"prev\":\"00\",\"hash\":\"22\"}";
static const char UNKNOWN_LEASE[] =
	"{\"seq\":2,\"ts\":\"2026-12-03T07:00:00Z\",\"type\":\"lease_event.refused\",\"lease\":\"\","
	"\"intent\":\"\",\"host\":\"h\",\"data\":{\"exit_code\":65,\"reason\":\"lease invalid: signature "
	"verification failed\",\"step\":\"lease\"},\"prev\":\"00\",\"hash\":\"33\"}";

static cJSON *parse(const char *s)
{
	cJSON *j = cJSON_Parse(s);
	assert_non_null(j);
	return j;
}

static void test_since(void **state)
{
	(void)state;
	char err[256];
	int64_t ms = 0;
	const int64_t now = T0 * 1000 + 500;
	assert_int_equal(audit_since_parse("2026-12-03T07:00:00Z", now, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, T0 * 1000);
	assert_int_equal(audit_since_parse("2026-12-03T08:00:00+01:00", now, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, T0 * 1000);
	assert_int_equal(audit_since_parse("10m", now, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, now - 600000);
	assert_int_equal(audit_since_parse("2h", now, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, now - 7200000);
	assert_int_equal(audit_since_parse("1d", now, &ms, err, sizeof(err)), 0);
	assert_int_equal(ms, now - 86400000);

	assert_int_equal(audit_since_parse("yesterday", now, &ms, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad --since 'yesterday': expected an RFC 3339 time or a duration like 10m, 2h or 1d");
	assert_int_equal(audit_since_parse("2026-13-03T07:00:00Z", now, &ms, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad --since '2026-13-03T07:00:00Z': not an RFC 3339 time (e.g. 2026-12-03T07:00:00Z)");
	assert_int_equal(audit_since_parse("2026-12-03", now, &ms, err, sizeof(err)), -EINVAL);
	assert_int_equal(audit_since_parse("-5m", now, &ms, err, sizeof(err)), -EINVAL);
	assert_int_equal(audit_since_parse("0m", now, &ms, err, sizeof(err)), -EINVAL);
	assert_int_equal(audit_since_parse("", now, &ms, err, sizeof(err)), -EINVAL);
}

static void test_ts(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(audit_ts_ms("2026-12-03T07:00:05.250Z", &ms), 0);
	assert_int_equal(ms, T0 * 1000 + 5250);
	assert_int_equal(audit_ts_ms("2026-12-03T07:00:05Z", &ms), 0);
	assert_int_equal(ms, T0 * 1000 + 5000);
	assert_int_equal(audit_ts_ms("2026-12-03T07:00:05.5Z", &ms), 0);
	assert_int_equal(ms, T0 * 1000 + 5500);
	assert_int_equal(audit_ts_ms("not a time", &ms), -EINVAL);
	assert_int_equal(audit_ts_ms(NULL, &ms), -EINVAL);
}

static void test_match(void **state)
{
	(void)state;
	cJSON *r = parse(REFUSED), *v = parse(VERIFIED), *u = parse(UNKNOWN_LEASE);
	struct audit_filter none = { 0 };
	assert_true(audit_record_match(&none, r));

	struct audit_filter f = { .type = "lease_event.refused" };
	assert_true(audit_record_match(&f, r));
	assert_false(audit_record_match(&f, v));
	f.type = "lease_event";                 /* a family */
	assert_true(audit_record_match(&f, r) && audit_record_match(&f, v));
	f.type = "lease_event.ref";             /* no prefix matching within a type */
	assert_false(audit_record_match(&f, r));
	f.type = "lease";                       /* a family is a whole first part */
	assert_false(audit_record_match(&f, r));

	struct audit_filter l = { .lease = "LEASE-20261203-065900-ab12" };
	assert_true(audit_record_match(&l, r) && audit_record_match(&l, v));
	assert_false(audit_record_match(&l, u));
	l.lease = "LEASE-20261203-065900-ab1";
	assert_false(audit_record_match(&l, r));

	struct audit_filter i = { .intent = "INT-TEST" };
	assert_true(audit_record_match(&i, r));
	i.intent = "INT-OTHER";
	assert_false(audit_record_match(&i, r));

	/* --since: at or after, to the millisecond */
	struct audit_filter s = { .have_since = true, .since_ms = T0 * 1000 };
	assert_true(audit_record_match(&s, r));
	assert_true(audit_record_match(&s, u));    /* exactly at */
	assert_false(audit_record_match(&s, v));   /* 1 ms before */

	/* every filter given must match */
	struct audit_filter all = { .type = "lease_event.refused", .lease = "LEASE-20261203-065900-ab12",
				    .intent = "INT-TEST", .have_since = true, .since_ms = T0 * 1000 };
	assert_true(audit_record_match(&all, r));
	all.intent = "INT-OTHER";
	assert_false(audit_record_match(&all, r));
	cJSON_Delete(r);
	cJSON_Delete(v);
	cJSON_Delete(u);
}

static void text_is(const char *rec, const char *want)
{
	cJSON *j = parse(rec);
	char *t = audit_record_text(j);
	assert_non_null(t);
	assert_string_equal(t, want);
	free(t);
	cJSON_Delete(j);
}

static void test_text(void **state)
{
	(void)state;
	text_is(REFUSED, "2026-12-03T07:00:05.250Z lease_event.refused LEASE-20261203-065900-ab12 INT-TEST "
			 "exit_code=68 step=command reason=\"command not allowed: argv is not one of the lease's commands\"");
	text_is(VERIFIED, "2026-12-03T06:59:59.999Z lease_event.verified LEASE-20261203-065900-ab12 INT-TEST "
			  "command=1 iss=k4.pid.X matrix=<shipped> argv=[\"sh\",\"-c\",\"echo hi\"]");
	/* no lease, no intent: "-" */
	text_is(UNKNOWN_LEASE, "2026-12-03T07:00:00Z lease_event.refused - - exit_code=65 step=lease "
			       "reason=\"lease invalid: signature verification failed\"");
	/* a type without a summary list: every member that is not an object, in order */
	text_is("{\"ts\":\"2026-12-03T07:00:00Z\",\"type\":\"file_event.denied\",\"lease\":\"L\",\"intent\":\"I\","
		"\"data\":{\"path\":\"/etc/shadow\",\"op\":\"open\",\"pid\":12,\"task\":{\"comm\":\"cat\"},\"ok\":false,"
		"\"x\":null,\"f\":1.5}}",
		"2026-12-03T07:00:00Z file_event.denied L I path=/etc/shadow op=open pid=12 ok=false x=null f=1.5");
	/* no data at all: no summary, no trailing space */
	text_is("{\"ts\":\"2026-12-03T07:00:00Z\",\"type\":\"x.y\",\"lease\":\"L\",\"intent\":\"I\"}",
		"2026-12-03T07:00:00Z x.y L I");
	/* what a command or a lease put in a record never reaches the terminal raw: ESC, C1
	 * (U+009B CSI), bidi overrides (U+202E) and other non-ASCII bytes are \xNN */
	text_is("{\"ts\":\"2026-12-03T07:00:00Z\",\"type\":\"exec_event.started\",\"lease\":\"L\\u001b]0;t\","
		"\"intent\":\"I\",\"data\":{\"run\":1,\"binary\":\"/x\\u009b2J\\u202e\",\"argv\":[\"\\u001b[2J\"]}}",
		"2026-12-03T07:00:00Z exec_event.started L\\x1b]0;t I run=1 binary=/x\\xc2\\x9b2J\\xe2\\x80\\xae "
		"argv=[\"\\u001b[2J\"]");
}

static void test_line(void **state)
{
	(void)state;
	char *out;
	size_t n;
	struct audit_filter f = { .type = "lease_event.refused" };
	/* --json: the line's own bytes and its newline, nothing re-serialised */
	assert_int_equal(audit_show_line(&f, true, REFUSED, strlen(REFUSED), &out, &n), 1);
	assert_int_equal(n, strlen(REFUSED) + 1);
	assert_memory_equal(out, REFUSED, strlen(REFUSED));
	assert_int_equal(out[n - 1], '\n');
	free(out);
	/* a record with members in another order or spacing is still shown as it is */
	const char odd[] = "{\"type\": \"lease_event.refused\", \"ts\": \"2026-12-03T07:00:00Z\"}";
	assert_int_equal(audit_show_line(&f, true, odd, strlen(odd), &out, &n), 1);
	assert_int_equal(n, sizeof(odd));
	assert_memory_equal(out, odd, sizeof(odd) - 1);
	free(out);
	/* filtered out */
	assert_int_equal(audit_show_line(&f, true, VERIFIED, strlen(VERIFIED), &out, &n), 0);
	assert_null(out);
	/* text */
	assert_int_equal(audit_show_line(&f, false, UNKNOWN_LEASE, strlen(UNKNOWN_LEASE), &out, &n), 1);
	assert_string_equal(out, "2026-12-03T07:00:00Z lease_event.refused - - exit_code=65 step=lease "
				 "reason=\"lease invalid: signature verification failed\"\n");
	assert_int_equal(n, strlen(out));
	free(out);
	/* only len bytes count: the rest of the buffer is not part of the line */
	assert_int_equal(audit_show_line(&f, true, REFUSED, strlen(REFUSED) - 1, &out, &n), -EBADMSG);
	/* not records */
	static const char *const bad[] = { "", "garbage", "[1,2]", "{\"type\":\"a.b\"}",
					   "{\"ts\":\"2026-12-03T07:00:00Z\"}",
					   "{\"ts\":1,\"type\":\"a.b\"}",
					   "{\"ts\":\"2026-12-03T07:00:00Z\",\"type\":\"a.b\"} trailing" };
	struct audit_filter any = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = (char *)1;
		if (audit_show_line(&any, false, bad[i], strlen(bad[i]), &out, &n) != -EBADMSG)
			fail_msg("'%s' taken for a record", bad[i]);
		assert_null(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_ts),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_line),
	};
	return cmocka_run_group_tests_name("audit_show", tests, NULL, NULL);
}
