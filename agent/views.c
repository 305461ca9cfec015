/*
 * The operational views' rows (`/operational/ikesas`, `ipsecsas`,
 * `tunnels`, `ikestatistics`): the IKE engine's read-only views and the
 * dataplane's counters turned into the flat rows of api_rows, field names
 * as docs/api.md lists them.
 */
#include "views.h"
#include "core/config.h"
#include "core/util.h"
#include "esp/dataplane.h"
#include "ike/ike.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

static void
hex8(const uint8_t b[8], char out[17])
{
	size_t n;

	OPENSSL_buf2hexstr_ex(out, 17, &n, b, 8, '\0');
}

static void
ip_row(struct api_rows *rows, const char *key, uint32_t be)
{
	char ip[16];

	inet_ntop(AF_INET, &be, ip, sizeof(ip));
	api_rows_str(rows, key, ip);
}

static void
ikesa_row(void *arg, const struct ike_sa_view *v)
{
	struct api_rows *rows = arg;
	char ck[17], caps[4] = "", *cp = caps;

	api_rows_begin_item(rows);
	ip_row(rows, "dst", v->peer_be);
	ip_row(rows, "src", v->local_be);
	api_rows_int(rows, "dstPort", v->peer_port);
	api_rows_int(rows, "srcPort", v->local_port);
	api_rows_str(rows, "state", v->state);
	api_rows_str(rows, "role", v->initiator ? "initiator" : "responder");
	hex8(v->icookie, ck);
	api_rows_str(rows, "initiatorCookie", ck);
	hex8(v->rcookie, ck);
	api_rows_str(rows, "responderCookie", ck);
	api_rows_str(rows, "encryption", v->encryption);
	api_rows_str(rows, "hash", v->hash);
	api_rows_str(rows, "authentication", v->auth);
	api_rows_int(rows, "group", v->group);
	api_rows_int(rows, "lifetimeLeftSeconds", v->lifetime_left_s);
	if (v->dpd)
		*cp++ = 'D';
	if (v->nat_t)
		*cp++ = 'N';
	api_rows_str(rows, "capabilities", caps);
	api_rows_str(rows, "natDetected", v->nat_detected);
	if (v->map) {
		api_rows_str(rows, "cryptoMap", v->map);
		api_rows_int(rows, "sequence", v->seq);
	}
	api_rows_end_item(rows);
}

static void
prefix_row(struct api_rows *rows, const char *key, uint32_t addr, uint32_t mask)
{
	char a[16], m[16], out[40];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	inet_ntop(AF_INET, &mask, m, sizeof(m));
	snprintf(out, sizeof(out), "%s/%s", a, m);
	api_rows_str(rows, key, out);
}

/* The `show crypto ipsec sa` counters of one pair. */
static void
counter_rows(struct api_rows *rows, struct esp_dp *dp, uint32_t spi_out, uint32_t spi_in)
{
	struct esp_counters oc = { 0 }, ic = { 0 };
	const struct esp_counters *o = &oc, *i = &ic;

	if (dp != NULL) {
		esp_dp_sa_counters(dp, spi_out, 1, &oc);	/* zeros when unknown */
		esp_dp_sa_counters(dp, spi_in, 0, &ic);
	}
	api_rows_uint(rows, "pktsEncaps", o->packets);
	api_rows_uint(rows, "pktsEncrypt", o->encrypt_or_decrypt);
	api_rows_uint(rows, "pktsDigest", o->digest_or_verify);
	api_rows_uint(rows, "bytesEncaps", o->bytes);
	api_rows_uint(rows, "pktsDecaps", i->packets);
	api_rows_uint(rows, "pktsDecrypt", i->encrypt_or_decrypt);
	api_rows_uint(rows, "pktsVerify", i->digest_or_verify);
	api_rows_uint(rows, "bytesDecaps", i->bytes);
	api_rows_uint(rows, "sendErrors", o->drops[ESP_DROP_SEND_ERROR] + o->drops[ESP_DROP_EXPIRED]);
	api_rows_uint(rows, "recvErrors", i->drops[ESP_DROP_AUTH_FAILED] + i->drops[ESP_DROP_BAD_PADDING] +
		      i->drops[ESP_DROP_MALFORMED] + i->drops[ESP_DROP_POLICY]);
	api_rows_uint(rows, "replayDrops", i->drops[ESP_DROP_REPLAY]);
	api_rows_uint(rows, "authFailures", i->drops[ESP_DROP_AUTH_FAILED]);
}

struct view_ctx {
	struct api_rows     *rows;
	struct esp_dp       *dp;
};

static void
ipsecsa_row(void *arg, const struct ike_child_view *v)
{
	struct view_ctx *vc = arg;
	struct api_rows *rows = vc->rows;
	const struct ike_child_sa *sa = &v->sa;
	char spi[16], xf[64];

	api_rows_begin_item(rows);
	api_rows_str(rows, "cryptoMap", v->map);
	api_rows_int(rows, "sequence", v->seq);
	ip_row(rows, "peer", sa->peer_be);
	api_rows_int(rows, "peerPort", sa->peer_port);
	api_rows_str(rows, "interface", vc->dp ? esp_dp_tun_name(vc->dp) : NULL);
	prefix_row(rows, "localIdent", sa->sel.src_be, sa->sel.src_mask_be);
	prefix_row(rows, "remoteIdent", sa->sel.dst_be, sa->sel.dst_mask_be);
	api_rows_int(rows, "protocol", sa->sel.proto);
	api_rows_int(rows, "localPort", sa->sel.src_port);
	api_rows_int(rows, "remotePort", sa->sel.dst_port);
	snprintf(spi, sizeof(spi), "0x%08X", sa->spi_in);
	api_rows_str(rows, "inboundSpi", spi);
	snprintf(spi, sizeof(spi), "0x%08X", sa->spi_out);
	api_rows_str(rows, "outboundSpi", spi);
	snprintf(xf, sizeof(xf), "%s%s%s", cfg_esp_cipher_name(sa->cipher, sa->enc_key_len),
		 sa->auth == ESP_AUTH_NONE ? "" : " ",
		 sa->auth == ESP_AUTH_NONE ? "" : cfg_esp_auth_name(sa->auth));
	api_rows_str(rows, "transform", xf);
	api_rows_str(rows, "mode", sa->transport_mode ? "transport" : "tunnel");
	api_rows_bool(rows, "udpEncapsulated", sa->udp_encap);
	api_rows_int(rows, "lifetimeLeftSeconds", v->lifetime_left_s);
	api_rows_uint(rows, "lifetimeKilobytes", sa->lifetime_kb);
	counter_rows(rows, vc->dp, sa->spi_out, sa->spi_in);
	api_rows_end_item(rows);
}

static void
tunnel_row(void *arg, const struct ike_tunnel_view *v)
{
	struct api_rows *rows = arg;

	for (size_t i = 0; i < v->npeers; i++) {
		const struct ike_peer_view *p = &v->peers[i];

		api_rows_begin_item(rows);
		api_rows_str(rows, "cryptoMap", v->map);
		api_rows_int(rows, "sequence", v->seq);
		ip_row(rows, "peer", p->peer_be);
		api_rows_int(rows, "peerIndex", (int64_t)i);
		api_rows_bool(rows, "dynamic", v->dynamic);
		if (v->dynamic) {	/* a remote-access client */
			api_rows_int(rows, "peerPort", v->client_port);
			ip_row(rows, "assignedAddress", v->client_addr_be);
			api_rows_str(rows, "user", v->user != NULL ? v->user : "");
		}
		api_rows_bool(rows, "active", p->active);
		api_rows_str(rows, "status", p->up ? "UP" : "DOWN");
		api_rows_str(rows, "ikeState", ike_view_state_names[p->state]);
		api_rows_uint(rows, "rUThereSent", p->dpd.r_u_there_sent);
		api_rows_uint(rows, "rUThereReceived", p->dpd.r_u_there_received);
		api_rows_uint(rows, "ackSent", p->dpd.ack_sent);
		api_rows_uint(rows, "ackReceived", p->dpd.ack_received);
		api_rows_uint(rows, "retransmissions", p->dpd.retransmissions);
		api_rows_uint(rows, "peerDeadEvents", p->dpd.peer_dead);
		api_rows_int(rows, "lastRttMs", p->dpd_rtt_ms);
		api_rows_int(rows, "lastLivenessAtMs", p->last_rx_real_ms);
		api_rows_int(rows, "declaredDeadAtMs", p->dead_real_ms);
		api_rows_int(rows, "livenessBeforeDeadAtMs", p->dead_last_rx_real_ms);
		api_rows_end_item(rows);
	}
}

/* "dropped" + "no_crypto_map" -> "droppedNoCryptoMap": metric labels as
 * API keys. */
static const char *
camel_key(const char *prefix, const char *snake, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s", prefix);
	int up = 1;

	for (const char *p = snake; *p != '\0' && n + 1 < size; p++) {
		if (*p == '_') {
			up = 1;
			continue;
		}
		out[n++] = up ? (char)(*p - 'a' + 'A') : *p;
		up = 0;
	}
	out[n] = '\0';
	return out;
}

/* `show crypto isakmp stats`: the engine's counters, one item. */
static void
ike_stats_rows(struct ike *ike, struct api_rows *rows)
{
	struct ike_stats_view st;
	uint64_t dropped = 0, notified = 0;
	char key[64];

	ike_stats_view(ike, &st);
	api_rows_begin_item(rows);
	api_rows_uint(rows, "inPackets", st.rx_packets);
	api_rows_uint(rows, "outPackets", st.tx_packets);
	api_rows_uint(rows, "retransmissions", st.retransmits);
	api_rows_uint(rows, "saEstablished", st.established);
	api_rows_uint(rows, "negotiationFailures", st.failures);
	api_rows_uint(rows, "halfOpen", st.halfopen);
	api_rows_uint(rows, "halfOpenMax", st.halfopen_max);
	for (int r = 0; r < IKE_DROP__COUNT; r++) {
		api_rows_uint(rows, camel_key("dropped", ike_drop_names[r], key, sizeof(key)),
			      st.drops[r]);
		dropped += st.drops[r];
	}
	api_rows_uint(rows, "droppedTotal", dropped);
	for (int e = 0; e < IKE_ERR__COUNT; e++) {
		api_rows_uint(rows, camel_key("notified", ike_err_notify_names[e], key, sizeof(key)),
			      st.err_notifies[e]);
		notified += st.err_notifies[e];
	}
	api_rows_uint(rows, "notifiedTotal", notified);
	api_rows_uint(rows, "notifiesSuppressed", st.err_notifies_suppressed);
	api_rows_uint(rows, "remoteAccessClients", st.clients);
	api_rows_uint(rows, "remoteAccessConnections", st.clients_connected);
	api_rows_uint(rows, "xauthOk", st.xauth_ok);
	api_rows_uint(rows, "xauthFailed", st.xauth_failed);
	api_rows_uint(rows, "xauthRateLimited", st.xauth_rate_limited);
	api_rows_end_item(rows);
}

/* `show ip local pool`: one item per pool. */
static void
pool_row(void *arg, const struct ike_pool_view *v)
{
	struct api_rows *rows = arg;

	api_rows_begin_item(rows);
	api_rows_str(rows, "name", v->name);
	ip_row(rows, "start", v->start_be);
	ip_row(rows, "end", v->end_be);
	api_rows_uint(rows, "size", v->size);
	api_rows_uint(rows, "inUse", v->in_use);
	api_rows_uint(rows, "free", v->size - v->in_use);
	api_rows_uint(rows, "exhausted", v->exhausted);
	api_rows_end_item(rows);
}

void
views_rows(struct ike *ike, struct esp_dp *dp, enum api_vpn_view which, struct api_rows *rows)
{
	int64_t now = now_mono_ms();

	switch (which) {
	case API_VIEW_IKE_SAS:
		ike_sas_view(ike, now, ikesa_row, rows);
		break;
	case API_VIEW_IPSEC_SAS: {
		struct view_ctx vc = { rows, dp };

		ike_children_view(ike, now, ipsecsa_row, &vc);
		break;
	}
	case API_VIEW_TUNNELS:
		ike_tunnels_view(ike, now, now_real_ms(), tunnel_row, rows);
		break;
	case API_VIEW_IKE_STATS:
		ike_stats_rows(ike, rows);
		break;
	case API_VIEW_IP_POOLS:
		ike_pools_view(ike, pool_row, rows);
		break;
	case API_VIEW__COUNT:
		break;
	}
}

struct tunnel_if_ctx {
	const struct config *cfg;
	struct api_rows     *rows;
};

static void
tunnel_if_row(void *arg, const struct esp_dp_tunnel_view *v)
{
	struct tunnel_if_ctx *tc = arg;
	struct api_rows *rows = tc->rows;
	char a[16], out[24];

	api_rows_begin_item(rows);
	api_rows_str(rows, "name", v->name);
	for (size_t i = 0; i < tc->cfg->n_tunnel_ifs; i++) {
		if (strcmp(tc->cfg->tunnel_ifs[i].meta.name, v->name) == 0)
			api_rows_str(rows, "id", tc->cfg->tunnel_ifs[i].meta.id);
	}
	api_rows_str(rows, "state", v->shutdown ? "administratively down" : v->up ? "up" : "down");
	inet_ntop(AF_INET, &v->addr_be, a, sizeof(a));
	snprintf(out, sizeof(out), "%s/%u", a, v->prefix_len);
	api_rows_str(rows, "address", out);
	ip_row(rows, "tunnelSource", v->source_be);
	ip_row(rows, "tunnelDestination", v->destination_be);
	api_rows_int(rows, "mtu", v->mtu);
	api_rows_uint(rows, "packetsIn", v->in_packets);
	api_rows_uint(rows, "bytesIn", v->in_bytes);
	api_rows_uint(rows, "packetsOut", v->out_packets);
	api_rows_uint(rows, "bytesOut", v->out_bytes);
	api_rows_uint(rows, "outNoSa", v->out_no_sa);
	api_rows_uint(rows, "outErrors", v->out_errors);
	api_rows_uint(rows, "inMalformed", v->in_malformed);
	api_rows_uint(rows, "inErrors", v->in_errors);
	api_rows_end_item(rows);
}

void
views_tunnel_ifs(const struct config *cfg, struct esp_dp *dp, struct api_rows *rows)
{
	struct tunnel_if_ctx tc = { .cfg = cfg, .rows = rows };

	if (dp != NULL)
		esp_dp_tunnels_view(dp, tunnel_if_row, &tc);
}
