/*
 * vpnctl's show renderers (agent/cli/show_crypto.c, show_interfaces.c) on
 * fixed API answers (tests/golden/show/input.json: two maps, one peer DOWN, a
 * UDP-encapsulated tunnel-mode SA and a transport-mode one; GRE tunnel
 * interfaces up, down and administratively down), compared
 * exactly with tests/golden/show/NAME.txt. UPDATE_GOLDEN=1 rewrites a golden
 * file from the output (and still fails, so it is reviewed before use).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli/vpnctl.h"
#include "core/util.h"

#define GOLDEN_DIR "tests/golden/show/"
#define GOLDEN_MAX (1024 * 1024)

static json_t *input;	/* the API answers: ikesas, ipsecsas, tunnels, ... */

static json_t *
view(const char *name)
{
	json_t *v = json_object_get(input, name);

	assert_non_null(v);
	return v;
}

/* ---- capturing a renderer's text ---------------------------------------- */

struct capture {
	FILE  *f;
	char  *text;
	size_t len;
};

static FILE *
capture_begin(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
	return c->f;
}

static char *
capture_end(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->text;
}

/* The first line where got and want differ, for a readable failure. */
static void
report_difference(const char *name, const char *got, const char *want)
{
	int line = 1;
	const char *g = got, *w = want;

	while (*g && *g == *w) {
		if (*g == '\n')
			line++;
		g++, w++;
	}
	while (g > got && g[-1] != '\n')
		g--, w--;
	print_error("%s differs at line %d:\n got: %.*s\nwant: %.*s\n--- whole output ---\n%s",
		    name, line, (int)strcspn(g, "\n"), g, (int)strcspn(w, "\n"), w, got);
}

static void
assert_golden(const char *name, const char *got)
{
	char path[256], *want = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s.txt", name);
	if (getenv("UPDATE_GOLDEN") != NULL) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		fail_msg("%s rewritten: review it, then run again without UPDATE_GOLDEN", path);
	}
	if (file_read_all(path, GOLDEN_MAX, &want, &len) == -1)
		fail_msg("cannot read %s (run from the repository root)", path);
	if (strcmp(got, want) != 0) {
		report_difference(path, got, want);
		free(want);
		fail();
	}
	free(want);
}

static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);

	if (j == NULL)
		fail_msg("bad test JSON: %s", err.text);
	return j;
}

/* ---- show crypto isakmp sa [detail] ------------------------------------- */

static void
isakmp_sa(void **state)
{
	struct capture c;

	show_isakmp_sa(capture_begin(&c), view("ikesas"), 0);
	assert_golden("isakmp-sa", capture_end(&c));
	free(c.text);
}

static void
isakmp_sa_detail(void **state)
{
	struct capture c;

	show_isakmp_sa(capture_begin(&c), view("ikesas"), 1);
	assert_golden("isakmp-sa-detail", capture_end(&c));
	free(c.text);
}

/* Every IOS state the engine reports has its status; an SA being deleted
 * is not shown as ACTIVE; a value the agent left out prints as "-". */
static void
isakmp_sa_states_and_missing_values(void **state)
{
	json_t *sas = parse("{\"items\": ["
			    "{\"dst\": \"192.0.2.7\", \"src\": \"192.0.2.1\", \"state\": \"MM_KEY_EXCH\"},"
			    "{\"dst\": \"192.0.2.8\", \"src\": \"192.0.2.1\", \"state\": \"MM_NO_STATE\"},"
			    "{\"dst\": \"192.0.2.9\"}]}");
	struct capture c;
	char *text;

	show_isakmp_sa(capture_begin(&c), sas, 0);
	text = capture_end(&c);
	assert_non_null(strstr(text, "192.0.2.7       192.0.2.1       MM_KEY_EXCH          - ACTIVE\n"));
	assert_non_null(strstr(text, "192.0.2.8       192.0.2.1       MM_NO_STATE          - DELETED\n"));
	assert_non_null(strstr(text, "192.0.2.9       -               -                    - -\n"));
	free(text);

	show_isakmp_sa(capture_begin(&c), sas, 1);
	text = capture_end(&c);
	/* no lifetime while negotiating, no group, no capabilities: "-" or blank */
	assert_non_null(strstr(text, "\n-     192.0.2.1       192.0.2.7              ACTIVE  -       "
				"-      -    -  -        \n"));
	free(text);
	json_decref(sas);
}

static void
isakmp_sa_empty(void **state)
{
	json_t *none = parse("{\"items\": []}");
	struct capture c;
	char *text;

	show_isakmp_sa(capture_begin(&c), none, 0);
	text = capture_end(&c);
	assert_string_equal(text, "IPv4 Crypto ISAKMP SA\n"
			    "dst             src             state          conn-id status\n"
			    "\nIPv6 Crypto ISAKMP SA\n\n");
	free(text);
	json_decref(none);
}

/* ---- show crypto ipsec sa [peer A.B.C.D] -------------------------------- */

static void
ipsec_sa(void **state)
{
	struct capture c;

	assert_int_equal(show_ipsec_sa(capture_begin(&c), view("ipsecsas"), view("ikesas"), NULL),
			 4);	/* two crypto map pairs, two remote-access clients' */
	assert_golden("ipsec-sa", capture_end(&c));
	free(c.text);
}

static void
ipsec_sa_peer(void **state)
{
	struct capture c;
	char *text;

	assert_int_equal(show_ipsec_sa(capture_begin(&c), view("ipsecsas"), view("ikesas"),
				       "203.0.113.5"), 1);
	text = capture_end(&c);
	assert_golden("ipsec-sa-peer", text);
	assert_null(strstr(text, "192.0.2.2"));
	free(text);
}

static void
ipsec_sa_unknown_peer(void **state)
{
	struct capture c;
	char *text;

	assert_int_equal(show_ipsec_sa(capture_begin(&c), view("ipsecsas"), view("ikesas"),
				       "198.51.100.2"), 0);
	text = capture_end(&c);
	assert_string_equal(text, "No IPsec SAs with peer 198.51.100.2.\n");
	free(text);
}

/* Without an IKE SA the local endpoint is unknown: "-", never guessed;
 * the volume lifetime left counts the larger direction. */
static void
ipsec_sa_without_ike_sa(void **state)
{
	json_t *sas = parse("{\"items\": [{\"peer\": \"192.0.2.2\", \"interface\": \"tun7\","
			    "\"inboundSpi\": \"0x00000101\", \"outboundSpi\": \"0x00000202\","
			    "\"lifetimeKilobytes\": 10, \"bytesEncaps\": 1024, \"bytesDecaps\": 4097,"
			    "\"lifetimeLeftSeconds\": -3}]}");
	json_t *none = parse("{\"items\": []}");
	struct capture c;
	char *text;

	assert_int_equal(show_ipsec_sa(capture_begin(&c), sas, none, NULL), 1);
	text = capture_end(&c);
	assert_non_null(strstr(text, "\ninterface: tun7\n    Crypto map tag: -, local addr -\n"));
	assert_non_null(strstr(text, "local crypto endpt.: -, remote crypto endpt.: 192.0.2.2\n"));
	assert_non_null(strstr(text, "current outbound spi: 0x00000202(514)\n"));
	assert_non_null(strstr(text, "spi: 0x00000101(257)\n"));
	assert_non_null(strstr(text, "#pkts encaps: -, #pkts encrypt: -, #pkts digest: -\n"));
	assert_non_null(strstr(text, "(k/sec): (5/0)\n"));	/* 10 KB - 4097 B; expired */
	free(text);
	json_decref(sas);
	json_decref(none);
}

/* ---- show crypto session ------------------------------------------------ */

static void
crypto_session(void **state)
{
	struct capture c;

	show_crypto_session(capture_begin(&c), view("tunnels"), view("ikesas"), view("ipsecsas"),
			    view("cryptomaps"), view("dynamiccryptomaps"));
	assert_golden("session", capture_end(&c));
	free(c.text);
}

static const char *
session_of(const char *text, const char *peer, char *out, size_t size)
{
	char key[64];
	const char *p, *start, *end;

	snprintf(key, sizeof(key), "Peer: %s port", peer);
	assert_non_null(p = strstr(text, key));
	start = p;
	while (start > text && !(start[-1] == '\n' && strncmp(start, "Interface:", 10) == 0))
		start--;
	end = strstr(p, "\n\n");
	assert_non_null(end);
	snprintf(out, size, "%.*s", (int)(end - start), start);
	return out;
}

/* IOS's session states from the SAs a peer has; a peer with SAs that no
 * crypto map names is listed too. */
static void
crypto_session_states(void **state)
{
	json_t *tunnels = parse("{\"items\": ["
				"{\"cryptoMap\": \"M\", \"sequence\": 1, \"peer\": \"192.0.2.7\"},"
				"{\"cryptoMap\": \"M\", \"sequence\": 1, \"peer\": \"192.0.2.8\"}]}");
	json_t *ike = parse("{\"items\": ["
			    "{\"dst\": \"192.0.2.7\", \"src\": \"192.0.2.1\", \"dstPort\": 500,"
			    " \"srcPort\": 500, \"state\": \"MM_KEY_EXCH\"},"
			    "{\"dst\": \"192.0.2.8\", \"src\": \"192.0.2.1\", \"dstPort\": 4500,"
			    " \"srcPort\": 4500, \"state\": \"QM_IDLE\"}]}");
	json_t *ipsec = parse("{\"items\": [{\"peer\": \"192.0.2.9\", \"peerPort\": 4500,"
			      " \"interface\": \"vpn0\", \"localIdent\": \"10.9.0.0/255.255.0.0\","
			      " \"remoteIdent\": \"10.8.0.0/255.255.0.0\"}]}");
	json_t *maps = parse("{\"items\": []}");
	struct capture c;
	char *text, s[1024];

	show_crypto_session(capture_begin(&c), tunnels, ike, ipsec, maps, NULL);
	text = capture_end(&c);
	assert_string_equal(session_of(text, "192.0.2.7", s, sizeof(s)),
			    "Interface: vpn0\nSession status: DOWN-NEGOTIATING\n"
			    "Peer: 192.0.2.7 port 500\n"
			    "  IKE SA: local 192.0.2.1/500 remote 192.0.2.7/500 Inactive");
	assert_string_equal(session_of(text, "192.0.2.8", s, sizeof(s)),
			    "Interface: vpn0\nSession status: UP-IDLE\nPeer: 192.0.2.8 port 4500\n"
			    "  IKE SA: local 192.0.2.1/4500 remote 192.0.2.8/4500 Active");
	assert_string_equal(session_of(text, "192.0.2.9", s, sizeof(s)),
			    "Interface: vpn0\nSession status: UP-NO-IKE\nPeer: 192.0.2.9 port 4500\n"
			    "  IPSEC FLOW: permit ip 10.9.0.0/255.255.0.0 10.8.0.0/255.255.0.0\n"
			    "        Active SAs: 2, origin: crypto map");
	free(text);
	json_decref(tunnels);
	json_decref(ike);
	json_decref(ipsec);
	json_decref(maps);
}

static void
crypto_session_empty(void **state)
{
	json_t *none = parse("{\"items\": []}");
	struct capture c;
	char *text;

	show_crypto_session(capture_begin(&c), none, none, none, none, none);
	text = capture_end(&c);
	assert_string_equal(text, "Crypto session current status\n\n");
	free(text);
	json_decref(none);
}

/* ---- show crypto isakmp keepalive --------------------------------------- */

static void
keepalive(void **state)
{
	struct capture c;

	show_isakmp_keepalive(capture_begin(&c), view("dpd"), view("tunnels"));
	assert_golden("keepalive", capture_end(&c));
	free(c.text);
}

/* ---- show ip local pool -------------------------------------------------- */

static void
ip_local_pool(void **state)
{
	struct capture c;

	show_ip_local_pool(capture_begin(&c), view("ippools"));
	assert_golden("ip-local-pool", capture_end(&c));
	free(c.text);
}

/* ---- show crypto isakmp stats ------------------------------------------- */

static void
isakmp_stats(void **state)
{
	struct capture c;

	show_isakmp_stats(capture_begin(&c), view("ikestatistics"));
	assert_golden("isakmp-stats", capture_end(&c));
	free(c.text);
}

static void
keepalive_modes(void **state)
{
	json_t *off = parse("{\"keepaliveSeconds\": 0, \"retrySeconds\": 2, \"retries\": 5,"
			    " \"mode\": \"ON_DEMAND\"}");
	json_t *od = parse("{\"keepaliveSeconds\": 30, \"retrySeconds\": 3, \"retries\": 4,"
			   " \"mode\": \"ON_DEMAND\"}");
	json_t *none = parse("{\"items\": []}");
	const char *on_demand = "DPD: keepalive 30 s, retry 3 s, retries 4, mode on-demand "
		"(crypto isakmp keepalive 30 3 on-demand)\n"
		"  a peer silent for 30 s is probed, only while there is traffic for it,"
		" every 3 s; dead after 4 unanswered probes\n";
	struct capture c;
	char *text;

	show_isakmp_keepalive(capture_begin(&c), off, none);
	text = capture_end(&c);
	assert_true(strncmp(text, "DPD: off (no crypto isakmp keepalive)", 37) == 0);
	assert_null(strstr(text, "crypto isakmp keepalive 0"));
	free(text);

	show_isakmp_keepalive(capture_begin(&c), od, none);
	text = capture_end(&c);
	assert_true(strncmp(text, on_demand, strlen(on_demand)) == 0);
	free(text);
	json_decref(off);
	json_decref(od);
	json_decref(none);
}

/* ---- clear crypto session ----------------------------------------------- */

static void
cleared(void **state)
{
	json_t *one = parse("{\"cleared\": 1}"), *three = parse("{\"cleared\": 3}");
	json_t *odd = parse("{}");
	struct capture c;
	char *text;

	show_cleared(capture_begin(&c), one, "192.0.2.2");
	text = capture_end(&c);
	assert_string_equal(text, "1 crypto session cleared with 192.0.2.2\n");
	free(text);
	show_cleared(capture_begin(&c), three, NULL);
	text = capture_end(&c);
	assert_string_equal(text, "3 crypto sessions cleared\n");
	free(text);
	show_cleared(capture_begin(&c), odd, NULL);
	text = capture_end(&c);
	assert_string_equal(text, "The agent did not say how many sessions it cleared.\n");
	free(text);
	json_decref(one);
	json_decref(three);
	json_decref(odd);
}

/* ---- show interfaces tunnel [NAME] --------------------------------------- */

/* The text on out and on err of one call, and what it returned. */
struct tunnel_ifs_call {
	int   shown;
	char *out, *err;
};

static void
tunnel_ifs(json_t *ifs, const char *name, struct tunnel_ifs_call *r)
{
	struct capture out, err;

	capture_begin(&out);
	capture_begin(&err);
	r->shown = show_interfaces_tunnel(out.f, err.f, ifs, name);
	r->out = capture_end(&out);
	r->err = capture_end(&err);
}

static void
tunnel_ifs_free(struct tunnel_ifs_call *r)
{
	free(r->out);
	free(r->err);
}

/* up, down (no IPsec SA for its GRE) and administratively down (shutdown),
 * as IOS words the interface and its line protocol */
static void
interfaces_tunnel(void **state)
{
	struct tunnel_ifs_call r;

	tunnel_ifs(view("tunnelinterfaces"), NULL, &r);
	assert_int_equal(r.shown, 3);
	assert_string_equal(r.err, "");
	assert_golden("interfaces-tunnel", r.out);
	tunnel_ifs_free(&r);
}

static void
interfaces_tunnel_by_name(void **state)
{
	static const struct {
		const char *name, *first_line;
	} cases[] = {
		{ .name = "Tunnel1", .first_line = "Tunnel1 is up, line protocol is down\n" },
		{ .name = "Tunnel2",
		  .first_line = "Tunnel2 is administratively down, line protocol is down\n" },
		{ .name = "tunnel0", .first_line = "Tunnel0 is up, line protocol is up\n" },
		{ .name = "2", .first_line = "Tunnel2 is administratively down, line protocol is "
		  "down\n" },	/* IOS's `show interfaces tunnel 2` */
	};
	struct tunnel_ifs_call r;

	tunnel_ifs(view("tunnelinterfaces"), "Tunnel0", &r);
	assert_int_equal(r.shown, 1);
	assert_string_equal(r.err, "");
	assert_golden("interfaces-tunnel0", r.out);
	tunnel_ifs_free(&r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tunnel_ifs(view("tunnelinterfaces"), cases[i].name, &r);
		assert_int_equal(r.shown, 1);
		assert_true(strncmp(r.out, cases[i].first_line, strlen(cases[i].first_line)) == 0);
		assert_null(strstr(r.out + 1, "\nTunnel"));	/* that one only */
		assert_string_equal(r.err, "");
		tunnel_ifs_free(&r);
	}
}

/* A NAME the agent does not have: nothing on out, the error and the names
 * it has on err, 0 shown (vpnctl exits 1). */
static void
interfaces_tunnel_unknown_name(void **state)
{
	json_t *none = parse("{\"items\": []}");
	struct tunnel_ifs_call r;

	tunnel_ifs(view("tunnelinterfaces"), "Tunnel9", &r);
	assert_int_equal(r.shown, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "vpnctl: no tunnel interface \"Tunnel9\" (the agent has "
			    "Tunnel0, Tunnel1, Tunnel2)\n");
	tunnel_ifs_free(&r);

	tunnel_ifs(none, "Tunnel0", &r);
	assert_int_equal(r.shown, 0);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "vpnctl: no tunnel interface \"Tunnel0\" (the agent has "
			    "none)\n");
	tunnel_ifs_free(&r);

	/* without NAME, none is no error */
	tunnel_ifs(none, NULL, &r);
	assert_int_equal(r.shown, 0);
	assert_string_equal(r.out, "No tunnel interfaces.\n");
	assert_string_equal(r.err, "");
	tunnel_ifs_free(&r);
	json_decref(none);
}

/* Names that differ only in case: the exact one wins; IOS's leniency
 * (any case) applies only when none is exact, and then shows all. */
static void
interfaces_tunnel_exact_name_first(void **state)
{
	json_t *ifs = parse("{\"items\": [{\"name\": \"tunnel0\", \"state\": \"up\"},"
			    "{\"name\": \"Tunnel0\", \"state\": \"down\"}]}");
	struct tunnel_ifs_call r;

	tunnel_ifs(ifs, "tunnel0", &r);
	assert_int_equal(r.shown, 1);
	assert_true(strncmp(r.out, "tunnel0 is up, line protocol is up\n", 35) == 0);
	tunnel_ifs_free(&r);
	tunnel_ifs(ifs, "TUNNEL0", &r);
	assert_int_equal(r.shown, 2);
	tunnel_ifs_free(&r);
	json_decref(ifs);
}

/* A state this vpnctl does not know and values the agent left out: "-". */
static void
interfaces_tunnel_missing_values(void **state)
{
	json_t *ifs = parse("{\"items\": [{\"name\": \"Tunnel5\", \"state\": \"testing\"}]}");
	struct tunnel_ifs_call r;

	tunnel_ifs(ifs, NULL, &r);
	assert_int_equal(r.shown, 1);
	assert_string_equal(r.out,
			    "Tunnel5 is -, line protocol is -\n"
			    "  Hardware is Tunnel\n"
			    "  Internet address is -\n"
			    "  MTU - bytes\n"
			    "  Tunnel source -, destination -\n"
			    "  Tunnel protocol/transport GRE/IP\n"
			    "  Tunnel protection: crypto map (transport-mode ESP for permit gre)\n"
			    "     - packets input, - bytes, - malformed, - input errors\n"
			    "     - packets output, - bytes, - no IPsec SA, - output errors\n");
	tunnel_ifs_free(&r);
	json_decref(ifs);
}

/* --json with NAME: the answer's shape with that item only. */
static void
interfaces_tunnel_select(void **state)
{
	json_t *all = tunnel_ifs_select(view("tunnelinterfaces"), NULL);
	json_t *one = tunnel_ifs_select(view("tunnelinterfaces"), "Tunnel1");
	json_t *none = tunnel_ifs_select(view("tunnelinterfaces"), "Tunnel9");

	assert_int_equal(json_array_size(all), 3);
	assert_int_equal(json_array_size(one), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(one, 0), "id")),
			    "7d2e51c9-0000-4000-8000-000000000002");
	assert_int_equal(json_array_size(none), 0);
	json_decref(all);
	json_decref(one);
	json_decref(none);
}

static int
load_input(void **state)
{
	json_error_t err;

	input = json_load_file(GOLDEN_DIR "input.json", 0, &err);
	if (input == NULL)
		print_error("cannot load " GOLDEN_DIR "input.json (run from the repository "
			    "root): %s\n", err.text);
	return input == NULL ? -1 : 0;
}

static int
free_input(void **state)
{
	json_decref(input);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(isakmp_sa),
		cmocka_unit_test(isakmp_sa_detail),
		cmocka_unit_test(isakmp_sa_states_and_missing_values),
		cmocka_unit_test(isakmp_sa_empty),
		cmocka_unit_test(ipsec_sa),
		cmocka_unit_test(ipsec_sa_peer),
		cmocka_unit_test(ipsec_sa_unknown_peer),
		cmocka_unit_test(ipsec_sa_without_ike_sa),
		cmocka_unit_test(crypto_session),
		cmocka_unit_test(crypto_session_states),
		cmocka_unit_test(crypto_session_empty),
		cmocka_unit_test(keepalive),
		cmocka_unit_test(ip_local_pool),
		cmocka_unit_test(keepalive_modes),
		cmocka_unit_test(isakmp_stats),
		cmocka_unit_test(cleared),
		cmocka_unit_test(interfaces_tunnel),
		cmocka_unit_test(interfaces_tunnel_by_name),
		cmocka_unit_test(interfaces_tunnel_unknown_name),
		cmocka_unit_test(interfaces_tunnel_exact_name_first),
		cmocka_unit_test(interfaces_tunnel_missing_values),
		cmocka_unit_test(interfaces_tunnel_select),
	};

	return cmocka_run_group_tests(tests, load_input, free_input);
}
