#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need.
# Idempotent and quick when everything is present (one dpkg query).
set -eu

PKGS="gcc make pkg-config clang libclang-rt-14-dev openssl python3 iproute2 procps curl
libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev libcurl4-openssl-dev
libevent-dev libjansson-dev libcmocka-dev prometheus"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
