/* The record a `calyx rollback` keeps while it works (docs/rollback.md "A killed or failed
 * rollback"): STATE/run/rollback-<run dir>-<pid>.json, "state": "rollback", written
 * (locked, through the runner records' writer) before lease_event.rollback_started and
 * removed once the log says how the rollback ended (lease_event.rolled_back or
 * lease_event.rollback_failed). The rollback holds it locked (flock LOCK_EX) while it
 * lives; a sweep that finds it unlocked finishes the dead rollback from the SVF log: a
 * lease_event.rollback_started of that process there (its pid and run_dir, at or after
 * the record's start) and no end of it: the sweep writes lease_event.rollback_interrupted
 * (completed_by "sweep"), sealed; no rollback_started: it died before touching the tree,
 * and the record just goes. No logging. */
#ifndef CALYX_ROLLREC_H
#define CALYX_ROLLREC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "state/recovery.h"
#include "state/state.h"

#define ROLLBACK_PREFIX "rollback-"
#define ROLLBACK_STATE "rollback"

/* What the sweep needs to finish a rollback should it die: the names its SVF records carry. */
struct rollback_record {
	const char *lease;            /* the lease its records are logged under */
	const char *intent;           /* NULL: none */
	const char *run_dir;          /* the run directory's name under outgoing/staging_runs */
	uint32_t run;
};

/* Write STATE/run/ROLLBACK_PREFIX<run_dir>-<pid>.json (start: now), locked, as
 * recovery_record_write (defined in recovery.c, with its writer). Released with
 * recovery_record_release. 0 with *out, or -errno with a message. */
int recovery_rollback_write(const struct state_place *state, const struct rollback_record *rec,
			    struct run_record_lock *out, char *err, size_t errlen);
/* The sweep of `calyx rollback`: recovery_sweep's, for the rollback records only (defined
 * in recovery.c). 0, or -errno when STATE/run cannot be made, opened or locked. */
int recovery_sweep_rollbacks(const struct state_place *state, const struct recovery_report *rep);

/* rec is a rollback record. */
bool rollrec_is(const cJSON *rec);

/* What the log says of one rollback process. */
struct rollrec_log {
	bool started;                 /* its lease_event.rollback_started */
	bool ended;                   /* its rolled_back, rollback_failed or rollback_interrupted */
	char started_ts[32];
};
/* Search the audit log (rotated files and svf.jsonl) beneath state_fd for the records of
 * the rollback of run_dir by pid that started at or after start (RFC 3339, as
 * svf_format_now). No log: nothing found, 0. 0 or -errno with a message. */
int rollrec_find(int state_fd, const char *lease, const char *run_dir, double pid, const char *start,
		 struct rollrec_log *out, char *err, size_t errlen);

/* Finish a dead rollback from its record (recovery_sweep's dispatch): 0 when the record
 * can go, or -errno with a message (kept for the next sweep). */
int rollrec_finish(const struct state_place *state, const cJSON *rec, char *err, size_t errlen);

#endif
