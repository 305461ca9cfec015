/*
 * GRE over IPsec in the API through api_dispatch() with fake hooks:
 * match lines with a protocol and ports (crypto maps and dynamic ones,
 * accepted, read back, refused naming the line and field), the GRE tunnel
 * interfaces (CRUD, defaults, every refusal naming its field, the 409s of
 * two tunnels between the same gateways or on overlapping subnets, the
 * agent's own TUN name), their operational view through its hook, and the
 * round trip through config.journal and config.json (a restart).
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

const char *const tel_state_names[TEL_STATE__COUNT] = { "DISCONNECTED", "CONNECTED" };
const char *const tel_err_type_names[TEL_ERR__COUNT] = {
	"AbortErrors", "SystemErrors", "BufferErrors", "AuthErrors", "StreamingErrors",
	"InvalidArgumentErrors",
};

#define BASE  "/api/v1"
#define XSS   BASE "/object/transformsets"
#define MAPS  BASE "/object/cryptomaps"
#define DYNS  BASE "/object/dynamiccryptomaps"
#define TUNS  BASE "/object/tunnelinterfaces"
#define TUN_STATUS BASE "/operational/tunnelinterfaces"

static int
setup(void **state)
{
	return api_env_setup(state, "test_api_gre");
}

static int
teardown(void **state)
{
	return api_env_teardown(state);
}

static json_t *
xs_new(struct env *e)
{
	return callj(e, "POST", XSS, json_pack("{s:s, s:s, s:s, s:s}", "name", "gre-ts", "esp",
					       "esp-aes-256", "auth", "esp-sha256-hmac", "mode",
					       "transport"), 200);
}

/* Router 102 of the GRE reference: GRE to 101, protected in transport mode. */
static json_t *
map_body(json_t *xs, const char *match)
{
	json_t *b = json_pack("{s:s, s:i, s:[s], s:[{s:s, s:s, s:s}], s:b}", "name", "test-10",
			      "sequence", 10, "peers", "20.1.1.1", "transformSets", "id",
			      str(xs, "id"), "name", "gre-ts", "type", "transformset",
			      "forceEncapsulation", 1);
	json_t *m = json_loads(match, 0, NULL);

	assert_non_null(m);
	json_object_set_new(b, "matchAddress", m);
	return b;
}

static json_t *
tun_body(const char *name, const char *address, const char *source, const char *destination)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "name", name, "address", address,
			 "tunnelSource", source, "tunnelDestination", destination);
}

/* ---- match lines with protocols and ports ------------------------------ */

static void
test_match_protocols(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e);
	json_t *m = callj(e, "POST", MAPS, map_body(xs,
		"[{\"action\": \"permit\", \"protocol\": \"gre\", \"source\": \"20.1.1.2\", "
		"\"destination\": \"20.1.1.1\"},"
		" {\"protocol\": 47, \"source\": \"20.1.2.2\", \"destination\": \"20.1.2.1\"},"
		" {\"protocol\": 89, \"source\": \"20.1.3.0/24\", \"destination\": \"20.1.4.0/24\"},"
		" {\"protocol\": \"tcp\", \"source\": \"10.1.0.0/16\", \"sourcePort\": 179,"
		"  \"destination\": \"10.2.0.0/16\", \"destinationPort\": 65535},"
		" {\"protocol\": \"udp\", \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.5\","
		"  \"destinationPort\": 53},"
		" {\"protocol\": \"icmp\", \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\"},"
		" {\"protocol\": 0, \"source\": \"10.3.0.0/16\", \"destination\": \"10.4.0.0/16\"},"
		" {\"source\": \"10.5.0.0/16\", \"destination\": \"10.6.0.0/16\"}]"), 200);
	static const char *const plain[] = { "action", "protocol", "source", "destination" };
	static const char *const both[] = { "action", "protocol", "source", "sourcePort",
					    "destination", "destinationPort" };
	static const char *const dst[] = { "action", "protocol", "source", "destination",
					   "destinationPort" };
	static const char *const want[] = { "gre", "gre", NULL, "tcp", "udp", "icmp", "ip",
					    "ip" };
	const struct cfg_crypto_map *cm = &e->cur->crypto_maps[0];
	json_t *lines = json_object_get(m, "matchAddress"), *l, *j;
	char *path = item_path(MAPS, m);

	assert_int_equal(json_array_size(lines), 8);
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		l = json_array_get(lines, i);
		if (want[i] != NULL)
			assert_string_equal(str(l, "protocol"), want[i]);
		if (i == 3)
			keys_are(l, both, ARRAY_LEN(both));
		else if (i == 4)
			keys_are(l, dst, ARRAY_LEN(dst));
		else
			keys_are(l, plain, ARRAY_LEN(plain));	/* no port: left out */
	}
	/* a number without a name reads back as the number */
	assert_true(json_is_integer(json_object_get(json_array_get(lines, 2), "protocol")));
	assert_int_equal(num(json_array_get(lines, 2), "protocol"), 89);
	assert_int_equal(num(json_array_get(lines, 3), "sourcePort"), 179);
	assert_int_equal(num(json_array_get(lines, 3), "destinationPort"), 65535);
	assert_int_equal(num(json_array_get(lines, 4), "destinationPort"), 53);
	assert_string_equal(str(json_array_get(lines, 0), "source"), "20.1.1.2/32");

	/* the model */
	assert_int_equal(cm->n_match, 8);
	assert_int_equal(cm->match[0].proto, 47);
	assert_int_equal(cm->match[0].src.addr, 0x14010102);
	assert_int_equal(cm->match[0].dst.addr, 0x14010101);
	assert_int_equal(cm->match[0].src_port, 0);
	assert_int_equal(cm->match[1].proto, 47);
	assert_int_equal(cm->match[2].proto, 89);
	assert_int_equal(cm->match[3].proto, 6);
	assert_int_equal(cm->match[3].src_port, 179);
	assert_int_equal(cm->match[3].dst_port, 65535);
	assert_int_equal(cm->match[4].proto, 17);
	assert_int_equal(cm->match[4].src_port, 0);
	assert_int_equal(cm->match[4].dst_port, 53);
	assert_int_equal(cm->match[5].proto, 1);
	assert_int_equal(cm->match[6].proto, 0);
	assert_int_equal(cm->match[7].proto, 0);
	assert_true(cm->force_encap);

	/* GET answers what POST did; a PUT of what was read changes nothing in it */
	j = call(e, "GET", path, NULL, 200);
	assert_true(json_equal(j, m));
	json_decref(j);
	j = callj(e, "PUT", path, put_of(m, "description", "\"GRE to 101\""), 200);
	assert_true(json_equal(json_object_get(j, "matchAddress"), lines));
	json_decref(j);

	/* a dynamic crypto map's lines too */
	j = callj(e, "POST", DYNS, json_pack("{s:s, s:i, s:[{s:s}], s:[{s:s, s:s, s:i, s:s}]}",
					     "name", "dyn", "sequence", 10, "transformSets", "id",
					     str(xs, "id"), "matchAddress", "protocol", "tcp",
					     "source", "10.1.0.0/16", "sourcePort", 443,
					     "destination", "0.0.0.0/0"), 200);
	l = json_array_get(json_object_get(j, "matchAddress"), 0);
	assert_string_equal(str(l, "protocol"), "tcp");
	assert_int_equal(num(l, "sourcePort"), 443);
	assert_null(json_object_get(l, "destinationPort"));
	assert_int_equal(e->cur->dynamic_maps[0].match[0].src_port, 443);
	json_decref(j);
	free(path);
	json_decref(m);
	json_decref(xs);
}

static void
test_match_refusals(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e);
	json_t *b = map_body(xs, "[]");

	/* ports only with tcp and udp, naming the line and the field */
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"source\": \"10.0.0.0/8\", "
				      "\"destination\": \"10.1.0.0/16\", \"sourcePort\": 22}]"),
		400, "matchAddress[0].sourcePort", "needs protocol \"tcp\" or \"udp\"");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"source\": \"10.0.0.0/8\", "
				      "\"destination\": \"10.1.0.0/16\"}, {\"protocol\": \"gre\", "
				      "\"source\": \"20.1.1.2\", \"destination\": \"20.1.1.1\", "
				      "\"destinationPort\": 80}]"),
		400, "matchAddress[1].destinationPort", "protocol \"gre\" (47) has no ports");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"icmp\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"sourcePort\": 7, \"destinationPort\": 7}]"),
		400, "matchAddress[0].sourcePort", "icmp");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": 132, \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"destinationPort\": 9}]"),
		400, "matchAddress[0].destinationPort", "protocol 132 has no ports");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"ip\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"destinationPort\": 9}]"),
		400, "matchAddress[0].destinationPort", "\"ip\" is every protocol");
	/* ports: eq PORT, 1-65535, numbers */
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"tcp\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"destinationPort\": 0}]"),
		400, "matchAddress[0].destinationPort", "between 1 and 65535");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"udp\", \"source\": "
				      "\"10.0.0.0/8\", \"sourcePort\": 65536, \"destination\": "
				      "\"10.1.0.0/16\"}]"),
		400, "matchAddress[0].sourcePort", "between 1 and 65535");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"tcp\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"destinationPort\": \"www\"}]"),
		400, "matchAddress[0].destinationPort", "integer");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"tcp\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"destinationPort\": \"80\"}]"),
		400, "matchAddress[0].destinationPort", "integer");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"tcp\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"destinationPort\": {\"eq\": 80}}]"),
		400, "matchAddress[0].destinationPort", "integer");
	/* protocols: a name of ours or 0-255 */
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": 256, \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\"}]"),
		400, "matchAddress[0].protocol", "0 to 255");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": -1, \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\"}]"),
		400, "matchAddress[0].protocol", NULL);
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"GRE\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\"}]"),
		400, "matchAddress[0].protocol", "\"gre\"");
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"47\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\"}]"),
		400, "matchAddress[0].protocol", NULL);
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": 6.5, \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\"}]"),
		400, "matchAddress[0].protocol", NULL);
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": true, \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\"}]"),
		400, "matchAddress[0].protocol", NULL);
	refused(e, "POST", MAPS, with(b, "matchAddress", "[{\"protocol\": \"tcp\", \"source\": "
				      "\"10.0.0.0/8\", \"destination\": \"10.1.0.0/16\", "
				      "\"port\": 80}]"), 400, "matchAddress[0].port", "unknown");
	/* a dynamic crypto map checks its lines the same way */
	refused(e, "POST", DYNS, json_pack("{s:s, s:i, s:[{s:s}], s:[{s:s, s:s}, {s:s, s:s, "
					   "s:s, s:i}]}", "name", "dyn", "sequence", 10,
					   "transformSets", "id", str(xs, "id"), "matchAddress",
					   "source", "10.1.0.0/16", "destination", "0.0.0.0/0",
					   "protocol", "gre", "source", "10.1.0.1", "destination",
					   "0.0.0.0/0", "sourcePort", 1),
		400, "matchAddress[1].sourcePort", "gre");
	assert_int_equal(e->cur->n_crypto_maps, 0);
	assert_int_equal(e->cur->n_dynamic_maps, 0);
	assert_int_equal(e->applied, 1);	/* the transform set alone */
	json_decref(b);
	json_decref(xs);
}

/* forceEncapsulation: false (IOS's behaviour) by default, true taken. */
static void
test_force_encapsulation(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e);
	json_t *b = map_body(xs, "[{\"protocol\": \"gre\", \"source\": \"20.1.1.2\", "
			     "\"destination\": \"20.1.1.1\"}]"), *m;
	char *path;

	json_object_del(b, "forceEncapsulation");
	m = callj(e, "POST", MAPS, json_deep_copy(b), 200);
	assert_true(json_is_false(json_object_get(m, "forceEncapsulation")));
	assert_false(e->cur->crypto_maps[0].force_encap);
	path = item_path(MAPS, m);
	json_decref(callj(e, "PUT", path, put_of(m, "forceEncapsulation", "true"), 200));
	assert_true(e->cur->crypto_maps[0].force_encap);
	json_decref(m);
	m = call(e, "GET", path, NULL, 200);
	json_decref(callj(e, "PUT", path, put_of(m, "forceEncapsulation", "false"), 200));
	assert_false(e->cur->crypto_maps[0].force_encap);
	refused(e, "POST", MAPS, with(b, "forceEncapsulation", "0"), 400, "forceEncapsulation",
		"true or false");
	free(path);
	json_decref(m);
	json_decref(b);
	json_decref(xs);
}

/* ---- tunnel interfaces -------------------------------------------------- */

static void
test_tunnel_routes(void **state)
{
	static const char *const paths[] = { TUNS, TUNS "/{id}" };
	struct env *e = *state;
	json_t *j = call(e, "GET", BASE, NULL, 200), *r;
	size_t i;
	int status = 0;

	for (size_t p = 0; p < ARRAY_LEN(paths); p++) {
		int found = 0;

		json_array_foreach(json_object_get(j, "routes"), i, r)
			found += strcmp(str(r, "path"), paths[p]) == 0;
		if (found != (strstr(paths[p], "{id}") ? 3 : 2))
			fail_msg("route %s listed %d times", paths[p], found);
	}
	json_array_foreach(json_object_get(j, "routes"), i, r)
		status += strcmp(str(r, "path"), TUN_STATUS) == 0 &&
		    strcmp(str(r, "method"), "GET") == 0;
	assert_int_equal(status, 1);
	json_decref(j);
	j = call(e, "GET", TUNS "/00000000-0000-4000-8000-000000000000", NULL, 404);
	assert_non_null(strstr(err_message(j), "tunnelinterface"));
	json_decref(j);
	json_decref(call(e, "PUT", TUNS, "{}", 405));
	json_decref(call(e, "POST", TUN_STATUS, "{}", 405));
}

static void
test_tunnel_crud(void **state)
{
	static const char *const keys[] = {
		"version", "name", "description", "address", "tunnelSource", "tunnelDestination",
		"mtu", "shutdown", "id", "type", "links",
	};
	struct env *e = *state;
	json_t *t = callj(e, "POST", TUNS, tun_body("Tunnel0", "10.10.10.2/30", "20.1.1.2",
						    "20.1.1.1"), 200), *j, *b;
	char *path = item_path(TUNS, t), self[256];
	const struct cfg_tunnel_if *ti;

	keys_are(t, keys, ARRAY_LEN(keys));
	assert_string_equal(str(t, "type"), "tunnelinterface");
	assert_string_equal(str(t, "name"), "Tunnel0");
	assert_true(json_is_null(json_object_get(t, "description")));
	assert_string_equal(str(t, "address"), "10.10.10.2/30");	/* host bits kept */
	assert_string_equal(str(t, "tunnelSource"), "20.1.1.2");
	assert_string_equal(str(t, "tunnelDestination"), "20.1.1.1");
	assert_int_equal(num(t, "mtu"), CFG_TUNNEL_MTU_DEFAULT);
	assert_true(json_is_false(json_object_get(t, "shutdown")));
	snprintf(self, sizeof(self), "http://agent.example:9276%s", path);
	assert_string_equal(str(json_object_get(t, "links"), "self"), self);

	ti = config_tunnel_if_by_id(e->cur, str(t, "id"));
	assert_ptr_equal(ti, &e->cur->tunnel_ifs[0]);
	assert_int_equal(e->cur->n_tunnel_ifs, 1);
	assert_string_equal(ti->meta.name, "Tunnel0");
	assert_int_equal(ti->addr, 0x0a0a0a02);
	assert_int_equal(ti->prefix_len, 30);
	assert_int_equal(ti->source, 0x14010102);
	assert_int_equal(ti->destination, 0x14010101);
	assert_int_equal(ti->mtu, 1400);
	assert_false(ti->shutdown);
	assert_int_equal(e->applied, 1);

	j = call(e, "GET", path, NULL, 200);
	assert_true(json_equal(j, t));
	json_decref(j);
	j = call_text(e, "GET", TUNS, "filter=name:Tunnel0", NULL, 200, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
	assert_true(json_equal(json_array_get(json_object_get(j, "items"), 0), t));
	json_decref(j);

	/* PUT: the reference's ip mtu, shut down, a description, a /31 */
	b = put_of(t, "mtu", "1420");
	json_object_set_new(b, "shutdown", json_true());
	json_object_set_new(b, "description", json_string("to router 101"));
	json_object_set_new(b, "address", json_string("10.10.10.0/31"));
	j = callj(e, "PUT", path, b, 200);
	assert_int_equal(num(j, "mtu"), 1420);
	assert_true(json_is_true(json_object_get(j, "shutdown")));
	assert_string_equal(str(j, "description"), "to router 101");
	assert_string_equal(str(j, "address"), "10.10.10.0/31");
	assert_string_not_equal(str(j, "version"), str(t, "version"));
	assert_int_equal(e->cur->tunnel_ifs[0].mtu, 1420);
	assert_true(e->cur->tunnel_ifs[0].shutdown);
	assert_int_equal(e->cur->tunnel_ifs[0].prefix_len, 31);
	/* the old version is stale now */
	refused(e, "PUT", path, put_of(t, "mtu", "1300"), 409, "version", NULL);
	/* fields left out of a PUT take their defaults */
	b = put_of(j, "mtu", NULL);
	json_object_del(b, "shutdown");
	json_decref(j);
	j = callj(e, "PUT", path, b, 200);
	assert_int_equal(num(j, "mtu"), 1400);
	assert_false(e->cur->tunnel_ifs[0].shutdown);
	json_decref(j);

	/* nothing refers to a tunnel interface: it goes */
	assert_null(call(e, "DELETE", path, NULL, 204));
	assert_int_equal(e->cur->n_tunnel_ifs, 0);
	json_decref(call(e, "GET", path, NULL, 404));
	free(path);
	json_decref(t);
}

static void
test_tunnel_refusals(void **state)
{
	struct env *e = *state;
	json_t *b = tun_body("Tunnel0", "10.10.10.2/30", "20.1.1.2", "20.1.1.1");

	/* name: the Linux device the agent creates */
	refused(e, "POST", TUNS, with(b, "name", "\"0tunnel\""), 400, "name", "device name");
	refused(e, "POST", TUNS, with(b, "name", "\"Tunnel 0\""), 400, "name", "(Tunnel0)");
	refused(e, "POST", TUNS, with(b, "name", "\"Tunnel0/1\""), 400, "name", NULL);
	refused(e, "POST", TUNS, with(b, "name", "\"Tunnel:0\""), 400, "name", NULL);
	refused(e, "POST", TUNS, with(b, "name", "\"Tunnel1234567890\""), 400, "name",
		"up to 14");	/* 16 characters; Linux takes 15 */
	refused(e, "POST", TUNS, with(b, "name", "\"lo\""), 400, "name", "host");
	refused(e, "POST", TUNS, with(b, "name", "\"all\""), 400, "name", NULL);
	refused(e, "POST", TUNS, with(b, "name", "\"vpn0\""), 400, "name", "TUN device");
	refused(e, "POST", TUNS, with(b, "name", "\"\""), 400, "name", "empty");
	refused(e, "POST", TUNS, with(b, "name", NULL), 400, "name", "required");
	/* address */
	refused(e, "POST", TUNS, with(b, "address", NULL), 400, "address", "required");
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10.2\""), 400, "address",
		"A.B.C.D/N");
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10.2/0\""), 400, "address",
		"1 to 32");
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10.2/33\""), 400, "address",
		"1 to 32");
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10.2/030\""), 400, "address", NULL);
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10/30\""), 400, "address", NULL);
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10.0/30\""), 400, "address",
		"network address");
	refused(e, "POST", TUNS, with(b, "address", "\"10.10.10.3/30\""), 400, "address",
		"broadcast address");
	refused(e, "POST", TUNS, with(b, "address", "\"127.0.0.2/8\""), 400, "address",
		"unicast");
	refused(e, "POST", TUNS, with(b, "address", "\"224.0.0.5/30\""), 400, "address", NULL);
	refused(e, "POST", TUNS, with(b, "address", "30"), 400, "address", "string");
	/* the two ends */
	refused(e, "POST", TUNS, with(b, "tunnelSource", NULL), 400, "tunnelSource", "required");
	refused(e, "POST", TUNS, with(b, "tunnelSource", "\"Ethernet0/0\""), 400, "tunnelSource",
		"IPv4");
	refused(e, "POST", TUNS, with(b, "tunnelSource", "\"0.0.0.0\""), 400, "tunnelSource",
		"unicast");
	refused(e, "POST", TUNS, with(b, "tunnelDestination", NULL), 400, "tunnelDestination",
		"required");
	refused(e, "POST", TUNS, with(b, "tunnelDestination", "\"255.255.255.255\""), 400,
		"tunnelDestination", "unicast");
	refused(e, "POST", TUNS, with(b, "tunnelDestination", "\"20.1.1.2\""), 400,
		"tunnelDestination", "tunnelSource too");
	refused(e, "POST", TUNS, with(b, "tunnelDestination", "\"10.10.10.1\""), 400,
		"tunnelDestination", "recursive routing");
	/* mtu, shutdown, the rest */
	refused(e, "POST", TUNS, with(b, "mtu", "575"), 400, "mtu", "between 576 and 1476");
	refused(e, "POST", TUNS, with(b, "mtu", "1477"), 400, "mtu", NULL);
	refused(e, "POST", TUNS, with(b, "mtu", "\"1400\""), 400, "mtu", "integer");
	refused(e, "POST", TUNS, with(b, "shutdown", "\"no\""), 400, "shutdown", "true or false");
	refused(e, "POST", TUNS, with(b, "tunnelKey", "5"), 400, "tunnelKey", "unknown");
	refused(e, "POST", TUNS, with(b, "type", "\"cryptomap\""), 400, "type", NULL);
	assert_int_equal(e->cur->n_tunnel_ifs, 0);
	assert_int_equal(e->applied, 0);

	/* the edges that are taken: /32, /31, 576 and 1476 */
	json_decref(callj(e, "POST", TUNS, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", "t32",
						     "address", "10.9.9.9/32", "tunnelSource",
						     "20.1.1.2", "tunnelDestination", "20.1.9.1",
						     "mtu", 576), 200));
	json_decref(callj(e, "POST", TUNS, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name",
						     "gre.to-101_b", "address", "10.9.8.1/31",
						     "tunnelSource", "20.1.1.2", "tunnelDestination",
						     "20.1.8.1", "mtu", 1476), 200));
	assert_int_equal(e->cur->n_tunnel_ifs, 2);
	json_decref(b);
}

static void
test_tunnel_conflicts(void **state)
{
	struct env *e = *state;
	json_t *t0 = callj(e, "POST", TUNS, tun_body("Tunnel0", "10.10.10.2/30", "20.1.1.2",
						     "20.1.1.1"), 200), *t1, *j;
	char *path0 = item_path(TUNS, t0), *path1;

	/* the same two gateways: GRE without keys cannot tell the tunnels apart */
	refused(e, "POST", TUNS, tun_body("Tunnel1", "10.10.11.2/30", "20.1.1.2", "20.1.1.1"),
		409, "tunnelDestination", "\"Tunnel0\" runs from 20.1.1.2 to 20.1.1.1");
	/* overlapping subnets, either way round */
	refused(e, "POST", TUNS, tun_body("Tunnel1", "10.10.10.1/30", "20.1.1.2", "20.1.1.3"),
		409, "address", "\"Tunnel0\" (10.10.10.2/30)");
	refused(e, "POST", TUNS, tun_body("Tunnel1", "10.10.0.1/16", "20.1.1.2", "20.1.1.3"),
		409, "address", "Tunnel0");
	refused(e, "POST", TUNS, tun_body("Tunnel1", "10.10.10.1/32", "20.1.1.2", "20.1.1.3"),
		409, "address", NULL);
	/* the name, as in every collection */
	j = callj(e, "POST", TUNS, tun_body("Tunnel0", "10.10.11.2/30", "20.1.1.2", "20.1.1.3"),
		  409);
	assert_string_equal(err_field(j), "name");
	json_decref(j);
	/* the reverse direction is another tunnel; next to it is no overlap */
	t1 = callj(e, "POST", TUNS, tun_body("Tunnel1", "10.10.10.5/30", "20.1.1.1", "20.1.1.2"),
		   200);
	path1 = item_path(TUNS, t1);
	/* a PUT is not in conflict with itself, but is with the others */
	json_decref(callj(e, "PUT", path0, put_of(t0, "mtu", "1420"), 200));
	refused(e, "PUT", path1, put_of(t1, "address", "\"10.10.10.1/29\""), 409, "address",
		"Tunnel0");
	j = put_of(t1, "tunnelSource", "\"20.1.1.2\"");
	json_object_set_new(j, "tunnelDestination", json_string("20.1.1.1"));
	refused(e, "PUT", path1, j, 409, "tunnelDestination", "Tunnel0");
	assert_int_equal(e->cur->n_tunnel_ifs, 2);
	assert_int_equal(e->cur->tunnel_ifs[1].source, 0x14010101);
	free(path0);
	free(path1);
	json_decref(t0);
	json_decref(t1);
}

/* The agent's TUN device (vpn-agent --tun-name) is not a tunnel interface. */
static void
test_tunnel_tun_name(void **state)
{
	struct env *e = *state;
	json_t *b = tun_body("gre-dp", "10.10.10.2/30", "20.1.1.2", "20.1.1.1");

	api_set_tun_name("gre-dp");
	refused(e, "POST", TUNS, json_deep_copy(b), 400, "name", "\"gre-dp\" is the agent's own");
	json_decref(callj(e, "POST", TUNS, tun_body("vpn0", "10.10.20.2/30", "20.1.1.2",
						    "20.1.2.1"), 200));
	api_set_tun_name("vpn0");	/* the default again: gre-dp is free */
	json_decref(callj(e, "POST", TUNS, b, 200));
	assert_int_equal(e->cur->n_tunnel_ifs, 2);
	assert_string_equal(e->cur->tunnel_ifs[1].meta.name, "gre-dp");
}

/* ---- the operational view ----------------------------------------------- */

static void
fill_tunnel_ifs(struct api_rows *rows)
{
	api_rows_begin_item(rows);
	api_rows_str(rows, "name", "Tunnel0");
	api_rows_str(rows, "state", "up");
	api_rows_uint(rows, "packetsIn", 12);
	api_rows_uint(rows, "bytesOut", 1500);
	api_rows_end_item(rows);
	api_rows_begin_item(rows);
	api_rows_str(rows, "name", "Tunnel1");
	api_rows_str(rows, "state", "administratively down");
	/* no end: the API closes it */
}

static void
test_tunnel_view(void **state)
{
	struct env *e = *state;
	struct api_hooks hooks = api_env_hooks(e);
	struct api_req req = { .method = "GET", .path = TUN_STATUS, .host = "h" };
	struct api_resp resp;
	json_t *j, *items;
	struct api *bare;

	j = call(e, "GET", TUN_STATUS, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	assert_int_equal(e->tunnel_if_calls, 1);
	json_decref(j);
	e->fill_tunnel_ifs = fill_tunnel_ifs;
	j = call(e, "GET", TUN_STATUS, NULL, 200);
	items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(str(json_array_get(items, 0), "name"), "Tunnel0");
	assert_string_equal(str(json_array_get(items, 0), "state"), "up");
	assert_int_equal(num(json_array_get(items, 0), "packetsIn"), 12);
	assert_string_equal(str(json_array_get(items, 0), "type"), "tunnelinterfacestatus");
	assert_string_equal(str(json_array_get(items, 1), "state"), "administratively down");
	assert_string_equal(str(json_array_get(items, 1), "type"), "tunnelinterfacestatus");
	assert_int_equal(e->view_calls, 0);	/* not a vpn_view */
	json_decref(j);

	/* an agent without the hook: no items */
	hooks.tunnel_if_view = NULL;
	bare = api_core_new(e->dir, "127.0.0.1:9276", &hooks);
	api_dispatch(bare, &req, &resp);
	assert_int_equal(resp.status, 200);
	j = json_loads(resp.body, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	api_resp_free(&resp);
	api_free(bare);
}

/* ---- persistence -------------------------------------------------------- */

/* Through the journal, a restart (replay and fold into config.json), a
 * change after it, and another restart. */
static void
test_gre_persist_round_trip(void **state)
{
	struct env *e = *state;
	json_t *xs = xs_new(e), *a, *b, *t;
	struct config *loaded = NULL;
	char *path;

	json_decref(callj(e, "POST", MAPS, map_body(xs,
		"[{\"protocol\": \"gre\", \"source\": \"20.1.1.2\", \"destination\": \"20.1.1.1\"},"
		" {\"protocol\": \"udp\", \"source\": \"10.1.0.0/16\", \"sourcePort\": 500,"
		"  \"destination\": \"10.2.0.0/16\", \"destinationPort\": 4500},"
		" {\"protocol\": 89, \"source\": \"10.1.0.0/16\", \"destination\": \"10.2.0.0/16\"}]"),
			  200));
	t = callj(e, "POST", TUNS, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "name",
					     "Tunnel0", "description", "to 101", "address",
					     "10.10.10.2/30", "tunnelSource", "20.1.1.2",
					     "tunnelDestination", "20.1.1.1", "mtu", 1420, "shutdown",
					     1), 200);

	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	a = api_config_encode(e->cur);
	b = api_config_encode(loaded);
	assert_true(json_equal(a, b));
	assert_non_null(json_object_get(b, "tunnelinterfaces"));
	json_decref(a);
	json_decref(b);
	assert_int_equal(loaded->n_tunnel_ifs, 1);
	assert_string_equal(loaded->tunnel_ifs[0].meta.name, "Tunnel0");
	assert_string_equal(loaded->tunnel_ifs[0].meta.description, "to 101");
	assert_int_equal(loaded->tunnel_ifs[0].addr, 0x0a0a0a02);
	assert_int_equal(loaded->tunnel_ifs[0].prefix_len, 30);
	assert_int_equal(loaded->tunnel_ifs[0].mtu, 1420);
	assert_true(loaded->tunnel_ifs[0].shutdown);
	assert_int_equal(loaded->crypto_maps[0].match[0].proto, 47);
	assert_int_equal(loaded->crypto_maps[0].match[1].src_port, 500);
	assert_int_equal(loaded->crypto_maps[0].match[1].dst_port, 4500);
	assert_int_equal(loaded->crypto_maps[0].match[2].proto, 89);
	assert_true(loaded->crypto_maps[0].force_encap);
	assert_int_equal(loaded->transform_sets[0].mode, CFG_ESP_TRANSPORT);

	/* the restarted agent: a change, another restart */
	config_free(e->cur);
	e->cur = loaded;
	path = item_path(TUNS, t);
	json_decref(t);
	t = call(e, "GET", path, NULL, 200);
	json_decref(callj(e, "PUT", path, put_of(t, "shutdown", "false"), 200));
	loaded = NULL;
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	assert_false(loaded->tunnel_ifs[0].shutdown);
	assert_int_equal(loaded->tunnel_ifs[0].mtu, 1420);
	config_free(loaded);
	/* deleted, it stays deleted */
	assert_null(call(e, "DELETE", path, NULL, 204));
	loaded = NULL;
	assert_int_equal(api_config_load(e->dir, &loaded), 0);
	assert_int_equal(loaded->n_tunnel_ifs, 0);
	config_free(loaded);
	free(path);
	json_decref(t);
	json_decref(xs);
}

#define TUN(id, name, addr, src, dst) "{\"id\": \"" id "\", \"version\": \"v1\", \"name\": " \
	"\"" name "\", \"address\": \"" addr "\", \"tunnelSource\": \"" src "\", " \
	"\"tunnelDestination\": \"" dst "\"}"
#define ID1 "11111111-1111-4111-8111-111111111111"
#define ID2 "22222222-2222-4222-8222-222222222222"

/* A config.json the API would refuse does not start the agent. */
static void
test_broken_gre_configs_refused(void **state)
{
	static const char *const broken[] = {
		"{\"formatVersion\": 1, \"tunnelinterfaces\": [" TUN(ID1, "Tunnel0", "10.0.0.1/30",
		"20.1.1.2", "20.1.1.1") ", " TUN(ID2, "Tunnel1", "10.0.0.5/30", "20.1.1.2",
		"20.1.1.1") "]}",
		"{\"formatVersion\": 1, \"tunnelinterfaces\": [" TUN(ID1, "Tunnel0", "10.0.0.1/30",
		"20.1.1.2", "20.1.1.1") ", " TUN(ID2, "Tunnel1", "10.0.0.2/24", "20.1.1.2",
		"20.1.1.3") "]}",
		"{\"formatVersion\": 1, \"tunnelinterfaces\": [" TUN(ID1, "lo", "10.0.0.1/30",
		"20.1.1.2", "20.1.1.1") "]}",
		"{\"formatVersion\": 1, \"tunnelinterfaces\": [" TUN(ID1, "Tunnel0", "10.0.0.0/30",
		"20.1.1.2", "20.1.1.1") "]}",
		"{\"formatVersion\": 1, \"tunnelinterfaces\": {}}",
	};
	struct env *e = *state;
	struct config *cfg;

	for (size_t i = 0; i < ARRAY_LEN(broken); i++)
		assert_null(load_config_text(e, broken[i], -1));
	cfg = load_config_text(e, "{\"formatVersion\": 1, \"tunnelinterfaces\": [" TUN(ID1,
			       "Tunnel0", "10.0.0.1/30", "20.1.1.2", "20.1.1.1") ", " TUN(ID2,
			       "Tunnel1", "10.0.0.5/30", "20.1.1.2", "20.1.1.3") "]}", 0);
	assert_int_equal(cfg->n_tunnel_ifs, 2);
	assert_int_equal(cfg->tunnel_ifs[1].mtu, CFG_TUNNEL_MTU_DEFAULT);
	config_free(cfg);
	/* a config.json of an agent before tunnel interfaces: none */
	cfg = load_config_text(e, "{\"formatVersion\": 1, \"networks\": []}", 0);
	assert_int_equal(cfg->n_tunnel_ifs, 0);
	config_free(cfg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_match_protocols),
		T(test_match_refusals),
		T(test_force_encapsulation),
		T(test_tunnel_routes),
		T(test_tunnel_crud),
		T(test_tunnel_refusals),
		T(test_tunnel_conflicts),
		T(test_tunnel_tun_name),
		T(test_tunnel_view),
		T(test_gre_persist_round_trip),
		T(test_broken_gre_configs_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
