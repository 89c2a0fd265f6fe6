/* Recovery of dead runs (docs/run.md "A killed runner and the sweep"). A runner writes a
 * record of its run, STATE/run/<run name>.json, once the lease is consumed and before its
 * run directory exists, and holds it locked (flock LOCK_EX) for as long as it lives; the
 * kernel drops the lock when it dies, however it dies. A later run's sweep finishes every
 * run whose record is unlocked, from the record and the SVF log: the run directory is
 * completed (meta.json with status "abandoned") or discarded (nothing ran), and the
 * exec_event.completed the runner owed is appended. A runner killed between its ledger
 * entry and lease_event.consumed is found by its consuming record: the sweep writes the
 * lease_event.consumed the ledger proves was owed (completed_by "sweep"). A run whose
 * completion record says its artifacts were not written (its temp run directory kept)
 * is moved into place by the sweep with a meta.json of status "artifacts_not_written"
 * and an exec_event.artifacts_recovered record. No logging. */
#ifndef CALYX_RECOVERY_H
#define CALYX_RECOVERY_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "state/state.h"

/* What the sweep needs to finish a run should its runner die. */
struct run_record {
	const char *lease, *intent;
	uint32_t run, runs_allowed;
	const char *run_dir;          /* final name under outgoing/staging_runs */
	const char *run_dir_tmp;      /* the hidden temp name it is built under */
	char *const *argv;
	size_t argc;
	const char *binary, *backend;
	const char *cgroup;           /* the sandbox cgroup's path */
};

/* A live runner's record: path (for messages), the fd holding its lock (-1: none), and
 * the runner records' directory with the record's name in it (removed through dirfd). */
struct run_record_lock {
	char path[PATH_MAX + 320];
	int fd;
	int dirfd;
	char name[192];
};

/* Write STATE/run/<rec->run_dir>.json (start: now), locked before it gets its name (the
 * lock follows the inode through the rename) and named under flock on STATE/run, so a
 * sweep never sees it unlocked while the runner lives. 0 with *out, or -errno with a
 * message. */
int recovery_record_write(const struct state_place *state, const struct run_record *rec,
			  struct run_record_lock *out, char *err, size_t errlen);
/* The record of a runner about to consume its lease (write the ledger): written before
 * the ledger entry, removed once lease_event.consumed is in the log, so that a runner
 * killed between the two leaves a record the sweep can check against the ledger. Named
 * CONSUMING_PREFIX<lease>-<pid>.json, "state": "consuming". For a group lease counted in
 * etcd the record names the group and the nonce of the runner's transaction instead of a
 * ledger directory: the sweep asks etcd which run, if any, holds that nonce. */
#define CONSUMING_PREFIX "consuming-"
struct consuming_record {
	const char *lease, *intent, *iss;
	uint32_t runs_allowed;
	const char *ledger;           /* the local ledger directory's path, or NULL: */
	const char *group, *nonce;    /* the group ledger (matrix audience.ledgers) and nonce */
};
int recovery_consuming_write(const struct state_place *state, const struct consuming_record *rec,
			     struct run_record_lock *out, char *err, size_t errlen);

/* Drop the record's lock; the file is removed unless keep (the run started and its
 * completion record could not be written: the next sweep writes it). Idempotent; the
 * struct must start with fd and dirfd -1. */
void recovery_record_release(struct run_record_lock *rl, bool keep);

/* What the sweep says as it goes (either may be NULL). */
struct recovery_report {
	void (*finished)(void *ctx, const char *lease, double runner_pid);  /* a run finished */
	void (*failed)(void *ctx, const char *record, const char *why);    /* kept for the next sweep */
	/* Runs the ledger at ledger_fd counts for iss/jti (state/ledger.h ledger_runs_used):
	 * the sweep of consuming records needs it; NULL: they are kept. 0 or -errno. */
	int (*ledger_used)(int ledger_fd, const char *iss, const char *jti, uint32_t *used);
	/* The run of iss/jti group's ledger counted with nonce (state/group_ledger.h
	 * group_ledger_find): 0 with *run_no, -ENOENT when none, or -errno with err said;
	 * NULL: group consuming records are kept. */
	int (*group_find)(void *ctx, const char *group, const char *iss, const char *jti, uint32_t runs_allowed,
			  const char *nonce, uint32_t *run_no, char *err, size_t errlen);
	void *ctx;
};
/* Finish the run of every unlocked record in STATE/run (a stale .json.tmp of a runner
 * killed while writing it is removed), under flock on STATE/run. Best effort: a record
 * that cannot be finished is reported and kept. 0, or -errno when STATE/run cannot be
 * made, opened or locked. */
int recovery_sweep(const struct state_place *state, const struct recovery_report *rep);

#endif
