/* The sandbox's private mount view, planned (docs/run.md "The sandbox's view and
 * namespaces"): which host paths the sandbox sees, where, read-only or not. Pure module:
 * it touches no file itself; what the host holds at a path comes from a resolver the
 * caller gives (sandbox/mountns.c has the real one), so tests/unit/test_view.c can plan
 * against a made-up host.
 *
 * What the view holds: the runtime baseline and the lease paths (for a pattern, its
 * longest literal directory: a subtree of /srv/x binds /srv/x), the lease binaries, helpers and
 * their ELF interpreters, every one at its host path, so that a path means the same
 * inside as outside (bpf-lsm decides on path strings, Landlock on inodes); a fresh /proc
 * for the sandbox's PID namespace; a minimal /dev; a private /tmp unless a lease path is
 * /tmp itself. A host path reached through symlinks is bound at its resolved path and
 * each symlink on the way is recreated in the view (e.g. /lib64 -> usr/lib64). */
#ifndef CALYX_SANDBOX_VIEW_H
#define CALYX_SANDBOX_VIEW_H
#include <stdbool.h>
#include <stddef.h>

#include "enforce/rules.h"

#define VIEW_MAX_ENTRIES 512
#define VIEW_MAX_HOPS 8          /* symlinks recorded for one candidate path */

enum view_kind {
	VIEW_BIND = 0,     /* the host's path, bound (recursively) at the same path */
	VIEW_SYMLINK,      /* a symlink with the host's target */
	VIEW_TMPFS,        /* an empty tmpfs (/dev, /tmp) */
	VIEW_PROC,         /* a fresh proc for the sandbox's PID namespace */
};

/* Why a path is in the view (meta.json "from"). */
enum view_origin {
	VIEW_FROM_BASELINE = 0, VIEW_FROM_LEASE, VIEW_FROM_BINARY, VIEW_FROM_INTERP, VIEW_FROM_VIEW,
};

struct view_entry {
	char *path;        /* absolute, canonical on the host (BIND) */
	char *target;      /* VIEW_SYMLINK: the link's text */
	enum view_kind kind;
	enum view_origin from;
	bool rw;           /* BIND: a writable mount (else read-only) */
	bool is_dir;       /* BIND: a directory (else a file or a device) */
	bool dev;          /* BIND: device nodes work (no nodev): the minimal /dev's nodes */
	int parent;        /* index of the nearest entry above it, -1: the view's root */
};

struct view_left {
	char *path;
	const char *why;   /* static text */
};

/* A file rule the Landlock backend must add inside the view: /proc is the sandbox's own,
 * so rules opened on the host's /proc before the fork match nothing there. */
struct view_proc_rule {
	char *path;
	enum path_access access;
};

struct view_plan {
	struct view_entry *e;  size_t n;        /* sorted: every entry after the one above it */
	struct view_left *left; size_t n_left;  /* asked for, not in the view, and why */
	struct view_proc_rule *proc; size_t n_proc;
};

/* What the host holds at a path: 0 with *real the path with every symlink resolved
 * (malloc'd), *is_dir, and the symlinks met on the way (hop_path[i] -> hop_target[i],
 * malloc'd, *n_hops); -ENOENT when it does not exist; another -errno to fail closed. */
struct view_hops {
	char *path[VIEW_MAX_HOPS];
	char *target[VIEW_MAX_HOPS];
	size_t n;
};
typedef int (*view_resolve_fn)(const char *path, char **real, bool *is_dir,
			       struct view_hops *hops, void *ctx);

struct view_input {
	const struct path_rule *paths; size_t n_paths;  /* lease paths and the baseline */
	size_t n_lease;                                 /* the first n_lease of paths are the lease's */
	const struct exec_rule *exec; size_t n_exec;    /* lease binaries and helpers */
	char *const *interp; size_t n_interp;           /* their ELF interpreters (PT_INTERP) */
	view_resolve_fn resolve;
	void *ctx;
};

/* The plan, or -errno with a message (a resolver error, too many entries, no memory). */
int view_plan_build(const struct view_input *in, struct view_plan *out, char *err, size_t errlen);
void view_plan_free(struct view_plan *p);

/* The literal directory or file a pattern binds: "/srv/x/" (of a /srv/x subtree pattern) -> "/srv/x",
 * "/etc/passwd" -> itself, "/" -> "/". Into buf; false when it does not fit. */
bool view_bind_prefix(const struct pathpat *p, char *buf, size_t len);

const char *view_kind_name(enum view_kind k);
const char *view_origin_name(enum view_origin o);

#endif
