#!/usr/bin/env python3
"""vpn-agent against strongSwan's charon on a hostile network (SPEC R-13):
anyone on the path sends datagrams from charon's address, with any port, or
replays what it captured. Each test runs one attack against an established
tunnel (or against the responder) with tests/lib/inject.py, a raw-socket
injector run inside the test's namespaces, and checks the engine's
invariants: nothing unauthenticated moves IV, port or liveness (R-13.1,
R-13.3), replays are not accepted (R-13.2), a flood of spoofed Main Mode
openings does not lock a configured peer out (R-13.4), every drop is
counted by reason (R-13.5) and a flood of garbage costs no DPD death and no
API stall.

The agent is configured as in test_interop_strongswan.py (forced UDP
encapsulation, so IKE floats to 4500 with the non-ESP marker; DPD periodic,
keepalive 10 s, retry 2 s, 5 retries)."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import capture  # noqa: E402
import harness  # noqa: E402
import inject  # noqa: E402
import netns  # noqa: E402
import strongswan  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "hostile-test-psk-0123456789"
AGENT_OUT, SUN_OUT = "192.0.2.1", "192.0.2.2"
AGENT_NET, SUN_NET = "10.200.1.0/24", "10.200.2.0/24"
CONN, CHILD = "agent", "agent-child"
IKE = ("aes", "sha256", 14)
ESP = ("esp-aes", "esp-sha256-hmac")
INJECT = os.path.join(os.path.dirname(os.path.abspath(inject.__file__)), "inject.py")
MARKER = inject.NON_ESP_MARKER
SPOOF_NET = "198.18.0.0/15"
FLOOD_SECONDS = 3  # 3000 spoofed MM1 at 1000/s
DROPPED = "vpnagent_ike_dropped_messages_total"
R_U_THERE = 36136
# DPD as configured: keepalive 10 s, then 5 probes 2 s apart
DEAD_AFTER_MS = 10000 + 5 * 2000


class Setup:
    """One topology: namespaces agent/sun joined by a veth, a capture on the
    agent's side, charon in sun, the agent in agent."""


def setup(env, agent_initiates=True, dpd_delay=0, dpd_timeout=None, bpf=None,
          initiate=True, **charon_kw):
    check(os.geteuid() == 0, "needs root (ip netns, raw sockets)")
    missing = strongswan.missing_tools()
    check(not missing, "missing %s: run tests/lib/install-deps.sh" % ", ".join(missing))
    h = Setup()
    h.topo = topo = netns.NetTopo(env)
    h.a = topo.add_ns("agent")
    h.s = topo.add_ns("sun")
    h.if_a, _ = topo.link(h.a, AGENT_OUT + "/24", h.s, SUN_OUT + "/24")
    topo.add_addr(h.s, "10.200.2.1/32")
    topo.add_addr(h.a, "10.200.1.1/32")
    h.cap = capture.Capture(env, topo, h.a, h.if_a, name="ike", bpf=bpf)
    h.charon = strongswan.Charon(env, topo, h.s, "sun", strongswan.ikev1_psk(
        CONN, SUN_OUT, AGENT_OUT, SUN_NET, AGENT_NET, PSK, child=CHILD,
        proposals="aes128-sha256-modp2048", esp_proposals="aes128-sha256",
        dpd_delay=dpd_delay, dpd_timeout=dpd_timeout, **charon_kw))
    h.agent = env.add(NsAgent(env, topo, h.a, AGENT_OUT))
    h.agent.configure_vpn(IKE, ESP, initiate=agent_initiates, peers=[SUN_OUT], psk=PSK,
                          local_net=AGENT_NET, remote_net=SUN_NET, keepalive=10)
    if not agent_initiates and initiate:
        h.charon.initiate(child=CHILD, ike=CONN)
    return h


child_ready = strongswan.child_ready


def established(h, timeout=20):
    """The tunnel up as strongswan.tunnel_with_agent checks it, our ISAKMP
    SA floated to 4500 with its cookies; returns (charon's IKE SA, our IPsec
    SA, our ISAKMP SA)."""
    sa, ours, ike = strongswan.tunnel_with_agent(h.agent, h.charon, CONN, timeout)
    check(ike["srcPort"] == 4500 and re.fullmatch(r"[0-9a-fA-F]{16}", ike["initiatorCookie"]) and
          re.fullmatch(r"[0-9a-fA-F]{16}", ike["responderCookie"]),
          "our ISAKMP SA has not floated to 4500 or has no cookies: %r" % ike)
    n = len(h.agent.ok("GET", "/operational/ikesas")["items"])
    check(n == 1, "the agent holds %d ISAKMP SAs, want 1" % n)
    return sa, ours, ike


def tunnel(h):
    t = h.agent.tunnel(SUN_OUT)
    check(t is not None, "the agent lists no tunnel to %s" % SUN_OUT)
    return t


def cookies(ike):
    return bytes.fromhex(ike["initiatorCookie"]), bytes.fromhex(ike["responderCookie"])


def dropped(agent):
    """{reason: value} of vpnagent_ike_dropped_messages_total (summed over any
    other labels); {} when the agent does not export it (counts as 0)."""
    out = {}
    for line in agent.metrics_text().splitlines():
        if not line.startswith(DROPPED + "{"):
            continue
        m = re.search(r'reason="([^"]*)"', line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + float(line.rsplit(" ", 1)[1])
    return out


def dropped_text(d):
    nz = {k: int(v) for k, v in sorted(d.items()) if v}
    if not d:
        return "%s not exported" % DROPPED
    return "non-zero reasons %s" % (nz or "none")


def inject_run(h, ns, *args, timeout=60):
    """Runs inject.py inside ns to completion; returns its JSON summary."""
    p = h.topo.run(ns, [sys.executable, INJECT] + [str(a) for a in args], timeout=timeout)
    return json.loads(p.stdout.strip().splitlines()[-1])


def inject_bg(env, h, ns, name, *args):
    """inject.py in the background (a harness Proc, stopped at teardown)."""
    proc = harness.Proc(name, h.topo.ns_argv(ns, [sys.executable, INJECT] +
                                             [str(a) for a in args]), env.dir)
    env.add(proc)
    return proc


def bg_summary(proc):
    lines = [l for l in proc.output().splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def isakmp(icookie, rcookie, next_payload, exchange, flags, msgid, body):
    return inject.isakmp_header(icookie, rcookie, next_payload, exchange, flags, msgid,
                                inject.ISAKMP_HDR_LEN + len(body)) + body


def udp_counters(h, ns):
    """The Udp: line of /proc/net/snmp inside ns, as a dict."""
    out = h.topo.run(ns, ["cat", "/proc/net/snmp"]).stdout.splitlines()
    rows = [l.split()[1:] for l in out if l.startswith("Udp:")]
    return dict(zip(rows[0], (int(v) for v in rows[1])))


def watch_up(h, seconds, t0, start, what):
    """Polls the tunnel once a second for `seconds`; fails at once if it is
    DOWN or a DPD death was counted. Returns the last view."""
    end = time.monotonic() + seconds
    while True:
        t = tunnel(h)
        if t["status"] != "UP" or t["peerDeadEvents"] != start["peerDeadEvents"]:
            took = t["declaredDeadAtMs"] - t["livenessBeforeDeadAtMs"] \
                if t["declaredDeadAtMs"] else None
            raise harness.TestFailure(
                "%.1f s after %s the agent declared charon dead (peerDeadEvents %d -> %d, "
                "%s ms after its last liveness; tunnel now %s); DPD probes sent %d -> %d, "
                "answered %d -> %d" % (
                    time.monotonic() - t0, what, start["peerDeadEvents"], t["peerDeadEvents"],
                    took, t["status"], start["rUThereSent"], t["rUThereSent"],
                    start["ackReceived"], t["ackReceived"]))
        if time.monotonic() >= end:
            return t
        time.sleep(1)


# ---------------------------------------------------------------------------


@test
def spoofed_mm_packet_keeps_tunnel(env):
    # charon sends no DPD of its own: every R-U-THERE is the agent's.
    h = setup(env, agent_initiates=True, dpd_delay=0)
    _, _, ike = established(h)
    ic, rc = cookies(ike)
    start = tunnel(h)
    msg = isakmp(ic, rc, 0, 2, 0x01, 0, os.urandom(16))
    check(len(msg) == 28 + 16, "forged message is %d bytes" % len(msg))
    sent = inject_run(h, h.s, "send", "--src", SUN_OUT, "--sport", ike["dstPort"],
                      "--dst", AGENT_OUT, "--dport", 4500, "--hex", (MARKER + msg).hex())
    t0 = time.monotonic()
    info("injected 1 Main Mode datagram (cookies %s/%s, flags 0x01, 16 random bytes) "
         "from %s:%d to %s:4500; DPD before: sent %d answered %d" % (
             ike["initiatorCookie"], ike["responderCookie"], SUN_OUT, ike["dstPort"],
             AGENT_OUT, start["rUThereSent"], start["ackReceived"]))
    check(sent["sent"] == 1, "injector: %r" % sent)
    t = watch_up(h, 25, t0, start, "one spoofed Main Mode datagram")
    acks = t["ackReceived"] - start["ackReceived"]
    d = dropped(h.agent)
    info("25 s later: tunnel %s, DPD probes sent %d -> %d, answered %d -> %d; drops: %s" % (
        t["status"], start["rUThereSent"], t["rUThereSent"], start["ackReceived"],
        t["ackReceived"], dropped_text(d)))
    check(acks >= 2, "in 25 s after the spoofed datagram charon answered %d of the agent's %d "
          "DPD probes" % (acks, t["rUThereSent"] - start["rUThereSent"]))
    check(d.get("unexpected", 0) > 0, "the spoofed Main Mode datagram was not counted as "
          "dropped (reason=\"unexpected\"): %s" % dropped_text(d))


@test
def replayed_r_u_there_does_not_keep_dead_peer_alive(env):
    # charon asks R-U-THERE every ~3 s; those are the agent's proof of life,
    # so the agent never probes while they arrive.
    h = setup(env, agent_initiates=True, dpd_delay=3, dpd_timeout=30)
    established(h)
    wait_for(lambda: tunnel(h)["rUThereReceived"] >= 2, 20,
             "two R-U-THERE from charon answered")
    replay = None
    h.charon.freeze()
    try:
        t_freeze = time.monotonic()
        before = tunnel(h)
        pcap = h.cap.stop()
        rows = capture.fields_of(pcap, ["frame.number", "udp.srcport", "udp.dstport",
                                     "isakmp.messageid", "isakmp.notify.msgtype",
                                     "udp.payload"],
                              keys=h.charon.ikev1_keys(),
                              display_filter="ip.src==%s && isakmp.exchangetype==5" % SUN_OUT)
        rut = [r for r in rows if str(R_U_THERE) in r[4].split(",")]
        check(len(rut) >= 2, "captured %d R-U-THERE from charon (of %d Informational): %r" % (
            len(rut), len(rows), rows))
        picked = rut[-2:]
        sport, dport = int(picked[0][1]), int(picked[0][2])
        check(all(int(r[1]) == sport and int(r[2]) == dport for r in picked),
              "the R-U-THEREs came on different ports: %r" % picked)
        payloads = [r[5].replace(":", "") for r in picked]
        info("charon frozen after %d R-U-THERE (agent ACKs %d); replaying its frames %s "
             "(message ids %s, %s:%d -> %s:%d) alternately every 3 s" % (
                 before["rUThereReceived"], before["ackSent"], [r[0] for r in picked],
                 [r[3] for r in picked], SUN_OUT, sport, AGENT_OUT, dport))
        replay = inject_bg(env, h, h.s, "replay", "send", "--src", SUN_OUT, "--sport", sport,
                           "--dst", AGENT_OUT, "--dport", dport, "--hex", payloads[0],
                           "--hex", payloads[1], "--count", 15, "--interval", 3)
        try:
            t = wait_for(lambda: (lambda t: t["status"] == "DOWN" and t)(tunnel(h)), 40,
                         "the agent to declare the frozen charon dead", step=0.5)
        except harness.TestFailure:
            t = tunnel(h)
            raise harness.TestFailure(
                "%.0f s after charon froze the agent still holds it alive: status %s, "
                "peerDeadEvents %d; it took %d replayed R-U-THEREs (rUThereReceived %d -> %d, "
                "ACKs sent %d -> %d) and sent %d probes of its own: the replays were its "
                "proof of liveness" % (
                    time.monotonic() - t_freeze, t["status"], t["peerDeadEvents"],
                    t["rUThereReceived"] - before["rUThereReceived"],
                    before["rUThereReceived"], t["rUThereReceived"], before["ackSent"],
                    t["ackSent"], t["rUThereSent"] - before["rUThereSent"]))
    finally:
        if replay is not None:
            replay.stop(check_clean=False)
        h.charon.thaw()
    took = t["declaredDeadAtMs"] - t["livenessBeforeDeadAtMs"]
    d = dropped(h.agent)
    info("declared dead %d ms after its last proof of liveness (want %d +- 1000), %.1f s "
         "after the freeze; replays sent %s; drops: %s" % (
             took, DEAD_AFTER_MS, time.monotonic() - t_freeze,
             bg_summary(replay).get("sent"), dropped_text(d)))
    check(abs(took - DEAD_AFTER_MS) <= 1000, "declared dead %d ms after the last liveness, "
          "not %d +- 1000: the replays moved its liveness" % (took, DEAD_AFTER_MS))
    check(d.get("replay", 0) > 0, "the replayed R-U-THEREs were not counted as dropped "
          "(reason=\"replay\"): %s" % dropped_text(d))


@test
def replayed_quick_mode_after_rekey_is_dropped(env):
    h = setup(env, agent_initiates=False, dpd_delay=10, dpd_timeout=30,
              child_rekey_time=20, child_rand_time=0)
    _, ours, ike = established(h)
    spi0 = ours["inboundSpi"]
    t_est = time.monotonic()
    wait_for(lambda: any(s["inboundSpi"] != spi0 for s in
                         h.agent.ok("GET", "/operational/ipsecsas")["items"]), 45,
             "charon to rekey the CHILD SA (a new inbound SPI at the agent)", step=0.5)
    spis = [s["inboundSpi"] for s in h.agent.ok("GET", "/operational/ipsecsas")["items"]]
    pcap = h.cap.stop()
    rows = capture.fields_of(pcap, ["frame.number", "udp.srcport", "udp.dstport",
                                 "isakmp.messageid", "udp.payload"],
                          display_filter="ip.src==%s && isakmp.exchangetype==32" % SUN_OUT)
    check(rows, "no Quick Mode message from charon in the capture")
    qm1 = rows[0]
    msgid = int(qm1[3], 16)
    later = sorted({int(r[3], 16) for r in rows} - {msgid})
    check(later, "the capture holds no Quick Mode of the rekey (message ids %r)" % rows)
    info("rekeyed after %.1f s (inbound SPIs %s -> %s); replaying charon's first QM1 "
         "(frame %s, message id 0x%08x; the rekey's: %s) from %s:%s to %s:%s" % (
             time.monotonic() - t_est, spi0, spis, qm1[0], msgid,
             ["0x%08x" % m for m in later], SUN_OUT, qm1[1], AGENT_OUT, qm1[2]))
    cap2 = capture.Capture(env, h.topo, h.a, h.if_a, name="after-replay")
    start = tunnel(h)
    inject_run(h, h.s, "send", "--src", SUN_OUT, "--sport", qm1[1], "--dst", AGENT_OUT,
               "--dport", qm1[2], "--hex", qm1[4].replace(":", ""))
    t0 = time.monotonic()
    time.sleep(5)
    pcap2 = cap2.stop()
    answers = capture.fields_of(pcap2, ["frame.number", "isakmp.messageid"],
                             display_filter="ip.src==%s && isakmp.exchangetype==32 && "
                             "isakmp.messageid==0x%08x" % (AGENT_OUT, msgid))
    d = dropped(h.agent)
    info("in 5 s after the replay the agent sent %d Quick Mode message(s) with message id "
         "0x%08x; drops: %s" % (len(answers), msgid, dropped_text(d)))
    check(not answers, "the agent answered the replayed QM1 (message id 0x%08x) with %d Quick "
          "Mode message(s) within 5 s (frames %s): it took the replay for a new Quick Mode" % (
              msgid, len(answers), [a[0] for a in answers]))
    check(d.get("replay", 0) > 0, "the replayed QM1 was not counted as dropped "
          "(reason=\"replay\"): %s" % dropped_text(d))
    t = watch_up(h, 15, t0, start, "the replayed QM1")
    info("15 s later the tunnel is %s" % t["status"])


@test
def bogus_port_does_not_float_the_sa(env):
    h = setup(env, agent_initiates=True, dpd_delay=0,
              bpf="udp port 500 or udp port 4500 or udp port 9")
    _, _, ike = established(h)
    ic, rc = cookies(ike)
    start = tunnel(h)
    msgid = int.from_bytes(os.urandom(4), "big") | 1
    msg = isakmp(ic, rc, 8, 5, 0x01, msgid, os.urandom(32))
    inject_run(h, h.s, "send", "--src", SUN_OUT, "--sport", 9, "--dst", AGENT_OUT,
               "--dport", 4500, "--hex", (MARKER + msg).hex())
    t0 = time.monotonic()
    info("injected a garbage encrypted Informational (message id 0x%08x) from %s:9; the SA's "
         "peer port was %d" % (msgid, SUN_OUT, ike["dstPort"]))
    t = watch_up(h, 15, t0, start, "the datagram from port 9")
    ike_after = h.agent.ok("GET", "/operational/ikesas")["items"]
    pcap = h.cap.stop()
    to9 = capture.fields_of(pcap, ["frame.number", "udp.srcport", "isakmp.exchangetype"],
                         display_filter="ip.src==%s && udp.dstport==9" % AGENT_OUT)
    d = dropped(h.agent)
    acks = t["ackReceived"] - start["ackReceived"]
    info("15 s later: %d packets from the agent to port 9; SA peer port now %s; tunnel %s; "
         "DPD probes sent %d -> %d, answered %d -> %d; drops: %s" % (
             len(to9), [s["dstPort"] for s in ike_after], t["status"], start["rUThereSent"],
             t["rUThereSent"], start["ackReceived"], t["ackReceived"], dropped_text(d)))
    check(not to9, "the agent sent %d packets to %s:9 (its SA's peer port floated to the "
          "forged source port; SA dstPort now %s)" % (
              len(to9), SUN_OUT, [s["dstPort"] for s in ike_after]))
    check(acks >= 1, "in 15 s charon answered %d of the agent's %d DPD probes" % (
        acks, t["rUThereSent"] - start["rUThereSent"]))


@test
def halfopen_flood_does_not_block_configured_peer(env):
    count = 3000
    h = setup(env, agent_initiates=False, initiate=False, dpd_delay=10, dpd_timeout=30)
    # The agent's answers to the spoofed sources go to charon's namespace,
    # where they die quietly.
    h.topo.add_route(h.a, SPOOF_NET, "via", SUN_OUT)
    h.topo.ip(h.s, "route", "add", "blackhole", SPOOF_NET)
    udp0 = udp_counters(h, h.a)
    # Paced so that the agent's socket takes them all (a burst overflows its
    # receive buffer, and a datagram the kernel drops attacks nothing).
    res = inject_run(h, h.s, "flood-mm1", "--net", SPOOF_NET, "--dst", AGENT_OUT,
                     "--count", count, "--seconds", FLOOD_SECONDS, timeout=60)
    t0 = time.monotonic()
    check(res["sent"] == count and res["seconds"] < 10, "flood: %r" % res)
    ok = None
    try:
        h.charon.initiate(child=CHILD, ike=CONN, timeout=10, check=False)
        ok = wait_for(lambda: child_ready(h.charon.ike_sa(CONN)),
                      max(0.5, 10 - (time.monotonic() - t0)),
                      "charon's IKE SA and CHILD SA established", step=0.2)
    except harness.TestFailure:
        pass
    took = time.monotonic() - t0
    sa = h.charon.ike_sa(CONN)
    udp1 = udp_counters(h, h.a)
    pcap = h.cap.stop()
    mm2 = capture.fields_of(pcap, ["frame.number"],
                         display_filter="ip.src==%s && ip.dst==%s && isakmp.exchangetype==2"
                         % (AGENT_OUT, SPOOF_NET))
    mm1_seen = capture.fields_of(pcap, ["frame.number"],
                              display_filter="ip.src==%s && isakmp.exchangetype==2"
                              % SPOOF_NET)
    d = dropped(h.agent)
    info("flood: %d MM1 from %d addresses in %.2f s (%d on the agent's wire); the agent "
         "answered %d with an MM2; UDP receive-buffer drops in the agent's namespace %d; "
         "drops: %s" % (res["sent"], res["sources"], res["seconds"], len(mm1_seen), len(mm2),
                        udp1.get("RcvbufErrors", 0) - udp0.get("RcvbufErrors", 0),
                        dropped_text(d)))
    info("charon after %.2f s: %s" % (took, "ESTABLISHED with an INSTALLED CHILD SA" if ok else
                                      (sa or {}).get("state", "no IKE SA")))
    check(ok, "charon could not negotiate %.1f s after a flood of %d spoofed Main Mode "
          "openings: its IKE SA is %s; the agent answered %d of them with an MM2" % (
              took, count, (sa or {}).get("state", "absent"), len(mm2)))
    check(len(mm2) < res["sent"], "the agent answered all %d spoofed MM1s with an MM2: no "
          "rate limit" % len(mm2))
    check(d.get("halfopen_limit", 0) + d.get("rate_limited", 0) > 0,
          "no drop counted as halfopen_limit or rate_limited: %s" % dropped_text(d))


@test
def random_datagram_flood_survived(env):
    count, seconds = 20000, 20
    h = setup(env, agent_initiates=True, dpd_delay=5, dpd_timeout=15)
    _, _, ike = established(h)
    start = tunnel(h)
    flood = inject_bg(env, h, h.s, "random-flood", "random", "--src", SUN_OUT, "--dst",
                      AGENT_OUT, "--cookies", "%s:%s" % (ike["initiatorCookie"],
                                                         ike["responderCookie"]),
                      "--count", count, "--seconds", seconds)
    t0 = time.monotonic()
    latencies = []
    end = t0 + seconds + 5  # the flood, then 5 s for late effects
    while time.monotonic() < end:
        tick = time.monotonic()
        st, body = h.agent.api("GET", "/operational/tunnels")
        latencies.append(time.monotonic() - tick)
        check(st == 200, "GET /operational/tunnels during the flood: %s %s" % (st, body))
        check(latencies[-1] <= 1.0, "GET /operational/tunnels took %.2f s %.1f s into the "
              "flood" % (latencies[-1], tick - t0))
        t = [x for x in body["items"] if x["peer"] == SUN_OUT][0]
        if t["status"] != "UP" or t["peerDeadEvents"] != start["peerDeadEvents"]:
            raise harness.TestFailure(
                "%.1f s into a flood of random datagrams from %s the agent declared charon "
                "dead or lost the tunnel: status %s, peerDeadEvents %d -> %d; DPD probes sent "
                "%d -> %d, answered %d -> %d; charon's IKE SA: %s" % (
                    time.monotonic() - t0, SUN_OUT, t["status"], start["peerDeadEvents"],
                    t["peerDeadEvents"], start["rUThereSent"], t["rUThereSent"],
                    start["ackReceived"], t["ackReceived"],
                    (h.charon.ike_sa(CONN) or {}).get("state", "gone")))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    wait_for(lambda: not flood.alive(), 15, "the flood to end")
    summary = bg_summary(flood)
    flood.stop()
    sa = h.charon.ike_sa(CONN)
    info("flood: %s datagrams in %s s, %s send errors; %s" % (
        summary.get("sent"), summary.get("seconds"), summary.get("errors"),
        ", ".join("%s %d" % kv for kv in sorted(summary.get("kinds", {}).items()))))
    info("GET /operational/tunnels: %d answers, slowest %.3f s; tunnel %s, DPD probes sent "
         "%d -> %d, answered %d -> %d, R-U-THERE received %d -> %d; charon's IKE SA %s" % (
             len(latencies), max(latencies), t["status"], start["rUThereSent"],
             t["rUThereSent"], start["ackReceived"], t["ackReceived"],
             start["rUThereReceived"], t["rUThereReceived"], (sa or {}).get("state", "gone")))
    check(summary.get("sent", 0) >= count * 0.99, "the injector sent only %r" % summary)
    check(sa is not None and sa["state"] == "ESTABLISHED",
          "charon's IKE SA after the flood: %s" % ((sa or {}).get("state", "gone")))
    text = h.agent.metrics_text()
    for line in text.splitlines():
        if line.startswith(DROPPED + "{") and float(line.rsplit(" ", 1)[1]) != 0:
            info(line)
    d = dropped(h.agent)
    nonzero = [k for k, v in d.items() if v > 0]
    check(sum(d.values()) > 0 and len(nonzero) >= 3,
          "after %s random datagrams: %s (want at least 3 reasons non-zero)" % (
              summary.get("sent"), dropped_text(d)))
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics (exit %d):\n%s" % (
        p.returncode, (p.stdout + p.stderr).strip()))


if __name__ == "__main__":
    run()
