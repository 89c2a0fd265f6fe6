// SPDX-License-Identifier: GPL-2.0
/* Feature probes for `calyx doctor` and backend selection: each program is loaded (and
 * attached) on its own, with autoload off for the others. Like systemd's
 * bpf_restrict_fs_supported(), "bpf" in the LSM list proves nothing: only a real
 * load + attach of an lsm/ program does. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* A rarely called hook: the probe is attached for a moment only. */
SEC("lsm/sb_pivotroot")
int BPF_PROG(probe_lsm, const struct path *old, const struct path *new, int ret)
{
	return ret;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(probe_tp_btf, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}

SEC("cgroup/connect4")
int probe_cgroup_sock(struct bpf_sock_addr *ctx)
{
	return 1;
}
