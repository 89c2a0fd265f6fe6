/* links: token/paseto token/verify base/paserk base/b64url base/errmsg base/fileio base/units policy/lease policy/netrule policy/lease_text policy/envnames policy/pathpat policy/limits policy/argv policy/matrix policy/matrix_host policy/matrix_ledger policy/matrix_load policy/backend policy/seccomp_groups policy/yamltree */
/* libFuzzer target for everything that parses untrusted token and key text: the footer
 * peek, full v4.public verification with a fixed key, the lease verifier over it (the
 * footer's strict {"kid":…}, the claims, the times: verify_lease_token), and the PASERK
 * decoders.
 * Besides memory errors it checks invariants a caller relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/exitcodes.h"
#include "token/paseto.h"
#include "token/verify.h"

/* verify.c links the matrix, which refers to the compiled-in policy. */
const char calyx_shipped_matrix[] = "";

/* The key pair of the PASETO v4 test vectors, so seeds built from them reach the
 * signature check and a valid seed exercises the success path. */
static const uint8_t sk[PASETO_SK_BYTES] = {
	0xb4, 0xcb, 0xfb, 0x43, 0xdf, 0x4c, 0xe2, 0x10, 0x72, 0x7d, 0x95, 0x3e, 0x4a, 0x71, 0x33, 0x07,
	0xfa, 0x19, 0xbb, 0x7d, 0x9f, 0x85, 0x04, 0x14, 0x38, 0xd9, 0xe1, 0x1b, 0x94, 0x2a, 0x37, 0x74,
	0x1e, 0xb9, 0xdb, 0xbb, 0xbc, 0x04, 0x7c, 0x03, 0xfd, 0x70, 0x60, 0x4e, 0x00, 0x71, 0xf0, 0x98,
	0x7e, 0x16, 0xb2, 0x8b, 0x75, 0x72, 0x25, 0xc1, 0x1f, 0x00, 0x41, 0x5d, 0x0e, 0x20, 0xb1, 0xa2,
};
static const uint8_t pk[PASETO_PK_BYTES] = {
	0x1e, 0xb9, 0xdb, 0xbb, 0xbc, 0x04, 0x7c, 0x03, 0xfd, 0x70, 0x60, 0x4e, 0x00, 0x71, 0xf0, 0x98,
	0x7e, 0x16, 0xb2, 0x8b, 0x75, 0x72, 0x25, 0xc1, 0x1f, 0x00, 0x41, 0x5d, 0x0e, 0x20, 0xb1, 0xa2,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tok = (const char *)data;
	const char *err = NULL;
	char *footer = NULL;
	struct paseto_msg msg;

	/* data is not NUL-terminated: both entry points take an explicit length. */
	int pr = paseto_v4_peek_footer(tok, size, &footer, &err);
	if (pr == 0) {
		if (!footer)
			abort();
		free(footer);
	} else if (!err || footer) {
		abort();
	}

	err = NULL;
	int vr = paseto_v4_verify(pk, tok, size, NULL, 0, &msg, &err);
	if (vr == 0) {
		/* Anything verify accepts, peek must have accepted, and the payload must
		 * fit the token and keep its convenience NUL. */
		if (pr != 0 || !msg.payload || !msg.footer || msg.payload_len >= size ||
		    msg.payload[msg.payload_len] != 0 || msg.footer[msg.footer_len] != 0)
			abort();
		/* Canonical encoding: Ed25519 is deterministic, so re-signing what was
		 * accepted must give back the input byte for byte. Any other accepted
		 * spelling would make one lease look like several (replay ledger, audit). */
		char *again = NULL;
		if (paseto_v4_sign(sk, msg.payload, msg.payload_len, (const uint8_t *)msg.footer,
				   msg.footer_len, NULL, 0, &again) != 0 ||
		    strlen(again) != size || memcmp(again, data, size) != 0)
			abort();
		free(again);
		paseto_msg_free(&msg);
	} else if (!err) {
		abort();
	}

	/* The lease verifier: its verdict is one of its exit codes, with a reason. A time
	 * in the seeds' lifetime (2026-12-03T11:00:00Z), so a seed issued then verifies. */
	char verr[512];
	struct lease l;
	verr[0] = '\0';
	int lr = verify_lease_token(tok, size, pk, NULL, 1796295600, 30, &l, verr, sizeof verr);
	if (lr == EXIT_OK)
		lease_free(&l);
	else if ((lr != EXIT_LEASE_INVALID && lr != EXIT_LEASE_MATRIX) || !verr[0])
		abort();

	/* The PASERK decoders take C strings. */
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	uint8_t sk2[PASETO_SK_BYTES], pk2[PASETO_PK_BYTES];
	if (paserk_k4_public_decode(s, pk2) == 0) {
		/* Whatever decodes must re-encode to the same text (modulo whitespace). */
		char *enc = paserk_k4_public_encode(pk2);
		if (!enc || !strstr(s, enc))
			abort();
		free(enc);
	}
	if (paserk_k4_secret_decode(s, sk2) == 0) {
		char *enc = paserk_k4_secret_encode(sk2);
		if (!enc || !strstr(s, enc))
			abort();
		free(enc);
	}
	free(s);
	return 0;
}
