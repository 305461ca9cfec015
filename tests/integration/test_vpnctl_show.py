#!/usr/bin/env python3
"""vpnctl's IOS-style show and clear commands against two vpn-agent processes
in two network namespaces with a tunnel up (issue 5 item 1): pings through
the tunnel, then `show crypto isakmp sa [detail]`, `show crypto ipsec sa
[peer X]`, `show crypto session` and `show crypto isakmp keepalive` must say
what the API says (and --json must be the API's answer), `clear crypto
session remote X` clears one session that then comes back, and bad
arguments are usage errors (exit 2). VPNCTL_SHOW_VERBOSE=1 prints every
command's output."""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netns  # noqa: E402
from harness import BIN_DIR, check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "vpnctl-show-psk-0123456789"
A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_NET, B_NET = "10.205.1.0/24", "10.205.2.0/24"
A_IN, B_IN = "10.205.1.1", "10.205.2.1"
A_FLOW, B_FLOW = "10.205.1.0/255.255.255.0", "10.205.2.0/255.255.255.0"
IKE = ("aes", "sha256", 14)
ESP = ("esp-aes", "esp-sha256-hmac")
KEEPALIVE, PINGS = 10, 25
VERBOSE = bool(os.environ.get("VPNCTL_SHOW_VERBOSE"))


def pair(env):
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    topo.add_addr(na, A_IN + "/32")
    topo.add_addr(nb, B_IN + "/32")
    a = env.add(NsAgent(env, topo, na, A_OUT, name="agent-a"))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b"))
    b.configure_vpn(IKE, ESP, False, [A_OUT], PSK, B_NET, A_NET, keepalive=KEEPALIVE)
    a.configure_vpn(IKE, ESP, True, [B_OUT], PSK, A_NET, B_NET, keepalive=KEEPALIVE)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(A_OUT)["status"] == "UP",
             15, "the tunnel up on both sides")
    return topo, a, b


def vpnctl(topo, agent, *args):
    """vpnctl run inside the agent's namespace; the CompletedProcess."""
    p = agent.vpnctl(*args)
    if VERBOSE:
        info("$ vpnctl %s  (exit %d)\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def show(topo, agent, *args):
    p = vpnctl(topo, agent, *args)
    check(p.returncode == 0, "vpnctl %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    return p.stdout


def ping(topo, ns, count):
    p = topo.run(ns, ["ping", "-n", "-q", "-c", str(count), "-i", "0.02", "-W", "1", "-I", A_IN,
                      B_IN], check=False, timeout=60)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m, "ping output: %s %s" % (p.stdout, p.stderr))
    return int(m.group(1)), int(m.group(2))


def json_matches_api(topo, agent, args, paths, peer=None):
    """`vpnctl --json ARGS` is the API's answer: for one path that answer,
    for several {path: answer}. Counters and lifetimes move, so the output
    must equal the API's answer taken just before or just after it."""
    def answer():
        got = {p: agent.ok("GET", p) for p in paths}
        if peer is not None:
            got = {p: dict(v, items=[i for i in v["items"] if i["peer"] == peer])
                   for p, v in got.items()}
        return got[paths[0]] if len(paths) == 1 else got
    for _ in range(5):
        before = answer()
        out = show(topo, agent, "--json", *args)
        after = answer()
        try:
            printed = json.loads(out)
        except ValueError:
            check(False, "vpnctl --json %s is not JSON: %r" % (" ".join(args), out[:300]))
        if printed in (before, after):
            return printed
        time.sleep(0.3)
    check(False, "vpnctl --json %s differs from the API:\n%s\nAPI: %s"
          % (" ".join(args), out, json.dumps(after)))


def field_after(text, label):
    m = re.search(re.escape(label) + r"\s*(\S+)", text)
    check(m, "no %r in:\n%s" % (label, text))
    return m.group(1)


@test
def show_commands_say_what_the_api_says(env):
    topo, a, b = pair(env)
    sent, got = ping(topo, a.ns, PINGS)
    check(sent == got == PINGS, "ping through the tunnel: %d sent, %d received" % (sent, got))

    # show crypto isakmp sa: the peer's row, QM_IDLE and ACTIVE.
    out = show(topo, a, "show", "crypto", "isakmp", "sa")
    check(out.startswith("IPv4 Crypto ISAKMP SA\ndst             src             state"),
          "isakmp sa header:\n" + out)
    row = re.search(r"^%s\s+%s\s+(\S+)\s+(\S+)\s+(\S+)$" % (re.escape(B_OUT), re.escape(A_OUT)),
                    out, re.M)
    check(row and row.group(1) == "QM_IDLE" and row.group(3) == "ACTIVE",
          "no QM_IDLE/ACTIVE row for %s:\n%s" % (B_OUT, out))
    sas = json_matches_api(topo, a, ["show", "crypto", "isakmp", "sa"], ["/operational/ikesas"])
    ike = [s for s in sas["items"] if s["dst"] == B_OUT]
    check(len(ike) == 1 and ike[0]["state"] == "QM_IDLE", "API IKE SAs: %r" % sas)
    ike = ike[0]

    # detail: the negotiated algorithms, as configured and as the API says.
    out = show(topo, a, "show", "crypto", "isakmp", "sa", "detail")
    rows = [l.split() for l in out.splitlines() if A_OUT in l and B_OUT in l]
    check(len(rows) == 1, "one detail row expected:\n" + out)
    cid, local, remote, status, encr, hsh, auth, dh, life = rows[0][:9]
    cap = rows[0][9] if len(rows[0]) > 9 else ""
    check((local, remote, status) == (A_OUT, B_OUT, "ACTIVE"), "detail row %r" % rows[0])
    check((encr, hsh, dh) == (IKE[0], IKE[1], str(IKE[2])) and
          (encr, hsh, auth, int(dh), cap) == (ike["encryption"], ike["hash"],
                                               ike["authentication"], ike["group"],
                                               ike["capabilities"]),
          "detail %r vs configured %r and API %r" % (rows[0], IKE, ike))
    h, m, s = (int(x) for x in life.split(":"))
    check(abs(h * 3600 + m * 60 + s - ike["lifetimeLeftSeconds"]) <= 2,
          "lifetime %s vs API %d s" % (life, ike["lifetimeLeftSeconds"]))
    check("D" in cap, "DPD capability missing: %r" % cap)
    json_matches_api(topo, a, ["show", "crypto", "isakmp", "sa", "detail"],
                     ["/operational/ikesas"])

    # show crypto ipsec sa: counters and SPIs are the API's; the pings counted.
    out = show(topo, a, "show", "crypto", "ipsec", "sa")
    sa = a.ok("GET", "/operational/ipsecsas")["items"]
    check(len(sa) == 1, "one IPsec SA pair expected: %r" % sa)
    sa = sa[0]
    enc = re.search(r"#pkts encaps: (\d+), #pkts encrypt: (\d+), #pkts digest: (\d+)", out)
    dec = re.search(r"#pkts decaps: (\d+), #pkts decrypt: (\d+), #pkts verify: (\d+)", out)
    check(enc and dec, "no packet counters:\n" + out)
    counters = tuple(int(x) for x in enc.groups() + dec.groups())
    check(counters == (sa["pktsEncaps"], sa["pktsEncrypt"], sa["pktsDigest"], sa["pktsDecaps"],
                       sa["pktsDecrypt"], sa["pktsVerify"]),
          "counters %r vs API %r" % (counters, sa))
    check(counters[0] >= PINGS and counters[3] >= PINGS, "fewer than %d pings counted: %r"
          % (PINGS, counters))
    spi_in = re.search(r"inbound esp sas:\n\s+spi: (0x[0-9A-F]{8})\((\d+)\)", out)
    spi_out = re.search(r"outbound esp sas:\n\s+spi: (0x[0-9A-F]{8})\((\d+)\)", out)
    check(spi_in and spi_out, "no SPIs:\n" + out)
    check(spi_in.group(1) == sa["inboundSpi"] and spi_out.group(1) == sa["outboundSpi"] and
          int(spi_in.group(2)) == int(sa["inboundSpi"], 16) and
          field_after(out, "current outbound spi:").startswith(sa["outboundSpi"] + "("),
          "SPIs %s/%s vs API %s/%s" % (spi_in.group(1), spi_out.group(1), sa["inboundSpi"],
                                       sa["outboundSpi"]))
    check("interface: %s\n    Crypto map tag: VPN, local addr %s\n" % (sa["interface"], A_OUT)
          in out and sa["interface"] == "vpn0", "interface/map lines:\n" + out)
    check("current_peer %s port %d\n" % (B_OUT, sa["peerPort"]) in out and
          sa["peerPort"] == 4500 and sa["udpEncapsulated"], "peer line:\n" + out)
    check("local  ident (addr/mask/prot/port): (%s/0/0)" % A_FLOW in out and
          "remote ident (addr/mask/prot/port): (%s/0/0)" % B_FLOW in out, "idents:\n" + out)
    check(out.count("in use settings ={Tunnel UDP-Encaps, }") == 2 and
          out.count("transform: esp-aes esp-sha256-hmac ,") == 2, "transform lines:\n" + out)
    kb = re.search(r"remaining key lifetime \(k/sec\): \((\d+)/(\d+)\)", out)
    check(kb and int(kb.group(1)) <= 4608000 and int(kb.group(1)) >= 4608000 - 10 and
          abs(int(kb.group(2)) - sa["lifetimeLeftSeconds"]) <= 2, "sa timing:\n" + out)
    json_matches_api(topo, a, ["show", "crypto", "ipsec", "sa"], ["/operational/ipsecsas"])

    # peer filter: the same pair for the peer, nothing for another address.
    out_peer = show(topo, a, "show", "crypto", "ipsec", "sa", "peer", B_OUT)
    check("current_peer %s port" % B_OUT in out_peer and sa["inboundSpi"] in out_peer,
          "peer filter lost the SA:\n" + out_peer)
    other = show(topo, a, "show", "crypto", "ipsec", "sa", "peer", "192.0.2.99")
    check(other == "No IPsec SAs with peer 192.0.2.99.\n", "unknown peer: %r" % other)
    printed = json_matches_api(topo, a, ["show", "crypto", "ipsec", "sa", "peer", "192.0.2.99"],
                               ["/operational/ipsecsas"], peer="192.0.2.99")
    check(printed["items"] == [], "--json with an unknown peer: %r" % printed)
    json_matches_api(topo, a, ["show", "crypto", "ipsec", "sa", "peer", B_OUT],
                     ["/operational/ipsecsas"], peer=B_OUT)

    # show crypto session: UP-ACTIVE with the IKE SA and the flow's two SAs.
    out = show(topo, a, "show", "crypto", "session")
    want = ("Crypto session current status\n\nInterface: vpn0\nSession status: UP-ACTIVE\n"
            "Peer: %s port %d\n  IKE SA: local %s/%d remote %s/%d Active\n"
            "  IPSEC FLOW: permit ip %s %s\n        Active SAs: 2, origin: crypto map\n\n"
            % (B_OUT, ike["dstPort"], A_OUT, ike["srcPort"], B_OUT, ike["dstPort"], A_FLOW,
               B_FLOW))
    check(out == want, "show crypto session:\n%s\nwant:\n%s" % (out, want))
    json_matches_api(topo, a, ["show", "crypto", "session"],
                     ["/operational/tunnels", "/operational/ikesas", "/operational/ipsecsas",
                      "/object/cryptomaps", "/object/dynamiccryptomaps"])

    # show crypto isakmp keepalive: the settings and the peer's DPD counters,
    # once the idle tunnel has been probed.
    wait_for(lambda: (lambda t: t["rUThereSent"] + t["rUThereReceived"] >= 1)(a.tunnel(B_OUT)),
             2 * KEEPALIVE + 5, "a DPD exchange on the idle tunnel")
    for _ in range(5):
        before = a.tunnel(B_OUT)
        out = show(topo, a, "show", "crypto", "isakmp", "keepalive")
        after = a.tunnel(B_OUT)
        if before == after:
            break
    check(out.startswith("DPD: keepalive %d s, retry 2 s, retries 5, mode periodic "
                         "(crypto isakmp keepalive %d 2 periodic)\n" % (KEEPALIVE, KEEPALIVE)),
          "keepalive settings:\n" + out)
    row = [l.split() for l in out.splitlines() if l.startswith(B_OUT + " ")]
    check(len(row) == 1, "one keepalive row for %s:\n%s" % (B_OUT, out))
    r = row[0]
    want = [B_OUT, "VPN", "10", "yes", "UP"] + [str(after[k]) for k in (
        "rUThereSent", "rUThereReceived", "ackSent", "ackReceived", "retransmissions",
        "peerDeadEvents")] + [str(after["lastRttMs"]) if after["lastRttMs"] >= 0 else "-"]
    check(r == want, "keepalive row %r, API says %r" % (r, want))
    check(after["rUThereSent"] + after["rUThereReceived"] >= 1, "no DPD counted: %r" % after)
    json_matches_api(topo, a, ["show", "crypto", "isakmp", "keepalive"],
                     ["/devicesettings/default/dpd", "/operational/tunnels"])
    info("%d pings: encaps %d decaps %d, SPIs in %s out %s; DPD row %s"
         % (PINGS, counters[0], counters[3], sa["inboundSpi"], sa["outboundSpi"], " ".join(r)))


@test
def clear_session_and_usage_errors(env):
    topo, a, b = pair(env)
    bad = [("show", "crypto", "ipsec", "sa", "peer", "192.0.2.300"),
           ("show", "crypto", "ipsec", "sa", "peer"),
           ("show", "crypto", "ipsec", "sa", "peers", B_OUT),
           ("show", "crypto", "isakmp", "sa", "details"),
           ("clear", "crypto", "session", "remote", "not-an-ip"),
           ("clear", "crypto", "session", "remote", "10.1.1"),
           ("clear", "crypto", "session", B_OUT),
           ("show", "interfaces", "tunnel", "Tunnel0", "Tunnel1")]
    for args in bad:
        p = vpnctl(topo, a, *args)
        check(p.returncode == 2 and p.stdout == "" and "usage: vpnctl" in p.stderr,
              "vpnctl %s: exit %d, stdout %r, stderr %r" % (" ".join(args), p.returncode,
                                                            p.stdout, p.stderr))
    check(a.tunnel(B_OUT)["status"] == "UP", "a usage error touched the tunnel")

    spi0 = a.ok("GET", "/operational/ipsecsas")["items"][0]["inboundSpi"]
    p = vpnctl(topo, a, "--json", "clear", "crypto", "session", "remote", "192.0.2.77")
    check(p.returncode == 0 and json.loads(p.stdout) == {"cleared": 0},
          "clear of an unknown peer: %d %r" % (p.returncode, p.stdout))
    out = show(topo, a, "clear", "crypto", "session", "remote", B_OUT)
    check(out == "1 crypto session cleared with %s\n" % B_OUT, "clear said %r" % out)
    t = wait_for(lambda: (lambda t: t["status"] == "UP" and t)(a.tunnel(B_OUT)), 20,
                 "the tunnel back after the clear")
    wait_for(lambda: a.ok("GET", "/operational/ipsecsas")["items"], 10, "a new IPsec SA pair")
    spi1 = a.ok("GET", "/operational/ipsecsas")["items"][0]["inboundSpi"]
    check(spi1 != spi0, "the same SA pair after the clear (%s)" % spi0)
    out = show(topo, a, "show", "crypto", "session")
    check("Session status: UP-ACTIVE\nPeer: %s port" % B_OUT in out,
          "session after the clear:\n" + out)
    check(t["peerDeadEvents"] == 0, "a clear counted as a dead peer: %r" % t)
    sent, got = ping(topo, a.ns, 5)
    check(got == sent == 5, "pings after the clear: %d of %d" % (got, sent))
    info("cleared %s: SPI %s -> %s, session UP-ACTIVE again; %d usage errors exit 2"
         % (B_OUT, spi0, spi1, len(bad)))


if __name__ == "__main__":
    run()
