/* links: audit/completion */
/* exec_event.completed data (audit/completion.c): one shape for the runner and the sweep,
 * taken from the run's meta.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "audit/completion.h"

static char *data_of(const struct svf_completion *c)
{
	cJSON *d = svf_completion_data(c);
	assert_non_null(d);
	char *s = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	assert_non_null(s);
	return s;
}

static void test_runner(void **state)
{
	(void)state;
	cJSON *meta = cJSON_Parse(
		"{\"schema\":1,\"lease\":\"L\",\"run\":2,\"exit_code\":0,\"signal\":null,\"calyx_exit_code\":0,"
		"\"status\":\"ok\",\"violation\":null,\"duration_ms\":9,\"artifacts\":{},"
		"\"denials\":{\"exec\":0,\"file\":1,\"net\":0,\"other\":0},\"events\":4,\"dropped_events\":0,"
		"\"fail_on_denial\":{\"enabled\":false,\"by\":null,\"denials\":1,\"exit_code_turned\":false}}");
	assert_non_null(meta);
	struct svf_completion c = { .run = 2, .meta = meta, .denials_not_logged = 3,
				    .run_dir = "LEASE-x-r2", .meta_hash = "ab" };
	char *s = data_of(&c);
	assert_string_equal(s,
		"{\"run\":2,\"status\":\"ok\",\"exit_code\":0,\"signal\":null,\"calyx_exit_code\":0,"
		"\"violation\":null,\"duration_ms\":9,\"denials\":{\"exec\":0,\"file\":1,\"net\":0,\"other\":0},"
		"\"dropped_events\":0,\"fail_on_denial\":{\"enabled\":false,\"by\":null,\"denials\":1,"
		"\"exit_code_turned\":false},\"denials_not_logged_individually\":3,\"run_dir\":\"LEASE-x-r2\","
		"\"meta_blake2b\":\"ab\"}");
	free(s);
	/* meta.json not written: no hash. */
	c.meta_hash = NULL;
	s = data_of(&c);
	assert_null(strstr(s, "meta_blake2b"));
	free(s);
	cJSON_Delete(meta);
}

static void test_sweep(void **state)
{
	(void)state;
	/* The abandoned meta.json a sweep writes has no denials or dropped_events. */
	cJSON *meta = cJSON_Parse(
		"{\"schema\":1,\"run\":1,\"end\":null,\"duration_ms\":null,\"exit_code\":null,\"signal\":null,"
		"\"calyx_exit_code\":null,\"status\":\"abandoned\",\"violation\":null}");
	assert_non_null(meta);
	struct svf_completion c = { .run = 1, .meta = meta, .denials_not_logged = -1, .run_dir = "LEASE-x",
				    .meta_hash = "cd", .by_sweep = true, .runner_pid = 4242 };
	char *s = data_of(&c);
	assert_string_equal(s,
		"{\"run\":1,\"status\":\"abandoned\",\"exit_code\":null,\"signal\":null,\"calyx_exit_code\":null,"
		"\"violation\":null,\"duration_ms\":null,\"run_dir\":\"LEASE-x\",\"meta_blake2b\":\"cd\","
		"\"runner_pid\":4242,\"completed_by\":\"sweep\"}");
	free(s);
	cJSON_Delete(meta);
}

static void test_nothing_left(void **state)
{
	(void)state;
	struct svf_completion c = { .run = 5, .denials_not_logged = -1, .run_dir = "", .by_sweep = true,
				    .runner_pid = 7 };
	char *s = data_of(&c);
	assert_string_equal(s,
		"{\"run\":5,\"status\":\"abandoned\",\"exit_code\":null,\"signal\":null,\"calyx_exit_code\":null,"
		"\"violation\":null,\"duration_ms\":null,\"run_dir\":\"\",\"runner_pid\":7,"
		"\"completed_by\":\"sweep\"}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runner),
		cmocka_unit_test(test_sweep),
		cmocka_unit_test(test_nothing_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
