/* The sandbox's namespaces, session keyring and cgroup entry (see namespaces.h). */
#include "sandbox/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

unsigned long sandbox_ns_clone_flags(const struct sandbox_ns *ns)
{
	unsigned long f = CLONE_NEWIPC | CLONE_NEWUTS;
	if (ns && ns->net)
		f |= CLONE_NEWNET;
	return f;
}

/* A new network namespace has a loopback device, down. Any socket reaches the device
 * ioctls (an AF_UNIX one: no inet socket is needed for this). */
static int loopback_up(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	int rc = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		rc = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			rc = -errno;
	}
	close(s);
	return rc;
}

int sandbox_ns_setup(const struct sandbox_ns *ns)
{
	const char *h = ns && ns->hostname ? ns->hostname : SANDBOX_HOSTNAME;
	if (sethostname(h, strlen(h)) < 0 || setdomainname("", 0) < 0)
		return -errno;
	if (ns && ns->net) {
		int rc = loopback_up();
		if (rc < 0)
			return rc;
	}
	/* NULL name: a new anonymous keyring, never one of an earlier run's. */
	if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, (char *)NULL, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int sandbox_ns_join_cgroup(int cgroup_fd)
{
	int fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	/* "0": the writing task itself (v2 and v1 alike). */
	ssize_t n = write(fd, "0", 1);
	int e = errno;
	close(fd);
	return n == 1 ? 0 : n < 0 ? -e : -EIO;
}

int sandbox_ns_enter_cgroup(int cgroup_fd)
{
	int rc = sandbox_ns_join_cgroup(cgroup_fd);
	if (rc < 0)
		return rc;
	if (unshare(CLONE_NEWCGROUP) < 0)
		return -errno;
	return 0;
}
