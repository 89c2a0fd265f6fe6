/* Map-entry encoding of path and exec rules (see rule_maps.h). Pure. */
#include "enforce/rule_maps.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include "base/errmsg.h"
#include "enforce/rules.h"

/* A lease pattern the parser accepts must fit the in-kernel matcher exactly: no pattern is
 * accepted at issue time and then refused at run time (or, worse, truncated). */
_Static_assert(PATHPAT_MAX + 1 == CALYX_LPM_PATH_MAX, "pattern limit must equal the LPM path limit");
_Static_assert(LEASE_MAX_PATTERN_BYTES == PATHPAT_MAX, "lease pattern limit must equal PATHPAT_MAX");

_Static_assert(NETRULE_MAX == CALYX_SB_MAX_NET_RULES, "a lease's allow rules fit the kernel's rule map");

int calyx_net_rules_of(const struct net_rule *allow, size_t n, struct calyx_net_rules *out,
		       char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (n > CALYX_SB_MAX_NET_RULES)
		return errmsg(err, errlen, -E2BIG, "more than %d network allow rules", CALYX_SB_MAX_NET_RULES);
	for (size_t i = 0; i < n; i++) {
		const struct net_rule *r = &allow[i];
		struct calyx_net_rule *k = &out->r[i];
		uint8_t a[16] = { 0 }, m[16] = { 0 };
		unsigned bits = r->prefix;
		if (r->family == NETRULE_V4) {
			a[10] = a[11] = 0xff;
			memcpy(a + 12, r->addr, 4);
			bits += 96;
		} else {
			memcpy(a, r->addr, 16);
		}
		for (unsigned b = 0; b < bits && b < 128; b++)
			m[b / 8] |= (uint8_t)(0x80 >> (b % 8));
		for (int j = 0; j < 16; j++)
			a[j] &= m[j];
		memcpy(k->addr, a, 16);   /* the bytes as they are on the wire: network byte order */
		memcpy(k->mask, m, 16);
		k->port = r->port;
		k->proto = r->proto;
		k->family = r->family == NETRULE_V4 ? 4 : 6;
	}
	out->n = (uint32_t)n;
	return 0;
}

uint64_t calyx_kernel_dev(dev_t dev)
{
	return ((uint64_t)major(dev) << 20) | (uint64_t)minor(dev);
}

uint8_t calyx_access_of(enum path_access a)
{
	return a == ACCESS_RW ? CALYX_ACC_RW : CALYX_ACC_RO;
}

static uint8_t max8(uint8_t a, uint8_t b)
{
	return a > b ? a : b;
}

/* Index of the entry with these key bytes, or -1. */
static int find(const struct calyx_path_entry *out, int n, const char *path, uint32_t len)
{
	for (int i = 0; i < n; i++)
		if (out[i].len == len && memcmp(out[i].path, path, len) == 0)
			return i;
	return -1;
}

static int add(struct calyx_path_entry *out, int *n, size_t cap, const char *path, uint32_t len,
	       uint8_t kind, char *err, size_t errlen)
{
	int i = find(out, *n, path, len);
	if (i >= 0) {
		/* A dir key shared by CHILDREN and SUBTREE rules is a CHILDREN entry: its
		 * fallback then carries the SUBTREE access. */
		if (kind == CALYX_PATH_CHILDREN)
			out[i].val.kind = CALYX_PATH_CHILDREN;
		return 0;
	}
	if ((size_t)*n >= cap)
		return errmsg(err, errlen, -E2BIG, "more than %zu path rule entries", cap);
	struct calyx_path_entry *e = &out[(*n)++];
	memset(e, 0, sizeof(*e));
	memcpy(e->path, path, len);
	e->len = len;
	e->val.kind = kind;
	return 0;
}

bool calyx_path_is_ancestor(const struct path_rule *rules, size_t n, const char *dir)
{
	size_t dl = strlen(dir);
	bool root = dl == 1 && dir[0] == '/';
	for (size_t i = 0; i < n; i++) {
		const char *p = rules[i].pat.path;
		/* p begins with dir + "/" (with "/" for the root) */
		if (root ? p[0] == '/' : (strncmp(p, dir, dl) == 0 && p[dl] == '/'))
			return true;
	}
	return false;
}

int calyx_path_entries(const struct path_rule *rules, size_t n, struct calyx_path_entry *out,
		       size_t cap, char *err, size_t errlen)
{
	int cnt = 0, rc;
	for (size_t i = 0; i < n; i++) {
		const struct pathpat *p = &rules[i].pat;
		size_t l = strnlen(p->path, sizeof(p->path));
		if (l == 0 || p->path[0] != '/')
			return errmsg(err, errlen, -EINVAL, "path rule %zu: not an absolute path", i);
		/* l bytes, not %s: a path that fills the buffer has no NUL to stop at. */
		if (l >= CALYX_LPM_PATH_MAX)
			return errmsg(err, errlen, -ENAMETOOLONG,
				      "path rule '%.*s': longer than the %d bytes the kernel matcher holds",
				      (int)l, p->path, CALYX_LPM_PATH_MAX - 1);
		switch (p->kind) {
		case PATHPAT_EXACT:
			rc = add(out, &cnt, cap, p->path, (uint32_t)l + 1, CALYX_PATH_EXACT, err, errlen);
			break;
		case PATHPAT_CHILDREN:
		case PATHPAT_SUBTREE:
			if (p->path[l - 1] != '/')
				return errmsg(err, errlen, -EINVAL, "path rule '%s': directory form must end in '/'",
					      p->path);
			rc = add(out, &cnt, cap, p->path, (uint32_t)l,
				 p->kind == PATHPAT_CHILDREN ? CALYX_PATH_CHILDREN : CALYX_PATH_SUBTREE,
				 err, errlen);
			if (!rc && p->kind == PATHPAT_SUBTREE && l > 1) {
				/* "/a/" admits "/a" itself: key "/a\0" */
				char dir[CALYX_LPM_PATH_MAX];
				memcpy(dir, p->path, l - 1);
				dir[l - 1] = '\0';
				rc = add(out, &cnt, cap, dir, (uint32_t)l, CALYX_PATH_EXACT, err, errlen);
			}
			break;
		default:
			return errmsg(err, errlen, -EINVAL, "path rule %zu: unknown kind", i);
		}
		if (rc)
			return rc;
	}

	/* Every ancestor directory of a pattern (each prefix ending before one of its '/',
	 * "/" first; for "/a/b/" also "/a/b", whose children the pattern names): an EXACT
	 * entry granting at least TRAVERSE (calyx_path_is_ancestor), its metadata but never
	 * its contents. */
	for (size_t i = 0; i < n; i++) {
		const char *path = rules[i].pat.path;
		size_t l = strlen(path);
		for (size_t j = 0; j < l; j++) {
			if (path[j] != '/')
				continue;
			char dir[CALYX_LPM_PATH_MAX];
			size_t dl = j == 0 ? 1 : j;
			memcpy(dir, path, dl);
			dir[dl] = '\0';
			rc = add(out, &cnt, cap, dir, (uint32_t)dl + 1, CALYX_PATH_EXACT, err, errlen);
			if (rc)
				return rc;
		}
	}

	for (int i = 0; i < cnt; i++) {
		struct calyx_path_entry *e = &out[i];
		uint8_t match = CALYX_ACC_NONE, deeper = CALYX_ACC_NONE;
		if (e->val.kind == CALYX_PATH_EXACT) {
			for (size_t j = 0; j < n; j++)
				if (pathpat_match(&rules[j].pat, e->path))
					match = max8(match, calyx_access_of(rules[j].access));
			if (calyx_path_is_ancestor(rules, n, e->path))
				match = max8(match, CALYX_ACC_TRAVERSE);
			deeper = match;
			e->val.plen = (uint8_t)(e->len - 1);
		} else {
			uint8_t children = CALYX_ACC_NONE;
			for (size_t j = 0; j < n; j++) {
				const struct pathpat *p = &rules[j].pat;
				uint8_t a = calyx_access_of(rules[j].access);
				size_t pl = strlen(p->path);
				if (p->kind == PATHPAT_SUBTREE && pl <= e->len &&
				    memcmp(e->path, p->path, pl) == 0)
					deeper = max8(deeper, a);
				else if (p->kind == PATHPAT_CHILDREN && pl == e->len &&
					 memcmp(e->path, p->path, pl) == 0)
					children = max8(children, a);
			}
			match = e->val.kind == CALYX_PATH_CHILDREN ? max8(children, deeper) : deeper;
			e->val.plen = (uint8_t)e->len;
		}
		e->val.match = match;
		e->val.fallback = deeper;
	}
	return cnt;
}

void calyx_path_key_of(const struct calyx_path_entry *e, uint32_t sandbox, struct calyx_path_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 32 + 8 * e->len;
	k->sandbox_be[0] = (uint8_t)(sandbox >> 24);
	k->sandbox_be[1] = (uint8_t)(sandbox >> 16);
	k->sandbox_be[2] = (uint8_t)(sandbox >> 8);
	k->sandbox_be[3] = (uint8_t)sandbox;
	memcpy(k->path, e->path, e->len);
}

int calyx_exec_entry(dev_t dev, ino_t ino, const char *path, uint32_t flags, uint32_t slot,
		     struct calyx_exec_key *k, struct calyx_exec_val *v, char *err, size_t errlen)
{
	size_t pl = strnlen(path, CALYX_PATH_MAX);
	if (pl == 0 || pl >= CALYX_LPM_PATH_MAX || path[0] != '/')
		return errmsg(err, errlen, -ENAMETOOLONG, "exec rule %.64s: not an absolute path of 1..%d bytes",
			      path, CALYX_LPM_PATH_MAX - 1);
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->sandbox = slot;
	k->dev = calyx_kernel_dev(dev);
	k->ino = (uint64_t)ino;
	memcpy(v->path, path, pl);
	v->flags = flags;
	return 0;
}

uint64_t calyx_argv_hash(const char *bytes, uint32_t len)
{
	uint64_t h = (uint64_t)len ^ CALYX_ARGV_SEED;
	uint32_t padded = (len + CALYX_ARGV_CHUNK - 1) / CALYX_ARGV_CHUNK * CALYX_ARGV_CHUNK;
	for (uint32_t off = 0; off < padded; off += 8) {
		uint64_t w = 0;
		for (uint32_t i = 0; i < 8 && off + i < len; i++)   /* little-endian, zero-padded */
			w |= (uint64_t)(uint8_t)bytes[off + i] << (8 * i);
		h = (h ^ w) * CALYX_ARGV_PRIME;
	}
	return h;
}

int calyx_argv_entry(const struct argv_rule *a, uint32_t slot, struct calyx_argv_key *k,
		     struct calyx_argv_val *v, char *err, size_t errlen)
{
	if (a->len == 0 || a->len > CALYX_ARGV_MAX)
		return errmsg(err, errlen, -E2BIG, "argv rule of %u bytes: the kernel compares 1..%d",
			      (unsigned)a->len, CALYX_ARGV_MAX);
	memset(k, 0, sizeof(*k));
	memset(v, 0, sizeof(*v));
	k->sandbox = slot;
	k->len = a->len;
	k->dev = calyx_kernel_dev(a->dev);
	k->ino = (uint64_t)a->ino;
	k->hash = calyx_argv_hash(a->bytes, a->len);
	memcpy(v->argv, a->bytes, a->len);
	return 0;
}

int calyx_path_lookup(const struct calyx_path_entry *e, size_t n, const char *path)
{
	size_t len = strlen(path) + 1;
	if (len < 2 || len > CALYX_LPM_PATH_MAX || path[0] != '/')
		return CALYX_ACC_NONE;
	const struct calyx_path_entry *best = NULL;
	for (size_t i = 0; i < n; i++)
		if (e[i].len <= len && memcmp(e[i].path, path, e[i].len) == 0 &&
		    (!best || e[i].len > best->len))
			best = &e[i];
	if (!best)
		return CALYX_ACC_NONE;
	if (best->val.kind != CALYX_PATH_CHILDREN)
		return best->val.match;
	return strchr(path + best->val.plen, '/') ? best->val.fallback : best->val.match;
}
