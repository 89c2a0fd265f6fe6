/* Key files: one PASERK k4 string each (see keys.h). */
#include "token/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"

#define KEYFILE_MAX 4096

#define PUBLIC_NOT_SECRET "%s holds a public key (k4.public), not a secret key: give the secret key " \
	"file instead (keygen writes calyx.key beside calyx.pub)"

/* Does the open file fd start with a public key? Asked only of a file refused for its mode:
 * a public key is meant to be readable, and "run chmod 600" would be the wrong fix. */
static bool holds_public_key(int fd)
{
	char head[16] = "";
	ssize_t n = pread(fd, head, sizeof(head) - 1, 0);
	return n > 0 && strncmp(head, "k4.public.", 10) == 0;
}

/* Key files are small text files holding one PASERK string. */
static int read_small(const char *path, bool secret, char *buf, size_t cap, char *err, size_t errlen)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errmsg(err, errlen, -errno, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errmsg(err, errlen, -errno, "cannot stat %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return errmsg(err, errlen, -EINVAL, "%s is not a regular file", path);
	/* Checked on the opened file (fstat), so a swap between check and read is moot. */
	if (secret && (st.st_mode & 077) && holds_public_key(fd))
		return errmsg(err, errlen, -EINVAL, PUBLIC_NOT_SECRET, path);
	if (secret && (st.st_mode & 077))
		return errmsg(err, errlen, -EPERM,
			      "secret key file %s is accessible by group or others (mode %04o); run chmod 600 on it",
			      path, (unsigned)(st.st_mode & 07777));
	/* At most cap - 2 bytes: a file that fills the buffer is no key file. */
	ssize_t n = fileio_read_all(fd, buf, cap - 1);
	if (n == -EFBIG)
		return errmsg(err, errlen, -EINVAL, "%s is too large for a key file", path);
	if (n < 0)
		return errmsg(err, errlen, (int)n, "cannot read %s: %s", path, strerror((int)-n));
	return 0;
}

int keyfile_read_secret(const char *path, uint8_t sk[PASERK_SK_BYTES], char *err, size_t errlen)
{
	char buf[KEYFILE_MAX];
	int rc = read_small(path, true, buf, sizeof(buf), err, errlen);
	if (rc < 0) {
		sodium_memzero(buf, sizeof(buf));
		return rc;
	}
	rc = paserk_k4_secret_decode(buf, sk);
	if (rc < 0) {
		if (strstr(buf, "k4.public."))
			snprintf(err, errlen, PUBLIC_NOT_SECRET, path);
		else
			snprintf(err, errlen, "%s is not a PASERK k4.secret key", path);
		rc = -EINVAL;
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int keyfile_read_public(const char *path, uint8_t pk[PASERK_PK_BYTES], char *err, size_t errlen)
{
	char buf[KEYFILE_MAX];
	int rc = read_small(path, false, buf, sizeof(buf), err, errlen);
	if (rc < 0)
		return rc;
	rc = paserk_k4_public_decode(buf, pk);
	if (rc < 0) {
		if (strstr(buf, "k4.secret."))
			snprintf(err, errlen, "%s holds a secret key; give the public key (k4.public)", path);
		else
			snprintf(err, errlen, "%s is not a PASERK k4.public key", path);
		rc = -EINVAL;
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* One key file: its PASERK string and a newline. */
static int write_key(const char *path, const char *paserk, mode_t mode, bool replace, char *err,
		     size_t errlen)
{
	size_t n = strlen(paserk);
	_cleanup_free_ char *line = malloc(n + 2);
	if (!line)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	memcpy(line, paserk, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	int rc = fileio_write_atomic(path, line, n + 1, mode, replace, err, errlen);
	sodium_memzero(line, n + 1);
	return rc;
}

int keyfile_write_pair(const char *sk_path, const char *pk_path, const uint8_t sk[PASERK_SK_BYTES],
		       const uint8_t pk[PASERK_PK_BYTES], bool replace, char *err, size_t errlen)
{
	_cleanup_free_ char *pks = paserk_k4_public_encode(pk);
	char *sks = paserk_k4_secret_encode(sk);
	int rc;
	if (!sks || !pks)
		rc = errmsg(err, errlen, -ENOMEM, "out of memory");
	else
		rc = write_key(sk_path, sks, 0600, replace, err, errlen);
	if (sks) {
		sodium_memzero(sks, strlen(sks));
		free(sks);
	}
	if (rc < 0)
		return rc;
	rc = write_key(pk_path, pks, 0644, replace, err, errlen);
	/* A secret key without its public half would block the next keygen for nothing. */
	if (rc < 0 && !replace)
		unlink(sk_path);
	return rc;
}
