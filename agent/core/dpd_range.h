/*
 * What `crypto isakmp keepalive SECONDS [RETRY]` may say, in one
 * place for the engine (ike/dpd.c), the API and import-ios.
 */
#ifndef CORE_DPD_RANGE_H
#define CORE_DPD_RANGE_H

#define DPD_KEEPALIVE_MIN   10		/* seconds; 0 turns DPD off */
#define DPD_KEEPALIVE_MAX   3600
#define DPD_RETRY_MIN       2		/* seconds between unanswered probes */
#define DPD_RETRY_MAX       60
#define DPD_RETRY_DEFAULT   2
#define DPD_RETRIES_DEFAULT 5		/* probes before the peer is dead */
#define DPD_RETRIES_MAX     10

#endif
