/*
 * IOS translator: crypto map entries (peers in failover order, transform
 * sets, PFS, lifetimes, match address), dynamic-map entries (the same
 * without peers) and the crypto map entries that bind them, and the access
 * lists they match, numbered or named (permit lines with a protocol and
 * eq ports). An access list is only checked when a crypto map uses it: the
 * others are not crypto configuration.
 */
#include "cli/ios_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

/* ---- crypto map -------------------------------------------------------- */

/* Entry NAME SEQ of this kind, made if new (a static entry and a binding
 * share names and sequence numbers); -1 after an error. */
static int
map_entry(struct ios_parser *p, const char *name, unsigned seq, enum ios_map_kind kind,
	  size_t *out)
{
	int dyn = kind == MAP_DYNAMIC;
	size_t i;

	for (i = 0; i < p->n_map; i++)
		if (p->map[i].seq == seq && (p->map[i].kind == MAP_DYNAMIC) == dyn &&
		    eq(p->map[i].name, name))
			break;
	if (i < p->n_map && p->map[i].kind != kind) {
		ios_unsupported(p, "crypto map %s %u: line %u made it %s; an entry is static or "
				"bound to a dynamic map, not both", name, seq, p->map[i].line,
				p->map[i].kind == MAP_STATIC ? "a static entry" :
				"an entry bound to a dynamic map");
		return -1;
	}
	if (i == p->n_map) {
		if (p->n_map == IOS_OBJECTS_MAX) {
			ios_unsupported(p, "more than %d crypto map entries: import-ios takes "
					"at most %d a file (split it)", IOS_OBJECTS_MAX,
					IOS_OBJECTS_MAX);
			return -1;
		}
		p->map = grow(p->map, p->n_map, sizeof(*p->map));
		p->map[p->n_map] = (struct ios_map){ .kind = kind, .line = p->lineno,
						     .seq = seq, .pfs = CFG_PFS_NONE };
		str_copy(p->map[p->n_map++].name, CFG_NAME_MAX, name);
	}
	*out = i;
	return 0;
}

/* crypto map NAME SEQ [ipsec-isakmp [dynamic DYN]]. A binding's entries are
 * named NAME-SEQ or NAME-SEQ-DYNSEQ, 13 characters more at most. */
static void
map_open(struct ios_parser *p)
{
	const char *name = W(p, 2), *type = W(p, 4);
	int bind = p->l.nw > 5 && eq(type, "ipsec-isakmp") && eq(W(p, 5), "dynamic");
	unsigned seq;
	size_t i, more = bind ? 13 : 7;
	struct ios_map *m;

	if (ios_num(W(p, 3), 1, 65535, &seq) == -1) {
		ios_unsupported(p, "crypto map %s: expected crypto map NAME SEQ ipsec-isakmp (SEQ "
				"1-65535)", name);
		return;
	}
	if (bind && (p->l.nw != 7 || strlen(W(p, 6)) >= CFG_NAME_MAX)) {
		ios_unsupported(p, "%.*s: not supported (crypto map NAME SEQ ipsec-isakmp dynamic "
				"DYNAMIC-MAP only)", upto(p, 7), p->l.raw);
		return;
	}
	if (!bind && (p->l.nw > 5 || (p->l.nw == 5 && !eq(type, "ipsec-isakmp")))) {
		ios_unsupported(p, "%.*s: not supported (crypto map NAME SEQ ipsec-isakmp only)",
				upto(p, 5), p->l.raw);
		return;
	}
	if (strlen(name) + more > CFG_NAME_MAX) {
		ios_unsupported(p, "crypto map name is longer than %zu characters",
				CFG_NAME_MAX - more);
		return;
	}
	if (map_entry(p, name, seq, bind ? MAP_BINDING : MAP_STATIC, &i) == -1)
		return;
	m = &p->map[i];
	if (bind) {
		if (m->dyn.name[0] && !eq(m->dyn.name, W(p, 6)))
			NOTE(p, "crypto map %s %u binds dynamic map %s instead of %s (line %u)",
			     name, seq, W(p, 6), m->dyn.name, m->dyn.line);
		str_copy(m->dyn.name, CFG_NAME_MAX, W(p, 6));
		m->dyn.line = p->lineno;
	}
	p->cur = i;
	p->mode = M_MAP;
}

/* crypto dynamic-map NAME SEQ: sub-lines as a crypto map entry's. */
void
ios_dynmap_open(struct ios_parser *p)
{
	const char *name = W(p, 2);
	unsigned seq;
	size_t i;

	if (p->l.nw != 4 || ios_num(W(p, 3), 1, 65535, &seq) == -1 ||
	    strlen(name) >= CFG_NAME_MAX) {
		ios_unsupported(p, "crypto dynamic-map: expected crypto dynamic-map NAME SEQ (SEQ "
				"1-65535, NAME up to %d characters)", CFG_NAME_MAX - 1);
		return;
	}
	if (map_entry(p, name, seq, MAP_DYNAMIC, &i) == -1)
		return;
	p->cur = i;
	p->mode = M_MAP;
}

void
ios_map_global(struct ios_parser *p)
{
	const char *name = W(p, 2), *w3 = W(p, 3);

	if (p->l.nw == 3)
		NOTE(p, "crypto map %s: applying a map to an interface is ignored here; the agent "
		     "applies every crypto map", name);
	else if (eq(w3, "client"))
		ios_map_client(p);
	else if (eq(w3, "isakmp"))
		ios_unsupported(p, "crypto map %s isakmp ...: not supported (Easy VPN group "
				"authorization); set the dynamic crypto map entry's dnsServers and "
				"splitTunnel through the API", name);
	else if (eq(w3, "local-address"))
		NOTE(p, "crypto map %s local-address: ignored; the agent sends from its "
		     "--ike-address", name);
	else
		map_open(p);
}

static void
map_peer(struct ios_parser *p, struct ios_map *m)
{
	const char *peer = W(p, 2);
	uint32_t a;
	int front = p->l.nw == 4 && eq(W(p, 3), "default");

	if (m->kind == MAP_DYNAMIC) {
		ERR(p, "set peer: a dynamic crypto map answers any peer that authenticates; give "
		    "this peer a crypto map entry of its own (crypto map NAME SEQ ipsec-isakmp)");
		m->bad = 1;
		return;
	}
	if (p->l.nw < 3 || (p->l.nw > 3 && !front)) {
		ERR(p, "%.*s: expected set peer ADDRESS|HOSTNAME [default]", upto(p, 3), p->l.raw);
		m->bad = 1;
		return;
	}
	if (ipv4_parse(peer, &a) == 0 ? (a == 0 || a == UINT32_MAX || (a >> 28) == 0xe) :
	    !hostname_valid(peer)) {
		ERR(p, "set peer " SHOW ": not a unicast IPv4 address or a host name", peer);
		m->bad = 1;
		return;
	}
	for (size_t i = 0; i < m->n_peers; i++) {
		if (strcasecmp(m->peers[i], peer) == 0) {
			ERR(p, "set peer %s: listed already in crypto map %s %u", peer, m->name,
			    m->seq);
			m->bad = 1;
			return;
		}
	}
	if (m->n_peers == CFG_PEERS_MAX) {
		ERR(p, "set peer %s: a crypto map entry takes at most %d peers", peer,
		    CFG_PEERS_MAX);
		m->bad = 1;
		return;
	}
	if (front) {	/* the default peer is tried first */
		memmove(m->peers + 1, m->peers, m->n_peers * sizeof(m->peers[0]));
		m->peers[0] = xstrdup(peer);
	} else {
		m->peers[m->n_peers] = xstrdup(peer);
	}
	m->n_peers++;
}

static void
map_transform_sets(struct ios_parser *p, struct ios_map *m)
{
	if (p->l.nw < 3) {
		ERR(p, "set transform-set needs at least one name");
		m->bad = 1;
	}
	for (int i = 2; i < p->l.nw; i++) {
		const char *name = W(p, i);
		size_t j;

		for (j = 0; j < m->n_xf && !eq(m->xf[j].name, name); j++)
			;
		if (j < m->n_xf) {
			NOTE(p, "set transform-set: " SHOW " is listed already; the second is "
			     "ignored", name);
		} else if (m->n_xf == CFG_MAP_XFORMS_MAX || strlen(name) >= CFG_NAME_MAX) {
			ERR(p, "set transform-set " SHOW ": a crypto map entry takes at most %d "
			    "transform sets", name, CFG_MAP_XFORMS_MAX);
			m->bad = 1;
		} else {
			str_copy(m->xf[m->n_xf].name, CFG_NAME_MAX, name);
			m->xf[m->n_xf++].line = p->lineno;
		}
	}
}

static void
map_pfs(struct ios_parser *p, struct ios_map *m)
{
	const char *g = W(p, 2);

	if (p->l.nw == 3 && (eq(g, "group14") || eq(g, "group19"))) {
		m->pfs = eq(g, "group14") ? CFG_PFS_GROUP14 : CFG_PFS_GROUP19;
		return;
	}
	m->bad = 1;
	if (p->l.nw == 2)
		ERR(p, "set pfs: without a group IOS uses group 1 (768-bit MODP), which is "
		    "insecure and not supported; use set pfs group14 (or group19)");
	else if (eq(g, "group1") || eq(g, "group2") || eq(g, "group5"))
		ERR(p, "set pfs %s: DH %s is too weak and not supported; use set pfs group14 (or "
		    "group19)", g, g);
	else
		ERR(p, "%.*s: not supported; use set pfs group14 (or group19)", upto(p, 3),
		    p->l.raw);
}

void
ios_map_line(struct ios_parser *p)
{
	struct ios_map *m = &p->map[p->cur];
	const char *w0 = W(p, 0), *w1 = W(p, 1);

	if (eq(w0, "exit")) {
		p->mode = M_GLOBAL;
		return;
	}
	if (!ios_line_ok(p)) {
		m->bad = 1;
	} else if (m->kind == MAP_BINDING) {
		ERR(p, "%.*s: crypto map %s %u is bound to crypto dynamic-map %s, which holds its "
		    "settings: set this there", upto(p, 1), p->l.raw, m->name, m->seq,
		    m->dyn.name);
		m->bad = 1;
	} else if (eq(w0, "set") && eq(w1, "peer")) {
		map_peer(p, m);
	} else if (eq(w0, "set") && eq(w1, "transform-set")) {
		map_transform_sets(p, m);
	} else if (eq(w0, "set") && eq(w1, "pfs")) {
		map_pfs(p, m);
	} else if (eq(w0, "set") && eq(w1, "security-association") && eq(W(p, 2), "lifetime")) {
		if (ios_sa_lifetime(p, 3, &m->life_s, &m->life_kb) == -1)
			m->bad = 1;
	} else if (eq(w0, "match") && eq(w1, "address") && p->l.nw == 3 &&
		   strlen(W(p, 2)) < CFG_NAME_MAX) {
		if (m->acl.name[0])
			NOTE(p, "match address replaces the one of line %u", m->acl.line);
		str_copy(m->acl.name, CFG_NAME_MAX, W(p, 2));
		m->acl.line = p->lineno;
	} else if (eq(w0, "description") && p->l.nw > 1) {
		const char *text = p->l.raw + p->l.start[1];

		free(m->description);
		m->description = NULL;
		if (strlen(text) > DESCRIPTION_MAX) {
			ERR(p, "description: longer than %d characters", DESCRIPTION_MAX);
			m->bad = 1;
		} else {
			m->description = xstrdup(text);
		}
	} else if (eq(w0, "reverse-route")) {
		NOTE(p, "reverse-route: ignored; the agent routes each crypto map's destinations "
		     "through its tunnel device itself");
	} else {
		ERR(p, "%.*s: not supported in a %s entry", upto(p, 1), p->l.raw,
		    m->kind == MAP_DYNAMIC ? "dynamic crypto map" : "crypto map");
		m->bad = 1;
	}
}

/* ---- access lists ------------------------------------------------------ */

struct ios_acl *
ios_acl_get(struct ios_parser *p, const char *name, enum ios_acl_kind kind)
{
	size_t i;

	for (i = 0; i < p->n_acl && !eq(p->acl[i].name, name); i++)
		;
	if (i < p->n_acl)
		return &p->acl[i];
	if (p->n_acl == IOS_ACLS_MAX || strlen(name) >= CFG_NAME_MAX) {
		ERR(p, "access list " SHOW ": more than %d lists or a name longer than %d "
		    "characters", name, IOS_ACLS_MAX, CFG_NAME_MAX - 1);
		return NULL;
	}
	p->acl = grow(p->acl, p->n_acl, sizeof(*p->acl));
	memset(&p->acl[p->n_acl], 0, sizeof(p->acl[0]));
	str_copy(p->acl[p->n_acl].name, CFG_NAME_MAX, name);
	p->acl[p->n_acl].line = p->lineno;
	p->acl[p->n_acl].kind = kind;
	return &p->acl[p->n_acl++];
}

/* "any", "host A" or "A WILDCARD" at word i into a prefix; returns the
 * words taken, or 0 with why in err. */
static int
acl_addr(struct ios_parser *p, int i, uint32_t *addr, unsigned *len, char *err, size_t size)
{
	uint32_t a, wc;
	char as[16], ws[16], want[16];
	int l;

	if (eq(W(p, i), "any")) {
		*addr = 0;
		*len = 0;
		return 1;
	}
	if (eq(W(p, i), "host")) {
		if (ipv4_parse(W(p, i + 1), &a) == -1) {
			snprintf(err, size, "host " SHOW ": not an IPv4 address", W(p, i + 1));
			return 0;
		}
		*addr = a;
		*len = 32;
		return 2;
	}
	if (ipv4_parse(W(p, i), &a) == -1 || ipv4_parse(W(p, i + 1), &wc) == -1) {
		snprintf(err, size, "expected any, host A.B.C.D or A.B.C.D WILDCARD at " SHOW,
			 i < p->l.nw ? W(p, i) : "the end of the line");
		return 0;
	}
	ipv4_text(a, as);
	ipv4_text(wc, ws);
	if ((l = ipv4_mask_len(~wc)) == -1) {
		snprintf(err, size, "%s %s: the wildcard is not contiguous, so no CIDR prefix can "
			 "express it; split the line into contiguous ones", as, ws);
		return 0;
	}
	if (a & wc) {
		ipv4_text(a & ~wc, want);
		snprintf(err, size, "%s %s: the address has bits inside the wildcard (did you mean "
			 "%s %s?)", as, ws, want, ws);
		return 0;
	}
	*addr = a;
	*len = (unsigned)l;
	return 2;
}

/* IOS's protocol keywords in an extended access list; a number 0-255 is
 * taken as well. */
static const struct {
	const char *name;
	unsigned    proto;
} acl_protos[] = {
	{ .name = "ip", .proto = 0 }, { .name = "icmp", .proto = 1 },
	{ .name = "igmp", .proto = 2 }, { .name = "nos", .proto = 4 },
	{ .name = "tcp", .proto = 6 }, { .name = "udp", .proto = 17 },
	{ .name = "gre", .proto = 47 }, { .name = "esp", .proto = 50 },
	{ .name = "ahp", .proto = 51 }, { .name = "eigrp", .proto = 88 },
	{ .name = "ospf", .proto = 89 }, { .name = "ipinip", .proto = 94 },
	{ .name = "pim", .proto = 103 }, { .name = "pcp", .proto = 108 },
};

int
ios_acl_proto(const char *word)
{
	unsigned n;

	for (size_t i = 0; i < ARRAY_LEN(acl_protos); i++)
		if (eq(word, acl_protos[i].name))
			return (int)acl_protos[i].proto;
	return ios_num(word, 0, 255, &n) == 0 ? (int)n : -1;
}

struct port_name {
	const char *name;
	unsigned    port;
};

/* The port keywords IOS writes in access lists (it shows other ports as
 * numbers), TCP's and UDP's apart. */
static const struct port_name tcp_ports[] = {
	{ .name = "bgp", .port = 179 }, { .name = "chargen", .port = 19 },
	{ .name = "cmd", .port = 514 }, { .name = "daytime", .port = 13 },
	{ .name = "discard", .port = 9 }, { .name = "domain", .port = 53 },
	{ .name = "echo", .port = 7 }, { .name = "exec", .port = 512 },
	{ .name = "finger", .port = 79 }, { .name = "ftp", .port = 21 },
	{ .name = "ftp-data", .port = 20 }, { .name = "gopher", .port = 70 },
	{ .name = "hostname", .port = 101 }, { .name = "ident", .port = 113 },
	{ .name = "irc", .port = 194 }, { .name = "klogin", .port = 543 },
	{ .name = "kshell", .port = 544 }, { .name = "login", .port = 513 },
	{ .name = "lpd", .port = 515 }, { .name = "nntp", .port = 119 },
	{ .name = "pop2", .port = 109 }, { .name = "pop3", .port = 110 },
	{ .name = "smtp", .port = 25 }, { .name = "sunrpc", .port = 111 },
	{ .name = "tacacs", .port = 49 }, { .name = "talk", .port = 517 },
	{ .name = "telnet", .port = 23 }, { .name = "time", .port = 37 },
	{ .name = "uucp", .port = 540 }, { .name = "whois", .port = 43 },
	{ .name = "www", .port = 80 },
};
static const struct port_name udp_ports[] = {
	{ .name = "biff", .port = 512 }, { .name = "bootpc", .port = 68 },
	{ .name = "bootps", .port = 67 }, { .name = "discard", .port = 9 },
	{ .name = "dnsix", .port = 195 }, { .name = "domain", .port = 53 },
	{ .name = "echo", .port = 7 }, { .name = "isakmp", .port = 500 },
	{ .name = "mobile-ip", .port = 434 }, { .name = "nameserver", .port = 42 },
	{ .name = "netbios-dgm", .port = 138 }, { .name = "netbios-ns", .port = 137 },
	{ .name = "netbios-ss", .port = 139 }, { .name = "non500-isakmp", .port = 4500 },
	{ .name = "ntp", .port = 123 }, { .name = "rip", .port = 520 },
	{ .name = "snmp", .port = 161 }, { .name = "snmptrap", .port = 162 },
	{ .name = "sunrpc", .port = 111 }, { .name = "syslog", .port = 514 },
	{ .name = "tacacs", .port = 49 }, { .name = "talk", .port = 517 },
	{ .name = "tftp", .port = 69 }, { .name = "time", .port = 37 },
	{ .name = "who", .port = 513 }, { .name = "xdmcp", .port = 177 },
};

static int
port_op(const char *w)
{
	return eq(w, "eq") || eq(w, "lt") || eq(w, "gt") || eq(w, "neq") || eq(w, "range");
}

/* `eq PORT` at word i, if there: returns the words taken (0 or 2), or -1
 * with why in err. */
static int
acl_port(struct ios_parser *p, int i, unsigned proto, unsigned *port, char *err, size_t size)
{
	const struct port_name *names = proto == 6 ? tcp_ports : udp_ports;
	size_t n = proto == 6 ? ARRAY_LEN(tcp_ports) : ARRAY_LEN(udp_ports);
	const char *op = W(p, i), *w = W(p, i + 1);

	*port = 0;
	if (!port_op(op))
		return 0;
	if (proto != 6 && proto != 17) {
		snprintf(err, size, "%s " SHOW ": ports need protocol tcp or udp", op, w);
		return -1;
	}
	if (!eq(op, "eq")) {
		snprintf(err, size, "%s: port operators other than eq are not supported (a match "
			 "line takes one port or any); write one line per port with eq PORT", op);
		return -1;
	}
	if (ios_num(w, 1, 65535, port) == 0)
		return 2;
	for (size_t k = 0; k < n; k++) {
		if (eq(w, names[k].name)) {
			*port = names[k].port;
			return 2;
		}
	}
	snprintf(err, size, "eq " SHOW ": not a %s port number (1-65535) or a port name "
		 "import-ios knows; write the number", w, proto == 6 ? "tcp" : "udp");
	return -1;
}

/* [permit|deny] PROTOCOL SRC [eq PORT] DST [eq PORT] [log], from word i of
 * an extended list. Kept with its error: only a list a crypto map uses is
 * checked. */
static void
acl_entry(struct ios_parser *p, struct ios_acl *a, int i)
{
	char err[IOS_MESSAGE_MAX + CFG_NAME_MAX + 16] = "", why[IOS_MESSAGE_MAX] = "";
	struct ios_acl_entry e = { .line = p->lineno };
	const char *action = W(p, i), *proto = W(p, i + 1);
	int n, j, k, pr = ios_acl_proto(proto);

	a->n_entries++;
	if (p->l.too_long || p->l.bad_col)
		snprintf(why, sizeof(why), "the line is too long or not printable ASCII");
	else if (eq(action, "deny"))
		snprintf(why, sizeof(why), "deny lines are not supported: a crypto map's match "
			 "address takes the traffic to protect as permit lines only");
	else if (!eq(action, "permit"))
		snprintf(why, sizeof(why), "expected permit or deny at " SHOW, action);
	else if (pr == -1)
		snprintf(why, sizeof(why), "protocol " SHOW " is not supported: give ip, icmp, tcp, "
			 "udp, gre, another IOS protocol keyword or a protocol number 0-255",
			 proto);
	else if ((n = acl_addr(p, i + 2, &e.src, &e.src_len, why, sizeof(why))) != 0 &&
		 (k = acl_port(p, i + 2 + n, (unsigned)pr, &e.src_port, why, sizeof(why))) != -1 &&
		 (j = acl_addr(p, i + 2 + n + k, &e.dst, &e.dst_len, why, sizeof(why))) != 0) {
		j += i + 2 + n + k;
		if ((k = acl_port(p, j, (unsigned)pr, &e.dst_port, why, sizeof(why))) != -1) {
			j += k;
			if (eq(W(p, j), "log") || eq(W(p, j), "log-input"))
				j++;
			if (j < p->l.nw)
				snprintf(why, sizeof(why), "unexpected " SHOW " after the "
					 "destination%s", W(p, j), pr == 1 ? " (ICMP types are not "
					 "supported: a match line takes all of ICMP)" : "");
		}
	}
	e.proto = pr == -1 ? 0 : (unsigned)pr;
	if (why[0]) {
		snprintf(err, sizeof(err), "access list %s: %s", a->name, why);
		e.err = xstrdup(err);
	}
	if (a->n_kept < ARRAY_LEN(a->e))
		a->e[a->n_kept++] = e;
	else
		free(e.err);	/* the list is refused for its length anyway */
}

/* access-list N permit|deny|remark ... (numbered lists). */
void
ios_acl_numbered(struct ios_parser *p)
{
	unsigned n;
	enum ios_acl_kind kind = ACL_OTHER;
	struct ios_acl *a;

	if (ios_num(W(p, 1), 1, 2699, &n) == 0)
		kind = (n <= 99 || (n >= 1300 && n <= 1999)) ? ACL_STANDARD :
		       ((n >= 100 && n <= 199) || n >= 2000) ? ACL_EXTENDED : ACL_OTHER;
	if ((a = ios_acl_get(p, W(p, 1), kind)) == NULL || eq(W(p, 2), "remark"))
		return;
	if (kind == ACL_EXTENDED)
		acl_entry(p, a, 2);
	else
		a->n_entries++;
}

void
ios_acl_named_line(struct ios_parser *p)
{
	struct ios_acl *a = &p->acl[p->cur];
	int i = 0;
	unsigned seq;

	if (eq(W(p, 0), "exit")) {
		p->mode = M_GLOBAL;
		return;
	}
	if (ios_num(W(p, 0), 1, UINT32_MAX, &seq) == 0)
		i = 1;	/* a sequence number */
	if (eq(W(p, i), "remark"))
		return;
	if (a->kind == ACL_EXTENDED)
		acl_entry(p, a, i);
	else
		a->n_entries++;
}
