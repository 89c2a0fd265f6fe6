/* Signed checkpoints of the SVF chain (checkpoint.h). */
#include "audit/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "base/b64url.h"
#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "base/safedir.h"

/* The signed statement: a domain string, so no other signature of this key can pass for a
 * checkpoint, then the seq and the head it vouches for. */
static int statement(char *buf, size_t len, uint64_t seq, const char *head)
{
	return snprintf(buf, len, "calyx-svf-checkpoint-v1\n%" PRIu64 "\n%s\n", seq, head);
}

cJSON *checkpoint_make(uint64_t seq, const char head[SVF_HASH_HEX + 1], const uint8_t sk[PASERK_SK_BYTES])
{
	char msg[128];
	int ml = statement(msg, sizeof(msg), seq, head);
	unsigned char sig[crypto_sign_BYTES];
	crypto_sign_detached(sig, NULL, (const unsigned char *)msg, (unsigned long long)ml, sk);
	char sig64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	sodium_bin2base64(sig64, sizeof(sig64), sig, sizeof(sig), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	/* The secret key's second half is its public key (libsodium's layout). */
	_cleanup_free_ char *pid = paserk_k4_pid(sk + 32);
	cJSON *d = cJSON_CreateObject();
	if (!d || !pid || !cJSON_AddNumberToObject(d, "seq", (double)seq) ||
	    !cJSON_AddStringToObject(d, "head", head) || !cJSON_AddStringToObject(d, "key", pid) ||
	    !cJSON_AddStringToObject(d, "sig", sig64)) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

int checkpoint_check(const cJSON *data, const uint8_t pk[PASERK_PK_BYTES], struct checkpoint *out,
		     char *err, size_t errlen)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(data, "seq");
	const char *head = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "head"));
	const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "key"));
	const char *sig = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(data, "sig"));
	double d = cJSON_GetNumberValue(s);
	if (!cJSON_IsNumber(s) || d < 1 || d > 9007199254740992.0 || d != (double)(uint64_t)d)
		return errmsg(err, errlen, -EBADMSG, "checkpoint: bad seq");
	if (!head || strlen(head) != SVF_HASH_HEX || !key || !sig)
		return errmsg(err, errlen, -EBADMSG, "checkpoint: head, key or sig missing");
	_cleanup_free_ char *pid = paserk_k4_pid(pk);
	if (!pid)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	if (strcmp(pid, key) != 0)
		return errmsg(err, errlen, -EKEYREJECTED, "checkpoint signed by key %s, not the audit key %s", key, pid);
	uint8_t *raw = NULL;
	size_t rl = 0;
	if (b64url_decode(sig, strlen(sig), &raw, &rl) < 0 || rl != crypto_sign_BYTES) {
		free(raw);
		return errmsg(err, errlen, -EBADMSG, "checkpoint: sig is not a base64url Ed25519 signature");
	}
	char msg[128];
	int ml = statement(msg, sizeof(msg), (uint64_t)d, head);
	int v = crypto_sign_verify_detached(raw, (const unsigned char *)msg, (unsigned long long)ml, pk);
	free(raw);
	if (v != 0)
		return errmsg(err, errlen, -EPERM, "checkpoint signature does not verify");
	out->seq = (uint64_t)d;
	snprintf(out->head, sizeof(out->head), "%s", head);
	snprintf(out->key, sizeof(out->key), "%s", key);
	return 0;
}

/* A JSON number that is a whole number from min to 2^53 (what a double holds exactly):
 * anything else would not convert to seq or offset (a cast out of range is undefined). */
static bool whole_number(const cJSON *n, double min)
{
	double d = cJSON_GetNumberValue(n);
	return cJSON_IsNumber(n) && d >= min && d <= 9007199254740992.0 && d == (double)(uint64_t)d;
}

int checkpoint_sidecar_read(int dirfd, struct checkpoint_sidecar *out, char *err, size_t errlen)
{
	int fd = safedir_openat(dirfd, CHECKPOINT_SIDECAR, O_RDONLY, 0);
	if (fd < 0)
		return fd == -ENOENT ? -ENOENT : errmsg(err, errlen, fd, "%s: %s", CHECKPOINT_SIDECAR, strerror(-fd));
	char buf[512];
	ssize_t n = fileio_read_all(fd, buf, sizeof(buf));
	close(fd);
	/* The sidecar is one short line the writer makes: more than fits is not one of its
	 * files (a copied log is untrusted input), not an I/O error. */
	if (n == -EFBIG)
		return errmsg(err, errlen, -EBADMSG, "%s: malformed (longer than %zu bytes)", CHECKPOINT_SIDECAR,
			      sizeof(buf) - 1);
	if (n < 0)
		return errmsg(err, errlen, (int)n, "%s: %s", CHECKPOINT_SIDECAR, strerror((int)-n));
	cJSON *j = cJSON_Parse(buf);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seq");
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "offset");
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hash"));
	int rc = 0;
	if (!whole_number(s, 1) || !whole_number(o, 0) || !h || strlen(h) != SVF_HASH_HEX) {
		rc = errmsg(err, errlen, -EBADMSG, "%s: malformed (wants seq, hash, offset)", CHECKPOINT_SIDECAR);
	} else {
		out->seq = (uint64_t)s->valuedouble;
		out->offset = (off_t)o->valuedouble;
		snprintf(out->hash, sizeof(out->hash), "%s", h);
	}
	cJSON_Delete(j);
	return rc;
}

int checkpoint_sidecar_write(int dirfd, const struct checkpoint_sidecar *s, char *err, size_t errlen)
{
	char buf[256], tmp[64];
	int n = snprintf(buf, sizeof(buf), "{\"seq\":%" PRIu64 ",\"hash\":\"%s\",\"offset\":%jd}\n",
			 s->seq, s->hash, (intmax_t)s->offset);
	snprintf(tmp, sizeof(tmp), ".%s.%d", CHECKPOINT_SIDECAR, (int)getpid());
	unlinkat(dirfd, tmp, 0);
	int fd = safedir_openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0640);
	if (fd < 0)
		return errmsg(err, errlen, fd, "%s: %s", tmp, strerror(-fd));
	int rc = fileio_write_all(fd, buf, (size_t)n);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (!rc && renameat(dirfd, tmp, dirfd, CHECKPOINT_SIDECAR) < 0)
		rc = -errno;
	if (rc) {
		unlinkat(dirfd, tmp, 0);
		return errmsg(err, errlen, rc, "%s: %s", CHECKPOINT_SIDECAR, strerror(-rc));
	}
	fsync(dirfd);
	return 0;
}
