/* The data of exec_event.completed (docs/run.md "SVF audit log"), built in one place for
 * both writers: the runner, completing its own run, and a later run's sweep, completing
 * the run of a runner that died. The record repeats what the run's meta.json says of the
 * outcome, so the two can never disagree. Pure (cJSON only). */
#ifndef CALYX_COMPLETION_H
#define CALYX_COMPLETION_H
#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct svf_completion {
	uint32_t run;
	/* The run's meta.json: status, exit_code, signal, calyx_exit_code, violation,
	 * duration_ms, denials, dropped_events, fail_on_denial, audit_only, would_deny, ringbuf are
	 * copied from it, the keys it lacks left out.
	 * NULL (none is left): status "abandoned", exit_code, signal, calyx_exit_code,
	 * violation and duration_ms null. */
	const cJSON *meta;
	int64_t denials_not_logged;   /* denials past the per-class cap; < 0: not known (sweep) */
	const char *run_dir;          /* its name under outgoing/staging_runs, "" when gone */
	const char *meta_hash;        /* BLAKE2b-256 of meta.json, NULL when it was not written */
	bool by_sweep;                /* then runner_pid and completed_by "sweep" follow */
	double runner_pid;
};

/* {run, status, exit_code, signal, calyx_exit_code, violation, duration_ms, denials,
 * dropped_events, fail_on_denial, audit_only, would_deny, ringbuf, denials_not_logged_individually, run_dir, meta_blake2b,
 * runner_pid, completed_by}, in this order, each as described above. NULL on allocation failure. */
cJSON *svf_completion_data(const struct svf_completion *c);

#endif
