/* Network allow rules (calyx.h "network allow rules"): the per-slot rule map and the one
 * matcher both backends use (net.bpf.c for bpf-lsm, landlock.bpf.c for the cgroup sock
 * programs). Part of the calyx.bpf.c unit. */
#ifndef CALYX_NETRULE_BPF_H
#define CALYX_NETRULE_BPF_H
#include "common.bpf.h"

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOCK_STREAM 1
#define SOCK_DGRAM 2

/* slot -> its sandbox's allow rules (written before the sandbox entry, zeroed after it). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CALYX_SLOTS);
	__type(key, __u32);
	__type(value, struct calyx_net_rules);
} net_rules SEC(".maps");

static __always_inline bool sb_net_allow(const struct scope *sc)
{
	return sc->sb && (sc->sb->flags & CALYX_SB_NET_ALLOW);
}

/* Whether the slot's rules admit the destination a (IPv6 form, IPv4 as ::ffff:a.b.c.d,
 * network byte order), port (host order) over proto. No rules, an unreadable entry, a
 * count past the maximum: nothing is admitted (closed). */
static __always_inline bool net_rule_admits(__u32 slot, const __u32 a[4], __u16 port, __u32 proto)
{
	struct calyx_net_rules *rs = bpf_map_lookup_elem(&net_rules, &slot);
	if (!rs)
		return false;
	__u32 n = rs->n;
	if (n > CALYX_SB_MAX_NET_RULES)
		return false;
	/* 0x0000ffff in network byte order, read as a little-endian word */
	bool v4 = a[0] == 0 && a[1] == 0 && a[2] == 0xffff0000u;
	for (__u32 i = 0; i < CALYX_SB_MAX_NET_RULES; i++) {
		if (i >= n)
			break;
		const struct calyx_net_rule *r = &rs->r[i];
		if ((r->family == 4) != v4 || r->proto != proto || (r->port && r->port != port))
			continue;
		if ((a[0] & r->mask[0]) == r->addr[0] && (a[1] & r->mask[1]) == r->addr[1] &&
		    (a[2] & r->mask[2]) == r->addr[2] && (a[3] & r->mask[3]) == r->addr[3])
			return true;
	}
	return false;
}

/* An IPv4 address (network order) in the IPv6 form the rules use. */
static __always_inline void net_v4_mapped(__u32 a[4], __u32 ip4)
{
	a[0] = 0;
	a[1] = 0;
	a[2] = 0xffff0000u;   /* ::ffff: in network byte order on a little-endian word */
	a[3] = ip4;
}

/* The socket kinds allow rules can admit: TCP and UDP over IPv4 / IPv6 (protocol 0 is
 * the type's default: TCP for streams, UDP for datagrams). Raw, ICMP, SCTP...: refused. */
static __always_inline bool net_kind_ok(__u32 family, __u32 type, __u32 protocol)
{
	if (family != AF_INET && family != AF_INET6)
		return false;
	type &= 0xf;   /* SOCK_NONBLOCK / SOCK_CLOEXEC live in the higher bits */
	if (type == SOCK_STREAM)
		return protocol == 0 || protocol == IPPROTO_TCP;
	if (type == SOCK_DGRAM)
		return protocol == 0 || protocol == IPPROTO_UDP;
	return false;
}

#endif
