/* The host audit key (auditkey.h). */
#include "audit/auditkey.h"

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
#include "base/safedir.h"

/* Read a small key file beneath state_fd; a secret one must be a regular file nobody but
 * its owner can read. */
static int read_key(int state_fd, const char *rel, bool secret, char *buf, size_t cap, char *err, size_t errlen)
{
	int fd = safedir_openat(state_fd, rel, O_RDONLY, 0);
	if (fd < 0)
		return fd == -ENOENT ? -ENOENT : errmsg(err, errlen, fd, "%s: %s", rel, strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errmsg(err, errlen, -EINVAL, "%s: not a regular file", rel);
	}
	if (secret && (st.st_mode & 077)) {
		close(fd);
		return errmsg(err, errlen, -EPERM, "%s is accessible by group or others (mode %04o); run chmod 600 on it",
			      rel, (unsigned)(st.st_mode & 07777));
	}
	ssize_t n = fileio_read_all(fd, buf, cap);
	close(fd);
	if (n < 0)
		return errmsg(err, errlen, (int)n, "%s: %s", rel, strerror((int)-n));
	return 0;
}

/* Write s to rel (beneath state_fd) through a temp file: created with its final mode, so
 * the secret is never readable by others; linked into place (replace: renamed). */
static int write_key(int state_fd, const char *rel, const char *s, mode_t mode, bool replace, char *err, size_t errlen)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", rel, (int)getpid());
	unlinkat(state_fd, tmp, 0);
	int fd = safedir_openat(state_fd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return errmsg(err, errlen, fd, "%s: %s", tmp, strerror(-fd));
	int rc = fileio_write_all(fd, s, strlen(s));
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (!rc) {
		if (replace)
			rc = renameat(state_fd, tmp, state_fd, rel) < 0 ? -errno : 0;
		else
			rc = linkat(state_fd, tmp, state_fd, rel, 0) < 0 ? -errno : 0;
	}
	unlinkat(state_fd, tmp, 0);
	if (rc)
		return errmsg(err, errlen, rc, "%s: %s", rel, rc == -EEXIST ? "already exists" : strerror(-rc));
	return 0;
}

int auditkey_create(int state_fd, bool replace, uint8_t pk[PASERK_PK_BYTES], char *err, size_t errlen)
{
	int dfd = safedir_mkdirs(state_fd, AUDITKEY_DIR, 0700);
	if (dfd < 0)
		return errmsg(err, errlen, dfd, "%s: %s", AUDITKEY_DIR, strerror(-dfd));
	close(dfd);
	uint8_t sk[PASERK_SK_BYTES];
	if (sodium_init() < 0 || crypto_sign_keypair(pk, sk) != 0)
		return errmsg(err, errlen, -EIO, "key generation failed");
	_cleanup_free_ char *sks = paserk_k4_secret_encode(sk);
	_cleanup_free_ char *pks = paserk_k4_public_encode(pk);
	sodium_memzero(sk, sizeof(sk));
	if (!sks || !pks)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	char line[256];
	snprintf(line, sizeof(line), "%s\n", sks);
	int rc = write_key(state_fd, AUDITKEY_SECRET, line, 0600, replace, err, errlen);
	sodium_memzero(line, sizeof(line));
	sodium_memzero(sks, strlen(sks));
	if (rc < 0)
		return rc;
	snprintf(line, sizeof(line), "%s\n", pks);
	/* The public half always follows the secret one it belongs to. */
	return write_key(state_fd, AUDITKEY_PUBLIC, line, 0644, true, err, errlen);
}

int auditkey_load_or_create(int state_fd, uint8_t sk[PASERK_SK_BYTES], bool *created, char *err, size_t errlen)
{
	*created = false;
	char buf[256];
	int rc = read_key(state_fd, AUDITKEY_SECRET, true, buf, sizeof(buf), err, errlen);
	if (rc == -ENOENT) {
		uint8_t pk[PASERK_PK_BYTES];
		rc = auditkey_create(state_fd, false, pk, err, errlen);
		if (rc == 0)
			*created = true;
		else if (rc != -EEXIST)   /* -EEXIST: a concurrent first run made it: read theirs */
			return rc;
		rc = read_key(state_fd, AUDITKEY_SECRET, true, buf, sizeof(buf), err, errlen);
	}
	if (rc < 0)
		return rc == -ENOENT ? errmsg(err, errlen, rc, "%s: missing", AUDITKEY_SECRET) : rc;
	rc = paserk_k4_secret_decode(buf, sk);
	sodium_memzero(buf, sizeof(buf));
	if (rc < 0)
		return errmsg(err, errlen, -EINVAL, "%s: not a PASERK k4.secret key", AUDITKEY_SECRET);
	return 0;
}

int auditkey_load_public(int state_fd, uint8_t pk[PASERK_PK_BYTES], char *err, size_t errlen)
{
	char buf[256];
	int rc = read_key(state_fd, AUDITKEY_PUBLIC, false, buf, sizeof(buf), err, errlen);
	if (rc < 0)
		return rc;
	if (paserk_k4_public_decode(buf, pk) < 0)
		return errmsg(err, errlen, -EINVAL, "%s: not a PASERK k4.public key", AUDITKEY_PUBLIC);
	return 0;
}
