/* links: state/ledger policy/lease policy/envnames base/units policy/pathpat state/state base/errmsg base/fileio policy/limits policy/argv policy/lease_text */
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy/lease.h"
#include "state/ledger.h"
#include "state/state.h"

static char *rm_tree_cmd(const char *dir)
{
	static char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return cmd;
}

static int setup(void **state)
{
	char *d = strdup("/tmp/calyx-ledger-XXXXXX");
	if (!d || !mkdtemp(d))
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	char *d = *state;
	int rc = system(rm_tree_cmd(d));
	free(d);
	return rc == 0 ? 0 : -1;
}

static void read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s/%s", dir, STATE_LEDGER_DIR, name);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_single_use(void **state)
{
	const char *dir = *state;
	const char *id = "LEASE-20251027-021816-ab12";
	uint32_t run = 0, used = 99;
	assert_int_equal(ledger_runs_used(dir, id, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(ledger_consume(dir, id, 1, &run), 0);
	assert_int_equal(run, 1);
	run = 0;
	assert_int_equal(ledger_consume(dir, id, 1, &run), -EALREADY);
	assert_int_equal(run, 0);
	assert_int_equal(ledger_runs_used(dir, id, &used), 0);
	assert_int_equal(used, 1);
	char buf[32];
	read_file(dir, id, buf, sizeof(buf));
	assert_string_equal(buf, "1\n");
	/* The ledger dir is private-ish, and no temp file is left behind. */
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, STATE_LEDGER_DIR);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0007, 0);
	snprintf(p, sizeof(p), "%s/%s/%s.tmp", dir, STATE_LEDGER_DIR, id);
	assert_int_equal(access(p, F_OK), -1);
	/* Another lease id is independent. */
	assert_int_equal(ledger_consume(dir, "LEASE-20251027-021816-ab13", 1, &run), 0);
	assert_int_equal(run, 1);
}

static void test_multi_run(void **state)
{
	const char *dir = *state;
	const char *id = "LEASE-20260101-000000-0000";
	uint32_t run = 0;
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(ledger_consume(dir, id, 3, &run), 0);
		assert_int_equal(run, i);
	}
	assert_int_equal(ledger_consume(dir, id, 3, &run), -EALREADY);
	assert_int_equal(ledger_consume(dir, id, 3, &run), -EALREADY);
	uint32_t used = 0;
	assert_int_equal(ledger_runs_used(dir, id, &used), 0);
	assert_int_equal(used, 3);
	/* A lease presenting a larger allowance (a different lease, same id) gets the rest. */
	assert_int_equal(ledger_consume(dir, id, 4, &run), 0);
	assert_int_equal(run, 4);
}

static void test_bad_ids(void **state)
{
	const char *dir = *state;
	uint32_t run = 0, used = 0;
	const char *bad[] = { "", "../x", "LEASE-20251027-021816-ab12/../../x", "../../etc/passwd",
			      "LEASE-20251027-021816-AB12", "LEASE-20251027-021816-ab12.lock", ".", "..",
			      "LEASE-20251027-021816-ab12\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ledger_consume(dir, bad[i], 1, &run), -EINVAL);
		assert_int_equal(ledger_runs_used(dir, bad[i], &used), -EINVAL);
	}
	assert_int_equal(ledger_consume(dir, NULL, 1, &run), -EINVAL);
	assert_int_equal(ledger_consume(dir, "LEASE-20251027-021816-ab12", 0, &run), -EINVAL);
	assert_int_equal(ledger_consume(NULL, "LEASE-20251027-021816-ab12", 1, &run), -EINVAL);
}

static void test_corrupt_fails_closed(void **state)
{
	const char *dir = *state;
	const char *id = "LEASE-20251027-021816-cccc";
	assert_int_equal(state_mkdirs(dir, STATE_LEDGER_DIR), 0);
	char p[512];
	snprintf(p, sizeof(p), "%s/%s/%s", dir, STATE_LEDGER_DIR, id);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	uint32_t run = 0;
	int rc = ledger_consume(dir, id, 5, &run);
	assert_true(rc < 0);
	assert_int_not_equal(rc, -EALREADY);
	assert_int_equal(run, 0);
	/* A symlink planted in place of the count is not followed. */
	const char *id2 = "LEASE-20251027-021816-dddd";
	snprintf(p, sizeof(p), "%s/%s/%s", dir, STATE_LEDGER_DIR, id2);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	assert_true(ledger_consume(dir, id2, 5, &run) < 0);
}

/* Many forked children consume the same lease at once: each run number is handed out
 * exactly once and nobody gets more than the allowance. */
static void test_concurrent(void **state)
{
	const char *dir = *state;
	const char *id = "LEASE-20251027-021816-beef";
	enum { CHILDREN = 16, PER_CHILD = 8, ALLOWED = 100 };
	int pfd[2];
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid_t pids[CHILDREN];
	for (int c = 0; c < CHILDREN; c++) {
		pids[c] = fork();
		assert_true(pids[c] >= 0);
		if (pids[c] == 0) {
			close(pfd[0]);
			for (int i = 0; i < PER_CHILD; i++) {
				uint32_t run = 0;
				int rc = ledger_consume(dir, id, ALLOWED, &run);
				int32_t rec = rc == 0 ? (int32_t)run : rc;
				if (write(pfd[1], &rec, sizeof(rec)) != sizeof(rec))
					_exit(2);
			}
			_exit(0);
		}
	}
	close(pfd[1]);
	int seen[ALLOWED + 1] = { 0 };
	int granted = 0, refused = 0, other = 0;
	int32_t rec;
	while (read(pfd[0], &rec, sizeof(rec)) == sizeof(rec)) {
		if (rec > 0 && rec <= ALLOWED) {
			seen[rec]++;
			granted++;
		} else if (rec == -EALREADY) {
			refused++;
		} else {
			other++;
		}
	}
	close(pfd[0]);
	for (int c = 0; c < CHILDREN; c++) {
		int st = 0;
		assert_int_equal(waitpid(pids[c], &st, 0), pids[c]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(other, 0);
	assert_int_equal(granted, ALLOWED);
	assert_int_equal(refused, CHILDREN * PER_CHILD - ALLOWED);
	for (int r = 1; r <= ALLOWED; r++)
		if (seen[r] != 1)
			fail_msg("run %d handed out %d times", r, seen[r]);
	uint32_t used = 0;
	assert_int_equal(ledger_runs_used(dir, id, &used), 0);
	assert_int_equal(used, ALLOWED);
}

static void test_state_helpers(void **state)
{
	const char *dir = *state;
	assert_string_equal(state_dir_resolve("/x/y"), "/x/y");
	setenv(CALYX_STATE_ENV, "/from/env", 1);
	assert_string_equal(state_dir_resolve(NULL), "/from/env");
	assert_string_equal(state_dir_resolve(""), "/from/env");
	assert_string_equal(state_dir_resolve("/cli"), "/cli");
	setenv(CALYX_STATE_ENV, "", 1);
	assert_string_equal(state_dir_resolve(NULL), CALYX_STATE_DEFAULT);
	unsetenv(CALYX_STATE_ENV);
	assert_string_equal(state_dir_resolve(NULL), CALYX_STATE_DEFAULT);

	char p[512];
	struct stat st;
	assert_int_equal(state_mkdirs(dir, "outgoing/staging_runs/LEASE-x"), 0);
	assert_int_equal(state_mkdirs(dir, "outgoing/staging_runs/LEASE-x"), 0); /* exists: fine */
	snprintf(p, sizeof(p), "%s/outgoing/staging_runs/LEASE-x", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0027, 0);
	snprintf(p, sizeof(p), "%s/new/a/b", dir);
	assert_int_equal(state_mkdirs(p, NULL), 0);
	assert_int_equal(stat(p, &st), 0);
	/* A file in the way is an error, not success. */
	snprintf(p, sizeof(p), "%s/afile", dir);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(state_mkdirs(dir, "afile"), -ENOTDIR);
	assert_int_equal(state_mkdirs(dir, "afile/sub"), -ENOTDIR);
	assert_int_equal(state_mkdirs(NULL, "x"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_helpers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
