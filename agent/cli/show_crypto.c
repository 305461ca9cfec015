/*
 * The text of `vpnctl show crypto ...` and `clear crypto session`: pure
 * functions from the API's parsed answers to the layouts IOS engineers
 * read (show crypto isakmp sa [detail], ipsec sa, session) plus our own
 * DPD table. No I/O but the FILE given, so unit tests compare the text
 * with golden files. A value the agent does not report prints as "-".
 */
#include "cli/vpnctl.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define IKE_START_PORT 500	/* where IKE starts before NAT-T floats it */

/* ---- reading the items -------------------------------------------------- */

static const char *
str_or(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static const char *
str(json_t *o, const char *key)
{
	return str_or(o, key, "-");
}

static int
num(json_t *o, const char *key, long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return 0;
	*out = (long long)json_integer_value(v);
	return 1;
}

/* An integer as text, "-" when the agent did not give one. */
static const char *
num_str(json_t *o, const char *key, char buf[static 24])
{
	long long n;

	if (!num(o, key, &n))
		return "-";
	snprintf(buf, 24, "%lld", n);
	return buf;
}

static long long
num_or0(json_t *o, const char *key)
{
	long long n = 0;

	num(o, key, &n);
	return n;
}

static json_t *
items_of(json_t *root)
{
	return json_object_get(root, "items");	/* NULL iterates as empty */
}

static void
index_add(json_t *index, const char *key, json_t *item)
{
	json_t *list = json_object_get(index, key);

	if (list == NULL) {
		list = json_array();
		json_object_set_new(index, key, list);
	}
	json_array_append(list, item);
}

/* {peer: [items...]} over the items of one view, by the key naming the
 * peer ("dst" for IKE SAs, "peer" elsewhere), and each item also under
 * "peer:port" with port_key ("dstPort", "peerPort"; NULL: none): the
 * remote-access clients behind one NAT share the address. The caller
 * decrefs. */
static json_t *
by_peer(json_t *root, const char *key, const char *port_key)
{
	json_t *index = json_object(), *item;
	char both[40];
	long long port;
	size_t i;

	json_array_foreach(items_of(root), i, item) {
		const char *peer = json_string_value(json_object_get(item, key));

		if (peer == NULL)
			continue;
		index_add(index, peer, item);
		if (port_key != NULL && num(item, port_key, &port)) {
			snprintf(both, sizeof(both), "%s:%lld", peer, port);
			index_add(index, both, item);
		}
	}
	return index;
}

/* ---- show crypto isakmp sa [detail] ------------------------------------- */

/* The engine names ISAKMP SA states as IOS does; the status column says
 * whether the SA is in use (IOS shows ACTIVE while negotiating too). */
static const struct {
	const char *state, *status, *session;
} ike_states[] = {
	{ "QM_IDLE", "ACTIVE", "Active" },
	{ "MM_SA_SETUP", "ACTIVE", "Inactive" },
	{ "MM_KEY_EXCH", "ACTIVE", "Inactive" },
	{ "MM_NO_STATE", "DELETED", "Inactive" },	/* being deleted */
};

static int
ike_state_index(const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(ike_states); i++)
		if (state != NULL && strcmp(ike_states[i].state, state) == 0)
			return (int)i;
	return -1;
}

static const char *
ike_status(const char *state)
{
	int i = ike_state_index(state);

	return i < 0 ? "-" : ike_states[i].status;
}

static int
ike_established(json_t *sa)
{
	return strcmp(str(sa, "state"), "QM_IDLE") == 0;
}

static int
ike_negotiating(json_t *sa)
{
	const char *s = str(sa, "state");

	return ike_state_index(s) >= 0 && !ike_established(sa) && strcmp(s, "MM_NO_STATE") != 0;
}

static const char *
hms(json_t *o, const char *key, char buf[static 24])
{
	long long s;

	if (!num(o, key, &s) || s < 0)
		return "-";
	snprintf(buf, 24, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	return buf;
}

static void
isakmp_brief(FILE *out, json_t *sas)
{
	json_t *sa;
	size_t i;

	fprintf(out, "IPv4 Crypto ISAKMP SA\n");
	fprintf(out, "%-15s %-15s %-14s %7s %s\n", "dst", "src", "state", "conn-id", "status");
	json_array_foreach(items_of(sas), i, sa)
		fprintf(out, "%-15s %-15s %-14s %7s %s\n", str(sa, "dst"), str(sa, "src"),
			str(sa, "state"), "-", ike_status(json_string_value(json_object_get(sa,
			"state"))));
}

static void
isakmp_detail(FILE *out, json_t *sas)
{
	char life[24], dh[24];
	json_t *sa;
	size_t i;

	fprintf(out, "Codes: D - Dead Peer Detection, N - NAT-traversal\n"
		"       psk - Preshared key\n");
	fprintf(out, "IPv4 Crypto ISAKMP SA\n\n");
	fprintf(out, "%-5s %-15s %-15s %-6s %-7s %-7s %-6s %-4s %-2s %-8s %s\n", "C-id", "Local",
		"Remote", "I-VRF", "Status", "Encr", "Hash", "Auth", "DH", "Lifetime", "Cap.");
	json_array_foreach(items_of(sas), i, sa) {
		fprintf(out, "\n%-5s %-15s %-15s %-6s %-7s %-7s %-6s %-4s %-2s %-8s %s\n", "-",
			str(sa, "src"), str(sa, "dst"), "", ike_status(json_string_value(
			json_object_get(sa, "state"))), str(sa, "encryption"), str(sa, "hash"),
			str(sa, "authentication"), num_str(sa, "group", dh),
			hms(sa, "lifetimeLeftSeconds", life), str_or(sa, "capabilities", ""));
		fprintf(out, "      Engine-id:Conn-id = SW:-\n");
	}
}

void
show_isakmp_sa(FILE *out, json_t *ikesas, int detail)
{
	if (detail)
		isakmp_detail(out, ikesas);
	else
		isakmp_brief(out, ikesas);
	fprintf(out, "\nIPv6 Crypto ISAKMP SA\n\n");
}

/* ---- show crypto ipsec sa [peer A.B.C.D] -------------------------------- */

/* "0x0000ABCD" → "0x0000ABCD(43981)", as IOS prints an SPI. */
static void
spi_print(FILE *out, const char *spi)
{
	char *end = NULL;
	unsigned long v = 0;

	if (strncmp(spi, "0x", 2) == 0)
		v = strtoul(spi + 2, &end, 16);
	if (end == NULL || end == spi + 2 || *end != '\0')
		fprintf(out, "%s", spi);
	else
		fprintf(out, "%s(%lu)", spi, v);
}

/* Kilobytes left of the volume lifetime: the dataplane counts the larger
 * direction's plaintext bytes against it (README, ESP dataplane). */
static const char *
kb_left(json_t *sa, char buf[static 24])
{
	long long kb, in = num_or0(sa, "bytesDecaps"), out = num_or0(sa, "bytesEncaps");
	unsigned long long limit, used = (unsigned long long)(in > out ? in : out);

	if (!num(sa, "lifetimeKilobytes", &kb) || kb <= 0)
		return "-";
	limit = (unsigned long long)kb * 1024;
	snprintf(buf, 24, "%llu", used >= limit ? 0 : (limit - used) / 1024);
	return buf;
}

static void
esp_sas(FILE *out, json_t *sa, const char *dir, const char *spi_key)
{
	json_t *udp = json_object_get(sa, "udpEncapsulated");
	const char *mode = str(sa, "mode");
	char kb[24], secs[24];
	long long left;

	fprintf(out, "     %s esp sas:\n      spi: ", dir);
	spi_print(out, str(sa, spi_key));
	fprintf(out, "\n        transform: %s ,\n", str(sa, "transform"));
	fprintf(out, "        in use settings ={%s%s, }\n", strcmp(mode, "tunnel") == 0 ? "Tunnel" :
		strcmp(mode, "transport") == 0 ? "Transport" : mode,
		json_is_true(udp) ? " UDP-Encaps" : "");
	fprintf(out, "        crypto map: %s\n", str(sa, "cryptoMap"));
	if (num(sa, "lifetimeLeftSeconds", &left))
		snprintf(secs, sizeof(secs), "%lld", left < 0 ? 0 : left);
	else
		str_copy(secs, sizeof(secs), "-");
	fprintf(out, "        sa timing: remaining key lifetime (k/sec): (%s/%s)\n",
		kb_left(sa, kb), secs);
	fprintf(out, "        replay detection support: Y\n        Status: ACTIVE\n\n");
	fprintf(out, "     %s ah sas:\n\n     %s pcp sas:\n\n", dir, dir);
}

/* "10.1.0.0/255.255.0.0", protocol 47, port 0 → "(10.1.0.0/255.255.0.0/47/0)". */
static void
ident(FILE *out, const char *label, json_t *sa, const char *key, const char *port_key)
{
	fprintf(out, "   %s ident (addr/mask/prot/port): (%s/%lld/%lld)\n", label, str(sa, key),
		num_or0(sa, "protocol"), num_or0(sa, port_key));
}

static void
ipsec_block(FILE *out, json_t *sa, const char *local)
{
	char b[6][24];

	fprintf(out, "    Crypto map tag: %s, local addr %s\n\n", str(sa, "cryptoMap"), local);
	fprintf(out, "   protected vrf: (none)\n");
	ident(out, "local ", sa, "localIdent", "localPort");
	ident(out, "remote", sa, "remoteIdent", "remotePort");
	fprintf(out, "   current_peer %s port %s\n", str(sa, "peer"), num_str(sa, "peerPort", b[0]));
	fprintf(out, "     PERMIT, flags={origin_is_acl,}\n");
	fprintf(out, "    #pkts encaps: %s, #pkts encrypt: %s, #pkts digest: %s\n",
		num_str(sa, "pktsEncaps", b[0]), num_str(sa, "pktsEncrypt", b[1]),
		num_str(sa, "pktsDigest", b[2]));
	fprintf(out, "    #pkts decaps: %s, #pkts decrypt: %s, #pkts verify: %s\n",
		num_str(sa, "pktsDecaps", b[3]), num_str(sa, "pktsDecrypt", b[4]),
		num_str(sa, "pktsVerify", b[5]));
	fprintf(out, "    #send errors %s, #recv errors %s\n", num_str(sa, "sendErrors", b[0]),
		num_str(sa, "recvErrors", b[1]));
	fprintf(out, "    #pkts replay failed (rcv): %s, #pkts verify failed: %s\n\n",
		num_str(sa, "replayDrops", b[2]), num_str(sa, "authFailures", b[3]));
	fprintf(out, "     local crypto endpt.: %s, remote crypto endpt.: %s\n", local,
		str(sa, "peer"));
	fprintf(out, "     current outbound spi: ");
	spi_print(out, str(sa, "outboundSpi"));
	fprintf(out, "\n\n");
	esp_sas(out, sa, "inbound", "inboundSpi");
	esp_sas(out, sa, "outbound", "outboundSpi");
}

/* The local crypto endpoint is the address of our IKE SA with the peer
 * (the IPsec view does not carry it). */
static const char *
local_addr(json_t *ike_index, const char *peer)
{
	return str(json_array_get(json_object_get(ike_index, peer), 0), "src");
}

int
show_ipsec_sa(FILE *out, json_t *ipsecsas, json_t *ikesas, const char *peer)
{
	json_t *ike_index = by_peer(ikesas, "dst", NULL), *sa;
	const char *last_if = NULL;
	size_t i;
	int n = 0;

	json_array_foreach(items_of(ipsecsas), i, sa) {
		const char *p = str(sa, "peer"), *ifname = str(sa, "interface");

		if (peer != NULL && strcmp(p, peer) != 0)
			continue;
		if (last_if == NULL || strcmp(last_if, ifname) != 0)
			fprintf(out, "\ninterface: %s\n", ifname);
		last_if = ifname;
		ipsec_block(out, sa, local_addr(ike_index, p));
		n++;
	}
	if (n == 0)
		fprintf(out, "No IPsec SAs%s%s.\n", peer ? " with peer " : "", peer ? peer : "");
	json_decref(ike_index);
	return n;
}

/* ---- show crypto session ------------------------------------------------ */

/* "10.1.0.0/16" → "10.1.0.0/255.255.0.0" as the IPsec view writes
 * selectors (an address alone is a /32); NULL when it is not a prefix. */
static const char *
prefix_to_mask(const char *cidr, char out[static 40])
{
	char addr[16];
	const char *slash = strchr(cidr, '/');
	size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	struct in_addr a, m;
	char *end = NULL;
	unsigned long n = 32;

	if (alen >= sizeof(addr))
		return NULL;
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (slash != NULL && ((n = strtoul(slash + 1, &end, 10)) > 32 || *end != '\0' ||
			      end == slash + 1))
		return NULL;
	if (inet_pton(AF_INET, addr, &a) != 1)
		return NULL;
	m.s_addr = htonl(n == 0 ? 0 : UINT32_MAX << (32 - n));
	snprintf(out, 40, "%s/", addr);
	inet_ntop(AF_INET, &m, out + strlen(out), INET_ADDRSTRLEN);
	return out;
}

static json_t *
crypto_map(json_t *maps, const char *name, long long seq)
{
	json_t *m;
	size_t i;

	json_array_foreach(items_of(maps), i, m) {
		if (strcmp(str(m, "name"), name) == 0 && num_or0(m, "sequence") == seq)
			return m;
	}
	return NULL;
}

static void
flow_add(json_t *flows, const char *local, const char *remote)
{
	json_t *f;
	size_t i;

	json_array_foreach(flows, i, f) {
		if (strcmp(json_string_value(json_array_get(f, 0)), local) == 0 &&
		    strcmp(json_string_value(json_array_get(f, 1)), remote) == 0)
			return;
	}
	json_array_append_new(flows, json_pack("[ss]", local, remote));
}

/* The crypto map's match address lines, then any selector of a live SA
 * the map does not list (a narrowed responder); the caller decrefs. */
static json_t *
session_flows(json_t *map, json_t *ipsec)
{
	json_t *flows = json_array(), *m, *sa;
	char l[40], r[40];
	size_t i;

	json_array_foreach(json_object_get(map, "matchAddress"), i, m) {
		const char *src = prefix_to_mask(str(m, "source"), l);
		const char *dst = prefix_to_mask(str(m, "destination"), r);

		if (src != NULL && dst != NULL)
			flow_add(flows, src, dst);
	}
	json_array_foreach(ipsec, i, sa)
		flow_add(flows, str(sa, "localIdent"), str(sa, "remoteIdent"));
	return flows;
}

static const char *
session_status(json_t *ike, json_t *ipsec)
{
	int up = 0, negotiating = 0;
	json_t *sa;
	size_t i;

	json_array_foreach(ike, i, sa) {
		up |= ike_established(sa);
		negotiating |= ike_negotiating(sa);
	}
	if (up)
		return json_array_size(ipsec) > 0 ? "UP-ACTIVE" : "UP-IDLE";
	if (json_array_size(ipsec) > 0)
		return "UP-NO-IKE";
	return negotiating ? "DOWN-NEGOTIATING" : "DOWN";
}

static void
session_print(FILE *out, const char *peer, json_t *tunnel, json_t *map, json_t *ike,
	      json_t *ipsec, const char *ifname)
{
	int client = json_is_true(json_object_get(tunnel, "dynamic"));
	/* a client's flows are its pairs', not every line its entry allows */
	json_t *flows = session_flows(client ? NULL : map, ipsec), *sa, *f;
	char b[2][24];
	long long port = IKE_START_PORT;
	size_t i, k;

	if (!num(json_array_get(ike, 0), "dstPort", &port))
		num(json_array_get(ipsec, 0), "peerPort", &port);
	fprintf(out, "Interface: %s\n", ifname);
	if (client) {
		/* a remote-access client, as IOS shows an Easy VPN session */
		if (str(tunnel, "user")[0] != '\0')
			fprintf(out, "Username: %s\n", str(tunnel, "user"));
		fprintf(out, "Dynamic map: %s %lld\n", str(tunnel, "cryptoMap"),
			num_or0(tunnel, "sequence"));
		if (strcmp(str(tunnel, "assignedAddress"), "0.0.0.0") != 0)
			fprintf(out, "Assigned address: %s\n", str(tunnel, "assignedAddress"));
		num(tunnel, "peerPort", &port);
	}
	fprintf(out, "Session status: %s\nPeer: %s port %lld\n", session_status(ike, ipsec), peer,
		port);
	json_array_foreach(ike, i, sa) {
		int st = ike_state_index(json_string_value(json_object_get(sa, "state")));

		fprintf(out, "  IKE SA: local %s/%s remote %s/%s %s\n", str(sa, "src"),
			num_str(sa, "srcPort", b[0]), str(sa, "dst"), num_str(sa, "dstPort", b[1]),
			st < 0 ? "-" : ike_states[st].session);
	}
	json_array_foreach(flows, i, f) {
		const char *l = json_string_value(json_array_get(f, 0));
		const char *r = json_string_value(json_array_get(f, 1));
		int n = 0;

		json_array_foreach(ipsec, k, sa)
			n += strcmp(str(sa, "localIdent"), l) == 0 &&
			     strcmp(str(sa, "remoteIdent"), r) == 0;
		fprintf(out, "  IPSEC FLOW: permit ip %s %s\n", l, r);
		fprintf(out, "        Active SAs: %d, origin: %s\n", 2 * n,
			client ? "dynamic crypto map" : "crypto map");
	}
	fputc('\n', out);
	json_decref(flows);
}

/* The TUN device: the peer's SA says, else any SA (there is one device). */
static const char *
session_if(json_t *ipsec, json_t *ipsecsas)
{
	json_t *sa = json_array_get(ipsec, 0);

	if (sa == NULL)
		sa = json_array_get(items_of(ipsecsas), 0);
	return str(sa, "interface");
}

/* One session per peer: every peer of every crypto map entry (DOWN when
 * it has no SA, as IOS lists crypto map peers), each remote-access client
 * (its address and port: several share a NAT's address), then peers that
 * have SAs without either (a responder's wild card). */
void
show_crypto_session(FILE *out, json_t *tunnels, json_t *ikesas, json_t *ipsecsas,
		    json_t *cryptomaps, json_t *dynmaps)
{
	json_t *ike = by_peer(ikesas, "dst", "dstPort"), *ipsec = by_peer(ipsecsas, "peer", "peerPort");
	json_t *seen = json_object(), *t;
	json_t *lists[] = { items_of(tunnels), items_of(ikesas), items_of(ipsecsas) };
	const char *keys[] = { "peer", "dst", "peer" }, *ports[] = { "peerPort", "dstPort", "peerPort" };
	char both[40];
	long long port;
	size_t i;

	fprintf(out, "Crypto session current status\n\n");
	for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
		json_array_foreach(lists[l], i, t) {
			const char *peer = json_string_value(json_object_get(t, keys[l]));
			int client = l == 0 && json_is_true(json_object_get(t, "dynamic"));
			const char *key = peer;
			json_t *mine, *map;

			if (peer == NULL)
				continue;
			if (num(t, ports[l], &port)) {
				snprintf(both, sizeof(both), "%s:%lld", peer, port);
				if (json_object_get(seen, both) != NULL)
					continue;	/* a client's SA, shown with it */
				if (client)
					key = both;
			}
			if (json_object_get(seen, key) != NULL)
				continue;
			json_object_set_new(seen, key, json_true());
			mine = json_object_get(ipsec, key);
			map = crypto_map(client ? dynmaps : cryptomaps, str(t, "cryptoMap"),
					 num_or0(t, "sequence"));
			session_print(out, peer, l == 0 ? t : NULL, map, json_object_get(ike, key),
				      mine, session_if(mine, ipsecsas));
		}
	}
	json_decref(seen);
	json_decref(ike);
	json_decref(ipsec);
}

/* ---- show crypto isakmp keepalive --------------------------------------- */

static void
dpd_settings(FILE *out, json_t *dpd)
{
	long long ka = 0, retry = 0, retries = 0;
	const char *mode = str(dpd, "mode");
	int periodic = strcmp(mode, "PERIODIC") == 0;

	if (!num(dpd, "keepaliveSeconds", &ka) || !num(dpd, "retrySeconds", &retry) ||
	    !num(dpd, "retries", &retries)) {
		fprintf(out, "DPD: settings not reported by the agent\n");
		return;
	}
	if (ka == 0) {
		fprintf(out, "DPD: off (no crypto isakmp keepalive): peers are not probed; "
			"their probes are answered\n");
		return;
	}
	mode = periodic ? "periodic" : strcmp(mode, "ON_DEMAND") == 0 ? "on-demand" : mode;
	fprintf(out, "DPD: keepalive %lld s, retry %lld s, retries %lld, mode %s "
		"(crypto isakmp keepalive %lld %lld %s)\n", ka, retry, retries, mode, ka, retry,
		mode);
	if (periodic)
		fprintf(out, "  a peer silent for %lld s is probed every %lld s and declared dead "
			"%lld s after its last sign of life\n", ka, retry, ka + retries * retry);
	else
		fprintf(out, "  a peer silent for %lld s is probed, only while there is traffic "
			"for it, every %lld s; dead after %lld unanswered probes\n", ka, retry,
			retries);
}

void
show_isakmp_keepalive(FILE *out, json_t *dpd, json_t *tunnels)
{
	static const char *const counters[] = {
		"rUThereSent", "rUThereReceived", "ackSent", "ackReceived", "retransmissions",
		"peerDeadEvents",
	};
	static const int widths[] = { 8, 8, 8, 8, 7, 4 };
	static_assert(ARRAY_LEN(widths) == ARRAY_LEN(counters), "one width per counter");
	char map[160], b[24], peer[48];
	long long rtt;
	json_t *t;
	size_t i;

	dpd_settings(out, dpd);
	fprintf(out, "\n%-21s %-12s %-6s %-6s %8s %8s %8s %8s %7s %4s %7s\n", "Peer", "Crypto map",
		"Active", "Status", "RUT-Sent", "RUT-Rcvd", "ACK-Sent", "ACK-Rcvd", "Retrans",
		"Dead", "RTT(ms)");
	json_array_foreach(items_of(tunnels), i, t) {
		snprintf(map, sizeof(map), "%s %s", str(t, "cryptoMap"), num_str(t, "sequence", b));
		/* a remote-access client is its address and port */
		if (json_is_true(json_object_get(t, "dynamic")))
			snprintf(peer, sizeof(peer), "%s:%s", str(t, "peer"), num_str(t, "peerPort", b));
		else
			snprintf(peer, sizeof(peer), "%s", str(t, "peer"));
		fprintf(out, "%-21s %-12s %-6s %-6s", peer, map,
			json_is_boolean(json_object_get(t, "active")) ?
			(json_is_true(json_object_get(t, "active")) ? "yes" : "no") : "-",
			str(t, "status"));
		for (size_t k = 0; k < ARRAY_LEN(counters); k++)
			fprintf(out, " %*s", widths[k], num_str(t, counters[k], b));
		if (num(t, "lastRttMs", &rtt) && rtt >= 0)
			fprintf(out, " %7lld\n", rtt);
		else
			fprintf(out, " %7s\n", "-");
	}
	fprintf(out, "\nRUT: R-U-THERE probes, ACK: R-U-THERE-ACK answers, Retrans: probes "
		"repeated for\nlack of an answer, Dead: times declared dead, RTT: round trip of "
		"the last answer.\n");
}

/* ---- show crypto isakmp stats ------------------------------------------------ */

/* "droppedNoCryptoMap" -> "no_crypto_map": the metric's reason label. */
static void
snake_of(const char *camel, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = camel; *p != '\0' && n + 2 < size; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			if (n > 0)
				out[n++] = '_';
			out[n++] = (char)(*p - 'A' + 'a');
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The counters whose keys start with prefix (totals aside), by name. */
static void
stats_breakdown(FILE *out, json_t *st, const char *prefix, const char *total)
{
	const char *keys[64], *key;
	size_t n = 0, plen = strlen(prefix);
	char name[64], b[24];
	json_t *v;

	json_object_foreach(st, key, v) {
		if (strncmp(key, prefix, plen) == 0 && strcmp(key, total) != 0 &&
		    n < ARRAY_LEN(keys))
			keys[n++] = key;
	}
	qsort(keys, n, sizeof(keys[0]), key_cmp);
	for (size_t i = 0; i < n; i++) {
		snake_of(keys[i] + plen, name, sizeof(name));
		fprintf(out, "    %-24s %12s\n", name, num_str(st, keys[i], b));
	}
}

void
show_isakmp_stats(FILE *out, json_t *stats)
{
	json_t *st = json_array_get(items_of(stats), 0);
	char a[24], b[24];

	fprintf(out, "Global IKEv1 Statistics\n");
	fprintf(out, "  %-26s %12s\n", "In Packets", num_str(st, "inPackets", a));
	fprintf(out, "  %-26s %12s\n", "Out Packets", num_str(st, "outPackets", a));
	fprintf(out, "  %-26s %12s\n", "Retransmissions", num_str(st, "retransmissions", a));
	fprintf(out, "  %-26s %12s\n", "SAs established", num_str(st, "saEstablished", a));
	fprintf(out, "  %-26s %12s\n", "Negotiation failures",
		num_str(st, "negotiationFailures", a));
	fprintf(out, "  %-26s %12s of %s\n", "Half-open SAs", num_str(st, "halfOpen", a),
		num_str(st, "halfOpenMax", b));
	fprintf(out, "  %-26s %12s\n", "In Drop Packets", num_str(st, "droppedTotal", a));
	stats_breakdown(out, st, "dropped", "droppedTotal");
	fprintf(out, "  %-26s %12s (%s over the rate, not sent)\n", "Error notifies sent",
		num_str(st, "notifiedTotal", a), num_str(st, "notifiesSuppressed", b));
	stats_breakdown(out, st, "notified", "notifiedTotal");
}

/* ---- clear crypto session ----------------------------------------------- */

void
show_cleared(FILE *out, json_t *answer, const char *remote)
{
	long long n;

	if (!num(answer, "cleared", &n)) {
		fprintf(out, "The agent did not say how many sessions it cleared.\n");
		return;
	}
	fprintf(out, "%lld crypto session%s cleared%s%s\n", n, n == 1 ? "" : "s",
		remote ? " with " : "", remote ? remote : "");
}

/* ---- show ip local pool --------------------------------------------------- */

/* IOS's columns, then the clients each pool refused for want of an
 * address, which IOS only logs. */
void
show_ip_local_pool(FILE *out, json_t *pools)
{
	json_t *p;
	size_t i;
	char a[24], b[24];

	fprintf(out, " %-24s %-15s %-15s %5s %7s\n", "Pool", "Begin", "End", "Free", "In use");
	json_array_foreach(items_of(pools), i, p)
		fprintf(out, " %-24s %-15s %-15s %5s %7s\n", str(p, "name"), str(p, "start"),
			str(p, "end"), num_str(p, "free", a), num_str(p, "inUse", b));
	json_array_foreach(items_of(pools), i, p) {
		if (num_or0(p, "exhausted") > 0)
			fprintf(out, "%s: %s client%s refused, no free address\n", str(p, "name"),
				num_str(p, "exhausted", a), num_or0(p, "exhausted") == 1 ? "" : "s");
	}
}
