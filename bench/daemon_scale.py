#!/usr/bin/env python3
"""The whole daemon at headend scale (R-14, `make bench-daemon`; root).

vpn-agent answers in one network namespace; bench/loadgen (N engines of our
own, one source address each from 100.64.0.0/16, AnyIP in a second
namespace) brings N tunnels up over real UDP. Measured from /proc and the
API: the time to bring them up, the agent's CPU over 60 s idle with
periodic DPD 10 s / 2 s x 5, its RSS per tunnel (each with its ESP SA pair
and route), and how exactly it declares 10 silenced peers dead (keepalive +
retries x retry = 20 s after their last message).

    bench/daemon_scale.py [N] [RATE]     (default 10000 tunnels, 500 a second)
    bench/daemon_scale.py post PORT TOKEN N TS_ID TS_NAME   (inside the agent's
                                          namespace: the crypto-map entries)
"""
import http.client
import json
import os
import re
import signal
import sys
import time

os.environ.setdefault("BIN_DIR", "build")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import harness  # noqa: E402
import netns  # noqa: E402
from nsagent import NsAgent  # noqa: E402

AGENT, GEN = "10.99.0.1", "10.99.0.2"
BASE = 0x64400001  # 100.64.0.1
PSK = "bench-scale-key"
IDLE_S = 60
SILENCED = 10
DEAD_AFTER_MS = 10000 + 5 * 2000


def ip(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def post_entries(port, token, n, ts_id, ts_name):
    """One POST per crypto-map entry over a keep-alive connection."""
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    for i in range(int(n)):
        site = 0x0A000000 + (i << 4)
        body = {"name": "hub-%d" % i, "sequence": 10, "peers": [ip(BASE + i)],
                "transformSets": [{"id": ts_id, "name": ts_name, "type": "transformset"}],
                "matchAddress": [{"action": "permit", "protocol": "ip",
                                  "source": "172.16.0.0/16",
                                  "destination": "%s/28" % ip(site)}],
                "forceEncapsulation": True, "initiate": False}
        c.request("POST", "/api/v1/object/cryptomaps", json.dumps(body), hdr)
        r = c.getresponse()
        out = r.read()
        if r.status != 200:
            sys.exit("POST %d -> %d %s" % (i, r.status, out[:200]))


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    env = harness.Env("daemon-scale")
    topo = netns.NetTopo(env)
    try:
        a, g = topo.add_ns("agent"), topo.add_ns("gen")
        topo.link(a, AGENT + "/24", g, GEN + "/24")
        topo.ip(g, "route", "add", "local", "100.64.0.0/16", "dev", "lo")
        topo.add_route(a, "100.64.0.0/16", "via", GEN)
        agent = env.add(NsAgent(env, topo, a, AGENT, extra=["--log-level", "warn"]))
        pid = agent.proc.p.pid
        agent.ok("POST", "/object/ikepolicies",
                 {"name": "p10", "priority": 10, "encryption": "aes", "hash": "sha256",
                  "authentication": "pre-share", "group": 19, "lifetimeSeconds": 86400})
        agent.ok("POST", "/object/presharedkeys",
                 {"name": "any", "key": PSK, "address": "0.0.0.0", "mask": "0.0.0.0"})
        ts = agent.ok("POST", "/object/transformsets",
                      {"name": "ts1", "esp": "esp-gcm", "auth": None, "mode": "tunnel"})
        dpd = agent.ok("GET", "/devicesettings/default/dpd")
        agent.ok("PUT", "/devicesettings/default/dpd",
                 dict(dpd, keepaliveSeconds=10, retrySeconds=2, retries=5, mode="PERIODIC"))
        t = time.monotonic()
        topo.run(a, ["python3", os.path.abspath(__file__), "post", str(agent.api_port),
                     agent.token, str(n), ts["id"], ts["name"]], timeout=900)
        post_s = time.monotonic() - t
        rss0 = rss_kb(pid)
        gen = env.add(harness.Proc("loadgen", topo.ns_argv(g, [
            os.path.join(harness.BIN_DIR, "bench", "loadgen"), AGENT, ip(BASE), str(n),
            str(rate), PSK]), env.dir))
        harness.wait_for(lambda: re.search(r"^up (\d+) ([\d.]+)$", gen.output(), re.M),
                         n / rate + 180, "every tunnel up", step=1)
        up = re.search(r"^up (\d+) ([\d.]+)$", gen.output(), re.M)
        time.sleep(10)			# settle: the last handshakes' retransmission timers
        rss1 = rss_kb(pid)
        c0 = proc_cpu_s(pid)
        time.sleep(IDLE_S)
        idle = (proc_cpu_s(pid) - c0) / IDLE_S * 100
        os.kill(gen.p.pid, signal.SIGUSR1)
        harness.wait_for(lambda: len(re.findall(r"^silenced ", gen.output(), re.M)) == SILENCED,
                         10, "the load generator to silence its peers")
        time.sleep(DEAD_AFTER_MS / 1000 + 5)
        rows = {r["peer"]: r for r in agent.ok("GET", "/operational/tunnels")["items"]}
        errs = []
        for addr, last_tx in re.findall(r"^silenced (\S+) (\d+)$", gen.output(), re.M):
            r = rows[addr]
            harness.check(r["status"] == "DOWN" and r["declaredDeadAtMs"] > 0,
                          "silenced peer %s not declared dead: %r" % (addr, r))
            errs.append(abs(r["declaredDeadAtMs"] - r["livenessBeforeDeadAtMs"] -
                            DEAD_AFTER_MS))
        up_rows = sum(1 for r in rows.values() if r["status"] == "UP")
        print("%d crypto-map entries by POST in %.1f s; %s tunnels up in %s s (%d a second "
              "offered); agent RSS %.1f MB -> %.1f MB; %d tunnels still up after the "
              "silence" % (n, post_s, up.group(1), up.group(2), rate, rss0 / 1024,
                           rss1 / 1024, up_rows))
        print("daemon-scale: tunnels=%d idle_core=%.2f%% rss_per_tunnel=%d "
              "max_detect_err_ms=%d up_s=%s" % (n, idle, (rss1 - rss0) * 1024 // n,
                                                 max(errs), up.group(2)))
        gen.stop(check_clean=False)
    finally:
        for thing in reversed(env.started):
            try:
                thing.stop(check_clean=False)
            except TypeError:
                thing.stop()
            except Exception as e:  # noqa: BLE001 - report, keep cleaning up
                print("cleanup: %s" % e, file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "post":
        post_entries(*sys.argv[2:7])
    else:
        main()
