#!/usr/bin/env python3
"""GRE over IPsec as in the GRE/RIP reference (R-17.3; issue 13, acceptance
3 and 4): two agents, each configured by `vpnctl import-ios` from the
reference's router configuration (modernised algorithms, pre-shared keys),
so each provides `interface Tunnel0` itself (a TUN device: this kernel has
no GRE device) and protects `permit gre host A host B` in transport mode.

  router 101 (namespace r101)                   router 102 (namespace r102)
    lo 192.168.1.1/24 (Loopback1)                 lo 172.16.1.1/24 (Loopback1)
    Tunnel0 10.10.10.1/30  --- GRE in ESP ---     Tunnel0 10.10.10.2/30
    Ethernet0/0 20.1.1.1/24 ==== veth ====        Ethernet0/0 20.1.1.2/24

bird2 runs RIP (as the reference) on each Tunnel0 and learns the other's
LAN; a ping LAN to LAN crosses it; tshark decrypts the ESP to GRE carrying
the inner packets; a transport-mode packet of another protocol, made by
scapy with the SA's keys, is dropped as `policy`; and when DPD declares
the peer dead the tunnel interface goes down and the learnt route goes;
`vpnctl show interfaces tunnel` says so, as the API does."""

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import capture  # noqa: E402
from bird import Bird  # noqa: E402
import harness  # noqa: E402
import netns  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(ROOT, "tests", "golden", "ios")
ROUTERS = {
    # name: (WAN address, LAN on lo, Tunnel0 address, peer WAN, peer LAN net)
    "101": ("20.1.1.1", "192.168.1.1/24", "10.10.10.1", "20.1.1.2", "172.16.1.0/24"),
    "102": ("20.1.1.2", "172.16.1.1/24", "10.10.10.2", "20.1.1.1", "192.168.1.0/24"),
}
KEEPALIVE, RETRY, RETRIES = 10, 2, 5

def route(topo, ns, net):
    """The kernel's route to net in ns ('' when none)."""
    return topo.run(ns, ["ip", "-4", "route", "show", net]).stdout.strip()


def link_state(topo, ns, dev):
    out = topo.run(ns, ["ip", "-o", "link", "show", dev]).stdout
    m = re.search(r"<([^>]*)>.* state (\S+)", out)
    return (m.group(1).split(","), m.group(2)) if m else ([], "?")


def import_ios(agent, router):
    path = os.path.join(GOLDEN, "cisco-ios-ipsec-gre-modern-%s.cfg" % router)
    p = agent.vpnctl("import-ios", path)
    check(p.returncode == 0, "import-ios %s: %s %s" % (path, p.stdout, p.stderr))
    return p.stdout


def gre_pair(env, keylog=None):
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    ns = {r: topo.add_ns("r" + r) for r in ROUTERS}
    if_101, _ = topo.link(ns["101"], ROUTERS["101"][0] + "/24", ns["102"], ROUTERS["102"][0] + "/24")
    agents = {}
    for r, (wan, lan, _, _, _) in ROUTERS.items():
        topo.add_addr(ns[r], lan)
        extra = ["--test-key-log", keylog] if keylog and r == "101" else None
        agents[r] = env.add(NsAgent(env, topo, ns[r], wan, name="router-" + r, extra=extra))
    for r in ("102", "101"):	# the responder first
        out = import_ios(agents[r], r)
        info("router %s: import-ios: %s" % (r, out.strip().splitlines()[-1] if out.strip() else ""))
        dpd = agents[r].ok("GET", "/devicesettings/default/dpd")
        agents[r].ok("PUT", "/devicesettings/default/dpd",
                     dict(dpd, keepaliveSeconds=KEEPALIVE, retrySeconds=RETRY, retries=RETRIES,
                          mode="PERIODIC"))
    a, b = agents["101"], agents["102"]
    wait_for(lambda: (a.tunnel("20.1.1.2") or {}).get("status") == "UP" and
             (b.tunnel("20.1.1.1") or {}).get("status") == "UP", 20, "the IPsec tunnel up")
    return topo, ns, if_101, a, b


def show_interfaces_tunnel(a):
    """vpnctl show interfaces tunnel on router 101 says what the API says, in
    IOS's shape; --json is the API's item; a name it has not is exit 1."""
    before = a.ok("GET", "/operational/tunnelinterfaces")["items"]
    p = a.vpnctl("show", "interfaces", "tunnel", "Tunnel0")
    after = a.ok("GET", "/operational/tunnelinterfaces")["items"]
    check(p.returncode == 0 and p.stdout.startswith(
        "Tunnel0 is up, line protocol is up\n  Hardware is Tunnel\n"
        "  Internet address is 10.10.10.1/30\n  MTU 1420 bytes\n"
        "  Tunnel source 20.1.1.1, destination 20.1.1.2\n"), "show: %r %r" % (p.stdout, p.stderr))
    m = re.search(r"(\d+) packets input, (\d+) bytes, (\d+) malformed, (\d+) input errors\n"
                  r" +(\d+) packets output, (\d+) bytes, (\d+) no IPsec SA, (\d+) output errors",
                  p.stdout)
    check(m, "no counters: %r" % p.stdout)
    keys = ("packetsIn", "bytesIn", "inMalformed", "inErrors", "packetsOut", "bytesOut",
            "outNoSa", "outErrors")
    shown = dict(zip(keys, (int(x) for x in m.groups())))
    check(len(before) == len(after) == 1 and
          all(before[0][k] <= shown[k] <= after[0][k] for k in keys) and shown["packetsIn"] >= 20,
          "shown %r, API before %r after %r" % (shown, before, after))
    p = a.vpnctl("--json", "show", "interfaces", "tunnel", "Tunnel0")
    items = json.loads(p.stdout)["items"] if p.returncode == 0 else None
    check(items and len(items) == 1 and items[0]["id"] == before[0]["id"] and
          items[0]["type"] == "tunnelinterfacestatus", "--json: %r %r" % (p.stdout, p.stderr))
    p = a.vpnctl("show", "interfaces", "tunnel", "Tunnel9")
    check(p.returncode == 1 and p.stdout == "" and p.stderr ==
          'vpnctl: no tunnel interface "Tunnel9" (the agent has Tunnel0)\n',
          "unknown name: %d %r %r" % (p.returncode, p.stdout, p.stderr))
    info("router 101: show interfaces tunnel Tunnel0: %d packets in, %d out, as the API says"
         % (shown["packetsIn"], shown["packetsOut"]))


@test
def rip_over_gre_over_ipsec(env):
    keylog = os.path.join(env.dir, "esp-keys.log")
    topo, ns, if_101, a, b = gre_pair(env, keylog)
    for r, agent in (("101", a), ("102", b)):
        flags, state = link_state(topo, ns[r], "Tunnel0")
        addr = topo.run(ns[r], ["ip", "-o", "-4", "addr", "show", "Tunnel0"]).stdout.split()
        info("router %s: Tunnel0 %s state %s, %s" % (r, ",".join(flags), state,
                                                      " ".join(addr[3:4])))
        check("UP" in flags and "LOWER_UP" in flags, "Tunnel0 of %s is not up: %r" % (r, flags))
    sas = a.ok("GET", "/operational/ipsecsas")["items"]
    check(sas and all(s["mode"] == "transport" and s["protocol"] == 47 and
                      not s["udpEncapsulated"] for s in sas), "the GRE pairs: %r" % sas)
    info("router 101: %d SA pair(s), transport mode, protocol 47, plain ESP" % len(sas))

    cap = capture.Capture(env, topo, ns["101"], if_101, name="wan", bpf="ip proto 50")
    t0 = time.monotonic()
    birds = {r: Bird(env, topo, ns[r], "bird-" + r, ROUTERS[r][2]) for r in ROUTERS}
    for r, (_, _, _, _, peer_lan) in ROUTERS.items():
        wait_for(lambda r=r, n=peer_lan: "Tunnel0" in route(topo, ns[r], n), 30,
                 "router %s to learn %s by RIP" % (r, peer_lan))
    learnt = time.monotonic() - t0
    for r, (_, _, _, _, peer_lan) in ROUTERS.items():
        info("router %s: %s" % (r, route(topo, ns[r], peer_lan)))
    info("both LANs learnt by RIP over Tunnel0 %.2f s after bird started" % learnt)
    # Reapplying the configuration (any API change) leaves the device be:
    # no address taken away and given back under RIP's feet.
    mon = topo.ns_exec(ns["101"], ["ip", "-o", "monitor", "address", "route"],
                       stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        for retries in (RETRIES + 1, RETRIES):
            dpd = a.ok("GET", "/devicesettings/default/dpd")
            a.ok("PUT", "/devicesettings/default/dpd", dict(dpd, retries=retries))
        time.sleep(1)
    finally:
        mon.terminate()
        events, _ = mon.communicate(timeout=5)
    flaps = [l for l in events.splitlines() if "Tunnel0" in l]
    info("two configuration changes: %d address/route events on Tunnel0" % len(flaps))
    check(not flaps, "Tunnel0 flapped on a configuration change: %r" % flaps)
    p = topo.run(ns["101"], ["ping", "-n", "-q", "-c", "20", "-i", "0.05", "-W", "1",
                             "-I", "192.168.1.1", "172.16.1.1"], check=False, timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m and m.group(1) == m.group(2) == "20", "LAN ping: %s" % p.stdout)
    info("ping 192.168.1.1 -> 172.16.1.1: %s/%s" % (m.group(2), m.group(1)))
    sas = a.ok("GET", "/operational/ipsecsas")["items"]
    check(sum(s["pktsEncaps"] for s in sas) >= 20 and sum(s["pktsDecaps"] for s in sas) >= 20,
          "GRE pair counters %r" % sas)

    show_interfaces_tunnel(a)

    # tshark: the ESP decrypts to GRE carrying the routers' packets
    pcap = cap.stop()
    uat = capture.esp_decode_args(capture.esp_key_log(keylog))
    p = topo.run(ns["101"], ["tshark", "-r", pcap] + uat + ["-Y", "esp", "-T", "fields", "-e", "_ws.malformed", "-e", "gre.proto",
                          "-e", "icmp.type", "-e", "rip.version"], check=False)
    rows = [r.split("\t") + ["", "", "", ""] for r in p.stdout.splitlines()]
    gre = sum(1 for r in rows if r[1] == "0x0800")
    icmp = sum(1 for r in rows if r[2] in ("0", "8"))
    rip = sum(1 for r in rows if r[3] == "2")
    malformed = sum(1 for r in rows if r[0])
    info("tshark: %d ESP packets, %d decrypted to GRE (IPv4 inside): %d ICMP echo, %d RIPv2; "
         "%d malformed" % (len(rows), gre, icmp, rip, malformed))
    check(rows and gre == len(rows) and malformed == 0 and icmp >= 40 and rip >= 2,
          "tshark: %s" % p.stderr[-500:])

    # R-13 for transport mode: UDP in the GRE pair is outside its selectors.
    # Both routers initiate (as imported), so there may be a pair each way
    # round: the one of A's outbound SAs that B has. Its sequence number a
    # little ahead of A's own, so A's packets stay inside B's window.
    pairs = {p["inboundSpi"]: p for p in b.ok("GET", "/operational/ipsecsas")["items"]}
    sa = None
    for k in capture.esp_key_log(keylog):
        if (k["src"], k["dst"]) == ("20.1.1.1", "20.1.1.2") and "0x%08X" % k["spi"] in pairs:
            sa = k
    check(sa is not None, "no SA of A's that B has: %r" % list(pairs))
    spi = "0x%08X" % sa["spi"]
    before = pairs[spi]
    seq = before["pktsDecaps"] + 32
    udp = struct.pack("!HHHH", 5000, 5000, 12, 0) + b"odd!"
    capture.scapy_esp(topo, ns["101"], {"op": "send", "sa": sa, "seq": seq, "outer": None,
                            "packets": [{"src": "20.1.1.1", "dst": "20.1.1.2", "proto": 17,
                                         "payload": udp.hex()}]})

    def pair_b():
        return [p for p in b.ok("GET", "/operational/ipsecsas")["items"]
                if p["inboundSpi"] == spi][0]
    after = wait_for(lambda: (lambda p: p["recvErrors"] > before["recvErrors"] and p)(pair_b()),
                     5, "the UDP packet to be dropped")
    m = b.metrics_text()
    policy = [l for l in m.splitlines() if l.startswith("vpnagent_ipsec_sa_dropped_packets_total")
              and 'reason="policy"' in l]
    info("a transport-mode UDP packet in the GRE pair %s (scapy, seq %d): router 102 recvErrors "
         "%d -> %d, decaps %d -> %d; %s" % (spi, seq, before["recvErrors"], after["recvErrors"],
                                          before["pktsDecaps"], after["pktsDecaps"], policy))
    check(after["recvErrors"] == before["recvErrors"] + 1, "counters %r" % after)
    check(policy and policy[0].endswith(" 1"), "policy drop not counted: %r" % policy)

    # DPD: router 102 freezes; 101 declares it dead, Tunnel0 goes down, the route goes
    os.kill(b.proc.pid, signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        wait_for(lambda: a.tunnel("20.1.1.2")["status"] == "DOWN",
                 KEEPALIVE + RETRIES * RETRY + 10, "101 to declare 102 dead")
        dead = time.monotonic() - t0
        flags, state = wait_for(lambda: (lambda f: "LOWER_UP" not in f[0] and f)(
            link_state(topo, ns["101"], "Tunnel0")), 5, "Tunnel0 of 101 down")
        wait_for(lambda: route(topo, ns["101"], "172.16.1.0/24") == "", 10,
                 "the route to 102's LAN withdrawn")
        gone = time.monotonic() - t0
        info("102 frozen: 101 declared it dead after %.1f s; Tunnel0 %s (state %s); route to "
             "172.16.1.0/24 gone after %.1f s" % (dead, ",".join(flags), state, gone))
        check("LINEPROTO-5-UPDOWN: Line protocol on Interface Tunnel0, changed state to down"
              in a.proc.output(), "no line protocol log line")
        p = a.vpnctl("show", "interfaces", "tunnel", "0")   # IOS's `show interfaces tunnel 0`
        check(p.returncode == 0 and p.stdout.startswith(
            "Tunnel0 is up, line protocol is down\n"), "after DPD: %r %r" % (p.stdout, p.stderr))
    finally:
        os.kill(b.proc.pid, signal.SIGCONT)


if __name__ == "__main__":
    run()
