/* The CP14 verifier: token → verified lease. Shared by `calyx lease verify` and `calyx run`. */
#ifndef CALYX_VERIFY_H
#define CALYX_VERIFY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/lease.h"
#include "policy/matrix.h"

#define VERIFY_DEFAULT_SKEW_S 30

/* Verify a token: header, size, footer {"kid":"k4.pid…"} (strict JSON, only "kid"),
 * signature, claims (lease_from_json), iss == kid, times (with skew_s).
 * Key choice: pk != NULL → the footer kid must be pk's pid and pk verifies;
 *             else m != NULL → the kid must name one of m's trusted keys.
 * m != NULL → the lease must also fit m (matrix_check_lease).
 * Returns an exit code: EXIT_OK, EXIT_LEASE_INVALID (malformed, bad signature, wrong key,
 * expired, not yet valid, bad claims) or EXIT_LEASE_MATRIX (signer not trusted by m, or
 * lease outside m), with a one-line reason in err. On EXIT_OK *out is filled (lease_free it). */
int verify_lease_token(const char *token, size_t len, const uint8_t *pk, const struct matrix *m,
		       int64_t now, int64_t skew_s, struct lease *out, char *err, size_t errlen);

/* Read a token file (≤ PASETO_MAX_TOKEN_BYTES, trailing whitespace trimmed) and verify it.
 * Adds EXIT_IO for unreadable files. */
int verify_lease_file(const char *path, const uint8_t *pk, const struct matrix *m,
		      int64_t now, int64_t skew_s, struct lease *out, char *err, size_t errlen);

/* What verify_lease_file_ex tells besides the verdict, for the audit log. */
#define VERIFY_HASH_HEX 64
struct verify_info {
	char token_blake2b[VERIFY_HASH_HEX + 1]; /* BLAKE2b-256 hex of the file's bytes as read
						  * (trailing whitespace included); "" when the
						  * file could not be read */
	bool have_claims;        /* refused (65/66) although the signature verified: */
	struct lease claims;     /* its claims, signed by the key they name (verify_info_free) */
};

/* verify_lease_file, also filling *info (may be NULL). The token is read once: the hash is
 * of the bytes that were verified. Claims are kept only when the signature checked out and
 * they parsed; a token refused before that (malformed, bad signature, unknown signer) has
 * none: what it claims is nobody's word. */
int verify_lease_file_ex(const char *path, const uint8_t *pk, const struct matrix *m, int64_t now,
			 int64_t skew_s, struct lease *out, struct verify_info *info, char *err, size_t errlen);
void verify_info_free(struct verify_info *info);

/* Read a token file (as verify_lease_file does) without verifying it: for `lease show`.
 * Returns EXIT_OK with *buf malloc'd (NUL-terminated, trailing whitespace trimmed),
 * or EXIT_IO / EXIT_LEASE_INVALID (empty, larger than 1 MiB) with a message. */
int verify_read_token_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

#endif
