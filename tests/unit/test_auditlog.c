/* links: audit/auditlog audit/verify audit/checkpoint audit/auditkey audit/svf audit/svf_record base/safedir base/errmsg base/fileio base/paserk base/b64url */
/* The state dir's audit log: checkpoints signed with the host audit key, each kind of
 * tampering classified, the tail check that refuses appends, repair of a cut record,
 * rotation that keeps one chain across files. */
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

#include "audit/auditkey.h"
#include "audit/auditlog.h"
#include "audit/checkpoint.h"
#include "audit/verify.h"

struct fx {
	char dir[64];
	char log[128];
	int fd;        /* the state dir */
	int logdir;    /* logs/svf_audit */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_auditlog.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->log, sizeof(f->log), "%s/logs/svf_audit/svf.jsonl", f->dir);
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	f->logdir = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	close(f->fd);
	if (f->logdir >= 0)
		close(f->logdir);
	free(f);
	return system(cmd) == 0 ? 0 : -1;
}

/* One "run": n records, then a seal. */
static void run_records(struct fx *f, int n, bool seal)
{
	struct auditlog *a;
	struct audit_result why;
	char err[256];
	assert_int_equal(auditlog_open(f->fd, NULL, &a, &why), 0);
	for (int i = 0; i < n; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddNumberToObject(d, "i", i);
		assert_int_equal(auditlog_append(a, "exec_event.started", "LEASE-20261203-000000-abcd", "INT-T", d,
						 err, sizeof(err)), 0);
		cJSON_Delete(d);
	}
	if (seal)
		assert_int_equal(auditlog_seal(a, err, sizeof(err)), 0);
	assert_int_equal(auditlog_close(a), 0);
}

static enum audit_fault verify(struct fx *f, struct audit_result *r)
{
	uint8_t pk[32];
	char err[256];
	assert_int_equal(auditkey_load_public(f->fd, pk, err, sizeof(err)), 0);
	if (f->logdir < 0)
		f->logdir = open(f->log, O_RDONLY) >= 0 ? openat(f->fd, "logs/svf_audit", O_RDONLY | O_DIRECTORY) : -1;
	assert_true(f->logdir >= 0);
	return audit_verify(f->logdir, pk, false, r);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	rewind(fp);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

static void spit(const char *path, const char *b, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, len, fp), len);
	fclose(fp);
}

/* Offsets of each line's start; returns the count. */
static size_t lines(const char *b, size_t len, size_t *st, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n < max; i++)
		if (i == 0 || b[i - 1] == '\n')
			st[n++] = i;
	st[n < max ? n : max - 1] = len;
	return n;
}

static void test_sealed_runs_verify(void **state)
{
	struct fx *f = *state;
	run_records(f, 3, true);
	run_records(f, 2, true);
	struct audit_result r;
	assert_int_equal(verify(f, &r), AUDIT_INTACT);
	assert_int_equal(r.records, 7);
	assert_int_equal(r.checkpoints, 2);
	assert_int_equal(r.signed_seq, 7);
	assert_int_equal(r.unsigned_tail, 0);
	/* The secret key is its owner's only. */
	struct stat st;
	char p[160];
	snprintf(p, sizeof(p), "%s/keys/audit.key", f->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_unsigned_tail(void **state)
{
	struct fx *f = *state;
	run_records(f, 2, true);
	run_records(f, 2, false);   /* a runner that died before its seal */
	struct audit_result r;
	assert_int_equal(verify(f, &r), AUDIT_UNSIGNED);
	assert_non_null(strstr(r.msg, "not signed"));
	/* Appending on top is still allowed: the tail is a valid chain. */
	run_records(f, 1, true);
	assert_int_equal(verify(f, &r), AUDIT_INTACT);
}

static void test_auto_checkpoint(void **state)
{
	struct fx *f = *state;
	struct auditlog *a;
	struct audit_result why;
	char err[256];
	struct auditlog_opts o = { .checkpoint_every = 4 };
	assert_int_equal(auditlog_open(f->fd, &o, &a, &why), 0);
	for (int i = 0; i < 9; i++)
		assert_int_equal(auditlog_append(a, "x.y", "", "", NULL, err, sizeof(err)), 0);
	assert_int_equal(auditlog_close(a), 0);
	struct audit_result r;
	assert_int_equal(verify(f, &r), AUDIT_UNSIGNED);   /* the 9th record is after the 2nd checkpoint */
	assert_int_equal(r.checkpoints, 2);
	assert_int_equal(r.unsigned_tail, 1);
}

/* Tamper with the log of 3 sealed runs (records 1-3 + cp 4, 5-6 + cp 7, 8 + cp 9). */
static void tamper_case(struct fx *f, void (*mod)(char *b, size_t *len, size_t *st), enum audit_fault want,
			const char *msg_part)
{
	run_records(f, 3, true);
	run_records(f, 2, true);
	run_records(f, 1, true);
	size_t len;
	char *b = slurp(f->log, &len);
	char *nb = malloc(len * 2 + 1);
	memcpy(nb, b, len);
	size_t st[16];
	assert_int_equal(lines(nb, len, st, 16), 9);
	mod(nb, &len, st);
	spit(f->log, nb, len);
	struct audit_result r;
	enum audit_fault got = verify(f, &r);
	if (got != want || (msg_part && !strstr(r.msg, msg_part)))
		print_error("got %s at %s: %s\n", audit_fault_name(got), r.where, r.msg);
	assert_int_equal(got, want);
	if (msg_part)
		assert_non_null(strstr(r.msg, msg_part));
	/* No run appends to a log whose tail does not verify (damage before the last
	 * checkpoint is the full verify's to find; the tail check sees what is after it). */
	free(b);
	free(nb);
}

static void m_edit(char *b, size_t *len, size_t *st) { (void)len; char *p = strstr(b + st[4], "\"i\":0"); p[4] = '7'; }
static void m_delete(char *b, size_t *len, size_t *st)
{
	memmove(b + st[4], b + st[5], *len - st[5]);
	*len -= st[5] - st[4];
}
static void m_insert(char *b, size_t *len, size_t *st)   /* line 2 copied again after line 5 */
{
	size_t l = st[2] - st[1];
	memmove(b + st[5] + l, b + st[5], *len - st[5]);
	memcpy(b + st[5], b + st[1], l);
	*len += l;
}
static void m_reorder(char *b, size_t *len, size_t *st)   /* lines 5 and 6 swapped */
{
	(void)len;
	size_t l5 = st[5] - st[4], l6 = st[6] - st[5];
	char tmp[4096];
	memcpy(tmp, b + st[4], l5);
	memmove(b + st[4], b + st[5], l6);
	memcpy(b + st[4] + l6, tmp, l5);
}
static void m_truncate(char *b, size_t *len, size_t *st) { (void)b; *len = st[7]; }   /* the last run cut off */
/* What a crash mid-append leaves: the start of a record, no end of line. */
static void m_cut(char *b, size_t *len, size_t *st) { memcpy(b + *len, b + st[1], 40); *len += 40; }
/* The last checkpoint itself cut: a crash never cuts a checkpoint the sidecar names. */
static void m_cutcp(char *b, size_t *len, size_t *st) { (void)b; (void)st; *len -= 30; }
static void m_badsig(char *b, size_t *len, size_t *st)
{
	(void)len;
	char *p = strstr(b + st[3], "\"sig\":\"");
	p[10] = p[10] == 'A' ? 'B' : 'A';
	/* rehash the checkpoint record and chain the next record to it, so only the signature is wrong */
	char *h = strstr(b + st[3], ",\"hash\":\"");
	char fixed[65];
	svf_hash_body(b + st[3], (size_t)(h - (b + st[3])), fixed);
	char old[65];
	memcpy(old, h + 9, 64);
	old[64] = '\0';
	memcpy(h + 9, fixed, 64);
	char *q = strstr(b + st[4], old);
	memcpy(q, fixed, 64);
	/* and so on down the chain: rehash every later record */
	for (int i = 4; i < 9; i++) {
		char *hh = strstr(b + st[i], ",\"hash\":\"");
		char nh[65], oh[65];
		svf_hash_body(b + st[i], (size_t)(hh - (b + st[i])), nh);
		memcpy(oh, hh + 9, 64);
		oh[64] = '\0';
		memcpy(hh + 9, nh, 64);
		if (i + 1 < 9) {
			char *pp = strstr(b + st[i + 1], oh);
			if (pp)
				memcpy(pp, nh, 64);
		}
	}
}

static void test_edited(void **s) { tamper_case(*s, m_edit, AUDIT_EDITED, "hash mismatch"); }
static void test_deleted(void **s) { tamper_case(*s, m_delete, AUDIT_DELETED, "seq jumps from 4 to 6"); }
static void test_inserted(void **s) { tamper_case(*s, m_insert, AUDIT_INSERTED, "seq 2 again"); }
static void test_reordered(void **s) { tamper_case(*s, m_reorder, AUDIT_REORDERED, "reordered"); }
static void test_truncated(void **s) { tamper_case(*s, m_truncate, AUDIT_TRUNCATED, "cut off the end"); }
static void test_cut_record(void **s) { tamper_case(*s, m_cut, AUDIT_CUT_RECORD, "calyx audit repair"); }
static void test_cut_checkpoint(void **s) { tamper_case(*s, m_cutcp, AUDIT_TRUNCATED, "not by a crash"); }
static void test_bad_signature(void **s) { tamper_case(*s, m_badsig, AUDIT_BAD_SIGNATURE, "does not verify"); }

static void test_other_key_refused(void **state)
{
	struct fx *f = *state;
	run_records(f, 2, true);
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	int d = openat(f->fd, "logs/svf_audit", O_RDONLY | O_DIRECTORY);
	struct audit_result r;
	assert_int_equal(audit_verify(d, pk, false, &r), AUDIT_BAD_SIGNATURE);
	assert_non_null(strstr(r.msg, "signed by key"));
	close(d);
}

static void test_sidecar_removed(void **state)
{
	struct fx *f = *state;
	run_records(f, 2, true);
	char p[160];
	snprintf(p, sizeof(p), "%s/logs/svf_audit/%s", f->dir, CHECKPOINT_SIDECAR);
	assert_int_equal(unlink(p), 0);
	struct audit_result r;
	assert_int_equal(verify(f, &r), AUDIT_UNSIGNED);
	struct auditlog *a;
	assert_int_equal(auditlog_open(f->fd, NULL, &a, &r), -EBADMSG);
}

static void test_tail_check_refuses_then_repair(void **state)
{
	struct fx *f = *state;
	run_records(f, 3, true);
	run_records(f, 2, false);
	size_t len;
	char *b = slurp(f->log, &len);
	spit(f->log, b, len - 25);   /* the last record cut mid-line: a crash, a full disk */
	struct auditlog *a;
	struct audit_result r;
	assert_int_equal(auditlog_open(f->fd, NULL, &a, &r), -EBADMSG);
	assert_int_equal(r.fault, AUDIT_CUT_RECORD);
	struct auditlog_repair rep;
	assert_int_equal(auditlog_repair(f->fd, &rep, &r), 0);
	assert_true(rep.repaired);
	assert_int_equal(rep.record_seq, 6);   /* 1-3, cp 4, 5, (6 cut) -> repaired is 6 */
	size_t nl = 0;
	for (size_t i = 0; i < len; i++)
		nl += b[i] == '\n';
	size_t start = len;
	while (start > 0 && b[start - 1] != '\n')
		start--;
	(void)nl;
	/* the record cut off: from the last newline the repair kept */
	size_t prevnl = len - 1;
	while (prevnl > 0 && b[prevnl - 1] != '\n')
		prevnl--;
	assert_int_equal(rep.cut_bytes, len - 25 - prevnl);
	free(b);
	assert_int_equal(verify(f, &r), AUDIT_INTACT);
	b = slurp(f->log, &len);
	assert_non_null(strstr(b, "\"type\":\"log_event.repaired\""));
	free(b);
	/* Nothing left to repair: still 0, nothing appended. */
	assert_int_equal(auditlog_repair(f->fd, &rep, &r), 0);
	assert_false(rep.repaired);
	assert_int_equal(auditlog_open(f->fd, NULL, &a, &r), 0);
	auditlog_close(a);
}

static void test_repair_refuses_other_damage(void **state)
{
	struct fx *f = *state;
	run_records(f, 3, true);
	run_records(f, 2, false);
	size_t len;
	char *b = slurp(f->log, &len);
	char *p = strrchr(b, '"');   /* inside the last record's hash: an edit, not a cut */
	(void)p;
	char *q = strstr(b + len - 200, "\"i\":1");
	assert_non_null(q);
	q[4] = '5';
	spit(f->log, b, len);
	struct auditlog_repair rep;
	struct audit_result r;
	assert_int_equal(auditlog_repair(f->fd, &rep, &r), -EBADMSG);
	assert_int_equal(r.fault, AUDIT_EDITED);
	size_t len2;
	char *b2 = slurp(f->log, &len2);
	assert_int_equal(len2, len);   /* nothing changed */
	assert_memory_equal(b, b2, len);
	free(b);
	free(b2);
}

static void test_rotation_keeps_chain(void **state)
{
	struct fx *f = *state;
	struct auditlog_opts o = { .rotate_bytes = 2000 };
	char err[256];
	for (int k = 0; k < 6; k++) {
		struct auditlog *a;
		struct audit_result why;
		assert_int_equal(auditlog_open(f->fd, &o, &a, &why), 0);
		for (int i = 0; i < 3; i++)
			assert_int_equal(auditlog_append(a, "x.y", "", "", NULL, err, sizeof(err)), 0);
		assert_int_equal(auditlog_seal(a, err, sizeof(err)), 0);
		assert_int_equal(auditlog_close(a), 0);
	}
	int d = openat(f->fd, "logs/svf_audit", O_RDONLY | O_DIRECTORY);
	char **names;
	size_t n;
	assert_int_equal(audit_rotated_files(d, &names, &n), 0);
	assert_true(n >= 2);
	assert_string_equal(names[0], "svf.000000000001.jsonl");
	struct audit_result r;
	assert_int_equal(verify(f, &r), AUDIT_INTACT);
	assert_int_equal(r.files, n + 1);
	assert_true(r.records >= 24 + n);
	/* A rotated file removed: the chain misses its records. */
	char p[200];
	snprintf(p, sizeof(p), "%s/logs/svf_audit/%s", f->dir, names[n - 1]);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(verify(f, &r), AUDIT_DELETED);
	audit_free_names(names, n);
	close(d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sealed_runs_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsigned_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inserted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reordered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_record, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sidecar_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tail_check_refuses_then_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_refuses_other_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_keeps_chain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
