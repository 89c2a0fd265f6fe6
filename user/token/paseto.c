/* PASETO v4.public and PASERK k4 on libsodium.
 *
 * Strictness is the point of this module: a lease is only as trustworthy as the parser
 * that reads it, so anything the PASETO spec does not produce is refused before any
 * signature work, and only a token whose exact bytes were signed is accepted. */
#include "token/paseto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/b64url.h"

#define HDR PASETO_V4_PUBLIC_HEADER
#define HDR_LEN (sizeof(HDR) - 1)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING


/* sodium_init() is idempotent and thread-safe; calling it at each entry point means
 * callers never have to remember it. Failure means no usable crypto: fail closed. */
static int sodium_ready(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	/* The spec clears the top bit so PAE stays unambiguous in languages without
	 * unsigned 64-bit integers. */
	v &= ~(UINT64_C(1) << 63);
	for (int k = 0; k < 8; k++) {
		p[k] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

int paseto_pae(const uint8_t *const *pieces, const size_t *lens, size_t n,
	       uint8_t **out, size_t *out_len)
{
	size_t total = 8;

	*out = NULL;
	*out_len = 0;
	for (size_t k = 0; k < n; k++) {
		if (lens[k] > SIZE_MAX - total - 8)
			return -ENOMEM;
		total += 8 + lens[k];
	}
	uint8_t *buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	uint8_t *p = buf;
	store_le64(p, n);
	p += 8;
	for (size_t k = 0; k < n; k++) {
		store_le64(p, lens[k]);
		p += 8;
		if (lens[k])
			memcpy(p, pieces[k], lens[k]);
		p += lens[k];
	}
	*out = buf;
	*out_len = total;
	return 0;
}

static int v4_pae(const uint8_t *m, size_t m_len, const uint8_t *f, size_t f_len,
		  const uint8_t *i, size_t i_len, uint8_t **out, size_t *out_len)
{
	const uint8_t *pieces[4] = { (const uint8_t *)HDR, m, f, i };
	const size_t lens[4] = { HDR_LEN, m_len, f_len, i_len };

	return paseto_pae(pieces, lens, 4, out, out_len);
}

int paseto_v4_sign(const uint8_t sk[PASETO_SK_BYTES],
		   const uint8_t *m, size_t m_len,
		   const uint8_t *f, size_t f_len,
		   const uint8_t *i, size_t i_len, char **token)
{
	uint8_t *pae = NULL, *body = NULL;
	size_t pae_len = 0;
	int ret;

	*token = NULL;
	if (sodium_ready() < 0)
		return -EIO;
	if (m_len > SIZE_MAX - PASETO_SIG_BYTES)
		return -ENOMEM;
	ret = v4_pae(m, m_len, f, f_len, i, i_len, &pae, &pae_len);
	if (ret < 0)
		return ret;

	size_t body_len = m_len + PASETO_SIG_BYTES;
	body = malloc(body_len);
	if (!body) {
		ret = -ENOMEM;
		goto out;
	}
	if (m_len)
		memcpy(body, m, m_len);
	if (crypto_sign_detached(body + m_len, NULL, pae, pae_len, sk) != 0) {
		ret = -EIO;
		goto out;
	}

	size_t b_b64 = sodium_base64_ENCODED_LEN(body_len, B64);
	size_t f_b64 = f_len ? sodium_base64_ENCODED_LEN(f_len, B64) : 0;
	/* ENCODED_LEN counts the NUL; the footer's slot holds the '.' instead. */
	char *t = malloc(HDR_LEN + b_b64 + f_b64);
	if (!t) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(t, HDR, HDR_LEN);
	sodium_bin2base64(t + HDR_LEN, b_b64, body, body_len, B64);
	if (f_len) {
		char *p = t + HDR_LEN + b_b64 - 1;
		*p++ = '.';
		sodium_bin2base64(p, f_b64, f, f_len, B64);
	}
	*token = t;
	ret = 0;
out:
	free(pae);
	free(body);
	return ret;
}

void paseto_msg_free(struct paseto_msg *m)
{
	if (!m)
		return;
	free(m->payload);
	free(m->footer);
	m->payload = NULL;
	m->footer = NULL;
	m->payload_len = 0;
	m->footer_len = 0;
}

struct parts {
	const char *body;
	size_t body_len;
	const char *footer; /* NULL when the token has no footer */
	size_t footer_len;
};

/* Structural checks shared by peek and verify, cheapest first, before any decoding. */
static int split_token(const char *token, size_t token_len, struct parts *p,
		       const char **err)
{
	if (!token) {
		*err = "no token";
		return -EINVAL;
	}
	if (token_len > PASETO_MAX_TOKEN_BYTES) {
		*err = "token larger than 1 MiB";
		return -EINVAL;
	}
	if (token_len < HDR_LEN || memcmp(token, HDR, HDR_LEN) != 0) {
		*err = "not a v4.public token";
		return -EPROTO;
	}
	const char *rest = token + HDR_LEN;
	size_t rest_len = token_len - HDR_LEN;
	const char *dot = memchr(rest, '.', rest_len);

	p->body = rest;
	p->footer = NULL;
	p->footer_len = 0;
	if (!dot) {
		p->body_len = rest_len;
	} else {
		p->body_len = (size_t)(dot - rest);
		p->footer = dot + 1;
		p->footer_len = rest_len - p->body_len - 1;
		if (memchr(p->footer, '.', p->footer_len)) {
			*err = "too many '.' sections in token";
			return -EINVAL;
		}
		/* A signer with an empty footer emits no '.', so "body." never comes
		 * from a conforming implementation. */
		if (p->footer_len == 0) {
			*err = "empty footer section in token";
			return -EINVAL;
		}
	}
	if (memchr(rest, '=', rest_len)) {
		*err = "base64url padding '=' in token";
		return -EINVAL;
	}
	if (p->body_len == 0) {
		*err = "token too short for a signature";
		return -EINVAL;
	}
	return 0;
}

static int decode_footer(const struct parts *p, char **footer, size_t *footer_len,
			 const char **err)
{
	uint8_t *f = NULL;
	size_t n = 0;

	if (!p->footer) {
		*footer = calloc(1, 1);
		*footer_len = 0;
		if (!*footer) {
			*err = "out of memory";
			return -ENOMEM;
		}
		return 0;
	}
	int ret = b64url_decode(p->footer, p->footer_len, &f, &n);
	if (ret < 0) {
		*err = ret == -ENOMEM ? "out of memory" : "bad base64url in footer";
		return ret;
	}
	*footer = (char *)f;
	*footer_len = n;
	return 0;
}

int paseto_v4_peek_footer(const char *token, size_t token_len, char **footer, const char **err)
{
	struct parts p;
	size_t len;
	const char *dummy;
	int ret;

	if (!err)
		err = &dummy;
	*footer = NULL;
	/* The header promises -EINVAL for every malformed token, wrong header included. */
	ret = split_token(token, token_len, &p, err);
	if (ret < 0)
		return -EINVAL;
	ret = decode_footer(&p, footer, &len, err);
	return ret == -ENOMEM ? ret : (ret < 0 ? -EINVAL : 0);
}

int paseto_v4_verify(const uint8_t pk[PASETO_PK_BYTES],
		     const char *token, size_t token_len,
		     const uint8_t *i, size_t i_len,
		     struct paseto_msg *msg, const char **err)
{
	struct parts p;
	uint8_t *body = NULL, *pae = NULL;
	size_t body_len = 0, pae_len = 0;
	char *footer = NULL;
	size_t footer_len = 0;
	const char *dummy;
	int ret;

	if (!err)
		err = &dummy;
	memset(msg, 0, sizeof(*msg));
	if (sodium_ready() < 0) {
		*err = "libsodium initialisation failed";
		return -EIO;
	}
	ret = split_token(token, token_len, &p, err);
	if (ret < 0)
		return ret;
	ret = b64url_decode(p.body, p.body_len, &body, &body_len);
	if (ret < 0) {
		*err = ret == -ENOMEM ? "out of memory" : "bad base64url in payload";
		return ret;
	}
	if (body_len < PASETO_SIG_BYTES) {
		*err = "token too short for a signature";
		ret = -EINVAL;
		goto fail;
	}
	ret = decode_footer(&p, &footer, &footer_len, err);
	if (ret < 0)
		goto fail;

	size_t m_len = body_len - PASETO_SIG_BYTES;
	const uint8_t *sig = body + m_len;
	ret = v4_pae(body, m_len, (const uint8_t *)footer, footer_len, i, i_len, &pae, &pae_len);
	if (ret < 0) {
		*err = "out of memory";
		goto fail;
	}
	if (crypto_sign_verify_detached(sig, pae, pae_len, pk) != 0) {
		*err = "signature verification failed";
		ret = -EBADMSG;
		goto fail;
	}
	free(pae);
	/* Cut the signature off and keep the NUL that callers rely on. */
	body[m_len] = '\0';
	msg->payload = body;
	msg->payload_len = m_len;
	msg->footer = footer;
	msg->footer_len = footer_len;
	*err = NULL;
	return 0;
fail:
	free(pae);
	free(body);
	free(footer);
	return ret;
}
