/* /proc/self/mountinfo scanning: see mountinfo.h. */
#include "base/mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
}

/* Is word one of the comma-separated options? */
static bool has_option(const char *opts, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = opts; *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);
		if (l == wl && strncmp(p, word, wl) == 0)
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

/* A mountinfo line of file system type fstype (and, unless opt is NULL, with opt among its
 * super options): its root (field 4) and mount point (field 5), split and unescaped in
 * place. Any other line is left as it is. */
static bool split_mount(char *line, const char *fstype, const char *opt, char **root, char **mnt)
{
	/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
	char *sep = strstr(line, " - ");
	char type[32], source[256], sup[512] = "";
	if (!sep || sscanf(sep + 3, "%31s %255s %511s", type, source, sup) < 1 || strcmp(type, fstype) != 0 ||
	    (opt && !has_option(sup, opt)))
		return false;
	*sep = '\0';
	char *fld[5], *save = NULL;
	int n = 0;
	for (char *tok = strtok_r(line, " ", &save); tok && n < 5; tok = strtok_r(NULL, " ", &save))
		fld[n++] = tok;
	if (n < 5)
		return false;
	unescape_octal(fld[3]);
	unescape_octal(fld[4]);
	*root = fld[3];
	*mnt = fld[4];
	return true;
}

bool mountinfo_cgroup2(char *line, char **root, char **mnt)
{
	return split_mount(line, "cgroup2", NULL, root, mnt);
}

bool mountinfo_cgroup1(char *line, const char *ctrl, char **root, char **mnt)
{
	return split_mount(line, "cgroup", ctrl, root, mnt);
}

struct v1_find {
	const char *ctrl;
	char *root, *mnt;
	size_t rootlen, mntlen;
};

static int v1_line(char *line, void *ctx)
{
	struct v1_find *q = ctx;
	char *r, *m;
	if (!mountinfo_cgroup1(line, q->ctrl, &r, &m))
		return 0;
	if (strlen(r) >= q->rootlen || strlen(m) >= q->mntlen)
		return -ENAMETOOLONG;
	strcpy(q->root, r);
	strcpy(q->mnt, m);
	return 1;
}

int mountinfo_cgroup1_mount(const char *ctrl, char *root, size_t rootlen, char *mnt, size_t mntlen)
{
	struct v1_find q = { ctrl, root, mnt, rootlen, mntlen };
	int rc = fileio_each_line("/proc/self/mountinfo", v1_line, &q);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

struct v2_each {
	mountinfo_cgroup2_fn fn;
	void *ctx;
};

static int v2_line(char *line, void *ctx)
{
	struct v2_each *e = ctx;
	char *root, *mnt;
	return mountinfo_cgroup2(line, &root, &mnt) ? e->fn(root, mnt, e->ctx) : 0;
}

int mountinfo_each_cgroup2(mountinfo_cgroup2_fn fn, void *ctx)
{
	struct v2_each e = { fn, ctx };
	return fileio_each_line("/proc/self/mountinfo", v2_line, &e);
}

struct first_mount {
	char *buf;
	size_t len;
};

static int take_first(const char *root, const char *mnt, void *ctx)
{
	struct first_mount *m = ctx;
	(void)root;
	if (strlen(mnt) >= m->len)
		return -ENAMETOOLONG;
	strcpy(m->buf, mnt);
	return 1;
}

int cgroup2_mount_point(char *buf, size_t len)
{
	struct first_mount m = { buf, len };
	int rc = mountinfo_each_cgroup2(take_first, &m);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}
