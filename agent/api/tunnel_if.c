/*
 * The GRE tunnel interfaces of the API (R-17.3, /object/tunnelinterfaces):
 * IOS's `interface TunnelN` as the agent provides it, a device of that name.
 * Its field table and the checks a table cannot express: a name Linux takes
 * and the agent does not use itself, unicast endpoints, no recursive route,
 * and no clash with another tunnel (same endpoints, overlapping subnets).
 */
#include "api/api_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static char tun_name[CFG_TUNNEL_IF_NAME_MAX + 1] = "vpn0";	/* vpn-agent's default */

void
api_set_tun_name(const char *name)
{
	str_copy(tun_name, sizeof(tun_name), name ? name : "");
}

const struct api_field api_tunnel_if_fields[] = {
	F_NAME(struct cfg_tunnel_if),
	F_DESCRIPTION(struct cfg_tunnel_if),
	{ .json = "address", .kind = API_F_IFADDR, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_tunnel_if, addr),
	  .count_off = offsetof(struct cfg_tunnel_if, prefix_len) },
	{ .json = "tunnelSource", .kind = API_F_IPV4, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_tunnel_if, source) },
	{ .json = "tunnelDestination", .kind = API_F_IPV4, .flags = API_REQUIRED,
	  .offset = offsetof(struct cfg_tunnel_if, destination) },
	F_UINT(struct cfg_tunnel_if, mtu, "mtu", 0, CFG_TUNNEL_MTU_MIN, CFG_TUNNEL_MTU_MAX,
	       CFG_TUNNEL_MTU_DEFAULT),
	F_BOOL(struct cfg_tunnel_if, shutdown, "shutdown", 0),
};
static_assert(sizeof(((struct cfg_tunnel_if *)0)->addr) == 4 &&
	      sizeof(((struct cfg_tunnel_if *)0)->source) == 4 &&
	      sizeof(((struct cfg_tunnel_if *)0)->destination) == 4, "IPv4 fields are 32 bits");
static_assert(sizeof(((struct cfg_tunnel_if *)0)->prefix_len) == sizeof(unsigned),
	      "the prefix length is an unsigned");

/* A Linux device name of ours: a letter, then letters, digits, _ . -; not
 * a name the host or the agent uses already for something else. */
static int
name_check(const char *name, struct api_err *err)
{
	static const char *const reserved[] = { "lo", "all", "default" };
	size_t len = strlen(name);

	if (len > CFG_TUNNEL_IF_NAME_MAX || !((name[0] >= 'A' && name[0] <= 'Z') ||
					      (name[0] >= 'a' && name[0] <= 'z')) ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
	    len)
		return api_errf(err, 400, "name", "name \"%s\" is not a device name the agent can "
				"create: a letter, then up to %d letters, digits, '_', '.' or '-' "
				"(Tunnel0)", name, CFG_TUNNEL_IF_NAME_MAX - 1);
	for (size_t i = 0; i < ARRAY_LEN(reserved); i++)
		if (strcmp(name, reserved[i]) == 0)
			return api_errf(err, 400, "name", "name \"%s\" is taken by the host's own "
					"networking; use another (Tunnel0)", name);
	if (strcmp(name, tun_name) == 0)
		return api_errf(err, 400, "name", "name \"%s\" is the agent's own TUN device "
				"(vpn-agent --tun-name); use another (Tunnel0)", name);
	return 0;
}

static uint32_t
prefix_mask(unsigned len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* A unicast address: not in 0.0.0.0/8 or 127.0.0.0/8, not multicast or
 * reserved (224.0.0.0 and above). */
static int
unicast_check(uint32_t a, const char *field, struct api_err *err)
{
	char text[16];

	ipv4_text(a, text);
	if ((a >> 24) == 0 || (a >> 24) == 127 || a >= 0xe0000000)
		return api_errf(err, 400, field, "%s %s is not a unicast address (in 0.0.0.0/8, "
				"127.0.0.0/8 or 224.0.0.0 and above)", field, text);
	return 0;
}

int
api_tunnel_if_check(const void *obj, struct api_err *err)
{
	const struct cfg_tunnel_if *t = obj;
	uint32_t mask = prefix_mask(t->prefix_len);
	char a[16], net[16], d[16];

	if (name_check(t->meta.name, err) == -1 || unicast_check(t->addr, "address", err) == -1)
		return -1;
	ipv4_text(t->addr, a);
	ipv4_text(t->addr & mask, net);
	if (t->prefix_len <= 30 && ((t->addr & ~mask) == 0 || (t->addr & ~mask) == ~mask))
		return api_errf(err, 400, "address", "address %s/%u is the %s address of "
				"%s/%u, not one an interface can have", a, t->prefix_len,
				(t->addr & ~mask) == 0 ? "network" : "broadcast", net,
				t->prefix_len);
	if (unicast_check(t->source, "tunnelSource", err) == -1 ||
	    unicast_check(t->destination, "tunnelDestination", err) == -1)
		return -1;
	ipv4_text(t->destination, d);
	if (t->source == t->destination)
		return api_errf(err, 400, "tunnelDestination", "tunnelDestination %s is "
				"tunnelSource too: a tunnel joins two gateways", d);
	/* The route to the far end would lead into the tunnel itself. */
	if (((t->destination ^ t->addr) & mask) == 0)
		return api_errf(err, 400, "tunnelDestination", "tunnelDestination %s is inside "
				"the tunnel's own subnet %s/%u: GRE to it would be routed into the "
				"tunnel (recursive routing)", d, net, t->prefix_len);
	return 0;
}

/* GRE without keys tells tunnels apart by their endpoints alone, and two
 * interfaces on one subnet would make routing a guess. */
int
api_tunnel_if_conflict(const struct config *cfg, const void *obj, struct api_err *err)
{
	const struct cfg_tunnel_if *t = obj;
	char s[16], d[16], a[16];

	for (size_t i = 0; i < cfg->n_tunnel_ifs; i++) {
		const struct cfg_tunnel_if *o = &cfg->tunnel_ifs[i];
		uint32_t mask = prefix_mask(o->prefix_len < t->prefix_len ? o->prefix_len :
					    t->prefix_len);

		if (strcmp(o->meta.id, t->meta.id) == 0)
			continue;
		if (o->source == t->source && o->destination == t->destination) {
			ipv4_text(o->source, s);
			ipv4_text(o->destination, d);
			return api_errf(err, 409, "tunnelDestination", "tunnelDestination: "
					"tunnelinterface \"%s\" runs from %s to %s already (GRE "
					"without keys cannot tell two tunnels between the same "
					"gateways apart)", o->meta.name, s, d);
		}
		if (((o->addr ^ t->addr) & mask) == 0) {
			ipv4_text(o->addr, a);
			return api_errf(err, 409, "address", "address: the subnet overlaps that of "
					"tunnelinterface \"%s\" (%s/%u)", o->meta.name, a,
					o->prefix_len);
		}
	}
	return 0;
}
