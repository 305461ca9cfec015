#!/bin/sh
# make bench: telemetry encoding, IKE handshakes (pre-shared key, RSA 2048
# and ECDSA P-256 signatures) against the key-exchange (+ signature) bound,
# DH cost against OpenSSL's default validation, DPD at scale.
set -eu
cd "$(dirname "$0")/.."
B=${BUILD:-build}
echo "== metrics encoding (in-process, $(nproc) cores, $(uname -m))"
"$B/bench/bench_metrics" 100000 5
echo
echo "== IKE handshakes agent <-> agent over UDP on loopback, one core each"
"$B/bench/bench_ike_loopback" 3
echo
echo "== IKE handshakes, both engines on one core (no I/O: the protocol cost alone),"
echo "   pre-shared key, rsa-sig (RSA 2048) and ecdsa-sig (P-256)"
"$B/bench/bench_ike" 2
echo
echo "== remote-access client connections (MM + XAUTH + Mode Config + QM), both ends on one core"
"$B/bench/bench_remote" 2
echo
echo "== openssl speed, same run (derive only, peer set once)"
openssl speed -seconds 2 ffdh2048 ecdhp256 2>/dev/null | grep -E '^ *[0-9]+ bits|op/s|ffdh|ecdh' | tail -4
echo
echo "== DH: keygen + derive with our range/point check vs OpenSSL's default full check"
"$B/bench/bench_dh"
echo
echo "== (a) openssl speed -evp, 1400-byte blocks, one core"
openssl speed -seconds 2 -bytes 1400 -evp aes-128-gcm 2>/dev/null | tail -1
openssl speed -seconds 2 -bytes 1400 -evp aes-128-cbc 2>/dev/null | tail -1
openssl speed -seconds 2 -bytes 1400 -hmac sha256 2>/dev/null | tail -1
echo
echo "== (b) ESP per packet, 1400 B, one core, no I/O, beside the same EVP work in-process"
"$B/bench/bench_esp" 2
echo
echo "== DPD at scale (periodic, keepalive 10 s, simulated clock)"
"$B/bench/bench_dpd"
echo
echo "== (c) two agents (ESP-in-UDP, and plain ESP), (d) two strongSwan kernel-libipsec"
echo "   charons, (e) a no-crypto TUN<->UDP relay (plain, with UDP GSO/GRO, and with TUN"
echo "   offloads too, as the agent uses): the same two-site topology, iperf3 through it (root)"
BIN_DIR=$B python3 bench/throughput.py --time 5 --bin-dir "$B" relay relay-gso relay-offload agent agent-plain strongswan
