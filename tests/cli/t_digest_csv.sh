#!/bin/sh
# CSV: one table per --by, RFC 4180 (CRLF, quoting) read back with Python's
# csv module, the same numbers as the JSON digest, and no cell that a
# spreadsheet would run as a formula.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

mxd import "$SAMPLES" "$SRCDIR/tests/digest/injection.json"
W2="--from 2026-11-16 --to 2026-11-23"
# shellcheck disable=SC2086
mxd report $W2 --format json
printf '%s' "$out" > "$TMP/d.json"

# shellcheck disable=SC2086
for by in mx org result domain type ip day detail; do
	"$MXDIGEST" --db "$DB" report $W2 --format csv --by "$by" > "$TMP/$by.csv" 2>"$TMP/err" ||
		fail "--by $by: exit $?"
done
"$MXDIGEST" --db "$DB" report $W2 --format csv > "$TMP/default.csv"
cmp -s "$TMP/default.csv" "$TMP/mx.csv" || fail "--format csv is --by mx by default"

$PY - "$TMP" <<'PYEOF' || fail "CSV checks"
import csv, json, sys
t = sys.argv[1]
d = json.load(open(t + "/d.json"))
bad = []
def read(name):
    raw = open("%s/%s.csv" % (t, name), "rb").read()
    if raw.count(b"\r\n") != raw.count(b"\n"):
        bad.append(name + ": lines do not all end in CRLF")
    return list(csv.reader(open("%s/%s.csv" % (t, name), newline="", encoding="utf-8")))
def plain(v):      # undo the formula guard to compare with JSON
    return v[1:] if v[:1] == "'" and v[1:2] in "=+-@\t\r" else v
mx = read("mx")
if mx[0] != ["mx_host", "failed_sessions", "previous_failed_sessions", "top_result_type", "organizations"]:
    bad.append("mx header %r" % mx[0])
if [(r[0], int(r[1])) for r in mx[1:]] != [(m["mx_host"], m["failed_sessions"]) for m in d["by_mx_host"]]:
    bad.append("mx rows differ from JSON")
org = read("org")
if [(plain(r[0]), int(r[1]), int(r[3])) for r in org[1:]] != \
   [(o["organization"], o["reports"], o["failed_sessions"]) for o in d["by_organization"]]:
    bad.append("org rows differ from JSON")
for name, key in (("result", "by_result_type"), ("domain", "by_policy_domain"),
                  ("type", "by_policy_type"), ("ip", "by_sending_ip"), ("day", "daily")):
    rows = read(name)
    if len(rows) - 1 != len(d[key]):
        bad.append("%s: %d rows, JSON %d" % (name, len(rows) - 1, len(d[key])))
det = read("detail")
evil = [r for r in det[1:] if "evil" in r[1]]
if len(evil) != 1:
    bad.append("injection row: %d" % len(evil))
else:
    r = evil[0]
    want = ["'+inject-1", "'=HYPERLINK(\"http://evil.example/\",\"click\")"]
    if r[:2] != want:
        bad.append("formula guard on id/org: %r" % r[:2])
    if r[12] != "'@cmd|' /C calc'!A0":
        bad.append("formula guard on the reason code: %r" % r[12])
    if r[13] != "'-2+3, \"quoted\", =1+1":
        bad.append("guard + RFC 4180 quoting of additional information: %r" % r[13])
if not any(r[0] == "'=HYPERLINK(\"http://evil.example/\",\"click\")" for r in org):
    bad.append("formula guard in the org table")
for name in ("mx", "org", "result", "domain", "type", "ip", "day", "detail"):
    for row in read(name)[1:]:
        for v in row:
            if v[:1] in ("=", "+", "-", "@", "\t", "\r"):
                bad.append("%s: a cell starts with %r: %r" % (name, v[:1], v))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PYEOF
# the raw bytes of a quoted field, as RFC 4180 writes it
grep -q "\"'-2+3, \"\"quoted\"\", =1+1\"" "$TMP/detail.csv" || fail "RFC 4180 quoting of a field with quotes and commas"
# the detail CSV has one row per failure detail of the window
mxd report $W2 --format json
nd=$(($(wc -l < "$TMP/detail.csv") - 1))
[ "$nd" -eq 58 ] || fail "--by detail: $nd rows, expected 57 sample details + 1 injected"

finish
