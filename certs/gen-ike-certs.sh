#!/bin/sh
# Test PKI for IKE certificate authentication (SPEC R-16): a root CA, an
# intermediate CA (pathlen 0) that signs the gateways' certificates, the
# broken certificates negative tests need (expired, not yet valid, revoked,
# from an unrelated CA, for another identity) and a CRL per CA. CAs are RSA
# 3072, which every IKE peer verifies; gateway keys are P-256 or RSA, PKCS#8,
# mode 0600. Re-running reuses the CA keys, so issued certificates stay valid.
set -eu

usage() {
	cat >&2 <<'EOF'
usage: gen-ike-certs.sh OUTDIR [--gateway NAME:IP:DNS[:KEYTYPE]]...
                               [--broken-for NAME:IP:DNS[:KEYTYPE]]... [--days N]

  OUTDIR             written: ike-root.crt/.key, ike-int.crt/.key, other-ca.crt/.key,
                     ike-int.crl (lists the revoked certificates), ike-root.crl (empty)
  --gateway G        NAME.crt, NAME.key and NAME-chain.crt (leaf + intermediate),
                     subject /C=XX/O=vpn-agent test/CN=DNS, subjectAltName IP and DNS
                     (repeatable); KEYTYPE p256 (default), rsa2048 or rsa3072
  --broken-for G     for identity G: NAME-expired, NAME-notyetvalid, NAME-revoked,
                     NAME-unknownca (signed by other-ca) and NAME-wrongid (another
                     IP and DNS), each .crt, .key and -chain.crt (repeatable)
  --days N           validity of the gateway certificates (default 825)
EOF
	exit 2
}

die() {
	echo "gen-ike-certs: $*" >&2
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

# check_spec OPTION NAME:IP:DNS[:KEYTYPE]: dies unless it is one.
check_spec() {
	old_ifs=$IFS
	IFS=:
	set -f
	# shellcheck disable=SC2086
	set -- "$1" $2
	set +f
	IFS=$old_ifs
	[ $# -eq 4 ] || [ $# -eq 5 ] || die "$1: expected NAME:IP:DNS[:KEYTYPE]"
	case $2 in
	'' | *[!A-Za-z0-9_-]* | -*) die "$1: NAME is letters, digits, - and _: $2" ;;
	ike-root | ike-int | other-ca) die "$1: $2 is the name of a CA's files" ;;
	esac
	is_ipv4 "$3" || die "$1: not an IPv4 address: $3"
	case $4 in
	'' | *[!A-Za-z0-9.-]* | .* | *..*) die "$1: not a DNS name: $4" ;;
	esac
	case ${5:-p256} in
	p256 | rsa2048 | rsa3072) ;;
	*) die "$1: KEYTYPE is p256, rsa2048 or rsa3072: $5" ;;
	esac
}

[ $# -ge 1 ] || usage
case $1 in -h | --help | -*) usage ;; esac
out=$1
shift
gateways=
broken=
days=825
while [ $# -gt 0 ]; do
	case $1 in
	--gateway | --broken-for)
		[ $# -ge 2 ] || usage
		check_spec "$1" "$2"
		if [ "$1" = --gateway ]; then gateways="$gateways $2"; else broken="$broken $2"; fi
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

# Every certificate's base name once: a gateway "b1-expired" and the
# expired certificate of --broken-for b1 would overwrite each other.
names=" ike-root ike-int other-ca "
claim() {
	case $names in
	*" $1 "*) die "$1 is written twice (two gateways or broken certificates with that name)" ;;
	esac
	names="$names$1 "
}
for g in $gateways; do claim "${g%%:*}"; done
for g in $broken; do
	for kind in expired notyetvalid revoked unknownca wrongid; do
		claim "${g%%:*}-$kind"
	done
done

command -v openssl >/dev/null 2>&1 || die "openssl not found"
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-ike-certs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# One config for every openssl command: no dependence on the system's
# openssl.cnf. A leaf's subjectAltName and keyUsage go in a file of its own
# (ext_file); the "ca" sections date certificates (openssl 3.0's x509
# command cannot) and make the CRLs, one database per CA.
cat >"$tmp/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ int_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ crl_ext ]
authorityKeyIdentifier = keyid
[ ca ]
default_ca = int_ca
[ int_ca ]
database = $tmp/int/index.txt
new_certs_dir = $tmp/int
serial = $tmp/int/serial
crlnumber = $tmp/int/crlnumber
default_md = sha256
default_crl_days = 3600
crl_extensions = crl_ext
policy = policy_any
unique_subject = no
email_in_dn = no
[ root_ca ]
database = $tmp/root/index.txt
new_certs_dir = $tmp/root
serial = $tmp/root/serial
crlnumber = $tmp/root/crlnumber
default_md = sha256
default_crl_days = 3600
crl_extensions = crl_ext
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
countryName = optional
organizationName = optional
commonName = supplied
EOF
export OPENSSL_CONF="$tmp/openssl.cnf"
for db in int root; do
	mkdir "$tmp/$db"
	: >"$tmp/$db/index.txt"
	echo 01 >"$tmp/$db/crlnumber"
done

# newkey FILE KEYTYPE: a PKCS#8 key readable by its owner only.
newkey() {
	case $2 in
	p256) set -- "$1" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
	rsa2048) set -- "$1" -algorithm RSA -pkeyopt rsa_keygen_bits:2048 ;;
	rsa3072) set -- "$1" -algorithm RSA -pkeyopt rsa_keygen_bits:3072 ;;
	esac
	key=$1
	shift
	(umask 077 && openssl genpkey "$@" -out "$key" 2>/dev/null) ||
		die "key generation failed: $key"
	chmod 600 "$key"
}

subject() {
	echo "/C=XX/O=vpn-agent test/CN=$1"
}

# newroot NAME CN: a self-signed CA; reuse NAME.key/NAME.crt when both exist.
newroot() {
	if [ -f "$out/$1.key" ] && [ -f "$out/$1.crt" ]; then
		chmod 600 "$out/$1.key"
		return 1
	fi
	newkey "$out/$1.key" rsa3072
	openssl req -x509 -new -key "$out/$1.key" -subj "$(subject "$2")" -days 3650 \
		-sha256 -extensions root_ext -out "$out/$1.crt" 2>"$tmp/err" ||
		die "CA $1: $(cat "$tmp/err")"
	chmod 644 "$out/$1.crt"
	return 0
}

# newint: the intermediate, signed by ike-root; reused unless the root is new.
newint() {
	if [ "$root_state" = reused ] && [ -f "$out/ike-int.key" ] && [ -f "$out/ike-int.crt" ]; then
		chmod 600 "$out/ike-int.key"
		return 1
	fi
	newkey "$out/ike-int.key" rsa3072
	openssl req -new -key "$out/ike-int.key" -subj "$(subject "IKE Test Intermediate CA")" \
		-out "$tmp/ike-int.csr" 2>"$tmp/err" || die "CSR ike-int: $(cat "$tmp/err")"
	openssl x509 -req -in "$tmp/ike-int.csr" -CA "$out/ike-root.crt" \
		-CAkey "$out/ike-root.key" -set_serial "0x$(openssl rand -hex 16)" -days 3600 \
		-sha256 -extfile "$tmp/openssl.cnf" -extensions int_ext -out "$out/ike-int.crt" \
		2>"$tmp/err" || die "certificate ike-int: $(cat "$tmp/err")"
	chmod 644 "$out/ike-int.crt"
	return 0
}

# ext_file BASENAME IP DNS KEYTYPE: the leaf's extensions, section leaf_ext.
ext_file() {
	ku=digitalSignature
	case $4 in rsa*) ku="digitalSignature, keyEncipherment" ;; esac
	cat >"$tmp/$1.ext" <<EOF
[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $ku
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:$2, DNS:$3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

# csr BASENAME IP DNS KEYTYPE: key, CSR and extensions of a leaf.
csr() {
	newkey "$out/$1.key" "$4"
	openssl req -new -key "$out/$1.key" -subj "$(subject "$3")" -out "$tmp/$1.csr" \
		2>"$tmp/err" || die "CSR $1: $(cat "$tmp/err")"
	ext_file "$@"
}

# chain BASENAME [ISSUER]: BASENAME-chain.crt, the leaf then its issuer.
chain() {
	cat "$out/$1.crt" ${2:+"$out/$2.crt"} >"$out/$1-chain.crt"
	chmod 644 "$out/$1.crt" "$out/$1-chain.crt"
}

# leaf CA BASENAME IP DNS KEYTYPE: a certificate signed by CA.crt/CA.key.
leaf() {
	ca=$1
	shift
	csr "$@"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$out/$ca.crt" -CAkey "$out/$ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$days" -sha256 \
		-extfile "$tmp/$1.ext" -extensions leaf_ext -out "$out/$1.crt" 2>"$tmp/err" ||
		die "certificate $1: $(cat "$tmp/err")"
	if [ "$ca" = ike-int ]; then chain "$1" ike-int; else chain "$1"; fi
}

# dated START END BASENAME IP DNS KEYTYPE: signed by ike-int with the given
# validity (YYYYMMDDHHMMSSZ), through "openssl ca".
dated() {
	start=$1
	end=$2
	shift 2
	csr "$@"
	openssl rand -hex 16 >"$tmp/int/serial"
	openssl ca -batch -notext -preserveDN -name int_ca -cert "$out/ike-int.crt" \
		-keyfile "$out/ike-int.key" -in "$tmp/$1.csr" -out "$out/$1.crt" \
		-startdate "$start" -enddate "$end" -extfile "$tmp/$1.ext" \
		-extensions leaf_ext >"$tmp/err" 2>&1 ||
		die "certificate $1: $(cat "$tmp/err")"
	chain "$1" ike-int
}

# crl CA SECTION: CA.crl from its database, PEM.
crl() {
	openssl ca -gencrl -name "$2" -cert "$out/$1.crt" -keyfile "$out/$1.key" \
		-out "$out/$1.crl" >"$tmp/err" 2>&1 || die "CRL $1: $(cat "$tmp/err")"
	chmod 644 "$out/$1.crl"
}

# spec_split NAME:IP:DNS[:KEYTYPE]: sets name, ip, dns, keytype.
spec_split() {
	name=${1%%:*}
	rest=${1#*:}
	ip=${rest%%:*}
	rest=${rest#*:}
	dns=${rest%%:*}
	keytype=p256
	case $rest in *:*) keytype=${rest#*:} ;; esac
}

if newroot ike-root "IKE Test Root CA"; then root_state=new; else root_state=reused; fi
if newint; then int_state=new; else int_state=reused; fi
newroot other-ca "IKE Unrelated Test CA" || :

summary=
for g in $gateways; do
	spec_split "$g"
	leaf ike-int "$name" "$ip" "$dns" "$keytype"
	summary="$summary, $name ($keytype)"
done

# The broken ones: expired in 2020 (as gen-certs.sh's), valid from next
# year, revoked (in ike-int.crl), from other-ca, and for 192.0.2.254 and
# wrongid.invalid (192.0.2.253 when the gateway is 192.0.2.254).
year=$(date -u +%Y)
n_revoked=0
for g in $broken; do
	spec_split "$g"
	dated 20200101000000Z 20200102000000Z "$name-expired" "$ip" "$dns" "$keytype"
	dated "$((year + 1))0101000000Z" "$((year + 2))0101000000Z" "$name-notyetvalid" \
		"$ip" "$dns" "$keytype"
	leaf ike-int "$name-revoked" "$ip" "$dns" "$keytype"
	openssl ca -name int_ca -cert "$out/ike-int.crt" -keyfile "$out/ike-int.key" \
		-revoke "$out/$name-revoked.crt" -crl_reason keyCompromise >"$tmp/err" 2>&1 ||
		die "revoking $name-revoked: $(cat "$tmp/err")"
	n_revoked=$((n_revoked + 1))
	leaf other-ca "$name-unknownca" "$ip" "$dns" "$keytype"
	wrong_ip=192.0.2.254
	[ "$ip" != "$wrong_ip" ] || wrong_ip=192.0.2.253
	leaf ike-int "$name-wrongid" "$wrong_ip" wrongid.invalid "$keytype"
	summary="$summary; broken for $name: expired, notyetvalid, revoked, unknownca, wrongid"
done
crl ike-int int_ca
crl ike-root root_ca

echo "gen-ike-certs: $out: root CA $root_state, intermediate $int_state${summary:-, no certificates}; CRLs ike-int.crl ($n_revoked revoked), ike-root.crl (empty)"
