/* #! lines, the way fs/binfmt_script.c reads them (shebang.h). */
#include "base/shebang.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "base/fileio.h"

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/* First byte in [first, last] that is not a blank, or NULL. */
static const char *next_non_spacetab(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (!spacetab(*first))
			return first;
	return NULL;
}

/* First blank or NUL in [first, last], or NULL. */
static const char *next_terminator(const char *first, const char *last)
{
	for (; first <= last; first++)
		if (spacetab(*first) || !*first)
			return first;
	return NULL;
}

int shebang_parse(const char *data, size_t n, struct shebang *out)
{
	char buf[SHEBANG_BUF] = { 0 };   /* the kernel's bprm->buf: zero past the file's end */
	memcpy(buf, data, n < sizeof(buf) ? n : sizeof(buf));
	memset(out, 0, sizeof(*out));
	if (buf[0] != '#' || buf[1] != '!')
		return 0;
	const char *buf_end = buf + sizeof(buf) - 1;
	const char *i_end = memchr(buf, '\n', sizeof(buf));
	if (!i_end) {
		i_end = next_non_spacetab(buf + 2, buf_end);
		if (!i_end)
			return -ENOEXEC;   /* all blanks */
		if (!next_terminator(i_end, buf_end))
			return -ENOEXEC;   /* the interpreter's name runs past the buffer */
		i_end = buf_end;
	}
	while (i_end > buf + 2 && spacetab(i_end[-1]))
		i_end--;
	const char *i_name = next_non_spacetab(buf + 2, i_end);
	if (!i_name || i_name == i_end)
		return -ENOEXEC;   /* no interpreter */
	const char *i_arg = NULL;
	const char *i_sep = next_terminator(i_name, i_end);
	if (i_sep && *i_sep != '\0')
		i_arg = next_non_spacetab(i_sep, i_end);
	/* The kernel ends the line at i_end and the name at i_sep; both are C strings then
	 * (an embedded NUL ends them earlier, as it does for the kernel). */
	size_t name_len = strnlen(i_name, (size_t)((i_sep ? i_sep : i_end) - i_name));
	memcpy(out->interp, i_name, name_len);
	if (i_arg) {
		size_t arg_len = strnlen(i_arg, (size_t)(i_end - i_arg));
		memcpy(out->arg, i_arg, arg_len);
		out->has_arg = true;
	}
	return 1;
}

int shebang_read(const char *path, struct shebang *out)
{
	char buf[SHEBANG_BUF + 1];   /* + the NUL fileio adds */
	int n = fileio_read_small_at(AT_FDCWD, path, buf, sizeof(buf));
	return n < 0 ? n : shebang_parse(buf, (size_t)n, out);
}

const char *shebang_env_program(const struct shebang *sb)
{
	const char *base = strrchr(sb->interp, '/');
	base = base ? base + 1 : sb->interp;
	if (strcmp(base, "env") != 0 || !sb->has_arg || !sb->arg[0] || sb->arg[0] == '-')
		return NULL;
	for (const char *p = sb->arg; *p; p++)
		if (*p == ' ' || *p == '\t' || *p == '=')
			return NULL;
	return sb->arg;
}
