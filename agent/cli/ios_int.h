/*
 * Private to the IOS translator (ios_import.c reads and dispatches lines,
 * ios_isakmp.c and ios_map.c read the crypto commands, ios_client.c the
 * remote-access ones, ios_pki.c the certificate ones, ios_tunnel.c the
 * interfaces (GRE tunnels, the addresses of the others), ios_emit.c
 * resolves references and builds the API objects): the parser state they
 * share.
 */
#ifndef CLI_IOS_INT_H
#define CLI_IOS_INT_H

#include <stdint.h>
#include <string.h>

#include "cli/ios_import.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#define DESCRIPTION_MAX 1024	/* the API's description cap */
#define SKIP_HEADS_MAX  8	/* commands named in a "skipped" note */
#define SHOW            "%.64s"	/* a word quoted in a message */
#define IOS_IFACES_MAX  4096	/* interfaces whose address a tunnel source may name */

/* M_NOTED: a block read as a whole with a note (a certificate chain); its
 * sub-lines go with it, as an M_UNSUPPORTED block's do. */
enum ios_mode { M_GLOBAL, M_POLICY, M_XFORM, M_MAP, M_ACL, M_SKIP, M_UNSUPPORTED, M_BANNER,
		M_TRUSTPOINT, M_NOTED, M_TUNNEL };
enum ios_acl_kind { ACL_EXTENDED, ACL_STANDARD, ACL_OTHER };

struct ios_line {
	char     raw[IOS_LINE_MAX + 1];	/* trimmed, tabs as spaces */
	char     buf[IOS_LINE_MAX + 1];	/* the same, cut into words */
	char    *w[IOS_WORDS_MAX];
	size_t   end[IOS_WORDS_MAX];	/* offset in raw just past word i */
	size_t   start[IOS_WORDS_MAX];
	int      nw, indented, too_long;
	unsigned bad_col;		/* first byte that is not printable ASCII */
};

/* `crypto isakmp policy N`; bad: refused, not sent. */
struct ios_policy {
	unsigned line, prio, lifetime;
	int      enc, hash, auth, group;	/* -1: no line; auth an enum cfg_ike_auth */
	int      enc_seen, hash_seen, auth_seen, group_seen, bad;
};

struct ios_xform {
	unsigned line;
	char     name[CFG_NAME_MAX];
	int      esp, auth, mode, bad;	/* esp -1: none yet */
};

struct ios_psk {
	unsigned line;
	char    *key;			/* wiped when freed */
	uint32_t addr, mask;
	int      no_xauth;
};

struct ios_ref {
	char     name[CFG_NAME_MAX];
	unsigned line;
};

/* `crypto map NAME SEQ [ipsec-isakmp]` (static), `crypto map NAME SEQ
 * ipsec-isakmp dynamic DYN` (a binding) or `crypto dynamic-map NAME SEQ`. */
enum ios_map_kind { MAP_STATIC, MAP_BINDING, MAP_DYNAMIC };

/* One crypto map or dynamic-map entry; a binding has only its dyn. */
struct ios_map {
	enum ios_map_kind kind;
	unsigned          line, seq, life_s, life_kb;	/* lifetimes 0: not set */
	char              name[CFG_NAME_MAX];
	struct ios_ref    dyn;				/* a binding's dynamic map */
	char             *peers[CFG_PEERS_MAX];		/* failover order */
	size_t            n_peers;
	struct ios_ref    xf[CFG_MAP_XFORMS_MAX];
	size_t            n_xf;
	struct ios_ref    acl;				/* name "" without match address */
	int               pfs, bad;
	int               used;		/* a dynamic-map entry that a binding names */
	char             *description;
};

/* permit PROTO SRC [eq PORT] DST [eq PORT]: proto 0 is ip (every protocol),
 * ports 0 any. */
struct ios_acl_entry {
	unsigned line;
	char    *err;				/* NULL: translated */
	uint32_t src, dst;
	unsigned src_len, dst_len;
	unsigned proto, src_port, dst_port;
};

/* A numbered or named access list; checked only if a crypto map uses it. */
struct ios_acl {
	char                 name[CFG_NAME_MAX];
	unsigned             line;
	enum ios_acl_kind    kind;
	struct ios_acl_entry e[CFG_MATCH_MAX + 1];	/* one more than a map takes */
	size_t               n_kept, n_entries;
	int                  used, reported;
};

/* `ip local pool NAME START [END]`: checked only if a crypto map uses it. */
struct ios_pool {
	char     name[CFG_NAME_MAX];
	unsigned line, err_line;
	uint32_t start, end;
	char    *err;			/* NULL: translated */
	int      used;
	size_t   obj;			/* its object, once sent */
};

/* `crypto map NAME client ...`: what every dynamic entry of map NAME gets. */
struct ios_mapset {
	char             name[CFG_NAME_MAX];
	unsigned         config_line;	/* first client configuration address; 0: none */
	int              initiate, respond;
	struct ios_ref   auth;		/* client authentication list; line 0: none */
	struct ios_pool *pool;		/* resolved at the end of the file */
	int              bad, xauth;
};

/* `aaa authentication login LIST METHOD...`: checked only if a crypto map
 * uses it. */
struct ios_aaa {
	char     name[CFG_NAME_MAX];
	unsigned line;
	int      local, used, reported;
	char     others[96];		/* the methods besides local, for a note */
	char    *err;
};

/* `username NAME ... password|secret [0] PASSWORD`: an XAUTH user when a
 * crypto map asks for XAUTH, skipped otherwise (with its error). */
struct ios_user {
	char     name[CFG_NAME_MAX];
	unsigned line, replaces;	/* replaces: the line of an earlier one */
	char    *password;		/* wiped when freed; NULL with err */
	char    *err;
};

/* `crypto pki trustpoint NAME` (or crypto ca): not translated, the
 * certificates come through the API; a note at the end of the file says
 * which objects to make of it. */
struct ios_trustpoint {
	char     name[CFG_NAME_MAX];
	unsigned line, crl_line;	/* crl_line: revocation-check; 0: none */
	int      crl, selfsigned;	/* crl: IOS's default */
};

/* `interface NAME` other than a tunnel: skipped, but its primary `ip
 * address` is kept for a `tunnel source NAME`. */
struct ios_iface {
	char     name[CFG_NAME_MAX];	/* as written, blanks taken out: "Ethernet0/0" */
	unsigned line, addr_line;	/* addr_line 0: no ip address */
	uint32_t addr;
};

/* `interface TunnelN`: a GRE tunnel interface; bad: refused. */
struct ios_tunnel {
	char     name[CFG_TUNNEL_IF_NAME_MAX + 1];	/* "Tunnel0", the device's name */
	unsigned line, addr_line, src_line, dst_line, mtu;	/* lines 0, mtu 0: not given */
	uint32_t addr, source, destination;
	unsigned prefix_len;
	char     src_if[CFG_NAME_MAX];	/* tunnel source IFNAME: resolved at the end */
	int      shutdown, bad;
	char    *description;
};

struct ios_parser {
	struct ios_result *res;
	unsigned           lineno;
	struct ios_line    l;			/* the line being read */
	enum ios_mode      mode;
	int                in_interface, in_submode, stopped;
	size_t             cur;			/* the mode's object, by index */
	char               banner[3];		/* delimiter while in a banner */
	struct ios_policy *pol;
	size_t             n_pol;
	struct ios_psk    *psk;
	size_t             n_psk;
	struct ios_xform  *xf;
	size_t             n_xf;
	struct ios_map    *map;
	size_t             n_map;
	struct ios_acl    *acl;
	size_t             n_acl;
	struct ios_mapset *mapset;
	size_t             n_mapset;
	struct ios_pool   *ippool;
	size_t             n_ippool;
	struct ios_aaa    *aaa;
	size_t             n_aaa;
	struct ios_user   *user;
	size_t             n_user;
	struct ios_trustpoint *tp;
	size_t             n_tp;
	struct ios_iface  *iface;
	size_t             n_iface;
	struct ios_tunnel *tun;
	size_t             n_tun;
	size_t             iface_cur;	/* the skipped interface being read + 1; 0: none */
	struct ios_ref     addr_pool;	/* crypto isakmp client configuration address-pool */
	int                xauth;	/* a crypto map asks for XAUTH: users are sent */
	unsigned           dpd_line, dpd_keepalive, dpd_retry;	/* line 0: not set */
	int                dpd_mode;
	unsigned           id_line, nat_line, nat_keepalive, sa_life_s, sa_life_kb;
	int                identity;
	unsigned           skip_first, skip_last;	/* the run of skipped lines */
	int                skip_heads;
	char               skip_text[200];
};

void ios_diag(struct ios_parser *p, unsigned line, enum ios_severity sev, const char *fmt, ...)
	LOG_PRINTF(4, 5);
#define ERR(p, ...)           ios_diag(p, (p)->lineno, IOS_ERROR, __VA_ARGS__)
#define NOTE(p, ...)          ios_diag(p, (p)->lineno, IOS_NOTE, __VA_ARGS__)
#define ERR_AT(p, line, ...)  ios_diag(p, line, IOS_ERROR, __VA_ARGS__)
#define NOTE_AT(p, line, ...) ios_diag(p, line, IOS_NOTE, __VA_ARGS__)
/* An error for a block we do not read; its sub-lines go with it. */
void ios_unsupported(struct ios_parser *p, const char *fmt, ...) LOG_PRINTF(2, 3);

/* Word i of the current line, "" past the end. */
static inline const char *
W(const struct ios_parser *p, int i)
{
	return i < p->l.nw ? p->l.w[i] : "";
}

static inline int
eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* The line up to the end of word i: "encryption des" for a message. */
static inline int
upto(const struct ios_parser *p, int i)
{
	if (p->l.nw == 0)
		return 0;
	return (int)p->l.end[i < p->l.nw ? i : p->l.nw - 1];
}

static inline void *
grow(void *arr, size_t n, size_t size)
{
	return xreallocarray(arr, n + 1, size);
}

/* Values: 0 / -1. */
int  ios_num(const char *s, unsigned long lo, unsigned long hi, unsigned *out);
int  ios_line_ok(struct ios_parser *p);	/* 0 after an error: too long, not printable */

/* ios_isakmp.c */
void ios_policy_open(struct ios_parser *p);
void ios_policy_line(struct ios_parser *p);
void ios_policy_finish(struct ios_parser *p, struct ios_policy *pol);
void ios_xform_open(struct ios_parser *p);
void ios_xform_line(struct ios_parser *p);
void ios_psk_line(struct ios_parser *p);
void ios_dpd_line(struct ios_parser *p);
void ios_identity_line(struct ios_parser *p);
void ios_nat_line(struct ios_parser *p);
int  ios_sa_lifetime(struct ios_parser *p, int i, unsigned *life_s, unsigned *life_kb);

/* ios_map.c */
void ios_map_global(struct ios_parser *p);
void ios_dynmap_open(struct ios_parser *p);
void ios_map_line(struct ios_parser *p);
struct ios_acl *ios_acl_get(struct ios_parser *p, const char *name, enum ios_acl_kind kind);
void ios_acl_numbered(struct ios_parser *p);
void ios_acl_named_line(struct ios_parser *p);

/* ios_client.c: remote access. Lines return -1 when they are not read
 * (the caller skips them as non-crypto configuration). */
void ios_client_isakmp(struct ios_parser *p);
void ios_map_client(struct ios_parser *p);
int  ios_pool_line(struct ios_parser *p);
int  ios_aaa_line(struct ios_parser *p);
int  ios_user_line(struct ios_parser *p);
struct ios_mapset *ios_mapset_find(struct ios_parser *p, const char *name);
void ios_client_finish(struct ios_parser *p);	/* after the bindings are checked */
void ios_client_free(struct ios_parser *p);

/* ios_pki.c: crypto pki trustpoint and certificate chain (crypto ca too). */
void ios_pki_global(struct ios_parser *p);
void ios_trustpoint_line(struct ios_parser *p);
int  ios_trustpoint_sub(const char *w0);	/* an unindented trustpoint line */
void ios_pki_finish(struct ios_parser *p);	/* after the policies' defaults */

/* ios_tunnel.c: interfaces. */
int  ios_tunnel_open(struct ios_parser *p);	/* -1: not a tunnel (skipped) */
void ios_tunnel_line(struct ios_parser *p);
int  ios_tunnel_sub(const struct ios_parser *p);	/* an unindented tunnel line */
void ios_iface_open(struct ios_parser *p);	/* a skipped interface */
void ios_iface_line(struct ios_parser *p);	/* one of its lines */
/* After the crypto maps' access lists are resolved (acls[i]: map i's). */
void ios_tunnel_finish(struct ios_parser *p, struct ios_acl *const *acls);
void ios_tunnel_free(struct ios_parser *p);

/* ios_map.c: an IP protocol keyword of an access list (gre, ospf...), or -1. */
int  ios_acl_proto(const char *word);

/* ios_emit.c: end of file, references checked, then the objects. */
void ios_finish(struct ios_parser *p);

#endif
