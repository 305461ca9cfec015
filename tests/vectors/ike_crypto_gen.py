#!/usr/bin/python3
"""Known answers for tests/unit/test_ike_crypto.c, from a second
implementation of the IKEv1 key schedule (RFC 2409 5, 5.5, 5.7, Appendix B;
RFC 3947 NAT-D) on the Python standard library (hmac, hashlib, pow). DH:
the MODP primes from their defining formula (pi), g^x and g^xy with pow(),
ECDH P-256 with python3-cryptography when it is installed; for each group
also values that start with a zero byte (fixed width on the wire).

Prints the C block pasted between the "generated" markers of the test:
    /usr/bin/python3 tests/vectors/ike_crypto_gen.py
The inputs are fixed; pattern() must match the C test's pattern().
"""
import hashlib
import hmac
import struct
import sys

HASHES = (("IKE_HASH_SHA1", hashlib.sha1), ("IKE_HASH_SHA256", hashlib.sha256))
KEY_LENS = (16, 32)


def pattern(n, seed):
    """The filler both sides use for long inputs: byte i = seed + 29 i."""
    return bytes((seed + 29 * i) & 0xFF for i in range(n))


# Fixed inputs (the C test builds the same ones).
PSK = b"ikev1-kat-psk"
NI = pattern(20, 0x11)
NR = pattern(32, 0x22)
CKY_I = bytes(range(1, 9))
CKY_R = bytes(range(0xF1, 0xF9))
GXY = pattern(256, 0x33)
GXI = pattern(256, 0x44)
GXR = pattern(256, 0x55)
SAI_B = pattern(40, 0x66)
IDII_B = bytes.fromhex("011101f4c0000201")   # IPV4_ADDR, UDP, 500, 192.0.2.1
IDIR_B = bytes.fromhex("011101f4c6336402")   # IPV4_ADDR, UDP, 500, 198.51.100.2
MSGID = 0x1A2B3C4D
REST1 = pattern(48, 0x77)
REST2 = pattern(52, 0x88)
PROTO = 3                                   # PROTO_IPSEC_ESP
SPI = bytes.fromhex("c0ffee01")
GQM = pattern(256, 0x99)
KEYMAT_LEN = 72
LAST_BLOCK = pattern(16, 0xAA)
NATD_IP = bytes([192, 0, 2, 1])
NATD_PORT = struct.pack(">H", 4500)


def prf(hf, key, *parts):
    return hmac.new(key, b"".join(parts), hf).digest()


def p1_keys(hf, klen):
    skeyid = prf(hf, PSK, NI, NR)
    d = prf(hf, skeyid, GXY, CKY_I, CKY_R, b"\x00")
    a = prf(hf, skeyid, d, GXY, CKY_I, CKY_R, b"\x01")
    e = prf(hf, skeyid, a, GXY, CKY_I, CKY_R, b"\x02")
    if len(e) >= klen:
        enc = e[:klen]
    else:                                   # Appendix B expansion
        k = prf(hf, e, b"\x00")
        enc = k
        while len(enc) < klen:
            k = prf(hf, e, k)
            enc += k
        enc = enc[:klen]
    return skeyid, d, a, e, enc


def keymat(hf, skeyid_d, gqm):
    seed = gqm + bytes([PROTO]) + SPI + NI + NR
    out, k = b"", b""
    while len(out) < KEYMAT_LEN:
        k = prf(hf, skeyid_d, k, seed)
        out += k
    return out[:KEYMAT_LEN]


def hash_kat(hf):
    skeyid, d, a, _, _ = p1_keys(hf, 16)
    mid = struct.pack(">I", MSGID)
    h = lambda *p: hf(b"".join(p)).digest()
    return [
        prf(hf, skeyid, GXI, GXR, CKY_I, CKY_R, SAI_B, IDII_B),      # HASH_I
        prf(hf, skeyid, GXR, GXI, CKY_R, CKY_I, SAI_B, IDIR_B),      # HASH_R
        prf(hf, a, mid, REST1),                                     # HASH(1)
        prf(hf, a, mid, NI, REST2),                                 # HASH(2)
        prf(hf, a, b"\x00", mid, NI, NR),                           # HASH(3)
        keymat(hf, d, b""),
        keymat(hf, d, GQM),
        h(CKY_I, CKY_R, NATD_IP, NATD_PORT),                        # NAT-D
        h(GXI, GXR)[:16],                                           # phase-1 IV
        h(LAST_BLOCK, mid)[:16],                                    # phase-2 IV
    ]


def c_hex(b, indent="\t\t"):
    """A C string literal of hex, split every 32 bytes."""
    h = b.hex()
    if len(h) <= 64:
        return '"%s"' % h
    return ("\n" + indent).join('"%s"' % h[i:i + 64] for i in range(0, len(h), 64))


# ---- Diffie-Hellman -------------------------------------------------------
def pi_fixed(bits):
    """floor(pi * 2^bits), Machin's formula in integers."""
    guard = 64
    one = 1 << (bits + guard)

    def atan_inv(x):
        s, t, n, sign = 0, one // x, 1, 1
        while t:
            s += sign * (t // n)
            t //= x * x
            n += 2
            sign = -sign
        return s
    return (16 * atan_inv(5) - 4 * atan_inv(239)) >> guard


def oakley_prime(bits, k):
    """RFC 2409 6.2 / RFC 3526: 2^n - 2^(n-64) - 1 + 2^64 ([2^(n-130) pi] + k)."""
    return 2**bits - 2**(bits - 64) - 1 + 2**64 * (pi_fixed(bits - 130) + k)


MODP = {2: oakley_prime(1024, 129093), 14: oakley_prime(2048, 124476)}
X_A = pattern(32, 0x5A)          # private exponents / scalars (< n for P-256)
X_B = pattern(32, 0xA5)


def modp_kat(group, xa=X_A, xb=X_B):
    p = MODP[group]
    n = (p.bit_length() + 7) // 8
    a, b = int.from_bytes(xa, "big"), int.from_bytes(xb, "big")
    ya, yb = pow(2, a, p), pow(2, b, p)
    s = pow(yb, a, p)
    assert s == pow(ya, b, p)
    return [xa, xb] + [v.to_bytes(n, "big") for v in (ya, yb, s)]


def ecp_kat(xa=X_A, xb=X_B):
    try:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives import serialization
    except ImportError:
        return None
    curve = ec.SECP256R1()
    a = ec.derive_private_key(int.from_bytes(xa, "big"), curve)
    b = ec.derive_private_key(int.from_bytes(xb, "big"), curve)
    enc = serialization.Encoding.X962
    fmt = serialization.PublicFormat.UncompressedPoint
    pa = a.public_key().public_bytes(enc, fmt)[1:]     # drop the 0x04
    pb = b.public_key().public_bytes(enc, fmt)[1:]
    s = a.exchange(ec.ECDH(), b.public_key())
    assert s == b.exchange(ec.ECDH(), a.public_key())
    return [xa, xb, pa, pb, s]


def leading_zero(kat, which):
    """kat() with X_B replaced by the first hash-derived value for which
    kat()[which] (3: B's public value, 4: the shared secret) starts with a
    zero byte, so that fixed-width output is tested deterministically."""
    i = 0
    while True:
        xb = hashlib.sha256(b"ike-kat-leading-zero-%d" % i).digest()
        v = kat(xb=xb)
        if v is None or v[which][0] == 0:
            return v
        i += 1


def dh_kats():
    out = []
    for group in (2, 14):
        kat = lambda xb, g=group: modp_kat(g, xb=xb)
        out += [(group, modp_kat(group)), (group, leading_zero(kat, 3)),
                (group, leading_zero(kat, 4))]
    out += [(19, ecp_kat()), (19, leading_zero(ecp_kat, 3)), (19, leading_zero(ecp_kat, 4))]
    return out


def main():
    # The PRF against published HMAC answers first (RFC 2202 2, RFC 4231 2).
    assert prf(hashlib.sha1, b"Jefe", b"what do ya want for nothing?").hex() == \
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    assert prf(hashlib.sha256, b"Jefe", b"what do ya want for nothing?").hex() == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    out = sys.stdout
    out.write("/* BEGIN generated by tests/vectors/ike_crypto_gen.py */\n")
    out.write("static const struct p1_kat p1_kats[] = {\n")
    for name, hf in HASHES:
        for klen in KEY_LENS:
            out.write("\t{ %s, %d,\n" % (name, klen))
            for v in p1_keys(hf, klen):
                out.write("\t\t%s,\n" % c_hex(v))
            out.write("\t},\n")
    out.write("};\n\n")
    out.write("static const struct hash_kat hash_kats[] = {\n")
    for name, hf in HASHES:
        out.write("\t{ %s,\n" % name)
        for v in hash_kat(hf):
            out.write("\t\t%s,\n" % c_hex(v))
        out.write("\t},\n")
    out.write("};\n\n")
    out.write("static const struct modp_prime modp_primes[] = {\n")
    for group, p in sorted(MODP.items()):
        out.write("\t{ %d,\n\t\t%s },\n" % (group, c_hex(p.to_bytes((p.bit_length() + 7) // 8, "big"))))
    out.write("};\n\n")
    out.write("static const struct dh_kat dh_kats[] = {\n")
    for group, vals in dh_kats():
        if vals is None:
            sys.stderr.write("python3-cryptography missing: no ECDH answer\n")
            continue
        out.write("\t{ %d,\n" % group)
        for v in vals:
            out.write("\t\t%s,\n" % c_hex(v))
        out.write("\t},\n")
    out.write("};\n")
    out.write("/* END generated */\n")


if __name__ == "__main__":
    main()
