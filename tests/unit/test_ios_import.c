/*
 * The IOS translator behind `vpnctl import-ios` (agent/cli/ios_*.c): the
 * golden files (three reference configurations and modern ones, compared
 * exactly; UPDATE_GOLDEN=1 rewrites them for review), every refusal with
 * its line, wildcards to CIDR, references, IOS defaults, certificates,
 * skipped blocks, CRLF line numbers, keys never shown, bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/ios_import.h"
#include "core/config.h"
#include "core/strbuf.h"
#include "core/util.h"

#define OUT_MAX (4 * 1024 * 1024)

/* ---- helpers ------------------------------------------------------------ */

static void
run(const char *text, struct ios_result *r)
{
	ios_import(text, strlen(text), "t.cfg", r);
}

/* A diagnostic at line (0: any line) of severity sev holding want. */
static const struct ios_diag *
find_diag(const struct ios_result *r, unsigned line, enum ios_severity sev, const char *want)
{
	for (size_t i = 0; i < r->n_diags; i++)
		if ((line == 0 || r->diags[i].line == line) && r->diags[i].severity == sev &&
		    strstr(r->diags[i].msg, want) != NULL)
			return &r->diags[i];
	return NULL;
}

static void
dump(const struct ios_result *r)
{
	for (size_t i = 0; i < r->n_diags; i++)
		print_message("  %u %s: %s\n", r->diags[i].line,
			      r->diags[i].severity == IOS_ERROR ? "error" : "note", r->diags[i].msg);
}

#define assert_diag(r, line, sev, want) do {						\
	if (find_diag(r, line, sev, want) == NULL) {					\
		dump(r);								\
		fail_msg("no %s at line %u with \"%s\"", (sev) == IOS_ERROR ? "error" : \
			 "note", (unsigned)(line), want);				\
	}										\
} while (0)

static const struct ios_object *
find_obj(const struct ios_result *r, enum ios_kind kind, size_t nth)
{
	for (size_t i = 0; i < r->n_objs; i++)
		if (r->objs[i].kind == kind && nth-- == 0)
			return &r->objs[i];
	return NULL;
}

static size_t
count_kind(const struct ios_result *r, enum ios_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_objs; i++)
		n += r->objs[i].kind == kind;
	return n;
}

static const char *
str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "(none)";
}

static long long
integer(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* ---- golden files ------------------------------------------------------- */

static const char *
golden_dir(void)
{
	const char *d = getenv("IOS_GOLDEN_DIR");

	return d && *d ? d : "tests/golden/ios";
}

/* What `vpnctl import-ios --dry-run` prints: diagnostics, then objects. */
static void
render(const struct ios_result *r, struct strbuf *sb)
{
	strbuf_init(sb, OUT_MAX);
	ios_format_diags(r, sb);
	ios_format_objects(r, sb);
	assert_false(sb->overflow);
}

static void
golden(const char *name, size_t want_errors, size_t want_objs)
{
	char cfg[512], expected[512];
	char *text = NULL, *want = NULL;
	size_t len = 0, wlen = 0;
	struct ios_result r;
	struct strbuf sb;
	const char *update = getenv("UPDATE_GOLDEN");

	snprintf(cfg, sizeof(cfg), "%s/%s.cfg", golden_dir(), name);
	snprintf(expected, sizeof(expected), "%s/%s.expected", golden_dir(), name);
	if (file_read_all(cfg, IOS_TEXT_MAX, &text, &len) == -1)
		fail_msg("cannot read %s (run from the repository root or set IOS_GOLDEN_DIR)", cfg);
	snprintf(cfg, sizeof(cfg), "%s.cfg", name);
	ios_import(text, len, cfg, &r);
	render(&r, &sb);
	if (update != NULL && strcmp(update, "1") == 0) {
		FILE *f = fopen(expected, "w");

		assert_non_null(f);
		fputs(sb.data ? sb.data : "", f);
		assert_int_equal(fclose(f), 0);
		print_message("  updated %s: review it before committing\n", expected);
	} else {
		if (file_read_all(expected, OUT_MAX, &want, &wlen) == -1)
			fail_msg("cannot read %s (UPDATE_GOLDEN=1 writes it)", expected);
		if (strcmp(want, sb.data ? sb.data : "") != 0) {
			print_message("---- %s, got:\n%s---- end\n", expected, sb.data ? sb.data : "");
			fail_msg("%s differs from the translation (UPDATE_GOLDEN=1 rewrites it)",
				 expected);
		}
	}
	assert_int_equal(r.n_errors, want_errors);
	assert_int_equal(r.n_objs, want_objs);
	free(want);
	free(text);
	strbuf_free(&sb);
	ios_result_free(&r);
}

static void
test_golden_site_a(void **state)
{
	golden("site-a", 0, 6);	/* dpd, policy, 2 keys, transform set, map */
}

static void
test_golden_dpd_periodic(void **state)
{
	golden("cisco-ios-dpd-periodic", 3, 3);
}

/* rsa-encr, esp-des and the peers' RSA keys stay refused, pointing to
 * rsa-sig; the GRE access list, mode transport and Tunnel0 are taken. */
static void
test_golden_ipsec_gre_rsa(void **state)
{
	golden("cisco-ios-ipsec-gre-rsa-zh", 5, 3);
}

/* The GRE/RIP reference modernised, both routers: ike, dpd, policy, key,
 * transform set (transport), map (permit gre), Tunnel0 (its source the
 * address of the interface it names); interfaces and router rip skipped. */
static void
test_golden_ipsec_gre_modern(void **state)
{
	golden("cisco-ios-ipsec-gre-modern-101", 0, 7);
	golden("cisco-ios-ipsec-gre-modern-102", 0, 7);
}

/* rsa-sig (and by default), trustpoints and certificate chains as notes,
 * identity dn: ike, dpd, 2 policies, transform set, map. */
static void
test_golden_site_rsa_sig(void **state)
{
	golden("site-rsa-sig", 0, 6);
}

/* Only the legacy algorithms stay refused; the pool is shown, the dynamic
 * map is not translated because its transform set was refused. */
static void
test_golden_vpnclient(void **state)
{
	golden("cisco-ios-vpnclient-modeconfig-nat", 5, 2);
}

/* The same with modern algorithms: policy, key, transform set, pool,
 * dynamic map. */
static void
test_golden_vpnclient_modern(void **state)
{
	golden("cisco-ios-vpnclient-modeconfig-nat-modern", 0, 5);
}

/* dpd, policy, key, transform set, pool, 2 users, dynamic map */
static void
test_golden_vpnclient_xauth(void **state)
{
	golden("vpnclient-xauth", 0, 8);
}

/* policy, key, 2 transform sets, pool, 2 dynamic entries */
static void
test_golden_vpnclient_push_only(void **state)
{
	golden("vpnclient-push-only", 0, 7);
}

/* ---- a valid configuration, field by field ------------------------------ */

static const char site[] =
	"crypto isakmp policy 20\n"
	" encryption aes 256\n"
	" hash sha256\n"
	" authentication pre-share\n"
	" group 19\n"
	"crypto isakmp key s3cr3t-Key address 0.0.0.0 0.0.0.0\n"
	"crypto isakmp identity hostname\n"
	"crypto isakmp keepalive 30\n"
	"crypto ipsec transform-set GCM esp-gcm 256\n"
	" mode tunnel\n"
	"crypto ipsec transform-set CBC esp-aes 256 esp-sha-hmac\n"
	"crypto map VPN 10 ipsec-isakmp\n"
	" set peer 192.0.2.1\n"
	" set peer 192.0.2.2\n"
	" set peer gw.example.net default\n"
	" set transform-set CBC GCM\n"
	" set pfs group19\n"
	" set security-association lifetime kilobytes 100000\n"
	" match address 150\n"
	"access-list 150 remark protected networks\n"
	"access-list 150 permit ip 10.0.0.0 0.255.255.255 any\n"
	"access-list 150 permit ip host 192.168.1.1 172.16.4.0 0.0.3.255\n"
	"access-list 150 permit ip 0.0.0.0 255.255.255.255 10.9.0.0 0.0.255.255 log\n";

static void
test_translation_fields(void **state)
{
	struct ios_result r;
	const struct ios_object *pol, *psk, *ike, *dpd, *gcm, *cbc, *map;
	json_t *m;

	run(site, &r);
	assert_int_equal(r.n_errors, 0);
	assert_non_null(ike = find_obj(&r, IOS_IKE_SETTINGS, 0));
	assert_string_equal(ike->method, "PUT");
	assert_string_equal(ike->path, "/devicesettings/default/ike");
	assert_string_equal(str(ike->body, "identity"), "hostname");
	assert_null(json_object_get(ike->body, "natKeepaliveSeconds"));	/* left as it is */
	assert_non_null(dpd = find_obj(&r, IOS_DPD, 0));
	/* IOS: retry 2 s, on-demand, dead after the probe and four retransmissions */
	assert_int_equal(integer(dpd->body, "keepaliveSeconds"), 30);
	assert_int_equal(integer(dpd->body, "retrySeconds"), 2);
	assert_int_equal(integer(dpd->body, "retries"), 5);
	assert_string_equal(str(dpd->body, "mode"), "ON_DEMAND");
	assert_non_null(pol = find_obj(&r, IOS_IKE_POLICY, 0));
	assert_string_equal(pol->path, "/object/ikepolicies");
	assert_int_equal(integer(pol->body, "priority"), 20);
	assert_string_equal(str(pol->body, "encryption"), "aes-256");
	assert_string_equal(str(pol->body, "hash"), "sha256");
	assert_int_equal(integer(pol->body, "group"), 19);
	assert_int_equal(integer(pol->body, "lifetimeSeconds"), 86400);	/* IOS default */
	assert_non_null(psk = find_obj(&r, IOS_PSK, 0));
	assert_string_equal(str(psk->body, "key"), "s3cr3t-Key");
	assert_string_equal(str(psk->body, "address"), "0.0.0.0");
	assert_string_equal(str(psk->body, "mask"), "0.0.0.0");
	assert_non_null(gcm = find_obj(&r, IOS_TRANSFORM_SET, 0));
	assert_string_equal(str(gcm->body, "name"), "GCM");
	assert_string_equal(str(gcm->body, "esp"), "esp-gcm-256");
	assert_true(json_is_null(json_object_get(gcm->body, "auth")));
	assert_string_equal(str(gcm->body, "mode"), "tunnel");
	assert_non_null(cbc = find_obj(&r, IOS_TRANSFORM_SET, 1));
	assert_string_equal(str(cbc->body, "esp"), "esp-aes-256");
	assert_string_equal(str(cbc->body, "auth"), "esp-sha-hmac");
	assert_string_equal(str(cbc->body, "mode"), "tunnel");
	assert_non_null(map = find_obj(&r, IOS_CRYPTO_MAP, 0));
	m = map->body;
	assert_string_equal(str(m, "name"), "VPN-10");
	assert_int_equal(integer(m, "sequence"), 10);
	/* "default" puts a peer first; the others keep their order */
	assert_int_equal(json_array_size(json_object_get(m, "peers")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "peers"), 0)),
			    "gw.example.net");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "peers"), 2)),
			    "192.0.2.2");
	/* references in the order of set transform-set, to objects sent earlier */
	assert_int_equal(map->n_refs, 2);
	assert_ptr_equal(&r.objs[map->refs[0].obj], cbc);
	assert_ptr_equal(&r.objs[map->refs[1].obj], gcm);
	assert_string_equal(map->refs[1].field, "transformSets");
	assert_int_equal(map->refs[1].index, 1);
	assert_string_equal(str(json_array_get(json_object_get(m, "transformSets"), 0), "name"),
			    "CBC");
	assert_null(json_object_get(json_array_get(json_object_get(m, "transformSets"), 0),
				    "id"));	/* known once the agent created it */
	assert_string_equal(str(m, "pfs"), "group19");
	assert_int_equal(integer(m, "lifetimeSeconds"), 3600);
	assert_int_equal(integer(m, "lifetimeKilobytes"), 100000);
	/* dependency order: settings, policies, keys, transform sets, maps */
	for (size_t i = 1; i < r.n_objs; i++)
		assert_true(r.objs[i - 1].kind <= r.objs[i].kind);
	assert_ptr_equal(map, &r.objs[r.n_objs - 1]);
	ios_result_free(&r);
}

/* ---- access lists: wildcards to CIDR ------------------------------------- */

static void
test_wildcard_to_cidr(void **state)
{
	static const struct { const char *acl, *src, *dst; } cases[] = {
		{ "10.0.0.0 0.255.255.255 any", "10.0.0.0/8", "0.0.0.0/0" },
		{ "host 192.168.1.1 172.16.4.0 0.0.3.255", "192.168.1.1/32", "172.16.4.0/22" },
		{ "0.0.0.0 255.255.255.255 10.9.0.0 0.0.255.255 log", "0.0.0.0/0", "10.9.0.0/16" },
		{ "192.0.2.128 0.0.0.127 host 198.51.100.7", "192.0.2.128/25", "198.51.100.7/32" },
		{ "10.1.2.3 0.0.0.0 any", "10.1.2.3/32", "0.0.0.0/0" },
	};
	char text[512];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ios_result r;
		const struct ios_object *map;
		json_t *line;

		snprintf(text, sizeof(text), "crypto ipsec transform-set T esp-gcm\n"
			 "crypto map M 1 ipsec-isakmp\n set peer 192.0.2.1\n set transform-set T\n"
			 " match address 101\naccess-list 101 permit ip %s\n", cases[i].acl);
		run(text, &r);
		if (r.n_errors != 0)
			dump(&r);
		assert_int_equal(r.n_errors, 0);
		assert_non_null(map = find_obj(&r, IOS_CRYPTO_MAP, 0));
		line = json_array_get(json_object_get(map->body, "matchAddress"), 0);
		assert_string_equal(str(line, "action"), "permit");
		assert_string_equal(str(line, "protocol"), "ip");
		assert_string_equal(str(line, "source"), cases[i].src);
		assert_string_equal(str(line, "destination"), cases[i].dst);
		ios_result_free(&r);
	}
}

static const char map_head[] =
	"crypto ipsec transform-set T esp-aes esp-sha256-hmac\n"	/* 1 */
	"crypto map M 1 ipsec-isakmp\n"					/* 2 */
	" set peer 192.0.2.1\n"						/* 3 */
	" set transform-set T\n"					/* 4 */
	" match address 120\n";						/* 5 */

/* One access-list line (line 6) that a crypto map cannot take. */
static void
acl_refused(const char *acl, const char *want)
{
	char text[512];
	struct ios_result r;

	snprintf(text, sizeof(text), "%saccess-list 120 %s\n", map_head, acl);
	run(text, &r);
	assert_diag(&r, 6, IOS_ERROR, want);
	assert_int_equal(count_kind(&r, IOS_CRYPTO_MAP), 0);
	assert_diag(&r, 2, IOS_NOTE, "crypto map M 1 is not translated");
	ios_result_free(&r);
}

static void
test_acl_refusals(void **state)
{
	acl_refused("permit ip 10.0.0.0 0.0.255.0 any", "0.0.255.0: the wildcard is not contiguous");
	acl_refused("permit ip any 10.0.0.0 255.0.0.255", "not contiguous");
	acl_refused("permit ip 10.1.1.5 0.0.0.255 any", "did you mean 10.1.1.0 0.0.0.255?");
	acl_refused("deny ip 10.0.0.0 0.0.0.255 any", "deny lines are not supported");
	acl_refused("permit ipv6 any any", "protocol ipv6 is not supported");
	acl_refused("permit 256 any any", "protocol 256 is not supported");
	acl_refused("permit object-group WEB any any", "protocol object-group");
	acl_refused("permit ip any", "expected any, host A.B.C.D or A.B.C.D WILDCARD");
	acl_refused("permit ip any any eq 22", "eq 22: ports need protocol tcp or udp");
	acl_refused("permit gre host 20.1.1.1 eq 80 host 20.1.1.2", "ports need protocol tcp");
	acl_refused("permit tcp any any lt 1024", "lt: port operators other than eq are not "
		    "supported");
	acl_refused("permit tcp any any gt 1023", "gt: port operators");
	acl_refused("permit udp any neq 53 any", "neq: port operators");
	acl_refused("permit tcp any range 20 21 any", "range: port operators");
	acl_refused("permit tcp any any eq 0", "eq 0: not a tcp port number");
	acl_refused("permit udp any any eq 65536", "not a udp port number (1-65535)");
	acl_refused("permit tcp any any eq isakmp", "eq isakmp: not a tcp port");	/* udp's */
	acl_refused("permit udp any any eq www", "eq www: not a udp port");	/* tcp's */
	acl_refused("permit tcp any any eq https", "or a port name import-ios knows");
	acl_refused("permit tcp any any eq", "eq : not a tcp port");
	acl_refused("permit tcp any any established", "unexpected established after the "
		    "destination");
	acl_refused("permit icmp any any echo", "ICMP types are not supported");
	acl_refused("permit ip host 300.1.1.1 any", "host 300.1.1.1: not an IPv4 address");
}

/* permit PROTOCOL SRC [eq PORT] DST [eq PORT]: the protocol by
 * the API's name or its number, ports by number or IOS's name. */
static void
test_acl_protocols(void **state)
{
	static const struct {
		const char *acl, *proto;	/* proto NULL: a number, want_num */
		long long   want_num, src_port, dst_port;
	} cases[] = {
		{ "permit gre host 20.1.1.2 host 20.1.1.1", "gre", 0, 0, 0 },
		{ "permit 47 host 20.1.1.2 host 20.1.1.1", "gre", 0, 0, 0 },
		{ "permit ip any any", "ip", 0, 0, 0 },
		{ "permit 0 any any", "ip", 0, 0, 0 },
		{ "permit icmp any any", "icmp", 0, 0, 0 },
		{ "permit ospf any any", NULL, 89, 0, 0 },
		{ "permit 89 host 10.0.0.1 any", NULL, 89, 0, 0 },
		{ "permit esp any any", NULL, 50, 0, 0 },
		{ "permit ahp any any", NULL, 51, 0, 0 },
		{ "permit eigrp any any", NULL, 88, 0, 0 },
		{ "permit pim any any", NULL, 103, 0, 0 },
		{ "permit 132 any any log", NULL, 132, 0, 0 },
		{ "permit tcp any any", "tcp", 0, 0, 0 },
		{ "permit tcp any any eq 443", "tcp", 0, 0, 443 },
		{ "permit tcp any eq 179 any", "tcp", 0, 179, 0 },
		{ "permit tcp host 10.0.0.1 eq bgp host 10.0.0.2 eq 65535 log", "tcp", 0, 179,
		  65535 },
		{ "permit tcp any any eq www", "tcp", 0, 0, 80 },
		{ "permit tcp any any eq telnet", "tcp", 0, 0, 23 },
		{ "permit tcp any any eq smtp", "tcp", 0, 0, 25 },
		{ "permit tcp any any eq pop3", "tcp", 0, 0, 110 },
		{ "permit tcp any any eq domain", "tcp", 0, 0, 53 },
		{ "permit udp any any eq domain", "udp", 0, 0, 53 },
		{ "permit udp any eq isakmp any eq isakmp", "udp", 0, 500, 500 },
		{ "permit udp any any eq non500-isakmp", "udp", 0, 0, 4500 },
		{ "permit udp any any eq ntp", "udp", 0, 0, 123 },
		{ "permit udp any any eq snmp", "udp", 0, 0, 161 },
		{ "permit udp any any eq tftp", "udp", 0, 0, 69 },
		{ "permit udp any any eq syslog", "udp", 0, 0, 514 },
		{ "permit udp 10.0.0.0 0.0.0.255 eq 1 any eq 1 log-input", "udp", 0, 1, 1 },
	};
	char text[512];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ios_result r;
		const struct ios_object *map;
		json_t *line, *proto;

		snprintf(text, sizeof(text), "%saccess-list 120 %s\n", map_head, cases[i].acl);
		run(text, &r);
		if (r.n_errors != 0) {
			dump(&r);
			fail_msg("%s: refused", cases[i].acl);
		}
		assert_non_null(map = find_obj(&r, IOS_CRYPTO_MAP, 0));
		line = json_array_get(json_object_get(map->body, "matchAddress"), 0);
		proto = json_object_get(line, "protocol");
		if (cases[i].proto != NULL)
			assert_string_equal(json_string_value(proto), cases[i].proto);
		else
			assert_int_equal(json_integer_value(proto), cases[i].want_num);
		if (cases[i].src_port)
			assert_int_equal(integer(line, "sourcePort"), cases[i].src_port);
		else
			assert_null(json_object_get(line, "sourcePort"));
		if (cases[i].dst_port)
			assert_int_equal(integer(line, "destinationPort"), cases[i].dst_port);
		else
			assert_null(json_object_get(line, "destinationPort"));
		ios_result_free(&r);
	}
}

/* The order of a line's keys is the API's: action, protocol, source,
 * sourcePort, destination, destinationPort. */
static void
test_acl_line_shape(void **state)
{
	static const char *const keys[] = { "action", "protocol", "source", "sourcePort",
					    "destination", "destinationPort" };
	struct ios_result r;
	char text[512];
	const char *key;
	json_t *line, *v;
	size_t k = 0;

	snprintf(text, sizeof(text), "%saccess-list 120 permit tcp 10.1.0.0 0.0.255.255 eq 22 "
		 "host 10.2.0.1 eq 2222\n", map_head);
	run(text, &r);
	assert_int_equal(r.n_errors, 0);
	line = json_array_get(json_object_get(find_obj(&r, IOS_CRYPTO_MAP, 0)->body,
					      "matchAddress"), 0);
	json_object_foreach(line, key, v)
		assert_string_equal(key, keys[k++]);
	assert_int_equal(k, ARRAY_LEN(keys));
	assert_string_equal(str(line, "source"), "10.1.0.0/16");
	assert_string_equal(str(line, "destination"), "10.2.0.1/32");
	ios_result_free(&r);
}

/* An access list no crypto map uses is not crypto configuration. */
static void
test_unused_acl_is_a_note(void **state)
{
	struct ios_result r;

	run("access-list 101 deny ip 10.2.2.0 0.0.0.255 10.2.1.0 0.0.0.255\n"
	    "access-list 101 permit tcp any any\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 1, IOS_NOTE, "access list 101 is not used by a crypto map: skipped");
	assert_int_equal(r.n_diags, 1);
	ios_result_free(&r);
}

static void
test_map_references(void **state)
{
	struct ios_result r;

	/* undefined transform set and access list: errors at the referring lines */
	run("crypto map M 1 ipsec-isakmp\n set peer 192.0.2.1\n set transform-set NOPE\n"
	    " match address 199\n", &r);
	assert_diag(&r, 3, IOS_ERROR, "transform set NOPE is not defined in this file");
	assert_diag(&r, 4, IOS_ERROR, "access list 199 is not defined in this file");
	assert_int_equal(r.n_errors, 2);
	assert_int_equal(r.n_objs, 0);
	ios_result_free(&r);

	/* a standard list cannot select traffic for a crypto map */
	run("crypto ipsec transform-set T esp-gcm\ncrypto map M 1\n set peer 192.0.2.1\n"
	    " set transform-set T\n match address 10\naccess-list 10 permit 10.0.0.0 0.0.0.255\n",
	    &r);
	assert_diag(&r, 5, IOS_ERROR, "access list 10 is not an extended list");
	ios_result_free(&r);

	/* what an entry needs */
	run("crypto map M 7 ipsec-isakmp\n set pfs group14\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "crypto map M 7 has no set peer");
	assert_diag(&r, 1, IOS_ERROR, "crypto map M 7 has no set transform-set");
	assert_diag(&r, 1, IOS_ERROR, "crypto map M 7 has no match address");
	ios_result_free(&r);

	/* a named extended list, referenced before it is defined */
	run("crypto ipsec transform-set T esp-gcm\ncrypto map M 1\n set peer 192.0.2.1\n"
	    " set transform-set T\n match address PROTECT\nip access-list extended PROTECT\n"
	    " remark site B\n 10 permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255\n"
	    " 20 permit ip host 10.1.9.9 any\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_int_equal(json_array_size(json_object_get(find_obj(&r, IOS_CRYPTO_MAP, 0)->body,
							 "matchAddress")), 2);
	ios_result_free(&r);
}

/* ---- refusals: each message at its line ---------------------------------- */

static const char policy_ok[] =
	"crypto isakmp policy 10\n"		/* 1 */
	" encryption aes\n"			/* 2 */
	" hash sha\n"				/* 3 */
	" authentication pre-share\n"		/* 4 */
	" group 14\n"				/* 5 */
	" lifetime 3600\n";			/* 6 */

/* policy_ok with line `line` replaced by `with`. */
static void
policy_refused(int line, const char *with, const char *want)
{
	char text[512] = "";
	const char *s = policy_ok;
	struct ios_result r;

	for (int n = 1; *s; n++) {
		const char *nl = strchr(s, '\n');

		if (n == line)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), " %s\n", with);
		else
			snprintf(text + strlen(text), sizeof(text) - strlen(text), "%.*s",
				 (int)(nl - s + 1), s);
		s = nl + 1;
	}
	run(text, &r);
	assert_diag(&r, (unsigned)line, IOS_ERROR, want);
	assert_int_equal(r.n_errors, 1);
	assert_int_equal(count_kind(&r, IOS_IKE_POLICY), 0);
	ios_result_free(&r);
}

static void
test_policy_refusals(void **state)
{
	struct ios_result r;

	run(policy_ok, &r);
	assert_int_equal(r.n_errors, 0);
	assert_int_equal(count_kind(&r, IOS_IKE_POLICY), 1);
	ios_result_free(&r);
	policy_refused(2, "encryption des", "encryption des: DES is insecure and not supported; "
		       "use encryption aes");
	policy_refused(2, "encryption 3des", "3DES is insecure and not supported");
	policy_refused(2, "encryption aes 192", "AES-192 is not supported");
	policy_refused(3, "hash md5", "hash md5: MD5 is insecure and not supported; use hash "
		       "sha256");
	policy_refused(4, "authentication rsa-encr", "authentication rsa-encr: RSA encrypted "
		       "nonces are not supported; use authentication rsa-sig with certificates");
	policy_refused(4, "authentication rsa-sig ecdsa-sig", "authentication rsa-sig "
		       "ecdsa-sig: not supported; use authentication pre-share");
	policy_refused(4, "authentication xauth", "authentication xauth: not supported");
	policy_refused(5, "group 1", "group 1: DH group 1 (768-bit MODP) is insecure");
	policy_refused(5, "group 5", "group 5: DH group 5 (1536-bit MODP) is too weak");
	policy_refused(5, "group 24", "group 24: not supported");
	policy_refused(6, "lifetime 30", "the IKE SA lifetime is 60-86400 seconds");
	policy_refused(6, "version 2", "version 2: not supported in crypto isakmp policy");
}

/* What IOS does when a line is left out: honoured, or refused at the
 * policy's line naming the default. */
static void
test_policy_defaults(void **state)
{
	struct ios_result r;
	const struct ios_object *pol;

	run("crypto isakmp policy 3\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "no encryption line: IOS's default is DES, which is "
		    "insecure and not supported; add encryption aes");
	assert_diag(&r, 1, IOS_NOTE, "no authentication line: IOS's default rsa-sig "
		    "(certificates) is used; the certificates come through the API");
	assert_diag(&r, 1, IOS_ERROR, "no group line: IOS's default is group 1");
	assert_int_equal(r.n_errors, 2);
	ios_result_free(&r);

	run("crypto isakmp policy 3\n encryption aes 256\n group 14\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_non_null(pol = find_obj(&r, IOS_IKE_POLICY, 0));
	assert_string_equal(str(pol->body, "authentication"), "rsa-sig");
	ios_result_free(&r);

	run("crypto isakmp policy 3\n encryption aes 256\n authentication pre-share\n group 2\n",
	    &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 1, IOS_NOTE, "no hash line: IOS's default sha");
	assert_diag(&r, 4, IOS_NOTE, "group 2: accepted because it is set explicitly");
	assert_non_null(pol = find_obj(&r, IOS_IKE_POLICY, 0));
	assert_string_equal(str(pol->body, "hash"), "sha");
	assert_int_equal(integer(pol->body, "group"), 2);
	assert_int_equal(integer(pol->body, "lifetimeSeconds"), 86400);
	ios_result_free(&r);
}

/* The error text must give at line, holding want. */
static void
refused(const char *text, unsigned line, const char *want)
{
	struct ios_result r;

	run(text, &r);
	assert_diag(&r, line, IOS_ERROR, want);
	ios_result_free(&r);
}

static void
test_transform_refusals(void **state)
{
	refused("crypto ipsec transform-set T esp-des esp-sha-hmac\n", 1,
		"esp-des: DES is insecure and not supported; use esp-aes");
	refused("crypto ipsec transform-set T esp-3des esp-sha-hmac\n", 1,
		"esp-3des: 3DES is insecure");
	refused("crypto ipsec transform-set T esp-aes esp-md5-hmac\n", 1,
		"esp-md5-hmac: MD5 is insecure and not supported; use esp-sha256-hmac");
	refused("crypto ipsec transform-set T esp-null esp-sha-hmac\n", 1,
		"esp-null: ESP without encryption is not supported");
	refused("crypto ipsec transform-set T ah-sha-hmac esp-aes esp-sha-hmac\n", 1,
		"ah-sha-hmac: AH is not supported");
	refused("crypto ipsec transform-set T esp-aes 192 esp-sha-hmac\n", 1,
		"esp-aes 192: AES-192 is not supported");
	refused("crypto ipsec transform-set T esp-gcm esp-sha-hmac\n", 1,
		"esp-gcm authenticates by itself; drop esp-sha-hmac");
	refused("crypto ipsec transform-set T esp-aes 256\n", 1,
		"esp-aes needs an authentication transform");
	refused("crypto ipsec transform-set T esp-sha-hmac\n", 1, "has no encryption transform");
	refused("crypto ipsec transform-set T esp-gcm\n mode tunnel\n mode bogus\n", 3,
		"not supported in a transform set");
}

/* Transport mode (R-17.2, GRE over IPsec) is translated. */
static void
test_transport_mode(void **state)
{
	struct ios_result r;

	run("crypto ipsec transform-set T esp-gcm 256\n"	/* 1 */
	    " mode transport\n"				/* 2 */
	    "crypto map M 1 ipsec-isakmp\n"			/* 3 */
	    " set peer 192.0.2.1\n"
	    " set transform-set T\n"
	    " match address 101\n"
	    "access-list 101 permit gre host 192.0.2.2 host 192.0.2.1\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_string_equal(str(find_obj(&r, IOS_TRANSFORM_SET, 0)->body, "mode"), "transport");
	assert_int_equal(count_kind(&r, IOS_CRYPTO_MAP), 1);
	ios_result_free(&r);
	run("crypto ipsec transform-set T esp-gcm 256\n mode transport require\n", &r);
	assert_diag(&r, 2, IOS_ERROR, "not supported in a transform set (mode tunnel or mode "
		    "transport)");
	ios_result_free(&r);
	/* mode tunnel is what the agent does, and the default */
	run("crypto ipsec transform-set T esp-gcm 256\n mode tunnel\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_string_equal(str(find_obj(&r, IOS_TRANSFORM_SET, 0)->body, "mode"), "tunnel");
	ios_result_free(&r);
}

/* The agent proposes at most 16 IKE policies: the 17th is refused at its
 * line, not dropped later. */
static void
test_policy_cap(void **state)
{
	struct strbuf sb;
	struct ios_result r;

	strbuf_init(&sb, 1 << 16);
	for (int i = 1; i <= 17; i++)	/* policy i opens at line 5 * (i - 1) + 1 */
		strbuf_printf(&sb, "crypto isakmp policy %d\n encryption aes 256\n hash sha256\n"
			      " authentication pre-share\n group 14\n", i * 10);
	run(sb.data, &r);
	assert_diag(&r, 81, IOS_ERROR, "crypto isakmp policy 170: more than 16 IKE policies");
	assert_int_equal(r.n_errors, 1);
	assert_int_equal(count_kind(&r, IOS_IKE_POLICY), 16);
	ios_result_free(&r);
	strbuf_free(&sb);
}

static void
test_crypto_refusals(void **state)
{
	refused("crypto map M 10 ipsec-manual\n", 1, "not supported (crypto map NAME SEQ "
		"ipsec-isakmp only)");
	refused("crypto key pubkey-chain rsa\n named-key x\n", 1, "crypto key pubkey-chain: "
		"RSA keys in the configuration are not supported; use authentication rsa-sig "
		"with certificates");
	refused("crypto pki server CS\n database level complete\n", 1, "crypto pki server: "
		"not supported (crypto pki trustpoint and crypto pki certificate chain are read)");
	refused("crypto pki trustpoint TP\n revocation-check ocsp none\n", 2,
		"revocation-check ocsp none: OCSP is not supported; use revocation-check crl");
	refused("crypto pki trustpoint TP\n revocation-check sometimes\n", 2,
		"revocation-check sometimes: not a method (crl or none)");
	refused("crypto pki trustpoint\n", 1, "crypto pki trustpoint takes a name");
	refused("crypto ikev2 proposal P\n", 1, "IKEv2");
	refused("crypto isakmp identity fqdn\n", 1, "crypto isakmp identity: address, hostname "
		"or dn");
	refused("crypto isakmp keepalive 5\n", 1, "the keepalive is 10-3600 seconds");
	refused("crypto isakmp keepalive 10 90 periodic\n", 1, "the retry interval is 2-60");
	refused("crypto isakmp keepalive 10 2 sometimes\n", 1, "unexpected sometimes");
	refused("crypto isakmp key 6 AbCdEf address 10.0.0.1\n", 1,
		"an encrypted key cannot be imported");
	refused("crypto isakmp key k hostname peer.example.com\n", 1,
		"keys by host name are not supported");
	refused("crypto isakmp key k address 10.0.0.1 255.0.255.0\n", 1,
		"the mask is not contiguous");
	refused("crypto isakmp key k address 10.2.80.209 255.255.255.0\n", 1,
		"has bits outside the mask; IOS would match 10.2.80.0/24");
	refused("crypto isakmp key k address 0.0.0.0 255.255.255.0\n", 1, "matches no peer");
	refused("crypto map M 1 ipsec-isakmp\n set pfs group2\n", 2,
		"set pfs group2: DH group2 is too weak");
	refused("crypto map M 1 ipsec-isakmp\n set pfs group5\n", 2, "group5 is too weak");
	refused("crypto map M 1 ipsec-isakmp\n set pfs\n", 2,
		"set pfs: without a group IOS uses group 1");
	refused("crypto map M 1 ipsec-isakmp\n set peer 224.0.0.5\n", 2,
		"not a unicast IPv4 address or a host name");
	refused("crypto map M 1 ipsec-isakmp\n set peer 192.0.2.1\n set peer 192.0.2.1\n", 3,
		"listed already");
	refused("crypto map M 1 ipsec-isakmp\n set security-association lifetime seconds 60\n",
		2, "lifetime seconds 120-86400");
	refused("crypto map M 1 ipsec-isakmp\n set security-association replay disable\n", 2,
		"not supported in a crypto map entry");
	refused("crypto map M 1 ipsec-isakmp\n set peer 192.0.2.1 dynamic\n", 2,
		"expected set peer ADDRESS|HOSTNAME [default]");
	refused("crypto gdoi group G\n", 1, "crypto gdoi group: not supported");
}

/* A pre-shared key is never in a message nor in what --dry-run prints. */
static void
test_key_never_shown(void **state)
{
	static const char *const lines[] = {
		"crypto isakmp key Sekr1tKey99 address 10.2.80.209 255.255.255.0\n",
		"crypto isakmp key Sekr1tKey99 address 10.0.0.1 junk\n",
		"crypto isakmp key Sekr1tKey99 hostname x.example\n",
		"crypto isakmp key 6 Sekr1tKey99 address 10.0.0.1\n",
		"crypto isakmp key Sekr1tKey99 address 10.0.0.1\ncrypto isakmp key Sekr1tKey99 "
		"address 10.0.0.1\n",
	};

	for (size_t i = 0; i < ARRAY_LEN(lines); i++) {
		struct ios_result r;
		struct strbuf sb;

		run(lines[i], &r);
		assert_true(r.n_diags > 0);
		render(&r, &sb);
		if (strstr(sb.data, "Sekr1tKey99") != NULL)
			fail_msg("the key is shown for %s:\n%s", lines[i], sb.data);
		strbuf_free(&sb);
		ios_result_free(&r);
	}
}

/* ---- certificates: rsa-sig, trustpoints, identity dn (R-16.4) ------------ */

static const char sig_policy[] =
	"crypto isakmp policy 10\n"			/* 1 */
	" encryption aes 256\n"
	" hash sha256\n"
	" authentication rsa-sig\n"
	" group 19\n"
	"crypto isakmp policy 20\n"			/* 6 */
	" encryption aes 256\n"
	" hash sha256\n"
	" authentication ecdsa-sig\n"
	" group 19\n"
	"crypto isakmp identity dn\n";		/* 11 */

/* sig_policy, then tail from line 12. */
static void
run_sig(const char *tail, struct ios_result *r)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", sig_policy, tail);
	run(text, r);
}

static void
test_signature_policies(void **state)
{
	struct ios_result r;
	const struct ios_object *ike;

	run_sig("", &r);
	assert_int_equal(r.n_errors, 0);
	assert_string_equal(str(find_obj(&r, IOS_IKE_POLICY, 0)->body, "authentication"),
			    "rsa-sig");
	assert_string_equal(str(find_obj(&r, IOS_IKE_POLICY, 1)->body, "authentication"),
			    "ecdsa-sig");
	assert_non_null(ike = find_obj(&r, IOS_IKE_SETTINGS, 0));
	assert_string_equal(str(ike->body, "identity"), "dn");
	assert_int_equal(ike->line, 11);
	/* no trustpoint: the note at the first signing policy says what to create */
	assert_diag(&r, 1, IOS_NOTE, "crypto isakmp policy 10 authenticates with rsa-sig: give "
		    "the agent its certificate through the API: POST /object/internalcertificates "
		    "(this device's certificate and key), POST /object/externalcacertificates (the "
		    "CA of the peers' certificates), then PUT /devicesettings/default/ike with "
		    "certificate and trustedCAs");
	assert_int_equal(r.n_diags, 1);
	ios_result_free(&r);

	/* pre-share stays what it was: no certificate note */
	run("crypto isakmp policy 1\n encryption aes\n hash sha256\n authentication pre-share\n"
	    " group 14\n", &r);
	assert_int_equal(r.n_diags, 0);
	assert_string_equal(str(find_obj(&r, IOS_IKE_POLICY, 0)->body, "authentication"),
			    "pre-share");
	ios_result_free(&r);
}

static void
test_trustpoints(void **state)
{
	struct ios_result r;

	run_sig("crypto pki trustpoint CA-CRL\n"		/* 12 */
		" enrollment url http://ca.example.net:80\n"
		" subject-name CN=gw,O=Soci\xc3\xa9t\xc3\xa9\n"	/* not read: any byte */
		" revocation-check crl none\n"
		" rsakeypair GW\n"
		"crypto pki trustpoint CA-NONE\n"		/* 17 */
		" revocation-check none\n"
		"crypto pki trustpoint CA-DEFAULT\n"		/* 19 */
		"enrollment terminal\n"			/* unindented sub-commands */
		"fqdn gw.example.net\n"
		"crypto ca trustpoint OLD\n"			/* 22: the older name */
		" enrollment selfsigned\n"
		" enrollment terminal\n"			/* replaces it */
		" enrollment retry count 5\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 12, IOS_NOTE, "crypto pki trustpoint CA-CRL: not translated; the "
		    "certificates come through the API: POST /object/internalcertificates (this "
		    "device's certificate and key), POST /object/externalcacertificates (its CA), "
		    "then PUT /devicesettings/default/ike with certificate, trustedCAs and crls "
		    "(revocation-check crl: its CA's CRLs, PEM)");
	assert_diag(&r, 17, IOS_NOTE, "then PUT /devicesettings/default/ike with certificate, "
		    "trustedCAs");
	assert_null(strstr(find_diag(&r, 17, IOS_NOTE, "CA-NONE")->msg, "crls"));
	assert_diag(&r, 19, IOS_NOTE, "trustedCAs and crls (revocation-check crl, IOS's "
		    "default: its CA's CRLs, PEM)");
	assert_diag(&r, 22, IOS_NOTE, "trustpoint OLD: not translated");
	assert_null(find_diag(&r, 1, IOS_NOTE, "authenticates with"));	/* the trustpoints say it */
	assert_int_equal(r.n_diags, 4);
	assert_int_equal(r.n_objs, 3);	/* ike settings and the policies: no certificates */
	ios_result_free(&r);

	/* the same trustpoint again: IOS edits it */
	run_sig("crypto pki trustpoint TP\n revocation-check crl\n"
		"crypto pki trustpoint TP\n revocation-check none\n", &r);
	assert_int_equal(r.n_diags, 1);
	assert_diag(&r, 12, IOS_NOTE, "trustpoint TP: not translated");
	assert_null(strstr(r.diags[0].msg, "crls"));
	ios_result_free(&r);

	/* the longest name a message shows, IOS's default crl: the note is whole */
	run_sig("crypto pki trustpoint "
		"T123456789012345678901234567890123456789012345678901234567890123456789\n", &r);
	assert_diag(&r, 12, IOS_NOTE, "trustpoint T12345678901234567890123456789012345678901"
		    "2345678901234567890123: not translated");	/* SHOW: 64 characters */
	assert_diag(&r, 12, IOS_NOTE, "trustedCAs and crls (revocation-check crl, IOS's "
		    "default: its CA's CRLs, PEM)");
	ios_result_free(&r);

	/* no policy signs: not needed; a self-signed one is IOS's own */
	run("crypto pki trustpoint TP\n enrollment terminal\n"
	    "crypto pki trustpoint TP-self-signed-1\n enrollment selfsigned\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 1, IOS_NOTE, "crypto pki trustpoint TP is not used: no crypto isakmp "
		    "policy of this file authenticates with certificates: skipped");
	assert_diag(&r, 3, IOS_NOTE, "crypto pki trustpoint TP-self-signed-1: enrollment "
		    "selfsigned (IOS's own certificate, as for its HTTPS server): skipped");
	ios_result_free(&r);
}

/* A chain is skipped with its certificates and hex lines, indented or not,
 * up to the next block. */
static void
test_certificate_chains(void **state)
{
	struct ios_result r;

	run("crypto pki trustpoint TP-self-signed-7\n"	/* 1 */
	    " enrollment selfsigned\n"
	    "crypto pki certificate chain TP-self-signed-7\n"	/* 3 */
	    " certificate self-signed 01\n"
	    "  3082022B 30820194\n"
	    "  \tquit\n"
	    "crypto pki certificate chain CORP\n"		/* 7 */
	    " certificate 1A\n"
	    "30820243 308201AC A0030201\n"
	    "quit\n"
	    " certificate ca 01\n"
	    "  30820243\n"
	    "  quit\n"
	    "crypto isakmp keepalive 10\n"			/* 14 */
	    "crypto ca certificate chain OLD\n"		/* 15 */
	    " certificate ca 02\n"
	    "!\n"
	    "interface Gi0\n", &r);				/* 18 */
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 3, IOS_NOTE, "crypto pki certificate chain TP-self-signed-7: skipped "
		    "(the self-signed certificate of trustpoint TP-self-signed-7)");
	assert_diag(&r, 7, IOS_NOTE, "crypto pki certificate chain CORP: skipped: certificates "
		    "are not imported from the configuration, which holds no private key; give "
		    "them through the API (POST /object/internalcertificates, "
		    "/object/externalcacertificates)");
	assert_diag(&r, 15, IOS_NOTE, "crypto ca certificate chain OLD: skipped");
	assert_diag(&r, 18, IOS_NOTE, "skipped, not crypto configuration: interface Gi0");
	assert_int_equal(r.n_diags, 5);	/* and the self-signed trustpoint */
	assert_int_equal(count_kind(&r, IOS_DPD), 1);
	ios_result_free(&r);
}

/* ---- remote access: dynamic maps, Mode Config, XAUTH --------------------- */

static const char ra_head[] =
	"crypto ipsec transform-set T esp-aes esp-sha256-hmac\n"		/* 1 */
	"crypto isakmp key k address 0.0.0.0\n"					/* 2 */
	"crypto isakmp client configuration address-pool local P\n"		/* 3 */
	"ip local pool P 10.2.1.1 10.2.1.254\n"					/* 4 */
	"crypto dynamic-map D 10\n"						/* 5 */
	" set transform-set T\n";						/* 6 */

/* ra_head, then tail from line 7. */
static void
run_ra(const char *tail, struct ios_result *r)
{
	char text[4096];

	snprintf(text, sizeof(text), "%s%s", ra_head, tail);
	run(text, r);
}

static json_t *
client_config(const struct ios_object *o)
{
	return json_object_get(o->body, "clientConfiguration");
}

static void
test_dynamic_map_fields(void **state)
{
	struct ios_result r;
	const struct ios_object *dyn, *pool, *xf;
	json_t *b, *line;

	run_ra(" set pfs group19\n"						/* 7 */
	       " set security-association lifetime kilobytes 100000\n"	/* 8 */
	       " match address 130\n"						/* 9 */
	       " description clients\n"						/* 10 */
	       " reverse-route\n"						/* 11 */
	       "crypto map M client configuration address initiate\n"		/* 12 */
	       "crypto map M client configuration address respond\n"		/* 13 */
	       "crypto map M 20 ipsec-isakmp dynamic D\n"			/* 14 */
	       "access-list 130 permit ip 10.2.2.0 0.0.0.255 10.2.1.0 0.0.0.255\n", &r);
	if (r.n_errors)
		dump(&r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 11, IOS_NOTE, "reverse-route: ignored");
	assert_non_null(xf = find_obj(&r, IOS_TRANSFORM_SET, 0));
	assert_non_null(pool = find_obj(&r, IOS_IP_POOL, 0));
	assert_string_equal(pool->path, "/object/ippools");
	assert_string_equal(str(pool->body, "name"), "P");
	assert_string_equal(str(pool->body, "start"), "10.2.1.1");
	assert_string_equal(str(pool->body, "end"), "10.2.1.254");
	assert_null(json_object_get(pool->body, "netmask"));	/* IOS has none: the default */
	assert_string_equal(str(pool->body, "type"), "ippool");
	assert_non_null(dyn = find_obj(&r, IOS_DYNAMIC_MAP, 0));
	assert_int_equal(dyn->line, 14);
	b = dyn->body;
	assert_string_equal(dyn->path, "/object/dynamiccryptomaps");
	assert_string_equal(str(b, "name"), "M-20");	/* as a static entry M 20 would be */
	assert_int_equal(integer(b, "sequence"), 20);	/* the binding's */
	assert_string_equal(str(b, "pfs"), "group19");
	assert_int_equal(integer(b, "lifetimeSeconds"), 3600);
	assert_int_equal(integer(b, "lifetimeKilobytes"), 100000);
	assert_string_equal(str(b, "description"), "clients");
	assert_null(json_object_get(b, "peers"));
	line = json_array_get(json_object_get(b, "matchAddress"), 0);
	assert_string_equal(str(line, "source"), "10.2.2.0/24");
	assert_string_equal(str(line, "destination"), "10.2.1.0/24");
	assert_string_equal(str(json_object_get(b, "addressPool"), "name"), "P");
	assert_string_equal(str(json_object_get(b, "addressPool"), "type"), "ippool");
	assert_true(json_is_true(json_object_get(client_config(dyn), "initiate")));
	assert_true(json_is_true(json_object_get(client_config(dyn), "respond")));
	assert_true(json_is_false(json_object_get(b, "xauth")));
	assert_int_equal(json_array_size(json_object_get(b, "dnsServers")), 0);
	assert_int_equal(json_array_size(json_object_get(b, "splitTunnel")), 0);
	assert_string_equal(str(b, "type"), "dynamiccryptomap");
	/* references to objects sent before it: the transform set, the pool */
	assert_int_equal(dyn->n_refs, 2);
	assert_ptr_equal(&r.objs[dyn->refs[0].obj], xf);
	assert_string_equal(dyn->refs[0].field, "transformSets");
	assert_int_equal(dyn->refs[0].index, 0);
	assert_ptr_equal(&r.objs[dyn->refs[1].obj], pool);
	assert_string_equal(dyn->refs[1].field, "addressPool");
	assert_int_equal(dyn->refs[1].index, -1);
	for (size_t i = 1; i < r.n_objs; i++)
		assert_true(r.objs[i - 1].kind <= r.objs[i].kind);
	ios_result_free(&r);
}

/* client configuration address initiate (push) and respond (pull): one
 * alone leaves the other false; neither: no pool, no Mode Config. */
static void
test_client_configuration(void **state)
{
	static const struct { const char *lines; int initiate, respond; } cases[] = {
		{ "crypto map M client configuration address initiate\n", 1, 0 },
		{ "crypto map M client configuration address respond\n", 0, 1 },
		{ "crypto map M client configuration address respond\n"
		  "crypto map M client configuration address initiate\n", 1, 1 },
	};
	char text[512];
	struct ios_result r;
	const struct ios_object *dyn;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text), "%scrypto map M 10 ipsec-isakmp dynamic D\n",
			 cases[i].lines);
		run_ra(text, &r);
		assert_int_equal(r.n_errors, 0);
		assert_non_null(dyn = find_obj(&r, IOS_DYNAMIC_MAP, 0));
		assert_int_equal(json_is_true(json_object_get(client_config(dyn), "initiate")),
				 cases[i].initiate);
		assert_int_equal(json_is_true(json_object_get(client_config(dyn), "respond")),
				 cases[i].respond);
		assert_non_null(json_object_get(dyn->body, "addressPool"));
		ios_result_free(&r);
	}
	/* no client configuration line: the pool is not used */
	run_ra("crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_non_null(dyn = find_obj(&r, IOS_DYNAMIC_MAP, 0));
	assert_null(json_object_get(dyn->body, "addressPool"));
	assert_null(json_object_get(dyn->body, "matchAddress"));	/* what the client proposes */
	assert_true(json_is_false(json_object_get(client_config(dyn), "initiate")));
	assert_true(json_is_false(json_object_get(client_config(dyn), "respond")));
	assert_diag(&r, 3, IOS_NOTE, "address-pool local P: not used, no crypto map has client "
		    "configuration address");
	assert_diag(&r, 4, IOS_NOTE, "ip local pool P is not used by a crypto map");
	assert_int_equal(count_kind(&r, IOS_IP_POOL), 0);
	ios_result_free(&r);
}

static void
test_client_configuration_refusals(void **state)
{
	struct ios_result r;

	/* no crypto isakmp client configuration address-pool */
	run("crypto ipsec transform-set T esp-gcm\ncrypto dynamic-map D 1\n set transform-set T\n"
	    "crypto map M client configuration address respond\n"		/* 4 */
	    "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 4, IOS_ERROR, "crypto map M client configuration address: no crypto "
		    "isakmp client configuration address-pool local POOL in this file");
	assert_int_equal(r.n_errors, 1);
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 0);
	ios_result_free(&r);

	/* the pool is not defined */
	run("crypto isakmp client configuration address-pool local NOPE\n"	/* 1 */
	    "crypto ipsec transform-set T esp-gcm\ncrypto dynamic-map D 1\n set transform-set T\n"
	    "crypto map M client configuration address respond\n"
	    "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "address-pool local NOPE: ip local pool NOPE is not "
		    "defined in this file");
	assert_int_equal(r.n_errors, 1);
	ios_result_free(&r);

	/* a map without an entry bound to a dynamic map */
	run("crypto ipsec transform-set T esp-gcm\n"
	    "crypto map S client configuration address initiate\n"		/* 2 */
	    "crypto map S client authentication list L\n"			/* 3 */
	    "crypto map S 10 ipsec-isakmp\n set peer 192.0.2.1\n set transform-set T\n"
	    " match address 101\naccess-list 101 permit ip any any\n", &r);
	assert_diag(&r, 2, IOS_ERROR, "crypto map S has no entry bound to a dynamic map");
	assert_diag(&r, 2, IOS_ERROR, "the agent does Mode Config on dynamic crypto maps only");
	assert_diag(&r, 3, IOS_ERROR, "the agent does XAUTH on dynamic crypto maps only");
	assert_int_equal(r.n_errors, 2);
	ios_result_free(&r);

	/* a map with static and dynamic entries: the static ones do no Mode Config */
	run_ra("crypto map M client configuration address respond\n"		/* 7 */
	       "crypto map M 5 ipsec-isakmp dynamic D\n"			/* 8 */
	       "crypto map M 10 ipsec-isakmp\n"				/* 9 */
	       " set peer 192.0.2.1\n set transform-set T\n match address 101\n"
	       "access-list 101 permit ip any any\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 7, IOS_NOTE, "for its entries bound to dynamic maps only; its static "
		    "entry M 10 (line 9) does no Mode Config or XAUTH");
	/* IOS tries entry 5 (dynamic) before 10; the agent static ones first */
	assert_diag(&r, 8, IOS_NOTE, "crypto map M 5 (dynamic) comes before the static entry M 10 "
		    "(line 9): the agent tries every static entry first");
	assert_int_equal(count_kind(&r, IOS_CRYPTO_MAP), 1);
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 1);
	ios_result_free(&r);

	/* an Easy VPN group is refused with its sub-lines, nothing else */
	run("crypto isakmp client configuration group EZVPN\n key secret\n dns 10.0.0.53\n"
	    " acl 150\n pool P\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "crypto isakmp client configuration group EZVPN: Easy VPN "
		    "groups are not supported");
	assert_diag(&r, 1, IOS_ERROR, "set the group's dns and acl as dnsServers and splitTunnel "
		    "of the dynamic crypto map entry through the API");
	assert_int_equal(r.n_diags, 1);
	ios_result_free(&r);
	refused("crypto isakmp client configuration browser-proxy BP\n", 1,
		"crypto isakmp client configuration browser-proxy: not supported");
	refused("crypto isakmp client configuration address-pool local\n", 1,
		"not supported (crypto isakmp client configuration address-pool local POOL)");
	refused("crypto map M client configuration address\n", 1,
		"not supported (crypto map NAME client configuration address initiate|respond");
	refused("crypto map M client accounting list A\n", 1, "client accounting: not supported");
	refused("crypto map M isakmp authorization list G\n", 1, "Easy VPN group authorization");
}

/* ip local pool: one range, unicast, at most 65536 addresses; checked only
 * when a crypto map uses it. */
static void
pool_refused(const char *pool, unsigned line, const char *want)
{
	char text[2048];
	struct ios_result r;

	snprintf(text, sizeof(text),
		 "crypto ipsec transform-set T esp-aes esp-sha256-hmac\n"		/* 1 */
		 "crypto isakmp client configuration address-pool local P\n"	/* 2 */
		 "crypto dynamic-map D 10\n set transform-set T\n"		/* 3-4 */
		 "crypto map M client configuration address respond\n"		/* 5 */
		 "crypto map M 10 ipsec-isakmp dynamic D\n"			/* 6 */
		 "%s", pool);							/* 7- */
	run(text, &r);
	assert_diag(&r, line, IOS_ERROR, want);
	assert_int_equal(r.n_errors, 1);
	assert_int_equal(count_kind(&r, IOS_IP_POOL), 0);
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 0);
	ios_result_free(&r);
	/* the same pool, used by no crypto map: a note, not an error */
	run(pool, &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 1, IOS_NOTE, "ip local pool P is not used by a crypto map");
	ios_result_free(&r);
}

static void
test_pool_refusals(void **state)
{
	pool_refused("ip local pool P 10.2.1.1 10.2.1.9\nip local pool P 10.3.1.1 10.3.1.9\n", 8,
		     "ip local pool P: a second range (the first is on line 7)");
	pool_refused("ip local pool P 10.2.1.9 10.2.1.1\n", 7, "10.2.1.9 is above 10.2.1.1");
	pool_refused("ip local pool P 10.0.0.0 10.1.0.0\n", 7,
		     "10.0.0.0-10.1.0.0 holds 65537 addresses; an address pool holds at most 65536");
	pool_refused("ip local pool P 10.2.1.1 10.2.1.9 group G\n", 7,
		     "pool groups are not supported");
	pool_refused("ip local pool P 10.2.1\n", 7, "expected ip local pool NAME START [END]");
	pool_refused("ip local pool P 10.2.1.1 10.2.1.9 extra\n", 7, "unexpected extra");
	pool_refused("ip local pool P 224.0.0.1 224.0.0.9\n", 7, "not unicast addresses");
	pool_refused("ip local pool P 127.0.0.1\n", 7, "not unicast addresses");
}

/* A single address, IOS's cache-size, and 65536 addresses are fine. */
static void
test_pool_forms(void **state)
{
	static const struct { const char *line, *start, *end; } cases[] = {
		{ "ip local pool P 10.2.1.7\n", "10.2.1.7", "10.2.1.7" },
		{ "ip local pool P 10.2.1.1 10.2.1.9 cache-size 20\n", "10.2.1.1", "10.2.1.9" },
		{ "ip local pool P 10.0.0.0 10.0.255.255\n", "10.0.0.0", "10.0.255.255" },
	};
	char text[1024];
	struct ios_result r;
	const struct ios_object *pool;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(text, sizeof(text), "%scrypto ipsec transform-set T esp-gcm\n"
			 "crypto isakmp client configuration address-pool local P\n"
			 "crypto dynamic-map D 10\n set transform-set T\n"
			 "crypto map M client configuration address respond\n"
			 "crypto map M 10 ipsec-isakmp dynamic D\n", cases[i].line);
		run(text, &r);
		assert_int_equal(r.n_errors, 0);
		assert_non_null(pool = find_obj(&r, IOS_IP_POOL, 0));
		assert_string_equal(str(pool->body, "start"), cases[i].start);
		assert_string_equal(str(pool->body, "end"), cases[i].end);
		ios_result_free(&r);
	}
	/* a document that lost its indentation: the pool line ends the interface */
	run("crypto ipsec transform-set T esp-gcm\ncrypto dynamic-map D 10\nset transform-set T\n"
	    "crypto isakmp client configuration address-pool local P\n"
	    "crypto map M client configuration address respond\n"
	    "crypto map M 10 ipsec-isakmp dynamic D\n"
	    "interface Serial1\n"						/* 7 */
	    "ip address 10.2.2.1 255.255.255.0\n"
	    "ip local pool P 10.2.1.1 10.2.1.254\n", &r);			/* 9 */
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 7, IOS_NOTE, "lines 7-8 skipped, not crypto configuration: interface "
		    "Serial1");
	assert_int_equal(find_obj(&r, IOS_IP_POOL, 0)->line, 9);
	ios_result_free(&r);
}

static void
test_dynamic_map_refusals(void **state)
{
	struct ios_result r;

	/* a binding to a dynamic map that does not exist: error at the binding */
	run_ra("crypto map M 10 ipsec-isakmp dynamic NOPE\n", &r);	/* 7 */
	assert_diag(&r, 7, IOS_ERROR, "crypto map M 10 ipsec-isakmp dynamic NOPE: crypto "
		    "dynamic-map NOPE is not defined in this file");
	assert_diag(&r, 5, IOS_NOTE, "crypto dynamic-map D 10 is not used by a crypto map "
		    "(crypto map NAME SEQ ipsec-isakmp dynamic D): skipped");
	assert_int_equal(r.n_errors, 1);
	ios_result_free(&r);

	/* a dynamic map no crypto map binds: skipped with its references */
	run("crypto dynamic-map D 10\n set transform-set NOPE\n match address 199\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 1, IOS_NOTE, "crypto dynamic-map D 10 is not used by a crypto map");
	ios_result_free(&r);

	/* what a dynamic-map entry needs, and what it refers to */
	run("crypto dynamic-map D 10\n set pfs group14\n"			/* 1-2 */
	    "crypto dynamic-map D 20\n set transform-set NOPE\n"		/* 3-4 */
	    " match address 199\n"						/* 5 */
	    "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "crypto dynamic-map D 10 has no set transform-set");
	assert_diag(&r, 4, IOS_ERROR, "set transform-set: transform set NOPE is not defined in "
		    "this file");
	assert_diag(&r, 5, IOS_ERROR, "match address 199: access list 199 is not defined in this "
		    "file");
	assert_int_equal(r.n_errors, 3);
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 0);
	ios_result_free(&r);

	/* a refused transform set: the entry is not translated, with a note */
	run("crypto ipsec transform-set OLD esp-3des esp-sha-hmac\ncrypto dynamic-map D 10\n"
	    " set transform-set OLD\ncrypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "esp-3des: 3DES is insecure");
	assert_diag(&r, 2, IOS_NOTE, "crypto dynamic-map D 10 is not translated: it uses what "
		    "was refused (transform set OLD)");
	ios_result_free(&r);

	refused("crypto dynamic-map D 10\n set peer 192.0.2.1\n", 2,
		"set peer: a dynamic crypto map answers any peer that authenticates");
	refused("crypto dynamic-map D 10\n set security-association replay disable\n", 2,
		"not supported in a dynamic crypto map entry");
	refused("crypto dynamic-map D\n", 1, "expected crypto dynamic-map NAME SEQ");
	refused("crypto dynamic-map D 70000\n", 1, "expected crypto dynamic-map NAME SEQ");
	refused("crypto map M 10 ipsec-isakmp dynamic D discover\n", 1,
		"not supported (crypto map NAME SEQ ipsec-isakmp dynamic DYNAMIC-MAP only)");
	refused("crypto map M 10 ipsec-isakmp dynamic\n", 1,
		"crypto map NAME SEQ ipsec-isakmp dynamic DYNAMIC-MAP only");
	refused("crypto dynamic-map D 1\n set transform-set T\ncrypto map M 10 ipsec-isakmp "
		"dynamic D\n set peer 192.0.2.1\n", 4, "set peer: crypto map M 10 is bound to "
		"crypto dynamic-map D, which holds its settings: set this there");
	refused("crypto map M 10 ipsec-isakmp\n set peer 192.0.2.1\n"
		"crypto map M 10 ipsec-isakmp dynamic D\n", 3, "crypto map M 10: line 1 made it a "
		"static entry; an entry is static or bound to a dynamic map, not both");
	refused("crypto map M 10 ipsec-isakmp dynamic D\ncrypto map M 10 ipsec-isakmp\n", 2,
		"line 1 made it an entry bound to a dynamic map");
}

/* Several entries in a dynamic map: one dynamic entry each, in IOS's order
 * (name order is sequence order); every binding gets its own. */
static void
test_dynamic_map_entries(void **state)
{
	struct ios_result r;

	run("crypto ipsec transform-set T esp-gcm\n"
	    "crypto dynamic-map D 100\n set transform-set T\n"		/* 2 */
	    "crypto dynamic-map D 9\n set transform-set T\n"			/* 4 */
	    "crypto map A 10 ipsec-isakmp dynamic D\n"			/* 6 */
	    "crypto map B 7 ipsec-isakmp dynamic D\n"				/* 7 */
	    "crypto map B 7 ipsec-isakmp dynamic D\n", &r);			/* 8: the same */
	assert_int_equal(r.n_errors, 0);
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 4);
	assert_string_equal(str(find_obj(&r, IOS_DYNAMIC_MAP, 0)->body, "name"), "A-10-009");
	assert_string_equal(str(find_obj(&r, IOS_DYNAMIC_MAP, 1)->body, "name"), "A-10-100");
	assert_int_equal(integer(find_obj(&r, IOS_DYNAMIC_MAP, 1)->body, "sequence"), 10);
	assert_string_equal(str(find_obj(&r, IOS_DYNAMIC_MAP, 2)->body, "name"), "B-7-009");
	assert_string_equal(str(find_obj(&r, IOS_DYNAMIC_MAP, 3)->body, "name"), "B-7-100");
	ios_result_free(&r);

	/* a binding names another dynamic map: the last one counts */
	run("crypto ipsec transform-set T esp-gcm\ncrypto dynamic-map D 1\n set transform-set T\n"
	    "crypto dynamic-map E 1\n set transform-set T\n"
	    "crypto map M 10 ipsec-isakmp dynamic D\n"			/* 6 */
	    "crypto map M 10 ipsec-isakmp dynamic E\n", &r);			/* 7 */
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 7, IOS_NOTE, "crypto map M 10 binds dynamic map E instead of D (line 6)");
	assert_diag(&r, 2, IOS_NOTE, "crypto dynamic-map D 1 is not used by a crypto map");
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 1);
	ios_result_free(&r);

	/* names stay unique: map a-1 entry 5 and map a entry 1, dynamic entry 5 */
	run("crypto ipsec transform-set T esp-gcm\ncrypto dynamic-map D 5\n set transform-set T\n"
	    "crypto dynamic-map D 6\n set transform-set T\ncrypto dynamic-map E 1\n"
	    " set transform-set T\n"
	    "crypto map a-1 5 ipsec-isakmp dynamic E\n"			/* 8: a-1-5 */
	    "crypto map a 1 ipsec-isakmp dynamic D\n", &r);			/* 9: a-1-5, a-1-6 */
	assert_diag(&r, 9, IOS_ERROR, "crypto map a 1: its dynamic entry would be named a-1-5, "
		    "as another one is; rename a crypto map");
	assert_int_equal(r.n_errors, 1);
	ios_result_free(&r);
}

/* At most IOS_OBJECTS_MAX dynamic entries, however many bindings times
 * entries the file asks for. */
static void
test_dynamic_map_cap(void **state)
{
	struct strbuf sb;
	struct ios_result r;

	strbuf_init(&sb, 1 << 20);
	strbuf_puts(&sb, "crypto ipsec transform-set T esp-gcm\n");	/* 1 */
	for (int i = 1; i <= 40; i++)					/* 2-81 */
		strbuf_printf(&sb, "crypto dynamic-map D %d\n set transform-set T\n", i);
	for (int i = 1; i <= 30; i++)					/* 82-111 */
		strbuf_printf(&sb, "crypto map M%d 1 ipsec-isakmp dynamic D\n", i);
	run(sb.data, &r);
	/* 25 bindings of 40 entries are 1000; the 26th reaches the cap */
	assert_diag(&r, 82 + 25, IOS_ERROR, "more than 1024 dynamic crypto map entries");
	assert_int_equal(r.n_errors, 1);
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), IOS_OBJECTS_MAX);
	ios_result_free(&r);
	strbuf_free(&sb);
}

static const char xauth_head[] =
	"aaa new-model\n"							/* 7 */
	"aaa authentication login L local\n"					/* 8 */
	"crypto map M client configuration address respond\n"			/* 9 */
	"crypto map M client authentication list L\n"				/* 10 */
	"crypto map M 10 ipsec-isakmp dynamic D\n";				/* 11 */

/* ra_head, xauth_head, then tail from line 12. */
static void
run_xauth(const char *tail, struct ios_result *r)
{
	char text[2048];

	snprintf(text, sizeof(text), "%s%s", xauth_head, tail);
	run_ra(text, r);
}

static void
test_xauth_users(void **state)
{
	struct ios_result r;
	const struct ios_object *alice, *bob, *dyn;
	struct strbuf sb;

	run_xauth("username alice secret 0 Wonder-1\n"				/* 12 */
		  "username bob privilege 15 password has  two spaces\n"	/* 13 */
		  "username carol algorithm-type scrypt secret Carol-3\n"	/* 14 */
		  "username alice password 0 Wonder-2\n"			/* 15 */
		  "username bob autocommand show users\n", &r);			/* 16 */
	if (r.n_errors)
		dump(&r);
	assert_int_equal(r.n_errors, 0);
	assert_int_equal(count_kind(&r, IOS_LOCAL_USER), 3);
	assert_diag(&r, 15, IOS_NOTE, "username alice replaces the one of line 12");
	assert_diag(&r, 16, IOS_NOTE, "skipped, not crypto configuration: username");
	assert_non_null(alice = find_obj(&r, IOS_LOCAL_USER, 0));
	assert_string_equal(alice->path, "/object/localusers");
	assert_string_equal(str(alice->body, "name"), "alice");
	assert_string_equal(str(alice->body, "password"), "Wonder-2");
	assert_string_equal(str(alice->body, "type"), "localuser");
	assert_non_null(bob = find_obj(&r, IOS_LOCAL_USER, 1));
	assert_string_equal(str(bob->body, "password"), "has  two spaces");
	assert_string_equal(str(find_obj(&r, IOS_LOCAL_USER, 2)->body, "password"), "Carol-3");
	assert_non_null(dyn = find_obj(&r, IOS_DYNAMIC_MAP, 0));
	assert_true(json_is_true(json_object_get(dyn->body, "xauth")));
	/* users before the dynamic map that checks them */
	assert_true(alice < dyn);
	/* never shown */
	render(&r, &sb);
	assert_null(strstr(sb.data, "Wonder-"));
	assert_null(strstr(sb.data, "two spaces"));
	assert_non_null(strstr(sb.data, "\"password\": \"********\""));
	strbuf_free(&sb);
	ios_result_free(&r);

	/* no XAUTH: users are not crypto configuration, whatever their form */
	run_ra("username alice secret 5 $1$v5OP$mPuiEQn8ULa8hVMYVOVlD.\n"	/* 7 */
	       "username admin nopassword\n"					/* 8 */
	       "aaa authentication login L local\n"				/* 9 */
	       "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 7, IOS_NOTE, "username alice: skipped: no crypto map asks for XAUTH");
	assert_diag(&r, 8, IOS_NOTE, "username admin: skipped");
	assert_diag(&r, 9, IOS_NOTE, "aaa authentication login L is not used by a crypto map "
		    "(client authentication list): skipped");
	assert_int_equal(count_kind(&r, IOS_LOCAL_USER), 0);
	assert_true(json_is_false(json_object_get(find_obj(&r, IOS_DYNAMIC_MAP, 0)->body,
						  "xauth")));
	ios_result_free(&r);

	/* XAUTH without a username line: the users come through the API */
	run_xauth("", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 10, IOS_NOTE, "no username in this file; create the XAUTH users through "
		    "the API (POST /object/localusers)");
	ios_result_free(&r);
}

static void
test_xauth_refusals(void **state)
{
	static const struct { const char *user, *want; } users[] = {
		{ "username alice secret 5 $1$v5OP$mPuiEQn8ULa8hVMYVOVlD.\n",
		  "username alice secret 5: an encrypted password cannot be imported" },
		{ "username alice secret 9 $9$abc\n", "set it through the API (POST "
		  "/object/localusers)" },
		{ "username alice privilege 15 secret 8 $8$abc\n", "secret 8: an encrypted" },
		{ "username alice password 7 0822455D0A16\n", "username alice password 7: an "
		  "encrypted password cannot be imported" },
		{ "username alice nopassword\n", "username alice has no password, which XAUTH "
		  "needs" },
		{ "username alice secret\n", "has no password" },
	};
	char pw[CFG_PASSWORD_MAX + 40];
	struct ios_result r;
	struct strbuf sb;

	for (size_t i = 0; i < ARRAY_LEN(users); i++) {
		run_xauth(users[i].user, &r);
		assert_diag(&r, 12, IOS_ERROR, users[i].want);
		assert_int_equal(r.n_errors, 1);
		assert_int_equal(count_kind(&r, IOS_LOCAL_USER), 0);
		render(&r, &sb);
		assert_null(strstr(sb.data, "mPuiEQn8"));
		assert_null(strstr(sb.data, "0822455D"));
		strbuf_free(&sb);
		ios_result_free(&r);
	}
	snprintf(pw, sizeof(pw), "username u secret 0 %0*d\n", CFG_PASSWORD_MAX + 1, 7);
	run_xauth(pw, &r);
	assert_diag(&r, 12, IOS_ERROR, "username u: the password is longer than 128 characters");
	ios_result_free(&r);

	/* the list: defined, and local among its methods */
	run_ra("crypto map M client authentication list NOPE\n"		/* 7 */
	       "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 7, IOS_ERROR, "client authentication list NOPE: aaa authentication login "
		    "NOPE is not defined in this file");
	assert_int_equal(count_kind(&r, IOS_DYNAMIC_MAP), 0);
	ios_result_free(&r);
	run_ra("aaa authentication login L group radius\n"			/* 7 */
	       "crypto map M client authentication list L\n"
	       "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 7, IOS_ERROR, "aaa authentication login L group radius: the agent checks "
		    "XAUTH against its own users only");
	assert_int_equal(r.n_errors, 1);
	ios_result_free(&r);
	run_ra("aaa authentication login L group radius local\n"		/* 7 */
	       "crypto map M client authentication list L\n"
	       "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 7, IOS_NOTE, "only local is honoured; the agent has no AAA server (group "
		    "radius left out)");
	assert_true(json_is_true(json_object_get(find_obj(&r, IOS_DYNAMIC_MAP, 0)->body,
						 "xauth")));
	ios_result_free(&r);
	run_ra("aaa authentication login L\ncrypto map M client authentication list L\n"
	       "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 7, IOS_ERROR, "aaa authentication login L: no method");
	ios_result_free(&r);

	/* IOS asks no client with the wild-card key for XAUTH */
	run("crypto isakmp key k address 0.0.0.0 0.0.0.0 no-xauth\n"		/* 1 */
	    "crypto ipsec transform-set T esp-gcm\ncrypto dynamic-map D 1\n set transform-set T\n"
	    "aaa authentication login L local\n"
	    "crypto map M client authentication list L\n"			/* 6 */
	    "crypto map M 10 ipsec-isakmp dynamic D\n", &r);
	assert_diag(&r, 1, IOS_ERROR, "address 0.0.0.0 no-xauth: IOS asks no client with this key "
		    "for XAUTH, but crypto map M client authentication (line 6) asks");
	assert_int_equal(r.n_errors, 1);
	ios_result_free(&r);

	refused("crypto map M client authentication list\n", 1, "not supported (crypto map NAME "
		"client configuration address initiate|respond, crypto map NAME client "
		"authentication list LIST)");
	refused("crypto isakmp xauth timeout\n", 1, "crypto isakmp xauth: not supported");
	run("crypto isakmp xauth timeout 15\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_diag(&r, 1, IOS_NOTE, "crypto isakmp xauth timeout: ignored; the agent has no "
		    "setting for how long a client may take to answer XAUTH");
	ios_result_free(&r);
}

/* ---- GRE tunnel interfaces (R-17.3) ------------------------------------- */

/* Router 102's crypto map for its GRE, then its Tunnel interface (from
 * line 7). */
static const char gre_head[] =
	"crypto ipsec transform-set T esp-aes 256 esp-sha256-hmac\n"	/* 1 */
	" mode transport\n"						/* 2 */
	"crypto map M 10 ipsec-isakmp\n"				/* 3 */
	" set peer 20.1.1.1\n"						/* 4 */
	" set transform-set T\n"					/* 5 */
	" match address 101\n";						/* 6 */
static const char gre_acl[] = "access-list 101 permit gre host 20.1.1.2 host 20.1.1.1\n";

static void
test_tunnel_interface(void **state)
{
	static const char *const keys[] = { "name", "description", "address", "tunnelSource",
					    "tunnelDestination", "mtu", "shutdown", "type" };
	struct ios_result r;
	const struct ios_object *t;
	char text[2048];
	const char *key;
	json_t *v;
	size_t k = 0;

	snprintf(text, sizeof(text), "%s"
		 "interface Tunnel7\n"				/* 7 */
		 " description to router 101\n"
		 " ip address 10.10.10.2 255.255.255.252\n"
		 " ip mtu 1420\n"				/* 10 */
		 " tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.1.1\n"
		 " tunnel mode gre ip\n"
		 " no keepalive\n"
		 " shutdown\n"					/* 15 */
		 " crypto map M\n"
		 "%s", gre_head, gre_acl);
	run(text, &r);
	if (r.n_diags != 0)
		dump(&r);
	assert_int_equal(r.n_diags, 0);
	assert_non_null(t = find_obj(&r, IOS_TUNNEL_IF, 0));
	assert_ptr_equal(t, &r.objs[r.n_objs - 1]);	/* after the map that protects it */
	assert_string_equal(t->method, "POST");
	assert_string_equal(t->path, "/object/tunnelinterfaces");
	assert_int_equal(t->line, 7);
	assert_int_equal(t->n_refs, 0);
	json_object_foreach(t->body, key, v)
		assert_string_equal(key, keys[k++]);
	assert_int_equal(k, ARRAY_LEN(keys));
	assert_string_equal(str(t->body, "name"), "Tunnel7");
	assert_string_equal(str(t->body, "description"), "to router 101");
	assert_string_equal(str(t->body, "address"), "10.10.10.2/30");
	assert_string_equal(str(t->body, "tunnelSource"), "20.1.1.2");
	assert_string_equal(str(t->body, "tunnelDestination"), "20.1.1.1");
	assert_int_equal(integer(t->body, "mtu"), 1420);
	assert_true(json_is_true(json_object_get(t->body, "shutdown")));
	assert_string_equal(str(t->body, "type"), "tunnelinterface");
	ios_result_free(&r);

	/* the least: no ip mtu (the agent's 1400), not shut down, lines that
	 * lost their indentation, "interface tunnel 3" as typed */
	snprintf(text, sizeof(text), "%s"
		 "interface tunnel 3\n"
		 "ip address 10.10.10.1 255.255.255.255\n"
		 "tunnel source 20.1.1.2\n"
		 "tunnel destination 20.1.1.1\n"
		 "no shutdown\n"
		 "ip route 10.9.0.0 255.255.0.0 Tunnel3\n"	/* back to global */
		 "%s", gre_head, gre_acl);
	run(text, &r);
	assert_int_equal(r.n_errors, 0);
	assert_non_null(t = find_obj(&r, IOS_TUNNEL_IF, 0));
	assert_string_equal(str(t->body, "name"), "Tunnel3");
	assert_string_equal(str(t->body, "address"), "10.10.10.1/32");
	assert_null(json_object_get(t->body, "mtu"));
	assert_null(json_object_get(t->body, "description"));
	assert_true(json_is_false(json_object_get(t->body, "shutdown")));
	assert_diag(&r, 12, IOS_NOTE, "skipped, not crypto configuration: ip route");
	ios_result_free(&r);
}

/* tunnel source IFNAME: that interface's ip address, wherever it is. */
static void
test_tunnel_source_interface(void **state)
{
	struct ios_result r;
	const struct ios_object *t;
	char text[2048];

	snprintf(text, sizeof(text), "%s"
		 "interface Tunnel0\n"				/* 7 */
		 " ip address 10.10.10.2 255.255.255.252\n"
		 " tunnel source Ethernet0/0\n"			/* 9 */
		 " tunnel destination 20.1.1.1\n"
		 "interface Tunnel1\n"				/* 11 */
		 " ip address 10.10.11.2 255.255.255.252\n"
		 " tunnel source gi0/1.100\n"			/* 13: abbreviated */
		 " tunnel destination 20.1.2.1\n"
		 "interface ethernet 0/0\n"			/* 15 */
		 " ip address 20.1.1.9 255.255.255.0 secondary\n"
		 " ip address 20.1.1.2 255.255.255.0\n"
		 "interface GigabitEthernet0/1.100 point-to-point\n"
		 " ip address 20.1.2.2 255.255.255.0\n"
		 "%s", gre_head, gre_acl);
	run(text, &r);
	if (r.n_errors != 0)
		dump(&r);
	assert_int_equal(r.n_errors, 0);
	assert_non_null(t = find_obj(&r, IOS_TUNNEL_IF, 0));
	assert_string_equal(str(t->body, "tunnelSource"), "20.1.1.2");
	assert_non_null(t = find_obj(&r, IOS_TUNNEL_IF, 1));
	assert_string_equal(str(t->body, "tunnelSource"), "20.1.2.2");
	/* no crypto map line takes Tunnel1's GRE */
	assert_diag(&r, 11, IOS_NOTE, "interface Tunnel1: no crypto map of this file protects "
		    "its GRE (an access list line permit gre host 20.1.2.2 host 20.1.2.1): it "
		    "would leave unencrypted");
	assert_null(find_diag(&r, 7, IOS_NOTE, "protects"));
	/* the other interfaces stay skipped, in one note */
	assert_diag(&r, 15, IOS_NOTE, "lines 15-19 skipped, not crypto configuration: interface "
		    "ethernet, interface GigabitEthernet0/1.100");
	ios_result_free(&r);

	/* an interface that is not there, or has no address */
	snprintf(text, sizeof(text), "%s"
		 "interface Tunnel0\n"				/* 7 */
		 " ip address 10.10.10.2 255.255.255.252\n"
		 " tunnel source Loopback0\n"			/* 9 */
		 " tunnel destination 20.1.1.1\n"
		 "interface Tunnel1\n"				/* 11 */
		 " ip address 10.10.11.2 255.255.255.252\n"
		 " tunnel source Serial9/0\n"			/* 13 */
		 " tunnel destination 20.1.2.1\n"
		 "interface Loopback0\n"			/* 15 */
		 " ip address 20.1.3.3 255.255.255.255\n"
		 " no ip address\n"
		 "%s", gre_head, gre_acl);
	run(text, &r);
	assert_diag(&r, 9, IOS_ERROR, "tunnel source Loopback0: interface Loopback0 (line 15) has "
		    "no ip address in this file; write tunnel source A.B.C.D");
	assert_diag(&r, 13, IOS_ERROR, "tunnel source Serial9/0: interface Serial9/0 is not in "
		    "this file");
	assert_int_equal(r.n_errors, 2);
	assert_int_equal(count_kind(&r, IOS_TUNNEL_IF), 0);
	assert_int_equal(count_kind(&r, IOS_CRYPTO_MAP), 1);
	ios_result_free(&r);
}

/* One tunnel (line 7) with line 8 in it; the error is at line 8. */
static void
tunnel_refused(const char *line, const char *want)
{
	char text[2048];
	struct ios_result r;

	snprintf(text, sizeof(text), "%sinterface Tunnel0\n %s\n"
		 " ip address 10.10.10.2 255.255.255.252\n tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.1.1\n%s", gre_head, line, gre_acl);
	run(text, &r);
	assert_diag(&r, 8, IOS_ERROR, want);
	assert_int_equal(count_kind(&r, IOS_TUNNEL_IF), 0);
	ios_result_free(&r);
}

static void
test_tunnel_refusals(void **state)
{
	tunnel_refused("tunnel key 1234", "tunnel key: GRE keys (RFC 2890) are not supported; "
		       "remove the key on both routers");
	tunnel_refused("keepalive 10 3", "keepalive: GRE keepalives are not supported; DPD "
		       "(crypto isakmp keepalive) takes the tunnel interface down");
	tunnel_refused("keepalive", "GRE keepalives");
	tunnel_refused("tunnel protection ipsec profile P", "tunnel protection: not supported; "
		       "protect the tunnel with a crypto map whose access list permits gre host "
		       "SOURCE host DESTINATION");
	tunnel_refused("tunnel mode ipsec ipv4", "virtual tunnel interfaces are not supported");
	tunnel_refused("tunnel mode gre multipoint", "tunnel mode gre multipoint: not supported; "
		       "the agent's tunnel interfaces are GRE (tunnel mode gre ip");
	tunnel_refused("tunnel mode ipip", "not supported");
	tunnel_refused("tunnel checksum", "without checksums or sequence numbers");
	tunnel_refused("tunnel sequence-datagrams", "without checksums");
	tunnel_refused("tunnel vrf RED", "tunnel vrf: not supported in a tunnel interface");
	tunnel_refused("tunnel destination gw.example.net", "tunnel destination gw.example.net: "
		       "not an IPv4 address");
	tunnel_refused("ip unnumbered Loopback0", "ip unnumbered: not supported");
	tunnel_refused("ip address 10.0.0.1 255.255.255.0 secondary", "secondary");
	tunnel_refused("ip address dhcp", "expected ip address A.B.C.D MASK");
	tunnel_refused("ip address 10.0.0.1 255.0.255.0", "not a netmask");
	tunnel_refused("ip address 10.0.0.1 0.0.0.0", "not a netmask");
	tunnel_refused("ip mtu 1500", "ip mtu 1500: the agent takes 576 to 1476");
	tunnel_refused("ip mtu 575", "576 to 1476");
	tunnel_refused("ipv6 address 2001:db8::1/64", "ipv6 address: not supported in a tunnel interface");
	tunnel_refused("ip nhrp map 10.0.0.1 20.1.1.1", "not supported in a tunnel interface");
}

/* What the router or a routing protocol reads: a note, the tunnel is sent. */
static void
test_tunnel_ignored_lines(void **state)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "ip ospf cost 10", "ip ospf: not translated; the routing protocol runs on the "
		  "host, over the tunnel interface" },
		{ "ip rip send version 2", "ip rip: not translated" },
		{ "no ip split-horizon", "no ip split-horizon: not translated" },
		{ "bandwidth 1000", "bandwidth 1000: ignored on a tunnel interface" },
		{ "ip tcp adjust-mss 1360", "ip tcp adjust-mss: ignored" },
		{ "no ip redirects", "no ip redirects: ignored" },
		{ "no cdp enable", "ignored on a tunnel interface" },
		{ "tunnel path-mtu-discovery", "ignored; the tunnel interface keeps its ip mtu" },
	};
	char text[2048];

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct ios_result r;

		snprintf(text, sizeof(text), "%sinterface Tunnel0\n %s\n"
			 " ip address 10.10.10.2 255.255.255.252\n tunnel source 20.1.1.2\n"
			 " tunnel destination 20.1.1.1\n%s", gre_head, cases[i].line, gre_acl);
		run(text, &r);
		assert_int_equal(r.n_errors, 0);
		assert_diag(&r, 8, IOS_NOTE, cases[i].want);
		assert_int_equal(count_kind(&r, IOS_TUNNEL_IF), 1);
		ios_result_free(&r);
	}
}

/* The checks the API would make, at the line that set what they check. */
static void
test_tunnel_checks(void **state)
{
	struct ios_result r;
	char text[4096];

	snprintf(text, sizeof(text), "%s"
		 "interface Tunnel0\n"				/* 7 */
		 " ip address 10.10.10.2 255.255.255.252\n"	/* 8 */
		 " tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.1.1\n"		/* 10 */
		 "interface Tunnel1\n"				/* 11 */
		 " ip address 10.10.11.2 255.255.255.252\n"
		 " tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.1.1\n"		/* 14: the same ends */
		 "interface Tunnel2\n"				/* 15 */
		 " ip address 10.10.10.5 255.255.255.0\n"	/* 16: overlaps Tunnel0 */
		 " tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.3.1\n"
		 "interface Tunnel3\n"				/* 19 */
		 " ip address 10.10.13.0 255.255.255.252\n"	/* 20: the network */
		 " tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.4.1\n"
		 "interface Tunnel4\n"				/* 23 */
		 " ip address 10.10.14.2 255.255.255.252\n"
		 " tunnel source 20.1.5.1\n"
		 " tunnel destination 20.1.5.1\n"		/* 26: its own source */
		 "interface Tunnel5\n"				/* 27 */
		 " ip address 20.1.6.2 255.255.255.0\n"
		 " tunnel source 20.1.1.2\n"
		 " tunnel destination 20.1.6.1\n"		/* 30: inside its subnet */
		 "interface Tunnel6\n"				/* 31 */
		 " tunnel mode gre ip\n"
		 "interface Tunnel1000000000\n"			/* 33 */
		 " ip address 10.10.16.2 255.255.255.252\n"
		 "interface Tunnel0\n"				/* 35: the same one again */
		 " ip mtu 1400\n"
		 "%s", gre_head, gre_acl);
	run(text, &r);
	assert_diag(&r, 14, IOS_ERROR, "interface Tunnel1: interface Tunnel0 (line 7) runs from "
		    "20.1.1.2 to 20.1.1.1 too; GRE without keys cannot tell the two apart");
	assert_diag(&r, 16, IOS_ERROR, "ip address 10.10.10.5/24 overlaps interface Tunnel0 "
		    "(line 7)");
	assert_diag(&r, 20, IOS_ERROR, "ip address 10.10.13.0/30: not an address an interface can "
		    "have");
	assert_diag(&r, 26, IOS_ERROR, "tunnel destination 20.1.5.1: not a unicast address, or "
		    "the tunnel source itself");
	assert_diag(&r, 30, IOS_ERROR, "tunnel destination 20.1.6.1 is inside the tunnel's own "
		    "subnet (ip address 20.1.6.2/24): GRE to it would be routed into the tunnel");
	assert_diag(&r, 31, IOS_ERROR, "interface Tunnel6 has no ip address");
	assert_diag(&r, 31, IOS_ERROR, "interface Tunnel6 has no tunnel source");
	assert_diag(&r, 31, IOS_ERROR, "interface Tunnel6 has no tunnel destination");
	assert_diag(&r, 33, IOS_ERROR, "interface Tunnel1000000000: its device would be named "
		    "Tunnel1000000000, longer than the 15 characters of a Linux interface name");
	assert_int_equal(r.n_errors, 9);
	assert_int_equal(count_kind(&r, IOS_TUNNEL_IF), 1);
	assert_int_equal(integer(find_obj(&r, IOS_TUNNEL_IF, 0)->body, "mtu"), 1400);
	ios_result_free(&r);
}

/* ---- reading: skipped blocks, sub-modes, CRLF ---------------------------- */

static void
test_skipped_blocks(void **state)
{
	struct ios_result r;

	run("hostname gw\n"			/* 1 */
	    "!\n"
	    "interface GigabitEthernet0/1\n"	/* 3 */
	    " ip address 192.0.2.2 255.255.255.0\n"
	    " no shutdown\n"
	    " crypto map M\n"
	    "!\n"
	    "ip route 0.0.0.0 0.0.0.0 192.0.2.1\n"	/* 8 */
	    "crypto isakmp keepalive 10\n"	/* 9 */
	    "router ospf 1\n"			/* 10 */
	    "network 10.0.0.0 0.0.0.255 area 0\n"	/* unindented sub-line */
	    "\n"
	    "! a comment\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_int_equal(r.n_diags, 2);	/* one note per run, none per sub-line */
	assert_diag(&r, 1, IOS_NOTE, "lines 1-8 skipped, not crypto configuration: hostname, "
		    "interface GigabitEthernet0/1, ip route");
	assert_diag(&r, 10, IOS_NOTE, "lines 10-11 skipped, not crypto configuration: router "
		    "ospf");
	assert_int_equal(count_kind(&r, IOS_DPD), 1);
	ios_result_free(&r);
}

/* Documents lose the indentation: known sub-commands still belong to the
 * mode, anything else goes back to global config. */
static void
test_unindented_sub_commands(void **state)
{
	struct ios_result r;
	const struct ios_object *pol;

	run("crypto isakmp policy 1\nencryption aes 256\nhash sha256\nauthentication pre-share\n"
	    "group 14\ncrypto isakmp keepalive 10 periodic\n", &r);
	assert_int_equal(r.n_errors, 0);
	assert_non_null(pol = find_obj(&r, IOS_IKE_POLICY, 0));
	assert_string_equal(str(pol->body, "encryption"), "aes-256");
	assert_string_equal(str(find_obj(&r, IOS_DPD, 0)->body, "mode"), "PERIODIC");
	ios_result_free(&r);
}

/* The same configuration with LF, CRLF, tabs and trailing blanks gives the
 * same diagnostics at the same lines. */
static void
test_crlf_line_numbers(void **state)
{
	static const char lf[] =
		"crypto isakmp policy 1\n encryption des\n hash sha\n authentication pre-share\n"
		" group 14\n!\ncrypto ipsec transform-set T esp-aes esp-md5-hmac\n";
	static const char crlf[] =
		"crypto isakmp policy 1\r\n\tencryption des\r\n hash sha  \r\n authentication "
		"pre-share\r\n group 14\t\r\n!\r\ncrypto ipsec transform-set T esp-aes esp-md5-hmac\r\n";
	struct ios_result a, b;
	struct strbuf sa, sb;

	run(lf, &a);
	run(crlf, &b);
	assert_diag(&b, 2, IOS_ERROR, "encryption des: DES is insecure");
	assert_diag(&b, 7, IOS_ERROR, "esp-md5-hmac: MD5 is insecure");
	assert_int_equal(b.n_errors, 2);
	render(&a, &sa);
	render(&b, &sb);
	assert_string_equal(sa.data, sb.data);
	strbuf_free(&sa);
	strbuf_free(&sb);
	ios_result_free(&a);
	ios_result_free(&b);
}

/* ---- bounds: never crash, never grow without a cap ----------------------- */

static void
test_bounds(void **state)
{
	struct ios_result r;
	struct strbuf sb;
	char *big = xmalloc(IOS_LINE_MAX + 64);
	static const char bin[] = "crypto map \x01\xff\x80 1\n\x00\x00 set peer \x7f\n";
	static const char nuls[] = "hostname a\n\0\0\0\nhostname b\n";

	/* a crypto line longer than the cap is refused, not cut */
	snprintf(big, IOS_LINE_MAX + 64, "crypto isakmp key %0*d address 10.0.0.1\n",
		 IOS_LINE_MAX, 7);
	run(big, &r);
	assert_diag(&r, 1, IOS_ERROR, "longer than 1024 characters");
	assert_int_equal(r.n_objs, 0);
	ios_result_free(&r);
	free(big);

	/* errors beyond the cap are counted, then reading stops */
	strbuf_init(&sb, 1 << 20);
	for (int i = 0; i < IOS_DIAGS_MAX + 50; i++)
		strbuf_puts(&sb, "crypto isakmp identity fqdn\n");
	run(sb.data, &r);
	assert_int_equal(r.n_diags, IOS_DIAGS_MAX + 1);
	assert_diag(&r, IOS_DIAGS_MAX + 1, IOS_ERROR, "the rest of the file is not read");
	assert_true(r.n_errors > IOS_DIAGS_MAX);
	ios_result_free(&r);
	strbuf_free(&sb);

	/* control and non-ASCII bytes in a crypto line are refused with the column */
	ios_import(bin, sizeof(bin) - 1, "t.cfg", &r);
	assert_diag(&r, 1, IOS_ERROR, "column 12: not a printable ASCII character");
	ios_result_free(&r);

	/* a line of NUL bytes is blank (it once looped in the skipped-lines note) */
	ios_import(nuls, sizeof(nuls) - 1, "t.cfg", &r);
	assert_int_equal(r.n_diags, 1);
	assert_diag(&r, 1, IOS_NOTE, "lines 1-3 skipped, not crypto configuration: hostname");
	ios_result_free(&r);

	/* over the size cap: nothing read */
	ios_import("", (size_t)IOS_TEXT_MAX + 1, "t.cfg", &r);
	assert_diag(&r, 0, IOS_ERROR, "larger than");
	assert_int_equal(r.n_objs, 0);
	ios_result_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_site_a),
		cmocka_unit_test(test_golden_dpd_periodic),
		cmocka_unit_test(test_golden_ipsec_gre_rsa),
		cmocka_unit_test(test_golden_ipsec_gre_modern),
		cmocka_unit_test(test_golden_site_rsa_sig),
		cmocka_unit_test(test_golden_vpnclient),
		cmocka_unit_test(test_golden_vpnclient_modern),
		cmocka_unit_test(test_golden_vpnclient_xauth),
		cmocka_unit_test(test_golden_vpnclient_push_only),
		cmocka_unit_test(test_translation_fields),
		cmocka_unit_test(test_wildcard_to_cidr),
		cmocka_unit_test(test_acl_refusals),
		cmocka_unit_test(test_acl_protocols),
		cmocka_unit_test(test_acl_line_shape),
		cmocka_unit_test(test_unused_acl_is_a_note),
		cmocka_unit_test(test_map_references),
		cmocka_unit_test(test_policy_refusals),
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_transform_refusals),
		cmocka_unit_test(test_transport_mode),
		cmocka_unit_test(test_policy_cap),
		cmocka_unit_test(test_crypto_refusals),
		cmocka_unit_test(test_key_never_shown),
		cmocka_unit_test(test_signature_policies),
		cmocka_unit_test(test_trustpoints),
		cmocka_unit_test(test_certificate_chains),
		cmocka_unit_test(test_dynamic_map_fields),
		cmocka_unit_test(test_client_configuration),
		cmocka_unit_test(test_client_configuration_refusals),
		cmocka_unit_test(test_pool_refusals),
		cmocka_unit_test(test_pool_forms),
		cmocka_unit_test(test_dynamic_map_refusals),
		cmocka_unit_test(test_dynamic_map_entries),
		cmocka_unit_test(test_dynamic_map_cap),
		cmocka_unit_test(test_xauth_users),
		cmocka_unit_test(test_xauth_refusals),
		cmocka_unit_test(test_tunnel_interface),
		cmocka_unit_test(test_tunnel_source_interface),
		cmocka_unit_test(test_tunnel_refusals),
		cmocka_unit_test(test_tunnel_ignored_lines),
		cmocka_unit_test(test_tunnel_checks),
		cmocka_unit_test(test_skipped_blocks),
		cmocka_unit_test(test_unindented_sub_commands),
		cmocka_unit_test(test_crlf_line_numbers),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
