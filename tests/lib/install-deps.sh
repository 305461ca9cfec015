#!/bin/sh
# Installs the Debian packages the build, the tests and the demo need.
# Idempotent and quick when everything is present (one dpkg query).
set -eu

PKGS="gcc make pkg-config clang libclang-rt-14-dev openssl python3 iproute2 procps curl
libgrpc-dev libprotobuf-c-dev protobuf-c-compiler libssl-dev libcurl4-openssl-dev
libevent-dev libjansson-dev libcmocka-dev prometheus systemd man-db
strongswan-charon strongswan-swanctl libcharon-extra-plugins libcharon-extauth-plugins
libstrongswan-standard-plugins
tshark iputils-ping iperf3 nftables bird2 python3-scapy"
# strongSwan interop peer (tests/lib/strongswan.py): strongswan-charon ships
# /usr/lib/ipsec/charon (it pulls strongswan-starter, which the tests do not
# use), libcharon-extra-plugins the kernel-libipsec plugin (userspace ESP, the
# kernel has no esp4), libstrongswan-standard-plugins the openssl plugin (ECP
# groups), libcharon-extauth-plugins xauth-generic (the remote-access clients' XAUTH).
# tshark brings dumpcap (wireshark-common); ping is iputils-ping. nftables: the
# NAT in front of remote-access clients (masquerade).
# test_install.py: systemd-analyze (package systemd; container images lack
# it) and man (man-db, which pulls groff-base).

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
# wireshark-common asks whether non-root users may capture: answer no up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections
$SUDO apt-get update -qq
# Packages such as strongswan-starter would start a daemon in the root
# namespace; tests run their own charon. Forbid service starts while
# installing unless the machine already has a policy.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod 755 /usr/sbin/policy-rc.d
	made_policy=1
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
