#!/usr/bin/env python3
"""What the collector-stub believes (R-9): a device is the CN of the client
certificate it presents (the agents' CN is their device UUID), never the
ftd_uuid it claims, so a device with a valid certificate cannot pose as
another; and its unauthenticated HTTP control API listens on loopback
unless told otherwise, with a warning when it is."""

import os
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (BIN_DIR, Certs, Proc, check, free_port, info, run, tail,  # noqa: E402
                     test, wait_for)


def agent_claiming(env, name, device_uuid):
    """An agent whose device-uuid file says device_uuid (made before its
    first start, as a copied or edited state dir would hold it)."""
    state = os.path.join(env.dir, name + "-state")
    os.mkdir(state, 0o700)
    with open(os.path.join(state, "device-uuid"), "w") as f:
        f.write(device_uuid + "\n")
    os.chmod(os.path.join(state, "device-uuid"), 0o600)
    return env.agent(name=name)


def stream_with(agent, coll, certs, cn):
    agent.configure_telemetry(coll.port, certs.read("client-%s.crt" % cn),
                              certs.read("client-%s.key" % cn), certs.read("ca.crt"),
                              min_interval=1, retry=2)


@test
def device_cannot_pose_as_another(env):
    victim = env.agent(name="victim")
    impostor_cn = str(uuid.uuid4())
    certs = Certs(os.path.join(env.dir, "certs"), [victim.uuid, impostor_cn])
    coll = env.collector(certs.dir, interval=2)
    stream_with(victim, coll, certs, victim.uuid)
    wait_for(lambda: (lambda d: d and d["batches_received"] >= 1 and d)(
        coll.device(victim.uuid)), 10, "the victim's first batch")

    # Its own valid certificate (CN impostor_cn), the victim's UUID claimed.
    impostor = agent_claiming(env, "impostor", victim.uuid)
    check(impostor.uuid == victim.uuid, "the impostor's device-uuid was not kept")
    stream_with(impostor, coll, certs, impostor_cn)
    line = ("device claims ftd_uuid %s but its certificate CN is %s; refused"
            % (victim.uuid, impostor_cn))
    wait_for(lambda: line in coll.proc.output(), 10, "the refusal in the collector log")
    check("ControlStream ended: device=(unknown) status=PERMISSION_DENIED"
          in coll.proc.output(), "the refused stream did not end PERMISSION_DENIED:\n"
          + tail(coll.proc.output(), 15))
    time.sleep(2.5)		# the impostor retries (every 2 s): refused again

    d = coll.device(victim.uuid)
    check([x["uuid"] for x in coll.devices()] == [victim.uuid],
          "devices at the collector: %s" % [x["uuid"] for x in coll.devices()])
    check(d["cert_cn"] == victim.uuid and d["control_streams"] == 1,
          "the victim's record was touched: cert_cn %s, %d control streams"
          % (d["cert_cn"], d["control_streams"]))
    refusals = coll.proc.output().count(line)
    check(refusals >= 2, "the impostor's retry was not refused (%d refusals)" % refusals)
    info("impostor refused %d times; the victim kept streaming (%d batches)"
         % (refusals, coll.device(victim.uuid)["batches_received"]))


@test
def device_with_a_foreign_uuid_alone_is_refused(env):
    # No other device connected: a claimed UUID that is not the CN stores nothing.
    cn = str(uuid.uuid4())
    agent = env.agent()
    certs = Certs(os.path.join(env.dir, "certs"), [cn, str(uuid.uuid4())])
    coll = env.collector(certs.dir, interval=2)
    stream_with(agent, coll, certs, cn)
    line = "device claims ftd_uuid %s but its certificate CN is %s; refused" % (agent.uuid, cn)
    wait_for(lambda: line in coll.proc.output(), 10, "the refusal in the collector log")
    time.sleep(1)
    check(coll.devices() == [], "the collector stored a device: %r" % coll.devices())
    check("vpnagent_" not in coll.metrics_text(), "the collector stored metrics")
    errs = ["%s x%d: %s" % (e["errorType"], e["errorCount"], e["errorMessage"][:100])
            for e in agent.status().get("errors", [])]
    info("the agent sees: %s %s" % (agent.status()["state"], errs))


@test
def matching_cn_streams(env):
    agent = env.agent()
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid, str(uuid.uuid4())])
    coll = env.collector(certs.dir, interval=2)
    stream_with(agent, coll, certs, agent.uuid)
    d = wait_for(lambda: (lambda d: d and d["batches_received"] >= 2 and d)(
        coll.device(agent.uuid)), 10, "two batches")
    check(d["cert_cn"] == agent.uuid, "cert_cn %r" % d["cert_cn"])
    check("certificate CN is" not in coll.proc.output(), "a refusal was logged")


# ---- the HTTP control API -------------------------------------------------

def collector_argv(certs_dir, *extra):
    return [os.path.join(BIN_DIR, "collector-stub"), "--listen", "127.0.0.1:%d" % free_port(),
            "--certs", certs_dir] + list(extra)


def started(proc, what):
    wait_for(lambda: "Metrics and control API listening" in proc.output()
             or not proc.alive(), 10, what)
    check(proc.alive(), "collector-stub exited:\n" + tail(proc.output(), 10))
    return proc.output()


WARNING = "has no authentication"


@test
def control_api_default_and_help(env):
    p = subprocess.run([os.path.join(BIN_DIR, "collector-stub"), "--help"],
                       capture_output=True, text=True, timeout=10)
    line = [l for l in p.stdout.splitlines() if "--metrics-listen" in l]
    check(p.returncode == 0 and line, "--help: %s" % p.stdout)
    check("(default 127.0.0.1:9101)" in line[0] and "unauthenticated" in line[0],
          "--metrics-listen help does not say loopback default / unauthenticated: %r"
          % line[0])
    # Without --metrics-listen: loopback (when the default port is free here).
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", 9101))
            free = True
        except OSError:
            free = False
    if not free:
        info("port 9101 is in use here: the default address was checked in --help only")
        return
    certs = Certs(os.path.join(env.dir, "certs"), [str(uuid.uuid4())])
    proc = Proc("collector-default", collector_argv(certs.dir), env.dir)
    env.add(proc)
    out = started(proc, "the collector's HTTP side")
    check("listening at address=127.0.0.1 port=9101" in out, "default HTTP address:\n"
          + tail(out, 5))
    check(WARNING not in out, "warned about a loopback address")


@test
def non_loopback_control_api_warns(env):
    certs = Certs(os.path.join(env.dir, "certs"), [str(uuid.uuid4())])
    port = free_port()
    proc = env.add(Proc("collector-any", collector_argv(
        certs.dir, "--metrics-listen", "0.0.0.0:%d" % port), env.dir))
    out = started(proc, "the collector's HTTP side on 0.0.0.0")
    warn = [l for l in out.splitlines() if WARNING in l]
    check(warn and "0.0.0.0:%d" % port in warn[0],
          "no warning about the unauthenticated control API on 0.0.0.0:\n" + tail(out, 8))
    info(warn[0].split("] ", 1)[-1])
    # still serving
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    for addr in ("127.0.0.1", "127.0.0.2", "localhost"):
        p = env.add(Proc("collector-" + addr, collector_argv(
            certs.dir, "--metrics-listen", "%s:%d" % (addr, free_port())), env.dir))
        check(WARNING not in started(p, "the collector on " + addr),
              "warned about loopback address " + addr)


if __name__ == "__main__":
    run()
