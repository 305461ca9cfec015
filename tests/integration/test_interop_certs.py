#!/usr/bin/env python3
"""Certificate authentication (issue 12, SPEC R-16) against strongSwan's
charon (5.9.8, IKEv1 Main Mode, auth = pubkey): RSA and ECDSA P-256, the
agent initiating and answering, identities by address, FQDN and DN, with
an intermediate CA sent in CERT payloads (both sides trust only the root);
the tunnel comes up, a ping crosses it and DPD runs. Then the failures,
each seen on both sides: charon presenting an expired, a not yet valid, an
unknown CA's, a revoked (CRL) and a wrong-identity certificate; the agent's
log line, its drop counter and the notify charon receives."""

import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import netns  # noqa: E402
import strongswan  # noqa: E402
from harness import ROOT, check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

AGENT_OUT, SUN_OUT = "192.0.2.1", "192.0.2.2"
AGENT_NET, SUN_NET = "10.200.1.0/24", "10.200.2.0/24"
CONN, CHILD = "agent", "agent-child"
GEN = os.path.join(ROOT, "certs", "gen-ike-certs.sh")
SUN_DNS = "sun.example.net"


def agent_dns():
    # identity hostname sends the machine's host name: the certificate has it
    return socket.gethostname()


def pki(env, keytype):
    """The test PKI (certs/gen-ike-certs.sh): root, intermediate, the agent's
    and charon's certificates of one key type, and the broken ones."""
    d = os.path.join(env.dir, "pki-" + keytype)
    subprocess.run([GEN, d, "--gateway", "agent:%s:%s:%s" % (AGENT_OUT, agent_dns(), keytype),
                    "--gateway", "sun:%s:%s:%s" % (SUN_OUT, SUN_DNS, keytype),
                    "--broken-for", "sun:%s:%s" % (SUN_OUT, SUN_DNS)],
                   check=True, stdout=subprocess.DEVNULL)
    return d


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read()


def subject(d, name):
    """A certificate's subject as strongSwan writes a DN identity."""
    out = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in",
                          os.path.join(d, name)], capture_output=True, text=True, check=True)
    # RFC 2253 is reversed and comma-separated; strongSwan wants "C=.., O=.., CN=.."
    parts = out.stdout.strip().split("=", 1)[1].split(",")
    return ", ".join(reversed([p.strip() for p in parts]))


def setup(env, keytype, auth, agent_initiates, agent_id="address", sun_cert="sun",
          crl=False, dpd_delay=None, sun_id=None, encap=True):
    check(os.geteuid() == 0, "needs root (ip netns)")
    d = pki(env, keytype)
    topo = netns.NetTopo(env)
    a, s = topo.add_ns("agent"), topo.add_ns("sun")
    topo.link(a, AGENT_OUT + "/24", s, SUN_OUT + "/24")
    topo.add_addr(s, "10.200.2.1/32")
    topo.add_addr(a, "10.200.1.1/32")
    ids = {"address": AGENT_OUT, "hostname": agent_dns(), "dn": subject(d, "agent.crt")}
    sun_ids = {"address": SUN_OUT, "hostname": SUN_DNS, "dn": subject(d, sun_cert + ".crt")}
    conf = strongswan.ikev1_pubkey(CONN, SUN_OUT, AGENT_OUT, SUN_NET, AGENT_NET,
                                   sun_cert + ".crt", sun_id or sun_ids[agent_id],
                                   ids[agent_id],
                                   child=CHILD, dpd_delay=dpd_delay, encap=encap)
    # kernel-libipsec fakes a NAT (it carries UDP-encapsulated ESP only):
    # without encap, Main Mode alone is looked at, so it is left out
    plugins = strongswan.CERT_PLUGINS if encap else \
        strongswan.CERT_PLUGINS.replace("kernel-libipsec ", "")
    charon = strongswan.Charon(env, topo, s, "sun", conf, load=False,
                               charon_extra={"load": plugins})
    # swanctl takes one certificate per file: the intermediate goes to
    # x509ca beside the root, so charon sends it after its own (strongSwan
    # sends the issuer certificates it holds)
    charon.install_pki(cert=os.path.join(d, sun_cert + ".crt"),
                       key=os.path.join(d, sun_cert + ".key"),
                       cas=[os.path.join(d, "ike-root.crt"), os.path.join(d, "ike-int.crt")],
                       crls=[os.path.join(d, "ike-int.crl")] if crl else [])
    charon.load()
    agent = NsAgent(env, topo, a, AGENT_OUT)
    env.add(agent)
    agent.configure_certificates(read(d, "agent-chain.crt"), read(d, "agent.key"),
                                 [read(d, "ike-root.crt")],
                                 [read(d, "ike-int.crl"), read(d, "ike-root.crl")] if crl else [],
                                 identity=agent_id)
    agent.configure_vpn(("aes", "sha256", 14), ("esp-aes", "esp-sha256-hmac"),
                        initiate=agent_initiates, peers=[SUN_OUT], psk=None,
                        local_net=AGENT_NET, remote_net=SUN_NET, auth=auth)
    return topo, agent, charon, d


def up(topo, agent, charon, agent_initiates, want_auth):
    if not agent_initiates:
        charon.initiate(child=CHILD, ike=CONN)
    sa, ours, ike = strongswan.tunnel_with_agent(agent, charon, CONN)
    check(ike["authentication"] == want_auth, "our ISAKMP SA: %r" % ike)
    p = topo.run("agent", ["ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "10.200.1.1",
                           "10.200.2.1"], check=False)
    m = re.search(r"(\d+) received", p.stdout)
    got = int(m.group(1)) if m else 0
    info("%s, agent %s: charon %s (%s, local %s, remote %s), ours %s; ping %d/3" % (
        want_auth, "initiator" if agent_initiates else "responder", sa["state"],
        sa.get("dh-group"), sa.get("local-id"), sa.get("remote-id"), ike["authentication"], got))
    check(got == 3, "%d of 3 pings through the tunnel" % got)
    return sa


@test
def rsa_agent_initiates_identity_address(env):
    topo, agent, charon, _ = setup(env, "rsa2048", "rsa-sig", True)
    up(topo, agent, charon, True, "rsig")


@test
def rsa_agent_answers_identity_dn(env):
    topo, agent, charon, _ = setup(env, "rsa3072", "rsa-sig", False, agent_id="dn")
    up(topo, agent, charon, False, "rsig")


@test
def ecdsa_agent_answers_identity_fqdn(env):
    topo, agent, charon, _ = setup(env, "p256", "ecdsa-sig", False, agent_id="hostname")
    up(topo, agent, charon, False, "ecdsa")


@test
def ecdsa_agent_initiates_identity_dn_with_dpd(env):
    topo, agent, charon, _ = setup(env, "p256", "ecdsa-sig", True, agent_id="dn", dpd_delay=5)
    up(topo, agent, charon, True, "ecdsa")
    wait_for(lambda: agent.tunnel(SUN_OUT)["ackSent"] >= 1, 20, "charon's DPD probe answered")
    info("DPD: charon's R-U-THERE answered %d time(s)" % agent.tunnel(SUN_OUT)["ackSent"])


WHY = {"expired": "expired", "notyetvalid": "not yet valid", "unknownca": "unknown CA",
       "revoked": "revoked", "wrongid": "identity mismatch"}


def refused(env, broken, reason, notify, crl=False, sun_id=None, encap=True):
    """charon presents a broken certificate (certs/gen-ike-certs.sh's
    sun-<broken>) to the agent, which answers."""
    topo, agent, charon, _ = setup(env, "p256", "ecdsa-sig", False, sun_cert="sun-" + broken,
                                   crl=crl, sun_id=sun_id, encap=encap)
    charon.initiate(child=CHILD, ike=CONN, timeout=5, check=False)
    stats = wait_for(lambda: (lambda s: s if s.get(reason, 0) >= 1 else None)(
        agent.ok("GET", "/operational/ikestatistics")["items"][0]), 15,
        "the agent to refuse the %s certificate" % broken)
    ours = [l for l in agent.proc.output().splitlines() if "IKE_CERT" in l]
    theirs = [l for l in charon.log().splitlines() if "parsed INFORMATIONAL_V1" in l and
              "N(" in l]
    info("%s: agent %s=%d %s=%d; agent log: %s; charon: %s" % (
        broken, reason, stats[reason], notify, stats.get(notify, 0), ours[-1:], theirs[-1:]))
    check(ours and ("failed: %s" % WHY[broken]) in ours[-1], "no log line for %s: %r" % (
        broken, ours[-1:]))
    check(theirs, "charon did not receive the notify")
    check(stats.get(notify, 0) >= 1, "no %s notify sent" % notify)
    check(not strongswan.child_ready(charon.ike_sa(CONN)), "charon got a tunnel anyway")


@test
def refuses_expired(env):
    refused(env, "expired", "droppedCertExpired", "notifiedInvalidCertificate")


@test
def refuses_not_yet_valid(env):
    refused(env, "notyetvalid", "droppedCertNotYetValid", "notifiedInvalidCertificate")


@test
def refuses_unknown_ca(env):
    refused(env, "unknownca", "droppedCertUnknownCa", "notifiedInvalidCertAuthority")


@test
def refuses_revoked(env):
    refused(env, "revoked", "droppedCertRevoked", "notifiedInvalidCertificate", crl=True)


@test
def refuses_wrong_identity(env):
    # Its certificate is for 192.0.2.254, and so is the ID it sends, from
    # 192.0.2.2: a certificate for another host does not speak for this
    # one. With no NAT: behind one, an address identity may differ from the
    # source (a peer sends its private address), so charon must not fake
    # one (no encap, no kernel-libipsec: only Main Mode matters here).
    refused(env, "wrongid", "droppedCertIdentityMismatch", "notifiedAuthenticationFailed",
            sun_id="192.0.2.254", encap=False)


if __name__ == "__main__":
    run()
