/* links: state/recovery state/rollrec state/state state/artifacts state/runmeta audit/svf audit/auditlog audit/verify audit/checkpoint audit/auditkey base/paserk base/b64url audit/svf_record audit/completion sentinel/events sentinel/jsonfmt base/safedir base/errmsg base/fileio base/units */
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

#include "audit/auditlog.h"
#include "audit/svf.h"
#include "state/recovery.h"
#include "state/rollrec.h"
#include "state/state.h"

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

/* The ledger the consuming sweep asks: a stand-in saying stub_used runs were counted. */
static uint32_t stub_used;
static int stub_ledger_used(int ledger_fd, const char *iss, const char *jti, uint32_t *used)
{
	(void)ledger_fd;
	(void)iss;
	(void)jti;
	*used = stub_used;
	return 0;
}

/* Lines of the state dir's log of that type (and completed_by "sweep" when sweep). */
static int log_count(const char *st, const char *type, bool sweep)
{
	char p[300], line[8192], needle[128];
	snprintf(p, sizeof(p), "%s/%s", st, STATE_SVF_LOG);
	snprintf(needle, sizeof(needle), "\"type\":\"%s\"", type);
	FILE *f = fopen(p, "r");
	int n = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, needle) && (!sweep || strstr(line, "\"completed_by\":\"sweep\"")))
			n++;
	if (f)
		fclose(f);
	return n;
}

#define CLEASE "LEASE-20261203-000000-c0de"

/* A runner killed between its ledger entry and lease_event.consumed: the sweep writes the
 * record the ledger proves owed, once; nothing when the ledger did not count the run; and
 * it leaves the record while another runner of the lease is consuming. */
static void test_consuming_sweep(void **state)
{
	(void)state;
	char st[128], ledger[160], rec_path[300], err[512];
	snprintf(st, sizeof(st), "%s/c", dir);
	snprintf(ledger, sizeof(ledger), "%s/ledger", dir);
	assert_int_equal(mkdir(st, 0750), 0);
	assert_int_equal(mkdir(ledger, 0750), 0);
	struct state_place sp = { .fd = open(st, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	snprintf(sp.path, sizeof(sp.path), "%s", st);
	assert_true(sp.fd >= 0);
	struct consuming_record cr = { .lease = CLEASE, .intent = "INT-T", .iss = "k4.pid.x", .runs_allowed = 1,
				       .ledger = ledger };
	struct recovery_report rep = { .ledger_used = stub_ledger_used };
	struct run_record_lock rl = { .fd = -1, .dirfd = -1 };
	snprintf(rec_path, sizeof(rec_path), "%s/run/consuming-%s-%d.json", st, CLEASE, (int)getpid());

	/* Died before its ledger write: nothing owed, the record goes. */
	assert_int_equal(recovery_consuming_write(&sp, &cr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);   /* kept and unlocked: as a dead runner leaves it */
	stub_used = 0;
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.consumed", false), 0);

	/* Another runner of the lease holds its consuming record: the dead one's is left. */
	struct run_record_lock live = { .fd = -1, .dirfd = -1 };
	assert_int_equal(recovery_consuming_write(&sp, &cr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);
	char moved[320];
	snprintf(moved, sizeof(moved), "%s/run/consuming-%s-1.json", st, CLEASE);
	assert_int_equal(rename(rec_path, moved), 0);   /* the dead one, pid 1 */
	assert_int_equal(recovery_consuming_write(&sp, &cr, &live, err, sizeof(err)), 0);
	stub_used = 1;
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(moved, F_OK), 0);
	assert_int_equal(log_count(st, "lease_event.consumed", false), 0);

	/* The live one gone too (both dead), the ledger counting 1 run: one consumed record,
	 * by the sweep, sealed; both records go. */
	recovery_record_release(&live, true);
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(moved, F_OK), -1);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.consumed", true), 1);
	assert_int_equal(log_count(st, "log_event.checkpoint", false), 1);
	struct svf_run_state rs;
	assert_int_equal(svf_find_run_at(sp.fd, STATE_SVF_LOG, CLEASE, 1, &rs, err, sizeof(err)), 0);
	assert_true(rs.consumed);

	/* No ledger to ask: the record is kept, reported. */
	assert_int_equal(recovery_consuming_write(&sp, &cr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);
	struct recovery_report none = { 0 };
	assert_int_equal(recovery_sweep(&sp, &none), 0);
	assert_int_equal(access(rec_path, F_OK), 0);
	/* Swept again with the ledger: run 1's record is in the log, nothing more is owed. */
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.consumed", false), 1);
	state_place_close(&sp);
}

/* The group ledger the sweep asks: a stand-in answering stub_group_rc (and run stub_run). */
static int stub_group_rc;
static uint32_t stub_run;
static char stub_nonce_seen[64], stub_group_seen[64];
static int stub_group_find(void *ctx, const char *group, const char *iss, const char *jti, uint32_t runs_allowed,
			   const char *nonce, uint32_t *run_no, char *err, size_t errlen)
{
	(void)ctx;
	(void)iss;
	(void)jti;
	(void)runs_allowed;
	snprintf(stub_nonce_seen, sizeof(stub_nonce_seen), "%s", nonce);
	snprintf(stub_group_seen, sizeof(stub_group_seen), "%s", group);
	if (stub_group_rc == -EHOSTUNREACH)
		snprintf(err, errlen, "https://127.0.0.1:1: Couldn't connect to server");
	if (stub_group_rc == 0)
		*run_no = stub_run;
	return stub_group_rc;
}

static char failed_why[512];
static int failed_n;
static void note_failed(void *ctx, const char *record, const char *why)
{
	(void)ctx;
	(void)record;
	snprintf(failed_why, sizeof(failed_why), "%s", why);
	failed_n++;
}

#define GLEASE "LEASE-20261203-000000-9a0b"
#define GNONCE "00112233445566778899aabbccddeeff"

/* A group lease's runner killed around its etcd transaction: the sweep asks the group
 * ledger for the record's nonce. Counted as run 2: one lease_event.consumed for run 2
 * (group_ledger named, by the sweep), once. Not counted: nothing owed, the record goes.
 * etcd unreachable: kept and reported, never taken for "not counted". */
static void test_group_consuming_sweep(void **state)
{
	(void)state;
	char st[128], rec_path[300], err[512], buf[4096];
	snprintf(st, sizeof(st), "%s/g", dir);
	assert_int_equal(mkdir(st, 0750), 0);
	struct state_place sp = { .fd = open(st, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	snprintf(sp.path, sizeof(sp.path), "%s", st);
	assert_true(sp.fd >= 0);
	struct consuming_record cr = { .lease = GLEASE, .intent = "INT-G", .iss = "k4.pid.x", .runs_allowed = 3,
				       .group = "fleet", .nonce = GNONCE };
	struct recovery_report rep = { .group_find = stub_group_find, .failed = note_failed };
	struct run_record_lock rl = { .fd = -1, .dirfd = -1 };
	snprintf(rec_path, sizeof(rec_path), "%s/run/consuming-%s-%d.json", st, GLEASE, (int)getpid());

	/* The record names the group and the nonce, no ledger directory. */
	assert_int_equal(recovery_consuming_write(&sp, &cr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);
	int fd = open(rec_path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"group\":\"fleet\""));
	assert_non_null(strstr(buf, "\"nonce\":\"" GNONCE "\""));
	assert_null(strstr(buf, "\"ledger\""));

	/* etcd unreachable: kept, the reason reported. */
	stub_group_rc = -EHOSTUNREACH;
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), 0);
	assert_int_equal(failed_n, 1);
	assert_string_equal(failed_why, "https://127.0.0.1:1: Couldn't connect to server");
	assert_string_equal(stub_nonce_seen, GNONCE);
	assert_string_equal(stub_group_seen, "fleet");
	/* No group ledger to ask at all: kept too. */
	struct recovery_report no_group = { .failed = note_failed };
	assert_int_equal(recovery_sweep(&sp, &no_group), 0);
	assert_int_equal(access(rec_path, F_OK), 0);
	assert_int_equal(failed_n, 2);
	assert_int_equal(log_count(st, "lease_event.consumed", false), 0);

	/* Counted as run 2: the consumed record of run 2, sealed; the record goes. */
	stub_group_rc = 0;
	stub_run = 2;
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.consumed", true), 1);
	assert_int_equal(log_count(st, "log_event.checkpoint", false), 1);
	struct svf_run_state rs;
	assert_int_equal(svf_find_run_at(sp.fd, STATE_SVF_LOG, GLEASE, 2, &rs, err, sizeof(err)), 0);
	assert_true(rs.consumed);
	assert_int_equal(svf_find_run_at(sp.fd, STATE_SVF_LOG, GLEASE, 1, &rs, err, sizeof(err)), 0);
	assert_false(rs.consumed);
	char p[300];
	snprintf(p, sizeof(p), "%s/%s", st, STATE_SVF_LOG);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	bool named = false;
	while (fgets(buf, sizeof(buf), f))
		if (strstr(buf, "\"lease_event.consumed\"") && strstr(buf, "\"group_ledger\":\"fleet\"") &&
		    strstr(buf, "\"run\":2") && !strstr(buf, "\"ledger\":"))
			named = true;
	fclose(f);
	assert_true(named);

	/* The same run found again (a second dead runner record of it): owed once only. */
	assert_int_equal(recovery_consuming_write(&sp, &cr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.consumed", false), 1);

	/* Not counted (the transaction never applied): nothing owed, the record goes. */
	assert_int_equal(recovery_consuming_write(&sp, &cr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);
	stub_group_rc = -ENOENT;
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.consumed", false), 1);
	assert_int_equal(failed_n, 2);
	state_place_close(&sp);
}

#define RLEASE "LEASE-20261203-000000-b0b0"

/* One lease_event.roll* record of RLEASE's run directory, as calyx rollback writes it. */
static void roll_append(int sfd, const char *type, const char *pid_key, double pid, const char *run_dir)
{
	char err[512];
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "run", 1);
	cJSON_AddStringToObject(d, "run_dir", run_dir);
	cJSON_AddNumberToObject(d, pid_key, pid);
	assert_int_equal(auditlog_append_one(sfd, type, RLEASE, "INT-T", d, true, err, sizeof(err), NULL), 0);
	cJSON_Delete(d);
}

/* A dead rollback's record: removed silently when the log has no rollback_started of it
 * (its pid, its run directory, not before its start), ended with one sealed
 * rollback_interrupted when it has one and no end; a live (locked) record is left;
 * calyx run's sweep does the same. */
static void test_rollback_sweep(void **state)
{
	(void)state;
	char st[128], rec_path[300], err[512];
	snprintf(st, sizeof(st), "%s/r", dir);
	assert_int_equal(mkdir(st, 0750), 0);
	struct state_place sp = { .fd = open(st, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
	snprintf(sp.path, sizeof(sp.path), "%s", st);
	assert_true(sp.fd >= 0);
	struct rollback_record rr = { .lease = RLEASE, .intent = "INT-T", .run_dir = RLEASE, .run = 1 };
	struct run_record_lock rl = { .fd = -1, .dirfd = -1 };
	double me = (double)getpid();
	snprintf(rec_path, sizeof(rec_path), "%s/run/rollback-%s-%d.json", st, RLEASE, (int)getpid());

	/* Died before its rollback_started: the record goes, nothing logged. */
	assert_int_equal(recovery_rollback_write(&sp, &rr, &rl, err, sizeof(err)), 0);
	assert_int_equal(access(rec_path, F_OK), 0);
	recovery_record_release(&rl, true);   /* kept and unlocked: as a dead rollback leaves it */
	assert_int_equal(recovery_sweep_rollbacks(&sp, NULL), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", false), 0);

	/* A rollback_started of another pid, or of another run directory, is not its own. */
	assert_int_equal(recovery_rollback_write(&sp, &rr, &rl, err, sizeof(err)), 0);
	roll_append(sp.fd, "lease_event.rollback_started", "pid", me + 1, RLEASE);
	roll_append(sp.fd, "lease_event.rollback_started", "pid", me, RLEASE "-r2");
	recovery_record_release(&rl, true);
	assert_int_equal(recovery_sweep_rollbacks(&sp, NULL), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", false), 0);

	/* Its rollback_started: while it lives (locked) its record is left; dead, one
	 * rollback_interrupted by the sweep, naming it; the record goes. */
	usleep(5000);   /* a later millisecond than the records above */
	assert_int_equal(recovery_rollback_write(&sp, &rr, &rl, err, sizeof(err)), 0);
	roll_append(sp.fd, "lease_event.rollback_started", "pid", me, RLEASE);
	assert_int_equal(recovery_sweep_rollbacks(&sp, NULL), 0);
	assert_int_equal(access(rec_path, F_OK), 0);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", false), 0);
	recovery_record_release(&rl, true);
	assert_int_equal(recovery_sweep_rollbacks(&sp, NULL), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", true), 1);
	struct rollrec_log lg;
	assert_int_equal(rollrec_find(sp.fd, RLEASE, RLEASE, me, "2000-01-01T00:00:00.000Z", &lg, err, sizeof(err)), 0);
	assert_true(lg.started && lg.ended);

	/* A later record of the same pid (reused): the earlier rollback_started is before its
	 * start, so not its own: removed, nothing more logged. */
	usleep(5000);
	assert_int_equal(recovery_rollback_write(&sp, &rr, &rl, err, sizeof(err)), 0);
	recovery_record_release(&rl, true);
	assert_int_equal(recovery_sweep_rollbacks(&sp, NULL), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", false), 1);

	/* Its end already logged (rolled_back; rollback_failed alike): nothing more owed. */
	usleep(5000);
	assert_int_equal(recovery_rollback_write(&sp, &rr, &rl, err, sizeof(err)), 0);
	roll_append(sp.fd, "lease_event.rollback_started", "pid", me, RLEASE);
	roll_append(sp.fd, "lease_event.rolled_back", "pid", me, RLEASE);
	recovery_record_release(&rl, true);
	assert_int_equal(recovery_sweep_rollbacks(&sp, NULL), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", false), 1);

	/* calyx run's sweep finishes a dead rollback the same way. */
	usleep(5000);
	assert_int_equal(recovery_rollback_write(&sp, &rr, &rl, err, sizeof(err)), 0);
	roll_append(sp.fd, "lease_event.rollback_started", "pid", me, RLEASE);
	recovery_record_release(&rl, true);
	struct recovery_report rep = { .ledger_used = stub_ledger_used };
	assert_int_equal(recovery_sweep(&sp, &rep), 0);
	assert_int_equal(access(rec_path, F_OK), -1);
	assert_int_equal(log_count(st, "lease_event.rollback_interrupted", true), 2);
	state_place_close(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_locks),
		cmocka_unit_test(test_consuming_sweep),
		cmocka_unit_test(test_group_consuming_sweep),
		cmocka_unit_test(test_rollback_sweep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
