#!/bin/sh
# The real corpus with DKIM: with dkim = off nothing is looked up and every
# count is what it always was; with the default (report) and no DNS (the
# resolver is a closed port here), its mails verify as temperror, fail
# (expired signatures) or none, and the digest says so without losing a
# count.
. "$(dirname "$0")/lib.sh"

REAL="${MXD_CORPUS:-}/real"
if [ -z "${MXD_CORPUS:-}" ] || [ ! -d "$REAL" ]; then
	if [ "${MXDIGEST_REQUIRE_CORPUS:-}" = 1 ]; then
		fail "the corpus is missing at $REAL"
		finish
	fi
	echo "SKIP: no corpus at $REAL"
	exit 77
fi
WIN="--from 2000-01-01 --to 2100-01-01"

DB=$(new_db off)
mxd import --dkim=off "$REAL"
off_summary=$out
expect_eq "$(sql 'SELECT DISTINCT result FROM dkim ORDER BY 1')" "5
6" "off: mails skipped (5), report files are files (6)"
mxd report $WIN --format json
printf '%s' "$out" >"$TMP/off.json"
mxd report $WIN --dkim=off
expect_not_in "$out" "without a valid signature" "off: no DKIM line in the digest"

CONF="$TMP/conf"
printf 'resolver = 127.0.0.1:9\ndns_timeout = 1\n' >"$CONF"
chmod 600 "$CONF"
DB=$(new_db on)
mxd --config "$CONF" import "$REAL"
expect_eq "${out%%; DKIM:*}" "$off_summary" "the same outcome as with dkim = off"
expect_in "$out" "; DKIM: " "the summary gives the verdicts"
expect_eq "$(sql "SELECT count(*) FROM dkim WHERE result NOT IN (0, 2, 3, 6)")" 0 \
	"offline: none, fail or temperror (and files), never a pass"
expect_eq "$(sql "SELECT CAST(count(*) > 0 AS INTEGER) FROM dkim WHERE result = 3")" 1 \
	"keys that could not be looked up are temperror"
mxd --config "$CONF" report $WIN --format json
printf '%s' "$out" >"$TMP/on.json"
# jf FILE EXPR: a Python expression on the JSON digest in FILE, as d
jf() {
	/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}
for k in reports successful_sessions failed_sessions; do
	expect_eq "$(jf "$TMP/on.json" "d['totals']['$k']")" \
		"$(jf "$TMP/off.json" "d['totals']['$k']")" "totals $k: not one count lost"
done
orgs="[(o['organization'], o['reports'], o['failed_sessions']) for o in d['by_organization']]"
expect_eq "$(jf "$TMP/on.json" "$orgs")" "$(jf "$TMP/off.json" "$orgs")" \
	"every organization's counts"
n=$(jf "$TMP/on.json" "d['totals']['reports']")
expect_eq "$(jf "$TMP/on.json" "d['totals']['dkim_unverified']")" "$n" "none verified offline"
mxd --config "$CONF" report $WIN
expect_in "$out" "DKIM          $n of $n reports without a valid signature (counted)" \
	"the digest says so"
finish
