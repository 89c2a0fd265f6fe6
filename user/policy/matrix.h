/* Capability matrix: host policy every lease must fit inside. Parsed strictly with
 * libyaml from policies/capability_matrix.yaml (schema in docs/matrix.md). Errors name
 * "file:line:column: key.path: problem". No logging; no side effects but reading the file. */
#ifndef CALYX_MATRIX_H
#define CALYX_MATRIX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "base/paserk.h"
#include "policy/backend.h"
#include "policy/lease.h"
#include "policy/matrix_host.h"

#define MATRIX_MAX_KEYS 32
#define MATRIX_MAX_ROOTS 32
#define MATRIX_MAX_BASELINE 64
#define MATRIX_MAX_BOUNDS 64
#define MATRIX_LEDGER_DEFAULT "/var/lib/calyx/ledger"   /* `ledger` when the matrix has none */
#define MATRIX_ROLLBACK_MAX_DEFAULT (256ull << 20)      /* `rollback_max_bytes` when the matrix has none */

struct matrix_key {
	char *name;
	uint8_t pk[PASERK_PK_BYTES];
	char *pid;                 /* k4.pid of pk, computed at load */
};
struct matrix_root { char *name; char *dir; };
struct matrix_bound { char *pattern; enum path_access access; };

#define MATRIX_HASH_HEX 64

struct matrix {
	char *source;              /* file name used in messages ("<shipped>" for the built-in one) */
	char blake2b[MATRIX_HASH_HEX + 1]; /* BLAKE2b-256 hex of the bytes it was loaded from (the
					    * audit log names the policy a run was checked
					    * against); kept when the load fails as malformed */
	bool exec_staging_with_lease;
	uint64_t max_lease_ttl_ms;
	uint32_t max_runs;
	uint64_t clock_skew_ms;
	struct matrix_key keys[MATRIX_MAX_KEYS];   size_t n_keys;
	struct matrix_root roots[MATRIX_MAX_ROOTS]; size_t n_roots;
	char *baseline[MATRIX_MAX_BASELINE];       size_t n_baseline;  /* read-only runtime baseline patterns */
	struct matrix_bound bounds[MATRIX_MAX_BOUNDS]; size_t n_bounds; /* where lease paths may point */
	struct limits default_limits;              /* fsize may be unset in both: then no bound */
	struct limits max_limits;
	bool unenforceable_warn;                   /* unenforceable_limits: warn (optional key;
						    * default refuse): a limit no mechanism here
						    * can enforce is run without, and said */
	uid_t run_as_uid;
	gid_t run_as_gid;
	enum net_policy network;                   /* NET_ALLOW: leases may ask for allow rules
						    * within net_allow (docs/matrix.md) */
	struct net_rule net_allow[NETRULE_MAX];    size_t n_net_allow;
	enum enforce_backend enforcement;          /* required backend; AUTO = any that works */
	unsigned seccomp_allow;                    /* SECCOMP_GROUP_BIT()s the matrix relaxes; 0 when
	                                            * the optional `seccomp` key is absent */
	char *ledger;                              /* the host-wide single-use ledger directory
						    * (optional key; default MATRIX_LEDGER_DEFAULT) */
	struct matrix_audience audience;           /* which lease `aud` this host answers to */
	bool fail_on_denial;                       /* a run whose command exits 0 but had
						    * something denied exits 125 (optional key,
						    * default false) */
	bool audit_only_allowed;                   /* `audit_only: allow` (optional key,
						    * default deny): calyx run --audit-only */
	char *metrics_textfile;                    /* metrics.textfile: the Prometheus text file
						    * runs and `calyx enforcer metrics` write
						    * (optional; NULL: none) */
	uint64_t rollback_max_bytes;               /* the most a run's rollback pack may hold
						    * (optional key, > 0, default
						    * MATRIX_ROLLBACK_MAX_DEFAULT): over it the run
						    * is refused before the lease is used */
};

/* Load from a file / from a buffer. Returns 0, or -EINVAL (schema/syntax) / -EIO (read)
 * with a message in err ("file:line:col: limits.max.mem: bad size '12Q'"). */
int matrix_load_file(const char *path, struct matrix *m, char *err, size_t errlen);
int matrix_load_buffer(const char *name, const char *buf, size_t len, struct matrix *m,
		       char *err, size_t errlen);
/* The matrix compiled into the binary (policies/capability_matrix.yaml at build time). */
int matrix_load_shipped(struct matrix *m, char *err, size_t errlen);
/* The host's matrix file when no --matrix is given: path (the installed
 * /etc/calyx/capability_matrix.yaml) unless nothing is there, NULL then (the shipped one
 * is used). Anything at path that is not a readable matrix is its own error when loaded,
 * never a reason to fall back to the shipped one: a host policy that is there but broken
 * fails closed. Only ENOENT means "no file". */
const char *matrix_host_file(const char *path);
void matrix_free(struct matrix *m);

/* Add a trusted key (used by `--pub FILE` with the shipped matrix). 0 or -ENOSPC/-ENOMEM. */
int matrix_trust_key(struct matrix *m, const char *name, const uint8_t pk[PASERK_PK_BYTES]);
/* Key whose pid equals kid, or NULL. */
const struct matrix_key *matrix_find_key(const struct matrix *m, const char *kid);
/* Root dir for repo://NAME, or NULL. Fits pathpat_root_fn (ctx = the matrix). */
const char *matrix_root_lookup(const char *name, void *matrix);

/* Does the (already signature- and time-checked) lease fit? Returns 0 or -EPERM with a
 * message naming the claim and the bound ("claim 'limits.mem_bytes' = 1G exceeds the
 * matrix maximum 512M"). */
int matrix_check_lease(const struct matrix *m, const struct lease *l, char *err, size_t errlen);

/* Lease limits with the matrix defaults filled in for what the lease leaves unset. */
void matrix_effective_limits(const struct matrix *m, const struct lease *l, struct limits *out);

#endif
