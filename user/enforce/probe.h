/* Feature probes for `calyx doctor` (probe.c). Each really loads (and attaches) a test
 * program. 0 with a description, or -errno with the reason, in why. */
#ifndef CALYX_ENFORCE_PROBE_H
#define CALYX_ENFORCE_PROBE_H
#include <stddef.h>

/* BPF LSM usable? "bpf" in /sys/kernel/security/lsm (mounting securityfs if needed) and a
 * tiny lsm/ program really loads and attaches. */
int enforcer_probe_bpf_lsm(char *why, size_t len);
int enforcer_probe_tp_btf(char *why, size_t len);
int enforcer_probe_cgroup_sock(char *why, size_t len);
/* /sys/kernel/security/lsm (mounting securityfs when needed) into buf. 0 or -errno. */
int enforcer_lsm_list(char *buf, size_t len);

#endif
