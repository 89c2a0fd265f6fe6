/* links: report/escape sentinel/jsonfmt */
/* The report's HTML escaper against hostile strings (every string of a run is one: argv,
 * paths, comm, stdout): each expected output is written out byte for byte, and random
 * bytes are checked for the property the page relies on — no '<', '>', '&' that is not
 * an entity, no quote, no control byte, valid UTF-8 — whatever the input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "report/escape.h"
#include "sentinel/jsonfmt.h"

/* html_text of n bytes of s must be exactly want. */
static void expect_n(const char *s, size_t n, const char *want)
{
	struct html_buf b = { 0 };
	html_text(&b, s, n);
	assert_false(b.oom);
	if (!want[0]) {
		assert_int_equal(b.len, 0);
	} else {
		assert_non_null(b.p);
		assert_string_equal(b.p, want);
		assert_int_equal(b.len, strlen(want));
	}
	html_free(&b);
}
#define expect(s, want) expect_n((s), sizeof(s) - 1, (want))

static void test_markup(void **state)
{
	(void)state;
	expect("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	expect("</title><img src=x onerror=alert(1)>",
	       "&lt;/title&gt;&lt;img src=x onerror=alert(1)&gt;");
	/* Breaking out of a quoted attribute, either quote. */
	expect("\" onmouseover=\"alert(1)", "&quot; onmouseover=&quot;alert(1)");
	expect("' autofocus onfocus='alert(1)", "&#39; autofocus onfocus=&#39;alert(1)");
	/* An entity in the data stays the text it is, never a character. */
	expect("&lt;b&gt; &amp; &#60;", "&amp;lt;b&amp;gt; &amp;amp; &amp;#60;");
	expect("<!-- -->", "&lt;!-- --&gt;");
	expect("<![CDATA[x]]>", "&lt;![CDATA[x]]&gt;");
	expect("plain /usr/bin/true -c 'x'", "plain /usr/bin/true -c &#39;x&#39;");
	expect("", "");
}

static void test_controls(void **state)
{
	(void)state;
	/* NUL in the middle does not end the string (length-based), and is visible. */
	expect("a\0b", "a\\x00b");
	expect("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	expect("cr\rlf\n tab\t", "cr\\x0dlf\n tab\t");
	expect("del\x7f", "del\\x7f");
	expect("\x01\x08\x0b\x0c\x1f", "\\x01\\x08\\x0b\\x0c\\x1f");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect("\xff", "\\xff");
	expect("a\xfe\xff" "b", "a\\xfe\\xffb");
	/* Overlong '/' and '<': never decoded into the character they imitate. */
	expect("\xc0\xaf", "\\xc0\\xaf");
	expect("\xc0\xbc" "script", "\\xc0\\xbcscript");
	expect("\xe0\x80\xbc", "\\xe0\\x80\\xbc");
	/* A UTF-16 surrogate, a code point above U+10FFFF, sequences cut short. */
	expect("\xed\xa0\x80", "\\xed\\xa0\\x80");
	expect("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	expect("\xe2\x82", "\\xe2\\x82");
	expect("\xe2\x82<", "\\xe2\\x82&lt;");       /* the '<' after a cut sequence is still seen */
	expect("\xf0\x9f\x98", "\\xf0\\x9f\\x98");
	/* A stray continuation byte; valid text right after invalid bytes stays valid. */
	expect("\x80" "abc", "\\x80abc");
	expect("\xff\xc3\xa9", "\\xff\xc3\xa9");
}

static void test_valid_utf8(void **state)
{
	(void)state;
	expect("caf\xc3\xa9", "caf\xc3\xa9");                        /* é */
	expect("\xe2\x82\xac 5", "\xe2\x82\xac 5");                  /* € */
	expect("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");              /* 😀 */
	expect("\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87");
	/* C1 controls, bidi overrides/isolates, line separators: named, not shown. */
	expect("\xc2\x85", "\\u0085");
	expect("\xc2\x9b" "31m", "\\u009b31m");
	expect("/tmp/\xe2\x80\xae" "fdp.exe", "/tmp/\\u202efdp.exe");   /* RLO: "exe.pdf" on screen */
	expect("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069");
	expect("a\xe2\x80\xa8" "b", "a\\u2028b");
	/* U+00A0 and U+200B are ordinary (visible as space / nothing, not reordering). */
	expect("\xc2\xa0", "\xc2\xa0");
}

static void test_cstr(void **state)
{
	(void)state;
	struct html_buf b = { 0 };
	html_cstr(&b, NULL);
	assert_int_equal(b.len, 0);
	html_cstr(&b, "<a>");
	html_lit(&b, "|");
	html_fmt(&b, "%d:%s", 42, "ok");
	assert_string_equal(b.p, "&lt;a&gt;|42:ok");
	html_free(&b);

	/* Cut at a character boundary, never inside é, with an ellipsis. */
	html_cstr_cut(&b, "ab\xc3\xa9" "cd", 3);
	assert_string_equal(b.p, "ab\xe2\x80\xa6");
	html_free(&b);
	html_cstr_cut(&b, "ab\xc3\xa9" "cd", 4);
	assert_string_equal(b.p, "ab\xc3\xa9\xe2\x80\xa6");
	html_free(&b);
	html_cstr_cut(&b, "<<<<", 4);
	assert_string_equal(b.p, "&lt;&lt;&lt;&lt;");
	html_free(&b);
	html_cstr_cut(&b, "<<<<<", 2);
	assert_string_equal(b.p, "&lt;&lt;\xe2\x80\xa6");
	html_free(&b);
}

/* Whatever the bytes, the output has no markup character outside an entity, no quote,
 * no control byte but tab and newline, and is valid UTF-8. */
static void test_random_bytes(void **state)
{
	(void)state;
	srand(12345);
	unsigned char in[257];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(in));
		for (size_t i = 0; i < n; i++)
			in[i] = (unsigned char)(rand() % 4 == 0 ? "<>&\"'\xc3\xe2\x80\xed\xf4"[rand() % 10] : rand() % 256);
		struct html_buf b = { 0 };
		html_text(&b, (const char *)in, n);
		assert_false(b.oom);
		const unsigned char *o = (const unsigned char *)b.p;
		for (size_t i = 0; i < b.len;) {
			unsigned char c = o[i];
			assert_true(c != '<' && c != '>' && c != '"' && c != '\'');
			assert_true(c >= 0x20 || c == '\t' || c == '\n');
			assert_true(c != 0x7f);
			if (c == '&') {
				/* only the five entities the escaper writes */
				const char *e = (const char *)o + i;
				assert_true(!strncmp(e, "&amp;", 5) || !strncmp(e, "&lt;", 4) ||
					    !strncmp(e, "&gt;", 4) || !strncmp(e, "&quot;", 6) ||
					    !strncmp(e, "&#39;", 5));
			}
			size_t k = json_utf8_seq(o + i, b.len - i);
			assert_true(k > 0);
			i += k;
		}
		html_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_markup),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_cstr),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
