/* links: sentinel/procs sentinel/events sentinel/jsonfmt */
/* Process lines: fork, exec and exit records of one tgid become one events.jsonl line
 * (its execs in order, its exit status and counters); threads are no processes; a lost
 * exit leaves the line with end null, written at the end or when the pid is reused; the
 * totals are the sums of the lines (the largest RSS for the peak); the CPU split is the
 * kernel's proportion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "sentinel/procs.h"

static void head(struct calyx_event *ev, uint32_t type, uint32_t pid, uint32_t tgid, uint32_t ppid, uint64_t ts,
		 size_t size)
{
	memset(ev, 0, size);
	ev->type = type;
	ev->pid = pid;
	ev->tgid = tgid;
	ev->ppid = ppid;
	ev->ts_ns = ts;
	ev->size = (uint16_t)size;
	ev->cgroup_id = 77;
	snprintf(ev->comm, sizeof(ev->comm), "p%u", tgid);
}

static void fork_rec(struct procs *t, struct jbuf *out, uint32_t pid, uint32_t tgid, uint32_t ppid, uint64_t ts)
{
	struct calyx_fork_event f;
	head(&f.ev, CALYX_EV_FORK, pid, tgid, ppid, ts, sizeof(f));
	procs_record(t, &f.ev, out);
}

static void exec_rec(struct procs *t, struct jbuf *out, uint32_t tgid, const char *bin, const char *argv, size_t n,
		     uint32_t flags)
{
	static struct calyx_exec_event x;
	head(&x.ev, CALYX_EV_EXEC, tgid, tgid, 1, 2000, sizeof(x));
	strcpy(x.binary, bin);
	memcpy(x.argv, argv, n);
	x.shown = (uint32_t)n;
	x.argv_len = (uint32_t)n;
	x.flags = flags;
	procs_record(t, &x.ev, out);
}

static void exit_rec(struct procs *t, struct jbuf *out, uint32_t tgid, int status, uint64_t cpu, uint64_t rss)
{
	struct calyx_exit_event x;
	head(&x.ev, CALYX_EV_EXIT, tgid, tgid, 1, 5000, sizeof(x));
	x.status = status;
	x.cpu_ns = cpu;
	x.utime_ns = 3;
	x.stime_ns = 1;
	x.maxrss_kb = rss;
	x.min_flt = 10;
	x.maj_flt = 1;
	x.nvcsw = 2;
	x.nivcsw = 3;
	x.read_bytes = 4096;
	x.write_bytes = 8192;
	x.rchar = 100;
	x.wchar = 200;
	procs_record(t, &x.ev, out);
}

/* The lines in out, parsed (NULL-terminated array; each line must be one JSON object). */
static cJSON **lines(const struct jbuf *out, int *n)
{
	cJSON **v = calloc(out->len / 2 + 1, sizeof(*v));   /* a line is more than 2 bytes */
	*n = 0;
	const char *p = out->p, *end = out->p + out->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		v[*n] = cJSON_ParseWithLength(p, (size_t)(nl - p));
		if (!v[*n])
			fail_msg("not JSON: %.*s", (int)(nl - p), p);
		(*n)++;
		p = nl + 1;
	}
	return v;
}

static void free_lines(cJSON **v, int n)
{
	for (int i = 0; i < n; i++)
		cJSON_Delete(v[i]);
	free(v);
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!v)
		fail_msg("no %s", k);
	return v;
}

static void test_one_process(void **state)
{
	(void)state;
	struct procs t;
	struct jbuf out = { 0 };
	procs_init(&t, 1000000000ll * 1764655896);
	fork_rec(&t, &out, 100, 100, 1, 1000);
	fork_rec(&t, &out, 101, 100, 100, 1500);     /* a thread of it: no process */
	exec_rec(&t, &out, 100, "/bin/sh", "sh\0-c\0x", 8, 0);
	exec_rec(&t, &out, 100, "env", "env\0ls", 7, CALYX_EXEC_BINARY_NAME | CALYX_EXEC_ARGV_TRUNCATED);
	assert_int_equal(out.len, 0);                /* nothing until it ends */
	exit_rec(&t, &out, 100, 3 << 8, 4000, 512);
	int n;
	cJSON **v = lines(&out, &n);
	assert_int_equal(n, 1);
	const cJSON *l = v[0];
	assert_string_equal(get(l, "type")->valuestring, "process");
	assert_int_equal(get(l, "pid")->valueint, 100);
	assert_int_equal(get(l, "ppid")->valueint, 1);
	assert_string_equal(get(l, "binary")->valuestring, "env");
	assert_string_equal(get(l, "binary_source")->valuestring, "exec_name");
	assert_true(cJSON_IsTrue(get(l, "argv_truncated")));
	assert_string_equal(cJSON_GetArrayItem(get(l, "argv"), 1)->valuestring, "ls");
	const cJSON *ex = get(l, "execs");
	assert_int_equal(cJSON_GetArraySize(ex), 2);
	assert_string_equal(get(cJSON_GetArrayItem(ex, 0), "binary")->valuestring, "/bin/sh");
	assert_string_equal(get(cJSON_GetArrayItem(ex, 0), "binary_source")->valuestring, "kernel");
	assert_int_equal(cJSON_GetArraySize(get(cJSON_GetArrayItem(ex, 0), "argv")), 3);
	assert_int_equal(get(cJSON_GetArrayItem(ex, 0), "argv_bytes")->valueint, 8);
	assert_string_equal(get(cJSON_GetArrayItem(ex, 1), "binary")->valuestring, "env");
	assert_true(cJSON_IsString(get(l, "start")));
	assert_true(cJSON_IsString(get(l, "end")));
	assert_int_equal(get(l, "exit_code")->valueint, 3);
	assert_true(cJSON_IsNull(get(l, "signal")));
	const cJSON *c = get(l, "counters");
	assert_int_equal(get(c, "cpu_ns")->valueint, 4000);
	assert_int_equal(get(c, "user_ns")->valueint, 3000);   /* 3:1 */
	assert_int_equal(get(c, "sys_ns")->valueint, 1000);
	assert_int_equal(get(c, "maxrss_kb")->valueint, 512);
	assert_int_equal(get(c, "wchar")->valueint, 200);
	assert_int_equal(t.totals.processes, 1);
	free_lines(v, n);
	procs_free(&t);
	jb_free(&out);
}

static void test_tree_totals_and_unfinished(void **state)
{
	(void)state;
	struct procs t;
	struct jbuf out = { 0 };
	procs_init(&t, 0);
	fork_rec(&t, &out, 10, 10, 1, 1);
	exec_rec(&t, &out, 10, "/bin/sh", "sh", 3, 0);
	/* many children: the table grows past its first size */
	for (uint32_t pid = 1000; pid < 1300; pid++)
		fork_rec(&t, &out, pid, pid, 10, 2);
	for (uint32_t pid = 1000; pid < 1300; pid += 2)
		exit_rec(&t, &out, pid, 9 /* SIGKILL */, 10, pid);
	int n;
	cJSON **v = lines(&out, &n);
	assert_int_equal(n, 150);
	/* a child that never exec'd runs its parent's image */
	assert_string_equal(get(v[0], "binary")->valuestring, "/bin/sh");
	assert_string_equal(get(v[0], "binary_source")->valuestring, "parent");
	assert_int_equal(cJSON_GetArraySize(get(v[0], "execs")), 0);
	assert_int_equal(get(v[0], "signal")->valueint, 9);
	assert_true(cJSON_IsNull(get(v[0], "exit_code")));
	free_lines(v, n);
	jb_reset(&out);
	/* pid 1001 reused (its exit was lost): its old line ends, end null */
	fork_rec(&t, &out, 1001, 1001, 10, 9);
	v = lines(&out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(get(v[0], "pid")->valueint, 1001);
	assert_true(cJSON_IsNull(get(v[0], "end")));
	assert_true(cJSON_IsNull(get(v[0], "counters")));
	free_lines(v, n);
	jb_reset(&out);
	exit_rec(&t, &out, 10, 0, 1000, 7);
	procs_flush(&t, &out);
	v = lines(&out, &n);
	/* the shell, then the 150 still open in the order they were first seen */
	assert_int_equal(n, 1 + 150);
	assert_int_equal(get(v[0], "pid")->valueint, 10);
	/* in the order first seen: the odd pids 1001..1299, the reused 1001 (newest) last */
	for (int i = 1; i < n; i++)
		assert_true(cJSON_IsNull(get(v[i], "end")));
	assert_int_equal(get(v[1], "pid")->valueint, 1003);
	assert_int_equal(get(v[n - 1], "pid")->valueint, 1001);
	free_lines(v, n);
	assert_int_equal(t.totals.processes, 151);
	assert_int_equal(t.totals.sum.cpu_ns, 150 * 10 + 1000);
	assert_int_equal(t.totals.sum.maxrss_kb, 1298);       /* the largest, not a sum */
	assert_int_equal(t.totals.sum.min_flt, 151 * 10);
	assert_int_equal(t.totals.sum.wchar, 151 * 200);
	assert_int_equal(t.totals.lines, 1 + 150 + 151);
	assert_int_equal(t.totals.unfinished, 151);
	procs_free(&t);
	jb_free(&out);
}

/* The kernel adds a reaped child's I/O to its parent's: the parent's line is its own. */
static void test_reaped_child_io(void **state)
{
	(void)state;
	struct procs t;
	struct jbuf out = { 0 };
	procs_init(&t, 0);
	fork_rec(&t, &out, 20, 20, 1, 1);
	fork_rec(&t, &out, 21, 21, 20, 2);
	struct calyx_exit_event x;
	head(&x.ev, CALYX_EV_EXIT, 21, 21, 20, 3, sizeof(x));   /* the child: parent 20 */
	x.wchar = 1000;
	x.rchar = 10;
	x.write_bytes = 4096;
	procs_record(&t, &x.ev, &out);
	head(&x.ev, CALYX_EV_EXIT, 20, 20, 1, 4, sizeof(x));    /* the parent: its own + the child's */
	x.wchar = 1000 + 7;
	x.rchar = 10 + 5;
	x.write_bytes = 4096;
	x.read_bytes = 0;
	procs_record(&t, &x.ev, &out);
	int n;
	cJSON **v = lines(&out, &n);
	assert_int_equal(n, 2);
	assert_int_equal(get(get(v[0], "counters"), "wchar")->valueint, 1000);
	const cJSON *pc = get(v[1], "counters");
	assert_int_equal(get(pc, "wchar")->valueint, 7);
	assert_int_equal(get(pc, "rchar")->valueint, 5);
	assert_int_equal(get(pc, "write_bytes")->valueint, 0);
	assert_int_equal(t.totals.sum.wchar, 1007);   /* the tree's: each byte once */
	free_lines(v, n);
	procs_free(&t);
	jb_free(&out);
}

/* An exec loop: the first PROC_MAX_EXECS are listed, the rest counted; the image is the last. */
static void test_exec_cap(void **state)
{
	(void)state;
	struct procs t;
	struct jbuf out = { 0 };
	procs_init(&t, 0);
	fork_rec(&t, &out, 30, 30, 1, 1);
	for (int i = 0; i < PROC_MAX_EXECS + 10; i++)
		exec_rec(&t, &out, 30, i == PROC_MAX_EXECS + 9 ? "/bin/last" : "/bin/loop", "x", 2, 0);
	exit_rec(&t, &out, 30, 0, 1, 1);
	int n;
	cJSON **v = lines(&out, &n);
	assert_int_equal(n, 1);
	assert_int_equal(cJSON_GetArraySize(get(v[0], "execs")), PROC_MAX_EXECS);
	assert_int_equal(get(v[0], "execs_omitted")->valueint, 10);
	assert_string_equal(get(v[0], "binary")->valuestring, "/bin/last");
	free_lines(v, n);
	procs_free(&t);
	jb_free(&out);
}

static void test_cpu_split(void **state)
{
	(void)state;
	uint64_t u, s;
	proc_split_cpu(1000, 0, 0, &u, &s);
	assert_true(u == 1000 && s == 0);
	proc_split_cpu(1000, 5, 0, &u, &s);
	assert_true(u == 1000 && s == 0);
	proc_split_cpu(1000, 0, 5, &u, &s);
	assert_true(u == 0 && s == 1000);
	proc_split_cpu(1000, 1, 2, &u, &s);
	assert_true(s == 666 && u == 334);
	/* no overflow with large products */
	proc_split_cpu(UINT64_MAX / 2, UINT64_MAX / 4, UINT64_MAX / 4, &u, &s);
	assert_true(u + s == UINT64_MAX / 2 && s == UINT64_MAX / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_process),
		cmocka_unit_test(test_tree_totals_and_unfinished),
		cmocka_unit_test(test_reaped_child_io),
		cmocka_unit_test(test_exec_cap),
		cmocka_unit_test(test_cpu_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
