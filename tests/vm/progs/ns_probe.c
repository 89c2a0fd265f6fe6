/* ns_probe OP [ARG...]: what a process sees of its namespaces and keyrings, one line on
 * stdout ("ok ..." or errno=NAME), run inside a sandbox and, for comparison, on the host.
 *   hostname               the UTS node name
 *   cwd                    the working directory
 *   links                  RTM_GETLINK dump: "ok lo[,eth0...]" (names, each "+up" if up)
 *   diag-unix              sock_diag dump of every AF_UNIX socket: "ok N" sockets
 *   abs-listen NAME SEC    bind + listen on abstract NAME, "ok listening", then wait SEC
 *                          seconds for a client: "ok accepted" or "ok none" (a second line)
 *   abs-bind NAME          bind abstract NAME (a host listener holds it outside)
 *   abs-connect NAME       connect to abstract NAME
 *   shm-make KEY           shmget(KEY, IPC_CREAT|IPC_EXCL, 0644): "ok id"
 *   shm-get KEY            shmget(KEY, 0, 0) of an existing segment
 *   msg-make KEY / sem-make KEY / msg-get KEY / sem-get KEY
 *   shm-rm KEY / msg-rm KEY / sem-rm KEY   remove what the host made for a test
 *   mq-make NAME / mq-get NAME / mq-rm NAME   POSIX message queue (NAME with its '/')
 *   key-add DESC           add a "user" key DESC to the session keyring: "ok SERIAL"
 *   keyring                the session keyring's serial: "ok SERIAL"
 *   key-search DESC        search the session keyring for the user key DESC
 *   cat FILE               the file's contents as they are
 *   stat PATH / readlink PATH / listxattr PATH / inotify PATH   the call on PATH: "ok"
 *   read PATH              open O_RDONLY: "ok"
 *   write PATH             open O_WRONLY|O_CREAT (0644) and write one byte: "ok"
 *   pids                   the numeric entries of /proc: "ok 1,2,..."
 *   in NSFILE OP [ARG...]  setns() into the namespace NSFILE (/proc/PID/ns/...), then OP
 *                          (busybox nsenter has no cgroup namespace option) */
#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sched.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <mqueue.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "common.h"

static int nl_open(int proto)
{
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (s < 0)
		return -errno;
	return s;
}

/* Send one dump request and walk the answer; cb sees each message. 0 or -errno. */
static int nl_dump(int s, void *req, size_t len, void (*cb)(struct nlmsghdr *, void *), void *ctx)
{
	if (send(s, req, len, 0) < 0)
		return -errno;
	static char buf[65536];
	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : 0;
			}
			cb(h, ctx);
		}
	}
}

struct names { char s[4096]; size_t n; };

static void link_cb(struct nlmsghdr *h, void *ctx)
{
	struct names *nm = ctx;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME && nm->n + 40 < sizeof(nm->s))
			nm->n += (size_t)snprintf(nm->s + nm->n, sizeof(nm->s) - nm->n, "%s%s%s",
						  nm->n ? "," : "", (char *)RTA_DATA(a),
						  (ifi->ifi_flags & IFF_UP) ? "+up" : "");
}

static void count_cb(struct nlmsghdr *h, void *ctx)
{
	(void)h;
	(*(unsigned *)ctx)++;
}

static int abs_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	size_t n = strlen(name);
	if (n + 1 >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path + 1, name, n);   /* sun_path[0] = 0: abstract */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 3 && !strcmp(argv[1], "in")) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, 0) < 0)
			return report_errno("setns", errno);
		close(fd);
		return main(argc - 2, argv + 2);
	}
	if (argc > 2 && !strcmp(argv[1], "cat")) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return report_errno("open", errno);
		char b[4096];
		ssize_t n;
		while ((n = read(fd, b, sizeof(b))) > 0)
			fwrite(b, 1, (size_t)n, stdout);
		return n < 0 ? report_errno("read", errno) : 0;
	}
	if (argc > 2 && (!strcmp(argv[1], "stat") || !strcmp(argv[1], "readlink") ||
			 !strcmp(argv[1], "listxattr") || !strcmp(argv[1], "inotify") ||
			 !strcmp(argv[1], "read") || !strcmp(argv[1], "write"))) {
		const char *o = argv[1], *pa = argv[2];
		struct stat st;
		char b[4096];
		long r = 0;
		if (!strcmp(o, "stat"))
			r = stat(pa, &st);
		else if (!strcmp(o, "readlink"))
			r = readlink(pa, b, sizeof(b));
		else if (!strcmp(o, "listxattr"))
			r = listxattr(pa, b, sizeof(b));
		else if (!strcmp(o, "inotify")) {
			int in = inotify_init1(IN_CLOEXEC);
			r = in < 0 ? -1 : inotify_add_watch(in, pa, IN_ALL_EVENTS);
		} else {
			int fd = !strcmp(o, "read") ? open(pa, O_RDONLY | O_CLOEXEC)
						    : open(pa, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
			r = fd;
			if (fd >= 0 && !strcmp(o, "write") && write(fd, "x", 1) != 1)
				r = -1;
		}
		if (r < 0)
			return report_errno(o, errno);
		printf("ok\n");
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "pids")) {
		DIR *d = opendir("/proc");
		if (!d)
			return report_errno("opendir", errno);
		char out[4096] = "";
		size_t n = 0;
		for (struct dirent *de; (de = readdir(d));)
			if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && n + 16 < sizeof(out))
				n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", n ? "," : "", de->d_name);
		closedir(d);
		printf("ok %s\n", out);
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: ns_probe OP [ARG...]\n");
		return 2;
	}
	const char *op = argv[1], *a = argc > 2 ? argv[2] : "";
	key_t key = (key_t)strtol(a, NULL, 0);
	long r;
	if (!strcmp(op, "hostname")) {
		struct utsname u;
		if (uname(&u) < 0)
			return report_errno(op, errno);
		printf("ok %s\n", u.nodename);
		return 0;
	}
	if (!strcmp(op, "cwd")) {
		char d[4096];
		if (!getcwd(d, sizeof(d)))
			return report_errno(op, errno);
		printf("ok %s\n", d);
		return 0;
	}
	if (!strcmp(op, "links") || !strcmp(op, "diag-unix")) {
		bool links = !strcmp(op, "links");
		int s = nl_open(links ? NETLINK_ROUTE : NETLINK_SOCK_DIAG);
		if (s < 0)
			return report_errno("socket(AF_NETLINK)", -s);
		struct names nm = { .n = 0 };
		unsigned count = 0;
		int rc;
		if (links) {
			struct { struct nlmsghdr h; struct ifinfomsg i; } req = {
				.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
				       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
				.i = { .ifi_family = AF_UNSPEC },
			};
			rc = nl_dump(s, &req, sizeof(req), link_cb, &nm);
		} else {
			struct { struct nlmsghdr h; struct unix_diag_req u; } req = {
				.h = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
				       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
				.u = { .sdiag_family = AF_UNIX, .udiag_states = ~0U },
			};
			rc = nl_dump(s, &req, sizeof(req), count_cb, &count);
		}
		if (rc < 0)
			return report_errno(op, -rc);
		if (links)
			printf("ok %s\n", nm.s);
		else
			printf("ok %u\n", count);
		return 0;
	}
	if (!strncmp(op, "abs-", 4)) {
		struct sockaddr_un sa;
		socklen_t len;
		if (abs_addr(a, &sa, &len) < 0)
			return report_errno("name too long", ENAMETOOLONG);
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return report_errno("socket(AF_UNIX)", errno);
		if (!strcmp(op, "abs-connect")) {
			if (connect(s, (struct sockaddr *)&sa, len) < 0)
				return report_errno(op, errno);
			printf("ok connected\n");
			return 0;
		}
		if (bind(s, (struct sockaddr *)&sa, len) < 0)
			return report_errno(op, errno);
		if (!strcmp(op, "abs-bind")) {
			printf("ok bound\n");
			return 0;
		}
		if (listen(s, 4) < 0)
			return report_errno("listen", errno);
		printf("ok listening\n");
		fflush(stdout);
		struct pollfd p = { .fd = s, .events = POLLIN };
		int n = poll(&p, 1, (argc > 3 ? atoi(argv[3]) : 5) * 1000);
		printf("ok %s\n", n > 0 ? "accepted" : "none");
		return 0;
	}
	if (!strcmp(op, "shm-make"))
		r = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0644);
	else if (!strcmp(op, "shm-get"))
		r = shmget(key, 0, 0);
	else if (!strcmp(op, "msg-make"))
		r = msgget(key, IPC_CREAT | IPC_EXCL | 0644);
	else if (!strcmp(op, "msg-get"))
		r = msgget(key, 0);
	else if (!strcmp(op, "sem-make"))
		r = semget(key, 1, IPC_CREAT | IPC_EXCL | 0644);
	else if (!strcmp(op, "sem-get"))
		r = semget(key, 0, 0);
	else if (!strcmp(op, "shm-rm"))
		r = (r = shmget(key, 0, 0)) < 0 ? r : shmctl((int)r, IPC_RMID, NULL);
	else if (!strcmp(op, "msg-rm"))
		r = (r = msgget(key, 0)) < 0 ? r : msgctl((int)r, IPC_RMID, NULL);
	else if (!strcmp(op, "sem-rm"))
		r = (r = semget(key, 0, 0)) < 0 ? r : semctl((int)r, 0, IPC_RMID);
	else if (!strcmp(op, "mq-rm"))
		r = mq_unlink(a);
	else if (!strcmp(op, "mq-make") || !strcmp(op, "mq-get")) {
		struct mq_attr at = { .mq_maxmsg = 1, .mq_msgsize = 16 };
		mqd_t q = !strcmp(op, "mq-make") ? mq_open(a, O_RDWR | O_CREAT | O_EXCL, 0644, &at)
						 : mq_open(a, O_RDONLY);
		r = q == (mqd_t)-1 ? -1 : 0;
	} else if (!strcmp(op, "key-add"))
		r = syscall(SYS_add_key, "user", a, "calyx-secret", (size_t)12, KEY_SPEC_SESSION_KEYRING);
	else if (!strcmp(op, "keyring"))
		r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	else if (!strcmp(op, "key-search"))
		r = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, "user", a, 0);
	else {
		fprintf(stderr, "ns_probe: unknown op %s\n", op);
		return 2;
	}
	if (r < 0)
		return report_errno(op, errno);
	printf("ok %ld\n", r);
	return 0;
}
