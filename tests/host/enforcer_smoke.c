/* Enforcer test: loads the BPF program set through user/enforce/loader.c, makes a sandbox cgroup
 * under a private parent, moves forked children into it and checks what the kernel
 * allows, then checks the ring buffer records. Needs root.
 *
 *   enforcer_smoke landlock   on the host (tests/host/enforcer.sh): cgroup sock programs,
 *                             exec-image kill, monitoring
 *   enforcer_smoke bpf-lsm    in the VM (tests/vm/t_enforcer_smoke.sh): every LSM hook
 * Both end with one enforcer serving several sandboxes at once (multi_sandbox_checks).
 *
 * Prints "ok - ..." / "not ok - ..." lines; exit status 0 only when every check passed.
 * When run as an interpreter or an allowed binary it only exits with a known code. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/fs.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "base/mountinfo.h"
#include "enforce/loader.h"
#include "sandbox/cgroup.h"

static int failures;
static bool quiet;
static bool lsm;
static char base[128], self[256];

static void check(bool cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s - ", cond ? "ok" : "not ok");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
	if (!cond)
		failures++;
}

static void die(const char *what, const char *msg)
{
	printf("not ok - %s: %s\n", what, msg);
	exit(1);
}

static void put_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content))
		die("create", path);
	close(fd);
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	if (in < 0 || out < 0)
		die("copy", to);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("copy write", to);
	close(in);
	close(out);
}

static char *P(const char *rel)
{
	static char bufs[8][512];
	static int i;
	char *b = bufs[i++ & 7];
	snprintf(b, 512, "%s/%s", base, rel);
	return b;
}

/* errno of open (0 = success) */
static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Fork, exec path (or fexecve fd when path is NULL), return the wait status.
 * An exec failure shows up as exit 100 + errno. */
static int run_exec(const char *path, int fd, const char *arg)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		char *argv[] = { (char *)(path ? path : "memfd"), (char *)arg, NULL };
		char *envp[] = { NULL };
		if (path)
			execve(path, argv, envp);
		else
			fexecve(fd, argv, envp);
		_exit(100 + errno);
	}
	int st = 0;
	waitpid(p, &st, 0);
	return st;
}
#define EXITED(st, n) (WIFEXITED(st) && WEXITSTATUS(st) == (n))
#define KILLED(st) (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)

static void enter_cgroup(const char *cg)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/cgroup.procs", cg);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1)
		die("enter cgroup", p);
	close(fd);
}

static int unix_connect(const char *path, bool abstract)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	if (abstract) {
		strcpy(a.sun_path + 1, path);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		strcpy(a.sun_path, path);
		len = sizeof(a);
	}
	int rc = connect(s, (struct sockaddr *)&a, len) ? errno : 0;
	close(s);
	return rc;
}

static int unix_listen(const char *path, bool abstract)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	if (abstract) {
		strcpy(a.sun_path + 1, path);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(path));
	} else {
		unlink(path);
		strcpy(a.sun_path, path);
		len = sizeof(a);
	}
	if (s < 0 || bind(s, (struct sockaddr *)&a, len) || listen(s, 8))
		die("unix listen", path);
	return s;
}

static int inet_errno(void)
{
	/* what the backend answers for a denied network operation */
	return lsm ? EACCES : EPERM;
}

static int sock_errno(int family, int type)
{
	int s = socket(family, type | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	close(s);
	return 0;
}

struct net {
	int udp, tcp, udpc, port, memfd;
	int outfd; /* a file outside every rule, opened before the sandbox */
	char longfile[400];
	char edge[400]; /* a directory under rw whose path is CALYX_LPM_PATH_MAX - 4 bytes */
};

static void inet_checks(int udp, int tcp, int port, const char *whose)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int e = sendto(udp, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? errno : 0;
	check(e == inet_errno(), "sendto on an %s UDP socket is denied (%s)", whose, strerror(e));
	e = connect(tcp, (struct sockaddr *)&to, sizeof(to)) ? errno : 0;
	check(e == inet_errno(), "connect of an %s TCP socket is denied (%s)", whose, strerror(e));
}

/* A UDP socket connected outside the sandbox: a send without an address is denied too
 * (LSM hooks judge the task; cgroup programs never see connected sends). */
static void connected_send_check(int udp_connected)
{
	int e = send(udp_connected, "x", 1, 0) < 0 ? errno : 0;
	check(e == EACCES, "send on an inherited connected UDP socket is EACCES (%s)", strerror(e));
}

/* errno of a call that returns < 0 on failure (0 = success) */
#define ERR(call) ((call) < 0 ? errno : 0)

static bool file_has(const char *path, const char *want)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return r >= 0 && strcmp(buf, want) == 0;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static int create_excl(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* errno of mmap(PROT_READ|PROT_EXEC) of fd (0 = mapped) */
static int map_exec(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return errno;
	munmap(p, 4096);
	return 0;
}

/* errno of mprotect(PROT_READ|PROT_EXEC) of a PROT_READ mapping of fd */
static int mprotect_exec(int fd)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	int e = mprotect(p, 4096, PROT_READ | PROT_EXEC) ? errno : 0;
	munmap(p, 4096);
	return e;
}

/* File system changes that never open the target for writing: outside every rule and
 * under :ro they must fail EACCES and change nothing; under :rw they work. */
static void mutate_checks(const struct net *n)
{
	static const char *const where[] = { "out", "ro" };
	for (int i = 0; i < 2; i++) {
		const char *w = where[i];
		char a[512], b[512];
		int e;
#define W(rel) (snprintf(a, sizeof(a), "%s/%s/%s", base, w, rel), a)
		e = ERR(unlink(W("u")));
		check(e == EACCES && exists(a), "%s: unlink is EACCES, the file stays (%s)", w, strerror(e));
		e = ERR(rmdir(W("d")));
		check(e == EACCES && exists(a), "%s: rmdir is EACCES, the directory stays (%s)", w, strerror(e));
		e = ERR(mkdir(W("newdir"), 0755));
		check(e == EACCES && !exists(a), "%s: mkdir is EACCES, nothing created (%s)", w, strerror(e));
		e = ERR(mknod(W("fifo"), S_IFIFO | 0644, 0));
		check(e == EACCES && !exists(a), "%s: mknod of a fifo is EACCES, nothing created (%s)", w, strerror(e));
		e = create_excl(W("created"));
		check(e == EACCES && !exists(a), "%s: O_CREAT of a new file is EACCES, not even an empty file (%s)",
		      w, strerror(e));
		e = ERR(symlink("/etc/passwd", W("sym")));
		check(e == EACCES && !exists(a), "%s: symlink is EACCES, nothing created (%s)", w, strerror(e));
		/* out/ cannot be read from inside: main() checks its bytes afterwards */
		e = ERR(truncate(W("t"), 0));
		check(e == EACCES && (i == 0 || file_has(a, "data\n")), "%s: truncate(2) is EACCES, the bytes stay (%s)",
		      w, strerror(e));
		e = try_open(W("t"), O_RDONLY | O_TRUNC);
		check(e == EACCES && (i == 0 || file_has(a, "data\n")),
		      "%s: open(O_RDONLY|O_TRUNC) is EACCES, the bytes stay (%s)", w, strerror(e));
		e = ERR(chmod(W("c"), 0777));
		struct stat st;
		check(e == EACCES && stat(a, &st) == 0 && (st.st_mode & 07777) == 0644,
		      "%s: chmod is EACCES, the mode stays (%s)", w, strerror(e));
		e = ERR(chown(W("c"), 1, 1));
		check(e == EACCES && stat(a, &st) == 0 && st.st_uid == 0, "%s: chown is EACCES, the owner stays (%s)",
		      w, strerror(e));
		/* rename out of here into :rw, and from :rw into here */
		snprintf(b, sizeof(b), "%s/rw/stolen-%s", base, w);
		e = ERR(rename(W("r"), b));
		check(e == EACCES && exists(a) && !exists(b), "%s: rename into :rw is EACCES, the file stays (%s)",
		      w, strerror(e));
		snprintf(b, sizeof(b), "%s/rw/mine", base);
		e = ERR(rename(b, W("planted")));
		check(e == EACCES && exists(b) && !exists(a), "%s: rename from :rw into here is EACCES (%s)", w,
		      strerror(e));
		snprintf(b, sizeof(b), "%s/%s/r2", base, w);
		e = ERR(rename(W("r"), b));
		check(e == EACCES && exists(a) && !exists(b), "%s: rename within is EACCES (%s)", w, strerror(e));
		/* THREATS.md: a hard link of a file from here into a writable directory */
		snprintf(b, sizeof(b), "%s/rw/link-%s", base, w);
		e = ERR(link(W("secret"), b));
		check(e == EACCES && !exists(b), "%s: hard link into :rw is EACCES (%s)", w, strerror(e));
		snprintf(b, sizeof(b), "%s/rw/mine", base);
		e = ERR(link(b, W("link")));
		check(e == EACCES && !exists(a), "%s: hard link of a :rw file into here is EACCES (%s)", w, strerror(e));
		e = ERR(setxattr(W("c"), "trusted.calyx", "x", 1, 0));
		check(e == EACCES, "%s: setxattr is EACCES (%s)", w, strerror(e));
#undef W
	}

	/* a file opened read-only from :ro: fchmod, chattr */
	int fd = open(P("ro/c"), O_RDONLY | O_CLOEXEC);
	int e = fd < 0 ? errno : ERR(fchmod(fd, 0777));
	check(e == EACCES, "ro: fchmod of a read-only descriptor is EACCES (%s)", strerror(e));
	int fl = 0;
	e = fd < 0 ? errno : ERR(ioctl(fd, FS_IOC_SETFLAGS, &fl));
	check(e == EACCES, "ro: FS_IOC_SETFLAGS (chattr) on a read-only descriptor is EACCES (%s)", strerror(e));
	if (fd >= 0)
		close(fd);
	e = ERR(mknod(P("rw/mem"), S_IFCHR | 0600, makedev(1, 1)));
	check(e == EACCES && !exists(P("rw/mem")), "rw: mknod of a character device is EACCES (%s)", strerror(e));
	e = ERR(mknod(P("rw/blk"), S_IFBLK | 0600, makedev(7, 0)));
	check(e == EACCES && !exists(P("rw/blk")), "rw: mknod of a block device is EACCES (%s)", strerror(e));
	e = ERR(setxattr(P("rw/mine"), "trusted.calyx", "x", 1, 0));
	check(e == EACCES, "rw: setxattr is EACCES (no path in the xattr hooks) (%s)", strerror(e));
	e = ERR(removexattr(P("rw/mine"), "trusted.calyx"));
	check(e == EACCES, "rw: removexattr is EACCES (%s)", strerror(e));

	/* :rw: everything works (and the path resolution crosses the /tmp mount) */
	e = ERR(mkdir(P("rw/nd"), 0755));
	check(e == 0, "rw: mkdir works (%s)", strerror(e));
	e = ERR(mkdir(P("rw/nd/sub"), 0755));
	check(e == 0, "rw: mkdir of a nested directory works (%s)", strerror(e));
	e = create_excl(P("rw/nd/sub/f"));
	check(e == 0, "rw: O_CREAT of a new file works (%s)", strerror(e));
	e = ERR(mknod(P("rw/fifo"), S_IFIFO | 0644, 0));
	check(e == 0, "rw: mknod of a fifo works (%s)", strerror(e));
	e = ERR(symlink("/etc/passwd", P("rw/sym")));
	check(e == 0, "rw: symlink works (%s)", strerror(e));
	e = ERR(link(P("rw/mine"), P("rw/mine-link")));
	check(e == 0, "rw: hard link of a :rw file works (%s)", strerror(e));
	e = ERR(rename(P("rw/mine-link"), P("rw/nd/moved")));
	check(e == 0, "rw: rename of a file works (%s)", strerror(e));
	e = ERR(rename(P("rw/nd"), P("rw/nd2")));
	check(e == 0, "rw: rename of a directory works (%s)", strerror(e));
	e = ERR(truncate(P("rw/nd2/moved"), 1));
	check(e == 0, "rw: truncate works (%s)", strerror(e));
	e = try_open(P("rw/f"), O_WRONLY | O_TRUNC);
	check(e == 0, "rw: open(O_TRUNC) works (%s)", strerror(e));
	e = ERR(chmod(P("rw/nd2/moved"), 0600));
	check(e == 0, "rw: chmod works (%s)", strerror(e));
	e = ERR(chown(P("rw/nd2/moved"), 1, 1));
	check(e == 0, "rw: chown works (%s)", strerror(e));
	e = ERR(unlink(P("rw/nd2/moved")));
	check(e == 0, "rw: unlink works (%s)", strerror(e));
	e = ERR(unlink(P("rw/nd2/sub/f")));
	e = e ? e : ERR(rmdir(P("rw/nd2/sub")));
	check(e == 0, "rw: rmdir works (%s)", strerror(e));
	e = ERR(rename(P("rw/fifo"), P("chw/fifo")));
	check(e == 0, "children :rw: rename of a file into it works (%s)", strerror(e));
	/* a directory granted :rw as a child only: its contents were not writable, so it
	 * may not take them somewhere writable */
	e = ERR(rename(P("chw/dir"), P("rw/dir")));
	check(e == EACCES && exists(P("chw/dir/secret")), "children :rw: rename of a child directory into a :rw subtree is EACCES (%s)",
	      strerror(e));
	e = ERR(rename(P("chw/dir"), P("chw/dir2")));
	check(e == EACCES, "children :rw: rename of a child directory in place is EACCES (%s)", strerror(e));

	/* path length at the matcher's limit, through the resolver of the path hooks */
	char p[512];
	snprintf(p, sizeof(p), "%s/", n->edge);
	while (strlen(p) < CALYX_LPM_PATH_MAX - 1)
		strcat(p, "x");
	e = ERR(mkdir(p, 0755));
	check(e == 0, "rw: mkdir of a %zu-byte path works (%s)", strlen(p), strerror(e));
	strcat(p, "y");
	e = ERR(mkdir(p, 0755));
	check(e == EACCES, "rw: mkdir of a %zu-byte path is EACCES (longer than the matcher) (%s)", strlen(p),
	      strerror(e));
	snprintf(p, sizeof(p), "%.400s", n->longfile);
	e = ERR(unlink(p));
	check(e == EACCES, "rw: unlink of a file whose path is too long is EACCES (%s)", strerror(e));

	/* executable mappings */
	fd = open(P("ro/interp"), O_RDONLY | O_CLOEXEC);
	e = fd < 0 ? errno : map_exec(fd);
	check(e == 0, "mmap(PROT_EXEC) of a file readable under a :ro rule works (%s)", strerror(e));
	e = fd < 0 ? errno : mprotect_exec(fd);
	check(e == 0, "mprotect(PROT_EXEC) of a file readable under a :ro rule works (%s)", strerror(e));
	if (fd >= 0)
		close(fd);
	fd = open(P("allowed"), O_RDONLY | O_CLOEXEC);
	e = fd < 0 ? errno : map_exec(fd);
	check(fd < 0 || e == 0, "mmap(PROT_EXEC) of the lease binary works (%s)", strerror(e));
	if (fd >= 0)
		close(fd);
	e = map_exec(n->memfd);
	check(e == EACCES, "mmap(PROT_EXEC) of a memfd is EACCES (%s)", strerror(e));
	e = mprotect_exec(n->memfd);
	check(e == EACCES, "mprotect(PROT_EXEC) of a memfd mapping is EACCES (%s)", strerror(e));
	e = map_exec(n->outfd);
	check(e == EACCES, "mmap(PROT_EXEC) of an inherited descriptor of a file outside the rules is EACCES (%s)",
	      strerror(e));
	e = mprotect_exec(n->outfd);
	check(e == EACCES, "mprotect(PROT_EXEC) of such a mapping is EACCES (%s)", strerror(e));
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(anon != MAP_FAILED, "anonymous PROT_EXEC memory works (JITs) (%s)", strerror(errno));
	if (anon != MAP_FAILED)
		munmap(anon, 4096);
}

/* The checks run by the confined child (in the sandbox cgroup). */
static void child_checks(const struct net *n)
{
	int st;
	st = run_exec(P("allowed"), -1, "7");
	check(EXITED(st, 7), "exec of the lease binary runs (status %#x)", st);
	st = run_exec(P("allowed"), -1, "spin");
	check(EXITED(st, 9), "exec of the lease binary spinning 200 ms (status %#x)", st);
	st = run_exec(P("other"), -1, "7");
	if (lsm)
		check(EXITED(st, 100 + EACCES), "exec of a non-lease copy is EACCES (status %#x)", st);
	else
		check(KILLED(st), "exec of a non-lease copy is killed (status %#x)", st);
	st = run_exec(NULL, n->memfd, "7");
	if (lsm)
		check(EXITED(st, 100 + EACCES), "fexecve of a memfd copy is EACCES (status %#x)", st);
	else
		check(KILLED(st), "fexecve of a memfd copy is killed (status %#x)", st);
	if (lsm) {
		st = run_exec(P("hardlink"), -1, "7");
		check(EXITED(st, 100 + EACCES), "exec of a hard link of the lease binary is EACCES (status %#x)", st);
		st = run_exec(P("good.sh"), -1, NULL);
		check(EXITED(st, 5), "#! script with an allowed interpreter runs (status %#x)", st);
		st = run_exec(P("badinterp.sh"), -1, NULL);
		check(EXITED(st, 100 + EACCES), "#! script with a non-lease interpreter is EACCES (status %#x)", st);
		st = run_exec(P("unlisted.sh"), -1, NULL);
		check(EXITED(st, 100 + EACCES), "#! script not in the lease is EACCES (status %#x)", st);
		/* readable under a path rule (file_open allows it), not a lease binary: only
		 * bprm_check_security can refuse these */
		st = run_exec(P("ro/interp"), -1, "7");
		check(EXITED(st, 100 + EACCES), "exec of a readable non-lease binary is EACCES (status %#x)", st);
		st = run_exec(P("roint.sh"), -1, NULL);
		check(EXITED(st, 100 + EACCES),
		      "#! script whose readable interpreter is not a lease binary is EACCES (status %#x)", st);

		int e;
		e = try_open(P("secret"), O_RDONLY);
		check(e == EACCES, "open outside every rule is EACCES (%s)", strerror(e));
		e = try_open(P("ro/f"), O_RDONLY);
		check(e == 0, "read under a ro subtree works (%s)", strerror(e));
		e = try_open(P("ro/f"), O_WRONLY);
		check(e == EACCES, "write under a ro subtree is EACCES (%s)", strerror(e));
		e = try_open(P("rw/f"), O_RDWR);
		check(e == 0, "read-write under a rw subtree works (%s)", strerror(e));
		e = try_open(P("rw/new"), O_WRONLY | O_CREAT);
		check(e == 0, "create under a rw subtree works (%s)", strerror(e));
		e = try_open(P("ch/f"), O_RDONLY);
		check(e == 0, "read of a direct child of a children rule works (%s)", strerror(e));
		e = try_open(P("ch/d/f"), O_RDONLY);
		check(e == EACCES, "read of a grandchild of a children rule is EACCES (%s)", strerror(e));
		e = try_open(P("exact"), O_RDONLY);
		check(e == 0, "read of an exact rule works (%s)", strerror(e));
		e = try_open(P("exact-evil"), O_RDONLY);
		check(e == EACCES, "exact rule does not admit a longer name (%s)", strerror(e));
		e = try_open(n->longfile, O_RDONLY);
		check(e == EACCES, "path over %d bytes under a rw subtree is EACCES (%s)",
		      CALYX_LPM_PATH_MAX - 1, strerror(e));
		int fd = open(P("ro/f"), O_RDONLY | O_CLOEXEC);
		char pp[64];
		snprintf(pp, sizeof(pp), "/proc/self/fd/%d", fd);
		e = try_open(pp, O_RDWR);
		check(fd >= 0 && e == EACCES, "reopen of a ro file via /proc/self/fd for writing is EACCES (%s)",
		      strerror(e));
		if (fd >= 0)
			close(fd);
		mutate_checks(n);
	}

	int e = sock_errno(AF_INET, SOCK_STREAM);
	check(e == inet_errno(), "socket(AF_INET) is denied (%s)", strerror(e));
	e = sock_errno(AF_INET6, SOCK_DGRAM);
	check(e == inet_errno(), "socket(AF_INET6) is denied (%s)", strerror(e));
	e = sock_errno(AF_UNIX, SOCK_STREAM);
	check(e == 0, "socket(AF_UNIX) works (%s)", strerror(e));
	if (lsm)
		/* LSM hooks judge the task: even sockets made outside are denied */
		inet_checks(n->udp, n->tcp, n->port, "inherited");
	if (lsm)
		connected_send_check(n->udpc);
	if (lsm) {
		e = unix_connect(P("rw/ok.sock"), false);
		check(e == 0, "AF_UNIX connect to a socket under a rw rule works (%s)", strerror(e));
		e = unix_connect(P("out.sock"), false);
		check(e == EACCES, "AF_UNIX connect outside the rules is EACCES (%s)", strerror(e));
		char ab[64];
		snprintf(ab, sizeof(ab), "calyx-smoke-%d", (int)getppid());
		e = unix_connect(ab, true);
		check(e == EACCES, "AF_UNIX connect to an abstract name is EACCES (%s)", strerror(e));

		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.map_type = BPF_MAP_TYPE_ARRAY;
		attr.key_size = 4;
		attr.value_size = 4;
		attr.max_entries = 1;
		long r = syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
		e = r < 0 ? errno : 0;
		if (r >= 0)
			close((int)r);
		check(e == EPERM, "bpf(BPF_MAP_CREATE) is EPERM (%s)", strerror(e));
		struct perf_event_attr pa;
		memset(&pa, 0, sizeof(pa));
		pa.type = PERF_TYPE_SOFTWARE;
		pa.size = sizeof(pa);
		pa.config = PERF_COUNT_SW_CPU_CLOCK;
		pa.disabled = 1;
		r = syscall(__NR_perf_event_open, &pa, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
		e = r < 0 ? errno : 0;
		if (r >= 0)
			close((int)r);
		check(e == EPERM, "perf_event_open of its own task is EPERM (%s)", strerror(e));
		e = mount("none", P("rw"), "tmpfs", 0, NULL) ? errno : 0;
		check(e == EPERM, "mount is EPERM (%s)", strerror(e));
		if (e == 0)
			umount(P("rw"));
		e = chroot(P("rw")) ? errno : 0;
		check(e == EPERM, "chroot is EPERM (%s)", strerror(e));
		e = unshare(CLONE_NEWUSER) ? errno : 0;
		check(e == EPERM, "unshare(CLONE_NEWUSER) is EPERM (%s)", strerror(e));
		e = kill(getppid(), 0) ? errno : 0;
		check(e == EPERM, "kill(0) of the test runner outside the sandbox is EPERM (%s)", strerror(e));
		e = kill(1, SIGTERM) ? errno : 0;
		check(e == EPERM, "kill of pid 1 is EPERM (%s)", strerror(e));
		e = ptrace(PTRACE_ATTACH, getppid(), 0, 0) ? errno : 0;
		check(e == EPERM, "ptrace attach to a task outside is EPERM (%s)", strerror(e));
		pid_t kid = fork();
		if (kid == 0) {
			pause();
			_exit(0);
		}
		e = kill(kid, SIGKILL) ? errno : 0;
		int kst = 0;
		waitpid(kid, &kst, 0);
		check(e == 0 && KILLED(kst), "kill of a task in the same sandbox works (%s)", strerror(e));
	}
}

/* Run fn in a child moved into cgroup cg; the child's exit status is its failure count. */
static void in_cgroup(const char *what, const char *cg, void (*fn)(const struct net *), const struct net *n)
{
	fflush(stdout);
	pid_t p = fork();
	if (p == 0) {
		failures = 0;
		enter_cgroup(cg);
		fn(n);
		fflush(stdout);
		_exit(failures > 100 ? 100 : failures);
	}
	int st = 0;
	waitpid(p, &st, 0);
	check(EXITED(st, 0), "%s: child finished cleanly (status %#x)", what, st);
}

static void descendant_checks(const struct net *n)
{
	(void)n;
	if (lsm) {
		int e = try_open(P("secret"), O_RDONLY);
		check(e == EACCES, "descendant cgroup: open outside the rules is EACCES (%s)", strerror(e));
		e = try_open(P("ro/f"), O_RDONLY);
		check(e == 0, "descendant cgroup: allowed read works (%s)", strerror(e));
		e = ERR(unlink(P("out/u")));
		check(e == EACCES, "descendant cgroup: unlink outside the rules is EACCES (%s)", strerror(e));
		char d[64];
		snprintf(d, sizeof(d), "rw/desc-%d", (int)getpid());
		e = ERR(mkdir(P(d), 0755));
		check(e == 0, "descendant cgroup: mkdir under :rw works (%s)", strerror(e));
	} else {
		int e = sock_errno(AF_INET, SOCK_STREAM);
		check(e == EPERM, "descendant cgroup: socket(AF_INET) is EPERM (%s)", strerror(e));
	}
}

static void orphan_checks(const struct net *n)
{
	(void)n;
	int st = run_exec(P("allowed"), -1, "7");
	if (lsm) {
		int e = try_open(P("ro/f"), O_RDONLY);
		check(e == EACCES, "cgroup under the parent without a sandbox: open is EACCES (%s)", strerror(e));
		check(EXITED(st, 100 + EACCES), "cgroup without a sandbox: exec is EACCES (status %#x)", st);
		e = ERR(mkdir(P("rw/orphan"), 0755));
		check(e == EACCES, "cgroup without a sandbox: mkdir under :rw is EACCES (%s)", strerror(e));
	} else {
		check(KILLED(st), "cgroup without a sandbox: exec is killed (status %#x)", st);
	}
}

/* More denials than the ring buffer holds, never consumed meanwhile: every one must still
 * be denied, and the loss counted. */
#define FLOOD 24000
static void flood_checks(const struct net *n)
{
	(void)n;
	int denied = 0;
	for (int i = 0; i < FLOOD; i++) {
		int e = lsm ? try_open(P("secret"), O_RDONLY) : sock_errno(AF_INET, SOCK_DGRAM);
		if (e == (lsm ? EACCES : EPERM))
			denied++;
	}
	check(denied == FLOOD, "flood: %d of %d operations denied with the ring buffer full", denied, FLOOD);
}

struct seen {
	int deny_open_secret, deny_exec_interp, deny_exec_hardlink, kill_image, exec_ev, fork_ev, exit7, exit_res, exit_cpu;
	int deny_connect_inet, deny_sendmsg, deny_sock_create, deny_bpf, sys_exit_connect, deny_unix_out;
	int deny_unlink_out, deny_link_src, deny_rename_dst, deny_mknod_dev, deny_mmap_memfd, deny_mprotect;
	int total;
	uint64_t cgid;
	int port;
};

static void on_event(const struct calyx_event *ev, void *ctx)
{
	struct seen *s = ctx;
	s->total++;
	if (ev->sandbox_cgid != s->cgid)
		return;
	if (!quiet && (ev->type == CALYX_EV_DENY || ev->type == CALYX_EV_KILL))
		printf("# record type %u hook %u err %d family %u flags %#x pid %u comm %.16s path %s\n",
		       ev->type, ev->hook, ev->err, ev->family, ev->flags, ev->pid, ev->comm, ev->path);
	switch (ev->type) {
	case CALYX_EV_DENY:
		if (ev->hook == CALYX_HOOK_FILE_OPEN && strcmp(ev->path, P("secret")) == 0 && ev->err == EACCES)
			s->deny_open_secret++;
		if (ev->hook == CALYX_HOOK_EXEC && strcmp(ev->path, P("ro/interp")) == 0)
			s->deny_exec_interp++;
		if (ev->hook == CALYX_HOOK_EXEC && strcmp(ev->path, P("hardlink")) == 0)
			s->deny_exec_hardlink++;
		if (ev->hook == CALYX_HOOK_SOCKET_CONNECT && ev->family == AF_INET && ev->port == s->port &&
		    memcmp(ev->addr, "\x7f\0\0\1", 4) == 0)
			s->deny_connect_inet++;
		if (ev->hook == CALYX_HOOK_SOCKET_CONNECT && ev->family == AF_UNIX &&
		    strcmp(ev->path, P("out.sock")) == 0)
			s->deny_unix_out++;
		if (ev->hook == CALYX_HOOK_SOCKET_SENDMSG && ev->port == s->port)
			s->deny_sendmsg++;
		if (ev->hook == CALYX_HOOK_SOCKET_CREATE)
			s->deny_sock_create++;
		if (ev->hook == CALYX_HOOK_BPF)
			s->deny_bpf++;
		if (ev->hook == CALYX_HOOK_PATH_MUTATE && ev->flags == CALYX_MUT_UNLINK && ev->err == EACCES &&
		    strcmp(ev->path, P("out/u")) == 0)
			s->deny_unlink_out++;
		if (ev->hook == CALYX_HOOK_PATH_MUTATE && ev->flags == CALYX_MUT_LINK_SRC &&
		    strcmp(ev->path, P("out/secret")) == 0)
			s->deny_link_src++;
		if (ev->hook == CALYX_HOOK_PATH_MUTATE && ev->flags == CALYX_MUT_RENAME_DST &&
		    strcmp(ev->path, P("ro/planted")) == 0)
			s->deny_rename_dst++;
		if (ev->hook == CALYX_HOOK_PATH_MUTATE && ev->flags == CALYX_MUT_MKNOD_DEV)
			s->deny_mknod_dev++;
		if (ev->hook == CALYX_HOOK_MMAP_EXEC && ev->flags == 1 && strncmp(ev->path, "/memfd:", 7) == 0)
			s->deny_mmap_memfd++;
		if (ev->hook == CALYX_HOOK_MMAP_EXEC && ev->flags == 2)
			s->deny_mprotect++;
		if (ev->hook == CALYX_HOOK_SYSCALL_EXIT && ev->family == 42 && ev->err == EPERM)
			s->sys_exit_connect++;
		break;
	case CALYX_EV_KILL:
		if (ev->hook == CALYX_HOOK_EXEC_IMAGE && ev->err == SIGKILL)
			s->kill_image++;
		break;
	case CALYX_EV_EXEC:
		if (strcmp(ev->path, P("allowed")) == 0)
			s->exec_ev++;
		break;
	case CALYX_EV_FORK:
		s->fork_ev++;
		break;
	case CALYX_EV_EXIT:
		if (ev->err == 7 << 8) {
			s->exit7++;
			printf("# EXIT cpu_ns=%llu maxrss_kb=%llu min_flt=%llu maj_flt=%llu nvcsw=%llu nivcsw=%llu rd=%llu wr=%llu\n",
			       (unsigned long long)ev->cpu_ns, (unsigned long long)ev->maxrss_kb,
			       (unsigned long long)ev->min_flt, (unsigned long long)ev->maj_flt,
			       (unsigned long long)ev->nvcsw, (unsigned long long)ev->nivcsw,
			       (unsigned long long)ev->read_bytes, (unsigned long long)ev->write_bytes);
			if (ev->maxrss_kb > 0 && ev->min_flt > 0)
				s->exit_res++;
		}
		if (ev->err == 9 << 8 && ev->cpu_ns >= 100000000ull)
			s->exit_cpu++;
		break;
	}
}

static void mkdirs(const char *p)
{
	if (mkdir(p, 0755) && errno != EEXIST)
		die("mkdir", p);
}

static void stat_rule(struct exec_rule *x, const char *path)
{
	struct stat st;
	if (stat(path, &st))
		die("stat", path);
	memset(x, 0, sizeof(*x));
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	snprintf(x->path, sizeof(x->path), "%s", path);
}

static void add_rule(struct path_rule *r, size_t *n, const char *pat, enum path_access a)
{
	char err[256];
	if (pathpat_parse(pat, NULL, NULL, &r[*n].pat, err, sizeof(err)))
		die("pattern", err);
	r[(*n)++].access = a;
}

/* ------------------------------------------------------------------ several sandboxes, one enforcer
 * The issue: one loaded program set serves any number of concurrent sandboxes, each with
 * its own lease rules. `calyx run` loads one enforcer per runner (docs/run.md), so this is
 * proved on the enforcer itself: sandboxes A and B (and the main one, still added) live
 * at once in one enforcer, each with its own lease binary and its own :rw directory, and
 * each child, alive in its cgroup at the same time as the other, gets exactly its own
 * rules. Then A is removed while B's child lives on (B is intact, A's cgroup denies
 * everything), and C takes A's freed slot: nothing of A's rules may leak into it.
 * Network policy: deny_all is the only one there is, so both sandboxes check it. */
struct member {
	const char *name;    /* "A", "B", "C" */
	const char *bin;     /* its lease binary (base-relative) */
	const char *dir;     /* its :rw directory (base-relative) */
	const char *foreign_bin;
	char cg[450];
	uint64_t cgid;
	int cgfd;
	int to[2], from[2];  /* parent -> child commands, child -> parent "done" */
	pid_t pid;
};
static const char *const member_dirs[] = { "ma", "mb", "mc" };

static bool exec_denied(int st)
{
	return lsm ? EXITED(st, 100 + EACCES) : KILLED(st);
}

/* One round of checks in sandbox m. removed: m's sandbox is gone (an orphan cgroup). */
static void member_checks(const struct member *m, bool removed)
{
	static int round; /* per child process */
	char own[64], tag[32];
	int st = run_exec(P(m->bin), -1, "7");
	if (removed)
		snprintf(tag, sizeof(tag), "%s (removed)", m->name);
	else if (++round > 1)
		snprintf(tag, sizeof(tag), "%s (round %d)", m->name, round);
	else
		snprintf(tag, sizeof(tag), "%s", m->name);
	if (removed)
		check(exec_denied(st), "%s: its own lease binary is denied once it is removed (status %#x)", tag, st);
	else
		check(EXITED(st, 7), "%s: its own lease binary %s runs (status %#x)", tag, m->bin, st);
	st = run_exec(P(m->foreign_bin), -1, "7");
	check(exec_denied(st), "%s: the other sandbox's lease binary %s is denied (status %#x)", tag, m->foreign_bin,
	      st);
	if (lsm) {
		snprintf(own, sizeof(own), "%s/f", m->dir);
		int e = try_open(P(own), O_RDONLY);
		if (removed)
			check(e == EACCES, "%s: its own %s is EACCES once it is removed (%s)", tag, own, strerror(e));
		else
			check(e == 0, "%s: reads its own %s (%s)", tag, own, strerror(e));
		/* a name no earlier round created: O_EXCL on an existing file is EEXIST before
		 * any LSM hook runs */
		snprintf(own, sizeof(own), "%s/new-%s-%d", m->dir, m->name, round + removed * 100);
		e = create_excl(P(own));
		if (removed)
			check(e == EACCES, "%s: creating in its own %s is EACCES once it is removed (%s)", tag, m->dir,
			      strerror(e));
		else
			check(e == 0, "%s: creates a file in its own :rw %s (%s)", tag, m->dir, strerror(e));
		for (size_t i = 0; i < sizeof(member_dirs) / sizeof(member_dirs[0]); i++) {
			if (strcmp(member_dirs[i], m->dir) == 0)
				continue;
			char f[64];
			snprintf(f, sizeof(f), "%s/f", member_dirs[i]);
			e = try_open(P(f), O_RDONLY);
			check(e == EACCES, "%s: reading another sandbox's %s is EACCES (%s)", tag, f, strerror(e));
			snprintf(f, sizeof(f), "%s/planted-%s", member_dirs[i], m->name);
			e = create_excl(P(f));
			check(e == EACCES && !exists(P(f)), "%s: creating in another sandbox's :rw %s is EACCES (%s)", tag,
			      member_dirs[i], strerror(e));
		}
	}
	if (!removed) {
		/* sockets made in the cgroup after its programs were attached (landlock) or
		 * judged by the task (bpf-lsm) */
		int e = sock_errno(AF_INET, SOCK_STREAM);
		check(e == inet_errno(), "%s: socket(AF_INET) is denied, network deny_all (%s)", tag, strerror(e));
	}
}

/* The child of sandbox m: enters its cgroup, then runs a round per command byte ('n'
 * normal, 'o' orphan) and answers 'd'; 'q' ends it. Exit status: its failure count. */
static void member_start(struct member *m)
{
	if (pipe2(m->to, O_CLOEXEC) || pipe2(m->from, O_CLOEXEC))
		die("pipe", strerror(errno));
	fflush(stdout);
	m->pid = fork();
	if (m->pid < 0)
		die("fork", strerror(errno));
	if (m->pid > 0) {
		close(m->to[0]);
		close(m->from[1]);
		return;
	}
	failures = 0;
	close(m->to[1]);
	close(m->from[0]);
	enter_cgroup(m->cg);
	char c;
	if (write(m->from[1], "r", 1) != 1)
		_exit(99);
	while (read(m->to[0], &c, 1) == 1 && c != 'q') {
		member_checks(m, c == 'o');
		fflush(stdout);
		if (write(m->from[1], "d", 1) != 1)
			_exit(99);
	}
	_exit(failures > 100 ? 100 : failures);
}

static bool member_wait(struct member *m, char want)
{
	char c = 0;
	return read(m->from[0], &c, 1) == 1 && c == want;
}

static void member_round(struct member **ms, const char *cmds, const char *what)
{
	/* every command first, then every answer: the rounds run at the same time */
	for (size_t i = 0; cmds[i]; i++)
		if (write(ms[i]->to[1], &cmds[i], 1) != 1)
			die("member", "command");
	bool ok = true;
	for (size_t i = 0; cmds[i]; i++)
		ok = member_wait(ms[i], 'd') && ok;
	check(ok, "%s: every sandbox's child finished its round", what);
}

static void member_stop(struct member *m)
{
	int st = 0;
	if (write(m->to[1], "q", 1) != 1)
		die("member", "quit");
	waitpid(m->pid, &st, 0);
	check(EXITED(st, 0), "%s: child finished cleanly (status %#x)", m->name, st);
	close(m->to[1]);
	close(m->from[0]);
}

static int member_add(struct enforcer *e, struct member *m, const char *parent)
{
	char err[512];
	struct exec_rule ex;
	stat_rule(&ex, P(m->bin));
	struct path_rule pr[8];
	size_t np = 0;
	add_rule(pr, &np, "/usr/**", ACCESS_RO);
	add_rule(pr, &np, "/lib/**", ACCESS_RO);
	add_rule(pr, &np, "/lib64/**", ACCESS_RO);
	add_rule(pr, &np, "/etc/**", ACCESS_RO);
	add_rule(pr, &np, "/dev/null", ACCESS_RW);
	char pat[600];
	snprintf(pat, sizeof(pat), "%s/**", P(m->dir));
	add_rule(pr, &np, pat, ACCESS_RW);
	snprintf(m->cg, sizeof(m->cg), "%s/member-%s", parent, m->name);
	mkdirs(m->cg);
	if (cgroup_id_of(m->cg, &m->cgid))
		die("cgroup id", m->cg);
	m->cgfd = open(m->cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct sandbox_rules r = {
		.cgid = m->cgid, .cgroup_fd = m->cgfd, .exec = &ex, .n_exec = 1, .paths = pr, .n_paths = np,
		.network = NET_DENY_ALL,
	};
	int rc = enforcer_add_sandbox(e, &r, err, sizeof(err));
	check(rc == 0, "sandbox %s added to the same enforcer (exec %s, :rw %s): %s", m->name, m->bin, m->dir,
	      rc ? err : "added");
	return rc;
}

static void member_drop(struct enforcer *e, struct member *m)
{
	enforcer_remove_sandbox(e, m->cgid);
	close(m->cgfd);
	rmdir(m->cg);
}

/* Who a record is attributed to, and whether it concerns that sandbox's own things. */
struct member_seen {
	struct member *m[2];
	int exec_own[2], deny_exec_foreign[2], deny_file_foreign[2], deny_own[2], misattributed;
};

static bool under(const char *path, const char *dir)
{
	size_t l = strlen(P(dir));
	return strncmp(path, P(dir), l) == 0 && path[l] == '/';
}

static void on_member_event(const struct calyx_event *ev, void *ctx)
{
	struct member_seen *s = ctx;
	bool theirs = false;
	for (int i = 0; i < 2; i++) {
		struct member *m = s->m[i], *o = s->m[1 - i];
		theirs = theirs || strcmp(ev->path, P(m->bin)) == 0 || under(ev->path, m->dir);
		if (ev->sandbox_cgid != m->cgid)
			continue;
		if (ev->type == CALYX_EV_EXEC && strcmp(ev->path, P(m->bin)) == 0)
			s->exec_own[i]++;
		if (ev->type != CALYX_EV_DENY && ev->type != CALYX_EV_KILL)
			continue;
		printf("# %s: record type %u hook %u err %d path %s\n", m->name, ev->type, ev->hook, ev->err, ev->path);
		if (strcmp(ev->path, P(m->bin)) == 0 || under(ev->path, m->dir))
			s->deny_own[i]++;
		if (strcmp(ev->path, P(o->bin)) == 0)
			s->deny_exec_foreign[i]++;
		if (under(ev->path, o->dir))
			s->deny_file_foreign[i]++;
	}
	/* a record about A's or B's things that names neither as its sandbox */
	if (theirs && ev->sandbox_cgid != s->m[0]->cgid && ev->sandbox_cgid != s->m[1]->cgid)
		s->misattributed++;
}

static void count_event(const struct calyx_event *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
}

static void multi_sandbox_checks(struct enforcer *e, const char *parent)
{
	for (size_t i = 0; i < sizeof(member_dirs) / sizeof(member_dirs[0]); i++) {
		char f[64];
		mkdirs(P(member_dirs[i]));
		snprintf(f, sizeof(f), "%s/f", member_dirs[i]);
		put_file(P(f), "data\n", 0644);
	}
	struct member a = { .name = "A", .bin = "allowed", .dir = "ma", .foreign_bin = "other" };
	struct member b = { .name = "B", .bin = "other", .dir = "mb", .foreign_bin = "allowed" };
	/* C gets B's binary but its own directory: A's binary and A's directory, whose rules
	 * sat in the slot C reuses, must stay denied */
	struct member c = { .name = "C", .bin = "other", .dir = "mc", .foreign_bin = "allowed" };
	if (member_add(e, &a, parent) || member_add(e, &b, parent))
		return;
	int drained = 0;
	enforcer_consume(e, count_event, &drained);
	member_start(&a);
	member_start(&b);
	check(member_wait(&a, 'r') && member_wait(&b, 'r'), "A's and B's children are in their cgroups at once");
	struct member *ab[] = { &a, &b };
	member_round(ab, "nn", "A and B at the same time");

	struct member_seen s = { .m = { &a, &b } };
	int got = enforcer_consume(e, on_member_event, &s);
	check(got > 0, "A and B: %d records", got);
	for (int i = 0; i < 2; i++) {
		const char *w = s.m[i]->name;
		check(s.exec_own[i] >= 1, "%s: EXEC record of its own binary attributed to %s (%d)", w, w, s.exec_own[i]);
		check(s.deny_exec_foreign[i] >= 1, "%s: the denied exec of the other's binary is recorded as %s's (%d)",
		      w, w, s.deny_exec_foreign[i]);
		if (lsm)
			check(s.deny_file_foreign[i] >= 2,
			      "%s: the denied opens of the other's directory are recorded as %s's (%d)", w, w,
			      s.deny_file_foreign[i]);
		check(s.deny_own[i] == 0, "%s: no denial of its own binary or directory (%d)", w, s.deny_own[i]);
	}
	check(s.misattributed == 0, "no record of A's or B's doings attributed to another sandbox (%d)",
	      s.misattributed);

	/* A goes away while B's child lives on; C reuses A's slot. */
	check(enforcer_remove_sandbox(e, a.cgid) == 0, "sandbox A removed while B runs");
	if (member_add(e, &c, parent) == 0) {
		member_start(&c);
		check(member_wait(&c, 'r'), "C's child is in its cgroup");
		struct member *abc[] = { &a, &b, &c };
		member_round(abc, "onn", "after A's removal: A, B and C at the same time");
		member_stop(&c);
	}
	member_stop(&a);
	member_stop(&b);
	member_drop(e, &a);
	member_drop(e, &b);
	member_drop(e, &c);
}

int main(int argc, char **argv)
{
	/* Roles when exec'd inside the sandbox. */
	if (argc >= 2 && strcmp(argv[1], "7") == 0)
		return 7;
	if (argc >= 2 && strstr(argv[1], ".sh"))
		return 5;
	if (argc >= 2 && strcmp(argv[1], "spin") == 0) {
		/* ~200 ms of CPU: the EXIT record must carry it */
		struct timespec t0, t;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 200000000L);
		return 9;
	}
	if (argc != 2 || (strcmp(argv[1], "landlock") && strcmp(argv[1], "bpf-lsm"))) {
		fprintf(stderr, "usage: %s landlock|bpf-lsm\n", argv[0]);
		return 64;
	}
	lsm = strcmp(argv[1], "bpf-lsm") == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		die("readlink", "/proc/self/exe");
	self[sl] = '\0';

	/* files */
	snprintf(base, sizeof(base), "/tmp/calyx-smoke-%d", (int)getpid());
	mkdirs(base);
	const char *dirs[] = { "rw", "ro", "ch", "ch/d", "out", "out/d", "ro/d", "chw", "chw/dir" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mkdirs(P(dirs[i]));
	const char *files[] = { "secret", "ro/f", "rw/f", "ch/f", "ch/d/f", "exact", "exact-evil",
				"rw/mine", "chw/dir/secret" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		put_file(P(files[i]), "data\n", 0644);
	/* victims of mutate_checks, outside every rule and under :ro */
	const char *victims[] = { "u", "t", "c", "r", "secret" };
	for (size_t i = 0; i < sizeof(victims) / sizeof(victims[0]); i++) {
		char v[64];
		snprintf(v, sizeof(v), "out/%s", victims[i]);
		put_file(P(v), "data\n", 0644);
		snprintf(v, sizeof(v), "ro/%s", victims[i]);
		put_file(P(v), "data\n", 0644);
	}
	copy_file(self, P("allowed"));
	copy_file(self, P("other"));
	if (link(P("allowed"), P("hardlink")))
		die("link", P("hardlink"));
	char sh[600];
	snprintf(sh, sizeof(sh), "#!%s\n", P("allowed"));
	put_file(P("good.sh"), sh, 0755);
	put_file(P("unlisted.sh"), sh, 0755);
	snprintf(sh, sizeof(sh), "#!%s\n", P("other"));
	put_file(P("badinterp.sh"), sh, 0755);
	copy_file(self, P("ro/interp"));
	snprintf(sh, sizeof(sh), "#!%s\n", P("ro/interp"));
	put_file(P("roint.sh"), sh, 0755);
	struct net n = { 0 };
	/* a file whose path is longer than the kernel matcher holds, under the rw rule */
	snprintf(n.longfile, sizeof(n.longfile), "%s", P("rw"));
	while (strlen(n.longfile) < CALYX_LPM_PATH_MAX + 10) {
		strcat(n.longfile, "/dddddddddddddddddddddddddddddd");
		mkdirs(n.longfile);
	}
	strcat(n.longfile, "/f");
	put_file(n.longfile, "x", 0644);
	/* a directory under rw to create names of exactly the matcher's limit in */
	snprintf(n.edge, sizeof(n.edge), "%s/edge", P("rw"));
	mkdirs(n.edge);
	n.outfd = open(P("out/secret"), O_RDONLY | O_CLOEXEC);
	if (n.outfd < 0)
		die("open", P("out/secret"));

	/* network endpoints, made outside the sandbox */
	int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof(a)) || listen(lst, 8) ||
	    getsockname(lst, (struct sockaddr *)&a, &al))
		die("tcp listen", strerror(errno));
	n.port = ntohs(a.sin_port);
	n.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	n.tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	n.udpc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n.udpc < 0 || connect(n.udpc, (struct sockaddr *)&a, sizeof(a)))
		die("udp connect", strerror(errno));
	int u1 = unix_listen(P("rw/ok.sock"), false);
	int u2 = unix_listen(P("out.sock"), false);
	char ab[64];
	snprintf(ab, sizeof(ab), "calyx-smoke-%d", (int)getpid());
	int u3 = unix_listen(ab, true);
	n.memfd = memfd_create("allowed", 0);
	{
		int in = open(self, O_RDONLY | O_CLOEXEC);
		char buf[65536];
		ssize_t r;
		while (in >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
			if (write(n.memfd, buf, (size_t)r) != r)
				die("memfd", "write");
		if (in >= 0)
			close(in);
	}

	/* cgroups */
	char mnt[256], parent[400], sb[450], sub[500], orphan[450], err[512];
	if (cgroup2_mount_point(mnt, sizeof(mnt)))
		die("cgroup2", "no mount");
	snprintf(parent, sizeof(parent), "%s/calyx-smoke-%d", mnt, (int)getpid());
	snprintf(sb, sizeof(sb), "%s/sb", parent);
	snprintf(sub, sizeof(sub), "%s/sub", sb);
	snprintf(orphan, sizeof(orphan), "%s/orphan", parent);
	mkdirs(parent);
	mkdirs(sb);
	mkdirs(sub);
	mkdirs(orphan);
	uint64_t parent_id, sb_id;
	if (cgroup_id_of(parent, &parent_id) || cgroup_id_of(sb, &sb_id))
		die("cgroup id", parent);
	struct stat cst;
	check(stat(sb, &cst) == 0 && cst.st_ino == sb_id, "cgroup_id_of equals the directory inode (%llu)",
	      (unsigned long long)sb_id);
	int sbfd = open(sb, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	struct enforcer *e = NULL;
	struct enforcer_opts o = {
		.backend = lsm ? ENFORCE_BPF_LSM : ENFORCE_LANDLOCK,
		.parent_cgid = parent_id,
		.parent_level = 1, /* <mount>/calyx-smoke-PID, mount = hierarchy root */
		.verbose = getenv("CALYX_SMOKE_VERBOSE") != NULL,
	};
	int rc = enforcer_open(&e, &o, err, sizeof(err));
	check(rc == 0, "enforcer_open(%s): %s", argv[1], rc ? err : "loaded and attached");
	if (rc)
		return 1;

	struct exec_rule ex[4];
	stat_rule(&ex[0], P("allowed"));
	stat_rule(&ex[1], P("good.sh"));
	stat_rule(&ex[2], P("badinterp.sh"));
	stat_rule(&ex[3], P("roint.sh"));
	struct path_rule pr[16];
	size_t np = 0;
	add_rule(pr, &np, "/usr/**", ACCESS_RO);
	add_rule(pr, &np, "/lib/**", ACCESS_RO);
	add_rule(pr, &np, "/lib64/**", ACCESS_RO);
	add_rule(pr, &np, "/etc/**", ACCESS_RO);
	add_rule(pr, &np, "/dev/null", ACCESS_RW);
	char pat[600];
	snprintf(pat, sizeof(pat), "%s/**", P("rw"));
	add_rule(pr, &np, pat, ACCESS_RW);
	snprintf(pat, sizeof(pat), "%s/**", P("ro"));
	add_rule(pr, &np, pat, ACCESS_RO);
	snprintf(pat, sizeof(pat), "%s/*", P("ch"));
	add_rule(pr, &np, pat, ACCESS_RO);
	add_rule(pr, &np, P("exact"), ACCESS_RO);
	snprintf(pat, sizeof(pat), "%s/*", P("chw"));
	add_rule(pr, &np, pat, ACCESS_RW);
	struct sandbox_rules r = {
		.cgid = sb_id, .cgroup_fd = sbfd, .exec = ex, .n_exec = 4, .paths = pr, .n_paths = np,
		.network = NET_DENY_ALL,
	};
	/* cgroup sock programs judge the socket's cgroup (where it was created), so the
	 * landlock backend is tested with sockets made in the sandbox cgroup before the
	 * programs were attached there. */
	int go[2] = { -1, -1 }, ready[2] = { -1, -1 };
	pid_t sockchild = -1;
	if (!lsm) {
		if (pipe2(go, O_CLOEXEC) || pipe2(ready, O_CLOEXEC))
			die("pipe", strerror(errno));
		fflush(stdout);
		sockchild = fork();
		if (sockchild == 0) {
			failures = 0;
			enter_cgroup(sb);
			int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			char c = 0;
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(99);
			check(udp >= 0 && tcp >= 0, "sockets made in the sandbox cgroup before the sandbox existed");
			inet_checks(udp, tcp, n.port, "in-sandbox");
			_exit(failures);
		}
		char c;
		if (read(ready[0], &c, 1) != 1)
			die("socket child", "not ready");
	}
	rc = enforcer_add_sandbox(e, &r, err, sizeof(err));
	check(rc == 0, "enforcer_add_sandbox: %s", rc ? err : "added");
	if (sockchild > 0) {
		int st = 0;
		if (write(go[1], "g", 1) != 1)
			die("socket child", "go");
		waitpid(sockchild, &st, 0);
		check(EXITED(st, 0), "socket child finished cleanly (status %#x)", st);
	}
	rc = enforcer_add_sandbox(e, &r, err, sizeof(err));
	check(rc == -EEXIST, "adding the same sandbox twice is refused (%d: %s)", rc, err);

	in_cgroup("sandbox", sb, child_checks, &n);
	if (lsm) {
		struct stat vst;
		check(file_has(P("out/t"), "data\n"), "outside file refused truncation kept its bytes");
		check(stat(P("out/c"), &vst) == 0 && (vst.st_mode & 07777) == 0644 && vst.st_uid == 0,
		      "outside file refused chmod/chown kept mode and owner");
		check(exists(P("out/u")) && exists(P("out/d")) && exists(P("out/r")) && !exists(P("out/newdir")) &&
		      !exists(P("out/created")) && !exists(P("rw/link-out")),
		      "outside: nothing removed, created or linked");
	}
	in_cgroup("descendant cgroup", sub, descendant_checks, &n);
	in_cgroup("orphan cgroup", orphan, orphan_checks, &n);

	struct seen s = { .cgid = sb_id, .port = n.port };
	int got = enforcer_consume(e, on_event, &s);
	check(got > 0 && got == s.total, "enforcer_consume returned %d records", got);
	check(s.exec_ev >= 1, "EXEC record of the lease binary (%d)", s.exec_ev);
	check(s.fork_ev >= 3, "FORK records (%d)", s.fork_ev);
	check(s.exit7 >= 1, "EXIT record with wait status 7<<8 (%d)", s.exit7);
	check(s.exit_res >= 1, "EXIT record carries maxrss and faults (%d)", s.exit_res);
	check(s.exit_cpu >= 1, "EXIT record of the spinner carries >= 100 ms of CPU (%d)", s.exit_cpu);
	check(s.deny_connect_inet >= 1, "DENY connect record with 127.0.0.1 and the port (%d)", s.deny_connect_inet);
	check(s.deny_sendmsg >= 1, "DENY sendmsg record (%d)", s.deny_sendmsg);
	check(s.deny_sock_create >= 2, "DENY socket create records (%d)", s.deny_sock_create);
	if (lsm) {
		check(s.deny_open_secret >= 1, "DENY file_open record with the path (%d)", s.deny_open_secret);
		check(s.deny_exec_interp >= 2, "DENY exec records of the interpreter, direct and via #! (%d)",
		      s.deny_exec_interp);
		check(s.deny_exec_hardlink >= 1, "DENY exec record of the hard link (%d)", s.deny_exec_hardlink);
		check(s.deny_unix_out >= 1, "DENY AF_UNIX connect record with the path (%d)", s.deny_unix_out);
		check(s.deny_bpf >= 1, "DENY bpf record (%d)", s.deny_bpf);
		check(s.deny_unlink_out >= 1, "DENY path_mutate unlink record with the path (%d)", s.deny_unlink_out);
		check(s.deny_link_src >= 1, "DENY path_mutate record of the hard link's source (%d)", s.deny_link_src);
		check(s.deny_rename_dst >= 1, "DENY path_mutate record of the rename target (%d)", s.deny_rename_dst);
		check(s.deny_mknod_dev >= 2, "DENY path_mutate records of device nodes (%d)", s.deny_mknod_dev);
		check(s.deny_mmap_memfd >= 1, "DENY mmap_exec record of the memfd (%d)", s.deny_mmap_memfd);
		check(s.deny_mprotect >= 2, "DENY mmap_exec records of mprotect (%d)", s.deny_mprotect);
	} else {
		check(s.kill_image >= 2, "KILL exec-image records (%d)", s.kill_image);
		check(s.sys_exit_connect >= 1, "syscall-exit record of the EPERM connect (%d)", s.sys_exit_connect);
	}
	check(enforcer_dropped(e) == 0, "no records dropped (%llu)", (unsigned long long)enforcer_dropped(e));

	in_cgroup("flood", sb, flood_checks, &n);
	uint64_t dropped = enforcer_dropped(e);
	check(dropped > 0 && dropped < FLOOD, "flood: %llu records counted as dropped",
	      (unsigned long long)dropped);
	struct seen s2 = { .cgid = sb_id, .port = n.port };
	quiet = true;
	got = enforcer_consume(e, on_event, &s2);
	quiet = false;
	check(got > 0 && (uint64_t)got + dropped >= FLOOD, "flood: %d records delivered + %llu dropped",
	      got, (unsigned long long)dropped);

	/* After removal the cgroup is an orphan: everything denied. */
	check(enforcer_remove_sandbox(e, sb_id) == 0, "enforcer_remove_sandbox");
	check(enforcer_remove_sandbox(e, sb_id) == 0, "enforcer_remove_sandbox again (idempotent)");
	in_cgroup("removed sandbox", sb, orphan_checks, &n);
	rc = enforcer_add_sandbox(e, &r, err, sizeof(err));
	check(rc == 0, "the sandbox can be added again: %s", rc ? err : "added");
	in_cgroup("re-added sandbox", sub, descendant_checks, &n);

	multi_sandbox_checks(e, parent);

	enforcer_close(e);
	close(sbfd);
	close(lst);
	close(n.udp);
	close(n.tcp);
	close(n.udpc);
	close(u1);
	close(u2);
	close(u3);
	close(n.outfd);
	rmdir(sub);
	rmdir(sb);
	rmdir(orphan);
	rmdir(parent);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", base);
	printf("# %d failure(s)\n", failures);
	return failures ? 1 : 0;
}
