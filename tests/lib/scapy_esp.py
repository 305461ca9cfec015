#!/usr/bin/python3
"""ESP built and checked by an implementation that is not ours: scapy's
IPsec layer (Debian's python3-scapy, so it runs under /usr/bin/python3, not
whatever python3 the tests run under). A JSON request on stdin, JSON out:

  {"op": "send", "sa": SA, "seq": N, "packets": [{"src", "dst", "proto",
   "payload" (hex), "id"?}], "outer": [src, dst] (tunnel mode) or null}
      encrypts each packet (tunnel mode: the whole IPv4 packet inside an
      outer header; transport mode: its payload, next header its protocol)
      with sequence numbers seq, seq+1, ... and sends them (IP protocol 50).
      Out: {"sent": n}
  {"op": "decrypt", "sa": SA, "pcap": path, "tunnel": bool}
      every ESP packet of SA.spi in the capture, decrypted (tunnel mode: the
      inner packet; transport mode: the outer header and the payload). Out: {"packets":
      [{"seq", "src", "dst", "proto", "icmp_type", "icmp_id", "icmp_seq",
      "payload" (hex of the IP payload)} | {"seq", "error"}]}

SA: {"spi": int, "enc": "cbc"|"gcm", "key": hex, "auth": "sha1"|"sha256"|"none",
     "authkey": hex (GCM: the 4-byte salt)} -- a line of --test-key-log.
"""

import json
import sys

from scapy.all import ESP, ICMP, IP, Raw, conf, rdpcap, send  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation  # noqa: E402

conf.verb = 0


def security_association(sa, tunnel=None):
    key, akey = bytes.fromhex(sa["key"]), bytes.fromhex(sa.get("authkey", ""))
    kw = {"spi": sa["spi"]}
    if sa["enc"] == "gcm":
        kw.update(crypt_algo="AES-GCM", crypt_key=key + akey, auth_algo="NULL")
    else:
        kw.update(crypt_algo="AES-CBC", crypt_key=key,
                  auth_algo={"sha1": "HMAC-SHA1-96", "sha256": "SHA2-256-128"}[sa["auth"]],
                  auth_key=akey)
    if tunnel:
        kw["tunnel_header"] = IP(src=tunnel[0], dst=tunnel[1])
    return SecurityAssociation(ESP, **kw)


def do_send(req):
    sa = security_association(req["sa"], req.get("outer"))
    n = 0
    for i, p in enumerate(req["packets"]):
        pkt = IP(src=p["src"], dst=p["dst"], proto=p["proto"], id=p.get("id", 1)) / \
            Raw(bytes.fromhex(p["payload"]))
        pkt = IP(bytes(pkt))	# lengths and checksum filled in
        send(sa.encrypt(pkt, seq_num=req["seq"] + i))
        n += 1
    return {"sent": n}


def do_decrypt(req):
    sa = security_association(req["sa"], ("0.0.0.0", "0.0.0.0") if req["tunnel"] else None)
    out = []
    for pkt in rdpcap(req["pcap"]):
        if IP not in pkt or ESP not in pkt or pkt[ESP].spi != req["sa"]["spi"]:
            continue
        ip = pkt[IP]
        # the outer header as the wire had it, without link layer
        try:
            inner = sa.decrypt(IP(bytes(ip)))
        except Exception as e:  # noqa: BLE001 (a failed ICV names the packet)
            out.append({"seq": ip[ESP].seq, "error": str(e)})
            continue
        row = {"seq": ip[ESP].seq, "src": inner.src, "dst": inner.dst, "proto": inner.proto,
               "payload": bytes(inner.payload).hex()}
        if ICMP in inner:
            row.update(icmp_type=inner[ICMP].type, icmp_id=inner[ICMP].id,
                       icmp_seq=inner[ICMP].seq)
        out.append(row)
    return {"packets": out}


def main():
    req = json.load(sys.stdin)
    json.dump({"send": do_send, "decrypt": do_decrypt}[req["op"]](req), sys.stdout)


if __name__ == "__main__":
    main()
