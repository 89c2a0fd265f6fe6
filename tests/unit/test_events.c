/* links: sentinel/events sentinel/jsonfmt */
/* Kill records (struct calyx_kill_event) in events.jsonl: whether the SIGKILL was sent, the
 * argv as strings, its size and truncation. A kill that was not sent must never read as
 * one that was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "sentinel/events.h"

/* The record's events.jsonl line, formatted and parsed back (cJSON: an independent
 * parser of what the hand-written formatter wrote). */
static cJSON *event_to_json(const struct calyx_event *ev, int64_t mono_to_real_ns)
{
	struct jbuf b = { 0 };
	event_format_denial(&b, ev, mono_to_real_ns, NULL);
	assert_false(b.oom);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(j);
	jb_free(&b);
	return j;
}

static struct calyx_kill_event *kill_record(int err, const char *argv, uint32_t shown, uint32_t total, uint32_t flags)
{
	struct calyx_kill_event *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->d.ev.type = CALYX_EV_KILL;
	k->d.ev.hook = CALYX_HOOK_EXEC_ARGV;
	k->d.ev.size = sizeof(*k);
	k->d.err = err;
	strcpy(k->path, "/usr/bin/python3");
	memcpy(k->argv, argv, shown);
	k->shown = shown;
	k->argv_len = total;
	k->argv_flags = flags;
	return k;
}

static void test_kill_sent(void **state)
{
	(void)state;
	struct calyx_kill_event *k = kill_record(9, "python3\0-c\0print(1)", 20, 20, 0);
	cJSON *j = event_to_json(&k->d.ev, 0);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "hook")->valuestring, "exec_argv");
	assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "exec");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "killed")));
	assert_null(cJSON_GetObjectItem(j, "kill_error"));
	cJSON *a = cJSON_GetObjectItem(j, "argv");
	assert_int_equal(cJSON_GetArraySize(a), 3);
	assert_string_equal(cJSON_GetArrayItem(a, 0)->valuestring, "python3");
	assert_string_equal(cJSON_GetArrayItem(a, 1)->valuestring, "-c");
	assert_string_equal(cJSON_GetArrayItem(a, 2)->valuestring, "print(1)");
	assert_int_equal(cJSON_GetObjectItem(j, "argv_bytes")->valueint, 20);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "argv_truncated")));
	assert_string_equal(event_svf_type(&k->d.ev), "exec_event.denied");
	cJSON_Delete(j);
	free(k);
}

static void test_kill_not_sent(void **state)
{
	(void)state;
	struct calyx_kill_event *k = kill_record(-1 /* -EPERM */, "x", 2, 2, 0);
	cJSON *j = event_to_json(&k->d.ev, 0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "killed")));
	assert_int_equal(cJSON_GetObjectItem(j, "kill_error")->valueint, 1);
	cJSON_Delete(j);
	free(k);
}

static void test_truncated_and_unread(void **state)
{
	(void)state;
	/* the shown bytes end inside an argument: the last string is the cut one */
	struct calyx_kill_event *k = kill_record(9, "hello\0aaaa", 10, 5000, CALYX_KILL_ARGV_TRUNCATED);
	cJSON *j = event_to_json(&k->d.ev, 0);
	cJSON *a = cJSON_GetObjectItem(j, "argv");
	assert_int_equal(cJSON_GetArraySize(a), 2);
	assert_string_equal(cJSON_GetArrayItem(a, 1)->valuestring, "aaaa");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "argv_truncated")));
	assert_int_equal(cJSON_GetObjectItem(j, "argv_bytes")->valueint, 5000);
	cJSON_Delete(j);
	free(k);
	k = kill_record(9, "", 0, 100, CALYX_KILL_ARGV_UNREAD | CALYX_KILL_ARGV_TRUNCATED);
	j = event_to_json(&k->d.ev, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "argv_unread")));
	assert_null(cJSON_GetObjectItem(j, "argv"));
	cJSON_Delete(j);
	free(k);
	/* a shown count past the buffer is never read past it */
	k = kill_record(9, "a", 2, 2, 0);
	k->shown = 1u << 30;
	j = event_to_json(&k->d.ev, 0);
	assert_non_null(cJSON_GetObjectItem(j, "argv"));
	cJSON_Delete(j);
	free(k);
}

/* The denials of the hooks bpf/meta.bpf.c, host.bpf.c (IPC, keys) and net.bpf.c (bind,
 * recvmsg) add: their class, SVF type and detail fields. */
static cJSON *deny_json(uint32_t hook, uint32_t family, uint32_t flags, const char *path)
{
	struct calyx_deny_path_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.d.ev.type = CALYX_EV_DENY;
	ev.d.ev.hook = hook;
	ev.d.ev.size = path ? sizeof(ev) : sizeof(ev.d);
	ev.d.err = 13;
	ev.d.family = family;
	ev.d.flags = flags;
	if (path)
		strcpy(ev.path, path);
	return event_to_json(&ev.d.ev, 0);
}

static const char *svf_of(uint32_t hook, uint32_t family)
{
	static struct calyx_deny_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ev.type = CALYX_EV_DENY;
	ev.ev.hook = hook;
	ev.ev.size = sizeof(ev);
	ev.family = family;
	return event_svf_type(&ev.ev);
}

static void test_new_denials(void **state)
{
	(void)state;
	cJSON *j = deny_json(CALYX_HOOK_META, 0, CALYX_META_READLINK, "/etc/secret-link");
	assert_string_equal(cJSON_GetObjectItem(j, "hook")->valuestring, "metadata");
	assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "file");
	assert_string_equal(cJSON_GetObjectItem(j, "op")->valuestring, "readlink");
	assert_string_equal(cJSON_GetObjectItem(j, "path_source")->valuestring, "kernel");
	cJSON_Delete(j);
	assert_string_equal(svf_of(CALYX_HOOK_META, 0), "file_event.denied");

	j = deny_json(CALYX_HOOK_IPC, CALYX_IPC_SHM_ASSOC, 0, NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "hook")->valuestring, "ipc");
	assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "other");
	assert_string_equal(cJSON_GetObjectItem(j, "op")->valuestring, "shmget");
	cJSON_Delete(j);
	assert_string_equal(svf_of(CALYX_HOOK_IPC, CALYX_IPC_MQ_OPEN), "ipc_event.denied");

	j = deny_json(CALYX_HOOK_KEY, CALYX_KEY_PERMISSION, 1, NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "op")->valuestring, "key_permission");
	assert_int_equal(cJSON_GetObjectItem(j, "need_perm")->valueint, 1);
	cJSON_Delete(j);
	assert_string_equal(svf_of(CALYX_HOOK_KEY, CALYX_KEY_ALLOC), "key_event.denied");

	j = deny_json(CALYX_HOOK_SOCKET_BIND, 1, 0, NULL);
	assert_string_equal(cJSON_GetObjectItem(j, "hook")->valuestring, "socket_bind");
	assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "net");
	assert_string_equal(cJSON_GetObjectItem(j, "family")->valuestring, "unix");
	cJSON_Delete(j);
	assert_string_equal(svf_of(CALYX_HOOK_SOCKET_RECVMSG, 2), "net_event.denied");
	/* other "other" denials stay out of the SVF log */
	assert_null(svf_of(CALYX_HOOK_MOUNT, 1));
}

/* Audit-only (docs/audit-only.md): a would-deny record's line is the denial's line with
 * type "would_deny" and every other field the same; its SVF type is <class>_event.would_deny;
 * it counts in would_deny, never in denials. A kill not carried out in audit-only mode says
 * killed false and no kill_error (nothing failed). */
static void test_would_deny(void **state)
{
	(void)state;
	struct calyx_deny_path_event r;
	memset(&r, 0, sizeof(r));
	r.d.ev.type = CALYX_EV_DENY;
	r.d.ev.hook = CALYX_HOOK_FILE_OPEN;
	r.d.ev.size = sizeof(r);
	r.d.err = 13;
	r.d.flags = 1;
	strcpy(r.path, "/etc/shadow");
	cJSON *denied = event_to_json(&r.d.ev, 0);
	r.d.verdict = CALYX_VERDICT_WOULD_DENY;
	cJSON *would = event_to_json(&r.d.ev, 0);
	assert_string_equal(cJSON_GetObjectItem(denied, "type")->valuestring, "deny");
	assert_string_equal(cJSON_GetObjectItem(would, "type")->valuestring, "would_deny");
	cJSON_ReplaceItemInObject(would, "type", cJSON_CreateString("deny"));
	assert_true(cJSON_Compare(denied, would, true));   /* the same fields, the same values */
	cJSON_Delete(denied);
	cJSON_Delete(would);
	assert_string_equal(event_svf_type(&r.d.ev), "file_event.would_deny");
	struct event_counts c;
	memset(&c, 0, sizeof(c));
	event_count(&c, &r.d.ev);
	assert_int_equal(c.would_deny[DENY_FILE], 1);
	assert_int_equal(c.denials[DENY_FILE], 0);
	r.d.verdict = CALYX_VERDICT_DENIED;
	event_count(&c, &r.d.ev);
	assert_int_equal(c.denials[DENY_FILE], 1);
	assert_string_equal(event_svf_type(&r.d.ev), "file_event.denied");

	struct calyx_kill_event *k = kill_record(0, "x\0y", 4, 4, 0);
	k->d.verdict = CALYX_VERDICT_WOULD_DENY;
	cJSON *j = event_to_json(&k->d.ev, 0);
	assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "would_deny");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "killed")));
	assert_null(cJSON_GetObjectItem(j, "kill_error"));
	assert_string_equal(event_svf_type(&k->d.ev), "exec_event.would_deny");
	cJSON_Delete(j);
	free(k);
}

/* A socket record names an address only when it has one (CALYX_SOCK_ADDR): a socket
 * being created has none, and the record says nothing rather than 0.0.0.0:0. The flag
 * bits never leak into sock_flags. */
static void test_net_address_only_when_there_is_one(void **state)
{
	(void)state;
	struct calyx_deny_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.ev.type = CALYX_EV_DENY;
	ev.ev.hook = CALYX_HOOK_SOCKET_CREATE;
	ev.ev.size = sizeof(ev);
	ev.family = 2; /* AF_INET */
	ev.flags = 1 | 6 << 16;
	cJSON *j = event_to_json(&ev.ev, 0);
	assert_null(cJSON_GetObjectItem(j, "addr"));
	assert_null(cJSON_GetObjectItem(j, "port"));
	assert_int_equal(cJSON_GetObjectItem(j, "sock_flags")->valueint, 1 | 6 << 16);
	cJSON_Delete(j);

	ev.ev.hook = CALYX_HOOK_SOCKET_SENDMSG;
	ev.flags = CALYX_SOCK_ADDR;
	ev.port = 47112;
	const uint8_t lo[4] = { 127, 0, 0, 1 };
	memcpy(ev.addr, lo, 4);
	j = event_to_json(&ev.ev, 0);
	assert_string_equal(cJSON_GetObjectItem(j, "addr")->valuestring, "127.0.0.1");
	assert_int_equal(cJSON_GetObjectItem(j, "port")->valueint, 47112);
	assert_int_equal(cJSON_GetObjectItem(j, "sock_flags")->valueint, 0);
	cJSON_Delete(j);

	ev.family = 10; /* AF_INET6 */
	memset(ev.addr, 0, sizeof(ev.addr));
	ev.addr[15] = 1;
	ev.port = 0;
	j = event_to_json(&ev.ev, 0);
	assert_string_equal(cJSON_GetObjectItem(j, "addr")->valuestring, "::1");
	assert_int_equal(cJSON_GetObjectItem(j, "port")->valueint, 0);
	cJSON_Delete(j);
}

/* A socket denial with an address (CALYX_SOCK_ADDR). */
static struct calyx_deny_event sock_deny(uint32_t hook, uint32_t family, uint16_t port)
{
	struct calyx_deny_event d;
	memset(&d, 0, sizeof(d));
	d.ev.type = CALYX_EV_DENY;
	d.ev.hook = hook;
	d.ev.size = sizeof(d);
	d.family = family;
	d.flags = CALYX_SOCK_ADDR;
	d.port = port;
	return d;
}

/* Addresses of socket denials: IPv4 written by hand (the flood path), IPv6 by inet_ntop. */
static void test_addresses(void **state)
{
	(void)state;
	static const struct { uint8_t a[4]; const char *text; } v4[] = {
		{ { 127, 0, 0, 1 }, "127.0.0.1" }, { { 0, 0, 0, 0 }, "0.0.0.0" },
		{ { 255, 255, 255, 0 }, "255.255.255.0" }, { { 10, 99, 100, 9 }, "10.99.100.9" },
	};
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		struct calyx_deny_event d = sock_deny(CALYX_HOOK_SOCKET_CONNECT, 2, 9);
		memcpy(d.addr, v4[i].a, 4);
		cJSON *j = event_to_json(&d.ev, 0);
		assert_string_equal(cJSON_GetObjectItem(j, "addr")->valuestring, v4[i].text);
		assert_int_equal(cJSON_GetObjectItem(j, "port")->valueint, 9);
		assert_string_equal(cJSON_GetObjectItem(j, "family")->valuestring, "inet");
		cJSON_Delete(j);
	}
	struct calyx_deny_event d = sock_deny(CALYX_HOOK_SOCKET_SENDMSG, 10, 53);
	d.addr[15] = 1;
	cJSON *j = event_to_json(&d.ev, 0);
	assert_string_equal(cJSON_GetObjectItem(j, "addr")->valuestring, "::1");
	assert_string_equal(cJSON_GetObjectItem(j, "family")->valuestring, "inet6");
	assert_null(cJSON_GetObjectItem(j, "path"));   /* no path in a 96-byte record */
	cJSON_Delete(j);
}

/* The cache of the task fields' text: the same line as without it, for the same task and
 * after any field of the task changed. */
static void test_head_cache(void **state)
{
	(void)state;
	struct event_head_cache hc = { 0 };
	struct calyx_deny_event d;
	memset(&d, 0, sizeof(d));
	d.ev.type = CALYX_EV_DENY;
	d.ev.hook = CALYX_HOOK_SOCKET_CREATE;
	d.ev.size = sizeof(d);
	d.ev.pid = d.ev.tgid = 10;
	d.ev.ppid = 1;
	d.ev.cgroup_id = 99;
	strcpy(d.ev.comm, "a\"b");
	for (int step = 0; step < 7; step++) {
		switch (step) {
		case 2: d.ev.pid = 11; break;
		case 3: d.ev.tgid = 12; break;
		case 4: d.ev.ppid = 2; break;
		case 5: d.ev.cgroup_id = 100; break;
		case 6: d.ev.comm[0] = 'z'; break;
		}
		d.ev.ts_ns += 1000;
		struct jbuf with = { 0 }, without = { 0 };
		event_format_denial(&with, &d.ev, 0, &hc);
		event_format_denial(&without, &d.ev, 0, NULL);
		assert_int_equal(with.len, without.len);
		assert_memory_equal(with.p, without.p, with.len);
		jb_free(&with);
		jb_free(&without);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_sent),
		cmocka_unit_test(test_kill_not_sent),
		cmocka_unit_test(test_truncated_and_unread),
		cmocka_unit_test(test_new_denials),
		cmocka_unit_test(test_net_address_only_when_there_is_one),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_head_cache),
		cmocka_unit_test(test_would_deny),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
