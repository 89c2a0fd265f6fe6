/* The host's calyx counters in Prometheus text format (docs/fleet.md "Metrics"), for
 * node_exporter's textfile collector. Counters come from the state dir's audit log (the
 * one record of every run that ended, exec_event.completed, and every refusal), so they
 * only grow, survive restarts and need no store of their own; gauges from the resident
 * enforcer's pinned maps at the time of writing. This part is pure: records in, text out
 * (tests/unit/test_metrics.c checks exact bytes); metrics_write.c reads and writes. */
#ifndef CALYX_FLEET_METRICS_H
#define CALYX_FLEET_METRICS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Label values, fixed sets: a record's own strings never become a label (an unknown value
 * is counted as "other"), so the output is always well formed and its size bounded. */
enum metrics_status { MS_OK, MS_FAILED, MS_VIOLATION, MS_INTERRUPTED, MS_ABANDONED, MS_OTHER, MS_COUNT };
enum metrics_class { MC_EXEC, MC_FILE, MC_NET, MC_OTHER, MC_SYSCALL, MC_COUNT };
enum metrics_limit { ML_CPU, ML_MEM, ML_PIDS, ML_WALL, ML_OUTPUT, ML_FSIZE, ML_OTHER, ML_COUNT };

struct metrics_counts {
	uint64_t records;                /* audit log records read */
	uint64_t runs[MS_COUNT];         /* exec_event.completed by status */
	uint64_t refused;                /* lease_event.refused */
	uint64_t denials[MC_COUNT];      /* the completed runs' denials by class */
	uint64_t records_lost;           /* their dropped_events */
	uint64_t violations[ML_COUNT];   /* resource_event.violation by limit */
};

/* One resident program set, as `calyx enforcer status` sees it. */
struct metrics_backend {
	const char *name;                /* "bpf-lsm", "landlock" */
	bool up;                         /* a complete set is pinned */
	unsigned live;                   /* live sandboxes */
	unsigned slots;                  /* slots held (live or waiting to be freed) */
	uint64_t orphan_denials;         /* refusals of tasks in no live sandbox */
	uint64_t records_lost;           /* ring-buffer drops of the sandboxes it serves now */
};

/* Count one parsed audit record. */
void metrics_count_record(struct metrics_counts *c, const cJSON *rec);

/* The text exposition (HELP and TYPE lines, one sample a line, '\n' at the end), malloc'd;
 * NULL when out of memory. */
char *metrics_render(const struct metrics_counts *c, const struct metrics_backend *b, size_t nb);

#endif
