/*
 * IOS translator, end of file: IOS's defaults for what a policy leaves out,
 * references (transform sets, access lists, dynamic maps, pools, users,
 * tunnel sources) resolved, then the API objects in dependency order:
 * settings, policies, keys, transform sets, pools, users, crypto maps,
 * dynamic crypto maps, tunnel interfaces.
 */
#include "cli/ios_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

const char *const ios_kind_names[IOS_KIND__COUNT] = {
	[IOS_IKE_SETTINGS] = "ikesettings", [IOS_DPD] = "dpdsettings",
	[IOS_IKE_POLICY] = "ikepolicy", [IOS_PSK] = "presharedkey",
	[IOS_TRANSFORM_SET] = "transformset", [IOS_IP_POOL] = "ippool",
	[IOS_LOCAL_USER] = "localuser", [IOS_CRYPTO_MAP] = "cryptomap",
	[IOS_DYNAMIC_MAP] = "dynamiccryptomap", [IOS_TUNNEL_IF] = "tunnelinterface",
};
static_assert(ARRAY_LEN(ios_kind_names) == IOS_KIND__COUNT, "one name per kind");

const char *const ios_kind_paths[IOS_KIND__COUNT] = {
	[IOS_IKE_SETTINGS] = "/devicesettings/default/ike",
	[IOS_DPD] = "/devicesettings/default/dpd",
	[IOS_IKE_POLICY] = "/object/ikepolicies", [IOS_PSK] = "/object/presharedkeys",
	[IOS_TRANSFORM_SET] = "/object/transformsets", [IOS_IP_POOL] = "/object/ippools",
	[IOS_LOCAL_USER] = "/object/localusers", [IOS_CRYPTO_MAP] = "/object/cryptomaps",
	[IOS_DYNAMIC_MAP] = "/object/dynamiccryptomaps",
	[IOS_TUNNEL_IF] = "/object/tunnelinterfaces",
};
static_assert(ARRAY_LEN(ios_kind_paths) == IOS_KIND__COUNT, "one path per kind");
static_assert(IOS_REFS_MAX == CFG_MAP_XFORMS_MAX + 1,
	      "a map's refs are its transform sets and its address pool");

/* ---- end of file: references, then the objects ------------------------ */

static struct ios_xform *
xform_find(struct ios_parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_xf; i++)
		if (eq(p->xf[i].name, name))
			return &p->xf[i];
	return NULL;
}

static void
why_add(char *why, size_t size, const char *what, const char *name)
{
	size_t n = strlen(why);

	snprintf(why + n, size - n, "%s%s %s", n ? ", " : "", what, name);
}

/* The list a map matches; reports its refused lines once. NULL: refused. */
static struct ios_acl *
map_acl(struct ios_parser *p, struct ios_map *m, char *why, size_t size)
{
	struct ios_acl *a = NULL;

	for (size_t i = 0; i < p->n_acl && a == NULL; i++)
		if (eq(p->acl[i].name, m->acl.name))
			a = &p->acl[i];
	if (a == NULL) {
		ERR_AT(p, m->acl.line, "match address " SHOW ": access list " SHOW " is "
		       "not defined in this file", m->acl.name, m->acl.name);
		m->bad = 1;
		return NULL;
	}
	a->used = 1;
	if (a->kind != ACL_EXTENDED) {
		ERR_AT(p, m->acl.line, "match address %s: access list %s is not an "
		       "extended list; a crypto map needs the permit lines of one (access-list "
		       "100-199, 2000-2699 or ip access-list extended)", a->name, a->name);
		m->bad = 1;
		return NULL;
	}
	if (!a->reported) {
		a->reported = 1;
		for (size_t i = 0; i < a->n_kept; i++)
			if (a->e[i].err)
				ERR_AT(p, a->e[i].line, "%s", a->e[i].err);
		if (a->n_entries > CFG_MATCH_MAX)
			ERR_AT(p, a->line, "access list %s has %zu lines; a crypto map "
			       "takes at most %d", a->name, a->n_entries, CFG_MATCH_MAX);
		if (a->n_entries == 0)
			ERR_AT(p, m->acl.line, "match address %s: access list %s has no "
			       "permit lines", a->name, a->name);
	}
	for (size_t i = 0; i < a->n_kept; i++)
		if (a->e[i].err) {
			why_add(why, size, "access list", a->name);
			break;
		}
	return (a->n_entries == 0 || a->n_entries > CFG_MATCH_MAX) ? NULL : a;
}

/* An entry's transform sets and access list; what was refused goes in why.
 * *acl: NULL without match address. */
static void
map_refs(struct ios_parser *p, struct ios_map *m, struct ios_acl **acl, char *why, size_t size)
{
	for (size_t i = 0; i < m->n_xf; i++) {
		struct ios_xform *x = xform_find(p, m->xf[i].name);

		if (x == NULL) {
			ERR_AT(p, m->xf[i].line, "set transform-set: transform set %s is "
			       "not defined in this file", m->xf[i].name);
			m->bad = 1;
		} else if (x->bad) {
			why_add(why, size, "transform set", x->name);
		}
	}
	*acl = NULL;
	if (m->acl.name[0] && (*acl = map_acl(p, m, why, size)) == NULL)
		m->bad = 1;
	if (why[0] && !m->bad)
		NOTE_AT(p, m->line, "%s %s %u is not translated: it uses what was refused (%s)",
			m->kind == MAP_DYNAMIC ? "crypto dynamic-map" : "crypto map", m->name,
			m->seq, why);
	if (why[0])
		m->bad = 1;
}

static void
map_finish(struct ios_parser *p, struct ios_map *m, struct ios_acl **acl)
{
	char why[3 * CFG_NAME_MAX] = "";

	if (m->n_peers == 0)
		ERR_AT(p, m->line, "crypto map %s %u has no set peer", m->name, m->seq);
	if (m->n_xf == 0)
		ERR_AT(p, m->line, "crypto map %s %u has no set transform-set", m->name,
		       m->seq);
	if (m->acl.name[0] == '\0')
		ERR_AT(p, m->line, "crypto map %s %u has no match address", m->name,
		       m->seq);
	if (m->n_peers == 0 || m->n_xf == 0 || m->acl.name[0] == '\0')
		m->bad = 1;
	map_refs(p, m, acl, why, sizeof(why));
}

/* A dynamic-map entry a binding uses; match address is optional (without
 * it, what the client proposes). */
static void
dyn_finish(struct ios_parser *p, struct ios_map *m, struct ios_acl **acl)
{
	char why[3 * CFG_NAME_MAX] = "";

	if (m->n_xf == 0) {
		ERR_AT(p, m->line, "crypto dynamic-map %s %u has no set transform-set", m->name,
		       m->seq);
		m->bad = 1;
	}
	map_refs(p, m, acl, why, sizeof(why));
}

/* A binding needs its dynamic map. The agent tries dynamic entries after
 * every static one; IOS in sequence order, which says so when they differ. */
static void
bind_finish(struct ios_parser *p, struct ios_map *b)
{
	int found = 0;

	for (size_t i = 0; i < p->n_map; i++) {
		struct ios_map *m = &p->map[i];

		if (m->kind == MAP_DYNAMIC && eq(m->name, b->dyn.name)) {
			m->used = 1;
			found = 1;
		}
	}
	if (!found) {
		ERR_AT(p, b->dyn.line, "crypto map %s %u ipsec-isakmp dynamic %s: crypto "
		       "dynamic-map %s is not defined in this file", b->name, b->seq, b->dyn.name,
		       b->dyn.name);
		b->bad = 1;
	}
	for (size_t i = 0; i < p->n_map; i++) {
		const struct ios_map *m = &p->map[i];

		if (m->kind == MAP_STATIC && m->seq > b->seq && eq(m->name, b->name)) {
			NOTE_AT(p, b->line, "crypto map %s %u (dynamic) comes before the static "
				"entry %s %u (line %u): the agent tries every static entry first",
				b->name, b->seq, m->name, m->seq, m->line);
			break;
		}
	}
}

static struct ios_object *
emit(struct ios_parser *p, enum ios_kind kind, unsigned line, json_t *body)
{
	struct ios_result *r = p->res;
	struct ios_object *o;

	if (body == NULL) {	/* not reachable with checked strings; never crash */
		ERR_AT(p, line, "cannot encode this object as JSON");
		return NULL;
	}
	if (kind != IOS_IKE_SETTINGS && kind != IOS_DPD)
		json_object_set_new(body, "type", json_string(ios_kind_names[kind]));
	r->objs = xreallocarray(r->objs, r->n_objs + 1, sizeof(*r->objs));
	o = &r->objs[r->n_objs++];
	*o = (struct ios_object){ .kind = kind, .line = line, .body = body,
				  .path = ios_kind_paths[kind], .method = "POST" };
	if (kind == IOS_IKE_SETTINGS || kind == IOS_DPD)
		o->method = "PUT";	/* singletons */
	return o;
}

static void
prefix_text(uint32_t a, unsigned len, char out[static 20])
{
	char s[16];

	ipv4_text(a, s);
	snprintf(out, 20, "%s/%u", s, len);
}

/* One matchAddress line: the protocol by its name when the API has one,
 * ports only when given, in the API's order. */
static json_t *
match_line(const struct ios_acl_entry *e)
{
	const char *name = cfg_proto_name(e->proto);
	json_t *l = json_object();
	char text[20];

	json_object_set_new(l, "action", json_string("permit"));
	json_object_set_new(l, "protocol", name ? json_string(name) : json_integer(e->proto));
	prefix_text(e->src, e->src_len, text);
	json_object_set_new(l, "source", json_string(text));
	if (e->src_port)
		json_object_set_new(l, "sourcePort", json_integer(e->src_port));
	prefix_text(e->dst, e->dst_len, text);
	json_object_set_new(l, "destination", json_string(text));
	if (e->dst_port)
		json_object_set_new(l, "destinationPort", json_integer(e->dst_port));
	return l;
}

/* transformSets, matchAddress, pfs and lifetimes: what static and dynamic
 * entries share; a is NULL without match address. */
static void
map_body(struct ios_parser *p, const struct ios_map *m, const struct ios_acl *a, json_t *b)
{
	json_t *xs = json_array();

	for (size_t i = 0; i < m->n_xf; i++)
		json_array_append_new(xs, json_pack("{s:s, s:s}", "name", m->xf[i].name, "type",
						    ios_kind_names[IOS_TRANSFORM_SET]));
	json_object_set_new(b, "transformSets", xs);
	if (a != NULL) {
		json_t *match = json_array();

		for (size_t i = 0; i < a->n_kept; i++)
			json_array_append_new(match, match_line(&a->e[i]));
		json_object_set_new(b, "matchAddress", match);
	}
	json_object_set_new(b, "pfs", cfg_pfs_names[m->pfs] ? json_string(cfg_pfs_names[m->pfs])
			    : json_null());
	json_object_set_new(b, "lifetimeSeconds", json_integer(m->life_s ? m->life_s :
							       p->sa_life_s ? p->sa_life_s : 3600));
	json_object_set_new(b, "lifetimeKilobytes", json_integer(m->life_kb ? m->life_kb :
					p->sa_life_kb ? p->sa_life_kb : 4608000));
}

/* body.transformSets[i] names objs[xf_index[i]]. */
static void
xform_refs(struct ios_object *o, const size_t *xf_index, size_t n)
{
	for (size_t i = 0; i < n; i++)
		o->refs[o->n_refs++] = (struct ios_objref){ xf_index[i], "transformSets", (int)i };
}

static void
emit_map(struct ios_parser *p, struct ios_map *m, const struct ios_acl *a, const size_t *xf_index)
{
	json_t *b = json_object(), *peers = json_array();
	struct ios_object *o;
	char name[CFG_NAME_MAX + 8];

	snprintf(name, sizeof(name), "%s-%u", m->name, m->seq);
	for (size_t i = 0; i < m->n_peers; i++)
		json_array_append_new(peers, json_string(m->peers[i]));
	json_object_set_new(b, "name", json_string(name));
	json_object_set_new(b, "sequence", json_integer(m->seq));
	json_object_set_new(b, "peers", peers);
	map_body(p, m, a, b);
	if (m->description)
		json_object_set_new(b, "description", json_string(m->description));
	if ((o = emit(p, IOS_CRYPTO_MAP, m->line, b)) != NULL)
		xform_refs(o, xf_index, m->n_xf);
}

/* Dynamic entry e of binding bind, with what bind's map says to clients
 * (s: NULL when it says nothing). */
static void
emit_dyn(struct ios_parser *p, const struct ios_map *bind, const struct ios_map *e,
	 const struct ios_mapset *s, const struct ios_acl *a, const size_t *xf_index,
	 const char *name)
{
	json_t *b = json_object();
	struct ios_object *o;

	json_object_set_new(b, "name", json_string(name));
	json_object_set_new(b, "sequence", json_integer(bind->seq));
	map_body(p, e, a, b);
	if (s != NULL && s->pool != NULL)
		json_object_set_new(b, "addressPool", json_pack("{s:s, s:s}", "name",
			s->pool->name, "type", ios_kind_names[IOS_IP_POOL]));
	json_object_set_new(b, "clientConfiguration", json_pack("{s:b, s:b}", "initiate",
		s != NULL && s->initiate, "respond", s != NULL && s->respond));
	json_object_set_new(b, "dnsServers", json_array());	/* no IOS line without */
	json_object_set_new(b, "splitTunnel", json_array());	/* Easy VPN groups */
	json_object_set_new(b, "xauth", json_boolean(s != NULL && s->xauth));
	if (e->description)
		json_object_set_new(b, "description", json_string(e->description));
	if ((o = emit(p, IOS_DYNAMIC_MAP, bind->line, b)) == NULL)
		return;
	xform_refs(o, xf_index, e->n_xf);
	if (s != NULL && s->pool != NULL)
		o->refs[o->n_refs++] = (struct ios_objref){ s->pool->obj, "addressPool", -1 };
}

/* The objects of an entry's transform sets; 0 when every one was sent. */
static int
map_xforms(struct ios_parser *p, const struct ios_map *m, const size_t *xf_obj, size_t *idx)
{
	for (size_t j = 0; j < m->n_xf; j++) {
		struct ios_xform *x = xform_find(p, m->xf[j].name);

		if (x == NULL || x->bad)
			return -1;
		idx[j] = xf_obj[x - p->xf];
	}
	return 0;
}

static int
dyn_cmp(const void *a, const void *b)
{
	const struct ios_map *x = *(const struct ios_map *const *)a;
	const struct ios_map *y = *(const struct ios_map *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int
dyn_name_taken(const struct ios_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_objs; i++)
		if (r->objs[i].kind == IOS_DYNAMIC_MAP &&
		    eq(json_string_value(json_object_get(r->objs[i].body, "name")), name))
			return 1;
	return 0;
}

/* One dynamic entry per binding and entry of its dynamic map, in IOS's
 * order: the binding's sequence, then the dynamic map's. Named MAP-SEQ, or
 * MAP-SEQ-DYNSEQ when the dynamic map has several entries (zero-padded, so
 * that name order is sequence order). */
static void
emit_bindings(struct ios_parser *p, struct ios_acl **acls, const size_t *xf_obj)
{
	struct ios_map **dyn = xcalloc(p->n_map + 1, sizeof(*dyn));
	size_t n_dyn = 0, n_out = 0, idx[CFG_MAP_XFORMS_MAX];
	char name[CFG_NAME_MAX + 16];

	for (size_t i = 0; i < p->n_map; i++)
		if (p->map[i].kind == MAP_DYNAMIC)
			dyn[n_dyn++] = &p->map[i];
	qsort(dyn, n_dyn, sizeof(*dyn), dyn_cmp);
	for (size_t i = 0; i < p->n_map; i++) {
		const struct ios_map *b = &p->map[i];
		const struct ios_mapset *s = ios_mapset_find(p, b->name);
		size_t lo = 0, hi;
		int width;

		if (b->kind != MAP_BINDING || b->bad ||
		    (s != NULL && (s->bad || (s->pool != NULL && s->pool->err != NULL))))
			continue;
		while (lo < n_dyn && !eq(dyn[lo]->name, b->dyn.name))
			lo++;
		for (hi = lo; hi < n_dyn && eq(dyn[hi]->name, b->dyn.name); hi++)
			;
		width = hi > lo ? snprintf(NULL, 0, "%u", dyn[hi - 1]->seq) : 0;
		for (size_t k = lo; k < hi; k++) {
			const struct ios_map *e = dyn[k];

			if (e->bad || map_xforms(p, e, xf_obj, idx) == -1)
				continue;
			if (hi - lo == 1)
				snprintf(name, sizeof(name), "%s-%u", b->name, b->seq);
			else
				snprintf(name, sizeof(name), "%s-%u-%0*u", b->name, b->seq, width,
					 e->seq);
			if (n_out == IOS_OBJECTS_MAX) {
				ERR_AT(p, b->dyn.line, "more than %d dynamic crypto map entries: "
				       "import-ios takes at most %d a file (split it)",
				       IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
				goto done;
			}
			if (dyn_name_taken(p->res, name)) {
				ERR_AT(p, b->dyn.line, "crypto map %s %u: its dynamic entry would be "
				       "named %s, as another one is; rename a crypto map", b->name,
				       b->seq, name);
				continue;
			}
			emit_dyn(p, b, e, s, acls[e - p->map], idx, name);
			n_out++;
		}
	}
done:
	free(dyn);
}

/* interface TunnelN: mtu only when ip mtu says (else the API's 1400). */
static void
emit_tunnel(struct ios_parser *p, const struct ios_tunnel *t)
{
	json_t *b = json_object();
	char text[20];

	json_object_set_new(b, "name", json_string(t->name));
	if (t->description)
		json_object_set_new(b, "description", json_string(t->description));
	prefix_text(t->addr, t->prefix_len, text);
	json_object_set_new(b, "address", json_string(text));
	ipv4_text(t->source, text);
	json_object_set_new(b, "tunnelSource", json_string(text));
	ipv4_text(t->destination, text);
	json_object_set_new(b, "tunnelDestination", json_string(text));
	if (t->mtu)
		json_object_set_new(b, "mtu", json_integer(t->mtu));
	json_object_set_new(b, "shutdown", json_boolean(t->shutdown));
	emit(p, IOS_TUNNEL_IF, t->line, b);
}

static void
emit_all(struct ios_parser *p, struct ios_acl **acls)
{
	char name[64], a[16], m[16];
	size_t xf_obj[IOS_OBJECTS_MAX], base, idx[CFG_MAP_XFORMS_MAX];

	if (p->id_line || p->nat_line) {
		json_t *b = json_object();

		if (p->id_line)
			json_object_set_new(b, "identity",
					    json_string(cfg_ike_identity_names[p->identity]));
		if (p->nat_line)
			json_object_set_new(b, "natKeepaliveSeconds",
					    json_integer(p->nat_keepalive));
		emit(p, IOS_IKE_SETTINGS, p->id_line ? p->id_line : p->nat_line, b);
	}
	if (p->dpd_line)
		emit(p, IOS_DPD, p->dpd_line, json_pack("{s:i, s:i, s:i, s:s}", "keepaliveSeconds",
			(int)p->dpd_keepalive, "retrySeconds", (int)p->dpd_retry, "retries", 5,
			"mode", cfg_dpd_mode_names[p->dpd_mode]));
	for (size_t i = 0; i < p->n_pol; i++) {
		struct ios_policy *pol = &p->pol[i];

		if (pol->bad)
			continue;
		snprintf(name, sizeof(name), "isakmp-policy-%u", pol->prio);
		emit(p, IOS_IKE_POLICY, pol->line, json_pack(
			"{s:s, s:i, s:s, s:s, s:s, s:i, s:i}", "name", name, "priority",
			(int)pol->prio, "encryption", cfg_ike_enc_names[pol->enc], "hash",
			cfg_ike_hash_names[pol->hash], "authentication",
			cfg_ike_auth_names[pol->auth], "group",
			pol->group, "lifetimeSeconds",
			(int)(pol->lifetime ? pol->lifetime : 86400)));
	}
	for (size_t i = 0; i < p->n_psk; i++) {
		struct ios_psk *k = &p->psk[i];

		ipv4_text(k->addr, a);
		ipv4_text(k->mask, m);
		if (k->mask == 0)
			snprintf(name, sizeof(name), "psk-any");
		else if (k->mask == UINT32_MAX)
			snprintf(name, sizeof(name), "psk-%s", a);
		else
			snprintf(name, sizeof(name), "psk-%s/%d", a, ipv4_mask_len(k->mask));
		emit(p, IOS_PSK, k->line, json_pack("{s:s, s:s, s:s, s:s}", "name", name, "key",
						    k->key, "address", a, "mask", m));
	}
	base = p->res->n_objs;
	for (size_t i = 0, n = 0; i < p->n_xf; i++) {
		struct ios_xform *x = &p->xf[i];

		xf_obj[i] = base + n;
		if (x->bad)
			continue;
		if (emit(p, IOS_TRANSFORM_SET, x->line, json_pack("{s:s, s:s, s:o, s:s}", "name",
			 x->name, "esp", cfg_esp_enc_names[x->esp], "auth",
			 cfg_esp_auth_names[x->auth] ? json_string(cfg_esp_auth_names[x->auth]) :
			 json_null(), "mode", cfg_esp_mode_names[x->mode])) != NULL)
			n++;
		else
			x->bad = 1;
	}
	for (size_t i = 0; i < p->n_ippool; i++) {
		struct ios_pool *pool = &p->ippool[i];

		if (!pool->used || pool->err)
			continue;
		ipv4_text(pool->start, a);
		ipv4_text(pool->end, m);
		pool->obj = p->res->n_objs;	/* ippool: no netmask line in IOS */
		if (emit(p, IOS_IP_POOL, pool->line, json_pack("{s:s, s:s, s:s}", "name",
			 pool->name, "start", a, "end", m)) == NULL)
			pool->err = xstrdup("not sent");	/* its maps are not either */
	}
	for (size_t i = 0; p->xauth && i < p->n_user; i++) {
		const struct ios_user *u = &p->user[i];

		if (u->err == NULL)
			emit(p, IOS_LOCAL_USER, u->line, json_pack("{s:s, s:s}", "name", u->name,
								   "password", u->password));
	}
	for (size_t i = 0; i < p->n_map; i++) {
		struct ios_map *mp = &p->map[i];

		if (mp->kind == MAP_STATIC && !mp->bad && map_xforms(p, mp, xf_obj, idx) == 0)
			emit_map(p, mp, acls[i], idx);
	}
	emit_bindings(p, acls, xf_obj);
	for (size_t i = 0; i < p->n_tun; i++)
		if (!p->tun[i].bad)
			emit_tunnel(p, &p->tun[i]);
}

void
ios_finish(struct ios_parser *p)
{
	struct ios_acl **acls = xcalloc(p->n_map + 1, sizeof(*acls));

	for (size_t i = 0; i < p->n_pol; i++)
		ios_policy_finish(p, &p->pol[i]);
	ios_pki_finish(p);
	for (size_t i = 0; i < p->n_map; i++) {
		if (p->map[i].kind == MAP_STATIC)
			map_finish(p, &p->map[i], &acls[i]);
		else if (p->map[i].kind == MAP_BINDING)
			bind_finish(p, &p->map[i]);
	}
	for (size_t i = 0; i < p->n_map; i++) {
		struct ios_map *m = &p->map[i];

		if (m->kind == MAP_DYNAMIC && m->used)
			dyn_finish(p, m, &acls[i]);
		else if (m->kind == MAP_DYNAMIC)
			NOTE_AT(p, m->line, "crypto dynamic-map %s %u is not used by a crypto map "
				"(crypto map NAME SEQ ipsec-isakmp dynamic %s): skipped", m->name,
				m->seq, m->name);
	}
	ios_client_finish(p);
	ios_tunnel_finish(p, acls);
	for (size_t i = 0; i < p->n_acl; i++)
		if (!p->acl[i].used)
			NOTE_AT(p, p->acl[i].line, "access list %s is not used by a crypto "
				"map: skipped", p->acl[i].name);
	emit_all(p, acls);
	free(acls);
}
