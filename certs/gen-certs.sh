#!/bin/sh
# Test PKI for the agent and the collector-stub (SPEC R-10): a CA, the
# collector's server certificate, one client certificate per device UUID,
# and the broken variants tests need (an expired client certificate and a
# client certificate from an unrelated CA). EC P-256 keys, mode 0600.
# Re-running reuses OUTDIR/ca.key (and otherca.key), so issued certs stay valid.
set -eu

usage() {
	cat >&2 <<'EOF'
usage: gen-certs.sh OUTDIR [--device-uuid UUID]... [--san NAME]... [--days N]

  OUTDIR             written: ca.crt ca.key server.crt server.key client.crt
                     client.key, client-<uuid>.crt/.key when several UUIDs,
                     expired.crt/.key, otherca.crt/.key, otherca-client.crt/.key
  --device-uuid UUID client certificate CN (repeatable; default: reuse the CN
                     of an existing client.crt, else a new random UUID)
  --san NAME         extra server SAN, IPv4 address or DNS name (repeatable);
                     localhost and 127.0.0.1 are always present
  --days N           validity of the issued leaf certificates (default 825)
EOF
	exit 2
}

die() {
	echo "gen-certs: $*" >&2
	exit 1
}

is_ipv4() {
	case $1 in
	*[!0-9.]* | *..* | .* | *.) return 1 ;;
	esac
	old_ifs=$IFS
	IFS=.
	# shellcheck disable=SC2086
	set -- $1
	IFS=$old_ifs
	[ $# -eq 4 ] || return 1
	for octet in "$@"; do
		[ ${#octet} -le 3 ] && [ "$octet" -le 255 ] || return 1
	done
	return 0
}

is_uuid() {
	case $1 in
	[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]-[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]) return 0 ;;
	esac
	return 1
}

[ $# -ge 1 ] || usage
case $1 in -h | --help | -*) usage ;; esac
out=$1
shift
uuids=
sans=
days=825
while [ $# -gt 0 ]; do
	case $1 in
	--device-uuid)
		[ $# -ge 2 ] || usage
		is_uuid "$2" || die "--device-uuid: not a UUID: $2"
		uuids="$uuids $2"
		shift 2 ;;
	--san)
		[ $# -ge 2 ] || usage
		case $2 in
		'' | *[!A-Za-z0-9.*-]*) die "--san: not a DNS name or IPv4 address: $2" ;;
		esac
		sans="$sans $2"
		shift 2 ;;
	--days)
		[ $# -ge 2 ] || usage
		case $2 in '' | *[!0-9]*) die "--days: not a number: $2" ;; esac
		[ "$2" -ge 1 ] || die "--days: must be at least 1"
		days=$2
		shift 2 ;;
	-h | --help) usage ;;
	*) die "unknown argument: $1 (see --help)" ;;
	esac
done

command -v openssl >/dev/null 2>&1 || die "openssl not found"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -z "$uuids" ]; then
	if [ -f "$out/client.crt" ]; then
		cn=$(openssl x509 -in "$out/client.crt" -noout -subject -nameopt sep_multiline,sname 2>/dev/null |
			sed -n 's/^ *CN=//p')
		if is_uuid "${cn:-x}"; then uuids=" $cn"; fi
	fi
	if [ -z "$uuids" ]; then
		uuids=" $(cat /proc/sys/kernel/random/uuid)"
	fi
fi
first_uuid=${uuids# }
first_uuid=${first_uuid%% *}
nuuids=$(echo "$uuids" | wc -w)

san="DNS:localhost,IP:127.0.0.1"
for n in $sans; do
	if is_ipv4 "$n"; then san="$san,IP:$n"; else san="$san,DNS:$n"; fi
done

# One config for every openssl command: no dependence on the system's
# openssl.cnf, and the "ca" sections needed to backdate the expired cert.
cat >"$tmp/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca ]
default_ca = backdate_ca
[ backdate_ca ]
database = $tmp/index.txt
new_certs_dir = $tmp
serial = $tmp/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
EOF
export OPENSSL_CONF="$tmp/openssl.cnf"

# newkey FILE: a P-256 key readable by its owner only.
newkey() {
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1" 2>/dev/null) || die "key generation failed: $1"
	chmod 600 "$1"
}

# newca NAME CN: reuse NAME.key/NAME.crt when both exist.
newca() {
	if [ -f "$out/$1.key" ] && [ -f "$out/$1.crt" ]; then
		chmod 600 "$out/$1.key"
		return 1
	fi
	newkey "$out/$1.key"
	openssl req -x509 -new -key "$out/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
		-extensions ca_ext -out "$out/$1.crt" 2>"$tmp/err" ||
		die "CA $1: $(cat "$tmp/err")"
	return 0
}

# leaf CA BASENAME CN EXT: key, CSR, certificate signed by CA.crt/CA.key.
leaf() {
	newkey "$out/$2.key"
	openssl req -new -key "$out/$2.key" -subj "/CN=$3" -out "$tmp/$2.csr" 2>"$tmp/err" ||
		die "CSR $2: $(cat "$tmp/err")"
	openssl x509 -req -in "$tmp/$2.csr" -CA "$out/$1.crt" -CAkey "$out/$1.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
		-extfile "$tmp/openssl.cnf" -extensions "$4" -out "$out/$2.crt" 2>"$tmp/err" ||
		die "certificate $2: $(cat "$tmp/err")"
	chmod 644 "$out/$2.crt"
}

# expired BASENAME CN: a client certificate from ca whose validity ended in
# 2020. openssl 3.0's x509 command cannot set dates; "openssl ca" can.
expired() {
	newkey "$out/$1.key"
	openssl req -new -key "$out/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr" 2>"$tmp/err" ||
		die "CSR $1: $(cat "$tmp/err")"
	: >"$tmp/index.txt"
	openssl rand -hex 16 >"$tmp/serial"
	openssl ca -batch -notext -config "$tmp/openssl.cnf" -cert "$out/ca.crt" \
		-keyfile "$out/ca.key" -in "$tmp/$1.csr" -out "$out/$1.crt" \
		-startdate 20200101000000Z -enddate 20200102000000Z \
		-extensions client_ext >"$tmp/err" 2>&1 ||
		die "expired certificate: $(cat "$tmp/err")"
	chmod 644 "$out/$1.crt"
}

if newca ca "VPN Agent Test CA"; then ca_state=new; else ca_state=reused; fi
newca otherca "Unrelated Test CA" || :
chmod 644 "$out/ca.crt" "$out/otherca.crt"

leaf ca server "collector-stub" server_ext
for u in $uuids; do
	if [ "$nuuids" -gt 1 ]; then
		leaf ca "client-$u" "$u" client_ext
	fi
done
if [ "$nuuids" -gt 1 ]; then
	cp "$out/client-$first_uuid.crt" "$out/client.crt"
	(umask 077 && cp "$out/client-$first_uuid.key" "$out/client.key")
	chmod 600 "$out/client.key"
else
	leaf ca client "$first_uuid" client_ext
fi
expired expired "$first_uuid"
leaf otherca otherca-client "$first_uuid" client_ext

echo "gen-certs: $out: CA $ca_state, server SAN $san, client CN$(echo "$uuids" | sed 's/ /, /g; s/^,//') (+ expired, otherca-client), $days days"
