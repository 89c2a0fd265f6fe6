/* The rules of one sandbox, as both backends take them: the files it may exec (by identity
 * and canonical path) and the path patterns it may open, with their access. Built by the
 * runner from the lease and the matrix; encoded into BPF maps by loader.c (loader_rules.c)
 * and into a Landlock ruleset by landlock.c. */
#ifndef CALYX_RULES_H
#define CALYX_RULES_H
#include <sys/types.h>
#include "calyx.h"
#include "policy/lease.h"
#include "policy/pathpat.h"

struct exec_rule {
	dev_t dev;                     /* st_dev as user space sees it; converted to the kernel encoding */
	ino_t ino;
	char path[CALYX_PATH_MAX];     /* canonical path (realpath) */
};
struct path_rule {
	struct pathpat pat;            /* resolved pattern */
	enum path_access access;
};

#endif
