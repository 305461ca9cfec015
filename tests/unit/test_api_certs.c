/*
 * Certificate authentication in the API through api_dispatch()
 * with fake hooks: the ike settings' certificate, trustedCAs and crls with
 * certificates made in the test (RSA 2048 and EC P-256 accepted; P-384,
 * RSA 1024, a leaf as a CA, CRLs that do not parse refused naming the
 * field), identity dn, certificates in use neither deleted nor made unfit,
 * the round trip through the journal and config.json, and the private key
 * never returned.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api_int.h"
#include "api_env.h"
#include "core/x509.h"
#include "test_pki.h"

const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define BASE "/api/v1"
#define INTS BASE "/object/internalcertificates"
#define CAS  BASE "/object/externalcacertificates"
#define IKE  BASE "/devicesettings/default/ike"

/* Made once for all the tests: RSA keys take a while under ASan. */
static struct {
	struct test_pki_ca *ca, *ca2;
	char *ca_pem, *ca2_pem;
	char *rsa_cert, *rsa_key;	/* RSA 2048, issued by ca */
	char *rsa2_cert, *rsa2_key;	/* another RSA 2048 */
	char *ec_cert, *ec_key;		/* EC P-256 */
	char *p384_cert, *p384_key;	/* EC P-384: refused for IKE */
	char *rsa1k_cert, *rsa1k_key;	/* RSA 1024: refused for IKE */
	char *crl_a, *crl_b;		/* by ca and ca2 */
} pki;

static int
pki_make(void **state)
{
	assert_non_null(pki.ca = test_pki_ca_new("Root CA"));
	assert_non_null(pki.ca2 = test_pki_ca_new("Second CA"));
	assert_non_null(pki.ca_pem = test_pki_ca_pem(pki.ca));
	assert_non_null(pki.ca2_pem = test_pki_ca_pem(pki.ca2));
	assert_int_equal(test_pki_leaf(pki.ca, "gw-rsa.example", TEST_PKI_RSA_2048,
				       &pki.rsa_cert, &pki.rsa_key), 0);
	assert_int_equal(test_pki_leaf(pki.ca, "gw-rsa2.example", TEST_PKI_RSA_2048,
				       &pki.rsa2_cert, &pki.rsa2_key), 0);
	assert_int_equal(test_pki_leaf(pki.ca2, "gw-ec.example", TEST_PKI_EC_P256,
				       &pki.ec_cert, &pki.ec_key), 0);
	assert_int_equal(test_pki_leaf(pki.ca, "gw-p384.example", TEST_PKI_EC_P384,
				       &pki.p384_cert, &pki.p384_key), 0);
	assert_int_equal(test_pki_leaf(pki.ca, "gw-rsa1k.example", TEST_PKI_RSA_1024,
				       &pki.rsa1k_cert, &pki.rsa1k_key), 0);
	assert_non_null(pki.crl_a = test_pki_crl(pki.ca, 4242));
	assert_non_null(pki.crl_b = test_pki_crl(pki.ca2, 0));
	return 0;
}

static int
pki_free(void **state)
{
	char **texts[] = { &pki.ca_pem, &pki.ca2_pem, &pki.rsa_cert, &pki.rsa_key,
			   &pki.rsa2_cert, &pki.rsa2_key, &pki.ec_cert, &pki.ec_key,
			   &pki.p384_cert, &pki.p384_key, &pki.rsa1k_cert, &pki.rsa1k_key,
			   &pki.crl_a, &pki.crl_b };

	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		free(*texts[i]);
	test_pki_ca_free(pki.ca);
	test_pki_ca_free(pki.ca2);
	return 0;
}

static int
setup(void **state)
{
	return api_env_setup(state, "test_api_certs");
}

static int
teardown(void **state)
{
	return api_env_teardown(state);
}

static json_t *
post_cert(struct env *e, const char *name, const char *cert, const char *key)
{
	return callj(e, "POST", INTS, json_pack("{s:s, s:s, s:s}", "name", name, "cert", cert,
						"privateKey", key), 200);
}

static json_t *
post_ca(struct env *e, const char *name, const char *cert)
{
	return callj(e, "POST", CAS, json_pack("{s:s, s:s}", "name", name, "cert", cert), 200);
}

/* A reference to obj as a client sends it. */
static json_t *
ref(json_t *obj)
{
	return json_pack("{s:s, s:s, s:s}", "id", str(obj, "id"), "name", str(obj, "name"),
			 "type", str(obj, "type"));
}

/* PUT body (consumed) to the ike settings with their current version. */
static json_t *
ike_put(struct env *e, json_t *body, int want)
{
	json_t *s = call(e, "GET", IKE, NULL, 200);

	json_object_set_new(body, "version", json_string(str(s, "version")));
	json_decref(s);
	return callj(e, "PUT", IKE, body, want);
}

/* A refused ike settings PUT: the field, and the message naming it and
 * holding text; nothing applied. */
static void
ike_refused(struct env *e, json_t *body, int status, const char *field, const char *text)
{
	int applied = e->applied;
	char *shown = api_json_text(body);
	json_t *j = ike_put(e, body, status);

	refusal_is(j, shown, field, field, text);
	assert_int_equal(e->applied, applied);
	free_secret(shown);
	json_decref(j);
}

static char *
concat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *s = xmalloc(na + nb + 1);

	memcpy(s, a, na);
	memcpy(s + na, b, nb + 1);
	return s;
}

/* No private key in text, neither its armour nor a line of its body. */
static void
no_key_in(const char *text, const char *key)
{
	const char *line = strchr(key, '\n') + 1;	/* the first base64 line */
	char first[40];

	assert_null(strstr(text, "PRIVATE KEY"));
	memcpy(first, line, sizeof(first) - 1);
	first[sizeof(first) - 1] = '\0';
	assert_null(strstr(text, first));
}

/* ---- accepted ----------------------------------------------------------- */

static void
test_defaults(void **state)
{
	struct env *e = *state;
	json_t *s = call(e, "GET", IKE, NULL, 200);

	assert_true(json_is_null(json_object_get(s, "certificate")));
	assert_int_equal(json_array_size(json_object_get(s, "trustedCAs")), 0);
	assert_true(json_is_array(json_object_get(s, "crls")));
	assert_int_equal(json_array_size(json_object_get(s, "crls")), 0);
	assert_string_equal(str(s, "identity"), "address");
	assert_null(e->cur->ike.crls_pem);
	assert_string_equal(e->cur->ike.certificate.id, "");
	json_decref(s);
}

static void
test_accepted(void **state)
{
	struct env *e = *state;
	json_t *rsa = post_cert(e, "gw-rsa", pki.rsa_cert, pki.rsa_key);
	json_t *ec = post_cert(e, "gw-ec", pki.ec_cert, pki.ec_key);
	json_t *ca = post_ca(e, "root", pki.ca_pem), *ca2 = post_ca(e, "second", pki.ca2_pem);
	json_t *j, *c, *list;
	char *text, *both, *chain, *no_nl;
	size_t len;

	/* RSA 2048, two CAs, two CRLs, identity dn */
	j = ike_put(e, json_pack("{s:s, s:o, s:[o, o], s:[s, s]}", "identity", "dn",
				 "certificate", ref(rsa), "trustedCAs", ref(ca), ref(ca2), "crls",
				 pki.crl_a, pki.crl_b), 200);
	c = json_object_get(j, "certificate");
	assert_string_equal(str(c, "id"), str(rsa, "id"));
	assert_string_equal(str(c, "name"), "gw-rsa");
	assert_string_equal(str(c, "type"), "internalcertificate");
	assert_string_equal(str(c, "version"), str(rsa, "version"));
	list = json_object_get(j, "trustedCAs");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(str(json_array_get(list, 0), "id"), str(ca, "id"));
	assert_string_equal(str(json_array_get(list, 1), "name"), "second");
	assert_string_equal(str(json_array_get(list, 1), "type"), "externalcacertificate");
	list = json_object_get(j, "crls");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 0)), pki.crl_a);
	assert_string_equal(json_string_value(json_array_get(list, 1)), pki.crl_b);
	assert_string_equal(str(j, "identity"), "dn");
	json_decref(j);

	/* the model the engine reads */
	assert_int_equal(e->applied, 5);
	assert_string_equal(e->cur->ike.certificate.id, str(rsa, "id"));
	assert_int_equal(e->cur->ike.n_trusted_cas, 2);
	assert_string_equal(e->cur->ike.trusted_cas[1].id, str(ca2, "id"));
	assert_int_equal(e->cur->ike.identity, CFG_IKE_ID_DN);
	both = concat(pki.crl_a, pki.crl_b);
	assert_string_equal(e->cur->ike.crls_pem, both);

	/* a read is the same, and shows no key */
	j = call_text(e, "GET", IKE, NULL, NULL, 200, &text);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "crls"), 1)),
			    pki.crl_b);
	no_key_in(text, pki.rsa_key);
	free(text);
	json_decref(j);
	json_decref(call_text(e, "GET", INTS, NULL, NULL, 200, &text));
	no_key_in(text, pki.rsa_key);
	no_key_in(text, pki.ec_key);
	free(text);

	/* another certificate (EC P-256), one CA, a CRL without its last
	 * newline (kept with one) */
	no_nl = xstrdup(pki.crl_b);
	len = strlen(no_nl);
	no_nl[len - 1] = '\0';
	j = ike_put(e, json_pack("{s:o, s:[o], s:[s]}", "certificate", ref(ec), "trustedCAs",
				 ref(ca2), "crls", no_nl), 200);
	assert_string_equal(str(json_object_get(j, "certificate"), "name"), "gw-ec");
	assert_string_equal(e->cur->ike.certificate.id, str(ec, "id"));
	assert_int_equal(e->cur->ike.n_trusted_cas, 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "crls"), 0)),
			    pki.crl_b);
	assert_string_equal(e->cur->ike.crls_pem, pki.crl_b);
	assert_int_equal(e->cur->ike.identity, CFG_IKE_ID_ADDRESS);	/* left out */
	json_decref(j);

	/* a certificate with its chain; the reference by id alone */
	chain = concat(pki.rsa2_cert, pki.ca_pem);
	c = post_cert(e, "gw-chain", chain, pki.rsa2_key);
	j = ike_put(e, json_pack("{s:{s:s}}", "certificate", "id", str(c, "id")), 200);
	assert_string_equal(str(json_object_get(j, "certificate"), "name"), "gw-chain");
	json_decref(j);
	json_decref(c);

	/* and none again: null, [] */
	j = ike_put(e, json_pack("{s:n, s:[], s:[]}", "certificate", "trustedCAs", "crls"), 200);
	assert_true(json_is_null(json_object_get(j, "certificate")));
	assert_string_equal(e->cur->ike.certificate.id, "");
	assert_int_equal(e->cur->ike.n_trusted_cas, 0);
	assert_null(e->cur->ike.crls_pem);
	json_decref(j);
	free(no_nl);
	free(both);
	free(chain);
	json_decref(rsa);
	json_decref(ec);
	json_decref(ca);
	json_decref(ca2);
}

/* ---- refused ------------------------------------------------------------ */

static void
test_refused_certificate(void **state)
{
	struct env *e = *state;
	json_t *p384 = post_cert(e, "gw-p384", pki.p384_cert, pki.p384_key);
	json_t *rsa1k = post_cert(e, "gw-rsa1k", pki.rsa1k_cert, pki.rsa1k_key);
	json_t *ca = post_ca(e, "root", pki.ca_pem), *bad;

	/* an internalcertificate with such keys is fine (telemetry takes
	 * them): IKE refuses them, saying what it takes */
	ike_refused(e, json_pack("{s:o}", "certificate", ref(p384)), 400, "certificate",
		    "internalcertificate \"gw-p384\" cannot sign for IKE: the key is EC on "
		    "secp384r1: IKE takes EC P-256 (ecdsa-sig, RFC 4754) or RSA of 2048 bits or "
		    "more (rsa-sig)");
	ike_refused(e, json_pack("{s:o}", "certificate", ref(rsa1k)), 400, "certificate",
		    "the key is RSA of 1024 bits: IKE takes RSA of 2048 bits or more (rsa-sig) "
		    "or EC P-256 (ecdsa-sig)");
	ike_refused(e, json_pack("{s:{s:s}}", "certificate", "id",
				 "00000000-0000-4000-8000-000000000000"), 400, "certificate.id",
		    "no internalcertificate with id");
	ike_refused(e, json_pack("{s:o}", "certificate", ref(ca)), 400, "certificate.type",
		    "\"internalcertificate\"");
	ike_refused(e, json_pack("{s:s}", "certificate", "gw-p384"), 400, "certificate",
		    "reference");
	bad = ref(p384);
	json_object_set_new(bad, "name", json_string("gw-rsa1k"));
	ike_refused(e, json_pack("{s:o}", "certificate", bad), 400, "certificate.name",
		    "does not match");
	/* identity dn is the certificate's subject */
	ike_refused(e, json_pack("{s:s}", "identity", "dn"), 400, "identity",
		    "set certificate too");
	ike_refused(e, json_pack("{s:s}", "identity", "fqdn"), 400, "identity",
		    "\"address\", \"hostname\", \"dn\"");
	assert_string_equal(e->cur->ike.certificate.id, "");
	json_decref(p384);
	json_decref(rsa1k);
	json_decref(ca);
}

static void
test_refused_cas(void **state)
{
	struct env *e = *state;
	json_t *ca = post_ca(e, "root", pki.ca_pem), *leaf = post_ca(e, "leaf", pki.rsa_cert);
	json_t *many = json_array();

	ike_refused(e, json_pack("{s:[o, o]}", "trustedCAs", ref(ca), ref(leaf)), 400,
		    "trustedCAs[1].id", "externalcacertificate \"leaf\" is not a CA: certificate "
		    "0 is not a CA (it has no basicConstraints CA:TRUE)");
	ike_refused(e, json_pack("{s:[o, o]}", "trustedCAs", ref(ca), ref(ca)), 400,
		    "trustedCAs[1]", "is listed already (trustedCAs[0])");
	ike_refused(e, json_pack("{s:[{s:s}]}", "trustedCAs", "id",
				 "00000000-0000-4000-8000-000000000000"), 400, "trustedCAs[0].id",
		    "no externalcacertificate");
	ike_refused(e, json_pack("{s:o}", "trustedCAs", ref(ca)), 400, "trustedCAs",
		    "must be an array");
	for (int i = 0; i < CFG_IKE_CAS_MAX + 1; i++)
		json_array_append_new(many, ref(ca));
	ike_refused(e, json_pack("{s:o}", "trustedCAs", many), 400, "trustedCAs",
		    "must hold 0 to 16 items (it holds 17)");
	assert_int_equal(e->cur->ike.n_trusted_cas, 0);
	json_decref(ca);
	json_decref(leaf);
}

static void
test_refused_crls(void **state)
{
	struct env *e = *state;
	char *broken = xstrdup(pki.crl_b), *two = concat(pki.crl_a, pki.crl_b);
	char *junk = concat("junk\n", pki.crl_a);
	json_t *many = json_array();

	broken[60] = broken[60] == 'A' ? 'B' : 'A';	/* in the base64 */
	ike_refused(e, json_pack("{s:[s, s]}", "crls", pki.crl_a, broken), 400, "crls[1]",
		    "crls[1]: not an X509 CRL that parses");
	ike_refused(e, json_pack("{s:[s]}", "crls", pki.ca_pem), 400, "crls[0]",
		    "must be one PEM block that starts with -----BEGIN X509 CRL-----");
	ike_refused(e, json_pack("{s:[s]}", "crls", junk), 400, "crls[0]", "-----BEGIN X509 CRL");
	ike_refused(e, json_pack("{s:[s]}", "crls", two), 400, "crls[0]",
		    "more than one PEM block");
	ike_refused(e, json_pack("{s:[s]}", "crls", ""), 400, "crls[0]", "empty");
	ike_refused(e, json_pack("{s:[i]}", "crls", 1), 400, "crls[0]", "string");
	ike_refused(e, json_pack("{s:s}", "crls", pki.crl_a), 400, "crls", "array");
	for (int i = 0; i < API_CRLS_MAX + 1; i++)
		json_array_append_new(many, json_string(pki.crl_b));
	ike_refused(e, json_pack("{s:o}", "crls", many), 400, "crls", "0 to 16");
	assert_null(e->cur->ike.crls_pem);
	free(broken);
	free(two);
	free(junk);
}

/* ---- in use ------------------------------------------------------------- */

static void
test_in_use(void **state)
{
	struct env *e = *state;
	json_t *rsa = post_cert(e, "gw-rsa", pki.rsa_cert, pki.rsa_key);
	json_t *ca = post_ca(e, "root", pki.ca_pem), *j;
	char *rsa_path = item_path(INTS, rsa), *ca_path = item_path(CAS, ca);

	json_decref(ike_put(e, json_pack("{s:o, s:[o]}", "certificate", ref(rsa), "trustedCAs",
					 ref(ca)), 200));

	/* like a transform set in use: 409 naming the ike settings */
	j = call(e, "DELETE", rsa_path, NULL, 409);
	assert_string_equal(err_message(j), "internalcertificate \"gw-rsa\" is used by "
			    "ikesettings \"ike\" (certificate); change or delete that first");
	json_decref(j);
	j = call(e, "DELETE", ca_path, NULL, 409);
	assert_string_equal(err_message(j), "externalcacertificate \"root\" is used by "
			    "ikesettings \"ike\" (trustedCAs); change or delete that first");
	json_decref(j);

	/* nor changed into what IKE cannot use */
	j = callj(e, "PUT", rsa_path, json_pack("{s:s, s:s, s:s, s:s}", "name", "gw-rsa", "cert",
						pki.p384_cert, "privateKey", pki.p384_key,
						"version", str(rsa, "version")), 409);
	assert_string_equal(err_field(j), "cert");
	assert_non_null(strstr(err_message(j), "the ike settings (\"ike\") sign with this "
				"certificate, and IKE could not: the key is EC on secp384r1"));
	json_decref(j);
	j = callj(e, "PUT", ca_path, json_pack("{s:s, s:s, s:s}", "name", "root", "cert",
					       pki.ec_cert, "version", str(ca, "version")), 409);
	assert_string_equal(err_field(j), "cert");
	assert_non_null(strstr(err_message(j), "trust this certificate as a CA (trustedCAs[0]), "
				"and it is not one"));
	json_decref(j);
	assert_int_equal(e->applied, 3);

	/* another RSA certificate is fine; the key left out is kept, and must
	 * then match: refused as any certificate would be */
	j = callj(e, "PUT", rsa_path, json_pack("{s:s, s:s, s:s, s:s}", "name", "gw-rsa", "cert",
						pki.rsa2_cert, "privateKey", pki.rsa2_key,
						"version", str(rsa, "version")), 200);
	assert_string_equal(e->cur->internal_certs[0].cert_pem, pki.rsa2_cert);
	json_decref(callj(e, "PUT", rsa_path, json_pack("{s:s, s:s, s:s}", "name", "gw-rsa",
							 "cert", pki.rsa_cert, "version",
							 str(j, "version")), 400));
	json_decref(j);

	/* the settings let go (fields left out take their defaults): deletable */
	json_decref(ike_put(e, json_pack("{s:s}", "identity", "hostname"), 200));
	assert_null(call(e, "DELETE", rsa_path, NULL, 204));
	assert_null(call(e, "DELETE", ca_path, NULL, 204));
	free(rsa_path);
	free(ca_path);
	json_decref(rsa);
	json_decref(ca);
}

/* ---- persistence -------------------------------------------------------- */

static void
test_round_trip(void **state)
{
	struct env *e = *state;
	json_t *ec = post_cert(e, "gw-ec", pki.ec_cert, pki.ec_key), *a, *b, *s;
	json_t *ca = post_ca(e, "root", pki.ca_pem), *ca2 = post_ca(e, "second", pki.ca2_pem);
	struct config *loaded = NULL, *again = NULL;
	char path[128], *text = NULL, *both = concat(pki.crl_a, pki.crl_b);
	size_t len;

	json_decref(ike_put(e, json_pack("{s:s, s:o, s:[o, o], s:[s, s], s:i}", "identity", "dn",
					 "certificate", ref(ec), "trustedCAs", ref(ca2), ref(ca),
					 "crls", pki.crl_a, pki.crl_b, "natKeepaliveSeconds", 30),
			    200));

	/* a restart: config.json (empty) and the journal */
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	a = api_config_encode(e->cur);
	b = api_config_encode(loaded);
	assert_true(json_equal(a, b));
	json_decref(b);
	assert_string_equal(loaded->ike.certificate.id, str(ec, "id"));
	assert_int_equal(loaded->ike.n_trusted_cas, 2);
	assert_string_equal(loaded->ike.trusted_cas[0].id, str(ca2, "id"));
	assert_string_equal(loaded->ike.crls_pem, both);
	assert_int_equal(loaded->ike.identity, CFG_IKE_ID_DN);
	assert_int_equal(loaded->ike.nat_keepalive_s, 30);
	assert_string_equal(loaded->ike.meta.version, e->cur->ike.meta.version);

	/* the load folded the journal into config.json: from it alone */
	snprintf(path, sizeof(path), "%s/%s", e->dir, API_CONFIG_FILE);
	assert_int_equal(file_read_all(path, API_CONFIG_FILE_MAX, &text, &len), 0);
	s = json_loads(text, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(s, "ike"),
									0), "crls")), 2);
	json_decref(s);
	free_secret(text);
	assert_int_equal(api_config_load(e->dir, &again), 0);
	b = api_config_encode(again);
	assert_true(json_equal(a, b));
	assert_string_equal(again->ike.crls_pem, both);

	json_decref(a);
	json_decref(b);
	json_decref(ec);
	json_decref(ca);
	json_decref(ca2);
	config_free(loaded);
	config_free(again);
	free(both);
}

/* A config.json the API would refuse is refused at start, naming the
 * place (a certificate the ike settings cannot use is named where it is,
 * checked first); without the ike settings the same objects load. */
static void
decode_refused(json_t *ints, json_t *cas, json_t *ike, const char *field, const char *text)
{
	json_t *root = json_pack("{s:i, s:O, s:O, s:[O]}", "formatVersion", 1,
				 "internalcertificates", ints, "externalcacertificates", cas,
				 "ike", ike);
	struct config *cfg = NULL;
	struct api_err err = { 0 };

	assert_non_null(root);
	assert_int_equal(api_config_decode(root, &cfg, &err), -1);
	assert_null(cfg);
	if (strcmp(err.field, field) != 0 || strstr(err.message, text) == NULL)
		fail_msg("field \"%s\" message \"%s\", want \"%s\" and \"%s\"", err.field,
			 err.message, field, text);
	json_object_del(root, "ike");
	assert_int_equal(api_config_decode(root, &cfg, &err), 0);
	config_free(cfg);
	json_decref(root);
	json_decref(ike);
}

#define INT_ID "11111111-1111-4111-8111-111111111111"
#define CA_ID  "22222222-2222-4222-8222-222222222222"

static void
test_broken_configs_refused(void **state)
{
	json_t *ints = json_pack("[{s:s, s:s, s:s, s:s, s:s}]", "id", INT_ID, "version", "v1",
				 "name", "p384", "cert", pki.p384_cert, "privateKey",
				 pki.p384_key);
	json_t *cas = json_pack("[{s:s, s:s, s:s, s:s}]", "id", CA_ID, "version", "v1", "name",
				"leaf", "cert", pki.rsa_cert);

#define IKE_ITEM(...) json_pack("{s:s, s:s, s:s, " __VA_ARGS__)
	decode_refused(ints, cas, IKE_ITEM("s:{s:s}}", "id", CFG_IKE_SETTINGS_ID, "version", "v1",
					   "name", "ike", "certificate", "id", INT_ID),
		       "internalcertificates[0].cert", "the ike settings (\"ike\") sign with "
		       "this certificate, and IKE could not: the key is EC on secp384r1");
	decode_refused(ints, cas, IKE_ITEM("s:[{s:s}]}", "id", CFG_IKE_SETTINGS_ID, "version",
					   "v1", "name", "ike", "trustedCAs", "id", CA_ID),
		       "externalcacertificates[0].cert", "trust this certificate as a CA "
		       "(trustedCAs[0]), and it is not one");
	decode_refused(ints, cas, IKE_ITEM("s:[s]}", "id", CFG_IKE_SETTINGS_ID, "version", "v1",
					   "name", "ike", "crls", "-----BEGIN X509 CRL-----\n"
					   "AAAA\n-----END X509 CRL-----\n"),
		       "ike[0].crls[0]", "not an X509 CRL");
	decode_refused(ints, cas, IKE_ITEM("s:s}", "id", CFG_IKE_SETTINGS_ID, "version", "v1",
					   "name", "ike", "identity", "dn"),
		       "ike[0].identity", "set certificate too");
#undef IKE_ITEM
	json_decref(ints);
	json_decref(cas);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_crls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test(test_broken_configs_refused),
	};

	log_init("test_api_certs", LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, pki_make, pki_free);
}
