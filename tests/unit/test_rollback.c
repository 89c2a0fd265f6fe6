/* links: rollback/manifest rollback/diff rollback/snapshot rollback/pack rollback/archive_lib rollback/restore base/errmsg base/safedir */
/* Rollback packs: the manifest's JSON form and its refusals, the created/modified/deleted
 * lists, a snapshot + pack + restore round trip that must give back the tree exactly
 * (contents, modes, mtimes, a symlink, a fifo, a subdirectory, a deleted file, a created
 * one, a file turned into a directory), the byte cap, and hostile packs crafted with libarchive
 * (absolute names, "..", a member beneath a symlink member, a member outside the roots, a
 * hard link, contents that differ from the manifest), each refused. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "rollback/diff.h"
#include "rollback/manifest.h"
#include "rollback/pack.h"
#include "rollback/restore.h"
#include "rollback/snapshot.h"

#define TMPDIR_NAME "test_rollback"
#include "tmpdir.h"

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static struct rb_entry *add(struct rb_manifest *m, const char *path, enum rb_type t)
{
	struct rb_entry *e = rb_manifest_add(m, path);
	assert_non_null(e);
	e->type = t;
	e->mode = t == RB_DIR ? 0755 : 0644;
	if (t == RB_FILE || t == RB_SYMLINK)
		memset(e->hash, 'a', RB_HASH_HEX);
	return e;
}

static void test_json_round_trip(void **state)
{
	(void)state;
	struct rb_manifest m, back;
	char err[256];
	rb_manifest_init(&m);
	assert_int_equal(rb_manifest_add_root(&m, "/srv/out"), 0);
	add(&m, "/srv/out", RB_DIR);
	struct rb_entry *f = add(&m, "/srv/out/a", RB_FILE);
	f->mode = 04755;
	f->uid = 1000;
	f->gid = 100;
	f->size = 3;
	f->mtime_s = 1700000000;
	f->mtime_ns = 123456789;
	struct rb_entry *l = add(&m, "/srv/out/l", RB_SYMLINK);
	l->target = strdup("a");
	l->size = 1;
	struct rb_entry *c = add(&m, "/srv/out/null", RB_CHR);
	c->rdev = 0x103;
	rb_manifest_sort(&m);
	cJSON *j = rb_manifest_to_json(&m);
	assert_non_null(j);
	assert_int_equal(rb_manifest_from_json(j, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n, 4);
	const struct rb_entry *g = rb_manifest_find(&back, "/srv/out/a");
	assert_non_null(g);
	assert_null(rb_entry_differs(f, g, true));
	assert_int_equal(g->mode, 04755);
	assert_string_equal(rb_manifest_find(&back, "/srv/out/l")->target, "a");
	assert_int_equal(rb_manifest_find(&back, "/srv/out/null")->rdev, 0x103);
	cJSON_Delete(j);
	rb_manifest_free(&back);
	rb_manifest_free(&m);
}

/* A manifest text with one entry changed by the caller. */
static int parse_with(const char *entries, char *err, size_t errlen)
{
	char txt[2048];
	snprintf(txt, sizeof(txt),
		 "{\"schema\":1,\"roots\":[\"/srv/out\"],\"bytes\":0,\"entries\":["
		 "{\"path\":\"/srv/out\",\"type\":\"dir\",\"mode\":\"0755\",\"uid\":0,\"gid\":0,\"size\":0,"
		 "\"mtime_s\":1,\"mtime_ns\":0}%s]}", entries);
	cJSON *j = cJSON_Parse(txt);
	assert_non_null(j);
	struct rb_manifest m;
	int rc = rb_manifest_from_json(j, &m, err, errlen);
	rb_manifest_free(&m);
	cJSON_Delete(j);
	return rc;
}

#define LINK_A ",{\"path\":\"/srv/out/a\",\"type\":\"symlink\",\"mode\":\"0777\",\"uid\":0,\"gid\":0,\"size\":4," \
	       "\"mtime_s\":1,\"mtime_ns\":0,\"target\":\"/etc\",\"blake2b\":\"" \
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"
#define FILE_AT(p) ",{\"path\":\"" p "\",\"type\":\"file\",\"mode\":\"0644\",\"uid\":0,\"gid\":0,\"size\":0," \
		   "\"mtime_s\":1,\"mtime_ns\":0,\"blake2b\":\"" \
		   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}"

static void test_manifest_refusals(void **state)
{
	(void)state;
	char err[256];
	assert_int_equal(parse_with(LINK_A FILE_AT("/srv/out/b"), err, sizeof(err)), 0);
	assert_int_equal(parse_with(LINK_A FILE_AT("/srv/out/a/passwd"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "its parent is symlink"));
	assert_int_equal(parse_with(FILE_AT("/etc/passwd"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "outside the snapshotted paths"));
	assert_int_equal(parse_with(FILE_AT("/srv/out/../x"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an absolute canonical path"));
	assert_int_equal(parse_with(FILE_AT("srv/out/x"), err, sizeof(err)), -EINVAL);
	assert_int_equal(parse_with(FILE_AT("/srv/out/b") FILE_AT("/srv/out/b"), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
}

static void expect_list(const cJSON *d, const char *k, const char *const *want, size_t n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(d, k);
	assert_int_equal(cJSON_GetArraySize(a), (int)n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(a, (int)i)), want[i]);
}

static void test_diff(void **state)
{
	(void)state;
	struct rb_manifest a, b;
	rb_manifest_init(&a);
	rb_manifest_init(&b);
	add(&a, "/r", RB_DIR);
	add(&a, "/r/keep", RB_FILE);
	add(&a, "/r/gone", RB_FILE);
	add(&a, "/r/chmod", RB_FILE);
	add(&a, "/r/text", RB_FILE);
	add(&a, "/new", RB_ABSENT);
	add(&b, "/r", RB_DIR)->mtime_s = 99;   /* an mtime alone is no modification */
	add(&b, "/r/keep", RB_FILE);
	add(&b, "/r/chmod", RB_FILE)->mode = 0600;
	memset(add(&b, "/r/text", RB_FILE)->hash, 'c', RB_HASH_HEX);
	add(&b, "/r/made", RB_FILE);
	add(&b, "/new", RB_DIR);
	rb_manifest_sort(&a);
	rb_manifest_sort(&b);
	cJSON *d = rb_manifest_diff(&a, &b);
	assert_non_null(d);
	expect_list(d, "created", (const char *const[]){ "/new", "/r/made" }, 2);
	expect_list(d, "modified", (const char *const[]){ "/r/chmod", "/r/text" }, 2);
	expect_list(d, "deleted", (const char *const[]){ "/r/gone" }, 1);
	cJSON_Delete(d);
	const char *why;
	assert_string_equal(rb_manifest_first_difference(&a, &b, &why), "/new");
	assert_string_equal(why, "new");
	assert_null(rb_manifest_first_difference(&a, &a, &why));
	rb_manifest_free(&a);
	rb_manifest_free(&b);
}

static void test_roots(void **state)
{
	(void)state;
	struct rb_manifest m;
	char err[256];
	rb_manifest_init(&m);
	const char *paths[] = { "/srv/out/", "/srv/out/sub/", "/tmp/x", "/srv/out/" };
	assert_int_equal(rb_roots_add(&m, paths, 4, err, sizeof(err)), 0);
	assert_int_equal(m.n_roots, 2);
	assert_string_equal(m.roots[0], "/srv/out");
	assert_string_equal(m.roots[1], "/tmp/x");
	const char *slash[] = { "/" };
	assert_int_equal(rb_roots_add(&m, slash, 1, err, sizeof(err)), -EINVAL);
	rb_manifest_free(&m);
}

/* The tree every round trip starts from, under dir/tree. */
static void make_tree(char *root, size_t len)
{
	snprintf(root, len, "%s/tree", dir);
	char p[256];
	assert_int_equal(mkdir(root, 0750), 0);
	snprintf(p, sizeof(p), "%s/keep.txt", root);
	put(p, "keep me\n", 0644);
	snprintf(p, sizeof(p), "%s/secret", root);
	put(p, "0600 contents", 0600);
	snprintf(p, sizeof(p), "%s/tool.sh", root);
	put(p, "#!/bin/sh\necho hi\n", 0755);
	snprintf(p, sizeof(p), "%s/empty", root);
	put(p, "", 0640);
	snprintf(p, sizeof(p), "%s/link", root);
	assert_int_equal(symlink("keep.txt", p), 0);
	snprintf(p, sizeof(p), "%s/pipe", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(chmod(p, 0620), 0);
	snprintf(p, sizeof(p), "%s/sub", root);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/sub/deep.txt", root);
	put(p, "deep\n", 0444);
	struct timespec ts[2] = { { 1600000000, 5 }, { 1600000000, 5 } };
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static int run_dir_fd(void)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/run", dir);
	mkdir(p, 0750);
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static void snapshot_pack(struct rb_manifest *m, const char *root, int rfd)
{
	char err[512];
	rb_manifest_init(m);
	assert_int_equal(rb_manifest_add_root(m, root), 0);
	struct rb_pack_writer *w;
	unlinkat(rfd, RB_PACK_NAME, 0);
	assert_int_equal(rb_pack_create(rfd, RB_PACK_NAME, &w, err, sizeof(err)), 0);
	int rc = rb_snapshot(m, RB_SNAP_HASH, 0, rb_pack_sink(w), err, sizeof(err));
	if (rc)
		fail_msg("snapshot: %s", err);
	assert_int_equal(rb_pack_finish(w, err, sizeof(err)), 0);
}

static void snapshot(struct rb_manifest *m, const char *root)
{
	char err[512];
	rb_manifest_init(m);
	assert_int_equal(rb_manifest_add_root(m, root), 0);
	int rc = rb_snapshot(m, RB_SNAP_HASH, 0, NULL, err, sizeof(err));
	if (rc)
		fail_msg("snapshot: %s", err);
}

static void test_round_trip(void **state)
{
	(void)state;
	char root[128], p[256], err[512];
	make_tree(root, sizeof(root));
	int rfd = run_dir_fd();
	struct rb_manifest pre, cur, after;
	snapshot_pack(&pre, root, rfd);
	assert_int_equal(pre.n, 9);
	assert_int_equal(pre.bytes, 8 + 13 + 18 + 0 + 5 + strlen("keep.txt"));
	snprintf(p, sizeof(p), "%s/link", root);
	const struct rb_entry *l = rb_manifest_find(&pre, p);
	assert_non_null(l);
	assert_int_equal(l->type, RB_SYMLINK);
	assert_string_equal(l->target, "keep.txt");
	assert_int_equal(rb_pack_verify(rfd, RB_PACK_NAME, &pre, err, sizeof(err)), 0);

	/* What a run does: rewrite, delete, create, chmod, a file turned into a directory,
	 * a symlink retargeted out of the tree, a new subdirectory with a file in it. */
	snprintf(p, sizeof(p), "%s/keep.txt", root);
	put(p, "rewritten entirely\n", 0644);
	snprintf(p, sizeof(p), "%s/sub/deep.txt", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/created", root);
	put(p, "new", 0600);
	snprintf(p, sizeof(p), "%s/tool.sh", root);
	assert_int_equal(chmod(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/empty", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/empty/inside", root);
	put(p, "x", 0644);
	snprintf(p, sizeof(p), "%s/link", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	snprintf(p, sizeof(p), "%s/pipe", root);
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/newdir", root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/newdir/f", root);
	put(p, "f", 0644);

	snapshot(&cur, root);
	cJSON *d = rb_manifest_diff(&pre, &cur);
	char e1[256], e2[256], e3[256], e4[256], m1[256], m2[256], m3[256], m4[256], x1[256], x2[256];
	snprintf(e1, sizeof(e1), "%s/created", root);
	snprintf(e2, sizeof(e2), "%s/empty/inside", root);
	snprintf(e3, sizeof(e3), "%s/newdir", root);
	snprintf(e4, sizeof(e4), "%s/newdir/f", root);
	snprintf(m1, sizeof(m1), "%s/empty", root);
	snprintf(m2, sizeof(m2), "%s/keep.txt", root);
	snprintf(m3, sizeof(m3), "%s/link", root);
	snprintf(m4, sizeof(m4), "%s/tool.sh", root);
	snprintf(x1, sizeof(x1), "%s/pipe", root);
	snprintf(x2, sizeof(x2), "%s/sub/deep.txt", root);
	expect_list(d, "created", (const char *const[]){ e1, e2, e3, e4 }, 4);
	expect_list(d, "modified", (const char *const[]){ m1, m2, m3, m4 }, 4);
	expect_list(d, "deleted", (const char *const[]){ x1, x2 }, 2);
	cJSON_Delete(d);

	if (rb_restore(rfd, RB_PACK_NAME, &pre, &cur, err, sizeof(err)) < 0)
		fail_msg("restore: %s", err);
	snapshot(&after, root);
	const char *why = NULL;
	const char *diff = rb_manifest_first_difference(&pre, &after, &why);
	if (diff)
		fail_msg("after the restore %s differs: %s", diff, why);
	/* The bytes themselves, not only their hash. */
	char buf[64] = "";
	snprintf(p, sizeof(p), "%s/keep.txt", root);
	int fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8);
	close(fd);
	assert_string_equal(buf, "keep me\n");
	struct stat st;
	snprintf(p, sizeof(p), "%s/sub/deep.txt", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(st.st_mtim.tv_sec, 1600000000);
	assert_int_equal(st.st_mtim.tv_nsec, 5);
	snprintf(p, sizeof(p), "%s/pipe", root);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0620);
	rb_manifest_free(&pre);
	rb_manifest_free(&cur);
	rb_manifest_free(&after);
	close(rfd);
	snprintf(p, sizeof(p), "rm -rf '%s' '%s/run'", root, dir);
	assert_int_equal(system(p), 0);
}

static void test_absent_root(void **state)
{
	(void)state;
	char root[128], p[256], err[512];
	snprintf(root, sizeof(root), "%s/notyet", dir);
	int rfd = run_dir_fd();
	struct rb_manifest pre, cur, after;
	snapshot_pack(&pre, root, rfd);
	assert_int_equal(pre.n, 1);
	assert_int_equal(pre.e[0].type, RB_ABSENT);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(p, sizeof(p), "%s/out.txt", root);
	put(p, "made by the run", 0644);
	snapshot(&cur, root);
	assert_int_equal(rb_pack_verify(rfd, RB_PACK_NAME, &pre, err, sizeof(err)), 0);
	assert_int_equal(rb_restore(rfd, RB_PACK_NAME, &pre, &cur, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(lstat(root, &st), -1);
	assert_int_equal(errno, ENOENT);
	snapshot(&after, root);
	assert_null(rb_manifest_first_difference(&pre, &after, NULL));
	rb_manifest_free(&pre);
	rb_manifest_free(&cur);
	rb_manifest_free(&after);
	close(rfd);
}

static void test_cap(void **state)
{
	(void)state;
	char root[128], err[512];
	make_tree(root, sizeof(root));
	struct rb_manifest m;
	rb_manifest_init(&m);
	assert_int_equal(rb_manifest_add_root(&m, root), 0);
	/* The measure walks everything and says how much. */
	assert_int_equal(rb_snapshot(&m, 0, 10, NULL, err, sizeof(err)), 0);
	assert_int_equal(m.bytes, 52);
	assert_int_equal(m.root_bytes[0], 52);
	rb_manifest_free(&m);
	rb_manifest_init(&m);
	assert_int_equal(rb_manifest_add_root(&m, root), 0);
	assert_int_equal(rb_snapshot(&m, RB_SNAP_HASH, 51, NULL, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "more than 51 bytes"));
	rb_manifest_free(&m);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* ---- hostile packs ---- */

struct member {
	const char *name;
	mode_t type;
	const char *target;    /* symlink target, or hard link source */
	const char *data;
};

static void craft(int rfd, const struct member *ms, size_t n)
{
	unlinkat(rfd, RB_PACK_NAME, 0);
	int fd = openat(rfd, RB_PACK_NAME, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	struct archive *a = archive_write_new();
	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ms[i].name);
		archive_entry_set_filetype(e, ms[i].type == 1 ? AE_IFREG : ms[i].type);
		archive_entry_set_perm(e, 0644);
		if (ms[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, ms[i].target);
		if (ms[i].type == 1)
			archive_entry_set_hardlink(e, ms[i].target);
		size_t len = ms[i].data ? strlen(ms[i].data) : 0;
		archive_entry_set_size(e, (la_int64_t)len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(a, ms[i].data, len), (la_ssize_t)len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	close(fd);
}

static void hash_of(const char *s, char hex[RB_HASH_HEX + 1])
{
	unsigned char h[crypto_generichash_BYTES];
	crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s), NULL, 0);
	sodium_bin2hex(hex, RB_HASH_HEX + 1, h, sizeof(h));
}

/* The manifest the hostile packs are checked against: /srv/out (a dir) holding a
 * symlink a -> /etc and a file f with "ok". */
static void hostile_manifest(struct rb_manifest *m)
{
	rb_manifest_init(m);
	assert_int_equal(rb_manifest_add_root(m, "/srv/out"), 0);
	add(m, "/srv/out", RB_DIR);
	struct rb_entry *l = add(m, "/srv/out/a", RB_SYMLINK);
	l->target = strdup("/etc");
	l->size = 4;
	hash_of("/etc", l->hash);
	struct rb_entry *f = add(m, "/srv/out/f", RB_FILE);
	f->size = 2;
	hash_of("ok", f->hash);
	rb_manifest_sort(m);
}

static void expect_refused(const struct member *ms, size_t n, const char *why)
{
	char err[512] = "";
	struct rb_manifest m;
	hostile_manifest(&m);
	int rfd = run_dir_fd();
	craft(rfd, ms, n);
	int rc = rb_pack_verify(rfd, RB_PACK_NAME, &m, err, sizeof(err));
	if (rc != -EINVAL || !strstr(err, why))
		fail_msg("expected -EINVAL with '%s', got %d: %s", why, rc, err);
	close(rfd);
	rb_manifest_free(&m);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_hostile_packs(void **state)
{
	(void)state;
	static const struct member good[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/a", AE_IFLNK, "/etc", NULL },
		{ "srv/out/f", AE_IFREG, NULL, "ok" },
	};
	char err[512];
	struct rb_manifest m;
	hostile_manifest(&m);
	int rfd = run_dir_fd();
	craft(rfd, good, N(good));
	if (rb_pack_verify(rfd, RB_PACK_NAME, &m, err, sizeof(err)) != 0)
		fail_msg("the honest pack: %s", err);
	close(rfd);
	rb_manifest_free(&m);

	static const struct member abs_name[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "/etc/cron.d/x", AE_IFREG, NULL, "ok" },
	};
	expect_refused(abs_name, N(abs_name), "absolute name");
	static const struct member dotdot[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/../../etc/x", AE_IFREG, NULL, "ok" },
	};
	expect_refused(dotdot, N(dotdot), "'..' component");
	static const struct member lead_dotdot[] = {
		{ "../x", AE_IFREG, NULL, "ok" },
	};
	expect_refused(lead_dotdot, N(lead_dotdot), "'..' component");
	static const struct member through_link[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/a", AE_IFLNK, "/etc", NULL },
		{ "srv/out/a/passwd", AE_IFREG, NULL, "root::0:0::/:/bin/sh\n" },
	};
	expect_refused(through_link, N(through_link), "beneath the symlink member 'srv/out/a'");
	static const struct member outside[] = {
		{ "srv/other", AE_IFREG, NULL, "ok" },
	};
	expect_refused(outside, N(outside), "outside the snapshotted paths");
	static const struct member hard[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/f", 1, "etc/shadow", NULL },
	};
	expect_refused(hard, N(hard), "hard link");
	static const struct member changed[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/a", AE_IFLNK, "/etc", NULL },
		{ "srv/out/f", AE_IFREG, NULL, "no" },
	};
	expect_refused(changed, N(changed), "differ from the manifest's hash");
	static const struct member retarget[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/a", AE_IFLNK, "/root", NULL },
		{ "srv/out/f", AE_IFREG, NULL, "ok" },
	};
	expect_refused(retarget, N(retarget), "target differs");
	static const struct member missing[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/a", AE_IFLNK, "/etc", NULL },
	};
	expect_refused(missing, N(missing), "the pack lacks");
	static const struct member twice[] = {
		{ "srv/out/", AE_IFDIR, NULL, NULL },
		{ "srv/out/f", AE_IFREG, NULL, "ok" },
		{ "srv/out/f", AE_IFREG, NULL, "ok" },
	};
	expect_refused(twice, N(twice), "twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_manifest_refusals),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_roots),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_absent_root),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_hostile_packs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
