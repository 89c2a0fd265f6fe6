/* The error message buffer of library modules: they return -errno and say why in a
 * caller's (err, errlen) buffer instead of logging. */
#ifndef CALYX_ERRMSG_H
#define CALYX_ERRMSG_H
#include <stddef.h>

/* printf into err (when err is non-NULL and errlen non-zero, truncating to fit) and
 * return rc, so a failure path is one statement: `return errmsg(err, errlen, -EINVAL, ...)`.
 * rc 0 serves to fill the buffer with an explanation of a success. */
int errmsg(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* User text quoted in a message: at most ERRMSG_QUOTE_MAX bytes of s (len bytes, NULs
 * included), control bytes as '?', "..." when cut, so a hostile file cannot write escape
 * sequences to the operator's terminal. out needs ERRMSG_QUOTE_MAX + 8 bytes for all of it. */
#define ERRMSG_QUOTE_MAX 64
void errmsg_quote(char *out, size_t outlen, const char *s, size_t len);

#endif
