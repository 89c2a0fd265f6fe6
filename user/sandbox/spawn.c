/* The child process of a sandbox: started inside its cgroup, stripped of privileges and
 * confined, then exec'd (see spawn.h). */
#include "sandbox/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/errmsg.h"
#include "base/fileio.h"
#include "enforce/landlock.h"
#include "enforce/seccomp.h"
#include "sandbox/mountns.h"
#include "sandbox/namespaces.h"


/* ---- child ---- */

const char *sandbox_stage_name(int stage)
{
	switch (stage) {
	case SB_STAGE_SETUP: return "setting up the child";
	case SB_STAGE_CREDS: return "dropping privileges";
	case SB_STAGE_NNP: return "setting no_new_privs";
	case SB_STAGE_CONFINE: return "applying the confinement";
	case SB_STAGE_EXEC: return "exec";
	case SB_STAGE_CGROUP: return "entering the sandbox cgroup";
	case SB_STAGE_LIVE: return "verifying that the enforcer sees the sandbox";
	case SB_STAGE_NAMESPACES: return "setting up the sandbox's namespaces and session keyring";
	case SB_STAGE_CWD: return "entering the working directory";
	default:
		if (stage >= SB_STAGE_VIEW && stage <= SB_STAGE_VIEW_LAST)
			return mountns_step_name(stage - SB_STAGE_VIEW);
		return "starting";
	}
}

int sandbox_child_confine(const struct sandbox_confine *c)
{
	if (!c || !c->landlock)
		return 0;   /* bpf-lsm: the programs attached to the cgroup already confine us */
	return landlock_apply(c->landlock);
}

struct child_fds {
	int devnull, out, err, status, go;
	bool forked;  /* plain fork (no clone3): the namespaces are still to be made */
	int notify;   /* the child's end of the socketpair the seccomp listener goes through */
	/* The runner's ends of those pipes, closed first thing in the child: while the child
	 * holds the status pipe's read end the pipe never reports the runner gone (POLLERR),
	 * and while it holds the go pipe's write end a runner that died never gives it EOF. */
	int parent_ends[5];
};

/* One fd over a unix socket (SCM_RIGHTS). Async-signal-safe. 0 or -errno. */
static int send_fd(int sock, int fd)
{
	char byte = 'L';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -(n < 0 ? errno : EIO);
}

/* The one fd the child sent before exec (already queued: exec came after). -errno when
 * there is none or the message is not exactly one fd. */
static int recv_fd(int sock)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (n != 1 || (mh.msg_flags & MSG_CTRUNC) || !cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* What a command running as uid 0 keeps: file ownership and permission overrides,
 * signals, changing its own ids, low ports (Docker's default set, less what the enforcer
 * cannot mediate or what reaches the host: NET_RAW, MKNOD, SYS_CHROOT, SETPCAP, SETFCAP,
 * AUDIT_WRITE). Everything else (SYS_MODULE: init_module() from memory, SYS_ADMIN,
 * SYS_BOOT, SYS_TIME, SYS_RAWIO, BPF, NET_ADMIN, DAC_READ_SEARCH: open_by_handle_at, ...)
 * is beyond what any LSM hook here decides, so it is dropped from the bounding set: no
 * exec, not even uid 0's, gets it back. */
#define CAP_KEEP ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | \
		  (1ULL << CAP_FSETID) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | \
		  (1ULL << CAP_SETUID) | (1ULL << CAP_NET_BIND_SERVICE))

/* Before the uid change (PR_CAPBSET_DROP needs CAP_SETPCAP). Async-signal-safe. */
static int caps_drop_bounding(void)
{
	for (int c = 0; c < 64; c++) {
		if (CAP_KEEP & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;   /* past the kernel's last capability */
			return -errno;
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return 0;
}

/* After the uid change: the sets themselves (the uid change already emptied them unless
 * the command runs as uid 0), inheritable emptied. */
static int caps_limit(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t keep = (uint32_t)(CAP_KEEP >> (32 * i));
		d[i].effective &= keep;
		d[i].permitted &= keep;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}

static __attribute__((noreturn)) void child_fail(int status_fd, int stage, int e)
{
	int msg[2] = { stage, e };
	ssize_t n = write(status_fd, msg, sizeof(msg));
	(void)n;
	_exit(127);
}

/* Runs between clone/fork and exec: only async-signal-safe calls, no allocation. Long: one
 * sequence whose order is the confinement (namespaces and keyring, the cgroup, fds,
 * session, caps, ids, working directory, no_new_privs, seccomp, Landlock, exec), best read
 * top to bottom. It ends in the exec or in _exit(), never exit(): no exit handlers run in
 * the child, LeakSanitizer's under make test-asan included, which could not read
 * /proc/<pid>/task from inside the confinement (docs/sanitizers.md "The sandbox child"). */
static __attribute__((noreturn)) void child_main(const struct sandbox_spawn *s, struct child_fds f,
						 pid_t parent)
{
	for (size_t i = 0; i < sizeof(f.parent_ends) / sizeof(f.parent_ends[0]); i++)
		if (f.parent_ends[i] >= 0)
			close(f.parent_ends[i]);
	/* Outside the sandbox cgroup for these few calls (ours, never the command's): a
	 * runner that dies now takes us with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(f.status, SB_STAGE_SETUP, errno);
	if (f.forked && unshare((int)(sandbox_ns_clone_flags(s->ns) | (s->view ? CLONE_NEWNS : 0))) < 0)
		child_fail(f.status, SB_STAGE_NAMESPACES, errno);
	/* Before the cgroup: its programs may refuse the keyring and socket calls there. */
	int r = sandbox_ns_setup(s->ns);
	if (r < 0)
		child_fail(f.status, SB_STAGE_NAMESPACES, -r);
	/* The view, also before the cgroup (whose programs may refuse mount calls); from
	 * here on the child sees only the view, at the host's paths. */
	if (s->view) {
		int step = 0;
		if ((r = mountns_enter(s->view, &step)) < 0)
			child_fail(f.status, SB_STAGE_VIEW + step, -r);
		for (size_t i = 0; s->view_plan && s->confine && s->confine->landlock &&
				   i < s->view_plan->n_proc; i++)
			if ((r = landlock_add_in_view(s->confine->landlock, s->view_plan->proc[i].path,
						      s->view_plan->proc[i].access)) < 0)
				child_fail(f.status, SB_STAGE_CONFINE, -r);
	}
	/* The v1 cgroups first: the v2 join also makes the new cgroup namespace. */
	for (size_t i = 0; i < s->n_v1; i++)
		if (s->v1_fds[i] >= 0 && (r = sandbox_ns_join_cgroup(s->v1_fds[i])) < 0)
			child_fail(f.status, SB_STAGE_CGROUP, -r);
	if ((r = sandbox_ns_enter_cgroup(s->cgroup_fd)) < 0)
		child_fail(f.status, SB_STAGE_CGROUP, -r);
	if (f.go >= 0) {
		/* Moved after our creation, which the enforcer saw outside the cgroup: fork
		 * once from inside so that it reports a fork of this sandbox. Raw clone: no
		 * glibc fork machinery in a child of a raw clone3/fork. */
		pid_t g = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL, 0UL);
		if (g < 0)
			child_fail(f.status, SB_STAGE_LIVE, errno);
		if (g == 0)
			_exit(0);
		while (waitpid(g, NULL, 0) < 0 && errno == EINTR)
			;
		/* No instruction of the command before the runner has seen the enforcer
		 * attribute this cgroup to the sandbox. */
		char go = 0;
		ssize_t n;
		do
			n = read(f.go, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1 || go != 'g')
			_exit(127);
	}
	/* Move the fds we keep above 2 first, so dup2 onto 0-2 cannot clobber one. */
	int dn = fcntl(f.devnull, F_DUPFD_CLOEXEC, 10);
	int o = fcntl(f.out, F_DUPFD_CLOEXEC, 10);
	int e = fcntl(f.err, F_DUPFD_CLOEXEC, 10);
	int st = fcntl(f.status, F_DUPFD_CLOEXEC, 10);
	int nt = fcntl(f.notify, F_DUPFD_CLOEXEC, 10);
	if (dn < 0 || o < 0 || e < 0 || st < 0 || nt < 0)
		child_fail(f.status, SB_STAGE_SETUP, errno);
	if (dup2(dn, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup3(st, 3, O_CLOEXEC) < 0)
		child_fail(st, SB_STAGE_SETUP, errno);
	st = 3;
	if (setsid() < 0)
		child_fail(st, SB_STAGE_SETUP, errno);

	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);   /* fails harmlessly for SIGKILL/SIGSTOP/RT */

	r = caps_drop_bounding();
	if (r < 0)
		child_fail(st, SB_STAGE_CREDS, -r);
	/* uid 0 kept as is still sheds the runner's supplementary groups. */
	if ((s->drop_privs || s->uid == 0) && setgroups(0, NULL) < 0)
		child_fail(st, SB_STAGE_CREDS, errno);
	if (s->drop_privs) {
		if (setresgid(s->gid, s->gid, s->gid) < 0 || setresuid(s->uid, s->uid, s->uid) < 0)
			child_fail(st, SB_STAGE_CREDS, errno);
	}
	if ((r = caps_limit()) < 0)
		child_fail(st, SB_STAGE_CREDS, -r);
	/* As the run_as user (its permission to enter counts), never the caller's. */
	if (chdir(s->ns && s->ns->cwd ? s->ns->cwd : "/") < 0)
		child_fail(st, SB_STAGE_CWD, errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(st, SB_STAGE_NNP, errno);
	/* The seccomp baseline; its listener goes to the runner, and no copy stays here: a
	 * command holding it could answer its own refused calls. */
	int listener = seccomp_baseline_install(s->seccomp);
	if (listener < 0)
		child_fail(st, SB_STAGE_CONFINE, -listener);
	r = send_fd(nt, listener);
	close(listener);
	close(nt);
	if (r < 0)
		child_fail(st, SB_STAGE_CONFINE, -r);
	/* After the credential change, which clears the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		child_fail(st, SB_STAGE_SETUP, errno);
	/* The runner may have died before the death signal was armed. getppid() cannot
	 * tell inside a new PID namespace (it reads 0), but the status pipe can: the
	 * runner holds its only read end, so POLLERR means it is gone. */
	(void)parent;
	struct pollfd alive = { .fd = st, .events = POLLOUT };
	if (poll(&alive, 1, 0) < 0 || (alive.revents & POLLERR))
		_exit(127);
	int rc = sandbox_child_confine(s->confine);
	if (rc < 0)
		child_fail(st, SB_STAGE_CONFINE, -rc);
	/* Nothing of the runner's (enforcer, state dir, audit log) reaches the command.
	 * Only now: the confinement may have needed an fd of its own (Landlock ruleset). */
	if (close_range(4, ~0U, 0) < 0)
		child_fail(st, SB_STAGE_SETUP, errno);
	if (s->fsize) {
		struct rlimit fl = { .rlim_cur = (rlim_t)s->fsize, .rlim_max = (rlim_t)s->fsize };
		if (setrlimit(RLIMIT_FSIZE, &fl) < 0)
			child_fail(st, SB_STAGE_CONFINE, errno);
	}
	execve(s->path, s->argv, s->envp);
	child_fail(st, SB_STAGE_EXEC, errno);
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			close(p[i]);
			p[i] = -1;
		}
}

/* A started child that is not let go after all: kill and reap it, and forget it. */
static void child_discard(struct sandbox_child *c, pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->pid = -1;
}

/* Long: one sequence of fd handovers (pipes, clone3 or fork + move, the live check, the
 * exec report) with one exit that closes whatever is left open. */
int sandbox_spawn(const struct sandbox_spawn *s, struct sandbox_child *c, int *stage,
		  int *child_errno, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->pidfd = c->out_fd = c->err_fd = c->notify_fd = -1;
	*stage = SB_STAGE_NONE;
	*child_errno = 0;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, stp[2] = { -1, -1 };
	int gop[2] = { -1, -1 }, ntp[2] = { -1, -1 };
	bool released = false;   /* live check passed: the child may exec */
	int pidfd_errno = 0;     /* why pidfd_open failed on the fork path, kept past later calls */
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int rc = 0;
	if (!s->seccomp) {
		rc = errmsg(err, errlen, -EINVAL, "no seccomp filter given");
		goto out;
	}
	if (devnull < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
	    pipe2(stp, O_CLOEXEC) < 0 || (s->live_check && pipe2(gop, O_CLOEXEC) < 0) ||
	    /* stream, not datagram: bpf-lsm's unix_may_send refuses every datagram to an
	     * unbound peer, and the child is in its sandbox cgroup when it sends */
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ntp) < 0) {
		rc = errmsg(err, errlen, -errno, "pipes: %s", strerror(errno));
		goto out;
	}
	pid_t parent = getpid();
	int pidfd = -1;
	struct clone_args ca = {
		.flags = CLONE_PIDFD | (s->new_pidns ? CLONE_NEWPID : 0) | sandbox_ns_clone_flags(s->ns) |
			 (s->view ? CLONE_NEWNS : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	struct child_fds f = { devnull, outp[1], errp[1], stp[1], gop[0], false, ntp[1],
			       { outp[0], errp[0], stp[0], gop[1], ntp[0] } };
	/* Not CLONE_INTO_CGROUP: the child makes its namespaces and session keyring before
	 * it enters the cgroup itself (the cgroup's programs may refuse those calls), all
	 * long before the command's first instruction, which only ever runs inside. */
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid == 0)
		child_main(s, f, parent);
	if (pid > 0) {
		c->clone3 = true;
		c->pidns = s->new_pidns;
		c->pidfd = pidfd;
	} else {
		if (errno != ENOSYS && errno != EINVAL && errno != E2BIG && errno != EOPNOTSUPP) {
			rc = errmsg(err, errlen, -errno, "clone3: %s", strerror(errno));
			goto out;
		}
		/* Older kernel: fork; the child unshares its namespaces (no new PID namespace
		 * on this path) and enters the cgroup like a clone3 child. */
		f.forked = true;
		pid = fork();
		if (pid < 0) {
			rc = errmsg(err, errlen, -errno, "fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0)
			child_main(s, f, parent);
		c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		pidfd_errno = c->pidfd < 0 ? errno : 0;
	}
	c->pid = pid;
	close(stp[1]);
	stp[1] = -1;
	close(outp[1]);
	outp[1] = -1;
	close(errp[1]);
	errp[1] = -1;

	if (s->live_check) {
		close(gop[0]);
		gop[0] = -1;
		int64_t deadline = clock_mono_ms() + s->live_timeout_ms;
		int seen = 0;
		for (;;) {
			seen = s->live_check(s->live_ctx);
			if (seen != 0)
				break;
			/* The child failed before it got here: its report is on the status pipe. */
			struct pollfd sp = { .fd = stp[0], .events = POLLIN };
			if (poll(&sp, 1, 2) > 0)
				break;
			if (clock_mono_ms() >= deadline) {
				seen = -ETIMEDOUT;
				break;
			}
		}
		if (seen < 0) {
			child_discard(c, pid);
			*stage = SB_STAGE_LIVE;
			*child_errno = -seen;
			rc = errmsg(err, errlen, seen, "%s: %s", sandbox_stage_name(SB_STAGE_LIVE),
				    seen == -ETIMEDOUT ? "the enforcer reported no fork of the sandbox's cgroup in time"
						     : strerror(-seen));
			goto out;
		}
		if (seen > 0 && write(gop[1], "g", 1) != 1) {
			int e = errno;
			child_discard(c, pid);
			rc = errmsg(err, errlen, -EIO, "releasing the child: %s", strerror(e));
			goto out;
		}
		released = seen > 0;
		/* Not released: the child failed or died first; the status read says how. */
		close(gop[1]);
		gop[1] = -1;
	}

	/* EOF without a message means execve succeeded (the pipe was CLOEXEC). */
	int msg[2];
	ssize_t n;
	do
		n = read(stp[0], msg, sizeof(msg));
	while (n < 0 && errno == EINTR);
	if (n == 0 && s->live_check && !released) {
		/* EOF without a message, but it was never let go: it died before exec. */
		msg[0] = SB_STAGE_LIVE;
		msg[1] = ECHILD;
		n = sizeof(msg);
	}
	if (n == (ssize_t)sizeof(msg) || n != 0) {
		*stage = n == (ssize_t)sizeof(msg) ? msg[0] : SB_STAGE_SETUP;
		*child_errno = n == (ssize_t)sizeof(msg) ? msg[1] : EIO;
		if (*stage == SB_STAGE_NONE)
			*stage = SB_STAGE_SETUP;
		waitpid(pid, NULL, 0);
		if (c->pidfd >= 0)
			close(c->pidfd);
		c->pidfd = -1;
		c->pid = -1;
		rc = errmsg(err, errlen, -(*child_errno ? *child_errno : EIO), "%s: %s",
			    sandbox_stage_name(*stage), strerror(*child_errno ? *child_errno : EIO));
		goto out;
	}
	if (c->pidfd < 0) {
		/* A waitable fd is how the runner's poll loop sees the exit; without it the
		 * runner cannot supervise the child. */
		child_discard(c, pid);
		rc = errmsg(err, errlen, -ENOSYS, "pidfd_open: %s", strerror(pidfd_errno));
		goto out;
	}
	close(ntp[1]);
	ntp[1] = -1;
	int lfd = recv_fd(ntp[0]);
	if (lfd < 0) {
		/* Its refused calls would still fail (the kernel answers ENOSYS without a
		 * listener), but unrecorded: not a run calyx vouches for. */
		child_discard(c, pid);
		*stage = SB_STAGE_CONFINE;
		*child_errno = -lfd;
		rc = errmsg(err, errlen, lfd, "the seccomp listener did not reach the runner: %s", strerror(-lfd));
		goto out;
	}
	c->notify_fd = lfd;
	c->out_fd = outp[0];
	c->err_fd = errp[0];
	outp[0] = errp[0] = -1;
out:
	close_pair(outp);
	close_pair(errp);
	close_pair(stp);
	close_pair(gop);
	close_pair(ntp);
	if (devnull >= 0)
		close(devnull);
	return rc;
}

