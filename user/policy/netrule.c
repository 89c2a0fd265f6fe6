/* Network allow rules: parsing, text and containment (see netrule.h). Pure. */
#include "policy/netrule.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/errmsg.h"

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* The first nbits bits of a and b are equal. */
static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned nbits)
{
	unsigned full = nbits / 8, rest = nbits % 8;
	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static bool host_bits_zero(const uint8_t *a, unsigned nbytes, unsigned prefix)
{
	for (unsigned bit = prefix; bit < nbytes * 8; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	return true;
}

/* Decimal digits only, at most maxdigits of them, value <= max. */
static bool parse_dec(const char *s, size_t len, unsigned maxdigits, unsigned long max, unsigned long *out)
{
	if (len == 0 || len > maxdigits)
		return false;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

int netrule_parse_cidr(const char *s, struct net_rule *r, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8], host[INET6_ADDRSTRLEN + 1];
	errmsg_quote(q, sizeof q, s ? s : "", s ? strlen(s) : 0);
	memset(r, 0, sizeof(*r));
	if (!s || !*s)
		return errmsg(err, errlen, -EINVAL, "empty network (want CIDR like 10.0.0.0/8 or 2001:db8::/32)");
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	if (hl == 0 || hl >= sizeof host)
		return errmsg(err, errlen, -EINVAL, "network '%s': not an IPv4 or IPv6 address", q);
	memcpy(host, s, hl);
	host[hl] = '\0';
	bool v6 = strchr(host, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, r->addr) != 1)
		return errmsg(err, errlen, -EINVAL, "network '%s': '%s' is not an %s address", q, host,
			      v6 ? "IPv6" : "IPv4 (dotted quad)");
	unsigned max = v6 ? 128 : 32;
	unsigned long prefix = max;
	if (slash && !parse_dec(slash + 1, strlen(slash + 1), 3, max, &prefix))
		return errmsg(err, errlen, -EINVAL, "network '%s': prefix length must be 0..%u", q, max);
	r->family = v6 ? NETRULE_V6 : NETRULE_V4;
	r->prefix = (uint8_t)prefix;
	if (!host_bits_zero(r->addr, v6 ? 16 : 4, r->prefix))
		return errmsg(err, errlen, -EINVAL,
			      "network '%s': address has bits set beyond the /%lu prefix (write the network address)",
			      q, prefix);
	/* ::ffff:a.b.c.d/96+n is the IPv4 network a.b.c.d/n: the kernel side decides mapped
	 * destinations as IPv4, so the rule must be an IPv4 one to admit them. */
	if (v6 && r->prefix >= 96 && memcmp(r->addr, v4_mapped_prefix, 12) == 0) {
		memmove(r->addr, r->addr + 12, 4);
		memset(r->addr + 4, 0, 12);
		r->family = NETRULE_V4;
		r->prefix = (uint8_t)(r->prefix - 96);
	}
	return 0;
}

int netrule_parse(const char *s, struct net_rule *r, char *err, size_t errlen)
{
	char q[ERRMSG_QUOTE_MAX + 8], cidr[NETRULE_TEXT_MAX];
	errmsg_quote(q, sizeof q, s ? s : "", s ? strlen(s) : 0);
	memset(r, 0, sizeof(*r));
	if (!s || !*s)
		return errmsg(err, errlen, -EINVAL, "empty rule (want CIDR:PORT[/tcp|/udp])");
	const char *after;   /* the ':' before the port */
	const char *cs;
	size_t cl;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return errmsg(err, errlen, -EINVAL, "rule '%s': '[' without its ']'", q);
		cs = s + 1;
		cl = (size_t)(close - cs);
		after = close + 1;
		if (*after != ':')
			return errmsg(err, errlen, -EINVAL, "rule '%s': want ':PORT' after ']'", q);
	} else {
		after = strchr(s, ':');
		if (!after)
			return errmsg(err, errlen, -EINVAL, "rule '%s': no port (want CIDR:PORT[/tcp|/udp])", q);
		cs = s;
		cl = (size_t)(after - s);
		if (strchr(after + 1, ':'))
			return errmsg(err, errlen, -EINVAL,
				      "rule '%s': an IPv6 network goes in brackets ([2001:db8::/32]:443/tcp)", q);
	}
	if (cl == 0 || cl >= sizeof cidr)
		return errmsg(err, errlen, -EINVAL, "rule '%s': no network before the port", q);
	memcpy(cidr, cs, cl);
	cidr[cl] = '\0';
	if (s[0] == '[' && !strchr(cidr, ':'))
		return errmsg(err, errlen, -EINVAL, "rule '%s': brackets are for IPv6 networks only", q);
	char cerr[160];
	if (netrule_parse_cidr(cidr, r, cerr, sizeof cerr))
		return errmsg(err, errlen, -EINVAL, "rule '%s': %s", q, cerr);

	const char *port = after + 1;
	const char *ps = strchr(port, '/');
	size_t pl = ps ? (size_t)(ps - port) : strlen(port);
	unsigned long pv = 0;
	if (pl == 1 && port[0] == '*')
		pv = 0;
	else if (!parse_dec(port, pl, 5, 65535, &pv) || pv == 0)
		return errmsg(err, errlen, -EINVAL, "rule '%s': port must be 1..65535 or '*'", q);
	r->port = (uint16_t)pv;
	r->proto = NETRULE_TCP;
	if (ps) {
		if (!strcmp(ps + 1, "tcp"))
			r->proto = NETRULE_TCP;
		else if (!strcmp(ps + 1, "udp"))
			r->proto = NETRULE_UDP;
		else
			return errmsg(err, errlen, -EINVAL, "rule '%s': protocol must be tcp or udp", q);
	}
	return 0;
}

const char *netrule_proto_name(uint8_t proto)
{
	return proto == NETRULE_TCP ? "tcp" : proto == NETRULE_UDP ? "udp" : "?";
}

void netrule_cidr_text(const struct net_rule *r, char *out, size_t outlen)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(r->family == NETRULE_V6 ? AF_INET6 : AF_INET, r->addr, a, sizeof a);
	snprintf(out, outlen, "%s/%u", a, r->prefix);
}

void netrule_text(const struct net_rule *r, char *out, size_t outlen)
{
	char c[NETRULE_TEXT_MAX], p[8] = "*";
	netrule_cidr_text(r, c, sizeof c);
	if (r->port)
		snprintf(p, sizeof p, "%u", r->port);
	if (r->family == NETRULE_V6)
		snprintf(out, outlen, "[%s]:%s/%s", c, p, netrule_proto_name(r->proto));
	else
		snprintf(out, outlen, "%s:%s/%s", c, p, netrule_proto_name(r->proto));
}

bool netrule_within(const struct net_rule *inner, const struct net_rule *outer)
{
	return inner->family == outer->family && inner->proto == outer->proto &&
	       inner->prefix >= outer->prefix && bits_equal(inner->addr, outer->addr, outer->prefix) &&
	       (outer->port == 0 || outer->port == inner->port);
}

bool netrule_admits(const struct net_rule *r, int family, const uint8_t *addr, uint16_t port, uint8_t proto)
{
	const uint8_t *a = addr;
	if (family == NETRULE_V6 && memcmp(addr, v4_mapped_prefix, 12) == 0) {
		family = NETRULE_V4;
		a = addr + 12;
	}
	return r->family == family && r->proto == proto && bits_equal(a, r->addr, r->prefix) &&
	       (r->port == 0 || r->port == port);
}
