/* links: policy/netrule policy/lease policy/envnames base/units policy/pathpat base/errmsg policy/limits policy/argv policy/lease_text */
/* Network allow rules: the CIDR:PORT/proto parser (v4, v6 in brackets, IPv4-mapped v6
 * folded to v4, bad networks, ports and protocols, and the exact messages), containment
 * (the matrix bounds), what a rule admits, and the lease claim
 * "network": {"allow": [...]} both ways (parse and serialise). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "policy/lease.h"
#include "policy/netrule.h"

static struct net_rule ok(const char *s)
{
	struct net_rule r;
	char err[256] = "";
	if (netrule_parse(s, &r, err, sizeof err))
		fail_msg("'%s' refused: %s", s, err);
	return r;
}

static void bad(const char *s, const char *want)
{
	struct net_rule r;
	char err[256] = "";
	int rc = netrule_parse(s, &r, err, sizeof err);
	if (rc != -EINVAL || strcmp(err, want))
		fail_msg("'%s': rc %d, message\n  '%s'\nwant\n  '%s'", s, rc, err, want);
}

static void text_is(const char *in, const char *want)
{
	struct net_rule r = ok(in);
	char t[NETRULE_TEXT_MAX];
	netrule_text(&r, t, sizeof t);
	assert_string_equal(t, want);
}

static void test_parse_v4(void **state)
{
	(void)state;
	struct net_rule r = ok("10.0.0.0/8:443/tcp");
	assert_int_equal(r.family, NETRULE_V4);
	assert_int_equal(r.prefix, 8);
	assert_int_equal(r.port, 443);
	assert_int_equal(r.proto, NETRULE_TCP);
	assert_memory_equal(r.addr, "\x0a\0\0\0", 4);
	r = ok("127.0.0.1:53/udp");    /* a bare address is the host */
	assert_int_equal(r.prefix, 32);
	assert_int_equal(r.proto, NETRULE_UDP);
	r = ok("0.0.0.0/0:*");          /* any port; proto defaults to tcp */
	assert_int_equal(r.port, 0);
	assert_int_equal(r.proto, NETRULE_TCP);
	text_is("10.0.0.0/8:443", "10.0.0.0/8:443/tcp");
	text_is("192.168.1.7:*/udp", "192.168.1.7/32:*/udp");
}

static void test_parse_v6(void **state)
{
	(void)state;
	struct net_rule r = ok("[2001:db8::/32]:443/tcp");
	assert_int_equal(r.family, NETRULE_V6);
	assert_int_equal(r.prefix, 32);
	assert_memory_equal(r.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	r = ok("[::1]:8080/udp");
	assert_int_equal(r.prefix, 128);
	text_is("[::1]:8080/udp", "[::1/128]:8080/udp");
	text_is("[2001:db8::/32]:*", "[2001:db8::/32]:*/tcp");
	/* IPv4-mapped: the IPv4 network (the kernel decides mapped destinations as IPv4). */
	r = ok("[::ffff:127.0.0.1]:80");
	assert_int_equal(r.family, NETRULE_V4);
	assert_int_equal(r.prefix, 32);
	assert_memory_equal(r.addr, "\x7f\0\0\x01", 4);
	text_is("[::ffff:10.0.0.0/104]:443", "10.0.0.0/8:443/tcp");
	/* a v6 network wider than the mapped range stays v6 */
	assert_int_equal(ok("[::/0]:443").family, NETRULE_V6);
}

static void test_parse_errors(void **state)
{
	(void)state;
	bad("", "empty rule (want CIDR:PORT[/tcp|/udp])");
	bad("10.0.0.0/8", "rule '10.0.0.0/8': no port (want CIDR:PORT[/tcp|/udp])");
	bad("2001:db8::/32:443", "rule '2001:db8::/32:443': an IPv6 network goes in brackets ([2001:db8::/32]:443/tcp)");
	bad("[2001:db8::/32:443", "rule '[2001:db8::/32:443': '[' without its ']'");
	bad("[2001:db8::/32]443", "rule '[2001:db8::/32]443': want ':PORT' after ']'");
	bad("[10.0.0.0/8]:443", "rule '[10.0.0.0/8]:443': brackets are for IPv6 networks only");
	bad(":443", "rule ':443': no network before the port");
	bad("10.0.0.1/8:443", "rule '10.0.0.1/8:443': network '10.0.0.1/8': address has bits set beyond "
			      "the /8 prefix (write the network address)");
	bad("10.0.0.0/33:443", "rule '10.0.0.0/33:443': network '10.0.0.0/33': prefix length must be 0..32");
	bad("10.0.0.0/:443", "rule '10.0.0.0/:443': network '10.0.0.0/': prefix length must be 0..32");
	bad("10.0.0.0/-1:443", "rule '10.0.0.0/-1:443': network '10.0.0.0/-1': prefix length must be 0..32");
	bad("[::/129]:443", "rule '[::/129]:443': network '::/129': prefix length must be 0..128");
	bad("10.0.0:443", "rule '10.0.0:443': network '10.0.0': '10.0.0' is not an IPv4 (dotted quad) address");
	bad("010.0.0.0/8:443", "rule '010.0.0.0/8:443': network '010.0.0.0/8': '010.0.0.0' is not an IPv4 "
			       "(dotted quad) address");
	bad("example.com:443", "rule 'example.com:443': network 'example.com': 'example.com' is not an "
			       "IPv4 (dotted quad) address");
	bad("[fe80::1%lo]:443", "rule '[fe80::1%lo]:443': network 'fe80::1%lo': 'fe80::1%lo' is not an IPv6 address");
	bad("10.0.0.0/8:0", "rule '10.0.0.0/8:0': port must be 1..65535 or '*'");
	bad("10.0.0.0/8:65536", "rule '10.0.0.0/8:65536': port must be 1..65535 or '*'");
	bad("10.0.0.0/8:", "rule '10.0.0.0/8:': port must be 1..65535 or '*'");
	bad("10.0.0.0/8:+443", "rule '10.0.0.0/8:+443': port must be 1..65535 or '*'");
	bad("10.0.0.0/8:443-444", "rule '10.0.0.0/8:443-444': port must be 1..65535 or '*'");
	bad("10.0.0.0/8:**", "rule '10.0.0.0/8:**': port must be 1..65535 or '*'");
	bad("10.0.0.0/8:443/sctp", "rule '10.0.0.0/8:443/sctp': protocol must be tcp or udp");
	bad("10.0.0.0/8:443/TCP", "rule '10.0.0.0/8:443/TCP': protocol must be tcp or udp");
	bad("10.0.0.0/8:443/", "rule '10.0.0.0/8:443/': protocol must be tcp or udp");
	/* control bytes never reach the terminal */
	bad("10.0.0.0/8:44\x1b", "rule '10.0.0.0/8:44?': port must be 1..65535 or '*'");
}

static void test_within(void **state)
{
	(void)state;
	struct net_rule m = ok("10.0.0.0/8:*"), m443 = ok("10.0.0.0/8:443"), m6 = ok("[2001:db8::/32]:443");
	struct net_rule l;
	l = ok("10.1.2.0/24:443");
	assert_true(netrule_within(&l, &m));
	assert_true(netrule_within(&l, &m443));
	assert_true(netrule_within(&m, &m));
	l = ok("10.0.0.0/7:443");        /* wider than the bound */
	assert_false(netrule_within(&l, &m));
	l = ok("11.0.0.0/8:443");        /* beside it */
	assert_false(netrule_within(&l, &m));
	l = ok("10.1.2.3:80");           /* another port */
	assert_false(netrule_within(&l, &m443));
	assert_true(netrule_within(&l, &m));
	l = ok("10.1.2.3:*");            /* any port is not within one port */
	assert_false(netrule_within(&l, &m443));
	l = ok("10.1.2.3:443/udp");      /* another protocol */
	assert_false(netrule_within(&l, &m));
	l = ok("[2001:db8:1::/48]:443");
	assert_true(netrule_within(&l, &m6));
	assert_false(netrule_within(&l, &m));
	l = ok("[::ffff:10.1.0.0/112]:443");   /* mapped: the v4 network 10.1.0.0/16 */
	assert_true(netrule_within(&l, &m));
	assert_false(netrule_within(&l, &m6));
}

static void test_admits(void **state)
{
	(void)state;
	const uint8_t lo4[4] = { 127, 0, 0, 1 }, other4[4] = { 127, 0, 0, 2 };
	const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
	const uint8_t lo6[16] = { [15] = 1 };
	struct net_rule r = ok("127.0.0.1:8080");
	assert_true(netrule_admits(&r, NETRULE_V4, lo4, 8080, NETRULE_TCP));
	assert_false(netrule_admits(&r, NETRULE_V4, lo4, 8081, NETRULE_TCP));
	assert_false(netrule_admits(&r, NETRULE_V4, lo4, 8080, NETRULE_UDP));
	assert_false(netrule_admits(&r, NETRULE_V4, other4, 8080, NETRULE_TCP));
	assert_true(netrule_admits(&r, NETRULE_V6, mapped, 8080, NETRULE_TCP));
	assert_false(netrule_admits(&r, NETRULE_V6, lo6, 8080, NETRULE_TCP));
	/* a v6 rule, even ::/0, never admits an IPv4 destination written as mapped */
	struct net_rule any6 = ok("[::/0]:*");
	assert_true(netrule_admits(&any6, NETRULE_V6, lo6, 1, NETRULE_TCP));
	assert_false(netrule_admits(&any6, NETRULE_V6, mapped, 8080, NETRULE_TCP));
}

/* ---- the lease claim ---- */

#define ISS "k4.pid.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"
static char *lease_with_network(const char *net)
{
	char *s = NULL;
	if (asprintf(&s,
		     "{\"jti\":\"LEASE-20251027-021816-ab12\",\"intent\":\"INT-TEST-SANDBOX\","
		     "\"iat\":\"2025-10-27T02:18:16Z\",\"nbf\":\"2025-10-27T02:18:16Z\","
		     "\"exp\":\"2025-10-27T02:23:16Z\",\"iss\":\"" ISS "\",\"commands\":[[\"true\"]],"
		     "\"paths\":[],\"network\":%s,\"limits\":{}}", net) < 0)
		fail();
	return s;
}

static void claim_bad(const char *net, const char *want)
{
	char *j = lease_with_network(net);
	struct lease l;
	char err[512] = "";
	int rc = lease_from_json(j, strlen(j), &l, err, sizeof err);
	if (rc != -EINVAL || strcmp(err, want))
		fail_msg("%s: rc %d '%s', want '%s'", net, rc, err, want);
	free(j);
}

static void test_claim(void **state)
{
	(void)state;
	char *j = lease_with_network("{\"allow\":[{\"cidr\":\"127.0.0.0/8\",\"port\":8080,\"proto\":\"tcp\"},"
				     "{\"cidr\":\"::1/128\",\"port\":0,\"proto\":\"udp\"},"
				     "{\"cidr\":\"::ffff:10.0.0.0/104\",\"port\":53,\"proto\":\"udp\"}]}");
	struct lease l;
	char err[512] = "";
	assert_int_equal(lease_from_json(j, strlen(j), &l, err, sizeof err), 0);
	free(j);
	assert_int_equal(l.network, NET_ALLOW);
	assert_int_equal(l.n_net_allow, 3);
	assert_int_equal(l.net_allow[1].family, NETRULE_V6);
	assert_int_equal(l.net_allow[1].port, 0);
	assert_int_equal(l.net_allow[2].family, NETRULE_V4);
	/* serialised back exactly, the mapped network as the IPv4 one */
	char *out = lease_to_json(&l);
	assert_non_null(out);
	cJSON *o = cJSON_Parse(out);
	char *net = cJSON_PrintUnformatted(cJSON_GetObjectItem(o, "network"));
	assert_string_equal(net, "{\"allow\":[{\"cidr\":\"127.0.0.0/8\",\"port\":8080,\"proto\":\"tcp\"},"
				 "{\"cidr\":\"::1/128\",\"port\":0,\"proto\":\"udp\"},"
				 "{\"cidr\":\"10.0.0.0/8\",\"port\":53,\"proto\":\"udp\"}]}");
	free(net);
	cJSON_Delete(o);
	free(out);
	lease_free(&l);

	j = lease_with_network("\"deny_all\"");
	assert_int_equal(lease_from_json(j, strlen(j), &l, err, sizeof err), 0);
	assert_int_equal(l.network, NET_DENY_ALL);
	assert_int_equal(l.n_net_allow, 0);
	lease_free(&l);
	free(j);
}

static void test_claim_errors(void **state)
{
	(void)state;
	claim_bad("\"allow_all\"", "claim 'network': must be \"deny_all\" or {\"allow\": [rules]}");
	claim_bad("{}", "claim 'network': must be \"deny_all\" or {\"allow\": [rules]}");
	claim_bad("{\"allow\":[],\"x\":1}", "claim 'network': must be \"deny_all\" or {\"allow\": [rules]}");
	claim_bad("{\"allow\":[]}", "claim 'network.allow': must be an array of 1..16 rules");
	claim_bad("{\"allow\":{}}", "claim 'network.allow': must be an array of 1..16 rules");
	claim_bad("{\"allow\":[\"10.0.0.0/8:443\"]}",
		  "claim 'network.allow[0]': must be an object {\"cidr\", \"port\", \"proto\"}");
	claim_bad("{\"allow\":[{\"cidr\":\"10.0.0.0/8\",\"port\":443}]}",
		  "claim 'network.allow[0]': 'proto' must be \"tcp\" or \"udp\"");
	claim_bad("{\"allow\":[{\"cidr\":\"10.0.0.0/8\",\"port\":443,\"proto\":\"icmp\"}]}",
		  "claim 'network.allow[0]': 'proto' must be \"tcp\" or \"udp\"");
	claim_bad("{\"allow\":[{\"cidr\":\"10.0.0.0/8\",\"port\":65536,\"proto\":\"tcp\"}]}",
		  "claim 'network.allow[0].port': must be at most 65535");
	claim_bad("{\"allow\":[{\"cidr\":\"10.0.0.0/8\",\"port\":\"443\",\"proto\":\"tcp\"}]}",
		  "claim 'network.allow[0].port': must be an integer");
	claim_bad("{\"allow\":[{\"cidr\":\"10.0.0.1/8\",\"port\":443,\"proto\":\"tcp\"}]}",
		  "claim 'network.allow[0]': network '10.0.0.1/8': address has bits set beyond the /8 "
		  "prefix (write the network address)");
	claim_bad("{\"allow\":[{\"cidr\":\"10.0.0.0/8\",\"port\":443,\"proto\":\"tcp\",\"host\":\"x\"}]}",
		  "claim 'network.allow[0]': unknown key 'host' (want cidr, port, proto)");
	claim_bad("{\"allow\":[{\"port\":443,\"proto\":\"tcp\"}]}",
		  "claim 'network.allow[0]': 'cidr' must be a string like \"10.0.0.0/8\"");
	/* 17 rules: one too many */
	char big[2048] = "{\"allow\":[";
	for (int i = 0; i < 17; i++)
		strcat(big, i ? ",{\"cidr\":\"10.0.0.0/8\",\"port\":1,\"proto\":\"tcp\"}"
			      : "{\"cidr\":\"10.0.0.0/8\",\"port\":1,\"proto\":\"tcp\"}");
	strcat(big, "]}");
	claim_bad(big, "claim 'network.allow': must be an array of 1..16 rules");
}

static void test_describe(void **state)
{
	(void)state;
	char *j = lease_with_network("{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"port\":8080,\"proto\":\"tcp\"},"
				     "{\"cidr\":\"2001:db8::/32\",\"port\":0,\"proto\":\"udp\"}]}");
	struct lease l;
	char err[512] = "";
	assert_int_equal(lease_from_json(j, strlen(j), &l, err, sizeof err), 0);
	char *d = lease_describe(&l);
	assert_non_null(strstr(d, "network     allow 127.0.0.1/32:8080/tcp\n"
				  "            allow [2001:db8::/32]:*/udp\n"));
	free(d);
	lease_free(&l);
	free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_within),
		cmocka_unit_test(test_admits),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_claim_errors),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
