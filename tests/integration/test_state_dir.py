#!/usr/bin/env python3
"""The state directory and the files in it (R-12, R-13.9): the agent refuses
a state dir that is a symlink someone else could have made, not a
directory, not its own or writable by group or others; takes group/other
read access away; removes at start the temp files a crash left (kill -9
during saves) and leaves anything else alone; every file it writes there
is 0600."""

import os
import random
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import (BIN_DIR, Certs, TestFailure, check, free_port, info, run, tail,  # noqa: E402
                     test)

NOBODY = 65534


def start_refused(env, state, why):
    """vpn-agent must exit at once, non-zero, naming the state dir and why."""
    argv = [os.path.join(BIN_DIR, "vpn-agent"), "--state-dir", state,
            "--api-listen", "127.0.0.1:%d" % free_port(),
            "--metrics-listen", "127.0.0.1:%d" % free_port()]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=5)
    except subprocess.TimeoutExpired:
        raise TestFailure("vpn-agent started with state dir %s (%s)" % (state, why)) from None
    out = p.stdout + p.stderr
    check(p.returncode != 0, "vpn-agent exited 0 with state dir %s" % state)
    check("refusing to start: state dir %s %s" % (state, why) in out,
          "no 'refusing to start: state dir %s %s' line:\n%s" % (state, why, tail(out, 10)))
    check("AddressSanitizer" not in out and "runtime error" not in out,
          "sanitizer report:\n" + tail(out, 30))


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


@test
def unsafe_state_dirs_refused(env):
    group_w = os.path.join(env.dir, "group-writable")
    os.mkdir(group_w)
    os.chmod(group_w, 0o770)
    start_refused(env, group_w, "is writable by group or others (mode 0770)")
    check(os.listdir(group_w) == [], "files written into it: %s" % os.listdir(group_w))

    other_w = os.path.join(env.dir, "other-writable")
    os.mkdir(other_w)
    os.chmod(other_w, 0o703)
    start_refused(env, other_w, "is writable by group or others (mode 0703)")

    a_file = os.path.join(env.dir, "a-file")
    open(a_file, "w").close()
    start_refused(env, a_file, "is not a directory")

    # A link in a folder everyone may write: anyone could have planted it.
    shared = os.path.join(env.dir, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    real = os.path.join(env.dir, "real")
    os.mkdir(real, 0o700)
    link = os.path.join(shared, "state")
    os.symlink(real, link)
    start_refused(env, link, "is a symbolic link")
    check(os.listdir(real) == [], "files written through the link: %s" % os.listdir(real))

    if os.geteuid() == 0:
        theirs = os.path.join(env.dir, "theirs")
        os.mkdir(theirs, 0o700)
        os.chown(theirs, NOBODY, NOBODY)
        start_refused(env, theirs, "is owned by uid %d, not by this process" % NOBODY)


@test
def readable_state_dir_tightened(env):
    state = os.path.join(env.dir, "agent-state")
    os.mkdir(state)
    os.chmod(state, 0o755)
    agent = env.agent()
    check(mode(state) == 0o700, "state dir mode %o after start, want 0700" % mode(state))
    check("state dir %s was readable by group or others (mode 0755); now 0700" % state
          in agent.proc.output(), "no log line about the tightening:\n"
          + tail(agent.proc.output(), 10))


@test
def files_written_0600(env):
    agent = env.agent()
    agent.ok("POST", "/object/networks", {"name": "n", "subType": "HOST",
                                          "value": "10.1.1.1", "type": "networkobject"})
    # the change is in the journal; a restart folds it into config.json
    for want in (["api-token", "config.journal", "device-uuid"],
                 ["api-token", "config.json", "device-uuid"]):
        names = sorted(os.listdir(agent.state))
        check(names == want, "state dir holds %s, want %s" % (names, want))
        for n in names:
            m = mode(os.path.join(agent.state, n))
            check(m == 0o600, "%s is %04o, want 0600" % (n, m))
        check(mode(agent.state) == 0o700, "state dir %04o" % mode(agent.state))
        agent.stop()
        agent.start()
    check([n["name"] for n in agent.ok("GET", "/object/networks")["items"]] == ["n"],
          "the network did not survive two restarts")


@test
def stale_temp_files_removed_at_start(env):
    state = os.path.join(env.dir, "agent-state")
    os.mkdir(state, 0o700)
    victim = os.path.join(env.dir, "victim")
    with open(victim, "w") as f:
        f.write("untouched")
    ours = ["config.json.tmp.4242",			# the old predictable name
            ".config.json.tmp-0123456789abcdef", ".api-token.tmp-fedcba9876543210"]
    for n in ours:
        with open(os.path.join(state, n), "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\n")
    kept = [".link.tmp-aaaaaaaaaaaaaaaa", "notes.tmp"]
    os.symlink(victim, os.path.join(state, kept[0]))
    open(os.path.join(state, kept[1]), "w").close()
    if os.geteuid() == 0:
        kept.append(".theirs.tmp-cccccccccccccccc")
        open(os.path.join(state, kept[2]), "w").close()
        os.chown(os.path.join(state, kept[2]), NOBODY, NOBODY)
    agent = env.agent()
    left = os.listdir(state)
    for n in ours:
        check(n not in left, "%s is still there after the start" % n)
        check("removed %s/%s" % (state, n) in agent.proc.output(),
              "no log line for the removal of %s" % n)
    for n in kept:
        check(n in left, "%s was removed (not a regular temp file of ours)" % n)
    with open(victim) as f:
        check(f.read() == "untouched", "the symlink's target was changed")


def hammer(agent, stop):
    """Saves the config as fast as the API takes it (a create, then a
    delete: two saves, same size), until stop is set."""
    while not stop.is_set():
        try:
            st, obj = agent.api("POST", "/object/networks",
                                {"name": "hammer", "subType": "HOST", "value": "10.1.1.1",
                                 "type": "networkobject"})
            if st == 200:
                agent.api("DELETE", "/object/networks/" + obj["id"])
            else:
                for o in agent.api("GET", "/object/networks?filter=name:hammer")[1]["items"]:
                    agent.api("DELETE", "/object/networks/" + o["id"])
        except (OSError, ValueError, KeyError, TypeError):
            pass


@test
def kill9_during_saves_leaves_no_temp_file(env):
    agent = env.agent()
    # A private key in the config: a temp file left behind would hold it.
    certs = Certs(os.path.join(env.dir, "certs"), [agent.uuid])
    agent.ok("POST", "/object/internalcertificates",
             {"name": "agent-cert", "cert": certs.read("client.crt"),
              "privateKey": certs.read("client.key"), "type": "internalcertificate"})
    kills = left_behind = 0
    rnd = random.Random(1)
    for _ in range(25):
        stop = threading.Event()
        t = threading.Thread(target=hammer, args=(agent, stop), daemon=True)
        t.start()
        time.sleep(rnd.uniform(0.05, 0.4))
        agent.proc.p.kill()
        agent.proc.p.wait()
        stop.set()
        t.join()
        agent.stop(check_clean=False)
        kills += 1
        temps = [n for n in os.listdir(agent.state) if ".tmp" in n]
        left_behind += bool(temps)
        agent.start()			# refuses a broken config.json: the save was atomic
        temps = [n for n in os.listdir(agent.state) if ".tmp" in n]
        check(temps == [], "temp files after the restart: %s" % temps)
        m = mode(os.path.join(agent.state, "config.json"))
        check(m == 0o600, "config.json %04o" % m)
    info("%d kills -9 during saves; %d left a temp file, each removed at the next start"
         % (kills, left_behind))


if __name__ == "__main__":
    run()
