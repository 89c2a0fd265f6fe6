/* `calyx keygen`: an Ed25519 key pair as PASERK files, the secret one never readable by
 * anyone else at any moment (created 0600, not chmod'ed down afterwards). */
#include "cli/keygen.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/fileio.h"
#include "state/artifacts.h"
#include "base/exitcodes.h"
#include "token/paseto.h"

int keygen_run(const struct keygen_opts *o)
{
	char skp[PATH_MAX], pkp[PATH_MAX], err[PATH_MAX + 128];
	uint8_t pk[PASETO_PK_BYTES], sk[PASETO_SK_BYTES];
	char *sks = NULL, *pks = NULL, *pid = NULL, *skline = NULL;
	struct stat st;
	int rc = EXIT_INTERNAL;

	if ((size_t)snprintf(skp, sizeof(skp), "%s/%s", o->out_dir, KEYGEN_SECRET_NAME) >= sizeof(skp) ||
	    (size_t)snprintf(pkp, sizeof(pkp), "%s/%s", o->out_dir, KEYGEN_PUBLIC_NAME) >= sizeof(pkp)) {
		fprintf(stderr, "calyx: --out %s: path too long\n", o->out_dir);
		return EXIT_USAGE;
	}
	int mr = fileio_mkdir_p(o->out_dir, 0700);
	if (mr < 0) {
		fprintf(stderr, "calyx: cannot create directory %s: %s\n", o->out_dir, strerror(-mr));
		return EXIT_IO;
	}
	if (!o->force) {
		/* Checked up front so nothing is generated or half-written; link() below still
		 * refuses atomically if another keygen races us. */
		const char *exists = lstat(skp, &st) == 0 ? skp : lstat(pkp, &st) == 0 ? pkp : NULL;
		if (exists) {
			fprintf(stderr, "calyx: %s already exists; use --force to replace the key pair\n", exists);
			return EXIT_KEY_EXISTS;
		}
	}
	if (sodium_init() < 0 || crypto_sign_keypair(pk, sk) != 0) {
		fprintf(stderr, "calyx: key generation failed\n");
		return EXIT_INTERNAL;
	}
	sks = paserk_k4_secret_encode(sk);
	pks = paserk_k4_public_encode(pk);
	pid = paserk_k4_pid(pk);
	if (!sks || !pks || !pid || asprintf(&skline, "%s\n", sks) < 0) {
		skline = NULL;
		fprintf(stderr, "calyx: out of memory\n");
		goto out;
	}
	int wr = atomic_write_file(skp, skline, strlen(skline), 0600, o->force, err, sizeof(err));
	if (wr < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		rc = wr == -EEXIST ? EXIT_KEY_EXISTS : EXIT_IO;
		goto out;
	}
	char pkline[128];
	snprintf(pkline, sizeof(pkline), "%s\n", pks);
	wr = atomic_write_file(pkp, pkline, strlen(pkline), 0644, o->force, err, sizeof(err));
	if (wr < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		/* A secret key without its public half would block the next keygen for nothing. */
		if (!o->force)
			unlink(skp);
		rc = wr == -EEXIST ? EXIT_KEY_EXISTS : EXIT_IO;
		goto out;
	}
	fprintf(stderr, "calyx: wrote %s (secret, mode 0600) and %s\n", skp, pkp);
	printf("%s\n", pid);
	rc = EXIT_OK;
out:
	sodium_memzero(sk, sizeof(sk));
	if (sks)
		sodium_memzero(sks, strlen(sks));
	if (skline)
		sodium_memzero(skline, strlen(skline));
	free(sks);
	free(skline);
	free(pks);
	free(pid);
	return rc;
}
