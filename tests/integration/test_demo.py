#!/usr/bin/env python3
"""`make run` without a terminal (tools/demo.py, the binaries of BIN_DIR):
two sites in network namespaces configured by `vpnctl import-ios`, the
tunnel up, a ping through it, metric batches from all three agents at the
collector-stub, all within 60 s; DEMO=dpd freezes the primary site B
gateway and site A fails over to the backup; DEMO=remote-access and
DEMO=gre (two routers, GRE in transport-mode ESP, RIP over Tunnel0) come
up as they say; and however the demo ends
(DEMO_SECONDS, SIGINT in the middle of setting up) no process it started
and no namespace it made is left."""

import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netns  # noqa: E402
from harness import (BIN_DIR, ROOT, SANITIZER_MARKS, check, info, run, tail,  # noqa: E402
                     test, wait_for)

DEMO_PY = os.path.join(ROOT, "tools", "demo.py")
PREFIX = "vpndemo-t%d-" % os.getpid()     # never the namespaces of a `make run`
SITES = ("a", "b1", "b2")
B1, B2 = "198.51.100.10", "198.51.100.11"


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


class DemoRun:
    """tools/demo.py as a child process, its output collected in a file."""

    def __init__(self, env, name, scenario="", seconds=None):
        self.dir = os.path.join(env.dir, name)
        self.prefix = PREFIX + name[:6] + "-"
        demo_env = dict(os.environ, BIN=BIN_DIR, DEMO=scenario, DEMO_DIR=self.dir,
                        DEMO_NS_PREFIX=self.prefix)
        demo_env.pop("DEMO_SECONDS", None)
        if seconds is not None:
            demo_env["DEMO_SECONDS"] = str(seconds)
        self.out_path = os.path.join(env.dir, name + ".out")
        self.out_file = open(self.out_path, "w")
        # Its own session: a signal for the test runner is not one for it.
        self.p = subprocess.Popen([sys.executable, DEMO_PY], env=demo_env, cwd=ROOT,
                                  stdin=subprocess.DEVNULL, stdout=self.out_file,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        env.add(self)

    def output(self):
        with open(self.out_path) as f:
            return f.read()

    def wait(self, timeout):
        """Waits for the demo to end; SIGTERM (its own cleanup) on timeout."""
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            check(False, "the demo still ran after %d s:\n%s" % (timeout, tail(self.output(), 40)))
        return self.p.returncode, self.output()

    def stop(self):  # Env.close(): on a failed test, the demo cleans up after itself
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.out_file.close()
        for ns in netns.list_netns():   # belt and braces: never leave ours behind
            if ns.startswith(self.prefix):
                subprocess.run(["ip", "netns", "del", ns], check=False)

    def check_nothing_left(self, out, sites=SITES):
        """Every pid the demo reported is gone, and so is every namespace
        with its prefix; every daemon exited 0 without a sanitizer report."""
        started = {int(p) for p in re.findall(r"\bpid (\d+)", out)}
        m = re.search(r"^stopped: (.*)$", out, re.M)
        check(m, "the demo did not say what it stopped:\n" + tail(out, 30))
        stopped = {int(p) for p in re.findall(r"\w+ (\d+) \(exit", m.group(1))}
        check(started and started <= stopped, "started %s, stopped %s" % (started, stopped))
        alive = sorted(p for p in stopped if pid_alive(p))
        check(not alive, "processes left running: %s" % alive)
        bad = re.findall(r"(agent-\w+|collector) \d+ \(exit (-?\d+)\)", m.group(1))
        check(bad and all(rc == "0" for _, rc in bad), "daemon exit statuses: %s" % bad)
        left = [ns for ns in netns.list_netns() if ns.startswith(self.prefix)]
        check(not left, "namespaces left: %s" % left)
        check(re.search(r"^deleted namespaces: .*%s%s\b" % (re.escape(self.prefix), sites[0]),
                        out, re.M), "the demo did not delete its namespaces:\n" + tail(out, 10))
        for name in ["agent-%s" % s for s in sites] + ["collector"]:
            path = os.path.join(self.dir, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    log = f.read()
                for mark in SANITIZER_MARKS:
                    check(mark not in log, "%s: sanitizer report:\n%s" % (name, tail(log, 40)))
        return sorted(started)

    def uuids(self, sites=SITES):
        out = {}
        for s in sites:
            with open(os.path.join(self.dir, "agent-" + s, "device-uuid")) as f:
                out[s] = f.read().strip()
        return out


def check_up(d, out):
    """The main job's promises: tunnel, ping, metrics, elapsed time."""
    check(re.search(r"tunnel UP: site A 203\.0\.113\.2 <-> B1 198\.51\.100\.10", out),
          "no tunnel UP line:\n" + tail(out, 40))
    check(re.search(r"ping 10\.10\.1\.1 -> 10\.20\.1\.1 through the tunnel: (\d+) sent, \1 "
                    r"received", out), "the ping through the tunnel failed:\n" + tail(out, 40))
    m = re.search(r"^READY after (\d+\.\d) s", out, re.M)
    check(m, "no READY line:\n" + tail(out, 40))
    ready = float(m.group(1))
    check(ready < 60, "ready after %.1f s, over 60 s" % ready)
    # The collector's own log, not the demo's word: a batch from each device.
    with open(os.path.join(d.dir, "collector.log"), errors="replace") as f:
        log = f.read()
    for site, uuid in d.uuids().items():
        check(re.search(r"received metric batch of count=[1-9]\d* from device=%s" % uuid, log),
              "no metric batch from the agent of site %s (%s) in the collector log" % (site, uuid))
    for cmd in ("show crypto isakmp sa", "show crypto session", "curl -s http://10.99.1.2:9273"
                "/metrics", "collector.log"):
        check(cmd in out, "the demo does not print how to look around (%s)" % cmd)
    # show crypto isakmp sa on site A, as printed: one QM_IDLE SA with B1
    check(re.search(r"^\s+198\.51\.100\.10\s+203\.0\.113\.2\s+QM_IDLE", out, re.M),
          "show crypto isakmp sa does not show the SA with B1:\n" + tail(out, 60))
    return ready


@test
def demo_tunnel_ping_metrics_and_cleanup(env):
    check(os.geteuid() == 0, "needs root (network namespaces)")
    d = DemoRun(env, "run", seconds=3)
    rc, out = d.wait(100)
    check(rc == 0, "demo exited %d:\n%s" % (rc, tail(out, 40)))
    ready = check_up(d, out)
    pids = d.check_nothing_left(out)
    info("ready (tunnel up, ping, batches from 3 agents at the collector) after %.1f s; "
         "stopped pids %s; no namespace %s* left" % (ready, pids, d.prefix))


@test
def demo_dpd_failover(env):
    check(os.geteuid() == 0, "needs root (network namespaces)")
    d = DemoRun(env, "dpd", scenario="dpd", seconds=1)
    rc, out = d.wait(110)
    check(rc == 0, "demo exited %d:\n%s" % (rc, tail(out, 40)))
    check_up(d, out)
    check("crypto map SITE-B-10 10: failing over (dpd) from peer %s to peer %s" % (B1, B2)
          in out, "no failover line from site A's log:\n" + tail(out, 60))
    check(re.search(r"Crypto tunnel is DOWN\. Peer %s:500" % re.escape(B1), out),
          "no DOWN line for B1:\n" + tail(out, 60))
    m = re.search(r"FAILOVER: site A declared B1 198\.51\.100\.10 dead (\d+\.\d) s after its "
                  r"last sign of life .* tunnel to B2 UP (\d+\.\d) s after the freeze", out)
    check(m, "no FAILOVER line:\n" + tail(out, 60))
    dead, up = float(m.group(1)), float(m.group(2))
    check(abs(dead - 20.0) <= 1.0, "declared dead %.1f s after the last sign of life, "
          "want 20 +- 1 (keepalive 10 + 5 x 2)" % dead)
    check(re.search(r"ping 10\.10\.1\.1 -> 10\.20\.1\.1 through the tunnel to B2: (\d+) sent, "
                    r"\1 received", out), "no ping through B2:\n" + tail(out, 40))
    m = re.search(r"first reply via B2 (\d+\.\d) s after the freeze", out)
    check(m, "the background ping did not resume:\n" + tail(out, 20))
    # the keepalive table as it happened: B1 probed, retransmitted, then dead
    check(re.search(r"^\s+198\.51\.100\.10\s+SITE-B-10 10\s+no\s+DOWN\s+5\s+0\s+0\s+0\s+4\s+1\b",
                    out, re.M), "show crypto isakmp keepalive after the failover:\n"
          + tail(out, 60))
    pids = d.check_nothing_left(out)
    info("B1 declared dead %.1f s after its last sign of life; tunnel to B2 up %.1f s and "
         "ping through it %s s after the freeze; stopped pids %s" % (dead, up, m.group(1), pids))


@test
def demo_remote_access(env):
    # DEMO=remote-access: the headend by import-ios, three strongSwan XAUTH
    # clients behind one NAT, each with a pool address pinging the LAN,
    # their tunnels at the collector, all within 60 s; nothing left after.
    check(os.geteuid() == 0, "needs root (network namespaces)")
    d = DemoRun(env, "ra", scenario="remote-access", seconds=1)
    rc, out = d.wait(110)
    check(rc == 0, "demo exited %d:\n%s" % (rc, tail(out, 40)))
    clients = re.findall(r"client (c\d): XAUTH user (\w+), address (10\.2\.1\.\d+) from ourpool, "
                         r"seen by the headend as (198\.51\.100\.2:\d+); ping \S+ -> 10\.2\.2\.10: "
                         r"3 sent, 3 received", out)
    check(len(clients) == 3 and len({c[2] for c in clients}) == 3 and
          len({c[3] for c in clients}) == 3, "clients: %r\n%s" % (clients, tail(out, 40)))
    m = re.search(r"metrics at the collector: vpnagent_tunnel_up 1 for (.*)$", out, re.M)
    check(m and sorted(m.group(1).split(", ")) == sorted(c[3] for c in clients),
          "the collector's tunnels: %r" % (m and m.group(1)))
    m = re.search(r"^READY after (\d+\.\d) s", out, re.M)
    check(m and float(m.group(1)) < 60, "not ready within 60 s:\n" + tail(out, 40))
    check(out.count("Dynamic map: intmap-10 10") == 3, "show crypto session:\n" + tail(out, 60))
    check(re.search(r"^\s+ourpool\s+10\.2\.1\.1\s+10\.2\.1\.254\s+251\s+3$", out, re.M),
          "show ip local pool:\n" + tail(out, 60))
    pids = d.check_nothing_left(out, sites=("hq",))
    info("remote-access demo ready after %s s: %s; stopped pids %s" % (
        m.group(1), ", ".join("%s %s %s at %s" % c for c in clients), pids))


@test
def demo_gre(env):
    # DEMO=gre: routers 101 and 102 by import-ios of the GRE/RIP reference,
    # their GRE in transport-mode ESP, bird2 RIP over Tunnel0 learning the
    # other's LAN, a LAN-to-LAN ping, both agents' tunnels up at the
    # collector, show interfaces tunnel; nothing left after.
    check(os.geteuid() == 0, "needs root (network namespaces)")
    d = DemoRun(env, "gre", scenario="gre", seconds=1)
    rc, out = d.wait(110)
    check(rc == 0, "demo exited %d:\n%s" % (rc, tail(out, 40)))
    check(re.search(r"IPsec SA pair for GRE: transport mode, protocol 47 \(GRE\), plain ESP "
                    r"\(IP protocol 50\), 20\.1\.1\.1/255\.255\.255\.255 -> "
                    r"20\.1\.1\.2/255\.255\.255\.255", out), "no GRE pair:\n" + tail(out, 60))
    routes = {}
    for r, net, via in (("101", "172.16.1.0/24", "10.10.10.2"),
                        ("102", "192.168.1.0/24", "10.10.10.1")):
        m = re.search(r"^\[[ \d.]+s\] router %s learnt by RIP \([\d.]+ s after bird started\): "
                      r"(%s via %s dev Tunnel0 proto bird .*)$" % (r, re.escape(net),
                                                                   re.escape(via)), out, re.M)
        check(m, "router %s did not learn %s over Tunnel0:\n%s" % (r, net, tail(out, 60)))
        routes[r] = m.group(1)
    m = re.search(r"ping 192\.168\.1\.1 -> 172\.16\.1\.1 \(LAN to LAN over Tunnel0, GRE in "
                  r"ESP\): (\d+) sent, \1 received", out)
    check(m and int(m.group(1)) > 0, "no LAN-to-LAN ping:\n" + tail(out, 60))
    ready = re.search(r"^READY after (\d+\.\d) s", out, re.M)
    check(ready and float(ready.group(1)) < 60, "not ready within 60 s:\n" + tail(out, 40))
    # the collector: each router's tunnel to the other up, as it printed it
    uuids = d.uuids(("r101", "r102"))
    for r, peer in (("r101", "20.1.1.2"), ("r102", "20.1.1.1")):
        check(re.search(r'^\s+%s: vpnagent_tunnel_up\{[^}]*peer="%s"[^}]*uuid="%s"[^}]*\} 1$'
                        % (r, re.escape(peer), uuids[r]), out, re.M),
              "%s's tunnel not up at the collector:\n%s" % (r, tail(out, 60)))
    # show interfaces tunnel on each router, as the agent has Tunnel0
    for addr, src, dst in (("10.10.10.1/30", "20.1.1.1", "20.1.1.2"),
                           ("10.10.10.2/30", "20.1.1.2", "20.1.1.1")):
        check(re.search(r"^ +Tunnel0 is up, line protocol is up\n +Hardware is Tunnel\n +Internet "
                        r"address is %s\n +MTU 1420 bytes\n +Tunnel source %s, destination %s\n"
                        % (re.escape(addr), re.escape(src), re.escape(dst)), out, re.M),
              "show interfaces tunnel (%s):\n%s" % (addr, tail(out, 60)))
    counters = re.findall(r"^ +(\d+) packets input, \d+ bytes, 0 malformed, 0 input errors\n"
                          r" +(\d+) packets output, \d+ bytes, \d+ no IPsec SA, 0 output errors$",
                          out, re.M)
    check(len(counters) == 2 and all(int(i) > 0 and int(o) > 0 for i, o in counters),
          "Tunnel0 counters: %r" % counters)
    birds = re.findall(r"\bbird-(r10[12]) \d+ \(exit (-?\d+)\)", out)
    check(sorted(birds) == [("r101", "0"), ("r102", "0")], "bird exit statuses: %r" % birds)
    pids = d.check_nothing_left(out, sites=("r101", "r102"))
    info("GRE demo ready after %s s: %s; %s; stopped pids %s" % (
        ready.group(1), routes["101"], routes["102"], pids))


@test
def demo_interrupted_while_starting_cleans_up(env):
    # SIGINT (Ctrl-C) in the middle of setting up: agents are running and
    # the namespaces exist, nothing is configured yet.
    check(os.geteuid() == 0, "needs root (network namespaces)")
    d = DemoRun(env, "int")
    wait_for(lambda: "vpn-agents started" in d.output() or d.p.poll() is not None, 60,
             "the demo to start its agents")
    check(d.p.poll() is None, "the demo ended early:\n" + d.output())
    check([ns for ns in netns.list_netns() if ns.startswith(d.prefix)],
          "no namespace with prefix %s while the demo runs" % d.prefix)
    os.kill(d.p.pid, signal.SIGINT)
    rc, out = d.wait(60)
    check(rc == 0, "interrupted demo exited %d:\n%s" % (rc, tail(out, 20)))
    check("SIGINT: stopping" in out, "the demo did not report the interruption:\n" + out)
    pids = d.check_nothing_left(out)
    info("SIGINT after the agents started: stopped pids %s, namespaces deleted" % pids)


if __name__ == "__main__":
    run()
