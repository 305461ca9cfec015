/*
 * The IOS → API translator behind `vpnctl import-ios` (see ios_import.h):
 * reads lines the way IOS reads a pasted config (a sub-mode line is
 * indented or a known sub-command of the mode; anything else goes back to
 * global config), dispatches the crypto ones, the GRE tunnel interfaces and
 * those crypto lines name (ip local pool, aaa authentication login,
 * username, another interface's address), and skips the rest with one note
 * per run of them.
 */
#include "cli/ios_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- diagnostics ------------------------------------------------------- */

void
ios_diag(struct ios_parser *p, unsigned line, enum ios_severity sev, const char *fmt, ...)
{
	struct ios_result *r = p->res;
	char msg[IOS_MESSAGE_MAX + 1];
	va_list ap;

	if (sev == IOS_ERROR)
		r->n_errors++;
	if (p->stopped)
		return;
	if (r->n_diags == IOS_DIAGS_MAX) {
		p->stopped = 1;
		if (sev != IOS_ERROR)
			r->n_errors++;
		sev = IOS_ERROR;
		snprintf(msg, sizeof(msg), "more than %d problems: the rest of the file is not "
			 "read", IOS_DIAGS_MAX);
	} else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	r->diags = xreallocarray(r->diags, r->n_diags + 1, sizeof(*r->diags));
	r->diags[r->n_diags++] = (struct ios_diag){ line, sev, xstrdup(msg) };
}

void
ios_unsupported(struct ios_parser *p, const char *fmt, ...)
{
	char msg[IOS_MESSAGE_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ERR(p, "%s", msg);
	p->mode = M_UNSUPPORTED;	/* its sub-lines go with it */
}

/* ---- words and values -------------------------------------------------- */

int
ios_num(const char *s, unsigned long lo, unsigned long hi, unsigned *out)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n >= 10)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || s[n] != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* Crypto lines must be whole and printable: they become JSON strings. */
int
ios_line_ok(struct ios_parser *p)
{
	if (p->l.too_long) {
		ERR(p, "line is longer than %d characters or %d words: not read", IOS_LINE_MAX,
		    IOS_WORDS_MAX);
		return 0;
	}
	if (p->l.bad_col) {
		ERR(p, "column %u: not a printable ASCII character: line not read", p->l.bad_col);
		return 0;
	}
	return 1;
}

/* ---- skipped lines ----------------------------------------------------- */

static void
skip_flush(struct ios_parser *p)
{
	if (p->skip_first == 0)
		return;
	if (p->skip_first == p->skip_last)
		NOTE_AT(p, p->skip_first, "skipped, not crypto configuration: %s",
			p->skip_text);
	else
		NOTE_AT(p, p->skip_first, "lines %u-%u skipped, not crypto configuration: "
			"%s", p->skip_first, p->skip_last, p->skip_text);
	p->skip_first = 0;
	p->skip_heads = 0;
	p->skip_text[0] = '\0';
}

/* The command a skipped block starts with: "interface Ethernet0", "ip nat". */
static void
skip_add(struct ios_parser *p)
{
	const char *w0 = W(p, 0);
	int two = eq(w0, "no") || eq(w0, "ip") || eq(w0, "interface") || eq(w0, "router");
	char head[64];
	size_t n;

	snprintf(head, sizeof(head), "%.30s%s%.30s", w0, two && p->l.nw > 1 ? " " : "",
		 two ? W(p, 1) : "");
	for (char *c = head; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	if (p->skip_first == 0)
		p->skip_first = p->lineno;
	p->skip_last = p->lineno;
	if ((n = strlen(head)) == 0)
		return;
	for (const char *s = p->skip_text; (s = strstr(s, head)) != NULL; s += n)
		if ((s == p->skip_text || s[-1] == ' ') && (s[n] == ',' || s[n] == '\0'))
			return;	/* named already */
	if (p->skip_heads == SKIP_HEADS_MAX) {
		if (strstr(p->skip_text, ", ...") == NULL)
			snprintf(p->skip_text + strlen(p->skip_text),
				 sizeof(p->skip_text) - strlen(p->skip_text), ", ...");
		return;
	}
	snprintf(p->skip_text + strlen(p->skip_text), sizeof(p->skip_text) -
		 strlen(p->skip_text), "%s%s", p->skip_heads ? ", " : "", head);
	p->skip_heads++;
}

/* Skipped commands that open a sub-mode: their unindented sub-lines (in
 * documents that lost the indentation) stay with them. */
static int
opens_submode(const char *w0)
{
	static const char *const words[] = {
		"interface", "router", "line", "route-map", "class-map", "policy-map",
		"control-plane", "controller", "key", "vrf",
	};

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (eq(w0, words[i]))
			return 1;
	return 0;
}

/* Lines that end a skipped block even when not indented. */
static int
starts_block(const struct ios_parser *p)
{
	static const char *const words[] = {
		"crypto", "access-list", "interface", "router", "line", "route-map", "class-map",
		"policy-map", "hostname", "banner", "end", "version", "username", "control-plane",
		"aaa",
	};
	const char *w0 = W(p, 0);

	if (eq(w0, "ip") && (eq(W(p, 1), "access-list") ||
			     (eq(W(p, 1), "local") && eq(W(p, 2), "pool"))))
		return 1;
	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (eq(w0, words[i]))
			return 1;
	return 0;
}

/* banner motd ^C ... ^C: text up to the delimiter is not configuration. */
static void
banner_open(struct ios_parser *p)
{
	static const char *const types[] = { "motd", "login", "exec", "incoming", "slip-ppp" };
	int i = 1;
	const char *d, *rest;

	for (size_t t = 0; t < ARRAY_LEN(types); t++)
		if (eq(W(p, 1), types[t]))
			i = 2;
	if (i >= p->l.nw)
		return;
	d = W(p, i);
	str_copy(p->banner, sizeof(p->banner), d);
	if (strncmp(d, "^C", 2) != 0)
		p->banner[1] = '\0';
	rest = p->l.raw + p->l.start[i] + strlen(p->banner);
	if (strstr(rest, p->banner) == NULL)
		p->mode = M_BANNER;
}

/* ---- dispatch ---------------------------------------------------------- */

static void
crypto_isakmp(struct ios_parser *p)
{
	const char *w2 = W(p, 2);

	if (eq(w2, "policy"))
		ios_policy_open(p);
	else if (eq(w2, "key"))
		ios_psk_line(p);
	else if (eq(w2, "keepalive"))
		ios_dpd_line(p);
	else if (eq(w2, "identity"))
		ios_identity_line(p);
	else if (eq(w2, "nat") && eq(W(p, 3), "keepalive"))
		ios_nat_line(p);
	else if (eq(w2, "enable") && p->l.nw == 3)
		;	/* IKE is always on */
	else if (eq(w2, "xauth") && eq(W(p, 3), "timeout") && p->l.nw == 5)
		NOTE(p, "crypto isakmp xauth timeout: ignored; the agent has no setting for how "
		     "long a client may take to answer XAUTH");
	else if (eq(w2, "aggressive-mode") && eq(W(p, 3), "disable"))
		NOTE(p, "crypto isakmp aggressive-mode disable: the agent never uses aggressive "
		     "mode");
	else if (eq(w2, "client"))
		ios_client_isakmp(p);
	else
		ios_unsupported(p, "%.*s: not supported", upto(p, 2), p->l.raw);
}

static void
crypto_global(struct ios_parser *p)
{
	const char *w1 = W(p, 1);

	if (!ios_line_ok(p)) {
		p->mode = M_UNSUPPORTED;
	} else if (eq(w1, "isakmp")) {
		crypto_isakmp(p);
	} else if (eq(w1, "ipsec") && eq(W(p, 2), "transform-set")) {
		ios_xform_open(p);
	} else if (eq(w1, "ipsec") && eq(W(p, 2), "security-association") &&
		   eq(W(p, 3), "lifetime")) {
		if (ios_sa_lifetime(p, 4, &p->sa_life_s, &p->sa_life_kb) == 0)
			NOTE(p, "%.*s: applied to this file's crypto maps that set no lifetime "
			     "(the agent keeps no global value)", upto(p, 3), p->l.raw);
	} else if (eq(w1, "map") && p->l.nw >= 3) {
		ios_map_global(p);
	} else if (eq(w1, "dynamic-map")) {
		ios_dynmap_open(p);
	} else if (eq(w1, "key")) {
		ios_unsupported(p, "%.*s: RSA keys in the configuration are not supported; use "
				"authentication rsa-sig with certificates (crypto pki trustpoint; "
				"the certificates and the key come through the API)", upto(p, 2),
				p->l.raw);
	} else if (eq(w1, "pki") || eq(w1, "ca")) {
		ios_pki_global(p);
	} else if (eq(w1, "ikev2")) {
		ios_unsupported(p, "crypto ikev2: IKEv2 is not supported yet; the agent speaks "
				"IKEv1");
	} else if (eq(w1, "logging")) {
		NOTE(p, "crypto logging: ignored; the agent always logs tunnel up and down");
	} else {
		ios_unsupported(p, "%.*s: not supported", upto(p, 2), p->l.raw);
	}
}

static void
global_line(struct ios_parser *p)
{
	const char *w0 = W(p, 0);

	p->in_interface = p->in_submode = 0;
	p->iface_cur = 0;
	if (eq(w0, "end") || eq(w0, "exit"))
		return;
	if (eq(w0, "crypto")) {
		skip_flush(p);
		crypto_global(p);
	} else if (eq(w0, "access-list") && ios_num(W(p, 1), 1, 99999, &(unsigned){ 0 }) == 0) {
		skip_flush(p);
		ios_acl_numbered(p);
	} else if ((eq(w0, "ip") && eq(W(p, 1), "local") && eq(W(p, 2), "pool") &&
		    ios_pool_line(p) == 0) ||
		   (eq(w0, "aaa") && eq(W(p, 1), "authentication") && eq(W(p, 2), "login") &&
		    ios_aaa_line(p) == 0) ||
		   (eq(w0, "username") && ios_user_line(p) == 0)) {
		skip_flush(p);	/* read; a note at the end if no crypto line uses it */
	} else if (eq(w0, "ip") && eq(W(p, 1), "access-list") && p->l.nw == 4 &&
		   (eq(W(p, 2), "extended") || eq(W(p, 2), "standard")) &&
		   !p->l.bad_col && !p->l.too_long) {	/* else no map can name it */
		struct ios_acl *a;

		skip_flush(p);
		a = ios_acl_get(p, W(p, 3), eq(W(p, 2), "extended") ? ACL_EXTENDED : ACL_STANDARD);
		p->mode = a ? M_ACL : M_UNSUPPORTED;
		p->cur = a ? (size_t)(a - p->acl) : 0;
	} else if (eq(w0, "interface") && ios_tunnel_open(p) == 0) {
		skip_flush(p);	/* interface TunnelN: read */
	} else {
		skip_add(p);
		p->mode = M_SKIP;
		p->in_interface = eq(w0, "interface");
		p->in_submode = opens_submode(w0);
		if (p->in_interface)
			ios_iface_open(p);	/* its address, for a tunnel source */
		if (eq(w0, "banner"))
			banner_open(p);
	}
}

static int
sub_command(const struct ios_parser *p)
{
	static const char *const policy[] = { "encryption", "hash", "authentication", "group",
					       "lifetime", "exit" };
	static const char *const map[] = { "set", "match", "description", "reverse-route",
					   "exit" };
	const char *w0 = W(p, 0);

	if (p->l.indented)
		return 1;
	switch (p->mode) {
	case M_POLICY:
		for (size_t i = 0; i < ARRAY_LEN(policy); i++)
			if (eq(w0, policy[i]))
				return 1;
		return 0;
	case M_MAP:
		for (size_t i = 0; i < ARRAY_LEN(map); i++)
			if (eq(w0, map[i]))
				return 1;
		return 0;
	case M_XFORM:
		return eq(w0, "mode") || eq(w0, "exit");
	case M_TRUSTPOINT:
		return ios_trustpoint_sub(w0);
	case M_TUNNEL:
		return ios_tunnel_sub(p);
	case M_ACL:
		return eq(w0, "permit") || eq(w0, "deny") || eq(w0, "remark") || eq(w0, "exit") ||
		       (w0[0] >= '0' && w0[0] <= '9');
	case M_SKIP:		/* until "!" or a line that starts a block */
		if (p->in_interface && p->l.nw == 3 && eq(w0, "crypto") && eq(W(p, 1), "map"))
			return 1;
		return p->in_submode && !starts_block(p);
	case M_UNSUPPORTED:
	case M_NOTED:
		return !starts_block(p);
	default:
		return 0;
	}
}

/* Cuts one line into p->l; returns 0 for a blank line, 1 for a "!"
 * comment, 2 for a line to read. */
static int
line_read(struct ios_parser *p, const char *s, size_t n)
{
	struct ios_line *l = &p->l;
	size_t i = 0, len;
	char *c;

	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	l->indented = i > 0;
	s += i;
	n -= i;
	if (n == 0)
		return 0;
	if (s[0] == '!')
		return 1;
	l->too_long = n > IOS_LINE_MAX;
	l->bad_col = 0;
	for (size_t k = 0; k < n && l->bad_col == 0; k++)
		if ((s[k] < 0x20 && s[k] != '\t') || (unsigned char)s[k] >= 0x7f)
			l->bad_col = (unsigned)(i + k + 1);
	len = n > IOS_LINE_MAX ? IOS_LINE_MAX : n;
	memcpy(l->raw, s, len);
	l->raw[len] = '\0';
	for (c = l->raw; c < l->raw + len; c++)
		if (*c == '\t' || *c == '\0')
			*c = ' ';
	memcpy(l->buf, l->raw, len + 1);
	l->nw = 0;
	for (c = l->buf; *c;) {
		while (*c == ' ')
			*c++ = '\0';
		if (*c == '\0')
			break;
		if (l->nw == IOS_WORDS_MAX) {
			l->too_long = 1;
			break;
		}
		l->start[l->nw] = (size_t)(c - l->buf);
		l->w[l->nw] = c;
		while (*c && *c != ' ')
			c++;
		l->end[l->nw++] = (size_t)(c - l->buf);
	}
	return l->nw > 0 ? 2 : 0;	/* only NUL bytes: blank */
}

static void
feed(struct ios_parser *p, const char *s, size_t n)
{
	if (p->mode == M_BANNER) {
		size_t dl = strlen(p->banner);

		p->skip_last = p->lineno;
		for (size_t i = 0; i + dl <= n; i++)
			if (memcmp(s + i, p->banner, dl) == 0) {
				p->mode = M_GLOBAL;
				break;
			}
		return;
	}
	switch (line_read(p, s, n)) {
	case 0:
		return;
	case 1:
		if (p->mode == M_SKIP || p->mode == M_UNSUPPORTED || p->mode == M_NOTED)
			p->mode = M_GLOBAL;	/* "!" closes a block we do not read */
		return;
	}
	if (p->mode != M_GLOBAL && !sub_command(p))
		p->mode = M_GLOBAL;
	switch (p->mode) {
	case M_POLICY:
		ios_policy_line(p);
		break;
	case M_XFORM:
		ios_xform_line(p);
		break;
	case M_MAP:
		ios_map_line(p);
		break;
	case M_ACL:
		ios_acl_named_line(p);
		break;
	case M_TRUSTPOINT:
		ios_trustpoint_line(p);
		break;
	case M_TUNNEL:
		ios_tunnel_line(p);
		break;
	case M_SKIP:
		p->skip_last = p->lineno;
		if (p->in_interface)
			ios_iface_line(p);
		break;
	case M_UNSUPPORTED:
	case M_NOTED:
	case M_BANNER:
		break;
	case M_GLOBAL:
		global_line(p);
		break;
	}
}

/* ---- entry points ------------------------------------------------------ */

static void
parser_free(struct ios_parser *p)
{
	for (size_t i = 0; i < p->n_psk; i++)
		free_secret(p->psk[i].key);
	for (size_t i = 0; i < p->n_map; i++) {
		for (size_t j = 0; j < p->map[i].n_peers; j++)
			free(p->map[i].peers[j]);
		free(p->map[i].description);
	}
	for (size_t i = 0; i < p->n_acl; i++)
		for (size_t j = 0; j < p->acl[i].n_kept; j++)
			free(p->acl[i].e[j].err);
	ios_client_free(p);
	ios_tunnel_free(p);
	free(p->pol);
	free(p->psk);
	free(p->xf);
	free(p->map);
	free(p->acl);
	free(p->tp);
	free(p);
}

/* By line, stable: deferred checks (an access list's lines, a policy's
 * missing lines) land where they belong. Mostly sorted already. */
static void
diags_sort(struct ios_result *r)
{
	for (size_t i = 1; i < r->n_diags; i++) {
		struct ios_diag d = r->diags[i];
		size_t j = i;

		for (; j > 0 && r->diags[j - 1].line > d.line; j--)
			r->diags[j] = r->diags[j - 1];
		r->diags[j] = d;
	}
}

void
ios_import(const char *text, size_t len, const char *file, struct ios_result *res)
{
	struct ios_parser *p = xcalloc(1, sizeof(*p));
	size_t pos = 0;

	memset(res, 0, sizeof(*res));
	p->res = res;
	res->file = xstrdup(file ? file : "-");
	if (len > IOS_TEXT_MAX)
		ERR_AT(p, 0, "larger than %d bytes: not read", IOS_TEXT_MAX);
	while (len <= IOS_TEXT_MAX && pos < len && !p->stopped) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p->lineno++;
		feed(p, text + pos, n);
		pos += n + 1;
	}
	skip_flush(p);
	if (len <= IOS_TEXT_MAX && !p->stopped)
		ios_finish(p);
	diags_sort(res);
	parser_free(p);
}

void
ios_result_free(struct ios_result *res)
{
	for (size_t i = 0; i < res->n_objs; i++)
		json_decref(res->objs[i].body);
	for (size_t i = 0; i < res->n_diags; i++)
		free(res->diags[i].msg);
	free(res->objs);
	free(res->diags);
	free(res->file);
	memset(res, 0, sizeof(*res));
}

void
ios_format_diags(const struct ios_result *res, struct strbuf *out)
{
	const char *file = res->file ? res->file : "-";

	for (size_t i = 0; i < res->n_diags; i++) {
		const struct ios_diag *d = &res->diags[i];
		const char *sev = d->severity == IOS_ERROR ? "error" : "note";

		if (d->line)
			strbuf_printf(out, "%s:%u: %s: %s\n", file, d->line, sev, d->msg);
		else
			strbuf_printf(out, "%s: %s: %s\n", file, sev, d->msg);
	}
}

void
ios_format_objects(const struct ios_result *res, struct strbuf *out)
{
	for (size_t i = 0; i < res->n_objs; i++) {
		const struct ios_object *o = &res->objs[i];
		json_t *shown = NULL;
		char *text;

		if (o->kind == IOS_PSK || o->kind == IOS_LOCAL_USER) {
			/* a terminal or a CI log is no place for them */
			shown = json_deep_copy(o->body);
			json_object_set_new(shown, o->kind == IOS_PSK ? "key" : "password",
					    json_string("********"));
		}
		text = json_dumps(shown ? shown : o->body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		strbuf_printf(out, "%s%s %s%s\n%s\n", i ? "\n" : "", o->method, o->path,
			      eq(o->method, "PUT") ?
			      " (these fields; the others keep their values)" : "",
			      text ? text : "null");
		free(text);
		json_decref(shown);
	}
}
