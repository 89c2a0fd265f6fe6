/* links: sentinel/events */
/* Kill records (struct calyx_kill_event) in events.jsonl: whether the SIGKILL was sent, the
 * argv as strings, its size and truncation. A kill that was not sent must never read as
 * one that was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "sentinel/events.h"

static struct calyx_kill_event *kill_record(int err, const char *argv, uint32_t shown, uint32_t total, uint32_t flags)
{
	struct calyx_kill_event *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.type = CALYX_EV_KILL;
	k->ev.hook = CALYX_HOOK_EXEC_ARGV;
	k->ev.err = err;
	strcpy(k->ev.path, "/usr/bin/python3");
	memcpy(k->argv, argv, shown);
	k->shown = shown;
	k->argv_len = total;
	k->argv_flags = flags;
	return k;
}

static void test_kill_sent(void **state)
{
	(void)state;
	struct calyx_kill_event *k = kill_record(9, "python3\0-c\0print(1)", 20, 20, 0);
	cJSON *j = event_to_json(&k->ev, 0);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "hook")->valuestring, "exec_argv");
	assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "exec");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "killed")));
	assert_null(cJSON_GetObjectItem(j, "kill_error"));
	cJSON *a = cJSON_GetObjectItem(j, "argv");
	assert_int_equal(cJSON_GetArraySize(a), 3);
	assert_string_equal(cJSON_GetArrayItem(a, 0)->valuestring, "python3");
	assert_string_equal(cJSON_GetArrayItem(a, 1)->valuestring, "-c");
	assert_string_equal(cJSON_GetArrayItem(a, 2)->valuestring, "print(1)");
	assert_int_equal(cJSON_GetObjectItem(j, "argv_bytes")->valueint, 20);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "argv_truncated")));
	assert_string_equal(event_svf_type(&k->ev), "exec_event.denied");
	cJSON_Delete(j);
	free(k);
}

static void test_kill_not_sent(void **state)
{
	(void)state;
	struct calyx_kill_event *k = kill_record(-1 /* -EPERM */, "x", 2, 2, 0);
	cJSON *j = event_to_json(&k->ev, 0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "killed")));
	assert_int_equal(cJSON_GetObjectItem(j, "kill_error")->valueint, 1);
	cJSON_Delete(j);
	free(k);
}

static void test_truncated_and_unread(void **state)
{
	(void)state;
	/* the shown bytes end inside an argument: the last string is the cut one */
	struct calyx_kill_event *k = kill_record(9, "hello\0aaaa", 10, 5000, CALYX_KILL_ARGV_TRUNCATED);
	cJSON *j = event_to_json(&k->ev, 0);
	cJSON *a = cJSON_GetObjectItem(j, "argv");
	assert_int_equal(cJSON_GetArraySize(a), 2);
	assert_string_equal(cJSON_GetArrayItem(a, 1)->valuestring, "aaaa");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "argv_truncated")));
	assert_int_equal(cJSON_GetObjectItem(j, "argv_bytes")->valueint, 5000);
	cJSON_Delete(j);
	free(k);
	k = kill_record(9, "", 0, 100, CALYX_KILL_ARGV_UNREAD | CALYX_KILL_ARGV_TRUNCATED);
	j = event_to_json(&k->ev, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "argv_unread")));
	assert_null(cJSON_GetObjectItem(j, "argv"));
	cJSON_Delete(j);
	free(k);
	/* a shown count past the buffer is never read past it */
	k = kill_record(9, "a", 2, 2, 0);
	k->shown = 1u << 30;
	j = event_to_json(&k->ev, 0);
	assert_non_null(cJSON_GetObjectItem(j, "argv"));
	cJSON_Delete(j);
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_sent),
		cmocka_unit_test(test_kill_not_sent),
		cmocka_unit_test(test_truncated_and_unread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
