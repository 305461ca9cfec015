#!/usr/bin/env python3
"""`make run`: two VPN sites in network namespaces, each gateway a vpn-agent
configured by `vpnctl import-ios` from deploy/demo/*.cfg, telemetry over
mTLS to a collector-stub, a ping through the tunnel between the protected
LANs. `DEMO=dpd` then freezes the primary site B gateway and shows site A
detecting it (DPD) and failing over to the backup. `DEMO=remote-access` is
another network: a headend with remote clients behind a NAT
(tools/demo_remote.py). `DEMO=gre` is GRE over IPsec: two routers with
Tunnel0 in transport-mode ESP and bird2 RIP over it (tools/demo_gre.py).

    namespace          what                                    addresses
    <prefix>a          site A gateway, vpn-agent, LAN host     outside 203.0.113.2, LAN 10.10.1.1
    <prefix>b1         site B gateway B1 (primary), vpn-agent  outside 198.51.100.10, LAN 10.20.1.1
    <prefix>b2         site B gateway B2 (backup), vpn-agent   outside 198.51.100.11, LAN 10.20.1.1
    <prefix>inet       "the internet": a router between them   203.0.113.1, 198.51.100.1
    <prefix>mgmt       collector-stub (and a Prometheus in     collector 10.99.0.1; links
                       the tests), one link to each gateway    10.99.N.1 <-> 10.99.N.2

B1 and B2 protect the same LAN B (10.20.0.0/16): each has the LAN host
10.20.1.1, standing for the site B LAN behind whichever gateway carries the
tunnel (a real site would move the return route with its routing protocol).
Site A's crypto map lists B1 then B2 (two `set peer` lines); the B gateways
only answer (their crypto maps do not initiate), so B2 carries traffic only
after A fails over to it.

Every agent serves its API on 127.0.0.1:9276 inside its own namespace and
/metrics on its management address (10.99.N.2:9273). Nothing listens outside
the namespaces the demo creates.

Environment: BIN (binaries, default build), DEMO ("", "dpd", "remote-access"
or "gre"), DEMO_DIR
(logs, state and certificates, default build/demo), DEMO_SECONDS (stop by
itself that many seconds after everything is up and the DPD scenario, if
any, has run; default: until Ctrl-C), DEMO_NS_PREFIX (namespace prefix,
default "vpndemo-"), INTERVAL (telemetry interval in seconds, default 60).

Ctrl-C, SIGTERM, DEMO_SECONDS or an error: every process is stopped by its
pid (SIGCONT first if frozen, SIGTERM, SIGKILL after 5 s) and every
namespace deleted. The module is also imported by the integration tests
(class Demo)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import netns  # noqa: E402  (namespaces + veth, deleted on every exit path)

API = "127.0.0.1:9276"           # each agent's API, on the loopback of its namespace
METRICS_PORT = 9273
COLLECTOR = "10.99.0.1"          # on the management namespace's loopback
COLLECTOR_PORT = 50051
COLLECTOR_HTTP = COLLECTOR + ":9101"
LAN_A_HOST, LAN_B_HOST = "10.10.1.1", "10.20.1.1"
READY_BUDGET_S = 60              # "tunnel up, metrics at the collector" must come sooner


class Site:
    """One gateway: its namespace, addresses, IOS file and vpn-agent."""

    def __init__(self, key, title, outside, lan_host, mgmt_net, cfg, initiate):
        self.key, self.title = key, title
        self.outside, self.lan_host = outside, lan_host
        self.mgmt_local = "10.99.%d.2" % mgmt_net   # the agent's side of the management link
        self.mgmt_peer = "10.99.%d.1" % mgmt_net    # the management namespace's side
        # as vpnctl will name it in its messages: relative to where we run
        self.cfg = os.path.relpath(os.path.join(ROOT, "deploy", "demo", cfg))
        self.initiate = initiate
        self.ns = self.proc = self.state = self.uuid = None

    @property
    def metrics_url(self):
        return "http://%s:%d/metrics" % (self.mgmt_local, METRICS_PORT)


def make_sites():
    return {
        "a": Site("a", "site A", "203.0.113.2", LAN_A_HOST, 1, "site-a.cfg", True),
        "b1": Site("b1", "site B gateway B1 (primary)", "198.51.100.10", LAN_B_HOST, 2,
                   "site-b1.cfg", False),
        "b2": Site("b2", "site B gateway B2 (backup)", "198.51.100.11", LAN_B_HOST, 3,
                   "site-b2.cfg", False),
    }


class DemoError(Exception):
    pass


class Stop(Exception):
    """Raised by the SIGINT/SIGTERM/SIGHUP handler."""


class Proc:
    """A process inside a namespace, output to a log file, stopped by pid."""

    def __init__(self, name, topo, ns, argv, log_path):
        self.name, self.log_path = name, log_path
        self.log = open(log_path, "wb")
        # `ip netns exec` execs the program: the pid is the program's own.
        # Its own session: Ctrl-C reaches the demo, which stops it in order.
        self.p = subprocess.Popen(topo.ns_argv(ns, argv), stdin=subprocess.DEVNULL,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def send(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, grace=5.0, sig=signal.SIGTERM):
        """SIGCONT (a frozen process cannot act on SIGTERM), SIGTERM, SIGKILL
        after `grace` seconds. Returns the exit status (negative: signal)."""
        if self.alive():
            os.kill(self.pid, signal.SIGCONT)
            os.kill(self.pid, sig)
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()
        return self.p.returncode


def wait_for(pred, timeout, what, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise DemoError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(step)


def indent(text, prefix="    "):
    return "\n".join(prefix + line if line else "" for line in text.rstrip("\n").splitlines())


class Demo:
    def __init__(self, bin_dir="build", out_dir="build/demo", prefix="vpndemo-",
                 interval=60, out=sys.stdout):
        self.bin = bin_dir
        self.dir = out_dir
        self.prefix = prefix
        self.interval = interval
        self.out = out
        self.sites = make_sites()
        self.topo = None
        self.procs = []            # every process started, in start order
        self.collector = None
        self.t0 = time.monotonic()
        self.ready_s = None

    # -- output -------------------------------------------------------------

    def say(self, msg=""):
        print(msg, file=self.out, flush=True)

    def step(self, msg):
        self.say("[%5.1fs] %s" % (time.monotonic() - self.t0, msg))

    # -- running things ---------------------------------------------------------

    def ns(self, key):
        return self.sites[key].ns if key in self.sites else self.prefix + key

    def run_in(self, key, argv, check=True, input=None, timeout=30):
        p = subprocess.run(self.topo.ns_argv(self.ns(key), argv), input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise DemoError("%s in %s -> exit %d: %s" % (" ".join(argv), self.ns(key),
                            p.returncode, (p.stderr or p.stdout).strip()))
        return p

    def vpnctl_argv(self, site):
        return [os.path.join(self.bin, "vpnctl"), "--api", "http://" + API,
                "--token-file", os.path.join(site.state, "api-token")]

    def ctl(self, key, *args, input=None, stderr=False):
        """vpnctl ARGS against the agent of site `key`; returns its stdout
        (and its stderr after it, if asked)."""
        site = self.sites[key]
        p = self.run_in(key, self.vpnctl_argv(site) + list(args), check=False, input=input)
        if p.returncode != 0:
            raise DemoError("vpnctl %s (%s) -> exit %d:\n%s" % (" ".join(args), site.title,
                            p.returncode, (p.stderr + p.stdout).strip()))
        return p.stdout + (p.stderr if stderr else "")

    def api(self, key, method, path, body=None):
        args = ["--json", method, path] + (["@-"] if body is not None else [])
        out = self.ctl(key, *args, input=json.dumps(body) if body is not None else None)
        return json.loads(out) if out.strip() else {}

    def collector_devices(self):
        p = self.run_in("mgmt", ["curl", "-sf", "--max-time", "5",
                                 "http://%s/api/devices" % COLLECTOR_HTTP], check=False)
        if p.returncode != 0:
            return None
        return json.loads(p.stdout)["devices"]

    def tunnel(self, peer):
        """Site A's tunnel item for one peer of its crypto map."""
        for t in self.api("a", "get", "/operational/tunnels")["items"]:
            if t["peer"] == peer:
                return t
        return None

    def ping(self, count=3, interval="0.2"):
        """Pings LAN B from LAN A; returns (sent, received)."""
        p = self.run_in("a", ["ping", "-n", "-q", "-c", str(count), "-i", interval, "-W", "1",
                              "-I", LAN_A_HOST, LAN_B_HOST], check=False)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        if not m:
            raise DemoError("ping: %s %s" % (p.stdout, p.stderr))
        return int(m.group(1)), int(m.group(2))

    # -- building -----------------------------------------------------------------

    def build_network(self):
        topo = self.topo = netns.NetTopo(prefix=self.prefix)
        existing = [n for n in netns.list_netns() if n.startswith(self.prefix)]
        if existing:
            topo.stopped = True   # not ours: never delete them
            raise DemoError("namespaces %s exist already: another demo is running, or one "
                            "was killed (delete them with `ip netns del NAME`), or set "
                            "DEMO_NS_PREFIX" % ", ".join(existing))
        inet = topo.add_ns("inet")   # forwarding off until every gateway is configured
        mgmt = topo.add_ns("mgmt")
        topo.add_addr(mgmt, COLLECTOR + "/32")
        topo.ip(inet, "link", "add", "br-b", "type", "bridge")
        topo.ip(inet, "addr", "add", "198.51.100.1/24", "dev", "br-b")
        topo.ip(inet, "link", "set", "br-b", "up")
        for site in self.sites.values():
            site.ns = topo.add_ns(site.key)
            if site.key == "a":
                topo.link(site.ns, site.outside + "/24", inet, "203.0.113.1/24",
                          if_a="wan", if_b="to-a")
                topo.add_route(site.ns, "198.51.100.0/24", "via", "203.0.113.1")
            else:
                topo.link(site.ns, site.outside + "/24", inet, None, if_a="wan",
                          if_b="to-" + site.key)
                topo.ip(inet, "link", "set", "to-" + site.key, "master", "br-b")
                topo.add_route(site.ns, "203.0.113.0/24", "via", "198.51.100.1")
            topo.link(site.ns, site.mgmt_local + "/30", mgmt, site.mgmt_peer + "/30",
                      if_a="mgmt", if_b="to-" + site.key)
            topo.add_route(site.ns, COLLECTOR + "/32", "via", site.mgmt_peer)
            topo.add_addr(site.ns, site.lan_host + "/32")   # the LAN behind the gateway
        self.step("namespaces %s: internet router, management, site A, site B gateways "
                  "B1 and B2" % ", ".join(topo.namespaces))

    def start_agents(self):
        for site in self.sites.values():
            site.state = os.path.join(self.dir, "agent-" + site.key)
            argv = [os.path.join(self.bin, "vpn-agent"), "--state-dir", site.state,
                    "--api-listen", API,
                    "--metrics-listen", "%s:%d" % (site.mgmt_local, METRICS_PORT),
                    "--ike-address", site.outside]
            site.proc = Proc("agent-" + site.key, self.topo, site.ns, argv,
                             os.path.join(self.dir, "agent-%s.log" % site.key))
            self.procs.append(site.proc)
        for site in self.sites.values():
            def ready(site=site):
                if not site.proc.alive():
                    raise DemoError("vpn-agent of %s exited:\n%s" % (site.title,
                                    indent(site.proc.output()[-2000:])))
                p = os.path.join(site.state, "api-token")
                return os.path.exists(p) and os.path.getsize(p) > 0 and \
                    self.run_in(site.key, self.vpnctl_argv(site) + ["get", "/object/networks"],
                                check=False).returncode == 0
            wait_for(ready, 30, "the API of the vpn-agent of " + site.title)
            with open(os.path.join(site.state, "device-uuid")) as f:
                site.uuid = f.read().strip()
        n = len(self.sites)
        self.step("%d vpn-agent%s started: " % (n, "" if n == 1 else "s") + ", ".join(
            "%s pid %d (device %s)" % (s.key, s.proc.pid, s.uuid) for s in self.sites.values()))

    def start_collector(self):
        certs = os.path.join(self.dir, "certs")
        argv = [os.path.join(ROOT, "certs", "gen-certs.sh"), certs, "--san", COLLECTOR]
        for site in self.sites.values():
            argv += ["--device-uuid", site.uuid]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        self.collector = Proc("collector", self.topo, self.ns("mgmt"), [
            os.path.join(self.bin, "collector-stub"),
            "--listen", "%s:%d" % (COLLECTOR, COLLECTOR_PORT), "--certs", certs,
            "--interval", str(self.interval), "--metrics-listen", COLLECTOR_HTTP],
            os.path.join(self.dir, "collector.log"))
        self.procs.append(self.collector)

        def up():
            if not self.collector.alive():
                raise DemoError("collector-stub exited:\n" + indent(self.collector.output()))
            return self.collector_devices() is not None
        wait_for(up, 30, "the collector-stub")
        self.step("collector-stub pid %d on %s:%d (mTLS; CA and one client certificate per "
                  "agent, CN = its device UUID, in %s)" % (self.collector.pid, COLLECTOR,
                                                           COLLECTOR_PORT, certs))

    def configure_vpn(self, site):
        """vpnctl import-ios of the site's IOS file, then the crypto map
        settings IOS has no line for: ESP-in-UDP always (forceEncapsulation;
        an import gives IOS's default, plain ESP without NAT), and answer
        only on the B gateways."""
        out = self.ctl(site.key, "import-ios", site.cfg, stderr=True)
        self.step("%s: vpnctl import-ios %s" % (site.title, site.cfg))
        self.say(indent(out, "          "))
        for m in self.api(site.key, "get", "/object/cryptomaps")["items"]:
            body = {k: v for k, v in m.items() if k not in ("id", "links")}
            body.update(forceEncapsulation=True)
            if not site.initiate:
                body.update(initiate=False)
            self.api(site.key, "put", "/object/cryptomaps/" + m["id"], body)
            self.say("          set crypto map %s: forceEncapsulation true%s" % (
                m["name"], "" if site.initiate else ", initiate false (answer only)"))

    def connect_wan(self):
        """Turns on forwarding in the internet router. The gateways were
        configured while it dropped their packets: import-ios creates crypto
        maps that start negotiating at once, before configure_vpn() sets
        what IOS has no line for. What they began meanwhile is cleared
        first; then site A starts afresh."""
        for key in ("b1", "b2", "a"):
            self.ctl(key, "clear", "crypto", "session")
        self.topo.sysctl(self.ns("inet"), "net.ipv4.ip_forward", "1")
        self.ctl("a", "clear", "crypto", "session")
        self.step("WAN up: the internet router connects site A and the B gateways")

    def configure_telemetry(self, site):
        """Dial-out telemetry: the collector's address, this agent's client
        certificate and key (sent on stdin, never on a command line), the CA
        that signed the collector's certificate, and the streaming config."""
        certs = os.path.join(self.dir, "certs")

        def read(name):
            with open(os.path.join(certs, name)) as f:
                return f.read()
        net = self.api(site.key, "post", "/object/networks",
                       {"name": "collector", "subType": "HOST", "value": COLLECTOR,
                        "type": "networkobject"})
        # gen-certs.sh names the files by UUID when it makes several
        mine = "client-%s" % site.uuid
        if not os.path.exists(os.path.join(certs, mine + ".crt")):
            mine = "client"
        cert = self.api(site.key, "post", "/object/internalcertificates",
                        {"name": "agent-cert", "cert": read(mine + ".crt"),
                         "privateKey": read(mine + ".key"),
                         "type": "internalcertificate"})
        ca = self.api(site.key, "post", "/object/externalcacertificates",
                      {"name": "collector-ca", "cert": read("ca.crt"),
                       "type": "externalcacertificate"})
        cfg = {"name": "demo-telemetry", "connectionMode": "DIAL_OUT", "port": COLLECTOR_PORT,
               "targetHost": {"id": net["id"], "name": "collector", "type": "networkobject"},
               "clientCertificate": {"id": cert["id"], "name": "agent-cert",
                                     "type": "internalcertificate"},
               "caCertificate": {"id": ca["id"], "name": "collector-ca",
                                 "type": "externalcacertificate"},
               "type": "telemetrystreamingconfig"}
        if self.interval < 60:
            cfg["minIntervalSeconds"] = self.interval
        self.api(site.key, "post", "/devicesettings/default/telemetrystreamingconfig", cfg)

    # -- the main job ------------------------------------------------------------------

    def start(self):
        """Everything up: tunnel, ping through it, metrics from every agent at
        the collector. Raises DemoError (the caller must call stop())."""
        for prog in ("vpn-agent", "vpnctl", "collector-stub"):
            if not os.access(os.path.join(self.bin, prog), os.X_OK):
                raise DemoError("%s/%s is missing: run make first" % (self.bin, prog))
        if os.geteuid() != 0:
            raise DemoError("the demo needs root for network namespaces and TUN devices "
                            "(sudo make run)")
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.t0 = time.monotonic()
        self.build_network()
        self.start_agents()
        self.start_collector()
        for key in ("b1", "b2", "a"):   # the answering side first
            self.configure_telemetry(self.sites[key])
            self.configure_vpn(self.sites[key])
        self.step("telemetry configured on the 3 agents (dial-out to %s:%d)"
                  % (COLLECTOR, COLLECTOR_PORT))
        self.connect_wan()

        b1 = self.sites["b1"]
        t = wait_for(lambda: (lambda t: t and t["status"] == "UP" and t)(self.tunnel(b1.outside)),
                     45, "site A's tunnel to B1 %s" % b1.outside, step=0.2)
        self.step("tunnel UP: site A %s <-> B1 %s (crypto map %s %s)" % (
            self.sites["a"].outside, b1.outside, t["cryptoMap"], t["sequence"]))
        sent, got = wait_for(lambda: (lambda r: r[1] == r[0] and r)(self.ping()), 15,
                             "a ping through the tunnel")
        self.step("ping %s -> %s through the tunnel: %d sent, %d received"
                  % (LAN_A_HOST, LAN_B_HOST, sent, got))

        def batches():
            devs = {d["uuid"]: d for d in self.collector_devices() or []}
            ok = all(devs.get(s.uuid, {}).get("batches_received", 0) > 0
                     for s in self.sites.values())
            return ok and devs
        devs = wait_for(batches, 30, "a metric batch from each agent at the collector",
                        step=0.2)
        self.step("metrics at the collector: " + ", ".join(
            "%s %d batch%s (%d metrics)" % (s.key, devs[s.uuid]["batches_received"],
                                            "" if devs[s.uuid]["batches_received"] == 1
                                            else "es", devs[s.uuid]["metrics_received"])
            for s in self.sites.values()))
        self.ready_s = time.monotonic() - self.t0
        self.say()
        self.say("READY after %.1f s: tunnel up, ping through it, metrics from all 3 agents "
                 "at the collector%s" % (self.ready_s, "" if self.ready_s < READY_BUDGET_S
                                         else " (over the %d s budget!)" % READY_BUDGET_S))
        self.say()
        self.say("site A, show crypto isakmp sa:")
        self.say(indent(self.ctl("a", "show", "crypto", "isakmp", "sa")))
        self.say("site A, show crypto session:")
        self.say(indent(self.ctl("a", "show", "crypto", "session")))

    def print_help(self):
        a = self.sites["a"]
        lines = ["Look around (as root; one alias per gateway):"]
        for s in self.sites.values():
            lines.append("  alias vpnctl-%s='ip netns exec %s %s'" % (
                s.key, s.ns, " ".join(self.vpnctl_argv(s))))
        lines += [
            "  vpnctl-a show crypto isakmp sa          # also: vpnctl-b1, vpnctl-b2",
            "  vpnctl-a show crypto session",
            "  vpnctl-a show crypto isakmp keepalive   # DPD settings and counters",
            "  vpnctl-a show crypto ipsec sa",
            "  vpnctl-a show telemetry status",
            "  ip netns exec %s ping -I %s %s       # LAN A -> LAN B through the tunnel"
            % (a.ns, LAN_A_HOST, LAN_B_HOST),
            "Metrics (no token; from the management namespace):"]
        for s in self.sites.values():
            lines.append("  ip netns exec %s curl -s %s   # %s" % (self.ns("mgmt"), s.metrics_url,
                                                                    s.title))
        lines += [
            "  ip netns exec %s curl -s http://%s/metrics         # what the collector "
            "received" % (self.ns("mgmt"), COLLECTOR_HTTP),
            "  ip netns exec %s curl -s http://%s/api/devices" % (self.ns("mgmt"),
                                                                  COLLECTOR_HTTP),
            "Logs:",
            "  tail -f %s" % self.collector.log_path,
            "  tail -f %s   (and agent-b1.log, agent-b2.log)" % a.proc.log_path,
            "Processes: " + ", ".join("%s pid %d" % (p.name, p.pid) for p in self.procs)]
        self.say("\n".join(lines))

    # -- DEMO=dpd --------------------------------------------------------------------

    def freeze_primary(self):
        b1 = self.sites["b1"]
        b1.proc.send(signal.SIGSTOP)
        return b1

    def dpd_scenario(self, timeout=75):
        a, b1, b2 = self.sites["a"], self.sites["b1"], self.sites["b2"]
        self.say()
        self.say("== DEMO=dpd: freezing the primary gateway B1 (SIGSTOP); site A should "
                 "declare it dead ~20 s after its last sign of life (keepalive 10 s + 5 "
                 "probes x 2 s) and fail over to B2")
        pinger = Proc("ping", self.topo, a.ns, ["ping", "-n", "-D", "-i", "0.5", "-W", "1",
                                                "-I", LAN_A_HOST, LAN_B_HOST],
                      os.path.join(self.dir, "ping.log"))
        self.procs.append(pinger)
        time.sleep(1.0)
        log_pos = len(a.proc.output())
        t_freeze, wall_freeze = time.monotonic(), time.time()
        self.freeze_primary()
        self.step("B1 (pid %d) frozen; pinging %s -> %s every 0.5 s (%s)"
                  % (b1.proc.pid, LAN_A_HOST, LAN_B_HOST, pinger.log_path))
        interesting = re.compile(r"not responding|SESSION_STATUS|failing over|deleted|DPD")
        log_prefix = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \w! \[vpn-agent\] ")
        next_show, shown = t_freeze + 5, 0
        end = t_freeze + timeout
        while True:
            text = a.proc.output()
            for line in text[log_pos:].splitlines():
                if interesting.search(line):
                    self.step("site A log: " + log_prefix.sub("", line.strip()))
            log_pos = len(text)
            t = self.tunnel(b2.outside)
            if t and t["status"] == "UP" and t["active"]:
                break
            if time.monotonic() > end:
                raise DemoError("site A did not fail over to B2 within %d s of the freeze"
                                % timeout)
            if time.monotonic() >= next_show:
                out = self.ctl("a", "show", "crypto", "isakmp", "keepalive")
                if shown:   # the table only, after the first time
                    out = "\n".join(l for l in out.splitlines()
                                    if re.match(r"(Peer |\d+\.)", l))
                self.step("site A, show crypto isakmp keepalive:")
                self.say(indent(out))
                next_show += 5
                shown += 1
            time.sleep(0.25)
        up_s = time.monotonic() - t_freeze
        dead = self.tunnel(b1.outside)
        took = (dead["declaredDeadAtMs"] - dead["livenessBeforeDeadAtMs"]) / 1000.0
        self.step("FAILOVER: site A declared B1 %s dead %.1f s after its last sign of life "
                  "(%.1f s after the freeze) and failed over to B2 %s; tunnel to B2 UP %.1f s "
                  "after the freeze" % (b1.outside, took,
                                        dead["declaredDeadAtMs"] / 1000.0 - wall_freeze,
                                        b2.outside, up_s))
        self.say("site A, show crypto isakmp keepalive:")
        self.say(indent(self.ctl("a", "show", "crypto", "isakmp", "keepalive")))
        self.say("site A, show crypto session:")
        self.say(indent(self.ctl("a", "show", "crypto", "session")))
        sent, got = wait_for(lambda: (lambda r: r[1] == r[0] and r)(self.ping()), 15,
                             "a ping through the tunnel to B2")
        self.step("ping %s -> %s through the tunnel to B2: %d sent, %d received"
                  % (LAN_A_HOST, LAN_B_HOST, sent, got))
        time.sleep(1.5)
        pinger.stop(sig=signal.SIGINT)   # ping flushes its output and prints a summary
        out = pinger.output()
        replies = [float(m.group(1)) - wall_freeze for m in
                   re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", out, re.M)]
        before = [r for r in replies if r <= 0]
        after = [r for r in replies if r > 0.2]
        summary = re.search(r"\d+ packets transmitted, \d+ received.*", out)
        self.step("background ping (every 0.5 s): last reply via B1 %s, first reply via B2 %s "
                  "(%s)" % ("%.1f s before the freeze" % -before[-1] if before else "none",
                            "%.1f s after the freeze" % after[0] if after else "none",
                            summary.group(0) if summary else "no summary"))
        self.failover = {"declared_dead_after_liveness_s": took, "up_after_freeze_s": up_s,
                         "ping_resumed_after_freeze_s": after[0] if after else None}
        self.say("B1 stays frozen until the demo stops.")

    # -- the end ---------------------------------------------------------------------------

    def stop(self):
        """Stops every process by pid (reverse start order), then deletes the
        namespaces. Returns a list of problems (empty when clean)."""
        problems = []
        stopped = []
        for p in reversed(self.procs):
            try:
                rc = p.stop()
                stopped.append("%s %d (exit %s)" % (p.name, p.pid, rc))
                if rc not in (0, None) and p.name != "ping":
                    problems.append("%s (pid %d) exited with status %s" % (p.name, p.pid, rc))
            except OSError as e:
                problems.append("stopping %s (pid %d): %s" % (p.name, p.pid, e))
        if stopped:
            self.say("stopped: " + ", ".join(stopped))
        if self.topo is not None and not self.topo.stopped:
            names = list(self.topo.namespaces)
            try:
                self.topo.stop()
            except netns.NetnsError as e:
                problems.append(str(e))
            if names:
                self.say("deleted namespaces: " + ", ".join(names))
        return problems


ENV_KEYS = ("BIN", "DEMO", "DEMO_DIR", "DEMO_SECONDS", "DEMO_NS_PREFIX", "INTERVAL")


def main():
    scenario = os.environ.get("DEMO", "")
    if scenario not in ("", "dpd", "remote-access", "gre"):
        print("demo: DEMO=%s: unknown scenario (DEMO=dpd, DEMO=remote-access, DEMO=gre, or "
              "nothing)" % scenario, file=sys.stderr)
        return 2
    seconds = os.environ.get("DEMO_SECONDS")
    try:
        if seconds is not None and float(seconds) < 0:
            raise ValueError
    except ValueError:
        print("demo: DEMO_SECONDS=%s: expected a number of seconds" % seconds, file=sys.stderr)
        return 2
    if os.geteuid() != 0 and shutil.which("sudo"):
        print("demo: network namespaces and TUN devices need root: running it with sudo",
              file=sys.stderr, flush=True)
        keep = [k for k in ENV_KEYS if k in os.environ]
        os.execvp("sudo", ["sudo"] + (["--preserve-env=" + ",".join(keep)] if keep else [])
                  + [sys.executable, os.path.abspath(__file__)])
    os.chdir(ROOT)
    kind, interval = Demo, "60"
    if scenario == "remote-access":
        import demo_remote  # noqa: E402  (tools/, beside this file)
        kind, interval = demo_remote.RemoteAccessDemo, str(demo_remote.INTERVAL_S)
    elif scenario == "gre":
        import demo_gre  # noqa: E402  (tools/, beside this file)
        kind, interval = demo_gre.GreDemo, str(demo_gre.INTERVAL_S)
    demo = kind(bin_dir=os.environ.get("BIN", "build"),
                out_dir=os.environ.get("DEMO_DIR", "build/demo"),
                prefix=os.environ.get("DEMO_NS_PREFIX", "vpndemo-"),
                interval=int(os.environ.get("INTERVAL", interval)))

    def on_signal(signum, _frame):
        raise Stop(signal.Signals(signum).name)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    rc = 0
    try:
        demo.start()
        demo.say()
        demo.print_help()
        if scenario == "dpd":
            demo.dpd_scenario()
        demo.say()
        if seconds:
            demo.say("Stopping in %s s (DEMO_SECONDS); Ctrl-C stops everything now."
                     % seconds)
            time.sleep(float(seconds))
        else:
            demo.say("Ctrl-C stops everything.")
            while True:
                signal.pause()
    except Stop as e:
        demo.say("\n%s: stopping" % e)
    except (DemoError, netns.NetnsError, subprocess.SubprocessError, OSError) as e:
        print("demo: error: %s" % e, file=sys.stderr, flush=True)
        rc = 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        problems = demo.stop()
        for p in problems:
            print("demo: cleanup: %s" % p, file=sys.stderr, flush=True)
        if problems:
            rc = rc or 1
        demo.say("logs and state kept in %s/" % demo.dir)
    return rc


if __name__ == "__main__":
    sys.exit(main())
