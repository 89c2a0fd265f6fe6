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

#endif
