/* Landlock half of the `landlock` enforcement backend (docs/backends.md): builds one
 * Landlock ruleset per sandbox from the lease's binaries and path rules, in the parent, and
 * applies it in the child after privileges are dropped and before exec.
 *
 * Split in three (bubblewrap style):
 *  - pure: access masks per ABI and the list of rule specs computed from patterns
 *    (landlock_*_for, landlock_specs); tested by tests/unit/test_landlock.c without a kernel;
 *  - parent: landlock_prepare() opens each path O_PATH, adds the rules to a new ruleset
 *    and keeps only the ruleset fd, so every error is reported before the fork;
 *  - child: landlock_apply() is two syscalls (no_new_privs, landlock_restrict_self):
 *    async-signal-safe, no allocation, safe between fork and exec.
 * The handled set is every right the running ABI knows, so whatever no rule grants is
 * denied; on an ABI newer than this file knows, the newest known set is used. */
#ifndef CALYX_LANDLOCK_H
#define CALYX_LANDLOCK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "enforce/rules.h"
#include "policy/lease.h"

/* Newest ABI whose rights this file declares. */
#define CALYX_LANDLOCK_ABI_KNOWN 7
/* Rules one sandbox may need (patterns + per-entry CHILDREN rules + binaries + loaders).
 * Bounded so a directory with a million entries fails the run instead of the host. */
#define CALYX_LANDLOCK_MAX_RULES 4096

/* The running kernel's Landlock ABI (LANDLOCK_CREATE_RULESET_VERSION): >= 1, or -errno
 * (-EOPNOTSUPP: built in but disabled at boot; -ENOSYS: not built in). */
int landlock_abi(void);

/* ---- pure part ---- */

/* All filesystem / network rights, and the scopes, that ABI `abi` can handle. */
uint64_t landlock_fs_handled(int abi);
uint64_t landlock_net_handled(int abi, enum net_policy net);
uint64_t landlock_scoped(int abi);
/* Rights a rule of `acc` grants (limited to what abi knows). is_dir: the rule is on a
 * directory (all rights apply beneath it) rather than on one file (file rights only). */
uint64_t landlock_access_for(enum path_access acc, int abi, bool is_dir);
/* Rights of an exec rule (a lease binary or its ELF interpreter): run and read it. */
uint64_t landlock_exec_access(int abi);

enum landlock_spec_kind {
	LL_SPEC_PATH = 0,     /* one rule on path (file or directory, whatever it is at start) */
	LL_SPEC_CHILDREN = 1, /* one rule per entry of the directory path, as it is at start */
	LL_SPEC_EXEC = 2,     /* an executable: must exist and be a regular file (fail closed) */
};
struct landlock_spec {
	enum landlock_spec_kind kind;
	const char *path;     /* points into the caller's rules, no copy */
	uint64_t file_access; /* granted when the object is a non-directory */
	uint64_t dir_access;  /* granted when it is a directory (0: refuse a directory) */
	const struct exec_rule *ident; /* LL_SPEC_EXEC of a lease binary: identity to re-check */
};
/* Turns path rules and exec rules into rule specs (at most cap). Returns the number of
 * specs or -E2BIG / -EINVAL with a message. Pure: touches no file. */
int landlock_specs(const struct path_rule *paths, size_t n, const struct exec_rule *exec,
		   size_t n_exec, int abi, struct landlock_spec *out, size_t cap,
		   char *err, size_t errlen);

/* ---- parent side ---- */

/* PT_INTERP of an ELF executable into buf ("" when it has none: static or not ELF).
 * 0 or -errno with a message. */
int landlock_elf_interp(const char *path, char *buf, size_t len, char *err, size_t errlen);

struct landlock_plan;
/* Builds the ruleset for one sandbox: lease binaries get EXECUTE|READ_FILE, and so do their
 * ELF interpreters where a path rule covers them (as bpf-lsm requires), path rules their
 * ro/rw rights, deny_all handles TCP connect/bind with no rule (ABI >= 4), scoping closes
 * abstract AF_UNIX sockets and signals to the outside (ABI >= 6). A rule's path is opened
 * with RESOLVE_NO_SYMLINKS: paths that do not exist at start, or that are spelled through a
 * symlink, are skipped (nothing is granted there, as bpf-lsm decides on resolved paths); a
 * lease binary that is missing, not canonical or changed identity since it was resolved
 * fails closed. Returns 0 with *out, or -errno with a message. */
int landlock_prepare(const struct path_rule *paths, size_t n, const struct exec_rule *exec,
		     size_t n_exec, enum net_policy net, struct landlock_plan **out,
		     char *err, size_t errlen);
void landlock_plan_free(struct landlock_plan *p);   /* NULL-safe; closes the ruleset fd */
int landlock_plan_abi(const struct landlock_plan *p);
size_t landlock_plan_rules(const struct landlock_plan *p);   /* rules added (for meta.json) */
/* One-line summary ("Landlock ABI 7; 23 rules; fs 0xffff net 0x3 scoped 0x3", then what
 * was skipped: paths missing at start, paths through a symlink). */
void landlock_plan_describe(const struct landlock_plan *p, char *buf, size_t len);

/* ---- child side ---- */

/* A path rule added in the child, inside its mount view, before landlock_apply: for the
 * sandbox's own /proc, whose files are not the host's the parent opened. A path missing
 * or spelled through a symlink grants nothing (0). Async-signal-safe. 0 or -errno. */
int landlock_add_in_view(const struct landlock_plan *p, const char *path, enum path_access acc);

/* PR_SET_NO_NEW_PRIVS then landlock_restrict_self: irrevocable for this process and every
 * descendant. Async-signal-safe (call between fork and exec). 0 or -errno. */
int landlock_apply(const struct landlock_plan *p);

#endif
