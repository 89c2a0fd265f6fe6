/* links: run/termout */
/* The terminal echo's filter: what prints passes, every control sequence is spelled out,
 * and a UTF-8 sequence split across reads is judged whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run/termout.h"

/* in (n bytes) fed in pieces of `step` bytes, then flushed, must show as want. */
static void shows_step(const char *in, size_t n, size_t step, const char *want)
{
	struct termout t = { 0 };
	char *out = malloc(TERMOUT_MAX(n) + TERMOUT_MAX(0));
	size_t w = 0;
	for (size_t i = 0; i < n; i += step) {
		size_t k = n - i < step ? n - i : step;
		w += termout_filter(&t, in + i, k, out + w);
	}
	w += termout_flush(&t, out + w);
	out[w] = '\0';
	if (strlen(want) != w || memcmp(out, want, w) != 0)
		fail_msg("step %zu: shown '%s', want '%s'", step, out, want);
	free(out);
}

/* Whole, and byte by byte, and in pieces of two and three: the same. */
static void shows(const char *in, size_t n, const char *want)
{
	for (size_t step = 1; step <= 3; step++)
		shows_step(in, n, step, want);
	shows_step(in, n, n ? n : 1, want);
}
#define SHOWS(lit, want) shows(lit, sizeof(lit) - 1, want)

static void test_text_passes(void **state)
{
	(void)state;
	SHOWS("hello, world\n", "hello, world\n");
	SHOWS("a\tb\n", "a\tb\n");
	SHOWS("", "");
	/* Well-formed UTF-8 that only prints: é, €, U+1F600, U+200B, U+2029. */
	SHOWS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	SHOWS("\xe2\x80\x8b\xe2\x80\xa9", "\xe2\x80\x8b\xe2\x80\xa9");
	/* The last code points either side of the bidi ranges print. */
	SHOWS("\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa", "\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa");
	/* A backslash is text: the display is for reading, the logs are the record. */
	SHOWS("a\\x1b", "a\\x1b");
}

static void test_c0_and_escape_sequences(void **state)
{
	(void)state;
	/* OSC 52 (clipboard write), ended by BEL and by ST. */
	SHOWS("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\x07");
	SHOWS("\x1b]52;c;aGk=\x1b\\", "\\x1b]52;c;aGk=\\x1b\\");
	/* CSI: colour, clear screen, cursor up; title (OSC 0). */
	SHOWS("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	SHOWS("\x1b[2J\x1b[1A", "\\x1b[2J\\x1b[1A");
	SHOWS("\x1b]0;owned\x07", "\\x1b]0;owned\\x07");
	/* CR (overwrite a line), backspace, NUL, DEL, the rest of C0. */
	SHOWS("ok\rno", "ok\\x0dno");
	SHOWS("a\bb", "a\\x08b");
	shows("x\0y", 3, "x\\x00y");
	SHOWS("\x7f", "\\x7f");
	SHOWS("\x01\x1f\x0b\x0c", "\\x01\\x1f\\x0b\\x0c");
}

static void test_c1_controls(void **state)
{
	(void)state;
	/* U+009B (CSI), U+009D (OSC), U+0080, U+009F in UTF-8. */
	SHOWS("\xc2\x9b" "31m", "\\u009b31m");
	SHOWS("\xc2\x9d" "52;c;x\xc2\x9c", "\\u009d52;c;x\\u009c");
	SHOWS("\xc2\x80\xc2\x9f", "\\u0080\\u009f");
	/* Either side of the range prints: U+007E is '~', U+00A0 NBSP. */
	SHOWS("~\xc2\xa0", "~\xc2\xa0");
	/* The raw 8-bit C1 bytes (CSI to a non-UTF-8 terminal) are not UTF-8: spelled out. */
	SHOWS("\x9b" "31m\x9d", "\\x9b31m\\x9d");
}

static void test_bidi_controls(void **state)
{
	(void)state;
	/* U+202A..U+202E (LRE RLE PDF LRO RLO), U+2066..U+2069 (LRI RLI FSI PDI). */
	SHOWS("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae",
	      "\\u202a\\u202b\\u202c\\u202d\\u202e");
	SHOWS("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "\\u2066\\u2067\\u2068\\u2069");
	/* The "Trojan Source" line: the override is shown, the text around it is kept. */
	SHOWS("ok /*\xe2\x80\xae } \xe2\x81\xa6*/", "ok /*\\u202e } \\u2066*/");
}

static void test_malformed_utf8(void **state)
{
	(void)state;
	/* A stray continuation byte, overlong forms (of '/' and of ESC), a surrogate, beyond
	 * U+10FFFF, F5..FF: each byte spelled out, so no terminal decodes a control from it. */
	SHOWS("\x80", "\\x80");
	SHOWS("\xc0\xaf", "\\xc0\\xaf");
	SHOWS("\xc0\x9b", "\\xc0\\x9b");
	SHOWS("\xe0\x80\x9b", "\\xe0\\x80\\x9b");
	SHOWS("\xed\xa0\x80", "\\xed\\xa0\\x80");
	SHOWS("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	SHOWS("\xff\xfe", "\\xff\\xfe");
	/* A sequence cut short by a new lead or by ASCII: the cut bytes spelled out, what
	 * follows judged afresh. */
	SHOWS("\xe2\x80" "A", "\\xe2\\x80A");
	SHOWS("\xe2\xc3\xa9", "\\xe2\xc3\xa9");
	SHOWS("\xe2\x80\x1b", "\\xe2\\x80\\x1b");
	/* Cut short by the end of the stream: flushed spelled out. */
	SHOWS("ok\xf0\x9f\x98", "ok\\xf0\\x9f\\x98");
}

static void test_worst_case_fits(void **state)
{
	(void)state;
	/* Every byte value, twice, fed at once: the output stays within TERMOUT_MAX. */
	char in[512];
	for (int i = 0; i < 512; i++)
		in[i] = (char)(i & 0xff);
	struct termout t = { 0 };
	char *out = malloc(TERMOUT_MAX(sizeof(in)));
	size_t w = termout_filter(&t, in, sizeof(in), out);
	w += termout_flush(&t, out + w);
	assert_true(w <= TERMOUT_MAX(sizeof(in)));
	/* No byte a terminal acts on is left: nothing below 0x20 but \n and \t, no 0x7f. */
	for (size_t i = 0; i < w; i++)
		if ((uint8_t)out[i] < 0x20 || (uint8_t)out[i] == 0x7f)
			assert_true(out[i] == '\n' || out[i] == '\t');
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_passes),
		cmocka_unit_test(test_c0_and_escape_sequences),
		cmocka_unit_test(test_c1_controls),
		cmocka_unit_test(test_bidi_controls),
		cmocka_unit_test(test_malformed_utf8),
		cmocka_unit_test(test_worst_case_fits),
	};
	return cmocka_run_group_tests_name("termout", tests, NULL, NULL);
}
