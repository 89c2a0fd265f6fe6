/* links: run/summary run/termout sentinel/events sentinel/jsonfmt sentinel/syscall_events */
/* The end-of-run summary (run/summary.h): the examples kept per class (their text, their
 * repeats, the first 3 distinct only), what is neutralised before it is shown, and the
 * lines printed for a run's meta.json, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <linux/audit.h>

#include "run/summary.h"

/* A denial record (bpf/calyx.h): with a path, the path record's size; else the plain one. */
static struct calyx_deny_path_event deny(uint32_t hook, uint32_t family, uint32_t flags, const char *path)
{
	struct calyx_deny_path_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.d.ev.type = CALYX_EV_DENY;
	ev.d.ev.hook = hook;
	ev.d.ev.size = path ? sizeof(ev) : sizeof(ev.d);
	ev.d.family = family;
	ev.d.flags = flags;
	ev.d.err = 13;
	if (path)
		snprintf(ev.path, sizeof(ev.path), "%s", path);
	return ev;
}

static void test_file_examples_and_repeats(void **state)
{
	(void)state;
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	struct calyx_deny_path_event a = deny(CALYX_HOOK_FILE_OPEN, 0, 1, "/etc/shadow");
	struct calyx_deny_path_event b = deny(CALYX_HOOK_PATH_MUTATE, 0, CALYX_MUT_UNLINK, "/root/x");
	struct calyx_deny_path_event c = deny(CALYX_HOOK_META, 0, CALYX_META_GETATTR, "/srv/secret");
	summary_collect_event(&s, &a.d.ev);
	summary_collect_event(&s, &b.d.ev);
	summary_collect_event(&s, &a.d.ev);
	summary_collect_event(&s, &c.d.ev);
	const struct summary_class *f = &s.cls[DENY_FILE];
	assert_int_equal(f->seen, 4);
	assert_int_equal(f->n, 3);
	assert_string_equal(f->ex[0], "/etc/shadow (read)");
	assert_int_equal(f->count[0], 2);
	assert_string_equal(f->ex[1], "/root/x (unlink)");
	assert_string_equal(f->ex[2], "/srv/secret (stat)");
	/* a fourth distinct one is counted, not kept; a repeat of a kept one still counts */
	struct calyx_deny_path_event d = deny(CALYX_HOOK_FILE_OPEN, 0, 2, "/etc/passwd");
	summary_collect_event(&s, &d.d.ev);
	summary_collect_event(&s, &b.d.ev);
	assert_int_equal(f->seen, 6);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->count[1], 2);
	/* records that are no denials are ignored */
	struct calyx_deny_path_event e = deny(0, 0, 0, "/bin/sh");
	e.d.ev.type = CALYX_EV_EXEC;
	summary_collect_event(&s, &e.d.ev);
	assert_int_equal(s.cls[DENY_EXEC].seen, 0);
}

static void test_net_texts(void **state)
{
	(void)state;
	char t[SUMMARY_EXAMPLE_MAX];
	struct calyx_deny_path_event ev = deny(CALYX_HOOK_SOCKET_CREATE, 2, 1, NULL);
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "inet (socket)");

	ev = deny(CALYX_HOOK_SOCKET_SENDMSG, 2, CALYX_SOCK_ADDR, NULL);
	const uint8_t v4[4] = { 10, 0, 0, 1 };
	memcpy(ev.d.addr, v4, 4);
	ev.d.port = 80;
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "inet 10.0.0.1:80 (send)");

	ev = deny(CALYX_HOOK_SOCKET_CONNECT, 10, CALYX_SOCK_ADDR, NULL);
	ev.d.addr[15] = 1;
	ev.d.port = 443;
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "inet6 [::1]:443 (connect)");

	ev = deny(CALYX_HOOK_SOCKET_CONNECT, 1, CALYX_SOCK_PEER_RESOLVED, "/run/docker.sock");
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "unix /run/docker.sock (connect)");

	ev = deny(CALYX_HOOK_SOCKET_BIND, 1, 0, NULL);
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "unix (bind)");

	ev = deny(CALYX_HOOK_MOUNT, 0, 0, NULL);
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "mount");
	ev = deny(CALYX_HOOK_IPC, CALYX_IPC_MSG_ALLOC, 0, NULL);
	summary_event_text(&ev.d.ev, t, sizeof(t));
	assert_string_equal(t, "ipc msgget_create");
}

static void test_exec_kill_text(void **state)
{
	(void)state;
	struct calyx_kill_event *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->d = deny(CALYX_HOOK_EXEC_ARGV, 0, 0, NULL).d;
	k->d.ev.type = CALYX_EV_KILL;
	k->d.ev.size = sizeof(*k);
	k->d.err = 9;
	strcpy(k->path, "/usr/bin/python3");
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	summary_collect_event(&s, &k->d.ev);
	assert_string_equal(s.cls[DENY_EXEC].ex[0], "/usr/bin/python3 (argv, killed)");
	k->d.ev.hook = CALYX_HOOK_EXEC_IMAGE;
	char t[SUMMARY_EXAMPLE_MAX];
	summary_event_text(&k->d.ev, t, sizeof(t));
	assert_string_equal(t, "/usr/bin/python3 (killed)");
	free(k);
}

static void test_seccomp_texts(void **state)
{
	(void)state;
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	struct syscall_denial d = { .arch = AUDIT_ARCH_X86_64, .nr = 425, .tid = 7, .err = 1 };
	summary_collect_syscall(&s, &d);
	assert_int_equal(s.cls[DENY_SYSCALL].seen, 1);
	assert_string_equal(s.cls[DENY_SYSCALL].ex[0], "io_uring_setup");
	struct syscall_denial n = { .arch = AUDIT_ARCH_X86_64, .nr = 41, .tid = 7, .err = 1, .args = { 16, 3 } };
	summary_collect_syscall(&s, &n);
	assert_int_equal(s.cls[DENY_NET].seen, 1);
	assert_string_equal(s.cls[DENY_NET].ex[0], "netlink (socket, seccomp)");
}

/* Controls, C1, bidi, invalid bytes, and also \n and \t, are spelled out. */
static void test_safe(void **state)
{
	(void)state;
	const char in[] = "a\x1b]52;c;x\x07\nb\tc\xe2\x80\xae\xc2\x9b\xff";
	char out[SUMMARY_SAFE_MAX(sizeof(in))];
	summary_safe(in, sizeof(in) - 1, out);
	assert_string_equal(out, "a\\x1b]52;c;x\\x07\\x0ab\\x09c\\u202e\\u009b\\xff");
	summary_safe("/plain/path", 11, out);
	assert_string_equal(out, "/plain/path");
}

static char *print_of(const struct run_summary *s, const char *meta_text)
{
	cJSON *meta = cJSON_Parse(meta_text);
	assert_non_null(meta);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	summary_print(f, s, meta);
	fclose(f);
	cJSON_Delete(meta);
	return buf;
}

/* A bpf-lsm run: denials of three classes (one kept example per class), a limit given as
 * meta.json's violation object, an unenforced limit, a missing lease path, lost records,
 * and the denial rule that turned its exit code. */
static void test_print_full(void **state)
{
	(void)state;
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	struct calyx_deny_path_event a = deny(CALYX_HOOK_FILE_OPEN, 0, 1, "/etc/sh\nadow");
	summary_collect_event(&s, &a.d.ev);
	summary_collect_event(&s, &a.d.ev);
	struct calyx_deny_path_event n = deny(CALYX_HOOK_SOCKET_CONNECT, 2, CALYX_SOCK_ADDR, NULL);
	n.d.port = 80;
	summary_collect_event(&s, &n.d.ev);
	struct syscall_denial d = { .arch = AUDIT_ARCH_X86_64, .nr = 425, .tid = 7, .err = 1 };
	summary_collect_syscall(&s, &d);
	char *out = print_of(&s, "{\"lease\": \"LEASE-1\", \"status\": \"limit\", \"exit_code\": 0, \"signal\": null,"
		" \"calyx_exit_code\": 123, \"duration_ms\": 40,"
		" \"violation\": {\"limit\": \"cpu_ms\", \"measured\": 1050, \"bound\": 1000, \"how\": \"x\"},"
		" \"enforcement\": {\"backend\": \"bpf-lsm\", \"resident\": {\"denied\": 9}},"
		" \"limits\": {\"effective\": {\"cpu_ms\": 1000}, \"enforced\": {\"wall_ms\": \"runner timerfd\","
		"   \"mem_bytes\": \"not enforced: no memory controller\", \"pids\": \"pids.max\"}},"
		" \"lease_paths_missing\": [{\"pattern\": \"/in/**\", \"path\": \"/in\", \"why\": \"No such file or directory\"}],"
		" \"denials\": {\"exec\": 0, \"file\": 5, \"net\": 1, \"other\": 0, \"syscall\": 1},"
		" \"seccomp\": {\"refusals\": 1}, \"dropped_events\": 2,"
		" \"fail_on_denial\": {\"enabled\": true, \"by\": \"matrix\", \"denials\": 10, \"exit_code_turned\": false}}");
	assert_string_equal(out,
		"calyx: summary of LEASE-1: limit, exit 123 (the command's 0), 40 ms\n"
		"calyx:   denied        7: file 5, net 1, syscall 1\n"
		"calyx:     file        /etc/sh\\x0aadow (read) x2, +3 more\n"
		"calyx:     net         inet 0.0.0.0:80 (connect)\n"
		"calyx:     syscall     io_uring_setup\n"
		"calyx:   limit hit     cpu_ms: measured 1050 ms, bound 1000 ms\n"
		"calyx:   not enforced  mem_bytes (no memory controller)\n"
		"calyx:   missing       /in/** (/in): No such file or directory at the start\n"
		"calyx:   records lost  2 dropped; the enforcer refused 9 operations, 3 of them have no record: "
		"the examples are incomplete\n"
		"calyx:   denial rule   10 denied, the exit code was not 0 already (matrix)\n");
	free(out);
}

/* An audit-only run (docs/audit-only.md): the would-denies go to their own classes, not the
 * denials', and print as the "audit-only" line with their examples; the landlock note. */
static void test_print_audit_only(void **state)
{
	(void)state;
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	struct calyx_deny_path_event a = deny(CALYX_HOOK_FILE_OPEN, 0, 1, "/etc/shadow");
	a.d.verdict = CALYX_VERDICT_WOULD_DENY;
	summary_collect_event(&s, &a.d.ev);
	struct syscall_denial d = { .arch = AUDIT_ARCH_X86_64, .nr = 425, .tid = 7, .err = 1, .would_deny = true };
	summary_collect_syscall(&s, &d);
	assert_int_equal(s.cls[DENY_FILE].seen, 0);
	assert_int_equal(s.would[DENY_FILE].seen, 1);
	assert_int_equal(s.would[DENY_SYSCALL].seen, 1);
	char *out = print_of(&s, "{\"lease\": \"LEASE-2\", \"status\": \"ok\", \"exit_code\": 0, \"signal\": null,"
		" \"calyx_exit_code\": 0, \"duration_ms\": 5,"
		" \"enforcement\": {\"backend\": \"landlock\", \"resident\": {\"denied\": 0}},"
		" \"denials\": {\"exec\": 0, \"file\": 0, \"net\": 0, \"other\": 0, \"syscall\": 0},"
		" \"audit_only\": true,"
		" \"would_deny\": {\"exec\": 0, \"file\": 1, \"net\": 0, \"other\": 0, \"syscall\": 1},"
		" \"seccomp\": {\"refusals\": 0, \"continued\": 1}, \"dropped_events\": 0}");
	assert_string_equal(out,
		"calyx: summary of LEASE-2: ok, exit 0, 5 ms\n"
		"calyx:   denied        none recorded\n"
		"calyx:   audit-only    2 would-deny: file 1, syscall 1 (landlock backend: metadata reads are not observed)\n"
		"calyx:     file        /etc/shadow (read)\n"
		"calyx:     syscall     io_uring_setup\n");
	free(out);
}

/* A landlock run that never started its command, with nothing denied; the limit named by
 * a string, measured from the run; the one-line form of a run that never got that far. */
static void test_print_other_forms(void **state)
{
	(void)state;
	struct run_summary s;
	memset(&s, 0, sizeof(s));
	char *out = print_of(&s, "{\"lease\": \"LEASE-2\", \"status\": \"timeout\", \"exit_code\": null,"
		" \"signal\": 9, \"calyx_exit_code\": 124, \"duration_ms\": 1003, \"violation\": \"wall_ms\","
		" \"start_error\": \"exec: Permission\\u001b denied\","
		" \"enforcement\": {\"backend\": \"landlock\", \"resident\": {\"denied\": 0}},"
		" \"limits\": {\"effective\": {\"wall_ms\": 1000}, \"enforced\": {}},"
		" \"lease_paths_missing\": [], \"denials\": {\"exec\": 0, \"file\": null, \"net\": 0, \"other\": 0, \"syscall\": 0},"
		" \"seccomp\": {\"refusals\": 0}, \"dropped_events\": 0,"
		" \"fail_on_denial\": {\"enabled\": true, \"by\": \"--fail-on-denial\", \"denials\": 0, \"exit_code_turned\": false}}");
	assert_string_equal(out,
		"calyx: summary of LEASE-2: timeout, exit 124 (the command died of signal 9), 1003 ms\n"
		"calyx:   not started   the command never ran: exec: Permission\\x1b denied\n"
		"calyx:   denied        none recorded (landlock backend: Landlock's own refusals are enforced but not seen)\n"
		"calyx:   limit hit     wall_ms: measured 1003 ms, bound 1000 ms\n"
		"calyx:   denial rule   no denial seen (--fail-on-denial); Landlock's own refusals are not seen, so they "
		"cannot count\n");
	free(out);

	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	summary_print_not_started(f, 69, true, false);
	summary_print_not_started(f, 70, true, true);
	fclose(f);
	assert_string_equal(buf, "calyx: summary: the command did not start (exit 69); the lease was used\n"
			    "calyx: summary: the run failed before its meta.json was written (exit 70); the lease was used\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_examples_and_repeats),
		cmocka_unit_test(test_net_texts),
		cmocka_unit_test(test_exec_kill_text),
		cmocka_unit_test(test_seccomp_texts),
		cmocka_unit_test(test_safe),
		cmocka_unit_test(test_print_full),
		cmocka_unit_test(test_print_audit_only),
		cmocka_unit_test(test_print_other_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
