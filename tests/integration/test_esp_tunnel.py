#!/usr/bin/env python3
"""ESP dataplane between two vpn-agent processes in two network namespaces
(issue 4): ping between the protected subnets through the TUN devices and
ESP-in-UDP, 0 % loss over 100 packets, counters on both sides equal to the
packets sent, and a captured ESP packet replayed is dropped and counted."""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import capture  # noqa: E402
import harness  # noqa: E402
import netns  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "esp-tunnel-psk-0123456789"
A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_NET, B_NET = "10.202.1.0/24", "10.202.2.0/24"
A_IN, B_IN = "10.202.1.1", "10.202.2.1"


def pair(env, esp=("esp-aes", "esp-sha256-hmac"), child_life=3600, child_kb=4608000, extra=None,
         dpd_mode="PERIODIC", keepalive=10, extra_b=None):
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    if_a, _ = topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    topo.add_addr(na, A_IN + "/32")
    topo.add_addr(nb, B_IN + "/32")
    a = env.add(NsAgent(env, topo, na, A_OUT, name="agent-a", extra=extra))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b", extra=(extra or []) + (extra_b or [])))
    ike = ("aes", "sha256", 14)
    b.configure_vpn(ike, esp, False, [A_OUT], PSK, B_NET, A_NET, child_life=child_life,
                    child_kb=child_kb, mode=dpd_mode, keepalive=keepalive)
    a.configure_vpn(ike, esp, True, [B_OUT], PSK, A_NET, B_NET, child_life=child_life,
                    child_kb=child_kb, mode=dpd_mode, keepalive=keepalive)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(A_OUT)["status"] == "UP",
             15, "the tunnel up on both sides")
    return topo, na, nb, if_a, a, b


def ping(topo, ns, src, dst, count, interval="0.01", size=56):
    p = topo.run(ns, ["ping", "-n", "-q", "-c", str(count), "-i", interval, "-W", "1", "-s",
                      str(size), "-I", src, dst], check=False, timeout=90)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m, "ping output: %s %s" % (p.stdout, p.stderr))
    return int(m.group(1)), int(m.group(2)), p.stdout


def sa(agent):
    items = agent.ok("GET", "/operational/ipsecsas")["items"]
    check(len(items) == 1, "one IPsec SA pair expected: %r" % items)
    return items[0]


@test
def ping_through_the_tunnel(env):
    topo, na, nb, if_a, a, b = pair(env)
    sent, got, _ = ping(topo, na, A_IN, B_IN, 100)
    sa_a, sa_b = sa(a), sa(b)
    info("ping %s -> %s: %d sent, %d received; A encaps %d decaps %d, B encaps %d decaps %d"
         % (A_IN, B_IN, sent, got, sa_a["pktsEncaps"], sa_a["pktsDecaps"], sa_b["pktsEncaps"],
            sa_b["pktsDecaps"]))
    check(sent == 100 and got == 100, "loss: %d of %d received" % (got, sent))
    check(sa_a["pktsEncaps"] == 100 and sa_b["pktsDecaps"] == 100, "A->B counters %r %r"
          % (sa_a, sa_b))
    check(sa_b["pktsEncaps"] == 100 and sa_a["pktsDecaps"] == 100, "B->A counters")
    check(sa_a["pktsEncrypt"] == 100 and sa_a["pktsDigest"] == 100 and
          sa_b["pktsVerify"] == 100 and sa_b["pktsDecrypt"] == 100, "crypto counters")
    check(sa_a["bytesEncaps"] == sa_b["bytesDecaps"] > 0, "byte counters")
    m = a.metrics_text()
    check('vpnagent_ipsec_sa_encaps_packets_total{peer="%s",map="VPN 10"} 100' % B_OUT in m,
          "ipsec_sa metrics")


@test
def replayed_packet_dropped(env):
    topo, na, nb, if_a, a, b = pair(env)
    cap = capture.Capture(env, topo, na, if_a, name="esp", ports=(4500,))
    ping(topo, na, A_IN, B_IN, 3, "0.2")
    pcap = cap.stop()
    # The first ESP-in-UDP datagram from A to B, replayed from another port.
    p = topo.run(na, ["tshark", "-r", pcap, "-Y", "udp.srcport == 4500 && ip.src == %s && "
                      "!isakmp" % A_OUT, "-T", "fields", "-e", "udp.payload"], check=False)
    payloads = [l.strip().replace(":", "") for l in p.stdout.splitlines() if l.strip()]
    check(payloads, "no ESP captured: %s %s" % (p.stdout, p.stderr))
    esp = bytes.fromhex(payloads[0])
    check(esp[:4] != b"\0\0\0\0", "captured an IKE message, not ESP")
    before = sa(b)["replayDrops"]
    sender = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
              "s.sendto(bytes.fromhex(sys.argv[1]),(sys.argv[2],4500))")
    topo.run(na, ["python3", "-c", sender, esp.hex(), B_OUT])
    after = wait_for(lambda: (lambda n: n > before and n)(sa(b)["replayDrops"]), 5,
                     "the replay to be counted")
    m = b.metrics_text()
    info("replayed ESP seq %d: B replayDrops %d -> %d" % (int.from_bytes(esp[4:8], "big"),
                                                          before, after))
    check(after == before + 1, "replay drops %d -> %d" % (before, after))
    check('reason="replay"} 1' in m, "replay drop not in /metrics")


def metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all('%s="%s"' % kv in line for kv in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@test
def rekey_under_ping_loses_nothing(env):
    # 2560 KB (the smallest volume lifetime): 1300-byte pings cross the soft
    # limit (90 %) after ~1800 packets each way, so the pair is rekeyed
    # through Quick Mode in the middle of a continuous ping.
    topo, na, nb, if_a, a, b = pair(env, child_kb=2560)
    spi0 = sa(a)["inboundSpi"]
    sent, got, out = ping(topo, na, A_IN, B_IN, 3000, "0.002", 1300)
    m = a.metrics_text()
    rekeys = metric(m, "vpnagent_ipsec_sa_rekeys_total", {"peer": B_OUT})
    # the replaced pair overlaps the new one for 5 s, then goes
    wait_for(lambda: len(a.ok("GET", "/operational/ipsecsas")["items"]) == 1, 10,
             "the replaced pair to go")
    spi1 = sa(a)["inboundSpi"]
    info("3000 pings of 1300 B across a 2560 KB volume lifetime: %d received; IPsec rekeys %s; "
         "SPI %s -> %s" % (got, rekeys, spi0, spi1))
    check(got == sent == 3000, "lost %d packets across the rekey" % (sent - got))
    check(rekeys >= 1 and spi1 != spi0, "no rekey happened (rekeys %r)" % rekeys)


@test
def sequence_numbers_rekey_before_wrap(env):
    # B answered the pair's Quick Mode, so time and volume rekeys are
    # A's; B's outbound sequence numbers start 100 short of the soft limit
    # (a test setting: 3 billion packets would take an hour), so after ~100
    # ping replies B renews the pair itself, whatever the lifetimes say.
    topo, na, nb, if_a, a, b = pair(env, extra_b=["--test-esp-seq-start",
                                                  str(0xC0000000 - 100)])
    spi0 = sa(a)["inboundSpi"]
    sent, got, out = ping(topo, na, A_IN, B_IN, 300, "0.01")
    m = a.metrics_text()
    rekeys = metric(m, "vpnagent_ipsec_sa_rekeys_total", {"peer": B_OUT})
    # replaced pairs overlap their successor for 5 s, then go
    spis = wait_for(lambda: (lambda l: spi0 not in l and l)(
        [s["inboundSpi"] for s in a.ok("GET", "/operational/ipsecsas")["items"]]), 10,
        "the first pair to be replaced and gone")
    lines = b.proc.output().count("near the end of its sequence numbers")
    info("300 pings, B's sequence numbers from 3*2^30 - 100: %d received; B rekeyed %d times "
         "for its sequence numbers; IPsec rekeys %s; A's inbound SPI %s -> %s"
         % (got, lines, rekeys, spi0, spis))
    check(got == sent == 300, "lost %d packets across the rekeys" % (sent - got))
    check(lines >= 1 and rekeys == lines and spi0 not in spis,
          "sequence-number rekeys: log lines %d, rekeys %r" % (lines, rekeys))
    check("EXPIRED" not in out and sa_drops(b, "expired") == 0, "B dropped packets as expired")


def sa_drops(agent, reason):
    return metric(agent.metrics_text(), "vpnagent_ipsec_sa_dropped_packets_total",
                  {"reason": reason}) or 0


@test
def hard_expiry_without_rekey_stops_traffic(env):
    topo, na, nb, if_a, a, b = pair(env, child_kb=2560, extra=["--test-no-ipsec-rekey"])
    sent, got, out = ping(topo, na, A_IN, B_IN, 3000, "0.002", 1300)
    m = a.metrics_text()
    expired = metric(m, "vpnagent_ipsec_sa_dropped_packets_total", {"peer": B_OUT,
                                                                     "reason": "expired"})
    left = a.ok("GET", "/operational/ipsecsas")["items"]
    info("no rekey: %d of %d pings answered before the 2560 KB hard limit; SA pairs left %d"
         % (got, sent, len(left)))
    check(1500 < got < 2100, "answered %d pings: traffic did not stop at the hard limit" % got)
    check(left == [], "the expired pair is still installed: %r" % left)
    sent2, got2, _ = ping(topo, na, A_IN, B_IN, 5, "0.1")
    check(got2 == 0, "traffic still flows after hard expiry")


@test
def on_demand_dpd_needs_outbound_traffic(env):
    topo, na, nb, if_a, a, b = pair(env, dpd_mode="ON_DEMAND", keepalive=10)
    os.kill(b.proc.pid, signal.SIGSTOP)
    pinger = None
    try:
        # No traffic: 25 s of silence bring no probe and no verdict.
        time.sleep(25)
        t = a.tunnel(B_OUT)
        info("on-demand, peer frozen, no traffic for 25 s: R-U-THERE sent %d, status %s"
             % (t["rUThereSent"], t["status"]))
        check(t["rUThereSent"] == 0 and t["status"] == "UP", "probed without traffic: %r" % t)
        # Outbound traffic to a silent peer: probes start at once (keepalive
        # has long passed since its last sign of life), then it is dead.
        t0 = time.monotonic()
        pinger = topo.ns_exec(na, ["ping", "-n", "-q", "-c", "15", "-i", "0.5", "-I", A_IN, B_IN])
        wait_for(lambda: a.tunnel(B_OUT)["rUThereSent"] >= 1, 5, "a probe after traffic")
        t1 = time.monotonic() - t0
        t = wait_for(lambda: (lambda t: t["status"] == "DOWN" and t)(a.tunnel(B_OUT)), 20,
                     "the silent peer declared dead")
        info("outbound traffic: first probe after %.1f s, dead after %.1f s with %d probes"
             % (t1, time.monotonic() - t0, t["rUThereSent"]))
        check(t["rUThereSent"] == 5, "probes %d" % t["rUThereSent"])
    finally:
        if pinger is not None:
            pinger.kill()
            pinger.wait()
        os.kill(b.proc.pid, signal.SIGCONT)


@test
def tshark_decrypts_our_esp(env):
    for esp in (("esp-aes", "esp-sha256-hmac"), ("esp-gcm", None)):
        sub = harness.Env("tshark-" + esp[0])
        ok = False
        try:
            keylog = os.path.join(sub.dir, "esp-keys.log")
            topo, na, nb, if_a, a, b = pair(sub, esp=esp, extra=["--test-key-log", keylog])
            cap = capture.Capture(sub, topo, na, if_a, name="esp", ports=(4500,))
            sent, got, _ = ping(topo, na, A_IN, B_IN, 10, "0.05")
            time.sleep(0.5)		# let dumpcap write the last frames
            pcap = cap.stop()
            uat = capture.esp_decode_args(capture.esp_key_log(keylog))
            p = topo.run(na, ["tshark", "-r", pcap] + uat + ["-Y", "esp", "-T", "fields", "-e", "_ws.malformed",
                                  "-e", "icmp.type", "-e", "_ws.expert.severity"], check=False)
            rows = [r.split("\t") for r in p.stdout.splitlines()]
            icmp = sum(1 for r in rows if len(r) > 1 and r[1] in ("0", "8"))
            malformed = sum(1 for r in rows if r and r[0])
            info("%s: %d ESP packets captured, %d decrypted to ICMP echo, %d malformed"
                 % (esp[0], len(rows), icmp, malformed))
            # Every captured ESP packet must decrypt; the capture itself may
            # miss a frame at its edges, which says nothing about our ESP.
            check(got == 10 and len(rows) >= 16, "%d pings answered, %d ESP captured"
                  % (got, len(rows)))
            check(icmp == len(rows) and malformed == 0, "tshark: %d of %d decrypted, %d "
                  "malformed: %s" % (icmp, len(rows), malformed, p.stderr[-500:]))
            ok = True
        finally:
            errors = sub.close(ok)
            check(not errors, "teardown: %s" % errors)


def worker_counts(text):
    """{(worker, direction): packets} from vpnagent_esp_worker_packets_total."""
    out = {}
    for m in re.finditer(r'^vpnagent_esp_worker_packets_total\{worker="(\d+)",direction="(\w+)"\} '
                         r'(\d+)', text, re.M):
        out[(int(m.group(1)), m.group(2))] = int(m.group(3))
    return out


@test
def workers_share_packets_and_leave_the_loop_free(env):
    # Two workers: TUN queues spread 32 UDP flows over both (the kernel
    # hashes each flow to a queue; all 32 on one queue has odds 2^-31), every
    # inbound ESP packet is decrypted by a worker (the SPI steering keeps it
    # off IKE's socket), and the API answers during a ping flood.
    topo, na, nb, if_a, a, b = pair(env, extra=["--dp-workers", "2"])
    flows = ("import socket,sys\n"
             "for port in range(40000, 40032):\n"
             "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "    s.bind((sys.argv[1], port))\n"
             "    for i in range(20):\n"
             "        s.sendto(b'x' * 200, (sys.argv[2], 9))\n"
             "    s.close()\n")
    topo.run(na, ["python3", "-c", flows, A_IN, B_IN])
    sent_a = wait_for(lambda: (lambda c: sum(c.get((w, "out"), 0) for w in (0, 1)) >= 640 and c)(
        worker_counts(a.metrics_text())), 5, "A's workers to carry 640 packets")
    sa_b = wait_for(lambda: (lambda s: s["pktsDecaps"] >= 640 and s)(sa(b)), 5,
                    "B to decapsulate 640 packets")
    got_b = worker_counts(b.metrics_text())
    info("32 flows x 20 datagrams: A's workers sent out %d + %d; B's workers took in %d + %d "
         "(B pktsDecaps %d)" % (sent_a[(0, "out")], sent_a[(1, "out")], got_b[(0, "in")],
                                got_b[(1, "in")], sa_b["pktsDecaps"]))
    check(sent_a[(0, "out")] > 0 and sent_a[(1, "out")] > 0,
          "one worker carried every flow: %r" % sent_a)
    # Both of A's workers encrypt for the one SA, yet its sequence numbers
    # leave in order: nothing falls out of B's 64-packet replay window.
    check(sa_b["replayDrops"] == 0, "B dropped %d as replays: A's workers sent out of "
          "order" % sa_b["replayDrops"])
    check(got_b[(0, "in")] + got_b[(1, "in")] == sa_b["pktsDecaps"] >= 640,
          "ESP decrypted outside the workers: %r vs %d" % (got_b, sa_b["pktsDecaps"]))

    # An ESP datagram with an SPI nobody has: dropped before any SA, counted.
    def no_sa():
        return metric(b.metrics_text(), "vpnagent_esp_dropped_packets_total", {"reason": "no_sa"})
    before = no_sa()
    sender = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
              "s.sendto(bytes.fromhex('1234567800000001' + '00' * 40),(sys.argv[1],4500))")
    topo.run(na, ["python3", "-c", sender, B_OUT])
    after = wait_for(lambda: (lambda n: n > before and n)(no_sa()), 5, "the unknown SPI counted")
    check(after == before + 1, "no_sa drops %s -> %s" % (before, after))

    # A flood through the tunnel: the loop (API, IKE, DPD) is not the one
    # doing packet work, so it keeps answering.
    flood = topo.ns_exec(na, ["ping", "-f", "-q", "-s", "1300", "-w", "4", "-I", A_IN, B_IN],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    worst = 0.0
    try:
        while flood.poll() is None:
            t0 = time.monotonic()
            check(a.tunnel(B_OUT)["status"] == "UP", "tunnel down during the flood")
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.1)
    finally:
        out, _ = flood.communicate(timeout=10)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    check(m, "ping -f output: %s" % out)
    info("ping flood of 1300 B for 4 s: %s sent, %s received; slowest API answer meanwhile "
         "%.0f ms" % (m.group(1), m.group(2), worst * 1000))
    check(int(m.group(2)) > 0, "nothing crossed the tunnel during the flood")
    check(worst < 1.0, "the API took %.2f s to answer during the flood" % worst)


if __name__ == "__main__":
    run()
