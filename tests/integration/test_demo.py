#!/usr/bin/env python3
"""`make run` without a terminal: the demo script brings up certificates, a
collector-stub and an agent configured by vpnctl, metrics reach the
collector, and on its way out it leaves no process behind."""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import BIN_DIR, ROOT, check, free_port, run, test  # noqa: E402


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@test
def demo_runs_and_cleans_up(env):
    demo_env = dict(os.environ, BIN=BIN_DIR, DEMO=os.path.join(env.dir, "demo"),
                    DEMO_SECONDS="2", COLLECTOR_PORT=str(free_port()),
                    COLLECTOR_HTTP="127.0.0.1:%d" % free_port(),
                    API="127.0.0.1:%d" % free_port(), METRICS="127.0.0.1:%d" % free_port())
    p = subprocess.run([os.path.join(ROOT, "tools", "run-demo.sh")], env=demo_env,
                       capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    check(p.returncode == 0, "run-demo.sh exited %d:\n%s" % (p.returncode, out))
    check("is streaming to the collector-stub" in out and "State: CONNECTED" in out,
          "demo output:\n" + out)
    m = re.search(r"stopping: ([0-9 ]+)", out)
    check(m, "demo did not say what it stopped:\n" + out)
    pids = [int(x) for x in m.group(1).split()]
    check(len(pids) == 2, "expected agent and collector pids, got %s" % pids)
    alive = [pid for pid in pids if pid_alive(pid)]
    check(not alive, "processes left running: %s" % alive)
    with open(os.path.join(demo_env["DEMO"], "collector.log")) as f:
        check("received metric batch of count=" in f.read(), "no batch in the collector log")


if __name__ == "__main__":
    run()
