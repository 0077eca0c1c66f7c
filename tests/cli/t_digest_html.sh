#!/bin/sh
# The HTML digest says what the text digest says — the same summary lines,
# tables, "others" rows, "... and N more" and notes — whatever the window,
# filter or --top (tests/digest/same_digest.py reads both), and every value
# is escaped.  Then the places where the two used to differ: singulars, the
# worst MX hosts, the daily table of a long window, silent reporters.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
SAME="$SRCDIR/tests/digest/same_digest.py"

mxd import "$SAMPLES" "$SRCDIR/tests/digest/injection.json"
export MXDIGEST_NOW=2026-11-23T09:30:00Z
W2="--from 2026-11-16 --to 2026-11-23"

# shellcheck disable=SC2086
for args in "$W2 --top 0" "$W2" "$W2 --top 1" "$W2 --top 2" "--since 2w" "--since 12h" \
	    "--from 2026-11-09 --to 2026-11-16" "--from 2026-11-23 --to 2026-11-30" \
	    "--from 2026-11-01 --to 2026-12-11" "$W2 --org Mail.ru" "$W2 --domain example.org" \
	    "$W2 --mx mx3.example.org" "$W2 --fail-rate 5 --alert-on new,silent"; do
	# exit status 1 is the alert of the last case
	"$MXDIGEST" --db "$DB" report $args > "$TMP/d.txt" || [ $? = 1 ]
	"$MXDIGEST" --db "$DB" report $args --format html > "$TMP/d.html" || [ $? = 1 ]
	$PY "$SAME" "$TMP/d.txt" "$TMP/d.html" || fail "HTML and text differ: report $args"
done

# shellcheck disable=SC2086
{
mxd report $W2 --org Mail.ru --format html
expect_in "$out" "2 from 1 organization (previous 7 days: 2 from 1)" "a singular, as in text"
expect_not_in "$out" "1 organizations" "no plural of one"
mxd report $W2 --format html
expect_eq "$(printf '%s' "$out" | grep -c '[0-9] failed</td><td')" 3 "three worst MX hosts, as in text and the workbook"
expect_in "$out" "&quot;http://evil.example/&quot;" "quotes escaped"
expect_not_in "$out" "<td style=\"padding:2px 8px;border-bottom:1px solid #ddd\">=HYPERLINK(\"" "no raw value"
mxd report --from 2026-11-01 --to 2026-12-11 --format html
expect_in "$out" "40 days: the daily series is in --format json, csv --by day and xlsx." \
	"a long window: no daily table, as in text"
expect_not_in "$out" ">2026-11-05<" "no daily rows"
mxd report --from 2026-11-09 --to 2026-11-16 --format html
expect_in "$out" ">Silent</th><td style=\"padding:2px 0\">none</td>" \
	"nobody reported before week 1: nobody went silent"
mxd report --from 2026-11-09 --to 2026-11-16 --format html --top 1
expect_in "$out" "(5 others)" "an others row"
expect_in "$out" "... and 5 more (use --top 0 to see all)" "and how many it holds"
}

finish
