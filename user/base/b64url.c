/* The base64url decoder of calyx (see b64url.h). */
#include "base/b64url.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <sodium.h>

static bool b64url_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Strict base64url (no padding). libsodium refuses non-zero trailing bits and
 * impossible lengths, but it stops quietly at '=' (so the whole span must be consumed)
 * and 1.0.18's URL-safe decoder reads every byte >= 0x80 as '_' (found by fuzz_token):
 * without the alphabet check one token would have many accepted spellings.
 * *out is malloc'd with one spare NUL byte. */
int b64url_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	size_t cap = len / 4 * 3 + 3;
	uint8_t *buf;
	const char *end = NULL;
	size_t n = 0;

	*out = NULL;
	*out_len = 0;
	for (size_t k = 0; k < len; k++)
		if (!b64url_char((unsigned char)s[k]))
			return -EINVAL;
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	if (sodium_base642bin(buf, cap, s, len, NULL, &n, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    end != s + len) {
		free(buf);
		return -EINVAL;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}
