#!/usr/bin/env python3
"""Self-test of the strongSwan interop harness (tests/lib/netns.py,
strongswan.py, capture.py): two charons (Debian 5.9.8, kernel-libipsec) in
two network namespaces joined by a veth run IKEv1 PSK Main Mode + Quick Mode
with encap = yes, pass a ping between their protected subnets through ipsec0,
detect a frozen peer by DPD, and their capture decodes in tshark (decrypted)
without malformed packets. Nothing is left behind, also when a test fails.

Needs root and tests/lib/install-deps.sh. Addresses: the veth carries
192.0.2.0/24, the protected subnets 10.200.1.0/24 and 10.200.2.0/24 exist only
on lo inside the namespaces."""

import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import capture  # noqa: E402
import netns  # noqa: E402
import strongswan  # noqa: E402
from harness import Env, TestFailure, check, info, run, test  # noqa: E402

PSK = "harness-selftest-psk"
MOON_OUT, SUN_OUT = "192.0.2.1", "192.0.2.2"
MOON_NET, SUN_NET = "10.200.1.0/24", "10.200.2.0/24"
MOON_IN, SUN_IN = "10.200.1.1", "10.200.2.1"
CONN, CHILD = "net", "net-child"
DPD_DELAY, DPD_TIMEOUT = 5, 10

started_pids = []  # every charon/dumpcap pid, checked by the last test


def preflight():
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    missing = strongswan.missing_tools()
    check(not missing, "missing %s: run tests/lib/install-deps.sh" % ", ".join(missing))


def pair(env, moon_kw=None, sun_kw=None, capture_on_moon=True):
    """Topology + two loaded charons (+ a capture on moon's veth end)."""
    preflight()
    topo = netns.NetTopo(env)
    moon = topo.add_ns("moon")
    sun = topo.add_ns("sun")
    if_moon, _ = topo.link(moon, MOON_OUT + "/24", sun, SUN_OUT + "/24")
    topo.add_addr(moon, MOON_IN + "/32")
    topo.add_addr(sun, SUN_IN + "/32")
    cap = capture.Capture(env, topo, moon, if_moon, name="ike") if capture_on_moon else None
    a = strongswan.Charon(env, topo, moon, "moon", strongswan.ikev1_psk(
        CONN, MOON_OUT, SUN_OUT, MOON_NET, SUN_NET, PSK, child=CHILD, **(moon_kw or {})))
    b = strongswan.Charon(env, topo, sun, "sun", strongswan.ikev1_psk(
        CONN, SUN_OUT, MOON_OUT, SUN_NET, MOON_NET, PSK, child=CHILD, **(sun_kw or {})))
    started_pids.extend([a.pid, b.pid] + ([cap.proc.pid] if cap else []))
    return topo, a, b, cap


def establish(a, b):
    t0 = time.monotonic()
    a.initiate(child=CHILD, ike=CONN)
    dt = time.monotonic() - t0
    sas = {}
    for side in (a, b):
        sa = side.ike_sa(CONN)
        check(sa is not None, "%s: no IKE SA %s: %r" % (side.name, CONN, side.list_sas()))
        check(sa["state"] == "ESTABLISHED", "%s: IKE SA state %s" % (side.name, sa["state"]))
        check(sa["version"] == 1, "%s: IKE version %s" % (side.name, sa["version"]))
        check(len(sa["children"]) == 1, "%s: children %r" % (side.name, sa["children"]))
        ch = sa["children"][0]
        check(ch["state"] == "INSTALLED", "%s: CHILD SA state %s" % (side.name, ch["state"]))
        check(ch.get("encap") == "yes", "%s: CHILD SA not UDP-encapsulated" % side.name)
        sas[side.name] = sa
    return dt, sas


def ping(topo, ns, src, dst, count=3):
    p = topo.run(ns, ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-I", src, dst],
                 check=False, timeout=15)
    check(p.returncode == 0, "ping %s -> %s failed:\n%s%s" % (src, dst, p.stdout, p.stderr))
    rtt = [ln for ln in p.stdout.splitlines() if ln.startswith("rtt")]
    return rtt[0].split("=")[1].strip() if rtt else "?"


@test
def ikev1_psk_tunnel_ping_and_clean_capture(env):
    topo, a, b, cap = pair(env)
    dt, sas = establish(a, b)
    ma, sa_ = sas["moon"], sas["sun"]
    info("Main Mode + Quick Mode established in %.0f ms (charon start %.0f/%.0f ms)"
         % (dt * 1000, a.start_seconds * 1000, b.start_seconds * 1000))
    info("IKE %s_i %s_r: %s-%d/%s/%s, local port %s" % (
        ma["initiator-spi"], ma["responder-spi"], ma["encr-alg"], ma["encr-keysize"],
        ma["integ-alg"], ma["dh-group"], ma["local-port"]))
    check((ma["encr-alg"], ma["encr-keysize"], ma["integ-alg"], ma["dh-group"]) ==
          ("AES_CBC", 128, "HMAC_SHA2_256_128", "MODP_2048"), "IKE proposal %r" % ma)
    check(ma["local-port"] == 4500 and ma["remote-port"] == 4500, "IKE did not float to 4500")
    check(ma["initiator-spi"] == sa_["initiator-spi"], "IKE SPIs differ between peers")
    ca, cb = ma["children"][0], sa_["children"][0]
    check(ca["encr-alg"] == "AES_CBC" and ca["integ-alg"] == "HMAC_SHA2_256_128",
          "ESP proposal %r" % ca)
    check(ca["spi-in"] == cb["spi-out"] and ca["spi-out"] == cb["spi-in"],
          "CHILD SPIs do not pair up: moon %s/%s sun %s/%s"
          % (ca["spi-in"], ca["spi-out"], cb["spi-in"], cb["spi-out"]))
    info("CHILD %s: ESP %s-%s/%s in-UDP, SPIs moon in %s out %s"
         % (CHILD, ca["encr-alg"], ca["encr-keysize"], ca["integ-alg"], ca["spi-in"], ca["spi-out"]))

    for ns in (topo.full_name("moon"), topo.full_name("sun")):
        check("ipsec0" in topo.ip(ns, "link", "show", "ipsec0"), "%s: no ipsec0" % ns)
    route = topo.ip("moon", "route", "show", "table", "220").strip()
    check("dev ipsec0" in route and SUN_NET in route, "moon table 220: %r" % route)
    info("moon table 220: %s" % route)

    rtt1 = ping(topo, "moon", MOON_IN, SUN_IN)
    rtt2 = ping(topo, "sun", SUN_IN, MOON_IN)
    info("ping through ipsec0 moon->sun rtt %s, sun->moon rtt %s" % (rtt1, rtt2))
    ca = a.child_sa(CONN, CHILD)
    cb = b.child_sa(CONN, CHILD)
    check(ca["packets-out"] >= 6 and ca["packets-in"] >= 6,
          "moon CHILD SA counters: %r" % ca)
    check(cb["packets-in"] == ca["packets-out"] and cb["bytes-in"] == ca["bytes-out"],
          "counters disagree: moon out %d/%dB, sun in %d/%dB" % (
              ca["packets-out"], ca["bytes-out"], cb["packets-in"], cb["bytes-in"]))
    info("CHILD SA counters: moon out %d pkts/%d B in %d pkts/%d B; sun in %d pkts/%d B"
         % (ca["packets-out"], ca["bytes-out"], ca["packets-in"], ca["bytes-in"],
            cb["packets-in"], cb["bytes-in"]))

    keys = a.ikev1_keys()
    check(keys and keys == b.ikev1_keys(), "key logs: moon %r sun %r" % (keys, b.ikev1_keys()))
    check(keys[0][0] == ma["initiator-spi"], "key log cookie %s != SA %s"
          % (keys[0][0], ma["initiator-spi"]))
    a.terminate(ike=CONN)
    wait_for_gone(a, 5)
    wait_for_gone(b, 5)
    d = capture.decode(cap.stop(), keys)
    info("capture: %d frames, %d ISAKMP (%s), %d/%d encrypted decrypted, %d ESP-in-UDP, "
         "%d malformed" % (d["packets"], d["isakmp"], summarize(d["exchange_names"]),
                           d["decrypted"], d["encrypted"], d["esp"], d["malformed"]))
    check(d["malformed"] == 0, "malformed frames %r" % d["malformed_frames"])
    check(d["expert_errors"] == 0, "%d frames with expert errors" % d["expert_errors"])
    check(d["exchange_types"][:9] == [2] * 6 + [32] * 3,
          "expected 6 Main Mode + 3 Quick Mode messages first, got %r" % d["exchange_types"])
    check(5 in d["exchange_types"], "no Informational (delete) seen: %r" % d["exchange_types"])
    check(d["encrypted"] > 0 and d["decrypted"] == d["encrypted"],
          "decrypted %d of %d encrypted ISAKMP messages" % (d["decrypted"], d["encrypted"]))
    check(d["esp"] >= 12, "ESP-in-UDP frames %d" % d["esp"])


def wait_for_gone(side, timeout):
    end = time.monotonic() + timeout
    while side.ike_sa(CONN) is not None:
        if time.monotonic() > end:
            raise TestFailure("%s: IKE SA still there: %r" % (side.name, side.list_sas()))
        time.sleep(0.1)


def summarize(names):
    out = []
    for n in names:
        if out and out[-1][0] == n:
            out[-1][1] += 1
        else:
            out.append([n, 1])
    return ", ".join("%dx %s" % (c, n) for n, c in out)


@test
def dpd_detects_frozen_peer(env):
    topo, a, b, cap = pair(env, moon_kw={"dpd_delay": DPD_DELAY, "dpd_timeout": DPD_TIMEOUT})
    establish(a, b)
    ping(topo, "moon", MOON_IN, SUN_IN, count=1)
    mark = len(a.log())
    b.freeze()
    t0 = time.monotonic()
    a.wait_log(r"sending DPD request", DPD_DELAY + 3, start=mark)
    t_probe = time.monotonic() - t0
    a.wait_log(r"DPD check timed out", DPD_TIMEOUT + 5, start=mark)
    t_dead = time.monotonic() - t0
    wait_for_gone(a, 3)
    t_gone = time.monotonic() - t0
    info("sun frozen (SIGSTOP): first DPD probe after %.1fs, 'DPD check timed out' after "
         "%.1fs, IKE SA gone after %.1fs (dpd_delay %ds, dpd_timeout %ds)"
         % (t_probe, t_dead, t_gone, DPD_DELAY, DPD_TIMEOUT))
    # charon runs its DPD check from its own scheduler: on a loaded machine
    # it is late by up to a second or so (seen: 6.0 s with delay 5 s while
    # two compilers ran). Never probing is what this must catch. Its IKEv1
    # timeout is checked when a probe is due, every dpd_delay, so it fires
    # at the first check past dpd_timeout: 10 s here, 11.0 s when that
    # schedule had slipped by the same second (CI run of 070259e).
    check(t_probe <= DPD_DELAY + 2, "first probe after %.1fs" % t_probe)
    check(DPD_DELAY - 1 <= t_dead <= DPD_TIMEOUT + DPD_DELAY + 1,
          "DPD timed out after %.1fs, expected at the first check past dpd_timeout %ds "
          "(checks every %ds)" % (t_dead, DPD_TIMEOUT, DPD_DELAY))
    check(a.list_sas() == [], "moon still has SAs: %r" % a.list_sas())
    b.thaw()
    d = capture.decode(cap.stop(), a.ikev1_keys())
    probes = d["notify_types"].count(36136)
    info("capture: %s; R-U-THERE %d, R-U-THERE-ACK %d (sun's late answer after thaw), "
         "%d malformed"
         % (summarize(d["exchange_names"]), probes, d["notify_types"].count(36137),
            d["malformed"]))
    check(d["malformed"] == 0, "malformed frames %r" % d["malformed_frames"])
    check(probes >= 1, "no decrypted R-U-THERE in the capture: %r" % d["notify_types"])


@test
def decode_counts_malformed(env):
    """decode() really sees malformed ISAKMP (so '0 malformed' means something)."""
    preflight()
    sa_payload = struct.pack("!BBH", 0, 0, 60) + b"\0" * 4  # claims 60 bytes, has 8
    header = b"\x11" * 8 + b"\0" * 8 + struct.pack("!BBBBII", 1, 0x10, 2, 0, 0,
                                                    28 + len(sa_payload))
    pcap = capture.write_udp_pcap(os.path.join(env.dir, "bad.pcap"), [header + sa_payload])
    d = capture.decode(pcap)
    info("hand-made truncated SA payload: %d malformed of %d" % (d["malformed"], d["packets"]))
    check(d["malformed"] == 1 and d["exchange_types"] == [2], "decode: %r" % d)


@test
def cleanup_after_failure(env):
    """A test that fails half-way still leaves no namespace or process."""
    inner = Env("inner")
    names, pids = [], []
    try:
        topo, a, b, cap = pair(inner, moon_kw={"start_action": "none"})
        a.initiate(child=CHILD, ike=CONN)
        b.freeze()  # stop() must cope with a frozen charon
        names = list(topo.namespaces)
        pids = [a.pid, b.pid, cap.proc.pid]
        raise TestFailure("simulated failure")
    except TestFailure as e:
        check(str(e) == "simulated failure", "setup failed: %s" % e)
    finally:
        errors = inner.close(False)
        shutil.rmtree(inner.dir, ignore_errors=True)
    check(not errors, "teardown errors: %r" % errors)
    left = [n for n in names if n in netns.list_netns()]
    check(not left, "namespaces left: %r" % left)
    alive = [p for p in pids if pid_running(p)]
    check(not alive, "processes left: %r" % alive)
    info("after a failing test: namespaces %s and pids %s are gone" % (names, pids))


def pid_running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@test
def nothing_left_behind(env):
    """Runs last: every namespace and process of the tests above is gone."""
    left = [n for n in netns.list_netns() if n.startswith(netns.PREFIX)]
    check(not left, "namespaces left: %r" % left)
    alive = [p for p in started_pids if pid_running(p)]
    check(not alive, "processes left: %r" % alive)
    pg = subprocess.run(["pgrep", "-x", "charon"], stdout=subprocess.PIPE, text=True)
    ours = [int(p) for p in pg.stdout.split() if int(p) in started_pids]
    check(not ours, "pgrep charon finds our pids %r" % ours)
    info("%d pids checked gone, no %s* namespace, pgrep -x charon: %s"
         % (len(started_pids), netns.PREFIX, pg.stdout.split() or "none"))


if __name__ == "__main__":
    run()
