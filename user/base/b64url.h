/* base64url without padding (RFC 4648 section 5), decoded strictly: the one decoder for
 * tokens, PASERK keys and `lease show`. Pure (libsodium's codec). */
#ifndef CALYX_B64URL_H
#define CALYX_B64URL_H
#include <stddef.h>
#include <stdint.h>

/* Decode exactly len bytes of s: only the 64 URL-safe characters, no '=', no bits set past
 * the end. 0 with *out malloc'd (out_len bytes plus a NUL), -EINVAL, or -ENOMEM. */
int b64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);

#endif
