#!/bin/sh
# make bench: telemetry encoding throughput (the IKE handshake and ESP
# dataplane benchmarks join this script with their milestones).
set -eu
cd "$(dirname "$0")/.."
echo "== metrics encoding (in-process, $(nproc) cores, $(uname -m))"
build/bench/bench_metrics 100000 5
