/*
 * IOS translator: remote access. crypto isakmp client configuration
 * address-pool and crypto map NAME client configuration|authentication,
 * and what they name outside crypto configuration (ip local pool, aaa
 * authentication login, username): those lines are checked and sent only
 * when a crypto map uses them, and skipped with a note otherwise.
 */
#include "cli/ios_int.h"

#include <stdio.h>
#include <stdlib.h>

/* A name from a line that may hold any byte, fit for a message. */
static void
name_copy(char dst[static CFG_NAME_MAX], const char *src)
{
	str_copy(dst, CFG_NAME_MAX, src);
	for (char *c = dst; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
}

/* ---- crypto lines ------------------------------------------------------ */

/* crypto isakmp client configuration address-pool local NAME. An Easy VPN
 * group is refused: its key authenticates clients in aggressive mode. */
void
ios_client_isakmp(struct ios_parser *p)
{
	const char *name = W(p, 6);

	if (eq(W(p, 3), "configuration") && eq(W(p, 4), "group")) {
		ios_unsupported(p, "crypto isakmp client configuration group " SHOW ": Easy VPN "
				"groups are not supported (a group key authenticates clients in "
				"aggressive mode, which the agent does not do); give the clients "
				"crypto isakmp key KEY address 0.0.0.0, and set the group's dns and "
				"acl as dnsServers and splitTunnel of the dynamic crypto map entry "
				"through the API", W(p, 5));
		return;
	}
	if (p->l.nw != 7 || !eq(W(p, 3), "configuration") || !eq(W(p, 4), "address-pool") ||
	    !eq(W(p, 5), "local") || strlen(name) >= CFG_NAME_MAX) {
		ios_unsupported(p, "%.*s: not supported (crypto isakmp client configuration "
				"address-pool local POOL)", upto(p, 4), p->l.raw);
		return;
	}
	if (p->addr_pool.line)
		NOTE(p, "address-pool local %s replaces the one of line %u (the last one counts, "
		     "as on IOS)", name, p->addr_pool.line);
	str_copy(p->addr_pool.name, CFG_NAME_MAX, name);
	p->addr_pool.line = p->lineno;
}

struct ios_mapset *
ios_mapset_find(struct ios_parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_mapset; i++)
		if (eq(p->mapset[i].name, name))
			return &p->mapset[i];
	return NULL;
}

static struct ios_mapset *
mapset_get(struct ios_parser *p, const char *name)
{
	struct ios_mapset *s = ios_mapset_find(p, name);

	if (s != NULL)
		return s;
	if (p->n_mapset == IOS_OBJECTS_MAX || strlen(name) >= CFG_NAME_MAX) {
		ERR(p, "crypto map " SHOW ": more than %d crypto maps or a name longer than %d "
		    "characters", name, IOS_OBJECTS_MAX, CFG_NAME_MAX - 1);
		return NULL;
	}
	p->mapset = grow(p->mapset, p->n_mapset, sizeof(*p->mapset));
	s = &p->mapset[p->n_mapset++];
	memset(s, 0, sizeof(*s));
	str_copy(s->name, CFG_NAME_MAX, name);
	return s;
}

/* crypto map NAME client configuration address initiate|respond, crypto
 * map NAME client authentication list LIST: for every entry of NAME that a
 * dynamic map holds. */
void
ios_map_client(struct ios_parser *p)
{
	const char *name = W(p, 2), *what = W(p, 4), *arg = W(p, 6);
	struct ios_mapset *s;

	if (p->l.nw == 7 && eq(what, "configuration") && eq(W(p, 5), "address") &&
	    (eq(arg, "initiate") || eq(arg, "respond"))) {
		if ((s = mapset_get(p, name)) == NULL)
			return;
		if (s->config_line == 0)
			s->config_line = p->lineno;
		if (eq(arg, "initiate"))
			s->initiate = 1;
		else
			s->respond = 1;
	} else if (p->l.nw == 7 && eq(what, "authentication") && eq(W(p, 5), "list") &&
		   strlen(arg) < CFG_NAME_MAX) {
		if ((s = mapset_get(p, name)) == NULL)
			return;
		if (s->auth.line)
			NOTE(p, "crypto map %s client authentication list replaces the one of line "
			     "%u (the last one counts, as on IOS)", name, s->auth.line);
		str_copy(s->auth.name, CFG_NAME_MAX, arg);
		s->auth.line = p->lineno;
	} else if (eq(what, "accounting")) {
		ERR(p, "crypto map %s client accounting: not supported (the agent keeps no AAA "
		    "accounting)", name);
	} else {
		ERR(p, "%.*s: not supported (crypto map NAME client configuration address "
		    "initiate|respond, crypto map NAME client authentication list LIST)",
		    upto(p, 6), p->l.raw);
	}
}

/* ---- ip local pool ----------------------------------------------------- */

static struct ios_pool *
pool_find(struct ios_parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_ippool; i++)
		if (eq(p->ippool[i].name, name))
			return &p->ippool[i];
	return NULL;
}

/* Why START-END cannot be an address pool, in why; "" when it can. */
static void
pool_range(uint32_t start, uint32_t end, char *why, size_t size)
{
	char a[16], b[16];

	ipv4_text(start, a);
	ipv4_text(end, b);
	if (start > end)
		snprintf(why, size, "%s is above %s", a, b);
	else if ((uint64_t)end - start + 1 > CFG_POOL_SIZE_MAX)
		snprintf(why, size, "%s-%s holds %llu addresses; an address pool holds at most %d",
			 a, b, (unsigned long long)end - start + 1, CFG_POOL_SIZE_MAX);
	else if (start < 0x01000000 || end >= 0xe0000000 || (start <= 0x7fffffff &&
							    end >= 0x7f000000))
		snprintf(why, size, "%s-%s: not unicast addresses a client can be given", a, b);
}

/* ip local pool NAME START [END]: one range per pool, as the agent's. */
int
ios_pool_line(struct ios_parser *p)
{
	char why[IOS_MESSAGE_MAX] = "", err[IOS_MESSAGE_MAX + CFG_NAME_MAX + 32];
	char name[CFG_NAME_MAX];
	uint32_t start = 0, end = 0;
	struct ios_pool *pool;
	int i = 5;

	if (p->l.nw < 4 || strlen(W(p, 3)) >= CFG_NAME_MAX)
		return -1;	/* no crypto line can name it */
	name_copy(name, W(p, 3));
	if ((pool = pool_find(p, name)) != NULL) {
		if (pool->err == NULL) {
			snprintf(err, sizeof(err), "ip local pool %s: a second range (the first is "
				 "on line %u); an address pool of the agent is one range: give the "
				 "pool one range", name, pool->line);
			pool->err = xstrdup(err);
			pool->err_line = p->lineno;
		}
		return 0;
	}
	if (p->n_ippool == IOS_OBJECTS_MAX) {
		ERR(p, "more than %d ip local pools: import-ios takes at most %d a file (split "
		    "it)", IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
		return 0;
	}
	if (p->l.too_long || p->l.bad_col) {
		snprintf(why, sizeof(why), "the line is too long or not printable ASCII");
	} else if (ipv4_parse(W(p, 4), &start) == -1) {
		snprintf(why, sizeof(why), "expected ip local pool NAME START [END], IPv4 "
			 "addresses");
	} else {
		end = start;
		if (ipv4_parse(W(p, 5), &end) == 0)
			i = 6;
		if (eq(W(p, i), "group"))
			snprintf(why, sizeof(why), "pool groups are not supported (an address pool "
				 "of the agent is one range)");
		else if (eq(W(p, i), "cache-size") && i + 2 == p->l.nw)
			pool_range(start, end, why, sizeof(why));	/* IOS's own tuning */
		else if (i < p->l.nw)
			snprintf(why, sizeof(why), "unexpected " SHOW, W(p, i));
		else
			pool_range(start, end, why, sizeof(why));
	}
	p->ippool = grow(p->ippool, p->n_ippool, sizeof(*p->ippool));
	pool = &p->ippool[p->n_ippool++];
	*pool = (struct ios_pool){ .line = p->lineno, .err_line = p->lineno, .start = start,
				   .end = end };
	str_copy(pool->name, CFG_NAME_MAX, name);
	if (why[0]) {
		snprintf(err, sizeof(err), "ip local pool %s: %s", name, why);
		pool->err = xstrdup(err);
	}
	return 0;
}

/* ---- aaa authentication login ------------------------------------------ */

static struct ios_aaa *
aaa_find(struct ios_parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_aaa; i++)
		if (eq(p->aaa[i].name, name))
			return &p->aaa[i];
	return NULL;
}

/* aaa authentication login LIST METHOD...: the last one counts, as on IOS. */
int
ios_aaa_line(struct ios_parser *p)
{
	char name[CFG_NAME_MAX], err[IOS_MESSAGE_MAX];
	struct ios_aaa *a;

	if (p->l.nw < 4 || strlen(W(p, 3)) >= CFG_NAME_MAX)
		return -1;
	name_copy(name, W(p, 3));
	if ((a = aaa_find(p, name)) == NULL) {
		if (p->n_aaa == IOS_OBJECTS_MAX) {
			ERR(p, "more than %d aaa authentication login lists: import-ios takes at "
			    "most %d a file (split it)", IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
			return 0;
		}
		p->aaa = grow(p->aaa, p->n_aaa, sizeof(*p->aaa));
		a = &p->aaa[p->n_aaa++];
		memset(a, 0, sizeof(*a));
		str_copy(a->name, CFG_NAME_MAX, name);
	}
	free(a->err);
	a->err = NULL;
	a->line = p->lineno;
	a->local = 0;
	a->others[0] = '\0';
	if (p->l.too_long || p->l.bad_col || p->l.nw == 4) {
		snprintf(err, sizeof(err), "aaa authentication login %s: %s", name, p->l.nw == 4 ?
			 "no method" : "the line is too long or not printable ASCII");
		a->err = xstrdup(err);
		return 0;
	}
	for (int i = 4; i < p->l.nw; i++) {
		size_t n = strlen(a->others);

		if (eq(W(p, i), "local") || eq(W(p, i), "local-case"))
			a->local = 1;
		else
			snprintf(a->others + n, sizeof(a->others) - n, "%s" SHOW, n ? " " : "",
				 W(p, i));
	}
	return 0;
}

/* ---- username ---------------------------------------------------------- */

/* username NAME [privilege N] [algorithm-type T] password|secret [0] PASSWORD,
 * or username NAME nopassword. Other username lines (autocommand...) say
 * nothing XAUTH uses: not read. The password is never in a message. */
int
ios_user_line(struct ios_parser *p)
{
	char name[CFG_NAME_MAX], why[IOS_MESSAGE_MAX] = "";
	const char *kw, *type, *pw = NULL;
	struct ios_user *u = NULL;
	unsigned replaces = 0;
	int k = 2;

	if (p->l.nw < 3 || strlen(W(p, 1)) >= CFG_NAME_MAX)
		return -1;
	while (k + 1 < p->l.nw && (eq(W(p, k), "privilege") || eq(W(p, k), "algorithm-type") ||
				   eq(W(p, k), "view") || eq(W(p, k), "access-class") ||
				   eq(W(p, k), "user-maxlinks")))
		k += 2;
	kw = W(p, k);
	type = W(p, k + 1);
	if (!eq(kw, "password") && !eq(kw, "secret") && !eq(kw, "nopassword"))
		return -1;
	name_copy(name, W(p, 1));
	if (p->l.too_long || p->l.bad_col)
		snprintf(why, sizeof(why), "username " SHOW ": the line is too long or not "
			 "printable ASCII", name);
	else if (eq(kw, "nopassword") || k + 1 == p->l.nw)
		snprintf(why, sizeof(why), "username " SHOW " has no password, which XAUTH needs; "
			 "give it one (username " SHOW " secret 0 PASSWORD)", name, name);
	else if (k + 2 < p->l.nw && type[0] >= '0' && type[0] <= '9' && type[1] == '\0' &&
		 !eq(type, "0"))
		snprintf(why, sizeof(why), "username " SHOW " %s %s: an encrypted password cannot "
			 "be imported (the agent hashes the password itself); write it in clear "
			 "text (username " SHOW " secret 0 PASSWORD) or set it through the API (POST "
			 "/object/localusers)", name, kw, type, name);
	else
		pw = p->l.raw + p->l.start[k + 1 + (k + 2 < p->l.nw && eq(type, "0"))];
	if (pw != NULL && strlen(pw) > CFG_PASSWORD_MAX) {
		snprintf(why, sizeof(why), "username " SHOW ": the password is longer than %d "
			 "characters", name, CFG_PASSWORD_MAX);
		pw = NULL;
	}
	for (size_t i = 0; i < p->n_user && u == NULL; i++)
		if (eq(p->user[i].name, name))
			u = &p->user[i];
	if (u != NULL) {
		replaces = u->line;
		free_secret(u->password);
		free(u->err);
	} else if (p->n_user == IOS_OBJECTS_MAX) {
		ERR(p, "more than %d usernames: import-ios takes at most %d a file (split it)",
		    IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
		return 0;
	} else {
		p->user = grow(p->user, p->n_user, sizeof(*p->user));
		u = &p->user[p->n_user++];
	}
	*u = (struct ios_user){ .line = p->lineno, .replaces = replaces,
				.password = pw ? xstrdup(pw) : NULL,
				.err = why[0] ? xstrdup(why) : NULL };
	str_copy(u->name, CFG_NAME_MAX, name);
	return 0;
}

/* ---- end of file ------------------------------------------------------- */

/* A map with client lines needs an entry bound to a dynamic map: the agent
 * does Mode Config and XAUTH there only. */
static void
mapset_check(struct ios_parser *p, struct ios_mapset *s)
{
	const struct ios_map *stat = NULL, *bind = NULL;
	unsigned line = s->config_line && (s->auth.line == 0 || s->config_line < s->auth.line) ?
			s->config_line : s->auth.line;

	for (size_t i = 0; i < p->n_map; i++) {
		const struct ios_map *m = &p->map[i];

		if (m->kind == MAP_STATIC && stat == NULL && eq(m->name, s->name))
			stat = m;
		else if (m->kind == MAP_BINDING && bind == NULL && eq(m->name, s->name))
			bind = m;
	}
	if (bind == NULL) {
		if (s->config_line)
			ERR_AT(p, s->config_line, "crypto map %s client configuration: crypto map "
			       "%s has no entry bound to a dynamic map (crypto map %s SEQ "
			       "ipsec-isakmp dynamic DYNAMIC-MAP); the agent does Mode Config on "
			       "dynamic crypto maps only", s->name, s->name, s->name);
		if (s->auth.line)
			ERR_AT(p, s->auth.line, "crypto map %s client authentication: crypto map "
			       "%s has no entry bound to a dynamic map (crypto map %s SEQ "
			       "ipsec-isakmp dynamic DYNAMIC-MAP); the agent does XAUTH on dynamic "
			       "crypto maps only", s->name, s->name, s->name);
		s->bad = 1;
	} else if (stat != NULL) {
		NOTE_AT(p, line, "crypto map %s client: for its entries bound to dynamic maps "
			"only; its static entry %s %u (line %u) does no Mode Config or XAUTH",
			s->name, stat->name, stat->seq, stat->line);
	}
}

/* The pool of crypto isakmp client configuration address-pool. */
static struct ios_pool *
pool_resolve(struct ios_parser *p)
{
	struct ios_pool *pool = pool_find(p, p->addr_pool.name);

	if (pool == NULL) {
		ERR_AT(p, p->addr_pool.line, "address-pool local %s: ip local pool %s is not "
		       "defined in this file", p->addr_pool.name, p->addr_pool.name);
		return NULL;
	}
	pool->used = 1;
	if (pool->err) {
		ERR_AT(p, pool->err_line, "%s", pool->err);
		return NULL;
	}
	return pool;
}

/* The list of client authentication: local users only (the agent has no
 * AAA server). 0: XAUTH against the localusers. */
static int
aaa_resolve(struct ios_parser *p, const struct ios_mapset *s)
{
	struct ios_aaa *a = aaa_find(p, s->auth.name);

	if (a == NULL) {
		ERR_AT(p, s->auth.line, "client authentication list %s: aaa authentication login "
		       "%s is not defined in this file", s->auth.name, s->auth.name);
		return -1;
	}
	a->used = 1;
	if (!a->reported) {
		a->reported = 1;
		if (a->err)
			ERR_AT(p, a->line, "%s", a->err);
		else if (!a->local)
			ERR_AT(p, a->line, "aaa authentication login %s %s: the agent checks XAUTH "
			       "against its own users only (username lines, POST "
			       "/object/localusers), with no AAA server; add local to the methods",
			       a->name, a->others);
		else if (a->others[0])
			NOTE_AT(p, a->line, "aaa authentication login %s: only local is "
				"honoured; the agent has no AAA server (%s left out)", a->name,
				a->others);
	}
	return a->err || !a->local ? -1 : 0;
}

/* Users are sent when a crypto map asks for XAUTH; skipped otherwise. */
static void
users_finish(struct ios_parser *p)
{
	const struct ios_mapset *first = NULL;

	for (size_t i = 0; i < p->n_mapset && first == NULL; i++)
		if (p->mapset[i].xauth)
			first = &p->mapset[i];
	for (size_t i = 0; i < p->n_user; i++) {
		const struct ios_user *u = &p->user[i];

		if (first == NULL)
			NOTE_AT(p, u->line, "username %s: skipped: no crypto map asks for XAUTH "
				"(crypto map NAME client authentication list LIST, with aaa "
				"authentication login LIST local)", u->name);
		else if (u->err)
			ERR_AT(p, u->line, "%s", u->err);
		else if (u->replaces)
			NOTE_AT(p, u->line, "username %s replaces the one of line %u (the last "
				"one counts, as on IOS)", u->name, u->replaces);
	}
	if (first == NULL)
		return;
	p->xauth = 1;
	if (p->n_user == 0)
		NOTE_AT(p, first->auth.line, "crypto map %s client authentication: no username "
			"in this file; create the XAUTH users through the API (POST "
			"/object/localusers)", first->name);
	for (size_t i = 0; i < p->n_psk; i++)
		if (p->psk[i].mask == 0 && p->psk[i].no_xauth)
			ERR_AT(p, p->psk[i].line, "crypto isakmp key ... address 0.0.0.0 no-xauth: "
			       "IOS asks no client with this key for XAUTH, but crypto map %s "
			       "client authentication (line %u) asks every client of its dynamic "
			       "entries; drop one of them", first->name, first->auth.line);
}

void
ios_client_finish(struct ios_parser *p)
{
	struct ios_pool *pool = NULL;
	int want_pool = 0;

	for (size_t i = 0; i < p->n_mapset; i++) {
		mapset_check(p, &p->mapset[i]);
		want_pool |= !p->mapset[i].bad && p->mapset[i].config_line;
	}
	if (p->addr_pool.line && !want_pool)
		NOTE_AT(p, p->addr_pool.line, "address-pool local %s: not used, no crypto map has "
			"client configuration address initiate|respond", p->addr_pool.name);
	else if (p->addr_pool.line)
		pool = pool_resolve(p);
	for (size_t i = 0; i < p->n_mapset; i++) {
		struct ios_mapset *s = &p->mapset[i];

		if (s->bad)
			continue;
		if (s->config_line && p->addr_pool.line == 0)
			ERR_AT(p, s->config_line, "crypto map %s client configuration address: no "
			       "crypto isakmp client configuration address-pool local POOL in this "
			       "file, so no address to hand out", s->name);
		if (s->config_line && pool == NULL)
			s->bad = 1;
		s->pool = s->config_line ? pool : NULL;
		if (s->auth.line && aaa_resolve(p, s) == 0)
			s->xauth = 1;
		else if (s->auth.line)
			s->bad = 1;
	}
	users_finish(p);
	for (size_t i = 0; i < p->n_ippool; i++)
		if (!p->ippool[i].used)
			NOTE_AT(p, p->ippool[i].line, "ip local pool %s is not used by a crypto "
				"map (client configuration address): skipped", p->ippool[i].name);
	for (size_t i = 0; i < p->n_aaa; i++)
		if (!p->aaa[i].used)
			NOTE_AT(p, p->aaa[i].line, "aaa authentication login %s is not used by a "
				"crypto map (client authentication list): skipped", p->aaa[i].name);
}

void
ios_client_free(struct ios_parser *p)
{
	for (size_t i = 0; i < p->n_ippool; i++)
		free(p->ippool[i].err);
	for (size_t i = 0; i < p->n_aaa; i++)
		free(p->aaa[i].err);
	for (size_t i = 0; i < p->n_user; i++) {
		free_secret(p->user[i].password);
		free(p->user[i].err);
	}
	free(p->mapset);
	free(p->ippool);
	free(p->aaa);
	free(p->user);
}
