/* Environment names a lease's `env` claim may not pass through because they make a
 * shell, interpreter, loader or tool read code, or options that load code, from a file,
 * a directory or the value itself (docs/lease-format.md "Environment names that load
 * code"). A fixed argv is only fixed if what the program loads at start is too: with
 * BASH_ENV passed through, `bash script.sh` first runs a file of the caller's choosing. */
#ifndef CALYX_ENVNAMES_H
#define CALYX_ENVNAMES_H
#include <stddef.h>

struct envname_rule {
	const char *name;   /* an exact name, or a prefix ending in '*' */
	const char *why;    /* what the name makes a program load, for the error and the docs */
};

/* The table, in the order docs/lease-format.md lists it. */
extern const struct envname_rule envname_rules[];
extern const size_t envname_n_rules;

/* The rule that refuses name, or NULL when the name may be passed through. */
const struct envname_rule *envname_refused(const char *name);

#endif
