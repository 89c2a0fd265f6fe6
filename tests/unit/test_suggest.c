/* links: policy/suggest policy/pathpat policy/limits policy/argv base/units base/errmsg */
/* `calyx lease suggest`'s derivation (policy/suggest.c) on hand-made runs: a bpf-lsm run
 * whose events hold deny and would_deny (audit-only) lines of every kind, a script run by
 * the command tree, a limit that stopped the run, lost records, a binary run with many
 * argvs or a spoofed argv[0]; the claims and the flags byte for byte, and the --cmd
 * quoting read back by the lease's own splitter. The file system is a fake
 * (struct suggest_host). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/argv.h"
#include "policy/suggest.h"

/* ------------------------------------------------------------------ the fake host */

/* Bare names through the sandbox PATH: cat, wc, sh (-> dash), curl; paths as they are. */
static int fake_resolve(const char *argv0, char out[PATH_MAX], void *ctx)
{
	(void)ctx;
	static const char *const names[][2] = {
		{ "cat", "/usr/bin/cat" }, { "wc", "/usr/bin/wc" }, { "sh", "/usr/bin/dash" },
		{ "/bin/sh", "/usr/bin/dash" }, { "curl", "/usr/bin/curl" }, { "grep", "/usr/bin/grep" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(argv0, names[i][0]) == 0) {
			snprintf(out, PATH_MAX, "%s", names[i][1]);
			return 0;
		}
	if (argv0[0] != '/')
		return -ENOENT;
	snprintf(out, PATH_MAX, "%s", argv0);
	return 0;
}

/* /srv/tool.sh is a "#!/bin/sh" script; nothing else is one. */
static int fake_script(const char *path, struct shebang *sb, void *ctx)
{
	(void)ctx;
	if (strcmp(path, "/srv/tool.sh") != 0)
		return 0;
	memset(sb, 0, sizeof(*sb));
	snprintf(sb->interp, sizeof(sb->interp), "/bin/sh");
	return 1;
}

static const struct suggest_host host = { fake_resolve, fake_script, NULL };

/* ------------------------------------------------------------------ helpers */

struct result {
	cJSON *claims;
	cJSON *warnings;
	char *json;           /* the claims, compact */
	char *flags;
};

static void derive(const char *meta, const char *events_lines, const char *claims, struct result *r)
{
	cJSON *m = cJSON_Parse(meta);
	cJSON *c = claims ? cJSON_Parse(claims) : NULL;
	assert_non_null(m);
	cJSON *ev = cJSON_CreateArray();
	/* events.jsonl: one object per line */
	char *copy = strdup(events_lines), *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		if (!o)
			fail_msg("fixture line is not JSON: %s", line);
		cJSON_AddItemToArray(ev, o);
	}
	free(copy);
	r->warnings = cJSON_CreateArray();
	char err[256] = "";
	int rc = suggest_build(m, ev, c, &host, &r->claims, r->warnings, err, sizeof(err));
	if (rc != 0)
		fail_msg("suggest_build: %d %s", rc, err);
	r->json = cJSON_PrintUnformatted(r->claims);
	r->flags = suggest_flags(r->claims);
	cJSON_Delete(m);
	cJSON_Delete(c);
	cJSON_Delete(ev);
}

static void result_free(struct result *r)
{
	cJSON_Delete(r->claims);
	cJSON_Delete(r->warnings);
	free(r->json);
	free(r->flags);
}

static bool warned(const struct result *r, const char *part)
{
	const cJSON *w;
	cJSON_ArrayForEach(w, r->warnings)
		if (strstr(w->valuestring, part))
			return true;
	return false;
}

#define META(backend, extra)                                                                         \
	"{\"schema\":1,\"lease\":\"LEASE-20261203-100000-abcd\",\"intent\":\"INT-TEST\",\"run\":1,"      \
	"\"argv\":[\"/srv/job.sh\",\"go\"],\"binary\":\"/srv/job.sh\",\"status\":\"ok\",\"dropped_events\":0," \
	"\"enforcement\":{\"backend\":\"" backend "\"},"                                                  \
	"\"limits\":{\"effective\":{\"cpu_ms\":10000,\"mem_bytes\":268435456,\"pids\":64,\"wall_ms\":300000," \
	"\"output_bytes\":100000,\"fsize_bytes\":null},\"measured\":{\"cpu_ms\":1200,\"mem_bytes\":52428801," \
	"\"pids\":3,\"wall_ms\":2500,\"output_bytes\":100,\"fsize_bytes\":null}}" extra "}"

#define CLAIMS                                                                                       \
	"{\"jti\":\"LEASE-20261203-100000-abcd\",\"intent\":\"INT-TEST\",\"commands\":[[\"/srv/job.sh\",\"go\"]," \
	"[\"unused\",\"x\"]],\"paths\":[{\"pattern\":\"/srv/ro/**\",\"access\":\"ro\"},"                 \
	"{\"pattern\":\"/srv/b/out\",\"access\":\"ro\"}],\"network\":\"deny_all\",\"limits\":{\"fsize_bytes\":1048576}," \
	"\"env\":[\"FOO\"],\"helpers\":[\"gone\"],\"aud\":\"h1\",\"cwd\":\"/srv/ro\"}"

/* The main script (the command itself, as its interpreter's argv) and the probe. */
#define EV_START                                                                                     \
	"{\"type\":\"process\",\"pid\":10,\"comm\":\"calyx\",\"binary\":null,\"argv\":null,\"execs\":[]}\n" \
	"{\"type\":\"process\",\"pid\":11,\"binary\":\"/usr/bin/dash\",\"execs\":[{\"binary\":\"/usr/bin/dash\"," \
	"\"binary_source\":\"kernel\",\"argv\":[\"/bin/sh\",\"/srv/job.sh\",\"go\"],\"argv_truncated\":false}]}\n"

/* ------------------------------------------------------------------ tests */

/* bpf-lsm: every kind of refusal, deny and would_deny alike, and the command tree's execs. */
static void test_bpf_lsm_run(void **state)
{
	(void)state;
	struct result r;
	derive(META("bpf-lsm", ""),
	       EV_START
	       /* a helper the tree ran, with its argv: a command */
	       "{\"type\":\"process\",\"pid\":12,\"execs\":[{\"binary\":\"/usr/bin/cat\",\"argv\":[\"cat\",\"-n\",\"/srv/a/x\"],\"argv_truncated\":false}]}\n"
	       /* two files of one directory refused for reading: their children pattern :ro */
	       "{\"type\":\"deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/srv/a/x\",\"access\":\"read\"}\n"
	       "{\"type\":\"would_deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/srv/a/y\",\"access\":\"read\"}\n"
	       "{\"type\":\"deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/srv/a/x\",\"access\":\"read\"}\n"
	       /* a write of a path the lease had :ro: the same pattern, now :rw */
	       "{\"type\":\"would_deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/srv/b/out\",\"access\":\"write\"}\n"
	       /* one file of another directory: exact; a stat: ro */
	       "{\"type\":\"deny\",\"hook\":\"metadata\",\"class\":\"file\",\"op\":\"stat\",\"path\":\"/srv/etc/conf\"}\n"
	       /* a directory made, and a file in it: its subtree :rw, the file within it */
	       "{\"type\":\"deny\",\"hook\":\"path_mutate\",\"class\":\"file\",\"op\":\"mkdir\",\"path\":\"/srv/c/new\"}\n"
	       "{\"type\":\"deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/srv/c/new/f\",\"access\":\"write\"}\n"
	       /* an unlink: rw, exact */
	       "{\"type\":\"deny\",\"hook\":\"path_mutate\",\"class\":\"file\",\"op\":\"unlink\",\"path\":\"/srv/d/old\"}\n"
	       /* a path spelled with \xNN (not UTF-8): left out, with a warning */
	       "{\"type\":\"deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/srv/e/\\\\xff\",\"access\":\"read\"}\n"
	       /* /proc: left out, with a warning */
	       "{\"type\":\"deny\",\"hook\":\"file_open\",\"class\":\"file\",\"path\":\"/proc/7/status\",\"access\":\"read\"}\n"
	       /* network: a TCP connect and a UDP send, v4 and v6; a socket refused at creation */
	       "{\"type\":\"deny\",\"hook\":\"socket_connect\",\"class\":\"net\",\"family\":\"inet\",\"addr\":\"10.1.2.3\",\"port\":443}\n"
	       "{\"type\":\"would_deny\",\"hook\":\"socket_sendmsg\",\"class\":\"net\",\"family\":\"inet6\",\"addr\":\"2001:db8::1\",\"port\":53}\n"
	       "{\"type\":\"deny\",\"hook\":\"socket_connect\",\"class\":\"net\",\"family\":\"inet\",\"addr\":\"10.1.2.3\",\"port\":443}\n"
	       "{\"type\":\"deny\",\"hook\":\"socket_create\",\"class\":\"net\",\"family\":\"inet\"}\n"
	       /* AF_UNIX to a socket path: that path :rw */
	       "{\"type\":\"deny\",\"hook\":\"socket_connect\",\"class\":\"net\",\"family\":\"unix\",\"path\":\"/srv/run/sock\"}\n"
	       /* an exec killed for its argv (audit-only: would_deny): a command with that argv */
	       "{\"type\":\"would_deny\",\"hook\":\"exec_argv\",\"class\":\"exec\",\"path\":\"/usr/bin/wc\",\"argv\":[\"wc\",\"-l\"],\"argv_truncated\":false}\n"
	       /* an exec bpf-lsm refused before it ran: argv unknown, a helper */
	       "{\"type\":\"deny\",\"hook\":\"bprm_check_security\",\"class\":\"exec\",\"path\":\"/usr/bin/curl\"}\n",
	       CLAIMS, &r);
	assert_string_equal(r.json,
		"{\"intent\":\"INT-TEST\","
		"\"commands\":[[\"/srv/job.sh\",\"go\"],[\"cat\",\"-n\",\"/srv/a/x\"],[\"wc\",\"-l\"]],"
		"\"paths\":[{\"pattern\":\"/srv/ro/**\",\"access\":\"ro\"},{\"pattern\":\"/srv/b/out\",\"access\":\"rw\"},"
		"{\"pattern\":\"/srv/c/new/**\",\"access\":\"rw\"},{\"pattern\":\"/srv/d/old\",\"access\":\"rw\"},"
		"{\"pattern\":\"/srv/run/sock\",\"access\":\"rw\"},{\"pattern\":\"/srv/a/*\",\"access\":\"ro\"},"
		"{\"pattern\":\"/srv/etc/conf\",\"access\":\"ro\"}],"
		"\"network\":{\"allow\":[{\"cidr\":\"10.1.2.3/32\",\"port\":443,\"proto\":\"tcp\"},"
		"{\"cidr\":\"2001:db8::1/128\",\"port\":53,\"proto\":\"udp\"}]},"
		"\"limits\":{\"cpu_ms\":3000,\"mem_bytes\":105906176,\"pids\":8,\"wall_ms\":10000,\"output_bytes\":65536,"
		"\"fsize_bytes\":1048576},"
		"\"env\":[\"FOO\"],\"helpers\":[\"/usr/bin/curl\"],\"aud\":\"h1\",\"cwd\":\"/srv/ro\"}");
	assert_string_equal(r.flags,
		"--intent INT-TEST \\\n"
		"  --cmd '/srv/job.sh go' \\\n"
		"  --cmd 'cat -n /srv/a/x' \\\n"
		"  --cmd 'wc -l' \\\n"
		"  --helper /usr/bin/curl \\\n"
		"  --path '/srv/ro/**:ro' \\\n"
		"  --path /srv/b/out:rw \\\n"
		"  --path '/srv/c/new/**:rw' \\\n"
		"  --path /srv/d/old:rw \\\n"
		"  --path /srv/run/sock:rw \\\n"
		"  --path '/srv/a/*:ro' \\\n"
		"  --path /srv/etc/conf:ro \\\n"
		"  --net allow=10.1.2.3/32:443/tcp \\\n"
		"  --net 'allow=[2001:db8::1/128]:53/udp' \\\n"
		"  --limit cpu=3s,mem=101M,pids=8,wall=10s,output=64K,fsize=1M \\\n"
		"  --env FOO \\\n"
		"  --aud h1 \\\n"
		"  --cwd /srv/ro\n");
	assert_true(warned(&r, "under /proc (/proc/7/status) was left out"));
	assert_true(warned(&r, "the refused path /srv/e/\\xff holds a backslash"));
	assert_true(warned(&r, "refused at creation, before it named an address"));
	assert_true(warned(&r, "the exec of /usr/bin/curl was refused before it ran"));
	assert_false(warned(&r, "landlock"));
	result_free(&r);
}

/* A script the tree ran (the kernel records its interpreter): the script is the command;
 * the same interpreter run by hand with the script as argument is a command of its own. */
static void test_child_script(void **state)
{
	(void)state;
	struct result r;
	derive(META("landlock", ""),
	       EV_START
	       "{\"type\":\"process\",\"pid\":12,\"execs\":[{\"binary\":\"/usr/bin/dash\",\"argv\":[\"/bin/sh\",\"/srv/tool.sh\",\"x y\"],\"argv_truncated\":false}]}\n"
	       "{\"type\":\"process\",\"pid\":13,\"execs\":[{\"binary\":\"/usr/bin/dash\",\"argv\":[\"sh\",\"/srv/tool.sh\"],\"argv_truncated\":false}]}\n",
	       CLAIMS, &r);
	const cJSON *cmds = cJSON_GetObjectItem(r.claims, "commands");
	char *s = cJSON_PrintUnformatted(cmds);
	assert_string_equal(s, "[[\"/srv/job.sh\",\"go\"],[\"/srv/tool.sh\",\"x y\"],[\"sh\",\"/srv/tool.sh\"]]");
	free(s);
	assert_null(cJSON_GetObjectItem(r.claims, "helpers"));   /* "gone" was never run */
	assert_true(warned(&r, "landlock backend: Landlock's own refusals"));
	/* The paths are the recorded ones only: landlock records no file refusal. */
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "paths"));
	assert_string_equal(s, "[{\"pattern\":\"/srv/ro/**\",\"access\":\"ro\"},{\"pattern\":\"/srv/b/out\",\"access\":\"ro\"}]");
	free(s);
	assert_string_equal(cJSON_GetObjectItem(r.claims, "network")->valuestring, "deny_all");
	result_free(&r);
}

/* More argvs than SUGGEST_MAX_ARGVS_PER_BINARY, an argv[0] that names another file, an
 * argv cut short: helpers. */
static void test_helpers(void **state)
{
	(void)state;
	char ev[8192] = EV_START;
	for (int i = 0; i <= SUGGEST_MAX_ARGVS_PER_BINARY; i++)
		snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev),
			 "{\"type\":\"process\",\"pid\":%d,\"execs\":[{\"binary\":\"/usr/bin/grep\",\"argv\":[\"grep\",\"p%d\"],\"argv_truncated\":false}]}\n",
			 20 + i, i);
	strcat(ev, "{\"type\":\"process\",\"pid\":40,\"execs\":[{\"binary\":\"/usr/bin/cat\",\"argv\":[\"notcat\",\"f\"],\"argv_truncated\":false}]}\n");
	strcat(ev, "{\"type\":\"process\",\"pid\":41,\"execs\":[{\"binary\":\"/usr/bin/wc\",\"argv\":[\"wc\",\"long\"],\"argv_truncated\":true}]}\n");
	struct result r;
	derive(META("bpf-lsm", ""), ev, CLAIMS, &r);
	char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "helpers"));
	assert_string_equal(s, "[\"/usr/bin/grep\",\"/usr/bin/cat\",\"/usr/bin/wc\"]");
	free(s);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "commands"));
	assert_string_equal(s, "[[\"/srv/job.sh\",\"go\"]]");
	free(s);
	assert_true(warned(&r, "/usr/bin/grep ran with 9 different argvs"));
	assert_true(warned(&r, "/usr/bin/cat was exec'd with an argv[0] that does not name it"));
	assert_true(warned(&r, "an exec of /usr/bin/wc has no exactly recorded argv"));
	result_free(&r);
}

/* The protocol of a refused destination comes from the record's sock_flags (type, and the
 * protocol in bits 16 and up): a UDP connect is a udp rule, a TCP Fast Open send a tcp
 * rule; only a record without them (0) is guessed from the hook. An audit-only landlock
 * run says its file record holds the opens only. */
static void test_net_protocol(void **state)
{
	(void)state;
	const char *ev = EV_START
		"{\"type\":\"would_deny\",\"hook\":\"socket_connect\",\"class\":\"net\",\"family\":\"inet\",\"sock_flags\":1114114,\"addr\":\"127.0.0.1\",\"port\":53}\n"
		"{\"type\":\"would_deny\",\"hook\":\"socket_sendmsg\",\"class\":\"net\",\"family\":\"inet\",\"sock_flags\":393217,\"addr\":\"127.0.0.1\",\"port\":443}\n"
		"{\"type\":\"would_deny\",\"hook\":\"socket_connect\",\"class\":\"net\",\"family\":\"inet6\",\"sock_flags\":2,\"addr\":\"::1\",\"port\":54}\n"
		"{\"type\":\"would_deny\",\"hook\":\"socket_connect\",\"class\":\"net\",\"family\":\"inet\",\"sock_flags\":0,\"addr\":\"127.0.0.2\",\"port\":80}\n"
		"{\"type\":\"would_deny\",\"hook\":\"socket_sendmsg\",\"class\":\"net\",\"family\":\"inet\",\"sock_flags\":0,\"addr\":\"127.0.0.2\",\"port\":123}\n";
	struct result r;
	derive(META("landlock", ",\"audit_only\":true"), ev, CLAIMS, &r);
	char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "network"));
	assert_string_equal(s, "{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"port\":53,\"proto\":\"udp\"},"
			       "{\"cidr\":\"127.0.0.1/32\",\"port\":443,\"proto\":\"tcp\"},"
			       "{\"cidr\":\"::1/128\",\"port\":54,\"proto\":\"udp\"},"
			       "{\"cidr\":\"127.0.0.2/32\",\"port\":80,\"proto\":\"tcp\"},"
			       "{\"cidr\":\"127.0.0.2/32\",\"port\":123,\"proto\":\"udp\"}]}");
	free(s);
	assert_non_null(strstr(r.flags, "--net allow=127.0.0.1/32:53/udp \\\n"));
	assert_non_null(strstr(r.flags, "--net 'allow=[::1/128]:54/udp' \\\n"));
	assert_true(warned(&r, "the run was audit-only on the landlock backend: of file accesses only the opens"));
	assert_false(warned(&r, "Landlock's own refusals"));
	result_free(&r);
}

/* bpf-lsm audit-only: an exec bprm_check_security would have refused went ahead, so its
 * argv is in the process line: a command with that argv, not a helper; one whose exec left
 * no process line is a helper, said so. */
static void test_audit_only_exec(void **state)
{
	(void)state;
	const char *ev = EV_START
		"{\"type\":\"would_deny\",\"hook\":\"bprm_check_security\",\"class\":\"exec\",\"path\":\"/usr/bin/cat\"}\n"
		"{\"type\":\"process\",\"pid\":12,\"execs\":[{\"binary\":\"/usr/bin/cat\",\"argv\":[\"cat\",\"/srv/in\"],\"argv_truncated\":false}]}\n"
		"{\"type\":\"would_deny\",\"hook\":\"bprm_check_security\",\"class\":\"exec\",\"path\":\"/usr/bin/curl\"}\n";
	struct result r;
	derive(META("bpf-lsm", ",\"audit_only\":true"), ev, CLAIMS, &r);
	char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "commands"));
	assert_string_equal(s, "[[\"/srv/job.sh\",\"go\"],[\"cat\",\"/srv/in\"]]");
	free(s);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "helpers"));
	assert_string_equal(s, "[\"/usr/bin/curl\"]");
	free(s);
	assert_false(warned(&r, "the exec of /usr/bin/cat"));
	assert_true(warned(&r, "the exec of /usr/bin/curl is recorded but not the argv it ran with"));
	result_free(&r);
}

/* Lost records: the recorded commands and helpers stay; a limit that stopped the run gets
 * SUGGEST_HEADROOM_HIT times its bound. */
static void test_incomplete_and_violation(void **state)
{
	(void)state;
	struct result r;
	derive(META("bpf-lsm", ",\"violation\":{\"limit\":\"output_bytes\",\"measured\":100001,\"bound\":100000}")
	       , EV_START, CLAIMS, &r);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.claims, "limits"), "output_bytes")->valuedouble,
			 400384);   /* 4 x 100000, rounded up to 391 KiB */
	assert_true(warned(&r, "stopped by its output_bytes limit (100000)"));
	char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "commands"));
	assert_string_equal(s, "[[\"/srv/job.sh\",\"go\"]]");   /* complete: the unused command goes */
	free(s);
	result_free(&r);

	char meta[4096];
	snprintf(meta, sizeof(meta), "%s", META("bpf-lsm", ""));
	char *d = strstr(meta, "\"dropped_events\":0");
	assert_non_null(d);
	memcpy(d, "\"dropped_events\":5", strlen("\"dropped_events\":5"));
	derive(meta, EV_START, CLAIMS, &r);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "commands"));
	assert_string_equal(s, "[[\"/srv/job.sh\",\"go\"],[\"unused\",\"x\"]]");
	free(s);
	s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r.claims, "helpers"));
	assert_string_equal(s, "[\"gone\"]");
	free(s);
	assert_true(warned(&r, "5 ring-buffer records of the run were lost"));
	result_free(&r);
}

/* No granted claims known: the intent from meta.json, a warning; a meta.json without argv
 * is refused. */
static void test_no_claims_and_bad_meta(void **state)
{
	(void)state;
	struct result r;
	derive(META("bpf-lsm", ""), EV_START, NULL, &r);
	assert_string_equal(cJSON_GetObjectItem(r.claims, "intent")->valuestring, "INT-TEST");
	assert_true(warned(&r, "the recorded lease's claims are unknown"));
	/* mem measured 50 MiB + 1 byte: 2x rounded up to whole MiB */
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(r.claims, "limits"), "mem_bytes")->valuedouble,
			 101.0 * 1048576);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(r.claims, "limits"), "fsize_bytes"));
	result_free(&r);

	cJSON *m = cJSON_Parse("{\"schema\":1,\"intent\":\"INT-X\"}"), *w = cJSON_CreateArray(), *out = NULL;
	char err[256];
	assert_int_equal(suggest_build(m, NULL, NULL, &host, &out, w, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "meta.json has no argv (the command that was run)");
	assert_null(out);
	cJSON_Delete(m);
	cJSON_Delete(w);
}

/* More helpers than a lease holds: still suggested, with a warning naming the cap. */
static void test_over_the_caps(void **state)
{
	(void)state;
	char ev[16384] = EV_START;
	for (int i = 0; i < 33; i++)
		snprintf(ev + strlen(ev), sizeof(ev) - strlen(ev),
			 "{\"type\":\"process\",\"pid\":%d,\"execs\":[{\"binary\":\"/opt/b%d\",\"argv\":[\"x\"],\"argv_unread\":true}]}\n",
			 100 + i, i);
	struct result r;
	derive(META("bpf-lsm", ""), ev, CLAIMS, &r);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.claims, "helpers")), 33);
	assert_true(warned(&r, "the suggestion has 33 helpers, more than a lease holds (32)"));
	result_free(&r);
}

/* --cmd quoting: what suggest_quote_arg writes, lease_split_command reads back as it was. */
static void test_quote_roundtrip(void **state)
{
	(void)state;
	const char *args[] = { "plain", "a b", "it's", "$HOME", "x\"y", "back\\slash", "|", "semi;colon",
			       "new\nline", "'\"$`\\", "*.py", "~" };
	char line[4096] = "";
	for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		char q[256];
		assert_int_equal(suggest_quote_arg(args[i], q, sizeof(q)), 0);
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s", i ? " " : "", q);
	}
	struct argv_list a;
	char err[256];
	assert_int_equal(lease_split_command(line, &a, err, sizeof(err)), 0);
	assert_int_equal(a.argc, sizeof(args) / sizeof(args[0]));
	for (size_t i = 0; i < a.argc; i++)
		assert_string_equal(a.argv[i], args[i]);
	argv_list_free(&a);
	char small[4];
	assert_int_equal(suggest_quote_arg("a b c", small, sizeof(small)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bpf_lsm_run),
		cmocka_unit_test(test_child_script),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_net_protocol),
		cmocka_unit_test(test_audit_only_exec),
		cmocka_unit_test(test_incomplete_and_violation),
		cmocka_unit_test(test_no_claims_and_bad_meta),
		cmocka_unit_test(test_over_the_caps),
		cmocka_unit_test(test_quote_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
