/* Which single-use ledger a lease's audience uses: the matrix's `audience.ledgers`
 * (docs/matrix.md "Audience", docs/fleet.md "Group ledger"). A lease for this host, or for
 * a group without an entry (or with `local`), is counted in the host-wide local ledger; a
 * group named with `etcd:` is counted in that etcd cluster, so `runs: N` holds across every
 * host of the group. Parsing only (on the strict YAML reader); no I/O. */
#ifndef CALYX_MATRIX_LEDGER_H
#define CALYX_MATRIX_LEDGER_H
#include <stddef.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_PREFIX_MAX 128
#define ETCD_TIMEOUT_DEFAULT_MS 2000u      /* `timeout` when the entry has none */
#define ETCD_TIMEOUT_MAX_MS 60000u

/* One etcd cluster: its client URLs (all http:// or all https://), the TLS files (https
 * only: `ca` required, `cert` and `key` together or not at all), the key prefix and the
 * timeout of each request. */
struct etcd_conf {
	char *endpoints[ETCD_MAX_ENDPOINTS];
	size_t n_endpoints;
	char *ca, *cert, *key;                /* NULL when not given */
	char *prefix;                         /* "/calyx" by default; starts with '/', no trailing '/' */
	uint64_t timeout_ms;
};

struct matrix_group_ledger {
	char *group;                          /* one of audience.groups */
	struct etcd_conf etcd;
};

struct yctx;
struct yn;
struct matrix_audience;
/* `audience.ledgers` (n may be NULL: every audience local): GROUP → `local` or
 * `{etcd: {endpoints, ca, cert, key, prefix, timeout}}`, GROUP one of the audience's
 * groups. Fills a->ledgers with the etcd ones. 0, -EINVAL with the message in c, -ENOMEM. */
int matrix_ledgers_load(struct yctx *c, const struct yn *n, struct matrix_audience *a);
void matrix_group_ledger_free(struct matrix_group_ledger *g);

/* The etcd cluster the lease audience aud is counted in, or NULL (the local ledger). */
const struct etcd_conf *matrix_ledger_for(const struct matrix_audience *a, const char *aud);

#endif
