/* links: sandbox/view policy/pathpat base/errmsg */
/* The view's planner against a made-up host: which entries, where, ro/rw, the symlinks on
 * the way, what is left out and why, /proc rules, and the order the child mounts in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox/view.h"

/* The made-up host: merged /usr (/lib -> usr/lib, /lib64 -> usr/lib64, whose loader
 * links into /lib), /srv/calyx a directory, /etc/passwd a file, /broken an error. */
static const struct { const char *path, *real; bool dir; const char *hop[2][2]; } host[] = {
	{ "/usr", "/usr", true, { { 0 } } },
	{ "/lib", "/usr/lib", true, { { "/lib", "usr/lib" } } },
	{ "/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", false,
	  { { "/lib64", "usr/lib64" }, { "/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" } } },
	{ "/etc/passwd", "/etc/passwd", false, { { 0 } } },
	{ "/srv/calyx", "/srv/calyx", true, { { 0 } } },
	{ "/srv/calyx/out", "/srv/calyx/out", true, { { 0 } } },
	{ "/srv/calyx/bin/tool", "/srv/calyx/bin/tool", false, { { 0 } } },
	{ "/usr/bin/python3", "/usr/bin/python3.11", false, { { "/usr/bin/python3", "python3.11" } } },
	{ "/dev/null", "/dev/null", false, { { 0 } } },
	{ "/dev/zero", "/dev/zero", false, { { 0 } } },
	{ "/dev/full", "/dev/full", false, { { 0 } } },
	{ "/dev/random", "/dev/random", false, { { 0 } } },
	{ "/dev/urandom", "/dev/urandom", false, { { 0 } } },
	{ "/tmp", "/tmp", true, { { 0 } } },
};

static int fake_resolve(const char *path, char **real, bool *is_dir, struct view_hops *h, void *ctx)
{
	(void)ctx;
	if (strcmp(path, "/broken") == 0)
		return -EACCES;
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		if (strcmp(host[i].path, path) != 0)
			continue;
		for (size_t k = 0; k < 2 && host[i].hop[k][0]; k++) {
			h->path[h->n] = strdup(host[i].hop[k][0]);
			h->target[h->n++] = strdup(host[i].hop[k][1]);
		}
		*real = strdup(host[i].real);
		*is_dir = host[i].dir;
		return 0;
	}
	return -ENOENT;
}

static struct path_rule rule(const char *path, enum pathpat_kind kind, enum path_access acc)
{
	struct path_rule r;
	memset(&r, 0, sizeof(r));
	strcpy(r.pat.path, path);
	r.pat.kind = kind;
	r.access = acc;
	return r;
}

static const struct view_entry *find(const struct view_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->e[i].path, path) == 0)
			return &p->e[i];
	return NULL;
}

static const char *left_why(const struct view_plan *p, const char *path)
{
	for (size_t i = 0; i < p->n_left; i++)
		if (strcmp(p->left[i].path, path) == 0)
			return p->left[i].why;
	return NULL;
}

static void plan(struct view_plan *p, const struct path_rule *paths, size_t n, size_t n_lease,
		 const struct exec_rule *exec, size_t n_exec, char *const *interp, size_t n_interp)
{
	char err[256] = "";
	struct view_input in = { paths, n, n_lease, exec, n_exec, interp, n_interp, fake_resolve, NULL };
	int rc = view_plan_build(&in, p, err, sizeof(err));
	if (rc)
		fail_msg("plan: %d %s", rc, err);
}

static void test_bind_prefix(void **s)
{
	(void)s;
	char buf[64];
	struct path_rule r = rule("/srv/x/", PATHPAT_SUBTREE, ACCESS_RO);
	assert_true(view_bind_prefix(&r.pat, buf, sizeof(buf)));
	assert_string_equal(buf, "/srv/x");
	r = rule("/srv/x/", PATHPAT_CHILDREN, ACCESS_RO);
	assert_true(view_bind_prefix(&r.pat, buf, sizeof(buf)));
	assert_string_equal(buf, "/srv/x");
	r = rule("/etc/passwd", PATHPAT_EXACT, ACCESS_RO);
	assert_true(view_bind_prefix(&r.pat, buf, sizeof(buf)));
	assert_string_equal(buf, "/etc/passwd");
	assert_false(view_bind_prefix(&r.pat, buf, 5));
}

static void test_plan(void **s)
{
	(void)s;
	struct path_rule paths[] = {
		/* the lease's */
		rule("/srv/calyx/", PATHPAT_SUBTREE, ACCESS_RO),
		rule("/srv/calyx/out/", PATHPAT_SUBTREE, ACCESS_RW),
		rule("/srv/gone/", PATHPAT_SUBTREE, ACCESS_RO),
		rule("/dev/null", PATHPAT_EXACT, ACCESS_RW),
		/* the baseline */
		rule("/usr/", PATHPAT_SUBTREE, ACCESS_RO),
		rule("/lib/", PATHPAT_SUBTREE, ACCESS_RO),
		rule("/etc/passwd", PATHPAT_EXACT, ACCESS_RO),
		rule("/proc/filesystems", PATHPAT_EXACT, ACCESS_RO),
	};
	struct exec_rule exec[2];
	memset(exec, 0, sizeof(exec));
	strcpy(exec[0].path, "/srv/calyx/bin/tool");
	strcpy(exec[1].path, "/usr/bin/python3");
	char *interp[] = { "/lib64/ld-linux-x86-64.so.2" };
	struct view_plan p;
	plan(&p, paths, 8, 4, exec, 2, interp, 1);

	const struct view_entry *e = find(&p, "/srv/calyx");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_BIND);
	assert_false(e->rw);
	assert_true(e->is_dir);
	assert_int_equal(e->from, VIEW_FROM_LEASE);
	assert_int_equal(e->parent, -1);
	/* rw beneath ro: its own bind, on top of the ro one */
	e = find(&p, "/srv/calyx/out");
	assert_non_null(e);
	assert_true(e->rw);
	assert_string_equal(p.e[e->parent].path, "/srv/calyx");
	/* a binary beneath a bind of the same access: the bind shows it already */
	assert_null(find(&p, "/srv/calyx/bin/tool"));
	/* /usr/bin/python3 -> python3.11: both beneath /usr, nothing of their own */
	assert_null(find(&p, "/usr/bin/python3"));
	assert_null(find(&p, "/usr/bin/python3.11"));
	/* the symlinks on the way to the loader: /lib64 made, /usr/lib64/... is /usr's */
	e = find(&p, "/lib64");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_SYMLINK);
	assert_string_equal(e->target, "usr/lib64");
	assert_int_equal(e->from, VIEW_FROM_INTERP);
	assert_null(find(&p, "/usr/lib64/ld-linux-x86-64.so.2"));
	e = find(&p, "/lib");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_SYMLINK);
	assert_null(find(&p, "/usr/lib"));   /* beneath /usr */
	/* a file at its host path */
	e = find(&p, "/etc/passwd");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_BIND);
	assert_false(e->is_dir);
	assert_int_equal(e->from, VIEW_FROM_BASELINE);
	/* missing on the host: left out, said */
	assert_null(find(&p, "/srv/gone"));
	assert_string_equal(left_why(&p, "/srv/gone"), "not on the host");
	/* /proc: the sandbox's own, and a rule for inside it instead of a bind */
	e = find(&p, "/proc");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_PROC);
	assert_null(find(&p, "/proc/filesystems"));
	assert_int_equal(p.n_proc, 1);
	assert_string_equal(p.proc[0].path, "/proc/filesystems");
	assert_int_equal(p.proc[0].access, ACCESS_RO);
	/* the minimal /dev: a tmpfs with the host's nodes, which keep working (dev) */
	e = find(&p, "/dev");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_TMPFS);
	e = find(&p, "/dev/null");
	assert_non_null(e);
	assert_true(e->dev);
	assert_int_equal(e->from, VIEW_FROM_VIEW);
	assert_string_equal(p.e[e->parent].path, "/dev");
	e = find(&p, "/dev/fd");
	assert_non_null(e);
	assert_string_equal(e->target, "/proc/self/fd");
	/* a private /tmp */
	e = find(&p, "/tmp");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_TMPFS);
	/* the order: every entry after the one above it, '/' before any other byte */
	for (size_t i = 0; i < p.n; i++)
		if (p.e[i].parent >= 0)
			assert_true((size_t)p.e[i].parent < i);
	view_plan_free(&p);
}

static void test_same_path_twice_rw_wins_and_tmp_covered(void **s)
{
	(void)s;
	struct path_rule paths[] = {
		rule("/tmp/", PATHPAT_SUBTREE, ACCESS_RW),
		rule("/etc/passwd", PATHPAT_EXACT, ACCESS_RO),
		rule("/etc/passwd", PATHPAT_EXACT, ACCESS_RW),
	};
	struct view_plan p;
	plan(&p, paths, 3, 3, NULL, 0, NULL, 0);
	const struct view_entry *e = find(&p, "/tmp");
	assert_non_null(e);
	assert_int_equal(e->kind, VIEW_BIND);   /* the lease's /tmp, no private one over it */
	assert_true(e->rw);
	e = find(&p, "/etc/passwd");
	assert_non_null(e);
	assert_true(e->rw);
	size_t n = 0;
	for (size_t i = 0; i < p.n; i++)
		n += strcmp(p.e[i].path, "/etc/passwd") == 0;
	assert_int_equal(n, 1);
	view_plan_free(&p);
}

static void test_fails_closed(void **s)
{
	(void)s;
	struct path_rule paths[] = { rule("/broken", PATHPAT_EXACT, ACCESS_RO) };
	char err[256] = "";
	struct view_input in = { paths, 1, 1, NULL, 0, NULL, 0, fake_resolve, NULL };
	struct view_plan p;
	assert_int_equal(view_plan_build(&in, &p, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "/broken"));
	assert_null(p.e);
}

static void test_root_never_bound(void **s)
{
	(void)s;
	struct path_rule paths[] = { rule("/", PATHPAT_SUBTREE, ACCESS_RO) };
	struct view_plan p;
	plan(&p, paths, 1, 1, NULL, 0, NULL, 0);
	assert_null(find(&p, "/"));
	assert_non_null(left_why(&p, "/"));
	view_plan_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_prefix),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_same_path_twice_rw_wins_and_tmp_covered),
		cmocka_unit_test(test_fails_closed),
		cmocka_unit_test(test_root_never_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
