/* Network allow rules: "CIDR:PORT[/tcp|/udp]" (the `--net allow=` flag, the matrix's
 * `network: {allow: [...]}`), the lease claim's {"cidr", "port", "proto"} objects, and
 * whether a lease rule lies within a matrix rule. IPv6 networks are written in brackets
 * ("[2001:db8::/32]:443/tcp"); a network written as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n)
 * is the IPv4 network a.b.c.d/n, because the kernel side treats a mapped destination as
 * the IPv4 one (docs/network.md). Pure: parses and compares, no I/O. */
#ifndef CALYX_NETRULE_H
#define CALYX_NETRULE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETRULE_MAX 16          /* rules per lease / matrix (CALYX_SB_MAX_NET_RULES) */
#define NETRULE_TEXT_MAX 64     /* "[ffff:...:ffff/128]:65535/udp" and its NUL fit */

enum netrule_family { NETRULE_V4 = 4, NETRULE_V6 = 6 };
enum netrule_proto { NETRULE_TCP = 6, NETRULE_UDP = 17 };   /* the IPPROTO_ numbers */

struct net_rule {
	uint8_t family;            /* enum netrule_family */
	uint8_t prefix;            /* 0..32 (v4) or 0..128 (v6) */
	uint8_t proto;             /* enum netrule_proto */
	uint16_t port;             /* 1..65535, 0 = any port */
	uint8_t addr[16];          /* the network, host bits zero; v4 in the first 4 bytes */
};

/* "10.0.0.0/8", "2001:db8::/32" (no brackets), a bare address (a host: /32 or /128).
 * Host bits set ("10.0.0.1/8") are refused: the rule would not say what it admits. 0 or
 * -EINVAL with a message naming the problem (err). */
int netrule_parse_cidr(const char *s, struct net_rule *r, char *err, size_t errlen);

/* "CIDR:PORT[/tcp|/udp]": PORT 1..65535 or '*', proto default tcp. 0 or -EINVAL. */
int netrule_parse(const char *s, struct net_rule *r, char *err, size_t errlen);

/* The CIDR as text ("10.0.0.0/8", "2001:db8::/32"). out needs NETRULE_TEXT_MAX bytes. */
void netrule_cidr_text(const struct net_rule *r, char *out, size_t outlen);
/* The rule as netrule_parse reads it ("10.0.0.0/8:443/tcp", "[::1/128]:*\/udp"). */
void netrule_text(const struct net_rule *r, char *out, size_t outlen);
const char *netrule_proto_name(uint8_t proto);   /* "tcp", "udp", "?" */

/* Whether everything `inner` admits is admitted by `outer`: the same family and protocol,
 * inner's network inside outer's, and the same port or outer's port any. */
bool netrule_within(const struct net_rule *inner, const struct net_rule *outer);

/* Whether the rule admits a destination (family, addr: 4 or 16 bytes, port, proto): the
 * semantics the kernel side implements, kept here for the tests. A v6 address that is
 * IPv4-mapped is decided as its IPv4 address. */
bool netrule_admits(const struct net_rule *r, int family, const uint8_t *addr, uint16_t port, uint8_t proto);

#endif
