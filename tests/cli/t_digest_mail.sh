#!/bin/sh
# The digest as a mail: parsed by Python's email package (headers, RFC 2047
# subject and names, multipart/mixed > alternative text + HTML, the XLSX
# attachment), then delivered through a real path — msmtp over LMTP into a
# throwaway Dovecot (tests/imap/dovecot.sh) — and read back over IMAP.
# The delivery part is skipped (77) without Dovecot, unless
# MXDIGEST_REQUIRE_DOVECOT=1.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
H="$SRCDIR/tests/imap/dovecot.sh"
CHECK="$SRCDIR/tests/digest/check_mail.py"
trap '"$H" cleanup "$TMP/srv" >/dev/null 2>&1; rm -rf "$TMP"' EXIT

mxd import "$SAMPLES"
export MXDIGEST_NOW=2026-11-23T07:00:00Z
SUBJECT="Résumé TLS — semaine 47, $(printf 'x%.0s' $(seq 1 70))"
TO="Ops Team <ops@example.org>, Zoë Müller <zoe@example.org>, \"Müller, Zoë\" <zm@example.org>"

mxd report --since 7d --format email --mail-to "$TO" --mail-from "TLS reports <tlsrpt@example.org>" \
	--subject "$SUBJECT"
expect_rc 0 "email"
"$MXDIGEST" --db "$DB" report --since 7d --format email --mail-to "$TO" \
	--mail-from "TLS reports <tlsrpt@example.org>" --subject "$SUBJECT" > "$TMP/digest.eml"
"$MXDIGEST" --db "$DB" report --since 7d > "$TMP/digest.txt"
$PY "$CHECK" "$TMP/digest.eml" "$TMP/digest.txt" "$SUBJECT" "$TO" "$TMP/att.xlsx" || fail "the mail as written"
$PY -c 'import openpyxl, sys; sys.exit(0 if openpyxl.load_workbook(sys.argv[1]).sheetnames[0] == "Summary" else 1)' \
	"$TMP/att.xlsx" || fail "the attached workbook opens"
expect_in "$(grep '^Date:' "$TMP/digest.eml")" "Date: Mon, 23 Nov 2026 07:00:00 +0000" "Date from the clock"
# the default subject says the window and the failures
mxd report --since 7d --format email --mail-to ops@example.org
expect_in "$out" "Subject: TLS-RPT digest 2026-11-16 to 2026-11-22 (7 days, UTC): 3,942" "default subject"
expect_in "$out" "From: mxdigest@" "default sender"
# two runs give two Message-IDs
a=$(printf '%s\n' "$out" | grep '^Message-ID:')
mxd report --since 7d --format email --mail-to ops@example.org
b=$(printf '%s\n' "$out" | grep '^Message-ID:')
[ "$a" != "$b" ] || fail "Message-ID repeated: $a"

# a real delivery: msmtp --protocol=lmtp into Dovecot, read back over IMAP
if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ] || ! command -v msmtp >/dev/null 2>&1; then
	if [ "${MXDIGEST_REQUIRE_DOVECOT:-}" = 1 ]; then
		fail "Dovecot or msmtp is not installed (MXDIGEST_REQUIRE_DOVECOT=1)"
		finish
	fi
	[ "$failures" -gt 0 ] && finish
	echo "Dovecot or msmtp is not installed: delivery not tested" >&2
	exit 77
fi
"$H" start "$TMP/srv" || { fail "Dovecot did not start"; finish; }
# shellcheck disable=SC1091
. "$TMP/srv/env.sh"
"$H" lmtp "$TMP/srv" "$TMP/digest.eml" || fail "LMTP delivery"
mid=$(grep -m1 '^Message-ID:' "$TMP/digest.eml" | cut -d' ' -f2)
$PY "$SRCDIR/tests/digest/imap_fetch.py" "$mid" "$TMP/back.eml" || fail "IMAP fetch"
$PY "$CHECK" --delivered "$TMP/back.eml" "$TMP/digest.txt" "$SUBJECT" "$TO" "$TMP/back.xlsx" ||
	fail "the mail as delivered"
cmp -s "$TMP/att.xlsx" "$TMP/back.xlsx" || fail "the workbook changed on the way"
expect_in "$(head -3 "$TMP/back.eml")" "Return-Path: <tlsrpt-sender@localhost>" "went through LMTP"

finish
