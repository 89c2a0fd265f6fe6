/* Does a lease path grant anything useful on this host? Read from the file system (stat,
 * one directory listing); a warning's text, never a refusal: the tree may be made later,
 * or on the host that runs the lease. Used by `lease issue` and `calyx run`. */
#ifndef CALYX_PATHUSE_H
#define CALYX_PATHUSE_H
#include <stddef.h>
#include "policy/pathpat.h"

enum pathuse {
	PATHUSE_OK = 0,
	PATHUSE_MISSING,        /* the path (a wildcard's directory) does not exist, or is not a
				 * directory where the pattern needs one: why says which */
	PATHUSE_ONLY_SUBDIRS,   /* a children pattern (final '*') over a directory whose entries
				 * are all directories: their files are not admitted (a final
				 * '**' would admit them) */
};

/* p resolved (pathpat_parse). why gets the reason for MISSING (strerror, "not a
 * directory") or, for ONLY_SUBDIRS, "all N entries of DIR are directories". */
enum pathuse pathuse_check(const struct pathpat *p, char *why, size_t whylen);

#endif
