/* Programs named by a lease (a command's argv[0], a helper), found the way the sandbox
 * finds them: the runner binds the files they resolve to, `lease issue` looks at them. */
#ifndef CALYX_SANDBOX_RESOLVE_H
#define CALYX_SANDBOX_RESOLVE_H
#include <limits.h>
#include <sys/stat.h>

/* Resolve argv0 like execvp would in the sandbox: a name with '/' as is, else the first
 * executable regular file along SANDBOX_PATH (found: that path, before canonicalising),
 * then canonicalise (out) and stat the result, which must be an executable regular file.
 * 0 or -errno. */
int sandbox_resolve_program(const char *argv0, char found[PATH_MAX], char out[PATH_MAX], struct stat *st);

#endif
