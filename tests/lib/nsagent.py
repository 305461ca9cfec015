"""A vpn-agent inside a network namespace for integration tests: started
with `ip netns exec`, its API reached with curl run in that namespace, and a
helper that configures an IKEv1 site-to-site tunnel through the API the way
an operator would (IKE policy, PSK, transform set, DPD, crypto map). A
collector-stub can run in a namespace too (NsCollector), on its loopback."""

import json
import os

import harness
from harness import BIN_DIR, TestFailure, check, free_port, tail, wait_for


def ns_curl(topo, ns, method, url, body=None, headers=(), timeout=20):
    """(status, parsed JSON or text) of an HTTP request made with curl
    inside ns (its loopback is not ours)."""
    cmd = ["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-X", method,
           "-H", "Content-Type: application/json", url]
    for h in headers:
        cmd += ["-H", h]
    if body is not None:
        cmd += ["--data-binary", json.dumps(body)]
    p = topo.run(ns, cmd, check=False, timeout=timeout)
    out, _, code = p.stdout.rpartition("\n")
    try:
        return int(code), json.loads(out) if out else None
    except ValueError:
        return int(code or 0), out


class NsCollector(harness.Collector):
    """A collector-stub inside a network namespace, on its loopback; its
    HTTP API reached with curl in that namespace. Stopped by its pid with
    everything else the Env started."""

    def __init__(self, env, topo, ns, certs_dir, interval=60, subscriptions=None,
                 name="collector"):
        self.topo, self.ns = topo, ns
        self.port, self.http_port = free_port(), free_port()
        argv = [os.path.join(BIN_DIR, "collector-stub"),
                "--listen", "127.0.0.1:%d" % self.port, "--certs", certs_dir,
                "--interval", str(interval),
                "--metrics-listen", "127.0.0.1:%d" % self.http_port, "--log-level", "debug"]
        if subscriptions:
            argv += ["--subscriptions", ",".join(subscriptions)]
        self.proc = harness.Proc(name, topo.ns_argv(ns, argv), env.dir)
        self.base = "http://127.0.0.1:%d" % self.http_port
        wait_for(self._up, 10, "collector-stub HTTP in %s" % ns)

    def _req(self, method, path, body=None):
        return ns_curl(self.topo, self.ns, method, self.base + path, body)

    def _up(self):
        if not self.proc.alive():
            raise TestFailure("collector-stub exited:\n" + tail(self.proc.output(), 20))
        return self._req("GET", "/api/devices")[0] == 200

    def devices(self):
        st, body = self._req("GET", "/api/devices")
        check(st == 200, "GET /api/devices: %s %s" % (st, body))
        return body["devices"]

    def set_interval(self, interval, subscriptions=None, device=None, version=None):
        body = {"interval": interval}
        if subscriptions is not None:
            body["subscriptions"] = subscriptions
        if device:
            body["device"] = device
        if version:
            body["version"] = version
        st, resp = self._req("POST", "/api/interval", body)
        check(st == 200, "POST /api/interval: %s %s" % (st, resp))
        return resp

    def cancel(self, device):
        st, resp = self._req("POST", "/api/cancel", {"device": device})
        check(st == 200, "POST /api/cancel: %s %s" % (st, resp))

    def metrics_text(self):
        st, body = self._req("GET", "/metrics")
        check(st == 200, "collector /metrics: %s" % st)
        return body


class NsAgent(harness.Agent):
    """A vpn-agent inside a network namespace; its API is reached with curl
    run in that namespace (loopback there is not ours)."""

    def __init__(self, env, topo, ns, ike_address, name="agent", extra=None,
                 metrics_addr="127.0.0.1"):
        """metrics_addr: where /metrics listens (an address of ns, for a
        Prometheus in another namespace)."""
        self.topo, self.ns, self.metrics_addr = topo, ns, metrics_addr
        super().__init__(env, name=name, extra=["--ike-address", ike_address] + (extra or []))

    def start(self):
        argv = [os.path.join(BIN_DIR, "vpn-agent"), "--state-dir", self.state,
                "--api-listen", "127.0.0.1:%d" % self.api_port,
                "--metrics-listen", "%s:%d" % (self.metrics_addr, self.metrics_port),
                "--log-level", "debug"] + self.extra
        self.proc = harness.Proc(self.name, self.topo.ns_argv(self.ns, argv), self.env.dir)
        self.base = "http://127.0.0.1:%d/api/v1" % self.api_port
        wait_for(self._token_ready, 15, "agent API token")
        wait_for(self._up, 15, "agent API")
        with open(os.path.join(self.state, "device-uuid")) as f:
            self.uuid = f.read().strip()

    def _curl(self, method, url, body=None, token=None):
        return ns_curl(self.topo, self.ns, method, url, body,
                       ["Authorization: Bearer " + token] if token else ())

    def api(self, method, path, body=None, token=None):
        return self._curl(method, self.base + path, body, token or self.token)

    def _up(self):
        try:
            return self.api("GET", "/object/networks")[0] == 200
        except (OSError, ValueError):
            return False

    def vpnctl(self, *args):
        """vpnctl ARGS run inside the agent's namespace against its API; the
        CompletedProcess (a sanitizer report fails the test)."""
        argv = [os.path.join(BIN_DIR, "vpnctl"), "--api", "http://127.0.0.1:%d" % self.api_port,
                "--token-file", os.path.join(self.state, "api-token")] + list(args)
        p = self.topo.run(self.ns, argv, check=False, timeout=30)
        check("runtime error:" not in p.stderr and "Sanitizer" not in p.stderr,
              "vpnctl %s: sanitizer report:\n%s" % (" ".join(args), p.stderr))
        return p

    def metrics_text(self):
        st, body = self._curl("GET", "http://%s:%d/metrics" % (self.metrics_addr,
                                                                 self.metrics_port))
        check(st == 200, "agent /metrics: %s" % st)
        return body

    def configure_certificates(self, cert_pem, key_pem, ca_pems, crl_pems=(), identity="address"):
        """Our IKE certificate (with its chain after it) and key, the CAs we
        trust, CRLs, and the identity we send (address, hostname, dn)."""
        cert = self.ok("POST", "/object/internalcertificates",
                       {"name": "ike-cert", "cert": cert_pem, "privateKey": key_pem})
        cas = [self.ok("POST", "/object/externalcacertificates",
                       {"name": "ike-ca-%d" % i, "cert": pem}) for i, pem in enumerate(ca_pems)]
        ike = self.ok("GET", "/devicesettings/default/ike")
        ike = {k: v for k, v in ike.items() if k not in ("id", "links", "type")}
        ike.update(identity=identity, crls=list(crl_pems),
                   certificate={"id": cert["id"], "name": cert["name"],
                                "type": "internalcertificate"},
                   trustedCAs=[{"id": c["id"], "name": c["name"],
                                "type": "externalcacertificate"} for c in cas])
        self.ok("PUT", "/devicesettings/default/ike", ike)

    def configure_vpn(self, ike, esp, initiate, peers, psk, local_net, remote_net,
                      keepalive=10, mode="PERIODIC", ike_life=86400, child_life=3600, pfs=None,
                      child_kb=4608000, auth="pre-share", force_encap=True, esp_mode="tunnel",
                      protocol="ip", sport=None, dport=None):
        """The crypto map is ESP-in-UDP (forceEncapsulation) unless
        force_encap is False: then plain ESP unless NAT-D sees a NAT."""
        enc, h, group = ike
        self.ok("POST", "/object/ikepolicies",
                {"name": "p10", "priority": 10, "encryption": enc, "hash": h,
                 "authentication": auth, "group": group, "lifetimeSeconds": ike_life})
        if psk is not None:
            self.ok("POST", "/object/presharedkeys",
                    {"name": "any", "key": psk, "address": "0.0.0.0", "mask": "0.0.0.0"})
        ts = self.ok("POST", "/object/transformsets",
                     {"name": "ts1", "esp": esp[0], "auth": esp[1], "mode": esp_mode})
        dpd = self.ok("GET", "/devicesettings/default/dpd")
        self.ok("PUT", "/devicesettings/default/dpd",
                dict(dpd, keepaliveSeconds=keepalive, retrySeconds=2, retries=5, mode=mode))
        line = {"action": "permit", "protocol": protocol, "source": local_net,
                "destination": remote_net}
        if sport:
            line["sourcePort"] = sport
        if dport:
            line["destinationPort"] = dport
        self.ok("POST", "/object/cryptomaps",
                {"name": "VPN", "sequence": 10, "peers": peers,
                 "transformSets": [{"id": ts["id"], "name": ts["name"], "type": "transformset"}],
                 "matchAddress": [line],
                 "pfs": pfs, "lifetimeSeconds": child_life, "lifetimeKilobytes": child_kb,
                 "forceEncapsulation": force_encap, "initiate": initiate})



    def tunnels(self):
        return self.ok("GET", "/operational/tunnels")["items"]

    def tunnel(self, peer):
        for t in self.tunnels():
            if t["peer"] == peer:
                return t
        return None
