#!/bin/sh
# Consecutive weekly runs tile time, on generated data (bench/gen-maildir.py:
# many senders, report starts at any hour, several domains): the weekly
# digests of `--since 7d` run every Monday add up to the digest of their
# union — reports, sessions, failures, per MX host and per organization —
# and the previous window of each week is the week before.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

$PY "$SRCDIR/bench/gen-maildir.py" --count 600 --days 63 --start 2026-01-05 \
	--out "$TMP/md" --seed 5 --quiet || { fail "gen-maildir.py"; finish; }
mxd import "$TMP/md"
expect_rc 0 "import of generated mail"
mxd report --from 2026-01-05 --to 2026-03-09 --format json
printf '%s' "$out" > "$TMP/all.json"
for week in 1 2 3 4 5 6 7 8 9; do
	now=$($PY -c "import datetime; print((datetime.date(2026,1,5) + datetime.timedelta(weeks=$week)).isoformat())")
	hour=$(printf '%02d' $((week * 2)))
	MXDIGEST_NOW="${now}T$hour:17:00Z" mxd report --since 7d --format json
	printf '%s' "$out" > "$TMP/w$week.json"
done
$PY - "$TMP" <<'PYEOF' || fail "weekly windows do not tile"
import collections, json, sys
t = sys.argv[1]
a = json.load(open(t + "/all.json"))
weeks = [json.load(open("%s/w%d.json" % (t, i))) for i in range(1, 10)]
bad = []
for key in ("reports", "successful_sessions", "failed_sessions"):
    s = sum(w["totals"][key] for w in weeks)
    if s != a["totals"][key]:
        bad.append("%s: weeks %d, union %d" % (key, s, a["totals"][key]))
for table, name in (("by_mx_host", "mx_host"), ("by_organization", "organization"),
                    ("by_result_type", "result_type")):
    s = collections.Counter()
    for w in weeks:
        for r in w[table]:
            s[r[name]] += r["failed_sessions"]
    u = {r[name]: r["failed_sessions"] for r in a[table]}
    if dict(s) != u:
        bad.append("%s differ" % table)
for prev, w in zip(weeks, weeks[1:]):
    if w["previous_window"] != prev["window"] or w["previous_totals"]["reports"] != prev["totals"]["reports"]:
        bad.append("previous window of %s" % w["window"]["from"])
if weeks[0]["window"]["from"] != "2026-01-05T00:00:00Z" or weeks[-1]["window"]["to"] != "2026-03-09T00:00:00Z":
    bad.append("first/last window %r %r" % (weeks[0]["window"], weeks[-1]["window"]))
if a["totals"]["reports"] < 500:
    bad.append("only %d reports generated" % a["totals"]["reports"])
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PYEOF

finish
