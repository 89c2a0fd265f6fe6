/* sign_claims KEYFILE: sign the claims JSON on stdin, byte for byte, with calyx's own
 * PASETO v4 code and KEYFILE's key, footer {"kid":...} as `lease issue` writes it; the
 * token on stdout. No claim is checked: this is how a test hands `calyx run` a validly
 * signed lease that `lease issue` would have refused (an issuer with other rules). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "base/paserk.h"
#include "token/keys.h"
#include "token/paseto.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: sign_claims KEYFILE < claims.json\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	uint8_t sk[PASETO_SK_BYTES];
	char err[4096];
	if (keyfile_read_secret(argv[1], sk, err, sizeof(err)) < 0) {
		fprintf(stderr, "sign_claims: %s\n", err);
		return 1;
	}
	static char claims[1 << 20];
	size_t n = fread(claims, 1, sizeof(claims), stdin);
	while (n && (claims[n - 1] == '\n' || claims[n - 1] == '\r'))
		n--;
	char *pid = paserk_k4_pid(sk + 32), footer[160], *token = NULL;
	if (!pid)
		return 1;
	snprintf(footer, sizeof(footer), "{\"kid\":\"%s\"}", pid);
	free(pid);
	if (paseto_v4_sign(sk, (const uint8_t *)claims, n, (const uint8_t *)footer, strlen(footer), NULL, 0, &token) < 0) {
		fprintf(stderr, "sign_claims: signing failed\n");
		return 1;
	}
	printf("%s\n", token);
	free(token); /* a clean exit under LeakSanitizer (make test-asan) */
	return 0;
}
