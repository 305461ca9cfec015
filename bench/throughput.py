#!/usr/bin/env python3
"""Tunnel throughput through the same two-site topology for every gateway
(issue 4, `make bench` points (c) agent, (d) strongSwan, (e) the I/O limit).

    python3 bench/throughput.py [options] VARIANT...

VARIANT (run in the order given; `all` = every one below):
  relay        two bench/relay processes: plain TUN<->UDP, no crypto,
               recvmmsg/sendmmsg batches (e: the I/O limit of that design)
  relay-gso    the same with UDP GSO on egress and UDP GRO on ingress (--gso)
  relay-offload  --gso plus TUN offloads (--tun-offload: IFF_VNET_HDR, TSO
               super-packets cut in userspace, TCP segments merged into GSO
               writes): the I/O limit with every offload of
               shared/notes/performance.md section 5
  strongswan   two charons (Debian 5.9.8, kernel-libipsec: userspace ESP on
               TUN ipsec0), IKEv1 PSK, encap = yes, once per --esp proposal (d)
  agent        two vpn-agent processes (c): the hook agent_gateways() below;
               ESP in UDP 4500 (forceEncapsulation, as strongSwan's encap = yes)
  agent-plain  the same two agents with plain ESP (IP protocol 50, a raw
               socket per worker): what they choose without NAT (R-17.1)

Options:
  --time S        seconds per iperf3 test (default 10), plus --omit S
                  (default 1) of warm-up that is not counted
  --tests LIST    tcp,udp (default both)
  --udp-len N     UDP payload bytes (default 1372: 1400-byte inner packets)
  --udp-rate R    iperf3 -b for UDP (default 0 = as fast as the sender can)
  --esp LIST      ESP proposals for strongswan and agent
                  (default aes128gcm16,aes128-sha256)
  --repeat N      run each test N times, report the median (default 1)
  --tun-mtu N     MTU of every gateway TUN device (default 1400, strongSwan's
                  kernel-libipsec value: it reads at most 1400-byte packets
                  from ipsec0 whatever the device MTU, so larger values are
                  refused for strongswan)
  --wan-mtu N     MTU of the WAN veth (default 1500: ESP-in-UDP of a
                  1400-byte packet is at most 1476 bytes, never fragmented)
  --pin           pin site A (gateway + iperf3 client) to CPU 0 and site B
                  (gateway + iperf3 server) to CPU 1 (default: not pinned)
  --relay PATH    relay binary (default: build/bench/relay, built with make)
  --bin-dir DIR   where vpn-agent is (default $BIN_DIR or build)
  --keep          keep the run directory (logs, configs) also on success

Topology (identical for every variant; needs root; nothing leaves the
namespaces):

  site A: netns vpnt-<pid>-site-a            site B: netns vpnt-<pid>-site-b
    lo  10.200.1.1/32  (iperf3 client)         lo  10.200.2.1/32  (iperf3 server)
    route 10.200.2.0/24 -> gateway TUN         route 10.200.1.0/24 -> gateway TUN
    gateway A  [TUN] <-> UDP 192.0.2.1  ==veth "WAN"==  192.0.2.2 UDP <-> [TUN]  gateway B

The plaintext endpoints are addresses on `lo` inside each protected subnet;
the route to the other subnet (main table for the relay, strongSwan's
table 220 for charon) sends their packets into the gateway's TUN device, the
gateway carries them over the veth, the far gateway writes them into its
TUN device and the kernel delivers them to the local socket. So both iperf3
ends and both gateways share the machine's two cores with the kernel work:
the figures are a ratio tool (same run, same topology), not absolute
capacity. Every variant gets a fresh topology; a ping through the tunnel must
pass before any measurement. TCP: one stream A->B, the receiver's
goodput. UDP: one stream A->B at --udp-rate; "Gbit/s" is what the server
received (payload bits), "loss" the share of datagrams sent but not
received, wherever they were dropped (TUN queue, socket buffers); at the
default --udp-rate 0 the sender competes with the gateways for the cores,
so UDP is goodput under overload and varies more between runs than TCP
(use --repeat, or a fixed --udp-rate, when comparing). "gw CPU"
is each gateway process's CPU time / wall time (all its threads, plus any
softirq work the kernel charged to it).

Everything started (namespaces, relays, charons, iperf3) is stopped by pid and
the namespaces deleted at the end of each variant, also on failure and on
Ctrl-C/SIGTERM; on failure the run directory under build/itest/ is kept and
named."""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import netns  # noqa: E402
import strongswan  # noqa: E402
from harness import Env, Proc, TestFailure, cpu_seconds, tail, wait_for  # noqa: E402

# Addresses (documentation / private ranges, inside our namespaces only).
WAN_A, WAN_B = "192.0.2.1", "192.0.2.2"
NET_A, NET_B = "10.200.1.0/24", "10.200.2.0/24"
HOST_A, HOST_B = "10.200.1.1", "10.200.2.1"
RELAY_PORT = 4500
IPERF_PORT = 5201
RELAY_TUN = "bt0"
PSK = "throughput-bench-psk"
CONN, CHILD = "bench", "bench-child"
DEFAULT_ESP = "aes128gcm16,aes128-sha256"
VARIANTS = ["relay", "relay-gso", "relay-offload", "strongswan", "agent", "agent-plain"]
RELAY_MODES = {  # variant -> relay flags
    "relay": [],
    "relay-gso": ["--gso"],
    "relay-offload": ["--gso", "--tun-offload"],
}
LIBIPSEC_MTU = 1400  # strongSwan tun_device: buffer and default MTU
# outer IPv4 20 + UDP 8 + SPI/seq 8 + IV 16 + padding 0..15 + pad len/next hdr 2
# + ICV 16 (AES-CBC/HMAC-SHA-256-128, the largest proposal used); 76 for 1400
ESP_OVERHEAD = 76


class Gateways:
    """What a variant's setup returns: the processes whose CPU time is
    reported, the TUN device per namespace, and a one-line description."""

    def __init__(self, pids, tun, desc):
        self.pids = pids  # [(label, pid)], site A first
        self.tun = tun    # {namespace: TUN device name}
        self.desc = desc


# ---------------------------------------------------------------------------
# topology


def build_topology(env, args):
    """Two site namespaces joined by a veth; the hosts' addresses on lo.
    Returns (topo, ns_a, ns_b)."""
    topo = netns.NetTopo(env)
    a = topo.add_ns("site-a")
    b = topo.add_ns("site-b")
    for ns in (a, b):  # no IPv6 chatter (router solicitations) in the tunnel
        topo.sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "1")
        topo.sysctl(ns, "net.ipv6.conf.default.disable_ipv6", "1")
    topo.link(a, WAN_A + "/24", b, WAN_B + "/24", if_a="wan", if_b="wan",
              mtu=args.wan_mtu)
    topo.add_addr(a, HOST_A + "/32")
    topo.add_addr(b, HOST_B + "/32")
    return topo, a, b


def pin_prefix(args, site):
    """argv prefix pinning a site's process (site 0 = A, 1 = B) if --pin."""
    return ["taskset", "-c", str(site)] if args.pin else []


def pin_pid(args, site, pid):
    """Pins every thread of a running process (charon, vpn-agent) if --pin."""
    if args.pin:
        subprocess.run(["taskset", "-a", "-p", "-c", str(site), str(pid)],
                       stdout=subprocess.DEVNULL, check=True)


# ---------------------------------------------------------------------------
# variant: relay (e)


def relay_binary(args):
    if args.relay:
        return args.relay
    path = os.path.join(ROOT, "build", "bench", "relay")
    # Once the Makefile has `-include bench/bench.mk` it has the rule; until
    # then the rule file is passed explicitly. (Without the rule, make would
    # call a stale binary up to date through its .d file.)
    with open(os.path.join(ROOT, "Makefile")) as f:
        included = "bench/bench.mk" in f.read()
    argv = ["make", "--no-print-directory", "-C", ROOT]
    if not included:
        argv += ["-f", "Makefile", "-f", "bench/bench.mk"]
    p = subprocess.run(argv + ["build/bench/relay"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0 or not os.access(path, os.X_OK):
        raise TestFailure("building %s failed:\n%s" % (path, tail(p.stdout, 20)))
    return path


def relay_gateways(env, topo, a, b, args, flags):
    binary = relay_binary(args)
    pids = []
    for site, (ns, local, peer, net_far, host) in enumerate((
            (a, WAN_A, WAN_B, NET_B, HOST_A), (b, WAN_B, WAN_A, NET_A, HOST_B))):
        argv = pin_prefix(args, site) + [
            binary, "--tun", RELAY_TUN, "--mtu", str(args.tun_mtu),
            "--local", "%s:%d" % (local, RELAY_PORT), "--peer", "%s:%d" % (peer, RELAY_PORT)]
        argv += flags
        name = "relay-" + "ab"[site]
        proc = env.add(Proc(name, topo.ns_argv(ns, argv), env.dir))
        wait_for(lambda p=proc: _relay_ready(p), 5, name + " ready")
        topo.add_route(ns, net_far, "dev", RELAY_TUN, "src", host)
        pids.append((name, proc.pid))
    desc = "bench/relay, no crypto, batch 32, UDP %s, TUN %s" % (
        "GSO/GRO (UDP_SEGMENT + UDP_GRO)" if "--gso" in flags else "sendmmsg/recvmmsg",
        "IFF_VNET_HDR + TSO4 (cut/merged in userspace)" if "--tun-offload" in flags
        else "one read/write per packet")
    return Gateways(pids, {a: RELAY_TUN, b: RELAY_TUN}, desc)


def _relay_ready(proc):
    out = proc.output()
    if not proc.alive():
        raise TestFailure("%s exited:\n%s" % (proc.name, tail(out, 20)))
    return "relay: ready" in out


# ---------------------------------------------------------------------------
# variant: strongswan (d)


def strongswan_gateways(env, topo, a, b, args, esp):
    missing = strongswan.missing_tools()
    missing = [m for m in missing if m not in ("tshark", "dumpcap")]  # not needed here
    if missing:
        raise TestFailure("missing %s: run tests/lib/install-deps.sh" % ", ".join(missing))
    if args.tun_mtu > LIBIPSEC_MTU:
        raise Unsupported("kernel-libipsec reads at most %d-byte packets from ipsec0 "
                          "(--tun-mtu %d)" % (LIBIPSEC_MTU, args.tun_mtu))
    charons = []
    for site, (ns, local, remote, lnet, rnet) in enumerate((
            (a, WAN_A, WAN_B, NET_A, NET_B), (b, WAN_B, WAN_A, NET_B, NET_A))):
        conf = strongswan.ikev1_psk(CONN, local, remote, lnet, rnet, PSK, child=CHILD,
                                    esp_proposals=esp, encap=True)
        # charon's own logs at level 0: a log line per packet would cost CPU
        quiet = {"filelog": {"main": {"default": 0}, "keys": {"ike": 0, "chd": 0}}}
        ch = strongswan.Charon(env, topo, ns, "charon-" + "ab"[site], conf, charon_extra=quiet)
        pin_pid(args, site, ch.pid)
        charons.append(ch)
    charons[0].initiate(child=CHILD, ike=CONN)
    for ch in charons:
        child = ch.child_sa(CONN, CHILD)
        if child is None or child.get("state") != "INSTALLED":
            raise TestFailure("%s: CHILD SA not installed: %r" % (ch.name, ch.list_sas()))
    child = charons[0].child_sa(CONN, CHILD)
    alg = child.get("encr-alg", "?") + "-" + str(child.get("encr-keysize", ""))
    if child.get("integ-alg"):
        alg += "/" + child["integ-alg"]
    for ns in (a, b):
        topo.ip(ns, "link", "set", "ipsec0", "mtu", str(args.tun_mtu))
    desc = "strongSwan %s kernel-libipsec, IKEv1 PSK, ESP %s in UDP (esp_proposals %s)" % (
        _charon_version(), alg, esp)
    return Gateways([(c.name, c.pid) for c in charons], {a: "ipsec0", b: "ipsec0"}, desc)


def _charon_version():
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "strongswan-charon"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() or "?"


# ---------------------------------------------------------------------------
# variant: agent (c) -- THE HOOK


def agent_gateways(env, topo, a, b, args, esp, plain=False):
    """HOOK for (c), to be filled in by the vpn-agent's authors.

    Given (already built, see build_topology):
      env     harness.Env: env.dir is the run directory for logs/state; every
              process started must be registered with env.add(...) (e.g.
              harness.Proc or harness.Agent), so it is stopped by pid at the
              end of the variant, also on failure or Ctrl-C
      topo    netns.NetTopo; a, b the full namespace names of sites A and B
              (topo.ns_argv(ns, argv) runs argv inside one)
      args    the parsed command line (args.bin_dir: where vpn-agent is;
              args.tun_mtu; args.pin -> use pin_prefix()/pin_pid())
      esp     the ESP proposal to use, strongSwan spelling ("aes128gcm16",
              "aes128-sha256"); raise Unsupported(reason) if the agent does
              not offer it -- that row is then skipped, not failed
    Addresses: WAN veth "wan" 192.0.2.1/24 (A) <-> 192.0.2.2/24 (B), MTU
    args.wan_mtu; host addresses 10.200.1.1/32 (A) and 10.200.2.1/32 (B) on
    lo; protected subnets 10.200.1.0/24 (A) and 10.200.2.0/24 (B).

    Must:
      1. start one vpn-agent inside each namespace (the API/metrics listeners
         may stay on 127.0.0.1: each namespace has its own loopback);
      2. configure a site-to-site tunnel between 192.0.2.1 and 192.0.2.2
         protecting 10.200.1.0/24 <-> 10.200.2.0/24 (IKEv1 PSK, ESP `esp`
         in UDP 4500, forced encapsulation like strongSwan's encap = yes);
      3. make 10.200.2.0/24 reach the agent's TUN device in A with source
         10.200.1.1 (e.g. `ip route add 10.200.2.0/24 dev <tun> src
         10.200.1.1`), and 10.200.1.0/24 in B with source 10.200.2.1, in
         whatever table the agent uses;
      4. return only when the CHILD SA is installed on both sides, as
         Gateways(pids=[("agent-a", pid), ("agent-b", pid)],
                  tun={a: "<tun name>", b: "<tun name>"},
                  desc="vpn-agent <version>, ESP <alg> in UDP, <dataplane notes>").
    The driver then sets both TUN MTUs to args.tun_mtu, checks that
    `ip route get` sends 10.200.1.1 -> 10.200.2.1 into the returned device,
    pings through the tunnel, and measures. It stops the processes and
    deletes the namespaces itself."""
    import nsagent
    from nsagent import NsAgent
    esp_map = {"aes128gcm16": ("esp-gcm", None), "aes256gcm16": ("esp-gcm-256", None),
               "aes128-sha256": ("esp-aes", "esp-sha256-hmac"),
               "aes128-sha1": ("esp-aes", "esp-sha-hmac"),
               "aes256-sha256": ("esp-aes-256", "esp-sha256-hmac")}
    if esp not in esp_map:
        raise Unsupported("the agent has no ESP proposal %s" % esp)
    old_bin = nsagent.BIN_DIR
    nsagent.BIN_DIR = os.path.abspath(args.bin_dir)	# the binaries under test
    try:
        # The driver's TUN device names its roles; the agent creates its own.
        # DP_WORKERS=N: the agents' --dp-workers (default: one per CPU)
        workers = os.environ.get("DP_WORKERS")
        extra = ["--tun-name", "vpn0"] + (["--dp-workers", workers] if workers else [])
        ga = env.add(NsAgent(env, topo, a, "192.0.2.1", name="agent-a", extra=extra))
        gb = env.add(NsAgent(env, topo, b, "192.0.2.2", name="agent-b", extra=extra))
    finally:
        nsagent.BIN_DIR = old_bin
    psk = "throughput-bench-psk-0123456789"
    ike = ("aes", "sha256", 14)
    gb.configure_vpn(ike, esp_map[esp], False, ["192.0.2.1"], psk, "10.200.2.0/24",
                     "10.200.1.0/24", keepalive=30, force_encap=not plain)
    ga.configure_vpn(ike, esp_map[esp], True, ["192.0.2.2"], psk, "10.200.1.0/24",
                     "10.200.2.0/24", keepalive=30, force_encap=not plain)
    wait_for(lambda: ga.tunnel("192.0.2.2")["status"] == "UP" and
                     gb.tunnel("192.0.2.1")["status"] == "UP", 20, "the agents' tunnel")
    # The agent routes the remote selector into vpn0; give it the source.
    for ns, net, src in ((a, "10.200.2.0/24", "10.200.1.1"), (b, "10.200.1.0/24", "10.200.2.1")):
        topo.run(ns, ["ip", "route", "replace", net, "dev", "vpn0", "src", src])
    return Gateways(pids=[("agent-a", ga.proc.pid), ("agent-b", gb.proc.pid)],
                    tun={a: "vpn0", b: "vpn0"},
                    desc=("vpn-agent, plain ESP %s (IP protocol 50), a worker per CPU (%d), "
                          "multi-queue TUN with offloads (TSO/USO super-packets cut, TCP merged), "
                          "a raw socket per worker steered by SPI (classic BPF), sendmmsg/recvmmsg "
                          "batches" if plain else
                          "vpn-agent, ESP %s in UDP 4500, a worker per CPU (%d), multi-queue TUN "
                          "with offloads (TSO/USO super-packets cut, TCP merged), SO_REUSEPORT "
                          "steered by SPI, UDP GSO/GRO trains")
                    % (esp, int(workers or os.cpu_count() or 1)))


class Unsupported(Exception):
    """A variant/proposal this build cannot run: reported as skipped."""


# ---------------------------------------------------------------------------
# measurement


class IperfServer:
    """iperf3 -s -1 in site B (one test each); stop() kills it by pid."""

    def __init__(self, env, topo, ns, args, name):
        argv = pin_prefix(args, 1) + ["iperf3", "-s", "-1", "-B", HOST_B, "-p", str(IPERF_PORT)]
        self.proc = Proc(name, topo.ns_argv(ns, argv), env.dir)
        self.env = env
        env.add(self)
        wait_for(lambda: self._listening(topo, ns), 5, "iperf3 server listening")

    def _listening(self, topo, ns):
        if not self.proc.alive():
            raise TestFailure("iperf3 server exited:\n" + tail(self.proc.output(), 10))
        p = topo.run(ns, ["ss", "-Hltn", "sport = :%d" % IPERF_PORT], check=False)
        return str(IPERF_PORT) in p.stdout

    def wait(self, timeout):
        try:
            self.proc.p.wait(timeout)
        except subprocess.TimeoutExpired:
            pass

    def stop(self, check_clean=False):
        self.proc.stop(check_clean=False, timeout=3)
        if self in self.env.started:
            self.env.started.remove(self)


def run_iperf(env, topo, a, b, args, kind, gw, tag):
    """One iperf3 test A->B; returns a result dict."""
    server = IperfServer(env, topo, b, args, "iperf3-server-" + tag)
    argv = pin_prefix(args, 0) + [
        "iperf3", "-c", HOST_B, "-B", HOST_A, "-p", str(IPERF_PORT), "-J",
        "-t", str(args.time), "-O", str(args.omit), "--connect-timeout", "3000"]
    if kind == "udp":
        # -w: socket buffers on both ends (within net.core.rmem_max), so the
        # server's socket is not what drops datagrams
        argv += ["-u", "-b", args.udp_rate, "-l", str(args.udp_len), "-w", "4M"]
    cpu0 = [_cpu(pid) for _, pid in gw.pids]
    t0 = time.monotonic()
    p = topo.run(a, argv, check=False, timeout=args.time + args.omit + 30)
    wall = time.monotonic() - t0
    cpu1 = [_cpu(pid) for _, pid in gw.pids]
    server.wait(5)
    server.stop()
    with open(os.path.join(env.dir, "iperf3-%s.json" % tag), "w") as f:
        f.write(p.stdout)
    try:
        d = json.loads(p.stdout)
    except ValueError:
        raise TestFailure("iperf3 %s: no JSON (exit %d): %s" % (kind, p.returncode,
                                                               tail(p.stdout + p.stderr, 10)))
    if "error" in d:
        raise TestFailure("iperf3 %s: %s" % (kind, d["error"]))
    end = d["end"]
    r = {"cpu": [(c1 - c0) / wall if c0 is not None and c1 is not None else None
                 for c0, c1 in zip(cpu0, cpu1)]}
    if kind == "tcp":
        r["gbps"] = end["sum_received"]["bits_per_second"] / 1e9
        r["sent_gbps"] = end["sum_sent"]["bits_per_second"] / 1e9
        r["retrans"] = end["sum_sent"].get("retransmits")
        r["loss"] = None
    else:
        rx, tx = end["sum_received"], end["sum_sent"]
        r["gbps"] = rx["bits_per_second"] / 1e9
        r["sent_gbps"] = tx["bits_per_second"] / 1e9
        # iperf3's own lost_percent miscounts after -O (it can exceed 100%):
        # compare the bytes sent and received over the same measured seconds
        r["loss"] = max(0.0, 1.0 - rx["bytes"] / tx["bytes"]) * 100 if tx["bytes"] else None
        r["retrans"] = None
    return r


def _cpu(pid):
    try:
        return cpu_seconds(pid)
    except (OSError, IndexError, ValueError):
        return None


def median_result(runs):
    """Median by goodput (the whole run, so its fields stay consistent)."""
    runs = sorted(runs, key=lambda r: r["gbps"])
    r = dict(runs[(len(runs) - 1) // 2])
    if len(runs) > 1:
        r["spread"] = (runs[0]["gbps"], runs[-1]["gbps"])
    return r


def check_path(topo, a, b, gw):
    """The route from host A to host B uses the gateway's TUN device, and a
    ping crosses the tunnel."""
    for ns, src, dst in ((a, HOST_A, HOST_B), (b, HOST_B, HOST_A)):
        route = topo.ip(ns, "route", "get", dst, "from", src).strip()
        if "dev %s " % gw.tun[ns] not in route + " ":
            raise TestFailure("%s: %s -> %s does not use %s: %s" % (ns, src, dst, gw.tun[ns], route))
    p = topo.run(a, ["ping", "-n", "-c", "3", "-i", "0.2", "-W", "2", "-I", HOST_A, HOST_B],
                 check=False, timeout=15)
    if p.returncode != 0:
        raise TestFailure("ping %s -> %s through the tunnel failed:\n%s" % (HOST_A, HOST_B, p.stdout))


# ---------------------------------------------------------------------------
# driving one variant


def configs(variants, args):
    """[(label, setup function)] for the requested variants."""
    esps = [e for e in args.esp.split(",") if e]
    out = []
    for v in variants:
        if v in RELAY_MODES:
            out.append((v, lambda env, t, a, b, f=RELAY_MODES[v]:
                        relay_gateways(env, t, a, b, args, f)))
        elif v in ("strongswan", "agent", "agent-plain"):
            for esp in esps:
                if v == "strongswan":
                    fn = (lambda env, t, a, b, esp=esp:
                          strongswan_gateways(env, t, a, b, args, esp))
                else:
                    fn = (lambda env, t, a, b, esp=esp, plain=v == "agent-plain":
                          agent_gateways(env, t, a, b, args, esp, plain))
                out.append(("%s[%s]" % (v, esp), fn))
    return out


def run_variant(label, setup, args):
    """Builds the topology, starts the gateways, measures; always tears down.
    Returns {"tcp": result, "udp": result} or raises."""
    env = Env("throughput-" + label.replace("[", "-").replace("]", ""))
    ok = False
    try:
        results = _measure(env, label, setup, args)
        ok = True
        return results
    except Unsupported:
        ok = True  # nothing to keep
        raise
    except (TestFailure, netns.NetnsError, subprocess.SubprocessError, OSError, KeyError,
            ValueError) as e:
        print("== %s: FAILED: %s" % (label, e), flush=True)
        raise VariantFailed(label)
    finally:
        # no second Ctrl-C in the middle of the teardown
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            errors = env.close(ok and not args.keep)
        finally:
            signal.signal(signal.SIGINT, old)
        if errors:
            print("   teardown: %s" % "; ".join(errors), flush=True)
        if not ok or args.keep or errors:
            print("   run directory kept: %s" % env.dir, flush=True)


class VariantFailed(Exception):
    pass


def _measure(env, label, setup, args):
    """The topology, the gateways, the path check, the iperf3 tests."""
    topo, a, b = build_topology(env, args)
    t0 = time.monotonic()
    gw = setup(env, topo, a, b)
    for ns in (a, b):
        topo.ip(ns, "link", "set", gw.tun[ns], "mtu", str(args.tun_mtu))
    check_path(topo, a, b, gw)
    setup_s = time.monotonic() - t0
    results = {}
    for kind in args.tests:
        runs = [run_iperf(env, topo, a, b, args, kind, gw, "%s-%d" % (kind, i))
                for i in range(args.repeat)]
        results[kind] = median_result(runs)
    print_variant(label, gw, results, args, setup_s, topo, a)
    return results


def print_variant(label, gw, results, args, setup_s, topo, a):
    m = re.search(r" qlen (\d+)", topo.ip(a, "-o", "link", "show", gw.tun[a]))
    print("== %s: %s" % (label, gw.desc))
    print("   %s <-> %s, TUN %s MTU %d txqueuelen %s, WAN veth MTU %d, up in %.1f s"
          % (NET_A, NET_B, gw.tun[a], args.tun_mtu, m.group(1) if m else "?",
             args.wan_mtu, setup_s))
    print("   %d s per test after %d s warm-up%s; %s"
          % (args.time, args.omit, ", median of %d runs (min-max)" % args.repeat
             if args.repeat > 1 else "",
             "pinned: site A (gateway, iperf3 client) CPU 0, site B (gateway, iperf3 "
             "server) CPU 1" if args.pin else "not pinned (%d CPUs)" % os.cpu_count()))
    names = [n for n, _ in gw.pids]
    print("   %-18s %8s %12s %8s %8s  %s  %s" % ("test (A->B)", "Gbit/s", "sent Gbit/s", "loss",
                                                 "retrans", "  ".join("%9s" % n for n in names),
                                                 "gw CPU per Gbit/s"))
    for kind in args.tests:
        r = results[kind]
        name = "tcp" if kind == "tcp" else "udp %d B" % args.udp_len
        loss = "-" if r["loss"] is None else "%.1f%%" % r["loss"]
        retr = "-" if r["retrans"] is None else str(r["retrans"])
        cpu = "  ".join("%8s%%" % ("?" if c is None else "%.0f" % (c * 100)) for c in r["cpu"])
        spread = (" (%.2f-%.2f)" % r["spread"]) if "spread" in r else ""
        print("   %-18s %8.2f %12.2f %8s %8s  %s  %16s%s" % (
            name, r["gbps"], r["sent_gbps"], loss, retr, cpu, cpu_per_gbps(r), spread))
    bound = crypto_bound(label)
    if bound:
        print("   crypto bound of %s on one core (openssl speed, 1400 B): %.2f Gbit/s; "
              "tcp at %.0f %% of it" % (bound[0], bound[1],
                                       100 * results["tcp"]["gbps"] / bound[1]
                                       if "tcp" in results else 0))
    print(flush=True)


def cpu_per_gbps(r):
    """Both gateways' CPU (percent of one core, from /proc) per Gbit/s of
    goodput: what a Gbit/s costs, comparable across runs and versions."""
    if any(c is None for c in r["cpu"]) or r["gbps"] <= 0:
        return "?"
    return "%.1f %%" % (sum(r["cpu"]) * 100 / r["gbps"])


_BOUNDS = {}


def crypto_bound(label):
    """(proposal, Gbit/s) for an agent row: AES-GCM, or AES-CBC and then
    HMAC-SHA-256 over the same bytes (1/(1/enc + 1/mac)), 1400-byte blocks,
    openssl speed on one core; None for other rows."""
    m = re.match(r"agent(-plain)?\[(.*)\]$", label)
    if not m:
        return None
    esp = m.group(2)
    if esp not in _BOUNDS:
        def speed(argv):
            out = subprocess.run(["openssl", "speed", "-seconds", "1", "-bytes", "1400"] + argv,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True).stdout
            last = out.strip().splitlines()[-1].split()
            return float(last[-1].rstrip("k")) * 1000 * 8 / 1e9	# 1000s of bytes/s
        try:
            if "gcm" in esp:
                _BOUNDS[esp] = speed(["-evp", "aes-%s-gcm" % esp[3:6]])
            else:
                enc = speed(["-evp", "aes-%s-cbc" % esp[3:6]])
                mac = speed(["-hmac", esp.split("-")[1]])
                _BOUNDS[esp] = 1 / (1 / enc + 1 / mac)
        except (OSError, IndexError, ValueError):
            _BOUNDS[esp] = None
    return (esp, _BOUNDS[esp]) if _BOUNDS[esp] else None


def print_ratios(all_results, args):
    relays = [k for k in all_results if k.startswith("relay")]
    swans = [k for k in all_results if k.startswith("strongswan[")]
    agents = [k for k in all_results if k.startswith("agent[") or k.startswith("agent-plain[")]
    lines = []

    def ratio(num, den):
        parts = []
        for kind in args.tests:
            n, d = all_results[num].get(kind), all_results[den].get(kind)
            if n and d and d["gbps"] > 0:
                parts.append("%s %.2f" % (kind, n["gbps"] / d["gbps"]))
        if parts:
            lines.append("   %-44s %s" % ("%s / %s" % (num, den), "   ".join(parts)))

    for ag in agents:
        for rl in relays:
            ratio(ag, rl)  # c/e
    for ag in agents:
        sw = "strongswan[" + ag[ag.index("[") + 1:]
        if sw in all_results:
            ratio(ag, sw)  # c/d, same ESP proposal
    for ag in agents:
        udp = "agent[" + ag[len("agent-plain["):]
        if ag.startswith("agent-plain[") and udp in all_results:
            ratio(ag, udp)  # plain ESP / ESP-in-UDP, same proposal
    ref = len(lines)
    for sw in swans:
        for rl in relays:
            ratio(sw, rl)  # d/e, for reference
    if lines:
        print("== ratios of goodput, same run (c/e = agent/relay, c/d = agent/strongswan "
              "with the same ESP, agent-plain/agent = plain ESP / ESP-in-UDP%s)" % ("; the rest, strongswan/relay, for reference" if ref < len(lines) else ""))
        print("\n".join(lines))
        print(flush=True)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Tunnel throughput, see the module docstring.")
    ap.add_argument("variants", nargs="+",
                    choices=VARIANTS + ["all"])
    ap.add_argument("--time", type=int, default=10)
    ap.add_argument("--omit", type=int, default=1)
    ap.add_argument("--tests", default="tcp,udp")
    ap.add_argument("--udp-len", type=int, default=1372)
    ap.add_argument("--udp-rate", default="0")
    ap.add_argument("--esp", default=DEFAULT_ESP)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tun-mtu", type=int, default=1400)
    ap.add_argument("--wan-mtu", type=int, default=1500)
    ap.add_argument("--pin", action="store_true")
    ap.add_argument("--relay")
    ap.add_argument("--bin-dir", default=os.environ.get("BIN_DIR", "build"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    args.tests = [t for t in args.tests.split(",") if t]
    if not args.tests or any(t not in ("tcp", "udp") for t in args.tests):
        ap.error("--tests: tcp, udp or tcp,udp")
    if not 1 <= args.time <= 300 or not 0 <= args.omit <= 10 or not 1 <= args.repeat <= 20:
        ap.error("--time 1..300, --omit 0..10, --repeat 1..20")
    if not 64 <= args.udp_len <= args.tun_mtu - 28:
        ap.error("--udp-len must fit the TUN MTU (64..%d)" % (args.tun_mtu - 28))
    if args.wan_mtu < args.tun_mtu + ESP_OVERHEAD:
        ap.error("--wan-mtu must be at least --tun-mtu + %d, or ESP-in-UDP packets are "
                 "fragmented on the WAN" % ESP_OVERHEAD)
    if not os.path.isabs(args.bin_dir):
        args.bin_dir = os.path.join(ROOT, args.bin_dir)
    variants = []
    for v in args.variants:
        for x in (VARIANTS if v == "all" else [v]):
            if x not in variants:
                variants.append(x)
    return args, variants


def _sigterm(*_):
    raise KeyboardInterrupt


def main(argv):
    args, variants = parse_args(argv)
    if os.geteuid() != 0:
        print("throughput.py needs root (ip netns, /dev/net/tun)", file=sys.stderr)
        return 2
    for tool in ("iperf3", "ip", "ss", "taskset", "ping"):
        if subprocess.run(["sh", "-c", "command -v " + tool], stdout=subprocess.DEVNULL).returncode:
            print("missing %s: run tests/lib/install-deps.sh" % tool, file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, _sigterm)
    # also when started in the background of a script, where SIGINT comes in
    # ignored and Python would keep ignoring it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("throughput: %s, kernel %s, %d CPUs, iperf3 %s\n" % (
        time.strftime("%Y-%m-%d %H:%M:%S"), os.uname().release, os.cpu_count(),
        subprocess.run(["iperf3", "--version"], stdout=subprocess.PIPE, text=True)
        .stdout.split()[1]), flush=True)
    all_results, failed, skipped = {}, [], []
    try:
        for label, setup in configs(variants, args):
            try:
                all_results[label] = run_variant(label, setup, args)
            except Unsupported as e:
                skipped.append(label)
                print("== %s: skipped: %s\n" % (label, e), flush=True)
            except VariantFailed:
                failed.append(label)
                print(flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted; everything started was stopped", file=sys.stderr)
        return 130
    print_ratios(all_results, args)
    print("throughput: %d measured, %d skipped, %d failed%s" % (
        len(all_results), len(skipped), len(failed),
        (" (" + ", ".join(failed) + ")") if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
