/* exec_event.completed data: see completion.h. */
#include "audit/completion.h"

#include <stddef.h>

cJSON *svf_completion_data(const struct svf_completion *c)
{
	static const char *const from_meta[] = { "exit_code", "signal", "calyx_exit_code", "violation",
						 "duration_ms", "denials", "dropped_events", "fail_on_denial",
						 "audit_only", "would_deny", "ringbuf" };
	cJSON *d = cJSON_CreateObject();
	if (!d)
		return NULL;
	cJSON_AddNumberToObject(d, "run", c->run);
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c->meta, "status"));
	cJSON_AddStringToObject(d, "status", status ? status : "abandoned");
	for (size_t i = 0; i < sizeof(from_meta) / sizeof(from_meta[0]); i++) {
		if (!c->meta) {
			if (i < 5)   /* nothing is known of the outcome */
				cJSON_AddNullToObject(d, from_meta[i]);
			continue;
		}
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->meta, from_meta[i]);
		if (v)
			cJSON_AddItemToObject(d, from_meta[i], cJSON_Duplicate(v, 1));
	}
	/* Lost records are marked in the chain, never silent. */
	if (c->denials_not_logged >= 0)
		cJSON_AddNumberToObject(d, "denials_not_logged_individually", (double)c->denials_not_logged);
	cJSON_AddStringToObject(d, "run_dir", c->run_dir ? c->run_dir : "");
	if (c->meta_hash)
		cJSON_AddStringToObject(d, "meta_blake2b", c->meta_hash);
	if (c->by_sweep) {
		cJSON_AddNumberToObject(d, "runner_pid", c->runner_pid);
		cJSON_AddStringToObject(d, "completed_by", "sweep");
	}
	return d;
}
