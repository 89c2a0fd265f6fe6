/* The record hot path's JSON formatter (sentinel/jsonfmt.h). */
#include "sentinel/jsonfmt.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void jb_free(struct jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

bool jb_grow(struct jbuf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->cap - b->len >= n)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void jb_key_n(struct jbuf *b, const char *key, size_t n)
{
	if (!jb_reserve(b, n + 4))
		return;
	jb_sep(b);
	char *o = b->p + b->len;
	*o++ = '"';
	memcpy(o, key, n);
	o += n;
	*o++ = '"';
	*o++ = ':';
	b->len = (size_t)(o - b->p);
}

size_t json_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static const char hex[] = "0123456789abcdef";

void jb_str(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strnlen(s, n);
	/* worst case per input byte: 6 ("\u001f"); plus the quotes */
	if (!jb_reserve(b, len * 6 + 2))
		return;
	char *o = b->p + b->len;
	*o++ = '"';
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			*o++ = (char)c;
			i++;
			continue;
		}
		if (c < 0x80) {
			*o++ = '\\';
			switch (c) {
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			case '\n': *o++ = 'n'; break;
			case '\r': *o++ = 'r'; break;
			case '\t': *o++ = 't'; break;
			default:
				*o++ = 'u'; *o++ = '0'; *o++ = '0';
				*o++ = hex[c >> 4]; *o++ = hex[c & 15];
			}
			i++;
			continue;
		}
		size_t k = json_utf8_seq(u + i, len - i);
		if (k == 0) {
			/* the text \xNN: its backslash escaped in JSON */
			*o++ = '\\'; *o++ = '\\'; *o++ = 'x';
			*o++ = hex[c >> 4]; *o++ = hex[c & 15];
			i++;
			continue;
		}
		memcpy(o, u + i, k);
		o += k;
		i += k;
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}

void jb_name(struct jbuf *b, const char *name)
{
	size_t n = strlen(name);
	if (!jb_reserve(b, n + 2))
		return;
	char *o = b->p + b->len;
	*o++ = '"';
	memcpy(o, name, n);
	o[n] = '"';
	b->len += n + 2;
}

void jb_cstr(struct jbuf *b, const char *s)
{
	jb_str(b, s, strlen(s));
}

/* Digits of v right-aligned in the 20 bytes before end; returns the first. */
static char *u64_digits(uint64_t v, char *end)
{
	char *o = end;
	do {
		*--o = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return o;
}

void jb_u64(struct jbuf *b, uint64_t v)
{
	char tmp[20];
	char *d = u64_digits(v, tmp + sizeof(tmp));
	jb_raw(b, d, (size_t)(tmp + sizeof(tmp) - d));
}

void jb_i64(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		jb_raw(b, "-", 1);
		jb_u64(b, (uint64_t)0 - (uint64_t)v);
		return;
	}
	jb_u64(b, (uint64_t)v);
}

void jb_bool(struct jbuf *b, bool v)
{
	if (v)
		jb_lit(b, "true");
	else
		jb_lit(b, "false");
}

void jb_null(struct jbuf *b)
{
	jb_lit(b, "null");
}

void jb_ts(struct jbuf *b, int64_t real_ns)
{
	if (real_ns < 0)
		real_ns = 0;
	int64_t sec = real_ns / 1000000000;
	if (sec != b->ts_sec || !b->ts_prefix[0]) {
		struct tm tm;
		time_t t = (time_t)sec;
		if (!gmtime_r(&t, &tm))
			memset(&tm, 0, sizeof(tm));
		strftime(b->ts_prefix, sizeof(b->ts_prefix), "%Y-%m-%dT%H:%M:%S", &tm);
		b->ts_sec = sec;
	}
	if (!jb_reserve(b, 30))
		return;
	char *o = b->p + b->len;
	*o++ = '"';
	size_t pl = strlen(b->ts_prefix);
	memcpy(o, b->ts_prefix, pl);
	o += pl;
	*o++ = '.';
	uint32_t us = (uint32_t)((real_ns % 1000000000) / 1000);
	for (int i = 5; i >= 0; i--) {
		o[i] = (char)('0' + us % 10);
		us /= 10;
	}
	o += 6;
	*o++ = 'Z';
	*o++ = '"';
	b->len = (size_t)(o - b->p);
}
