/* PASERK k4 key strings on libsodium (see paserk.h). */
#include "base/paserk.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/b64url.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define PASERK_SECRET "k4.secret."
#define PASERK_PUBLIC "k4.public."
#define PASERK_PID "k4.pid."
#define PASERK_PID_HASH_BYTES 33 /* BLAKE2b-264, as PASERK specifies for k4 ids */

/* sodium_init() is idempotent and thread-safe; failure means no usable crypto. */
static int sodium_ready(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static char *prefixed_b64(const char *prefix, const uint8_t *bin, size_t len)
{
	size_t plen = strlen(prefix);
	size_t blen = sodium_base64_ENCODED_LEN(len, B64);
	char *s = malloc(plen + blen);

	if (!s)
		return NULL;
	memcpy(s, prefix, plen);
	sodium_bin2base64(s + plen, blen, bin, len, B64);
	return s;
}

char *paserk_k4_secret_encode(const uint8_t sk[PASERK_SK_BYTES])
{
	return prefixed_b64(PASERK_SECRET, sk, PASERK_SK_BYTES);
}

char *paserk_k4_public_encode(const uint8_t pk[PASERK_PK_BYTES])
{
	return prefixed_b64(PASERK_PUBLIC, pk, PASERK_PK_BYTES);
}

char *paserk_k4_pid(const uint8_t pk[PASERK_PK_BYTES])
{
	uint8_t h[PASERK_PID_HASH_BYTES];
	crypto_generichash_state st;
	char *pub;

	if (sodium_ready() < 0)
		return NULL;
	pub = paserk_k4_public_encode(pk);
	if (!pub)
		return NULL;
	if (crypto_generichash_init(&st, NULL, 0, sizeof(h)) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)PASERK_PID, strlen(PASERK_PID)) != 0 ||
	    crypto_generichash_update(&st, (const uint8_t *)pub, strlen(pub)) != 0 ||
	    crypto_generichash_final(&st, h, sizeof(h)) != 0) {
		free(pub);
		return NULL;
	}
	free(pub);
	return prefixed_b64(PASERK_PID, h, sizeof(h));
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decode "<prefix><b64 of exactly want bytes>" with surrounding whitespace allowed. */
static int paserk_decode(const char *s, const char *prefix, uint8_t *out, size_t want)
{
	size_t plen = strlen(prefix);
	uint8_t *bin = NULL;
	size_t n = 0;

	if (!s)
		return -EINVAL;
	while (is_ws(*s))
		s++;
	size_t len = strlen(s);
	while (len && is_ws(s[len - 1]))
		len--;
	if (len < plen || memcmp(s, prefix, plen) != 0)
		return -EINVAL;
	s += plen;
	len -= plen;
	if (memchr(s, '=', len))
		return -EINVAL;
	int ret = b64url_decode(s, len, &bin, &n);
	if (ret < 0)
		return ret;
	if (n != want) {
		sodium_memzero(bin, n);
		free(bin);
		return -EINVAL;
	}
	memcpy(out, bin, want);
	sodium_memzero(bin, n);
	free(bin);
	return 0;
}

int paserk_k4_secret_decode(const char *s, uint8_t sk[PASERK_SK_BYTES])
{
	uint8_t tmp[PASERK_SK_BYTES], pk[PASERK_PK_BYTES], sk2[PASERK_SK_BYTES];
	int ret;

	if (sodium_ready() < 0)
		return -EIO;
	ret = paserk_decode(s, PASERK_SECRET, tmp, sizeof(tmp));
	if (ret < 0)
		return ret;
	/* A key file whose public half does not match its seed would sign with one key
	 * while advertising another's id; refuse it rather than guess which half is meant. */
	if (crypto_sign_seed_keypair(pk, sk2, tmp) != 0 ||
	    sodium_memcmp(pk, tmp + 32, PASERK_PK_BYTES) != 0) {
		ret = -EINVAL;
	} else {
		memcpy(sk, tmp, PASERK_SK_BYTES);
		ret = 0;
	}
	sodium_memzero(tmp, sizeof(tmp));
	sodium_memzero(sk2, sizeof(sk2));
	return ret;
}

int paserk_k4_public_decode(const char *s, uint8_t pk[PASERK_PK_BYTES])
{
	return paserk_decode(s, PASERK_PUBLIC, pk, PASERK_PK_BYTES);
}
