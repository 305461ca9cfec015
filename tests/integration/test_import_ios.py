#!/usr/bin/env python3
"""vpnctl import-ios against a running agent (R-8, issue 5 item 2): a modern
IOS configuration becomes the API objects it describes; a file with a refused
line changes nothing; --dry-run sends nothing and needs neither agent nor
token; an API refusal midway undoes what the run created and puts the
singletons back. R-15.6: a remote-access configuration (dynamic crypto map,
Mode Config pool, XAUTH users) becomes address pools, local users and
dynamic crypto maps, and is undone the same way. R-17: the GRE/RIP
reference, modernised, becomes a transport-mode transform set, a crypto map
protecting GRE and a tunnel interface (last), and is undone the same way."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import BIN_DIR, ROOT, SANITIZER_MARKS, check, info, run, test  # noqa: E402

GOLDEN = os.path.join(ROOT, "tests", "golden", "ios")
SITE_A = os.path.join(GOLDEN, "site-a.cfg")
COLLECTIONS = ["/object/ikepolicies", "/object/presharedkeys", "/object/transformsets",
               "/object/cryptomaps", "/object/tunnelinterfaces"]
DPD = "/devicesettings/default/dpd"
IKE = "/devicesettings/default/ike"
XAUTH = os.path.join(GOLDEN, "vpnclient-xauth.cfg")
RA_COLLECTIONS = ["/object/ippools", "/object/localusers", "/object/dynamiccryptomaps"]
GRE_101 = os.path.join(GOLDEN, "cisco-ios-ipsec-gre-modern-101.cfg")
GRE_102 = os.path.join(GOLDEN, "cisco-ios-ipsec-gre-modern-102.cfg")


def vpnctl(agent, *args, api=None, token_file=None):
    argv = [os.path.join(BIN_DIR, "vpnctl"),
            "--api", api or "http://127.0.0.1:%d" % agent.api_port,
            "--token-file", token_file or os.path.join(agent.state, "api-token")] + list(args)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    for mark in SANITIZER_MARKS:
        check(mark not in p.stderr, "vpnctl: sanitizer report:\n" + p.stderr)
    return p


def snapshot(agent):
    return {path: agent.ok("GET", path) for path in COLLECTIONS + [DPD, IKE]}


def without_version(obj):
    return {k: v for k, v in obj.items() if k != "version"}


def items(agent, path):
    return agent.ok("GET", path)["items"]


def by_name(agent, path, name):
    found = [i for i in items(agent, path) if i["name"] == name]
    check(len(found) == 1, "%s: want one %r, have %r" % (path, name, items(agent, path)))
    return found[0]


def write(env, name, text):
    path = os.path.join(env.dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def site_a_text():
    with open(SITE_A) as f:
        return f.read()


@test
def import_site_a_creates_the_objects(env):
    agent = env.agent()
    before = snapshot(agent)
    p = vpnctl(agent, "import-ios", SITE_A)
    check(p.returncode == 0, "import-ios: %r" % (p,))
    created = [line.split() for line in p.stdout.splitlines() if line.startswith("created ")]
    check([c[1] for c in created] == ["ikepolicy", "presharedkey", "presharedkey",
                                      "transformset", "cryptomap"], "stdout %r" % p.stdout)
    check(any(line.startswith('updated dpdsettings "dpd"') for line in p.stdout.splitlines()),
          "no DPD update line in %r" % p.stdout)
    ids = {c[2].strip('"'): c[4] for c in created}

    pol = by_name(agent, "/object/ikepolicies", "isakmp-policy-10")
    check(pol["id"] == ids["isakmp-policy-10"], "printed id %r vs %r" % (ids, pol))
    check((pol["priority"], pol["encryption"], pol["hash"], pol["authentication"], pol["group"],
           pol["lifetimeSeconds"]) == (10, "aes", "sha256", "pre-share", 14, 28800),
          "ikepolicy %r" % pol)
    keys = sorted((k["address"], k["mask"]) for k in items(agent, "/object/presharedkeys"))
    check(keys == [("198.51.100.10", "255.255.255.255"), ("198.51.100.11", "255.255.255.255")],
          "presharedkeys %r" % keys)
    raw = json.dumps(items(agent, "/object/presharedkeys"))
    check("7yq-siteB" not in raw and '"key"' not in raw, "a key came back: %s" % raw)
    ts = by_name(agent, "/object/transformsets", "AES-SHA256")
    check((ts["esp"], ts["auth"], ts["mode"]) == ("esp-aes", "esp-sha256-hmac", "tunnel"),
          "transformset %r" % ts)
    cm = by_name(agent, "/object/cryptomaps", "SITE-B-10")
    check(cm["sequence"] == 10 and cm["peers"] == ["198.51.100.10", "198.51.100.11"],
          "peers in failover order: %r" % cm)
    check([r["id"] for r in cm["transformSets"]] == [ts["id"]], "refs %r" % cm["transformSets"])
    check([(m["source"], m["destination"]) for m in cm["matchAddress"]] ==
          [("10.10.0.0/16", "10.20.0.0/16"), ("10.10.1.5/32", "10.30.0.0/24")],
          "matchAddress %r" % cm["matchAddress"])
    check((cm["pfs"], cm["lifetimeSeconds"], cm["lifetimeKilobytes"]) ==
          ("group14", 3600, 4608000), "crypto map %r" % cm)
    check(cm["description"] == "site B, primary gateway then backup", "description %r" % cm)

    dpd = agent.ok("GET", DPD)
    check((dpd["keepaliveSeconds"], dpd["retrySeconds"], dpd["retries"], dpd["mode"]) ==
          (10, 3, 5, "PERIODIC"), "dpd %r" % dpd)
    check(dpd["version"] != before[DPD]["version"] and dpd["name"] == before[DPD]["name"],
          "dpd %r (before %r)" % (dpd, before[DPD]))
    check(agent.ok("GET", IKE) == before[IKE], "the file has no identity line: ike changed")


@test
def refused_line_changes_nothing(env):
    agent = env.agent()
    text = site_a_text().replace(
        " mode tunnel\n", " mode tunnel\ncrypto ipsec transform-set OLD esp-3des esp-md5-hmac\n")
    lines = text.splitlines()
    bad = lines.index("crypto ipsec transform-set OLD esp-3des esp-md5-hmac") + 1
    path = write(env, "refused.cfg", text)
    before = snapshot(agent)
    p = vpnctl(agent, "import-ios", path)
    check(p.returncode == 1, "exit %d: %r" % (p.returncode, p))
    check("%s:%d: error: esp-3des: 3DES is insecure" % (path, bad) in p.stderr,
          "stderr %r" % p.stderr)
    check("%s:%d: error: esp-md5-hmac: MD5 is insecure" % (path, bad) in p.stderr,
          "stderr %r" % p.stderr)
    check("nothing was sent to the agent" in p.stderr and p.stdout == "", "output %r" % (p,))
    check(snapshot(agent) == before, "the agent's config changed")


@test
def dry_run_sends_nothing(env):
    agent = env.agent()
    before = snapshot(agent)
    p = vpnctl(agent, "import-ios", SITE_A, "--dry-run")
    check(p.returncode == 0, "dry run: %r" % (p,))
    with open(os.path.join(GOLDEN, "site-a.expected")) as f:
        expected = f.read()
    check(p.stdout and expected.endswith(p.stdout),
          "stdout is not the golden's objects:\n%s" % p.stdout)
    check(p.stdout.count("POST ") == 5 and "PUT /devicesettings/default/dpd" in p.stdout,
          "requests %r" % p.stdout)
    check("7yq-siteB" not in p.stdout + p.stderr, "the key was printed")
    check(snapshot(agent) == before, "a dry run changed the agent's config")
    # no agent and no token needed
    p = vpnctl(agent, "--dry-run", "import-ios", SITE_A, api="http://127.0.0.1:1",
               token_file=os.path.join(env.dir, "no-such-token"))
    check(p.returncode == 0 and "POST /object/cryptomaps" in p.stdout, "offline: %r" % (p,))
    # a dry run of a file with errors shows them and fails
    p = vpnctl(agent, "--dry-run", "import-ios", os.path.join(GOLDEN, "cisco-ios-dpd-periodic.cfg"),
               api="http://127.0.0.1:1")
    check(p.returncode == 1 and "nothing would be sent" in p.stderr, "errors: %r" % (p,))
    p = vpnctl(agent, "--dry-run", "delete", "/object/cryptomaps/x")
    check(p.returncode == 2 and "--dry-run is for import-ios only" in p.stderr, "%r" % (p,))


def check_rolled_back(agent, before, p, what):
    check(p.returncode == 1, "%s: exit %d: %r" % (what, p.returncode, p))
    check("was refused:\nvpnctl: 409: " in p.stderr, "%s: stderr %r" % (what, p.stderr))
    check("nothing was changed" in p.stderr, "%s: not undone: %r" % (what, p.stderr))
    after = snapshot(agent)
    for path in COLLECTIONS:
        check(after[path] == before[path], "%s: %s changed:\n%r\n%r"
              % (what, path, before[path], after[path]))
    for path in (DPD, IKE):  # put back: same fields, a new version
        check(without_version(after[path]) == without_version(before[path]),
              "%s: %s not put back:\n%r\n%r" % (what, path, before[path], after[path]))


@test
def refusal_midway_rolls_back(env):
    agent = env.agent()
    # singletons changed first, then the five objects: the crypto map's name is
    # taken, so the agent refuses the last POST
    agent.ok("POST", "/object/transformsets", {"name": "OTHER", "esp": "esp-gcm-256"})
    other = by_name(agent, "/object/transformsets", "OTHER")
    agent.ok("POST", "/object/cryptomaps", {
        "name": "SITE-B-10", "sequence": 99, "peers": ["192.0.2.99"],
        "transformSets": [{"id": other["id"], "name": "OTHER", "type": "transformset"}],
        "matchAddress": [{"source": "10.99.0.0/16", "destination": "10.98.0.0/16"}],
        "forceEncapsulation": True})
    text = site_a_text().replace("crypto isakmp keepalive 10 3 periodic\n",
                                 "crypto isakmp keepalive 10 3 periodic\n"
                                 "crypto isakmp identity hostname\n"
                                 "crypto isakmp nat keepalive 30\n")
    path = write(env, "site-a-id.cfg", text)
    before = snapshot(agent)
    p = vpnctl(agent, "import-ios", path)
    check("undoing the 6 changes made so far" in p.stderr, "stderr %r" % p.stderr)
    check_rolled_back(agent, before, p, "crypto map name taken")
    check(agent.ok("GET", IKE)["identity"] == "address", "identity not put back")


@test
def taken_priority_rolls_back(env):
    agent = env.agent()
    agent.ok("POST", "/object/ikepolicies", {
        "name": "corporate", "priority": 10, "encryption": "aes-256", "hash": "sha256",
        "group": 19})
    before = snapshot(agent)
    # DPD is put first, then the agent refuses policy 10 (409): DPD goes back
    p = vpnctl(agent, "import-ios", SITE_A)
    check("%s:4: POST /object/ikepolicies" % SITE_A in p.stderr, "stderr %r" % p.stderr)
    check('priority 10 is taken by ikepolicy "corporate"' in p.stderr and
          "undoing the 1 change made so far" in p.stderr, "stderr %r" % p.stderr)
    check_rolled_back(agent, before, p, "priority taken")


@test
def second_import_rolls_back(env):
    agent = env.agent()
    p = vpnctl(agent, "import-ios", SITE_A)
    check(p.returncode == 0, "first import: %r" % (p,))
    before = snapshot(agent)
    # the same file again: the names are taken (409); the first import stays
    p = vpnctl(agent, "import-ios", SITE_A)
    check('named "isakmp-policy-10" exists already' in p.stderr, "stderr %r" % p.stderr)
    check_rolled_back(agent, before, p, "import twice")



def ra_snapshot(agent):
    return {path: agent.ok("GET", path) for path in COLLECTIONS + RA_COLLECTIONS + [DPD, IKE]}


@test
def import_remote_access(env):
    agent = env.agent()
    p = vpnctl(agent, "import-ios", XAUTH)
    check(p.returncode == 0, "import-ios: %r" % (p,))
    created = [line.split() for line in p.stdout.splitlines() if line.startswith("created ")]
    check([c[1] for c in created] == ["ikepolicy", "presharedkey", "transformset", "ippool",
                                      "localuser", "localuser", "dynamiccryptomap"],
          "stdout %r" % p.stdout)

    pool = by_name(agent, "/object/ippools", "clients")
    check((pool["start"], pool["end"], pool.get("netmask", "255.255.255.255")) ==
          ("10.2.1.1", "10.2.1.254", "255.255.255.255"), "ippool %r" % pool)
    users = items(agent, "/object/localusers")
    check(sorted(u["name"] for u in users) == ["alice", "bob"], "localusers %r" % users)
    raw = json.dumps(users)
    check("Wonderland-42" not in raw and "the builder" not in raw and '"password"' not in raw,
          "a password came back: %s" % raw)
    key = by_name(agent, "/object/presharedkeys", "psk-any")
    check((key["address"], key["mask"]) == ("0.0.0.0", "0.0.0.0"), "wild-card key %r" % key)
    ts = by_name(agent, "/object/transformsets", "AES256-SHA256")
    dm = by_name(agent, "/object/dynamiccryptomaps", "vpn-65535")
    check(dm["sequence"] == 65535 and [r["id"] for r in dm["transformSets"]] == [ts["id"]],
          "dynamic map refs %r" % dm)
    check(dm["addressPool"]["id"] == pool["id"], "addressPool %r" % dm)
    check(dm["clientConfiguration"] == {"initiate": False, "respond": True} and
          dm["xauth"] is True, "client configuration / xauth %r" % dm)
    check([(m["source"], m["destination"]) for m in dm["matchAddress"]] ==
          [("10.2.2.0/24", "10.2.1.0/24")], "matchAddress %r" % dm)
    check((dm["pfs"], dm["lifetimeSeconds"], dm["lifetimeKilobytes"], dm["description"]) ==
          ("group14", 28800, 4608000, "road warriors"), "dynamic map %r" % dm)
    check(dm.get("dnsServers", []) == [] and dm.get("splitTunnel", []) == [],
          "dns/split %r" % dm)

    # Other names everywhere but the dynamic map's, which is taken: the last
    # POST is refused and the run's pool, users, transform set, key and policy
    # are deleted again, DPD put back.
    with open(XAUTH) as f:
        text = f.read()
    for old, new in (("policy 10", "policy 20"), ("address 0.0.0.0 0.0.0.0",
                                                  "address 192.0.2.0 255.255.255.0"),
                     ("AES256-SHA256", "TS2"), ("local clients", "local clients2"),
                     ("pool clients 10.2.1.1 10.2.1.254", "pool clients2 10.3.1.1 10.3.1.254"),
                     ("username alice", "username carol"), ("username bob", "username dave")):
        check(old in text, "%r not in %s" % (old, XAUTH))
        text = text.replace(old, new)
    path = write(env, "xauth-again.cfg", text)
    before = ra_snapshot(agent)
    p = vpnctl(agent, "import-ios", path)
    check(p.returncode == 1 and "POST /object/dynamiccryptomaps" in p.stderr and
          "undoing the 7 changes made so far" in p.stderr and "nothing was changed" in p.stderr,
          "second import: %r" % (p,))
    after = ra_snapshot(agent)
    for where in COLLECTIONS + RA_COLLECTIONS + [IKE]:
        check(after[where] == before[where], "%s changed:\n%r\n%r"
              % (where, before[where], after[where]))
    check(without_version(after[DPD]) == without_version(before[DPD]), "dpd not put back")


@test
def import_gre_over_ipsec(env):
    agent = env.agent()
    p = vpnctl(agent, "import-ios", GRE_102)
    check(p.returncode == 0, "import-ios: %r" % (p,))
    created = [line.split() for line in p.stdout.splitlines() if line.startswith("created ")]
    check([c[1] for c in created] == ["ikepolicy", "presharedkey", "transformset", "cryptomap",
                                      "tunnelinterface"], "stdout %r" % p.stdout)
    check("lines 49-71 skipped, not crypto configuration: interface Ethernet0/0, interface "
          "Ethernet1/0, interface Serial2/0, interface Serial3/0, router rip" in p.stderr,
          "router rip not skipped with a note: %r" % p.stderr)

    ts = by_name(agent, "/object/transformsets", "test")
    check((ts["esp"], ts["auth"], ts["mode"]) == ("esp-aes-256", "esp-sha256-hmac", "transport"),
          "transformset %r" % ts)
    cm = by_name(agent, "/object/cryptomaps", "test-10")
    check(cm["peers"] == ["20.1.1.1"] and [r["id"] for r in cm["transformSets"]] == [ts["id"]],
          "crypto map %r" % cm)
    check(cm["matchAddress"] == [{"action": "permit", "protocol": "gre",
                                  "source": "20.1.1.2/32", "destination": "20.1.1.1/32"}],
          "matchAddress %r" % cm["matchAddress"])
    check(cm["forceEncapsulation"] is False, "IOS's plain ESP expected: %r" % cm)
    tun = by_name(agent, "/object/tunnelinterfaces", "Tunnel0")
    check((tun["address"], tun["tunnelSource"], tun["tunnelDestination"], tun["mtu"],
           tun["shutdown"], tun["type"]) ==
          ("10.10.10.2/30", "20.1.1.2", "20.1.1.1", 1420, False, "tunnelinterface"),
          "tunnel interface %r" % tun)
    status = agent.ok("GET", "/operational/tunnelinterfaces")["items"]
    check(all(i.get("type") == "tunnelinterfacestatus" for i in status), "status %r" % status)

    # router 101's file, dry run: exactly its golden's requests
    p = vpnctl(agent, "--dry-run", "import-ios", GRE_101, api="http://127.0.0.1:1")
    with open(os.path.join(GOLDEN, "cisco-ios-ipsec-gre-modern-101.expected")) as f:
        expected = f.read()
    check(p.returncode == 0 and p.stdout and expected.endswith(p.stdout),
          "dry run of 101: %r" % (p,))
    check("POST /object/tunnelinterfaces" in p.stdout and '"tunnelSource": "20.1.1.1"' in
          p.stdout, "101's tunnel source is Ethernet1/0's address: %s" % p.stdout)

    # every other name new but the tunnel interface's: its POST, the last, is
    # refused (409) and the run's crypto map, transform set, key and policy
    # are deleted again, the singletons put back
    with open(GRE_102) as f:
        text = f.read()
    for old, new in (("policy 1\n", "policy 2\n"), ("address 20.1.1.1\n", "address 20.1.1.5\n"),
                     ("test", "test2")):
        check(old in text, "%r not in %s" % (old, GRE_102))
        text = text.replace(old, new)
    path = write(env, "gre-again.cfg", text)
    before = snapshot(agent)
    p = vpnctl(agent, "import-ios", path)
    check(p.returncode == 1 and "POST /object/tunnelinterfaces" in p.stderr and
          'named "Tunnel0" exists already' in p.stderr and
          "undoing the 6 changes made so far" in p.stderr, "second import: %r" % (p,))
    check_rolled_back(agent, before, p, "tunnel interface name taken")


if __name__ == "__main__":
    run()
