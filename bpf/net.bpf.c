/* bpf-lsm: the network. Under deny_all no socket family but AF_UNIX may be created,
 * connected, sent or received on. Under network allow rules (CALYX_SB_NET_ALLOW) TCP and
 * UDP sockets may be made, and every connect and every send (to an address: unconnected
 * UDP, TCP Fast Open's sendto(MSG_FASTOPEN); or on a connected socket: to its peer) must
 * reach a destination a rule admits (netrule.bpf.h); bind and listen of inet sockets stay
 * refused, receiving is allowed; AF_UNIX peers are decided on the socket they reach,
 * which must be bound under a :rw path; abstract AF_UNIX names (host-wide, reachable by
 * any host process) may be neither bound nor reached. Every hook here runs in the task
 * that makes the call, so a socket made outside and passed in (SCM_RIGHTS, pidfd_getfd,
 * an inherited descriptor) is judged by the sandbox that uses it, not by its creator.
 * Part of the calyx.bpf.c unit. */

SEC("lsm/socket_create")
int BPF_PROG(calyx_socket_create, int family, int type, int protocol, int kern, int ret)
{
	if (ret)
		return ret;
	if (kern)
		return 0; /* kernel-internal sockets are not the task's */
	SCOPE_ENTER(sc);
	if (family == AF_UNIX)
		return 0;
	if (sb_net_allow(&sc) && net_kind_ok(family, type, protocol))
		return 0;
	/* deny_all (or no network flag at all), a kind no rule can admit, an orphan: closed */
	return deny_simple(&sc, CALYX_HOOK_SOCKET_CREATE, EACCES, family,
			   ((__u32)type & 0xffff) | ((__u32)protocol << 16), NULL);
}

/* The destination of an inet connect / send, for its denial record. */
static __always_inline void inet_dest(struct deny_info *d, __u16 family, struct sockaddr *addr, int addrlen,
				      __u8 buf[16])
{
	__u16 port = 0;
	if (family == AF_INET && addrlen >= (int)sizeof(struct sockaddr_in)) {
		struct sockaddr_in *in = (void *)addr;
		bpf_probe_read_kernel(&port, 2, &in->sin_port);
		bpf_probe_read_kernel(buf, 4, &in->sin_addr);
	} else if (family == AF_INET6 && addrlen >= 24) {
		/* 24: SIN6_LEN_RFC2133, the shortest sockaddr_in6 the kernel takes (no scope id) */
		struct sockaddr_in6 *in6 = (void *)addr;
		bpf_probe_read_kernel(&port, 2, &in6->sin6_port);
		bpf_probe_read_kernel(buf, 16, &in6->sin6_addr);
	} else {
		return;
	}
	/* a failed read leaves zeros: the record says less, the denial is the same */
	d->port = __builtin_bswap16(port);
	d->addr = buf;
	d->flags |= CALYX_SOCK_ADDR;
}

/* The peer of a connected inet socket (a send without an address, a receive), for its
 * denial record; nothing when it has none. */
static __always_inline void inet_peer(struct deny_info *d, struct sock *sk, __u16 sk_family, __u8 buf[16])
{
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (!port)
		return;   /* not connected */
	if (sk_family == AF_INET)
		bpf_core_read(buf, 4, &sk->__sk_common.skc_daddr);
	else if (sk_family == AF_INET6)
		bpf_core_read(buf, 16, &sk->__sk_common.skc_v6_daddr);
	else
		return;
	d->port = __builtin_bswap16(port);
	d->addr = buf;
	d->flags |= CALYX_SOCK_ADDR;
}

/* Decide a destination address for connect / sendmsg. addr is a kernel copy. */
static __always_inline int net_decide(__u32 hook, const struct scope *sc, struct socket *sock,
				      struct sockaddr *addr, int addrlen)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	/* Kernel sockets used on the task's behalf (sunrpc, ...) are not the task's: they
	 * were never created through socket(2) by it. */
	if (sk && BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock))
		return 0;
	__u16 sk_family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 family = AF_UNSPEC;
	if (addr && addrlen >= 2 && bpf_probe_read_kernel(&family, sizeof(family), &addr->sa_family))
		family = 0xffff; /* unreadable: no family that is allowed by kind (closed) */
	if (!sc->sb) /* orphan: closed */
		return deny_simple(sc, hook, EACCES, family, 0, NULL);

	if (sk_family != AF_UNIX) {
		/* connect(AF_UNSPEC) dissolves an association; it reaches nothing. */
		if (hook == CALYX_HOOK_SOCKET_CONNECT && family == AF_UNSPEC)
			return 0;
		__u32 buf[4] = {};
		/* The record's flags: the socket's type and protocol, as socket_create's, so
		 * a refused destination says TCP or UDP (lease suggest's rule needs it). */
		__u32 kind = ((__u32)BPF_CORE_READ(sk, sk_type) & 0xffff) | ((__u32)BPF_CORE_READ(sk, sk_protocol) << 16);
		struct deny_info d = { .hook = hook, .err = EACCES, .family = family ? family : sk_family, .flags = kind };
		if (family == AF_UNSPEC)
			inet_peer(&d, sk, sk_family, (__u8 *)buf);   /* a send on a connected socket */
		else
			inet_dest(&d, family, addr, addrlen, (__u8 *)buf);
		/* Allow rules: the destination (or the peer of a connected send) must be one a
		 * rule admits, over the socket's own protocol. No address known (a short or
		 * unreadable one, a send on an unconnected socket), deny_all: closed. */
		if (sb_net_allow(sc) && (d.flags & CALYX_SOCK_ADDR)) {
			__u32 a[4] = { buf[0], buf[1], buf[2], buf[3] };
			if (d.family == AF_INET)
				net_v4_mapped(a, buf[0]);
			else if (d.family != AF_INET6)
				return deny(sc, &d);
			if (net_rule_admits(sc->slot, a, d.port, BPF_CORE_READ(sk, sk_protocol)))
				return 0;
		}
		return deny(sc, &d);
	}

	/* AF_UNIX: no address (connected send) was decided at connect time. */
	if (!addr || addrlen <= 2 || family != AF_UNIX)
		return 0;
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen; closed */
		return -EACCES;
	__u32 n = (__u32)addrlen - 2; /* sun_path bytes given */
	if (n > 108)
		n = 108;
	k->path[0] = 0;
	bpf_probe_read_kernel(k->path, 1, ((struct sockaddr_un *)addr)->sun_path);
	/* Abstract names (leading NUL) reach any listener on the host: closed. Relative
	 * names fail path_access (no leading '/'): closed. sun_path need not be
	 * NUL-terminated: read at most n bytes and terminate. */
	long len = 0;
	if (k->path[0])
		len = bpf_probe_read_kernel_str(k->path, (n + 1) & 127, ((struct sockaddr_un *)addr)->sun_path);
	if (len > 0 && path_access(k, sc->slot, len) >= CALYX_ACC_RW)
		return 0;
	/* abstract names are binary: recorded without a path */
	return deny_simple(sc, hook, EACCES, AF_UNIX, 0, len > 0 ? k->path : NULL);
}

SEC("lsm/socket_connect")
int BPF_PROG(calyx_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen,
	     int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	return net_decide(CALYX_HOOK_SOCKET_CONNECT, &sc, sock, address, addrlen);
}

SEC("lsm/socket_sendmsg")
int BPF_PROG(calyx_socket_sendmsg, struct socket *sock, struct msghdr *msg, int size, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	/* msg_name is the kernel copy of the destination (NULL for connected sends). */
	struct sockaddr *name = BPF_CORE_READ(msg, msg_name);
	int namelen = BPF_CORE_READ(msg, msg_namelen);
	return net_decide(CALYX_HOOK_SOCKET_SENDMSG, &sc, sock, name, name ? namelen : 0);
}

/* AF_UNIX peers are decided on the socket they reach, not on the name the task passed:
 * socket_connect / socket_sendmsg above only see the sun_path string, which the kernel
 * then resolves (following symlinks and "..") to whatever socket it names. A link made in
 * an :rw directory to /run/docker.sock, or "/rw/../run/docker.sock", passes any string
 * check. These hooks get the peer socket after resolution: its bound path (unix_sock.path,
 * set by bind) must be :rw. Abstract and unbound peers have no path: denied. */
static __always_inline int unix_peer_decide(__u32 hook, struct sock *other)
{
	SCOPE_ENTER(sc);
	struct calyx_path_key *k = scratch_key();
	if (!k) /* cannot happen (array map); closed */
		return -EACCES;
	k->path[0] = 0;
	struct unix_sock *u = (struct unix_sock *)other;
	long len = walk_path(k, (__u64)BPF_CORE_READ(u, path.dentry), (__u64)BPF_CORE_READ(u, path.mnt));
	if (sc.sb && path_access(k, sc.slot, len) >= CALYX_ACC_RW)
		return 0;
	/* orphan, abstract or unbound peer, unresolvable, not :rw: closed */
	return deny_simple(&sc, hook, EACCES, AF_UNIX, CALYX_SOCK_PEER_RESOLVED, len > 0 ? k->path : NULL);
}

SEC("lsm/unix_stream_connect")
int BPF_PROG(calyx_unix_stream_connect, struct sock *sock, struct sock *other, struct sock *newsk,
	     int ret)
{
	if (ret)
		return ret;
	return unix_peer_decide(CALYX_HOOK_SOCKET_CONNECT, other);
}

/* Datagram connect and every datagram send (connected or to an address). */
SEC("lsm/unix_may_send")
int BPF_PROG(calyx_unix_may_send, struct socket *sock, struct socket *other, int ret)
{
	if (ret)
		return ret;
	return unix_peer_decide(CALYX_HOOK_SOCKET_SENDMSG, BPF_CORE_READ(other, sk));
}

/* bind(2) of an AF_UNIX socket to an abstract name (sun_path[0] == 0), or autobind (an
 * address of just the family: the kernel picks an abstract name): refused, like connects
 * to abstract names (net_decide), whatever the lease's network. An abstract name lives in
 * the network namespace: a host client that expects a well-known name (a desktop bus, an
 * agent) would connect in and hand over data and descriptors. Pathname binds are
 * path_mknod's (:rw only). Other families: socket_create already decided. */
SEC("lsm/socket_bind")
int BPF_PROG(calyx_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	__u16 family = 0xffff;
	/* unreadable: no family we know, so not AF_UNIX: decided by socket_create (closed for
	 * AF_UNIX sockets below) */
	if (address && addrlen >= 2)
		bpf_probe_read_kernel(&family, sizeof(family), &address->sa_family);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 sk_family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (sc.sb && sk_family != AF_UNIX && !sb_net_allow(&sc))
		return 0;
	if (sc.sb && sk_family != AF_UNIX) {
		/* Allow rules: the sandbox reaches out through the host's network, it never
		 * serves on it: no inet bind (a connect or a send picks the local port). */
		__u32 buf[4] = {};
		struct deny_info d = { .hook = CALYX_HOOK_SOCKET_BIND, .err = EACCES, .family = family };
		inet_dest(&d, family, address, addrlen, (__u8 *)buf);
		return deny(&sc, &d);
	}
	if (sc.sb && family == AF_UNIX && addrlen > 2) {
		char first = 0;
		if (!bpf_probe_read_kernel(&first, 1, ((struct sockaddr_un *)address)->sun_path) && first)
			return 0; /* a pathname: path_mknod decides */
	}
	/* orphan, abstract name, autobind, unreadable: closed */
	return deny_simple(&sc, CALYX_HOOK_SOCKET_BIND, EACCES, AF_UNIX, 0, NULL);
}

/* recvmsg on a socket of a family socket_create refuses under deny_all: one made outside
 * and passed in (the sandbox cannot have made it). Sends on it are refused by
 * socket_sendmsg; receiving would still let the host's network reach in. */
SEC("lsm/socket_recvmsg")
int BPF_PROG(calyx_socket_recvmsg, struct socket *sock, struct msghdr *msg, int size, int flags, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 sk_family = 0xffff;
	if (bpf_core_read(&sk_family, sizeof(sk_family), &sk->__sk_common.skc_family))
		sk_family = 0xffff; /* unreadable: not AF_UNIX (closed under deny_all) */
	if (sk && BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock))
		return 0; /* a kernel socket used on the task's behalf */
	if (sc.sb && (sk_family == AF_UNIX || sb_net_allow(&sc)))
		return 0;   /* allow rules: what comes back on an admitted socket is received */
	/* an orphan, or a socket of a refused family under deny_all: closed */
	__u8 buf[16] = {};
	struct deny_info d = { .hook = CALYX_HOOK_SOCKET_RECVMSG, .err = EACCES, .family = sk_family };
	if (sk)
		inet_peer(&d, sk, sk_family, buf);
	return deny(&sc, &d);
}

/* listen(2) of an inet socket: refused in every sandbox. Under allow rules the sandbox
 * shares the host's network namespace, and a listen without bind would autobind an
 * ephemeral port that anyone on the host's network could connect to. Under deny_all only
 * a socket passed in could get here. AF_UNIX listeners are pathname-bound (path_mknod). */
SEC("lsm/socket_listen")
int BPF_PROG(calyx_socket_listen, struct socket *sock, int backlog, int ret)
{
	if (ret)
		return ret;
	SCOPE_ENTER(sc);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 sk_family = 0xffff;
	if (bpf_core_read(&sk_family, sizeof(sk_family), &sk->__sk_common.skc_family))
		sk_family = 0xffff; /* unreadable: not AF_UNIX (closed) */
	if (sc.sb && sk_family == AF_UNIX)
		return 0;
	return deny_simple(&sc, CALYX_HOOK_SOCKET_LISTEN, EACCES, sk_family, 0, NULL);
}
