/* links: policy/argv base/errmsg */
/* libFuzzer target for the command splitter (`calyx lease --cmd 'ARGV'`, shell-like quotes
 * and escapes, no expansion): any string must either split into a NULL-terminated argv
 * within the limits or be refused with -EINVAL and a message, never crash, hang or leak.
 * The split must be stable: joining what came out with every argument single-quoted
 * (quotes inside written '\'') and splitting again gives the same argv. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/argv.h"

/* 'a'\''b' form of one argument. */
static size_t quote_into(char *o, const char *s)
{
	size_t n = 0;
	o[n++] = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(o + n, "'\\''", 4);
			n += 4;
		} else {
			o[n++] = *s;
		}
	}
	o[n++] = '\'';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	struct argv_list a, b;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err[0] = '\0';
	int r = lease_split_command(s, &a, err, sizeof err);
	free(s);
	if (r) {
		if (r != -EINVAL || !err[0])
			abort();
		return 0;
	}
	if (a.argc < 1 || a.argc > LEASE_MAX_ARGS || a.argv[a.argc] != NULL)
		abort();
	size_t need = 1;
	for (size_t i = 0; i < a.argc; i++) {
		size_t l = strlen(a.argv[i]);
		if (l > LEASE_MAX_ARG_BYTES)
			abort();
		need += 4 * l + 3;
	}
	char *joined = malloc(need);
	if (!joined)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < a.argc; i++) {
		if (i)
			joined[n++] = ' ';
		n += quote_into(joined + n, a.argv[i]);
	}
	joined[n] = '\0';
	if (lease_split_command(joined, &b, err, sizeof err) != 0 || b.argc != a.argc)
		abort();
	for (size_t i = 0; i < a.argc; i++)
		if (strcmp(a.argv[i], b.argv[i]) != 0)
			abort();
	free(joined);
	argv_list_free(&a);
	argv_list_free(&b);
	return 0;
}
