/* Command lines split like a shell's, without any expansion (see argv.h). */
#include "policy/argv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"

void argv_list_free(struct argv_list *a)
{
	if (!a)
		return;
	if (a->argv)
		for (size_t i = 0; i < a->argc; i++)
			free(a->argv[i]);
	free(a->argv);
	a->argv = NULL;
	a->argc = 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Long: one pass of a shell-like tokenizer; the quoting rules share its cursor and word
 * buffer. */
int lease_split_command(const char *s, struct argv_list *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return errmsg(err, errlen, -EINVAL, "command: empty");
	size_t n = strlen(s);
	char *word = malloc(n + 1);
	char **argv = calloc(LEASE_MAX_ARGS + 1, sizeof(char *));
	size_t argc = 0, wl = 0;
	bool in_word = false;
	int rc = 0;
	if (!word || !argv) {
		rc = errmsg(err, errlen, -EINVAL, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i <= n; i++) {
		char c = s[i];
		if (c == '\0' || is_space(c)) {
			if (in_word) {
				if (wl == 0) {
					rc = errmsg(err, errlen, -EINVAL,
						    "command: empty argument ('' or \"\") is not allowed");
					goto fail;
				}
				if (wl > LEASE_MAX_ARG_BYTES) {
					rc = errmsg(err, errlen, -EINVAL,
						    "command: argument %zu longer than %d bytes", argc,
						    LEASE_MAX_ARG_BYTES);
					goto fail;
				}
				if (argc == LEASE_MAX_ARGS) {
					rc = errmsg(err, errlen, -EINVAL,
						    "command: more than %d arguments", LEASE_MAX_ARGS);
					goto fail;
				}
				if (!(argv[argc] = strndup(word, wl))) {
					rc = errmsg(err, errlen, -EINVAL, "out of memory");
					goto fail;
				}
				argc++;
				wl = 0;
				in_word = false;
			}
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *q = strchr(s + i + 1, '\'');
			if (!q) {
				rc = errmsg(err, errlen, -EINVAL, "command: unterminated single quote");
				goto fail;
			}
			size_t ql = (size_t)(q - (s + i + 1));
			memcpy(word + wl, s + i + 1, ql);
			wl += ql;
			i = (size_t)(q - s);
		} else if (c == '"') {
			for (i++;; i++) {
				if (s[i] == '\0') {
					rc = errmsg(err, errlen, -EINVAL,
						    "command: unterminated double quote");
					goto fail;
				}
				if (s[i] == '"')
					break;
				/* POSIX: inside "…" a backslash only escapes $ ` " \ and newline. */
				if (s[i] == '\\' && s[i + 1] && strchr("$`\"\\\n", s[i + 1])) {
					i++;
					if (s[i] == '\n')
						continue;
				}
				word[wl++] = s[i];
			}
		} else if (c == '\\') {
			if (s[i + 1] == '\0') {
				rc = errmsg(err, errlen, -EINVAL, "command: trailing backslash");
				goto fail;
			}
			i++;
			if (s[i] != '\n')
				word[wl++] = s[i];
		} else if (strchr("|&;<>()$`", c)) {
			/* Nothing here is run by a shell; an operator that looks live would only
			 * mislead whoever approves the lease. */
			rc = errmsg(err, errlen, -EINVAL,
				    "command: unquoted '%c': commands are not run by a shell; quote it to pass it literally",
				    c);
			goto fail;
		} else {
			word[wl++] = c;
		}
	}
	if (argc == 0) {
		rc = errmsg(err, errlen, -EINVAL, "command: empty");
		goto fail;
	}
	free(word);
	argv[argc] = NULL;
	out->argv = argv;
	out->argc = argc;
	return 0;
fail:
	for (size_t i = 0; argv && i < argc; i++)
		free(argv[i]);
	free(argv);
	free(word);
	return rc;
}
