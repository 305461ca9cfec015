#!/usr/bin/python3
"""Known answers for tests/unit/test_ike_crypto.c, from a second
implementation of the IKEv1 key schedule (RFC 2409 5, 5.5, 5.7, Appendix B;
RFC 3947 NAT-D) on the Python standard library (hmac, hashlib, pow). DH:
the MODP primes from their defining formula (pi), g^x and g^xy with pow(),
ECDH P-256 with python3-cryptography when it is installed; for each group
also values that start with a zero byte (fixed width on the wire).

Prints the C block pasted between the "generated" markers of the test:
    /usr/bin/python3 tests/vectors/ike_crypto_gen.py
With --sig, the answers for Main Mode with signatures (RFC 2409 5.1,
RFC 4754) as the header the test includes, on the same fixed inputs:
    /usr/bin/python3 tests/vectors/ike_crypto_gen.py --sig > tests/vectors/ike_sig_kats.h
SKEYID = prf(Ni_b | Nr_b, g^xy) and its children, HASH_I/HASH_R; an RSA-2048
key made from fixed seeds (primes by Miller-Rabin) and its PKCS#1 v1.5
type 1 signatures of the bare hashes (no DigestInfo, as IKEv1 signs), with
pow(); a P-256 key from a fixed scalar and ECDSA signatures r | s of the
hashes used as the digest, with a deterministic nonce (curve arithmetic
here, in integers). Both keys are written as PEM (DER by hand). When
python3-cryptography is installed it checks the keys and signatures too.
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


# ---- Main Mode with signatures (--sig) -----------------------------------
def p1_keys_sig(hf, klen):
    """RFC 2409 5.1: SKEYID = prf(Ni_b | Nr_b, g^xy); the rest as with PSK."""
    skeyid = prf(hf, NI + NR, GXY)
    d = prf(hf, skeyid, GXY, CKY_I, CKY_R, b"\x00")
    a = prf(hf, skeyid, d, GXY, CKY_I, CKY_R, b"\x01")
    e = prf(hf, skeyid, a, GXY, CKY_I, CKY_R, b"\x02")
    if len(e) >= klen:
        enc = e[:klen]
    else:
        k = prf(hf, e, b"\x00")
        enc = k
        while len(enc) < klen:
            k = prf(hf, e, k)
            enc += k
        enc = enc[:klen]
    return skeyid, d, a, e, enc


def hashes_sig(hf):
    skeyid = p1_keys_sig(hf, 16)[0]
    return (prf(hf, skeyid, GXI, GXR, CKY_I, CKY_R, SAI_B, IDII_B),
            prf(hf, skeyid, GXR, GXI, CKY_R, CKY_I, SAI_B, IDIR_B))


def expand(seed, nbytes):
    """nbytes from SHA-256 in counter mode over seed."""
    out, i = b"", 0
    while len(out) < nbytes:
        out += hashlib.sha256(seed + struct.pack(">I", i)).digest()
        i += 1
    return out[:nbytes]


SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def probable_prime(n):
    if any(n % p == 0 for p in SMALL_PRIMES):
        return n in SMALL_PRIMES
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in SMALL_PRIMES[:40]:             # fixed bases: the same key every run
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def fixed_prime(seed, bits, e):
    i = 0
    while True:
        c = int.from_bytes(expand(seed + b"%d" % i, bits // 8), "big")
        c |= (3 << (bits - 2)) | 1          # two top bits: n has all 2 * bits
        if probable_prime(c) and (c - 1) % e != 0:
            return c
        i += 1


RSA_E = 65537


def rsa_key():
    p = fixed_prime(b"ike-kat-rsa-p", 1024, RSA_E)
    q = fixed_prime(b"ike-kat-rsa-q", 1024, RSA_E)
    if p < q:
        p, q = q, p
    n = p * q
    lam = (p - 1) * (q - 1) // gcd(p - 1, q - 1)
    d = pow(RSA_E, -1, lam)
    assert n.bit_length() == 2048
    return n, RSA_E, d, p, q


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a


SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def rsa_sign(key, h):
    """EMSA-PKCS1-v1_5 type 1 of the bare hash: 00 01 FF..FF 00 | h."""
    n, e, d, _, _ = key
    k = (n.bit_length() + 7) // 8
    em = b"\x00\x01" + b"\xff" * (k - 3 - len(h)) + b"\x00" + h
    s = pow(int.from_bytes(em, "big"), d, n)
    assert pow(s, e, n) == int.from_bytes(em, "big")
    return s.to_bytes(k, "big")


# P-256 (FIPS 186-4 D.1.2.3)
P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
P256_A = P256_P - 3
P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
P256_G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
          0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def ec_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P256_P == 0:
        return None
    if a == b:
        m = (3 * a[0] * a[0] + P256_A) * pow(2 * a[1], -1, P256_P)
    else:
        m = (b[1] - a[1]) * pow(b[0] - a[0], -1, P256_P)
    x = (m * m - a[0] - b[0]) % P256_P
    return x, (m * (a[0] - x) - a[1]) % P256_P


def ec_mul(k, pt):
    r = None
    while k:
        if k & 1:
            r = ec_add(r, pt)
        pt = ec_add(pt, pt)
        k >>= 1
    return r


EC_D = int.from_bytes(pattern(32, 0x3C), "big") % P256_N


def digest_int(h):
    """The hash as ECDSA's digest (leftmost bits of the order's length)."""
    z = int.from_bytes(h, "big")
    if len(h) * 8 > 256:
        z >>= len(h) * 8 - 256
    return z


def ecdsa_sign(d, h, want=lambda r, s: True):
    """r | s, 32 bytes each; the nonce from HMAC over the key and hash
    (deterministic, so the file is the same each time), the first one
    whose signature `want` takes."""
    z, i = digest_int(h), 0
    while True:
        k = int.from_bytes(hmac.new(d.to_bytes(32, "big"), b"ike-kat-ecdsa" + h +
                                    struct.pack(">I", i), hashlib.sha256).digest(), "big") % P256_N
        i += 1
        if k == 0:
            continue
        r = ec_mul(k, P256_G)[0] % P256_N
        s = pow(k, -1, P256_N) * (z + r * d) % P256_N
        if r and s and want(r, s):
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def ecdsa_verify(q, h, sig):
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < P256_N and 0 < s < P256_N):
        return False
    w = pow(s, -1, P256_N)
    x = ec_add(ec_mul(digest_int(h) * w % P256_N, P256_G), ec_mul(r * w % P256_N, q))
    return x is not None and x[0] % P256_N == r


def der(tag, body):
    n = len(body)
    ln = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + \
        n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag]) + ln + body


def der_int(v):
    return der(0x02, v.to_bytes(v.bit_length() // 8 + 1, "big"))


def pem(label, body):
    import base64
    b = base64.b64encode(body).decode()
    return "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, "\n".join(b[i:i + 64] for i in range(0, len(b), 64)), label)


def rsa_pem(key):
    """PKCS#1 RSAPrivateKey (RFC 8017 A.1.2)."""
    n, e, d, p, q = key
    return pem("RSA PRIVATE KEY", der(0x30, b"".join(der_int(v) for v in (
        0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)))))


def ec_pem(d, q):
    """SEC 1 ECPrivateKey (RFC 5915) on prime256v1."""
    oid = bytes.fromhex("06082a8648ce3d030107")
    point = b"\x04" + q[0].to_bytes(32, "big") + q[1].to_bytes(32, "big")
    return pem("EC PRIVATE KEY", der(0x30, der_int(1) + der(0x04, d.to_bytes(32, "big")) +
                                     der(0xA0, oid) + der(0xA1, der(0x03, b"\x00" + point))))


def cross_check(rsa, rsa_key_pem, ec_q, ec_key_pem, sigs, digest_info):
    """The same answers from python3-cryptography (OpenSSL underneath)."""
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    except ImportError:
        sys.stderr.write("python3-cryptography missing: vectors not cross-checked\n")
        return
    k = serialization.load_pem_private_key(rsa_key_pem.encode(), None)
    kn = k.private_numbers()
    assert (kn.public_numbers.n, kn.public_numbers.e, kn.p, kn.q) == (rsa[0], rsa[1], rsa[3], rsa[4])
    e = serialization.load_pem_private_key(ec_key_pem.encode(), None)
    assert e.private_numbers().private_value == EC_D
    assert (e.public_key().public_numbers().x, e.public_key().public_numbers().y) == ec_q
    for h, rsa_sig, ec_sig in sigs:
        assert k.public_key().recover_data_from_signature(rsa_sig, padding.PKCS1v15(), None) == h
        md = hashes.SHA1() if len(h) == 20 else hashes.SHA256()
        e.public_key().verify(utils.encode_dss_signature(int.from_bytes(ec_sig[:32], "big"),
                                                         int.from_bytes(ec_sig[32:], "big")),
                              h, ec.ECDSA(utils.Prehashed(md)))
    k.public_key().verify(digest_info[1], digest_info[0], padding.PKCS1v15(),
                          utils.Prehashed(hashes.SHA256()))


def c_string(text, indent="\t"):
    return "\n".join('%s"%s\\n"' % (indent, line) for line in text.splitlines())


def main_sig():
    out = sys.stdout
    rsa = rsa_key()
    ec_q = ec_mul(EC_D, P256_G)
    rsa_key_pem, ec_key_pem = rsa_pem(rsa), ec_pem(EC_D, ec_q)
    checks = []
    out.write("/*\n * Generated by tests/vectors/ike_crypto_gen.py --sig: do not edit.\n"
              " * Main Mode with signatures for tests/unit/test_ike_crypto.c, which\n"
              " * defines struct p1_kat and struct sig_kat and builds the same inputs.\n */\n")
    out.write("static const char sig_rsa_key[] =\n%s;\n\n" % c_string(rsa_key_pem))
    out.write("static const char sig_ec_key[] =\n%s;\n\n" % c_string(ec_key_pem))
    out.write("/* SKEYID = prf(Ni_b | Nr_b, g^xy) */\n")
    out.write("static const struct p1_kat sig_p1_kats[] = {\n")
    for name, hf in HASHES:
        for klen in KEY_LENS:
            out.write("\t{ %s, %d,\n" % (name, klen))
            for v in p1_keys_sig(hf, klen):
                out.write("\t\t%s,\n" % c_hex(v))
            out.write("\t},\n")
    out.write("};\n\n")
    out.write("/* HASH_I, HASH_R; RSA signatures of each; ECDSA r | s of each */\n")
    out.write("static const struct sig_kat sig_kats[] = {\n")
    for name, hf in HASHES:
        out.write("\t{ %s,\n" % name)
        hi, hr = hashes_sig(hf)
        vals = [hi, hr, rsa_sign(rsa, hi), rsa_sign(rsa, hr),
                ecdsa_sign(EC_D, hi), ecdsa_sign(EC_D, hr)]
        assert ecdsa_verify(ec_q, hi, vals[4]) and ecdsa_verify(ec_q, hr, vals[5])
        assert not ecdsa_verify(ec_q, hr, vals[4])
        checks += [(hi, vals[2], vals[4]), (hr, vals[3], vals[5])]
        for v in vals:
            out.write("\t\t%s,\n" % c_hex(v))
        out.write("\t},\n")
    out.write("};\n\n")
    # Fixed width on the wire: a signature that starts with a zero byte.
    i = 0
    while True:
        h = hashlib.sha256(b"ike-kat-rsa-zero-%d" % i).digest()
        rs = rsa_sign(rsa, h)
        if rs[0] == 0:
            break
        i += 1
    es = ecdsa_sign(EC_D, h, lambda r, s: r < 2**248)
    assert ecdsa_verify(ec_q, h, es) and es[0] == 0
    checks.append((h, rs, es))
    # What IKEv1 does not sign: the hash in a DigestInfo (PKCS#1 v1.5 as in
    # X.509 and IKEv2). Verified as a signature, it must be refused.
    hi = hashes_sig(hashlib.sha256)[0]
    di = rsa_sign(rsa, SHA256_DIGEST_INFO + hi)
    out.write("/* SHA-256 HASH_I signed in a DigestInfo, as IKEv1 does not. */\n")
    out.write("static const char *const sig_digest_info =\n\t%s;\n\n" % c_hex(di, "\t"))
    out.write("/* A hash whose RSA signature and ECDSA r start with a zero byte. */\n")
    out.write("static const char *const sig_zero[3] = {\n")
    for v in (h, rs, es):
        out.write("\t%s,\n" % c_hex(v, "\t"))
    out.write("};\n")
    cross_check(rsa, rsa_key_pem, ec_q, ec_key_pem, checks, (hi, di))


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
    if sys.argv[1:] == ["--sig"]:
        main_sig()
    else:
        main()
