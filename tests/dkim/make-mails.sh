#!/usr/bin/env bash
# make-mails.sh OUTDIR — the DKIM fixtures: report mails from samples/, signed (or not) for each
# test case, the keys, the zones that publish them, and a manifest of the expected verdicts.
#
#   OUTDIR/mails/NAME.eml       the fixture mails
#   OUTDIR/mails/NAME.keys      the zone lines of the published keys that NAME's signatures name
#                               (empty when none is published)
#   OUTDIR/manifest.tsv         file, verdict, domain, dns, description (tab-separated, one header
#                               line); see README.md for what the verdicts mean
#   OUTDIR/zones/reporter.test.zone, other.test.zone, gone.test.zone   serve them with
#                               tests/dns/nsd.sh start DIR OUTDIR/zones/*.zone
#   OUTDIR/keys/                private keys (SELECTOR.DOMAIN.key) and records (.zone, .txt)
#   OUTDIR/keys.qfile           the published records in libopendkim's DKIM_QUERY_FILE format
#
# New keys every run (RSA 2048 takes a while: ~0.1-0.7 s each); t= is the time of the run, so the
# "valid" mails stay valid (none has x= except expired.eml).  Quiet on success.
# Environment: MXD_SAMPLES (the samples/ tree; default: the one of this source tree), PYTHON.
set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
SAMPLES=${MXD_SAMPLES:-$SRC/samples}
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
say() { printf 'make-mails.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	exit 1
}
[ $# = 1 ] || { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
"$PYTHON" -c 'import dkim, nacl.signing' 2>/dev/null ||
	die "$PYTHON cannot import dkim and nacl (Debian packages python3-dkim python3-nacl)"

OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd -P)
K="$OUT/keys" M="$OUT/mails" Z="$OUT/zones" B="$OUT/base"
rm -rf "$K" "$M" "$Z" "$B" "$OUT/manifest.tsv" "$OUT/keys.qfile"
mkdir -p "$K" "$M" "$Z" "$B"
chmod 700 "$K"

keys() { "$HERE/keys.sh" "$@" || die "keys.sh $* failed"; }
edit() { "$PYTHON" "$HERE/mailedit.py" "$@" || die "mailedit.py $* failed"; }

# ---- keys: SELECTOR.DOMAIN ------------------------------------------------------------------------
# Every mail that must pass has a key of its own: a verifier that asks for the wrong selector then
# fails.  The keys of the other cases are copies of rsa2048's (saves RSA key generation): a verifier
# that asked for rsa2048 instead of their selector would wrongly pass them.
keys "$K" rsa2048 reporter.test rsa                 # plain RSA, no s=
keys "$K" ed25519 reporter.test ed25519             # Ed25519 (RFC 8463)
keys -s tlsrpt "$K" tlsrpt reporter.test            # s=tlsrpt (RFC 8460 3: SHOULD)
keys -s email "$K" email reporter.test              # s=email
keys -s email:tlsrpt "$K" both reporter.test        # s=email:tlsrpt
keys "$K" gw other.test                             # the gateway / another organization
for k in fax.reporter.test revoked.reporter.test missing.reporter.test nodata.reporter.test sel.gone.test; do
	(umask 077 && cp "$K/rsa2048.reporter.test.key" "$K/$k.key")
done
keys -s fax "$K" fax reporter.test                  # a service that is not for mail: key unusable
keys "$K" revoked reporter.test                     # p= (revoked) below; signed while it was live
cp "$K/revoked.reporter.test.zone" "$K/revoked.reporter.test.live.zone"
keys --revoked "$K" revoked reporter.test
keys "$K" missing reporter.test                     # never published: NXDOMAIN
keys "$K" nodata reporter.test                      # the name exists (A record), no TXT: NODATA
keys "$K" sel gone.test                             # gone.test publishes no key at all

published="rsa2048.reporter.test ed25519.reporter.test tlsrpt.reporter.test email.reporter.test"
published="$published both.reporter.test fax.reporter.test revoked.reporter.test gw.other.test"

# ---- zones -------------------------------------------------------------------------------------------
serial=$(date -u +%Y%m%d)01
zone_head() {
	cat <<-EOF
		\$ORIGIN $1.
		\$TTL 300
		@ IN SOA ns1.$1. hostmaster.$1. $serial 3600 600 86400 300
		@ IN NS ns1.$1.
		ns1 IN A 127.0.0.1
	EOF
}
{
	zone_head reporter.test
	echo "mail IN A 127.0.0.1"
	echo "nodata._domainkey IN A 127.0.0.1"
	for k in $published; do
		case $k in *.reporter.test) cat "$K/$k.zone" ;; esac
	done
} >"$Z/reporter.test.zone"
{
	zone_head other.test
	cat "$K/gw.other.test.zone"
} >"$Z/other.test.zone"
# gone.test: the zone exists (so its names get an authoritative NXDOMAIN, not REFUSED), no keys.
zone_head gone.test >"$Z/gone.test.zone"
for k in $published; do cat "$K/$k.txt"; done >"$OUT/keys.qfile"

# ---- base mails (the samples, sent by reporter.test instead of the big providers) --------------------
g09="$SAMPLES/google/2026-11-09_example.org.eml"
g12="$SAMPLES/google/2026-11-12_example.org.eml"
g14="$SAMPLES/google/2026-11-14_example.org.eml"
g16="$SAMPLES/google/2026-11-16_example.org.eml" # CRLF line ends
ms10="$SAMPLES/microsoft/2026-11-10_example.org.eml"
for f in "$g09" "$g12" "$g14" "$g16" "$ms10"; do [ -f "$f" ] || die "sample $f is missing"; done
edit reporter "$g09" "$B/google.eml" --domain reporter.test
edit reporter "$g16" "$B/google-crlf.eml" --domain reporter.test
edit reporter "$ms10" "$B/microsoft.eml" --domain reporter.test
edit reporter "$ms10" "$B/microsoft-sub.eml" --domain reporter.test --from-domain mail.reporter.test
edit reporter "$g12" "$B/genuine.eml" --domain reporter.test
edit reporter "$g14" "$B/gone.eml" --domain gone.test

# sign OUT IN SELECTOR.DOMAIN [sign.py options]: signs with that key and checks the result with
# python3-dkim against the key's own record (published or not).
sign() {
	local out=$1 in=$2 kd=$3 rec
	shift 3
	rec="$K/$kd.zone"
	[ ! -f "$K/$kd.live.zone" ] || rec="$K/$kd.live.zone"
	"$PYTHON" "$HERE/sign.py" -k "$K/$kd.key" -d "${kd#*.}" -s "${kd%%.*}" --check "$rec" \
		"$@" -o "$out" "$in" || die "signing $(basename "$out") failed"
}

printf 'file\tverdict\tdomain\tdns\tdescription\n' >"$OUT/manifest.tsv"
# add NAME VERDICT DOMAIN DNS DESCRIPTION [SELECTOR.DOMAIN...]: one manifest line, and NAME.keys
add() {
	local name=$1 verdict=$2 domain=$3 dns=$4 desc=$5 k
	shift 5
	[ -f "$M/$name" ] || die "fixture $name was not written"
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$verdict" "$domain" "$dns" "$desc" >>"$OUT/manifest.tsv"
	: >"$M/${name%.eml}.keys"
	for k in "$@"; do
		case " $published " in *" $k "*) cat "$K/$k.zone" >>"$M/${name%.eml}.keys" ;; esac
	done
}

# ---- pass ----------------------------------------------------------------------------------------------
sign "$M/valid-rsa-relaxed.eml" "$B/google.eml" rsa2048.reporter.test -c relaxed/relaxed
add valid-rsa-relaxed.eml pass reporter.test up "RSA 2048, relaxed/relaxed, d= = From domain, key without s=" rsa2048.reporter.test

sign "$M/valid-rsa-crlf-simple.eml" "$B/google-crlf.eml" rsa2048.reporter.test -c simple/simple
add valid-rsa-crlf-simple.eml pass reporter.test up "RSA, simple/simple, a mail with CRLF line ends" rsa2048.reporter.test

sign "$M/valid-ed25519-simple.eml" "$B/google.eml" ed25519.reporter.test -c simple/simple
add valid-ed25519-simple.eml pass reporter.test up "Ed25519 (ed25519-sha256, k=ed25519 raw key), simple/simple" ed25519.reporter.test

sign "$M/valid-relaxed-simple-folded.eml" "$B/microsoft.eml" rsa2048.reporter.test -c relaxed/simple
add valid-relaxed-simple-folded.eml pass reporter.test up "RSA, relaxed/simple, Microsoft-shaped mail with folded signed headers" rsa2048.reporter.test

sign "$M/parent-domain.eml" "$B/microsoft-sub.eml" rsa2048.reporter.test -c relaxed/simple
add parent-domain.eml pass reporter.test up "From: @mail.reporter.test, d=reporter.test (a parent of the From domain: aligned)" rsa2048.reporter.test

sign "$M/key-s-tlsrpt.eml" "$B/google.eml" tlsrpt.reporter.test
add key-s-tlsrpt.eml pass reporter.test up "key record with s=tlsrpt (RFC 8460 3); libopendkim alone refuses it (NOTEMAILKEY)" tlsrpt.reporter.test

sign "$M/key-s-email.eml" "$B/google.eml" email.reporter.test
add key-s-email.eml pass reporter.test up "key record with s=email" email.reporter.test

sign "$M/key-s-list.eml" "$B/google.eml" both.reporter.test
add key-s-list.eml pass reporter.test up "key record with s=email:tlsrpt (a list)" both.reporter.test

sign "$M/gateway-second-signature.eml" "$B/google.eml" rsa2048.reporter.test \
	--also "key=$K/gw.other.test.key,d=other.test,s=gw" --check "$K/gw.other.test.zone"
add gateway-second-signature.eml pass reporter.test up "valid reporter signature plus a second valid one by a gateway (d=other.test, on top)" rsa2048.reporter.test gw.other.test

sign "$M/genuine-signed.eml" "$B/genuine.eml" rsa2048.reporter.test
add genuine-signed.eml pass reporter.test up "the genuine report of which forged-unsigned.eml is a forged copy" rsa2048.reporter.test

# ---- none ----------------------------------------------------------------------------------------------
edit forge "$B/genuine.eml" "$M/forged-unsigned.eml"
add forged-unsigned.eml none - up "forged copy of genuine-signed.eml: same organization-name, report-id, date-range start; other counts; no signature"

cp "$B/google.eml" "$M/unsigned.eml"
add unsigned.eml none - up "no DKIM-Signature at all (the sample's google.com signature removed)"

# ---- fail ----------------------------------------------------------------------------------------------
sign "$B/banner.eml" "$B/google.eml" rsa2048.reporter.test
edit banner "$B/banner.eml" "$M/body-banner.eml"
add body-banner.eml fail reporter.test up "valid signature, then a gateway appended a banner to the body (body hash mismatch)" rsa2048.reporter.test

sign "$B/header.eml" "$B/google.eml" rsa2048.reporter.test
edit header "$B/header.eml" "$M/header-changed.eml" Subject "[EXTERNAL] SMTP TLS report"
add header-changed.eml fail reporter.test up "valid signature, then the signed Subject was changed (bh= fine, b= does not verify)" rsa2048.reporter.test

sign "$M/other-domain.eml" "$B/google.eml" gw.other.test
add other-domain.eml fail other.test up "valid signature by d=other.test, From: @reporter.test (not the reporting domain)" gw.other.test

sign "$B/length.eml" "$B/google.eml" rsa2048.reporter.test --length
edit banner "$B/length.eml" "$M/length-tag.eml" --text "Appended after signing: l= leaves this unsigned."
add length-tag.eml fail reporter.test up "l= present (RFC 8460 3 forbids it); text appended after l= bytes, which a verifier honouring l= would accept" rsa2048.reporter.test

now=$(date +%s)
sign "$M/expired.eml" "$B/google.eml" rsa2048.reporter.test -t $((now - 14 * 86400)) -x +604800
add expired.eml fail reporter.test up "x= one week before the run (t= two weeks before): signature expired" rsa2048.reporter.test

sign "$B/gw-banner.eml" "$B/google.eml" rsa2048.reporter.test
edit banner "$B/gw-banner.eml" "$B/gw-banner2.eml"
sign "$M/gateway-banner-resigned.eml" "$B/gw-banner2.eml" gw.other.test
add gateway-banner-resigned.eml fail reporter.test up "gateway added a banner (reporter signature broken) and signed the result as d=other.test" rsa2048.reporter.test gw.other.test

# ---- permerror -----------------------------------------------------------------------------------------
sign "$M/key-missing.eml" "$B/google.eml" missing.reporter.test
add key-missing.eml permerror reporter.test up "selector missing._domainkey.reporter.test does not exist (NXDOMAIN)" missing.reporter.test

sign "$M/domain-without-keys.eml" "$B/gone.eml" sel.gone.test
add domain-without-keys.eml permerror gone.test up "From and d= gone.test, a zone that publishes no key (NXDOMAIN)" sel.gone.test

sign "$M/key-nodata.eml" "$B/google.eml" nodata.reporter.test
add key-nodata.eml permerror reporter.test up "the key name exists but has no TXT record (NODATA)" nodata.reporter.test

sign "$M/key-revoked.eml" "$B/google.eml" revoked.reporter.test
add key-revoked.eml permerror reporter.test up "key revoked: the record has an empty p=" revoked.reporter.test

sign "$M/key-s-other.eml" "$B/google.eml" fax.reporter.test
add key-s-other.eml permerror reporter.test up "key record with s=fax only: not a key for mail or TLS reports" fax.reporter.test

# ---- temperror -----------------------------------------------------------------------------------------
sign "$M/temperror-timeout.eml" "$B/google.eml" rsa2048.reporter.test
add temperror-timeout.eml temperror reporter.test paused "valid signature, but the DNS server does not answer (nsd.sh pause): lookup timeout" rsa2048.reporter.test

rm -rf "$B"
