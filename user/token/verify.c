/* The CP14 verifier: token bytes → a lease that is signed by the right key, current, and
 * (with a matrix) inside host policy. Every rejection has its own message, because an
 * operator who sees "invalid" cannot tell a clock problem from a forgery. */
#include "token/verify.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/errmsg.h"
#include "base/exitcodes.h"
#include "base/fileio.h"
#include "base/units.h"
#include "token/paseto.h"

#define PID_PREFIX "k4.pid."

/* Copy at most max bytes of untrusted text into out, replacing anything unprintable,
 * so a hostile token cannot put control characters on the operator's terminal. */
static void printable(const char *s, size_t len, size_t max, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < len && i < max && o + 2 < outlen; i++)
		out[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (len > max && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

/* Name what the header is, so "v4.local." and "v3.public." are told apart from junk. */
static int check_header(const char *token, size_t len, char *err, size_t errlen)
{
	const size_t hl = sizeof(PASETO_V4_PUBLIC_HEADER) - 1;
	if (len >= hl && memcmp(token, PASETO_V4_PUBLIC_HEADER, hl) == 0)
		return 0;
	const char *d1 = memchr(token, '.', len < 16 ? len : 16);
	const char *d2 = d1 ? memchr(d1 + 1, '.', (size_t)(token + (len < 32 ? len : 32) - d1 - 1)) : NULL;
	char shown[48];
	if (d2) {
		printable(token, (size_t)(d2 - token) + 1, 24, shown, sizeof(shown));
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "not a v4.public token (header '%s')", shown);
	}
	printable(token, len, 16, shown, sizeof(shown));
	return errmsg(err, errlen, EXIT_LEASE_INVALID,
		      "not a PASETO token (no 'v4.public.' header; starts '%s')", shown);
}

/* Footer must be exactly {"kid":"k4.pid.…"}: one member, strict JSON, nothing else, so
 * there is no second place a verifier could look for a key id. kid_out gets a copy. */
static int parse_footer(const char *footer, size_t len, char **kid_out, char *err, size_t errlen)
{
	*kid_out = NULL;
	if (len == 0)
		return errmsg(err, errlen, EXIT_LEASE_INVALID,
			      "token has no footer (expected {\"kid\":\"k4.pid.…\"})");
	if (strlen(footer) != len)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "footer contains a NUL byte");
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(footer, len, &end, false);
	if (!j || end != footer + len) {
		cJSON_Delete(j);
		return errmsg(err, errlen, EXIT_LEASE_INVALID,
			      "footer is not JSON (expected {\"kid\":\"k4.pid.…\"})");
	}
	cJSON *kid = cJSON_IsObject(j) ? j->child : NULL;
	if (!kid || kid->next || !kid->string || strcmp(kid->string, "kid") != 0) {
		cJSON_Delete(j);
		return errmsg(err, errlen, EXIT_LEASE_INVALID,
			      "footer must be exactly {\"kid\":\"k4.pid.…\"}");
	}
	if (!cJSON_IsString(kid) || strncmp(kid->valuestring, PID_PREFIX, strlen(PID_PREFIX)) != 0 ||
	    strlen(kid->valuestring) > 128) {
		cJSON_Delete(j);
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "footer kid is not a k4.pid key id");
	}
	for (const char *p = kid->valuestring + strlen(PID_PREFIX); *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_')) {
			cJSON_Delete(j);
			return errmsg(err, errlen, EXIT_LEASE_INVALID, "footer kid is not a k4.pid key id");
		}
	*kid_out = strdup(kid->valuestring);
	cJSON_Delete(j);
	if (!*kid_out)
		return errmsg(err, errlen, EXIT_INTERNAL, "out of memory");
	return EXIT_OK;
}

/* Long: the checks in the order that makes each one safe (size, header, footer, key,
 * signature, claims, issuer, times, matrix); split up, that order would be hidden. */
static int verify_token(const char *token, size_t len, const uint8_t *pk, const struct matrix *m,
			int64_t now, int64_t skew_s, struct lease *out, struct verify_info *info,
			char *err, size_t errlen)
{
	char *footer = NULL, *kid = NULL, *want = NULL;
	const char *perr = NULL;
	struct paseto_msg msg = { 0 };
	struct lease l;
	bool have_lease = false;
	char e[512] = "";
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	if (!pk && !m)
		return errmsg(err, errlen, EXIT_INTERNAL, "no key and no matrix to verify against");
	if (len > PASETO_MAX_TOKEN_BYTES)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "token is larger than 1 MiB");
	if (len == 0)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "empty token");
	rc = check_header(token, len, err, errlen);
	if (rc)
		return rc;

	if (paseto_v4_peek_footer(token, len, &footer, &perr) < 0) {
		rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "malformed token: %s", perr ? perr : "?");
		goto done;
	}
	rc = parse_footer(footer, strlen(footer), &kid, err, errlen);
	if (rc)
		goto done;

	/* Choose the key from the footer, then verify with that key only. */
	const uint8_t *key = pk;
	if (pk) {
		want = paserk_k4_pid(pk);
		if (!want) {
			rc = errmsg(err, errlen, EXIT_INTERNAL, "cannot compute key id");
			goto done;
		}
		if (strcmp(kid, want) != 0) {
			rc = errmsg(err, errlen, EXIT_LEASE_INVALID,
				    "key id mismatch: token signed by %s, expected %s", kid, want);
			goto done;
		}
	} else {
		const struct matrix_key *mk = matrix_find_key(m, kid);
		if (!mk) {
			rc = errmsg(err, errlen, EXIT_LEASE_MATRIX,
				    "signer %s is not trusted by the matrix (add its public key to trusted_keys "
				    "in %s, or pass it with --pub)", kid, m->source ? m->source : "the matrix");
			goto done;
		}
		key = mk->pk;
	}

	int vr = paseto_v4_verify(key, token, len, NULL, 0, &msg, &perr);
	if (vr == -EBADMSG) {
		rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "signature verification failed");
		goto done;
	}
	if (vr < 0) {
		rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "malformed token: %s", perr ? perr : "?");
		goto done;
	}
	/* The footer we chose the key by must be the one that was signed. */
	if (msg.footer_len != strlen(footer) || memcmp(msg.footer, footer, msg.footer_len) != 0) {
		rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "footer changed between reads");
		goto done;
	}

	if (lease_from_json((const char *)msg.payload, msg.payload_len, &l, e, sizeof(e)) < 0) {
		rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "bad claims: %s", e);
		goto done;
	}
	have_lease = true;
	if (!l.iss || strcmp(l.iss, kid) != 0) {
		char shown[160];
		printable(l.iss ? l.iss : "", l.iss ? strlen(l.iss) : 0, 100, shown, sizeof(shown));
		rc = errmsg(err, errlen, EXIT_LEASE_INVALID,
			    "claim 'iss' (%s) does not match the footer key id %s", shown, kid);
		goto done;
	}

	/* A lease issued for later has iat = nbf in the future: say "not valid before", which
	 * is what the operator needs to hear, rather than lease.c's "issued in the future". */
	int tr = now < l.nbf - skew_s ? -EAGAIN : lease_check_times(&l, now, skew_s, e, sizeof(e));
	if (tr < 0) {
		char a[32], b[32];
		units_format_rfc3339(now, b, sizeof(b));
		if (tr == -ETIME) {
			units_format_rfc3339(l.exp, a, sizeof(a));
			rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "lease expired at %s (now %s)", a, b);
		} else if (tr == -EAGAIN) {
			units_format_rfc3339(l.nbf, a, sizeof(a));
			rc = errmsg(err, errlen, EXIT_LEASE_INVALID,
				    "lease not valid before %s (now %s)", a, b);
		} else {
			rc = errmsg(err, errlen, EXIT_LEASE_INVALID, "bad lease times: %s", e);
		}
		goto done;
	}

	if (m && matrix_check_lease(m, &l, e, sizeof(e)) < 0) {
		rc = errmsg(err, errlen, EXIT_LEASE_MATRIX, "lease outside the matrix: %s", e);
		goto done;
	}

	*out = l;
	have_lease = false;
	rc = EXIT_OK;
	if (errlen)
		err[0] = '\0';
done:
	/* Refused after the signature checked out: the claims are the signer's, worth
	 * recording with the refusal (the audit log); anything earlier is not. */
	if (have_lease && info && !info->have_claims) {
		info->claims = l;
		info->have_claims = true;
		have_lease = false;
	}
	if (have_lease)
		lease_free(&l);
	paseto_msg_free(&msg);
	free(footer);
	free(kid);
	free(want);
	return rc;
}

int verify_lease_token(const char *token, size_t len, const uint8_t *pk, const struct matrix *m,
		       int64_t now, int64_t skew_s, struct lease *out, char *err, size_t errlen)
{
	return verify_token(token, len, pk, m, now, skew_s, out, NULL, err, errlen);
}

/* hash (may be NULL): BLAKE2b-256 hex of every byte read, before the trim. */
static int read_token_file(const char *path, char **buf, size_t *len, char hash[VERIFY_HASH_HEX + 1],
			   char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errmsg(err, errlen, EXIT_IO, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return errmsg(err, errlen, EXIT_IO, "cannot stat %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return errmsg(err, errlen, EXIT_IO, "%s is a directory", path);
	/* Refuse oversized files unread; non-regular files (pipes) are capped while reading. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > PASETO_MAX_TOKEN_BYTES + 64u)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "token is larger than 1 MiB");
	size_t cap = PASETO_MAX_TOKEN_BYTES + 64u + 1;
	_cleanup_free_ char *b = malloc(cap);
	if (!b)
		return errmsg(err, errlen, EXIT_INTERNAL, "out of memory");
	ssize_t got = fileio_read_all(fd, b, cap);
	if (got == -EFBIG)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "token is larger than 1 MiB");
	if (got < 0)
		return errmsg(err, errlen, EXIT_IO, "cannot read %s: %s", path, strerror((int)-got));
	size_t n = (size_t)got;
	if (hash) {
		unsigned char h[crypto_generichash_BYTES];
		crypto_generichash(h, sizeof(h), (const unsigned char *)b, n, NULL, 0);
		sodium_bin2hex(hash, VERIFY_HASH_HEX + 1, h, sizeof(h));
	}
	while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ' || b[n - 1] == '\t'))
		n--;
	b[n] = '\0';
	if (n > PASETO_MAX_TOKEN_BYTES)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "token is larger than 1 MiB");
	if (n == 0)
		return errmsg(err, errlen, EXIT_LEASE_INVALID, "token file %s is empty", path);
	*buf = TAKE_PTR(b);
	*len = n;
	return EXIT_OK;
}

int verify_read_token_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	return read_token_file(path, buf, len, NULL, err, errlen);
}

int verify_lease_file_ex(const char *path, const uint8_t *pk, const struct matrix *m, int64_t now,
			 int64_t skew_s, struct lease *out, struct verify_info *info, char *err, size_t errlen)
{
	char *tok = NULL;
	size_t len = 0;
	memset(out, 0, sizeof(*out));
	if (info)
		memset(info, 0, sizeof(*info));
	int rc = read_token_file(path, &tok, &len, info ? info->token_blake2b : NULL, err, errlen);
	if (rc)
		return rc;
	rc = verify_token(tok, len, pk, m, now, skew_s, out, info, err, errlen);
	free(tok);
	return rc;
}

int verify_lease_file(const char *path, const uint8_t *pk, const struct matrix *m,
		      int64_t now, int64_t skew_s, struct lease *out, char *err, size_t errlen)
{
	return verify_lease_file_ex(path, pk, m, now, skew_s, out, NULL, err, errlen);
}

void verify_info_free(struct verify_info *info)
{
	if (info && info->have_claims)
		lease_free(&info->claims);
	if (info)
		info->have_claims = false;
}
