#!/usr/bin/env python3
"""Telemetry dial-out end to end: a real vpn-agent configured through its API
streams over mTLS gRPC to a real collector-stub (issue 2 acceptance, R-4).
Intervals are lowered through the explicit test setting minIntervalSeconds;
the defaults are never changed."""

import calendar
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (ROOT, Certs, check, cpu_seconds, free_port, info, mono_ms,  # noqa: E402
                     run, test, wait_for)


def streaming_pair(env, interval=2, subscriptions=None, min_interval=1, retry=2,
                   client="client", agent_extra=None):
    """An agent and a collector-stub, the agent configured to stream to it."""
    agent = env.agent(extra=agent_extra)
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    coll = env.collector(certs.dir, interval=interval, subscriptions=subscriptions)
    agent.configure_telemetry(coll.port, certs.read(client + ".crt"), certs.read(client + ".key"),
                              certs.read("ca.crt"), min_interval=min_interval, retry=retry)
    return agent, coll, certs


def batches(coll, uuid, n, timeout):
    return wait_for(lambda: (lambda d: d and len(d["batches"]) >= n and d)(coll.device(uuid)),
                    timeout, "%d batches at the collector" % n)["batches"]


@test
def handshake_fields(env):
    agent, coll, _ = streaming_pair(env, interval=60, min_interval=None)
    d = wait_for(lambda: coll.device(agent.uuid), 10, "the agent's ControlResponse")
    check(d["version"] == "1.0", "version %r" % d["version"])
    check(d["hostname"] == socket.gethostname(), "hostname %r" % d["hostname"])
    check(d["init_streaming"] is True, "init_streaming %r" % d["init_streaming"])
    check(d["capabilities"] == ["metric_streaming"], "capabilities %r" % d["capabilities"])
    check(d["cert_cn"] == agent.uuid, "client cert CN %r" % d["cert_cn"])
    first = batches(coll, agent.uuid, 1, 5)[0]
    check(first["count"] > 0, "initial batch is empty")
    check(agent.status()["state"] == "CONNECTED", "status %r" % agent.status())


@test
def interval_timing_and_change(env):
    agent, coll, _ = streaming_pair(env, interval=2)
    b = batches(coll, agent.uuid, 6, 20)
    req = coll.device(agent.uuid)["control_requests"][0]
    lag = b[0]["t_mono_ms"] - req["t_mono_ms"]
    check(0 <= lag <= 1000, "first batch %.0f ms after the ControlRequest (want <= 1000)" % lag)
    gaps = [b[i + 1]["t_mono_ms"] - b[i]["t_mono_ms"] for i in range(5)]
    cpu = cpu_seconds(agent.proc.pid)
    info("first batch %.0f ms after the ControlRequest; gaps %s ms; agent CPU %.2f s so far"
         % (lag, [round(g) for g in gaps], cpu))
    check(cpu < 5.0, "agent used %.2f s of CPU in its first ~10 s" % cpu)
    for g in gaps:
        check(1800 <= g <= 2200, "batch gaps %s ms, want 2000 +- 10%%" % gaps)
    # Change to 3 s half-way between two batches: the next gap is 3 s.
    time.sleep(max(0, (b[5]["t_mono_ms"] + 1000 - mono_ms()) / 1000.0))
    n_before = len(coll.device(agent.uuid)["batches"])
    coll.set_interval(3)
    after = batches(coll, agent.uuid, n_before + 2, 15)
    g1 = after[n_before]["t_mono_ms"] - after[n_before - 1]["t_mono_ms"]
    g2 = after[n_before + 1]["t_mono_ms"] - after[n_before]["t_mono_ms"]
    info("after the change to 3 s: gaps %.0f, %.0f ms" % (g1, g2))
    check(2700 <= g1 <= 3300 and 2700 <= g2 <= 3300,
          "gaps after the change %.0f, %.0f ms, want 3000 +- 10%%" % (g1, g2))


@test
def subscription_filter(env):
    agent, coll, _ = streaming_pair(env, interval=2)
    first = batches(coll, agent.uuid, 1, 10)[0]
    for fam in ("cpu", "memory", "process", "telemetry"):
        check(fam in first["families"], "default 'all' batch lacks %s: %s" % (fam, first["families"]))
    n = len(coll.device(agent.uuid)["batches"])
    coll.set_interval(2, subscriptions=["cpu"])
    later = batches(coll, agent.uuid, n + 2, 10)[n:]
    for b in later:
        check(b["families"] == ["cpu"], "subscribed to cpu, got %s" % b["families"])


@test
def collector_cancellation(env):
    agent, coll, _ = streaming_pair(env, interval=2, retry=2)
    batches(coll, agent.uuid, 1, 10)
    t_cancel = mono_ms()
    coll.cancel(agent.uuid)
    d = wait_for(lambda: (lambda d: d["cancel_acks"] >= 1 and not d["connected"] and d)(
        coll.device(agent.uuid)), 5, "the agent's ack and both streams ending")
    check(d["control_streams"] == 1, "control streams %d" % d["control_streams"])
    d = wait_for(lambda: (lambda d: d["control_streams"] >= 2 and d)(coll.device(agent.uuid)),
                 10, "the agent to reconnect")
    t_reconnect = d["control_requests"][-1]["t_mono_ms"]
    info("cancel acked; reconnected %.0f ms after the cancel (retry 2 s)" % (t_reconnect - t_cancel))
    check(t_reconnect - t_cancel >= 1900, "reconnected %.0f ms after the cancel, before the "
          "2 s retry interval" % (t_reconnect - t_cancel))
    batches(coll, agent.uuid, len(d["batches"]) + 1, 10)
    st = agent.status()
    check(st["state"] == "CONNECTED", "state after reconnect %r" % st)


@test
def invalid_interval_then_valid(env):
    # Default minimum (60 s): a collector asking for 30 s is refused.
    agent, coll, _ = streaming_pair(env, interval=30, min_interval=None)
    e = wait_for(lambda: agent.error("InvalidArgumentErrors"), 10, "InvalidArgumentErrors")
    check(e["errorCount"] >= 1, "count %r" % e)
    check("streaming interval=30s" in e["errorMessage"] and "proto version=1.0" in
          e["errorMessage"], "message %r" % e["errorMessage"])
    check(41 <= e["errorCode"] <= 50, "code %r" % e["errorCode"])
    info("status: %s %s x%d: %s" % (agent.status()["state"], e["errorType"], e["errorCount"],
                                    e["errorMessage"]))
    check(agent.status()["state"] == "CONNECTED", "state %r" % agent.status())
    time.sleep(2)
    check(coll.device(agent.uuid)["batches_received"] == 0, "a batch was sent anyway")
    t = mono_ms()
    coll.set_interval(60)
    b = batches(coll, agent.uuid, 1, 5)
    check(b[0]["t_mono_ms"] - t <= 1000, "first batch %.0f ms after the valid request"
          % (b[0]["t_mono_ms"] - t))


class CountingListener:
    """Stands where the collector should be: accepts TCP and closes at once,
    recording when each connection attempt arrived."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.times = []
        self.sock.settimeout(0.2)
        self.running = True
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def _loop(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.times.append(mono_ms())
            c.close()

    def stop(self):
        self.running = False
        self.t.join()
        self.sock.close()


@test
def collector_down_then_up(env):
    agent = env.agent()
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    port = free_port()
    listener = CountingListener(port)
    try:
        agent.configure_telemetry(port, certs.read("client.crt"), certs.read("client.key"),
                                  certs.read("ca.crt"), min_interval=1, retry=2)
        cpu0 = cpu_seconds(agent.proc.pid)
        time.sleep(7)
        cpu = cpu_seconds(agent.proc.pid) - cpu0
        info("CPU while retrying for 7 s: %.2f s" % cpu)
        # Retrying is waiting, not spinning (ASan build: generous bound).
        check(cpu < 1.0, "agent used %.2f s of CPU in 7 s of retrying" % cpu)
        e = agent.error("StreamingErrors")
        check(e is not None and e["errorCount"] >= 2, "StreamingErrors %r" % e)
        check(agent.status()["state"] == "DISCONNECTED", "state %r" % agent.status())
    finally:
        listener.stop()
    times = listener.times
    check(3 <= len(times) <= 5, "%d connection attempts in 7 s with a 2 s retry" % len(times))
    gaps = [b - a for a, b in zip(times, times[1:])]
    info("%d connection attempts, gaps %s ms; StreamingErrors count %d, code %d"
         % (len(times), [round(g) for g in gaps], e["errorCount"], e["errorCode"]))
    check(all(g >= 1900 for g in gaps), "attempt gaps %s ms, want >= 2000" % gaps)
    m = agent.metrics_text()
    line = [l for l in m.splitlines() if l.startswith("vpnagent_telemetry_connect_attempts_total")]
    check(line and int(line[0].split()[1]) >= len(times),
          "connect attempts metric %s vs %d seen" % (line, len(times)))
    # The collector comes up on that port: the agent recovers by itself.
    coll = env.collector(certs.dir, interval=2, port=port)
    batches(coll, agent.uuid, 1, 10)
    wait_for(lambda: agent.status()["state"] == "CONNECTED", 5, "state CONNECTED")


def auth_failure(env, client):
    agent = env.agent()
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    coll = env.collector(certs.dir, interval=2)
    agent.configure_telemetry(coll.port, certs.read(client + ".crt"), certs.read(client + ".key"),
                              certs.read("ca.crt"), min_interval=1, retry=2)
    e = wait_for(lambda: agent.error("AuthErrors"), 10, "AuthErrors in the status")
    check(21 <= e["errorCode"] <= 30, "code %r" % e)
    info("%s x%d code %d: %s" % (e["errorType"], e["errorCount"], e["errorCode"],
                                 e["errorMessage"][:160]))
    time.sleep(3)
    check(agent.status()["state"] == "DISCONNECTED", "state %r" % agent.status())
    check(coll.devices() == [], "the collector saw a device: %r" % coll.devices())
    check("vpnagent_" not in coll.metrics_text(), "the collector received metrics")
    return e, agent


@test
def expired_client_cert(env):
    e, agent = auth_failure(env, "expired")
    check("expired" in e["errorMessage"], "message %r" % e["errorMessage"])
    # the certificate family shows it expired
    with open(os.path.join(env.dir, "certs", "expired.crt")) as f:
        (subject, not_after), = cert_facts(f.read())
    got = cert_series(agent.metrics_text())
    key = ("telemetry", subject)
    check(key in got, "no certificate series for the expired client certificate %r: %s"
          % (key, sorted(got)))
    want = not_after - time.time()
    check(got[key] < 0 and abs(got[key] - want) < 5,
          "expired client certificate: %r, want %.0f (notAfter - now)" % (got[key], want))
    info("vpnagent_certificate_expiry_seconds{use=\"telemetry\",subject=\"%s\"} %s"
         % (subject, got[key]))


@test
def wrong_ca_client_cert(env):
    e, _ = auth_failure(env, "otherca-client")
    check("configured CA" in e["errorMessage"], "message %r" % e["errorMessage"])


@test
def large_batch_is_split(env):
    agent, coll, _ = streaming_pair(env, interval=2,
                                    agent_extra=["--tel-max-message-bytes", "2048"])
    d = wait_for(lambda: (lambda d: d and d["batches_received"] >= 4 and d)(
        coll.device(agent.uuid)), 10, "messages")
    first_t = d["batches"][0]["t_mono_ms"]
    same = [b for b in d["batches"] if b["t_mono_ms"] - first_t < 500]
    check(len(same) >= 2, "the initial batch came as %d message(s)" % len(same))
    info("initial batch split into %d messages of %s metrics" % (len(same), [b["count"] for b in same]))
    m = agent.metrics_text()
    check("vpnagent_telemetry_messages_sent_total" in m, "messages_sent metric missing")


@test
def prometheus_endpoints(env):
    agent, coll, _ = streaming_pair(env, interval=2)
    batches(coll, agent.uuid, 1, 10)
    for name, text in (("agent", agent.metrics_text()), ("collector", coll.metrics_text())):
        p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                           capture_output=True)
        check(p.returncode == 0, "promtool on the %s /metrics: %s" % (name, p.stdout + p.stderr))
    a = agent.metrics_text()
    for series in ("vpnagent_cpu_utilisation_ratio{cpu=\"0\"}", "vpnagent_telemetry_connected 1",
                   "process_resident_memory_bytes", "vpnagent_build_info"):
        check(series in a, "agent /metrics lacks %s" % series)
    c = coll.metrics_text()
    check('vpnagent_cpu_utilisation_ratio{cpu="0",uuid="%s"}' % agent.uuid in c,
          "collector /metrics lacks the agent's cpu series")


# ---- the certificate family (R-16.3) ------------------------------------------

IKE_CERTS = os.path.join(ROOT, "certs", "gen-ike-certs.sh")


def cert_facts(pem_text):
    """[(subject, notAfter in epoch seconds)] of each certificate of a PEM text,
    as openssl prints them (subject in RFC 2253)."""
    out = []
    for block in re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n?",
                            pem_text, re.S):
        p = subprocess.run(["openssl", "x509", "-noout", "-subject", "-enddate",
                            "-nameopt", "RFC2253"], input=block, capture_output=True,
                           text=True, check=True)
        subject = re.search(r"^subject=\s*(.*)$", p.stdout, re.M).group(1)
        end = re.search(r"^notAfter=(.*)$", p.stdout, re.M).group(1)
        out.append((subject, calendar.timegm(time.strptime(end, "%b %d %H:%M:%S %Y %Z"))))
    check(out, "no certificate in %r" % pem_text[:80])
    return out


def cert_series(text, uuid=None):
    """{(use, subject): value} of vpnagent_certificate_expiry_seconds in
    Prometheus text (with uuid: the collector's series of that device)."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"vpnagent_certificate_expiry_seconds\{(.*)\} (\S+)$", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
        check(set(labels) == ({"use", "subject", "uuid"} if uuid else {"use", "subject"}),
              "certificate series labels: %s" % line)
        if uuid is None or labels["uuid"] == uuid:
            key = (labels["use"], labels["subject"])
            check(key not in out, "two series for %r" % (key,))
            out[key] = float(m.group(2))
    return out


def configure_ike_certificates(agent, cert_pem, key_pem, ca_pem):
    cert = agent.ok("POST", "/object/internalcertificates",
                    {"name": "ike-cert", "cert": cert_pem, "privateKey": key_pem})
    ca = agent.ok("POST", "/object/externalcacertificates", {"name": "ike-root", "cert": ca_pem})
    ike = agent.ok("GET", "/devicesettings/default/ike")
    ike = {k: v for k, v in ike.items() if k not in ("id", "links", "type")}
    ike.update(certificate={"id": cert["id"], "name": cert["name"], "type": "internalcertificate"},
               trustedCAs=[{"id": ca["id"], "name": ca["name"], "type": "externalcacertificate"}])
    agent.ok("PUT", "/devicesettings/default/ike", ike)


def check_cert_values(got, want, where):
    """got {(use, subject): seconds left}, want {(use, subject): notAfter}:
    the same series, each value notAfter - now within a few seconds."""
    check(set(got) == set(want), "%s: certificate series %s, want %s"
          % (where, sorted(got), sorted(want)))
    now = time.time()
    for key, not_after in want.items():
        check(abs(got[key] - (not_after - now)) < 5, "%s: %r = %r, want %.0f (notAfter - now)"
              % (where, key, got[key], not_after - now))


@test
def certificate_expiry_metrics(env):
    """The IKE certificate (a 20-day leaf with its intermediate after it), a
    trusted root and the telemetry client certificate and CA, configured
    through the API: one vpnagent_certificate_expiry_seconds series each,
    use and subject as openssl reads them, the value notAfter - now; the
    same series at the collector (protobuf), and a subscription to the
    family alone."""
    agent, coll, certs = streaming_pair(env, interval=2)
    want = {}
    for text in (certs.read("client.crt"), certs.read("ca.crt")):
        for subject, not_after in cert_facts(text):
            want[("telemetry", subject)] = not_after
    check_cert_values(cert_series(agent.metrics_text()), want, "agent /metrics, telemetry only")
    pki = os.path.join(env.dir, "ike-pki")
    subprocess.run([IKE_CERTS, pki, "--gateway", "gw:192.0.2.1:gw.example.net:p256",
                    "--days", "20"], check=True, stdout=subprocess.DEVNULL)

    def pem(d, name):
        with open(os.path.join(d, name)) as f:
            return f.read()
    chain, root = pem(pki, "gw-chain.crt"), pem(pki, "ike-root.crt")
    configure_ike_certificates(agent, chain, pem(pki, "gw.key"), root)
    for text in (chain, root):
        for subject, not_after in cert_facts(text):
            want[("ike", subject)] = not_after
    check(len(want) == 5, "five distinct certificates expected: %s" % sorted(want))
    gw = ("ike", "CN=gw.example.net,O=vpn-agent test,C=XX")
    check(gw in want and 19 * 86400 < want[gw] - time.time() <= 20 * 86400,
          "the gateway certificate as openssl reads it: %s" % sorted(want.items()))

    text = agent.metrics_text()
    check_cert_values(cert_series(text), want, "agent /metrics")
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    check(p.returncode == 0, "promtool on the agent /metrics: %s" % (p.stdout + p.stderr))
    for line in text.splitlines():
        if line.startswith("vpnagent_certificate_expiry_seconds"):
            info(line)

    # the protobuf path: the collector's re-export, from a batch taken after the change
    n = len(coll.device(agent.uuid)["batches"])
    batches(coll, agent.uuid, n + 2, 10)
    check_cert_values(cert_series(coll.metrics_text(), agent.uuid), want, "collector /metrics")
    coll.set_interval(2, subscriptions=["certificate"])
    n = len(coll.device(agent.uuid)["batches"])
    later = batches(coll, agent.uuid, n + 2, 10)[n:]
    for b in later:
        check(b["families"] == ["certificate"] and b["count"] == len(want),
              "subscribed to certificate: %s, %d metrics" % (b["families"], b["count"]))

    # a change of configuration is read at once: the trusted root dropped
    ike = agent.ok("GET", "/devicesettings/default/ike")
    ike = {k: v for k, v in ike.items() if k not in ("id", "links", "type")}
    ike["trustedCAs"] = []
    agent.ok("PUT", "/devicesettings/default/ike", ike)
    root_key = ("ike", cert_facts(root)[0][0])
    info("%d series as openssl reads them; at the collector too; subscription 'certificate' "
         "gets %d metrics a batch; dropping the trusted root drops its series"
         % (len(want), len(want)))
    del want[root_key]
    check_cert_values(cert_series(agent.metrics_text()), want, "agent /metrics without the root")


# ---- the interface and disk families (R-17) ----------------------------------

import netns  # noqa: E402
from nsagent import NsAgent, NsCollector  # noqa: E402

ODD_IF = 'q"x\\y'          # a name with a quote and a backslash: escaped in every export
IGNORED_FS = {"autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs",
              "devpts", "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nfsd",
              "nsfs", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs", "selinuxfs",
              "sysfs", "tracefs", "9p", "afs", "ceph", "cifs", "glusterfs", "lustre", "nfs",
              "nfs4", "smb3", "smbfs", "fuse", "fuseblk", "cramfs", "erofs", "iso9660",
              "squashfs"}
IGNORED_DEV = re.compile(r"^((ram|zram|loop|fd)\d+|(sd|hd|vd|xvd)[a-z]+\d+|nvme\d+n\d+p\d+|"
                         r"mmcblk\d+p\d+)$")
HOST_CAP = 64


def prom_samples(text):
    """[(name, {label: unescaped value}, value)] of Prometheus text."""
    out = []
    unesc = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        check(m, "unparsable sample line %r" % line)
        labels = {k: re.sub(r'\\[\\"n]', lambda e: unesc[e.group(0)], v) for k, v in
                  re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")}
        out.append((m.group(1), labels, float(m.group(3))))
    return out


def series(samples, name, key):
    """{label `key` value: sample value} of one metric."""
    return {l[key]: v for n, l, v in samples if n == name}


def ip_links(topo, ns):
    """{name: (mtu, up by the documented rule: IFF_UP and operstate up or
    unknown)} as `ip -j link` sees the namespace (netlink, not our code)."""
    links = json.loads(topo.ip(ns, "-j", "link", "show"))
    return {l["ifname"]: (l["mtu"], int("UP" in l["flags"] and l["operstate"] in
                                        ("UP", "UNKNOWN"))) for l in links}


def proc_net_dev(topo, ns):
    """{name: [16 counters]} of /proc/net/dev read inside ns."""
    out = {}
    for line in topo.run(ns, ["cat", "/proc/net/dev"]).stdout.splitlines()[2:]:
        name, _, rest = line.partition(":")
        out[name.strip()] = [int(x) for x in rest.split()]
    return out


def mountinfo_unescape(field):
    return re.sub(r"\\([0-3][0-7][0-7])", lambda m: chr(int(m.group(1), 8)), field)


def expected_mounts(pid):
    """{mount point: os.statvfs} the documented rule keeps, as process pid
    sees its mounts (its mount namespace, through /proc/PID/root)."""
    listed = []
    with open("/proc/%d/mountinfo" % pid) as f:
        for line in f.read().splitlines():
            fields = line.split(" ")
            if "-" not in fields[6:]:
                continue
            sep = fields.index("-", 6)
            path, fstype = mountinfo_unescape(fields[4]), mountinfo_unescape(fields[sep + 1])
            listed = [(p, t) for p, t in listed if p != path]  # mounted over: the top one
            if fstype not in IGNORED_FS and not fstype.startswith("fuse."):
                listed.append((path, fstype))
    out = {}
    for path, _ in listed[:HOST_CAP]:
        try:
            st = os.statvfs("/proc/%d/root%s" % (pid, path))
        except OSError:
            continue
        if st.f_blocks > 0:
            out[path] = st
    return out


def expected_devices():
    """{device: [counters]} of /proc/diskstats by the documented rule."""
    out = {}
    with open("/proc/diskstats") as f:
        for line in f.read().splitlines():
            fields = line.split()
            if len(fields) >= 14 and not IGNORED_DEV.match(fields[2]):
                out[fields[2]] = [int(x) for x in fields[3:]]
    return dict(list(out.items())[:HOST_CAP])


@test
def interface_and_disk_families(env):
    """An agent with its TUN device in a namespace holding a veth pair (one
    end named with a quote and a backslash) and a TUN device without
    carrier: the interface family lists exactly the namespace's interfaces
    with the MTU and up state `ip link` shows; taking a veth end down is
    seen as a down transition on both ends (the other loses its carrier);
    the disk family lists the filesystems and whole block devices of the
    documented rule with statvfs's sizes; promtool is clean; the same rows
    reach the collector (protobuf) and a subscription to "interface" alone
    gets those alone."""
    check(os.geteuid() == 0, "needs root (ip netns, TUN)")
    topo = netns.NetTopo(env)
    ns = topo.add_ns("hostm")
    topo.ip(ns, "link", "add", ODD_IF, "type", "veth", "peer", "name", "p0")
    topo.ip(ns, "addr", "add", "192.0.2.1/24", "dev", "p0")
    for dev in (ODD_IF, "p0"):
        topo.ip(ns, "link", "set", dev, "up")
    topo.ip(ns, "tuntap", "add", "dev", "tunoff", "mode", "tun")
    topo.ip(ns, "link", "set", "tunoff", "up")
    agent = env.add(NsAgent(env, topo, ns, "192.0.2.1", name="agent"))

    links = ip_links(topo, ns)
    check(set(links) == {"lo", ODD_IF, "p0", "tunoff", "vpn0"}, "interfaces: %s" % links)
    check(links["vpn0"][1] == 1 and links["tunoff"][1] == 0,
          "ip link: vpn0 %s tunoff %s" % (links["vpn0"], links["tunoff"]))
    # wait for a sample taken after our own API traffic went over lo
    text = wait_for(lambda: (lambda t: series(prom_samples(t),
                    "vpnagent_interface_receive_packets_total", "interface").get("lo", 0) > 0
                    and t)(agent.metrics_text()), 15, "a sample that saw traffic on lo")
    after = proc_net_dev(topo, ns)
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    check(p.returncode == 0, "promtool on the agent /metrics: %s" % (p.stdout + p.stderr))
    samples = prom_samples(text)
    mtu = series(samples, "vpnagent_interface_mtu_bytes", "interface")
    up = series(samples, "vpnagent_interface_up", "interface")
    check(set(mtu) == set(links) == set(up), "interfaces exported %s, ip link %s"
          % (sorted(mtu), sorted(links)))
    for name, (want_mtu, want_up) in links.items():
        check(mtu[name] == want_mtu and up[name] == want_up, "%r: mtu %s up %s, ip link %s %s"
              % (name, mtu[name], up[name], want_mtu, want_up))
    columns = {"receive_bytes": 0, "receive_packets": 1, "receive_errors": 2, "receive_drops": 3,
               "transmit_bytes": 8, "transmit_packets": 9, "transmit_errors": 10,
               "transmit_drops": 11}
    for what, col in columns.items():
        got = series(samples, "vpnagent_interface_%s_total" % what, "interface")
        check(set(got) == set(links), "%s for %s" % (what, sorted(got)))
        for name, v in got.items():
            check(v <= after[name][col], "%s %r: %s, /proc/net/dev later %s"
                  % (what, name, v, after[name][col]))
    info("interfaces %s; vpn0 mtu %d up %d, tunoff (no carrier) up %d; promtool clean"
         % (sorted(links), mtu["vpn0"], up["vpn0"], up["tunoff"]))

    # a veth end set down: it is down, and its peer lost its carrier
    topo.ip(ns, "link", "set", ODD_IF, "down")
    links = ip_links(topo, ns)
    check(links[ODD_IF][1] == 0 and links["p0"][1] == 0, "ip link after the down: %s" % links)

    def transitions(state):
        s = prom_samples(agent.metrics_text())
        return (series(s, "vpnagent_interface_up", "interface"),
                {l["interface"]: v for n, l, v in s if l.get("state") == state and
                 n == "vpnagent_interface_state_transitions_total"})
    t0 = time.monotonic()
    up, down = wait_for(lambda: (lambda u, d: u[ODD_IF] == 0 and u["p0"] == 0 and (u, d))(
        *transitions("down")), 15, "both veth ends seen down")
    check(down[ODD_IF] == 1 and down["p0"] == 1 and down["vpn0"] == 0 and down["lo"] == 0,
          "down transitions %s" % down)
    seen = time.monotonic() - t0
    topo.ip(ns, "link", "set", ODD_IF, "up")
    up, ups = wait_for(lambda: (lambda u, d: u[ODD_IF] == 1 and u["p0"] == 1 and (u, d))(
        *transitions("up")), 15, "both veth ends seen up again")
    check(ups[ODD_IF] == 1 and ups["p0"] == 1 and ups["vpn0"] == 0, "up transitions %s" % ups)
    info("down seen %.1f s after ip link set down (5 s sampling); transitions down %s, up %s"
         % (seen, {k: int(v) for k, v in down.items()}, {k: int(v) for k, v in ups.items()}))

    # the disk family against the rule applied here to the agent's own view
    samples = prom_samples(agent.metrics_text())
    want_fs = expected_mounts(agent.proc.pid)
    want_dev = expected_devices()
    size = series(samples, "vpnagent_disk_size_bytes", "mountpoint")
    free = series(samples, "vpnagent_disk_free_bytes", "mountpoint")
    used = series(samples, "vpnagent_disk_used_bytes", "mountpoint")
    check(set(size) == set(want_fs) == set(free) == set(used),
          "filesystems exported %s, by the rule %s" % (sorted(size), sorted(want_fs)))
    check(want_fs, "no filesystem at all")
    for path, st in want_fs.items():
        check(size[path] == st.f_blocks * st.f_frsize, "%s size %s, statvfs %d"
              % (path, size[path], st.f_blocks * st.f_frsize))
        # used and free move with whatever else writes meanwhile
        check(abs(free[path] - st.f_bavail * st.f_frsize) < 512e6 and
              abs(used[path] - (st.f_blocks - st.f_bfree) * st.f_frsize) < 512e6,
              "%s free %s used %s, statvfs %d %d" % (path, free[path], used[path],
                                                     st.f_bavail * st.f_frsize,
                                                     (st.f_blocks - st.f_bfree) * st.f_frsize))
    reads = series(samples, "vpnagent_disk_reads_completed_total", "device")
    written = series(samples, "vpnagent_disk_written_bytes_total", "device")
    check(set(reads) == set(want_dev) == set(written), "devices exported %s, by the rule %s"
          % (sorted(reads), sorted(want_dev)))
    for dev, c in want_dev.items():
        check(reads[dev] <= c[0] and written[dev] <= c[6] * 512,
              "%s: reads %s written %s, /proc/diskstats later %d %d"
              % (dev, reads[dev], written[dev], c[0], c[6] * 512))
    info("filesystems %s; devices %s" % (sorted(want_fs), sorted(want_dev)))

    # the protobuf path: the collector in the same namespace
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    coll = env.add(NsCollector(env, topo, ns, certs.dir, interval=2))
    agent.configure_telemetry(coll.port, certs.read("client.crt"), certs.read("client.key"),
                              certs.read("ca.crt"), min_interval=1, retry=2)
    first = batches(coll, agent.uuid, 2, 15)[1]
    check({"interface", "disk", "cpu"} <= set(first["families"]),
          "a batch's families: %s" % first["families"])
    c = coll.metrics_text()
    p = subprocess.run(["promtool", "check", "metrics"], input=c.encode(), capture_output=True)
    check(p.returncode == 0, "promtool on the collector /metrics: %s" % (p.stdout + p.stderr))
    cs = prom_samples(c)
    for name, (want_mtu, _) in ip_links(topo, ns).items():
        got = [v for n, l, v in cs if n == "vpnagent_interface_mtu_bytes" and
               l == {"interface": name, "uuid": agent.uuid}]
        check(got == [want_mtu], "collector: mtu of %r %s, want %d" % (name, got, want_mtu))
    check(set(series(cs, "vpnagent_disk_size_bytes", "mountpoint")) == set(want_fs),
          "collector: filesystems %s" % sorted(series(cs, "vpnagent_disk_size_bytes",
                                                      "mountpoint")))
    coll.set_interval(2, subscriptions=["interface"])
    n = len(coll.device(agent.uuid)["batches"])
    later = batches(coll, agent.uuid, n + 2, 10)[n + 1:]
    per_if = len([m for m in samples if m[0].startswith("vpnagent_interface_")]) // len(links)
    for b in later:
        check(b["families"] == ["interface"] and b["count"] == per_if * len(links),
              "subscribed to interface: %s, %d metrics (want %d)"
              % (b["families"], b["count"], per_if * len(links)))
    info("collector: families %s in a batch, %s's MTU as ip shows it; subscription "
         "'interface': %d metrics a batch, no cpu" % (first["families"], ODD_IF,
                                                     later[-1]["count"]))


def metric_value(text, series):
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[1])
    return None


@test
def buffer_while_disconnected(env):
    # 2 s batches of the families whose size does not depend on the host
    # (its CPUs, interfaces and disks): 27 metrics, the telemetry
    # certificates' two included; a buffer of BUF metrics (two batches, not three):
    # while the collector is away the oldest batches are dropped and
    # counted, and on reconnect a buffered batch goes out before the initial one.
    BUF = 70
    fams = ["telemetry", "certificate", "memory", "process", "build"]
    agent, coll, certs = streaming_pair(env, interval=2, retry=5, subscriptions=fams,
                                        agent_extra=["--tel-buffer-max-metrics", str(BUF)])
    per_batch = batches(coll, agent.uuid, 2, 10)[0]["count"]
    port = coll.port
    coll.proc.stop()
    env.started.remove(coll)
    wait_for(lambda: agent.status()["state"] == "DISCONNECTED", 5, "DISCONNECTED")
    wait_for(lambda: agent.error("BufferErrors"), 15, "BufferErrors once the buffer is full")
    m = agent.metrics_text()
    dropped = metric_value(m, 'vpnagent_telemetry_dropped_metrics_total{reason="buffer_full"}')
    buffered = metric_value(m, "vpnagent_telemetry_buffered_metrics")
    info("while down: dropped %r, buffered %r (batch %d metrics)" % (dropped, buffered, per_batch))
    check(dropped and dropped >= per_batch, "dropped %r (batch is %d metrics)" % (dropped, per_batch))
    check(2 * per_batch <= BUF < 3 * per_batch, "the buffer holds %d batches of %d metrics: "
          "resize BUF" % (BUF // per_batch, per_batch))
    check(buffered and 0 < buffered <= BUF + per_batch, "buffered %r" % buffered)
    coll2 = env.collector(certs.dir, interval=2, port=port, name="collector2",
                          subscriptions=fams)
    d = wait_for(lambda: (lambda d: d and d["batches_received"] >= 3 and d)(
        coll2.device(agent.uuid)), 15, "buffered batches delivered after reconnect")
    t0 = d["batches"][0]["t_mono_ms"]
    burst = [b for b in d["batches"] if b["t_mono_ms"] - t0 < 500]
    check(len(burst) >= 2, "buffered batches then the initial batch arrive together, got %d"
          % len(burst))
    wait_for(lambda: metric_value(agent.metrics_text(), "vpnagent_telemetry_buffered_metrics")
             == 0, 5, "the buffer to drain")


@test
def delete_config_stops_streaming(env):
    agent, coll, _ = streaming_pair(env, interval=2)
    batches(coll, agent.uuid, 1, 10)
    cfg = agent.ok("GET", "/devicesettings/default/telemetrystreamingconfig")["items"][0]
    st, body = agent.api("DELETE", "/devicesettings/default/telemetrystreamingconfig/" + cfg["id"])
    check(st in (200, 204), "DELETE -> %s %s" % (st, body))
    wait_for(lambda: not coll.device(agent.uuid)["connected"], 5, "the streams to end")
    n = coll.device(agent.uuid)["batches_received"]
    time.sleep(4.5)
    d = coll.device(agent.uuid)
    check(d["batches_received"] == n and d["control_streams"] == 1,
          "still streaming after DELETE: %d batches (was %d), %d control streams"
          % (d["batches_received"], n, d["control_streams"]))
    st = agent.status()
    check(st["state"] == "DISCONNECTED", "state %r" % st)


@test
def config_survives_restart(env):
    agent, coll, _ = streaming_pair(env, interval=2)
    batches(coll, agent.uuid, 1, 10)
    agent.stop()

    def store_holds_the_key(files):
        for name in files:
            mode = os.stat(os.path.join(agent.state, name)).st_mode & 0o777
            check(mode == 0o600, "%s mode %o (holds a private key)" % (name, mode))
        text = "".join(open(os.path.join(agent.state, name)).read() for name in files)
        check("PRIVATE KEY" in text, "the key is persisted so streaming resumes: %s" % files)

    # the changes are in the journal until a start folds them into config.json
    store_holds_the_key([n for n in ("config.json", "config.journal")
                         if os.path.exists(os.path.join(agent.state, n))])
    wait_for(lambda: not coll.device(agent.uuid)["connected"], 5, "the streams to end")
    uuid = agent.uuid
    agent.start()
    store_holds_the_key(["config.json"])
    check(not os.path.exists(os.path.join(agent.state, "config.journal")),
          "the journal was not folded in at start")
    check(agent.uuid == uuid, "device UUID changed across restart")
    wait_for(lambda: coll.device(uuid)["control_streams"] >= 2, 10, "streaming after restart")
    st, body = agent.api("GET", "/object/internalcertificates")
    check(st == 200 and "privateKey" not in str(body) and "PRIVATE KEY" not in str(body),
          "GET returned the private key: %s" % body)


if __name__ == "__main__":
    run()
