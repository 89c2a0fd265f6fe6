/* The sandbox's mount view, built (see mountns.h). */
#include "sandbox/mountns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/errmsg.h"
#include "base/safedir.h"

/* ---- resolving host paths ---- */

/* "." and ".." and repeated '/' folded away; the path is absolute. In place. */
static void fold_path(char *p)
{
	char *out = p, *in = p;
	while (*in) {
		while (*in == '/')
			in++;
		if (!*in)
			break;
		char *end = strchr(in, '/');
		size_t n = end ? (size_t)(end - in) : strlen(in);
		if (n == 1 && in[0] == '.') {
			/* nothing */
		} else if (n == 2 && in[0] == '.' && in[1] == '.') {
			while (out > p && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in += n;
	}
	if (out == p)
		*out++ = '/';
	*out = 0;
}

int mountns_resolve(const char *path, char **real, bool *is_dir, struct view_hops *hops, void *ctx)
{
	(void)ctx;
	char cur[PATH_MAX];
	if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur))
		return -ENAMETOOLONG;
	fold_path(cur);
	for (int round = 0; round < 40; round++) {
		char acc[PATH_MAX] = "";
		size_t al = 0;
		const char *in = cur;
		struct stat st;
		bool linked = false;
		if (strcmp(cur, "/") == 0 && lstat("/", &st) < 0)
			return -errno;
		while (*in) {
			while (*in == '/')
				in++;
			if (!*in)
				break;
			const char *end = strchr(in, '/');
			size_t n = end ? (size_t)(end - in) : strlen(in);
			if (al + 1 + n + 1 > sizeof(acc))
				return -ENAMETOOLONG;
			acc[al++] = '/';
			memcpy(acc + al, in, n);
			al += n;
			acc[al] = 0;
			in += n;
			if (lstat(acc, &st) < 0)
				return -errno;
			if (!S_ISLNK(st.st_mode))
				continue;
			char t[PATH_MAX];
			ssize_t tl = readlink(acc, t, sizeof(t) - 1);
			if (tl < 0)
				return -errno;
			t[tl] = 0;
			if (hops->n >= VIEW_MAX_HOPS)
				return -ELOOP;
			hops->path[hops->n] = strdup(acc);
			hops->target[hops->n] = strdup(t);
			if (!hops->path[hops->n] || !hops->target[hops->n]) {
				free(hops->path[hops->n]);
				free(hops->target[hops->n]);
				return -ENOMEM;
			}
			hops->n++;
			char next[PATH_MAX];
			int w;
			if (t[0] == '/') {
				w = snprintf(next, sizeof(next), "%s%s", t, in);
			} else {
				char *slash = strrchr(acc, '/');
				*slash = 0;
				w = snprintf(next, sizeof(next), "%s/%s%s", acc, t, in);
			}
			if (w >= (int)sizeof(next))
				return -ENAMETOOLONG;
			fold_path(next);
			memcpy(cur, next, strlen(next) + 1);
			linked = true;
			break;
		}
		if (linked)
			continue;
		if (!(*real = strdup(cur)))
			return -ENOMEM;
		*is_dir = S_ISDIR(st.st_mode);
		return 0;
	}
	return -ELOOP;
}

/* ---- parent: the steps ---- */

static int add_op(struct mountns *m, size_t cap, enum mountns_op_kind kind, const char *path,
		  const char *src, unsigned long flags, unsigned long long attr)
{
	if (m->n >= cap)
		return -E2BIG;
	char *dst = malloc(strlen(MOUNTNS_ROOT) + strlen(path) + 1);
	if (!dst)
		return -ENOMEM;
	strcpy(dst, MOUNTNS_ROOT);
	strcat(dst, strcmp(path, "/") == 0 ? "" : path);
	m->ops[m->n++] = (struct mountns_op){ kind, dst, src, flags, attr };
	return 0;
}

/* The directories between the entry above (or the root) and path, made in the view's
 * tmpfs: each component of path beyond `above`, but the last. */
static int add_mkdirs(struct mountns *m, size_t cap, const char *above, const char *path)
{
	size_t start = strcmp(above, "/") == 0 ? 0 : strlen(above);
	char buf[PATH_MAX];
	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (size_t i = start + 1; path[i]; i++) {
		if (path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = 0;
		int rc = add_op(m, cap, MNS_MKDIR, buf, NULL, 0, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int mountns_prepare(const struct view_plan *v, struct mountns *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	/* /run/calyx exists for the resident set (root-only); the view's mount point below it. */
	int run = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (run < 0)
		return errmsg(err, errlen, -errno, "view: /run: %s", strerror(errno));
	int fd = safedir_mkdirs(run, "calyx/view", 0700);
	close(run);
	if (fd < 0)
		return errmsg(err, errlen, fd, "view: %s: %s", MOUNTNS_ROOT, strerror(-fd));
	char why[256] = "";
	int rc = safedir_check_root_only(fd, MOUNTNS_ROOT, why, sizeof(why));
	close(fd);
	if (rc < 0)
		return errmsg(err, errlen, rc, "view: %s is not root-only: %s", MOUNTNS_ROOT,
			      why[0] ? why : strerror(-rc));
	size_t cap = v->n * 24 + 8;   /* per entry: its own step plus up to 22 directories */
	m->ops = calloc(cap, sizeof(*m->ops));
	if (!m->ops)
		return errmsg(err, errlen, -ENOMEM, "view: out of memory");
	for (size_t i = 0; i < v->n && rc == 0; i++) {
		const struct view_entry *e = &v->e[i];
		const struct view_entry *up = e->parent >= 0 ? &v->e[e->parent] : NULL;
		/* Beneath a bind the path is the host's and exists; beneath the root or a
		 * tmpfs it is made. */
		bool make = !up || up->kind == VIEW_TMPFS;
		if (make && (rc = add_mkdirs(m, cap, up ? up->path : "/", e->path)) < 0)
			break;
		switch (e->kind) {
		case VIEW_BIND: {
			unsigned long long attr = MOUNT_ATTR_NOSUID | (e->rw ? 0 : MOUNT_ATTR_RDONLY) |
						  (e->dev ? 0 : MOUNT_ATTR_NODEV);
			if (make)
				rc = add_op(m, cap, e->is_dir ? MNS_MKDIR : MNS_MKFILE, e->path, NULL, 0, 0);
			if (rc == 0)
				rc = add_op(m, cap, MNS_BIND, e->path, e->path, 0, attr);
			break;
		}
		case VIEW_SYMLINK:
			rc = add_op(m, cap, MNS_SYMLINK, e->path, e->target, 0, 0);
			break;
		case VIEW_TMPFS:
			if (make)
				rc = add_op(m, cap, MNS_MKDIR, e->path, NULL, 0, 0);
			if (rc == 0)
				rc = add_op(m, cap, MNS_TMPFS, e->path, e->dev ? "mode=0755,size=64k" : "mode=1777",
					    MS_NOSUID | (e->dev ? 0 : MS_NODEV), 0);
			break;
		case VIEW_PROC:
			if (make)
				rc = add_op(m, cap, MNS_MKDIR, e->path, NULL, 0, 0);
			if (rc == 0)
				rc = add_op(m, cap, MNS_PROC, e->path, NULL, MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
			break;
		}
	}
	if (rc < 0) {
		mountns_free(m);
		return errmsg(err, errlen, rc, "view: the steps: %s", strerror(-rc));
	}
	return 0;
}

void mountns_free(struct mountns *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->ops[i].dst);
	free(m->ops);
	memset(m, 0, sizeof(*m));
}

/* ---- child: the steps run ---- */

const char *mountns_step_name(int step)
{
	switch (step) {
	case MNS_STEP_PRIVATE: return "making the host's mounts private";
	case MNS_STEP_ROOT: return "mounting the view's root";
	case MNS_STEP_OPS: return "binding the view's paths";
	case MNS_STEP_PIVOT: return "entering the view (pivot_root)";
	case MNS_STEP_SEAL: return "making the view's root read-only";
	default: return "building the view";
	}
}

static int run_op(const struct mountns_op *o)
{
	switch (o->kind) {
	case MNS_MKDIR:
		if (mkdir(o->dst, 0755) < 0 && errno != EEXIST)
			return -errno;
		return 0;
	case MNS_MKFILE: {
		int fd = open(o->dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return -errno;
		close(fd);
		return 0;
	}
	case MNS_SYMLINK:
		return symlink(o->src, o->dst) < 0 ? -errno : 0;
	case MNS_BIND: {
		if (mount(o->src, o->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		struct mount_attr a = { .attr_set = o->attr };
		if (syscall(SYS_mount_setattr, AT_FDCWD, o->dst, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW,
			    &a, sizeof(a)) == 0)
			return 0;
		if (errno != ENOSYS)
			return -errno;
		/* Before 5.12: the bind's own mount only (its submounts keep their flags). */
		unsigned long f = MS_REMOUNT | MS_BIND | ((o->attr & MOUNT_ATTR_RDONLY) ? MS_RDONLY : 0) |
				  ((o->attr & MOUNT_ATTR_NOSUID) ? MS_NOSUID : 0) |
				  ((o->attr & MOUNT_ATTR_NODEV) ? MS_NODEV : 0);
		return mount(NULL, o->dst, NULL, f, NULL) < 0 ? -errno : 0;
	}
	case MNS_TMPFS:
		return mount("tmpfs", o->dst, "tmpfs", o->flags, o->src) < 0 ? -errno : 0;
	case MNS_PROC:
		return mount("proc", o->dst, "proc", o->flags, NULL) < 0 ? -errno : 0;
	}
	return -EINVAL;
}

int mountns_enter(const struct mountns *m, int *step)
{
	/* Nothing mounted here reaches the host, nor the host's later mounts us. */
	*step = MNS_STEP_PRIVATE;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	*step = MNS_STEP_ROOT;
	if (mount("tmpfs", MOUNTNS_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0)
		return -errno;
	*step = MNS_STEP_OPS;
	for (size_t i = 0; i < m->n; i++) {
		int rc = run_op(&m->ops[i]);
		if (rc < 0)
			return rc;
	}
	*step = MNS_STEP_PIVOT;
	if (chdir(MOUNTNS_ROOT) < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		/* The old root is stacked on "."; detached, nothing of the host is left. */
		if (umount2(".", MNT_DETACH) < 0)
			return -errno;
	} else {
		if (errno != EINVAL)
			return -errno;
		/* An initramfs root (rootfs) cannot be pivoted away from: the view moved over
		 * it and chroot'ed into; the command has no CAP_SYS_CHROOT to climb out. */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0)
			return -errno;
	}
	if (chdir("/") < 0)
		return -errno;
	*step = MNS_STEP_SEAL;
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		return -errno;
	*step = MNS_STEP_NONE;
	return 0;
}
