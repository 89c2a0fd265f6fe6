/* Single-use ledger in the state dir: STATE/ledger/<lease id>, one file per lease holding
 * how many runs it has had. Read-modify-write under flock, written atomically, so two
 * concurrent `calyx run`s of one lease cannot both get the last run. */
#ifndef CALYX_LEDGER_H
#define CALYX_LEDGER_H
#include <stdint.h>

/* Consume one run of lease `jti` that allows `runs_allowed` runs. On success returns 0
 * and the 1-based run number in *run_no. Returns -EALREADY when every run is used,
 * -EINVAL for a bad id, other -errno for I/O failures. Creates STATE/ledger as needed. */
int ledger_consume(const char *state_dir, const char *jti, uint32_t runs_allowed, uint32_t *run_no);
/* Runs consumed so far (0 when never seen), or -errno. */
int ledger_runs_used(const char *state_dir, const char *jti, uint32_t *used);

#endif
