/*
 * The configuration of a two-engine pair and the wire between them (see
 * ike_pair.h).
 */
#include "ike_pair.h"

#include <arpa/inet.h>
#include <string.h>

void
ike_pair_conf(int i, const uint32_t addr_be[2], int group, int hash, struct ike_conf *c,
	      struct ike_map_conf *m, struct ike_psk_conf *psk)
{
	ike_conf_defaults(c);
	memset(psk, 0, sizeof(*psk));	/* 0.0.0.0/0: the wild card */
	memcpy(psk->key, "pair-psk", 8);
	psk->key_len = 8;
	c->local_be = addr_be[i];
	c->dpd.keepalive_s = 10;
	c->npolicies = 1;
	c->policies[0] = (struct ike_policy_conf){ .priority = 1, .enc_key_len = 16,
						   .hash = hash, .group = group,
						   .lifetime_s = 86400 };
	c->psks = psk;
	c->npsks = 1;
	memset(m, 0, sizeof(*m));
	m->peers_be[0] = addr_be[!i];
	m->npeers = 1;
	m->nxforms = 1;
	m->xforms[0] = (struct ike_xform_conf){ .cipher = ESP_CIPHER_AES_CBC, .key_len = 16,
						.auth = ESP_AUTH_HMAC_SHA256_128 };
	m->nsel = 1;
	m->sel[0] = (struct ike_selector){ .src_be = htonl(0x0a000000u + ((unsigned)i << 16)),
					   .src_mask_be = htonl(0xffff0000),
					   .dst_be = htonl(0x0a000000u + ((unsigned)!i << 16)),
					   .dst_mask_be = htonl(0xffff0000) };
	m->lifetime_s = 3600;
	m->lifetime_kb = 4608000;
	m->initiate = i == 0;
	c->maps = m;
	c->nmaps = 1;
}

int
ike_pair_send(void *wire, uint16_t local_port, uint32_t dst_be, uint16_t dst_port,
	      const uint8_t *msg, size_t len)
{
	struct ike_pair_wire *w = wire;

	if (w->n < IKE_PAIR_QUEUE && len <= sizeof(w->q[0].d)) {
		w->q[w->n].to = dst_be == w->addr[0] ? 0 : 1;
		w->q[w->n].dport = dst_port;
		w->q[w->n].sport = local_port;
		w->q[w->n].len = len;
		memcpy(w->q[w->n].d, msg, len);
		w->n++;
	}
	return 0;
}

size_t
ike_pair_pump(struct ike_pair_wire *w, int64_t now)
{
	size_t i;

	for (i = 0; i < w->n; i++) {	/* sends while delivering append behind i */
		if (w->tap != NULL && w->tap(w, i))
			continue;
		ike_input(w->eng[w->q[i].to], w->q[i].dport, w->addr[!w->q[i].to], w->q[i].sport,
			  w->q[i].d, w->q[i].len, now);
	}
	w->n = 0;
	return i;
}
