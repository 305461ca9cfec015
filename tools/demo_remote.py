"""`make run DEMO=remote-access`: the headend of the mode-config / wild-card
key reference (deploy/demo/headend.cfg, applied by `vpnctl import-ios`),
a LAN behind it, and three strongSwan IKEv1 clients (Debian's charon with
xauth-generic, unity and Mode Config) behind one NAT. Each client passes
XAUTH, gets an address from the pool, and pings the LAN; the collector-stub
shows every client's metrics (peer "NAT address:port").

    namespace        what                                  addresses
    <prefix>hq       the headend, vpn-agent (TUN vpn0)     outside 198.51.100.1, LAN 10.2.2.1
    <prefix>lan      a host on the LAN behind it           10.2.2.10
    <prefix>nat      a NAT (nftables masquerade)           outside 198.51.100.2
    <prefix>c1..c3   remote clients, charon each           192.168.N.2, pool 10.2.1.0/24
    <prefix>mgmt     collector-stub                        10.99.0.1

Imported by tools/demo.py (DEMO=remote-access); the same environment
variables and the same clean-up on every exit path."""

import os
import re
import time

import demo
from demo import COLLECTOR_HTTP, Demo, DemoError, Site, indent, wait_for
import netns
import strongswan

HQ, NAT_OUT = "198.51.100.1", "198.51.100.2"
LAN_GW, LAN_HOST, LAN_NET = "10.2.2.1", "10.2.2.10", "10.2.2.0/24"
GROUP_KEY = "demo-group-Rk4vT9"          # as in deploy/demo/headend.cfg
CLIENTS = (("c1", "alice", "demo-alice-7Hq2"), ("c2", "bob", "demo-bob-9Vx4"),
           ("c3", "carol", "demo-carol-3Km8"))
CONN, CHILD = "headend", "lan"
INTERVAL_S = 10                          # telemetry: per-client rows at the collector soon


class _CharonEnv:
    """What strongswan.Charon asks of its test environment: a directory (an
    absolute one: charon runs in a mount namespace of its own) and a
    register of what it starts, which is the demo's process list, so a
    charon that fails to come up is stopped too."""

    def __init__(self, directory, procs):
        self.dir, self.procs = os.path.abspath(directory), procs

    def add(self, charon):
        self.procs.append(_CharonProc(charon))


class _CharonProc:
    """A charon as the demo's process list sees it: stopped by its pid."""

    def __init__(self, charon):
        self.charon, self.name = charon, charon.name

    @property
    def pid(self):
        return self.charon.pid if self.charon.proc is not None else 0

    def alive(self):
        return self.charon.alive()

    def stop(self):
        if self.charon.proc is None:
            return None
        self.charon.stop(check_clean=False)
        return self.charon.proc.p.returncode


class RemoteAccessDemo(Demo):
    def __init__(self, interval=INTERVAL_S, **kw):
        super().__init__(interval=interval, **kw)
        hq = Site("hq", "the headend", HQ, LAN_GW, 1, "headend.cfg", False)
        self.sites = {"hq": hq}
        self.clients = []           # (namespace, user, charon)

    def build_network(self):
        topo = self.topo = netns.NetTopo(prefix=self.prefix)
        existing = [n for n in netns.list_netns() if n.startswith(self.prefix)]
        if existing:
            topo.stopped = True   # not ours: never delete them
            raise DemoError("namespaces %s exist already: another demo is running, or one "
                            "was killed (delete them with `ip netns del NAME`), or set "
                            "DEMO_NS_PREFIX" % ", ".join(existing))
        hq = self.sites["hq"]
        mgmt = topo.add_ns("mgmt")
        topo.add_addr(mgmt, demo.COLLECTOR + "/32")
        hq.ns = topo.add_ns("hq")
        nat, lan = topo.add_ns("nat"), topo.add_ns("lan")
        _, nat_out = topo.link(hq.ns, HQ + "/24", nat, NAT_OUT + "/24", if_a="wan", if_b="wan")
        topo.link(hq.ns, LAN_GW + "/24", lan, LAN_HOST + "/24", if_a="lan", if_b="lan")
        topo.add_route(lan, "default", "via", LAN_GW)
        topo.link(hq.ns, hq.mgmt_local + "/30", mgmt, hq.mgmt_peer + "/30", if_a="mgmt",
                  if_b="to-hq")
        topo.add_route(hq.ns, demo.COLLECTOR + "/32", "via", hq.mgmt_peer)
        for ns in (hq.ns, nat):
            topo.sysctl(ns, "net.ipv4.ip_forward", "1")
        for i, (key, _, _) in enumerate(CLIENTS, 1):
            c = topo.add_ns(key)
            topo.link(nat, "192.168.%d.1/24" % i, c, "192.168.%d.2/24" % i,
                      if_a="to-" + key, if_b="eth0")
            topo.add_route(c, "default", "via", "192.168.%d.1" % i)
        topo.run(nat, ["nft", "-f", "-"], input=(
            "add table ip nat\n"
            "add chain ip nat post { type nat hook postrouting priority 100 ; }\n"
            "add rule ip nat post oifname \"%s\" masquerade\n" % nat_out))
        self.step("namespaces %s: the headend, its LAN, a NAT (masquerade to %s) with %d "
                  "clients behind it, management" % (", ".join(topo.namespaces), NAT_OUT,
                                                     len(CLIENTS)))

    def start_clients(self):
        env = _CharonEnv(self.dir, self.procs)
        for key, user, password in CLIENTS:
            conf = strongswan.ikev1_remote_access(CONN, HQ, GROUP_KEY, LAN_NET, child=CHILD,
                                                  user=user, password=password)
            try:
                charon = strongswan.Charon(env, self.topo, self.ns(key), "charon-" + key, conf,
                                           charon_extra=strongswan.REMOTE_ACCESS_CHARON)
            except strongswan.TestFailure as e:
                raise DemoError(str(e)) from e
            self.clients.append((key, user, charon))
        self.step("%d strongSwan clients (charon, IKEv1, XAUTH, Mode Config, Cisco Unity): %s"
                  % (len(self.clients), ", ".join("%s pid %d (user %s)" % (
                      k, c.pid, u) for k, u, c in self.clients)))

    def connect_client(self, key, user, charon):
        try:
            charon.initiate(child=CHILD, ike=CONN, timeout=20)
        except strongswan.TestFailure as e:
            raise DemoError(str(e)) from e
        sa = wait_for(lambda: strongswan.child_ready(charon.ike_sa(CONN)) and
                      charon.ike_sa(CONN), 20, "client %s's tunnel" % key)
        vip = (sa.get("local-vips") or [None])[0]
        p = self.run_in(key, ["ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "2", LAN_HOST],
                        check=False)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        got = int(m.group(2)) if m else 0
        if got != 3:
            raise DemoError("client %s (%s): %d of 3 pings to %s answered" % (key, vip, got,
                                                                             LAN_HOST))
        port = [t.get("peerPort") for t in self.api("hq", "get", "/operational/tunnels")["items"]
                if t.get("assignedAddress") == vip]
        self.step("client %s: XAUTH user %s, address %s from ourpool, seen by the headend as "
                  "%s:%s; ping %s -> %s: 3 sent, 3 received" % (
                      key, user, vip, NAT_OUT, port[0] if port else "?", vip, LAN_HOST))
        return vip

    def collector_clients(self):
        """The client peers the collector has tunnel rows for."""
        p = self.run_in("mgmt", ["curl", "-sf", "--max-time", "5",
                                 "http://%s/metrics" % COLLECTOR_HTTP], check=False)
        if p.returncode != 0:
            return set()
        return set(re.findall(r'^vpnagent_tunnel_up\{[^}]*peer="(%s:\d+)"[^}]*\} 1' %
                              re.escape(NAT_OUT), p.stdout, re.M))

    def start(self):
        for prog in ("vpn-agent", "vpnctl", "collector-stub"):
            if not os.access(os.path.join(self.bin, prog), os.X_OK):
                raise DemoError("%s/%s is missing: run make first" % (self.bin, prog))
        if os.geteuid() != 0:
            raise DemoError("the demo needs root for network namespaces and TUN devices "
                            "(sudo make run)")
        demo.shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.t0 = time.monotonic()
        self.build_network()
        self.start_agents()
        self.start_collector()
        hq = self.sites["hq"]
        self.configure_telemetry(hq)
        self.configure_vpn(hq)
        self.step("telemetry configured (dial-out to %s:%d, every %d s)"
                  % (demo.COLLECTOR, demo.COLLECTOR_PORT, self.interval))
        self.start_clients()
        vips = [self.connect_client(*c) for c in self.clients]
        if len(set(vips)) != len(vips):
            raise DemoError("an address was given twice: %r" % vips)
        seen = wait_for(lambda: (lambda s: len(s) >= len(self.clients) and s)(
            self.collector_clients()), self.interval + 20,
            "every client's tunnel at the collector", step=0.5)
        self.step("metrics at the collector: vpnagent_tunnel_up 1 for %s" % ", ".join(
            sorted(seen)))
        self.ready_s = time.monotonic() - self.t0
        self.say()
        self.say("READY after %.1f s: %d clients behind one NAT with addresses %s, each "
                 "pinging the LAN, their metrics at the collector%s" % (
                     self.ready_s, len(vips), ", ".join(vips),
                     "" if self.ready_s < demo.READY_BUDGET_S
                     else " (over the %d s budget!)" % demo.READY_BUDGET_S))
        self.say()
        for cmd in (("show", "crypto", "session"), ("show", "ip", "local", "pool")):
            out = self.ctl("hq", *cmd)
            self.say("headend, %s:" % " ".join(cmd))
            self.say(indent(out))

    def print_help(self):
        hq = self.sites["hq"]
        lines = ["Look around (as root):",
                 "  alias vpnctl-hq='ip netns exec %s %s'" % (
                     hq.ns, " ".join(self.vpnctl_argv(hq))),
                 "  vpnctl-hq show crypto session       # the clients, their users and "
                 "addresses",
                 "  vpnctl-hq show ip local pool",
                 "  vpnctl-hq show crypto isakmp sa",
                 "  vpnctl-hq show crypto ipsec sa",
                 "  vpnctl-hq show crypto isakmp keepalive"]
        for key, _, charon in self.clients:
            lines.append("  ip netns exec %s ping %s          # client %s -> the LAN" % (
                self.ns(key), LAN_HOST, key))
        lines.append("  swanctl --list-sas --uri %s   # (STRONGSWAN_CONF=%s) client c1's view"
                     % (self.clients[0][2].vici, self.clients[0][2].conf_path))
        lines += ["Metrics (no token; from the management namespace):",
                  "  ip netns exec %s curl -s %s" % (self.ns("mgmt"), hq.metrics_url),
                  "  ip netns exec %s curl -s http://%s/metrics   # what the collector "
                  "received" % (self.ns("mgmt"), COLLECTOR_HTTP),
                  "Logs:",
                  "  tail -f %s" % hq.proc.log_path,
                  "  tail -f %s" % self.clients[0][2].log_path,
                  "Processes: " + ", ".join("%s pid %d" % (p.name, p.pid) for p in self.procs)]
        self.say("\n".join(lines))
