/* links: report/load report/html report/escape sentinel/jsonfmt audit/svf audit/svf_record audit/auditlog audit/verify audit/checkpoint audit/auditkey base/paserk base/b64url state/artifacts base/safedir base/errmsg base/fileio base/units */
/* The report's loader on a state dir made here (a run directory and an SVF log written by
 * calyx's own writer): a good run verifies and carries its records; an unknown run, a
 * damaged meta.json, another run's meta.json, a symlinked meta.json are refused with the
 * errors the CLI maps to its exit codes; a changed artifact, a changed meta.json and an
 * edited log record each make the audit say "does not verify" with the reason; the page
 * shows a hostile argv as text. */
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

#include "audit/auditlog.h"
#include "audit/svf.h"
#include "report/html.h"
#include "report/load.h"

#define TMPDIR_NAME "test_report_load"
#include "tmpdir.h"

#define LEASE "LEASE-20261203-071500-ab12"
#define HOSTILE "<script>alert(1)</script>"

static char state[128], run_dir[256];

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void hash_hex(const char *s, char out[65])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

static void file_hash(const char *path, char out[65])
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	hash_hex(buf, out);
}

static const char *OUT = "child\n" HOSTILE "\n";
static const char *EVENTS =
	"{\"type\":\"process\",\"pid\":100,\"ppid\":1,\"comm\":\"sh\",\"start\":\"2026-12-03T07:15:00.000100Z\","
	"\"end\":\"2026-12-03T07:15:00.020000Z\",\"binary\":\"/usr/bin/dash\",\"argv\":[\"sh\",\"-c\",\"x\"],"
	"\"execs\":[],\"exit_code\":0,\"signal\":null,\"counters\":null}\n"
	"{\"type\":\"process\",\"pid\":101,\"ppid\":100,\"comm\":\"cat\",\"start\":\"2026-12-03T07:15:00.001000Z\","
	"\"end\":\"2026-12-03T07:15:00.002000Z\",\"binary\":\"/usr/bin/cat\",\"argv\":[\"cat\"],"
	"\"execs\":[],\"exit_code\":0,\"signal\":null,\"counters\":null}\n"
	"{\"type\":\"kill\",\"ts\":\"2026-12-03T07:15:00.005000Z\",\"pid\":102,\"comm\":\"x\",\"class\":\"exec\","
	"\"hook\":\"exec_image\",\"path\":\"/lib64/ld-linux-x86-64.so.2\",\"errno\":9,\"killed\":true}\n"
	"not json\n";

/* A complete run: files, meta.json with their hashes, and the log's four records. */
static void make_run(void)
{
	char p[400], cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/state'", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(run_dir, sizeof(run_dir), "%s/outgoing/staging_runs/" LEASE, state);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' '%s/logs/svf_audit'", run_dir, state);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/stdout.log", run_dir);
	put(p, OUT);
	snprintf(p, sizeof(p), "%s/stderr.log", run_dir);
	put(p, "");
	snprintf(p, sizeof(p), "%s/exit_code.txt", run_dir);
	put(p, "0\n");
	snprintf(p, sizeof(p), "%s/events.jsonl", run_dir);
	put(p, EVENTS);
	char ho[65], he[65], hx[65], hv[65];
	hash_hex(OUT, ho);
	hash_hex("", he);
	hash_hex("0\n", hx);
	hash_hex(EVENTS, hv);
	char meta[4096];
	snprintf(meta, sizeof(meta),
		 "{\"schema\":1,\"lease\":\"" LEASE "\",\"intent\":\"INT-T\",\"run\":1,\"runs_allowed\":1,"
		 "\"argv\":[\"sh\",\"-c\",\"x\",\"" HOSTILE "\"],\"binary\":\"/usr/bin/dash\","
		 "\"start\":\"2026-12-03T07:15:00.000Z\",\"end\":\"2026-12-03T07:15:00.030Z\",\"duration_ms\":30,"
		 "\"exit_code\":0,\"signal\":null,\"calyx_exit_code\":0,\"status\":\"ok\",\"violation\":null,"
		 "\"limits\":{\"effective\":{\"cpu_ms\":10000,\"output_bytes\":1024,\"fsize_bytes\":null},"
		 "\"measured\":{\"cpu_ms\":3,\"output_bytes\":33,\"fsize_bytes\":null,\"fsize_refused_writes\":0}},"
		 "\"denials\":{\"exec\":1,\"file\":null,\"net\":0},"
		 "\"artifacts\":{\"stdout.log\":{\"bytes\":33,\"blake2b\":\"%s\"},\"stderr.log\":{\"bytes\":0,\"blake2b\":\"%s\"},"
		 "\"exit_code.txt\":{\"bytes\":2,\"blake2b\":\"%s\"},\"events.jsonl\":{\"bytes\":1,\"blake2b\":\"%s\"}}}\n",
		 ho, he, hx, hv);
	snprintf(p, sizeof(p), "%s/meta.json", run_dir);
	put(p, meta);
	char hm[65];
	hash_hex(meta, hm);

	char err[256];
	/* Written as calyx writes it (audit/auditlog.h: the audit key made, the tail checked);
	 * not sealed, as a run in progress would leave it: the report allows that tail. */
	int sfd = open(state, O_RDONLY | O_DIRECTORY);
	assert_true(sfd >= 0);
	/* Another lease's record first: not this run's. */
	assert_int_equal(auditlog_append_one(sfd, "exec_event.started", "LEASE-20261203-000000-0000", "I", NULL, false, err, sizeof(err), NULL), 0);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "matrix", "shipped");
	assert_int_equal(auditlog_append_one(sfd, "lease_event.verified", LEASE, "INT-T", d, false, err, sizeof(err), NULL), 0);
	cJSON_Delete(d);
	d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "run", 1);
	assert_int_equal(auditlog_append_one(sfd, "lease_event.consumed", LEASE, "INT-T", d, false, err, sizeof(err), NULL), 0);
	assert_int_equal(auditlog_append_one(sfd, "exec_event.started", LEASE, "INT-T", d, false, err, sizeof(err), NULL), 0);
	cJSON_AddStringToObject(d, "meta_blake2b", hm);
	assert_int_equal(auditlog_append_one(sfd, "exec_event.completed", LEASE, "INT-T", d, false, err, sizeof(err), NULL), 0);
	cJSON_Delete(d);
	close(sfd);
}

static int load(const char *name, struct report_run *r, char *err, size_t errlen)
{
	int fd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	int rc = report_load(fd, state, name, r, err, errlen);
	close(fd);
	return rc;
}

static void test_good_run(void **st)
{
	(void)st;
	make_run();
	struct report_run r;
	char err[1024] = "";
	assert_int_equal(load(LEASE, &r, err, sizeof(err)), 0);
	assert_string_equal(r.lease, LEASE);
	assert_int_equal(r.run, 1);
	assert_true(r.events_present);
	assert_int_equal(cJSON_GetArraySize(r.events), 3);
	assert_int_equal(r.events_bad, 1);
	assert_true(r.out.present);
	assert_int_equal(r.out.size, strlen(OUT));
	assert_memory_equal(r.out.data, OUT, strlen(OUT));
	/* Every file, by name, with the hash meta.json (meta.json: the completion record) holds. */
	assert_int_equal(r.n_artifacts, 5);
	static const char *names[] = { "events.jsonl", "exit_code.txt", "meta.json", "stderr.log", "stdout.log" };
	for (size_t i = 0; i < 5; i++) {
		char p[400], h[65];
		assert_string_equal(r.artifacts[i].name, names[i]);
		snprintf(p, sizeof(p), "%s/%s", run_dir, names[i]);
		file_hash(p, h);
		assert_string_equal(r.artifacts[i].blake2b, h);
		assert_string_equal(r.artifacts[i].recorded, h);
	}
	/* The other lease's record is not this run's. */
	assert_int_equal(cJSON_GetArraySize(r.svf), 4);
	assert_true(r.audit.chain_verifies);
	assert_true(r.audit.verifies);
	assert_int_equal(r.audit.records, 5);
	assert_int_equal(r.audit.started_seq, 4);
	assert_int_equal(r.audit.completed_seq, 5);

	/* The page: the hostile argument as text, no script element, no URL. */
	struct html_buf b = { 0 };
	assert_int_equal(report_html(&r, "calyx test", &b), 0);
	assert_non_null(strstr(b.p, "<code class=\"arg\">&lt;script&gt;alert(1)&lt;/script&gt;</code>"));
	assert_null(strstr(b.p, "<script"));
	assert_null(strstr(b.p, "://"));
	assert_null(strstr(b.p, "src="));
	assert_non_null(strstr(b.p, "<p class=\"verdict v-ok\" id=\"verdict\">verifies</p>"));
	assert_non_null(strstr(b.p, "<span id=\"verdict-short\">audit: verifies</span>"));
	assert_non_null(strstr(b.p, "<td>kill (killed)</td>"));
	assert_non_null(strstr(b.p, "/lib64/ld-linux-x86-64.so.2"));
	html_free(&b);
	report_run_free(&r);
}

static void test_unknown_and_bad_names(void **st)
{
	(void)st;
	make_run();
	struct report_run r;
	char err[1024] = "";
	assert_int_equal(load("LEASE-20261203-071500-ffff", &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no run LEASE-20261203-071500-ffff in "));
	assert_int_equal(load("../x", &r, err, sizeof(err)), -EINVAL);
	assert_int_equal(load("LEASE-a/b", &r, err, sizeof(err)), -EINVAL);
}

static void expect_damaged(const char *meta, const char *msg)
{
	make_run();
	char p[400], err[1024] = "";
	snprintf(p, sizeof(p), "%s/meta.json", run_dir);
	put(p, meta);
	struct report_run r;
	assert_int_equal(load(LEASE, &r, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, msg))
		fail_msg("error '%s' lacks '%s'", err, msg);
}

static void test_damaged_meta(void **st)
{
	(void)st;
	expect_damaged("{\"schema\":1,\"lease\":\"" LEASE "\",", "meta.json is damaged: not a JSON object (the parse stops at byte");
	expect_damaged("", "meta.json is damaged: it is empty");
	expect_damaged("{\"schema\":1,\"lease\":\"" LEASE "\"}\n{\"schema\":1}\n",
		       "meta.json is damaged: something follows the JSON object (byte 50 of 63)");
	expect_damaged("[1]", "meta.json is damaged: not a JSON object");
	expect_damaged("{\"schema\":2,\"lease\":\"" LEASE "\"}", "\"schema\" is another number, expected 1");
	expect_damaged("{\"schema\":1}", "\"lease\" is missing or not a lease id");
	expect_damaged("{\"schema\":1,\"lease\":\"LEASE-20261203-071500-0000\"}",
		       "meta.json is damaged: it is the record of LEASE-20261203-071500-0000 (lease LEASE-20261203-071500-0000, run 1)");
	expect_damaged("{\"schema\":1,\"lease\":\"" LEASE "\",\"run\":2}", "it is the record of " LEASE "-r2");
	/* No meta.json at all. */
	make_run();
	char p[400], err[1024];
	snprintf(p, sizeof(p), "%s/meta.json", run_dir);
	assert_int_equal(unlink(p), 0);
	struct report_run r;
	assert_int_equal(load(LEASE, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "it has no meta.json"));
	/* A symlink where meta.json should be is never followed. */
	assert_int_equal(symlink("/etc/passwd", p), 0);
	assert_int_equal(load(LEASE, &r, err, sizeof(err)), -ELOOP);
}

static void expect_not_verified(const char *msg, bool chain)
{
	struct report_run r;
	char err[1024] = "";
	assert_int_equal(load(LEASE, &r, err, sizeof(err)), 0);
	assert_false(r.audit.verifies);
	assert_int_equal(r.audit.chain_verifies, chain);
	if (!strstr(r.audit.reason, msg))
		fail_msg("reason '%s' lacks '%s'", r.audit.reason, msg);
	struct html_buf b = { 0 };
	assert_int_equal(report_html(&r, "calyx test", &b), 0);
	assert_non_null(strstr(b.p, "<p class=\"verdict v-bad\" id=\"verdict\">does not verify: "));
	assert_non_null(strstr(b.p, "<span id=\"verdict-short\">audit: does not verify</span>"));
	html_free(&b);
	report_run_free(&r);
}

static void test_tampering(void **st)
{
	(void)st;
	char p[400];
	/* An artifact changed after the run. */
	make_run();
	snprintf(p, sizeof(p), "%s/stdout.log", run_dir);
	put(p, "child\nchanged\n");
	expect_not_verified("stdout.log: its BLAKE2b-256 ", true);
	/* meta.json changed (its recorded hashes with it, so that they match the files). */
	make_run();
	snprintf(p, sizeof(p), "%s/meta.json", run_dir);
	FILE *f = fopen(p, "a");
	assert_non_null(f);
	fputs(" ", f);
	fclose(f);
	expect_not_verified("meta.json's BLAKE2b-256 ", true);
	/* A record of the log edited: the chain breaks at its line. */
	make_run();
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "sed -i '3s/\"run\":1/\"run\":7/' '%s/logs/svf_audit/svf.jsonl'", state);
	assert_int_equal(system(cmd), 0);
	expect_not_verified("the audit log does not verify (edited, exit 80 of calyx audit verify): svf.jsonl:3: ", false);
	/* No log at all. */
	make_run();
	snprintf(p, sizeof(p), "%s/logs/svf_audit/svf.jsonl", state);
	assert_int_equal(unlink(p), 0);
	expect_not_verified("there is no audit log", false);
	/* The completion record missing (the log cut before it: the chain still verifies). */
	make_run();
	snprintf(cmd, sizeof(cmd), "sed -i '$d' '%s/logs/svf_audit/svf.jsonl'", state);
	assert_int_equal(system(cmd), 0);
	expect_not_verified("no exec_event.completed record of run 1 of " LEASE, true);
}

/* Hostile strings in every place the page shows one: comm, path, argv of a kill, stdout,
 * status, a file name of the run directory, the verified record's data. */
static void test_hostile_page(void **st)
{
	(void)st;
	make_run();
	char p[400];
	snprintf(p, sizeof(p), "%s/events.jsonl", run_dir);
	put(p, "{\"type\":\"process\",\"pid\":5,\"ppid\":1,\"comm\":\"</code><script>x\",\"start\":null,\"end\":null,"
	       "\"binary\":\"/t/\\u202efdp.exe\",\"argv\":[\"a\\\"b\",\"<img src=x onerror=alert(1)>\"]}\n"
	       "{\"type\":\"deny\",\"ts\":\"2026-12-03T07:15:00.001Z\",\"pid\":5,\"comm\":\"'><svg onload=x>\","
	       "\"class\":\"file\",\"hook\":\"file_open\",\"path\":\"/srv/\\\\xff<b>&amp;\",\"access\":\"read\",\"errno\":13}\n");
	snprintf(p, sizeof(p), "%s/stdout.log", run_dir);
	put(p, "\xff\xfe<script>alert(2)</script>\x1b[2J\n");
	snprintf(p, sizeof(p), "%s/<img src=x onerror=alert(3)>", run_dir);
	put(p, "x");
	snprintf(p, sizeof(p), "%s/meta.json", run_dir);
	put(p, "{\"schema\":1,\"lease\":\"" LEASE "\",\"status\":\"ok\\\" onmouseover=\\\"x\",\"intent\":\"<i>\"}");
	struct report_run r;
	char err[1024] = "";
	assert_int_equal(load(LEASE, &r, err, sizeof(err)), 0);
	assert_false(r.audit.verifies);   /* meta.json changed: its hash is not the recorded one */
	struct html_buf b = { 0 };
	assert_int_equal(report_html(&r, "calyx test", &b), 0);
	/* The only elements are the page's own: none of the hostile ones, no handler. */
	static const char *never[] = { "<script", "<img", "<svg onload", "<b>", "<i>", "onmouseover=\"",
				       "\xe2\x80\xae", "\x1b", "\xff" };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strstr(b.p, never[i]))
			fail_msg("the page holds '%s'", never[i]);
	assert_non_null(strstr(b.p, "<code>&lt;/code&gt;&lt;script&gt;x</code>"));
	assert_non_null(strstr(b.p, "/t/\\u202efdp.exe"));
	assert_non_null(strstr(b.p, "<code class=\"arg\">a&quot;b</code>"));
	assert_non_null(strstr(b.p, "<code class=\"arg\">&lt;img src=x onerror=alert(1)&gt;</code>"));
	assert_non_null(strstr(b.p, "<code class=\"path\">/srv/\\xff&lt;b&gt;&amp;amp;</code>"));
	assert_non_null(strstr(b.p, "&#39;&gt;&lt;svg onload=x&gt;"));
	assert_non_null(strstr(b.p, "\\xff\\xfe&lt;script&gt;alert(2)&lt;/script&gt;\\x1b[2J\n"));
	assert_non_null(strstr(b.p, "<code>&lt;img src=x onerror=alert(3)&gt;</code>"));
	/* An unknown status gets the class "other"; its text is shown escaped. */
	assert_non_null(strstr(b.p, "<span class=\"status st-other\" id=\"status\">ok&quot; onmouseover=&quot;x</span>"));
	assert_non_null(strstr(b.p, "&lt;i&gt;"));
	html_free(&b);
	report_run_free(&r);
}

/* The second run of a multi-run lease: LEASE-…-r2, its own records (run 2), not run 1's. */
static void test_second_run(void **st)
{
	(void)st;
	make_run();
	char cmd[1200], log[400], err[1024] = "";
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s-r2' && sed -i 's/\"run\":1,\"runs_allowed\":1/\"run\":2,\"runs_allowed\":2/' '%s-r2/meta.json'",
		 run_dir, run_dir, run_dir);
	assert_int_equal(system(cmd), 0);
	snprintf(log, sizeof(log), "%s/logs/svf_audit/svf.jsonl", state);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddNumberToObject(d, "run", 2);
	assert_int_equal(svf_append_one(log, "lease_event.consumed", LEASE, "INT-T", d, err, sizeof(err)), 0);
	assert_int_equal(svf_append_one(log, "exec_event.started", LEASE, "INT-T", d, err, sizeof(err)), 0);
	cJSON_Delete(d);
	struct report_run r;
	assert_int_equal(load(LEASE "-r2", &r, err, sizeof(err)), 0);
	assert_int_equal(r.run, 2);
	/* verified (no run) + consumed and started of run 2; none of run 1's */
	assert_int_equal(cJSON_GetArraySize(r.svf), 3);
	const cJSON *rec;
	cJSON_ArrayForEach(rec, r.svf) {
		const cJSON *n = cJSON_GetObjectItem(cJSON_GetObjectItem(rec, "data"), "run");
		assert_true(!n || n->valuedouble == 2);
	}
	assert_true(r.audit.chain_verifies);
	assert_false(r.audit.verifies);
	assert_int_equal(r.audit.started_seq, 7);
	assert_string_equal(r.audit.reason, "the log has no exec_event.completed record of run 2 of " LEASE);
	report_run_free(&r);
}

static void test_ts(void **st)
{
	(void)st;
	int64_t us;
	assert_int_equal(report_parse_ts_us("2026-12-03T07:15:00Z", &us), 0);
	assert_int_equal(us, 1796282100LL * 1000000);
	assert_int_equal(report_parse_ts_us("2026-12-03T07:15:00.46Z", &us), 0);
	assert_int_equal(us, 1796282100LL * 1000000 + 460000);
	assert_int_equal(report_parse_ts_us("2026-12-03T07:15:00.123456789Z", &us), 0);
	assert_int_equal(us, 1796282100LL * 1000000 + 123456);
	assert_int_equal(report_parse_ts_us("2026-12-03 07:15:00Z", &us), -EINVAL);
	assert_int_equal(report_parse_ts_us(NULL, &us), -EINVAL);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_run),
		cmocka_unit_test(test_unknown_and_bad_names),
		cmocka_unit_test(test_damaged_meta),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_hostile_page),
		cmocka_unit_test(test_second_run),
		cmocka_unit_test(test_ts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
