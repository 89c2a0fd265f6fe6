/* Single-use ledger, host-wide (docs/run.md "The state directory and the ledger"):
 * LEDGER/<iss>/<jti>, one file per lease holding how many runs it has had, LEDGER being
 * the directory the matrix's `ledger` names (opened by state_place_open). Read-modify-write
 * under flock, written atomically, so two concurrent `calyx run`s of one lease cannot both
 * get the last run. */
#ifndef CALYX_LEDGER_H
#define CALYX_LEDGER_H
#include <stdbool.h>
#include <stdint.h>

#define LEDGER_ISS_MAX 128

/* An issuer (the lease's `iss`, a k4.pid) usable as a directory name: 1..128 bytes of
 * A-Z a-z 0-9 . _ -, not starting with '.'. */
bool ledger_issuer_valid(const char *iss);

/* Consume one run of lease `jti` from issuer `iss` that allows `runs_allowed` runs. On
 * success returns 0 and the 1-based run number in *run_no. Returns -EALREADY when every
 * run is used, -EINVAL for a bad id or issuer, -ELOOP when a symlink sits where an entry
 * should, other -errno for I/O failures. Creates LEDGER/<iss> as needed. */
int ledger_consume(int ledger_fd, const char *iss, const char *jti, uint32_t runs_allowed,
		   uint32_t *run_no);
/* Runs consumed so far (0 when never seen), or -errno. */
int ledger_runs_used(int ledger_fd, const char *iss, const char *jti, uint32_t *used);

#endif
