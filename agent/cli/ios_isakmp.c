/*
 * IOS translator: the IKE side, crypto isakmp policy (with IOS's defaults
 * for left-out lines), key, keepalive, identity and nat keepalive, and
 * crypto ipsec transform-set. Each refusal names the setting and what to
 * write instead.
 */
#include "cli/ios_int.h"
#include "core/dpd_range.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- crypto isakmp policy ---------------------------------------------- */

void
ios_policy_open(struct ios_parser *p)
{
	unsigned prio;
	size_t i;

	if (p->l.nw != 4 || ios_num(W(p, 3), 1, 10000, &prio) == -1) {
		ERR(p, "crypto isakmp policy takes one priority, 1-10000");
		p->mode = M_UNSUPPORTED;
		return;
	}
	for (i = 0; i < p->n_pol && p->pol[i].prio != prio; i++)
		;
	if (i == p->n_pol) {
		if (p->n_pol == CFG_IKE_POLICIES_MAX) {
			ERR(p, "crypto isakmp policy %u: more than %d IKE policies: the agent "
			    "proposes at most %d; merge policies with the same settings", prio,
			    CFG_IKE_POLICIES_MAX, CFG_IKE_POLICIES_MAX);
			p->mode = M_UNSUPPORTED;
			return;
		}
		p->pol = grow(p->pol, p->n_pol, sizeof(*p->pol));
		p->pol[p->n_pol++] = (struct ios_policy){ .line = p->lineno, .prio = prio,
							  .enc = -1, .hash = -1, .auth = -1,
							  .group = -1 };
	}
	p->cur = i;
	p->mode = M_POLICY;
}

static int
policy_encryption(struct ios_parser *p, struct ios_policy *pol)
{
	const char *a = W(p, 1), *b = W(p, 2);

	pol->enc_seen = 1;
	if (eq(a, "des") || eq(a, "3des")) {
		ERR(p, "%.*s: %s is insecure and not supported; use encryption aes (or "
		    "encryption aes 256)", upto(p, 1), p->l.raw, eq(a, "des") ? "DES" : "3DES");
		return -1;
	}
	if (!eq(a, "aes") || p->l.nw > 3) {
		ERR(p, "%.*s: not an encryption the agent supports; use encryption aes (or "
		    "encryption aes 256)", upto(p, 3), p->l.raw);
		return -1;
	}
	if (p->l.nw == 3 && eq(b, "192")) {
		ERR(p, "%.*s: AES-192 is not supported; use encryption aes (128) or encryption "
		    "aes 256", upto(p, 2), p->l.raw);
		return -1;
	}
	if (p->l.nw == 3 && !eq(b, "128") && !eq(b, "256")) {
		ERR(p, "%.*s: the AES key size is 128 or 256", upto(p, 2), p->l.raw);
		return -1;
	}
	pol->enc = eq(b, "256") ? CFG_IKE_ENC_AES256 : CFG_IKE_ENC_AES;
	return 0;
}

static int
policy_hash(struct ios_parser *p, struct ios_policy *pol)
{
	const char *a = W(p, 1);

	pol->hash_seen = 1;
	if (p->l.nw == 2 && (eq(a, "sha") || eq(a, "sha256"))) {
		pol->hash = eq(a, "sha") ? CFG_IKE_HASH_SHA : CFG_IKE_HASH_SHA256;
		return 0;
	}
	if (eq(a, "md5"))
		ERR(p, "hash md5: MD5 is insecure and not supported; use hash sha256 (or hash "
		    "sha)");
	else
		ERR(p, "%.*s: not a hash the agent supports; use hash sha256 (or hash sha)",
		    upto(p, 2), p->l.raw);
	return -1;
}

/* pre-share, or signatures with the certificates given through the API
 * . rsa-encr needs the peers' RSA keys typed in (crypto key
 * pubkey-chain), which the agent does not take. */
static int
policy_auth(struct ios_parser *p, struct ios_policy *pol)
{
	const char *a = W(p, 1);

	pol->auth_seen = 1;
	if (p->l.nw == 2) {
		for (int i = 0; i < CFG_IKE_AUTH__COUNT; i++)
			if (eq(a, cfg_ike_auth_names[i])) {
				pol->auth = i;
				return 0;
			}
	}
	if (eq(a, "rsa-encr"))
		ERR(p, "authentication rsa-encr: RSA encrypted nonces are not supported; use "
		    "authentication rsa-sig with certificates (crypto pki trustpoint; the "
		    "certificates come through the API), or authentication pre-share with "
		    "crypto isakmp key");
	else
		ERR(p, "%.*s: not supported; use authentication pre-share (with crypto isakmp "
		    "key) or authentication rsa-sig (with certificates)", upto(p, 2), p->l.raw);
	return -1;
}

static int
policy_group(struct ios_parser *p, struct ios_policy *pol)
{
	unsigned g = 0;

	pol->group_seen = 1;
	if (p->l.nw != 2 || ios_num(W(p, 1), 1, 100, &g) == -1) {
		ERR(p, "%.*s: group takes a Diffie-Hellman group number; use group 14 (or "
		    "group 19)", upto(p, 2), p->l.raw);
		return -1;
	}
	if (g == 14 || g == 19 || g == 2) {
		if (g == 2)
			NOTE(p, "group 2: accepted because it is set explicitly, but 1024-bit MODP "
			     "is weak; use group 14 or 19");
		pol->group = (int)g;
		return 0;
	}
	if (g == 1 || g == 5)
		ERR(p, "group %u: DH group %u (%s-bit MODP) is %s and not supported; use group 14 "
		    "(or group 19)", g, g, g == 1 ? "768" : "1536", g == 1 ? "insecure" :
		    "too weak");
	else
		ERR(p, "group %u: not supported (DH groups 14, 19 and, when asked for, 2); use "
		    "group 14 (or group 19)", g);
	return -1;
}

void
ios_policy_line(struct ios_parser *p)
{
	struct ios_policy *pol = &p->pol[p->cur];
	const char *w0 = W(p, 0);
	int rc = 0;

	if (eq(w0, "exit")) {
		p->mode = M_GLOBAL;
		return;
	}
	if (!ios_line_ok(p)) {
		pol->bad = 1;
		return;
	}
	if (eq(w0, "encryption")) {
		rc = policy_encryption(p, pol);
	} else if (eq(w0, "hash")) {
		rc = policy_hash(p, pol);
	} else if (eq(w0, "group")) {
		rc = policy_group(p, pol);
	} else if (eq(w0, "authentication")) {
		rc = policy_auth(p, pol);
	} else if (eq(w0, "lifetime")) {
		if (p->l.nw != 2 || ios_num(W(p, 1), 60, 86400, &pol->lifetime) == -1) {
			ERR(p, "%.*s: the IKE SA lifetime is 60-86400 seconds", upto(p, 2),
			    p->l.raw);
			rc = -1;
		}
	} else {
		ERR(p, "%.*s: not supported in crypto isakmp policy", upto(p, 1), p->l.raw);
		rc = -1;
	}
	if (rc == -1)
		pol->bad = 1;
}

/* IOS's defaults for what the policy leaves out (hash sha, authentication
 * rsa-sig, lifetime 86400 honoured; encryption DES and group 1 refused). */
void
ios_policy_finish(struct ios_parser *p, struct ios_policy *pol)
{
	if (!pol->enc_seen)
		ERR_AT(p, pol->line, "crypto isakmp policy %u has no encryption line: IOS's "
		       "default is DES, which is insecure and not supported; add encryption aes "
		       "(or encryption aes 256)", pol->prio);
	if (!pol->group_seen)
		ERR_AT(p, pol->line, "crypto isakmp policy %u has no group line: IOS's "
		       "default is group 1 (768-bit MODP), which is insecure and not "
		       "supported; add group 14 (or group 19)", pol->prio);
	if (!pol->hash_seen) {
		NOTE_AT(p, pol->line, "crypto isakmp policy %u has no hash line: IOS's "
			"default sha (HMAC-SHA1) is used; hash sha256 is stronger", pol->prio);
		pol->hash = CFG_IKE_HASH_SHA;
	}
	if (!pol->auth_seen) {
		NOTE_AT(p, pol->line, "crypto isakmp policy %u has no authentication line: "
			"IOS's default rsa-sig (certificates) is used; the certificates come "
			"through the API", pol->prio);
		pol->auth = CFG_IKE_AUTH_RSA_SIG;
	}
	if (!pol->enc_seen || !pol->group_seen)
		pol->bad = 1;
}

/* ---- crypto ipsec transform-set ---------------------------------------- */

/* One IOS transform at word i; returns the words it took (a refused one
 * marks the set bad). */
static int
transform(struct ios_parser *p, struct ios_xform *x, int i)
{
	const char *t = W(p, i), *size = W(p, i + 1);
	int sized = size[0] >= '0' && size[0] <= '9';

	if (eq(t, "esp-aes") || eq(t, "esp-gcm")) {
		int gcm = eq(t, "esp-gcm");

		if (sized && !eq(size, "128") && !eq(size, "256")) {
			ERR(p, "%s %.8s: %s; use %s or %s 256", t, size, eq(size, "192") ?
			    "AES-192 is not supported" : "the key size is 128 or 256", t, t);
			x->bad = 1;
			return 2;
		}
		if (x->esp != -1) {
			ERR(p, "%s: a transform set takes one encryption transform", t);
			x->bad = 1;
			return 1 + sized;
		}
		x->esp = eq(size, "256") ? (gcm ? CFG_ESP_GCM256 : CFG_ESP_AES256) :
			 (gcm ? CFG_ESP_GCM : CFG_ESP_AES);
		return 1 + sized;
	}
	if (eq(t, "esp-sha-hmac") || eq(t, "esp-sha256-hmac")) {
		if (x->auth != CFG_ESP_AUTH_NONE) {
			ERR(p, "%s: a transform set takes one authentication transform", t);
			x->bad = 1;
			return 1;
		}
		x->auth = eq(t, "esp-sha-hmac") ? CFG_ESP_AUTH_SHA1 : CFG_ESP_AUTH_SHA256;
		return 1;
	}
	if (eq(t, "esp-des") || eq(t, "esp-3des"))
		ERR(p, "%s: %s is insecure and not supported; use esp-aes (or esp-aes 256, esp-gcm "
		    "256)", t, eq(t, "esp-des") ? "DES" : "3DES");
	else if (eq(t, "esp-md5-hmac"))
		ERR(p, "esp-md5-hmac: MD5 is insecure and not supported; use esp-sha256-hmac (or "
		    "esp-sha-hmac)");
	else if (eq(t, "esp-null") || eq(t, "esp-gmac"))
		ERR(p, "%s: ESP without encryption is not supported; use esp-aes 256 or esp-gcm "
		    "256", t);
	else if (strncmp(t, "ah-", 3) == 0)
		ERR(p, SHOW ": AH is not supported (ESP only); drop it and authenticate with "
		    "esp-sha256-hmac", t);
	else if (eq(t, "comp-lzs"))
		ERR(p, "comp-lzs: IP compression is not supported; drop it");
	else
		ERR(p, SHOW ": not a transform the agent supports (esp-aes [256], esp-gcm [256], "
		    "esp-sha-hmac, esp-sha256-hmac)", t);
	x->bad = 1;
	return 1;
}

void
ios_xform_open(struct ios_parser *p)
{
	const char *name = W(p, 3);
	struct ios_xform *x;
	size_t i;

	if (p->l.nw < 5 || strlen(name) >= CFG_NAME_MAX) {
		ERR(p, "crypto ipsec transform-set takes a name (up to %d characters) and "
		    "transforms", CFG_NAME_MAX - 1);
		p->mode = M_UNSUPPORTED;
		return;
	}
	for (i = 0; i < p->n_xf && !eq(p->xf[i].name, name); i++)
		;
	if (i == p->n_xf) {
		if (p->n_xf == IOS_OBJECTS_MAX) {
			ERR(p, "more than %d transform sets: import-ios takes at most %d a "
			    "file (split it)", IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
			p->mode = M_UNSUPPORTED;
			return;
		}
		p->xf = grow(p->xf, p->n_xf, sizeof(*p->xf));
		p->xf[p->n_xf] = (struct ios_xform){ .line = p->lineno, .mode = CFG_ESP_TUNNEL };
		str_copy(p->xf[p->n_xf++].name, CFG_NAME_MAX, name);
	} else {
		NOTE(p, "transform set %s is defined again: these transforms replace those of "
		     "line %u", name, p->xf[i].line);
	}
	x = &p->xf[i];
	x->esp = -1;	/* a new transform-set line replaces the transforms */
	x->auth = CFG_ESP_AUTH_NONE;
	p->cur = i;
	p->mode = M_XFORM;
	for (int w = 4; w < p->l.nw;)
		w += transform(p, x, w);
	if (x->bad)
		return;
	if (x->esp == -1) {
		ERR(p, "transform set %s has no encryption transform; add esp-aes 256 (or esp-gcm "
		    "256)", x->name);
	} else if ((x->esp == CFG_ESP_GCM || x->esp == CFG_ESP_GCM256) &&
		   x->auth != CFG_ESP_AUTH_NONE) {
		ERR(p, "transform set %s: esp-gcm authenticates by itself; drop %s", x->name,
		    cfg_esp_auth_names[x->auth]);
	} else if ((x->esp == CFG_ESP_AES || x->esp == CFG_ESP_AES256) &&
		   x->auth == CFG_ESP_AUTH_NONE) {
		ERR(p, "transform set %s: esp-aes needs an authentication transform; add "
		    "esp-sha256-hmac (or esp-sha-hmac)", x->name);
	} else {
		return;
	}
	x->bad = 1;
}

void
ios_xform_line(struct ios_parser *p)
{
	struct ios_xform *x = &p->xf[p->cur];

	if (eq(W(p, 0), "exit")) {
		p->mode = M_GLOBAL;
	} else if (!ios_line_ok(p)) {
		x->bad = 1;
	} else if (eq(W(p, 0), "mode") && p->l.nw == 2 && eq(W(p, 1), "tunnel")) {
		x->mode = CFG_ESP_TUNNEL;
	} else if (eq(W(p, 0), "mode") && p->l.nw == 2 && eq(W(p, 1), "transport")) {
		x->mode = CFG_ESP_TRANSPORT;	/* GRE over IPsec */
	} else {
		ERR(p, "%.*s: not supported in a transform set (mode tunnel or mode transport)",
		    upto(p, 2), p->l.raw);
		x->bad = 1;
	}
}

/* ---- crypto isakmp key / keepalive / identity / nat keepalive ----------- */

/* crypto isakmp key [0|6] KEY address A [MASK] [no-xauth]. The key never
 * appears in a message. */
void
ios_psk_line(struct ios_parser *p)
{
	int k = 3, i, no_xauth;
	const char *key;
	uint32_t addr, mask = UINT32_MAX;
	char a[16], m[16], want[16];
	size_t j;

	if ((eq(W(p, 3), "0") || eq(W(p, 3), "6")) && p->l.nw >= 7)
		k = 4;
	if (k == 4 && eq(W(p, 3), "6")) {
		ERR(p, "crypto isakmp key 6: an encrypted key cannot be imported; write the key in "
		    "clear text (crypto isakmp key KEY address A)");
		return;
	}
	key = W(p, k);
	if (eq(W(p, k + 1), "hostname")) {
		ERR(p, "crypto isakmp key ... hostname: keys by host name are not supported; give "
		    "the peer's address (address A [MASK])");
		return;
	}
	if (p->l.nw < k + 3 || !eq(W(p, k + 1), "address") || eq(W(p, k + 2), "ipv6") ||
	    ipv4_parse(W(p, k + 2), &addr) == -1) {
		ERR(p, "crypto isakmp key: expected crypto isakmp key KEY address A.B.C.D [MASK]");
		return;
	}
	if (strlen(key) > CFG_PSK_MAX) {
		ERR(p, "crypto isakmp key: the key is longer than %d characters", CFG_PSK_MAX);
		return;
	}
	i = k + 3;
	if (i < p->l.nw && ipv4_parse(W(p, i), &mask) == 0)
		i++;
	else if (addr == 0)
		mask = 0;	/* address 0.0.0.0 alone: the wild card */
	no_xauth = i < p->l.nw && eq(W(p, i), "no-xauth");
	i += no_xauth;	/* the agent asks XAUTH on dynamic entries only */
	ipv4_text(addr, a);
	ipv4_text(mask, m);
	if (i < p->l.nw) {
		ERR(p, "crypto isakmp key ... address %s: unexpected " SHOW, a, W(p, i));
		return;
	}
	if (ipv4_mask_len(mask) == -1) {
		ERR(p, "crypto isakmp key ... address %s %s: the mask is not contiguous (a netmask "
		    "such as 255.255.255.0)", a, m);
		return;
	}
	if (addr & ~mask) {
		ipv4_text(addr & mask, want);
		ERR(p, "crypto isakmp key ... address %s %s: the address has bits outside the "
		    "mask; IOS would match %s/%d: write address %s %s, or mask 255.255.255.255 "
		    "for the one peer", a, m, want, ipv4_mask_len(mask), want, m);
		return;
	}
	if (addr == 0 && mask != 0) {
		ERR(p, "crypto isakmp key ... address 0.0.0.0 %s matches no peer; the wild card is "
		    "address 0.0.0.0 (mask 0.0.0.0)", m);
		return;
	}
	for (j = 0; j < p->n_psk && (p->psk[j].addr != addr || p->psk[j].mask != mask); j++)
		;
	if (j < p->n_psk) {
		NOTE(p, "crypto isakmp key for %s %s replaces the one of line %u (the last one "
		     "counts, as on IOS)", a, m, p->psk[j].line);
	} else if (p->n_psk == IOS_OBJECTS_MAX) {
		ERR(p, "more than %d pre-shared keys: import-ios takes at most %d a file (split "
		    "it)", IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
		return;
	} else {
		p->psk = grow(p->psk, p->n_psk, sizeof(*p->psk));
		p->psk[p->n_psk++].key = NULL;
	}
	free_secret(p->psk[j].key);
	p->psk[j] = (struct ios_psk){ .line = p->lineno, .addr = addr, .mask = mask,
				      .key = xstrdup(key), .no_xauth = no_xauth };
}

/* crypto isakmp keepalive SECONDS [RETRY] [periodic|on-demand]. */
void
ios_dpd_line(struct ios_parser *p)
{
	unsigned ka, retry = DPD_RETRY_DEFAULT;
	int i = 4, mode = CFG_DPD_ON_DEMAND;

	if (ios_num(W(p, 3), DPD_KEEPALIVE_MIN, DPD_KEEPALIVE_MAX, &ka) == -1) {
		ERR(p, "crypto isakmp keepalive: the keepalive is %d-%d seconds", DPD_KEEPALIVE_MIN,
		    DPD_KEEPALIVE_MAX);
		return;
	}
	if (i < p->l.nw && W(p, i)[0] >= '0' && W(p, i)[0] <= '9') {
		if (ios_num(W(p, i), DPD_RETRY_MIN, DPD_RETRY_MAX, &retry) == -1) {
			ERR(p, "crypto isakmp keepalive %u " SHOW ": the retry interval is %d-%d "
			    "seconds", ka, W(p, i), DPD_RETRY_MIN, DPD_RETRY_MAX);
			return;
		}
		i++;
	}
	if (eq(W(p, i), "periodic") || eq(W(p, i), "on-demand")) {
		mode = eq(W(p, i), "periodic") ? CFG_DPD_PERIODIC : CFG_DPD_ON_DEMAND;
		i++;
	}
	if (i < p->l.nw) {
		ERR(p, "crypto isakmp keepalive: unexpected " SHOW " (SECONDS [RETRY] [periodic|"
		    "on-demand])", W(p, i));
		return;
	}
	if (p->dpd_line)
		NOTE(p, "crypto isakmp keepalive replaces the one of line %u (the last one counts, "
		     "as on IOS)", p->dpd_line);
	p->dpd_line = p->lineno;
	p->dpd_keepalive = ka;
	p->dpd_retry = retry;
	p->dpd_mode = mode;
}

void
ios_identity_line(struct ios_parser *p)
{
	const char *id = W(p, 3);

	for (int i = 0; p->l.nw == 4 && i < CFG_IKE_ID__COUNT; i++)
		if (eq(id, cfg_ike_identity_names[i])) {
			if (p->id_line)
				NOTE(p, "crypto isakmp identity replaces the one of line %u",
				     p->id_line);
			p->id_line = p->lineno;
			p->identity = i;	/* dn: the subject of our certificate */
			return;
		}
	ERR(p, "crypto isakmp identity: address, hostname or dn");
}

void
ios_nat_line(struct ios_parser *p)
{
	unsigned s;

	if (p->l.nw != 5 || ios_num(W(p, 4), 5, 3600, &s) == -1) {
		ERR(p, "crypto isakmp nat keepalive: the interval is 5-3600 seconds");
		return;
	}
	p->nat_line = p->lineno;
	p->nat_keepalive = s;
}

/* set security-association lifetime seconds N | kilobytes N, at word i. */
int
ios_sa_lifetime(struct ios_parser *p, int i, unsigned *life_s, unsigned *life_kb)
{
	const char *unit = W(p, i);

	if (p->l.nw == i + 2 && eq(unit, "seconds") &&
	    ios_num(W(p, i + 1), 120, 86400, life_s) == 0)
		return 0;
	if (p->l.nw == i + 2 && eq(unit, "kilobytes") &&
	    ios_num(W(p, i + 1), 2560, UINT32_MAX, life_kb) == 0)
		return 0;
	ERR(p, "%.*s: lifetime seconds 120-86400 or lifetime kilobytes 2560-4294967295",
	    upto(p, i + 1), p->l.raw);
	return -1;
}
