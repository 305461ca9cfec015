/*
 * Builds the engine configuration (struct ike_conf) from the config model.
 * The result owns its arrays: release with ike_conf_release. Every value
 * the API accepts is carried whole; a config past the API's caps
 * is a broken invariant (fatal), never cut.
 */
#ifndef IKE_IKE_CONF_H
#define IKE_IKE_CONF_H

#include "core/config.h"
#include "ike/ike.h"

int  ike_conf_from_config(const struct config *cfg, uint32_t local_be, const char *hostname,
			  struct ike_conf *out);
void ike_conf_release(struct ike_conf *c);

#endif
