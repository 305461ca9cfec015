#!/usr/bin/env python3
"""The IKE test PKI (certs/gen-ike-certs.sh, SPEC R-16), checked with
`openssl verify` and `openssl x509` only: the gateways' certificates chain
to the root through the intermediate, with the subject, subjectAltName, key
usages and key types asked for; each broken certificate fails the way its
name says (expired, not yet valid, revoked in ike-int.crl, unknown CA,
another identity); a second run reuses the CAs. Needs no root."""

import atexit
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from harness import ROOT, check, info, run, test  # noqa: E402

SCRIPT = os.path.join(ROOT, "certs", "gen-ike-certs.sh")
# NAME: (IP, DNS, KEYTYPE)
GATEWAYS = {
    "gw-a": ("203.0.113.2", "gw-a.example.net", "p256"),
    "gw-b": ("198.51.100.10", "gw-b.example.net", "rsa2048"),
    "gw-c": ("198.51.100.11", "gw-c.example.net", "rsa3072"),
}
BROKEN = ("gw-b", "198.51.100.10", "gw-b.example.net")
BROKEN_KINDS = ("expired", "notyetvalid", "revoked", "unknownca", "wrongid")
CRLS = ["-crl_check_all", "-CRLfile", "ike-int.crl", "-CRLfile", "ike-root.crl"]

_pki = {}


def gen(outdir, *extra):
    argv = [SCRIPT, outdir]
    for name, (ip, dns, kt) in GATEWAYS.items():
        argv += ["--gateway", "%s:%s:%s:%s" % (name, ip, dns, kt)]
    argv += ["--broken-for", ":".join(BROKEN)] + list(extra)
    return subprocess.run(argv, capture_output=True, text=True, timeout=300)


def pki():
    """The script's output, made once for every test (RSA 3072 CA keys take
    seconds); tests that change it work on a copy."""
    if "dir" not in _pki:
        os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
        d = tempfile.mkdtemp(prefix="ike-pki-", dir=os.path.join(ROOT, "build"))
        atexit.register(shutil.rmtree, d, True)
        t0 = time.monotonic()
        p = gen(os.path.join(d, "pki"))
        check(p.returncode == 0, "gen-ike-certs.sh exited %d:\n%s" % (p.returncode, p.stderr))
        _pki.update(dir=os.path.join(d, "pki"), stdout=p.stdout, stderr=p.stderr,
                    seconds=time.monotonic() - t0)
    return _pki["dir"]


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True,
                       cwd=cwd or pki(), timeout=60)
    return p.returncode, p.stdout + p.stderr


def verify(cert, *extra, cwd=None):
    return openssl("verify", "-CAfile", "ike-root.crt", "-untrusted", "ike-int.crt",
                   *extra, cert, cwd=cwd)


def x509(cert, *args, cwd=None):
    rc, out = openssl("x509", "-in", cert, "-noout", *args, cwd=cwd)
    check(rc == 0, "openssl x509 %s: %s" % (cert, out))
    return out


def pem_blocks(path):
    with open(os.path.join(pki(), path)) as f:
        return re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
                          f.read(), re.S)


def mode(path):
    return stat.S_IMODE(os.stat(os.path.join(pki(), path)).st_mode)


def fails_with(cert, error, *extra):
    rc, out = verify(cert, *extra)
    check(rc != 0, "%s verified:\n%s" % (cert, out))
    check(error in out, "%s did not fail with %r:\n%s" % (cert, error, out))
    return out.splitlines()[1] if len(out.splitlines()) > 1 else out


@test
def runs_quietly(env):
    pki()
    out = _pki["stdout"].strip().splitlines()
    check(_pki["stderr"] == "", "stderr: %r" % _pki["stderr"])
    check(len(out) == 1 and out[0].startswith("gen-ike-certs: "),
          "not one summary line: %r" % _pki["stdout"])
    info("%.1f s: %s" % (_pki["seconds"], out[0]))


@test
def cas(env):
    root = x509("ike-root.crt", "-subject", "-issuer", "-ext", "basicConstraints,keyUsage")
    check("CA:TRUE" in root and "Certificate Sign, CRL Sign" in root, "root: " + root)
    check(root.count("CN = IKE Test Root CA") == 2, "root is not self-signed: " + root)
    rc, out = openssl("verify", "-CAfile", "ike-root.crt", "ike-int.crt")
    check(rc == 0 and "ike-int.crt: OK" in out, "intermediate: " + out)
    inter = x509("ike-int.crt", "-ext", "basicConstraints,keyUsage")
    check(re.search(r"critical\s+CA:TRUE, pathlen:0", inter), "intermediate: " + inter)
    check(re.search(r"Key Usage: critical\s+Certificate Sign, CRL Sign", inter),
          "intermediate key usage: " + inter)
    for ca in ("ike-root", "ike-int", "other-ca"):
        check(mode(ca + ".key") == 0o600, "%s.key mode %o" % (ca, mode(ca + ".key")))


@test
def gateways_verify(env):
    for name, (ip, dns, kt) in GATEWAYS.items():
        for cert in (name + ".crt", name + "-chain.crt"):
            rc, out = verify(cert)
            check(rc == 0 and out.strip() == cert + ": OK", "%s: %s" % (cert, out))
            rc, out = verify(cert, *CRLS)
            check(rc == 0, "%s with the CRLs: %s" % (cert, out))
        rc, out = verify(name + ".crt", "-verify_ip", ip, "-verify_hostname", dns,
                         "-purpose", "sslserver")
        check(rc == 0, "%s as %s/%s: %s" % (name, ip, dns, out))
        chain = pem_blocks(name + "-chain.crt")
        check(chain == pem_blocks(name + ".crt") + pem_blocks("ike-int.crt"),
              "%s-chain.crt is not the leaf then the intermediate" % name)


@test
def gateway_fields(env):
    for name, (ip, dns, kt) in GATEWAYS.items():
        out = x509(name + ".crt", "-subject", "-ext",
                   "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints")
        check("subject=C = XX, O = vpn-agent test, CN = %s\n" % dns in out,
              "%s subject: %s" % (name, out))
        check(re.search(r"Subject Alternative Name: *\n\s+IP Address:%s, DNS:%s\n"
                        % (re.escape(ip), re.escape(dns)), out), "%s SAN: %s" % (name, out))
        ku = "Digital Signature, Key Encipherment" if kt.startswith("rsa") else \
            "Digital Signature"
        check(re.search(r"Key Usage: critical\s+%s\n" % ku, out), "%s key usage: %s"
              % (name, out))
        check("TLS Web Server Authentication, TLS Web Client Authentication" in out,
              "%s extended key usage: %s" % (name, out))
        check("CA:FALSE" in out, "%s is a CA: %s" % (name, out))
    info("gw-b SAN: %s" % x509("gw-b.crt", "-ext", "subjectAltName").splitlines()[1].strip())


@test
def key_types(env):
    want = {"p256": "ASN1 OID: prime256v1", "rsa2048": "Public-Key: (2048 bit)",
            "rsa3072": "Public-Key: (3072 bit)"}
    for name, (ip, dns, kt) in GATEWAYS.items():
        key = name + ".key"
        check(mode(key) == 0o600, "%s mode %o" % (key, mode(key)))
        with open(os.path.join(pki(), key)) as f:
            first = f.readline().strip()
        check(first == "-----BEGIN PRIVATE KEY-----", "%s is not PKCS#8 PEM: %s" % (key, first))
        text = x509(name + ".crt", "-text")
        check(want[kt] in text, "%s.crt: no %s" % (name, want[kt]))
        rc, pub_key = openssl("pkey", "-in", key, "-pubout")
        check(rc == 0 and pub_key == x509(name + ".crt", "-pubkey"),
              "%s does not match %s.crt" % (key, name))
    for ca in ("ike-root", "ike-int"):
        check("Public-Key: (3072 bit)" in x509(ca + ".crt", "-text"), "%s is not RSA 3072" % ca)


@test
def expired_and_not_yet_valid(env):
    name = BROKEN[0]
    info(fails_with(name + "-expired.crt", "error 10 at 0 depth lookup: certificate has expired"))
    info(fails_with(name + "-notyetvalid.crt",
                    "error 9 at 0 depth lookup: certificate is not yet valid"))
    dates = x509(name + "-notyetvalid.crt", "-startdate")
    year = int(dates.split()[-2])
    check(year > time.gmtime().tm_year, "notBefore is not in the future: " + dates)
    for kind in ("expired", "notyetvalid"):	# the rest is sound: only the dates
        cert = "%s-%s.crt" % (name, kind)
        rc, out = verify(cert, "-no_check_time")
        check(rc == 0, "%s without the time check: %s" % (cert, out))
        check("IP Address:%s, DNS:%s" % (BROKEN[1], BROKEN[2])
              in x509(cert, "-ext", "subjectAltName"), "%s SAN" % cert)


@test
def revoked_in_the_crl(env):
    cert = BROKEN[0] + "-revoked.crt"
    rc, out = verify(cert)
    check(rc == 0, "%s does not verify without CRLs: %s" % (cert, out))
    info(fails_with(cert, "error 23 at 0 depth lookup: certificate revoked", *CRLS))
    serial = x509(cert, "-serial").strip().split("=")[1]
    rc, crl = openssl("crl", "-in", "ike-int.crl", "-noout", "-text")
    check(rc == 0 and "Serial Number: " + serial in crl,
          "serial %s not in ike-int.crl:\n%s" % (serial, crl))
    check(crl.count("Serial Number:") == 1, "ike-int.crl lists more than one:\n" + crl)
    nxt = re.search(r"Next Update: (.*) GMT", crl).group(1)
    years = time.strptime(nxt, "%b %d %H:%M:%S %Y").tm_year - time.gmtime().tm_year
    check(years >= 5, "nextUpdate is not far away: %s" % nxt)
    rc, root_crl = openssl("crl", "-in", "ike-root.crl", "-noout", "-text")
    check(rc == 0 and "No Revoked Certificates." in root_crl, "ike-root.crl:\n" + root_crl)
    for crl_file, ca in (("ike-int.crl", "ike-int.crt"), ("ike-root.crl", "ike-root.crt")):
        rc, out = openssl("crl", "-in", crl_file, "-CAfile", ca, "-noout")
        check(rc == 0 and "verify OK" in out, "%s is not signed by %s: %s" % (crl_file, ca, out))
        with open(os.path.join(pki(), crl_file)) as f:
            check(f.read().startswith("-----BEGIN X509 CRL-----"), crl_file + " is not PEM")
    # the good certificates still pass the CRL check of the whole chain
    rc, out = verify(BROKEN[0] + ".crt", *CRLS)
    check(rc == 0, "the good certificate with the CRLs: " + out)


@test
def unknown_ca(env):
    cert = BROKEN[0] + "-unknownca.crt"
    info(fails_with(cert, "error 20 at 0 depth lookup: unable to get local issuer certificate"))
    rc, out = openssl("verify", "-CAfile", "other-ca.crt", cert)
    check(rc == 0, "%s is not from other-ca: %s" % (cert, out))
    check("IP Address:%s, DNS:%s" % (BROKEN[1], BROKEN[2]) in x509(cert, "-ext", "subjectAltName"),
          "%s is not for the gateway's identity" % cert)


@test
def wrong_identity(env):
    name, ip, dns = BROKEN
    cert = name + "-wrongid.crt"
    rc, out = verify(cert, *CRLS)
    check(rc == 0, "%s does not chain: %s" % (cert, out))
    out = x509(cert, "-subject", "-ext", "subjectAltName")
    check(ip not in out and dns not in out, "%s names the gateway: %s" % (cert, out))
    info(fails_with(cert, "error 64 at 0 depth lookup: IP address mismatch", "-verify_ip", ip))
    fails_with(cert, "error 62 at 0 depth lookup: hostname mismatch", "-verify_hostname", dns)
    rc, out = verify(name + ".crt", "-verify_ip", ip, "-verify_hostname", dns)
    check(rc == 0, "the right certificate: " + out)


@test
def broken_files(env):
    for kind in BROKEN_KINDS:
        base = "%s-%s" % (BROKEN[0], kind)
        check(mode(base + ".key") == 0o600, "%s.key mode %o" % (base, mode(base + ".key")))
        issuer = [] if kind == "unknownca" else pem_blocks("ike-int.crt")
        check(pem_blocks(base + "-chain.crt") == pem_blocks(base + ".crt") + issuer,
              "%s-chain.crt is not the leaf then its issuer below the root" % base)


@test
def second_run_reuses_the_cas(env):
    d = os.path.join(env.dir, "pki")
    shutil.copytree(pki(), d)
    before = {c: x509(c, "-fingerprint", cwd=d) for c in ("ike-root.crt", "ike-int.crt",
                                                          "other-ca.crt")}
    old = x509("gw-a.crt", "-serial", cwd=d)
    p = gen(d)
    check(p.returncode == 0 and p.stderr == "", "second run: %d %s" % (p.returncode, p.stderr))
    check("root CA reused, intermediate reused" in p.stdout, "stdout: " + p.stdout)
    for c, fp in before.items():
        check(x509(c, "-fingerprint", cwd=d) == fp, c + " was made again")
    check(x509("gw-a.crt", "-serial", cwd=d) != old, "gw-a.crt was not issued again")
    rc, out = verify("gw-a.crt", *CRLS, cwd=d)
    check(rc == 0, "after the second run: " + out)
    rc, out = openssl("verify", "-CAfile", "ike-root.crt", "-untrusted", "ike-int.crt",
                      os.path.join(pki(), "gw-a.crt"), cwd=d)
    check(rc == 0, "a certificate of the first run no longer verifies: " + out)
    # the CRL lists this run's revoked certificate
    fails_with(os.path.join(d, BROKEN[0] + "-revoked.crt"), "certificate revoked",
               "-crl_check_all", "-CRLfile", os.path.join(d, "ike-int.crl"),
               "-CRLfile", os.path.join(d, "ike-root.crl"))


@test
def bad_arguments(env):
    d = os.path.join(env.dir, "out")
    cases = [
        (["--gateway", "a:10.0.0.1"], "expected NAME:IP:DNS[:KEYTYPE]"),
        (["--gateway", "a:10.0.0.300:a.example"], "not an IPv4 address: 10.0.0.300"),
        (["--gateway", "a:10.0.0.1:a.example:ed25519"], "KEYTYPE is p256, rsa2048 or rsa3072"),
        (["--gateway", "a/b:10.0.0.1:a.example"], "NAME is letters, digits"),
        (["--gateway", "ike-int:10.0.0.1:a.example"], "the name of a CA's files"),
        (["--gateway", "a:10.0.0.1:a_b.example"], "not a DNS name"),
        (["--gateway", "a:10.0.0.1:a.example", "--gateway", "a:10.0.0.2:b.example"],
         "a is written twice"),
        (["--gateway", "a-revoked:10.0.0.1:a.example", "--broken-for", "a:10.0.0.1:a.example"],
         "a-revoked is written twice"),
        (["--days", "0"], "must be at least 1"),
        (["--bogus"], "unknown argument"),
    ]
    for args, want in cases:
        p = subprocess.run([SCRIPT, d] + args, capture_output=True, text=True, timeout=60)
        check(p.returncode == 1 and want in p.stderr and p.stdout == "",
              "%s: exit %d, stderr %r" % (args, p.returncode, p.stderr))
        check(not os.path.exists(d), "%s: wrote %s" % (args, d))
    p = subprocess.run([SCRIPT], capture_output=True, text=True, timeout=60)
    check(p.returncode == 2 and "usage:" in p.stderr, "no arguments: %d" % p.returncode)


if __name__ == "__main__":
    run()
