#!/bin/sh
# Hostile and broken inputs in one batch: each gives one error line naming
# the input, goes to quarantine with its bytes, and the rest is imported.
. "$(dirname "$0")/lib.sh"

IN="$TMP/in"
mkdir -p "$IN/sub"
PY=/usr/bin/python3

# a good report, so that we see the batch go on
cp "$SAMPLES/mimecast/"*.json "$IN/" 2>/dev/null
good=$(ls "$IN"/*.json | wc -l | tr -d ' ')

# a 1 GiB decompression bomb (about 1 MB of gzip)
$PY - "$IN/bomb.json.gz" <<'PY'
import sys, zlib
z = zlib.compressobj(1, zlib.DEFLATED, 31)
chunk = b"\0" * (1 << 20)
with open(sys.argv[1], "wb") as f:
    for _ in range(1024):
        f.write(z.compress(chunk))
    f.write(z.flush())
PY
# a 50 MiB mail with TLS-RPT headers
$PY - "$IN/huge.eml" <<'PY'
import sys, base64, os
with open(sys.argv[1], "wb") as f:
    f.write(b"From: reports@example.net\nTLS-Report-Domain: example.org\n"
            b"Subject: Report Domain: example.org Submitter: example.net\n"
            b"Content-Type: multipart/report; report-type=tlsrpt; boundary=B\n\n"
            b"--B\nContent-Type: application/tlsrpt+gzip\n"
            b"Content-Transfer-Encoding: base64\n\n")
    line = base64.b64encode(os.urandom(57)) + b"\n"
    f.write(line * (50 * 1024 * 1024 // len(line) + 1))
    f.write(b"--B--\n")
PY
# an organization name that is not UTF-8, a missing field, invalid JSON,
# a truncated gzip, an empty file, a report with a terminal escape
printf '{"organization-name":"Soci\351t\351","date-range":{"start-datetime":"2026-11-10T00:00:00Z","end-datetime":"2026-11-10T23:59:59Z"},"report-id":"x1","policies":[]}' > "$IN/latin1.json"
printf '{"organization-name":"A","report-id":"x2","policies":[]}' > "$IN/nodate.json"
printf '{"organization-name":"A",,}' > "$IN/syntax.json"
head -c 100 "$IN/bomb.json.gz" > "$IN/truncated.json.gz"
: > "$IN/empty.json"
printf '{"organization-name":"Evil\\u001b]0;pwned\\u0007\\u001b[2J Corp","date-range":{"start-datetime":"2026-11-10T00:00:00Z","end-datetime":"2026-11-10T23:59:59Z"},"report-id":"x3","policies":[{"policy":{"policy-type":"sts","policy-domain":"example.org"},"summary":{"total-successful-session-count":1,"total-failure-session-count":1},"failure-details":[{"result-type":"validation-failure","receiving-mx-hostname":"mx\\u001b[31m.example.org","failed-session-count":1}]}]}' > "$IN/sub/escape.json"
# a FIFO is not a regular file
mkfifo "$IN/sub/fifo"

mxd import "$IN"
expect_rc 65 "partial import"
expect_in "$out" "$((good + 8)) messages read, $((good + 1)) new reports, 0 duplicates, 0 not a report, 7 quarantined" "summary"
expect_in "$out" "1 unreadable" "the FIFO is counted as unreadable"
expect_in "$err" "mxdigest: \"$IN/bomb.json.gz\": gzip: decompressed size exceeds the 33554432-byte cap" "bomb"
expect_in "$err" "mxdigest: \"$IN/huge.eml\": message of " "50 MiB mail"
expect_in "$err" "exceeds the 26214400-byte cap" "50 MiB mail reason"
expect_in "$err" "mxdigest: \"$IN/latin1.json\": report JSON: invalid UTF-8 at byte 26" "Latin-1"
expect_in "$err" "mxdigest: \"$IN/nodate.json\": report JSON: \"date-range\" missing" "missing date-range"
expect_in "$err" "mxdigest: \"$IN/syntax.json\": report JSON:" "syntax"
expect_in "$err" "mxdigest: \"$IN/truncated.json.gz\": gzip: truncated" "truncated gzip"
expect_in "$err" "mxdigest: \"$IN/empty.json\": empty input" "empty file"
expect_in "$err" "mxdigest: \"$IN/sub/fifo\": not a regular file" "FIFO"
expect_eq "$(lines "$err")" 8 "one line per bad input"

# the quarantine keeps every byte: the 50 MiB mail comes back whole
mxd quarantine list
id=$(printf '%s\n' "$out" | grep 'huge.eml' | awk '{print $1}')
"$MXDIGEST" --db "$DB" quarantine show --raw "$id" > "$TMP/huge.back"
cmp -s "$TMP/huge.back" "$IN/huge.eml" || fail "the 50 MiB mail is not kept whole"
id=$(printf '%s\n' "$out" | grep 'bomb.json.gz' | awk '{print $1}')
"$MXDIGEST" --db "$DB" quarantine show --raw "$id" > "$TMP/bomb.back"
cmp -s "$TMP/bomb.back" "$IN/bomb.json.gz" || fail "the bomb is not kept"

# no escape sequence reaches the terminal, the JSON or the quarantine list
mxd report --from 2026-11-10 --to 2026-11-11 --color always
expect_rc 0 "report with a hostile organization name"
printf '%s' "$out" | sed 's/\x1b\[[0-9;]*m//g' > "$TMP/plain"
if grep -q "$(printf '\033')" "$TMP/plain"; then fail "an escape from a report reached the text digest"; fi
expect_in "$out" "Evil" "hostile organization shown"
mxd report --from 2026-11-10 --to 2026-11-11 --format json
if printf '%s' "$out" | grep -q "$(printf '\033')"; then fail "raw escape in JSON"; fi
expect_in "$(json 'd["by_mx_host"][0]["mx_host"]')" "mx" "hostile MX name kept readable"

# importing the same inputs again changes nothing
mxd report --from 2026-11-01 --to 2026-12-01 --format json
before=$(printf '%s' "$out" | sed 's/"generated":"[^"]*"//')
mxd import "$IN"
expect_in "$out" "0 new reports, $((good + 1)) duplicates, 0 not a report, 0 quarantined (7 already in quarantine)" "second import"
mxd report --from 2026-11-01 --to 2026-12-01 --format json
expect_eq "$(printf '%s' "$out" | sed 's/"generated":"[^"]*"//')" "$before" "digest unchanged"

# an unreadable directory: its one line, and the rest goes on
U="$TMP/u"
mkdir -p "$U/locked" "$U/ok"
cp "$SAMPLES/rfc8460/"*.json "$U/ok/"
cp "$SAMPLES/mimecast/"*.json "$U/locked/"
chmod 000 "$U/locked"
if [ "$BACKEND" = pg ]; then UDB=$(new_db u); else UDB="$TMP/udb/u.db"; fi
mkdir -p "$TMP/udb"
chmod 777 "$TMP/udb"
chmod 755 "$TMP"
if [ "$(id -u)" = 0 ]; then
	run() { HOME="$TMP/udb" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
else
	run() { HOME="$TMP/udb" "$@"; }
fi
set +e
run "$MXDIGEST" --db "$UDB" import "$U" >"$TMP/uout" 2>"$TMP/uerr"
rc=$?
set -e
expect_rc 65 "an unreadable directory makes the import partial"
expect_in "$(cat "$TMP/uerr")" "mxdigest: \"$U/locked\": cannot read directory: Permission denied" "unreadable directory line"
expect_in "$(cat "$TMP/uout")" "1 message read, 1 new report" "the readable part is imported"
chmod 755 "$U/locked"

# nothing readable at all
mxd import "$TMP/does-not-exist"
expect_rc 66 "no input at all"
expect_in "$err" "cannot open: No such file or directory" "missing path"

finish
