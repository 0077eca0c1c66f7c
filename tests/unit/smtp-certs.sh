#!/bin/sh
# smtp-certs.sh OUTDIR — the certificates test_smtp_probe serves, made
# fresh with openssl for each run (nothing secret is kept in the tree):
#
#   ca.pem            the test CA (the probe's ca_file)
#   other-ca.pem      a CA the probe does not trust
#   good.pem/.key     mx.example.test, *.wild.example.test, and two names
#                     whose wildcard is not a whole leftmost label
#   good-chain.pem    good.pem then ca.pem (for DANE-TA: the anchor is sent)
#   expired-chain.pem expired.pem then ca.pem
#   otherca-impostor.pem  otherca.pem then impostor.pem, a CA with the name
#                     and key identifier of other-ca but another key (GnuTLS,
#                     serving, drops a CA that does not look like the
#                     leaf's issuer)
#   expired.pem/.key  mx.example.test, valid 2020-01-01 to 2021-01-01
#   wrongname.pem/.key  other.example.test only
#   otherca.pem/.key  mx.example.test, issued by other-ca
#   cnonly.pem/.key   CN=mx.example.test and no subjectAltName
#
# and, computed by openssl (not by the code under test), the TLSA data:
#   good.spki.sha256, good.spki.sha512, good.cert.sha256, good.cert.hex
#   (the whole DER), expired.spki.sha256, wrongname.spki.sha256,
#   ca.cert.sha256, ca.spki.sha256, other-ca.cert.sha256,
#   impostor.cert.sha256 (all hex)
#
# Leaves are issued by `openssl ca`, which takes -startdate/-enddate (the
# openssl 3.0 of Debian 12 has no x509 -not_before/-not_after), so every
# date is fixed: good.pem expires 2040-01-01T00:00:00Z.
set -eu
out=$1
mkdir -p "$out"
cd "$out"

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" \
		2>/dev/null
}

ca() {	# name subject [subject key identifier]
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -subj "$2" -days 7300 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=${3:-hash}" \
		-out "$1.pem" 2>/dev/null
	mkdir -p "$1.db/new"
	: >"$1.db/index.txt"
	echo 1000 >"$1.db/serial"
	cat >"$1.db/ca.cnf" <<EOF
[ca]
default_ca = this
[this]
database = $out/$1.db/index.txt
new_certs_dir = $out/$1.db/new
serial = $out/$1.db/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = \${ENV::SAN}
[leaf_nosan]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
EOF
}

leaf() {	# name ca cn san|- start end
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
	ext=leaf
	[ "$4" = - ] && ext=leaf_nosan
	SAN=$4 openssl ca -batch -notext -config "$2.db/ca.cnf" -cert "$2.pem" \
		-keyfile "$2.key" -extensions "$ext" -startdate "$5" -enddate "$6" \
		-in "$1.csr" -out "$1.pem" 2>/dev/null
	rm -f "$1.csr"
}

hex() {	# digest, of DER on stdin
	openssl dgst "-$1" -r | cut -d' ' -f1
}
spki() {
	openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform DER
}
cert() {
	openssl x509 -in "$1" -outform DER
}

ca ca "/CN=mxdigest test CA"
ca other-ca "/CN=mxdigest other CA"
ca impostor "/CN=mxdigest other CA" "$(openssl x509 -in other-ca.pem -noout \
	-ext subjectKeyIdentifier | tail -n 1 | tr -d ' ')"
now=20240101000000Z
leaf good ca mx.example.test \
	"DNS:mx.example.test,DNS:*.wild.example.test,DNS:mx.*.mid.example.test,DNS:*x.part.example.test" \
	$now 20400101000000Z
leaf expired ca mx.example.test DNS:mx.example.test 20200101000000Z 20210101000000Z
leaf wrongname ca other.example.test DNS:other.example.test $now 20400101000000Z
leaf otherca other-ca mx.example.test DNS:mx.example.test $now 20400101000000Z
leaf cnonly ca mx.example.test - $now 20400101000000Z
cat good.pem ca.pem >good-chain.pem
cat expired.pem ca.pem >expired-chain.pem
cat otherca.pem impostor.pem >otherca-impostor.pem

spki good.pem | hex sha256 >good.spki.sha256
spki good.pem | hex sha512 >good.spki.sha512
cert good.pem | hex sha256 >good.cert.sha256
cert good.pem | od -An -v -tx1 | tr -d ' \n' >good.cert.hex
spki expired.pem | hex sha256 >expired.spki.sha256
cert ca.pem | hex sha256 >ca.cert.sha256
spki ca.pem | hex sha256 >ca.spki.sha256
spki wrongname.pem | hex sha256 >wrongname.spki.sha256
cert other-ca.pem | hex sha256 >other-ca.cert.sha256
cert impostor.pem | hex sha256 >impostor.cert.sha256
