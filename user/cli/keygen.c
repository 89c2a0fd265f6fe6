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

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/paserk.h"
#include "token/keys.h"

int keygen_run(const struct keygen_opts *o)
{
	char skp[PATH_MAX], pkp[PATH_MAX], err[PATH_MAX + 128];
	uint8_t pk[PASERK_PK_BYTES], sk[PASERK_SK_BYTES];
	struct stat st;

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
	_cleanup_free_ char *pid = paserk_k4_pid(pk);
	int wr = pid ? keyfile_write_pair(skp, pkp, sk, pk, o->force, err, sizeof(err))
		     : errmsg(err, sizeof(err), -ENOMEM, "out of memory");
	sodium_memzero(sk, sizeof(sk));
	if (wr < 0) {
		fprintf(stderr, "calyx: %s\n", err);
		return wr == -EEXIST ? EXIT_KEY_EXISTS : wr == -ENOMEM ? EXIT_INTERNAL : EXIT_IO;
	}
	fprintf(stderr, "calyx: wrote %s (secret, mode 0600) and %s\n", skp, pkp);
	printf("%s\n", pid);
	return EXIT_OK;
}
