#!/usr/bin/env python3
"""Two vpn-agent processes in two network namespaces joined by a veth
(issue 3): the tunnel comes up, periodic DPD counters rise on both sides,
SIGSTOP on one makes the other declare it dead at keepalive + retries x
retry after its last proof of liveness (within 1 s of real time), its
vpnagent_tunnel_up drops to 0, and after SIGCONT the tunnel comes back."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netns  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "two-agents-psk-0123456789"
A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_NET, B_NET = "10.201.1.0/24", "10.201.2.0/24"
KEEPALIVE, RETRY, RETRIES = 10, 2, 5


def metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all('%s="%s"' % kv in line for kv in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@test
def dpd_between_two_agents(env):
    check(os.geteuid() == 0, "needs root (ip netns)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    a = env.add(NsAgent(env, topo, na, A_OUT, name="agent-a"))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b"))
    ike, esp = ("aes", "sha256", 14), ("esp-aes", "esp-sha256-hmac")
    b.configure_vpn(ike, esp, False, [A_OUT], PSK, B_NET, A_NET, keepalive=KEEPALIVE)
    a.configure_vpn(ike, esp, True, [B_OUT], PSK, A_NET, B_NET, keepalive=KEEPALIVE)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(A_OUT)["status"] == "UP",
             15, "the tunnel up on both sides")
    check(metric(a.metrics_text(), "vpnagent_tunnel_up", {"peer": B_OUT}) == 1,
          "vpnagent_tunnel_up is not 1 on A")

    # The idle tunnel is probed and answered. A probe is itself proof of
    # liveness for the side that receives it, so with equal keepalives the
    # first side to probe keeps the other quiet: both sides' counters rise,
    # as sender on one and as answerer on the other.
    def exchanged():
        ta, tb = a.tunnel(B_OUT), b.tunnel(A_OUT)
        return (ta["rUThereSent"] + tb["rUThereSent"] >= 2 and
                ta["ackReceived"] + tb["ackReceived"] >= 2 and
                ta["rUThereSent"] + ta["rUThereReceived"] >= 2 and
                tb["rUThereSent"] + tb["rUThereReceived"] >= 2)
    wait_for(exchanged, 2 * KEEPALIVE + 5, "two DPD rounds answered")
    ta, tb = a.tunnel(B_OUT), b.tunnel(A_OUT)
    check(ta["rUThereSent"] == ta["ackReceived"] and tb["rUThereSent"] == tb["ackReceived"],
          "unanswered probes on a live tunnel: A %r B %r" % (ta, tb))
    info("A: R-U-THERE sent %d received %d, ACK sent %d received %d; "
         "B: R-U-THERE sent %d received %d, ACK sent %d received %d"
         % (ta["rUThereSent"], ta["rUThereReceived"], ta["ackSent"], ta["ackReceived"],
            tb["rUThereSent"], tb["rUThereReceived"], tb["ackSent"], tb["ackReceived"]))
    for side, peer in ((a, B_OUT), (b, A_OUT)):
        m = side.metrics_text()
        total = sum(metric(m, "vpnagent_dpd_" + n + "_total", {"peer": peer}) or 0
                    for n in ("r_u_there_sent", "r_u_there_received"))
        check(total >= 2, "%s: DPD counters in /metrics: %s" % (side.name, total))

    # Freeze B: A declares it dead K + N*R after B's last proof of liveness.
    os.kill(b.proc.pid, signal.SIGSTOP)
    try:
        t = wait_for(lambda: (lambda t: t["status"] == "DOWN" and t)(a.tunnel(B_OUT)),
                     KEEPALIVE + RETRIES * RETRY + 10, "A to declare B dead")
        took = t["declaredDeadAtMs"] - t["livenessBeforeDeadAtMs"]
        want = (KEEPALIVE + RETRIES * RETRY) * 1000
        info("A declared B dead %d ms after B's last proof of liveness (want %d +- 1000); "
             "peer dead events %d" % (took, want, t["peerDeadEvents"]))
        check(abs(took - want) <= 1000, "declared dead after %d ms, want %d" % (took, want))
        check(t["peerDeadEvents"] == 1, "peer dead events %d" % t["peerDeadEvents"])
        check(metric(a.metrics_text(), "vpnagent_tunnel_up", {"peer": B_OUT}) == 0,
              "vpnagent_tunnel_up is not 0 after the peer died")
        check("Crypto tunnel is DOWN. Peer %s:500" % B_OUT in a.proc.output(),
              "no IOS-style DOWN line in A's log")
    finally:
        os.kill(b.proc.pid, signal.SIGCONT)
    t0 = time.monotonic()
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(A_OUT)["status"] == "UP",
             60, "the tunnel back after SIGCONT")
    info("tunnel back up on both sides %.1f s after SIGCONT" % (time.monotonic() - t0))


@test
def clear_session_and_metrics(env):
    check(os.geteuid() == 0, "needs root (ip netns)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    a = env.add(NsAgent(env, topo, na, A_OUT, name="agent-a"))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b"))
    ike, esp = ("aes-256", "sha", 19), ("esp-aes-256", "esp-sha-hmac")
    b.configure_vpn(ike, esp, False, [A_OUT], PSK, B_NET, A_NET)
    a.configure_vpn(ike, esp, True, [B_OUT], PSK, A_NET, B_NET)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP", 15, "the tunnel up")
    text = a.metrics_text()
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    check(p.returncode == 0, "promtool on /metrics with a live tunnel: %s" % (p.stdout + p.stderr))
    spi0 = a.ok("GET", "/operational/ipsecsas")["items"][0]["inboundSpi"]
    st, body = a.api("POST", "/operational/clearsessions", {"remote": B_OUT})
    check(st == 200 and body["cleared"] >= 1, "clearsessions: %s %r" % (st, body))
    st, body = a.api("POST", "/operational/clearsessions", {"remote": "not-an-ip"})
    check(st == 400 and "remote" in str(body), "bad remote: %s %r" % (st, body))
    t = wait_for(lambda: (lambda t: t["status"] == "UP" and t)(a.tunnel(B_OUT)), 15,
                 "the tunnel to come back after the clear")
    spi1 = a.ok("GET", "/operational/ipsecsas")["items"][0]["inboundSpi"]
    m = a.metrics_text()
    info("promtool clean with %d vpnagent_ series; cleared, back UP with SPI %s -> %s; "
         "failovers (manual clear is not one): %s" % (
             sum(1 for l in text.splitlines() if l.startswith("vpnagent_")), spi0, spi1,
             metric(m, "vpnagent_failover_failovers_total", {"reason": "manual"})))
    check(spi1 != spi0, "same SA after the clear")
    check(metric(m, "vpnagent_tunnel_state_transitions_total", {"peer": B_OUT, "state": "down"})
          == 1, "down transitions")


if __name__ == "__main__":
    run()
