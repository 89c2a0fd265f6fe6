/* try_bpf: the bpf() syscall from inside a sandbox (map create, then walking the program
 * ids, the first step of any detach). Prints "ok <op>" or errno=NAME for each; exits 0
 * only if every call was refused, so "the sandbox can reach bpf()" is a visible failure. */
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int main(void)
{
	union bpf_attr a;
	int allowed = 0;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = 1;
	long fd = sys_bpf(BPF_MAP_CREATE, &a);
	if (fd >= 0) {
		printf("ok map_create\n");
		allowed++;
	} else {
		report_errno("map_create", errno);
	}

	memset(&a, 0, sizeof(a));
	a.start_id = 0;
	if (sys_bpf(BPF_PROG_GET_NEXT_ID, &a) == 0) {
		printf("ok prog_get_next_id %u\n", a.next_id);
		allowed++;
	} else {
		report_errno("prog_get_next_id", errno);
	}
	return allowed ? 3 : 0;
}
