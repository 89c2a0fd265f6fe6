/* landlock backend: what Landlock itself cannot do. Landlock does not stop fileless exec
 * (memfd, deleted files) and knows no "only these binaries": the exec-image check of
 * argv.bpf.c (both backends) kills those. Landlock on older ABIs has no network rights,
 * so cgroup sock programs (attached once, to the set's root cgroup: they run for sandbox
 * tasks only) decide the network. Landlock's own refusals
 * (files, exec by path) are not observed: no hook short of a system-wide syscall
 * tracepoint sees them on a kernel without BPF LSM. Part of the calyx.bpf.c unit. */

/* cgroup sock programs: 1 allows, 0 denies (EPERM to the caller). */
static __always_inline int cg_decide(__u32 hook, __u32 family, __u32 flags, struct bpf_sock_addr *sa)
{
	struct scope sc = {};
	/* Attached to the set's root only, so a task outside it means a cgroup moved under a
	 * different root than configured: closed like an orphan. */
	bool inside = scope_enter(&sc);
	if (inside && sc.sb && !(sc.sb->flags & CALYX_SB_NET_DENY_ALL))
		return 1;
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
	return deny(&sc, &d) == 0 ? 1 : 0;
}

SEC("cgroup/connect4")
int calyx_cg_connect4(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_CONNECT, AF_INET, 0, ctx);
}

SEC("cgroup/connect6")
int calyx_cg_connect6(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_CONNECT, AF_INET6, 0, ctx);
}

SEC("cgroup/sendmsg4")
int calyx_cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_SENDMSG, AF_INET, 0, ctx);
}

SEC("cgroup/sendmsg6")
int calyx_cg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return cg_decide(CALYX_HOOK_SOCKET_SENDMSG, AF_INET6, 0, ctx);
}

/* Runs for AF_INET/AF_INET6 socket creation by tasks (not kernel sockets). */
SEC("cgroup/sock_create")
int calyx_cg_sock_create(struct bpf_sock *ctx)
{
	if (ctx->family == AF_UNIX)
		return 1;
	/* flags as socket_create's record on bpf-lsm: type | protocol << 16 */
	return cg_decide(CALYX_HOOK_SOCKET_CREATE, ctx->family, (ctx->type & 0xffff) | (ctx->protocol << 16), NULL);
}
