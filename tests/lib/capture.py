"""Packet capture inside a test namespace (dumpcap) and offline decoding with
tshark, IKEv1 decryption keys included (uat:ikev1_decryption_table)."""

import json
import os
import signal
import socket
import struct
import subprocess
import time

from harness import Proc, TestFailure, tail, wait_for
from inject import checksum

DUMPCAP = "dumpcap"
TSHARK = "tshark"

# tshark's name for each ISAKMP exchange type number (isakmp.exchangetype).
EXCHANGE_NAMES = {2: "Identity Protection (Main Mode)", 4: "Aggressive", 5: "Informational",
                  6: "Transaction (Config Mode)", 32: "Quick Mode",
                  34: "IKE_SA_INIT", 35: "IKE_AUTH", 36: "CREATE_CHILD_SA", 37: "INFORMATIONAL"}


def ike_filter(ports=(500, 4500)):
    return " or ".join("udp port %d" % p for p in ports)


class Capture:
    """dumpcap on `iface` inside namespace `ns`, writing <env.dir>/<name>.pcapng.
    Registered with env (stopped at teardown); stop() returns the file path.
    `bpf` overrides the default filter "udp port 500 or udp port 4500"."""

    def __init__(self, env, topo, ns, iface, name="capture", ports=(500, 4500),
                 bpf=None, start_timeout=10):
        self.name = name
        self.path = os.path.join(env.dir, name + ".pcapng")
        self.filter = bpf or ike_filter(ports)
        argv = topo.ns_argv(ns, [DUMPCAP, "-n", "-i", iface, "-f", self.filter,
                                 "-w", self.path])
        self.proc = Proc(name, argv, env.dir)
        env.add(self)
        wait_for(self._started, start_timeout, "%s: dumpcap capturing on %s" % (name, iface))

    def _started(self):
        out = self.proc.output()
        if not self.proc.alive():
            raise TestFailure("%s: dumpcap exited:\n%s" % (self.name, tail(out, 20)))
        return "Capturing on" in out and os.path.exists(self.path)

    def stop(self, settle=0.6):
        """Stops dumpcap (SIGINT, SIGKILL after 5 s) and returns the pcap path.
        `settle` seconds are left first: dumpcap reads the kernel's packet
        ring with a 250 ms timeout, and a frame still in the ring's current
        block when SIGINT arrives is lost (a test that counted 2 frames the
        agent had received found 1 in the file with 0.2 s)."""
        if self.proc.log.closed:
            return self.path
        if self.proc.alive():
            time.sleep(settle)
            try:
                os.kill(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                self.proc.p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.proc.stop(check_clean=True, timeout=5)
        return self.path


def decode(pcap, keys=(), display_filter=None, extra_prefs=()):
    """Decodes `pcap` with tshark. keys: [(initiator cookie hex, encryption
    key hex)] (e.g. Charon.ikev1_keys()) for uat:ikev1_decryption_table.

    Returns a dict:
      packets         frames read
      malformed       frames with a _ws.malformed item (want 0)
      malformed_frames  their frame numbers
      isakmp          frames carrying an ISAKMP message
      exchange_types  ISAKMP exchange type per ISAKMP frame, in order (ints)
      exchange_names  the same as names ("Quick Mode", ...)
      encrypted       ISAKMP frames with the encryption flag
      decrypted       of these, how many tshark could decrypt (HASH payload seen)
      esp             ESP-in-UDP frames
      cookies         initiator cookies seen (hex)
      expert_errors   frames with an expert-info error (e.g. bad checksum)
      notify_types    ISAKMP notify message types seen, in order (ints;
                      36136 R-U-THERE, 36137 R-U-THERE-ACK; encrypted ones
                      only when decrypted)
    """
    fields = ["frame.number", "isakmp.exchangetype", "isakmp.flags", "isakmp.ispi",
              "isakmp.hash", "_ws.malformed", "esp.spi", "_ws.expert.severity",
              "isakmp.notify.msgtype"]
    rows = fields_of(pcap, fields, keys, display_filter, extra_prefs)
    res = {"packets": 0, "malformed": 0, "malformed_frames": [], "isakmp": 0,
           "exchange_types": [], "exchange_names": [], "encrypted": 0, "decrypted": 0,
           "esp": 0, "cookies": [], "expert_errors": 0, "notify_types": []}
    for cols in rows:
        num, exch, flags, ispi, hsh, malformed, esp_spi, severity, notify = cols
        res["packets"] += 1
        if malformed:
            res["malformed"] += 1
            res["malformed_frames"].append(int(num))
        if exch:
            for e in exch.split(","):
                res["isakmp"] += 1
                res["exchange_types"].append(int(e, 0))
                res["exchange_names"].append(EXCHANGE_NAMES.get(int(e, 0), "type %s" % e))
            first_flags = int(flags.split(",")[0], 0) if flags else 0
            if first_flags & 0x01:
                res["encrypted"] += 1
                if hsh:
                    res["decrypted"] += 1
            for c in ispi.split(","):
                c = c.replace(":", "").lower()
                if c and c not in res["cookies"]:
                    res["cookies"].append(c)
        res["notify_types"] += [int(n, 0) for n in notify.split(",") if n]
        if esp_spi:
            res["esp"] += 1
        # expert severity: error = 0x00800000 (wireshark's PI_ERROR)
        if any(s and int(s, 0) >= 0x00800000 for s in severity.split(",")):
            res["expert_errors"] += 1
    return res


def write_udp_pcap(path, payloads, src="192.0.2.1", dst="192.0.2.2", sport=500, dport=500):
    """Writes a classic pcap with one Ethernet/IPv4/UDP frame per payload
    (bytes), e.g. to feed decode() a hand-made ISAKMP message. Returns path."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i, payload in enumerate(payloads):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i + 1, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp
        out.append(struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))
    return path


def fields_of(pcap, names, keys=(), display_filter=None, extra_prefs=()):
    """tshark -T fields over `pcap`: one row (a list of strings, one per
    field in `names`; several occurrences joined with ",") per frame that
    passes `display_filter`. keys as for decode() (IKEv1 decryption);
    extra_prefs: more "-o" preferences."""
    argv = [TSHARK, "-n", "-r", pcap]
    # byte fields of a UAT record are bare hex, not quoted strings
    for cookie, key in keys:
        argv += ["-o", 'uat:ikev1_decryption_table:%s,%s' % (cookie.lower(), key.lower())]
    for pref in extra_prefs:
        argv += ["-o", pref]
    argv += ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in names:
        argv += ["-e", f]
    if display_filter:
        argv += ["-Y", display_filter]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=120)
    if p.returncode != 0:
        raise TestFailure("tshark -r %s -> exit %d:\n%s" % (pcap, p.returncode,
                                                           tail(p.stderr, 20)))
    return [(line.split("\t") + [""] * len(names))[:len(names)]
            for line in p.stdout.splitlines()]


# ---- ESP with the agents' keys (--test-key-log) -------------------------

ESP_ENC = {"cbc": "AES-CBC [RFC3602]", "gcm": "AES-GCM with 16 octet ICV [RFC4106]"}
ESP_AUTH = {"sha1": "HMAC-SHA-1-96 [RFC2404]", "sha256": "HMAC-SHA-256-128 [RFC4868]",
            "none": "NULL"}


def esp_key_log(path):
    """The SAs of an agent's --test-key-log, in order: one dict per line
    {"src", "dst", "spi" (int), "enc" (cbc|gcm), "auth", "key", "authkey"
    (hex; GCM: the salt)} -- also what tests/lib/scapy_esp.py takes."""
    sas = []
    with open(path) as f:
        for line in f:
            spi, src, dst, enc, auth, key, akey = (line.split() + [""])[:7]
            sas.append({"src": src, "dst": dst, "spi": int(spi, 16), "enc": enc, "auth": auth,
                        "key": key, "authkey": akey})
    return sas


def esp_decode_args(sas):
    """tshark options that decrypt ESP of these SAs (uat:esp_sa)."""
    args = ["-o", "esp.enable_encryption_decode:TRUE"]
    for sa in sas:
        key, akey = sa["key"], sa["authkey"]
        if sa["enc"] == "gcm":
            key, akey = key + akey, ""	# tshark wants key|salt
        args += ["-o", 'uat:esp_sa:"IPv4","%s","%s","0x%08x","%s","0x%s","%s","%s"' % (
            sa["src"], sa["dst"], sa["spi"], ESP_ENC[sa["enc"]], key, ESP_AUTH[sa["auth"]],
            "0x" + akey if akey else "")]
    return args


SCAPY_ESP = [os.environ.get("SCAPY_PYTHON", "/usr/bin/python3"),
             os.path.join(os.path.dirname(os.path.abspath(__file__)), "scapy_esp.py")]


def scapy_esp(topo, ns, req):
    """tests/lib/scapy_esp.py run in ns (Debian's python3-scapy, under
    /usr/bin/python3): the request in, its answer out (dicts)."""
    p = topo.run(ns, SCAPY_ESP, input=json.dumps(req), check=False, timeout=60)
    if p.returncode != 0:
        raise TestFailure("scapy_esp: %s" % p.stderr[-2000:])
    return json.loads(p.stdout)
