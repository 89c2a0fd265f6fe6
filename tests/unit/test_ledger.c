/* links: state/ledger policy/lease base/units policy/pathpat state/state base/safedir base/errmsg base/fileio policy/limits policy/argv policy/lease_text policy/netrule policy/envnames */
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

/* The ledger directory of one test: a fresh temp dir and its fd. */
struct fx {
	char dir[64];
	int fd;
};
#define ISS "k4.pid.Eu5_9EoNmz_8LfUlxK6A_FQkRP6OLCNe7dN83rYePkLk"

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/calyx-ledger-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close(f->fd);
	int rc = system(rm_tree_cmd(f->dir));
	free(f);
	return rc == 0 ? 0 : -1;
}

static void read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s/%s", dir, ISS, name);
	FILE *f = fopen(p, "re");
	assert_non_null(f);
	size_t n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_single_use(void **state)
{
	struct fx *fx = *state;
	const char *dir = fx->dir;
	const char *id = "LEASE-20251027-021816-ab12";
	uint32_t run = 0, used = 99;
	assert_int_equal(ledger_runs_used(fx->fd, ISS, id, &used), 0);
	assert_int_equal(used, 0);
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 1, &run), 0);
	assert_int_equal(run, 1);
	run = 0;
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 1, &run), -EALREADY);
	assert_int_equal(run, 0);
	assert_int_equal(ledger_runs_used(fx->fd, ISS, id, &used), 0);
	assert_int_equal(used, 1);
	char buf[32];
	read_file(dir, id, buf, sizeof(buf));
	assert_string_equal(buf, "1\n");
	/* The ledger dir is private-ish, and no temp file is left behind. */
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, ISS);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0007, 0);
	snprintf(p, sizeof(p), "%s/%s/%s.tmp", dir, ISS, id);
	assert_int_equal(access(p, F_OK), -1);
	/* Another lease id is independent, and so is the same id from another issuer. */
	assert_int_equal(ledger_consume(fx->fd, ISS, "LEASE-20251027-021816-ab13", 1, &run), 0);
	assert_int_equal(run, 1);
	assert_int_equal(ledger_consume(fx->fd, "k4.pid.other", id, 1, &run), 0);
	assert_int_equal(run, 1);
}

static void test_multi_run(void **state)
{
	struct fx *fx = *state;
	const char *id = "LEASE-20260101-000000-0000";
	uint32_t run = 0;
	for (uint32_t i = 1; i <= 3; i++) {
		assert_int_equal(ledger_consume(fx->fd, ISS, id, 3, &run), 0);
		assert_int_equal(run, i);
	}
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 3, &run), -EALREADY);
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 3, &run), -EALREADY);
	uint32_t used = 0;
	assert_int_equal(ledger_runs_used(fx->fd, ISS, id, &used), 0);
	assert_int_equal(used, 3);
	/* A lease presenting a larger allowance (a different lease, same id) gets the rest. */
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 4, &run), 0);
	assert_int_equal(run, 4);
}

static void test_bad_ids(void **state)
{
	struct fx *fx = *state;
	const char *dir = fx->dir;
	uint32_t run = 0, used = 0;
	const char *bad[] = { "", "../x", "LEASE-20251027-021816-ab12/../../x", "../../etc/passwd",
			      "LEASE-20251027-021816-AB12", "LEASE-20251027-021816-ab12.lock", ".", "..",
			      "LEASE-20251027-021816-ab12\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ledger_consume(fx->fd, ISS, bad[i], 1, &run), -EINVAL);
		assert_int_equal(ledger_runs_used(fx->fd, ISS, bad[i], &used), -EINVAL);
	}
	assert_int_equal(ledger_consume(fx->fd, ISS, NULL, 1, &run), -EINVAL);
	assert_int_equal(ledger_consume(fx->fd, ISS, "LEASE-20251027-021816-ab12", 0, &run), -EINVAL);
	assert_int_equal(ledger_consume(-1, ISS, "LEASE-20251027-021816-ab12", 1, &run), -EINVAL);
	/* The issuer is a directory name: nothing that could leave the ledger. */
	const char *bad_iss[] = { "", ".", "..", "../x", "a/b", ".hidden", "k4.pid.x\n", NULL };
	for (size_t i = 0; i < sizeof(bad_iss) / sizeof(bad_iss[0]); i++)
		assert_int_equal(ledger_consume(fx->fd, bad_iss[i], "LEASE-20251027-021816-ab12", 1, &run), -EINVAL);
	(void)dir;
}

static void test_corrupt_fails_closed(void **state)
{
	struct fx *fx = *state;
	const char *dir = fx->dir;
	const char *id = "LEASE-20251027-021816-cccc";
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, ISS);
	assert_int_equal(mkdir(p, 0750), 0);
	snprintf(p, sizeof(p), "%s/%s/%s", dir, ISS, id);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs("garbage", f);
	fclose(f);
	uint32_t run = 0;
	int rc = ledger_consume(fx->fd, ISS, id, 5, &run);
	assert_true(rc < 0);
	assert_int_not_equal(rc, -EALREADY);
	assert_int_equal(run, 0);
	/* A symlink planted in place of the count is not followed. */
	const char *id2 = "LEASE-20251027-021816-dddd";
	snprintf(p, sizeof(p), "%s/%s/%s", dir, ISS, id2);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	assert_int_equal(ledger_consume(fx->fd, ISS, id2, 5, &run), -ELOOP);
	/* Nor one in place of the issuer's directory: a wiped-and-redirected ledger. */
	char target[128];
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(mkdir(target, 0750), 0);
	snprintf(p, sizeof(p), "%s/k4.pid.linked", dir);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(ledger_consume(fx->fd, "k4.pid.linked", id2, 5, &run), -ELOOP);
	assert_int_equal(ledger_runs_used(fx->fd, "k4.pid.linked", id2, &run), -ELOOP);
}

/* A count from the layout before issuers (LEDGER/<jti>) still counts: a lease consumed
 * before an upgrade is not fresh after it. */
static void test_legacy_count(void **state)
{
	struct fx *fx = *state;
	const char *id = "LEASE-20251027-021816-1e9a";
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", fx->dir, id);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs("1\n", f);
	fclose(f);
	uint32_t run = 0, used = 0;
	assert_int_equal(ledger_runs_used(fx->fd, ISS, id, &used), 0);
	assert_int_equal(used, 1);
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 1, &run), -EALREADY);
	assert_int_equal(ledger_consume(fx->fd, ISS, id, 2, &run), 0);
	assert_int_equal(run, 2);
}

/* Many forked children consume the same lease at once: each run number is handed out
 * exactly once and nobody gets more than the allowance. */
static void test_concurrent(void **state)
{
	struct fx *fx = *state;
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
				int rc = ledger_consume(fx->fd, ISS, id, ALLOWED, &run);
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
	assert_int_equal(ledger_runs_used(fx->fd, ISS, id, &used), 0);
	assert_int_equal(used, ALLOWED);
}

static void test_state_helpers(void **state)
{
	struct fx *fx = *state;
	const char *dir = fx->dir;
	assert_string_equal(state_dir_resolve("/x/y"), "/x/y");
	setenv(CALYX_STATE_ENV, "/from/env", 1);
	assert_string_equal(state_dir_resolve(NULL), "/from/env");
	assert_string_equal(state_dir_resolve(""), "/from/env");
	assert_string_equal(state_dir_resolve("/cli"), "/cli");
	setenv(CALYX_STATE_ENV, "", 1);
	assert_string_equal(state_dir_resolve(NULL), CALYX_STATE_DEFAULT);
	unsetenv(CALYX_STATE_ENV);
	assert_string_equal(state_dir_resolve(NULL), CALYX_STATE_DEFAULT);

	char p[512], err[PATH_MAX * 3];
	struct stat st;
	struct state_place sp;
	if (geteuid() != 0)
		skip();   /* ownership by root is what is checked */
	/* Made when missing, canonical path, subdirectories beneath it. */
	snprintf(p, sizeof(p), "%s/st/a", dir);
	assert_int_equal(state_place_open(p, "state dir", &sp, err, sizeof(err)), 0);
	assert_string_equal(sp.path, p);
	assert_int_equal(state_mkdirs(&sp, "outgoing/staging_runs/LEASE-x"), 0);
	assert_int_equal(state_mkdirs(&sp, "outgoing/staging_runs/LEASE-x"), 0); /* exists: fine */
	snprintf(p, sizeof(p), "%s/st/a/outgoing/staging_runs/LEASE-x", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0027, 0);
	/* A file in the way is an error, not success; so is a symlink. */
	snprintf(p, sizeof(p), "%s/st/a/afile", dir);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(state_mkdirs(&sp, "afile"), -ENOTDIR);
	assert_int_equal(state_mkdirs(&sp, "afile/sub"), -ENOTDIR);
	snprintf(p, sizeof(p), "%s/st/a/logs", dir);
	assert_int_equal(symlink("/tmp", p), 0);
	assert_int_equal(state_mkdirs(&sp, "logs/svf_audit"), -ELOOP);
	assert_int_equal(state_mkdirs(&sp, "../x"), -EXDEV);
	state_place_close(&sp);
	assert_int_equal(sp.fd, -1);

	/* Through a symlink of the operator's: the canonical path is what is kept. */
	snprintf(p, sizeof(p), "%s/alias", dir);
	char real[512];
	snprintf(real, sizeof(real), "%s/st/a", dir);
	assert_int_equal(symlink(real, p), 0);
	assert_int_equal(state_place_open(p, "state dir", &sp, err, sizeof(err)), 0);
	assert_string_equal(sp.path, real);
	state_place_close(&sp);

	/* Not only root's: refused, naming the directory and the fix. */
	assert_int_equal(chmod(real, 0770), 0);
	assert_int_equal(state_place_open(real, "state dir", &sp, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "group-writable"));
	assert_non_null(strstr(err, real));
	assert_non_null(strstr(err, "chmod"));
	assert_int_equal(chmod(real, 0750), 0);
	assert_int_equal(chown(real, 1000, 0), 0);
	assert_int_equal(state_place_open(real, "ledger", &sp, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "owned by uid 1000"));
	assert_non_null(strstr(err, "ledger"));
	assert_int_equal(chown(real, 0, 0), 0);
	/* A directory above that others may write without the sticky bit. */
	snprintf(p, sizeof(p), "%s/st", dir);
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(state_place_open(real, "state dir", &sp, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "without the sticky bit"));
	assert_int_equal(chmod(p, 01777), 0);
	assert_int_equal(state_place_open(real, "state dir", &sp, err, sizeof(err)), 0);
	state_place_close(&sp);
	assert_int_equal(state_place_open("relative", "state dir", &sp, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_single_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_fails_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_helpers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
