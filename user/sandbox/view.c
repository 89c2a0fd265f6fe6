/* The sandbox's mount view, planned (see view.h). */
#include "sandbox/view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"

/* The minimal /dev: the host's nodes bound (they work: no nodev), the fd links pointing
 * into the sandbox's own /proc. No tty: the command has no controlling terminal. */
static const char *const dev_nodes[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom" };
static const char *const dev_links[][2] = {
	{ "/dev/fd", "/proc/self/fd" }, { "/dev/stdin", "/proc/self/fd/0" },
	{ "/dev/stdout", "/proc/self/fd/1" }, { "/dev/stderr", "/proc/self/fd/2" },
};

const char *view_kind_name(enum view_kind k)
{
	switch (k) {
	case VIEW_BIND: return "bind";
	case VIEW_SYMLINK: return "symlink";
	case VIEW_TMPFS: return "tmpfs";
	case VIEW_PROC: return "proc";
	}
	return "?";
}

const char *view_origin_name(enum view_origin o)
{
	switch (o) {
	case VIEW_FROM_BASELINE: return "baseline";
	case VIEW_FROM_LEASE: return "lease";
	case VIEW_FROM_BINARY: return "binary";
	case VIEW_FROM_INTERP: return "interpreter";
	case VIEW_FROM_VIEW: return "view";
	}
	return "?";
}

bool view_bind_prefix(const struct pathpat *p, char *buf, size_t len)
{
	size_t n = strlen(p->path);
	if (n > 1 && p->path[n - 1] == '/')
		n--;
	if (n + 1 > len)
		return false;
	memcpy(buf, p->path, n);
	buf[n] = 0;
	return true;
}

/* Is a at or beneath b (on a '/' boundary)? */
static bool path_under(const char *a, const char *b)
{
	if (strcmp(b, "/") == 0)
		return true;
	size_t n = strlen(b);
	return strncmp(a, b, n) == 0 && (a[n] == 0 || a[n] == '/');
}

/* Path order with '/' below every other byte: a directory sorts right before what is
 * beneath it ("/usr" < "/usr/lib" < "/usr-x"). */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = *a == '/' ? 1 : (unsigned char)*a;
		unsigned char y = *b == '/' ? 1 : (unsigned char)*b;
		if (x != y || !x)
			return (int)x - (int)y;
	}
}

static int entry_cmp(const void *pa, const void *pb)
{
	return path_cmp(((const struct view_entry *)pa)->path, ((const struct view_entry *)pb)->path);
}

struct builder {
	struct view_plan *p;
	size_t cap_e;
	char *err;
	size_t errlen;
};

static int add_entry(struct builder *b, const char *path, enum view_kind kind, const char *target,
		     enum view_origin from, bool rw, bool is_dir, bool dev)
{
	struct view_plan *p = b->p;
	/* The same path twice: one entry, writable if either asked for it. */
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->e[i].path, path) == 0) {
			if (p->e[i].kind == VIEW_BIND && kind == VIEW_BIND && rw)
				p->e[i].rw = true;
			return 0;
		}
	if (p->n >= VIEW_MAX_ENTRIES)
		return errmsg(b->err, b->errlen, -E2BIG, "view: more than %d entries (at %s)", VIEW_MAX_ENTRIES, path);
	struct view_entry *e = &p->e[p->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	e->target = target ? strdup(target) : NULL;
	if (!e->path || (target && !e->target)) {
		free(e->path);
		free(e->target);
		return errmsg(b->err, b->errlen, -ENOMEM, "view: out of memory");
	}
	e->kind = kind;
	e->from = from;
	e->rw = rw;
	e->is_dir = is_dir;
	e->dev = dev;
	e->parent = -1;
	p->n++;
	return 0;
}

static int add_left(struct builder *b, const char *path, const char *why)
{
	struct view_plan *p = b->p;
	for (size_t i = 0; i < p->n_left; i++)
		if (strcmp(p->left[i].path, path) == 0)
			return 0;
	struct view_left *l = realloc(p->left, (p->n_left + 1) * sizeof(*l));
	if (!l)
		return errmsg(b->err, b->errlen, -ENOMEM, "view: out of memory");
	p->left = l;
	if (!(l[p->n_left].path = strdup(path)))
		return errmsg(b->err, b->errlen, -ENOMEM, "view: out of memory");
	l[p->n_left++].why = why;
	return 0;
}

static int add_proc_rule(struct builder *b, const char *path, enum path_access acc)
{
	struct view_plan *p = b->p;
	struct view_proc_rule *r = realloc(p->proc, (p->n_proc + 1) * sizeof(*r));
	if (!r)
		return errmsg(b->err, b->errlen, -ENOMEM, "view: out of memory");
	p->proc = r;
	if (!(r[p->n_proc].path = strdup(path)))
		return errmsg(b->err, b->errlen, -ENOMEM, "view: out of memory");
	r[p->n_proc++].access = acc;
	return 0;
}

static bool is_dev_node(const char *path)
{
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		if (strcmp(path, dev_nodes[i]) == 0)
			return true;
	return false;
}

/* One host path asked for: bound at its resolved path, the symlinks on the way recreated;
 * under /proc a rule for the sandbox's own /proc instead; a missing one left out. */
static int add_host_path(struct builder *b, const struct view_input *in, const char *path,
			 enum path_access acc, enum view_origin from, bool dev)
{
	if (path_under(path, "/proc")) {
		if (strcmp(path, "/proc") == 0)
			return add_left(b, path, "the sandbox's own /proc is mounted there");
		return add_proc_rule(b, path, acc);
	}
	if (strcmp(path, "/") == 0)
		return add_left(b, path, "the host's root is never bound");
	if (!dev && is_dev_node(path))
		return 0;   /* the minimal /dev has it */
	char *real = NULL;
	bool is_dir = false;
	struct view_hops h = { .n = 0 };
	int rc = in->resolve(path, &real, &is_dir, &h, in->ctx);
	if (rc == -ENOENT) {
		rc = add_left(b, path, "not on the host");
		goto out;
	}
	if (rc < 0) {
		rc = errmsg(b->err, b->errlen, rc, "view: resolving %s: %s", path, strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < h.n && rc == 0; i++)
		rc = add_entry(b, h.path[i], VIEW_SYMLINK, h.target[i], from, false, false, false);
	if (rc == 0) {
		if (path_under(real, "/proc"))
			rc = add_left(b, path, "resolves into /proc");
		else if (strcmp(real, "/") == 0)
			rc = add_left(b, path, "the host's root is never bound");
		else
			rc = add_entry(b, real, VIEW_BIND, NULL, from, acc == ACCESS_RW, is_dir, dev);
	}
out:
	free(real);
	for (size_t i = 0; i < h.n; i++) {
		free(h.path[i]);
		free(h.target[i]);
	}
	return rc;
}

/* Entries the view would hold twice: beneath a bind of the same access (the bind shows
 * them already), or a symlink beneath any bind (the host's link is there). Each kept
 * entry gets the index of the nearest one above it. */
static void drop_covered(struct view_plan *p)
{
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		struct view_entry e = p->e[i];
		int parent = -1;
		for (size_t j = k; j-- > 0;)
			if (path_under(e.path, p->e[j].path)) {
				parent = (int)j;
				break;
			}
		const struct view_entry *up = parent >= 0 ? &p->e[parent] : NULL;
		bool covered = up && (up->kind == VIEW_SYMLINK || up->kind == VIEW_PROC ||
				      (up->kind == VIEW_BIND &&
				       (e.kind == VIEW_SYMLINK || (e.kind == VIEW_BIND && e.rw == up->rw && e.dev == up->dev))));
		if (covered) {
			free(e.path);
			free(e.target);
			continue;
		}
		e.parent = parent;
		p->e[k++] = e;
	}
	p->n = k;
}

int view_plan_build(const struct view_input *in, struct view_plan *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct builder b = { .p = out, .err = err, .errlen = errlen };
	out->e = calloc(VIEW_MAX_ENTRIES, sizeof(*out->e));
	if (!out->e)
		return errmsg(err, errlen, -ENOMEM, "view: out of memory");
	int rc = 0;
	char buf[PATHPAT_MAX + 1];
	for (size_t i = 0; i < in->n_paths && rc == 0; i++) {
		if (!view_bind_prefix(&in->paths[i].pat, buf, sizeof(buf))) {
			rc = errmsg(err, errlen, -ENAMETOOLONG, "view: %s: too long", in->paths[i].pat.path);
			break;
		}
		rc = add_host_path(&b, in, buf, in->paths[i].access,
				   i < in->n_lease ? VIEW_FROM_LEASE : VIEW_FROM_BASELINE, false);
	}
	for (size_t i = 0; i < in->n_exec && rc == 0; i++)
		rc = add_host_path(&b, in, in->exec[i].path, ACCESS_RO, VIEW_FROM_BINARY, false);
	for (size_t i = 0; i < in->n_interp && rc == 0; i++)
		rc = add_host_path(&b, in, in->interp[i], ACCESS_RO, VIEW_FROM_INTERP, false);
	/* The view's own: /proc, the minimal /dev and, unless a lease path is /tmp, a
	 * private /tmp. */
	if (rc == 0)
		rc = add_entry(&b, "/proc", VIEW_PROC, NULL, VIEW_FROM_VIEW, true, true, false);
	if (rc == 0)
		rc = add_entry(&b, "/dev", VIEW_TMPFS, NULL, VIEW_FROM_VIEW, true, true, true);
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]) && rc == 0; i++) {
		enum path_access acc = ACCESS_RW;   /* the enforcer decides who may write */
		rc = add_host_path(&b, in, dev_nodes[i], acc, VIEW_FROM_VIEW, true);
	}
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]) && rc == 0; i++)
		rc = add_entry(&b, dev_links[i][0], VIEW_SYMLINK, dev_links[i][1], VIEW_FROM_VIEW, false, false, false);
	if (rc == 0)
		rc = add_entry(&b, "/tmp", VIEW_TMPFS, NULL, VIEW_FROM_VIEW, true, true, false);
	if (rc < 0) {
		view_plan_free(out);
		return rc;
	}
	if (out->n)   /* qsort of a NULL array is undefined, even of 0 entries */
		qsort(out->e, out->n, sizeof(*out->e), entry_cmp);
	drop_covered(out);
	return 0;
}

void view_plan_free(struct view_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->e[i].path);
		free(p->e[i].target);
	}
	for (size_t i = 0; i < p->n_left; i++)
		free(p->left[i].path);
	for (size_t i = 0; i < p->n_proc; i++)
		free(p->proc[i].path);
	free(p->e);
	free(p->left);
	free(p->proc);
	memset(p, 0, sizeof(*p));
}
