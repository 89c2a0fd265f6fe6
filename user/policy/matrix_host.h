/* Which lease audiences this host answers to: the matrix's `audience` (docs/matrix.md,
 * docs/lease-format.md "aud"). A lease names in its `aud` claim the host or host group it
 * was issued for; a lease for another host is refused with both names, and a lease with
 * no `aud` only where the matrix says so. Parsing is on the strict YAML reader
 * (policy/yamltree.h); the check itself is pure. */
#ifndef CALYX_MATRIX_HOST_H
#define CALYX_MATRIX_HOST_H
#include <stdbool.h>
#include <stddef.h>
#include "policy/matrix_ledger.h"

#define MATRIX_MAX_GROUPS 32
#define AUDIENCE_NAME_MAX 253   /* a DNS name's length */

struct matrix_audience {
	char *hostname;                       /* this host (default: uname -n) */
	char *groups[MATRIX_MAX_GROUPS];      /* host groups it belongs to */
	size_t n_groups;
	bool accept_without_aud;              /* default false: a lease must name its audience */
	struct matrix_group_ledger ledgers[MATRIX_MAX_GROUPS]; /* groups counted in etcd
							       * (audience.ledgers) */
	size_t n_ledgers;
};

struct yctx;
struct yn;
/* The `audience` mapping (keys hostname, groups, accept_without_aud, ledgers, each optional), or
 * the defaults when n is NULL (key absent). 0, -EINVAL with the message in c, -ENOMEM. */
int matrix_audience_load(struct yctx *c, const struct yn *n, struct matrix_audience *a);
void matrix_audience_free(struct matrix_audience *a);

/* A host or group name: 1..253 bytes of a-z A-Z 0-9 . _ -, starting with a letter or digit
 * (the `aud` claim's grammar). */
bool audience_name_ok(const char *s);

/* Does this host answer to aud (NULL: the lease has none)? 0, or -EPERM with a message
 * naming both ("lease is for host 'b' (aud), this host is 'a' (groups: x, y)"). */
int matrix_audience_check(const struct matrix_audience *a, const char *aud, char *err, size_t errlen);

#endif
