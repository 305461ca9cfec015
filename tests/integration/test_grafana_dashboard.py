#!/usr/bin/env python3
"""The Grafana dashboard deploy/grafana/vpn-agent.json: its structure as
Grafana's current schema wants it (schemaVersion 39 or later, rows, unique
panel ids, gridPos on a 24-column grid without overlaps, the datasource
variable on every panel and target, template variables that exist), every
metric and label it uses one the agent exports (agent/metrics/catalog.c);
then every panel's queries run in a real Prometheus scraping two agents
with a tunnel up between them, the template variables filled in the way
Grafana would (their own label_values queries answered by that Prometheus),
and each must return series.

Prometheus runs in a management namespace linked to both agents' namespaces
(their /metrics listen on those links), scrapes every second, keeps its
storage in the test's folder and is stopped by its pid."""

import json
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import netns  # noqa: E402
from harness import ROOT, check, free_port, info, run, tail, test, wait_for  # noqa: E402
from nsagent import NsAgent, ns_curl  # noqa: E402

DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "vpn-agent.json")
CATALOG = os.path.join(ROOT, "agent", "metrics", "catalog.c")
DS = {"type": "prometheus", "uid": "${datasource}"}
PANEL_TYPES = {"timeseries", "stat", "table"}
REQUIRED_VARS = {"datasource", "job", "instance", "map", "peer"}
# Grafana's own variables, and what the live test puts in their place.
BUILTINS = {"__rate_interval": "30s", "__interval": "15s", "__range": "5m",
            "__interval_ms": "15000", "__range_s": "300", "__range_ms": "300000"}
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series
# Operators' questions the dashboard must answer: a metric each.
REQUIRED_METRICS = {
    "vpnagent_tunnel_up", "vpnagent_tunnel_state_transitions_total",
    "vpnagent_dpd_r_u_there_sent_total", "vpnagent_dpd_r_u_there_ack_received_total",
    "vpnagent_dpd_peer_dead_events_total", "vpnagent_failover_failovers_total",
    "vpnagent_ipsec_sa_encaps_bytes_total", "vpnagent_ipsec_sa_decaps_bytes_total",
    "vpnagent_ipsec_sa_dropped_packets_total", "vpnagent_ike_dropped_messages_total",
    "vpnagent_telemetry_connected", "vpnagent_telemetry_reconnects_total",
    "vpnagent_telemetry_errors_total", "vpnagent_cpu_overall_utilisation_ratio",
    "vpnagent_memory_available_bytes", "vpnagent_interface_receive_bytes_total",
    "vpnagent_interface_transmit_bytes_total", "vpnagent_interface_receive_errors_total",
    "vpnagent_interface_up",
}
VAR_REF = re.compile(r"\$(\w+)|\$\{(\w+)(?::[\w]+)?\}|\[\[(\w+)\]\]")
PROMQL_WORDS = {"sum", "by", "rate", "increase", "count", "bool", "on", "without", "avg", "max",
                "min", "ignoring", "group_left", "group_right", "and", "or", "unless"}

PSK = "grafana-dashboard-psk-0123456789"
A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_NET, B_NET = "10.203.1.0/24", "10.203.2.0/24"
A_IN, B_IN = "10.203.1.1", "10.203.2.1"


def load():
    with open(DASHBOARD) as f:
        return json.load(f)


def all_panels(dash):
    """Every panel, rows first-level and the panels of collapsed rows."""
    out = []
    for p in dash["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def catalog_parse():
    """{prometheus name: set of labels} from the catalogue rows."""
    with open(CATALOG) as f:
        text = f.read()
    row = re.compile(r'\[M_\w+\]\s*=\s*\{\s*"[^"]*",\s*"[^"]*",\s*"([a-z_:][a-z0-9_:]*)",'
                     r'\s*[GC],\s*(?:"(?:[^"\\]|\\.)*"\s*)+,\s*\{([^}]*)\}')
    return {m.group(1): set(re.findall(r'"([^"]+)"', m.group(2))) for m in row.finditer(text)}


def metric_names(expr):
    """Metric names of a PromQL expression: identifiers that are not
    functions, keywords or label names (in a by (...) or a {...})."""
    stripped = re.sub(r'\{[^}]*\}', "{}", expr)
    stripped = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", stripped)
    stripped = re.sub(r'\[[^\]]*\]|"[^"]*"', "", stripped)
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", stripped):
        if m.group(2) or m.group(1) in PROMQL_WORDS or re.match(r"^\d", m.group(1)):
            continue
        names.add(m.group(1))
    return names


def selectors(expr):
    """[(metric, [(label, op, value)])] of every metric{...} in expr."""
    return [(m.group(1), re.findall(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"', m.group(2)))
            for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}", expr)]


def var_refs(text):
    return {next(g for g in m.groups() if g) for m in VAR_REF.finditer(text)}


def overlaps(a, b):
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and
            a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])


# ---- the file -----------------------------------------------------------------

@test
def dashboard_structure(env):
    dash = load()
    check(isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] >= 39,
          "schemaVersion %r (want 39 or later)" % dash.get("schemaVersion"))
    check(dash.get("uid") and dash.get("title"), "uid %r title %r" % (dash.get("uid"),
                                                                    dash.get("title")))
    panels = all_panels(dash)
    ids = [p.get("id") for p in panels]
    check(all(isinstance(i, int) for i in ids), "panel ids %s" % ids)
    check(len(ids) == len(set(ids)), "duplicate panel ids: %s" % sorted(
        i for i in ids if ids.count(i) > 1))
    rows = [p for p in panels if p["type"] == "row"]
    check(len(rows) >= 4, "%d rows: the panels are to be grouped" % len(rows))
    check(dash["panels"][0]["type"] == "row", "the first panel is not a row")
    for p in panels:
        g = p.get("gridPos", {})
        check(all(isinstance(g.get(k), int) for k in "hwxy") and g["w"] > 0 and g["h"] > 0 and
              g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["y"] >= 0,
              "panel %s %r: gridPos %r" % (p["id"], p.get("title"), g))
    for i, a in enumerate(panels):
        for b in panels[i + 1:]:
            check(not overlaps(a["gridPos"], b["gridPos"]), "panels %r and %r overlap"
                  % (a.get("title"), b.get("title")))

    variables = {v["name"]: v for v in dash["templating"]["list"]}
    check(REQUIRED_VARS <= set(variables), "template variables %s" % sorted(variables))
    dsv = variables["datasource"]
    check(dsv["type"] == "datasource" and dsv["query"] == "prometheus",
          "the datasource variable: %r" % dsv)
    for name, v in variables.items():
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        check(v.get("datasource") == DS, "variable %s: datasource %r" % (name, v.get("datasource")))
        check(re.match(r"label_values\(", q), "variable %s: query %r" % (name, q))
        for ref in var_refs(q):
            check(ref in variables, "variable %s's query uses $%s, not defined" % (name, ref))
    for name in ("map", "peer"):
        check(variables[name]["type"] == "query", "variable %s is %s" % (name,
                                                                     variables[name]["type"]))

    cat = catalog_parse()
    check(len(cat) >= 60 and cat.get("vpnagent_tunnel_up") == {"peer", "map"},
          "catalog.c parsed to %d rows: the parser no longer matches it" % len(cat))
    used, ntargets, counts = set(), 0, {}
    for p in panels:
        counts[p["type"]] = counts.get(p["type"], 0) + 1
        if p["type"] == "row":
            continue
        title = "panel %s %r" % (p["id"], p.get("title"))
        check(p["type"] in PANEL_TYPES, "%s: type %s" % (title, p["type"]))
        check(p.get("datasource") == DS, "%s: datasource %r" % (title, p.get("datasource")))
        targets = p.get("targets") or []
        check(targets, "%s: no targets" % title)
        refs = [t.get("refId") for t in targets]
        check(all(refs) and len(refs) == len(set(refs)), "%s: refIds %s" % (title, refs))
        for t in targets:
            expr = t.get("expr", "")
            check(expr.strip(), "%s %s: no expr" % (title, t.get("refId")))
            check(t.get("datasource") == DS, "%s %s: datasource %r" % (title, t["refId"],
                                                                      t.get("datasource")))
            for ref in var_refs(expr + t.get("legendFormat", "")):
                check(ref in variables or ref in BUILTINS, "%s %s uses $%s, which is not a "
                      "template variable" % (title, t["refId"], ref))
            for name in metric_names(expr):
                check(name in cat, "%s %s: metric %s is not in catalog.c" % (title, t["refId"],
                                                                            name))
                used.add(name)
            sels = selectors(expr)
            check({m for m, _ in sels} == metric_names(expr),
                  "%s %s: a metric without a {...} selector in %r" % (title, t["refId"], expr))
            for metric, matchers in sels:
                # one job (the collector-stub's re-export has the same names)
                # and the agents chosen
                check(("job", "=~", "$job") in matchers and
                      ("instance", "=~", "$instance") in matchers,
                      "%s %s: %s does not select job=~\"$job\" and instance=~\"$instance\""
                      % (title, t["refId"], metric))
                for label, _, _ in matchers:
                    check(label in cat.get(metric, set()) | TARGET_LABELS,
                          "%s %s: %s has no label %s (it has %s)" % (
                              title, t["refId"], metric, label, sorted(cat.get(metric, ()))))
            for lab in re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")):
                check(any(lab in cat.get(m, set()) | TARGET_LABELS for m in metric_names(expr)),
                      "%s %s: legend uses {{%s}}, which its metrics lack" % (title, t["refId"],
                                                                            lab))
            ntargets += 1
    check(REQUIRED_METRICS <= used, "no panel for %s" % sorted(REQUIRED_METRICS - used))
    info("schemaVersion %d; %s; %d targets over %d metrics; variables %s"
         % (dash["schemaVersion"], ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())),
            ntargets, len(used), ", ".join(sorted(variables))))


# ---- the queries in a real Prometheus -------------------------------------------

def prometheus_config(path, targets):
    with open(path, "w") as f:
        f.write("""# test_grafana_dashboard.py: two agents, every second
global:
  scrape_interval: 1s
  evaluation_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: vpn-agent
    static_configs:
      - targets: [%s]
""" % ", ".join('"%s"' % t for t in targets))


class Prom:
    """Prometheus's HTTP API, reached with curl inside its namespace."""

    def __init__(self, topo, ns, listen):
        self.topo, self.ns, self.base = topo, ns, "http://%s" % listen

    def get(self, path, **params):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        st, body = ns_curl(self.topo, self.ns, "GET", url)
        if st != 200 or not isinstance(body, dict):
            return None
        check(body.get("status") == "success", "Prometheus %s: %s" % (path, body))
        return body["data"]

    def query(self, expr):
        url = self.base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        st, body = ns_curl(self.topo, self.ns, "GET", url)
        check(st == 200 and isinstance(body, dict) and body.get("status") == "success",
              "Prometheus on %r: %s %s" % (expr, st, body))
        return body["data"]["result"]


def regex_value(values):
    """A multi-value variable as Grafana formats it for =~ in a PromQL
    string: each value regex-escaped (the backslash doubled, for the string
    literal), one alone or several in a group."""
    esc = [re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\\\1", v) for v in values]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def substitute(text, values):
    def repl(m):
        name = next(g for g in m.groups() if g)
        return values[name]
    return VAR_REF.sub(repl, text)


def variable_values(prom, dash):
    """Each query variable answered by Prometheus, in the dashboard's order
    (later ones use earlier ones): All for the instance, the first crypto map,
    every peer of it."""
    values = dict(BUILTINS)
    shown = {}
    for v in dash["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.match(r"label_values\((.*),\s*(\w+)\)$", substitute(q, values))
        check(m, "variable %s: %r" % (v["name"], q))
        got = prom.get("/api/v1/label/%s/values" % m.group(2), **{"match[]": m.group(1)})
        check(got, "variable %s: %s answered nothing" % (v["name"], q))
        if v["name"] == "map":
            got = got[:1]
        values[v["name"]] = v["allValue"] if v["name"] == "instance" else regex_value(got)
        shown[v["name"]] = "All" if v["name"] == "instance" else got
    return values, shown


@test
def panels_query_live_prometheus(env):
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    dash = load()
    topo = netns.NetTopo(env)
    na, nb, mgmt = topo.add_ns("site-a"), topo.add_ns("site-b"), topo.add_ns("mgmt")
    topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    topo.link(na, "10.99.1.2/30", mgmt, "10.99.1.1/30", if_a="mgmt", if_b="to-a")
    topo.link(nb, "10.99.2.2/30", mgmt, "10.99.2.1/30", if_a="mgmt", if_b="to-b")
    topo.add_addr(na, A_IN + "/32")
    topo.add_addr(nb, B_IN + "/32")
    a = env.add(NsAgent(env, topo, na, A_OUT, name="agent-a", metrics_addr="10.99.1.2"))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b", metrics_addr="10.99.2.2"))
    ike, esp = ("aes", "sha256", 14), ("esp-aes", "esp-sha256-hmac")
    b.configure_vpn(ike, esp, False, [A_OUT], PSK, B_NET, A_NET)
    a.configure_vpn(ike, esp, True, [B_OUT], PSK, A_NET, B_NET)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(A_OUT)["status"] == "UP",
             15, "the tunnel up on both sides")

    targets = ["10.99.1.2:%d" % a.metrics_port, "10.99.2.2:%d" % b.metrics_port]
    cfg = os.path.join(env.dir, "prometheus.yml")
    prometheus_config(cfg, targets)
    listen = "127.0.0.1:%d" % free_port()
    prom_proc = env.add(harness.Proc("prometheus", topo.ns_argv(mgmt, [
        "prometheus", "--config.file=" + cfg,
        "--storage.tsdb.path=" + os.path.join(env.dir, "prometheus-data"),
        "--web.listen-address=" + listen, "--log.level=warn"]), env.dir))
    prom = Prom(topo, mgmt, listen)

    def ready():
        check(prom_proc.alive(), "prometheus exited:\n" + tail(prom_proc.output(), 20))
        return prom.get("/api/v1/status/runtimeinfo") is not None
    wait_for(ready, 30, "Prometheus's HTTP API", step=0.2)
    wait_for(lambda: sorted(r["metric"]["instance"] for r in prom.query('up == 1')) ==
             sorted(targets), 20, "up == 1 for both agents", step=0.2)
    # traffic while Prometheus watches, and enough scrapes after it for
    # rate() and increase() over the 30 s $__rate_interval
    p = topo.run(na, ["ping", "-n", "-q", "-c", "20", "-i", "0.05", "-W", "1", "-I", A_IN, B_IN],
                 check=False, timeout=30)
    check(" 0% packet loss" in p.stdout, "ping through the tunnel: %s %s" % (p.stdout, p.stderr))
    t0 = time.monotonic()
    wait_for(lambda: (lambda r: r and float(r[0]["value"][1]) >= 8)(prom.query(
        'count_over_time(vpnagent_build_info{instance="%s"}[1m])' % targets[0])), 30,
        "eight scrapes", step=0.5)
    info("tunnel up, 20 pings through it; Prometheus scraping %s (%.1f s for 8 scrapes)"
         % (" ".join(targets), time.monotonic() - t0))

    values, shown = variable_values(prom, dash)
    info("variables: %s" % ", ".join("%s=%s" % kv for kv in shown.items()))
    empty, results = [], {}
    for panel in all_panels(dash):
        if panel["type"] == "row":
            continue
        counts = []
        for t in panel["targets"]:
            expr = substitute(t["expr"], values)
            result = results[(panel["title"], t["refId"])] = prom.query(expr)
            counts.append("%s %d series" % (t["refId"], len(result)))
            if not result:
                empty.append("%s (%s: %s)" % (panel["title"], t["refId"], expr))
        info("panel %2d %-36s %s" % (panel["id"], panel["title"], ", ".join(counts)))
    check(not empty, "panels whose queries returned nothing:\n  " + "\n  ".join(empty))

    # and they say what happened: the two ends of the tunnel up, the pings carried
    def total(title, ref="A"):
        return sum(float(r["value"][1]) for r in results[(title, ref)])
    up = sum(t["status"] == "UP" for t in a.tunnels() + b.tunnels())
    check(up == 2 and total("Tunnels up") == up and total("Tunnels down") == 0,
          "Tunnels up %s, down %s; the agents' APIs: %d up" % (total("Tunnels up"),
                                                              total("Tunnels down"), up))
    check(total("ESP throughput", "A") > 0 and total("ESP throughput", "B") > 0,
          "ESP throughput after 20 pings: out %s in %s" % (total("ESP throughput", "A"),
                                                         total("ESP throughput", "B")))
    info("%d panels, every query non-empty; tunnels up %d, down 0; ESP %.0f B/s out, %.0f B/s "
         "in over 30 s" % (len({k[0] for k in results}), up, total("ESP throughput", "A"),
                           total("ESP throughput", "B")))
    prom_proc.stop()


if __name__ == "__main__":
    run()
