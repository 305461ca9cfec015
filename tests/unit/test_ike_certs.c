/*
 * Main Mode with signatures (SPEC R-16) between two engines on the fake
 * wire of ike_sim.c, with the PKI of test_ike_pki.c: each side trusts the
 * root alone and sends its intermediate. RSA and ECDSA P-256, both roles,
 * each identity; CERTREQ in messages 3/4, ID, CERT and SIG in 5/6 (read in
 * flight with the receiver's keys); each refusal with its own drop reason,
 * notify and log line, and a policy without a key of its kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ike_sim.h"
#include "test_ike_pki.h"

static char fqdn_a[] = "site-a.example.net", fqdn_b[] = "site-b.example.net";
static char fqdn_wrong[] = "site-x.example.net";

/* ---- the log (stderr), captured around an exchange ------------------------------- */

static FILE *log_file;
static int   log_saved = -1;
static char  log_text[32768];

static void
log_capture(void)
{
	fflush(stderr);
	log_file = tmpfile();
	assert_non_null(log_file);
	log_saved = dup(STDERR_FILENO);
	assert_true(log_saved >= 0);
	assert_int_equal(dup2(fileno(log_file), STDERR_FILENO), STDERR_FILENO);
}

/* Stops capturing: the text is returned, and passed on to stderr. */
static const char *
log_captured(void)
{
	size_t n;

	fflush(stderr);
	dup2(log_saved, STDERR_FILENO);
	close(log_saved);
	log_saved = -1;
	rewind(log_file);
	n = fread(log_text, 1, sizeof(log_text) - 1, log_file);
	log_text[n] = '\0';
	fclose(log_file);
	log_file = NULL;
	fputs(log_text, stderr);
	return log_text;
}

static size_t
occurrences(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static int
teardown(void **state)
{
	if (log_saved >= 0)
		log_captured();		/* a test failed while capturing */
	return teardown_peers(state);
}

/* ---- Main Mode messages, read in flight ------------------------------------------ */

#define MM_MAX 16

/* One Main Mode message as it crossed the wire; 5 and 6 decrypted with the
 * receiver's keys and CBC state (which it has not used yet). */
struct mm_msg {
	int      from, encrypted;
	uint8_t  np;
	size_t   len;
	uint8_t  body[IKE_MSG_MAX];
};

static struct mm_msg mm[MM_MAX];
static size_t        nmm;
static struct { int from; uint16_t type; } notes[MM_MAX];	/* error notifies, in clear */
static size_t        nnotes;
static int           tamper_from = -1;	/* flip a SIG byte of this peer's next 5/6 */
static struct pkt    held;		/* ...which is lost, and held here */

static void
flip_sig(const struct pkt *p, const struct mm_msg *m, struct ike_sa *rx)
{
	uint8_t plain[IKE_MSG_MAX], iv[IKE_BLOCK];
	const struct ike_payload *sig;
	struct ike_chain c;

	memcpy(plain, m->body, m->len);
	assert_int_equal(ike_chain_parse(m->np, plain, m->len, 1, &c), 0);
	assert_non_null(sig = ike_chain_find(&c, IKE_PL_SIG));
	plain[sig->offset + 4 + sig->len / 2] ^= 0x40;
	memcpy(iv, rx->iv, sizeof(iv));
	assert_int_equal(ike_cbc_encrypt(rx->keys.enc_key, rx->keys.enc_key_len, iv, plain,
					 m->len), 0);
	held = *p;
	memcpy(held.data + IKE_HDR_LEN, plain, m->len);
}

static void
note(const struct pkt *p, const struct ike_hdr *h)
{
	struct ike_notify_pl n;
	struct ike_chain c;

	assert_int_equal(ike_chain_parse(h->next_payload, p->data + IKE_HDR_LEN,
					 p->len - IKE_HDR_LEN, 0, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(ike_notify_parse(c.pl[0].body, c.pl[0].len, &n), 0);
	assert_true(nnotes < MM_MAX);
	notes[nnotes].from = p->from;
	notes[nnotes++].type = n.type;
}

static int
mm_tap(const struct pkt *p)
{
	struct mm_msg *m;
	struct ike_sa *rx;
	struct ike_hdr h;
	uint8_t iv[IKE_BLOCK];

	if (p->to < 0 || ike_hdr_parse(p->data, p->len, &h) == -1)
		return 0;
	if (h.exchange == IKE_XCHG_INFORMATIONAL && !(h.flags & IKE_FLAG_ENCRYPTION))
		note(p, &h);
	if (h.exchange != IKE_XCHG_ID_PROT || nmm == MM_MAX)
		return 0;
	m = &mm[nmm++];
	m->from = p->from;
	m->np = h.next_payload;
	m->encrypted = (h.flags & IKE_FLAG_ENCRYPTION) != 0;
	m->len = p->len - IKE_HDR_LEN;
	memcpy(m->body, p->data + IKE_HDR_LEN, m->len);
	if (!m->encrypted)
		return 0;
	assert_non_null(rx = ike_sa_find(peers[p->to].ike, &h));
	memcpy(iv, rx->iv, sizeof(iv));
	assert_int_equal(ike_decrypt_body(rx, m->body, m->len, iv), (long)m->len);
	if (p->from != tamper_from)
		return 0;
	tamper_from = -1;
	flip_sig(p, m, rx);
	return 1;
}

static void
watch_mm(void)
{
	nmm = nnotes = 0;
	tamper_from = -1;
	sim_tap = mm_tap;
}

static void
parse_mm(const struct mm_msg *m, struct ike_chain *c)
{
	assert_int_equal(ike_chain_parse(m->np, m->body, m->len, m->encrypted, c), 0);
}

static size_t
count_type(const struct ike_chain *c, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->pl[i].type == type;
	return n;
}

/* ---- configurations -------------------------------------------------------------- */

enum ident { ID_ADDRESS, ID_FQDN, ID_DN };

static int
method(enum tpki_kind kind)
{
	return kind == TPKI_RSA ? IKE_AUTH_METHOD_RSA : IKE_AUTH_METHOD_ECDSA_P256;
}

static enum tpki_leaf leaf_of[2];	/* what with_cert gave each site */

/* Peer i (0: site A, 1: site B) signs with `leaf` and trusts the root. */
static void
with_cert(int i, enum tpki_kind kind, enum tpki_leaf leaf, enum ident id)
{
	const struct tpki *p = tpki_get(kind);

	leaf_of[i] = leaf;
	test_auth[i].auth = method(kind);
	test_auth[i].cert = p->leaf[leaf].cert;
	test_auth[i].key = p->leaf[leaf].key;
	test_auth[i].cas = p->root;
	test_auth[i].identity_dn = id == ID_DN;
	test_auth[i].fqdn = id == ID_FQDN ? (i == 0 ? fqdn_a : fqdn_b) : NULL;
}

/* The n-th certificate of a PEM text, DER. */
static size_t
pem_der(const char *pem, int n, uint8_t *out, size_t max)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = NULL;
	unsigned char *der = NULL;
	int len;

	assert_non_null(b);
	for (int i = 0; i <= n; i++) {
		X509_free(x);
		assert_non_null(x = PEM_read_bio_X509(b, NULL, NULL, NULL));
	}
	len = i2d_X509(x, &der);
	assert_true(len > 0 && (size_t)len <= max);
	memcpy(out, der, (size_t)len);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	return (size_t)len;
}

static size_t
pem_subject(const char *pem, uint8_t *out, size_t max)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	unsigned char *der = NULL;
	int len;

	assert_non_null(x);
	len = i2d_X509_NAME(X509_get_subject_name(x), &der);
	assert_true(len > 0 && (size_t)len <= max);
	memcpy(out, der, (size_t)len);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
	return (size_t)len;
}

/* ---- what an established pair looks like ----------------------------------------- */

struct sa_seen {
	size_t      n;
	const char *auth, *state;
};

static void
sa_fn(void *ctx, const struct ike_sa_view *v)
{
	struct sa_seen *s = ctx;

	s->n++;
	s->auth = v->auth;
	s->state = v->state;
}

static uint64_t
notifies(int i)
{
	uint64_t n = 0;

	for (int e = 0; e < IKE_ERR__COUNT; e++)
		n += peers[i].ike->st.err_notifies[e];
	return n;
}

/* Both sides up with one ISAKMP SA of the method and one SA pair. */
static void
assert_up(enum tpki_kind kind)
{
	for (int i = 0; i < 2; i++) {
		struct sa_seen s = { 0 };

		assert_non_null(established_sa(i));
		assert_int_equal(established_sa(i)->auth, method(kind));
		assert_true(peers[i].ike->tunnels[0].up);
		assert_int_equal(peers[i].installed, 1);
		assert_int_equal(peers[i].ike->st.established, 1);
		ike_sas_view(peers[i].ike, now_ms, sa_fn, &s);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.auth, kind == TPKI_RSA ? "rsig" : "ecdsa");
		assert_string_equal(s.state, "QM_IDLE");
	}
	assert_int_equal(peers[0].last_installed.spi_in, peers[1].last_installed.spi_out);
	assert_int_equal(peers[0].last_installed.spi_out, peers[1].last_installed.spi_in);
	assert_memory_equal(peers[0].last_installed.key_in, peers[1].last_installed.key_out,
			    peers[0].last_installed.key_len);
}

/* Message 5 or 6 from peer `from`: ID of the kind asked for, CERT (encoding
 * 4) with the leaf, CERT with the intermediate, SIG of the key's size, no
 * HASH; INITIAL-CONTACT after them from the initiator. */
static void
assert_auth_msg(const struct mm_msg *m, int from, enum tpki_kind kind, enum ident id)
{
	const struct tpki_cred *cred = &tpki_get(kind)->leaf[leaf_of[from]];
	uint8_t der[4096];
	struct ike_id_pl idp;
	struct ike_chain c;
	size_t len;

	assert_int_equal(m->from, from);
	assert_true(m->encrypted);
	parse_mm(m, &c);
	assert_int_equal(c.n, from == test_initiator ? 5 : 4);
	assert_int_equal(c.pl[0].type, IKE_PL_ID);
	assert_int_equal(c.pl[1].type, IKE_PL_CERT);
	assert_int_equal(c.pl[2].type, IKE_PL_CERT);
	assert_int_equal(c.pl[3].type, IKE_PL_SIG);
	if (c.n == 5)
		assert_int_equal(c.pl[4].type, IKE_PL_NOTIFY);
	assert_int_equal(count_type(&c, IKE_PL_HASH), 0);
	assert_int_equal(ike_id_parse(c.pl[0].body, c.pl[0].len, &idp), 0);
	switch (id) {
	case ID_ADDRESS:
		assert_int_equal(idp.type, IKE_ID_IPV4_ADDR);
		assert_int_equal(idp.len, 4);
		assert_memory_equal(idp.data, &peers[from].addr_be, 4);
		break;
	case ID_FQDN:
		assert_int_equal(idp.type, IKE_ID_FQDN);
		assert_int_equal(idp.len, strlen(from == 0 ? fqdn_a : fqdn_b));
		assert_memory_equal(idp.data, from == 0 ? fqdn_a : fqdn_b, idp.len);
		break;
	case ID_DN:
		assert_int_equal(idp.type, IKE_ID_DER_ASN1_DN);
		len = pem_subject(cred->cert, der, sizeof(der));
		assert_int_equal(idp.len, len);
		assert_memory_equal(idp.data, der, len);
		break;
	}
	for (int k = 0; k < 2; k++) {
		len = pem_der(cred->cert, k, der, sizeof(der));
		assert_int_equal(c.pl[1 + k].body[0], IKE_CERT_X509_SIG);
		assert_int_equal(c.pl[1 + k].len, 1 + len);
		assert_memory_equal(c.pl[1 + k].body + 1, der, len);
	}
	assert_int_equal(c.pl[3].len, kind == TPKI_RSA ? 256 : 64);
}

/* ---- up: each method, identity and role ------------------------------------------- */

/* The CRLs a test configures: none, every CA's, or the issuer's alone. */
enum { CRLS_NONE, CRLS_ALL, CRLS_ISSUER };

static char *
crls_of(enum tpki_kind kind, int which)
{
	return which == CRLS_ALL ? tpki_get(kind)->crls :
	    which == CRLS_ISSUER ? tpki_get(kind)->inter_crl : NULL;
}

/* Up with site A's certificate `leaf` (CRLs on both sides with crls),
 * peer 0 initiating, then peer 1; nothing dropped, no error said. */
static void
up_with(enum tpki_kind kind, enum ident id, enum tpki_leaf leaf, int crls)
{
	for (int init = 0; init < 2; init++) {
		with_cert(0, kind, leaf, id);
		with_cert(1, kind, TPKI_SITE_B, id);
		if (crls)
			test_auth[0].crls = test_auth[1].crls = crls_of(kind, crls);
		test_initiator = init;
		setup_peers(2, DPD_MODE_PERIODIC, 0);
		watch_mm();
		run_until(now_ms + 100);
		assert_up(kind);
		assert_int_equal(drops(0) + drops(1), 0);
		assert_int_equal(notifies(0) + notifies(1), 0);
		assert_int_equal(nnotes, 0);
		assert_true(established_sa(init)->initiator);
		assert_false(established_sa(!init)->initiator);
		assert_int_equal(nmm, 6);
		assert_auth_msg(&mm[4], init, kind, id);
		assert_auth_msg(&mm[5], !init, kind, id);
		teardown_peers(NULL);
	}
}

static void test_rsa_address(void **state) { up_with(TPKI_RSA, ID_ADDRESS, TPKI_SITE_A, 0); }
static void test_rsa_fqdn(void **state) { up_with(TPKI_RSA, ID_FQDN, TPKI_SITE_A, 0); }
static void test_rsa_dn(void **state) { up_with(TPKI_RSA, ID_DN, TPKI_SITE_A, 0); }
static void test_ecdsa_address(void **state) { up_with(TPKI_EC, ID_ADDRESS, TPKI_SITE_A, 0); }
static void test_ecdsa_fqdn(void **state) { up_with(TPKI_EC, ID_FQDN, TPKI_SITE_A, 0); }
static void test_ecdsa_dn(void **state) { up_with(TPKI_EC, ID_DN, TPKI_SITE_A, 0); }

/* ---- CERTREQ ------------------------------------------------------------------------ */

/* Messages 3 and 4 name each trusted CA (encoding 4, its DER name), in the
 * order configured; PSK messages carry none. */
static void
test_certreq_in_messages_3_4(void **state)
{
	const struct tpki *p = tpki_get(TPKI_RSA);
	static char two_cas[16384];
	struct ike_chain c;

	for (int round = 0; round < 3; round++) {
		if (round < 2) {
			with_cert(0, TPKI_RSA, TPKI_SITE_A, ID_ADDRESS);
			with_cert(1, TPKI_RSA, TPKI_SITE_B, ID_ADDRESS);
		}
		if (round == 1) {	/* site B also trusts the other root, after ours */
			snprintf(two_cas, sizeof(two_cas), "%s%s", p->root, p->other_root);
			test_auth[1].cas = two_cas;
		}
		setup_peers(2, DPD_MODE_PERIODIC, 0);
		watch_mm();
		run_until(now_ms + 100);
		assert_non_null(established_sa(0));
		assert_non_null(established_sa(1));
		assert_int_equal(nmm, 6);
		for (int k = 2; k < 4; k++) {
			size_t want = round == 2 ? 0 : round == 1 && k == 3 ? 2 : 1, seen = 0;

			assert_int_equal(mm[k].from, k - 2);
			assert_false(mm[k].encrypted);
			parse_mm(&mm[k], &c);
			assert_non_null(ike_chain_find(&c, IKE_PL_KE));
			assert_int_equal(count_type(&c, IKE_PL_CERTREQ), want);
			for (size_t i = 0; i < c.n; i++) {
				const struct ike_payload *pl = &c.pl[i];
				const uint8_t *dn = seen == 0 ? p->root_dn : p->other_dn;
				size_t dn_len = seen == 0 ? p->root_dn_len : p->other_dn_len;

				if (pl->type != IKE_PL_CERTREQ)
					continue;
				seen++;
				assert_int_equal(pl->body[0], IKE_CERT_X509_SIG);
				assert_int_equal(pl->len, 1 + dn_len);
				assert_memory_equal(pl->body + 1, dn, dn_len);
			}
		}
		teardown_peers(NULL);
	}
}

/* ---- refusals -------------------------------------------------------------------------- */

struct refusal {
	enum tpki_leaf leaf;		/* site A's certificate */
	int            leaf_only;	/* sent without its intermediate */
	char          *fqdn;		/* site A's identity hostname, or NULL */
	int            crls;		/* site B checks revocation */
	enum ike_drop  drop;
	enum ike_err_notify err;
	uint16_t       notify;		/* on the wire (RFC 2408 3.14.1) */
	const char    *why;		/* in the log line */
};

/* Site A presents r's certificate to site B, as initiator (B checks
 * message 5) and as responder (B checks message 6): B counts r's drop
 * reason once and nothing else, says r's notify, logs why with A's
 * subject and serial, and establishes nothing; A's SA under way drops
 * the unprotected notify. */
static void
refused(enum tpki_kind kind, const struct refusal *r)
{
	const struct tpki_cred *cred = &tpki_get(kind)->leaf[r->leaf];
	char line[512];

	for (int init = 0; init < 2; init++) {
		const char *log;

		with_cert(0, kind, r->leaf, ID_ADDRESS);
		with_cert(1, kind, TPKI_SITE_B, ID_ADDRESS);
		if (r->leaf_only)
			test_auth[0].cert = cred->leaf;
		test_auth[0].fqdn = r->fqdn;
		if (r->crls)
			test_auth[1].crls = crls_of(kind, r->crls);
		test_initiator = init;
		setup_peers(2, DPD_MODE_PERIODIC, 0);
		watch_mm();
		log_capture();
		run_until(now_ms + 100);	/* before any retransmission */
		log = log_captured();
		snprintf(line, sizeof(line), "%%CRYPTO-4-IKE_CERT: certificate authentication of "
			 "192.0.2.1 failed: %s (subject %s, serial %s)\n", r->why, cred->subject,
			 cred->serial);
		assert_int_equal(occurrences(log, line), 1);
		assert_int_equal(occurrences(log, "%CRYPTO-4-IKE_CERT"), 1);
		assert_int_equal(peers[1].ike->st.drops[r->drop], 1);
		assert_int_equal(drops(1), 1);
		assert_int_equal(peers[1].ike->st.err_notifies[r->err], 1);
		assert_int_equal(notifies(1), 1);
		assert_int_equal(peers[1].ike->st.established, 0);
		assert_null(established_sa(1));
		assert_int_equal(peers[0].installed + peers[1].installed, 0);
		assert_int_equal(peers[0].ike->st.drops[IKE_DROP_UNEXPECTED], 1);
		assert_int_equal(drops(0), 1);
		assert_int_equal(notifies(0), 0);
		assert_int_equal(nmm, init == 0 ? 5 : 6);	/* up to A's 5 or 6 */
		assert_int_equal(nnotes, 1);
		assert_int_equal(notes[0].from, 1);
		assert_int_equal(notes[0].type, r->notify);
		teardown_peers(NULL);
	}
}

static void
refused_both(const struct refusal *r)
{
	refused(TPKI_RSA, r);
	refused(TPKI_EC, r);
}

static void
test_expired_refused(void **state)
{
	static const struct refusal r = { TPKI_EXPIRED, 0, NULL, 0, IKE_DROP_CERT_EXPIRED,
					  IKE_ERR_INVALID_CERT, 20, "expired" };

	refused_both(&r);
}

static void
test_not_yet_valid_refused(void **state)
{
	static const struct refusal r = { TPKI_NOT_YET_VALID, 0, NULL, 0,
					  IKE_DROP_CERT_NOT_YET_VALID, IKE_ERR_INVALID_CERT, 20,
					  "not yet valid" };

	refused_both(&r);
}

/* Another root's leaf, sent with that root. */
static void
test_unknown_ca_refused(void **state)
{
	static const struct refusal r = { TPKI_UNKNOWN_CA, 0, NULL, 0, IKE_DROP_CERT_UNKNOWN_CA,
					  IKE_ERR_INVALID_CERT_AUTHORITY, 22, "unknown CA" };

	refused_both(&r);
}

/* Our own CA's leaf without its intermediate: no path to the root. */
static void
test_missing_intermediate_refused(void **state)
{
	static const struct refusal r = { TPKI_SITE_A, 1, NULL, 0, IKE_DROP_CERT_UNKNOWN_CA,
					  IKE_ERR_INVALID_CERT_AUTHORITY, 22, "unknown CA" };

	refused_both(&r);
}

/* A revoked certificate is refused where CRLs are configured, taken where
 * none are (nobody knows); with CRLs, the others still pass. */
static void
test_revoked(void **state)
{
	static const struct refusal r = { TPKI_REVOKED, 0, NULL, 1, IKE_DROP_CERT_REVOKED,
					  IKE_ERR_INVALID_CERT, 20, "revoked" };

	refused_both(&r);
	for (int kind = 0; kind < TPKI__KINDS; kind++) {
		up_with(kind, ID_ADDRESS, TPKI_REVOKED, 0);
		up_with(kind, ID_ADDRESS, TPKI_SITE_A, 1);
	}
}

/* Only the issuing CA's CRL configured (none for the root): revocation is
 * checked where a CRL is given, and a CA without one does not make every
 * certificate it signed invalid. */
static void
test_crl_of_the_issuer_alone(void **state)
{
	static const struct refusal r = { TPKI_REVOKED, 0, NULL, CRLS_ISSUER,
					  IKE_DROP_CERT_REVOKED, IKE_ERR_INVALID_CERT, 20,
					  "revoked" };

	refused_both(&r);
	for (int kind = 0; kind < TPKI__KINDS; kind++)
		up_with(kind, ID_ADDRESS, TPKI_SITE_A, CRLS_ISSUER);
}

/* ID_FQDN of a name the certificate does not hold. */
static void
test_identity_fqdn_refused(void **state)
{
	static const struct refusal r = { TPKI_SITE_A, 0, fqdn_wrong, 0, IKE_DROP_CERT_IDENTITY,
					  IKE_ERR_AUTH_FAILED, 24, "identity mismatch" };

	refused_both(&r);
}

/* ID_IPV4_ADDR 192.0.2.1 with the certificate of 192.0.2.3. */
static void
test_identity_address_refused(void **state)
{
	static const struct refusal r = { TPKI_OTHER_HOST, 0, NULL, 0, IKE_DROP_CERT_IDENTITY,
					  IKE_ERR_AUTH_FAILED, 24, "identity mismatch" };

	refused_both(&r);
}

/* keyUsage without digitalSignature: not a signing certificate. */
static void
test_key_usage_refused(void **state)
{
	static const struct refusal r = { TPKI_NO_SIGNING, 0, NULL, 0, IKE_DROP_CERT_INVALID,
					  IKE_ERR_INVALID_CERT, 20, "invalid" };

	refused_both(&r);
}

/* A SIG byte flipped in flight (message 5, then 6; decrypted and encrypted
 * again with the receiver's keys): refused as a bad signature, told, logged;
 * the real message, sent again, still authenticates (the forgery moved
 * nothing). */
static void
test_tampered_signature_refused(void **state)
{
	char line[512];

	for (int kind = 0; kind < TPKI__KINDS; kind++) {
		for (int from = 0; from < 2; from++) {
			const struct tpki_cred *cred;
			int checker = !from;
			const char *log;

			with_cert(0, kind, TPKI_SITE_A, ID_ADDRESS);
			with_cert(1, kind, TPKI_SITE_B, ID_ADDRESS);
			cred = &tpki_get(kind)->leaf[leaf_of[from]];
			setup_peers(2, DPD_MODE_PERIODIC, 0);
			watch_mm();
			tamper_from = from;
			run_until(now_ms + 100);
			assert_int_equal(tamper_from, -1);	/* held, the original lost */
			assert_int_equal(held.from, from);
			assert_null(established_sa(checker));
			log_capture();
			ike_input(peers[held.to].ike, held.dport, held.src_be, held.sport, held.data,
				  held.len, now_ms);
			deliver();
			log = log_captured();
			snprintf(line, sizeof(line), "%%CRYPTO-4-IKE_CERT: certificate authentication "
				 "of 192.0.2.%d failed: bad signature (subject %s, serial %s)\n",
				 from + 1, cred->subject, cred->serial);
			assert_int_equal(occurrences(log, line), 1);
			assert_int_equal(occurrences(log, "%CRYPTO-4-IKE_CERT"), 1);
			assert_null(established_sa(checker));
			assert_int_equal(peers[checker].ike->st.drops[IKE_DROP_BAD_SIGNATURE], 1);
			assert_int_equal(drops(checker), 1);
			assert_int_equal(peers[checker].ike->st.err_notifies[IKE_ERR_INVALID_SIGNATURE], 1);
			assert_int_equal(notifies(checker), 1);
			assert_int_equal(nnotes, 1);
			assert_int_equal(notes[0].from, checker);
			assert_int_equal(notes[0].type, 25);
			assert_int_equal(peers[from].ike->st.drops[IKE_DROP_UNEXPECTED], 1);
			assert_int_equal(drops(from), 1);
			run_until(now_ms + 3000);	/* message 5 again at 2 s */
			assert_int_equal(peers[0].ike->st.retransmits, 1);
			assert_up(kind);
			assert_int_equal(drops(checker), 1);
			assert_int_equal(drops(from), 1);
			teardown_peers(NULL);
		}
	}
}

/* ---- policies ------------------------------------------------------------------------ */

/* A signature policy needs a certificate and key of its kind: an rsa-sig
 * policy with an EC key is not proposed (alone, nothing is: the initiator
 * says so and sends nothing), nor accepted. */
static void
test_policy_needs_key_of_its_kind(void **state)
{
	struct ike_sa_pl sap;
	struct ike_chain c;
	const struct ike_payload *pl;
	const char *log;

	with_cert(0, TPKI_EC, TPKI_SITE_A, ID_ADDRESS);
	with_cert(1, TPKI_EC, TPKI_SITE_B, ID_ADDRESS);
	test_auth[0].auth = IKE_AUTH_METHOD_RSA;
	log_capture();
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	run_until(now_ms + 100);
	log = log_captured();
	assert_non_null(strstr(log, "ISAKMP: cannot initiate to 192.0.2.2: only signature "
			       "policies, and no certificate and key of their kind\n"));
	assert_int_equal(peers[0].sent, 0);
	assert_null(peers[0].ike->sas);
	assert_null(peers[1].ike->sas);
	teardown_peers(NULL);

	/* rsa-sig first (priority 10), ecdsa-sig second: only ecdsa-sig goes */
	with_cert(0, TPKI_EC, TPKI_SITE_A, ID_ADDRESS);
	with_cert(1, TPKI_EC, TPKI_SITE_B, ID_ADDRESS);
	test_auth[0].auth = IKE_AUTH_METHOD_RSA;
	test_auth[0].auth2 = IKE_AUTH_METHOD_ECDSA_P256;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	watch_mm();
	run_until(now_ms + 100);
	assert_up(TPKI_EC);
	assert_int_equal(drops(0) + drops(1), 0);
	parse_mm(&mm[0], &c);
	assert_non_null(pl = ike_chain_find(&c, IKE_PL_SA));
	assert_int_equal(ike_sa_parse(pl->body, pl->len, &sap), 0);
	assert_int_equal(sap.nprops, 1);
	assert_int_equal(sap.props[0].nxf, 1);
	assert_int_equal(ike_attr_get(&sap.props[0].xf[0], IKE_ATTR_AUTH), 9);
	teardown_peers(NULL);

	/* A proposes rsa-sig (an RSA key); B's one policy is rsa-sig too, but
	 * its key is EC: it cannot take it */
	with_cert(0, TPKI_RSA, TPKI_SITE_A, ID_ADDRESS);
	with_cert(1, TPKI_EC, TPKI_SITE_B, ID_ADDRESS);
	test_auth[1].auth = IKE_AUTH_METHOD_RSA;
	setup_peers(2, DPD_MODE_PERIODIC, 0);
	watch_mm();
	log_capture();
	run_until(now_ms + 100);
	log = log_captured();
	assert_non_null(strstr(log, "ISAKMP: no IKE policy matches the proposal of 192.0.2.1 "
			       "(atts not acceptable)\n"));
	assert_int_equal(peers[1].ike->st.drops[IKE_DROP_NO_PROPOSAL], 1);
	assert_int_equal(drops(1), 1);
	assert_int_equal(peers[1].ike->st.err_notifies[IKE_ERR_NO_PROPOSAL_CHOSEN], 1);
	assert_int_equal(notifies(1), 1);
	assert_int_equal(nnotes, 1);
	assert_int_equal(notes[0].type, 14);
	assert_null(peers[1].ike->sas);
	assert_int_equal(nmm, 1);
}

static int
make_pkis(void **state)
{
	tpki_get(TPKI_RSA);
	tpki_get(TPKI_EC);
	return 0;
}

static int
free_pkis(void **state)
{
	tpki_free_all();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_rsa_address, teardown),
		cmocka_unit_test_teardown(test_rsa_fqdn, teardown),
		cmocka_unit_test_teardown(test_rsa_dn, teardown),
		cmocka_unit_test_teardown(test_ecdsa_address, teardown),
		cmocka_unit_test_teardown(test_ecdsa_fqdn, teardown),
		cmocka_unit_test_teardown(test_ecdsa_dn, teardown),
		cmocka_unit_test_teardown(test_certreq_in_messages_3_4, teardown),
		cmocka_unit_test_teardown(test_expired_refused, teardown),
		cmocka_unit_test_teardown(test_not_yet_valid_refused, teardown),
		cmocka_unit_test_teardown(test_unknown_ca_refused, teardown),
		cmocka_unit_test_teardown(test_missing_intermediate_refused, teardown),
		cmocka_unit_test_teardown(test_revoked, teardown),
		cmocka_unit_test_teardown(test_crl_of_the_issuer_alone, teardown),
		cmocka_unit_test_teardown(test_identity_fqdn_refused, teardown),
		cmocka_unit_test_teardown(test_identity_address_refused, teardown),
		cmocka_unit_test_teardown(test_key_usage_refused, teardown),
		cmocka_unit_test_teardown(test_tampered_signature_refused, teardown),
		cmocka_unit_test_teardown(test_policy_needs_key_of_its_kind, teardown),
	};

	return cmocka_run_group_tests_name("ike with certificates", tests, make_pkis, free_pkis);
}
