/* links: fleet/metrics */
/* Counting audit records into the host's metrics and their Prometheus text (fleet/metrics.h):
 * what each record type adds, that nothing a record says becomes a label, and the exact
 * bytes of the exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fleet/metrics.h"

static void count(struct metrics_counts *c, const char *json)
{
	cJSON *rec = cJSON_Parse(json);
	assert_non_null(rec);
	metrics_count_record(c, rec);
	cJSON_Delete(rec);
}

static void test_count_records(void **state)
{
	(void)state;
	struct metrics_counts c = { 0 };
	count(&c, "{\"type\":\"lease_event.verified\",\"data\":{}}");
	count(&c, "{\"type\":\"exec_event.completed\",\"data\":{\"status\":\"ok\",\"denials\":{\"exec\":1,\"file\":null,"
		  "\"net\":2,\"other\":0,\"syscall\":3},\"dropped_events\":4}}");
	count(&c, "{\"type\":\"exec_event.completed\",\"data\":{\"status\":\"violation\",\"denials\":{\"exec\":0,"
		  "\"file\":5,\"net\":1,\"other\":2,\"syscall\":0},\"dropped_events\":0}}");
	/* a sweep's completion: no denials, no dropped_events */
	count(&c, "{\"type\":\"exec_event.completed\",\"data\":{\"status\":\"abandoned\"}}");
	/* a status no calyx writes, and a negative count: "other", nothing */
	count(&c, "{\"type\":\"exec_event.completed\",\"data\":{\"status\":\"x\\\"} 9\",\"denials\":{\"net\":-7}}}");
	count(&c, "{\"type\":\"resource_event.violation\",\"data\":{\"limit\":\"output_bytes\"}}");
	count(&c, "{\"type\":\"resource_event.violation\",\"data\":{\"limit\":\"evil\\\"\"}}");
	count(&c, "{\"type\":\"lease_event.refused\",\"data\":{}}");
	count(&c, "{\"data\":{}}");
	assert_int_equal(c.records, 9);
	assert_int_equal(c.runs[MS_OK], 1);
	assert_int_equal(c.runs[MS_VIOLATION], 1);
	assert_int_equal(c.runs[MS_ABANDONED], 1);
	assert_int_equal(c.runs[MS_OTHER], 1);
	assert_int_equal(c.runs[MS_FAILED], 0);
	assert_int_equal(c.denials[MC_EXEC], 1);
	assert_int_equal(c.denials[MC_FILE], 5);
	assert_int_equal(c.denials[MC_NET], 3);
	assert_int_equal(c.denials[MC_OTHER], 2);
	assert_int_equal(c.denials[MC_SYSCALL], 3);
	assert_int_equal(c.records_lost, 4);
	assert_int_equal(c.violations[ML_OUTPUT], 1);
	assert_int_equal(c.violations[ML_OTHER], 1);
	assert_int_equal(c.refused, 1);
}

static void test_render_exact(void **state)
{
	(void)state;
	struct metrics_counts c = { .records = 12, .refused = 2, .records_lost = 1 };
	c.runs[MS_OK] = 3;
	c.runs[MS_VIOLATION] = 1;
	c.denials[MC_NET] = 4;
	c.denials[MC_SYSCALL] = 2;
	c.violations[ML_MEM] = 1;
	struct metrics_backend b[2] = {
		{ .name = "bpf-lsm" },
		{ .name = "landlock", .up = true, .live = 1, .slots = 2, .orphan_denials = 5, .records_lost = 6 },
	};
	char *t = metrics_render(&c, b, 2);
	assert_non_null(t);
	assert_string_equal(t,
		"# HELP calyx_runs_total Runs that ended, by status (exec_event.completed in the audit log).\n"
		"# TYPE calyx_runs_total counter\n"
		"calyx_runs_total{status=\"ok\"} 3\n"
		"calyx_runs_total{status=\"failed\"} 0\n"
		"calyx_runs_total{status=\"violation\"} 1\n"
		"calyx_runs_total{status=\"interrupted\"} 0\n"
		"calyx_runs_total{status=\"abandoned\"} 0\n"
		"calyx_runs_total{status=\"other\"} 0\n"
		"# HELP calyx_runs_refused_total Attempts refused before the command started (lease_event.refused).\n"
		"# TYPE calyx_runs_refused_total counter\n"
		"calyx_runs_refused_total 2\n"
		"# HELP calyx_denials_total Operations denied in the runs that ended, by class.\n"
		"# TYPE calyx_denials_total counter\n"
		"calyx_denials_total{class=\"exec\"} 0\n"
		"calyx_denials_total{class=\"file\"} 0\n"
		"calyx_denials_total{class=\"net\"} 4\n"
		"calyx_denials_total{class=\"other\"} 0\n"
		"calyx_denials_total{class=\"syscall\"} 2\n"
		"# HELP calyx_records_lost_total Event records the kernel side could not deliver (ring buffer full) in the runs that ended.\n"
		"# TYPE calyx_records_lost_total counter\n"
		"calyx_records_lost_total 1\n"
		"# HELP calyx_limit_violations_total Runs stopped by a resource limit, by limit.\n"
		"# TYPE calyx_limit_violations_total counter\n"
		"calyx_limit_violations_total{limit=\"cpu_ms\"} 0\n"
		"calyx_limit_violations_total{limit=\"mem_bytes\"} 1\n"
		"calyx_limit_violations_total{limit=\"pids\"} 0\n"
		"calyx_limit_violations_total{limit=\"wall_ms\"} 0\n"
		"calyx_limit_violations_total{limit=\"output_bytes\"} 0\n"
		"calyx_limit_violations_total{limit=\"fsize_bytes\"} 0\n"
		"calyx_limit_violations_total{limit=\"other\"} 0\n"
		"# HELP calyx_audit_log_records Records in the state dir's audit log.\n"
		"# TYPE calyx_audit_log_records gauge\n"
		"calyx_audit_log_records 12\n"
		"# HELP calyx_enforcer_up 1 when the backend's resident program set is pinned and complete.\n"
		"# TYPE calyx_enforcer_up gauge\n"
		"calyx_enforcer_up{backend=\"bpf-lsm\"} 0\n"
		"calyx_enforcer_up{backend=\"landlock\"} 1\n"
		"# HELP calyx_sandboxes_live Sandboxes the resident set serves now.\n"
		"# TYPE calyx_sandboxes_live gauge\n"
		"calyx_sandboxes_live{backend=\"bpf-lsm\"} 0\n"
		"calyx_sandboxes_live{backend=\"landlock\"} 1\n"
		"# HELP calyx_sandbox_slots_held Sandbox slots held (live, or a dead runner's not freed yet).\n"
		"# TYPE calyx_sandbox_slots_held gauge\n"
		"calyx_sandbox_slots_held{backend=\"bpf-lsm\"} 0\n"
		"calyx_sandbox_slots_held{backend=\"landlock\"} 2\n"
		"# HELP calyx_orphan_denials Refusals of tasks in no live sandbox since the resident set was loaded (its slot 0).\n"
		"# TYPE calyx_orphan_denials gauge\n"
		"calyx_orphan_denials{backend=\"bpf-lsm\"} 0\n"
		"calyx_orphan_denials{backend=\"landlock\"} 5\n"
		"# HELP calyx_live_records_lost Ring-buffer drops so far of the sandboxes held now.\n"
		"# TYPE calyx_live_records_lost gauge\n"
		"calyx_live_records_lost{backend=\"bpf-lsm\"} 0\n"
		"calyx_live_records_lost{backend=\"landlock\"} 6\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_records),
		cmocka_unit_test(test_render_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
