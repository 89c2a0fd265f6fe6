/* The #! line of a script, parsed exactly as the kernel's binfmt_script does (the first
 * SHEBANG_BUF bytes of the file, zero-filled: fs/binfmt_script.c load_script), so that the
 * runner can know the argv the kernel will give the interpreter:
 *     interpreter [optional-arg] script-path argv[1..]
 * (the interpreter as written on the #! line, the optional argument as the rest of the
 * line with trailing blanks removed, the script as the path passed to execve). */
#ifndef CALYX_SHEBANG_H
#define CALYX_SHEBANG_H
#include <stdbool.h>
#include <stddef.h>

#define SHEBANG_BUF 256   /* BINPRM_BUF_SIZE */

struct shebang {
	char interp[SHEBANG_BUF];   /* i_name */
	char arg[SHEBANG_BUF];      /* i_arg, "" when none */
	bool has_arg;
};

/* buf: the first n (<= SHEBANG_BUF) bytes of a file. 1 a #! script (out filled), 0 not a
 * script, -ENOEXEC a #! line the kernel refuses (no interpreter, interpreter name cut by
 * the buffer's end). Pure. */
int shebang_parse(const char *buf, size_t n, struct shebang *out);

/* shebang_parse of the file at path (its first SHEBANG_BUF bytes). -errno when it cannot
 * be read. */
int shebang_read(const char *path, struct shebang *out);

/* "#!/usr/bin/env PROG": the program env goes on to exec (PROG: a name looked up in PATH,
 * or a path), or NULL when the interpreter is not env or its argument is not one program
 * (an option like -S, or "python3 -u", which Linux passes to env as one word). Pure. */
const char *shebang_env_program(const struct shebang *sb);

#endif
