#!/bin/sh
# Importing samples/: the summary line, the exit status, quarantine, the
# digest (text and JSON, against golden files), and a second import that
# changes nothing.
. "$(dirname "$0")/lib.sh"

mxd import "$SAMPLES"
expect_rc 65 "importing samples/ (with broken inputs) is partial"
expect_eq "$out" "54 messages read, 45 new reports, 2 duplicates, 2 not a report, 5 quarantined; DKIM: 22 fail, 16 none" "summary line (offline: signatures expired or none)"
expect_eq "$(lines "$err")" 5 "one error line per quarantined input"
expect_in "$err" 'mxdigest: "'"$SAMPLES"'/broken/empty.json": empty input' "empty file"
expect_in "$err" '2026-11-17_mailhost.example.com_no-date-range.eml": report JSON: "date-range" missing' "missing field"
expect_in "$err" 'report JSON: invalid UTF-8 at byte 34' "non-UTF-8 organization"
expect_in "$err" 'gzip: truncated after' "truncated gzip"
expect_in "$err" "report JSON: object value separator ',' expected at byte" "invalid JSON"

# the digest of week 2, text and JSON, against golden files
mxd report --from 2026-11-16 --to 2026-11-23 --top 0
expect_rc 0 "report"
printf '%s\n' "$out" > "$TMP/week2.txt"
diff -u "$SRCDIR/tests/cli/expected/week2.txt" "$TMP/week2.txt" || fail "text digest differs from tests/cli/expected/week2.txt"
mxd report --from 2026-11-16 --to 2026-11-23 --format json
expect_rc 0 "report --format json"
printf '%s\n' "$out" | sed 's/"generated":"[^"]*"/"generated":"X"/' > "$TMP/week2.json"
diff -u "$SRCDIR/tests/cli/expected/week2.json" "$TMP/week2.json" || fail "JSON digest differs from tests/cli/expected/week2.json"
expect_eq "$(json 'd["totals"]["failed_sessions"]')" 3942 "week 2 failed sessions"
expect_eq "$(json '[(m["mx_host"], m["failed_sessions"]) for m in d["by_mx_host"]]')" \
	"[('mx2.example.org', 3902), ('203.0.113.12', 17), ('mx3.example.org', 17), ('', 6)]" "week 2 failures by MX host"
expect_eq "$(json 'd["totals"]["quarantined"]')" 5 "quarantined in the JSON digest"
# Microsoft's sts and tlsa are the same sessions: not 5,072 on mx2
expect_not_in "$out" '"failed_sessions":5072' "sts+tlsa counted twice"

# the weeks tile: week 1 + week 2 = both weeks
mxd report --from 2026-11-09 --to 2026-11-16 --format json
w1=$(json '(d["totals"]["reports"], d["totals"]["failed_sessions"], d["totals"]["successful_sessions"])')
mxd report --from 2026-11-09 --to 2026-11-23 --format json
both=$(json '(d["totals"]["reports"], d["totals"]["failed_sessions"], d["totals"]["successful_sessions"])')
mxd report --from 2026-11-16 --to 2026-11-23 --format json
w2=$(json '(d["totals"]["reports"], d["totals"]["failed_sessions"], d["totals"]["successful_sessions"])')
sum=$(/usr/bin/python3 -c "a=$w1; b=$w2; print(tuple(x+y for x,y in zip(a,b)))")
expect_eq "$sum" "$both" "two weekly windows add up to the fortnight"
expect_eq "$both" "(45, 3953, 47120)" "fortnight totals (samples/README.md)"

# quarantine
mxd quarantine list
expect_rc 0 "quarantine list"
expect_eq "$(printf '%s\n' "$out" | grep -c '^[0-9]')" 5 "five quarantine entries"
expect_in "$out" "empty.json" "empty file listed"
id=$(printf '%s\n' "$out" | grep 'truncated' -B1 | head -1 | awk '{print $1}')
[ -n "$id" ] || id=$(printf '%s\n' "$out" | grep -B1 'gzip: truncated' | awk 'NR==1{print $1}')
mxd quarantine show "$id"
expect_rc 0 "quarantine show"
expect_in "$out" "Reason:   gzip: truncated" "show gives the reason"
mxd quarantine show --raw "$id"
"$MXDIGEST" --db "$DB" quarantine show --raw "$id" > "$TMP/raw"
cmp -s "$TMP/raw" "$SAMPLES"/broken/*.json.gz || fail "quarantine show --raw is not the exact bytes"
mxd quarantine show 9999
expect_rc 66 "show of a missing entry"

# a second import changes nothing
mxd report --from 2026-11-01 --to 2026-12-01 --format json
before=$(printf '%s' "$out" | sed 's/"generated":"[^"]*"//')
mxd quarantine list
qbefore=$out
mxd import "$SAMPLES"
expect_rc 0 "a second import has nothing new to quarantine"
expect_eq "$out" "54 messages read, 0 new reports, 47 duplicates, 2 not a report, 0 quarantined (5 already in quarantine)" "second summary"
mxd report --from 2026-11-01 --to 2026-12-01 --format json
expect_eq "$(printf '%s' "$out" | sed 's/"generated":"[^"]*"//')" "$before" "digest unchanged by a second import"
mxd quarantine list
expect_eq "$out" "$qbefore" "quarantine unchanged by a second import"

finish
