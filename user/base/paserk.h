/* PASERK k4 key strings: k4.secret, k4.public and the key id k4.pid, on libsodium. The
 * key format every layer names keys in (the matrix's trusted keys, key files, token
 * footers), so it sits below all of them. Pure: no files, no logging. */
#ifndef CALYX_PASERK_H
#define CALYX_PASERK_H
#include <stdint.h>

#define PASERK_PK_BYTES 32
#define PASERK_SK_BYTES 64            /* libsodium layout: seed || public key */

/* PASERK k4.secret / k4.public / k4.pid. Encoders return malloc'd strings or NULL. */
char *paserk_k4_secret_encode(const uint8_t sk[PASERK_SK_BYTES]);
char *paserk_k4_public_encode(const uint8_t pk[PASERK_PK_BYTES]);
/* pid of a public key: "k4.pid." + b64url(BLAKE2b-264("k4.pid." || k4.public string)). */
char *paserk_k4_pid(const uint8_t pk[PASERK_PK_BYTES]);
/* Decoders accept surrounding whitespace (a trailing newline in a key file).
 * Return 0 or -EINVAL. k4.secret is checked for a consistent public half. */
int paserk_k4_secret_decode(const char *s, uint8_t sk[PASERK_SK_BYTES]);
int paserk_k4_public_decode(const char *s, uint8_t pk[PASERK_PK_BYTES]);

#endif
