/* Command lines of leases: argv arrays, and the shell-like splitting of `--cmd 'ARGV'`.
 * Pure. */
#ifndef CALYX_ARGV_H
#define CALYX_ARGV_H
#include <stddef.h>

#define LEASE_MAX_ARGS 256          /* arguments of one command */
#define LEASE_MAX_ARG_BYTES 4096    /* bytes of one argument */

struct argv_list {
	char **argv;             /* NULL-terminated */
	size_t argc;
};

/* Split a shell-like command string ('python3 --version', quotes "…" and '…' and \ escapes,
 * no expansion) into an argv. Returns 0 or -EINVAL with message. */
int lease_split_command(const char *s, struct argv_list *out, char *err, size_t errlen);
void argv_list_free(struct argv_list *a);

#endif
