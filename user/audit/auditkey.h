/* The host audit key: an Ed25519 key pair (PASERK k4) that signs the SVF chain's
 * checkpoints. It lives in the state dir, STATE/keys/audit.key (0600) and audit.pub, both
 * opened beneath the state dir's fd without following symlinks. The auditor keeps the
 * public half (printed when the key is made) and verifies with it (`calyx audit verify
 * --pub`): checkpoints then prove what the host wrote even if the state dir, audit.pub
 * included, is later changed. No logging. */
#ifndef CALYX_AUDITKEY_H
#define CALYX_AUDITKEY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/paserk.h"

#define AUDITKEY_DIR "keys"
#define AUDITKEY_SECRET "keys/audit.key"
#define AUDITKEY_PUBLIC "keys/audit.pub"

/* Load the secret key, making the pair first when there is none (*created true). 0 or
 * -errno with a message (-EPERM: the secret file is readable by group or others). */
int auditkey_load_or_create(int state_fd, uint8_t sk[PASERK_SK_BYTES], bool *created, char *err, size_t errlen);
/* Make a new pair; replace: overwrite an existing one (else -EEXIST). 0 or -errno. */
int auditkey_create(int state_fd, bool replace, uint8_t pk[PASERK_PK_BYTES], char *err, size_t errlen);
/* The public key from STATE/keys/audit.pub. 0, -ENOENT, -EINVAL (not a k4.public), -errno. */
int auditkey_load_public(int state_fd, uint8_t pk[PASERK_PK_BYTES], char *err, size_t errlen);

#endif
