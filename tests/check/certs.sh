#!/usr/bin/env bash
# certs.sh OUTDIR — the certificates of the `mxdigest check` test servers (see README.md).
#
# Writes into OUTDIR (ECDSA P-256 keys, SHA-256 signatures):
#   ca.crt, ca.key            the test CA ("mxdigest check test CA"); MXD_CHECK_CA / ca_file
#   ca-other.crt, ca-other.key  an unrelated CA that no test trusts
#   NAME.key NAME.crt         server certificates (keyUsage digitalSignature, EKU serverAuth, SAN):
#                               good       test CA, every good host name (hosts.sh: good_cert_names)
#                               expired    test CA, notAfter yesterday (valid 30 days before that)
#                               wrongname  test CA, valid for not-this-host.test only
#                               soon       test CA, notAfter 5 days 6 hours after issue
#                               otherca    the other CA (ca-other), names in hosts.sh
#   NAME.pem                  NAME.crt followed by its CA certificate: what the servers send
#   NAME.names                the SAN host names, one per line
#   NAME.spki256              hex SHA-256 of the key's SubjectPublicKeyInfo (TLSA 3 1 1)
#   ca.cert256                hex SHA-256 of the test CA certificate, DER (TLSA 2 0 1)
# Idempotent: keys and CAs are kept; a server certificate is issued again only if it is missing,
# its names or issuer changed, or its dates no longer fit (the "soon" one when it is more than
# 3 hours old, so it always expires in 5 days and 3 to 6 hours).  A kept key keeps its TLSA hash.
# Quiet on success; on failure prints what openssl said and exits 1.
set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
say() { printf 'certs.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	[ ! -s "${LOG:-/nonexistent}" ] || cat "$LOG" >&2
	exit 1
}
[ $# = 1 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
command -v openssl >/dev/null 2>&1 || die "openssl not found"
# shellcheck source=hosts.sh
. "$HERE/hosts.sh"

mkdir -p "$1"
O=$(cd "$1" && pwd -P)
LOG="$O/certs.log"
: >"$LOG"
DB="$O/ca-db"
mkdir -p "$DB"
NOW=$(date +%s)
stamp() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }

# openssl ca (not req -x509 / x509 -req) because it is the only Debian 12 (OpenSSL 3.0) tool that
# sets arbitrary dates, past ones included: -startdate/-enddate.
cat >"$DB/ca.cnf" <<-EOF
	[ca]
	default_ca = testca
	[testca]
	database = $DB/index.txt
	serial = $DB/serial
	new_certs_dir = $DB
	default_md = sha256
	policy = anything
	unique_subject = no
	copy_extensions = none
	email_in_dn = no
	[anything]
	organizationName = optional
	commonName = supplied
	[ca_ext]
	basicConstraints = critical,CA:TRUE
	keyUsage = critical,keyCertSign,cRLSign
	subjectKeyIdentifier = hash
EOF

newkey() {
	[ ! -s "$1" ] || return 0
	(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.tmp") >>"$LOG" 2>&1 ||
		die "key generation failed"
	mv "$1.tmp" "$1"
}

sign() {
	# sign CA_NAME|-selfsign KEY SUBJECT_CN START END EXTFILE OUT
	local ca=$1 key=$2 cn=$3 start=$4 end=$5 ext=$6 out=$7 issuer
	: >"$DB/index.txt"
	rm -f "$DB"/*.pem "$DB"/index.txt.*
	openssl req -new -key "$key" -subj "/O=mxdigest tests/CN=$cn" -out "$DB/req.csr" >>"$LOG" 2>&1 ||
		die "openssl req failed for $out"
	if [ "$ca" = -selfsign ]; then
		issuer="-selfsign -keyfile $key"
	else
		issuer="-cert $O/$ca.crt -keyfile $O/$ca.key"
	fi
	# shellcheck disable=SC2086
	openssl ca -config "$DB/ca.cnf" -batch -notext -rand_serial $issuer -in "$DB/req.csr" \
		-startdate "$(stamp "$start")" -enddate "$(stamp "$end")" -extfile "$ext" -extensions ext \
		-out "$out.tmp" >>"$LOG" 2>&1 || die "openssl ca failed for $out"
	mv "$out.tmp" "$out"
	rm -f "$DB/req.csr" "$DB"/*.pem
}

# The fast path (everything kept) runs no openssl at all: NAME.spec records what was asked for
# and the dates chosen, and a certificate older than its key or its CA is issued again.
make_ca() {
	# make_ca NAME CN: a CA valid from a year ago for ten years; kept while valid for a year more.
	local n=$1 cn=$2 spec end
	newkey "$O/$n.key"
	spec="ca cn=$cn"
	if [ -s "$O/$n.crt" ] && [ -s "$O/$n.spec" ] && [ ! "$O/$n.key" -nt "$O/$n.crt" ]; then
		{ read -r s1 && read -r end; } <"$O/$n.spec" || true
		if [ "$s1" = "$spec" ] && [ "${end:-0}" -gt $((NOW + 365 * 86400)) ]; then return 0; fi
	fi
	printf '[ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n' >"$DB/$n.ext"
	end=$((NOW + 3650 * 86400))
	sign -selfsign "$O/$n.key" "$cn" $((NOW - 365 * 86400)) $end "$DB/$n.ext" "$O/$n.crt"
	printf '%s\n%s\n' "$spec" "$end" >"$O/$n.spec"
}

leaf_ok() {
	# leaf_ok NAME CA SPEC: the certificate exists, matches SPEC, is newer than its key and its
	# CA, and its dates (NAME.spec line 2: "NOTAFTER ISSUED") still fit.
	local n=$1 ca=$2 spec=$3 f="$O/$1.crt" s1 end issued
	[ -s "$f" ] && [ -s "$O/$n.pem" ] && [ -s "$O/$n.spec" ] || return 1
	[ ! "$O/$n.key" -nt "$f" ] && [ ! "$O/$ca.crt" -nt "$f" ] || return 1
	{ read -r s1 && read -r end issued; } <"$O/$n.spec" || return 1
	[ "$s1" = "$spec" ] || return 1
	case $n in
	expired) [ "$end" -lt "$NOW" ] ;;
	soon) [ $((NOW - issued)) -lt $((3 * 3600)) ] ;;
	*) [ "$end" -gt $((NOW + 30 * 86400)) ] ;;
	esac
}

make_leaf() {
	# make_leaf NAME CA START END HOSTNAME...
	local n=$1 ca=$2 start=$3 end=$4 h san="" spec
	shift 4
	for h in "$@"; do san="${san:+$san,}DNS:$h"; done
	spec="issuer=$ca names=$san"
	newkey "$O/$n.key"
	printf '%s\n' "$@" >"$O/$n.names"
	if ! leaf_ok "$n" "$ca" "$spec"; then
		{
			printf '[ext]\nbasicConstraints = critical,CA:FALSE\n'
			printf 'keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n'
			printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n'
			printf 'subjectAltName = %s\n' "$san"
		} >"$DB/$n.ext"
		sign "$ca" "$O/$n.key" "$1" "$start" "$end" "$DB/$n.ext" "$O/$n.crt"
		cat "$O/$n.crt" "$O/$ca.crt" >"$O/$n.pem.tmp"
		mv "$O/$n.pem.tmp" "$O/$n.pem"
		printf '%s\n%s %s\n' "$spec" "$end" "$NOW" >"$O/$n.spec"
	fi
	if [ ! -s "$O/$n.spki256" ] || [ "$O/$n.key" -nt "$O/$n.spki256" ]; then
		openssl pkey -in "$O/$n.key" -pubout -outform DER 2>>"$LOG" | openssl dgst -sha256 -r 2>>"$LOG" |
			cut -d' ' -f1 >"$O/$n.spki256.tmp" || die "SPKI hash of $n failed"
		mv "$O/$n.spki256.tmp" "$O/$n.spki256"
	fi
}

make_ca ca "mxdigest check test CA"
make_ca ca-other "unrelated test CA"
if [ ! -s "$O/ca.cert256" ] || [ "$O/ca.crt" -nt "$O/ca.cert256" ]; then
	openssl x509 -in "$O/ca.crt" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1 >"$O/ca.cert256.tmp"
	mv "$O/ca.cert256.tmp" "$O/ca.cert256"
fi

# shellcheck disable=SC2046,SC2086
{
	make_leaf good ca $((NOW - 3600)) $((NOW + 400 * 86400)) $(good_cert_names)
	make_leaf expired ca $((NOW - 31 * 86400)) $((NOW - 86400)) $EXPIRED_CERT_NAMES
	make_leaf wrongname ca $((NOW - 3600)) $((NOW + 400 * 86400)) $WRONGNAME_CERT_NAMES
	make_leaf soon ca $((NOW - 3600)) $((NOW + 5 * 86400 + 6 * 3600)) $SOON_CERT_NAMES
	make_leaf otherca ca-other $((NOW - 3600)) $((NOW + 400 * 86400)) $OTHERCA_CERT_NAMES
}
chmod 644 "$O"/*.crt "$O"/*.pem 2>/dev/null || true
chmod 600 "$O"/*.key
rm -f "$LOG"
