/* A small JSON formatter for the record hot path: text appended to one reused, growing
 * buffer, no tree, no allocation once the buffer has grown to its working size, integers
 * only (no float formatting). Strings are escaped per RFC 8259 (", \ and control
 * characters; everything else as is) after the json_safe_strn rule of sentinel/events.h:
 * bytes that are not valid UTF-8 become the text \xNN. cJSON parses what it writes
 * (tests/unit/test_jsonfmt.c). For trees that are really built (meta.json, SVF records)
 * the project uses cJSON. */
#ifndef CALYX_JSONFMT_H
#define CALYX_JSONFMT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jbuf {
	char *p;
	size_t len, cap;
	bool oom;            /* a growth failed: the text is cut (callers drop it) */
	int64_t ts_sec;      /* jb_ts's cache: the second last formatted, and its text */
	char ts_prefix[20];  /* "YYYY-MM-DDTHH:MM:SS" */
};

void jb_free(struct jbuf *b);
static inline void jb_reset(struct jbuf *b) { b->len = 0; b->oom = false; }
/* Room for n more bytes; false (and b->oom) when it cannot grow. */
bool jb_grow(struct jbuf *b, size_t n);
static inline bool jb_reserve(struct jbuf *b, size_t n)
{
	return (!b->oom && b->cap - b->len >= n) || jb_grow(b, n);
}
static inline void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (!jb_reserve(b, n))
		return;
	char *o = b->p + b->len;
	if (n <= 16) {   /* most pieces are a few bytes: no call into libc for them */
		for (size_t i = 0; i < n; i++)
			o[i] = s[i];
	} else {
		memcpy(o, s, n);
	}
	b->len += n;
}
#define jb_lit(b, s) jb_raw((b), (s), sizeof(s) - 1)

/* Separators: ',' unless the text so far ends an opening '{' / '[' (or is empty). */
static inline void jb_sep(struct jbuf *b)
{
	if (b->len && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
		jb_raw(b, ",", 1);
}
/* ,"key": (key: plain ASCII, written as is; its length folded for a literal) */
void jb_key_n(struct jbuf *b, const char *key, size_t n);
#define jb_key(b, key) jb_key_n((b), (key), __builtin_strlen(key))
/* "name": a constant of plain ASCII that needs no escaping (names of hooks, types, ...),
 * copied as is. */
void jb_name(struct jbuf *b, const char *name);
/* A string of at most n bytes of s, stopping at the first NUL. */
void jb_str(struct jbuf *b, const char *s, size_t n);
void jb_cstr(struct jbuf *b, const char *s);
void jb_u64(struct jbuf *b, uint64_t v);
void jb_i64(struct jbuf *b, int64_t v);
void jb_bool(struct jbuf *b, bool v);
void jb_null(struct jbuf *b);
/* CLOCK_REALTIME ns as "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (RFC 3339 UTC, microseconds; the
 * date part is formatted once per second). */
void jb_ts(struct jbuf *b, int64_t real_ns);

/* Length of the valid UTF-8 sequence at s (1..4; n bytes available), 0 if invalid
 * (overlong forms, surrogates, above U+10FFFF, cut short). */
size_t json_utf8_seq(const unsigned char *s, size_t n);

#endif
