/*
 * The operational views' rows (agent/views.c): beside main.c, the only other
 * file that sees the engine, the dataplane and the API together.
 */
#ifndef AGENT_VIEWS_H
#define AGENT_VIEWS_H

#include "api/api.h"

struct ike;
struct esp_dp;
struct config;

/* Fills rows of view `which` from the IKE engine (and the dataplane's
 * counters, when dp is not NULL): what the agent's hooks.vpn_view does. */
void views_rows(struct ike *ike, struct esp_dp *dp, enum api_vpn_view which,
		struct api_rows *rows);
/* GET /operational/tunnelinterfaces: each configured GRE tunnel interface
 * with the dataplane's state and counters. */
void views_tunnel_ifs(const struct config *cfg, struct esp_dp *dp, struct api_rows *rows);

#endif
