#!/usr/bin/env python3
"""The JSON API over real HTTP and vpnctl against a running agent (R-7, R-8,
R-12): token auth, 4xx naming the field, stale versions, filters, secrets
never returned, and vpnctl's output and exit codes."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netns  # noqa: E402
from harness import BIN_DIR, Certs, check, http, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402


def vpnctl(agent, *args, token_file=None, api=None, stdin=None):
    argv = [os.path.join(BIN_DIR, "vpnctl"),
            "--api", api or "http://127.0.0.1:%d" % agent.api_port,
            "--token-file", token_file or os.path.join(agent.state, "api-token")] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, input=stdin, timeout=30)


@test
def api_auth(env):
    agent = env.agent()
    st, _ = http("GET", agent.base + "/object/networks")
    check(st == 401, "no token -> %s" % st)
    st, _ = agent.api("GET", "/object/networks", token="0" * 64)
    check(st == 401, "wrong token -> %s" % st)
    mode = os.stat(os.path.join(agent.state, "api-token")).st_mode & 0o777
    check(mode == 0o600, "api-token mode %o" % mode)


@test
def api_validation_names_the_field(env):
    agent = env.agent()
    cases = [
        ("/object/networks", {"name": "n", "subType": "BOGUS", "value": "1.2.3.4"}, "subType"),
        ("/object/networks", {"name": "n", "subType": "HOST", "value": "300.1.1.1"}, "value"),
        ("/object/networks", {"subType": "HOST", "value": "1.2.3.4"}, "name"),
        ("/object/networks", {"name": "n", "subType": "HOST", "value": "1.2.3.4", "colour": 1},
         "colour"),
        ("/object/externalcacertificates", {"name": "ca", "cert": "not a pem"}, "cert"),
        ("/devicesettings/default/telemetrystreamingconfig",
         {"name": "t", "connectionMode": "DIAL_OUT", "port": 70000}, "port"),
    ]
    for path, body, field in cases:
        st, resp = agent.api("POST", path, body)
        check(400 <= st < 500, "POST %s %s -> %s" % (path, body, st))
        err = resp["error"] if isinstance(resp, dict) else {}
        check(err.get("field", "").split(".")[0] == field,
              "POST %s %s: error %r does not name %s" % (path, body, resp, field))
    st, resp = agent.api("POST", "/object/networks", "{not json")
    check(st == 400, "bad JSON -> %s %s" % (st, resp))
    # Nothing of the refused requests reached the config.
    check(agent.ok("GET", "/object/networks")["items"] == [], "a refused object was stored")


@test
def api_versions_filter_and_secrets(env):
    agent = env.agent()
    a = agent.ok("POST", "/object/networks", {"name": "a", "subType": "HOST", "value": "10.0.0.1"})
    agent.ok("POST", "/object/networks", {"name": "b", "subType": "FQDN", "value": "c.example"})
    check(a["links"]["self"].endswith("/api/v1/object/networks/" + a["id"]), "links %r" % a)
    items = agent.ok("GET", "/object/networks?filter=name:b")["items"]
    check([i["name"] for i in items] == ["b"], "filter gave %r" % items)
    a2 = dict(a, value="10.0.0.2")
    upd = agent.ok("PUT", "/object/networks/" + a["id"], a2)
    check(upd["version"] != a["version"] and upd["value"] == "10.0.0.2", "update %r" % upd)
    st, resp = agent.api("PUT", "/object/networks/" + a["id"], dict(a, value="10.0.0.3"))
    check(st == 409, "stale version -> %s %s" % (st, resp))
    st, _ = agent.api("POST", "/object/networks", {"name": "a", "subType": "HOST",
                                                   "value": "10.0.0.9"})
    check(st == 409, "duplicate name -> %s" % st)
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    ic = agent.ok("POST", "/object/internalcertificates",
                  {"name": "c", "cert": certs.read("client.crt"),
                   "privateKey": certs.read("client.key")})
    for body in (ic, agent.ok("GET", "/object/internalcertificates/" + ic["id"]),
                 agent.ok("GET", "/object/internalcertificates")):
        check("privateKey" not in json.dumps(body) and "PRIVATE KEY" not in json.dumps(body),
              "private key returned: %s" % body)
    st, resp = agent.api("POST", "/object/internalcertificates",
                         {"name": "d", "cert": certs.read("client.crt"),
                          "privateKey": certs.read("server.key")})
    check(st == 400, "a key that does not match the cert -> %s %s" % (st, resp))


@test
def vpnctl_commands(env):
    agent = env.agent()
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    coll = env.collector(certs.dir, interval=2)
    agent.configure_telemetry(coll.port, certs.read("client.crt"), certs.read("client.key"),
                              certs.read("ca.crt"), min_interval=1)
    wait_for(lambda: agent.status()["state"] == "CONNECTED", 10, "CONNECTED")
    p = vpnctl(agent, "show", "telemetry", "status")
    check(p.returncode == 0 and "CONNECTED" in p.stdout, "show telemetry status: %r" % (p,))
    p = vpnctl(agent, "--json", "show", "telemetry", "status")
    check(p.returncode == 0 and json.loads(p.stdout)["items"][0]["state"] == "CONNECTED",
          "--json: %r" % (p,))
    p = vpnctl(agent, "get", "/object/networks?filter=name:collector")
    check(p.returncode == 0 and json.loads(p.stdout)["items"][0]["value"] == "127.0.0.1",
          "get: %r" % (p,))
    p = vpnctl(agent, "post", "/object/networks", "@-",
               stdin='{"name":"x","subType":"HOST","value":"999.1.1.1"}')
    check(p.returncode == 1 and "value" in p.stderr, "bad post: %r" % (p,))
    bad_token = os.path.join(env.dir, "bad-token")
    with open(bad_token, "w") as f:
        f.write("f" * 64 + "\n")
    p = vpnctl(agent, "get", "/object/networks", token_file=bad_token)
    check(p.returncode != 0 and "token" in p.stderr, "wrong token: %r" % (p,))
    p = vpnctl(agent, "get", "/object/networks", token_file=os.path.join(env.dir, "missing"))
    check(p.returncode == 4 and "token file" in p.stderr, "missing token file: %r" % (p,))
    p = vpnctl(agent, "get", "/object/networks", api="http://127.0.0.1:1")
    check(p.returncode == 3 and "cannot reach" in p.stderr, "agent down: %r" % (p,))
    p = vpnctl(agent, "frobnicate")
    check(p.returncode == 2 and "usage" in (p.stderr + p.stdout), "unknown command: %r" % (p,))


@test
def serves_where_loopback_is_the_only_address(env):
    """A namespace or container with nothing but lo: the API and /metrics
    still listen on 127.0.0.1 (libevent's own bind asks getaddrinfo for
    AI_ADDRCONFIG, which hides IPv4 when its only address is loopback)."""
    topo = netns.NetTopo(env)
    ns = topo.add_ns("loonly")
    addrs = topo.run(ns, ["ip", "-o", "addr", "show"]).stdout
    agent = env.add(NsAgent(env, topo, ns, "127.0.0.1"))
    text = agent.metrics_text()
    st, _ = agent.api("GET", "/object/networks")
    info("namespace with %d addresses (all on lo): API %s, /metrics %d bytes"
         % (len(addrs.splitlines()), st, len(text)))
    check(all(" lo " in l for l in addrs.splitlines()), "not a loopback-only namespace: %s" % addrs)
    check(st == 200 and "vpnagent_ike_dropped_messages_total" in text,
          "API %s, /metrics %r" % (st, text[:200]))


if __name__ == "__main__":
    run()
