"""strongSwan's charon (Debian 5.9.8) as an interop peer inside a network
namespace (see shared/notes/strongswan-peer.md for why it is run this way).

Per instance, in <env.dir>/<name>/:
  strongswan.conf          read via STRONGSWAN_CONF (nothing under /etc is used)
  swanctl/swanctl.conf     connections + secrets (empty credential dirs beside it)
  run/                     bind-mounted over /run in charon's private mount
                           namespace (charon.pid is hard-coded to /var/run)
  run/charon.vici          the vici control socket (/run/charon.vici inside)
  charon.log               readable log, ms timestamps, <conn|id> prefixes
  charon-keys.log          level-4 ike/chd dump, for tshark decryption
  <name>.log               charon's stdout/stderr

The IPsec backend is kernel-libipsec (userspace ESP over the TUN device
ipsec0, UDP-encapsulated only, hence encap = yes everywhere); kernel-netlink
still installs routes in table 220."""

import os
import re
import signal
import subprocess
import time

from harness import Proc, TestFailure, check, tail, wait_for

CHARON = "/usr/lib/ipsec/charon"
SWANCTL = "swanctl"

# Plugins charon loads, in order: kernel-libipsec ahead of kernel-netlink makes
# it the IPsec backend; kernel-netlink keeps routes, addresses and monitoring.
CHARON_PLUGINS = ("random nonce openssl aes sha1 sha2 hmac gmp kdf pem pkcs1 x509 "
                  "pubkey kernel-libipsec kernel-netlink socket-default vici")
SWANCTL_PLUGINS = "random nonce openssl aes sha1 sha2 hmac pem pkcs1 x509 pubkey"
VICI_IN_NS = "/run/charon.vici"  # short: sun_path holds 107 characters
CRED_DIRS = ("x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac",
             "pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12")
NUMERIC = re.compile(r"^-?\d+$")


# ---------------------------------------------------------------------------
# configuration builders


def render(tree, indent=0):
    """Renders a nested dict as strongSwan settings syntax. Values: str/int,
    bool (yes/no), list/tuple (comma separated), dict (a section)."""
    pad = "    " * indent
    out = []
    for key, val in tree.items():
        if val is None:
            continue
        if isinstance(val, dict):
            out.append("%s%s {" % (pad, key))
            out.append(render(val, indent + 1))
            out.append("%s}" % pad)
        else:
            if isinstance(val, bool):
                val = "yes" if val else "no"
            elif isinstance(val, (list, tuple)):
                val = ",".join(str(v) for v in val)
            out.append("%s%s = %s" % (pad, key, val))
    return "\n".join(line for line in out if line != "")


def merge(*confs):
    """Deep-merges swanctl config dicts (later ones win on conflicts)."""
    result = {}
    for conf in confs:
        _merge_into(result, conf)
    return result


def _merge_into(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge_into(dst[k], v)
        else:
            dst[k] = v


def ikev1_psk(name, local_addr, remote_addr, local_ts, remote_ts, psk,
              child=None, local_id=None, remote_id=None,
              proposals="aes128-sha256-modp2048", esp_proposals="aes128-sha256",
              dpd_delay=None, dpd_timeout=None, dpd_action=None,
              start_action="none", close_action=None, mode="tunnel", encap=True,
              aggressive=False, rekey_time=None, reauth_time=None, over_time=None,
              rand_time=None, child_rekey_time=None, child_life_time=None,
              child_rand_time=None, keyingtries=None, conn_extra=None,
              child_extra=None):
    """A swanctl config dict (connections + secrets) for one IKEv1 PSK
    connection `name` with one CHILD_SA `child` (default name + "-child").

    Times are seconds (int) or strongSwan strings ("5s", "1h"); None leaves
    strongSwan's default. proposals/esp_proposals may be lists (IKEv1 allows
    one algorithm per kind per proposal: use several proposals). local_ts /
    remote_ts: "10.200.1.0/24" or a list. IDs default to the addresses.
    conn_extra / child_extra: more keys for the connection / child section."""
    child = child or name + "-child"
    local_id = local_id or local_addr
    remote_id = remote_id or remote_addr
    conn = {
        "version": 1,
        "aggressive": aggressive or None,
        "local_addrs": local_addr,
        "remote_addrs": remote_addr,
        "encap": encap,
        "proposals": proposals,
        "dpd_delay": _time(dpd_delay),
        "dpd_timeout": _time(dpd_timeout),
        "rekey_time": _time(rekey_time),
        "reauth_time": _time(reauth_time),
        "over_time": _time(over_time),
        "rand_time": _time(rand_time),
        "keyingtries": keyingtries,
        "local": {"auth": "psk", "id": local_id},
        "remote": {"auth": "psk", "id": remote_id},
        "children": {child: merge({
            "mode": mode,
            "local_ts": local_ts,
            "remote_ts": remote_ts,
            "esp_proposals": esp_proposals,
            "start_action": start_action,
            "dpd_action": dpd_action,
            "close_action": close_action,
            "rekey_time": _time(child_rekey_time),
            "life_time": _time(child_life_time),
            "rand_time": _time(child_rand_time),
        }, child_extra or {})},
    }
    conn = merge(conn, conn_extra or {})
    secret = {"id-1": local_id, "id-2": remote_id, "secret": _quote(psk)}
    return {"connections": {name: conn}, "secrets": {"ike-" + name: secret}}


def ikev1_remote_access(name, server, psk, remote_ts, child=None, user=None, password=None,
                        pull=True, proposals="aes128-sha256-modp2048",
                        esp_proposals="aes128-sha256", dpd_delay=None, rekey_time=None):
    """A swanctl config dict for an IKEv1 remote-access client of `server`:
    the group key (psk), XAUTH as `user` when given, a virtual IP by Mode
    Config (pull: ask for it; else wait for the server's push), remote_ts
    through the tunnel. NAT-T is left to detection (no encap = yes): the
    client sits behind a real NAT. Needs the xauth-generic, unity and attr
    plugins loaded (REMOTE_ACCESS_PLUGINS)."""
    child = child or name + "-child"
    conn = {
        "version": 1,
        "remote_addrs": server,
        "vips": "0.0.0.0",
        "pull": pull,
        "proposals": proposals,
        "dpd_delay": _time(dpd_delay),
        "rekey_time": _time(rekey_time),	# IKEv1: a reauthentication
        "local-1": {"auth": "psk"},
        "remote-1": {"auth": "psk", "id": "%any"},
        "children": {child: {"remote_ts": remote_ts, "esp_proposals": esp_proposals,
                             "start_action": "none"}},
    }
    secrets = {"ike-1": {"secret": _quote(psk)}}
    if user is not None:
        conn["local-2"] = {"auth": "xauth", "xauth_id": user}
        secrets["xauth-1"] = {"id": user, "secret": _quote(password or "")}
    return {"connections": {name: conn}, "secrets": secrets}


# A remote-access client's charon: XAUTH, Cisco Unity (split tunnel) and the
# Mode Config attributes, with the virtual IP installed.
REMOTE_ACCESS_PLUGINS = CHARON_PLUGINS + " xauth-generic unity attr"
REMOTE_ACCESS_CHARON = {"load": REMOTE_ACCESS_PLUGINS, "install_virtual_ip": True}


def ikev1_pubkey(name, local_addr, remote_addr, local_ts, remote_ts, cert, local_id,
                 remote_id, child=None, proposals="aes128-sha256-modp2048",
                 esp_proposals="aes128-sha256", dpd_delay=None, encap=True):
    """A swanctl config dict for an IKEv1 Main Mode connection authenticated
    with certificates (auth = pubkey): `cert` is our certificate's file name
    in swanctl/x509 (Charon.install_pki puts it there with its key and the
    CAs); IDs as given (an address, an FQDN or a DN)."""
    child = child or name + "-child"
    conn = {
        "version": 1,
        "local_addrs": local_addr,
        "remote_addrs": remote_addr,
        "encap": encap,
        "proposals": proposals,
        "dpd_delay": _time(dpd_delay),
        "send_cert": "always",
        "local": {"auth": "pubkey", "certs": cert, "id": _quote(local_id)},
        "remote": {"auth": "pubkey", "id": _quote(remote_id)},
        "children": {child: {"local_ts": local_ts, "remote_ts": remote_ts,
                             "esp_proposals": esp_proposals,
                             "start_action": "none"}},
    }
    return {"connections": {name: conn}}


# charon with certificates: PKCS#8 keys, CRLs (revocation), constraints
CERT_PLUGINS = CHARON_PLUGINS + " pkcs8 revocation constraints"


def _time(v):
    if v is None:
        return None
    return "%ds" % v if isinstance(v, int) else str(v)


def _quote(s):
    if s.startswith("0x") or s.startswith("0s"):
        return s
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def strongswan_conf(base, charon_extra=None):
    """strongswan.conf text for an instance whose files live in `base`."""
    charon = {
        "load_modular": False,
        "load": CHARON_PLUGINS,
        "install_virtual_ip": False,
        "filelog": {
            "main": {
                "path": '"%s"' % os.path.join(base, "charon.log"),
                "time_format": "%H:%M:%S",
                "time_add_ms": True,
                "ike_name": True,
                "append": False,
                "flush_line": True,
                "default": 1,
            },
            "keys": {
                "path": '"%s"' % os.path.join(base, "charon-keys.log"),
                "time_format": "%H:%M:%S",
                "time_add_ms": True,
                "ike_name": True,
                "append": False,
                "flush_line": True,
                "default": 0,
                "ike": 4,
                "chd": 4,
            },
        },
        "plugins": {
            # /run is <base>/run in charon's mount namespace (see Charon)
            "vici": {"socket": "unix://" + VICI_IN_NS},
        },
    }
    charon = merge(charon, charon_extra or {})
    return render({"charon": charon, "swanctl": {"load": SWANCTL_PLUGINS}}) + "\n"


# ---------------------------------------------------------------------------
# swanctl --list-sas --pretty parsing


def parse_vici_pretty(text):
    """Parses swanctl's --pretty dump into nested dicts; lists become Python
    lists; digit-only values become ints. Returns {"<event/reply name>": {...}}
    per message, in a list."""
    messages = []
    stack = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.endswith("{"):
            key = line[:-1].strip().rstrip("=").strip()
            node = {}
            if stack:
                parent = stack[-1]
                parent[key] = node
            else:
                messages.append({key: node})
            stack.append(node)
        elif line.endswith("["):
            key = line[:-1].strip().rstrip("=").strip()
            node = []
            stack[-1][key] = node
            stack.append(node)
        elif line in ("}", "]"):
            if stack:
                stack.pop()
        elif stack and isinstance(stack[-1], list):
            stack[-1].append(line)
        elif " = " in line and stack:
            k, v = line.split(" = ", 1)
            k = k.strip()
            # SPIs, cookies and keys are hex: "60099451" is not a number
            hexish = k.endswith("spi") or k.startswith("spi-") or k in ("key", "cpi-in", "cpi-out")
            stack[-1][k] = int(v) if NUMERIC.match(v) and not hexish else v
        elif line.endswith("=") and stack:
            stack[-1][line[:-1].strip()] = ""
    return messages


def sas_from_messages(messages):
    """IKE SAs from parsed list-sa events: a list of dicts with the vici keys
    (state, version, initiator-spi, local-host, ...) plus "name" and
    "children": a list of CHILD_SA dicts (name, state, spi-in, spi-out,
    bytes-in/out, packets-in/out, local-ts, remote-ts, ...)."""
    sas = []
    for msg in messages:
        body = msg.get("list-sa event")
        if body is None:
            continue
        for name, ike in body.items():
            ike = dict(ike)
            ike["name"] = name
            children = []
            for cname, ch in (ike.pop("child-sas", None) or {}).items():
                ch = dict(ch)
                ch.setdefault("name", cname)
                ch["key"] = cname
                for k in ("bytes-in", "bytes-out", "packets-in", "packets-out"):
                    ch[k] = int(ch.get(k, 0) or 0)
                children.append(ch)
            ike["children"] = children
            sas.append(ike)
    return sas


# ---------------------------------------------------------------------------
# the daemon


class Charon:
    """One charon in namespace `ns` of `topo`, registered with `env`.

    conf: swanctl.conf as a dict (see ikev1_psk/merge) or as text.
    charon_extra: dict merged into the `charon` section of strongswan.conf.
    Starting waits until vici answers; with load=True the config is loaded."""

    def __init__(self, env, topo, ns, name, conf, charon_extra=None, load=True,
                 start_timeout=10):
        self.env, self.topo, self.name = env, topo, name
        self.ns = topo.full_name(ns)
        self.dir = os.path.join(env.dir, name)
        self.rundir = os.path.join(self.dir, "run")
        self.conf_path = os.path.join(self.dir, "strongswan.conf")
        self.swanctl_dir = os.path.join(self.dir, "swanctl")
        self.swanctl_conf = os.path.join(self.swanctl_dir, "swanctl.conf")
        # The socket charon binds as /run/charon.vici is this file outside.
        self.vici_path = os.path.join(self.rundir, "charon.vici")
        # swanctl runs with cwd = rundir; a relative URI avoids the 107-char
        # sun_path limit when the work tree lies deep.
        self.vici = ("unix://" + self.vici_path if len(self.vici_path) < 100
                     else "unix://charon.vici")
        self.log_path = os.path.join(self.dir, "charon.log")
        self.keys_path = os.path.join(self.dir, "charon-keys.log")
        self.proc = None
        self.frozen = False
        for d in (self.dir, self.rundir, self.swanctl_dir):
            os.makedirs(d, exist_ok=True)
        for d in CRED_DIRS:
            os.makedirs(os.path.join(self.swanctl_dir, d), exist_ok=True)
        with open(self.conf_path, "w") as f:
            f.write(strongswan_conf(self.dir, charon_extra))
        self.write_swanctl(conf)
        env.add(self)
        self.start(start_timeout)
        if load:
            self.load()

    # -- lifecycle --------------------------------------------------------

    def install_pki(self, cert=None, key=None, cas=(), crls=()):
        """Copies a certificate (x509/), its key (private/), CAs (x509ca/)
        and CRLs (x509crl/) into this charon's swanctl directory; call
        load() after."""
        import shutil
        for src, sub in ([(cert, "x509"), (key, "private")] + [(c, "x509ca") for c in cas] +
                         [(c, "x509crl") for c in crls]):
            if src:
                shutil.copy(src, os.path.join(self.swanctl_dir, sub, os.path.basename(src)))

    def write_swanctl(self, conf):
        text = conf if isinstance(conf, str) else render(conf) + "\n"
        with open(self.swanctl_conf, "w") as f:
            f.write(text)

    def start(self, timeout=10):
        # ip netns exec -> unshare (private mount ns) -> sh -> exec charon:
        # every step execs, so the Popen pid is charon's pid.
        script = 'mount --bind "$1" /run && exec "$2"'
        for stale in ("charon.pid", "charon.vici"):  # left by a killed charon
            if os.path.exists(os.path.join(self.rundir, stale)):
                os.unlink(os.path.join(self.rundir, stale))
        argv = self.topo.ns_argv(self.ns, [
            "unshare", "--mount", "--propagation", "private",
            "sh", "-c", script, "sh", self.rundir, CHARON])
        self.proc = Proc(self.name, argv, self.dir, env={"STRONGSWAN_CONF": self.conf_path})
        t0 = time.monotonic()
        wait_for(self._vici_up, timeout, "%s: vici socket" % self.name, step=0.1)
        self.start_seconds = time.monotonic() - t0

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def _vici_up(self):
        if not self.proc.alive():
            raise TestFailure("%s: charon exited (%s):\n%s\n%s" % (
                self.name, self.proc.p.returncode, tail(self.proc.output(), 20),
                tail(self.log(), 20)))
        if not os.path.exists(self.vici_path):
            return False
        return self.swanctl("--stats", check=False, timeout=5).returncode == 0

    def freeze(self):
        """SIGSTOP: charon stops answering (and sending) anything."""
        os.kill(self.pid, signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        os.kill(self.pid, signal.SIGCONT)
        self.frozen = False

    def stop(self, check_clean=True):
        """SIGCONT, SIGTERM, SIGKILL after 5 s; raises TestFailure if charon
        had to be killed or exited non-zero (the log tail is included)."""
        if self.proc is None or self.proc.log.closed:
            return
        if self.proc.alive():
            try:
                os.kill(self.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen = False
        self.proc.stop(check_clean=check_clean, timeout=5)

    # -- control (swanctl over vici) -------------------------------------

    def swanctl(self, *args, check=True, timeout=20):
        """Runs swanctl with our URI and STRONGSWAN_CONF (in the root
        namespace: the socket is a file). Returns CompletedProcess (text)."""
        argv = [SWANCTL] + list(args) + ["--uri", self.vici]
        env = dict(os.environ, STRONGSWAN_CONF=self.conf_path)
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout, env=env, cwd=self.rundir)
        if check and p.returncode != 0:
            raise TestFailure("%s: %s -> exit %d:\n%s" % (
                self.name, " ".join(argv[:3]), p.returncode, tail(p.stdout, 30)))
        return p

    def load(self):
        """swanctl --load-all; returns its output (also saved as load.out)."""
        p = self.swanctl("--load-all", "--file", self.swanctl_conf)
        with open(os.path.join(self.dir, "load.out"), "w") as f:
            f.write(p.stdout)
        return p.stdout

    def initiate(self, child=None, ike=None, timeout=15, check=True):
        """swanctl --initiate (blocks until established or failed, at most
        `timeout` s). Returns CompletedProcess."""
        args = ["--initiate", "--timeout", str(timeout)]
        if child:
            args += ["--child", child]
        if ike:
            args += ["--ike", ike]
        return self.swanctl(*args, check=check, timeout=timeout + 5)

    def terminate(self, ike=None, child=None, ike_id=None, child_id=None,
                  force=False, timeout=10, check=True):
        """swanctl --terminate for an IKE SA (name or unique id) or a CHILD SA."""
        args = ["--terminate", "--timeout", str(timeout)]
        for opt, val in (("--ike", ike), ("--child", child),
                         ("--ike-id", ike_id), ("--child-id", child_id)):
            if val is not None:
                args += [opt, str(val)]
        if force:
            args.append("--force")
        return self.swanctl(*args, check=check, timeout=timeout + 5)

    def list_sas(self, ike=None):
        """IKE SAs as dicts (see sas_from_messages); [] if there are none."""
        args = ["--list-sas", "--pretty"]
        if ike:
            args += ["--ike", ike]
        return sas_from_messages(parse_vici_pretty(self.swanctl(*args).stdout))

    def ike_sa(self, name):
        """The first IKE SA of connection `name`, or None."""
        for sa in self.list_sas():
            if sa["name"] == name:
                return sa
        return None

    def child_sa(self, ike_name, child_name):
        """The first CHILD SA `child_name` under IKE SA `ike_name`, or None."""
        sa = self.ike_sa(ike_name)
        for ch in (sa or {}).get("children", []):
            if ch["name"] == child_name:
                return ch
        return None

    # -- logs -------------------------------------------------------------

    def log(self):
        """charon.log so far (text)."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def key_log(self):
        try:
            with open(self.keys_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout, start=0):
        """Waits until regex `pattern` matches charon.log after offset `start`;
        returns the match."""
        rx = re.compile(pattern)
        return wait_for(lambda: rx.search(self.log(), start), timeout,
                        "%s: log line /%s/" % (self.name, pattern), step=0.1)

    def ikev1_keys(self):
        """[(initiator cookie hex, encryption key hex)] for every IKEv1 SA in
        the key log, for capture.decode()."""
        return ikev1_keys_from_log(self.key_log())


TAG = re.compile(r"\[\w+\] <(?:[^|>]*\|)?(\d+)>")
HEXROW = re.compile(r">\s+\d+: ((?:[0-9A-F]{2} ){0,15}[0-9A-F]{2})")


def _hexdump(lines, i):
    """The bytes (lower-case hex) of the '%B' dump whose header is lines[i]."""
    out = []
    for line in lines[i + 1:]:
        m = HEXROW.search(line)
        if not m:
            break
        out.append(m.group(1).replace(" ", ""))
    return "".join(out).lower()


def ikev1_keys_from_log(text):
    """[(initiator cookie hex, encryption key hex)] per IKE SA from a level-4
    ike log with ike_name = yes. The lines of one SA share the unique id in
    the "<conn|id>" tag; its cookies are the first 16 bytes of the NAT-D hash input
    ("natd_chunk" = CKY-I | CKY-R | IP | port), its key is "encryption key Ka"."""
    lines = text.splitlines()
    cookie, key, order = {}, {}, []
    for i, line in enumerate(lines):
        m = TAG.search(line)
        if not m:
            continue
        tag = int(m.group(1))  # IKE SA unique id (responders log "<1>" first)
        if tag not in order:
            order.append(tag)
        if "natd_chunk =>" in line and tag not in cookie:
            cookie[tag] = _hexdump(lines, i)[:16]
        elif "encryption key Ka =>" in line:
            key[tag] = _hexdump(lines, i)
    return [(cookie[t], key[t]) for t in order if len(cookie.get(t, "")) == 16 and key.get(t)]


def child_ready(sa):
    """sa (an IKE SA dict of Charon.ike_sa) when it is ESTABLISHED with its
    first CHILD SA INSTALLED and its SPIs known, else None (charon lists a
    CHILD SA before its SPIs while it installs it)."""
    if not sa or sa["state"] != "ESTABLISHED" or not sa["children"]:
        return None
    ch = sa["children"][0]
    ok = ch["state"] == "INSTALLED" and all(isinstance(ch.get(k), str) for k in ("spi-in",
                                                                               "spi-out"))
    return sa if ok else None


def tunnel_with_agent(agent, charon, conn, timeout=20):
    """Waits until charon lists connection `conn` established with its CHILD
    SA, and checks the agent holds the same SA pair (SPIs crossed) and an
    ISAKMP SA in QM_IDLE with DPD. Returns (charon's IKE SA, the agent's
    IPsec SA, the agent's ISAKMP SA)."""
    try:
        sa = wait_for(lambda: child_ready(charon.ike_sa(conn)), timeout,
                      "charon to list the IKE SA ESTABLISHED and CHILD SA INSTALLED")
    except TestFailure as e:
        raise TestFailure("%s; charon lists %r" % (e, charon.list_sas()))
    ours = wait_for(lambda: agent.ok("GET", "/operational/ipsecsas")["items"], 10,
                    "the agent's IPsec SA")
    ch = sa["children"][0]
    check(int(ours[0]["inboundSpi"], 16) == int(ch["spi-out"], 16) and
          int(ours[0]["outboundSpi"], 16) == int(ch["spi-in"], 16),
          "SPIs differ: ours %s charon %s" % (ours[0], ch))
    ike = agent.ok("GET", "/operational/ikesas")["items"]
    check(ike and ike[0]["state"] == "QM_IDLE" and "D" in ike[0]["capabilities"],
          "our ISAKMP SA %r" % ike)
    return sa, ours[0], ike[0]


def is_root():
    return os.geteuid() == 0


def missing_tools():
    """Names of required binaries that are not installed."""
    need = {CHARON: os.path.exists(CHARON),
            "/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so":
                os.path.exists("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so")}
    for tool in (SWANCTL, "tshark", "dumpcap", "ping", "unshare", "ip"):
        need[tool] = any(os.access(os.path.join(d, tool), os.X_OK)
                         for d in os.environ.get("PATH", "").split(os.pathsep))
    return [k for k, ok in need.items() if not ok]
