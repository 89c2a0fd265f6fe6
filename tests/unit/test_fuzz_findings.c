/* links: policy/pathpat sentinel/ringrec sentinel/events sentinel/jsonfmt sentinel/procs run/summary run/termout sentinel/syscall_events audit/checkpoint base/safedir base/errmsg base/fileio base/paserk base/b64url */
/* The findings of the fuzzing campaign (tests/fuzz/CAMPAIGN.md), one test each: the input
 * a target found, reduced to what it shows, with the behaviour the fix gives. Each of
 * these failed (or was undefined behaviour) before its fix. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "audit/checkpoint.h"
#include "policy/pathpat.h"
#include "run/summary.h"
#include "sentinel/events.h"
#include "sentinel/procs.h"
#include "sentinel/ringrec.h"

#define TMPDIR_NAME "calyx-fuzz-findings"
#include "tmpdir.h"

/* fuzz_pathpat: a 252-byte "DIR/" + "**" pattern. pathpat_check refused it (longer than
 * PATHPAT_MAX) but pathpat_parse took it (it stores "DIR/", two bytes shorter): the
 * matrix could hold a pattern no lease may name. Now both refuse it, and the longest
 * pattern both take is PATHPAT_MAX bytes. */
static void test_pathpat_parse_refuses_what_check_refuses(void **state)
{
	(void)state;
	char pat[PATHPAT_MAX + 2], err[256];
	struct pathpat p;
	memset(pat, 'a', sizeof pat);
	pat[0] = '/';
	memcpy(pat + PATHPAT_MAX + 1 - 3, "/**", 4);   /* PATHPAT_MAX + 1 bytes */
	assert_int_equal(strlen(pat), PATHPAT_MAX + 1);
	assert_int_equal(pathpat_check(pat, err, sizeof err), -EINVAL);
	assert_int_equal(pathpat_parse(pat, NULL, NULL, &p, err, sizeof err), -ENAMETOOLONG);
	assert_non_null(strstr(err, "longer than"));
	memmove(pat + 1, pat + 2, PATHPAT_MAX);   /* one byte shorter: PATHPAT_MAX */
	assert_int_equal(pathpat_check(pat, err, sizeof err), 0);
	assert_int_equal(pathpat_parse(pat, NULL, NULL, &p, err, sizeof err), 0);
	assert_int_equal(p.kind, PATHPAT_SUBTREE);
	assert_int_equal(strlen(p.path), PATHPAT_MAX - 2);
}

/* fuzz_records: a fork record (64 bytes, valid) whose hook field holds a socket hook.
 * event_path_source read the denial's flags, 8 bytes past the record. A record that is
 * no denial has no flags: its source is "kernel" whatever its hook says. */
static void test_path_source_of_a_fork_reads_only_the_head(void **state)
{
	(void)state;
	/* The fork record, and after it bytes that look like a denial's flags with
	 * CALYX_SOCK_PEER_RESOLVED clear: reading them would say "caller". */
	struct calyx_deny_event buf;
	memset(&buf, 0, sizeof buf);
	buf.ev.type = CALYX_EV_FORK;
	buf.ev.hook = CALYX_HOOK_SOCKET_CONNECT;
	buf.ev.size = sizeof(struct calyx_fork_event);
	assert_true(ringrec_valid(&buf, sizeof(struct calyx_fork_event)));
	assert_string_equal(event_path_source(&buf.ev), "kernel");
	/* A real socket denial still reads its flags. */
	buf.ev.type = CALYX_EV_DENY;
	buf.ev.size = sizeof buf;
	assert_true(ringrec_valid(&buf, sizeof buf));
	assert_string_equal(event_path_source(&buf.ev), "caller");
	buf.flags = CALYX_SOCK_PEER_RESOLVED;
	assert_string_equal(event_path_source(&buf.ev), "kernel");
}

/* fuzz_records (UBSan): a record whose ts_ns is near 2^64. ts_ns + mono_to_real_ns
 * overflowed int64_t (undefined; in practice it wrapped negative and the line said
 * 1970). The wall time now saturates at the largest one. */
static void test_record_time_saturates(void **state)
{
	(void)state;
	const int64_t off = (int64_t)1 << 60;
	assert_int_equal(event_real_ns(5, off), off + 5);
	assert_int_equal(event_real_ns(0xF000000000000000ull, off), INT64_MAX);
	assert_int_equal(event_real_ns((uint64_t)INT64_MAX - 5, 100), INT64_MAX);
	assert_int_equal(event_real_ns(10, -20), -10);

	struct calyx_deny_event d;
	memset(&d, 0, sizeof d);
	d.ev.type = CALYX_EV_DENY;
	d.ev.hook = CALYX_HOOK_SIGNAL;
	d.ev.size = sizeof d;
	d.ev.ts_ns = 0xF000000000000000ull;
	struct jbuf b = { 0 };
	event_format_denial(&b, &d.ev, off, NULL);
	assert_false(b.oom);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(j);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ts")),
			    "2262-04-11T23:47:16.854775Z");
	cJSON_Delete(j);
	jb_free(&b);

	/* The same for a process line's start and end. */
	struct procs t;
	procs_init(&t, off);
	struct calyx_exit_event x;
	memset(&x, 0, sizeof x);
	x.ev.type = CALYX_EV_EXIT;
	x.ev.size = sizeof x;
	x.ev.pid = x.ev.tgid = 7;
	x.ev.ts_ns = 0xF000000000000000ull;
	procs_record(&t, &x.ev, &b);
	procs_free(&t);
	assert_false(b.oom);
	assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
	j = cJSON_ParseWithLength(b.p, b.len - 1);
	assert_non_null(j);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "end")),
			    "2262-04-11T23:47:16.854775Z");
	cJSON_Delete(j);
	jb_free(&b);
}

/* fuzz_records (LeakSanitizer): an exec record of tgid 0. The process table marks a free
 * slot with tgid 0, so the entry made for it was counted but never found again: its
 * buffers leaked, and the count said one process more than the table held. Records of
 * tgid 0 (the idle task, never a sandbox's) are ignored now. */
static void test_procs_ignore_tgid_zero(void **state)
{
	(void)state;
	struct procs t;
	struct jbuf b = { 0 };
	procs_init(&t, 0);
	struct calyx_exec_event *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	x->ev.type = CALYX_EV_EXEC;
	x->ev.size = sizeof(*x);
	strcpy(x->binary, "/usr/bin/ls");
	memcpy(x->argv, "ls", 3);
	x->shown = x->argv_len = 3;
	procs_record(&t, &x->ev, &b);
	procs_note_start(&t, 0, 1, 5);
	assert_int_equal(t.n, 0);
	x->ev.pid = x->ev.tgid = 9;
	procs_record(&t, &x->ev, &b);
	assert_int_equal(t.n, 1);
	procs_flush(&t, &b);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.totals.lines, 1);
	procs_free(&t);
	jb_free(&b);
	free(x);
}

/* fuzz_records (UBSan): a socket denial of an unknown family above INT_MAX. The
 * summary's text cast the family (a u32) to int: undefined, in practice a negative
 * number. It is the family's number now. */
static void test_summary_text_of_a_large_family(void **state)
{
	(void)state;
	struct calyx_deny_event d;
	memset(&d, 0, sizeof d);
	d.ev.type = CALYX_EV_DENY;
	d.ev.hook = CALYX_HOOK_SOCKET_CREATE;
	d.ev.size = sizeof d;
	d.err = 13;
	d.family = 3823360000u;
	char text[SUMMARY_EXAMPLE_MAX];
	summary_event_text(&d.ev, text, sizeof text);
	assert_non_null(strstr(text, "family 3823360000"));
}

static void put_sidecar(const char *text)
{
	char p[128];
	snprintf(p, sizeof p, "%s/%s", dir, CHECKPOINT_SIDECAR);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* fuzz_svf: a sidecar longer than the reader's buffer was an I/O error (EFBIG: `calyx
 * audit verify` said io-error, exit EXIT_IO) where it is a malformed file (a copied
 * log is untrusted input): it is -EBADMSG now, which verify classifies as edited. So
 * are a seq or an offset that is no whole number a double holds exactly (1e300 was cast
 * to an integer: undefined). */
static void test_sidecar_malformed_not_io(void **state)
{
	(void)state;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	struct checkpoint_sidecar sc;
	char err[300];
	const char *h = "064e986659c771106fd6fdd9dcc2e85b648d56ea8594ad59cb256fe862c207b7";
	char good[256];
	snprintf(good, sizeof good, "{\"seq\":10,\"hash\":\"%s\",\"offset\":4688}\n", h);
	put_sidecar(good);
	assert_int_equal(checkpoint_sidecar_read(dfd, &sc, err, sizeof err), 0);
	assert_int_equal(sc.seq, 10);
	assert_int_equal(sc.offset, 4688);

	char big[2048];
	memset(big, ' ', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, good, strlen(good));   /* valid JSON, then more spaces than fit */
	put_sidecar(big);
	assert_int_equal(checkpoint_sidecar_read(dfd, &sc, err, sizeof err), -EBADMSG);
	assert_non_null(strstr(err, "malformed"));

	const char *bad[] = { "{\"seq\":1e300,\"hash\":\"%s\",\"offset\":0}",
			      "{\"seq\":1,\"hash\":\"%s\",\"offset\":1e300}",
			      "{\"seq\":1.5,\"hash\":\"%s\",\"offset\":0}",
			      "{\"seq\":0,\"hash\":\"%s\",\"offset\":0}",
			      "{\"seq\":1,\"hash\":\"%s\",\"offset\":-1}" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char t[256];
		snprintf(t, sizeof t, bad[i], h);
		put_sidecar(t);
		assert_int_equal(checkpoint_sidecar_read(dfd, &sc, err, sizeof err), -EBADMSG);
	}
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pathpat_parse_refuses_what_check_refuses),
		cmocka_unit_test(test_path_source_of_a_fork_reads_only_the_head),
		cmocka_unit_test(test_record_time_saturates),
		cmocka_unit_test(test_procs_ignore_tgid_zero),
		cmocka_unit_test(test_summary_text_of_a_large_family),
		cmocka_unit_test(test_sidecar_malformed_not_io),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
