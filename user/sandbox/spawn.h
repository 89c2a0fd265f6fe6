/* The child process of a sandbox: started in its own namespaces (sandbox/namespaces.h)
 * with a fresh session keyring, entering the sandbox cgroup itself, with fds 0-2 only, a
 * new session (and PID namespace), the bounding set cut down, the credentials of the
 * matrix's run_as, the working directory, no_new_privs, the seccomp filter and the
 * backend's confinement, then exec'd. OS-touching module used by the runner. No logging: -errno plus a message. */
#ifndef CALYX_SANDBOX_SPAWN_H
#define CALYX_SANDBOX_SPAWN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct landlock_plan;
struct seccomp_baseline;
struct sandbox_ns;
struct mountns;
struct view_plan;

/* Fixed PATH of the sandbox: used to resolve lease commands and passed to the child. */
#define SANDBOX_PATH "/usr/local/bin:/usr/bin:/bin"

/* What the child applies to itself after dropping privileges, before exec. */
struct sandbox_confine {
	const struct landlock_plan *landlock;   /* landlock backend: the prepared ruleset */
};
/* The confinement hook (runs in the child; async-signal-safe). 0 or -errno. */
int sandbox_child_confine(const struct sandbox_confine *c);

struct sandbox_spawn {
	const char *path;            /* resolved file to execve (no PATH search) */
	char *const *argv;
	char *const *envp;
	int cgroup_fd;               /* the sandbox cgroup */
	/* The sandbox's cgroup v1 directories (hybrid hosts: memory, pids; sandbox/cgroup_v1.h),
	 * -1 entries skipped: the child joins each before its v2 cgroup, so no instruction of
	 * the command runs outside them. */
	const int *v1_fds;
	size_t n_v1;
	/* RLIMIT_FSIZE (soft and hard: the command cannot raise it) set just before exec; 0
	 * leaves the inherited one. The output pipes are no files: unaffected. */
	uint64_t fsize;
	bool drop_privs;             /* setgroups/setgid/setuid to uid/gid */
	uid_t uid;
	gid_t gid;
	const struct sandbox_confine *confine;
	/* The sandbox's namespaces, host name and working directory (sandbox/namespaces.h);
	 * NULL: IPC and UTS namespaces, the default host name, "/". */
	const struct sandbox_ns *ns;
	/* The sandbox's private mount view (sandbox/mountns.h), built in a new mount
	 * namespace before the cgroup; its plan's /proc rules go into the Landlock ruleset
	 * inside the view. NULL: the host's mounts (no mount namespace). */
	const struct mountns *view;
	const struct view_plan *view_plan;
	/* The seccomp baseline (enforce/seccomp.h), required: the child installs it after
	 * no_new_privs and hands its listener to the runner (sandbox_child.notify_fd). */
	const struct seccomp_baseline *seccomp;
	/* clone3 only: the child is init of a new PID namespace, so when it dies (also by
	 * PR_SET_PDEATHSIG when the runner is SIGKILLed) the kernel kills every process
	 * of the sandbox: nothing survives its runner. */
	bool new_pidns;
	/* Confinement liveness check, optional. The child waits after entering the cgroup
	 * and a probe fork inside it (its own creation was outside) and execs only once live_check has returned 1: the runner
	 * has seen the enforcer report a fork in this sandbox's cgroup with this sandbox's
	 * id, so the scope check the programs make really matches this cgroup. live_check
	 * is polled every 2 ms: 1 seen, 0 not yet, -errno error. Not seen within
	 * live_timeout_ms: the child is killed, stage SB_STAGE_LIVE. */
	int (*live_check)(void *ctx);
	void *live_ctx;
	int live_timeout_ms;
};

struct sandbox_child {
	pid_t pid;
	int pidfd;                   /* -1 when none */
	int out_fd;                  /* read ends of the child's stdout / stderr pipes */
	int err_fd;
	bool clone3;                 /* started with clone3 (namespaces, pidfd), else fork + unshare */
	bool pidns;                  /* it is init of its own PID namespace */
	int notify_fd;               /* the seccomp filter's user-notification listener */
};

/* Which step of the child failed (reported through the CLOEXEC status pipe). */
enum sandbox_stage {
	SB_STAGE_NONE = 0, SB_STAGE_SETUP, SB_STAGE_CREDS, SB_STAGE_NNP, SB_STAGE_CONFINE,
	SB_STAGE_EXEC, SB_STAGE_CGROUP, SB_STAGE_LIVE, SB_STAGE_NAMESPACES, SB_STAGE_CWD,
	/* Building the mount view: SB_STAGE_VIEW + enum mountns_step. */
	SB_STAGE_VIEW = 20, SB_STAGE_VIEW_LAST = 29,
};
const char *sandbox_stage_name(int stage);

/* Start the child (clone3 with its namespaces, else fork + unshare), which enters the
 * cgroup itself before anything of the command runs; wait until it has exec'd or failed. Returns 0 with *c filled
 * (the child is running the command), or -errno; when the child started but failed
 * before or at exec, *stage and *child_errno say where. On failure no child exists
 * (it has been reaped). A child whose seccomp listener did not arrive is killed:
 * stage SB_STAGE_CONFINE. */
int sandbox_spawn(const struct sandbox_spawn *s, struct sandbox_child *c, int *stage,
		  int *child_errno, char *err, size_t errlen);

#endif
