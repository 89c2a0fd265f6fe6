/* The seccomp filter every sandboxed command runs under (see seccomp.h). */
#include "enforce/seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>


#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#define X32_SYSCALL_BIT 0x40000000U

/* clone3 fails ENOSYS (libcs fall back to clone): CLONE_INTO_CGROUP takes an O_PATH
 * descriptor of any cgroup directory (no file_open hook, no Landlock right), and the
 * kernel then checks only write permission on the common ancestor's cgroup.procs, which
 * uid 0 owns. A command running as root would start children outside its sandbox
 * cgroup, out of the scope of every BPF program. Seccomp cannot look into clone3's
 * arguments, so the whole call goes. x86-64 (also x32) and i386 numbers. */
int seccomp_deny_clone3(void)
{
	struct sock_filter f[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 5, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3 | X32_SYSCALL_BIT, 4, 3),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 2),
		/* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* i386 clone3 */, 1, 0),
		/* 8 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
}

