/*
 * The text of `vpnctl show interfaces tunnel [NAME]`: IOS's `show
 * interfaces TunnelN` from the API's /operational/tunnelinterfaces (one
 * item per GRE tunnel interface). Pure, like show_crypto.c: the parsed
 * answer in, text out on the FILEs given; "-" where the agent gives no value.
 */
#include "cli/vpnctl.h"
#include "core/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define IOS_TUNNEL_PREFIX "Tunnel"	/* `tunnel 0` is Tunnel0, as IOS reads it */
#define IF_NAME_MAX       64

static const char *
str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static const char *
num_str(json_t *o, const char *key, char buf[static 24])
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, 24, "%lld", (long long)json_integer_value(v));
	return buf;
}

/* The API's state, then IOS's two words: the interface, its line protocol. */
static const struct {
	const char *state, *interface, *protocol;
} if_states[] = {
	{ "up", "up", "up" },
	{ "down", "up", "down" },	/* configured, no IPsec SA for its GRE (or peer dead) */
	{ "administratively down", "administratively down", "down" },	/* shutdown */
};

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* NAME as the operator may type it: exact, else IOS's leniency (`tunnel0`,
 * or a bare number for `TunnelN`), without regard to case. */
static int
name_matches(const char *have, const char *want, int exact)
{
	char ios[IF_NAME_MAX];

	if (exact)
		return strcmp(have, want) == 0;
	if (all_digits(want)) {
		snprintf(ios, sizeof(ios), IOS_TUNNEL_PREFIX "%s", want);
		want = ios;
	}
	return strcasecmp(have, want) == 0;
}

json_t *
tunnel_ifs_select(json_t *ifs, const char *name)
{
	json_t *out = json_array(), *item;
	size_t i;

	if (name == NULL) {
		json_array_extend(out, json_object_get(ifs, "items"));
		return out;
	}
	/* an exact match first: names may differ only in case */
	for (int exact = 1; exact >= 0 && json_array_size(out) == 0; exact--) {
		json_array_foreach(json_object_get(ifs, "items"), i, item) {
			if (name_matches(str(item, "name"), name, exact))
				json_array_append(out, item);
		}
	}
	return out;
}

static void
tunnel_if_print(FILE *out, json_t *t)
{
	const char *state = json_string_value(json_object_get(t, "state"));
	const char *iface = "-", *proto = "-";
	char b[4][24];

	for (size_t i = 0; i < ARRAY_LEN(if_states); i++) {
		if (state != NULL && strcmp(if_states[i].state, state) == 0) {
			iface = if_states[i].interface;
			proto = if_states[i].protocol;
		}
	}
	fprintf(out, "%s is %s, line protocol is %s\n", str(t, "name"), iface, proto);
	fprintf(out, "  Hardware is Tunnel\n");
	fprintf(out, "  Internet address is %s\n", str(t, "address"));
	fprintf(out, "  MTU %s bytes\n", num_str(t, "mtu", b[0]));
	fprintf(out, "  Tunnel source %s, destination %s\n", str(t, "tunnelSource"),
		str(t, "tunnelDestination"));
	fprintf(out, "  Tunnel protocol/transport GRE/IP\n");
	/* the dataplane sends a tunnel's GRE only under an IPsec SA (outNoSa) */
	fprintf(out, "  Tunnel protection: crypto map (transport-mode ESP for permit gre)\n");
	fprintf(out, "     %s packets input, %s bytes, %s malformed, %s input errors\n",
		num_str(t, "packetsIn", b[0]), num_str(t, "bytesIn", b[1]),
		num_str(t, "inMalformed", b[2]), num_str(t, "inErrors", b[3]));
	fprintf(out, "     %s packets output, %s bytes, %s no IPsec SA, %s output errors\n",
		num_str(t, "packetsOut", b[0]), num_str(t, "bytesOut", b[1]),
		num_str(t, "outNoSa", b[2]), num_str(t, "outErrors", b[3]));
}

void
show_no_tunnel_if(FILE *err, json_t *ifs, const char *name)
{
	json_t *items = json_object_get(ifs, "items"), *item;
	size_t i;

	fprintf(err, "vpnctl: no tunnel interface \"%s\" (the agent has ", name);
	if (json_array_size(items) == 0)
		fprintf(err, "none");
	json_array_foreach(items, i, item)
		fprintf(err, "%s%s", i ? ", " : "", str(item, "name"));
	fprintf(err, ")\n");
}

int
show_interfaces_tunnel(FILE *out, FILE *err, json_t *ifs, const char *name)
{
	json_t *shown = tunnel_ifs_select(ifs, name), *t;
	size_t i, n = json_array_size(shown);

	if (n == 0 && name != NULL)
		show_no_tunnel_if(err, ifs, name);
	else if (n == 0)
		fprintf(out, "No tunnel interfaces.\n");
	json_array_foreach(shown, i, t) {
		if (i > 0)
			fputc('\n', out);
		tunnel_if_print(out, t);
	}
	json_decref(shown);
	return (int)n;
}
