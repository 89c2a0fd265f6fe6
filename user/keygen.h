/* `calyx keygen` and the atomic file writer shared by the commands that write files. */
#ifndef CALYX_KEYGEN_H
#define CALYX_KEYGEN_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "cli.h"

#define KEYGEN_SECRET_NAME "calyx.key"
#define KEYGEN_PUBLIC_NAME "calyx.pub"

/* Write data to path atomically: a temp file in the same directory created O_EXCL with
 * mode 0600 from the start (mkostemp), chmod to mode, fsync, then rename over path
 * (replace) or link() to it (no replace: -EEXIST if path exists), fsync the directory.
 * Returns 0 or -errno with a message. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, bool replace,
		      char *err, size_t errlen);

/* mkdir -p with mode for the directories it creates. 0 or -errno. */
int mkdir_p(const char *dir, mode_t mode);

/* Runs the command; prints the key id on stdout, problems on stderr; returns an exit code. */
int keygen_run(const struct keygen_opts *o);

#endif
