/*
 * IOS translator, end of file: IOS's defaults for what a policy leaves out,
 * references (transform sets, access lists) resolved, then the API objects
 * in dependency order: settings, policies, keys, transform sets, maps.
 */
#include "cli/ios_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

const char *const ios_kind_names[IOS_KIND__COUNT] = {
	[IOS_IKE_SETTINGS] = "ikesettings", [IOS_DPD] = "dpdsettings",
	[IOS_IKE_POLICY] = "ikepolicy", [IOS_PSK] = "presharedkey",
	[IOS_TRANSFORM_SET] = "transformset", [IOS_CRYPTO_MAP] = "cryptomap",
};
static_assert(ARRAY_LEN(ios_kind_names) == IOS_KIND__COUNT, "one name per kind");

const char *const ios_kind_paths[IOS_KIND__COUNT] = {
	[IOS_IKE_SETTINGS] = "/devicesettings/default/ike",
	[IOS_DPD] = "/devicesettings/default/dpd",
	[IOS_IKE_POLICY] = "/object/ikepolicies", [IOS_PSK] = "/object/presharedkeys",
	[IOS_TRANSFORM_SET] = "/object/transformsets", [IOS_CRYPTO_MAP] = "/object/cryptomaps",
};
static_assert(ARRAY_LEN(ios_kind_paths) == IOS_KIND__COUNT, "one path per kind");
static_assert(IOS_REFS_MAX == CFG_MAP_XFORMS_MAX, "a map's refs are its transform sets");

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
		       "extended list; a crypto map needs permit ip lines (access-list 100-199, "
		       "2000-2699 or ip access-list extended)", a->name, a->name);
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
	for (size_t i = 0; i < m->n_xf; i++) {
		struct ios_xform *x = xform_find(p, m->xf[i].name);

		if (x == NULL) {
			ERR_AT(p, m->xf[i].line, "set transform-set: transform set %s is "
			       "not defined in this file", m->xf[i].name);
			m->bad = 1;
		} else if (x->bad) {
			why_add(why, sizeof(why), "transform set", x->name);
		}
	}
	*acl = m->acl.name[0] ? map_acl(p, m, why, sizeof(why)) : NULL;
	if (*acl == NULL)
		m->bad = 1;
	if (why[0] && !m->bad)
		NOTE_AT(p, m->line, "crypto map %s %u is not translated: it uses what was "
			"refused (%s)", m->name, m->seq, why);
	if (why[0])
		m->bad = 1;
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

static void
emit_map(struct ios_parser *p, struct ios_map *m, const struct ios_acl *a, const size_t *xf_index)
{
	json_t *b = json_object(), *peers = json_array(), *xs = json_array(), *match = json_array();
	struct ios_object *o;
	char name[CFG_NAME_MAX + 8], src[20], dst[20];

	snprintf(name, sizeof(name), "%s-%u", m->name, m->seq);
	for (size_t i = 0; i < m->n_peers; i++)
		json_array_append_new(peers, json_string(m->peers[i]));
	for (size_t i = 0; i < m->n_xf; i++)
		json_array_append_new(xs, json_pack("{s:s, s:s}", "name", m->xf[i].name, "type",
						    ios_kind_names[IOS_TRANSFORM_SET]));
	for (size_t i = 0; i < a->n_kept; i++) {
		prefix_text(a->e[i].src, a->e[i].src_len, src);
		prefix_text(a->e[i].dst, a->e[i].dst_len, dst);
		json_array_append_new(match, json_pack("{s:s, s:s, s:s, s:s}", "action", "permit",
						       "protocol", "ip", "source", src,
						       "destination", dst));
	}
	json_object_set_new(b, "name", json_string(name));
	json_object_set_new(b, "sequence", json_integer(m->seq));
	json_object_set_new(b, "peers", peers);
	json_object_set_new(b, "transformSets", xs);
	json_object_set_new(b, "matchAddress", match);
	json_object_set_new(b, "pfs", cfg_pfs_names[m->pfs] ? json_string(cfg_pfs_names[m->pfs])
			    : json_null());
	json_object_set_new(b, "lifetimeSeconds", json_integer(m->life_s ? m->life_s :
							       p->sa_life_s ? p->sa_life_s : 3600));
	json_object_set_new(b, "lifetimeKilobytes", json_integer(m->life_kb ? m->life_kb :
					p->sa_life_kb ? p->sa_life_kb : 4608000));
	if (m->description)
		json_object_set_new(b, "description", json_string(m->description));
	if ((o = emit(p, IOS_CRYPTO_MAP, m->line, b)) == NULL)
		return;
	for (size_t i = 0; i < m->n_xf; i++)
		o->refs[i] = xf_index[i];
	o->n_refs = m->n_xf;
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
			cfg_ike_hash_names[pol->hash], "authentication", "pre-share", "group",
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
	for (size_t i = 0; i < p->n_map; i++) {
		struct ios_map *mp = &p->map[i];
		int ok = !mp->bad;

		for (size_t j = 0; ok && j < mp->n_xf; j++) {
			struct ios_xform *x = xform_find(p, mp->xf[j].name);

			ok = x != NULL && !x->bad;
			idx[j] = ok ? xf_obj[x - p->xf] : 0;
		}
		if (ok)
			emit_map(p, mp, acls[i], idx);
	}
}

void
ios_finish(struct ios_parser *p)
{
	struct ios_acl **acls = xcalloc(p->n_map + 1, sizeof(*acls));

	for (size_t i = 0; i < p->n_pol; i++)
		ios_policy_finish(p, &p->pol[i]);
	for (size_t i = 0; i < p->n_map; i++)
		map_finish(p, &p->map[i], &acls[i]);
	for (size_t i = 0; i < p->n_acl; i++)
		if (!p->acl[i].used)
			NOTE_AT(p, p->acl[i].line, "access list %s is not used by a crypto "
				"map: skipped", p->acl[i].name);
	emit_all(p, acls);
	free(acls);
}
