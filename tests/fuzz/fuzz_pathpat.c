/* links: policy/pathpat base/errmsg */
/* libFuzzer target for path patterns (lease paths, the matrix's bounds and baseline, the
 * CLI's PATTERN[:ro|:rw]). The input is up to three NUL-separated strings: a pattern, a
 * second pattern and a path. Each pattern must either parse or be refused with a message,
 * never crash, hang or leak; what parsed obeys the rules the in-kernel matcher relies on
 * (absolute, within PATHPAT_MAX, a directory pattern ending in '/'), matches the way its
 * kind says, and containment agrees with matching. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pathpat.h"

/* Two roots, one of them "/" (a repo subtree then becomes a subtree of "/"). */
static const char *roots(const char *name, void *ctx)
{
	(void)ctx;
	if (strcmp(name, "calyx") == 0)
		return "/srv/repos/calyx/";
	if (strcmp(name, "top") == 0)
		return "/";
	return NULL;
}

static int parse(const char *s, struct pathpat *p)
{
	char err[512];
	err[0] = '\0';
	int c = pathpat_check(s, err, sizeof err);
	if (c && (c != -EINVAL || !err[0]))
		abort();
	err[0] = '\0';
	int r = pathpat_parse(s, roots, NULL, p, err, sizeof err);
	if (r) {
		if ((r != -EINVAL && r != -ENOENT && r != -ENAMETOOLONG) || !err[0])
			abort();
		return r;
	}
	/* What parses passed the syntax check. */
	if (c)
		abort();
	size_t l = strnlen(p->path, sizeof p->path);
	if (l == 0 || l > PATHPAT_MAX || p->path[0] != '/')
		abort();
	if (p->kind != PATHPAT_EXACT && p->path[l - 1] != '/')
		abort();
	if (p->kind == PATHPAT_EXACT && !pathpat_match(p, p->path))
		abort();
	if (!pathpat_within(p, p))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 3);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	const char *s1 = buf;
	const char *s2 = s1 + strlen(s1) + 1;
	const char *path = s2 <= buf + size ? s2 + strlen(s2) + 1 : buf + size + 2;
	if (s2 > buf + size)
		s2 = buf + size + 1;

	struct pathpat p1, p2;
	int r1 = parse(s1, &p1);
	int r2 = parse(s2, &p2);
	if (r1 == 0 && r2 == 0 && path[0] == '/' && pathpat_within(&p1, &p2) &&
	    pathpat_match(&p1, path) && !pathpat_match(&p2, path))
		abort();   /* p1 within p2, yet p2 refuses a path p1 admits */

	char *pat = NULL;
	int rw = -1;
	char err[512];
	err[0] = '\0';
	int r = pathpat_split_access(s1, &pat, &rw, err, sizeof err);
	if (r == 0) {
		if (!pat || (rw != 0 && rw != 1))
			abort();
		free(pat);
	} else if (r != -EINVAL || !err[0] || pat) {
		abort();
	}
	free(buf);
	return 0;
}
