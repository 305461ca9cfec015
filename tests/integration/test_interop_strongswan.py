#!/usr/bin/env python3
"""vpn-agent against strongSwan's charon (Debian 5.9.8, kernel-libipsec) in
two network namespaces (issue 3): the agent, configured through its API like
an operator would, brings up Main Mode + Quick Mode with forced UDP
encapsulation as initiator and as responder, with aes128-sha256-modp2048
and aes256-sha1-ecp256; charon lists the IKE SA ESTABLISHED and the CHILD SA
INSTALLED with our SPIs; DPD probes both ways are answered; a frozen charon
is declared dead on time; tshark decodes the exchange without malformed
packets."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import capture  # noqa: E402
import harness  # noqa: E402
import netns  # noqa: E402
import strongswan  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "interop-test-psk-0123456789"
AGENT_OUT, SUN_OUT = "192.0.2.1", "192.0.2.2"
AGENT_NET, SUN_NET = "10.200.1.0/24", "10.200.2.0/24"
CONN, CHILD = "agent", "agent-child"


def setup(env, proposals, esp_proposals, ike, esp, agent_initiates, dpd_delay=10,
          keepalive=10, **vpn):
    check(os.geteuid() == 0, "needs root (ip netns)")
    missing = strongswan.missing_tools()
    check(not missing, "missing %s: run tests/lib/install-deps.sh" % ", ".join(missing))
    topo = netns.NetTopo(env)
    a = topo.add_ns("agent")
    s = topo.add_ns("sun")
    if_a, _ = topo.link(a, AGENT_OUT + "/24", s, SUN_OUT + "/24")
    topo.add_addr(s, "10.200.2.1/32")
    topo.add_addr(a, "10.200.1.1/32")
    cap = capture.Capture(env, topo, a, if_a, name="ike")
    charon = strongswan.Charon(env, topo, s, "sun", strongswan.ikev1_psk(
        CONN, SUN_OUT, AGENT_OUT, SUN_NET, AGENT_NET, PSK, child=CHILD, proposals=proposals,
        esp_proposals=esp_proposals, dpd_delay=dpd_delay,
        dpd_timeout=dpd_delay * 3 if dpd_delay else None))
    agent = NsAgent(env, topo, a, AGENT_OUT)
    env.add(agent)
    agent.configure_vpn(ike, esp, initiate=agent_initiates, peers=[SUN_OUT], psk=PSK,
                        local_net=AGENT_NET, remote_net=SUN_NET, keepalive=keepalive, **vpn)
    if not agent_initiates:
        charon.initiate(child=CHILD, ike=CONN)
    return topo, agent, charon, cap


child_ready = strongswan.child_ready


def established(agent, charon):
    sa, ours, _ = strongswan.tunnel_with_agent(agent, charon, CONN)
    ch = sa["children"][0]
    check(ch.get("encap") == "yes", "CHILD SA not UDP-encapsulated: %r" % ch)
    return sa, ours


def handshake(env, proposals, esp_proposals, ike, esp, agent_initiates):
    topo, agent, charon, cap = setup(env, proposals, esp_proposals, ike, esp, agent_initiates)
    sa, ours = established(agent, charon)
    pcap = cap.stop()
    keys = charon.ikev1_keys()
    dec = capture.decode(pcap, keys)
    info("%s, agent %s: charon %s %s/%s/%s, CHILD %s in %s out %s; ours in %s out %s; "
         "capture %d ISAKMP, %d decrypted, %d malformed" % (
             proposals, "initiator" if agent_initiates else "responder", sa["state"],
             sa.get("encr-alg"), sa.get("integ-alg") or sa.get("prf-alg"), sa.get("dh-group"),
             sa["children"][0]["state"], sa["children"][0]["spi-in"],
             sa["children"][0]["spi-out"], ours["inboundSpi"], ours["outboundSpi"],
             dec["isakmp"], dec["decrypted"], dec["malformed"]))
    check(dec["malformed"] == 0, "tshark: %d malformed packets" % dec["malformed"])
    return topo, agent, charon


@test
def agent_initiates_aes128_sha256_modp2048(env):
    handshake(env, "aes128-sha256-modp2048", "aes128-sha256", ("aes", "sha256", 14),
              ("esp-aes", "esp-sha256-hmac"), True)


@test
def agent_responds_aes256_sha1_ecp256(env):
    handshake(env, "aes256-sha1-ecp256", "aes128-sha256", ("aes-256", "sha", 19),
              ("esp-aes", "esp-sha256-hmac"), False)


@test
def agent_responds_aes128_sha256_modp2048(env):
    handshake(env, "aes128-sha256-modp2048", "aes128-sha256", ("aes", "sha256", 14),
              ("esp-aes", "esp-sha256-hmac"), False)


@test
def agent_initiates_aes256_sha1_ecp256(env):
    handshake(env, "aes256-sha1-ecp256", "aes128-sha256", ("aes-256", "sha", 19),
              ("esp-aes", "esp-sha256-hmac"), True)


MODP = ("aes128-sha256-modp2048", "aes128-sha256", ("aes", "sha256", 14),
        ("esp-aes", "esp-sha256-hmac"))


@test
def charon_probes_answered_for_60s(env):
    # charon probes every 5 s; our keepalive (30 s) never comes due because
    # its probes are proof of liveness for us.
    topo, agent, charon, cap = setup(env, *MODP, True, dpd_delay=5, keepalive=30)
    established(agent, charon)
    time.sleep(60)
    log = charon.log()
    sent = log.count("sending DPD request")
    t = agent.tunnel(SUN_OUT)
    info("60 s: charon sent %d DPD requests, we answered %d (R-U-THERE received %d); "
         "'DPD check timed out' in charon's log: %d" % (sent, t["ackSent"], t["rUThereReceived"],
                                                         log.count("DPD check timed out")))
    check(sent >= 10, "charon sent only %d DPD requests in 60 s" % sent)
    check("DPD check timed out" not in log, "charon timed out a DPD check")
    check(t["ackSent"] >= sent - 1 and t["status"] == "UP", "our answers: %r" % t)
    check(child_ready(charon.ike_sa(CONN)), "charon lost the SA")


@test
def our_probes_answered_then_frozen_charon_dead_on_time(env):
    topo, agent, charon, cap = setup(env, *MODP, True, dpd_delay=0, keepalive=10)
    established(agent, charon)
    wait_for(lambda: agent.tunnel(SUN_OUT)["ackReceived"] >= 2, 30, "two probes answered")
    t = agent.tunnel(SUN_OUT)
    check(t["rUThereSent"] == t["ackReceived"], "unanswered probes: %r" % t)
    charon.freeze()
    try:
        t = wait_for(lambda: (lambda t: t["status"] == "DOWN" and t)(agent.tunnel(SUN_OUT)),
                     40, "the agent to declare charon dead")
    finally:
        charon.thaw()
    took = t["declaredDeadAtMs"] - t["livenessBeforeDeadAtMs"]
    info("charon answered %d probes (RTT %d ms); frozen, declared dead %d ms after its last "
         "proof of liveness (want 20000 +- 1000)" % (t["ackReceived"], t["lastRttMs"], took))
    check(abs(took - 20000) <= 1000, "declared dead after %d ms" % took)


@test
def failover_from_frozen_to_live_charon(env):
    check(os.geteuid() == 0, "needs root (ip netns)")
    topo = netns.NetTopo(env)
    a, s1, s2 = topo.add_ns("agent"), topo.add_ns("sun1"), topo.add_ns("sun2")
    topo.link(a, AGENT_OUT + "/24", s1, SUN_OUT + "/24")
    topo.link(a, "198.51.100.1/24", s2, "198.51.100.2/24")
    # The agent speaks IKE from 192.0.2.1 on both links; the second charon
    # reaches it through the second one.
    topo.add_route(s2, AGENT_OUT + "/32", "via", "198.51.100.1")
    suns = []
    for ns, addr, name in ((s1, SUN_OUT, "sun1"), (s2, "198.51.100.2", "sun2")):
        topo.add_addr(ns, "10.200.2.1/32")
        suns.append(strongswan.Charon(env, topo, ns, name, strongswan.ikev1_psk(
            CONN, addr, AGENT_OUT, SUN_NET, AGENT_NET, PSK, child=CHILD)))
    agent = env.add(NsAgent(env, topo, a, AGENT_OUT))
    agent.configure_vpn(MODP[2], MODP[3], True, [SUN_OUT, "198.51.100.2"], PSK, AGENT_NET,
                        SUN_NET, keepalive=10)
    established(agent, suns[0])
    suns[0].freeze()
    try:
        t0 = time.monotonic()
        sa = wait_for(lambda: child_ready(suns[1].ike_sa(CONN)), 60,
                      "the tunnel to move to the second charon")
    finally:
        suns[0].thaw()
    tunnels = {t["peer"]: t for t in agent.tunnels()}
    info("failed over to %s after %.1f s: %s ESTABLISHED, CHILD %s; active peer now %s" % (
        "198.51.100.2", time.monotonic() - t0, sa["remote-host"], sa["children"][0]["state"],
        [p for p, t in tunnels.items() if t["active"]]))
    check(tunnels["198.51.100.2"]["active"] and tunnels["198.51.100.2"]["status"] == "UP",
          "tunnels %r" % tunnels)
    check("failing over (dpd)" in agent.proc.output(), "no failover line in the log")
    m = agent.metrics_text()
    check('vpnagent_failover_failovers_total{map="VPN 10",reason="dpd"} 1' in m,
          "failover counter not 1")


@test
def quick_mode_with_pfs_group14(env):
    topo, agent, charon, cap = setup(env, "aes128-sha256-modp2048", "aes128-sha256-modp2048",
                                     ("aes", "sha256", 14), ("esp-aes", "esp-sha256-hmac"),
                                     True, pfs="group14")
    sa, ours = established(agent, charon)
    ch = sa["children"][0]
    info("PFS: charon CHILD %s dh-group %s, SPIs in %s out %s = ours crossed" % (
        ch["state"], ch.get("dh-group"), ch["spi-in"], ch["spi-out"]))
    check(ch.get("dh-group") == "MODP_2048", "charon's CHILD SA has no PFS group: %r" % ch)


def metric(text, name, labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all('%s="%s"' % kv in line for kv in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@test
def rekey_with_charon_keeps_the_tunnel(env):
    # The shortest lifetimes the API allows: ISAKMP 60 s (rekey at 54 s),
    # IPsec 120 s (rekey at 108 s). Two and a quarter minutes of it.
    topo, agent, charon, cap = setup(env, *MODP, True, ike_life=60, child_life=120)
    sa0, ours0 = established(agent, charon)
    deadline = time.monotonic() + 135
    while time.monotonic() < deadline:
        t = agent.tunnel(SUN_OUT)
        check(t["status"] == "UP", "the tunnel went down during a rekey: %r" % t)
        time.sleep(1)
    sa, ours = established(agent, charon)
    m = agent.metrics_text()
    rekeys = metric(m, "vpnagent_ike_sa_rekeys_total", {"peer": SUN_OUT})
    downs = metric(m, "vpnagent_tunnel_state_transitions_total", {"peer": SUN_OUT,
                                                                 "state": "down"})
    info("after 135 s: %d ISAKMP rekeys, tunnel down transitions %d; IPsec SPIs %s/%s -> %s/%s; "
         "charon: %s, %d CHILD SA(s), ours %d" % (
             rekeys, downs, ours0["inboundSpi"], ours0["outboundSpi"], ours["inboundSpi"],
             ours["outboundSpi"], sa["state"], len(sa["children"]),
             len(agent.ok("GET", "/operational/ipsecsas")["items"])))
    check(rekeys >= 2, "ISAKMP rekeys: %r" % rekeys)
    check(downs == 0, "tunnel went down %r times" % downs)
    check(ours["inboundSpi"] != ours0["inboundSpi"], "the IPsec SA was not rekeyed")
    check(len(charon.list_sas()) == 1, "charon keeps stale IKE SAs: %r" % charon.list_sas())


def ping(topo, ns, src, dst, count=20):
    import re
    p = topo.run(ns, ["ping", "-n", "-q", "-c", str(count), "-i", "0.02", "-W", "2", "-I", src,
                      dst], check=False, timeout=30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
    check(m, "ping: %s %s" % (p.stdout, p.stderr))
    return int(m.group(2))


ESP_TRANSFORMS = [
    ("aes128-sha1", ("esp-aes", "esp-sha-hmac")),
    ("aes128-sha256", ("esp-aes", "esp-sha256-hmac")),
    ("aes256-sha256", ("esp-aes-256", "esp-sha256-hmac")),
    ("aes128gcm16", ("esp-gcm", None)),
    ("aes256gcm16", ("esp-gcm-256", None)),
]


@test
def esp_ping_both_ways_every_transform(env):
    for esp_prop, esp in ESP_TRANSFORMS:
        sub = harness.Env("esp-" + esp_prop)
        ok = False
        try:
            topo, agent, charon, cap = setup(sub, "aes128-sha256-modp2048", esp_prop,
                                             ("aes", "sha256", 14), esp, True)
            sa, ours = established(agent, charon)
            got_a = ping(topo, topo.full_name("agent"), "10.200.1.1", "10.200.2.1")
            got_s = ping(topo, topo.full_name("sun"), "10.200.2.1", "10.200.1.1")
            ch = charon.child_sa(CONN, CHILD)
            ours = agent.ok("GET", "/operational/ipsecsas")["items"][0]
            info("%-14s agent->charon %d/20, charon->agent %d/20; packets ours out %d in %d, "
                 "charon in %d out %d; bytes ours out %d in %d, charon in %d out %d" % (
                     esp_prop, got_a, got_s, ours["pktsEncaps"], ours["pktsDecaps"],
                     ch["packets-in"], ch["packets-out"], ours["bytesEncaps"],
                     ours["bytesDecaps"], ch["bytes-in"], ch["bytes-out"]))
            check(got_a == 20 and got_s == 20, "%s: ping loss" % esp_prop)
            check(ours["pktsEncaps"] == ch["packets-in"] == 40 and
                  ours["pktsDecaps"] == ch["packets-out"] == 40,
                  "%s: packet counters disagree" % esp_prop)
            check(ours["bytesEncaps"] == ch["bytes-in"] and ours["bytesDecaps"] == ch["bytes-out"],
                  "%s: byte counters disagree" % esp_prop)
            ok = True
        finally:
            errors = sub.close(ok)
            check(not errors, "teardown: %s" % errors)


if __name__ == "__main__":
    run()
