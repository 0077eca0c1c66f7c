#!/bin/sh
# mxdigest reparse: quarantined messages that can now be read move into
# the reports, changed readings are updated, nothing is lost or counted
# twice, and the summary says what changed.
. "$(dirname "$0")/lib.sh"

# A first run with a small size cap quarantines most mails (as an older,
# stricter version would); the cap is then raised.
printf 'max_message_size = 2k\n' > "$TMP/small"
set +e
"$MXDIGEST" --config "$TMP/small" --db "$DB" import "$SAMPLES" >"$TMP/o1" 2>"$TMP/e1"
set -e
toobig=$(grep -c "exceeds the 2048-byte cap" "$TMP/e1" || true)
[ "$toobig" -gt 10 ] || fail "the small cap should quarantine many mails ($toobig)"
mxd report --from 2026-11-01 --to 2026-12-01 --format json
partial=$(json 'd["totals"]["reports"]')

mxd -v reparse
expect_rc 0 "reparse with nothing newly broken"
expect_in "$out" "0 newly quarantined, 5 still quarantined" "reparse summary"
recovered=$(printf '%s' "$out" | sed -n 's/.* \([0-9]*\) recovered from quarantine.*/\1/p')
[ "$recovered" -gt 10 ] || fail "reports recovered from quarantine: $recovered"
expect_in "$err" "read now, out of quarantine" "-v names the recovered messages"
mxd report --from 2026-11-01 --to 2026-12-01 --format json
expect_eq "$(json 'd["totals"]["reports"]')" 45 "all 45 sample reports counted once"
expect_eq "$(json 'd["totals"]["quarantined"]')" 5 "only the broken samples stay"
[ "$partial" -lt 45 ] || fail "the first run should have missed reports ($partial)"

# the same store as a plain import gives, number for number
mxd report --from 2026-11-01 --to 2026-12-01 --format json
after=$(printf '%s' "$out" | sed 's/"generated":"[^"]*"//')
DB2=$(new_db plain)
"$MXDIGEST" --db "$DB2" import "$SAMPLES" >/dev/null 2>&1 || true
plain=$("$MXDIGEST" --db "$DB2" report --from 2026-11-01 --to 2026-12-01 --format json | sed 's/"generated":"[^"]*"//')
expect_eq "$after" "$plain" "reparse gives what a fresh import gives"

# a second reparse changes nothing
mxd reparse
expect_in "$out" "0 updated, 0 recovered from quarantine, 0 newly quarantined, 5 still quarantined" "idempotent"
mxd report --from 2026-11-01 --to 2026-12-01 --format json
expect_eq "$(printf '%s' "$out" | sed 's/"generated":"[^"]*"//')" "$plain" "digest unchanged by a second reparse"

# a stored reading that differs from what the parser says now is updated
sql "UPDATE reports SET notes = 'stale' WHERE id IN (SELECT id FROM reports LIMIT 3)"
mxd reparse
expect_in "$out" ", 3 updated," "stale readings updated"

# quarantine retry re-reads only the quarantine
mxd quarantine retry
expect_in "$out" "5 messages re-read: 0 reports unchanged" "retry reads the quarantine only"
expect_in "$out" "5 still quarantined" "retry summary"

finish
