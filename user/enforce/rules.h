/* The rules of one sandbox, as both backends take them: the files it may exec (by identity
 * and canonical path), the argvs they may run with, and the path patterns it may open,
 * with their access. Built by the
 * runner from the lease and the matrix; encoded into BPF maps by loader.c (loader_rules.c)
 * and into a Landlock ruleset by landlock.c. */
#ifndef CALYX_RULES_H
#define CALYX_RULES_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "calyx.h"
#include "policy/lease.h"
#include "policy/pathpat.h"

struct exec_rule {
	dev_t dev;                     /* st_dev as user space sees it; converted to the kernel encoding */
	ino_t ino;
	char path[CALYX_PATH_MAX];     /* canonical path (realpath) */
	bool any_argv;                 /* a helper: runs with any argv; else only with the argvs
					* of its argv rules */
};
/* One argv a lease binary may be started with (calyx.h "argv binding"): the image the
 * kernel runs (dev, ino: the command's binary, or a #! script's interpreter) and the argv
 * it then has, each argument followed by its NUL. */
struct argv_rule {
	dev_t dev;
	ino_t ino;
	uint32_t len;                  /* 1..CALYX_ARGV_MAX */
	char bytes[CALYX_ARGV_MAX];
};
struct path_rule {
	struct pathpat pat;            /* resolved pattern */
	enum path_access access;
};

#endif
