/* Neutralising control sequences in the terminal echo (run/termout.h). A byte-at-a-time
 * UTF-8 decoder (RFC 3629 well-formedness, table 3-7 of the Unicode standard) that lets
 * through what only prints and spells out the rest. */
#include "run/termout.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static size_t put_hex(char *out, uint8_t b)
{
	static const char hex[] = "0123456789abcdef";
	out[0] = '\\';
	out[1] = 'x';
	out[2] = hex[b >> 4];
	out[3] = hex[b & 15];
	return 4;
}

/* Length of the sequence a lead byte starts, 0 when it cannot start one (a continuation
 * byte, the overlong leads C0/C1, F5..FF beyond U+10FFFF). */
static size_t seq_len(uint8_t lead)
{
	if (lead >= 0xc2 && lead <= 0xdf)
		return 2;
	if (lead >= 0xe0 && lead <= 0xef)
		return 3;
	if (lead >= 0xf0 && lead <= 0xf4)
		return 4;
	return 0;
}

/* May b follow the pending bytes? The second byte's range depends on the lead (no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static bool continues(const struct termout *t, uint8_t b)
{
	uint8_t lo = 0x80, hi = 0xbf;
	if (t->n_pend == 1) {
		switch (t->pend[0]) {
		case 0xe0: lo = 0xa0; break;
		case 0xed: hi = 0x9f; break;
		case 0xf0: lo = 0x90; break;
		case 0xf4: hi = 0x8f; break;
		}
	}
	return b >= lo && b <= hi;
}

/* The code points shown spelled out: the C1 controls (a UTF-8 terminal acts on U+009B
 * as CSI, U+009D as OSC) and the bidi controls that reorder what is displayed. */
static bool cp_neutralised(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t flush_pending_hex(struct termout *t, char *out)
{
	size_t w = 0;
	for (size_t i = 0; i < t->n_pend; i++)
		w += put_hex(out + w, t->pend[i]);
	t->n_pend = 0;
	return w;
}

static size_t complete_seq(struct termout *t, char *out)
{
	uint32_t cp = t->pend[0] & (t->n_pend == 2 ? 0x1f : t->n_pend == 3 ? 0x0f : 0x07);
	for (size_t i = 1; i < t->n_pend; i++)
		cp = (cp << 6) | (t->pend[i] & 0x3f);
	size_t w;
	if (cp_neutralised(cp)) {
		char u[8];
		snprintf(u, sizeof(u), "\\u%04x", (unsigned)cp);
		w = strlen(u);
		memcpy(out, u, w);
	} else {
		w = t->n_pend;
		memcpy(out, t->pend, w);
	}
	t->n_pend = 0;
	return w;
}

size_t termout_filter(struct termout *t, const char *in, size_t n, char *out)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)in[i];
		if (t->n_pend) {
			if (continues(t, b)) {
				t->pend[t->n_pend++] = b;
				if (t->n_pend == seq_len(t->pend[0]))
					w += complete_seq(t, out + w);
				continue;
			}
			/* Cut short: the bytes so far are not text; b starts afresh. */
			w += flush_pending_hex(t, out + w);
		}
		if (b < 0x80) {
			if (b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7f))
				out[w++] = (char)b;
			else
				w += put_hex(out + w, b);
		} else if (seq_len(b)) {
			t->pend[0] = b;
			t->n_pend = 1;
		} else {
			w += put_hex(out + w, b);
		}
	}
	return w;
}

size_t termout_flush(struct termout *t, char *out)
{
	return flush_pending_hex(t, out);
}
