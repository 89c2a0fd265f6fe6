/* The benchmark's microbench (make bench; tests/bench/README.md). Built with -static so it
 * runs the same way in every column: outside, inside a calyx sandbox, and in the
 * environments it sets up itself.
 *
 *   calyx_bench ops [--label L] [--setup none|env|landlock] --file F --stat F --true T
 *                   [--port P] [--only open,stat,fork,connect] [--loops-OP N]
 *                   [--ll-read DIR]... [--ll-exec DIR]... [--cg-root DIR] [--uid N --gid N]
 *       Times each operation in a loop with CLOCK_MONOTONIC (instruction-counted in the
 *       benchmark VM) and prints one line per operation:
 *           R <label> <op> <ns-per-op> <status> <loops>
 *       op: open (open O_RDONLY + close of F), stat (stat of F), fork (fork + execve of the
 *       static true T + waitpid), connect (socket AF_INET/SOCK_STREAM + connect to
 *       127.0.0.1:P, nothing listening + close). status: ok, refused (ECONNREFUSED) or
 *       denied:ERRNO (the attempt was refused by the sandbox; its cost is still timed).
 *       --setup env: before the loops, the sandbox ENVIRONMENT calyx gives a command,
 *       without any enforcement: a cgroup v2 three levels deep (CG_ROOT/calyx-bench/
 *       p<pid>/r1, memory and pids controllers on, memory.max 256M, memory.swap.max 0,
 *       pids.max 64, like calyx's defaults), a new PID namespace (the loops run as its
 *       pid 1), setsid, the capability bounding set cut to calyx's, setgroups(0),
 *       setresgid/setresuid to --gid/--uid (default 65534), the permitted and effective
 *       sets cut, no_new_privs, and calyx's own seccomp baseline (user/enforce/seccomp.c
 *       linked in, inet_sockets relaxed as in the bench matrix; its instruction count is
 *       printed). Setup lines are printed as "S <label> ...".
 *       --setup landlock: Landlock alone, every filesystem right of the kernel's ABI
 *       handled (and TCP bind/connect from ABI 4), read on each --ll-read dir, read and
 *       execute on each --ll-exec dir, no_new_privs; nothing else.
 *
 *   calyx_bench time [--repeat N] [--out FILE] -- CMD [ARG...]
 *       Runs CMD N times (fork + execve + waitpid, stdio inherited) and prints one line per
 *       run to FILE (default stderr): "T <i> <ns> <exit-status>".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>

#include "enforce/seccomp.h"
#include "policy/seccomp_groups.h"

/* --- Landlock, declared here: the 6.1 UAPI headers lack ABI 3+ ---------------------- */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE (1ULL << 0)
#define LL_FS_READ_FILE (1ULL << 2)
#define LL_FS_READ_DIR (1ULL << 3)
#define LL_NET_BIND_TCP (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};
struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* --- helpers ---------------------------------------------------------------------- */
static const char *label = "-";

static void die(const char *what, int e)
{
	fprintf(stderr, "calyx_bench: %s: %s\n", what, strerror(e));
	printf("E %s %s: %s\n", label, what, strerror(e));
	fflush(stdout);
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = n < 0 ? errno : 0;
	close(fd);
	return n < 0 ? -e : 0;
}

/* --- the operations --------------------------------------------------------------- */
struct cfg {
	const char *file, *stat_path, *true_path;
	int port;
	long loops[4];
	int only[4];
};
enum { OP_OPEN, OP_STAT, OP_FORK, OP_CONNECT };
static const char *const op_names[] = { "open", "stat", "fork", "connect" };

/* Each returns 0 on success, or the errno that refused it (for connect: ECONNREFUSED is
 * the expected result). A hard failure (anything else) ends the benchmark. */
static int op_open(const struct cfg *c)
{
	int fd = open(c->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int op_stat(const struct cfg *c)
{
	struct stat st;
	return stat(c->stat_path, &st) < 0 ? errno : 0;
}

static int op_fork(const struct cfg *c)
{
	static char *const envp[] = { NULL };
	char *argv[] = { (char *)"true", NULL };
	pid_t p = fork();
	if (p < 0)
		return errno;
	if (p == 0) {
		execve(c->true_path, argv, envp);
		_exit(126);
	}
	int st;
	while (waitpid(p, &st, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return EACCES;   /* the exec was refused (126) or the child killed */
	return 0;
}

static int op_connect(const struct cfg *c)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0;
	close(s);
	return r;
}

typedef int (*op_fn)(const struct cfg *);
static const op_fn ops[] = { op_open, op_stat, op_fork, op_connect };

static void run_op(const struct cfg *c, int op)
{
	long n = c->loops[op];
	long warm = n / 20 + 1;
	int first = 0;
	for (long i = 0; i < warm; i++) {
		int r = ops[op](c);
		if (i == 0)
			first = r;
		if (r != first) {
			char what[64];
			snprintf(what, sizeof(what), "%s: result changed during warm-up", op_names[op]);
			die(what, r ? r : first);
		}
	}
	uint64_t t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int r = ops[op](c);
		if (r != first) {
			char what[64];
			snprintf(what, sizeof(what), "%s: result changed in the loop", op_names[op]);
			die(what, r ? r : first);
		}
	}
	uint64_t t1 = now_ns();
	char status[48];
	if (first == 0)
		snprintf(status, sizeof(status), "ok");
	else if (op == OP_CONNECT && first == ECONNREFUSED)
		snprintf(status, sizeof(status), "refused");
	else if (first == EACCES || first == EPERM)
		snprintf(status, sizeof(status), "denied:%s", errname(first));
	else {
		char what[64];
		snprintf(what, sizeof(what), "%s failed", op_names[op]);
		die(what, first);
	}
	printf("R %s %s %llu %s %ld\n", label, op_names[op],
	       (unsigned long long)((t1 - t0 + (uint64_t)n / 2) / (uint64_t)n), status, n);
	fflush(stdout);
}

static void run_ops(const struct cfg *c)
{
	for (int op = 0; op < 4; op++)
		if (c->only[op])
			run_op(c, op);
}

/* --- (f) the sandbox environment, as user/sandbox.c builds it, without enforcement ---- */
#define CAP_KEEP ((1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | \
		  (1ULL << CAP_FSETID) | (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | \
		  (1ULL << CAP_SETUID) | (1ULL << CAP_NET_BIND_SERVICE))
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#define X32_SYSCALL_BIT 0x40000000U

static void env_creds(uid_t uid, gid_t gid)
{
	for (int c = 0; c < 64; c++) {
		if (CAP_KEEP & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			die("PR_CAPBSET_DROP", errno);
		}
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die("PR_CAP_AMBIENT_CLEAR_ALL", errno);
	if (setgroups(0, NULL) < 0)
		die("setgroups", errno);
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		die("setresuid/setresgid", errno);
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) < 0)
		die("capget", errno);
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		uint32_t keep = (uint32_t)(CAP_KEEP >> (32 * i));
		d[i].effective &= keep;
		d[i].permitted &= keep;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		die("capset", errno);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("PR_SET_NO_NEW_PRIVS", errno);
	/* calyx's own seccomp baseline (user/enforce/seccomp.c, linked in), as the bench
	 * matrix has it: inet_sockets relaxed, so that the connect loop reaches the cgroup
	 * programs as in a calyx run. No runner answers here: the listener is closed, and a
	 * refused call would fail ENOSYS (the loops make none). */
	struct seccomp_baseline sb;
	char err[256];
	if (seccomp_baseline_build(NET_DENY_ALL, SECCOMP_GROUP_BIT(SECCOMP_GROUP_INET_SOCKETS), &sb, err,
				   sizeof(err)) < 0) {
		printf("E %s %s\n", label, err);
		exit(1);
	}
	int lfd = seccomp_baseline_install(&sb);
	if (lfd < 0)
		die("seccomp", -lfd);
	close(lfd);
	printf("S %s env seccomp baseline %u insns\n", label, (unsigned)sb.prog.len);
	fflush(stdout);
	seccomp_baseline_free(&sb);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		die("PR_SET_PDEATHSIG", errno);
}

static void mkdir_cg(const char *p)
{
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		char what[PATH_MAX + 16];
		snprintf(what, sizeof(what), "mkdir %s", p);
		die(what, errno);
	}
}

static int run_env(const struct cfg *c, const char *cg_root, uid_t uid, gid_t gid)
{
	char l1[PATH_MAX], l2[PATH_MAX], l3[PATH_MAX], pidbuf[32];
	if (strlen(cg_root) > PATH_MAX - 64)
		die("--cg-root", ENAMETOOLONG);
	snprintf(l1, sizeof(l1), "%.*s/calyx-bench", PATH_MAX - 64, cg_root);
	snprintf(l2, sizeof(l2), "%.*s/p%d", PATH_MAX - 48, l1, (int)getpid());
	snprintf(l3, sizeof(l3), "%.*s/r1", PATH_MAX - 8, l2);
	mkdir_cg(l1);
	(void)write_file(cg_root, "cgroup.subtree_control", "+memory");
	(void)write_file(cg_root, "cgroup.subtree_control", "+pids");
	(void)write_file(l1, "cgroup.subtree_control", "+memory");
	(void)write_file(l1, "cgroup.subtree_control", "+pids");
	mkdir_cg(l2);
	(void)write_file(l2, "cgroup.subtree_control", "+memory");
	(void)write_file(l2, "cgroup.subtree_control", "+pids");
	mkdir_cg(l3);
	int mem = write_file(l3, "memory.max", "268435456") == 0;
	if (mem)
		(void)write_file(l3, "memory.swap.max", "0");
	int pids = write_file(l3, "pids.max", "64") == 0;
	printf("S %s env cgroup %s (depth 3) memory.max %s pids.max %s; pidns, uid %d gid %d, "
	       "caps cut, no_new_privs, seccomp baseline\n",
	       label, l3, mem ? "256M" : "n/a", pids ? "64" : "n/a", (int)uid, (int)gid);
	fflush(stdout);

	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	int r = write_file(l3, "cgroup.procs", pidbuf);
	if (r < 0)
		die("join the cgroup", -r);
	if (unshare(CLONE_NEWPID) < 0)
		die("unshare(CLONE_NEWPID)", errno);
	pid_t p = fork();
	if (p < 0)
		die("fork", errno);
	if (p == 0) {
		if (getpid() != 1)
			die("not pid 1 of a new PID namespace", EINVAL);
		if (setsid() < 0)
			die("setsid", errno);
		env_creds(uid, gid);
		run_ops(c);
		fflush(stdout);
		_exit(0);
	}
	int st = 0;
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	/* Out of the bench cgroups again, then remove them (l1 stays shared by runs). */
	(void)write_file(cg_root, "cgroup.procs", pidbuf);
	rmdir(l3);
	rmdir(l2);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --- (g) Landlock alone ------------------------------------------------------------- */
static void ll_rule(int rs, const char *path, uint64_t access, uint64_t handled)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		printf("S %s landlock skip %s: %s\n", label, path, strerror(errno));
		return;
	}
	struct ll_path_beneath_attr pb = { .allowed_access = access & handled, .parent_fd = fd };
	if (syscall(__NR_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &pb, 0) < 0)
		die("landlock_add_rule", errno);
	close(fd);
}

static void run_landlock(const struct cfg *c, char **rd, int nrd, char **ex, int nex)
{
	long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	if (abi < 1)
		die("Landlock ABI", abi < 0 ? errno : ENOSYS);
	uint64_t fs = (1ULL << 13) - 1;   /* ABI 1: EXECUTE .. MAKE_SYM */
	if (abi >= 2)
		fs |= 1ULL << 13;             /* REFER */
	if (abi >= 3)
		fs |= 1ULL << 14;             /* TRUNCATE */
	if (abi >= 5)
		fs |= 1ULL << 15;             /* IOCTL_DEV */
	struct ll_ruleset_attr a = { .handled_access_fs = fs };
	size_t sz = sizeof(uint64_t);
	if (abi >= 4) {
		a.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		sz = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		a.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		sz = 3 * sizeof(uint64_t);
	}
	int rs = (int)syscall(__NR_landlock_create_ruleset, &a, sz, 0);
	if (rs < 0)
		die("landlock_create_ruleset", errno);
	for (int i = 0; i < nrd; i++)
		ll_rule(rs, rd[i], LL_FS_READ_FILE | LL_FS_READ_DIR, fs);
	for (int i = 0; i < nex; i++)
		ll_rule(rs, ex[i], LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_EXECUTE, fs);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("PR_SET_NO_NEW_PRIVS", errno);
	if (syscall(__NR_landlock_restrict_self, rs, 0) < 0)
		die("landlock_restrict_self", errno);
	close(rs);
	printf("S %s landlock ABI %ld, fs rights 0x%llx handled%s, %d read + %d read/exec rules\n",
	       label, abi, (unsigned long long)fs, abi >= 4 ? ", TCP bind/connect handled" : "",
	       nrd, nex);
	fflush(stdout);
	run_ops(c);
}

/* --- time ------------------------------------------------------------------------- */
static int cmd_time(int argc, char **argv)
{
	long repeat = 1;
	const char *out = NULL;
	int i = 0;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atol(argv[++i]);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else
			break;
	}
	if (i >= argc || repeat < 1) {
		fprintf(stderr, "usage: calyx_bench time [--repeat N] [--out FILE] -- CMD [ARG...]\n");
		return 64;
	}
	FILE *o = stderr;
	if (out && !(o = fopen(out, "a")))
		die(out, errno);
	for (long k = 1; k <= repeat; k++) {
		fflush(NULL);
		uint64_t t0 = now_ns();
		pid_t p = fork();
		if (p < 0)
			die("fork", errno);
		if (p == 0) {
			execvp(argv[i], argv + i);
			_exit(127);
		}
		int st;
		while (waitpid(p, &st, 0) < 0)
			if (errno != EINTR)
				die("waitpid", errno);
		uint64_t t1 = now_ns();
		int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		fprintf(o, "T %ld %llu %d\n", k, (unsigned long long)(t1 - t0), rc);
		fflush(o);
	}
	if (o != stderr)
		fclose(o);
	return 0;
}

/* --- ops command line --------------------------------------------------------------- */
static int cmd_ops(int argc, char **argv)
{
	struct cfg c = { .port = 9, .loops = { 20000, 20000, 500, 10000 }, .only = { 1, 1, 1, 1 } };
	const char *setup = "none", *cg_root = "/sys/fs/cgroup";
	uid_t uid = 65534;
	gid_t gid = 65534;
	char *rd[16], *ex[16];
	int nrd = 0, nex = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			fprintf(stderr, "calyx_bench ops: %s wants a value\n", a);
			return 64;
		}
		i++;
		if (!strcmp(a, "--label"))
			label = v;
		else if (!strcmp(a, "--setup"))
			setup = v;
		else if (!strcmp(a, "--file"))
			c.file = v;
		else if (!strcmp(a, "--stat"))
			c.stat_path = v;
		else if (!strcmp(a, "--true"))
			c.true_path = v;
		else if (!strcmp(a, "--port"))
			c.port = atoi(v);
		else if (!strcmp(a, "--cg-root"))
			cg_root = v;
		else if (!strcmp(a, "--uid"))
			uid = (uid_t)atol(v);
		else if (!strcmp(a, "--gid"))
			gid = (gid_t)atol(v);
		else if (!strcmp(a, "--ll-read") && nrd < 16)
			rd[nrd++] = (char *)v;
		else if (!strcmp(a, "--ll-exec") && nex < 16)
			ex[nex++] = (char *)v;
		else if (!strcmp(a, "--only")) {
			for (int k = 0; k < 4; k++)
				c.only[k] = 0;
			char buf[128];
			snprintf(buf, sizeof(buf), "%s", v);
			for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
				for (int k = 0; k < 4; k++)
					if (!strcmp(t, op_names[k]))
						c.only[k] = 1;
		} else if (!strncmp(a, "--loops-", 8)) {
			int k = 0;
			while (k < 4 && strcmp(a + 8, op_names[k]))
				k++;
			if (k == 4 || atol(v) < 1) {
				fprintf(stderr, "calyx_bench ops: bad %s %s\n", a, v);
				return 64;
			}
			c.loops[k] = atol(v);
		} else {
			fprintf(stderr, "calyx_bench ops: unknown option %s\n", a);
			return 64;
		}
	}
	if (!c.file || !c.stat_path || !c.true_path) {
		fprintf(stderr, "calyx_bench ops: --file, --stat and --true are required\n");
		return 64;
	}
	if (!strcmp(setup, "none")) {
		run_ops(&c);
		return 0;
	}
	if (!strcmp(setup, "env"))
		return run_env(&c, cg_root, uid, gid);
	if (!strcmp(setup, "landlock")) {
		run_landlock(&c, rd, nrd, ex, nex);
		return 0;
	}
	fprintf(stderr, "calyx_bench ops: unknown --setup %s\n", setup);
	return 64;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "ops"))
		return cmd_ops(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "time"))
		return cmd_time(argc - 2, argv + 2);
	fprintf(stderr, "usage: calyx_bench ops ... | calyx_bench time ... (see the source's header)\n");
	return 64;
}
