"""`make run DEMO=gre`: GRE over IPsec as in the GRE/RIP reference (the
routers of tests/integration/test_gre_over_ipsec.py). Two routers, each a
vpn-agent configured by `vpnctl import-ios` from deploy/demo/gre-101.cfg
and gre-102.cfg: each provides `interface Tunnel0` itself (a TUN device)
and carries its GRE in transport-mode ESP (`permit gre host A host B`);
bird2 runs RIP over each Tunnel0 and learns the other's LAN; a ping goes
LAN to LAN; the collector-stub gets both agents' metrics.

    namespace      what                                        addresses
    <prefix>r101   router 101: vpn-agent (Tunnel0), bird2      wan 20.1.1.1/24, LAN 192.168.1.1/24
                                                               on lo, Tunnel0 10.10.10.1/30
    <prefix>r102   router 102: vpn-agent (Tunnel0), bird2      wan 20.1.1.2/24, LAN 172.16.1.1/24
                                                               on lo, Tunnel0 10.10.10.2/30
    <prefix>mgmt   collector-stub, one link to each router     10.99.0.1; 10.99.N.1 <-> 10.99.N.2

The two routers' wan devices are the two ends of one veth (Ethernet1/0 and
Ethernet0/0 of the reference). Imported by tools/demo.py (DEMO=gre); the
same environment variables and the same clean-up on every exit path."""

import os
import re
import time

import demo
from demo import COLLECTOR_HTTP, Demo, DemoError, Proc, Site, indent, wait_for
import netns
import bird

INTERVAL_S = 10          # telemetry: the tunnels up at the collector with the next batch
ROUTE_BUDGET_S = 30      # bird's first RIP updates, then the routes in the kernel
TUNNEL_IF = "Tunnel0"

class Router(Site):
    """A Site with what GRE adds: its LAN on lo, its Tunnel0 address, the
    peer router and the LAN RIP should learn from it, and its bird."""

    def __init__(self, key, title, wan, lan, mgmt_net, cfg, tunnel_addr, peer, peer_lan):
        super().__init__(key, title, wan, lan.split("/")[0], mgmt_net, cfg, True)
        self.lan, self.tunnel_addr = lan, tunnel_addr
        self.peer, self.peer_lan = peer, peer_lan
        self.bird = self.bird_sock = None


class GreDemo(Demo):
    def __init__(self, interval=INTERVAL_S, **kw):
        super().__init__(interval=interval, **kw)
        self.sites = {
            "r101": Router("r101", "router 101", "20.1.1.1", "192.168.1.1/24", 1, "gre-101.cfg",
                           "10.10.10.1", "20.1.1.2", "172.16.1.0/24"),
            "r102": Router("r102", "router 102", "20.1.1.2", "172.16.1.1/24", 2, "gre-102.cfg",
                           "10.10.10.2", "20.1.1.1", "192.168.1.0/24"),
        }

    def build_network(self):
        topo = self.topo = netns.NetTopo(prefix=self.prefix)
        existing = [n for n in netns.list_netns() if n.startswith(self.prefix)]
        if existing:
            topo.stopped = True   # not ours: never delete them
            raise DemoError("namespaces %s exist already: another demo is running, or one "
                            "was killed (delete them with `ip netns del NAME`), or set "
                            "DEMO_NS_PREFIX" % ", ".join(existing))
        mgmt = topo.add_ns("mgmt")
        topo.add_addr(mgmt, demo.COLLECTOR + "/32")
        r101, r102 = self.sites["r101"], self.sites["r102"]
        for r in (r101, r102):
            r.ns = topo.add_ns(r.key)
            topo.add_addr(r.ns, r.lan)   # Loopback1
            topo.link(r.ns, r.mgmt_local + "/30", mgmt, r.mgmt_peer + "/30", if_a="mgmt",
                      if_b="to-" + r.key)
            topo.add_route(r.ns, demo.COLLECTOR + "/32", "via", r.mgmt_peer)
        topo.link(r101.ns, r101.outside + "/24", r102.ns, r102.outside + "/24", if_a="wan",
                  if_b="wan")
        topo.ip(r101.ns, "link", "set", "wan", "down")   # until both are configured
        self.step("namespaces %s: routers 101 and 102 on one veth (%s <-> %s), LANs %s and "
                  "%s on their loopbacks, management" % (", ".join(topo.namespaces),
                                                        r101.outside, r102.outside, r101.lan,
                                                        r102.lan))

    def configure_vpn(self, site):
        """vpnctl import-ios of the router's file, as it is: plain ESP (no
        NAT between the routers), both routers initiating."""
        out = self.ctl(site.key, "import-ios", site.cfg, stderr=True)
        self.step("%s: vpnctl import-ios %s" % (site.title, site.cfg))
        self.say(indent(out, "          "))

    def connect_wan(self):
        """Brings the wan veth up. The routers were configured while it was
        down: import-ios creates crypto maps that start negotiating at
        once, and a router half imported would answer with half its
        configuration. What they began meanwhile is cleared first; then
        router 101 starts afresh (102 initiates too, as on IOS, when its
        own attempt comes round)."""
        for key in ("r102", "r101"):
            self.ctl(key, "clear", "crypto", "session")
        self.topo.ip(self.ns("r101"), "link", "set", "wan", "up")
        self.ctl("r101", "clear", "crypto", "session")
        self.step("WAN up: the veth between the routers carries their IKE and ESP")

    def tunnel_up(self, r):
        for t in self.api(r.key, "get", "/operational/tunnels")["items"]:
            if t["peer"] == r.peer and t["status"] == "UP":
                return t
        return None

    def gre_pairs(self):
        """The IPsec SA pair both routers hold for their GRE (router 101's
        inbound SPI is 102's outbound), then the pairs only one of them
        holds, as [(router, pair)]. None until there is a shared pair.
        Every pair must be for GRE: transport mode, protocol 47, plain ESP."""
        r101, r102 = self.sites["r101"], self.sites["r102"]
        sas = {r.key: self.api(r.key, "get", "/operational/ipsecsas")["items"]
               for r in (r101, r102)}
        for r in (r101, r102):
            for s in sas[r.key]:
                if (s["peer"], s["mode"], s["protocol"], s["udpEncapsulated"]) != (
                        r.peer, "transport", 47, False):
                    raise DemoError("%s has an SA pair that is not for its GRE: %r"
                                    % (r.title, s))
        theirs = {(s["outboundSpi"], s["inboundSpi"]) for s in sas["r102"]}
        shared = [s for s in sas["r101"] if (s["inboundSpi"], s["outboundSpi"]) in theirs]
        if not shared:
            return None
        spis = {(s["inboundSpi"], s["outboundSpi"]) for s in shared}
        alone = [(r101, s) for s in sas["r101"] if (s["inboundSpi"], s["outboundSpi"])
                 not in spis]
        alone += [(r102, s) for s in sas["r102"] if (s["outboundSpi"], s["inboundSpi"])
                  not in spis]
        return shared, alone

    # -- RIP ------------------------------------------------------------------------

    def start_bird(self, r):
        argv, r.bird_sock = bird.rip_files(os.path.join(self.dir, "bird-" + r.key),
                                           r.tunnel_addr, TUNNEL_IF)
        r.bird = Proc("bird-" + r.key, self.topo, r.ns, argv,
                      os.path.join(self.dir, "bird-%s.log" % r.key))
        self.procs.append(r.bird)

        def ready():
            if not r.bird.alive():
                raise DemoError("bird of %s exited:\n%s" % (r.title, indent(r.bird.output())))
            return os.path.exists(r.bird_sock)
        wait_for(ready, 10, "the control socket of bird on " + r.title)

    def learnt_route(self, r):
        """The kernel's route to the peer's LAN through Tunnel0 ('' if none)."""
        out = self.run_in(r.key, ["ip", "-4", "route", "show", r.peer_lan]).stdout.strip()
        return out if "dev " + TUNNEL_IF in out else ""

    def lan_ping(self, a, b, count=3):
        p = self.run_in(a.key, ["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W", "1",
                                "-I", a.lan_host, b.lan_host], check=False)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        if not m:
            raise DemoError("ping: %s %s" % (p.stdout, p.stderr))
        return int(m.group(1)), int(m.group(2))

    # -- the collector ----------------------------------------------------------------

    def collector_lines(self, family):
        """The collector's samples of one metric family, by device UUID."""
        p = self.run_in("mgmt", ["curl", "-sf", "--max-time", "5",
                                 "http://%s/metrics" % COLLECTOR_HTTP], check=False)
        out = {}
        for line in p.stdout.splitlines() if p.returncode == 0 else []:
            m = re.match(r'%s\{[^}]*uuid="([^"]+)"' % re.escape(family), line)
            if m:
                out.setdefault(m.group(1), []).append(line)
        return out

    def agent_has(self, r, family):
        p = self.run_in("mgmt", ["curl", "-sf", "--max-time", "5", r.metrics_url], check=False)
        return p.returncode == 0 and re.search(r"^%s\{" % re.escape(family), p.stdout, re.M)

    def wait_collector(self, family, want):
        """Each router's samples of family at the collector once every one
        of them has a line matching want[router key]."""
        routers = list(self.sites.values())

        def seen():
            lines = self.collector_lines(family)
            ok = all(any(re.search(want[r.key], l) for l in lines.get(r.uuid, []))
                     for r in routers)
            return ok and lines
        return wait_for(seen, self.interval + 20, "%s at the collector" % family, step=0.5)

    # -- the main job -----------------------------------------------------------------

    def start(self):
        for prog in ("vpn-agent", "vpnctl", "collector-stub"):
            if not os.access(os.path.join(self.bin, prog), os.X_OK):
                raise DemoError("%s/%s is missing: run make first" % (self.bin, prog))
        for prog in ("bird", "birdc"):
            if not demo.shutil.which(prog):
                raise DemoError("%s is missing: install bird2 (make deps)" % prog)
        if os.geteuid() != 0:
            raise DemoError("the demo needs root for network namespaces and TUN devices "
                            "(sudo make run)")
        demo.shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.t0 = time.monotonic()
        self.build_network()
        self.start_agents()
        self.start_collector()
        r101, r102 = self.sites["r101"], self.sites["r102"]
        for r in (r102, r101):
            self.configure_telemetry(r)
            self.configure_vpn(r)
        self.step("telemetry configured on both agents (dial-out to %s:%d, every %d s)"
                  % (demo.COLLECTOR, demo.COLLECTOR_PORT, self.interval))
        self.connect_wan()

        for r in (r101, r102):
            t = wait_for(lambda r=r: self.tunnel_up(r), 45, "the tunnel of %s to %s" % (
                r.title, r.peer), step=0.2)
            self.step("tunnel UP: %s %s <-> %s (crypto map %s %s)" % (
                r.title, r.outside, r.peer, t["cryptoMap"], t["sequence"]))
        shared, alone = wait_for(self.gre_pairs, 10, "an IPsec SA pair for GRE that both "
                                 "routers hold")
        for s in shared:
            self.step("IPsec SA pair for GRE: %s mode, protocol %d (GRE), plain ESP (IP protocol "
                      "50), %s -> %s, %s; router 101 SPI out %s in %s" % (
                          s["mode"], s["protocol"], s["localIdent"], s["remoteIdent"],
                          s["transform"], s["outboundSpi"], s["inboundSpi"]))
        for r, s in alone:
            other = r102 if r is r101 else r101
            self.step("%s also holds a pair with %s (SPI out %s in %s) that %s has not (both "
                      "routers initiate, as the reference's crypto maps do)" % (
                          r.title, r.peer, s["outboundSpi"], s["inboundSpi"], other.title))

        t_bird = time.monotonic()
        for r in (r101, r102):
            self.start_bird(r)
        self.step("bird2 RIP over %s: %s" % (TUNNEL_IF, ", ".join(
            "%s pid %d" % (r.bird.name, r.bird.pid) for r in (r101, r102))))
        for r in (r101, r102):
            route = wait_for(lambda r=r: self.learnt_route(r), ROUTE_BUDGET_S,
                             "%s to learn %s by RIP over %s" % (r.title, r.peer_lan, TUNNEL_IF),
                             step=0.2)
            self.step("%s learnt by RIP (%.1f s after bird started): %s" % (
                r.title, time.monotonic() - t_bird, route))

        sent, got = wait_for(lambda: (lambda x: x[1] == x[0] and x)(self.lan_ping(r101, r102)),
                             15, "a LAN-to-LAN ping over %s" % TUNNEL_IF)
        self.step("ping %s -> %s (LAN to LAN over %s, GRE in ESP): %d sent, %d received" % (
            r101.lan_host, r102.lan_host, TUNNEL_IF, sent, got))

        lines = self.wait_collector("vpnagent_tunnel_up", {
            r.key: r'peer="%s".*\} 1$' % re.escape(r.peer) for r in (r101, r102)})
        self.step("metrics at the collector:")
        for r in (r101, r102):
            for line in lines[r.uuid]:
                self.say("          %s: %s" % (r.key, line))
        family = "vpnagent_interface_up"
        if self.agent_has(r101, family):
            lines = self.wait_collector(family, {
                r.key: r'interface="%s".*\} 1$' % TUNNEL_IF for r in (r101, r102)})
            for r in (r101, r102):
                for line in lines[r.uuid]:
                    self.say("          %s: %s" % (r.key, line))
        else:
            self.say("          (%s: not in this build)" % family)

        self.ready_s = time.monotonic() - self.t0
        self.say()
        self.say("READY after %.1f s: GRE in transport-mode ESP between the routers, RIP "
                 "routes learnt over %s both ways, a LAN-to-LAN ping, metrics from both "
                 "agents at the collector%s" % (self.ready_s, TUNNEL_IF,
                                               "" if self.ready_s < demo.READY_BUDGET_S
                                               else " (over the %d s budget!)"
                                               % demo.READY_BUDGET_S))
        self.say()
        for r in (r101, r102):
            self.say("%s, show interfaces tunnel:" % r.title)
            self.say(indent(self.ctl(r.key, "show", "interfaces", "tunnel")))

    def print_help(self):
        r101, r102 = self.sites["r101"], self.sites["r102"]
        lines = ["Look around (as root; one alias per router):"]
        for r in (r101, r102):
            lines.append("  alias vpnctl-%s='ip netns exec %s %s'" % (
                r.key, r.ns, " ".join(self.vpnctl_argv(r))))
        lines += [
            "  vpnctl-r101 show interfaces tunnel %s   # also: vpnctl-r102" % TUNNEL_IF,
            "  vpnctl-r101 show crypto ipsec sa         # transport mode, prot 47",
            "  vpnctl-r101 show crypto session",
            "  ip netns exec %s birdc -s %s show route" % (r101.ns, r101.bird_sock),
            "  ip netns exec %s ip route show %s" % (r101.ns, r101.peer_lan),
            "  ip netns exec %s ping -I %s %s   # LAN to LAN over %s" % (
                r101.ns, r101.lan_host, r102.lan_host, TUNNEL_IF),
            "  kill -STOP %d   # freeze router 102's agent: 101's DPD declares it dead ~20 s "
            "later, %s goes down, RIP withdraws %s (kill -CONT %d)" % (
                r102.proc.pid, TUNNEL_IF, r101.peer_lan, r102.proc.pid),
            "Metrics (no token; from the management namespace):"]
        for r in (r101, r102):
            lines.append("  ip netns exec %s curl -s %s   # %s" % (self.ns("mgmt"), r.metrics_url,
                                                                  r.title))
        lines += [
            "  ip netns exec %s curl -s http://%s/metrics         # what the collector "
            "received" % (self.ns("mgmt"), COLLECTOR_HTTP),
            "Logs:",
            "  tail -f %s" % self.collector.log_path,
            "  tail -f %s   (and agent-r102.log, bird-r101/bird.log)" % r101.proc.log_path,
            "Processes: " + ", ".join("%s pid %d" % (p.name, p.pid) for p in self.procs)]
        self.say("\n".join(lines))
