/* links: state/recovery state/state state/artifacts state/runmeta audit/svf audit/auditlog audit/verify audit/checkpoint audit/auditkey base/paserk base/b64url audit/svf_record audit/completion sentinel/events sentinel/jsonfmt base/safedir base/errmsg base/fileio base/units */
/* A runner record: locked for the runner's life, while the records' directory lock is
 * only held for the write (a live runner must not block other runs' sweeps). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "state/recovery.h"

#define TMPDIR_NAME "calyx-recovery"
#include "tmpdir.h"

static void test_record_locks(void **state)
{
	(void)state;
	struct state_place sp = { .fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	snprintf(sp.path, sizeof(sp.path), "%s", dir);
	assert_true(sp.fd >= 0);
	char *argv[] = { (char *)"/bin/true", NULL };
	struct run_record rec = { .lease = "LEASE-20261202-000000-abcd", .intent = "INT-T", .run = 1,
				  .runs_allowed = 1, .run_dir = "LEASE-20261202-000000-abcd",
				  .run_dir_tmp = ".LEASE-20261202-000000-abcd.tmp-1", .argv = argv, .argc = 1,
				  .binary = "/bin/true", .backend = "landlock", .cgroup = "/x" };
	struct run_record_lock rl = { .fd = -1, .dirfd = -1 };
	char err[512], p[256];
	assert_int_equal(recovery_record_write(&sp, &rec, &rl, err, sizeof(err)), 0);
	/* Another process can take the directory lock at once (a sweep, another record)... */
	snprintf(p, sizeof(p), "%s/run", dir);
	int d = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(d >= 0);
	assert_int_equal(flock(d, LOCK_EX | LOCK_NB), 0);
	close(d);
	/* ...but not the record's, which the runner holds. */
	snprintf(p, sizeof(p), "%s/run/%s.json", dir, rec.run_dir);
	int f = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(f >= 0);
	assert_int_equal(flock(f, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	close(f);
	/* Released without keep: the record is gone. */
	recovery_record_release(&rl, false);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(rl.fd, -1);
	assert_int_equal(rl.dirfd, -1);
	recovery_record_release(&rl, false);   /* idempotent */
	/* A symlink in place of the records' directory is not followed. */
	snprintf(p, sizeof(p), "%s/run", dir);
	char moved[300];
	snprintf(moved, sizeof(moved), "%s/run-moved", dir);
	assert_int_equal(rename(p, moved), 0);
	assert_int_equal(symlink(moved, p), 0);
	assert_true(recovery_record_write(&sp, &rec, &rl, err, sizeof(err)) < 0);
	assert_int_equal(rl.fd, -1);
	state_place_close(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_locks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
