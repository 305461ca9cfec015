/*
 * IOS translator: certificates. crypto pki trustpoint blocks are
 * read but not translated: the agent takes its certificate, its key and the
 * CAs through the API, so a note at the end of the file names the objects
 * to create for each one. crypto pki certificate chain blocks (hex dumps
 * without the keys) are skipped with a note. crypto ca is the older name.
 */
#include "cli/ios_int.h"

#include <stdio.h>

/* The sub-commands of a trustpoint, for documents that lost the
 * indentation; an indented line belongs to the block whatever it says. */
int
ios_trustpoint_sub(const char *w0)
{
	static const char *const words[] = {
		"enrollment", "subject-name", "subject-alt-name", "revocation-check",
		"rsakeypair", "eckeypair", "serial-number", "ip-address", "fqdn", "auto-enroll",
		"usage", "ocsp", "chain-validation", "source", "storage", "hash", "match",
		"password", "primary", "exit",
	};

	for (size_t i = 0; i < ARRAY_LEN(words); i++)
		if (eq(w0, words[i]))
			return 1;
	return 0;
}

static const struct ios_trustpoint *
trustpoint_find(const struct ios_parser *p, const char *name)
{
	for (size_t i = 0; i < p->n_tp; i++)
		if (eq(p->tp[i].name, name))
			return &p->tp[i];
	return NULL;
}

static void
trustpoint_open(struct ios_parser *p)
{
	const char *name = W(p, 3);
	const struct ios_trustpoint *tp;

	if (p->l.nw != 4 || strlen(name) >= CFG_NAME_MAX) {
		ios_unsupported(p, "crypto %s trustpoint takes a name (up to %d characters)",
				W(p, 1), CFG_NAME_MAX - 1);
		return;
	}
	if ((tp = trustpoint_find(p, name)) != NULL) {
		p->cur = (size_t)(tp - p->tp);	/* IOS goes on editing it */
		p->mode = M_TRUSTPOINT;
		return;
	}
	if (p->n_tp == IOS_OBJECTS_MAX) {
		ios_unsupported(p, "more than %d trustpoints: import-ios takes at most %d a file "
				"(split it)", IOS_OBJECTS_MAX, IOS_OBJECTS_MAX);
		return;
	}
	p->tp = grow(p->tp, p->n_tp, sizeof(*p->tp));
	p->tp[p->n_tp] = (struct ios_trustpoint){ .line = p->lineno, .crl = 1 };
	str_copy(p->tp[p->n_tp].name, CFG_NAME_MAX, name);
	p->cur = p->n_tp++;
	p->mode = M_TRUSTPOINT;
}

/* The certificates and their hex lines go with the note. */
static void
chain_skip(struct ios_parser *p)
{
	const struct ios_trustpoint *tp = trustpoint_find(p, W(p, 4));

	if (tp != NULL && tp->selfsigned)
		NOTE(p, "crypto %s certificate chain " SHOW ": skipped (the self-signed "
		     "certificate of trustpoint " SHOW ")", W(p, 1), W(p, 4), W(p, 4));
	else
		NOTE(p, "crypto %s certificate chain " SHOW ": skipped: certificates are not "
		     "imported from the configuration, which holds no private key; give them "
		     "through the API (POST /object/internalcertificates, "
		     "/object/externalcacertificates)", W(p, 1), W(p, 4));
	p->mode = M_NOTED;
}

/* crypto pki trustpoint, certificate chain; crypto ca the same (older IOS). */
void
ios_pki_global(struct ios_parser *p)
{
	const char *w2 = W(p, 2);

	if (eq(w2, "trustpoint")) {
		trustpoint_open(p);
	} else if (eq(w2, "certificate") && eq(W(p, 3), "chain") && p->l.nw == 5) {
		chain_skip(p);
	} else {
		ios_unsupported(p, "%.*s: not supported (crypto %s trustpoint and crypto %s "
				"certificate chain are read)", upto(p, 2), p->l.raw, W(p, 1),
				W(p, 1));
	}
}

/* revocation-check METHOD...: crl (IOS's default) or none; the agent checks
 * the CRLs it is given and asks no OCSP responder. */
static void
trustpoint_revocation(struct ios_parser *p, struct ios_trustpoint *tp)
{
	int crl = 0;

	if (p->l.nw == 1) {
		ERR(p, "revocation-check: crl or none");
		return;
	}
	for (int i = 1; i < p->l.nw; i++) {
		const char *m = W(p, i);

		if (eq(m, "ocsp")) {
			ERR(p, "%.*s: OCSP is not supported; use revocation-check crl (the CRLs "
			    "come through the API, crls of /devicesettings/default/ike) or "
			    "revocation-check none", upto(p, p->l.nw - 1), p->l.raw);
			return;
		}
		if (!eq(m, "crl") && !eq(m, "none")) {
			ERR(p, "revocation-check " SHOW ": not a method (crl or none)", m);
			return;
		}
		crl |= eq(m, "crl");
	}
	tp->crl = crl;
	tp->crl_line = p->lineno;
}

void
ios_trustpoint_line(struct ios_parser *p)
{
	struct ios_trustpoint *tp = &p->tp[p->cur];
	const char *w0 = W(p, 0);

	/* The rest (subject-name, rsakeypair, serial-number, ...) says how IOS
	 * enrolls: the agent is given its certificate and has no use for it, so
	 * those lines may hold any byte (a subject in UTF-8). */
	if (eq(w0, "exit"))
		p->mode = M_GLOBAL;
	else if (eq(w0, "revocation-check") && ios_line_ok(p))
		trustpoint_revocation(p, tp);
	else if (eq(w0, "enrollment") && eq(W(p, 1), "selfsigned"))
		tp->selfsigned = 1;
	else if (eq(w0, "enrollment") && (eq(W(p, 1), "terminal") || eq(W(p, 1), "url") ||
					  eq(W(p, 1), "profile")))
		tp->selfsigned = 0;	/* the method; enrollment retry, mode: parameters */
}

/* Its certificate, its CA and, with revocation-check crl, the CRLs: where
 * they go. Fits IOS_MESSAGE_MAX with the longest name SHOW prints. */
static void
trustpoint_note(struct ios_parser *p, const struct ios_trustpoint *tp)
{
	char crl[96] = "";

	if (tp->crl)
		snprintf(crl, sizeof(crl), " and crls (revocation-check crl%s: its CA's CRLs, "
			 "PEM)", tp->crl_line ? "" : ", IOS's default");
	NOTE_AT(p, tp->line, "crypto pki trustpoint " SHOW ": not translated; the "
		"certificates come through the API: POST /object/internalcertificates (this "
		"device's certificate and key), POST /object/externalcacertificates (its CA), "
		"then PUT /devicesettings/default/ike with certificate, trustedCAs%s", tp->name,
		crl);
}

/* After the policies' defaults: a trustpoint matters when a policy signs. */
void
ios_pki_finish(struct ios_parser *p)
{
	const struct ios_policy *sig = NULL;
	int noted = 0;

	for (size_t i = 0; i < p->n_pol && sig == NULL; i++)
		if (!p->pol[i].bad && p->pol[i].auth != CFG_IKE_AUTH_PSK)
			sig = &p->pol[i];
	for (size_t i = 0; i < p->n_tp; i++) {
		const struct ios_trustpoint *tp = &p->tp[i];

		if (tp->selfsigned) {
			NOTE_AT(p, tp->line, "crypto pki trustpoint " SHOW ": enrollment "
				"selfsigned (IOS's own certificate, as for its HTTPS server): "
				"skipped", tp->name);
		} else if (sig == NULL) {
			NOTE_AT(p, tp->line, "crypto pki trustpoint " SHOW " is not used: no "
				"crypto isakmp policy of this file authenticates with certificates: "
				"skipped", tp->name);
		} else {
			trustpoint_note(p, tp);
			noted = 1;
		}
	}
	if (sig != NULL && !noted)
		NOTE_AT(p, sig->line, "crypto isakmp policy %u authenticates with %s: give the "
			"agent its certificate through the API: POST /object/internalcertificates "
			"(this device's certificate and key), POST /object/externalcacertificates "
			"(the CA of the peers' certificates), then PUT /devicesettings/default/ike "
			"with certificate and trustedCAs", sig->prio, cfg_ike_auth_names[sig->auth]);
}
