/* The sandbox's own namespaces, its session keyring and its working directory
 * (docs/run.md "The sandbox's view and namespaces"): what the child sets up for itself
 * between the clone and entering its cgroup. OS-touching module used by sandbox/spawn.c;
 * everything here runs in the child of a raw clone, so it is async-signal-safe (system
 * calls only, no allocation) and reports -errno. */
#ifndef CALYX_SANDBOX_NAMESPACES_H
#define CALYX_SANDBOX_NAMESPACES_H
#include <stdbool.h>

/* The sandbox's host name (its own UTS namespace). */
#define SANDBOX_HOSTNAME "calyx"

struct sandbox_ns {
	/* A new network namespace with only loopback (brought up): the lease's network is
	 * deny_all, so no interface, address, socket (sock_diag) or abstract AF_UNIX name
	 * of the host's is reachable. */
	bool net;
	const char *hostname;   /* set in the new UTS namespace */
	const char *cwd;        /* the working directory, absolute: the lease's cwd or "/" */
};

/* The CLONE_NEW* flags for the sandbox's namespaces but PID and cgroup (PID is the
 * spawn's own choice; cgroup is made once inside the sandbox cgroup, so its root is the
 * sandbox cgroup: sandbox_ns_enter_cgroup). */
unsigned long sandbox_ns_clone_flags(const struct sandbox_ns *ns);

/* In the child, in its new namespaces, still outside its cgroup and with all its
 * privileges: the host name, loopback up (net), and a fresh anonymous session keyring
 * (KEYCTL_JOIN_SESSION_KEYRING: no keyring of the caller's, nor of another run's, is
 * the sandbox's session keyring). Before seccomp (which refuses keyctl) and before the
 * cgroup (whose programs may refuse key and socket calls). 0 or -errno. */
int sandbox_ns_setup(const struct sandbox_ns *ns);

/* In the child: move itself into the cgroup beneath cgroup_fd ("0" into its cgroup.procs;
 * a v2 or a v1 directory). Async-signal-safe. 0 or -errno. */
int sandbox_ns_join_cgroup(int cgroup_fd);
/* In the child: move itself into the sandbox cgroup (cgroup.procs beneath cgroup_fd),
 * then a new cgroup namespace rooted there (/proc/self/cgroup shows "/", not the host's
 * hierarchy). 0 or -errno. */
int sandbox_ns_enter_cgroup(int cgroup_fd);

#endif
