/* Path patterns: syntax check, repo:// resolution, matching and containment.
 * The matching rules here are the contract the in-kernel matcher implements, so they are
 * deliberately simple: a '/'-terminated prefix plus a depth rule, never a glob. */
#include "policy/pathpat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/errmsg.h"

#define REPO_SCHEME "repo://"
#define REPO_SCHEME_LEN (sizeof(REPO_SCHEME) - 1)
#define REPO_NAME_MAX 64

static bool repo_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Checks the '/'-separated components of s (s does not start with '/').
 * wild_ok: a final "*" or "**" component is allowed. Control bytes are refused because
 * patterns end up in terminals, logs and kernel maps where they only ever confuse. */
static int check_components(const char *s, bool wild_ok, const char *what, char *err, size_t errlen)
{
	const char *c = s;
	if (!*c)
		return errmsg(err, errlen, -EINVAL, "%s: empty path", what);
	for (;;) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);
		if (n == 0)
			return errmsg(err, errlen, -EINVAL, "%s: empty component (\"//\" or trailing '/')", what);
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return errmsg(err, errlen, -EINVAL, "%s: '.' and '..' components are not allowed", what);
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)c[i];
			if (ch < 0x20 || ch == 0x7f)
				return errmsg(err, errlen, -EINVAL, "%s: control character in path", what);
		}
		bool is_wild = (n == 1 && c[0] == '*') || (n == 2 && c[0] == '*' && c[1] == '*');
		if (memchr(c, '*', n) && !is_wild)
			return errmsg(err, errlen, -EINVAL,
				      "%s: '*' is only allowed as a whole final component \"*\" or \"**\"", what);
		if (is_wild && (end || !wild_ok))
			return errmsg(err, errlen, -EINVAL,
				      "%s: \"%.*s\" is only allowed as the final component", what, (int)n, c);
		if (!end)
			return 0;
		c = end + 1;
	}
}

/* Final-component wildcard of an (already checked) pattern. */
static enum pathpat_kind kind_of(const char *p, size_t *prefix_len)
{
	size_t n = strlen(p);
	if (n >= 3 && strcmp(p + n - 3, "/**") == 0) {
		*prefix_len = n - 3;
		return PATHPAT_SUBTREE;
	}
	if (n >= 2 && strcmp(p + n - 2, "/*") == 0) {
		*prefix_len = n - 2;
		return PATHPAT_CHILDREN;
	}
	*prefix_len = n;
	return PATHPAT_EXACT;
}

static int check_syntax(const char *pattern, char *err, size_t errlen)
{
	if (!pattern || !*pattern)
		return errmsg(err, errlen, -EINVAL, "path pattern: empty");
	if (strncmp(pattern, REPO_SCHEME, REPO_SCHEME_LEN) == 0) {
		const char *name = pattern + REPO_SCHEME_LEN;
		const char *slash = strchr(name, '/');
		size_t n = slash ? (size_t)(slash - name) : strlen(name);
		if (n == 0 || n > REPO_NAME_MAX)
			return errmsg(err, errlen, -EINVAL, "path pattern '%s': repo name must be 1..%d characters",
				      pattern, REPO_NAME_MAX);
		for (size_t i = 0; i < n; i++)
			if (!repo_name_char(name[i]))
				return errmsg(err, errlen, -EINVAL,
					      "path pattern '%s': repo name may only contain [a-z0-9_-]", pattern);
		if (!slash)
			return errmsg(err, errlen, -EINVAL,
				      "path pattern '%s': expected repo://NAME/path", pattern);
		return check_components(slash + 1, true, "path pattern", err, errlen);
	}
	if (pattern[0] != '/')
		return errmsg(err, errlen, -EINVAL,
			      "path pattern '%s': must be an absolute path or repo://NAME/path", pattern);
	int rc = check_components(pattern + 1, true, "path pattern", err, errlen);
	if (rc)
		return rc;
	size_t plen;
	if (kind_of(pattern, &plen) != PATHPAT_EXACT && plen == 0)
		return errmsg(err, errlen, -EINVAL,
			      "path pattern '%s': a wildcard directly under '/' would admit everything", pattern);
	return 0;
}

int pathpat_check(const char *pattern, char *err, size_t errlen)
{
	int rc = check_syntax(pattern, err, errlen);
	if (rc)
		return rc;
	if (strlen(pattern) > PATHPAT_MAX)
		return errmsg(err, errlen, -EINVAL, "path pattern: longer than %d bytes", PATHPAT_MAX);
	return 0;
}

int pathpat_parse(const char *pattern, pathpat_root_fn roots, void *ctx,
		  struct pathpat *out, char *err, size_t errlen)
{
	char buf[PATHPAT_MAX + 2];
	int rc = check_syntax(pattern, err, errlen);
	if (rc)
		return rc;
	/* As written, too, at most PATHPAT_MAX bytes, as pathpat_check says: a subtree pattern
	 * is stored as "DIR/", two bytes shorter, and a pattern the matrix takes must never be
	 * one no lease may name. */
	if (strlen(pattern) > PATHPAT_MAX)
		return errmsg(err, errlen, -ENAMETOOLONG, "path pattern: longer than %d bytes", PATHPAT_MAX);

	if (strncmp(pattern, REPO_SCHEME, REPO_SCHEME_LEN) == 0) {
		const char *name = pattern + REPO_SCHEME_LEN;
		const char *slash = strchr(name, '/');
		char rname[REPO_NAME_MAX + 1];
		memcpy(rname, name, (size_t)(slash - name));
		rname[slash - name] = '\0';
		const char *root = roots ? roots(rname, ctx) : NULL;
		if (!root)
			return errmsg(err, errlen, -ENOENT, "path pattern '%s': unknown repo root '%s'", pattern, rname);
		if (root[0] != '/')
			return errmsg(err, errlen, -EINVAL, "path pattern '%s': root of '%s' is not absolute",
				      pattern, rname);
		/* One trailing '/' on a configured root is harmless; drop it so "/srv/r/" and
		 * "/srv/r" resolve alike. */
		size_t rl = strlen(root);
		if (rl > 1 && root[rl - 1] == '/')
			rl--;
		if (rl > PATHPAT_MAX)
			return errmsg(err, errlen, -ENAMETOOLONG, "path pattern '%s': root of '%s' too long",
				      pattern, rname);
		char rbuf[PATHPAT_MAX + 1];
		memcpy(rbuf, root, rl);
		rbuf[rl] = '\0';
		/* "/" as a root is legal; every other root must be normalized with no wildcard. */
		if (rl > 1) {
			rc = check_components(rbuf + 1, false, "repo root", err, errlen);
			if (rc)
				return rc;
			rc = snprintf(buf, sizeof(buf), "%s%s", rbuf, slash);
		} else {
			rc = snprintf(buf, sizeof(buf), "%s", slash);
		}
		if (rc < 0 || (size_t)rc >= sizeof(buf))
			return errmsg(err, errlen, -ENAMETOOLONG,
				      "path pattern '%s': resolved path longer than %d bytes", pattern, PATHPAT_MAX);
		/* The root may have been "/", turning a repo subtree into a subtree of "/". */
		rc = check_syntax(buf, err, errlen);
		if (rc)
			return rc;
	} else {
		size_t n = strlen(pattern);
		if (n >= sizeof(buf))
			return errmsg(err, errlen, -ENAMETOOLONG, "path pattern: longer than %d bytes", PATHPAT_MAX);
		memcpy(buf, pattern, n + 1);
	}

	size_t plen;
	enum pathpat_kind kind = kind_of(buf, &plen);
	/* Directory forms store "dir/" so the matcher's prefix always ends on a '/'. */
	size_t need = plen + (kind == PATHPAT_EXACT ? 0 : 1);
	if (need > PATHPAT_MAX)
		return errmsg(err, errlen, -ENAMETOOLONG, "path pattern '%s': resolved path longer than %d bytes",
			      pattern, PATHPAT_MAX);
	memcpy(out->path, buf, plen);
	if (kind != PATHPAT_EXACT)
		out->path[plen] = '/';
	out->path[need] = '\0';
	out->kind = kind;
	return 0;
}

/* A hand-built directory pattern without its trailing '/' would make "/srv" admit
 * "/srvx", and an unterminated one would read past the struct: such a pattern admits
 * nothing. */
static bool well_formed(const struct pathpat *p)
{
	size_t n = strnlen(p->path, sizeof(p->path));
	if (n == 0 || n > PATHPAT_MAX || p->path[0] != '/')
		return false;
	switch (p->kind) {
	case PATHPAT_EXACT:
		return true;
	case PATHPAT_CHILDREN:
	case PATHPAT_SUBTREE:
		return n >= 2 && p->path[n - 1] == '/';
	}
	return false;
}

bool pathpat_match(const struct pathpat *p, const char *path)
{
	if (!p || !path || path[0] != '/')
		return false;
	size_t n = strlen(path);
	/* The kernel matcher denies what it cannot hold; so do we. */
	if (n > PATHPAT_MAX)
		return false;
	if (!well_formed(p))
		return false;
	size_t dl = strlen(p->path);
	switch (p->kind) {
	case PATHPAT_EXACT:
		return strcmp(p->path, path) == 0;
	case PATHPAT_CHILDREN:
		return n > dl && strncmp(path, p->path, dl) == 0 && !strchr(path + dl, '/');
	case PATHPAT_SUBTREE:
		if (n == dl - 1 && strncmp(path, p->path, dl - 1) == 0)
			return true;
		return n >= dl && strncmp(path, p->path, dl) == 0;
	}
	return false;
}

bool pathpat_within(const struct pathpat *inner, const struct pathpat *outer)
{
	if (!inner || !outer)
		return false;
	if (!well_formed(inner) || !well_formed(outer))
		return false;
	if (inner->kind == PATHPAT_EXACT)
		return pathpat_match(outer, inner->path);
	switch (outer->kind) {
	case PATHPAT_EXACT:
		/* A directory form admits at least one path besides any single file. */
		return false;
	case PATHPAT_CHILDREN:
		/* A subtree also admits the dir itself and grandchildren. */
		return inner->kind == PATHPAT_CHILDREN && strcmp(inner->path, outer->path) == 0;
	case PATHPAT_SUBTREE:
		/* Both hold "dir/": inner's dir at or below outer's. */
		return strncmp(inner->path, outer->path, strlen(outer->path)) == 0;
	}
	return false;
}

int pathpat_split_access(const char *arg, char **pattern_out, int *rw_out, char *err, size_t errlen)
{
	if (!arg || !*arg)
		return errmsg(err, errlen, -EINVAL, "path: empty");
	size_t n = strlen(arg);
	int rw = 0;
	size_t plen = n;
	const char *colon = strrchr(arg, ':');
	const char *slash = strrchr(arg, '/');
	/* Only a ':' in the last component can start an access suffix (repo:// has its own). */
	if (colon && (!slash || colon > slash)) {
		const char *acc = colon + 1;
		if (strcmp(acc, "ro") == 0 || strcmp(acc, "rw") == 0) {
			rw = acc[1] == 'w';
			plen = (size_t)(colon - arg);
		} else {
			/* A short lowercase word after ':' is almost surely a mistyped access mode;
			 * refusing it beats silently granting a path named "x:rx". */
			size_t al = strlen(acc);
			bool word = al >= 1 && al <= 3;
			for (size_t i = 0; word && i < al; i++)
				word = acc[i] >= 'a' && acc[i] <= 'z';
			if (word)
				return errmsg(err, errlen, -EINVAL, "path '%s': unknown access '%s' (ro or rw)", arg, acc);
		}
	}
	if (plen == 0)
		return errmsg(err, errlen, -EINVAL, "path '%s': empty pattern", arg);
	char *p = strndup(arg, plen);
	if (!p)
		return errmsg(err, errlen, -ENOMEM, "out of memory");
	int rc = pathpat_check(p, err, errlen);
	if (rc) {
		free(p);
		return rc;
	}
	*pattern_out = p;
	if (rw_out)
		*rw_out = rw;
	return 0;
}
