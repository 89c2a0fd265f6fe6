/* Key files: a secret key (PASERK k4.secret, only its owner may read it) and a public key
 * (k4.public), each one line. No logging: -errno plus a message. */
#ifndef CALYX_KEYS_H
#define CALYX_KEYS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/paserk.h"

/* Read a PASERK key file. Secret key files that are group- or world-readable are refused
 * (-EPERM). Returns 0, -EPERM, -EINVAL (not a k4 key), -errno (I/O). */
int keyfile_read_secret(const char *path, uint8_t sk[PASERK_SK_BYTES], char *err, size_t errlen);
int keyfile_read_public(const char *path, uint8_t pk[PASERK_PK_BYTES], char *err, size_t errlen);

/* Write a key pair: sk_path mode 0600 from the start (never chmod'ed down), then pk_path
 * 0644, each atomically. Without replace an existing file is never overwritten (-EEXIST),
 * and a secret key whose public half could not be written is removed again. 0 or -errno
 * with a message. */
int keyfile_write_pair(const char *sk_path, const char *pk_path, const uint8_t sk[PASERK_SK_BYTES],
		       const uint8_t pk[PASERK_PK_BYTES], bool replace, char *err, size_t errlen);

#endif
