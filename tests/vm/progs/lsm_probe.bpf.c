/* The VM's BPF LSM self-check: deny file_open for one process only (target_tgid), so the
 * probe proves the kernel both loads an lsm/ program and enforces its verdict. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct file;

__u32 target_tgid = 0;

SEC("lsm/file_open")
int BPF_PROG(probe_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) == target_tgid)
		return -1; /* -EPERM */
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
