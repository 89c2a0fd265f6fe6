/* /proc/self/mountinfo scanning: see mountinfo.h. */
#include "base/mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool mountinfo_cgroup2(char *line, char **root, char **mnt)
{
	/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
	char *sep = strstr(line, " - ");
	char fstype[32];
	if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
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

int mountinfo_each_cgroup2(mountinfo_cgroup2_fn fn, void *ctx)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) > 0) {
		char *root, *mnt;
		if (mountinfo_cgroup2(line, &root, &mnt))
			rc = fn(root, mnt, ctx);
	}
	free(line);
	fclose(f);
	return rc;
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
