/*
 * Certificate expiry source (see cert.h): the config's certificate PEMs
 * read into a fixed table of (use, subject, notAfter) when the config is
 * applied; a scrape only subtracts.
 */
#include "metrics/cert.h"
#include "core/log.h"
#include "core/util.h"
#include "core/x509.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum cert_use { CERT_USE_IKE, CERT_USE_TELEMETRY, CERT_USE__COUNT };
static const char *const cert_use_names[CERT_USE__COUNT] = {
	[CERT_USE_IKE] = "ike",
	[CERT_USE_TELEMETRY] = "telemetry",
};
static_assert(ARRAY_LEN(cert_use_names) == CERT_USE__COUNT, "cert use names");

struct cert_metrics {
	struct x509_expiry certs[CERT_METRICS_MAX];
	enum cert_use      use[CERT_METRICS_MAX];
	size_t             n;
	size_t             left_out;	/* by the last update: over CERT_METRICS_MAX */
};

struct cert_metrics *
cert_metrics_new(void)
{
	return xcalloc(1, sizeof(struct cert_metrics));
}

void
cert_metrics_free(struct cert_metrics *cm)
{
	free(cm);
}

/* Appends the certificates of pem; *left_out counts those with no room. */
static void
add_pem(struct cert_metrics *cm, enum cert_use use, const char *pem, size_t *left_out)
{
	size_t room = CERT_METRICS_MAX - cm->n;
	size_t n = x509_expiries(pem, &cm->certs[cm->n], room);

	if (n > room) {
		*left_out += n - room;
		n = room;
	}
	for (size_t i = 0; i < n; i++)
		cm->use[cm->n + i] = use;
	cm->n += n;
}

/* One series per (use, subject): the first place it was seen, the
 * earliest notAfter. */
static void
merge_same_subject(struct cert_metrics *cm)
{
	size_t kept = 0;

	for (size_t i = 0; i < cm->n; i++) {
		size_t j;

		for (j = 0; j < kept; j++) {
			if (cm->use[j] == cm->use[i] &&
			    strcmp(cm->certs[j].subject, cm->certs[i].subject) == 0)
				break;
		}
		if (j < kept) {
			if (cm->certs[i].not_after < cm->certs[j].not_after)
				cm->certs[j].not_after = cm->certs[i].not_after;
			continue;
		}
		if (kept != i) {
			cm->certs[kept] = cm->certs[i];
			cm->use[kept] = cm->use[i];
		}
		kept++;
	}
	cm->n = kept;
}

void
cert_metrics_update(struct cert_metrics *cm, const struct config *cfg)
{
	const struct cfg_internal_cert *ic;
	const struct cfg_ca_cert *ca;
	const struct cfg_telemetry *t = cfg->telemetry;
	size_t left_out = 0;

	cm->n = 0;
	if ((ic = config_internal_cert_by_id(cfg, cfg->ike.certificate.id)) != NULL)
		add_pem(cm, CERT_USE_IKE, ic->cert_pem, &left_out);
	for (size_t i = 0; i < cfg->ike.n_trusted_cas; i++) {
		if ((ca = config_ca_cert_by_id(cfg, cfg->ike.trusted_cas[i].id)) != NULL)
			add_pem(cm, CERT_USE_IKE, ca->cert_pem, &left_out);
	}
	if (t != NULL && (ic = config_internal_cert_by_id(cfg, t->client_cert.id)) != NULL)
		add_pem(cm, CERT_USE_TELEMETRY, ic->cert_pem, &left_out);
	if (t != NULL && (ca = config_ca_cert_by_id(cfg, t->ca_cert.id)) != NULL)
		add_pem(cm, CERT_USE_TELEMETRY, ca->cert_pem, &left_out);
	merge_same_subject(cm);
	if (left_out != 0 && left_out != cm->left_out)
		log_warnx("certificate metrics: %zu certificates past the first %d are not "
			  "listed", left_out, CERT_METRICS_MAX);
	cm->left_out = left_out;
}

void
cert_metrics_source(void *ctx, struct metrics_snapshot *snap)
{
	const struct cert_metrics *cm = ctx;

	for (size_t i = 0; i < cm->n; i++) {
		const struct x509_expiry *x = &cm->certs[i];

		metrics_add(snap, M_CERTIFICATE_EXPIRY,
			    (double)(x->not_after * 1000 - snap->timestamp_ms) / 1000.0,
			    (const char *[]){ cert_use_names[cm->use[i]], x->subject });
	}
}
