/* links: state/artifacts base/safedir base/errmsg base/fileio */
#include <dirent.h>
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

#include "state/artifacts.h"

#define TMPDIR_NAME "test_artifacts"
#include "tmpdir.h"

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_atomic(void **state)
{
	(void)state;
	char err[256], buf[64] = {0};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(artifact_write_atomic(dfd, "meta.json", "{\"a\":1}\n", 8, 0640, err, sizeof(err)), 0);
	/* Overwrite replaces the content in one step and leaves no temp files behind. */
	assert_int_equal(artifact_write_atomic(dfd, "meta.json", "{}\n", 3, 0640, err, sizeof(err)), 0);
	int fd = openat(dfd, "meta.json", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "{}\n");
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	close(fd);
	assert_int_equal(count_entries(dir), 1);
	/* Names with a slash are refused: artifacts never escape their directory. */
	assert_int_equal(artifact_write_atomic(dfd, "../x", "x", 1, 0640, err, sizeof(err)), -EINVAL);
	close(dfd);
}

static void test_write_atomic_failure_leaves_nothing(void **state)
{
	(void)state;
	char err[256];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* Target is a directory: rename fails, the temp file must be gone. */
	assert_int_equal(mkdirat(dfd, "exit_code.txt", 0755), 0);
	int rc = artifact_write_atomic(dfd, "exit_code.txt", "0\n", 2, 0640, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, "exit_code.txt"));
	assert_int_equal(count_entries(dir), 1);
	close(dfd);
}

static void test_hash(void **state)
{
	(void)state;
	char hex[ARTIFACT_HASH_HEX + 1], want[65], err[256];
	uint64_t bytes = 0;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* BLAKE2b-256("abc"), from RFC 7693's reference implementation with outlen 32. */
	assert_int_equal(artifact_write_atomic(dfd, "f", "abc", 3, 0640, err, sizeof(err)), 0);
	assert_int_equal(artifact_hash_file(dfd, "f", hex, &bytes), 0);
	assert_int_equal(bytes, 3);
	assert_string_equal(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
	/* Larger than one read chunk, compared with the one-shot API. */
	size_t n = 200000;
	unsigned char *big = malloc(n), dig[32];
	for (size_t i = 0; i < n; i++)
		big[i] = (unsigned char)(i * 7);
	assert_int_equal(artifact_write_atomic(dfd, "big", big, n, 0640, err, sizeof(err)), 0);
	crypto_generichash(dig, 32, big, n, NULL, 0);
	sodium_bin2hex(want, sizeof(want), dig, 32);
	assert_int_equal(artifact_hash_file(dfd, "big", hex, &bytes), 0);
	assert_int_equal(bytes, n);
	assert_string_equal(hex, want);
	/* Empty file */
	assert_int_equal(artifact_write_atomic(dfd, "empty", "", 0, 0640, err, sizeof(err)), 0);
	assert_int_equal(artifact_hash_file(dfd, "empty", hex, &bytes), 0);
	assert_int_equal(bytes, 0);
	assert_string_equal(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
	assert_int_equal(artifact_hash_file(dfd, "missing", hex, &bytes), -ENOENT);
	free(big);
	close(dfd);
}

static void test_capped_log(void **state)
{
	(void)state;
	char path[128], buf[32] = {0};
	snprintf(path, sizeof(path), "%s/stdout.log", dir);
	struct capped_log c = { .fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640), .cap = 10 };
	assert_true(c.fd >= 0);
	assert_int_equal(capped_log_write(&c, "hello", 5), 0);
	assert_false(c.truncated);
	assert_int_equal(capped_log_write(&c, "world", 5), 0);
	assert_false(c.truncated);   /* exactly at the cap is not a truncation */
	assert_int_equal(capped_log_write(&c, "!!", 2), 0);
	assert_true(c.truncated);
	assert_int_equal(capped_log_write(&c, "more", 4), 0);
	assert_int_equal(c.written, 10);
	assert_int_equal(c.seen, 16);
	close(c.fd);
	int fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "helloworld");
	close(fd);

	/* A write straddling the cap keeps the part that fits. */
	struct capped_log d = { .fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), .cap = 3 };
	assert_int_equal(capped_log_write(&d, "abcdef", 6), 0);
	assert_true(d.truncated);
	assert_int_equal(d.written, 3);
	close(d.fd);
}

static void test_run_dir(void **state)
{
	(void)state;
	char err[256], path[160];
	struct run_dir rd;
	/* The runs directory is named beneath a directory fd: dir is /tmp/NAME. */
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(tmp >= 0);
	const char *rel = dir + strlen("/tmp/");
	assert_int_equal(run_dir_create(tmp, rel, "LEASE-20261105-101112-abcd", &rd, err, sizeof(err)), 0);
	/* While running, only the hidden temp dir exists. */
	snprintf(path, sizeof(path), "%s/LEASE-20261105-101112-abcd", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(artifact_write_atomic(rd.fd, "meta.json", "{}", 2, 0640, err, sizeof(err)), 0);
	assert_int_equal(run_dir_commit(&rd, err, sizeof(err)), 0);
	run_dir_close(&rd);
	snprintf(path, sizeof(path), "%s/LEASE-20261105-101112-abcd/meta.json", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(count_entries(dir), 1);

	/* A second run with the same name never replaces the first. */
	assert_int_equal(run_dir_create(tmp, rel, "LEASE-20261105-101112-abcd", &rd, err, sizeof(err)), -EEXIST);
	run_dir_close(&rd);
	assert_int_equal(run_dir_create(tmp, rel, "../escape", &rd, err, sizeof(err)), -EINVAL);
	run_dir_close(&rd);
	assert_int_equal(run_dir_create(tmp, rel, ".hidden", &rd, err, sizeof(err)), -EINVAL);
	run_dir_close(&rd);

	/* Commit refuses to replace a directory that appeared meanwhile. */
	assert_int_equal(run_dir_create(tmp, rel, "LEASE-X-r2", &rd, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/LEASE-X-r2", dir);
	assert_int_equal(mkdir(path, 0750), 0);
	assert_int_equal(run_dir_commit(&rd, err, sizeof(err)), -EEXIST);
	run_dir_close(&rd);

	/* A symlink in place of the runs directory is not followed. */
	char link[200];
	snprintf(link, sizeof(link), "%s-link", dir);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(run_dir_create(tmp, link + strlen("/tmp/"), "LEASE-X-r3", &rd, err, sizeof(err)), -ELOOP);
	run_dir_close(&rd);
	unlink(link);
	close(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_failure_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capped_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
