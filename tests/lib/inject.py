#!/usr/bin/env python3
"""Raw-socket packet injector for the hostile-network tests (SPEC R-13).

Builds IPv4 + UDP headers by hand (any source address and port, UDP checksum
computed) and sends them with a raw socket (IPPROTO_RAW, IP_HDRINCL). It is
only ever run inside a test's network namespace (`ip netns exec`), so the
packets never leave the namespaces the test made. Standard library only.

Subcommands (each prints one JSON line with what it sent):

  send   --src A --sport P --dst B --dport Q --hex PAYLOAD [--hex PAYLOAD2 ...]
         [--count N] [--interval S]
      The payloads (UDP payloads, given in hex, a non-ESP marker included
      when wanted) in turn, N datagrams in all (default: each payload once),
      S seconds apart (the first at once). Used to send one forged message
      and to replay captured datagrams.

  flood-mm1  --net 198.18.0.0/15 --dst B [--dport 500] --count N [--seconds S]
      N Main Mode message 1 datagrams, each from a random address in --net
      and a random source port, with a random initiator cookie, a zero
      responder cookie and an SA payload of one proposal with one transform
      (AES-CBC 128, SHA2-256, pre-shared key, group 14, 86400 s). Paced over
      S seconds if given, else as fast as the socket takes them.

  random --src A --dst B --cookies ICOOKIE:RCOOKIE --count N --seconds S
         [--ports 500,4500] [--seed X]
      N datagrams paced over S seconds from A with random source ports, to
      the given ports, a mix of: pure random bytes (1..600); ISAKMP headers
      with the given cookies, an exchange type from {2,5,32,4,6,34}, random
      flags, message id and next payload and a random body (its length
      field right, so it gets past the header check), on 4500 with the
      non-ESP marker; and on 4500 without the marker, ESP-looking garbage
      with a random SPI.

SIGTERM ends a run cleanly (exit 0) with its summary printed.
"""

import argparse
import ipaddress
import json
import os
import random
import signal
import socket
import struct
import sys
import time

NON_ESP_MARKER = b"\0\0\0\0"
ISAKMP_HDR_LEN = 28


# ---- packet building ---------------------------------------------------------

def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ipv4_udp(src, dst, sport, dport, payload, ident=0):
    """An IPv4 header (no options, TTL 64, DF clear) + UDP header + payload,
    both checksums computed."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    ulen = 8 + len(payload)
    pseudo = s + d + struct.pack("!BBH", 0, socket.IPPROTO_UDP, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = checksum(pseudo + udp) or 0xFFFF  # 0 would mean "no checksum"
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ident & 0xFFFF, 0, 64,
                     socket.IPPROTO_UDP, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + udp


def isakmp_header(icookie, rcookie, next_payload, exchange, flags, msgid, length):
    return (icookie + rcookie + struct.pack("!BBBBII", next_payload, 0x10, exchange, flags,
                                            msgid, length))


def attr_tv(atype, value):
    return struct.pack("!HH", 0x8000 | atype, value)


def attr_tlv(atype, value):
    return struct.pack("!HHI", atype, 4, value)


def mm1_payload(icookie):
    """Main Mode message 1 (RFC 2409 5, RFC 2408 3.4-3.6): HDR, SA with one
    proposal (ISAKMP, no SPI) and one transform KEY_IKE with the RFC 2409
    appendix A attributes: encryption AES-CBC (7), key length 128, hash
    SHA2-256 (4), authentication pre-shared key (1), group 14, life type
    seconds (1), life duration 86400 (a 4-byte variable attribute)."""
    attrs = (attr_tv(1, 7) + attr_tv(14, 128) + attr_tv(2, 4) + attr_tv(3, 1) +
             attr_tv(4, 14) + attr_tv(11, 1) + attr_tlv(12, 86400))
    transform = struct.pack("!BBH", 0, 0, 4 + 4 + len(attrs)) + struct.pack("!BBH", 1, 1, 0) + attrs
    proposal = (struct.pack("!BBH", 0, 0, 4 + 4 + len(transform)) +
                struct.pack("!BBBB", 1, 1, 0, 1) + transform)
    sa = struct.pack("!BBH", 0, 0, 4 + 8 + len(proposal)) + struct.pack("!II", 1, 1) + proposal
    length = ISAKMP_HDR_LEN + len(sa)
    return isakmp_header(icookie, b"\0" * 8, 1, 2, 0, 0, length) + sa


# ---- sending -----------------------------------------------------------------

class Sender:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.sock.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.sent = 0
        self.errors = 0
        self.bytes = 0

    def send(self, src, dst, sport, dport, payload):
        pkt = ipv4_udp(src, dst, sport, dport, payload, ident=self.sent)
        try:
            self.sock.sendto(pkt, (dst, 0))
            self.sent += 1
            self.bytes += len(payload)
        except OSError:
            self.errors += 1  # e.g. ENOBUFS under a flood: counted, not fatal


class Pacer:
    """Spreads n sends evenly over `seconds` (0: no pacing)."""

    def __init__(self, n, seconds):
        self.t0 = time.monotonic()
        self.step = seconds / n if seconds and n else 0.0

    def wait(self, i):
        if self.step:
            delay = self.t0 + i * self.step - time.monotonic()
            if delay > 0:
                time.sleep(delay)


_summary = {}


def _done(*_):
    _summary["interrupted"] = True
    print(json.dumps(_summary), flush=True)
    os._exit(0)


def cmd_send(args, tx):
    payloads = [bytes.fromhex(h) for h in args.hex]
    count = args.count or len(payloads)
    _summary.update(command="send", planned=count)
    for i in range(count):
        if i and args.interval:
            time.sleep(args.interval)
        tx.send(args.src, args.dst, args.sport, args.dport, payloads[i % len(payloads)])
        _summary.update(sent=tx.sent, errors=tx.errors,
                        last_at=time.time())


def cmd_flood_mm1(args, tx):
    net = ipaddress.ip_network(args.net)
    rnd = random.Random(args.seed)
    first, size = int(net.network_address), net.num_addresses
    pace = Pacer(args.count, args.seconds)
    _summary.update(command="flood-mm1", planned=args.count)
    t0 = time.monotonic()
    sources = set()
    for i in range(args.count):
        pace.wait(i)
        src = str(ipaddress.ip_address(first + rnd.randrange(1, size - 1)))
        sources.add(src)
        payload = mm1_payload(rnd.randbytes(8))
        tx.send(src, args.dst, rnd.randrange(1024, 65536), args.dport,
                NON_ESP_MARKER + payload if args.dport == 4500 else payload)
    _summary.update(sent=tx.sent, errors=tx.errors, sources=len(sources),
                    seconds=round(time.monotonic() - t0, 3), mm1_len=len(payload))


EXCHANGES = (2, 5, 32, 4, 6, 34)


def random_datagram(rnd, icookie, rcookie, dport):
    """(kind, payload) for one datagram of the random flood."""
    if dport == 4500:
        kind = rnd.choice(("bytes", "isakmp", "isakmp-nomarker", "esp"))
    else:
        kind = rnd.choice(("bytes", "isakmp"))
    if kind == "bytes":
        return kind, rnd.randbytes(rnd.randint(1, 600))
    if kind == "esp":
        # no marker: the agent takes it for ESP (RFC 3948 2.2); random SPI
        spi = rnd.randrange(1, 1 << 32)
        return kind, struct.pack("!II", spi, rnd.randrange(1 << 32)) + rnd.randbytes(
            rnd.randint(8, 400))
    # An ISAKMP message with the SA's cookies and the length field right.
    # Half of the bodies are whole cipher blocks (they decrypt, if only to
    # garbage); next payload 0, HASH or anything.
    if rnd.random() < 0.5:
        body = rnd.randbytes(16 * rnd.randint(1, 20))
    else:
        body = rnd.randbytes(rnd.randint(0, 400))
    flags = rnd.choice((0x01, 0x00, rnd.randrange(256)))
    msgid = rnd.choice((0, rnd.randrange(1 << 32)))
    nxt = rnd.choice((0, 8, 1, 11, rnd.randrange(256)))
    msg = isakmp_header(icookie, rcookie, nxt, rnd.choice(EXCHANGES), flags, msgid,
                        ISAKMP_HDR_LEN + len(body)) + body
    if dport == 4500 and kind == "isakmp":
        msg = NON_ESP_MARKER + msg
    return kind, msg


def cmd_random(args, tx):
    icookie, rcookie = (bytes.fromhex(c) for c in args.cookies.split(":"))
    ports = [int(p) for p in args.ports.split(",")]
    rnd = random.Random(args.seed)
    pace = Pacer(args.count, args.seconds)
    kinds = {}
    _summary.update(command="random", planned=args.count, kinds=kinds)
    t0 = time.monotonic()
    for i in range(args.count):
        pace.wait(i)
        dport = rnd.choice(ports)
        kind, payload = random_datagram(rnd, icookie, rcookie, dport)
        key = "%d/%s" % (dport, kind)
        kinds[key] = kinds.get(key, 0) + 1
        tx.send(args.src, args.dst, rnd.randrange(1024, 65536), dport, payload)
        if i % 256 == 0:
            _summary.update(sent=tx.sent, errors=tx.errors)
    _summary.update(sent=tx.sent, errors=tx.errors, seconds=round(time.monotonic() - t0, 3))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("send")
    s.add_argument("--src", required=True)
    s.add_argument("--sport", type=int, required=True)
    s.add_argument("--dst", required=True)
    s.add_argument("--dport", type=int, required=True)
    s.add_argument("--hex", action="append", required=True)
    s.add_argument("--count", type=int, default=0)
    s.add_argument("--interval", type=float, default=0.0)

    f = sub.add_parser("flood-mm1")
    f.add_argument("--net", required=True)
    f.add_argument("--dst", required=True)
    f.add_argument("--dport", type=int, default=500)
    f.add_argument("--count", type=int, required=True)
    f.add_argument("--seconds", type=float, default=0.0)
    f.add_argument("--seed", type=int, default=None)

    r = sub.add_parser("random")
    r.add_argument("--src", required=True)
    r.add_argument("--dst", required=True)
    r.add_argument("--cookies", required=True, help="ICOOKIE:RCOOKIE, 16 hex digits each")
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--ports", default="500,4500")
    r.add_argument("--seed", type=int, default=None)

    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, _done)
    tx = Sender()
    {"send": cmd_send, "flood-mm1": cmd_flood_mm1, "random": cmd_random}[args.cmd](args, tx)
    print(json.dumps(_summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
