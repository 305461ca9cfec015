#!/usr/bin/env python3
"""The alerting rules, unchanged (deploy/prometheus/vpn-agent-alerts.yml), in
a real Prometheus scraping the demo's three agents (tools/demo.py imported
as a module): before anything happens no alert fires or is pending (the
standby gateway B2 only answers: vpnagent_tunnel_initiator 0 keeps its
tunnel's down state out of VpnAgentTunnelDown); when the primary site B gateway is
frozen, Prometheus's /api/v1/alerts shows VpnAgentDpdPeerDead for that peer
and VpnAgentCryptoMapFailover for site A's crypto map (reason dpd, the
annotation naming the backup peer now in use), and nothing else fires.

Prometheus runs in the demo's management namespace (where the agents'
/metrics listen), scrapes and evaluates every second, keeps its storage in
the test's folder and is stopped by its pid."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools"))
import demo as demo_mod  # noqa: E402
import harness  # noqa: E402
from harness import BIN_DIR, ROOT, TestFailure, check, info, run, tail, test, wait_for  # noqa: E402

RULES = os.path.join(ROOT, "deploy", "prometheus", "vpn-agent-alerts.yml")
PROM_LISTEN = demo_mod.COLLECTOR + ":9090"     # the management namespace's loopback address
PREFIX = "vpndemo-p%d-" % os.getpid()
MAP = "SITE-B-10 10"                            # "<crypto map name> <sequence>", as imported


class DemoInTest:
    """The demo for the harness's Env: stop() cleans up and reports problems."""

    def __init__(self, env):
        self.out = open(os.path.join(env.dir, "demo.out"), "w")
        self.demo = demo_mod.Demo(bin_dir=BIN_DIR, out_dir=os.path.join(env.dir, "demo"),
                                  prefix=PREFIX, out=self.out)
        env.add(self)

    def stop(self):
        problems = self.demo.stop()
        self.out.close()
        if problems:
            raise TestFailure("demo cleanup: %s" % "; ".join(problems))


def prometheus_config(path, demo):
    targets = ", ".join('"%s:%d"' % (s.mgmt_local, demo_mod.METRICS_PORT)
                        for s in demo.sites.values())
    with open(path, "w") as f:
        f.write("""# test_prometheus_alerts.py: the demo's agents, every second
global:
  scrape_interval: 1s
  evaluation_interval: 1s
  scrape_timeout: 900ms
rule_files:
  - %s
scrape_configs:
  - job_name: vpn-agent
    static_configs:
      - targets: [%s]
""" % (RULES, targets))


def prom_get(demo, path):
    p = demo.run_in("mgmt", ["curl", "-sf", "--max-time", "5", "http://%s%s" % (PROM_LISTEN,
                                                                              path)],
                    check=False)
    if p.returncode != 0:
        return None
    body = json.loads(p.stdout)
    check(body.get("status") == "success", "Prometheus %s: %s" % (path, body))
    return body["data"]


def alerts(demo):
    """[(name, state, labels, annotations)] from /api/v1/alerts."""
    data = prom_get(demo, "/api/v1/alerts") or {"alerts": []}
    return [(a["labels"]["alertname"], a["state"], a["labels"], a["annotations"])
            for a in data["alerts"]]


def show(al):
    return "\n".join("  %s %s %s" % (n, s, json.dumps(l, sort_keys=True)) for n, s, l, _ in al)


@test
def dpd_alerts_fire_in_prometheus(env):
    check(os.geteuid() == 0, "needs root (network namespaces)")
    d = DemoInTest(env).demo
    d.start()
    a, b1, b2 = d.sites["a"], d.sites["b1"], d.sites["b2"]
    inst = {k: "%s:%d" % (s.mgmt_local, demo_mod.METRICS_PORT) for k, s in d.sites.items()}

    cfg = os.path.join(env.dir, "prometheus.yml")
    prometheus_config(cfg, d)
    storage = os.path.join(env.dir, "prometheus-data")
    prom = env.add(harness.Proc("prometheus", d.topo.ns_argv(d.ns("mgmt"), [
        "prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + storage,
        "--web.listen-address=" + PROM_LISTEN, "--log.level=warn"]), env.dir))

    def ready():
        check(prom.alive(), "prometheus exited:\n" + tail(prom.output(), 20))
        return prom_get(d, "/api/v1/status/runtimeinfo") is not None
    wait_for(ready, 30, "Prometheus's HTTP API", step=0.2)

    def scraped():
        data = prom_get(d, "/api/v1/query?query=up%7Bjob%3D%22vpn-agent%22%7D")
        return data and sorted(r["metric"]["instance"] for r in data["result"]
                               if r["value"][1] == "1") == sorted(inst.values())
    wait_for(scraped, 20, "up == 1 for the three agents", step=0.2)

    # The rules are loaded (unchanged) and have been evaluated over the
    # scrapes: the standby gateway B2 has no tunnel, but its map only
    # answers (initiator 0), so nothing may be pending and nothing may fire.
    groups = prom_get(d, "/api/v1/rules")["groups"]
    names = {r["name"] for g in groups for r in g["rules"]}
    check({"VpnAgentDpdPeerDead", "VpnAgentCryptoMapFailover"} <= names,
          "rules loaded: %s" % sorted(names))

    def standby_seen():
        q = "/api/v1/query?query=vpnagent_tunnel_initiator%7Bjob%3D%22vpn-agent%22%7D"
        data = prom_get(d, q)
        return data and {(r["metric"]["instance"], r["value"][1]) for r in data["result"]}
    seen = wait_for(standby_seen, 20, "vpnagent_tunnel_initiator scraped", step=0.5)
    check((inst["b2"], "0") in seen and (inst["a"], "1") in seen,
          "initiator gauges: %s" % sorted(seen))
    time.sleep(3)  # a few more evaluations over live series
    before = alerts(d)
    check(not before, "alerts before the freeze:\n" + show(before))

    # Freeze the primary B gateway: site A's DPD declares it dead (~20 s)
    # and its crypto map fails over to B2.
    t0 = time.monotonic()
    d.freeze_primary()
    want = {
        ("VpnAgentDpdPeerDead", "firing"): {"job": "vpn-agent", "instance": inst["a"],
                                             "peer": b1.outside, "severity": "warning"},
        ("VpnAgentCryptoMapFailover", "firing"): {"job": "vpn-agent", "instance": inst["a"],
                                                   "map": MAP, "reason": "dpd",
                                                   "severity": "warning"},
    }

    def fired():
        al = alerts(d)
        got = {(n, s): l for n, s, l, _ in al if s == "firing"}
        return all(got.get(k) == dict(v, alertname=k[0]) for k, v in want.items()) and al
    after = wait_for(fired, 60, "VpnAgentDpdPeerDead and VpnAgentCryptoMapFailover firing "
                     "for site A (peer %s, map %s)" % (b1.outside, MAP), step=0.5)
    took = time.monotonic() - t0
    firing = [x for x in after if x[1] == "firing"]
    check(len(firing) == 2, "firing besides the two expected:\n" + show(firing))
    failover = [ann for n, s, l, ann in firing if n == "VpnAgentCryptoMapFailover"][0]
    check("it now uses peer %s" % b2.outside in " ".join(failover["description"].split()),
          "the failover annotation does not name the backup peer: %r" % failover)
    check(d.tunnel(b2.outside)["status"] == "UP", "site A's tunnel to B2 is not up")
    info("before the freeze: nothing firing or pending (B2 answer-only); %.1f s after freezing "
         "B1: firing %s" % (took,
                        ", ".join("%s{%s}" % (n, ",".join("%s=%s" % kv for kv in sorted(l.items())
                                                       if kv[0] in ("peer", "map", "reason")))
                                  for n, _, l, _ in firing)))
    prom.stop()


if __name__ == "__main__":
    run()
