/* The run report's output buffer and its HTML escaper (docs/report.md "Escaping").
 * Every string a report shows comes from the run — argv, paths, comm, stdout — and is
 * hostile: it goes through html_text(), which is safe both as element text and inside a
 * double- or single-quoted attribute value. Markup (the page's own, trusted text) goes
 * through html_raw()/html_lit()/html_fmt(). Pure: no OS calls, so the unit test links it
 * alone (tests/unit/test_html_escape.c). */
#ifndef CALYX_REPORT_ESCAPE_H
#define CALYX_REPORT_ESCAPE_H
#include <stdbool.h>
#include <stddef.h>

struct html_buf {
	char *p;             /* NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;            /* a growth failed: the page is incomplete, the caller must not use it */
};

void html_free(struct html_buf *b);
/* Trusted markup, copied as is. */
void html_raw(struct html_buf *b, const char *s, size_t n);
/* A string literal only (the "" "" makes anything else a compile error: sizeof of a
 * pointer would silently cut the text). */
#define html_lit(b, s) html_raw((b), "" s "", sizeof("" s "") - 1)
/* Trusted markup chosen at run time among constants (a ternary of literals). */
void html_markup(struct html_buf *b, const char *s);
/* printf of trusted markup; %s arguments must be trusted too (numbers, constants). */
void html_fmt(struct html_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* n bytes of s (NULs included), escaped:
 *  & < > " '                  -> &amp; &lt; &gt; &quot; &#39;
 *  a byte that does not start a valid UTF-8 sequence (overlong, surrogate, above
 *  U+10FFFF, cut short, a stray continuation byte)      -> the text \xNN, byte by byte
 *  C0 controls but tab and newline, DEL (NUL and CR too) -> the text \xNN
 *  C1 controls (U+0080..U+009F), the bidirectional overrides and isolates
 *  (U+202A..U+202E, U+2066..U+2069), U+2028/U+2029       -> the text \uNNNN
 * so that nothing from the run can close an element or an attribute, start one, turn
 * into a character reference, reorder what the reader sees, or vanish from the page. */
void html_text(struct html_buf *b, const char *s, size_t n);
/* The same for a NUL-terminated string; NULL appends nothing. */
void html_cstr(struct html_buf *b, const char *s);
/* At most max_bytes of s, cut at a UTF-8 character boundary, with "…" when cut. */
void html_cstr_cut(struct html_buf *b, const char *s, size_t max_bytes);

#endif
