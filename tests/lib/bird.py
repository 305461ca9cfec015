"""bird2 (Debian's BIRD 2) as the routing protocol over the agent's GRE
tunnel interfaces: RIP as the GRE/RIP reference runs it, what the GRE
integration test and `make run DEMO=gre` both start."""

import os

RIP_CONF = """# RIP over %(iface)s, as `router rip` of the GRE/RIP reference
router id %(router_id)s;
log "%(log)s" all;
protocol device { scan time 1; }
protocol direct { ipv4; interface "lo"; }
protocol kernel { ipv4 { export where source = RTS_RIP; }; scan time 1; }
protocol rip {
  ipv4 { import all; export all; };
  interface "%(iface)s" { mode multicast; update time 2; timeout time 8; check link yes; };
}
"""


def rip_files(d, router_id, iface="Tunnel0"):
    """Writes d/bird.conf (the loopback's networks announced by RIP over
    iface, the routes learnt put in the kernel; a link down withdraws
    them); returns (argv to run bird in the foreground, its control socket)."""
    os.makedirs(d, exist_ok=True)
    conf, sock = os.path.join(d, "bird.conf"), os.path.join(d, "bird.ctl")
    with open(conf, "w") as f:
        f.write(RIP_CONF % {"router_id": router_id, "iface": iface,
                            "log": os.path.join(d, "bird.log")})
    return ["bird", "-f", "-c", conf, "-s", sock], sock


class Bird:
    """bird2 with rip_files' configuration in a test namespace, in the
    foreground, registered with env and stopped by pid."""

    def __init__(self, env, topo, ns, name, router_id, iface="Tunnel0"):
        import harness	# the tests' (the demo uses rip_files alone)
        from harness import check, wait_for

        self.topo, self.ns, self.name = topo, ns, name
        argv, self.sock = rip_files(os.path.join(env.dir, name), router_id, iface)
        self.proc = harness.Proc(name, topo.ns_argv(ns, argv), env.dir)
        env.add(self)
        wait_for(lambda: os.path.exists(self.sock) or not self.proc.alive(), 10,
                 "%s control socket" % name)
        check(self.proc.alive(), "%s exited: %s" % (name, self.proc.output()[-1000:]))

    def birdc(self, *args):
        return self.topo.run(self.ns, ["birdc", "-s", self.sock] + list(args), check=False).stdout

    def stop(self):
        self.proc.stop(check_clean=False)
