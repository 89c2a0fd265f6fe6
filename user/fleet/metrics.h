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
/* The backend a run ran on: its exec_event.started names it; "other" when the log holds
 * no started record of the run (or names another). */
enum metrics_backend_label { MB_BPF_LSM, MB_LANDLOCK, MB_OTHER, MB_COUNT };

/* Upper bounds of calyx_ringbuf_peak_fill_ratio's buckets (+Inf follows). */
#define METRICS_FILL_BUCKETS 7
extern const double metrics_fill_bounds[METRICS_FILL_BUCKETS];

struct metrics_counts {
	uint64_t records;                /* audit log records read */
	/* of exec_event.completed, by the backend of the run (its exec_event.started) */
	uint64_t runs[MB_COUNT][MS_COUNT];         /* by status */
	uint64_t denials[MB_COUNT][MC_COUNT];      /* the completed runs' denials by class */
	uint64_t records_lost[MB_COUNT];           /* their dropped_events */
	uint64_t audit_only[MB_COUNT];             /* runs with audit_only true */
	uint64_t would_deny[MB_COUNT][MC_COUNT];   /* their would_deny by class */
	/* the runs' ring-buffer peak fill (ringbuf.peak_bytes / size_bytes), runs that say it */
	uint64_t fill_buckets[MB_COUNT][METRICS_FILL_BUCKETS + 1];  /* not cumulative; last: > 1 */
	uint64_t fill_count[MB_COUNT];
	double fill_sum[MB_COUNT];
	double fill_last[MB_COUNT];                /* the last such run's, in log order */
	uint64_t refused;                /* lease_event.refused */
	uint64_t violations[ML_COUNT];   /* resource_event.violation by limit */
	/* "<lease> <run>" -> backend index of each exec_event.started not completed yet (a
	 * cJSON object used as a map; the entry goes at the run's completion) */
	cJSON *started;
};

/* One resident program set, as `calyx enforcer status` sees it. */
struct metrics_backend {
	const char *name;                /* "bpf-lsm", "landlock" */
	bool up;                         /* a complete set is pinned */
	unsigned live;                   /* live sandboxes */
	unsigned slots;                  /* slots held (live or waiting to be freed) */
	uint64_t orphan_denials;         /* refusals of tasks in no live sandbox */
	uint64_t records_lost;           /* ring-buffer drops of the sandboxes it serves now */
	uint64_t ringbuf_peak_bytes;     /* the largest peak fill of their ring buffers */
	uint64_t ringbuf_bytes;          /* a ring buffer's size (0: none held) */
};

/* Count one parsed audit record. -ENOMEM when out of memory (the counts are then not to
 * be used). */
int metrics_count_record(struct metrics_counts *c, const cJSON *rec);

/* Free what counting allocated (c->started). */
void metrics_counts_release(struct metrics_counts *c);

/* The text exposition (HELP and TYPE lines, one sample a line, '\n' at the end), malloc'd;
 * NULL when out of memory. */
char *metrics_render(const struct metrics_counts *c, const struct metrics_backend *b, size_t nb);

#endif
