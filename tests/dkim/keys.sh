#!/usr/bin/env bash
# keys.sh [OPTIONS] OUTDIR SELECTOR DOMAIN [rsa|ed25519] — a DKIM key pair and its DNS record.
#
# Writes
#   OUTDIR/SELECTOR.DOMAIN.key    the private key, PEM (PKCS#8), mode 0600; tests/dkim/sign.py reads
#                                 it for both algorithms
#   OUTDIR/SELECTOR.DOMAIN.zone   one zone-file line:
#                                 SELECTOR._domainkey.DOMAIN. 300 IN TXT "v=DKIM1; k=...; p=..." "..."
#                                 (the record split into character-strings of at most 255 bytes)
#   OUTDIR/SELECTOR.DOMAIN.txt    one line "SELECTOR._domainkey.DOMAIN v=DKIM1; ..." (the record
#                                 unsplit: libopendkim's DKIM_QUERY_FILE format)
# and prints nothing.  rsa (default): 2048 bits, p= is the SubjectPublicKeyInfo (DER, base64).
# ed25519: p= is the raw 32-byte public key in base64 (RFC 8463), not its SubjectPublicKeyInfo.
#
# Options:
#   -s, --service LIST  add s=LIST (tlsrpt, email, *, or a colon list such as email:tlsrpt)
#   --revoked           publish p= empty (a revoked key, RFC 6376 3.6.1); the private key is still
#                       written, so a mail can be signed with it
#   --new               make a new key even if OUTDIR/SELECTOR.DOMAIN.key exists (by default an
#                       existing key is kept: publish it again, e.g. revoked, for rotation tests)
#   --bits N            RSA modulus size (2048)
#   --ttl N             TTL of the record (300)
#   --flags T           add t=T (y = testing, s = strict i= matching)
set -eu
set -o pipefail

say() { printf 'keys.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}
usage() {
	sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

service="" revoked=0 new=0 bits=2048 ttl=300 flags=""
while [ $# -gt 0 ]; do
	case $1 in
	-s | --service) [ $# -ge 2 ] || usage; service=$2; shift 2 ;;
	--service=*) service=${1#*=}; shift ;;
	--revoked) revoked=1; shift ;;
	--new) new=1; shift ;;
	--bits) [ $# -ge 2 ] || usage; bits=$2; shift 2 ;;
	--ttl) [ $# -ge 2 ] || usage; ttl=$2; shift 2 ;;
	--flags) [ $# -ge 2 ] || usage; flags=$2; shift 2 ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) say "unknown option $1"; usage ;;
	*) break ;;
	esac
done
[ $# = 3 ] || [ $# = 4 ] || usage
out=$1 sel=$2 dom=${3%.} alg=${4:-rsa}
case $alg in rsa | ed25519) ;; *) die "algorithm must be rsa or ed25519, not $alg" ;; esac
case $sel in "" | *[!A-Za-z0-9._-]*) die "bad selector: $sel" ;; esac
case $dom in "" | *[!A-Za-z0-9.-]*) die "bad domain: $dom" ;; esac
case $service in *[!A-Za-z0-9:*]*) die "bad service list: $service" ;; esac
case $bits in *[!0-9]* | "") die "bad --bits: $bits" ;; esac
case $ttl in *[!0-9]* | "") die "bad --ttl: $ttl" ;; esac
case $flags in *[!a-z:]*) die "bad --flags: $flags" ;; esac
command -v openssl >/dev/null 2>&1 || die "openssl not found (Debian package openssl)"

mkdir -p "$out"
key="$out/$sel.$dom.key"
if [ $new = 1 ] || [ ! -s "$key" ]; then
	rm -f "$key.tmp"
	(
		umask 077
		if [ "$alg" = rsa ]; then
			openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$key.tmp"
		else
			openssl genpkey -algorithm ED25519 -out "$key.tmp"
		fi
	) 2>"$out/.keys.err" || { cat "$out/.keys.err" >&2; rm -f "$out/.keys.err"; die "openssl genpkey failed"; }
	rm -f "$out/.keys.err"
	mv "$key.tmp" "$key"
fi
# The type of the key on disk decides (a kept key may not be what was asked for): look at the
# algorithm OID in its SubjectPublicKeyInfo.
der=$(openssl pkey -in "$key" -pubout -outform DER 2>/dev/null | od -An -v -tx1 | tr -d ' \n') ||
	die "$key is not a private key"
case $der in
*2a864886f70d010101*) ktype=rsa ;;
302a300506032b6570032100*) ktype=ed25519 ;;
*) die "$key: neither an RSA nor an Ed25519 key" ;;
esac
[ "$ktype" = "$alg" ] || die "$key is an $ktype key, not $alg (use --new)"

if [ $revoked = 1 ]; then
	p=""
elif [ "$alg" = rsa ]; then
	p=$(openssl pkey -in "$key" -pubout -outform DER | base64 -w0)
else
	# The SubjectPublicKeyInfo of an Ed25519 key is 44 bytes: a 12-byte header, then the raw key,
	# which is what k=ed25519 publishes.
	[ ${#der} = 88 ] || die "unexpected Ed25519 public key encoding: $der"
	p=$(openssl pkey -in "$key" -pubout -outform DER | tail -c 32 | base64 -w0)
fi

rec="v=DKIM1; k=$alg"
[ -z "$service" ] || rec="$rec; s=$service"
[ -z "$flags" ] || rec="$rec; t=$flags"
rec="$rec; p=$p"

# A TXT character-string holds at most 255 bytes; a longer record is several strings of one RR,
# which verifiers join without spaces (RFC 6376 3.6.2.2).  Never several TXT RRs.
strings=""
rest=$rec
while [ ${#rest} -gt 255 ]; do
	strings="$strings \"${rest:0:255}\""
	rest=${rest:255}
done
strings="$strings \"$rest\""
printf '%s._domainkey.%s. %s IN TXT%s\n' "$sel" "$dom" "$ttl" "$strings" >"$out/$sel.$dom.zone"
printf '%s._domainkey.%s %s\n' "$sel" "$dom" "$rec" >"$out/$sel.$dom.txt"
