/* links: token/paseto base/paserk base/b64url */
/* PASETO v4.public and PASERK k4: public conformance vectors (loaded at run time from
 * tests/vectors/ or $CALYX_VECTORS_DIR), PAE known answers, and tamper cases. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <sodium.h>

#include "token/paseto.h"

#define HDR_LEN (sizeof(PASETO_V4_PUBLIC_HEADER) - 1)

/* ---- helpers ---- */

static cJSON *load_vectors(const char *name)
{
	const char *dir = getenv("CALYX_VECTORS_DIR");
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "tests/vectors", name);
	FILE *f = fopen(path, "rbe");
	if (!f)
		fail_msg("cannot open %s (run from the repo root or set CALYX_VECTORS_DIR)", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	assert_true(n > 0);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	if (!j)
		fail_msg("%s is not valid JSON", path);
	return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void hex(const char *h, uint8_t *out, size_t want)
{
	size_t n = 0;

	assert_non_null(h);
	assert_int_equal(sodium_hex2bin(out, want, h, strlen(h), NULL, &n, NULL), 0);
	assert_int_equal(n, want);
}

/* Test key pair: the one the public vectors use, so tamper tests start from a real token. */
static uint8_t vec_pk[PASETO_PK_BYTES], vec_sk[PASETO_SK_BYTES];
static const char *TOKEN_S2 =
	"v4.public.eyJkYXRhIjoidGhpcyBpcyBhIHNpZ25lZCBtZXNzYWdlIiwiZXhwIjoiMjAyMi0wMS0wMVQwMDowMDowMCswMDowMCJ9v3Jt8mx_TdM2ceTGoqwrh4yDFn0XsHvvV_D0DtwQxVrJEBMl0F2caAdgnpKlt4p7xBnx1HcO-SPo8FPp214HDw.eyJraWQiOiJ6VmhNaVBCUDlmUmYyc25FY1Q3Z0ZUaW9lQTlDT2NOeTlEZmdMMVc2MGhhTiJ9";

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	hex("1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2", vec_pk, 32);
	hex("b4cbfb43df4ce210727d953e4a713307fa19bb7d9f85041438d9e11b942a3774"
	    "1eb9dbbbbc047c03fd70604e0071f0987e16b28b757225c11f00415d0e20b1a2", vec_sk, 64);
	return 0;
}

/* Verify and return the status; err is checked by the caller. msg is always freed. */
static int verify_str(const uint8_t *pk, const char *tok, size_t len, const char **err)
{
	struct paseto_msg m;
	*err = NULL;
	int r = paseto_v4_verify(pk, tok, len, NULL, 0, &m, err);
	if (r == 0)
		paseto_msg_free(&m);
	else
		assert_non_null(*err);
	return r;
}

static void expect_reject(const uint8_t *pk, const char *tok, int want_ret, const char *want_err)
{
	const char *err;
	int r = verify_str(pk, tok, strlen(tok), &err);
	if (r != want_ret)
		fail_msg("token %.60s...: got %d (%s), want %d", tok, r, err ? err : "-", want_ret);
	if (want_err)
		assert_string_equal(err, want_err);
}

/* ---- conformance vectors ---- */

static void test_v4_public_vectors(void **state)
{
	(void)state;
	cJSON *root = load_vectors("paseto-v4-public.json");
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests");
	const cJSON *t;
	int ok = 0, failed = 0;

	assert_true(cJSON_IsArray(tests));
	cJSON_ArrayForEach(t, tests) {
		const char *name = jstr(t, "name");
		const char *tok = jstr(t, "token");
		const char *ia = jstr(t, "implicit-assertion");
		uint8_t pk[32], sk[64];
		struct paseto_msg m;
		const char *err = NULL;

		assert_non_null(name);
		assert_non_null(tok);
		hex(jstr(t, "public-key"), pk, sizeof(pk));
		size_t ia_len = ia ? strlen(ia) : 0;
		int r = paseto_v4_verify(pk, tok, strlen(tok), (const uint8_t *)ia, ia_len, &m, &err);

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "expect-fail"))) {
			if (r == 0) {
				paseto_msg_free(&m);
				fail_msg("%s: accepted a token that must fail", name);
			}
			assert_non_null(err);
			failed++;
			continue;
		}
		if (r != 0)
			fail_msg("%s: rejected: %s", name, err);
		const char *payload = jstr(t, "payload");
		const char *footer = jstr(t, "footer");
		assert_non_null(payload);
		assert_non_null(footer);
		assert_int_equal(m.payload_len, strlen(payload));
		assert_memory_equal(m.payload, payload, m.payload_len);
		assert_int_equal(m.payload[m.payload_len], 0);
		assert_int_equal(m.footer_len, strlen(footer));
		assert_string_equal(m.footer, footer);
		paseto_msg_free(&m);

		/* The implicit assertion is bound into the signature. */
		if (ia_len) {
			r = paseto_v4_verify(pk, tok, strlen(tok), NULL, 0, &m, &err);
			assert_int_equal(r, -EBADMSG);
		}

		/* Ed25519 is deterministic: signing must reproduce the vector byte for byte. */
		hex(jstr(t, "secret-key"), sk, sizeof(sk));
		char *mine = NULL;
		assert_int_equal(paseto_v4_sign(sk, (const uint8_t *)payload, strlen(payload),
						(const uint8_t *)footer, strlen(footer),
						(const uint8_t *)ia, ia_len, &mine), 0);
		assert_string_equal(mine, tok);
		free(mine);

		char *peek = NULL;
		assert_int_equal(paseto_v4_peek_footer(tok, strlen(tok), &peek, &err), 0);
		assert_string_equal(peek, footer);
		free(peek);
		ok++;
	}
	/* Guard against a truncated vector file making the test vacuous. */
	assert_true(ok >= 3);
	assert_true(failed >= 3);
	cJSON_Delete(root);
}

static void test_k4_pid_vectors(void **state)
{
	(void)state;
	cJSON *root = load_vectors("paserk-k4-pid.json");
	const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests");
	const cJSON *t;
	int ok = 0, failed = 0;

	assert_true(cJSON_IsArray(tests));
	cJSON_ArrayForEach(t, tests) {
		const char *name = jstr(t, "name");
		const char *keyhex = jstr(t, "key");
		uint8_t key[64];
		size_t n = 0;

		assert_non_null(keyhex);
		assert_int_equal(sodium_hex2bin(key, sizeof(key), keyhex, strlen(keyhex),
						NULL, &n, NULL), 0);
		/* The public-key decoder is the only way a key of any length reaches the pid
		 * code, so the vector's raw key goes through it as a k4.public string. */
		size_t b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		char *paserk = malloc(10 + b64len);
		assert_non_null(paserk);
		memcpy(paserk, "k4.public.", 10);
		sodium_bin2base64(paserk + 10, b64len, key, n,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		uint8_t pk[PASETO_PK_BYTES];
		int r = paserk_k4_public_decode(paserk, pk);

		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "expect-fail"))) {
			if (r == 0)
				fail_msg("%s: short key accepted", name);
			assert_int_equal(r, -EINVAL);
			failed++;
		} else {
			if (r != 0)
				fail_msg("%s: decode failed", name);
			assert_memory_equal(pk, key, 32);
			char *enc = paserk_k4_public_encode(pk);
			assert_string_equal(enc, paserk);
			free(enc);
			char *pid = paserk_k4_pid(pk);
			assert_non_null(pid);
			assert_string_equal(pid, jstr(t, "paserk"));
			free(pid);
			ok++;
		}
		free(paserk);
	}
	assert_true(ok >= 3);
	assert_true(failed >= 1);
	cJSON_Delete(root);
}

/* ---- PAE ---- */

static void pae_check(const char **pieces, size_t n, const uint8_t *want, size_t want_len)
{
	const uint8_t *p[8];
	size_t l[8];
	uint8_t *out = NULL;
	size_t out_len = 0;

	for (size_t k = 0; k < n; k++) {
		p[k] = (const uint8_t *)pieces[k];
		l[k] = strlen(pieces[k]);
	}
	assert_int_equal(paseto_pae(p, l, n, &out, &out_len), 0);
	assert_int_equal(out_len, want_len);
	assert_memory_equal(out, want, want_len);
	free(out);
}

static void test_pae_known_answers(void **state)
{
	(void)state;
	/* From the PASETO spec, "Pre-Authentication Encoding" examples. */
	static const uint8_t empty[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t one_empty[] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t test[] = { 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0,
					't', 'e', 's', 't' };
	static const uint8_t two[] = { 2, 0, 0, 0, 0, 0, 0, 0,
				       3, 0, 0, 0, 0, 0, 0, 0, 'a', 'b', 'c',
				       0, 0, 0, 0, 0, 0, 0, 0 };
	const char *p_one_empty[] = { "" };
	const char *p_test[] = { "test" };
	const char *p_two[] = { "abc", "" };

	pae_check(NULL, 0, empty, sizeof(empty));
	pae_check(p_one_empty, 1, one_empty, sizeof(one_empty));
	pae_check(p_test, 1, test, sizeof(test));
	pae_check(p_two, 2, two, sizeof(two));

	/* A length needing more than one byte is little-endian. */
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[299] = '\0';
	const uint8_t *p[1] = { (const uint8_t *)big };
	size_t l[1] = { 299 };
	uint8_t *out;
	size_t out_len;
	assert_int_equal(paseto_pae(p, l, 1, &out, &out_len), 0);
	assert_int_equal(out_len, 16 + 299);
	assert_int_equal(out[8], 299 & 0xff);
	assert_int_equal(out[9], 299 >> 8);
	for (int k = 10; k < 16; k++)
		assert_int_equal(out[k], 0);
	free(out);
}

/* ---- sign / verify ---- */

static void test_roundtrip_and_implicit(void **state)
{
	(void)state;
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	const char *m = "{\"jti\":\"LEASE-1\"}", *f = "{\"kid\":\"k4.pid.x\"}", *ia = "ctx";
	char *tok = NULL;
	struct paseto_msg msg;
	const char *err = NULL;

	assert_int_equal(paseto_v4_sign(sk, (const uint8_t *)m, strlen(m), (const uint8_t *)f,
					strlen(f), (const uint8_t *)ia, 3, &tok), 0);
	assert_int_equal(strncmp(tok, "v4.public.", 10), 0);
	assert_int_equal(paseto_v4_verify(pk, tok, strlen(tok), (const uint8_t *)ia, 3, &msg, &err), 0);
	assert_string_equal((char *)msg.payload, m);
	assert_string_equal(msg.footer, f);
	paseto_msg_free(&msg);

	assert_int_equal(paseto_v4_verify(pk, tok, strlen(tok), (const uint8_t *)"ctY", 3, &msg, &err),
			 -EBADMSG);
	assert_string_equal(err, "signature verification failed");

	/* token need not be NUL-terminated: trailing bytes outside token_len are ignored. */
	size_t len = strlen(tok);
	char *padded = malloc(len + 8);
	memcpy(padded, tok, len);
	memcpy(padded + len, ".garbage", 8);
	assert_int_equal(paseto_v4_verify(pk, padded, len, (const uint8_t *)ia, 3, &msg, &err), 0);
	paseto_msg_free(&msg);
	/* ...but counted, they make the token invalid. */
	assert_int_not_equal(paseto_v4_verify(pk, padded, len + 8, (const uint8_t *)ia, 3, &msg, &err), 0);
	free(padded);
	free(tok);

	/* Empty payload, no footer: shortest legal token is exactly one signature. */
	assert_int_equal(paseto_v4_sign(sk, NULL, 0, NULL, 0, NULL, 0, &tok), 0);
	assert_int_equal(strlen(tok), 10 + 86);
	assert_int_equal(paseto_v4_verify(pk, tok, strlen(tok), NULL, 0, &msg, &err), 0);
	assert_int_equal(msg.payload_len, 0);
	assert_string_equal(msg.footer, "");
	paseto_msg_free(&msg);
	free(tok);
}

static char *dup_flip(const char *tok, size_t at)
{
	char *t = strdup(tok);
	assert_non_null(t);
	t[at] = t[at] == 'A' ? 'B' : 'A';
	return t;
}

static void test_tamper(void **state)
{
	(void)state;
	const char *err;
	char *t;
	const char *dot = strrchr(TOKEN_S2, '.');
	size_t body_end = (size_t)(dot - TOKEN_S2);

	/* The untouched token verifies, so each rejection below is due to the change. */
	assert_int_equal(verify_str(vec_pk, TOKEN_S2, strlen(TOKEN_S2), &err), 0);

	t = dup_flip(TOKEN_S2, HDR_LEN + 5); /* payload */
	expect_reject(vec_pk, t, -EBADMSG, "signature verification failed");
	free(t);
	t = dup_flip(TOKEN_S2, body_end - 20); /* signature */
	expect_reject(vec_pk, t, -EBADMSG, "signature verification failed");
	free(t);
	t = dup_flip(TOKEN_S2, body_end + 10); /* footer */
	expect_reject(vec_pk, t, -EBADMSG, "signature verification failed");
	free(t);

	uint8_t other[32], osk[64];
	crypto_sign_keypair(other, osk);
	expect_reject(other, TOKEN_S2, -EBADMSG, "signature verification failed");

	/* Dropping the footer changes the signed PAE. */
	t = strndup(TOKEN_S2, body_end);
	expect_reject(vec_pk, t, -EBADMSG, "signature verification failed");
	free(t);
}

static void test_headers(void **state)
{
	(void)state;
	const char *rest = TOKEN_S2 + HDR_LEN;
	const char *bad[] = { "v4.local.", "v3.public.", "v2.public.", "V4.public.",
			      "v4.public", "v4.publi.", ".v4.public.", "" };
	char buf[1024];

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		snprintf(buf, sizeof(buf), "%s%s", bad[k], rest);
		expect_reject(vec_pk, buf, -EPROTO, "not a v4.public token");
		char *f = (char *)1;
		const char *err = NULL;
		assert_int_equal(paseto_v4_peek_footer(buf, strlen(buf), &f, &err), -EINVAL);
		assert_null(f);
		assert_string_equal(err, "not a v4.public token");
	}
	expect_reject(vec_pk, "v4.public", -EPROTO, "not a v4.public token");
}

static void test_structure(void **state)
{
	(void)state;
	char buf[2048];
	const char *dot = strrchr(TOKEN_S2, '.');
	size_t body_end = (size_t)(dot - TOKEN_S2);

	expect_reject(vec_pk, "v4.public.", -EINVAL, "token too short for a signature");
	/* 40 chars = 30 bytes: decodes but cannot hold a 64-byte signature. */
	snprintf(buf, sizeof(buf), "%.*s", (int)(HDR_LEN + 40), TOKEN_S2);
	expect_reject(vec_pk, buf, -EINVAL, "token too short for a signature");
	snprintf(buf, sizeof(buf), "%.*s", (int)(HDR_LEN + 84), TOKEN_S2); /* 63 bytes */
	expect_reject(vec_pk, buf, -EINVAL, "token too short for a signature");

	/* Truncated by one character: 4n+1 chars is never valid base64. */
	snprintf(buf, sizeof(buf), "%.*s", (int)body_end - 1, TOKEN_S2);
	expect_reject(vec_pk, buf, -EINVAL, NULL);

	snprintf(buf, sizeof(buf), "%s.e30", TOKEN_S2);
	expect_reject(vec_pk, buf, -EINVAL, "too many '.' sections in token");
	snprintf(buf, sizeof(buf), "%.*s.", (int)body_end, TOKEN_S2);
	expect_reject(vec_pk, buf, -EINVAL, "empty footer section in token");
	snprintf(buf, sizeof(buf), "%s.", TOKEN_S2);
	expect_reject(vec_pk, buf, -EINVAL, "too many '.' sections in token");

	/* Padding, in the body and in the footer. */
	snprintf(buf, sizeof(buf), "%.*s==%s", (int)body_end, TOKEN_S2, dot);
	expect_reject(vec_pk, buf, -EINVAL, "base64url padding '=' in token");
	snprintf(buf, sizeof(buf), "%s=", TOKEN_S2);
	expect_reject(vec_pk, buf, -EINVAL, "base64url padding '=' in token");

	/* Standard-alphabet characters are not base64url. */
	snprintf(buf, sizeof(buf), "%s", TOKEN_S2);
	buf[HDR_LEN + 3] = '+';
	expect_reject(vec_pk, buf, -EINVAL, "bad base64url in payload");
	buf[HDR_LEN + 3] = '/';
	expect_reject(vec_pk, buf, -EINVAL, "bad base64url in payload");
	snprintf(buf, sizeof(buf), "%s", TOKEN_S2);
	buf[body_end + 4] = '*';
	expect_reject(vec_pk, buf, -EINVAL, "bad base64url in footer");
	snprintf(buf, sizeof(buf), "%s", TOKEN_S2);
	buf[HDR_LEN + 3] = ' ';
	expect_reject(vec_pk, buf, -EINVAL, "bad base64url in payload");

	/* libsodium 1.0.18 decodes bytes >= 0x80 as '_'; they must not be a second
	 * spelling of the same token. */
	snprintf(buf, sizeof(buf), "%s", TOKEN_S2);
	char *us = strchr(buf + HDR_LEN, '_');
	assert_non_null(us);
	*us = (char)0x80;
	expect_reject(vec_pk, buf, -EINVAL, "bad base64url in payload");
	*us = (char)0xff;
	expect_reject(vec_pk, buf, -EINVAL, "bad base64url in payload");

	/* An embedded NUL inside token_len is not silently treated as the end. */
	snprintf(buf, sizeof(buf), "%s", TOKEN_S2);
	size_t len = strlen(buf);
	buf[HDR_LEN + 3] = '\0';
	const char *err;
	assert_int_equal(verify_str(vec_pk, buf, len, &err), -EINVAL);
	assert_string_equal(err, "bad base64url in payload");
}

/* Same bytes, different base64 spelling: only the canonical one may verify. */
static void test_noncanonical_base64(void **state)
{
	(void)state;
	static const char alpha[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *tok = NULL;
	const char *err;

	/* 1-byte payload + 64-byte signature = 65 bytes: the last char carries 2 spare bits. */
	assert_int_equal(paseto_v4_sign(vec_sk, (const uint8_t *)"x", 1, (const uint8_t *)"ab", 2,
					NULL, 0, &tok), 0);
	assert_int_equal(verify_str(vec_pk, tok, strlen(tok), &err), 0);
	char *dot = strrchr(tok, '.');
	char *last = dot - 1;
	const char *pos = strchr(alpha, *last);
	assert_non_null(pos);
	*last = alpha[(pos - alpha) ^ 1];
	expect_reject(vec_pk, tok, -EINVAL, "bad base64url in payload");
	*last = alpha[(pos - alpha)];

	/* Footer "ab" = 2 bytes = 3 chars with 2 spare bits. */
	char *flast = tok + strlen(tok) - 1;
	pos = strchr(alpha, *flast);
	assert_non_null(pos);
	*flast = alpha[(pos - alpha) ^ 2];
	expect_reject(vec_pk, tok, -EINVAL, "bad base64url in footer");
	char *f = NULL;
	assert_int_equal(paseto_v4_peek_footer(tok, strlen(tok), &f, &err), -EINVAL);
	assert_string_equal(err, "bad base64url in footer");
	free(tok);
}

static void test_size_limit(void **state)
{
	(void)state;
	const char *err;
	size_t big = 2u << 20;
	char *t = malloc(big + 1);
	assert_non_null(t);
	memcpy(t, "v4.public.", 10);
	memset(t + 10, 'A', big - 10);
	t[big] = '\0';
	assert_int_equal(verify_str(vec_pk, t, big, &err), -EINVAL);
	assert_string_equal(err, "token larger than 1 MiB");
	char *f = NULL;
	assert_int_equal(paseto_v4_peek_footer(t, big, &f, &err), -EINVAL);
	assert_string_equal(err, "token larger than 1 MiB");
	/* One byte over the limit is already refused. */
	assert_int_equal(verify_str(vec_pk, t, PASETO_MAX_TOKEN_BYTES + 1, &err), -EINVAL);
	assert_string_equal(err, "token larger than 1 MiB");
	free(t);

	/* A large but legal token still verifies (the limit is not off by a factor). */
	size_t mlen = 700 * 1024;
	uint8_t *m = malloc(mlen);
	assert_non_null(m);
	memset(m, 'q', mlen);
	char *tok = NULL;
	assert_int_equal(paseto_v4_sign(vec_sk, m, mlen, NULL, 0, NULL, 0, &tok), 0);
	assert_true(strlen(tok) <= PASETO_MAX_TOKEN_BYTES);
	struct paseto_msg msg;
	assert_int_equal(paseto_v4_verify(vec_pk, tok, strlen(tok), NULL, 0, &msg, &err), 0);
	assert_int_equal(msg.payload_len, mlen);
	assert_memory_equal(msg.payload, m, mlen);
	paseto_msg_free(&msg);
	free(tok);
	free(m);
}

static void test_peek_footer(void **state)
{
	(void)state;
	char *f = NULL;
	const char *err = NULL;

	assert_int_equal(paseto_v4_peek_footer(TOKEN_S2, strlen(TOKEN_S2), &f, &err), 0);
	assert_string_equal(f, "{\"kid\":\"zVhMiPBP9fRf2snEcT7gFTioeA9COcNy9DfgL1W60haN\"}");
	free(f);
	const char *dot = strrchr(TOKEN_S2, '.');
	assert_int_equal(paseto_v4_peek_footer(TOKEN_S2, (size_t)(dot - TOKEN_S2), &f, &err), 0);
	assert_string_equal(f, "");
	free(f);
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s.e30", TOKEN_S2);
	f = NULL;
	assert_int_equal(paseto_v4_peek_footer(buf, strlen(buf), &f, &err), -EINVAL);
	assert_null(f);
	assert_string_equal(err, "too many '.' sections in token");
}

/* ---- PASERK ---- */

static void test_paserk_keys(void **state)
{
	(void)state;
	uint8_t pk[32], sk[64], sk2[64], pk2[32];
	crypto_sign_keypair(pk, sk);

	char *s = paserk_k4_secret_encode(sk);
	char *p = paserk_k4_public_encode(pk);
	assert_non_null(s);
	assert_non_null(p);
	assert_int_equal(strncmp(s, "k4.secret.", 10), 0);
	assert_int_equal(strlen(s), 10 + 86);
	assert_int_equal(strncmp(p, "k4.public.", 10), 0);
	assert_int_equal(strlen(p), 10 + 43);
	assert_int_equal(paserk_k4_secret_decode(s, sk2), 0);
	assert_memory_equal(sk, sk2, 64);
	assert_int_equal(paserk_k4_public_decode(p, pk2), 0);
	assert_memory_equal(pk, pk2, 32);

	/* Key files end in a newline; surrounding whitespace is allowed, inner is not. */
	char buf[256];
	snprintf(buf, sizeof(buf), "  %s\n", s);
	memset(sk2, 0, sizeof(sk2));
	assert_int_equal(paserk_k4_secret_decode(buf, sk2), 0);
	assert_memory_equal(sk, sk2, 64);
	snprintf(buf, sizeof(buf), "%s\r\n", p);
	assert_int_equal(paserk_k4_public_decode(buf, pk2), 0);
	snprintf(buf, sizeof(buf), "k4.public. %s", p + 10);
	assert_int_equal(paserk_k4_public_decode(buf, pk2), -EINVAL);

	/* Wrong type, version or padding. */
	assert_int_equal(paserk_k4_public_decode(s, pk2), -EINVAL);
	assert_int_equal(paserk_k4_secret_decode(p, sk2), -EINVAL);
	snprintf(buf, sizeof(buf), "k3.public.%s", p + 10);
	assert_int_equal(paserk_k4_public_decode(buf, pk2), -EINVAL);
	snprintf(buf, sizeof(buf), "%s=", p);
	assert_int_equal(paserk_k4_public_decode(buf, pk2), -EINVAL);
	snprintf(buf, sizeof(buf), "%sA", p);
	assert_int_equal(paserk_k4_public_decode(buf, pk2), -EINVAL);
	snprintf(buf, sizeof(buf), "%s", p);
	buf[20] = (char)0x9d; /* see test_structure: high bytes are not '_' */
	assert_int_equal(paserk_k4_public_decode(buf, pk2), -EINVAL);
	assert_int_equal(paserk_k4_public_decode("k4.public.", pk2), -EINVAL);
	assert_int_equal(paserk_k4_public_decode("", pk2), -EINVAL);
	assert_int_equal(paserk_k4_public_decode(NULL, pk2), -EINVAL);

	/* A secret key whose public half belongs to another seed is refused. */
	uint8_t mixed[64];
	memcpy(mixed, sk, 32);
	uint8_t opk[32], osk[64];
	crypto_sign_keypair(opk, osk);
	memcpy(mixed + 32, opk, 32);
	char *ms = paserk_k4_secret_encode(mixed);
	assert_int_equal(paserk_k4_secret_decode(ms, sk2), -EINVAL);
	free(ms);

	/* The vector key: k4.secret decoding yields the same bytes, pid is stable. */
	char *vs = paserk_k4_secret_encode(vec_sk);
	assert_int_equal(paserk_k4_secret_decode(vs, sk2), 0);
	assert_memory_equal(sk2, vec_sk, 64);
	free(vs);
	char *pid = paserk_k4_pid(pk);
	assert_non_null(pid);
	assert_int_equal(strncmp(pid, "k4.pid.", 7), 0);
	assert_int_equal(strlen(pid), 7 + 44);
	char *pid2 = paserk_k4_pid(pk2);
	assert_string_equal(pid, pid2);
	char *pid3 = paserk_k4_pid(opk);
	assert_string_not_equal(pid, pid3);
	free(pid);
	free(pid2);
	free(pid3);
	free(s);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_public_vectors),
		cmocka_unit_test(test_k4_pid_vectors),
		cmocka_unit_test(test_pae_known_answers),
		cmocka_unit_test(test_roundtrip_and_implicit),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_noncanonical_base64),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_peek_footer),
		cmocka_unit_test(test_paserk_keys),
	};
	return cmocka_run_group_tests_name("paseto", tests, setup, NULL);
}
