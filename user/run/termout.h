/* The runner's echo of the command's output to a terminal (docs/run.md "Output"): what a
 * terminal would act on is shown as text instead, so a sandboxed command cannot drive the
 * operator's terminal (OSC 52 clipboard writes, title/colour/cursor control, bidi reorder
 * of what the operator reads). The artifacts keep the raw bytes: this is display only. */
#ifndef CALYX_TERMOUT_H
#define CALYX_TERMOUT_H
#include <stddef.h>
#include <stdint.h>

/* One output stream's state: a UTF-8 sequence may be split across reads. */
struct termout {
	uint8_t pend[4];
	size_t n_pend;
};

/* The most termout_filter() writes for n input bytes (every byte as "\xNN", plus the
 * pending bytes of the last call). */
#define TERMOUT_MAX(n) (((n) + 4) * 4)

/* Filter n bytes of one stream into out (at least TERMOUT_MAX(n) bytes); returns the
 * number of bytes written. Shown as is: printable ASCII, '\n', '\t', and well-formed
 * UTF-8 other than the code points below. Neutralised:
 *   C0 controls other than \n and \t, and DEL  -> "\xNN" (ESC, so every ESC/CSI/OSC
 *                                                 sequence, is "\x1b" and inert)
 *   C1 controls U+0080..U+009F                 -> "\u0080".."\u009f"
 *   bidi embeddings/overrides U+202A..U+202E,
 *   isolates U+2066..U+2069                    -> "\u202a".. "\u2069"
 *   a byte that is not part of well-formed UTF-8 (a stray continuation, an overlong
 *   or surrogate form, a sequence cut short)  -> "\xNN" (an 8-bit C1 to a non-UTF-8
 *                                                 terminal) */
size_t termout_filter(struct termout *t, const char *in, size_t n, char *out);

/* End of the stream: the bytes of an unfinished UTF-8 sequence, each as "\xNN" (out
 * at least TERMOUT_MAX(0) bytes). Returns the number of bytes written. */
size_t termout_flush(struct termout *t, char *out);

#endif
