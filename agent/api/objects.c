/*
 * The object types of the API: one field table per cfg_*
 * struct plus the checks a table cannot express (a HOST value is an IPv4
 * address, a certificate parses, a private key matches its certificate).
 * Adding an object type is a struct in core/config.h and a table here.
 */
#include "api/api_int.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static_assert(sizeof(enum cfg_net_subtype) == sizeof(int), "enums are stored as int");
static_assert(sizeof(((struct cfg_telemetry *)0)->port) == 2, "port is 16 bits");
static_assert(sizeof(unsigned) == 4, "interval fields are 32 bits");

/* ---- syntax checks ------------------------------------------------------ */

/* Dotted quad, four decimal parts 0..255, no leading zeros. */
int
api_ipv4_valid(const char *s)
{
	for (int part = 0; part < 4; part++) {
		int v = 0, digits = 0;

		if (part > 0 && *s++ != '.')
			return 0;
		while (*s >= '0' && *s <= '9') {
			if (digits > 0 && v == 0)
				return 0;
			v = v * 10 + (*s++ - '0');
			if (++digits > 3 || v > 255)
				return 0;
		}
		if (digits == 0)
			return 0;
	}
	return *s == '\0';
}

/* RFC 1123 host name: labels of 1..63 letters, digits and inner hyphens,
 * 253 characters at most, an optional final dot. */
int
api_hostname_valid(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 254 || (len == 254 && s[253] != '.') || api_ipv4_valid(s))
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-') {
			if ((label == 0 && c == '-') || ++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return s[len - 1] != '-';
}

/* ---- certificates ------------------------------------------------------- */

static int
no_password(char *buf, int size, int rwflag, void *u)
{
	return 0;	/* encrypted keys are refused, never prompted for */
}

/* One or more certificates and nothing else that looks like PEM. */
int
api_pem_certs_check(const char *pem, const char *field, struct api_err *err)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *x;
	int n = 0, rc = -1;
	unsigned long e;

	if (bio == NULL) {
		api_errf(err, 500, field, "%s: out of memory", field);
		goto done;
	}
	if (strstr(pem, "PRIVATE KEY-----") != NULL) {
		/* it would be returned to every reader of the object */
		api_errf(err, 400, field, "%s must not contain a private key", field);
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	e = ERR_peek_last_error();
	if (n == 0 || ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		api_errf(err, 400, field, "%s is not a PEM certificate%s%s", field,
			 n ? " list" : "", n ? " (a later block does not parse)" : "");
		goto done;
	}
	rc = 0;
done:
	ERR_clear_error();
	BIO_free(bio);
	return rc;
}

int
api_pem_key_check(const char *cert_pem, const char *key_pem, struct api_err *err)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (cb == NULL || kb == NULL) {
		api_errf(err, 500, "privateKey", "out of memory");
		goto done;
	}
	if ((x = PEM_read_bio_X509(cb, NULL, no_password, NULL)) == NULL) {
		api_errf(err, 400, "cert", "cert is not a PEM certificate");
		goto done;
	}
	if ((k = PEM_read_bio_PrivateKey(kb, NULL, no_password, NULL)) == NULL) {
		api_errf(err, 400, "privateKey", "privateKey is not an unencrypted PEM "
			 "private key");
		goto done;
	}
	if (X509_check_private_key(x, k) != 1) {
		api_errf(err, 400, "privateKey", "privateKey does not match the public key "
			 "of cert");
		goto done;
	}
	rc = 0;
done:
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

/* ---- per-type checks ---------------------------------------------------- */

static int
network_check(const void *obj, struct api_err *err)
{
	const struct cfg_network *n = obj;

	if (n->subtype == CFG_NET_HOST && !api_ipv4_valid(n->value))
		return api_errf(err, 400, "value", "value \"%s\" is not an IPv4 address "
				"(a HOST takes a dotted IPv4 address)", n->value);
	if (n->subtype == CFG_NET_FQDN && !api_hostname_valid(n->value))
		return api_errf(err, 400, "value", "value \"%s\" is not a valid host name "
				"(an FQDN takes a DNS name; use HOST for addresses)",
				n->value);
	return 0;
}

static int
internal_cert_check(const void *obj, struct api_err *err)
{
	const struct cfg_internal_cert *c = obj;

	if (api_pem_certs_check(c->cert_pem, "cert", err) == -1)
		return -1;
	if (c->key_pem == NULL)
		return api_errf(err, 400, "privateKey", "privateKey is required");
	return api_pem_key_check(c->cert_pem, c->key_pem, err);
}

static int
ca_cert_check(const void *obj, struct api_err *err)
{
	const struct cfg_ca_cert *c = obj;

	return api_pem_certs_check(c->cert_pem, "cert", err);
}

/* ---- tables ------------------------------------------------------------- */

#define F_NAME(T) { .json = "name", .kind = API_F_STR, .flags = API_REQUIRED, \
	.offset = offsetof(T, meta.name), .size = CFG_NAME_MAX, .min = 1, \
	.max = CFG_NAME_MAX - 1 }
#define F_DESCRIPTION(T) { .json = "description", .kind = API_F_TEXT, \
	.offset = offsetof(T, meta.description), .min = 0, .max = API_TEXT_MAX }
#define F_PEM(T, m, j, k, fl) { .json = j, .kind = k, .flags = fl, \
	.offset = offsetof(T, m), .min = 1, .max = CFG_PEM_MAX }
#define F_UINT(T, m, j, fl, lo, hi, d) { .json = j, .kind = API_F_UINT, .flags = fl, \
	.offset = offsetof(T, m), .size = sizeof(((T *)0)->m), .min = lo, .max = hi, \
	.def = d }
#define F_REF(T, m, j, target) { .json = j, .kind = API_F_REF, .flags = API_REQUIRED, \
	.offset = offsetof(T, m), .ref = target }

static const struct api_field network_fields[] = {
	F_NAME(struct cfg_network),
	F_DESCRIPTION(struct cfg_network),
	{ .json = "subType", .kind = API_F_ENUM, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_network, subtype), .names = cfg_net_subtype_names,
	  .n_names = CFG_NET__COUNT },
	{ .json = "value", .kind = API_F_STR, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_network, value), .size = CFG_HOST_MAX, .min = 1,
	  .max = 254 },
};

static const struct api_field internal_cert_fields[] = {
	F_NAME(struct cfg_internal_cert),
	F_DESCRIPTION(struct cfg_internal_cert),
	F_PEM(struct cfg_internal_cert, cert_pem, "cert", API_F_PEM, API_REQUIRED),
	F_PEM(struct cfg_internal_cert, key_pem, "privateKey", API_F_SECRET,
	      API_REQUIRED | API_KEEP),
};

static const struct api_field ca_cert_fields[] = {
	F_NAME(struct cfg_ca_cert),
	F_DESCRIPTION(struct cfg_ca_cert),
	F_PEM(struct cfg_ca_cert, cert_pem, "cert", API_F_PEM, API_REQUIRED),
};

static const char *const connection_modes[] = { "DIAL_OUT" };

static const struct api_field telemetry_fields[] = {
	F_NAME(struct cfg_telemetry),
	F_DESCRIPTION(struct cfg_telemetry),
	{ .json = "connectionMode", .kind = API_F_CONST, .names = connection_modes,
	  .n_names = ARRAY_LEN(connection_modes) },
	F_UINT(struct cfg_telemetry, port, "port", API_REQUIRED | API_NUMSTR, 1, 65535, 0),
	F_REF(struct cfg_telemetry, target_host, "targetHost", API_OBJ_NETWORK),
	F_REF(struct cfg_telemetry, client_cert, "clientCertificate", API_OBJ_INTERNAL_CERT),
	F_REF(struct cfg_telemetry, ca_cert, "caCertificate", API_OBJ_CA_CERT),
	F_UINT(struct cfg_telemetry, retry_interval_s, "retryIntervalSeconds", API_NUMSTR, 1,
	       86400, 300),
	F_UINT(struct cfg_telemetry, min_interval_s, "minIntervalSeconds", API_NUMSTR, 1,
	       86400, 60),
};

#define LIST(m, c) .list_off = offsetof(struct config, m), .count_off = offsetof(struct config, c)

const struct api_type api_types[API_OBJ__COUNT] = {
	[API_OBJ_NETWORK] = {
		.obj = API_OBJ_NETWORK, .type = "networkobject", .path = API_PATH_NETWORKS,
		.size = sizeof(struct cfg_network), LIST(networks, n_networks),
		.max_items = API_OBJECTS_MAX, .fields = network_fields,
		.n_fields = ARRAY_LEN(network_fields), .check = network_check,
	},
	[API_OBJ_INTERNAL_CERT] = {
		.obj = API_OBJ_INTERNAL_CERT, .type = "internalcertificate",
		.path = API_PATH_INTERNAL, .size = sizeof(struct cfg_internal_cert),
		LIST(internal_certs, n_internal_certs), .max_items = API_OBJECTS_MAX,
		.fields = internal_cert_fields, .n_fields = ARRAY_LEN(internal_cert_fields),
		.check = internal_cert_check,
	},
	[API_OBJ_CA_CERT] = {
		.obj = API_OBJ_CA_CERT, .type = "externalcacertificate", .path = API_PATH_CA,
		.size = sizeof(struct cfg_ca_cert), LIST(ca_certs, n_ca_certs),
		.max_items = API_OBJECTS_MAX, .fields = ca_cert_fields,
		.n_fields = ARRAY_LEN(ca_cert_fields), .check = ca_cert_check,
	},
	[API_OBJ_TELEMETRY] = {
		.obj = API_OBJ_TELEMETRY, .type = "telemetrystreamingconfig",
		.path = API_PATH_TELEMETRY, .size = sizeof(struct cfg_telemetry),
		.list_off = offsetof(struct config, telemetry), .count_off = API_SINGLE,
		.max_items = 1, .fields = telemetry_fields,
		.n_fields = ARRAY_LEN(telemetry_fields),
	},
};
static_assert(ARRAY_LEN(api_types) == API_OBJ__COUNT, "one type per api_obj");
static_assert(offsetof(struct cfg_network, meta) == 0 && offsetof(struct cfg_internal_cert, meta) == 0
	      && offsetof(struct cfg_ca_cert, meta) == 0 && offsetof(struct cfg_telemetry, meta) == 0,
	      "every object starts with its meta");
