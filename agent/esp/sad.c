/*
 * The SA database: inbound SAs hashed by SPI, outbound SAs hashed by SPI
 * (for removal) and by their remote selector (for the policy lookup), all
 * chained through links inside the SA. Each table doubles as it fills, up
 * to ESP_SAD_MAX SAs per direction. Drops before an SA is known live here.
 */
#include "esp/esp_int.h"
#include "core/log.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define TAB_FIRST_BITS 6	/* 64 buckets to start */
#define TAB_MAX_BITS   16	/* ESP_SAD_MAX buckets at most: load <= 1 */

static_assert(1u << TAB_MAX_BITS == ESP_SAD_MAX, "one bucket per SA at the cap");

struct esp_tab {
	struct esp_sa **bucket;
	unsigned        bits;		/* 2^bits buckets */
	size_t          count;
	int             link;		/* ESP_LINK_SPI or ESP_LINK_POLICY */
};

struct esp_sad {
	struct esp_tab in_spi, out_spi, out_policy;
	size_t         prefix_count[33];	/* outbound SAs per remote prefix length */
	uint64_t       add_seq;
	uint64_t       drops[ESP_DROP__COUNT];
	int64_t        log_next_ms;
};

static unsigned
prefix_len(uint32_t mask_be)
{
	return (unsigned)__builtin_popcount(mask_be);
}

/* Fibonacci hashing: SPIs are random, selectors are not. */
static size_t
tab_index(const struct esp_tab *t, uint32_t key)
{
	return (uint32_t)(key * 0x9e3779b1u) >> (32 - t->bits);
}

static uint32_t
policy_key(uint32_t net_be, uint32_t mask_be)
{
	return net_be ^ (mask_be * 0x85ebca6bu);
}

static uint32_t
sa_key(const struct esp_sa *sa, int link)
{
	if (link == ESP_LINK_SPI)
		return sa->p.spi;
	return policy_key(sa->p.remote.addr_be, sa->p.remote.mask_be);
}

static void
tab_init(struct esp_tab *t, int link)
{
	t->bits = TAB_FIRST_BITS;
	t->bucket = xcalloc((size_t)1 << t->bits, sizeof(*t->bucket));
	t->count = 0;
	t->link = link;
}

/* Rehashes into twice the buckets; chain order (newest first) may change,
 * which is why lookups compare add_seq rather than trust the order. */
static void
tab_grow(struct esp_tab *t)
{
	struct esp_sa **old = t->bucket, *sa, *next;
	size_t i, n = (size_t)1 << t->bits;

	t->bits++;
	t->bucket = xcalloc((size_t)1 << t->bits, sizeof(*t->bucket));
	for (i = 0; i < n; i++) {
		for (sa = old[i]; sa != NULL; sa = next) {
			size_t j = tab_index(t, sa_key(sa, t->link));

			next = sa->next[t->link];
			sa->next[t->link] = t->bucket[j];
			t->bucket[j] = sa;
		}
	}
	free(old);
}

static void
tab_insert(struct esp_tab *t, struct esp_sa *sa)
{
	size_t i;

	if (t->count >= ((size_t)1 << t->bits) && t->bits < TAB_MAX_BITS)
		tab_grow(t);
	i = tab_index(t, sa_key(sa, t->link));
	sa->next[t->link] = t->bucket[i];
	t->bucket[i] = sa;
	t->count++;
}

static void
tab_unlink(struct esp_tab *t, struct esp_sa *sa)
{
	struct esp_sa **pp = &t->bucket[tab_index(t, sa_key(sa, t->link))];

	while (*pp != NULL && *pp != sa)
		pp = &(*pp)->next[t->link];
	if (*pp == NULL)
		return;
	*pp = sa->next[t->link];
	sa->next[t->link] = NULL;
	t->count--;
}

/* The newest SA with this SPI in the table. */
static struct esp_sa *
tab_spi(const struct esp_tab *t, uint32_t spi)
{
	struct esp_sa *sa, *best = NULL;

	for (sa = t->bucket[tab_index(t, spi)]; sa != NULL; sa = sa->next[ESP_LINK_SPI])
		if (sa->p.spi == spi && (best == NULL || sa->add_seq > best->add_seq))
			best = sa;
	return best;
}

struct esp_sad *
esp_sad_new(void)
{
	struct esp_sad *sad = xcalloc(1, sizeof(*sad));

	tab_init(&sad->in_spi, ESP_LINK_SPI);
	tab_init(&sad->out_spi, ESP_LINK_SPI);
	tab_init(&sad->out_policy, ESP_LINK_POLICY);
	return sad;
}

static void
tab_free_sas(struct esp_tab *t)
{
	struct esp_sa *sa, *next;
	size_t i;

	for (i = 0; i < ((size_t)1 << t->bits); i++) {
		for (sa = t->bucket[i]; sa != NULL; sa = next) {
			next = sa->next[ESP_LINK_SPI];
			esp_sa_free(sa);
		}
	}
}

void
esp_sad_free(struct esp_sad *sad)
{
	if (sad == NULL)
		return;
	/* Every SA is in exactly one SPI table. */
	tab_free_sas(&sad->in_spi);
	tab_free_sas(&sad->out_spi);
	free(sad->in_spi.bucket);
	free(sad->out_spi.bucket);
	free(sad->out_policy.bucket);
	free(sad);
}

int
esp_sad_add(struct esp_sad *sad, struct esp_sa *sa, int outbound)
{
	struct esp_tab *spi_tab = outbound ? &sad->out_spi : &sad->in_spi;
	const char *why = NULL;

	if (sa->in_sad)
		why = "already in a SAD";
	else if ((outbound != 0) != sa->outbound)
		why = "direction differs from the SA's";
	else if (spi_tab->count >= ESP_SAD_MAX)
		why = "ESP_SAD_MAX reached";
	else if (!outbound && tab_spi(spi_tab, sa->p.spi) != NULL)
		why = "inbound SPI already present";
	if (why != NULL) {
		log_warnx("esp: SA %08x not added: %s", sa->p.spi, why);
		return -1;
	}
	sa->add_seq = ++sad->add_seq;
	sa->in_sad = 1;
	tab_insert(spi_tab, sa);
	if (outbound) {
		tab_insert(&sad->out_policy, sa);
		sad->prefix_count[prefix_len(sa->p.remote.mask_be)]++;
	}
	return 0;
}

int
esp_sad_remove_sa(struct esp_sad *sad, struct esp_sa *sa)
{
	struct esp_tab *spi_tab = sa->outbound ? &sad->out_spi : &sad->in_spi;
	struct esp_sa *p;

	for (p = spi_tab->bucket[tab_index(spi_tab, sa->p.spi)]; p != NULL && p != sa;
	    p = p->next[ESP_LINK_SPI])
		;
	if (p == NULL)
		return -1;
	tab_unlink(spi_tab, sa);
	if (sa->outbound) {
		tab_unlink(&sad->out_policy, sa);
		sad->prefix_count[prefix_len(sa->p.remote.mask_be)]--;
	}
	esp_sa_free(sa);
	return 0;
}

int
esp_sad_remove(struct esp_sad *sad, uint32_t spi, int outbound)
{
	struct esp_sa *sa = tab_spi(outbound ? &sad->out_spi : &sad->in_spi, spi);

	return sa == NULL ? -1 : esp_sad_remove_sa(sad, sa);
}

struct esp_sa *
esp_sad_inbound(const struct esp_sad *sad, uint32_t spi)
{
	struct esp_sa *sa;

	for (sa = sad->in_spi.bucket[tab_index(&sad->in_spi, spi)]; sa != NULL;
	    sa = sa->next[ESP_LINK_SPI])
		if (sa->p.spi == spi)
			return sa;
	return NULL;
}

/* For each remote prefix length in use, one bucket: the SAs whose remote
 * network is exactly dst's network of that length; the newest whose other
 * selectors (local network, protocol, ports) hold the flow wins
 * (make-before-break rekeys). */
struct esp_sa *
esp_sad_outbound(const struct esp_sad *sad, const struct esp_flow *f)
{
	const struct esp_tab *t = &sad->out_policy;
	struct esp_sa *sa, *best = NULL;
	unsigned plen;

	for (plen = 0; plen <= 32; plen++) {
		uint32_t mask_be, net_be;

		if (sad->prefix_count[plen] == 0)
			continue;
		mask_be = htonl(plen == 0 ? 0 : 0xffffffffu << (32 - plen));
		net_be = f->dst_be & mask_be;
		for (sa = t->bucket[tab_index(t, policy_key(net_be, mask_be))]; sa != NULL;
		    sa = sa->next[ESP_LINK_POLICY]) {
			if (sa->p.remote.addr_be == net_be && sa->p.remote.mask_be == mask_be &&
			    esp_sa_covers(&sa->p, f, 1) &&
			    (best == NULL || sa->add_seq > best->add_seq))
				best = sa;
		}
	}
	return best;
}

static void
tab_foreach(const struct esp_tab *t, int outbound,
	    void (*fn)(void *ctx, const struct esp_sa *sa, int outbound), void *ctx)
{
	const struct esp_sa *sa;
	size_t i;

	for (i = 0; i < ((size_t)1 << t->bits); i++)
		for (sa = t->bucket[i]; sa != NULL; sa = sa->next[ESP_LINK_SPI])
			fn(ctx, sa, outbound);
}

/* fn must not add or remove SAs. */
void
esp_sad_foreach(const struct esp_sad *sad,
		void (*fn)(void *ctx, const struct esp_sa *sa, int outbound), void *ctx)
{
	tab_foreach(&sad->in_spi, 0, fn, ctx);
	tab_foreach(&sad->out_spi, 1, fn, ctx);
}

const uint64_t *
esp_sad_drops(const struct esp_sad *sad)
{
	return sad->drops;
}

/* Lookups run on several dataplane workers at once: the counters the
 * SAD keeps itself are atomic. */
void
esp_sad_count_drop(struct esp_sad *sad, enum esp_drop why)
{
	if (why > ESP_DROP_NONE && why < ESP_DROP__COUNT)
		__atomic_fetch_add(&sad->drops[why], 1, __ATOMIC_RELAXED);
}

void
esp_sad_drop(struct esp_sad *sad, int why, int64_t now)
{
	uint64_t n = __atomic_add_fetch(&sad->drops[why], 1, __ATOMIC_RELAXED);
	int64_t next = __atomic_load_n(&sad->log_next_ms, __ATOMIC_RELAXED);

	if (now < next || !__atomic_compare_exchange_n(&sad->log_next_ms, &next,
						       now + ESP_LOG_EVERY_MS, 0,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	log_debug("esp: drop %s before an SA was known (%llu so far)", esp_drop_names[why],
	    (unsigned long long)n);
}
