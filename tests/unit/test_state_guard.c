/* links: state/guard policy/pathpat base/errmsg */
/* The overlap guard: lease paths at, in or above the state dir or the ledger are refused,
 * through symlinks and bind mounts too; paths beside them are not. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "state/guard.h"

#define TMPDIR_NAME "calyx-guard"
#include "tmpdir.h"

static struct guard_place places[2];
static char state_path[128], ledger_path[128];

static void mkd(const char *rel)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(mkdir(p, 0750), 0);
}

static int group_setup(void **state)
{
	if (setup(state))
		return -1;
	mkd("state");
	mkd("state/logs");
	mkd("ledger");
	mkd("work");
	mkd("state-other");
	char p[256], t[256];
	snprintf(p, sizeof(p), "%s/work/link", dir);
	if (symlink("../state", p) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/work/link2", dir);
	snprintf(t, sizeof(t), "%s/ledger", dir);
	if (symlink(t, p) < 0)
		return -1;
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(ledger_path, sizeof(ledger_path), "%s/ledger", dir);
	places[0] = (struct guard_place){ "state dir", state_path, open(state_path, O_PATH | O_CLOEXEC) };
	places[1] = (struct guard_place){ "ledger", ledger_path, open(ledger_path, O_PATH | O_CLOEXEC) };
	return places[0].fd < 0 || places[1].fd < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
	close(places[0].fd);
	close(places[1].fd);
	return teardown(state);
}

/* pattern: "%s" is dir; want NULL: accepted, else a part of the refusal. */
static void expect(const char *fmt, const char *access, const char *want)
{
	char pattern[256], err[1024] = "";
	snprintf(pattern, sizeof(pattern), fmt, dir);
	struct pathpat pat;
	if (pathpat_parse(pattern, NULL, NULL, &pat, err, sizeof(err)) < 0)
		fail_msg("%s: %s", pattern, err);
	struct guard_path gp = { pattern, &pat, access };
	int rc = state_guard_check(&gp, 1, places, 2, err, sizeof(err));
	if (!want) {
		if (rc != 0)
			fail_msg("%s: refused: %s", pattern, err);
		return;
	}
	if (rc != -EPERM || !strstr(err, want))
		fail_msg("%s: rc %d, err \"%s\", want \"%s\"", pattern, rc, err, want);
	/* The refusal names the pattern and the place. */
	assert_non_null(strstr(err, pattern));
}

static void test_overlaps(void **state)
{
	(void)state;
	char want[256];
	expect("%s/work/**", "rw", NULL);
	expect("%s/work/new/deeper/**", "rw", NULL);         /* not there yet: still beside */
	expect("%s/state-other/**", "rw", NULL);             /* a '/' boundary, not a string prefix */
	expect("%s/work/*", "ro", NULL);
	snprintf(want, sizeof(want), "is above the state dir %s", state_path);
	expect("%s/**", "rw", want);
	expect("%s/*", "rw", want);                          /* D/ *: its literal prefix D */
	expect("%s", "rw", want);
	snprintf(want, sizeof(want), "is the state dir %s", state_path);
	expect("%s/state/**", "ro", want);                   /* :ro too: the audit log is read */
	expect("%s/state", "rw", want);
	snprintf(want, sizeof(want), "is inside the state dir %s", state_path);
	expect("%s/state/logs/svf_audit/svf.jsonl", "ro", want);
	expect("%s/state/logs/*", "rw", want);
	snprintf(want, sizeof(want), "is inside the ledger %s", ledger_path);
	expect("%s/ledger/k4.pid.x/**", "rw", want);
	/* Through symlinks: compared where they lead. */
	snprintf(want, sizeof(want), "lease path %s (pattern", state_path);
	expect("%s/work/link/**", "rw", want);
	snprintf(want, sizeof(want), "lease path %s/not/yet (pattern", ledger_path);
	expect("%s/work/link2/not/yet/**", "rw", want);
	expect("/tmp/**", "ro", "is above the state dir");
}

static void test_bind_mounts(void **state)
{
	(void)state;
	char src[256], dst[256];
	snprintf(dst, sizeof(dst), "%s/work/bind", dir);
	assert_int_equal(mkdir(dst, 0750), 0);
	if (mount(state_path, dst, NULL, MS_BIND, NULL) < 0)
		skip();   /* needs CAP_SYS_ADMIN in the initial mount namespace */
	expect("%s/work/bind/**", "rw", "is (through a bind mount) inside the state dir");
	expect("%s/work/bind/logs/x", "rw", "is (through a bind mount) inside the state dir");
	assert_int_equal(umount2(dst, MNT_DETACH), 0);
	/* A bind of a directory above the state dir. */
	snprintf(src, sizeof(src), "%s", dir);
	snprintf(dst, sizeof(dst), "/tmp/calyx-guard-bind-%d", (int)getpid());
	assert_int_equal(mkdir(dst, 0750), 0);
	assert_int_equal(mount(src, dst, NULL, MS_BIND, NULL), 0);
	char pattern[300], err[1024] = "";
	snprintf(pattern, sizeof(pattern), "%s/**", dst);
	struct pathpat pat;
	assert_int_equal(pathpat_parse(pattern, NULL, NULL, &pat, err, sizeof(err)), 0);
	struct guard_path gp = { pattern, &pat, "ro" };
	int rc = state_guard_check(&gp, 1, places, 2, err, sizeof(err));
	assert_int_equal(umount2(dst, MNT_DETACH), 0);
	rmdir(dst);
	assert_int_equal(rc, -EPERM);
	assert_non_null(strstr(err, "is (through a bind mount) above the state dir"));
}

static void test_canonical_prefix(void **state)
{
	(void)state;
	char pattern[256], out[4096], err[256], want[256];
	struct pathpat pat;
	snprintf(pattern, sizeof(pattern), "%s/work/link/a/b/**", dir);
	assert_int_equal(pathpat_parse(pattern, NULL, NULL, &pat, err, sizeof(err)), 0);
	assert_int_equal(guard_canonical_prefix(&pat, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/a/b", state_path);
	assert_string_equal(out, want);
	assert_int_equal(pathpat_parse("/tmp/**", NULL, NULL, &pat, err, sizeof(err)), 0);
	assert_int_equal(guard_canonical_prefix(&pat, out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp");
	assert_int_equal(pathpat_parse("/nonexistent-calyx/x", NULL, NULL, &pat, err, sizeof(err)), 0);
	assert_int_equal(guard_canonical_prefix(&pat, out, sizeof(out)), 0);
	assert_string_equal(out, "/nonexistent-calyx/x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_bind_mounts),
		cmocka_unit_test(test_canonical_prefix),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
