#!/usr/bin/env python3
"""The agent as a remote-access headend (issue 11, SPEC R-15) for strongSwan
IKEv1 clients (Debian's charon: kernel-libipsec, xauth-generic, unity) behind
a real NAT (an nftables masquerade namespace; NAT-T is detected, never
forced): the wild-card group key, a dynamic crypto map, Mode Config pulled
and pushed from an address pool, XAUTH against local users. Each client gets
its address, pings a host on the LAN behind the headend and back, and
charon's CHILD SA counters equal the agent's for that client; a client that
goes away (Delete, DPD death) gives its address back; an exhausted pool
refuses the client, which is told (a REPLY without an address, then a
Delete), and the refusal is counted.

    clients c1..cN (192.168.N.2)  ->  nat (masquerade)  198.51.100.2
                                         |
                                  hq 198.51.100.1 (vpn-agent, vpn0)
                                         |
                                  lan 10.2.2.10 (via hq 10.2.2.1)
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import netns  # noqa: E402
import strongswan  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "remote-access-group-key-42"
HQ, NAT_OUT = "198.51.100.1", "198.51.100.2"
LAN_GW, LAN_HOST, LAN_NET = "10.2.2.1", "10.2.2.10", "10.2.2.0/24"
POOL = ("10.2.1.1", "10.2.1.254")
CONN, CHILD = "ra", "ra-child"
USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2", "carol": "carol-secret-3"}


def ref(obj):
    return {"id": obj["id"], "name": obj["name"], "type": obj["type"]}


def topology(env, nclients):
    """hq (the agent) with a LAN behind it; nclients behind one NAT."""
    check(os.geteuid() == 0, "needs root (ip netns)")
    missing = strongswan.missing_tools()
    check(not missing, "missing %s: run tests/lib/install-deps.sh" % ", ".join(missing))
    topo = netns.NetTopo(env)
    hq, nat, lan = topo.add_ns("hq"), topo.add_ns("nat"), topo.add_ns("lan")
    _, nat_out = topo.link(hq, HQ + "/24", nat, NAT_OUT + "/24")
    topo.link(hq, LAN_GW + "/24", lan, LAN_HOST + "/24")
    topo.add_route(lan, "default", "via", LAN_GW)
    topo.sysctl(hq, "net.ipv4.ip_forward", "1")
    topo.sysctl(nat, "net.ipv4.ip_forward", "1")
    clients = []
    for i in range(1, nclients + 1):
        c = topo.add_ns("c%d" % i)
        topo.link(nat, "192.168.%d.1/24" % i, c, "192.168.%d.2/24" % i)
        topo.add_route(c, "default", "via", "192.168.%d.1" % i)
        clients.append(c)
    # Everything the clients send out to the headend leaves from one address.
    rules = ("add table ip nat\n"
             "add chain ip nat post { type nat hook postrouting priority 100 ; }\n"
             "add rule ip nat post oifname \"%s\" masquerade\n" % nat_out)
    topo.run(nat, ["nft", "-f", "-"], input=rules)
    return topo, hq, lan, clients


def headend(env, topo, hq, pool=POOL, push=False, pull=True, xauth=False, split=(LAN_NET,),
            dns=("10.2.2.53",), keepalive=10):
    """The agent, configured through its API as the reference router is:
    wild-card key, a pool, a dynamic crypto map entry, users."""
    agent = NsAgent(env, topo, hq, HQ)
    env.add(agent)
    agent.ok("POST", "/object/ikepolicies",
             {"name": "p10", "priority": 10, "encryption": "aes", "hash": "sha256",
              "authentication": "pre-share", "group": 14})
    agent.ok("POST", "/object/presharedkeys",
             {"name": "wildcard", "key": PSK, "address": "0.0.0.0", "mask": "0.0.0.0"})
    ts = agent.ok("POST", "/object/transformsets",
                  {"name": "trans1", "esp": "esp-aes", "auth": "esp-sha256-hmac"})
    p = agent.ok("POST", "/object/ippools", {"name": "ourpool", "start": pool[0], "end": pool[1]})
    for name, pw in USERS.items():
        agent.ok("POST", "/object/localusers", {"name": name, "password": pw})
    dpd = agent.ok("GET", "/devicesettings/default/dpd")
    agent.ok("PUT", "/devicesettings/default/dpd",
             dict(dpd, keepaliveSeconds=keepalive, retrySeconds=2, retries=5, mode="PERIODIC"))
    agent.ok("POST", "/object/dynamiccryptomaps",
             {"name": "dynmap-10", "sequence": 10, "transformSets": [ref(ts)],
              "matchAddress": [{"source": LAN_NET, "destination": "10.2.1.0/24"}],
              "addressPool": ref(p), "clientConfiguration": {"initiate": push, "respond": pull},
              "dnsServers": list(dns), "splitTunnel": list(split), "xauth": xauth})
    return agent


def client(env, topo, ns, name, user=None, pull=True, rekey_time=None):
    """A strongSwan IKEv1 client: group key, XAUTH when user is given, a
    virtual IP by Mode Config (pull or wait for the push), the LAN as its
    remote traffic selector."""
    conf = strongswan.ikev1_remote_access(CONN, HQ, PSK, LAN_NET, child=CHILD, user=user,
                                          password=USERS.get(user, "wrong"), pull=pull,
                                          rekey_time=rekey_time)
    return strongswan.Charon(env, topo, ns, name, conf,
                             charon_extra=strongswan.REMOTE_ACCESS_CHARON)


def vip(charon):
    """The virtual IP charon got, from its IKE SA (local-vips)."""
    sa = charon.ike_sa(CONN)
    vips = (sa or {}).get("local-vips") or []
    return vips[0] if vips else None


def connect(charon, timeout=20):
    charon.initiate(child=CHILD, ike=CONN, timeout=timeout)
    sa = wait_for(lambda: strongswan.child_ready(charon.ike_sa(CONN)) and charon.ike_sa(CONN),
                  timeout, "%s: CHILD SA installed" % charon.name)
    return sa


def client_rows(agent):
    return [t for t in agent.tunnels() if t.get("dynamic")]


def pool_in_use(agent):
    m = re.search(r'^vpnagent_remote_access_pool_addresses_in_use\{pool="ourpool"\} (\S+)$',
                  agent.metrics_text(), re.M)
    return int(float(m.group(1))) if m else None


def metric(agent, name, labels):
    m = re.search(r"^%s\{%s\} (\S+)$" % (re.escape(name), re.escape(labels)),
                  agent.metrics_text(), re.M)
    return float(m.group(1)) if m else None


def ping_lan(topo, ns):
    p = topo.run(ns, ["ping", "-c", "3", "-i", "0.2", "-W", "2", LAN_HOST], check=False)
    m = re.search(r"(\d+) received", p.stdout)
    return int(m.group(1)) if m else 0


def counters_match(agent, charon):
    """charon's CHILD SA counters (packets and bytes both ways) equal the
    agent's for the pair with the same SPIs."""
    sa = charon.ike_sa(CONN)
    ch = sa["children"][0]
    ours = [s for s in agent.ok("GET", "/operational/ipsecsas")["items"]
            if int(s["inboundSpi"], 16) == int(ch["spi-out"], 16) and
            int(s["outboundSpi"], 16) == int(ch["spi-in"], 16)]
    check(len(ours) == 1, "the agent has no pair with charon's SPIs %s/%s" % (
        ch["spi-in"], ch["spi-out"]))
    o = ours[0]
    got = (ch["packets-out"], ch["bytes-out"], ch["packets-in"], ch["bytes-in"])
    want = (o["pktsDecaps"], o["bytesDecaps"], o["pktsEncaps"], o["bytesEncaps"])
    return got, want, o


def bring_up(env, topo, agent, clients, users=None, pull=True):
    charons, out = [], []
    for i, ns in enumerate(clients):
        user = users[i] if users else None
        charons.append(client(env, topo, ns, "c%d" % (i + 1), user=user, pull=pull))
    for ch in charons:
        connect(ch)
    for i, ch in enumerate(charons):
        addr = vip(ch)
        check(addr is not None and addr.startswith("10.2.1."), "%s got no pool address: %r" % (
            ch.name, addr))
        got = ping_lan(topo, clients[i])
        # ESP counters settle once the replies are in.
        time.sleep(0.3)
        c, w, o = counters_match(agent, ch)
        info("%s: address %s, ping %s -> %s: %d/3 replies; charon out/in %s, agent in/out %s "
             "(peer %s:%s)" % (ch.name, addr, addr, LAN_HOST, got, c, w, o["peer"],
                               o.get("peerPort")))
        check(got == 3, "%s: %d of 3 pings answered" % (ch.name, got))
        check(c == w, "%s: counters differ: charon %s, agent %s" % (ch.name, c, w))
        out.append(addr)
    check(len(set(out)) == len(out), "addresses given twice: %r" % out)
    return charons, out


@test
def three_clients_pull_behind_one_nat(env):
    topo, hq, lan, clients = topology(env, 3)
    agent = headend(env, topo, hq)
    charons, addrs = bring_up(env, topo, agent, clients)
    rows = client_rows(agent)
    peers = sorted("%s:%s" % (r["peer"], r["peerPort"]) for r in rows)
    info("agent's clients: %s, addresses %s; pool in use %s" % (
        peers, sorted(r["assignedAddress"] for r in rows), pool_in_use(agent)))
    check(len(rows) == 3 and all(r["peer"] == NAT_OUT for r in rows),
          "clients not all at the NAT's address: %r" % rows)
    check(len({r["peerPort"] for r in rows}) == 3, "the clients share a port: %r" % peers)
    check(sorted(r["assignedAddress"] for r in rows) == sorted(addrs), "addresses differ")
    check(pool_in_use(agent) == 3, "pool in use: %s" % pool_in_use(agent))
    session, pools = agent.vpnctl("show", "crypto", "session"), agent.vpnctl("show", "ip", "local",
                                                                            "pool")
    info("vpnctl show crypto session:\n%s\nvpnctl show ip local pool:\n%s" % (
        harness.tail(session.stdout, 30), pools.stdout))
    check(session.returncode == 0 and session.stdout.count("Dynamic map: dynmap-10 10") == 3,
          "show crypto session lists %d clients" % session.stdout.count("Dynamic map:"))
    check(re.search(r"^ ourpool\s+10\.2\.1\.1\s+10\.2\.1\.254\s+251\s+3$", pools.stdout,
                    re.M), "show ip local pool: %r" % pools.stdout)
    sa = charons[0].ike_sa(CONN)
    check(sa.get("nat-remote") != "yes" and sa.get("nat-local") == "yes",
          "charon did not detect its NAT: %r" % {k: v for k, v in sa.items() if "nat" in k})


@test
def push_mode_config(env):
    topo, hq, lan, clients = topology(env, 1)
    agent = headend(env, topo, hq, push=True, pull=False)
    bring_up(env, topo, agent, clients, pull=False)


@test
def both_directions_as_the_reference_has_them(env):
    # `client configuration address initiate` and `... respond` together:
    # the headend pushes, a pulling client asks as well; one address each.
    topo, hq, lan, clients = topology(env, 2)
    agent = headend(env, topo, hq, push=True, pull=True)
    charons, addrs = bring_up(env, topo, agent, clients[:1], pull=True)
    pushed = client(env, topo, clients[1], "c2", pull=False)
    connect(pushed)
    check(vip(pushed) not in (None, addrs[0]), "the waiting client: %r" % vip(pushed))
    check(pool_in_use(agent) == 2, "pool in use: %s" % pool_in_use(agent))


@test
def xauth_clients_and_wrong_password(env):
    topo, hq, lan, clients = topology(env, 3)
    agent = headend(env, topo, hq, xauth=True)
    charons, addrs = bring_up(env, topo, agent, clients[:2], users=["alice", "bob"])
    rows = client_rows(agent)
    check(sorted(r["user"] for r in rows) == ["alice", "bob"], "users: %r" % rows)
    mallory = client(env, topo, clients[2], "c3", user="mallory")
    mallory.initiate(child=CHILD, ike=CONN, timeout=15, check=False)
    wait_for(lambda: metric(agent, "vpnagent_remote_access_xauth_attempts_total", 'result="failed"') == 1, 15,
             "the failed XAUTH counted")
    log = mallory.log()
    info("wrong user: xauth ok %s, failed %s; charon: %s" % (
        metric(agent, "vpnagent_remote_access_xauth_attempts_total", 'result="ok"'),
        metric(agent, "vpnagent_remote_access_xauth_attempts_total", 'result="failed"'),
        [l for l in log.splitlines() if "XAuth" in l or "xauth" in l.lower()][-2:]))
    check(vip(mallory) is None, "the refused client got an address")
    check(len(client_rows(agent)) == 2, "the refused client stays: %r" % client_rows(agent))


@test
def lease_released_on_delete_and_dpd_death(env):
    topo, hq, lan, clients = topology(env, 3)
    agent = headend(env, topo, hq)
    charons, addrs = bring_up(env, topo, agent, clients)
    charons[0].terminate(ike=CONN)
    wait_for(lambda: pool_in_use(agent) == 2, 10, "the Delete to release the address")
    info("after %s's Delete: pool in use %d, clients %d" % (
        charons[0].name, pool_in_use(agent), len(client_rows(agent))))
    # The third client, behind the same NAT address, keeps sending while
    # the second is frozen: its ESP must not count as the second's liveness.
    pinger = topo.ns_exec(clients[2], ["ping", "-q", "-i", "0.5", "-w", "45", LAN_HOST],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    charons[1].freeze()
    t0 = time.monotonic()
    try:
        wait_for(lambda: pool_in_use(agent) == 1, 40, "DPD death to release the address")
    finally:
        charons[1].thaw()
        pinger.terminate()
        pinger.wait()
    took = time.monotonic() - t0
    dead = [l for l in agent.proc.output().splitlines() if "not responding" in l]
    info("frozen %s while %s pinged through the same NAT address: address released %.1f s "
         "later (periodic DPD 10 s + 5 x 2 s); agent: %s; %s still up: %s" % (
             charons[1].name, charons[2].name, took, dead[-1:],
             charons[2].name, bool(strongswan.child_ready(charons[2].ike_sa(CONN)))))
    check(18 <= took <= 23, "declared dead after %.1f s, not about 20" % took)
    check(ping_lan(topo, clients[2]) == 3, "the third client lost its tunnel")


@test
def reauthentication_keeps_the_address(env):
    # strongSwan renews an IKEv1 SA by authenticating anew: a second Main
    # Mode, XAUTH and Mode Config asking for the address it has, while the
    # first SA lives on. The address moves to the new connection.
    topo, hq, lan, clients = topology(env, 1)
    agent = headend(env, topo, hq, xauth=True)
    c = client(env, topo, clients[0], "c1", user="alice", rekey_time=12)
    connect(c)
    first, spi0 = vip(c), c.ike_sa(CONN)["initiator-spi"]
    wait_for(lambda: (c.ike_sa(CONN) or {}).get("initiator-spi", spi0) != spi0 and
             strongswan.child_ready(c.ike_sa(CONN)), 40, "charon's reauthentication")
    time.sleep(1)
    rows = client_rows(agent)
    info("reauthenticated: address %s -> %s; the agent's clients %s; pool in use %s; "
         "ping %d/3" % (first, vip(c), [(r["peerPort"], r["assignedAddress"]) for r in rows],
                        pool_in_use(agent), ping_lan(topo, clients[0])))
    check(vip(c) == first, "the address changed: %s -> %s" % (first, vip(c)))
    check(pool_in_use(agent) == 1 and len(rows) == 1, "leftovers: %r" % rows)
    check(ping_lan(topo, clients[0]) == 3, "no ping after the reauthentication")


@test
def pool_exhausted_client_told(env):
    topo, hq, lan, clients = topology(env, 2)
    agent = headend(env, topo, hq, pool=("10.2.1.1", "10.2.1.1"))
    bring_up(env, topo, agent, clients[:1])
    second = client(env, topo, clients[1], "c2")
    second.initiate(child=CHILD, ike=CONN, timeout=15, check=False)
    wait_for(lambda: (metric(agent, "vpnagent_remote_access_pool_exhausted_total", 'pool="ourpool"') or 0) >= 1,
             15, "the refusal counted")
    # Told: a Mode Config REPLY without an address (CPRP without ADDR), then
    # a Delete of its IKE SA. charon then tries again and again (its CHILD
    # SA is still wanted): each attempt is refused and counted the same way.
    second.terminate(ike=CONN, check=False)
    log = second.log().splitlines()
    first = [l for l in log if "<ra|1>" in l]
    reply = [l for l in first if "parsed TRANSACTION response" in l]
    told = [l for l in first if "received DELETE for IKE_SA" in l]
    info("second client, first attempt: %s; %s; refusals counted: %s" % (
        reply[-1:], told[-1:], metric(agent, "vpnagent_remote_access_pool_exhausted_total",
                                      'pool="ourpool"')))
    check(reply and "ADDR" not in reply[-1].split("CPRP")[-1], "no REPLY without an address: "
          "%r" % reply)
    check(told, "the second client was not told (no Delete)")
    check(vip(second) is None, "the second client got an address from a full pool")


if __name__ == "__main__":
    run()
