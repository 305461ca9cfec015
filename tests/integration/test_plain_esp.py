#!/usr/bin/env python3
"""Plain ESP (IP protocol 50, R-17.1) between two vpn-agent processes, and
the choice NAT-D makes (issue 13, acceptance 1 and 2).

Without NAT between the agents and without forceEncapsulation the pair is
plain ESP; two implementations that are not ours check it: tshark decrypts
the capture with the SA keys (0 malformed), and scapy's IPsec layer builds
and encrypts packets with the keys of A's outbound SA, which B accepts and
answers, and decrypts B's answers. With a masquerading NAT between the same
two agents NAT-D sees it and the pair is ESP-in-UDP on 4500."""

import os
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import capture  # noqa: E402
import harness  # noqa: E402
import netns  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from inject import checksum  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "plain-esp-psk-0123456789"
A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_NET, B_NET = "10.203.1.0/24", "10.203.2.0/24"
A_IN, B_IN = "10.203.1.1", "10.203.2.1"
# behind a NAT: A in 10.203.9.0/24, the NAT's outside address beside B
A_PRIV, NAT_IN, NAT_OUT = "10.203.9.2", "10.203.9.1", "192.0.2.3"
IKE = ("aes", "sha256", 14)


def agents(env, topo, na, nb, a_addr, b_peer, esp, keylog=None, a_kw=None, b_kw=None):
    """A initiates to B; B knows A as b_peer (A's address as B sees it).
    a_kw, b_kw: configure_vpn arguments (protected nets, protocol...)."""
    extra = ["--test-key-log", keylog] if keylog else None
    a = env.add(NsAgent(env, topo, na, a_addr, name="agent-a", extra=extra))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b"))
    b_kw = dict({"local_net": B_NET, "remote_net": A_NET}, **(b_kw or {}))
    a_kw = dict({"local_net": A_NET, "remote_net": B_NET}, **(a_kw or {}))
    b.configure_vpn(IKE, esp, False, [b_peer], PSK, force_encap=False, **b_kw)
    a.configure_vpn(IKE, esp, True, [B_OUT], PSK, force_encap=False, **a_kw)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(b_peer)["status"] == "UP",
             15, "the tunnel up on both sides")
    return a, b


def direct(env, esp, keylog=None):
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    if_a, _ = topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    topo.add_addr(na, A_IN + "/32")
    topo.add_addr(nb, B_IN + "/32")
    a, b = agents(env, topo, na, nb, A_OUT, A_OUT, esp, keylog)
    return topo, na, nb, if_a, a, b


def ping(topo, ns, src, dst, count, interval="0.01"):
    p = topo.run(ns, ["ping", "-n", "-q", "-c", str(count), "-i", interval, "-W", "1", "-I", src,
                      dst], check=False, timeout=60)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m, "ping output: %s %s" % (p.stdout, p.stderr))
    return int(m.group(1)), int(m.group(2))


def one(agent, path):
    items = agent.ok("GET", path)["items"]
    check(len(items) == 1, "%s: one item expected: %r" % (path, items))
    return items[0]


def esp_frames(topo, ns, pcap, src):
    """(plain ESP frames, ESP-in-UDP frames) from src in the capture."""
    counts = []
    for flt in ("esp && !udp && ip.src == %s" % src, "udp.port == 4500 && !isakmp && "
                "ip.src == %s && udp.length > 9" % src):
        p = topo.run(ns, ["tshark", "-r", pcap, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                     check=False)
        counts.append(len([l for l in p.stdout.splitlines() if l.strip()]))
    return tuple(counts)


def key_log(path):
    """{(src, dst): SA} from --test-key-log lines, the newest per direction."""
    return {(sa["src"], sa["dst"]): sa for sa in capture.esp_key_log(path)}


def echo_request(ident, seq, data=b"scapy-plain-esp!" * 3):
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    c = checksum(hdr + data)
    return struct.pack("!BBHHH", 8, 0, c, ident, seq) + data


@test
def chosen_by_nat_detection(env):
    # No NAT: plain ESP, both sides say why.
    sub = harness.Env("plain-direct")
    ok = False
    try:
        topo, na, nb, if_a, a, b = direct(sub, ("esp-aes", "esp-sha256-hmac"))
        cap = capture.Capture(sub, topo, na, if_a, name="esp", bpf="ip proto 50 or udp port 4500")
        sent, got = ping(topo, na, A_IN, B_IN, 100)
        pcap = cap.stop()
        ike_a, ike_b = one(a, "/operational/ikesas"), one(b, "/operational/ikesas")
        sa_a, sa_b = one(a, "/operational/ipsecsas"), one(b, "/operational/ipsecsas")
        plain, udp = esp_frames(topo, na, pcap, A_OUT)
        info("no NAT: NAT-D A %r, B %r; IKE ports %d/%d; SA udpEncapsulated A %r B %r; ping %d/%d;"
             " A sent %d plain ESP, %d ESP-in-UDP; A encaps %d decaps %d, B encaps %d decaps %d"
             % (ike_a["natDetected"], ike_b["natDetected"], ike_a["srcPort"], ike_a["dstPort"],
                sa_a["udpEncapsulated"], sa_b["udpEncapsulated"], got, sent, plain, udp,
                sa_a["pktsEncaps"], sa_a["pktsDecaps"], sa_b["pktsEncaps"], sa_b["pktsDecaps"]))
        check(ike_a["natDetected"] == ike_b["natDetected"] == "none", "NAT-D result")
        check(ike_a["dstPort"] == 500, "IKE floated to 4500 without NAT")
        check(not sa_a["udpEncapsulated"] and not sa_b["udpEncapsulated"], "encapsulated")
        check(sent == got == 100, "ping %d/%d" % (got, sent))
        check(plain >= 100 and udp == 0, "capture: %d plain, %d in UDP" % (plain, udp))
        check(sa_a["pktsEncaps"] == sa_b["pktsDecaps"] == 100 and
              sa_b["pktsEncaps"] == sa_a["pktsDecaps"] == 100, "counters")
        check("NAT-D with %s: no NAT: plain ESP" % B_OUT in a.proc.output(), "A's log says why")
        # every packet B took in was decrypted by a worker off its raw socket
        inb = {w: int(n) for w, n in re.findall(
            r'^vpnagent_esp_worker_packets_total\{worker="(\d+)",direction="in"\} (\d+)',
            b.metrics_text(), re.M)}
        info("B's workers, packets in: %r" % inb)
        check(sum(inb.values()) == 100, "workers decrypted %r, not the 100 packets" % inb)
        ok = True
    finally:
        errors = sub.close(ok)
        check(not errors, "teardown: %s" % errors)

    # The same two agents with a masquerading NAT in front of A.
    check(os.geteuid() == 0, "needs root")
    topo = netns.NetTopo(env)
    na, nat, nb = topo.add_ns("site-a"), topo.add_ns("nat"), topo.add_ns("site-b")
    topo.link(na, A_PRIV + "/24", nat, NAT_IN + "/24")
    nat_out, if_b = topo.link(nat, NAT_OUT + "/24", nb, B_OUT + "/24")
    topo.add_route(na, "default", "via", NAT_IN)
    topo.sysctl(nat, "net.ipv4.ip_forward", "1")
    topo.run(nat, ["nft", "-f", "-"], input=(
        "add table ip nat\n"
        "add chain ip nat post { type nat hook postrouting priority 100 ; }\n"
        "add rule ip nat post oifname \"%s\" masquerade\n" % nat_out))
    topo.add_addr(na, A_IN + "/32")
    topo.add_addr(nb, B_IN + "/32")
    a, b = agents(env, topo, na, nb, A_PRIV, NAT_OUT, ("esp-aes", "esp-sha256-hmac"))
    cap = capture.Capture(env, topo, nb, if_b, name="esp-nat", bpf="ip proto 50 or udp port 4500")
    sent, got = ping(topo, na, A_IN, B_IN, 20)
    pcap = cap.stop()
    ike_a, ike_b = one(a, "/operational/ikesas"), one(b, "/operational/ikesas")
    sa_a, sa_b = one(a, "/operational/ipsecsas"), one(b, "/operational/ipsecsas")
    plain, udp = esp_frames(topo, nb, pcap, NAT_OUT)
    info("NAT in front of A: NAT-D A %r, B %r; IKE to %s:%d; SA udpEncapsulated A %r B %r; "
         "ping %d/%d; B received %d plain ESP, %d ESP-in-UDP from the NAT"
         % (ike_a["natDetected"], ike_b["natDetected"], ike_a["dst"], ike_a["dstPort"],
            sa_a["udpEncapsulated"], sa_b["udpEncapsulated"], got, sent, plain, udp))
    check(ike_a["natDetected"] == "local" and ike_b["natDetected"] == "peer", "NAT-D result")
    check(ike_a["dstPort"] == 4500, "IKE did not float to 4500")
    check(sa_a["udpEncapsulated"] and sa_b["udpEncapsulated"], "not encapsulated")
    check(sent == got == 20, "ping %d/%d" % (got, sent))
    check(udp >= 20 and plain == 0, "capture: %d plain, %d in UDP" % (plain, udp))


@test
def other_implementations_agree(env):
    for esp in (("esp-aes", "esp-sha256-hmac"), ("esp-gcm", None)):
        sub = harness.Env("plain-" + esp[0])
        ok = False
        try:
            keylog = os.path.join(sub.dir, "esp-keys.log")
            topo, na, nb, if_a, a, b = direct(sub, esp, keylog)
            cap = capture.Capture(sub, topo, na, if_a, name="esp", bpf="ip proto 50")
            sent, got = ping(topo, na, A_IN, B_IN, 10, "0.05")
            time.sleep(0.3)
            sas = key_log(keylog)
            a_to_b, b_to_a = sas[(A_OUT, B_OUT)], sas[(B_OUT, A_OUT)]

            # tshark decrypts every captured packet with the keys
            pcap = cap.stop()
            uat = capture.esp_decode_args(sas.values())
            p = topo.run(na, ["tshark", "-r", pcap] + uat + ["-Y", "esp", "-T", "fields", "-e", "_ws.malformed",
                                  "-e", "icmp.type"], check=False)
            rows = [r.split("\t") for r in p.stdout.splitlines()]
            icmp = sum(1 for r in rows if len(r) > 1 and r[1] in ("0", "8"))
            malformed = sum(1 for r in rows if r and r[0])
            info("%s: tshark: %d plain ESP packets captured, %d decrypted to ICMP echo, "
                 "%d malformed" % (esp[0], len(rows), icmp, malformed))
            check(got == 10 and len(rows) >= 16, "%d pings answered, %d ESP captured"
                  % (got, len(rows)))
            check(icmp == len(rows) and malformed == 0, "tshark: %d of %d decrypted, %d "
                  "malformed: %s" % (icmp, len(rows), malformed, p.stderr[-500:]))

            # scapy encrypts with A's outbound SA (sequence numbers well
            # ahead of A's own), B takes them and answers; scapy decrypts
            # B's answers (the agent's ESP) with B's outbound SA.
            before = one(b, "/operational/ipsecsas")["pktsDecaps"]
            cap = capture.Capture(sub, topo, na, if_a, name="esp-scapy", bpf="ip proto 50")
            ident = 0x5ca9
            pkts = [{"src": A_IN, "dst": B_IN, "proto": 1, "id": 100 + i,
                     "payload": echo_request(ident, i).hex()} for i in range(5)]
            r = capture.scapy_esp(topo, na, {"op": "send", "sa": a_to_b, "seq": 1000, "packets": pkts,
                                 "outer": [A_OUT, B_OUT]})
            wait_for(lambda: one(b, "/operational/ipsecsas")["pktsDecaps"] >= before + 5, 5,
                     "B to decrypt scapy's packets")
            pcap = cap.stop()
            dec = capture.scapy_esp(topo, na, {"op": "decrypt", "sa": b_to_a, "pcap": pcap, "tunnel": True})
            replies = [d for d in dec["packets"] if d.get("icmp_type") == 0 and
                       d.get("icmp_id") == ident]
            errors = [d for d in dec["packets"] if "error" in d]
            after = one(b, "/operational/ipsecsas")
            info("%s: scapy sent %d echo requests as ESP seq 1000..1004; B decaps %d -> %d; "
                 "scapy decrypted %d packets from B: %d echo replies to them (seq %s), %d errors"
                 % (esp[0], r["sent"], before, after["pktsDecaps"], len(dec["packets"]),
                    len(replies), sorted(d["icmp_seq"] for d in replies), len(errors)))
            check(after["pktsDecaps"] == before + 5 and after["authFailures"] == 0,
                  "B's counters: %r" % after)
            check(sorted(d["icmp_seq"] for d in replies) == list(range(5)) and not errors,
                  "scapy: %r" % dec)
            ok = True
        finally:
            errors = sub.close(ok)
            check(not errors, "teardown: %s" % errors)


@test
def transport_mode_between_the_gateways(env):
    # `permit udp host A host B eq 5555` (B: `permit udp host B eq 5555
    # host A`), mode transport: the hosts' own UDP to B:5555 reaches the
    # agent by a policy rule and crosses as transport-mode ESP; other UDP,
    # ICMP and the agents' own IKE and ESP go as they are.
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    if_a, _ = topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    a, b = agents(env, topo, na, nb, A_OUT, A_OUT, ("esp-aes", "esp-sha256-hmac"),
                  a_kw={"local_net": A_OUT, "remote_net": B_OUT, "protocol": "udp",
                        "dport": 5555, "esp_mode": "transport"},
                  b_kw={"local_net": B_OUT, "remote_net": A_OUT, "protocol": "udp",
                        "sport": 5555, "esp_mode": "transport"})
    sa_a = one(a, "/operational/ipsecsas")
    rules = topo.run(na, ["ip", "rule", "show"]).stdout
    info("A's pair: mode %s, protocol %d, ports %d/%d, udpEncapsulated %r; A's rules:\n%s"
         % (sa_a["mode"], sa_a["protocol"], sa_a["localPort"], sa_a["remotePort"],
            sa_a["udpEncapsulated"], rules.rstrip()))
    check(sa_a["mode"] == "transport" and sa_a["protocol"] == 17 and
          sa_a["remotePort"] == 5555 and not sa_a["udpEncapsulated"], "the pair: %r" % sa_a)
    check("ipproto udp dport 5555 lookup 4500" in rules and "fwmark 0x4500 lookup main" in rules,
          "policy rules: %s" % rules)
    cap = capture.Capture(env, topo, na, if_a, name="wan", bpf="ip proto 50 or udp or icmp")
    listener = topo.ns_exec(nb, ["python3", "-c",
                                 "import socket,sys\n"
                                 "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                                 "s.bind((sys.argv[1],int(sys.argv[2]))); s.settimeout(10)\n"
                                 "got=[s.recvfrom(100) for _ in range(5)]\n"
                                 "print(' '.join('%s:%d=%s' % (a[0],a[1],d.decode()) "
                                 "for d,a in got))", B_OUT, "5555"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)
    sender = ("import socket,sys,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
              "s.bind((sys.argv[1],0))\n"
              "for i in range(5): s.sendto(b'udp%d' % i,(sys.argv[2],int(sys.argv[3])))\n"
              "s.sendto(b'clear',(sys.argv[2],5556))")
    topo.run(na, ["python3", "-c", sender, A_OUT, B_OUT, "5555"])
    out, _ = listener.communicate(timeout=15)
    sent, got = ping(topo, na, A_OUT, B_OUT, 3)
    pcap = cap.stop()
    sa_a, sa_b = one(a, "/operational/ipsecsas"), one(b, "/operational/ipsecsas")
    p = topo.run(na, ["tshark", "-r", pcap, "-T", "fields", "-e", "ip.proto", "-e", "udp.dstport",
                      "-e", "icmp.type"], check=False)
    frames = [l.split("\t") for l in p.stdout.splitlines()]
    esp = sum(1 for f in frames if f[0] == "50")
    # (B's port unreachable for 5556 quotes it: protocols "1,17")
    clear_5555 = sum(1 for f in frames if f[0] == "17" and f[1] == "5555")
    clear_5556 = sum(1 for f in frames if f[0] == "17" and f[1] == "5556")
    icmp = sum(1 for f in frames if f[0] == "1" and f[2] in ("0", "8"))
    info("B received: %s; A encaps %d, B decaps %d; on the wire: %d ESP, %d UDP to 5555 in "
         "clear, %d UDP to 5556 in clear, %d ICMP echo in clear (ping %d/%d)"
         % (out.strip(), sa_a["pktsEncaps"], sa_b["pktsDecaps"], esp, clear_5555, clear_5556,
            icmp, got, sent))
    check(listener.returncode == 0 and out.count("=udp") == 5, "B's listener: %r" % out)
    check(sa_a["pktsEncaps"] == 5 and sa_b["pktsDecaps"] == 5, "counters")
    check(esp == 5 and clear_5555 == 0 and clear_5556 == 1 and icmp == 6 and got == 3,
          "the wire: %r" % frames)


if __name__ == "__main__":
    run()
