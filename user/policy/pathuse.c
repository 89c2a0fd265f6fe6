/* See pathuse.h. */
#include "policy/pathuse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"

/* Entries of dir: how many, and how many are directories (d_type, else lstat). -errno
 * when it cannot be listed. */
static int count_entries(const char *dir, size_t *all, size_t *dirs)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	*all = *dirs = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		(*all)++;
		bool isdir = e->d_type == DT_DIR;
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			isdir = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		}
		if (isdir)
			(*dirs)++;
	}
	closedir(d);
	return 0;
}

enum pathuse pathuse_check(const struct pathpat *p, char *why, size_t whylen)
{
	char path[sizeof(p->path)];
	snprintf(path, sizeof(path), "%s", p->path);
	size_t n = strlen(path);
	if (n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';   /* a wildcard pattern: its directory */
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return PATHUSE_MISSING;
	}
	if (p->kind != PATHPAT_EXACT && !S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "not a directory");
		return PATHUSE_MISSING;
	}
	size_t all = 0, dirs = 0;
	if (p->kind == PATHPAT_CHILDREN && count_entries(path, &all, &dirs) == 0 && all > 0 && all == dirs) {
		snprintf(why, whylen, "all %zu entr%s of %s %s director%s", all, all == 1 ? "y" : "ies", path,
			 all == 1 ? "is a" : "are", all == 1 ? "y" : "ies");
		return PATHUSE_ONLY_SUBDIRS;
	}
	return PATHUSE_OK;
}
