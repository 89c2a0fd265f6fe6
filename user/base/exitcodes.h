/* Process exit codes of the calyx binary. A contract: documented in README.md and
 * checked by the CLI tests. Distinct from each other; `calyx run` otherwise passes the
 * child's own code through (128+N when the child died of signal N). */
#ifndef CALYX_EXITCODES_H
#define CALYX_EXITCODES_H

enum calyx_exit {
	EXIT_OK = 0,
	EXIT_FAILURE_GENERIC = 1,     /* only for "verification said no" style booleans */
	EXIT_USAGE = 64,              /* bad command line */
	EXIT_LEASE_INVALID = 65,      /* malformed, bad signature, expired, not yet valid, bad claims */
	EXIT_LEASE_MATRIX = 66,       /* lease valid but outside the capability matrix / untrusted signer */
	EXIT_LEASE_REPLAYED = 67,     /* single-use ledger: lease already consumed */
	EXIT_CMD_NOT_ALLOWED = 68,    /* argv matches none of the lease's commands, or binary missing */
	EXIT_ENFORCE_UNAVAILABLE = 69,/* required enforcement backend cannot work on this kernel */
	EXIT_INTERNAL = 70,           /* bug or unexpected kernel/library failure */
	EXIT_KEY_EXISTS = 73,         /* keygen refused to overwrite */
	EXIT_IO = 74,                 /* file could not be read or written */
	EXIT_ENFORCER_BUSY = 75,      /* the resident program set serves live sandboxes: `enforcer stop`
				       * refused, or a set of another build cannot be replaced yet */
	EXIT_ROLLBACK_CHANGED = 76,   /* rollback: the paths changed again after the run (--force) */
	EXIT_ROLLBACK_REFUSED = 77,   /* rollback: the pack or its manifest refused (hostile, damaged,
				       * not the one the run's meta.json names) */
	EXIT_CONFIG = 78,             /* capability matrix malformed */
	/* The audit log does not verify (`calyx audit verify`; `calyx run` refuses to append
	 * with the same code): docs/audit.md "Exit codes". */
	EXIT_AUDIT_EDITED = 80,
	EXIT_AUDIT_DELETED = 81,
	EXIT_AUDIT_INSERTED = 82,
	EXIT_AUDIT_REORDERED = 83,
	EXIT_AUDIT_TRUNCATED = 84,    /* whole records cut off the end (the log ends before its last checkpoint) */
	EXIT_AUDIT_CUT_RECORD = 85,   /* the last record cut mid-line: `calyx audit repair` */
	EXIT_AUDIT_BAD_SIGNATURE = 86,
	EXIT_AUDIT_UNSIGNED = 87,     /* records after the last checkpoint, or the checkpoint file gone */
	EXIT_ROLLBACK_MISMATCH = 79,  /* rollback: the restored tree differs from the manifest */
	EXIT_NO_RUN = 88,             /* `report`, `lease suggest`: no run directory of that name in
				       * the state dir */
	EXIT_RUN_DAMAGED = 89,        /* `report`, `lease suggest`: the run's meta.json is missing, not
				       * JSON, or another run's record; `lease suggest`: no claims of
				       * the run in the audit log */
	EXIT_LIMIT = 123,             /* sandboxed command killed for a resource limit */
	EXIT_TIMEOUT = 124,           /* sandboxed command killed at the wall-clock limit */
	EXIT_DENIED = 125,            /* fail_on_denial: the command exited 0, but something it
				       * tried was denied */
	EXIT_GROUP_LEDGER = 90,       /* a group lease's etcd ledger unreachable, timed out or not
				       * to be trusted: nothing ran (docs/fleet.md "Group ledger") */
};

#endif
