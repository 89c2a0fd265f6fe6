/* SVF records themselves (see svf.h): their canonical form, hash and checks. Pure: no
 * files, no clock (svf.c appends them to the log). */
#include "audit/svf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "base/cleanup.h"
#include "base/errmsg.h"

static const char *const svf_keys[] = {
	"seq", "ts", "type", "lease", "intent", "host", "data", "prev", "hash",
};
#define SVF_NKEYS (sizeof(svf_keys) / sizeof(svf_keys[0]))

void svf_format_ts(int64_t sec, long nsec, char out[32])
{
	struct tm tm;
	time_t t = (time_t)sec;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03ldZ", base, (nsec / 1000000) % 1000);
}

static void hash_hex(const char *buf, size_t len, char out[SVF_HASH_HEX + 1])
{
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof(h), (const unsigned char *)buf, len, NULL, 0);
	sodium_bin2hex(out, SVF_HASH_HEX + 1, h, sizeof(h));
}

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != SVF_HASH_HEX)
		return false;
	for (size_t i = 0; i < SVF_HASH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Long: each check relies on the ones before it (parse, key order, types, canonical bytes,
 * hash); together, in order, they are the record format. */
int svf_check_line(const char *line, size_t len, uint64_t *seq, char prev[SVF_HASH_HEX + 1],
		   char hash[SVF_HASH_HEX + 1], char *err, size_t errlen)
{
	if (len == 0)
		return errmsg(err, errlen, -EBADMSG, "empty line");
	if (len > SVF_MAX_LINE)
		return errmsg(err, errlen, -EBADMSG, "record longer than %u bytes", SVF_MAX_LINE);
	if (memchr(line, '\0', len))
		return errmsg(err, errlen, -EBADMSG, "NUL byte in record");
	cJSON *j = cJSON_ParseWithLengthOpts(line, len, NULL, 0);
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return errmsg(err, errlen, -EBADMSG, "not a JSON object (cut or edited)");
	}
	int rc = 0;
	char *canon = NULL;
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, j) {
		if (i >= SVF_NKEYS || !it->string || strcmp(it->string, svf_keys[i]) != 0) {
			rc = errmsg(err, errlen, -EBADMSG, "unexpected key '%s' at position %zu",
				    it->string ? it->string : "?", i + 1);
			goto out;
		}
		i++;
	}
	if (i != SVF_NKEYS) {
		rc = errmsg(err, errlen, -EBADMSG, "record has %zu keys, expected %zu", i, SVF_NKEYS);
		goto out;
	}
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "seq");
	double d = cJSON_GetNumberValue(s);
	if (!cJSON_IsNumber(s) || d < 1 || d > 9007199254740992.0 || d != (double)(uint64_t)d) {
		rc = errmsg(err, errlen, -EBADMSG, "bad seq");
		goto out;
	}
	for (size_t k = 1; k < 6; k++) {
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, svf_keys[k]))) {
			rc = errmsg(err, errlen, -EBADMSG, "'%s' is not a string", svf_keys[k]);
			goto out;
		}
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "data"))) {
		rc = errmsg(err, errlen, -EBADMSG, "'data' is not an object");
		goto out;
	}
	const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "prev"));
	const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "hash"));
	if (!is_hex64(p) || !is_hex64(h)) {
		rc = errmsg(err, errlen, -EBADMSG, "'prev' or 'hash' is not 64 lowercase hex digits");
		goto out;
	}
	snprintf(prev, SVF_HASH_HEX + 1, "%s", p);
	snprintf(hash, SVF_HASH_HEX + 1, "%s", h);
	*seq = (uint64_t)d;

	cJSON_DeleteItemFromObjectCaseSensitive(j, "hash");
	canon = cJSON_PrintUnformatted(j);
	if (!canon) {
		rc = errmsg(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	/* The line must be byte-for-byte the canonical record plus the hash member, so a
	 * verifier in any language can hash the bytes it reads without re-serialising. */
	size_t cl = strlen(canon);
	char tail[SVF_HASH_HEX + 16];
	int tl = snprintf(tail, sizeof(tail), ",\"hash\":\"%s\"}", hash);
	if (cl + (size_t)tl - 1 != len || memcmp(line, canon, cl - 1) != 0 ||
	    memcmp(line + cl - 1, tail, (size_t)tl) != 0) {
		rc = errmsg(err, errlen, -EBADMSG, "record is not in canonical form");
		goto out;
	}
	char want[SVF_HASH_HEX + 1];
	hash_hex(canon, cl, want);
	if (strcmp(want, hash) != 0)
		rc = errmsg(err, errlen, -EBADMSG, "hash mismatch (record edited)");
out:
	free(canon);
	cJSON_Delete(j);
	return rc;
}

int svf_record_line(uint64_t seq, const char *ts, const char *type, const char *lease, const char *intent,
		    const char *host, const cJSON *data, const char *prev, char **line, size_t *len,
		    char hash[SVF_HASH_HEX + 1], char *err, size_t errlen)
{
	*line = NULL;
	*len = 0;
	cJSON *r = cJSON_CreateObject();
	cJSON *d = data ? cJSON_Duplicate(data, 1) : cJSON_CreateObject();
	if (!r || !d || !cJSON_IsObject(d)) {
		cJSON_Delete(r);
		cJSON_Delete(d);
		return errmsg(err, errlen, -EINVAL, "record data must be a JSON object");
	}
	cJSON_AddNumberToObject(r, "seq", (double)seq);
	cJSON_AddStringToObject(r, "ts", ts);
	cJSON_AddStringToObject(r, "type", type);
	cJSON_AddStringToObject(r, "lease", lease ? lease : "");
	cJSON_AddStringToObject(r, "intent", intent ? intent : "");
	cJSON_AddStringToObject(r, "host", host);
	cJSON_AddItemToObject(r, "data", d);
	cJSON_AddStringToObject(r, "prev", prev);
	_cleanup_free_ char *canon = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	if (!canon)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	size_t cl = strlen(canon);
	if (cl + 80 > SVF_MAX_LINE)
		return errmsg(err, errlen, -E2BIG, "record too large");
	hash_hex(canon, cl, hash);
	char *l = malloc(cl + 80);
	if (!l)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	memcpy(l, canon, cl - 1);
	int tl = snprintf(l + cl - 1, 81, ",\"hash\":\"%s\"}\n", hash);
	*line = l;
	*len = cl - 1 + (size_t)tl;
	return 0;
}
