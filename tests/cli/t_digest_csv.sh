#!/bin/sh
# CSV: one table per --by, RFC 4180 (CRLF, quoting) read back with Python's
# csv module, the same numbers as the JSON digest, the changes against the
# previous window (empty without previous data), and no text cell that a
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
# the JSON members first, in their order, then the columns CSV adds
if mx[0] != ["mx_host", "failed_sessions", "failed_sessions_change", "top_result_type", "organizations",
             "previous_failed_sessions", "top_result_type_failed", "new_result_types"]:
    bad.append("mx header %r" % mx[0])
if [(r[0], int(r[1]), int(r[2]), int(r[5])) for r in mx[1:]] != \
   [(m["mx_host"], m["failed_sessions"], m["failed_sessions"] - m["previous_failed_sessions"],
     m["previous_failed_sessions"]) for m in d["by_mx_host"]]:
    bad.append("mx rows differ from JSON")
org = read("org")
if org[0] != ["organization", "reports", "successful_sessions", "failed_sessions", "failure_rate",
              "previous_reports", "previous_successful_sessions", "previous_failed_sessions",
              "previous_failure_rate", "new_failures", "failure_rate_change",
              "dkim_verified", "dkim_unverified", "dkim_ignored", "conflicts"]:
    bad.append("org header %r" % org[0])
if [(int(r[11]), int(r[12]), int(r[13]), int(r[14])) for r in org[1:]] != \
   [(o["dkim_verified"], o["dkim_unverified"], o["dkim_ignored"], o["conflicts"])
    for o in d["by_organization"]]:
    bad.append("org DKIM columns differ from JSON")
if [(plain(r[0]), int(r[1]), int(r[3]), r[9]) for r in org[1:]] != \
   [(o["organization"], o["reports"], o["failed_sessions"], "true" if o["new_failures"] else "false")
    for o in d["by_organization"]]:
    bad.append("org rows differ from JSON")
for r, o in zip(org[1:], d["by_organization"]):
    prev = o["previous_successful_sessions"] + o["previous_failed_sessions"]
    if (r[10] == "") != (prev == 0):
        bad.append("org %s: change %r with %d previous sessions" % (r[0], r[10], prev))
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
def number(v):
    try:
        float(v)
        return True
    except ValueError:
        return False
for name in ("mx", "org", "result", "domain", "type", "ip", "day", "detail"):
    for row in read(name)[1:]:
        for v in row:
            # a negative change is a number, not a formula
            if v[:1] in ("=", "+", "-", "@", "\t", "\r") and not number(v):
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

# week 1 has no previous window: the changes are empty, not a rise from 0
"$MXDIGEST" --db "$DB" report --from 2026-11-09 --to 2026-11-16 --format csv --by org > "$TMP/w1org.csv"
"$MXDIGEST" --db "$DB" report --from 2026-11-09 --to 2026-11-16 --format csv --by mx > "$TMP/w1mx.csv"
$PY - "$TMP" <<'PYEOF' || fail "changes without previous data"
import csv, sys
for name, col in (("w1org", "failure_rate_change"), ("w1mx", "failed_sessions_change")):
    rows = list(csv.DictReader(open("%s/%s.csv" % (sys.argv[1], name), newline="", encoding="utf-8")))
    assert rows and all(r[col] == "" for r in rows), (name, [r[col] for r in rows])
PYEOF

finish
