/* landlock backend: what Landlock itself cannot do. Landlock does not stop fileless exec
 * (memfd, deleted files) and knows no "only these binaries": the exec-image check of
 * argv.bpf.c (both backends) kills those. Landlock on older ABIs has no network rights,
 * so cgroup sock programs (attached once, to the set's root cgroup: they run for sandbox
 * tasks only) decide the network. Landlock's own refusals
 * (files, exec by path) are not observed: no hook short of a system-wide syscall
 * tracepoint sees them on a kernel without BPF LSM. Part of the calyx.bpf.c unit. */

/* cgroup sock programs: 1 allows, 0 denies (EPERM to the caller). Under deny_all every
 * inet socket is refused at creation; under network allow rules (CALYX_SB_NET_ALLOW) TCP
 * and UDP sockets may be made, every connect (TCP Fast Open's sendto(MSG_FASTOPEN)
 * included: the kernel runs the connect hooks for it, from __inet_stream_connect) and
 * every UDP send to an address must reach a destination a rule admits (netrule.bpf.h),
 * and bind is refused. A UDP send without an address goes to the connected peer, which
 * connect4/6 admitted. */

/* Record a refusal and refuse. */
static __always_inline int cg_deny(struct scope *sc, __u32 hook, __u32 family, __u32 flags,
				   struct bpf_sock_addr *sa)
{
	struct deny_info d = { .hook = hook, .err = EPERM, .family = family, .flags = flags, .no_task = true };
	__u32 a[4] = {};
	if (sa) {
		d.flags |= CALYX_SOCK_ADDR;
		d.port = __builtin_bswap16((__u16)sa->user_port);
		if (family == AF_INET) {
			a[0] = sa->user_ip4;
		} else if (family == AF_INET6) {
			a[0] = sa->user_ip6[0];
			a[1] = sa->user_ip6[1];
			a[2] = sa->user_ip6[2];
			a[3] = sa->user_ip6[3];
		}
		d.addr = (const __u8 *)a;
	}
	/* deny(): -errno refuses; 0 is an audit-only sandbox's would-deny (allowed). */
	return deny(sc, &d) == 0 ? 1 : 0;
}

/* A connect or send to sa's address. Attached to the set's root only, so a task outside
 * it means a cgroup moved under a different root than configured: closed like an orphan. */
static __always_inline int cg_decide(__u32 hook, __u32 family, struct bpf_sock_addr *sa)
{
	struct scope sc = {};
	bool inside = scope_enter(&sc);
	if (inside && sb_net_allow(&sc)) {
		__u32 a[4];
		if (family == AF_INET) {
			net_v4_mapped(a, sa->user_ip4);
		} else {
			a[0] = sa->user_ip6[0];
			a[1] = sa->user_ip6[1];
			a[2] = sa->user_ip6[2];
			a[3] = sa->user_ip6[3];
		}
		if (net_rule_admits(sc.slot, a, __builtin_bswap16((__u16)sa->user_port), sa->protocol))
			return 1;
	}
	/* deny_all (or no network flag), no rule admits it, an orphan: closed. The record's
	 * flags: the socket's type and protocol, as sock_create's (TCP or UDP for lease
	 * suggest's rule). */
	return cg_deny(&sc, hook, family, (sa->type & 0xffff) | (sa->protocol << 16), sa);
}

SEC("cgroup/connect4")
int calyx_cg_connect4(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_CONNECT, AF_INET, ctx);
}

SEC("cgroup/connect6")
int calyx_cg_connect6(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_CONNECT, AF_INET6, ctx);
}

SEC("cgroup/sendmsg4")
int calyx_cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_SENDMSG, AF_INET, ctx);
}

SEC("cgroup/sendmsg6")
int calyx_cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_SENDMSG, AF_INET6, ctx);
}

/* bind of an inet socket: refused in every sandbox (allow rules reach out, they never
 * serve; under deny_all there is no inet socket to bind). A TCP bind is refused by
 * Landlock first where it handles BIND_TCP (ABI >= 4; EACCES, not recorded); a UDP bind
 * is refused and recorded here. */
SEC("cgroup/bind4")
int calyx_cg_bind4(struct bpf_sock_addr *ctx)
{
	struct scope sc = {};
	scope_enter(&sc);
	return cg_deny(&sc, CALYX_HOOK_SOCKET_BIND, AF_INET, 0, ctx);
}

SEC("cgroup/bind6")
int calyx_cg_bind6(struct bpf_sock_addr *ctx)
{
	struct scope sc = {};
	scope_enter(&sc);
	return cg_deny(&sc, CALYX_HOOK_SOCKET_BIND, AF_INET6, 0, ctx);
}

/* Runs for AF_INET/AF_INET6 socket creation by tasks (not kernel sockets). */
SEC("cgroup/sock_create")
int calyx_cg_sock_create(struct bpf_sock *ctx)
{
	if (ctx->family == AF_UNIX)
		return 1;
	struct scope sc = {};
	bool inside = scope_enter(&sc);
	if (inside && sb_net_allow(&sc) && net_kind_ok(ctx->family, ctx->type, ctx->protocol))
		return 1;
	/* flags as socket_create's record on bpf-lsm: type | protocol << 16 */
	return cg_deny(&sc, CALYX_HOOK_SOCKET_CREATE, ctx->family, (ctx->type & 0xffff) | (ctx->protocol << 16), NULL);
}

/* ------------------------------------------------------------------ listen (ingress) */

/* No cgroup hook sees listen(2), and Landlock (ABI <= 7) has no listen right: a TCP
 * socket that listens without a bind autobinds an ephemeral port on the host's network.
 * What reaches it is closed here instead: the kernel runs the ingress program of the
 * receiving socket's cgroup (sk_filter, from tcp_v4_rcv / tcp_v6_rcv) with the listener
 * as skb->sk for a SYN (and for the handshake's last ACK: the request's listener), so a
 * packet to a listener made in a sandbox is dropped before it opens a connection: the
 * peer's SYN is never answered. The first packet to each listener records the denial
 * (hook socket_listen, the listener's address and port); later ones are only dropped.
 * The program runs for sandbox sockets only (the set's root cgroup), in softirq: no task
 * fields. Listeners are refused in every sandbox of the set (deny_all has no inet socket
 * to listen on) and in audit-only ones too (CALYX_HOOK_KEEPS_DENYING). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);   /* the listener's socket cookie */
	__type(value, __u8);
} listen_reported SEC(".maps");

static __always_inline void listen_record(struct __sk_buff *skb, struct bpf_sock *sk)
{
	__u64 id = bpf_skb_ancestor_cgroup_id(skb, root_level + 2);
	struct scope sc = { .sb_cgid = id };
	sc.sb = id ? bpf_map_lookup_elem(&sandboxes, &id) : NULL;
	sc.slot = sc.sb ? sc.sb->slot : 0;
	stat_inc(sc.slot, CALYX_STAT_DENIED);
	struct calyx_deny_event *r = ev_reserve_bare(&sc, CALYX_EV_DENY, CALYX_HOOK_SOCKET_LISTEN, sizeof(*r));
	if (!r)   /* counted as dropped; the drop itself stands */
		return;
	__builtin_memset((char *)r + sizeof(r->ev), 0, sizeof(*r) - sizeof(r->ev));
	r->ev.cgroup_id = bpf_skb_cgroup_id(skb);
	r->err = EPERM;
	r->family = sk->family;
	r->flags = CALYX_SOCK_ADDR | SOCK_STREAM | (IPPROTO_TCP << 16);
	r->port = (__u16)sk->src_port;   /* host order in struct bpf_sock */
	if (sk->family == AF_INET) {
		__u32 a = sk->src_ip4;
		__builtin_memcpy(r->addr, &a, 4);
	} else {
		__u32 a[4] = { sk->src_ip6[0], sk->src_ip6[1], sk->src_ip6[2], sk->src_ip6[3] };
		__builtin_memcpy(r->addr, a, 16);
	}
	r->verdict = CALYX_VERDICT_DENIED;
	ev_submit(&r->ev);
}

SEC("cgroup_skb/ingress")
int calyx_cg_skb_ingress(struct __sk_buff *skb)
{
	if (bpf_skb_ancestor_cgroup_id(skb, root_level) != root_cgid)
		return 1;
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 1;
	if (sk->protocol != IPPROTO_TCP || sk->state != BPF_TCP_LISTEN)
		return 1;
	__u64 cookie = bpf_get_socket_cookie(skb);
	__u8 one = 1;
	if (bpf_map_update_elem(&listen_reported, &cookie, &one, BPF_NOEXIST) == 0)
		listen_record(skb, sk);
	return 0;
}
