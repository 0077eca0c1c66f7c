#!/usr/bin/env bash
# sign-zone.sh [--new-keys] ZONEFILE OUTDIR — DNSSEC-sign a test zone with ldnsutils.
#
# Writes, for the zone NAME (the file's $ORIGIN, else its SOA owner, else the file name; or give
# NAME=ZONEFILE):
#   OUTDIR/NAME.zone.signed   the signed zone (serve it with nsd.sh start DIR OUTDIR/NAME.zone.signed)
#   OUTDIR/NAME.ds            the trust anchor, one DS line: "NAME. 3600 IN DS tag 13 2 hex"
#   OUTDIR/NAME.anchor        the same DS without TTL and class: "NAME. DS tag 13 2 hex", the string
#                             for libunbound's ub_ctx_add_ta(ctx, "...")
#   OUTDIR/NAME.dnskey        the KSK's DNSKEY line (drill -k, ub_ctx_add_ta_file)
#   OUTDIR/keys/              KSK and ZSK (ECDSAP256SHA256), reused when the zone is signed again, so
#                             a re-signed zone keeps its trust anchor; --new-keys makes new ones
# Signatures are valid from 1 hour ago for MXD_SIG_DAYS days (30); MXD_SIG_NSEC3=1 uses NSEC3.
# Quiet on success; on failure prints what ldns said and exits 1.
set -eu
set -o pipefail

say() { printf 'sign-zone.sh: %s\n' "$*" >&2; }
die() {
	say "error: $*"
	[ ! -s "${LOG:-/nonexistent}" ] || cat "$LOG" >&2
	exit 1
}
usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

new_keys=0
if [ "${1:-}" = --new-keys ]; then
	new_keys=1
	shift
fi
[ $# = 2 ] || usage
for t in ldns-keygen ldns-signzone ldns-key2ds ldns-read-zone; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (Debian package ldnsutils)"
done

arg=$1 out=$2
case $arg in
*=*) name=${arg%%=*} zone=${arg#*=} ;;
*) name="" zone=$arg ;;
esac
[ -f "$zone" ] || die "$zone: no such zone file"
if [ -z "$name" ]; then
	name=$(awk '
		/^[ \t]*\$ORIGIN[ \t]/ { print $2; exit }
		/^[^ \t;$]/ { for (i = 2; i <= NF && i <= 5; i++) if (toupper($i) == "SOA" && $1 ~ /\.$/) { print $1; exit } }
	' "$zone")
	if [ -z "$name" ]; then
		name=$(basename "$zone")
		name=${name%.zone}
		name=${name%.db}
	fi
fi
name=$(printf '%s' "${name%.}" | tr '[:upper:]' '[:lower:]')
[ -n "$name" ] || die "no zone name for $zone"

mkdir -p "$out/keys"
out=$(cd "$out" && pwd -P)
zone=$(cd "$(dirname "$zone")" && printf '%s/%s' "$(pwd -P)" "$(basename "$zone")")
LOG="$out/sign-zone.log"
: >"$LOG"
keys="$out/keys"
chmod 700 "$keys"

# The key files are named K<name>.+013+<tag>; remember which is which in keys/NAME.{ksk,zsk}.
if [ $new_keys = 1 ] || [ ! -s "$keys/$name.ksk" ] || [ ! -s "$keys/$name.zsk" ] ||
	[ ! -f "$keys/$(cat "$keys/$name.ksk").private" ] || [ ! -f "$keys/$(cat "$keys/$name.zsk").private" ]; then
	(
		cd "$keys"
		umask 077
		ksk=$(ldns-keygen -a ECDSAP256SHA256 -k "$name") || exit 1
		zsk=$(ldns-keygen -a ECDSAP256SHA256 "$name") || exit 1
		printf '%s\n' "$ksk" >"$name.ksk"
		printf '%s\n' "$zsk" >"$name.zsk"
	) >>"$LOG" 2>&1 || die "ldns-keygen failed"
fi
ksk="$keys/$(cat "$keys/$name.ksk")"
zsk="$keys/$(cat "$keys/$name.zsk")"

now=$(date +%s)
days=${MXD_SIG_DAYS:-30}
nsec3=""
[ "${MXD_SIG_NSEC3:-0}" != 1 ] || nsec3="-n -a 1 -t 0 -s -"
# The input may carry DNSKEYs or RRSIGs from an earlier signing: ldns-signzone would keep them.
grep -vE '^[^;]*[[:space:]](RRSIG|NSEC|NSEC3|NSEC3PARAM|DNSKEY)[[:space:]]' "$zone" >"$out/$name.zone.unsigned" ||
	die "$zone is empty"
# shellcheck disable=SC2086
ldns-signzone -o "$name." -i $((now - 3600)) -e $((now + days * 86400)) $nsec3 \
	-f "$out/$name.zone.signed.tmp" "$out/$name.zone.unsigned" "$zsk" "$ksk" >>"$LOG" 2>&1 ||
	die "ldns-signzone failed for $zone"
mv "$out/$name.zone.signed.tmp" "$out/$name.zone.signed"
rm -f "$out/$name.zone.unsigned"

ds=$(ldns-key2ds -n -2 "$ksk.key" 2>>"$LOG") || die "ldns-key2ds failed"
# ldns-key2ds -n prints "NAME.<TAB>3600<TAB>IN<TAB>DS<TAB>tag alg 2 hex" (the .ds file that ldns-keygen
# writes has no TTL): take the fields after "DS".
line=$(printf '%s\n' "$ds" | awk '{ for (i = 2; i <= NF; i++) if ($i == "DS" && NF == i + 4) {
	print $1, $(i + 1), $(i + 2), $(i + 3), $(i + 4); exit } }')
# shellcheck disable=SC2086
set -- $line
if [ "$#" != 5 ] || [ "$1" != "$name." ]; then die "unexpected ldns-key2ds output: $ds"; fi
printf '%s 3600 IN DS %s %s %s %s\n' "$1" "$2" "$3" "$4" "$5" >"$out/$name.ds"
printf '%s DS %s %s %s %s\n' "$1" "$2" "$3" "$4" "$5" >"$out/$name.anchor"
grep -v '^;' "$ksk.key" | tr -s ' \t' ' ' >"$out/$name.dnskey"
rm -f "$LOG"
