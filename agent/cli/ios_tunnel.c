/*
 * IOS translator: interfaces. `interface TunnelN` (GRE, `tunnel mode gre
 * ip`) becomes a tunnel interface of the agent; the other
 * interfaces are skipped, but their `ip address` is kept for a `tunnel
 * source IFNAME` to name. At the end of the file each tunnel's source is
 * resolved and checked as the API would, and a tunnel whose GRE no crypto
 * map protects gets a note.
 */
#include "cli/ios_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* Words from..end as one interface name without blanks ("ethernet 1/0" is
 * "ethernet1/0"); a subinterface's point-to-point is not part of it. -1:
 * too long. */
static int
iface_name(const struct ios_parser *p, int from, char out[static CFG_NAME_MAX])
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = from; i < p->l.nw; i++) {
		const char *w = W(p, i);
		size_t n = strlen(w);

		if (i > from && (eq(w, "point-to-point") || eq(w, "multipoint")))
			break;
		if (len + n >= CFG_NAME_MAX)
			return -1;
		memcpy(out + len, w, n + 1);
		len += n;
	}
	return len > 0 ? 0 : -1;
}

/* "Tunnel0", "tunnel0": the tunnel's number. */
static int
tunnel_number(const char *name, unsigned *num)
{
	return strncasecmp(name, "tunnel", 6) == 0 ?
	    ios_num(name + 6, 0, 2147483647UL, num) : -1;
}

/* ---- interface TunnelN -------------------------------------------------- */

int
ios_tunnel_open(struct ios_parser *p)
{
	char name[CFG_NAME_MAX], dev[32];
	unsigned num;
	size_t i;

	if (iface_name(p, 1, name) == -1 || tunnel_number(name, &num) == -1)
		return -1;
	p->mode = M_UNSUPPORTED;	/* until it is taken */
	if (!ios_line_ok(p))
		return 0;
	snprintf(dev, sizeof(dev), "Tunnel%u", num);
	if (strlen(dev) > CFG_TUNNEL_IF_NAME_MAX) {
		ios_unsupported(p, "interface %s: its device would be named %s, longer than the "
				"%d characters of a Linux interface name; number it below "
				"1000000000", name, dev, CFG_TUNNEL_IF_NAME_MAX);
		return 0;
	}
	for (i = 0; i < p->n_tun && !eq(p->tun[i].name, dev); i++)
		;
	if (i == p->n_tun) {
		if (p->n_tun == IOS_OBJECTS_MAX) {
			ios_unsupported(p, "more than %d tunnel interfaces: import-ios takes at "
					"most %d a file (split it)", IOS_OBJECTS_MAX,
					IOS_OBJECTS_MAX);
			return 0;
		}
		p->tun = grow(p->tun, p->n_tun, sizeof(*p->tun));
		p->tun[p->n_tun] = (struct ios_tunnel){ .line = p->lineno };
		str_copy(p->tun[p->n_tun++].name, sizeof(p->tun[0].name), dev);
	}	/* else: IOS enters the same interface again */
	p->cur = i;
	p->mode = M_TUNNEL;
	return 0;
}

/* A line of the tunnel that lost its indentation in a document. */
int
ios_tunnel_sub(const struct ios_parser *p)
{
	static const char *const words[] = { "tunnel", "shutdown", "keepalive", "description",
					     "bandwidth", "delay", "load-interval" };
	static const char *const ip[] = { "address", "mtu", "unnumbered", "tcp", "ospf", "rip",
					  "split-horizon", "summary-address", "hello-interval",
					  "hold-time", "authentication" };
	static const char *const no[] = { "shutdown", "keepalive", "address", "redirects",
					  "unreachables", "proxy-arp", "split-horizon" };
	const char *w0 = W(p, 0), *w1 = W(p, 1), *w2 = W(p, 2);

	if (p->l.indented || (eq(w0, "crypto") && eq(w1, "map") && p->l.nw == 3))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (eq(w0, words[i]))
			return 1;
	for (size_t i = 0; eq(w0, "ip") && i < ARRAY_LEN(ip); i++)
		if (eq(w1, ip[i]))
			return 1;
	for (size_t i = 0; eq(w0, "no") && i < ARRAY_LEN(no); i++)
		if (eq(w1, no[i]) || (eq(w1, "ip") && eq(w2, no[i])))
			return 1;
	return 0;
}

/* ip address A MASK: the mask a contiguous one of 1-32 bits. */
static void
tunnel_address(struct ios_parser *p, struct ios_tunnel *t)
{
	uint32_t a, m;
	int len;

	if (eq(W(p, 4), "secondary")) {
		ERR(p, "ip address ... secondary: a tunnel interface of the agent has one address");
		t->bad = 1;
	} else if (p->l.nw != 4 || ipv4_parse(W(p, 2), &a) == -1 ||
		   ipv4_parse(W(p, 3), &m) == -1) {
		ERR(p, "%.*s: expected ip address A.B.C.D MASK (a tunnel interface needs an "
		    "address of its own)", upto(p, 3), p->l.raw);
		t->bad = 1;
	} else if ((len = ipv4_mask_len(m)) < 1) {
		ERR(p, "ip address %s %s: the mask is not a netmask (contiguous, 1 to 32 bits)",
		    W(p, 2), W(p, 3));
		t->bad = 1;
	} else {
		t->addr = a;
		t->prefix_len = (unsigned)len;
		t->addr_line = p->lineno;
	}
}

/* tunnel source A.B.C.D|IFNAME, tunnel destination A.B.C.D, tunnel mode. */
static void
tunnel_cmd(struct ios_parser *p, struct ios_tunnel *t)
{
	const char *w1 = W(p, 1), *w2 = W(p, 2);
	uint32_t a;

	if (eq(w1, "source") && p->l.nw >= 3) {
		t->src_line = p->lineno;
		t->src_if[0] = '\0';
		t->source = 0;
		if (ipv4_parse(w2, &t->source) == 0 && p->l.nw == 3)
			return;
		if (iface_name(p, 2, t->src_if) == 0)
			return;
		ERR(p, "tunnel source: expected an address or an interface name");
	} else if (eq(w1, "destination") && p->l.nw == 3) {
		if (ipv4_parse(w2, &a) == 0) {
			t->destination = a;
			t->dst_line = p->lineno;
			return;
		}
		ERR(p, "tunnel destination " SHOW ": not an IPv4 address (give the peer "
		    "gateway's address)", w2);
	} else if (eq(w1, "mode") && eq(w2, "gre") && eq(W(p, 3), "ip") && p->l.nw == 4) {
		return;	/* the default */
	} else if (eq(w1, "mode") && eq(w2, "ipsec")) {
		ERR(p, "%.*s: virtual tunnel interfaces are not supported; use tunnel mode gre ip "
		    "and a crypto map whose access list permits gre host SOURCE host DESTINATION",
		    upto(p, 3), p->l.raw);
	} else if (eq(w1, "mode")) {
		ERR(p, "%.*s: not supported; the agent's tunnel interfaces are GRE (tunnel mode "
		    "gre ip, the default)", upto(p, 3), p->l.raw);
	} else if (eq(w1, "protection")) {
		ERR(p, "%.*s: not supported; protect the tunnel with a crypto map whose access "
		    "list permits gre host SOURCE host DESTINATION (a transform set in mode "
		    "transport), as IOS 12.2 does", upto(p, 1), p->l.raw);
	} else if (eq(w1, "key")) {
		ERR(p, "tunnel key: GRE keys (RFC 2890) are not supported; remove the key on both "
		    "routers (a tunnel is told apart by its source and destination)");
	} else if (eq(w1, "checksum") || eq(w1, "sequence-datagrams")) {
		ERR(p, "tunnel %s: not supported (GRE as in RFC 2784, without checksums or "
		    "sequence numbers); remove it on both routers", w1);
	} else if (eq(w1, "path-mtu-discovery")) {
		NOTE(p, "tunnel path-mtu-discovery: ignored; the tunnel interface keeps its ip "
		     "mtu");
		return;
	} else {
		ERR(p, "%.*s: not supported in a tunnel interface", upto(p, 1), p->l.raw);
	}
	t->bad = 1;
}

/* Interface lines a routing protocol or the router's own tuning reads. */
static int
tunnel_ignored(struct ios_parser *p)
{
	static const char *const routing[] = { "ospf", "rip", "eigrp", "split-horizon",
					       "summary-address", "hello-interval", "hold-time",
					       "authentication" };
	static const char *const tuning[] = { "bandwidth", "delay", "load-interval", "cdp" };
	static const char *const no_ip[] = { "redirects", "unreachables", "proxy-arp" };
	int no = eq(W(p, 0), "no"), k = no;

	for (size_t i = 0; eq(W(p, k), "ip") && i < ARRAY_LEN(routing); i++) {
		if (eq(W(p, k + 1), routing[i])) {
			NOTE(p, "%.*s: not translated; the routing protocol runs on the host, over "
			     "the tunnel interface", upto(p, k + 1), p->l.raw);
			return 1;
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(tuning); i++)
		if (eq(W(p, k), tuning[i]))
			goto ignored;
	for (size_t i = 0; no && eq(W(p, 1), "ip") && i < ARRAY_LEN(no_ip); i++)
		if (eq(W(p, 2), no_ip[i]))
			goto ignored;
	if (eq(W(p, 0), "ip") && eq(W(p, 1), "tcp") && eq(W(p, 2), "adjust-mss"))
		goto ignored;
	return 0;
ignored:
	NOTE(p, "%.*s: ignored on a tunnel interface", upto(p, 2), p->l.raw);
	return 1;
}

void
ios_tunnel_line(struct ios_parser *p)
{
	struct ios_tunnel *t = &p->tun[p->cur];
	const char *w0 = W(p, 0), *w1 = W(p, 1);
	unsigned mtu;

	if (eq(w0, "exit")) {
		p->mode = M_GLOBAL;
	} else if (!ios_line_ok(p)) {
		t->bad = 1;
	} else if (eq(w0, "ip") && eq(w1, "address")) {
		tunnel_address(p, t);
	} else if (eq(w0, "no") && eq(w1, "ip") && eq(W(p, 2), "address") && p->l.nw == 3) {
		t->addr_line = 0;
	} else if (eq(w0, "ip") && eq(w1, "unnumbered")) {
		ERR(p, "ip unnumbered: not supported; give the tunnel interface an address of its "
		    "own (ip address A.B.C.D MASK)");
		t->bad = 1;
	} else if (eq(w0, "ip") && eq(w1, "mtu") && p->l.nw == 3) {
		if (ios_num(W(p, 2), CFG_TUNNEL_MTU_MIN, CFG_TUNNEL_MTU_MAX, &mtu) == 0) {
			t->mtu = mtu;
		} else {
			ERR(p, "ip mtu " SHOW ": the agent takes %d to %d (1500 less the outer IP "
			    "and GRE headers)", W(p, 2), CFG_TUNNEL_MTU_MIN, CFG_TUNNEL_MTU_MAX);
			t->bad = 1;
		}
	} else if (eq(w0, "tunnel")) {
		tunnel_cmd(p, t);
	} else if (eq(w0, "shutdown") && p->l.nw == 1) {
		t->shutdown = 1;
	} else if (eq(w0, "no") && eq(w1, "shutdown") && p->l.nw == 2) {
		t->shutdown = 0;
	} else if (eq(w0, "keepalive")) {
		ERR(p, "keepalive: GRE keepalives are not supported; DPD (crypto isakmp keepalive) "
		    "takes the tunnel interface down when the peer is dead");
		t->bad = 1;
	} else if (eq(w0, "no") && eq(w1, "keepalive") && p->l.nw == 2) {
		;	/* none is what the agent does */
	} else if (eq(w0, "description") && p->l.nw > 1) {
		free(t->description);
		t->description = NULL;
		if (strlen(p->l.raw + p->l.start[1]) > DESCRIPTION_MAX) {
			ERR(p, "description: longer than %d characters", DESCRIPTION_MAX);
			t->bad = 1;
		} else {
			t->description = xstrdup(p->l.raw + p->l.start[1]);
		}
	} else if (eq(w0, "crypto") && eq(w1, "map") && p->l.nw == 3) {
		;	/* IOS 12.2 wants it here too; the agent matches GRE by the map's ACL */
	} else if (!tunnel_ignored(p)) {
		ERR(p, "%.*s: not supported in a tunnel interface", upto(p, 1), p->l.raw);
		t->bad = 1;
	}
}

/* ---- the other interfaces: their address ------------------------------- */

void
ios_iface_open(struct ios_parser *p)
{
	char name[CFG_NAME_MAX];
	size_t i;

	p->iface_cur = 0;
	if (p->l.too_long || p->l.bad_col || iface_name(p, 1, name) == -1)
		return;
	for (i = 0; i < p->n_iface && strcasecmp(p->iface[i].name, name) != 0; i++)
		;
	if (i == p->n_iface) {
		if (p->n_iface == IOS_IFACES_MAX)
			return;	/* a tunnel source naming it is not resolved */
		p->iface = grow(p->iface, p->n_iface, sizeof(*p->iface));
		p->iface[p->n_iface] = (struct ios_iface){ .line = p->lineno };
		str_copy(p->iface[p->n_iface++].name, CFG_NAME_MAX, name);
	}
	p->iface_cur = i + 1;
}

/* Its primary address (not `secondary`), or none. */
void
ios_iface_line(struct ios_parser *p)
{
	struct ios_iface *f = p->iface_cur ? &p->iface[p->iface_cur - 1] : NULL;
	uint32_t a, m;

	if (f == NULL || p->l.too_long || p->l.bad_col)
		return;
	if (eq(W(p, 0), "ip") && eq(W(p, 1), "address") && p->l.nw == 4 &&
	    ipv4_parse(W(p, 2), &a) == 0 && ipv4_parse(W(p, 3), &m) == 0) {
		f->addr = a;
		f->addr_line = p->lineno;
	} else if (eq(W(p, 0), "no") && eq(W(p, 1), "ip") && eq(W(p, 2), "address")) {
		f->addr_line = 0;
	}
}

/* ---- end of file -------------------------------------------------------- */

/* "Gi0/0" names "GigabitEthernet0/0": the same number, and one type a
 * prefix of the other (two letters at least); an exact name first. */
static const struct ios_iface *
iface_find(const struct ios_parser *p, const char *name)
{
	size_t nt = strcspn(name, "0123456789");

	for (size_t i = 0; i < p->n_iface; i++)
		if (strcasecmp(p->iface[i].name, name) == 0)
			return &p->iface[i];
	for (size_t i = 0; nt >= 2 && i < p->n_iface; i++) {
		const char *f = p->iface[i].name;
		size_t ft = strcspn(f, "0123456789");

		if (ft >= 2 && strcasecmp(f + ft, name + nt) == 0 &&
		    strncasecmp(f, name, nt < ft ? nt : ft) == 0)
			return &p->iface[i];
	}
	return NULL;
}

static int
unicast(uint32_t a)
{
	return (a >> 24) != 0 && (a >> 24) != 127 && a < 0xe0000000;
}

static uint32_t
mask_of(unsigned len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* tunnel source IFNAME: that interface's ip address in this file. */
static int
source_resolve(struct ios_parser *p, struct ios_tunnel *t)
{
	const struct ios_iface *f;

	if (t->src_if[0] == '\0')
		return 0;
	if ((f = iface_find(p, t->src_if)) == NULL) {
		ERR_AT(p, t->src_line, "tunnel source %s: interface %s is not in this file; write "
		       "tunnel source A.B.C.D (this gateway's address)", t->src_if, t->src_if);
		return -1;
	}
	if (f->addr_line == 0) {
		ERR_AT(p, t->src_line, "tunnel source %s: interface %s (line %u) has no ip "
		       "address in this file; write tunnel source A.B.C.D (this gateway's "
		       "address)", t->src_if, f->name, f->line);
		return -1;
	}
	t->source = f->addr;
	return 0;
}

/* The checks the API makes, at the lines that set what they check. */
static int
tunnel_check(struct ios_parser *p, struct ios_tunnel *t)
{
	uint32_t mask = mask_of(t->prefix_len), host = t->addr & ~mask;
	char a[16], s[16], d[16];

	ipv4_text(t->addr, a);
	ipv4_text(t->source, s);
	ipv4_text(t->destination, d);
	if (!unicast(t->addr) || (t->prefix_len <= 30 && (host == 0 || host == ~mask))) {
		ERR_AT(p, t->addr_line, "ip address %s/%u: not an address an interface can have "
		       "(a network or broadcast address, or not unicast)", a, t->prefix_len);
		return -1;
	}
	if (!unicast(t->source)) {
		ERR_AT(p, t->src_line, "tunnel source %s: not a unicast address", s);
		return -1;
	}
	if (!unicast(t->destination) || t->destination == t->source) {
		ERR_AT(p, t->dst_line, "tunnel destination %s: not a unicast address, or the "
		       "tunnel source itself", d);
		return -1;
	}
	if (((t->destination ^ t->addr) & mask) == 0) {
		ERR_AT(p, t->dst_line, "tunnel destination %s is inside the tunnel's own subnet "
		       "(ip address %s/%u): GRE to it would be routed into the tunnel", d, a,
		       t->prefix_len);
		return -1;
	}
	for (const struct ios_tunnel *o = p->tun; o < t; o++) {
		uint32_t m = mask_of(o->prefix_len < t->prefix_len ? o->prefix_len :
				     t->prefix_len);

		if (o->bad)
			continue;
		if (o->source == t->source && o->destination == t->destination) {
			ERR_AT(p, t->dst_line, "interface %s: interface %s (line %u) runs from %s to "
			       "%s too; GRE without keys cannot tell the two apart", t->name,
			       o->name, o->line, s, d);
			return -1;
		}
		if (((o->addr ^ t->addr) & m) == 0) {
			ERR_AT(p, t->addr_line, "ip address %s/%u overlaps interface %s (line %u)",
			       a, t->prefix_len, o->name, o->line);
			return -1;
		}
	}
	return 0;
}

/* A permit line of a crypto map that takes GRE from source to destination. */
static int
gre_protected(const struct ios_parser *p, struct ios_acl *const *acls,
	      const struct ios_tunnel *t)
{
	for (size_t i = 0; i < p->n_map; i++) {
		const struct ios_acl *a = acls[i];

		if (p->map[i].kind != MAP_STATIC || a == NULL)
			continue;
		for (size_t k = 0; k < a->n_kept; k++) {
			const struct ios_acl_entry *e = &a->e[k];

			if ((e->proto == 0 || e->proto == 47) &&
			    ((e->src ^ t->source) & mask_of(e->src_len)) == 0 &&
			    ((e->dst ^ t->destination) & mask_of(e->dst_len)) == 0)
				return 1;
		}
	}
	return 0;
}

void
ios_tunnel_finish(struct ios_parser *p, struct ios_acl *const *acls)
{
	for (size_t i = 0; i < p->n_tun; i++) {
		struct ios_tunnel *t = &p->tun[i];
		char s[16], d[16];

		if (t->bad)
			continue;
		if (t->addr_line == 0)
			ERR_AT(p, t->line, "interface %s has no ip address; give it one (ip address "
			       "A.B.C.D MASK)", t->name);
		if (t->src_line == 0)
			ERR_AT(p, t->line, "interface %s has no tunnel source", t->name);
		if (t->dst_line == 0)
			ERR_AT(p, t->line, "interface %s has no tunnel destination", t->name);
		if (t->addr_line == 0 || t->src_line == 0 || t->dst_line == 0 ||
		    source_resolve(p, t) == -1 || tunnel_check(p, t) == -1) {
			t->bad = 1;
			continue;
		}
		if (gre_protected(p, acls, t))
			continue;
		ipv4_text(t->source, s);
		ipv4_text(t->destination, d);
		NOTE_AT(p, t->line, "interface %s: no crypto map of this file protects its GRE "
			"(an access list line permit gre host %s host %s): it would leave "
			"unencrypted", t->name, s, d);
	}
}

void
ios_tunnel_free(struct ios_parser *p)
{
	for (size_t i = 0; i < p->n_tun; i++)
		free(p->tun[i].description);
	free(p->tun);
	free(p->iface);
}
