/* links: token/verify token/paseto base/paserk base/b64url base/errmsg base/fileio base/units policy/lease policy/lease_text policy/netrule policy/envnames policy/pathpat policy/limits policy/argv policy/matrix policy/matrix_host policy/matrix_load policy/seccomp_groups policy/yamltree policy/backend shipped_matrix policy/matrix_ledger */
/* What verify_lease_file_ex tells the audit log besides the verdict: the BLAKE2b-256 of
 * the token file's bytes as read (its trailing newline included), and the claims of a
 * token refused after its signature verified (expired, outside the matrix) — never of one
 * refused before (a bad signature, another key), whose claims are nobody's word. The
 * matrix's own hash is checked too (matrix_load_buffer), also for a malformed matrix. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/exitcodes.h"
#include "base/paserk.h"
#include "policy/matrix.h"
#include "token/paseto.h"
#include "token/verify.h"

#define TMPDIR_NAME "calyx-test-verify-info"
#include "tmpdir.h"

static uint8_t pk[PASETO_PK_BYTES], sk[PASETO_SK_BYTES], pk2[PASETO_PK_BYTES], sk2[PASETO_SK_BYTES];

static void hex_b2(const void *b, size_t n, char out[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), b, n, NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static void rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
}

/* A token with these times signed by key, written to dir/name with a trailing newline;
 * the file's bytes in *bytes. */
static char *token_file(const char *name, const uint8_t *skey, const uint8_t *pkey, int64_t iat, int64_t exp,
			char **bytes)
{
	char a[32], b[32], claims[1024], footer[160];
	rfc3339(iat, a);
	rfc3339(exp, b);
	char *pid = paserk_k4_pid(pkey);
	assert_non_null(pid);
	snprintf(claims, sizeof(claims),
		 "{\"jti\":\"LEASE-20261203-070000-ab12\",\"intent\":\"INT-TEST\",\"iat\":\"%s\",\"nbf\":\"%s\","
		 "\"exp\":\"%s\",\"iss\":\"%s\",\"commands\":[[\"/bin/true\"]],\"paths\":[],\"network\":\"deny_all\","
		 "\"limits\":{},\"runs\":1}", a, a, b, pid);
	snprintf(footer, sizeof(footer), "{\"kid\":\"%s\"}", pid);
	free(pid);
	char *tok = NULL;
	assert_int_equal(paseto_v4_sign(skey, (const uint8_t *)claims, strlen(claims), (const uint8_t *)footer,
					strlen(footer), NULL, 0, &tok), 0);
	char *path = malloc(256);
	snprintf(path, 256, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", tok);
	fclose(f);
	if (bytes) {
		*bytes = malloc(strlen(tok) + 2);
		sprintf(*bytes, "%s\n", tok);
	}
	free(tok);
	return path;
}

static int keys(void **state)
{
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	return setup(state);
}

static void test_valid_hash(void **state)
{
	(void)state;
	int64_t now = (int64_t)time(NULL);
	char *bytes, want[65], err[512];
	char *p = token_file("ok.tok", sk, pk, now - 10, now + 300, &bytes);
	hex_b2(bytes, strlen(bytes), want);
	struct lease l;
	struct verify_info vi;
	assert_int_equal(verify_lease_file_ex(p, pk, NULL, now, 0, &l, &vi, err, sizeof(err)), EXIT_OK);
	assert_string_equal(vi.token_blake2b, want);   /* the newline counts: b2sum of the file */
	assert_false(vi.have_claims);
	assert_string_equal(l.jti, "LEASE-20261203-070000-ab12");
	lease_free(&l);
	verify_info_free(&vi);
	free(bytes);
	free(p);
}

static void test_expired_keeps_claims(void **state)
{
	(void)state;
	int64_t now = (int64_t)time(NULL);
	char *bytes, want[65], err[512];
	char *p = token_file("exp.tok", sk, pk, now - 7200, now - 3600, &bytes);
	hex_b2(bytes, strlen(bytes), want);
	struct lease l;
	struct verify_info vi;
	assert_int_equal(verify_lease_file_ex(p, pk, NULL, now, 0, &l, &vi, err, sizeof(err)), EXIT_LEASE_INVALID);
	assert_non_null(strstr(err, "lease expired at"));
	assert_string_equal(vi.token_blake2b, want);
	assert_true(vi.have_claims);
	assert_string_equal(vi.claims.jti, "LEASE-20261203-070000-ab12");
	assert_string_equal(vi.claims.intent, "INT-TEST");
	verify_info_free(&vi);
	assert_false(vi.have_claims);
	free(bytes);
	free(p);
}

static void test_outside_matrix_keeps_claims(void **state)
{
	(void)state;
	int64_t now = (int64_t)time(NULL);
	char err[512];
	char *p = token_file("noaud.tok", sk, pk, now - 10, now + 300, NULL);
	struct matrix m;
	assert_int_equal(matrix_load_shipped(&m, err, sizeof(err)), 0);
	assert_int_equal(matrix_trust_key(&m, "t", pk), 0);
	struct lease l;
	struct verify_info vi;
	/* the shipped matrix accepts no lease without aud: 66, after the signature */
	assert_int_equal(verify_lease_file_ex(p, NULL, &m, now, 0, &l, &vi, err, sizeof(err)), EXIT_LEASE_MATRIX);
	assert_true(vi.have_claims);
	assert_string_equal(vi.claims.jti, "LEASE-20261203-070000-ab12");
	verify_info_free(&vi);
	matrix_free(&m);
	free(p);
}

static void test_unverified_has_no_claims(void **state)
{
	(void)state;
	int64_t now = (int64_t)time(NULL);
	char *bytes, want[65], err[512];
	struct lease l;
	struct verify_info vi;
	/* signed by another key than the one asked for */
	char *p = token_file("other.tok", sk2, pk2, now - 10, now + 300, NULL);
	assert_int_equal(verify_lease_file_ex(p, pk, NULL, now, 0, &l, &vi, err, sizeof(err)), EXIT_LEASE_INVALID);
	assert_false(vi.have_claims);
	assert_int_equal(strlen(vi.token_blake2b), 64);
	free(p);

	/* a bad signature: one character of the signed part changed */
	p = token_file("bad.tok", sk, pk, now - 10, now + 300, &bytes);
	bytes[20] = bytes[20] == 'A' ? 'B' : 'A';
	FILE *f = fopen(p, "w");
	fputs(bytes, f);
	fclose(f);
	hex_b2(bytes, strlen(bytes), want);
	assert_int_equal(verify_lease_file_ex(p, pk, NULL, now, 0, &l, &vi, err, sizeof(err)), EXIT_LEASE_INVALID);
	assert_false(vi.have_claims);
	assert_string_equal(vi.token_blake2b, want);
	free(bytes);
	free(p);

	/* no file: nothing read, no hash */
	assert_int_equal(verify_lease_file_ex("/nonexistent/x.tok", pk, NULL, now, 0, &l, &vi, err, sizeof(err)), EXIT_IO);
	assert_string_equal(vi.token_blake2b, "");
	assert_false(vi.have_claims);
}

static void test_matrix_hash(void **state)
{
	(void)state;
	char err[512], want[65];
	struct matrix m;
	const char bad[] = "exec_staging_with_lease: [oops\n";
	hex_b2(bad, strlen(bad), want);
	assert_int_equal(matrix_load_buffer("bad.yaml", bad, strlen(bad), &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(m.blake2b, want);   /* kept for the refusal record */
	extern const char calyx_shipped_matrix[];
	hex_b2(calyx_shipped_matrix, strlen(calyx_shipped_matrix), want);
	assert_int_equal(matrix_load_shipped(&m, err, sizeof(err)), 0);
	assert_string_equal(m.blake2b, want);
	matrix_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_hash),
		cmocka_unit_test(test_expired_keeps_claims),
		cmocka_unit_test(test_outside_matrix_keeps_claims),
		cmocka_unit_test(test_unverified_has_no_claims),
		cmocka_unit_test(test_matrix_hash),
	};
	return cmocka_run_group_tests_name("verify_info", tests, keys, teardown);
}
