/* The group ledger: a lease issued to a host group (`aud` one of audience.groups) whose
 * matrix entry names an etcd cluster (policy/matrix_ledger.h) is counted there, so
 * `runs: N` holds across every host of the group (docs/fleet.md "Group ledger"). Talks to
 * etcd v3's JSON gateway (/v3/kv/range, /v3/kv/txn) over libcurl, TLS with the matrix's
 * CA and client certificate; keys and values base64 (standard alphabet) as the gateway
 * wants, bodies built and read with cJSON. Never falls back to the local ledger. */
#ifndef CALYX_GROUP_LEDGER_H
#define CALYX_GROUP_LEDGER_H
#include <stddef.h>
#include <stdint.h>
#include "policy/matrix_ledger.h"

#define GROUP_LEDGER_ROUNDS 16   /* compare-and-put rounds lost to other hosts before giving up */
#define GROUP_LEDGER_NONCE_LEN 32 /* hex digits of the nonce a run record carries */

/* A fresh nonce for one `calyx run` (GROUP_LEDGER_NONCE_LEN hex digits and a NUL): the
 * caller writes it into its consuming record (state/recovery.h) before the transaction,
 * so a sweep can later ask etcd whether that run was counted. 0, or -ENOMEM when
 * libsodium does not initialise. */
int group_ledger_nonce(char out[GROUP_LEDGER_NONCE_LEN + 1]);

/* Consume one run of lease jti from issuer iss (runs_allowed runs in all) for host, in the
 * cluster e: one transaction that compares PREFIX/leases/<iss>/<jti>/count with what was
 * read and puts count+1 and PREFIX/leases/<iss>/<jti>/runs/<count+1> = {host, run, time,
 * nonce} atomically (nonce from group_ledger_nonce). Returns 0 and the 1-based *run_no, or
 *   -EALREADY     every run is used (the count has reached runs_allowed);
 *   -EHOSTUNREACH no endpoint answered (refused, timed out, TLS failed, an error status);
 *   -EBADMSG      an answer that cannot be trusted (not the gateway's JSON, two clusters,
 *                 a count that is not a number or above runs_allowed, a run record where
 *                 the count says none is);
 *   -EINPROGRESS  no endpoint answered the transaction that would have counted this
 *                 run: it may have been applied (the run may be used, unknown);
 *   -EBUSY        GROUP_LEDGER_ROUNDS rounds all lost to other hosts;
 *   -ELIBACC      libcurl (loaded with dlopen at the first call) missing or refusing
 *                 an option this needs;
 *   -EINVAL, -ENOMEM.
 * err names the endpoint(s) and what each said. Each request is tried once on each
 * endpoint, starting with the one that answered last; each try is bounded by e->timeout_ms. */
int group_ledger_consume(const struct etcd_conf *e, const char *iss, const char *jti,
			 uint32_t runs_allowed, const char *host, const char *nonce, uint32_t *run_no,
			 char *err, size_t errlen);

/* Which run of iss/jti, if any, etcd counted with this nonce: for the sweep of a runner
 * that died around its transaction (state/recovery.c). Reads the count and the run
 * records up to it. 0 with *run_no, -ENOENT when no run record holds the nonce (the
 * transaction was never applied: the lease was not used by that runner), or the errors
 * of group_ledger_consume (-EHOSTUNREACH, -EBADMSG, -ELIBACC, -EINVAL, -ENOMEM). */
int group_ledger_find(const struct etcd_conf *e, const char *iss, const char *jti,
		      uint32_t runs_allowed, const char *nonce, uint32_t *run_no,
		      char *err, size_t errlen);

#endif
