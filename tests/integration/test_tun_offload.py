#!/usr/bin/env python3
"""TUN offloads (issue 14): one TCP flow through the tunnel between two
agents, every byte checked (SHA-256 of 48 MB on both ends), with the
offloads on (the kernel hands the agent TSO super-packets, which it cuts;
it merges what it decrypts into GSO writes: both counted) and forced off
(--no-tun-offload: one packet per read and write, nothing cut or merged),
over ESP-in-UDP and over plain ESP."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import netns  # noqa: E402
from harness import check, info, run, test, wait_for  # noqa: E402
from nsagent import NsAgent  # noqa: E402

PSK = "tun-offload-psk-0123456789"
A_OUT, B_OUT = "192.0.2.1", "192.0.2.2"
A_NET, B_NET = "10.204.1.0/24", "10.204.2.0/24"
A_IN, B_IN = "10.204.1.1", "10.204.2.1"
SIZE = 48 * 1024 * 1024
PORT = 7777

SERVER = r"""
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(60)
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(60)
h, n = hashlib.sha256(), 0
while True:
    d = c.recv(1 << 20)
    if not d:
        break
    h.update(d); n += len(d)
print(n, h.hexdigest(), flush=True)
"""

CLIENT = r"""
import hashlib, random, socket, sys
rnd = random.Random(1414)
h, left = hashlib.sha256(), int(sys.argv[4])
c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=60,
                             source_address=(sys.argv[1], 0))
while left:
    d = rnd.randbytes(min(left, 1 << 20))
    c.sendall(d); h.update(d); left -= len(d)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
print(int(sys.argv[4]), h.hexdigest(), flush=True)
"""


def offload_frames(agent):
    m = agent.metrics_text()
    return {d: int(float(n)) for d, n in re.findall(
        r'^vpnagent_esp_tun_offload_frames_total\{direction="(\w+)"\} (\S+)', m, re.M)}


def transfer(env, offload, force_encap):
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    na, nb = topo.add_ns("site-a"), topo.add_ns("site-b")
    topo.link(na, A_OUT + "/24", nb, B_OUT + "/24")
    topo.add_addr(na, A_IN + "/32")
    topo.add_addr(nb, B_IN + "/32")
    extra = None if offload else ["--no-tun-offload"]
    a = env.add(NsAgent(env, topo, na, A_OUT, name="agent-a", extra=extra))
    b = env.add(NsAgent(env, topo, nb, B_OUT, name="agent-b", extra=extra))
    ike, esp = ("aes", "sha256", 14), ("esp-gcm", None)
    b.configure_vpn(ike, esp, False, [A_OUT], PSK, B_NET, A_NET, force_encap=force_encap)
    a.configure_vpn(ike, esp, True, [B_OUT], PSK, A_NET, B_NET, force_encap=force_encap)
    wait_for(lambda: a.tunnel(B_OUT)["status"] == "UP" and b.tunnel(A_OUT)["status"] == "UP",
             15, "the tunnel up on both sides")
    server = topo.ns_exec(nb, ["python3", "-c", SERVER, B_IN, str(PORT)],
                          stdout=harness.subprocess.PIPE, text=True)
    try:
        check(server.stdout.readline().strip() == "listening", "the server did not start")
        t0 = time.monotonic()
        p = topo.run(na, ["python3", "-c", CLIENT, A_IN, B_IN, str(PORT), str(SIZE)],
                     timeout=120)
        took = time.monotonic() - t0
        got = server.stdout.readline().split()
    finally:
        server.kill()
        server.wait()
    sent = p.stdout.split()
    sa_a = a.ok("GET", "/operational/ipsecsas")["items"][0]
    fa, fb = offload_frames(a), offload_frames(b)
    line = [l for l in a.proc.output().splitlines() if "ESP: dataplane on" in l]
    info("%s, %s: %s bytes in %.1f s (%.2f Gbit/s), SHA-256 sent %s..., received %s...; "
         "A cut %d super-packets, B merged %d writes; A encaps %d ESP packets%s"
         % ("offloads on" if offload else "offloads off", "ESP-in-UDP" if force_encap else
            "plain ESP", got[0] if got else "?", took, SIZE * 8 / took / 1e9, sent[1][:12],
            got[1][:12] if len(got) > 1 else "?", fa.get("out", 0), fb.get("in", 0),
            sa_a["pktsEncaps"], ("; " + line[0].split("] ", 1)[-1]) if line else ""))
    check(len(got) == 2 and int(got[0]) == SIZE and got[1] == sent[1],
          "received %r, sent %r" % (got, sent))
    return fa, fb


@test
def tcp_bytes_arrive_with_offloads(env):
    for force_encap in (True, False):
        sub = harness.Env("offload-%s" % ("udp" if force_encap else "plain"))
        ok = False
        try:
            fa, fb = transfer(sub, True, force_encap)
            check(fa.get("out", 0) > 0 and fb.get("in", 0) > 0,
                  "offloads did not work: A cut %r, B merged %r" % (fa, fb))
            ok = True
        finally:
            errors = sub.close(ok)
            check(not errors, "teardown: %s" % errors)


@test
def tcp_bytes_arrive_with_offloads_off(env):
    fa, fb = transfer(env, False, True)
    check(fa.get("out", 0) == 0 and fb.get("in", 0) == 0,
          "offloads used although off: %r %r" % (fa, fb))


if __name__ == "__main__":
    run()
