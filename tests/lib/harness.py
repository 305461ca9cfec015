"""Integration test harness: starts real processes (vpn-agent, collector-stub)
on loopback ports, talks to their HTTP interfaces, and always stops what it
started, by pid, also when a test fails or the run is interrupted.

Each test is a function decorated with @test; run() prints one line per test
and the closing "N passed, N failed". Only the Python standard library."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.path.join(ROOT, os.environ.get("BIN_DIR", "build/san"))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

_tests = []
_procs = []


def test(fn):
    _tests.append(fn)
    return fn


class TestFailure(AssertionError):
    pass


def info(msg):
    """A measured figure, printed under the test's result line."""
    print("      " + msg, flush=True)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def wait_for(pred, timeout, what, step=0.05):
    """Polls pred() until it returns a true value; fails naming `what`."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(step)


_ports_given = set()


def free_port():
    """A loopback port nothing listens on, and never one handed out before
    in this run: a port chosen for later use is still free now, so the
    kernel may offer it again (a collector-stub once got its gRPC port as
    its HTTP port)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def mono_ms():
    return time.monotonic() * 1000.0


class Proc:
    """A child process with its log in a file; stop() checks a clean exit."""

    def __init__(self, name, argv, logdir, env=None):
        self.name = name
        self.log_path = os.path.join(logdir, name + ".log")
        self.log = open(self.log_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  env=full_env, start_new_session=True)
        _procs.append(self)

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p.poll() is None

    def output(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, check_clean=True, timeout=10):
        if self.log.closed:
            return
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()
                if check_clean:
                    raise TestFailure("%s did not exit within %ds of SIGTERM" % (self.name, timeout))
        if self in _procs:
            _procs.remove(self)
        self.log.close()
        out = self.output()
        if check_clean:
            for mark in SANITIZER_MARKS:
                if mark in out:
                    raise TestFailure("%s: sanitizer report:\n%s" % (self.name, tail(out, 40)))
            if self.p.returncode != 0:
                raise TestFailure("%s exited with status %s:\n%s"
                                  % (self.name, self.p.returncode, tail(out, 20)))


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tail(text, n):
    return "\n".join(text.splitlines()[-n:])


def http(method, url, body=None, headers=None, timeout=10):
    """Returns (status, parsed JSON or text)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode() if not isinstance(body, (bytes, str)) else (
            body.encode() if isinstance(body, str) else body)
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
    text = raw.decode("utf-8", "replace")
    if "json" in ctype:
        try:
            return status, json.loads(text)
        except ValueError:
            pass
    return status, text


class Certs:
    """certs/gen-certs.sh output for one run."""

    def __init__(self, outdir, device_uuids):
        self.dir = outdir
        argv = [os.path.join(ROOT, "certs", "gen-certs.sh"), outdir]
        for u in device_uuids:
            argv += ["--device-uuid", u]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()


class Collector:
    def __init__(self, env, certs_dir, interval=60, subscriptions=None, port=None,
                 extra=None, name="collector"):
        self.port = port or free_port()
        self.http_port = free_port()
        argv = [os.path.join(BIN_DIR, "collector-stub"),
                "--listen", "127.0.0.1:%d" % self.port,
                "--certs", certs_dir,
                "--interval", str(interval),
                "--metrics-listen", "127.0.0.1:%d" % self.http_port,
                "--log-level", "debug"]
        if subscriptions:
            argv += ["--subscriptions", ",".join(subscriptions)]
        argv += extra or []
        self.proc = Proc(name, argv, env.dir)
        self.base = "http://127.0.0.1:%d" % self.http_port
        wait_for(self._up, 10, "collector-stub HTTP on %d" % self.http_port)

    def _up(self):
        if not self.proc.alive():
            raise TestFailure("collector-stub exited:\n" + tail(self.proc.output(), 20))
        try:
            return http("GET", self.base + "/api/devices", timeout=1)[0] == 200
        except OSError:
            return False

    def devices(self):
        st, body = http("GET", self.base + "/api/devices")
        check(st == 200, "GET /api/devices: %s %s" % (st, body))
        return body["devices"]

    def device(self, uuid):
        for d in self.devices():
            if d["uuid"] == uuid:
                return d
        return None

    def set_interval(self, interval, subscriptions=None, device=None, version=None):
        body = {"interval": interval}
        if subscriptions is not None:
            body["subscriptions"] = subscriptions
        if device:
            body["device"] = device
        if version:
            body["version"] = version
        st, resp = http("POST", self.base + "/api/interval", body)
        check(st == 200, "POST /api/interval: %s %s" % (st, resp))
        return resp

    def cancel(self, device):
        st, resp = http("POST", self.base + "/api/cancel", {"device": device})
        check(st == 200, "POST /api/cancel: %s %s" % (st, resp))

    def metrics_text(self):
        st, body = http("GET", self.base + "/metrics")
        check(st == 200, "collector /metrics: %s" % st)
        return body


class Agent:
    def __init__(self, env, name="agent", extra=None):
        self.state = os.path.join(env.dir, name + "-state")
        self.api_port = free_port()
        self.metrics_port = free_port()
        self.name = name
        self.env = env
        self.extra = extra or []
        self.start()

    def start(self):
        argv = [os.path.join(BIN_DIR, "vpn-agent"), "--state-dir", self.state,
                "--api-listen", "127.0.0.1:%d" % self.api_port,
                "--metrics-listen", "127.0.0.1:%d" % self.metrics_port,
                "--log-level", "debug"] + self.extra
        self.proc = Proc(self.name, argv, self.env.dir)
        self.base = "http://127.0.0.1:%d/api/v1" % self.api_port
        wait_for(lambda: self._token_ready(), 15, "agent API token")
        wait_for(self._up, 15, "agent API on %d" % self.api_port)
        with open(os.path.join(self.state, "device-uuid")) as f:
            self.uuid = f.read().strip()

    def _token_ready(self):
        if not self.proc.alive():
            raise TestFailure("vpn-agent exited:\n" + tail(self.proc.output(), 30))
        p = os.path.join(self.state, "api-token")
        if not os.path.exists(p):
            return False
        with open(p) as f:
            self.token = f.read().strip()
        return bool(self.token)

    def _up(self):
        try:
            return self.api("GET", "/object/networks")[0] == 200
        except OSError:
            return False

    def api(self, method, path, body=None, token=None):
        return http(method, self.base + path, body,
                    {"Authorization": "Bearer " + (token or self.token)})

    def ok(self, method, path, body=None):
        st, resp = self.api(method, path, body)
        check(st == 200, "%s %s -> %s %s" % (method, path, st, resp))
        return resp

    def status(self):
        items = self.ok("GET", "/operational/telemetrystreamingstatuses")["items"]
        check(len(items) == 1, "one status item, got %r" % items)
        return items[0]

    def error(self, error_type):
        for e in self.status().get("errors", []):
            if e["errorType"] == error_type:
                return e
        return None

    def metrics_text(self):
        st, body = http("GET", "http://127.0.0.1:%d/metrics" % self.metrics_port)
        check(st == 200, "agent /metrics: %s" % st)
        return body

    def configure_telemetry(self, collector_port, cert_pem, key_pem, ca_pem,
                            min_interval=None, retry=None, host="127.0.0.1"):
        net = self.ok("POST", "/object/networks",
                      {"name": "collector", "subType": "HOST", "value": host,
                       "type": "networkobject"})
        ic = self.ok("POST", "/object/internalcertificates",
                     {"name": "agent-cert", "cert": cert_pem, "privateKey": key_pem,
                      "type": "internalcertificate"})
        ca = self.ok("POST", "/object/externalcacertificates",
                     {"name": "collector-ca", "cert": ca_pem, "type": "externalcacertificate"})
        cfg = {"name": "telemetry", "connectionMode": "DIAL_OUT", "port": collector_port,
               "targetHost": {"id": net["id"], "name": net["name"], "type": "networkobject"},
               "clientCertificate": {"id": ic["id"], "name": ic["name"],
                                     "type": "internalcertificate"},
               "caCertificate": {"id": ca["id"], "name": ca["name"],
                                 "type": "externalcacertificate"},
               "type": "telemetrystreamingconfig"}
        if min_interval is not None:
            cfg["minIntervalSeconds"] = min_interval
        if retry is not None:
            cfg["retryIntervalSeconds"] = retry
        return self.ok("POST", "/devicesettings/default/telemetrystreamingconfig", cfg)

    def stop(self, check_clean=True):
        self.proc.stop(check_clean)


class Env:
    """A temporary folder for one test; everything started in it is stopped."""

    def __init__(self, name):
        base = os.path.join(ROOT, "build", "itest")
        os.makedirs(base, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=base)
        self.started = []

    def add(self, thing):
        self.started.append(thing)
        return thing

    def collector(self, certs_dir, **kw):
        return self.add(Collector(self, certs_dir, **kw))

    def agent(self, **kw):
        return self.add(Agent(self, **kw))

    def close(self, ok):
        errors = []
        for thing in reversed(self.started):
            try:
                thing.stop() if hasattr(thing, "stop") else thing.proc.stop()
            except TestFailure as e:
                errors.append(str(e))
        if ok and not errors and not os.environ.get("KEEP_TEST_LOGS"):
            shutil.rmtree(self.dir, ignore_errors=True)
        return errors


def _kill_all(*_):
    for p in list(_procs):
        try:
            os.kill(p.pid, signal.SIGKILL)
        except OSError:
            pass
    sys.exit(130)


def run():
    signal.signal(signal.SIGTERM, _kill_all)
    signal.signal(signal.SIGINT, _kill_all)
    only = sys.argv[1:]
    passed = failed = 0
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        env = Env(fn.__name__)
        t0 = time.monotonic()
        ok, why = True, ""
        try:
            fn(env)
        except Exception as e:  # noqa: BLE001 - report every failure
            ok = False
            why = "".join(traceback.format_exception_only(type(e), e)).strip()
            if not isinstance(e, TestFailure):
                why += "\n" + traceback.format_exc()
        for err in env.close(ok):
            ok = False
            why += ("\n" if why else "") + "teardown: " + err
        dt = time.monotonic() - t0
        if ok:
            passed += 1
            print("PASS %-40s %5.1fs" % (fn.__name__, dt), flush=True)
        else:
            failed += 1
            print("FAIL %-40s %5.1fs\n  %s\n  logs: %s" % (fn.__name__, dt,
                  why.replace("\n", "\n  "), env.dir), flush=True)
    for p in list(_procs):
        try:
            os.kill(p.pid, signal.SIGKILL)
        except OSError:
            pass
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)
