/*
 * From the configuration model to the engine's view of it: IKE policies,
 * pre-shared keys, crypto maps with their transform sets and selectors,
 * DPD and identity settings. Peers given as host names are resolved here,
 * once per configuration change.
 */
#include "ike/ike_conf.h"
#include "ike/crypto.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <limits.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* the engine holds every value the API accepts, so nothing is cut
 * or dropped on the way; the API refuses what is beyond these. */
static_assert(IKE_PSK_MAX == CFG_PSK_MAX + 1, "a key of CFG_PSK_MAX characters and its NUL");
static_assert(IKE_NAME_MAX == CFG_NAME_MAX, "transform set and crypto map names");
static_assert(IKE_NAME_MAX > HOST_NAME_MAX, "the host name (identity hostname)");
static_assert(IKE_PEERS_MAX == CFG_PEERS_MAX, "peers of a crypto map entry");
static_assert(IKE_XFORMS_MAX == CFG_MAP_XFORMS_MAX, "transform sets of a crypto map entry");
static_assert(IKE_SELECTORS_MAX == CFG_MATCH_MAX, "match lines of a crypto map entry");
static_assert(IKE_POLICIES_MAX == CFG_IKE_POLICIES_MAX, "IKE policies");
static_assert(IKE_DNS_MAX == CFG_DNS_MAX, "DNS servers of a dynamic crypto map");
static_assert(IKE_SPLIT_MAX == CFG_SPLIT_MAX, "split-tunnel networks of a dynamic crypto map");
static_assert(IKE_PWHASH_MAX == CFG_PWHASH_MAX, "password hashes");

/* Past a cap here the API let through what it must refuse: a bug, never a
 * value to cut (the asserts above make it impossible). */
static void
within(const char *what, const char *name, size_t n, size_t max)
{
	if (n > max)
		fatalx("%s%s%s: %zu, more than the engine holds (%zu); the API should have "
		       "refused it", what, name ? " " : "", name ? name : "", n, max);
}

static uint32_t
mask_of(unsigned len)
{
	return len == 0 ? 0 : htonl(0xffffffffu << (32 - len));
}

static int
resolve(const char *host, uint32_t *be)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res;
	struct in_addr a;

	if (inet_pton(AF_INET, host, &a) == 1) {
		*be = a.s_addr;
		return 0;
	}
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return -1;
	*be = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr;
	freeaddrinfo(res);
	return 0;
}

static void
xform_from(const struct cfg_transform_set *ts, struct ike_xform_conf *x)
{
	memset(x, 0, sizeof(*x));
	str_copy(x->name, sizeof(x->name), ts->meta.name);
	cfg_esp_xform(ts->esp, ts->auth, &x->cipher, &x->key_len, &x->auth);
	x->transport = ts->mode == CFG_ESP_TRANSPORT;
}

/* Transform sets and match lines, shared by static and dynamic entries. */
static void
map_xforms_sel(const struct config *cfg, const char *name, unsigned seq,
	       const struct cfg_ref *xf, size_t nxf, const struct cfg_match *match, size_t nmatch,
	       struct ike_map_conf *m)
{
	within("transform sets of crypto map", name, nxf, IKE_XFORMS_MAX);
	within("match lines of crypto map", name, nmatch, IKE_SELECTORS_MAX);
	for (size_t i = 0; i < nxf; i++) {
		const struct cfg_transform_set *ts = config_transform_set_by_id(cfg, xf[i].id);

		if (ts == NULL)
			fatalx("crypto map %s %u: transform set %s does not exist; the API should "
			       "have refused it", name, seq, xf[i].id);
		xform_from(ts, &m->xforms[m->nxforms++]);
	}
	for (size_t i = 0; i < nmatch; i++) {
		struct ike_selector *s = &m->sel[m->nsel++];

		s->src_be = htonl(match[i].src.addr);
		s->src_mask_be = mask_of(match[i].src.len);
		s->dst_be = htonl(match[i].dst.addr);
		s->dst_mask_be = mask_of(match[i].dst.len);
		s->proto = match[i].proto;
		s->src_port = match[i].src_port;
		s->dst_port = match[i].dst_port;
	}
}

static int
pfs_group(enum cfg_pfs pfs)
{
	return pfs == CFG_PFS_GROUP14 ? 14 : pfs == CFG_PFS_GROUP19 ? 19 : 0;
}

static void
map_from(const struct config *cfg, const struct cfg_crypto_map *cm, struct ike_map_conf *m)
{
	memset(m, 0, sizeof(*m));
	within("peers of crypto map", cm->meta.name, cm->n_peers, IKE_PEERS_MAX);
	str_copy(m->name, sizeof(m->name), cm->meta.name);
	m->seq = cm->sequence;
	for (size_t i = 0; i < cm->n_peers; i++) {
		/* a host name that does not resolve now is a runtime condition,
		 * not config: the other peers still serve */
		if (resolve(cm->peers[i], &m->peers_be[m->npeers]) == -1) {
			log_warnx("crypto map %s %u: cannot resolve peer %s; skipped", cm->meta.name,
				  cm->sequence, cm->peers[i]);
			continue;
		}
		m->npeers++;
	}
	map_xforms_sel(cfg, cm->meta.name, cm->sequence, cm->transform_sets, cm->n_transform_sets,
		       cm->match, cm->n_match, m);
	m->pfs_group = pfs_group(cm->pfs);
	m->lifetime_s = cm->lifetime_s;
	m->lifetime_kb = cm->lifetime_kb;
	m->force_encap = cm->force_encap;
	m->initiate = cm->initiate;
}

/* Remote access: pools (index = the model's order), dynamic entries in the
 * order they are tried, users. */
static int
pool_index(const struct config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_ip_pools; i++) {
		if (strcmp(cfg->ip_pools[i].meta.id, id) == 0)
			return (int)i;
	}
	return -1;
}

static void
dynmap_from(const struct config *cfg, const struct cfg_dynamic_map *dm, struct ike_dynmap_conf *d)
{
	struct ike_map_conf *m = &d->map;

	memset(d, 0, sizeof(*d));
	str_copy(m->name, sizeof(m->name), dm->meta.name);
	m->seq = dm->sequence;
	map_xforms_sel(cfg, dm->meta.name, dm->sequence, dm->transform_sets, dm->n_transform_sets,
		       dm->match, dm->n_match, m);
	m->pfs_group = pfs_group(dm->pfs);
	m->lifetime_s = dm->lifetime_s;
	m->lifetime_kb = dm->lifetime_kb;
	m->force_encap = 0;	/* NAT-T as the client's path needs it */
	d->pool = -1;
	if (dm->address_pool.id[0] != '\0' &&
	    (d->pool = pool_index(cfg, dm->address_pool.id)) < 0)
		fatalx("dynamic crypto map %s: pool %s does not exist; the API should have "
		       "refused it", dm->meta.name, dm->address_pool.id);
	d->cfg_push = dm->config_initiate;
	d->cfg_pull = dm->config_respond;
	d->xauth = dm->xauth;
	within("DNS servers of dynamic crypto map", dm->meta.name, dm->n_dns, IKE_DNS_MAX);
	within("split-tunnel networks of dynamic crypto map", dm->meta.name, dm->n_split,
	       IKE_SPLIT_MAX);
	for (size_t i = 0; i < dm->n_dns; i++)
		d->dns_be[d->ndns++] = htonl(dm->dns[i]);
	for (size_t i = 0; i < dm->n_split; i++) {
		d->split[d->nsplit].addr_be = htonl(dm->split[i].addr);
		d->split[d->nsplit++].mask_be = mask_of(dm->split[i].len);
	}
}

static int
dynmap_order(const void *a, const void *b)
{
	const struct ike_dynmap_conf *x = a, *y = b;

	if (x->map.seq != y->map.seq)
		return x->map.seq < y->map.seq ? -1 : 1;
	return strcmp(x->map.name, y->map.name);
}

static void
remote_access_from(const struct config *cfg, struct ike_conf *c)
{
	c->pools = xcalloc(cfg->n_ip_pools, sizeof(*c->pools));
	for (size_t i = 0; i < cfg->n_ip_pools; i++) {
		const struct cfg_ip_pool *p = &cfg->ip_pools[i];
		struct ike_pool_conf *q = &c->pools[c->npools++];

		within("addresses of pool", p->meta.name, (size_t)(p->end - p->start) + 1,
		       CFG_POOL_SIZE_MAX);
		str_copy(q->name, sizeof(q->name), p->meta.name);
		q->start = p->start;
		q->end = p->end;
		q->netmask_be = htonl(p->netmask);
	}
	c->dynmaps = xcalloc(cfg->n_dynamic_maps, sizeof(*c->dynmaps));
	for (size_t i = 0; i < cfg->n_dynamic_maps; i++)
		dynmap_from(cfg, &cfg->dynamic_maps[i], &c->dynmaps[c->ndynmaps++]);
	if (c->ndynmaps > 1)
		qsort(c->dynmaps, c->ndynmaps, sizeof(*c->dynmaps), dynmap_order);
	c->users = xcalloc(cfg->n_local_users, sizeof(*c->users));
	for (size_t i = 0; i < cfg->n_local_users; i++) {
		const struct cfg_local_user *u = &cfg->local_users[i];
		struct ike_user_conf *q = &c->users[c->nusers++];

		str_copy(q->name, sizeof(q->name), u->meta.name);
		str_copy(q->hash, sizeof(q->hash), u->password_hash);
	}
}

/* Our certificate and key, the trusted CAs (one PEM text), the CRLs. */
static void
certificates_from(const struct config *cfg, struct ike_conf *c)
{
	const struct cfg_internal_cert *mine = cfg->ike.certificate.id[0] != '\0' ?
	    config_internal_cert_by_id(cfg, cfg->ike.certificate.id) : NULL;
	struct strbuf cas;

	if (mine != NULL && mine->cert_pem != NULL && mine->key_pem != NULL) {
		c->cert_pem = xstrdup(mine->cert_pem);
		c->key_pem = xstrdup(mine->key_pem);
	}
	strbuf_init(&cas, (size_t)CFG_IKE_CAS_MAX * (CFG_PEM_MAX + 1) + 1);
	for (size_t i = 0; i < cfg->ike.n_trusted_cas; i++) {
		const struct cfg_ca_cert *ca = config_ca_cert_by_id(cfg, cfg->ike.trusted_cas[i].id);

		if (ca == NULL || ca->cert_pem == NULL)
			fatalx("IKE trusted CA %s does not exist; the API should have refused it",
			       cfg->ike.trusted_cas[i].id);
		strbuf_puts(&cas, ca->cert_pem);
		strbuf_puts(&cas, "\n");
	}
	if (cas.len > 0 && !cas.overflow)
		c->cas_pem = xstrdup(cas.data);
	strbuf_free(&cas);
	c->crls_pem = cfg->ike.crls_pem != NULL ? xstrdup(cfg->ike.crls_pem) : NULL;
}

int
ike_conf_from_config(const struct config *cfg, uint32_t local_be, const char *hostname,
		     struct ike_conf *c)
{
	ike_conf_defaults(c);
	within("IKE policies", NULL, cfg->n_ike_policies, IKE_POLICIES_MAX);
	/* keys and crypto-map entries: as many as the API took (--max-objects) */
	c->local_be = local_be;
	c->identity_fqdn = cfg->ike.identity == CFG_IKE_ID_HOSTNAME;
	c->identity_dn = cfg->ike.identity == CFG_IKE_ID_DN;
	certificates_from(cfg, c);
	if (str_copy(c->hostname, sizeof(c->hostname), hostname ? hostname : "") == -1)
		fatalx("the host name has %zu characters, more than HOST_NAME_MAX",
		       strlen(hostname));
	c->nat_keepalive_s = cfg->ike.nat_keepalive_s;
	c->dpd.keepalive_s = cfg->dpd.keepalive_s;
	c->dpd.retry_s = cfg->dpd.retry_s;
	c->dpd.retries = cfg->dpd.retries;
	c->dpd.mode = cfg->dpd.mode == CFG_DPD_PERIODIC ? DPD_MODE_PERIODIC : DPD_MODE_ON_DEMAND;
	for (size_t i = 0; i < cfg->n_ike_policies; i++) {
		const struct cfg_ike_policy *p = &cfg->ike_policies[i];
		struct ike_policy_conf *q = &c->policies[c->npolicies++];

		q->priority = p->priority;
		q->auth = p->authentication == CFG_IKE_AUTH_RSA_SIG ? IKE_AUTH_METHOD_RSA :
		    p->authentication == CFG_IKE_AUTH_ECDSA_SIG ? IKE_AUTH_METHOD_ECDSA_P256 :
		    IKE_AUTH_METHOD_PSK;
		q->enc_key_len = p->encryption == CFG_IKE_ENC_AES256 ? 32 : 16;
		q->hash = p->hash == CFG_IKE_HASH_SHA256 ? IKE_HASH_SHA256 : IKE_HASH_SHA1;
		q->group = (int)p->group;
		q->lifetime_s = p->lifetime_s;
	}
	c->psks = xcalloc(cfg->n_psks, sizeof(*c->psks));
	for (size_t i = 0; i < cfg->n_psks; i++) {
		const struct cfg_psk *p = &cfg->psks[i];
		struct ike_psk_conf *k = &c->psks[c->npsks++];

		/* A key skipped here would hand its peers the next less
		 * specific one (the wild card): never skip, never cut. */
		if (p->key == NULL || p->key[0] == '\0')
			fatalx("pre-shared key %s has no key; the API should have refused it",
			       p->meta.name);
		within("characters of pre-shared key", p->meta.name, strlen(p->key),
		       IKE_PSK_MAX - 1);
		k->addr_be = htonl(p->addr);
		k->mask_be = htonl(p->mask);
		str_copy(k->key, sizeof(k->key), p->key);
		k->key_len = strlen(k->key);
	}
	c->maps = xcalloc(cfg->n_crypto_maps, sizeof(*c->maps));
	for (size_t i = 0; i < cfg->n_crypto_maps; i++)
		map_from(cfg, &cfg->crypto_maps[i], &c->maps[c->nmaps++]);
	remote_access_from(cfg, c);
	return 0;
}

void
ike_conf_release(struct ike_conf *c)
{
	if (c->psks != NULL)
		OPENSSL_cleanse(c->psks, c->npsks * sizeof(*c->psks));
	free(c->psks);
	free(c->maps);
	free(c->pools);
	free(c->dynmaps);
	if (c->users != NULL)
		OPENSSL_cleanse(c->users, c->nusers * sizeof(*c->users));
	free(c->users);
	free(c->cert_pem);
	free_secret(c->key_pem);
	free(c->cas_pem);
	free(c->crls_pem);
	c->cert_pem = c->key_pem = c->cas_pem = c->crls_pem = NULL;
	c->psks = NULL;
	c->maps = NULL;
	c->pools = NULL;
	c->dynmaps = NULL;
	c->users = NULL;
	c->npsks = c->nmaps = c->npools = c->ndynmaps = c->nusers = 0;
}
