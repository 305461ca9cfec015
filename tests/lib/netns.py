"""Network namespaces and veth links for integration tests (needs root).

Every namespace is named "vpnt-<pid>-<name>", so concurrent runs never collide
and a leftover is traceable to the run that made it. NetTopo.stop() deletes
every namespace the topology created (after killing, by pid, any process still
inside one of them); it is registered with the harness Env, and an atexit hook
covers an interrupted run (harness._kill_all exits through sys.exit)."""

import atexit
import os
import signal
import subprocess
import time

PREFIX = "vpnt-%d-" % os.getpid()
IFNAME_MAX = 15

_live = []  # topologies not yet stopped, for the atexit hook


try:
    from harness import TestFailure as _Base  # Env.close() reports TestFailure
except ImportError:  # used outside the harness
    _Base = AssertionError


class NetnsError(_Base):
    pass


def _run(argv, check=True, timeout=20, **kw):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise NetnsError("%s -> exit %d: %s" % (" ".join(argv), p.returncode,
                                                (p.stderr or p.stdout).strip()))
    return p


def list_netns():
    """Names of all network namespaces known to `ip netns`."""
    out = _run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_pids(ns):
    """PIDs of the processes whose network namespace is `ns`."""
    p = _run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split()] if p.returncode == 0 else []


class NetTopo:
    """A set of namespaces joined by veth pairs.

        topo = NetTopo(env)                 # env.add(topo) is done here
        a = topo.add_ns("left")             # -> "vpnt-1234-left"
        b = topo.add_ns("right")
        topo.link(a, "192.0.2.1/24", b, "192.0.2.2/24")
        topo.run(a, ["ping", "-c1", "192.0.2.2"])
    """

    def __init__(self, env=None, prefix=PREFIX):
        self.prefix = prefix
        self.namespaces = []
        self.links = []  # (ns_a, if_a, ns_b, if_b)
        self.stopped = False
        _live.append(self)
        if env is not None:
            env.add(self)

    # -- building -------------------------------------------------------

    def add_ns(self, name):
        """Creates namespace prefix+name with lo up, forwarding off, rp_filter 0;
        returns its full name."""
        ns = name if name.startswith(self.prefix) else self.prefix + name
        if ns in self.namespaces:
            raise NetnsError("namespace %s already exists in this topology" % ns)
        _run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        self.ip(ns, "link", "set", "lo", "up")
        for key in ("net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter",
                    "net.ipv4.conf.lo.rp_filter"):
            self.sysctl(ns, key, "0")
        return ns

    def link(self, ns_a, addr_a, ns_b, addr_b, if_a=None, if_b=None, mtu=None):
        """Creates a veth pair if_a (in ns_a) <-> if_b (in ns_b), assigns the
        addresses ("192.0.2.1/24"; None for no address) and brings both ends up.
        Default interface names: "v-<peer short name>" (15 chars max).
        Returns (if_a, if_b)."""
        ns_a, ns_b = self.full_name(ns_a), self.full_name(ns_b)
        if_a = if_a or self._ifname(ns_a, ns_b)
        if_b = if_b or self._ifname(ns_b, ns_a)
        # Created directly inside the namespaces: the root namespace never
        # sees the names, so they only need to be unique per namespace.
        _run(["ip", "-n", ns_a, "link", "add", if_a, "type", "veth",
              "peer", "name", if_b, "netns", ns_b])
        self.links.append((ns_a, if_a, ns_b, if_b))
        for ns, ifn, addr in ((ns_a, if_a, addr_a), (ns_b, if_b, addr_b)):
            self.sysctl(ns, "net.ipv4.conf.%s.rp_filter" % ifn, "0")
            if mtu:
                self.ip(ns, "link", "set", ifn, "mtu", str(mtu))
            if addr:
                self.ip(ns, "addr", "add", addr, "dev", ifn)
            self.ip(ns, "link", "set", ifn, "up")
        return if_a, if_b

    def add_addr(self, ns, addr, dev="lo"):
        """Adds an address (e.g. "10.200.1.1/32") to dev in ns."""
        self.ip(ns, "addr", "add", addr, "dev", dev)

    def add_route(self, ns, dst, *args):
        """ip route add dst <args...> inside ns."""
        self.ip(ns, "route", "add", dst, *args)

    def sysctl(self, ns, key, value):
        path = "/proc/sys/" + key.replace(".", "/")
        self.run(ns, ["sh", "-c", 'echo %s > "%s"' % (value, path)])

    # -- running --------------------------------------------------------

    def ip(self, ns, *args):
        """`ip -n ns args...`; returns stdout, raises NetnsError on failure."""
        return _run(["ip", "-n", self.full_name(ns)] + list(args)).stdout

    def ns_argv(self, ns, argv):
        """argv prefixed to run inside ns."""
        return ["ip", "netns", "exec", self.full_name(ns)] + list(argv)

    def ns_exec(self, ns, argv, **popen):
        """subprocess.Popen of argv inside ns (popen kwargs passed through)."""
        return subprocess.Popen(self.ns_argv(ns, argv), **popen)

    def run(self, ns, argv, check=True, timeout=20, **kw):
        """Runs argv inside ns to completion; returns CompletedProcess (text
        stdout/stderr). Raises NetnsError on non-zero exit if check."""
        return _run(self.ns_argv(ns, argv), check=check, timeout=timeout, **kw)

    # -- teardown -------------------------------------------------------

    def stop(self):
        """Kills (by pid) whatever still runs inside our namespaces, deletes
        them, and raises NetnsError naming leftovers (after cleaning up)."""
        if self.stopped:
            return
        self.stopped = True
        if self in _live:
            _live.remove(self)
        problems = []
        for ns in reversed(self.namespaces):
            try:
                self._kill_inside(ns, problems)
                p = _run(["ip", "netns", "del", ns], check=False)
                if p.returncode != 0 and ns in list_netns():
                    problems.append("ip netns del %s: %s" % (ns, p.stderr.strip()))
            except (OSError, subprocess.SubprocessError) as e:
                problems.append("deleting %s: %s" % (ns, e))
        if problems:
            raise NetnsError("; ".join(problems))

    # -- helpers ----------------------------------------------------------

    @staticmethod
    def _kill_inside(ns, problems):
        pids = netns_pids(ns)
        if not pids:
            return
        problems.append("processes left in %s: %s" % (ns, pids))
        for sig in (signal.SIGCONT, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + 5
        while netns_pids(ns) and time.monotonic() < end:
            time.sleep(0.05)

    def full_name(self, ns):
        """"left" or "vpnt-<pid>-left" -> "vpnt-<pid>-left" (must exist)."""
        if ns in self.namespaces:
            return ns
        if self.prefix + ns in self.namespaces:
            return self.prefix + ns
        raise NetnsError("unknown namespace %s" % ns)

    def _ifname(self, ns, peer):
        short = peer[len(self.prefix):] if peer.startswith(self.prefix) else peer
        base = ("v-" + short)[:IFNAME_MAX]
        used = {l[1] for l in self.links if l[0] == ns} | {l[3] for l in self.links if l[2] == ns}
        name, n = base, 1
        while name in used:
            n += 1
            suffix = str(n)
            name = base[:IFNAME_MAX - len(suffix)] + suffix
        return name


@atexit.register
def _cleanup_at_exit():
    for topo in list(_live):
        try:
            topo.stop()
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
