/* PASETO v4.public (Ed25519 over PAE), on libsodium; its keys are PASERK k4 strings
 * (base/paserk.h). Pure: no files, no logging. Errors are negative errno plus a static
 * message. */
#ifndef CALYX_PASETO_H
#define CALYX_PASETO_H
#include <stdint.h>
#include <stddef.h>
#include "base/paserk.h"

#define PASETO_V4_PUBLIC_HEADER "v4.public."
#define PASETO_PK_BYTES PASERK_PK_BYTES
#define PASETO_SK_BYTES PASERK_SK_BYTES /* libsodium layout: seed || public key */
#define PASETO_SIG_BYTES 64
#define PASETO_MAX_TOKEN_BYTES (1u << 20) /* tokens above 1 MiB are refused unread */

/* Pre-Authentication Encoding of n pieces. *out is malloc'd; returns 0 or -ENOMEM. */
int paseto_pae(const uint8_t *const *pieces, const size_t *lens, size_t n,
	       uint8_t **out, size_t *out_len);

/* Sign m with footer f (may be empty) and implicit assertion i (may be empty).
 * *token is a malloc'd NUL-terminated string. */
int paseto_v4_sign(const uint8_t sk[PASETO_SK_BYTES],
		   const uint8_t *m, size_t m_len,
		   const uint8_t *f, size_t f_len,
		   const uint8_t *i, size_t i_len, char **token);

struct paseto_msg {
	uint8_t *payload;   /* malloc'd, payload_len bytes, plus a NUL for convenience */
	size_t payload_len;
	char *footer;       /* malloc'd NUL-terminated decoded footer ("" when none) */
	size_t footer_len;
};
void paseto_msg_free(struct paseto_msg *m);

/* Footer of an unverified token (to find the key id before choosing a key).
 * Returns 0, or -EINVAL with *err set. *footer is malloc'd and NUL-terminated. */
int paseto_v4_peek_footer(const char *token, size_t token_len, char **footer, const char **err);

/* Verify. token need not be NUL-terminated. On success returns 0 and fills msg.
 * On failure returns -EINVAL (malformed), -EBADMSG (signature), -EPROTO (wrong
 * version/purpose header) with *err describing the problem. */
int paseto_v4_verify(const uint8_t pk[PASETO_PK_BYTES],
		     const char *token, size_t token_len,
		     const uint8_t *i, size_t i_len,
		     struct paseto_msg *msg, const char **err);

#endif
