#!/bin/sh
# The text digest: windows (--since, --from/--to, --until) that agree, one
# screen of summary (rate change, worst MX, new, silent, quarantine), no
# change where there is nothing to compare with, 80 columns whatever the
# options, top N with an "others" row, colour only when it may,
# deterministic output.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
W="$SRCDIR/tests/digest/width.py"

mxd import "$SAMPLES"

# the same week, four ways
MXDIGEST_NOW=2026-11-23T09:30:00Z mxd report --since 7d
a=$out
mxd report --from 2026-11-16 --to 2026-11-23
expect_eq "$out" "$a" "--since 7d = --from/--to"
mxd report --until 2026-11-23
expect_eq "$out" "$a" "--until alone = --to: the seven days before"
MXDIGEST_NOW=2027-03-01T00:00:00Z mxd report --since 1w --until 2026-11-23T18:00:00Z
expect_eq "$out" "$a" "--since 1w --until: the week as if run then"
mxd report --from 2026-11-16 --until 2026-11-23
expect_eq "$out" "$a" "--from/--until"
mxd report --from 2026-11-16 --to 2026-11-23
expect_eq "$out" "$a" "deterministic: a second run prints the same"

# the summary comes first and fits one screen
first_table=$(printf '%s\n' "$a" | grep -n '^Failures by MX host' | cut -d: -f1)
[ "$first_table" -le 24 ] || fail "summary longer than a screen ($first_table lines)"
expect_in "$a" "  Reports       25 from 7 organizations (previous 7 days: 20 from 6)" "reports and the week before"
expect_in "$a" "  Sessions      28,175: 24,233 successful, 3,942 failed" "sessions"
expect_in "$a" "  Failure rate  14.0%  ▲ 13.9 points (previous 7 days: 0.0%)" "rate and its change"
expect_in "$a" "  Worst MX      mx2.example.org  3,902 failed  certificate-expired" "worst MX host"
expect_in "$a" "  New           certificate-expired on mx2.example.org (3,899 failed)" "new pair"
expect_in "$a" "                failures from Company-X, Mimecast, mx.relay.example.com" "new organizations"
expect_not_in "$a" "starttls-not-supported on mx3" "mx3's starttls failed in week 1: not new"
expect_in "$a" "  Silent        none" "nobody went silent"
expect_in "$a" "  Quarantined   5 messages could not be read" "quarantine count"
expect_in "$a" "  mx3.example.org      17     ▲ 10  starttls-not-supported     3" "MX change: 7 -> 17"
expect_in "$a" "  Google Inc.                  9  0/9     19,840   2,677  13.5%  ▲ 13.5  ▃▃██▇▆▆" "org row with sparkline and DKIM verified/reports"
expect_in "$a" "  2026-11-19        5       3,816   1,100  22.4%" "daily row (samples/README.md)"

# week 1 has nothing before it; week 3 has no reports: all went silent
mxd report --from 2026-11-09 --to 2026-11-16
expect_in "$out" "  New           - (no earlier reports to compare with)" "no history"
expect_in "$out" "  Failure rate  0.0% (no sessions in the previous 7 days)" "no previous window: no rate change"
expect_in "$out" "  mx3.example.org       7       -  starttls-not-supported     2" \
	"no previous window: no count change either, not a rise of 7"
expect_eq "$(printf '%s\n' "$out" | grep -c '^  Silent        none$')" 1 "nobody reported before: nobody went silent"
mxd report --from 2026-11-09 --to 2026-11-16 --format json
expect_eq "$(json 'd["totals"]["failure_rate_change"]')" None "JSON: no previous window, a null change"
mxd report --from 2026-11-23 --to 2026-11-30
expect_in "$out" "  Silent        Google Inc., Microsoft Corporation and 5 more" "silent reporters, as many as fit"
expect_in "$out" "No reports in this window." "empty window"
mxd report --from 2026-11-23 --to 2026-11-30 --format json
expect_eq "$(json 'len(d["silent_reporters"]), d["silent_reporters"][0]["last_report_start"]')" \
	"7 2026-11-22T00:00:00Z" "silent reporters in JSON"
expect_eq "$(json 'd["totals"]["failure_rate_change"]')" None "JSON: no sessions now, a null change"

# --top N: N rows, then one "others" row that sums the rest
mxd report --from 2026-11-16 --to 2026-11-23 --top 2
expect_in "$out" "  (2 others)           23" "MX others row: 17 + 6"
expect_eq "$(printf '%s\n' "$out" | grep '^  (5 others)' | awk '{print $3, $4, $5, $6}')" "10 624 90 14.4%" \
	"organization others row: reports, sessions, failed, rate of the rest"
expect_in "$out" "  ... and 5 more (use --top 0 to see all)" "hint after the organizations"
expect_eq "$(printf '%s\n' "$out" | tail -1)" "  ... and 3 more (use --top 0 to see all)" \
	"the same hint after the quarantine, the last table"

# 80 columns, whatever the window, filter or --top
for args in "--top 0" "--top 1" "--top 3" "--since 2w" "--since 12h" "--from 2026-11-01 --to 2026-12-01" \
	    "--domain example.org" "--org Mail.ru" "--mx mx2.example.org"; do
	# shellcheck disable=SC2086
	MXDIGEST_NOW=2026-11-23T09:30:00Z mxd report $args
	expect_rc 0 "report $args"
	printf '%s\n' "$out" | $PY "$W" 80 >"$TMP/wide" || { fail "report $args: wider than 80 columns"; cat "$TMP/wide" >&2; }
done

# filters: host names in any case; the filter is said in the heading
mxd report --from 2026-11-16 --to 2026-11-23 --mx MX3.Example.ORG
expect_in "$out" "Only MX host mx3.example.org" "filter named"
expect_in "$out" "  mx3.example.org      17" "--mx is case-insensitive"

# colour: never in a pipe or with NO_COLOR, always when asked
mxd report --from 2026-11-16 --to 2026-11-23
if printf '%s' "$out" | grep -q "$(printf '\033')"; then fail "colour in a pipe"; fi
mxd report --from 2026-11-16 --to 2026-11-23 --color always
expect_in "$out" "$(printf '\033[31m▲ 3,902\033[0m')" "--color always paints a worse change red"
if command -v script >/dev/null 2>&1; then
	NO_COLOR= script -qec "$MXDIGEST --db $DB report --from 2026-11-16 --to 2026-11-23" /dev/null >"$TMP/tty" 2>&1
	grep -q "$(printf '\033')" "$TMP/tty" || fail "no colour on a terminal"
	NO_COLOR=1 script -qec "$MXDIGEST --db $DB report --from 2026-11-16 --to 2026-11-23" /dev/null >"$TMP/tty" 2>&1
	if grep -q "$(printf '\033')" "$TMP/tty"; then fail "colour on a terminal with NO_COLOR"; fi
fi

finish
