/* The run report's output buffer and HTML escaper (report/escape.h). */
#include "report/escape.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentinel/jsonfmt.h"   /* json_utf8_seq: the one UTF-8 validity rule of calyx */

void html_free(struct html_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Room for n more bytes and a NUL. */
static bool reserve(struct html_buf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->cap - b->len > n)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len <= n) {
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

void html_raw(struct html_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void html_markup(struct html_buf *b, const char *s)
{
	html_raw(b, s, strlen(s));
}

void html_fmt(struct html_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n)) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void hex_byte(struct html_buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char t[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
	html_raw(b, t, 4);
}

/* The code point of a valid sequence of len bytes. */
static uint32_t code_point(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0];
	uint32_t cp = s[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	return cp;
}

/* Valid characters that are shown by name rather than as themselves: the C1 controls
 * (a page's reader cannot see them; some software treats U+0085 as a line break), the
 * bidirectional overrides and isolates that would reorder the text around them on
 * screen (a path shown as something it is not), and the line/paragraph separators. */
static bool shown_by_name(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

void html_text(struct html_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n && !b->oom) {
		/* The run of bytes that need nothing is copied in one piece. */
		size_t j = i;
		while (j < n && u[j] >= 0x20 && u[j] < 0x7f && u[j] != '&' && u[j] != '<' &&
		       u[j] != '>' && u[j] != '"' && u[j] != '\'')
			j++;
		if (j > i) {
			html_raw(b, s + i, j - i);
			i = j;
			continue;
		}
		unsigned char c = u[i];
		switch (c) {
		case '&': html_lit(b, "&amp;"); i++; continue;
		case '<': html_lit(b, "&lt;"); i++; continue;
		case '>': html_lit(b, "&gt;"); i++; continue;
		case '"': html_lit(b, "&quot;"); i++; continue;
		case '\'': html_lit(b, "&#39;"); i++; continue;
		case '\t': case '\n': html_raw(b, s + i, 1); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			hex_byte(b, c);
			i++;
			continue;
		}
		size_t k = json_utf8_seq(u + i, n - i);
		if (k == 0) {
			hex_byte(b, c);   /* one byte at a time: what follows may be valid again */
			i++;
			continue;
		}
		uint32_t cp = code_point(u + i, k);
		if (shown_by_name(cp))
			html_fmt(b, "\\u%04x", (unsigned)cp);
		else
			html_raw(b, s + i, k);
		i += k;
	}
}

void html_cstr(struct html_buf *b, const char *s)
{
	if (s)
		html_text(b, s, strlen(s));
}

void html_cstr_cut(struct html_buf *b, const char *s, size_t max_bytes)
{
	if (!s)
		return;
	size_t n = strlen(s);
	if (n <= max_bytes) {
		html_text(b, s, n);
		return;
	}
	/* Back up over continuation bytes so a character is never split (a split one would
	 * show as \xNN: not wrong, but noise). */
	size_t cut = max_bytes;
	while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	html_text(b, s, cut);
	html_lit(b, "\xe2\x80\xa6");
}
