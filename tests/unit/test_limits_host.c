/* links: sandbox/limits_host sandbox/cgroup_v1 policy/limits base/cgroupfs base/fileio base/mountinfo base/units base/errmsg */
/* How each limit is enforced on a host (sandbox/limits_host.c): the one decision `calyx
 * run` (before the ledger) and `calyx doctor` share, from the facts a probe found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sandbox/limits_host.h"

static struct limit_how decide(const struct limits_host *h, enum limit_kind k)
{
	struct limit_how o;
	limits_host_decide(h, k, &o);
	return o;
}

/* Pure v2 with both controllers (the VM): v2 for memory and pids. */
static void test_pure_v2(void **state)
{
	(void)state;
	struct limits_host h = { .v2 = { true, true }, .cpu_stat = true };
	struct limit_how o = decide(&h, LIMIT_MEM);
	assert_int_equal(o.mech, LM_CGROUP_V2);
	assert_non_null(strstr(o.how, "memory.max, memory.swap.max 0 and memory.oom.group 1"));
	assert_int_equal(decide(&h, LIMIT_PIDS).mech, LM_CGROUP_V2);
	assert_int_equal(decide(&h, LIMIT_CPU).mech, LM_CPU_POLL);
	assert_int_equal(decide(&h, LIMIT_WALL).mech, LM_RUNNER);
	assert_int_equal(decide(&h, LIMIT_OUTPUT).mech, LM_RUNNER);
	assert_int_equal(decide(&h, LIMIT_FSIZE).mech, LM_RLIMIT);
}

/* Hybrid (this project's hosts): v1 memory with memsw, v1 pids. */
static void test_hybrid(void **state)
{
	(void)state;
	struct limits_host h = { .cpu_stat = true, .v1 = { true, true }, .memsw = true, .swap_on = true };
	strcpy(h.v1_dir[CG1_MEMORY], "/sys/fs/cgroup/memory/x");
	strcpy(h.v1_dir[CG1_PIDS], "/sys/fs/cgroup/pids");
	struct limit_how o = decide(&h, LIMIT_MEM);
	assert_int_equal(o.mech, LM_CGROUP_V1);
	assert_string_equal(o.how, "cgroup v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes below "
				   "/sys/fs/cgroup/memory/x (memory + swap; the OOM killer on excess), then cgroup.kill");
	o = decide(&h, LIMIT_PIDS);
	assert_int_equal(o.mech, LM_CGROUP_V1);
	assert_non_null(strstr(o.how, "cgroup v1 pids.max below /sys/fs/cgroup/pids"));
	/* v1 memory without swap accounting: enforceable only while no swap is on. */
	h.memsw = false;
	o = decide(&h, LIMIT_MEM);
	assert_int_equal(o.mech, LM_NONE);
	assert_non_null(strstr(o.how, "does not account swap"));
	h.swap_on = false;
	assert_int_equal(decide(&h, LIMIT_MEM).mech, LM_CGROUP_V1);
}

/* Neither hierarchy: none, and why. No cpu.stat: cpu cannot be enforced. */
static void test_none(void **state)
{
	(void)state;
	struct limits_host h = { .cpu_stat = false };
	strcpy(h.v1_why[CG1_PIDS], "no cgroup v1 pids hierarchy is mounted");
	struct limit_how o = decide(&h, LIMIT_PIDS);
	assert_int_equal(o.mech, LM_NONE);
	assert_string_equal(o.how, "the pids controller is not in the cgroup v2 hierarchy and no cgroup v1 pids "
				   "hierarchy is mounted");
	o = decide(&h, LIMIT_MEM);
	assert_int_equal(o.mech, LM_NONE);
	assert_string_equal(o.how, "the memory controller is not in the cgroup v2 hierarchy and no cgroup v1 "
				   "hierarchy offers it");
	assert_int_equal(decide(&h, LIMIT_CPU).mech, LM_NONE);
	/* the runner's own and the rlimit need nothing of the host */
	assert_int_equal(decide(&h, LIMIT_WALL).mech, LM_RUNNER);
	assert_int_equal(decide(&h, LIMIT_FSIZE).mech, LM_RLIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure_v2),
		cmocka_unit_test(test_hybrid),
		cmocka_unit_test(test_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
