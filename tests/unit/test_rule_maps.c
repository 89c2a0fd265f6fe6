/* links: enforce/rule_maps policy/pathpat base/errmsg policy/netrule */
/* The map encoding of path rules must answer exactly what pathpat_match says: for every
 * path, the best access of all rules admitting it. The matcher emulated here
 * (calyx_path_lookup) is the algorithm of path_access() in bpf/path.bpf.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <cmocka.h>

#include "enforce/rule_maps.h"
#include "policy/netrule.h"
#include "enforce/rules.h"

static struct path_rule rule(const char *pattern, enum path_access a)
{
	struct path_rule r;
	memset(&r, 0, sizeof(r));
	char err[256];
	int rc = pathpat_parse(pattern, NULL, NULL, &r.pat, err, sizeof(err));
	if (rc)
		fail_msg("pathpat_parse(%s): %s", pattern, err);
	r.access = a;
	return r;
}

/* What user space semantics say: max access over every rule admitting path, and at
 * least TRAVERSE for an ancestor directory of a pattern. */
static int expected(const struct path_rule *r, size_t n, const char *path)
{
	int best = calyx_path_is_ancestor(r, n, path) ? CALYX_ACC_TRAVERSE : CALYX_ACC_NONE;
	for (size_t i = 0; i < n; i++)
		if (pathpat_match(&r[i].pat, path) && calyx_access_of(r[i].access) > best)
			best = calyx_access_of(r[i].access);
	return best;
}

#define CAP 256
static struct calyx_path_entry ents[CAP];

static int build(const struct path_rule *r, size_t n)
{
	char err[256] = "";
	int cnt = calyx_path_entries(r, n, ents, CAP, err, sizeof(err));
	if (cnt < 0)
		fail_msg("calyx_path_entries: %d %s", cnt, err);
	return cnt;
}

static void check_paths(const struct path_rule *r, size_t n, const char *const *paths, size_t np)
{
	int cnt = build(r, n);
	for (size_t i = 0; i < np; i++) {
		int want = expected(r, n, paths[i]);
		int got = calyx_path_lookup(ents, (size_t)cnt, paths[i]);
		if (want != got)
			fail_msg("path %s: matcher says %d, pathpat says %d", paths[i], got, want);
	}
}

static void test_exact_no_prefix_confusion(void **state)
{
	(void)state;
	struct path_rule r[] = { rule("/usr/bin/git", ACCESS_RO) };
	int cnt = build(r, 1);
	assert_int_equal(cnt, 4); /* the rule, then its ancestors "/", "/usr", "/usr/bin" */
	assert_int_equal(ents[0].len, strlen("/usr/bin/git") + 1);
	size_t c = (size_t)cnt;
	assert_int_equal(calyx_path_lookup(ents, c, "/usr/bin/git"), CALYX_ACC_RO);
	assert_int_equal(calyx_path_lookup(ents, c, "/usr/bin/git-evil"), CALYX_ACC_NONE);
	assert_int_equal(calyx_path_lookup(ents, c, "/usr/bin/git/x"), CALYX_ACC_NONE);
	assert_int_equal(calyx_path_lookup(ents, c, "/usr/bin/gi"), CALYX_ACC_NONE);
	assert_int_equal(calyx_path_lookup(ents, c, "/usr/bin"), CALYX_ACC_TRAVERSE);
	assert_int_equal(calyx_path_lookup(ents, c, "/usr"), CALYX_ACC_TRAVERSE);
	assert_int_equal(calyx_path_lookup(ents, c, "/"), CALYX_ACC_TRAVERSE);
	assert_int_equal(calyx_path_lookup(ents, c, "/usr/lib"), CALYX_ACC_NONE);
	assert_int_equal(calyx_path_lookup(ents, c, "/us"), CALYX_ACC_NONE);
}

static void test_children(void **state)
{
	(void)state;
	struct path_rule r[] = { rule("/srv/out/*", ACCESS_RW) };
	int cnt = build(r, 1);
	assert_int_equal(cnt, 4); /* "/srv/out/", then "/", "/srv", "/srv/out" */
	assert_int_equal(ents[0].val.kind, CALYX_PATH_CHILDREN);
	assert_int_equal(ents[0].val.plen, strlen("/srv/out/"));
	size_t c = (size_t)cnt;
	assert_int_equal(calyx_path_lookup(ents, c, "/srv/out/a"), CALYX_ACC_RW);
	assert_int_equal(calyx_path_lookup(ents, c, "/srv/out/a/b"), CALYX_ACC_NONE);
	/* the directory whose children are granted: its metadata, not its listing */
	assert_int_equal(calyx_path_lookup(ents, c, "/srv/out"), CALYX_ACC_TRAVERSE);
	assert_int_equal(calyx_path_lookup(ents, c, "/srv/outx/a"), CALYX_ACC_NONE);
}

static void test_subtree_includes_dir_itself(void **state)
{
	(void)state;
	struct path_rule r[] = { rule("/usr/**", ACCESS_RO) };
	int cnt = build(r, 1);
	assert_int_equal(cnt, 3); /* "/usr/", "/usr\0" and the ancestor "/" */
	assert_int_equal(calyx_path_lookup(ents, 3, "/usr"), CALYX_ACC_RO);
	assert_int_equal(calyx_path_lookup(ents, 3, "/usr/lib/x/y.so"), CALYX_ACC_RO);
	assert_int_equal(calyx_path_lookup(ents, 3, "/usrx"), CALYX_ACC_NONE);
	assert_int_equal(calyx_path_lookup(ents, 3, "/"), CALYX_ACC_TRAVERSE);
}

static void test_shared_dir_key_children_and_subtree(void **state)
{
	(void)state;
	struct path_rule r[] = { rule("/a/*", ACCESS_RW), rule("/a/**", ACCESS_RO) };
	int cnt = build(r, 2);
	assert_int_equal(cnt, 3);
	assert_int_equal(calyx_path_lookup(ents, 3, "/a/x"), CALYX_ACC_RW);
	assert_int_equal(calyx_path_lookup(ents, 3, "/a/x/y"), CALYX_ACC_RO);
	assert_int_equal(calyx_path_lookup(ents, 3, "/a"), CALYX_ACC_RO);
}

static void test_longer_rule_keeps_shorter_grants(void **state)
{
	(void)state;
	/* The trie returns only "/srv/out/" or "/srv/out/a\0" for these paths; the rw subtree
	 * above must still apply through match/fallback. */
	struct path_rule r[] = { rule("/srv/**", ACCESS_RW), rule("/srv/out/*", ACCESS_RO),
				 rule("/srv/out/a", ACCESS_RO) };
	int cnt = build(r, 3);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/srv/out/a"), CALYX_ACC_RW);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/srv/out/b"), CALYX_ACC_RW);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/srv/out/b/c"), CALYX_ACC_RW);
	struct path_rule r2[] = { rule("/a/*", ACCESS_RW), rule("/a/b", ACCESS_RO) };
	cnt = build(r2, 2);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/a/b"), CALYX_ACC_RW);
	struct path_rule r3[] = { rule("/a/*", ACCESS_RO), rule("/a/b/*", ACCESS_RW) };
	cnt = build(r3, 2);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/a/b"), CALYX_ACC_RO);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/a/b/c"), CALYX_ACC_RW);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/a/b/c/d"), CALYX_ACC_NONE);
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, "/a/c/d"), CALYX_ACC_NONE);
}

/* Random rule sets over a small tree, every path of the tree checked. */
static void test_random_rule_sets_match_pathpat(void **state)
{
	(void)state;
	static const char *const comp[] = { "a", "b", "ab" };
	char paths[400][32];
	size_t np = 0;
	/* all paths of depth 1..4 over comp */
	for (int d = 1; d <= 4; d++) {
		int total = 1;
		for (int i = 0; i < d; i++)
			total *= 3;
		for (int x = 0; x < total; x++) {
			char buf[32] = "";
			int v = x;
			for (int i = 0; i < d; i++) {
				strcat(buf, "/");
				strcat(buf, comp[v % 3]);
				v /= 3;
			}
			strcpy(paths[np++], buf);
		}
	}
	strcpy(paths[np++], "/"); /* every pattern's ancestor (after those the rules pick from) */
	const char *pp[400];
	for (size_t i = 0; i < np; i++)
		pp[i] = paths[i];
	srand(12345);
	for (int iter = 0; iter < 3000; iter++) {
		struct path_rule r[6];
		size_t n = 1 + (size_t)(rand() % 6);
		for (size_t i = 0; i < n; i++) {
			char pat[48];
			const char *base = paths[rand() % 39]; /* depth 1..3 */
			int k = rand() % 3;
			snprintf(pat, sizeof(pat), "%s%s", base, k == 0 ? "" : k == 1 ? "/*" : "/**");
			r[i] = rule(pat, rand() % 2 ? ACCESS_RW : ACCESS_RO);
		}
		check_paths(r, n, pp, np);
	}
}

static void test_limits(void **state)
{
	(void)state;
	char err[512]; /* the message quotes a 252-byte path */
	struct path_rule r;
	memset(&r, 0, sizeof(r));
	r.pat.kind = PATHPAT_EXACT;
	r.pat.path[0] = '/';
	/* 252 bytes and no NUL in the buffer (sizeof path == CALYX_LPM_PATH_MAX): refused, and
	 * the message quotes exactly those bytes without reading past the array (ASan). */
	_Static_assert(sizeof(r.pat.path) == CALYX_LPM_PATH_MAX, "pathpat buffer size");
	memset(r.pat.path + 1, 'x', CALYX_LPM_PATH_MAX - 1);
	r.pat.kind = (enum pathpat_kind)0x41414141; /* "AAAA": shows if the message runs on */
	assert_int_equal(calyx_path_entries(&r, 1, ents, CAP, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "xxx': longer than the 251 bytes"));
	assert_null(strstr(err, "AAAA"));
	r.pat.kind = PATHPAT_EXACT;
	r.pat.path[CALYX_LPM_PATH_MAX - 1] = '\0'; /* strlen 251 fits */
	assert_int_equal(calyx_path_entries(&r, 1, ents, CAP, err, sizeof(err)), 2); /* and "/" */
	/* a path the kernel buffer cannot hold is denied even under a subtree rule */
	struct path_rule s = rule("/x/**", ACCESS_RW);
	int cnt = calyx_path_entries(&s, 1, ents, CAP, err, sizeof(err));
	char longp[CALYX_LPM_PATH_MAX + 8];
	memset(longp, 'y', sizeof(longp));
	memcpy(longp, "/x/", 3);
	longp[CALYX_LPM_PATH_MAX - 1] = '\0'; /* strlen 251: fits */
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, longp), CALYX_ACC_RW);
	longp[CALYX_LPM_PATH_MAX - 1] = 'y';
	longp[CALYX_LPM_PATH_MAX] = '\0'; /* strlen 252 */
	assert_int_equal(calyx_path_lookup(ents, (size_t)cnt, longp), CALYX_ACC_NONE);

	struct path_rule many[3] = { rule("/a", ACCESS_RO), rule("/b", ACCESS_RO), rule("/c/**", ACCESS_RO) };
	/* "/a", "/b", "/c/", "/c" and the ancestor "/" */
	assert_int_equal(calyx_path_entries(many, 3, ents, 4, err, sizeof(err)), -E2BIG);
	assert_int_equal(calyx_path_entries(many, 3, ents, 5, err, sizeof(err)), 5);
}

static void test_key_encoding(void **state)
{
	(void)state;
	struct path_rule r[] = { rule("/etc/hosts", ACCESS_RO), rule("/tmp/*", ACCESS_RW) };
	int cnt = build(r, 2);
	assert_int_equal(cnt, 5); /* the two rules, then "/", "/etc", "/tmp" */
	struct calyx_path_key k;
	calyx_path_key_of(&ents[0], 0x01020304, &k);
	assert_int_equal(k.prefixlen, 32 + 8 * (strlen("/etc/hosts") + 1));
	assert_memory_equal(k.sandbox_be, "\x01\x02\x03\x04", 4);
	assert_string_equal(k.path, "/etc/hosts");
	calyx_path_key_of(&ents[1], 7, &k);
	assert_int_equal(k.prefixlen, 32 + 8 * strlen("/tmp/"));
	assert_memory_equal(k.path, "/tmp/", 5);
	assert_int_equal(k.path[5], 0);
}

static void test_kernel_dev(void **state)
{
	(void)state;
	assert_int_equal(calyx_kernel_dev(makedev(8, 1)), (8u << 20) | 1u);
	assert_int_equal(calyx_kernel_dev(makedev(0, 300)), 300);
	assert_int_equal(calyx_kernel_dev(makedev(259, 70000)), (259ull << 20) | 70000ull);
}

/* The argv hash as calyx.h specifies it, written out independently: words of the argv
 * zero-padded to 64 bytes, little-endian, FNV-style mixing. */
static uint64_t reference_hash(const char *b, uint32_t len)
{
	uint8_t pad[CALYX_ARGV_MAX] = { 0 };
	memcpy(pad, b, len);
	uint32_t words = (len + 63) / 64 * 8;
	uint64_t h = (uint64_t)len ^ 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < words; i++) {
		uint64_t w;
		memcpy(&w, pad + 8 * i, 8);   /* x86-64: little-endian */
		h = (h ^ w) * 0x100000001b3ull;
	}
	return h;
}

static void test_argv_hash(void **state)
{
	(void)state;
	static const char a[] = "python3\0--version";   /* 18 bytes with the final NUL */
	assert_true(calyx_argv_hash(a, sizeof(a)) == reference_hash(a, sizeof(a)));
	/* The arguments' boundaries are part of the bytes: "sh -c" "x" differs from "sh" "-c" "x". */
	static const char b1[] = "sh -c\0x", b2[] = "sh\0-c\0x";
	assert_true(calyx_argv_hash(b1, sizeof(b1)) != calyx_argv_hash(b2, sizeof(b2)));
	/* The length is in the hash: a trailing zero byte is not padding. */
	assert_true(calyx_argv_hash(a, sizeof(a)) != calyx_argv_hash(a, sizeof(a) - 1));
	/* Across chunk boundaries and past 4 KiB. */
	char *big = malloc(CALYX_ARGV_MAX);
	assert_non_null(big);
	for (uint32_t i = 0; i < CALYX_ARGV_MAX; i++)
		big[i] = (char)(i * 7 + 1);
	for (uint32_t len = 1; len <= CALYX_ARGV_MAX; len += 509)
		assert_true(calyx_argv_hash(big, len) == reference_hash(big, len));
	assert_true(calyx_argv_hash(big, CALYX_ARGV_MAX) == reference_hash(big, CALYX_ARGV_MAX));
	uint64_t h = calyx_argv_hash(big, 5000);
	big[4999] ^= 1;
	assert_true(calyx_argv_hash(big, 5000) != h);
	free(big);
}

static void test_argv_entry(void **state)
{
	(void)state;
	struct argv_rule *a = calloc(1, sizeof(*a));
	struct calyx_argv_val *v = malloc(sizeof(*v));
	assert_non_null(a);
	assert_non_null(v);
	memset(v, 0xff, sizeof(*v));
	memcpy(a->bytes, "git\0status", 11);
	a->len = 11;
	a->dev = makedev(8, 1);
	a->ino = 42;
	struct calyx_argv_key k;
	char err[256];
	assert_int_equal(calyx_argv_entry(a, 7, &k, v, err, sizeof(err)), 0);
	assert_int_equal(k.sandbox, 7);
	assert_int_equal(k.len, 11);
	assert_true(k.dev == ((8u << 20) | 1u));
	assert_true(k.ino == 42);
	assert_true(k.hash == reference_hash("git\0status", 11));
	assert_memory_equal(v->argv, "git\0status", 11);
	for (size_t i = 11; i < sizeof(v->argv); i++)   /* the kernel compares masked words; zero anyway */
		assert_int_equal(v->argv[i], 0);
	a->len = 0;
	assert_int_equal(calyx_argv_entry(a, 7, &k, v, err, sizeof(err)), -E2BIG);
	a->len = CALYX_ARGV_MAX + 1;
	assert_int_equal(calyx_argv_entry(a, 7, &k, v, err, sizeof(err)), -E2BIG);
	free(a);
	free(v);
}

static void test_exec_entry_flags(void **state)
{
	(void)state;
	struct calyx_exec_key k;
	struct calyx_exec_val v;
	char err[256];
	assert_int_equal(calyx_exec_entry(makedev(8, 1), 5, "/usr/bin/grep", CALYX_EXEC_ANY_ARGV, 3, &k, &v, err,
					  sizeof(err)), 0);
	assert_int_equal(v.flags, CALYX_EXEC_ANY_ARGV);
	assert_string_equal(v.path, "/usr/bin/grep");
	assert_int_equal(calyx_exec_entry(makedev(8, 1), 5, "/usr/bin/git", 0, 3, &k, &v, err, sizeof(err)), 0);
	assert_int_equal(v.flags, 0);
}

/* The kernel's matcher over struct calyx_net_rules (bpf/netrule.bpf.h net_rule_admits),
 * word for word: the destination in IPv6 form, IPv4 as ::ffff:a.b.c.d. */
static bool kernel_admits(const struct calyx_net_rules *rs, const uint8_t a16[16], uint16_t port, uint8_t proto)
{
	uint32_t a[4];
	memcpy(a, a16, 16);
	bool v4 = a[0] == 0 && a[1] == 0 && a[2] == 0xffff0000u;
	for (uint32_t i = 0; i < rs->n && i < CALYX_SB_MAX_NET_RULES; i++) {
		const struct calyx_net_rule *r = &rs->r[i];
		if ((r->family == 4) != v4 || r->proto != proto || (r->port && r->port != port))
			continue;
		if ((a[0] & r->mask[0]) == r->addr[0] && (a[1] & r->mask[1]) == r->addr[1] &&
		    (a[2] & r->mask[2]) == r->addr[2] && (a[3] & r->mask[3]) == r->addr[3])
			return true;
	}
	return false;
}

/* The encoding admits exactly what netrule_admits says, for destinations inside, at the
 * edges of and beside each rule, IPv4, IPv4-mapped and IPv6, both protocols. */
static void test_net_rules(void **state)
{
	(void)state;
	const char *texts[] = { "10.0.0.0/8:443/tcp", "192.168.1.128/25:*/udp", "127.0.0.1:8080",
				"[2001:db8::/32]:53/udp", "[::1]:*", "[::/0]:22", "0.0.0.0/0:25" };
	struct net_rule rules[7];
	for (int i = 0; i < 7; i++)
		assert_int_equal(netrule_parse(texts[i], &rules[i], NULL, 0), 0);
	struct calyx_net_rules rs;
	assert_int_equal(calyx_net_rules_of(rules, 7, &rs, NULL, 0), 0);
	assert_int_equal(rs.n, 7);
	/* an IPv4 rule is ::ffff:a.b.c.d with its mask 96 bits wider */
	assert_int_equal(rs.r[0].family, 4);
	assert_memory_equal(rs.r[0].addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\0\0\0", 16);
	assert_memory_equal(rs.r[0].mask, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0", 16);
	const char *dests[] = { "10.0.0.0", "10.255.255.255", "11.0.0.0", "9.255.255.255", "192.168.1.127",
				"192.168.1.128", "192.168.1.255", "127.0.0.1", "127.0.0.2", "8.8.8.8",
				"2001:db8::1", "2001:db9::", "2001:db7:ffff::", "::1", "::2", "::ffff:10.1.2.3",
				"::ffff:127.0.0.1", "fe80::1", "::" };
	const uint16_t ports[] = { 22, 25, 53, 443, 8080, 1 };
	const uint8_t protos[] = { NETRULE_TCP, NETRULE_UDP };
	unsigned admitted = 0;
	for (size_t d = 0; d < sizeof dests / sizeof dests[0]; d++) {
		uint8_t a[16] = { 0 }, b4[4];
		int fam = NETRULE_V6;
		if (inet_pton(AF_INET, dests[d], b4) == 1) {
			a[10] = a[11] = 0xff;
			memcpy(a + 12, b4, 4);
			fam = NETRULE_V4;
		} else {
			assert_int_equal(inet_pton(AF_INET6, dests[d], a), 1);
		}
		for (size_t p = 0; p < sizeof ports / sizeof ports[0]; p++)
			for (size_t q = 0; q < 2; q++) {
				bool want = false;
				for (int i = 0; i < 7; i++)
					want |= fam == NETRULE_V4 ? netrule_admits(&rules[i], NETRULE_V4, a + 12, ports[p], protos[q])
								  : netrule_admits(&rules[i], NETRULE_V6, a, ports[p], protos[q]);
				if (kernel_admits(&rs, a, ports[p], protos[q]) != want)
					fail_msg("%s port %u proto %u: encoding says %d, netrule_admits %d", dests[d],
						 ports[p], protos[q], !want, want);
				admitted += want;
			}
	}
	assert_true(admitted > 20);   /* the table really exercises admissions, not only refusals */
	/* too many rules: refused, nothing half-written */
	struct net_rule many[CALYX_SB_MAX_NET_RULES + 1];
	memset(many, 0, sizeof many);
	char err[128] = "";
	assert_int_equal(calyx_net_rules_of(many, CALYX_SB_MAX_NET_RULES + 1, &rs, err, sizeof err), -E2BIG);
	assert_string_equal(err, "more than 16 network allow rules");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_no_prefix_confusion),
		cmocka_unit_test(test_children),
		cmocka_unit_test(test_subtree_includes_dir_itself),
		cmocka_unit_test(test_shared_dir_key_children_and_subtree),
		cmocka_unit_test(test_longer_rule_keeps_shorter_grants),
		cmocka_unit_test(test_random_rule_sets_match_pathpat),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_key_encoding),
		cmocka_unit_test(test_kernel_dev),
		cmocka_unit_test(test_argv_hash),
		cmocka_unit_test(test_argv_entry),
		cmocka_unit_test(test_exec_entry_flags),
		cmocka_unit_test(test_net_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
