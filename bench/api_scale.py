#!/usr/bin/env python3
"""The configuration API and store at headend size (R-14, `make bench-api`).

Starts vpn-agent (IPsec off: the store, the API and the engine's
configuration are measured, not handshakes), creates N crypto-map entries
one POST at a time over one keep-alive connection, printing the time per
thousand, then restarts the agent and measures until its API answers with
all N entries.

    bench/api_scale.py [N]        (default 10000; BIN_DIR=build by default)
"""
import http.client
import json
import os
import sys
import time

os.environ.setdefault("BIN_DIR", "build")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))
import harness  # noqa: E402


class Conn:
    """One keep-alive HTTP/1.1 connection to the agent's API."""

    def __init__(self, agent):
        self.agent = agent
        self.c = http.client.HTTPConnection("127.0.0.1", agent.api_port, timeout=60)

    def req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": "Bearer " + self.agent.token,
                   "Content-Type": "application/json"}
        self.c.request(method, "/api/v1" + path, data, headers)
        r = self.c.getresponse()
        out = r.read()
        if r.status != 200:
            raise harness.TestFailure("%s %s -> %d %s" % (method, path, r.status, out[:300]))
        return json.loads(out) if out else None


def entry(i, ts):
    return {"name": "hub-%d" % i, "sequence": 10, "peers": ["100.%d.%d.%d" % (
                64 + (i >> 16), (i >> 8) & 255, i & 255)],
            "transformSets": [{"id": ts["id"], "name": ts["name"], "type": "transformset"}],
            "matchAddress": [{"action": "permit", "protocol": "ip", "source": "172.16.0.0/16",
                              "destination": "10.%d.%d.%d/28" % (
                                  (i >> 12) & 255, (i >> 4) & 255, (i & 15) << 4)}],
            "pfs": None, "lifetimeSeconds": 3600, "lifetimeKilobytes": 4608000,
            "forceEncapsulation": True, "initiate": False}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    env = harness.Env("api-scale")
    try:
        agent = env.add(harness.Agent(env, extra=["--log-level", "warn"]))
        c = Conn(agent)
        c.req("POST", "/object/presharedkeys",
              {"name": "any", "key": "bench-key", "address": "0.0.0.0", "mask": "0.0.0.0"})
        ts = c.req("POST", "/object/transformsets",
                   {"name": "ts1", "esp": "esp-aes", "auth": "esp-sha256-hmac",
                    "mode": "tunnel"})
        t0 = time.monotonic()
        last = t0
        print("%8s %10s %12s" % ("entries", "total s", "last 1000 s"))
        for i in range(n):
            c.req("POST", "/object/cryptomaps", entry(i, ts))
            if (i + 1) % 1000 == 0 or i + 1 == n:
                now = time.monotonic()
                print("%8d %10.2f %12.2f" % (i + 1, now - t0, now - last), flush=True)
                last = now
        created = time.monotonic() - t0
        size = sum(os.path.getsize(os.path.join(agent.state, f))
                   for f in ("config.json", "config.journal")
                   if os.path.exists(os.path.join(agent.state, f)))
        agent.stop()
        t1 = time.monotonic()
        agent.start()
        total = len(Conn(agent).req("GET", "/object/cryptomaps")["items"])
        ready = time.monotonic() - t1
        print("api-scale: entries=%d create_s=%.1f restart_ready_s=%.2f store_mb=%.1f "
              "listed_after_restart=%s" % (n, created, ready, size / 1e6, total))
        if total != n:
            raise harness.TestFailure("%d entries after the restart, not %d" % (total, n))
    finally:
        for thing in reversed(env.started):
            try:
                thing.stop(check_clean=False)
            except Exception:
                pass


if __name__ == "__main__":
    main()
