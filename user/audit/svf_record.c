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

static bool is_hex64(const char *s)
{
	if (!s || strlen(s) != SVF_HASH_HEX)
		return false;
	for (size_t i = 0; i < SVF_HASH_HEX; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The hash member that ends every record: ,"hash":"<64 hex>"} */
#define HASH_TAIL_HEAD ",\"hash\":\""
#define HASH_TAIL_LEN (sizeof(HASH_TAIL_HEAD) - 1 + SVF_HASH_HEX + 2)

void svf_hash_body(const char *line, size_t body_len, char out[SVF_HASH_HEX + 1])
{
	crypto_generichash_state st;
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)line, body_len);
	crypto_generichash_update(&st, (const unsigned char *)"}", 1);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, SVF_HASH_HEX + 1, h, sizeof(h));
}

/* Long: each check relies on the ones before it (the hash member's bytes, the body's JSON,
 * key order, types, the hash); together, in order, they are the record format. The hash
 * is over the bytes as written, never over a re-serialisation: a verifier needs a JSON
 * parser only to read the fields, and a change in any library's formatting cannot make an
 * existing log unverifiable. */
int svf_parse_line(const char *line, size_t len, uint64_t *seq, char prev[SVF_HASH_HEX + 1],
		   char hash[SVF_HASH_HEX + 1], cJSON **obj, char *err, size_t errlen)
{
	if (obj)
		*obj = NULL;
	if (len == 0)
		return errmsg(err, errlen, -EBADMSG, "empty line");
	if (len > SVF_MAX_LINE)
		return errmsg(err, errlen, -EBADMSG, "record longer than %u bytes", SVF_MAX_LINE);
	if (memchr(line, '\0', len))
		return errmsg(err, errlen, -EBADMSG, "NUL byte in record");
	/* The line ends in exactly ,"hash":"<64 lowercase hex>"} and what comes before, closed
	 * with "}", is the body the hash covers. */
	if (len <= HASH_TAIL_LEN || line[0] != '{' ||
	    memcmp(line + len - HASH_TAIL_LEN, HASH_TAIL_HEAD, sizeof(HASH_TAIL_HEAD) - 1) != 0 ||
	    memcmp(line + len - 2, "\"}", 2) != 0)
		return errmsg(err, errlen, -EBADMSG, "record does not end in its hash member (cut or edited)");
	char own[SVF_HASH_HEX + 1];
	memcpy(own, line + len - 2 - SVF_HASH_HEX, SVF_HASH_HEX);
	own[SVF_HASH_HEX] = '\0';
	if (!is_hex64(own))
		return errmsg(err, errlen, -EBADMSG, "'hash' is not 64 lowercase hex digits");
	size_t body_len = len - HASH_TAIL_LEN;

	/* The body must be one JSON object, nothing after it. */
	_cleanup_free_ char *body = malloc(body_len + 2);
	if (!body)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	memcpy(body, line, body_len);
	body[body_len] = '}';
	body[body_len + 1] = '\0';
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithOpts(body, &end, 0);
	if (!j || !cJSON_IsObject(j) || !end || *end != '\0') {
		cJSON_Delete(j);
		return errmsg(err, errlen, -EBADMSG, "not a JSON object (cut or edited)");
	}
	int rc = 0;
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, j) {
		if (i >= SVF_NKEYS - 1 || !it->string || strcmp(it->string, svf_keys[i]) != 0) {
			rc = errmsg(err, errlen, -EBADMSG, "unexpected key '%s' at position %zu",
				    it->string ? it->string : "?", i + 1);
			goto out;
		}
		i++;
	}
	if (i != SVF_NKEYS - 1) {
		rc = errmsg(err, errlen, -EBADMSG, "record has %zu keys, expected %zu", i + 1, SVF_NKEYS);
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
	if (!is_hex64(p)) {
		rc = errmsg(err, errlen, -EBADMSG, "'prev' is not 64 lowercase hex digits");
		goto out;
	}
	snprintf(prev, SVF_HASH_HEX + 1, "%s", p);
	snprintf(hash, SVF_HASH_HEX + 1, "%s", own);
	*seq = (uint64_t)d;
	char want[SVF_HASH_HEX + 1];
	svf_hash_body(line, body_len, want);
	if (strcmp(want, own) != 0)
		rc = errmsg(err, errlen, -EBADMSG, "hash mismatch (record edited)");
out:
	if (rc == 0 && obj)
		*obj = j;
	else
		cJSON_Delete(j);
	return rc;
}

int svf_check_line(const char *line, size_t len, uint64_t *seq, char prev[SVF_HASH_HEX + 1],
		   char hash[SVF_HASH_HEX + 1], char *err, size_t errlen)
{
	return svf_parse_line(line, len, seq, prev, hash, NULL, err, errlen);
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
	/* The body is the canonical text without its closing brace: hashed as it will be
	 * written (svf_hash_body), so writer and verifier agree on bytes, not on a library. */
	svf_hash_body(canon, cl - 1, hash);
	char *l = malloc(cl + 80);
	if (!l)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	memcpy(l, canon, cl - 1);
	int tl = snprintf(l + cl - 1, 81, ",\"hash\":\"%s\"}\n", hash);
	*line = l;
	*len = cl - 1 + (size_t)tl;
	return 0;
}
