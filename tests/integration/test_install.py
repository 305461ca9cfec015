#!/usr/bin/env python3
"""make install / make uninstall (install.mk): the layout and modes under
DESTDIR, binaries taken from the tested build tree without a rebuild, the
systemd unit accepted by systemd-analyze, man pages that render without
warnings and document every option of --help, installed programs that run,
and an uninstall that removes everything the install put there.

systemd-analyze verify checks that ExecStart's binary exists. On Debian 12
(systemd 252), `--root=DESTDIR` finds the binary but then looks for
sysinit.target inside DESTDIR too and fails; so the test verifies a copy of
the installed unit whose ExecStart points into DESTDIR, with MANPATH set to
DESTDIR's man pages so that Documentation=man:... is checked against them."""

import os
import re
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import BIN_DIR, ROOT, check, info, run, test  # noqa: E402

BUILD = os.path.relpath(BIN_DIR, ROOT)
PROGRAMS = {"vpn-agent": "usr/sbin", "vpnctl": "usr/bin", "collector-stub": "usr/bin"}
MAN_PAGES = {"vpn-agent": "usr/share/man/man8/vpn-agent.8",
             "vpnctl": "usr/share/man/man1/vpnctl.1",
             "collector-stub": "usr/share/man/man1/collector-stub.1"}
UNIT = "lib/systemd/system/vpn-agent.service"
DOC = "usr/share/doc/vpn-agent"
# Everything `make install PREFIX=/usr` puts under DESTDIR, with its mode.
EXPECTED = dict({
    "usr/sbin/vpn-agent": 0o755,
    "usr/bin/vpnctl": 0o755,
    "usr/bin/collector-stub": 0o755,
    "usr/bin/vpn-agent-gen-certs": 0o755,
    UNIT: 0o644,
    DOC + "/README.md": 0o644,
    DOC + "/api.md": 0o644,
    DOC + "/collector-stub.md": 0o644,
    DOC + "/prometheus/prometheus.yml": 0o644,
    DOC + "/prometheus/vpn-agent-alerts.yml": 0o644,
    DOC + "/prometheus/vpn-agent-alerts.test.yml": 0o644,
    DOC + "/grafana/vpn-agent.json": 0o644,
    DOC + "/grafana/README.md": 0o644,
}, **{p: 0o644 for p in MAN_PAGES.values()})


def make(*args):
    """make in the source tree, without the calling make's flags (make test
    runs us): only what is given here."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "BUILD", "SAN", "PREFIX", "DESTDIR",
                        "BINDIR", "SBINDIR", "MANDIR", "SYSCONFDIR", "UNITDIR", "DOCDIR")}
    return subprocess.run(["make", "--no-print-directory", "-C", ROOT] + list(args),
                          capture_output=True, text=True, env=env, timeout=300)


def install(env, destdir, *extra):
    p = make("install", "BUILD=" + BUILD, "DESTDIR=" + destdir, *extra)
    check(p.returncode == 0, "make install -> %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    return p


def files_under(root):
    """{relative path: mode} of the regular files under root."""
    out = {}
    for d, _, names in os.walk(root):
        for n in names:
            path = os.path.join(d, n)
            out[os.path.relpath(path, root)] = stat.S_IMODE(os.lstat(path).st_mode)
    return out


def sha(path):
    with open(path, "rb") as f:
        return f.read()


def man_text(path):
    """The page rendered for a very wide terminal (no line breaks inside a
    paragraph), whitespace collapsed; and what man wrote on stderr."""
    env = dict(os.environ, MANWIDTH="1000", LC_ALL="C.UTF-8")
    p = subprocess.run(["man", "--warnings", "--nh", "--nj", "-l", path], capture_output=True,
                       text=True, env=env, timeout=60)
    check(p.returncode == 0, "man -l %s -> %d: %s" % (path, p.returncode, p.stderr))
    return " ".join(p.stdout.split()), p.stderr


def help_items(prog, text):
    """What a man page must mention from `prog --help`: each option with its
    argument, each default value, and for vpnctl each command line."""
    items = set()
    for m in re.finditer(r"^\s+(-{2}[a-z][a-z-]*(?: [A-Za-z.:,|]+)?)(?:\s{2,}|$)", text, re.M):
        items.add(m.group(1))
    for m in re.finditer(r"\(?\bdefault ([^)\s]+)\)", text):
        items.add(m.group(1))
    if prog == "vpnctl":
        commands = text.split("commands:", 1)[1].split("\n\n", 1)[0]
        for line in commands.splitlines():
            if line.strip():
                items.add(re.split(r"\s{2,}", line.strip())[0])
    return items


@test
def install_layout_modes_and_no_rebuild(env):
    dest = os.path.join(env.dir, "root")
    before = {p: os.stat(os.path.join(BIN_DIR, p)).st_mtime_ns for p in PROGRAMS}
    p = install(env, dest, "PREFIX=/usr")
    check(not re.search(r"^(cc|clang|gcc) ", p.stdout, re.M), "make install compiled:\n" + p.stdout)
    after = {q: os.stat(os.path.join(BIN_DIR, q)).st_mtime_ns for q in PROGRAMS}
    check(before == after, "make install touched the binaries in %s" % BUILD)
    got = files_under(dest)
    check(set(got) == set(EXPECTED), "installed files differ: missing %s, unexpected %s"
          % (sorted(set(EXPECTED) - set(got)), sorted(set(got) - set(EXPECTED))))
    for path, mode in EXPECTED.items():
        check(got[path] == mode, "%s has mode %o, want %o" % (path, got[path], mode))
    for d, dirs, _ in os.walk(dest):
        for n in dirs:
            m = stat.S_IMODE(os.stat(os.path.join(d, n)).st_mode)
            check(m == 0o755, "directory %s has mode %o" % (os.path.join(d, n), m))
    for prog, where in PROGRAMS.items():
        check(sha(os.path.join(dest, where, prog)) == sha(os.path.join(BIN_DIR, prog)),
              "installed %s is not %s/%s" % (prog, BUILD, prog))
    check(sha(os.path.join(dest, "usr/bin/vpn-agent-gen-certs")) ==
          sha(os.path.join(ROOT, "certs/gen-certs.sh")), "vpn-agent-gen-certs differs")
    # The state dir is systemd's (StateDirectory=): not made by install.
    check(not os.path.exists(os.path.join(dest, "var/lib/vpn-agent")),
          "make install created the state dir; StateDirectory= owns it")
    with open(os.path.join(dest, UNIT)) as f:
        unit = f.read()
    for line in ("ExecStart=/usr/sbin/vpn-agent --state-dir /var/lib/vpn-agent $VPN_AGENT_OPTS",
                 "EnvironmentFile=-/etc/default/vpn-agent", "StateDirectory=vpn-agent",
                 "StateDirectoryMode=0700", "Type=simple", "Restart=on-failure",
                 "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
                 "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
                 "DeviceAllow=/dev/net/tun rw"):
        check(re.search("^" + re.escape(line) + "$", unit, re.M), "unit lacks %r" % line)
    info("%d files under %s, binaries from %s unchanged" % (len(got), dest, BUILD))


@test
def install_default_prefix(env):
    dest = os.path.join(env.dir, "root")
    install(env, dest)
    got = files_under(dest)
    for path in ("usr/local/sbin/vpn-agent", "usr/local/bin/vpnctl",
                 "usr/local/share/man/man8/vpn-agent.8",
                 "usr/local/lib/systemd/system/vpn-agent.service",
                 "usr/local/share/doc/vpn-agent/prometheus/vpn-agent-alerts.yml",
                 "usr/local/share/doc/vpn-agent/grafana/vpn-agent.json"):
        check(path in got, "PREFIX=/usr/local: %s not installed (got %s)" % (path, sorted(got)))
    with open(os.path.join(dest, "usr/local/lib/systemd/system/vpn-agent.service")) as f:
        unit = f.read()
    check("\nExecStart=/usr/local/sbin/vpn-agent " in unit, "ExecStart not under /usr/local")
    check("\nEnvironmentFile=-/usr/local/etc/default/vpn-agent\n" in unit,
          "EnvironmentFile not under /usr/local/etc")


@test
def build_dir_rules(env):
    """BUILD given: the binaries are used as they are, even when a source
    is newer (-W pretends agent/main.c changed, without touching it). No
    BUILD: build/ is (re)built first."""
    dest = os.path.join(env.dir, "root")
    p = make("-n", "-W", "agent/main.c", "install", "BUILD=" + BUILD, "DESTDIR=" + dest)
    check(p.returncode == 0, "make -n install BUILD=: %s" % p.stderr)
    check("agent/main.c" not in p.stdout and BUILD + "/vpn-agent" in p.stdout,
          "with BUILD=%s, make install would rebuild or not use it:\n%s" % (BUILD, p.stdout))
    p = make("-n", "-W", "agent/main.c", "install", "DESTDIR=" + dest)
    check(p.returncode == 0, "make -n install: %s" % p.stderr)
    check(re.search(r"-c -o build/obj/agent/main\.o agent/main\.c", p.stdout) and
          re.search(r"-o build/vpn-agent ", p.stdout),
          "without BUILD, make install does not build build/vpn-agent first:\n" + p.stdout[:3000])
    check(not os.path.exists(dest), "make -n wrote to DESTDIR")
    missing = os.path.join(env.dir, "nobuild")
    p = make("install", "BUILD=" + os.path.relpath(missing, ROOT), "DESTDIR=" + dest)
    check(p.returncode != 0 and "missing" in p.stderr,
          "install from a build dir without binaries: %d %s" % (p.returncode, p.stderr))


@test
def installed_programs_run(env):
    dest = os.path.join(env.dir, "root")
    install(env, dest, "PREFIX=/usr")
    for prog, where in PROGRAMS.items():
        p = subprocess.run([os.path.join(dest, where, prog), "--help"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 0, "%s --help -> %d: %s" % (prog, p.returncode, p.stderr))
        check(p.stdout.startswith("usage: " + prog), "%s --help: %r" % (prog, p.stdout[:200]))
        check(p.stderr == "", "%s --help wrote to stderr: %r" % (prog, p.stderr))
    out = os.path.join(env.dir, "pki")
    p = subprocess.run([os.path.join(dest, "usr/bin/vpn-agent-gen-certs"), out],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "vpn-agent-gen-certs -> %d: %s" % (p.returncode, p.stderr))
    for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key"):
        check(os.path.exists(os.path.join(out, name)), "vpn-agent-gen-certs made no " + name)
    mode = stat.S_IMODE(os.stat(os.path.join(out, "client.key")).st_mode)
    check(mode == 0o600, "client.key mode %o" % mode)


@test
def man_pages(env):
    dest = os.path.join(env.dir, "root")
    install(env, dest, "PREFIX=/usr")
    for prog, page in MAN_PAGES.items():
        text, err = man_text(os.path.join(dest, page))
        check(err == "", "man --warnings -l %s:\n%s" % (page, err))
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "FILES", "EXIT STATUS",
                        "ENVIRONMENT", "EXAMPLES", "SEE ALSO"):
            check(section in text, "%s has no %s section" % (page, section))
        where = PROGRAMS[prog]
        h = subprocess.run([os.path.join(dest, where, prog), "--help"], capture_output=True,
                           text=True, timeout=30).stdout
        items = help_items(prog, h)
        check(len(items) >= 5, "%s --help gave only %s" % (prog, items))
        for item in sorted(items):
            check(" ".join(item.split()) in text,
                  "%s does not document %r from %s --help" % (page, item, prog))
        info("%s: %d items of --help documented" % (page, len(items)))
    text, _ = man_text(os.path.join(dest, MAN_PAGES["vpnctl"]))
    for item in ("VPNCTL_API", "VPNCTL_TOKEN_FILE", "show crypto isakmp sa [detail]",
                 "show crypto ipsec sa [peer A.B.C.D]", "show crypto session",
                 "show crypto isakmp keepalive", "clear crypto session [remote A.B.C.D]",
                 "import-ios FILE [--dry-run]"):
        check(item in text, "vpnctl.1 does not document %r" % item)
    # the check above can fail: a page with a broken macro call warns
    bad = os.path.join(env.dir, "bad.1")
    with open(bad, "w") as f:
        f.write(".TH BAD 1\n.SH NAME\nbad \\- x\n.SH DESCRIPTION\n.BOGUS\n\\fQx\n")
    _, err = man_text(bad)
    check(err != "", "man --warnings reported nothing for a broken page")


@test
def systemd_unit_verifies(env):
    dest = os.path.join(env.dir, "root")
    install(env, dest, "PREFIX=/usr")
    with open(os.path.join(dest, UNIT)) as f:
        unit = f.read()
    vdir = os.path.join(env.dir, "verify")
    os.makedirs(vdir)
    copy = os.path.join(vdir, "vpn-agent.service")
    with open(copy, "w") as f:
        f.write(unit.replace("\nExecStart=/usr/sbin/", "\nExecStart=%s/usr/sbin/" % dest))
    menv = dict(os.environ, MANPATH=os.path.join(dest, "usr/share/man"))
    p = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True,
                       env=menv, timeout=60)
    check(p.returncode == 0 and p.stdout + p.stderr == "",
          "systemd-analyze verify -> %d:\n%s%s" % (p.returncode, p.stdout, p.stderr))
    # the same check fails on a unit with a mistake, and without the man pages
    bad = os.path.join(vdir, "bad", "vpn-agent.service")
    os.makedirs(os.path.dirname(bad))
    with open(bad, "w") as f:
        f.write(open(copy).read().replace("ProtectClock=yes", "ProtectClok=yes"))
    p = subprocess.run(["systemd-analyze", "verify", bad], capture_output=True, text=True,
                       env=menv, timeout=60)
    check("ProtectClok" in p.stdout + p.stderr, "verify missed a misspelt directive: %s"
          % (p.stdout + p.stderr))
    p = subprocess.run(["systemd-analyze", "verify", copy], capture_output=True, text=True,
                       env=dict(os.environ, MANPATH=vdir), timeout=60)
    check("vpn-agent(8)" in p.stdout + p.stderr, "verify found man pages that are not there")
    # hardening kept: systemd's own score (0 best, 10 worst)
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes", copy],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for vpn-agent\.service: ([0-9.]+)", p.stdout)
    check(m, "systemd-analyze security: %s%s" % (p.stdout[-500:], p.stderr))
    check(float(m.group(1)) <= 2.5, "exposure %s: hardening was lost:\n%s"
          % (m.group(1), "\n".join(line for line in p.stdout.splitlines() if "✗" in line)))
    info("systemd-analyze verify: clean; security exposure %s" % m.group(1))


@test
def uninstall_removes_what_install_put(env):
    dest = os.path.join(env.dir, "root")
    install(env, dest, "PREFIX=/usr")
    # something that is not ours, in a shared folder, must survive
    other = os.path.join(dest, "usr/bin/other-tool")
    with open(other, "w") as f:
        f.write("#!/bin/sh\n")
    p = make("uninstall", "BUILD=" + BUILD, "DESTDIR=" + dest, "PREFIX=/usr")
    check(p.returncode == 0, "make uninstall -> %d: %s" % (p.returncode, p.stderr))
    left = files_under(dest)
    check(left == {"usr/bin/other-tool": left.get("usr/bin/other-tool")},
          "left after uninstall: %s" % sorted(left))
    check(not os.path.exists(os.path.join(dest, DOC)), "%s left behind" % DOC)
    os.unlink(other)
    p = make("uninstall", "BUILD=" + BUILD, "DESTDIR=" + dest, "PREFIX=/usr")
    check(p.returncode == 0, "a second make uninstall fails: %s" % p.stderr)
    shutil.rmtree(dest)


run()
