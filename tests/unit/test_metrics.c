/* links: fleet/metrics */
/* Counting audit records into the host's metrics and their Prometheus text (fleet/metrics.h):
 * what each record type adds, that a completed run counts under the backend its
 * exec_event.started names (and "other" without one), audit-only runs and their would-deny
 * counts, the ring-buffer fill histogram's buckets, that nothing a record says becomes a
 * label, and the exact bytes of the exposition. */
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
	assert_int_equal(metrics_count_record(c, rec), 0);
	cJSON_Delete(rec);
}

static void test_count_records(void **state)
{
	(void)state;
	struct metrics_counts c = { 0 };
	count(&c, "{\"type\":\"lease_event.verified\",\"data\":{}}");
	count(&c, "{\"type\":\"exec_event.started\",\"lease\":\"L1\",\"data\":{\"run\":1,\"backend\":\"landlock\"}}");
	count(&c, "{\"type\":\"exec_event.started\",\"lease\":\"L1\",\"data\":{\"run\":2,\"backend\":\"bpf-lsm\"}}");
	/* another lease's run 1, started on a backend no calyx names: "other" */
	count(&c, "{\"type\":\"exec_event.started\",\"lease\":\"L2\",\"data\":{\"run\":1,\"backend\":\"x\\\"\"}}");
	/* L1 run 2 ends first: bpf-lsm, half its ring at the peak */
	count(&c, "{\"type\":\"exec_event.completed\",\"lease\":\"L1\",\"data\":{\"run\":2,\"status\":\"violation\","
		  "\"denials\":{\"exec\":0,\"file\":5,\"net\":1,\"other\":2,\"syscall\":0},\"dropped_events\":0,"
		  "\"ringbuf\":{\"peak_bytes\":1024,\"size_bytes\":2048}}}");
	count(&c, "{\"type\":\"exec_event.completed\",\"lease\":\"L1\",\"data\":{\"run\":1,\"status\":\"ok\","
		  "\"denials\":{\"exec\":1,\"file\":null,\"net\":2,\"other\":0,\"syscall\":3},\"dropped_events\":4,"
		  "\"ringbuf\":{\"peak_bytes\":2048,\"size_bytes\":2048}}}");
	/* an audit-only run on landlock: would_deny counted, its denials 0 */
	count(&c, "{\"type\":\"exec_event.started\",\"lease\":\"L3\",\"data\":{\"run\":1,\"backend\":\"landlock\"}}");
	count(&c, "{\"type\":\"exec_event.completed\",\"lease\":\"L3\",\"data\":{\"run\":1,\"status\":\"ok\","
		  "\"denials\":{\"exec\":0,\"file\":null,\"net\":0,\"other\":0,\"syscall\":0},\"audit_only\":true,"
		  "\"would_deny\":{\"exec\":1,\"file\":0,\"net\":2,\"other\":0,\"syscall\":3},"
		  "\"ringbuf\":{\"peak_bytes\":100,\"size_bytes\":2048}}}");
	/* a second completion of L1 run 1 (no started record left): "other" */
	count(&c, "{\"type\":\"exec_event.completed\",\"lease\":\"L1\",\"data\":{\"run\":1,\"status\":\"ok\","
		  "\"audit_only\":false}}");
	/* a sweep's completion of L2 run 1: no denials, no dropped_events, no ringbuf */
	count(&c, "{\"type\":\"exec_event.completed\",\"lease\":\"L2\",\"data\":{\"run\":1,\"status\":\"abandoned\"}}");
	/* a status no calyx writes, a negative count, a ring size 0: "other", nothing */
	count(&c, "{\"type\":\"exec_event.completed\",\"data\":{\"status\":\"x\\\"} 9\",\"denials\":{\"net\":-7},"
		  "\"ringbuf\":{\"peak_bytes\":5,\"size_bytes\":0}}}");
	count(&c, "{\"type\":\"resource_event.violation\",\"data\":{\"limit\":\"output_bytes\"}}");
	count(&c, "{\"type\":\"resource_event.violation\",\"data\":{\"limit\":\"evil\\\"\"}}");
	count(&c, "{\"type\":\"lease_event.refused\",\"data\":{}}");
	count(&c, "{\"data\":{}}");
	assert_int_equal(c.records, 15);
	assert_int_equal(c.runs[MB_LANDLOCK][MS_OK], 2);
	assert_int_equal(c.runs[MB_BPF_LSM][MS_VIOLATION], 1);
	assert_int_equal(c.runs[MB_OTHER][MS_ABANDONED], 1);
	assert_int_equal(c.runs[MB_OTHER][MS_OK], 1);
	assert_int_equal(c.runs[MB_OTHER][MS_OTHER], 1);
	assert_int_equal(c.runs[MB_BPF_LSM][MS_OK] + c.runs[MB_LANDLOCK][MS_VIOLATION] + c.runs[MB_LANDLOCK][MS_ABANDONED], 0);
	for (size_t k = 0; k < MB_COUNT; k++)
		assert_int_equal(c.runs[k][MS_FAILED], 0);
	assert_int_equal(c.denials[MB_LANDLOCK][MC_EXEC], 1);
	assert_int_equal(c.denials[MB_LANDLOCK][MC_FILE], 0);
	assert_int_equal(c.denials[MB_LANDLOCK][MC_NET], 2);
	assert_int_equal(c.denials[MB_LANDLOCK][MC_SYSCALL], 3);
	assert_int_equal(c.denials[MB_BPF_LSM][MC_FILE], 5);
	assert_int_equal(c.denials[MB_BPF_LSM][MC_NET], 1);
	assert_int_equal(c.denials[MB_BPF_LSM][MC_OTHER], 2);
	assert_int_equal(c.denials[MB_OTHER][MC_NET], 0);
	assert_int_equal(c.records_lost[MB_LANDLOCK], 4);
	assert_int_equal(c.records_lost[MB_BPF_LSM] + c.records_lost[MB_OTHER], 0);
	assert_int_equal(c.audit_only[MB_LANDLOCK], 1);
	assert_int_equal(c.audit_only[MB_BPF_LSM] + c.audit_only[MB_OTHER], 0);
	assert_int_equal(c.would_deny[MB_LANDLOCK][MC_EXEC], 1);
	assert_int_equal(c.would_deny[MB_LANDLOCK][MC_NET], 2);
	assert_int_equal(c.would_deny[MB_LANDLOCK][MC_SYSCALL], 3);
	assert_int_equal(c.would_deny[MB_LANDLOCK][MC_FILE] + c.would_deny[MB_LANDLOCK][MC_OTHER], 0);
	/* fill: bpf-lsm 0.5 (bucket le 0.5), landlock 1 (le 1) then 100/2048 (le 0.05) */
	assert_int_equal(c.fill_count[MB_BPF_LSM], 1);
	assert_int_equal(c.fill_buckets[MB_BPF_LSM][3], 1);
	assert_int_equal(c.fill_count[MB_LANDLOCK], 2);
	assert_int_equal(c.fill_buckets[MB_LANDLOCK][6], 1);
	assert_int_equal(c.fill_buckets[MB_LANDLOCK][0], 1);
	assert_int_equal(c.fill_count[MB_OTHER], 0);
	assert_true(c.fill_last[MB_LANDLOCK] == 100.0 / 2048);
	assert_true(c.fill_last[MB_BPF_LSM] == 0.5);
	assert_true(c.fill_sum[MB_LANDLOCK] == 1 + 100.0 / 2048);
	assert_int_equal(c.violations[ML_OUTPUT], 1);
	assert_int_equal(c.violations[ML_OTHER], 1);
	assert_int_equal(c.refused, 1);
	/* every started run completed: nothing pending */
	assert_int_equal(cJSON_GetArraySize(c.started), 0);
	metrics_counts_release(&c);
	assert_null(c.started);
}

/* A run still live at the write: its started record waits, its counts are not there. */
static void test_started_pending(void **state)
{
	(void)state;
	struct metrics_counts c = { 0 };
	count(&c, "{\"type\":\"exec_event.started\",\"lease\":\"L1\",\"data\":{\"run\":1,\"backend\":\"bpf-lsm\"}}");
	count(&c, "{\"type\":\"exec_event.started\",\"lease\":\"L1\",\"data\":{\"run\":2,\"backend\":\"landlock\"}}");
	count(&c, "{\"type\":\"exec_event.completed\",\"lease\":\"L1\",\"data\":{\"run\":2,\"status\":\"failed\"}}");
	assert_int_equal(cJSON_GetArraySize(c.started), 1);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(c.started, "L1 1"));
	assert_int_equal(c.runs[MB_LANDLOCK][MS_FAILED], 1);
	assert_int_equal(c.runs[MB_BPF_LSM][MS_FAILED] + c.runs[MB_BPF_LSM][MS_OK], 0);
	metrics_counts_release(&c);
}

static void test_render_exact(void **state)
{
	(void)state;
	struct metrics_counts c = { .records = 12, .refused = 2 };
	c.runs[MB_LANDLOCK][MS_OK] = 3;
	c.runs[MB_BPF_LSM][MS_VIOLATION] = 1;
	c.runs[MB_OTHER][MS_ABANDONED] = 1;
	c.audit_only[MB_LANDLOCK] = 1;
	c.denials[MB_LANDLOCK][MC_NET] = 4;
	c.denials[MB_BPF_LSM][MC_SYSCALL] = 2;
	c.would_deny[MB_LANDLOCK][MC_NET] = 7;
	c.records_lost[MB_BPF_LSM] = 1;
	c.fill_buckets[MB_LANDLOCK][0] = 2;   /* two runs at most 0.05 */
	c.fill_buckets[MB_LANDLOCK][5] = 1;   /* one in (0.75, 0.9] */
	c.fill_count[MB_LANDLOCK] = 3;
	c.fill_sum[MB_LANDLOCK] = 0.875;
	c.fill_last[MB_LANDLOCK] = 0.0625;
	c.violations[ML_MEM] = 1;
	struct metrics_backend b[2] = {
		{ .name = "bpf-lsm" },
		{ .name = "landlock", .up = true, .live = 1, .slots = 2, .orphan_denials = 5, .records_lost = 6,
		  .ringbuf_peak_bytes = 512, .ringbuf_bytes = 2048 },
	};
	char *t = metrics_render(&c, b, 2);
	assert_non_null(t);
	assert_string_equal(t,
		"# HELP calyx_runs_total Runs that ended, by backend and status (exec_event.completed in the audit log).\n"
		"# TYPE calyx_runs_total counter\n"
		"calyx_runs_total{backend=\"bpf-lsm\",status=\"ok\"} 0\n"
		"calyx_runs_total{backend=\"bpf-lsm\",status=\"failed\"} 0\n"
		"calyx_runs_total{backend=\"bpf-lsm\",status=\"violation\"} 1\n"
		"calyx_runs_total{backend=\"bpf-lsm\",status=\"interrupted\"} 0\n"
		"calyx_runs_total{backend=\"bpf-lsm\",status=\"abandoned\"} 0\n"
		"calyx_runs_total{backend=\"bpf-lsm\",status=\"other\"} 0\n"
		"calyx_runs_total{backend=\"landlock\",status=\"ok\"} 3\n"
		"calyx_runs_total{backend=\"landlock\",status=\"failed\"} 0\n"
		"calyx_runs_total{backend=\"landlock\",status=\"violation\"} 0\n"
		"calyx_runs_total{backend=\"landlock\",status=\"interrupted\"} 0\n"
		"calyx_runs_total{backend=\"landlock\",status=\"abandoned\"} 0\n"
		"calyx_runs_total{backend=\"landlock\",status=\"other\"} 0\n"
		"calyx_runs_total{backend=\"other\",status=\"ok\"} 0\n"
		"calyx_runs_total{backend=\"other\",status=\"failed\"} 0\n"
		"calyx_runs_total{backend=\"other\",status=\"violation\"} 0\n"
		"calyx_runs_total{backend=\"other\",status=\"interrupted\"} 0\n"
		"calyx_runs_total{backend=\"other\",status=\"abandoned\"} 1\n"
		"calyx_runs_total{backend=\"other\",status=\"other\"} 0\n"
		"# HELP calyx_runs_audit_only_total Runs that ended that ran in audit-only mode, by backend.\n"
		"# TYPE calyx_runs_audit_only_total counter\n"
		"calyx_runs_audit_only_total{backend=\"bpf-lsm\"} 0\n"
		"calyx_runs_audit_only_total{backend=\"landlock\"} 1\n"
		"calyx_runs_audit_only_total{backend=\"other\"} 0\n"
		"# HELP calyx_runs_refused_total Attempts refused before the command started (lease_event.refused).\n"
		"# TYPE calyx_runs_refused_total counter\n"
		"calyx_runs_refused_total 2\n"
		"# HELP calyx_denials_total Operations denied in the runs that ended, by backend and class.\n"
		"# TYPE calyx_denials_total counter\n"
		"calyx_denials_total{backend=\"bpf-lsm\",class=\"exec\"} 0\n"
		"calyx_denials_total{backend=\"bpf-lsm\",class=\"file\"} 0\n"
		"calyx_denials_total{backend=\"bpf-lsm\",class=\"net\"} 0\n"
		"calyx_denials_total{backend=\"bpf-lsm\",class=\"other\"} 0\n"
		"calyx_denials_total{backend=\"bpf-lsm\",class=\"syscall\"} 2\n"
		"calyx_denials_total{backend=\"landlock\",class=\"exec\"} 0\n"
		"calyx_denials_total{backend=\"landlock\",class=\"file\"} 0\n"
		"calyx_denials_total{backend=\"landlock\",class=\"net\"} 4\n"
		"calyx_denials_total{backend=\"landlock\",class=\"other\"} 0\n"
		"calyx_denials_total{backend=\"landlock\",class=\"syscall\"} 0\n"
		"calyx_denials_total{backend=\"other\",class=\"exec\"} 0\n"
		"calyx_denials_total{backend=\"other\",class=\"file\"} 0\n"
		"calyx_denials_total{backend=\"other\",class=\"net\"} 0\n"
		"calyx_denials_total{backend=\"other\",class=\"other\"} 0\n"
		"calyx_denials_total{backend=\"other\",class=\"syscall\"} 0\n"
		"# HELP calyx_would_deny_total Operations audit-only runs that ended allowed and recorded as would-deny, by backend and class.\n"
		"# TYPE calyx_would_deny_total counter\n"
		"calyx_would_deny_total{backend=\"bpf-lsm\",class=\"exec\"} 0\n"
		"calyx_would_deny_total{backend=\"bpf-lsm\",class=\"file\"} 0\n"
		"calyx_would_deny_total{backend=\"bpf-lsm\",class=\"net\"} 0\n"
		"calyx_would_deny_total{backend=\"bpf-lsm\",class=\"other\"} 0\n"
		"calyx_would_deny_total{backend=\"bpf-lsm\",class=\"syscall\"} 0\n"
		"calyx_would_deny_total{backend=\"landlock\",class=\"exec\"} 0\n"
		"calyx_would_deny_total{backend=\"landlock\",class=\"file\"} 0\n"
		"calyx_would_deny_total{backend=\"landlock\",class=\"net\"} 7\n"
		"calyx_would_deny_total{backend=\"landlock\",class=\"other\"} 0\n"
		"calyx_would_deny_total{backend=\"landlock\",class=\"syscall\"} 0\n"
		"calyx_would_deny_total{backend=\"other\",class=\"exec\"} 0\n"
		"calyx_would_deny_total{backend=\"other\",class=\"file\"} 0\n"
		"calyx_would_deny_total{backend=\"other\",class=\"net\"} 0\n"
		"calyx_would_deny_total{backend=\"other\",class=\"other\"} 0\n"
		"calyx_would_deny_total{backend=\"other\",class=\"syscall\"} 0\n"
		"# HELP calyx_records_lost_total Event records the kernel side could not deliver (ring buffer full) in the runs that ended, by backend.\n"
		"# TYPE calyx_records_lost_total counter\n"
		"calyx_records_lost_total{backend=\"bpf-lsm\"} 1\n"
		"calyx_records_lost_total{backend=\"landlock\"} 0\n"
		"calyx_records_lost_total{backend=\"other\"} 0\n"
		"# HELP calyx_ringbuf_peak_fill_ratio Peak fill of each run's ring buffer (peak bytes held / its size) in the runs that ended, by backend.\n"
		"# TYPE calyx_ringbuf_peak_fill_ratio histogram\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"0.05\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"0.1\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"0.25\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"0.5\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"0.75\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"0.9\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"1\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"bpf-lsm\",le=\"+Inf\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_sum{backend=\"bpf-lsm\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_count{backend=\"bpf-lsm\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"0.05\"} 2\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"0.1\"} 2\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"0.25\"} 2\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"0.5\"} 2\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"0.75\"} 2\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"0.9\"} 3\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"1\"} 3\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"landlock\",le=\"+Inf\"} 3\n"
		"calyx_ringbuf_peak_fill_ratio_sum{backend=\"landlock\"} 0.875\n"
		"calyx_ringbuf_peak_fill_ratio_count{backend=\"landlock\"} 3\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"0.05\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"0.1\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"0.25\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"0.5\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"0.75\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"0.9\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"1\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_bucket{backend=\"other\",le=\"+Inf\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_sum{backend=\"other\"} 0\n"
		"calyx_ringbuf_peak_fill_ratio_count{backend=\"other\"} 0\n"
		"# HELP calyx_ringbuf_last_peak_fill_ratio Peak fill of the ring buffer of the last run that ended, by backend (0 before the first).\n"
		"# TYPE calyx_ringbuf_last_peak_fill_ratio gauge\n"
		"calyx_ringbuf_last_peak_fill_ratio{backend=\"bpf-lsm\"} 0\n"
		"calyx_ringbuf_last_peak_fill_ratio{backend=\"landlock\"} 0.0625\n"
		"calyx_ringbuf_last_peak_fill_ratio{backend=\"other\"} 0\n"
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
		"calyx_live_records_lost{backend=\"landlock\"} 6\n"
		"# HELP calyx_live_ringbuf_peak_fill_ratio The largest peak fill so far of the ring buffers of the sandboxes held now (0 when none).\n"
		"# TYPE calyx_live_ringbuf_peak_fill_ratio gauge\n"
		"calyx_live_ringbuf_peak_fill_ratio{backend=\"bpf-lsm\"} 0\n"
		"calyx_live_ringbuf_peak_fill_ratio{backend=\"landlock\"} 0.25\n");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_records),
		cmocka_unit_test(test_started_pending),
		cmocka_unit_test(test_render_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
