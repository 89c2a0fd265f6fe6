/* The seccomp filter of the sandboxed command, installed by the child (sandbox/spawn.c)
 * after no_new_privs and before exec. */
#ifndef CALYX_SECCOMP_H
#define CALYX_SECCOMP_H

/* clone3 fails ENOSYS (libcs fall back to clone): CLONE_INTO_CGROUP would let a command
 * running as root start children outside its sandbox cgroup (seccomp.c says why).
 * Async-signal-safe: one prctl. 0 or -errno. */
int seccomp_deny_clone3(void);

#endif
