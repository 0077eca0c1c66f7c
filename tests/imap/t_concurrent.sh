#!/usr/bin/env bash
# Two fetches at once (overlapping cron runs) against a real Dovecot: the
# store's lock lets one write; the other waits, or gives up with exit
# status 75 and a clear message, before logging in; in the end every report
# is stored exactly once.
. "$(dirname "$0")/lib.sh"

srv_start
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 3000 --seed 4 --out "$TMP/md" --quiet
"$H" deliver-dir "$SRV" "$TMP/md" || die "deliver-dir failed"
reference "$TMP/ref.db" "$TMP/md"
conf

# two at once
${MXD_WRAPPER:-} "$MXDIGEST" --config "$CONF" fetch >"$TMP/a.out" 2>"$TMP/a.err" &
A=$!
${MXD_WRAPPER:-} "$MXDIGEST" --config "$CONF" fetch >"$TMP/b.out" 2>"$TMP/b.err" &
B=$!
BG_PIDS="$A $B"
wait "$A"
ra=$?
wait "$B"
rb=$?
BG_PIDS=""
echo "concurrent fetches: exit $ra and $rb"
for r in "$ra" "$rb"; do
	case $r in 0 | 75) ;; *) fail "a concurrent fetch exited with $r: $(cat "$TMP/a.err" "$TMP/b.err")" ;; esac
done
[ "$ra" = 0 ] || [ "$rb" = 0 ] || fail "neither concurrent fetch succeeded"
for x in a b; do
	if grep -q . "$TMP/$x.err"; then
		expect_in "$(cat "$TMP/$x.err")" "another mxdigest is writing to this database" "the waiting fetch says why"
	fi
done
total=$(cat "$TMP/a.out" "$TMP/b.out" | sed -n 's/.* \([0-9,]*\) new reports*,.*/\1/p' | tr -d , |
	awk '{ s += $1 } END { print s + 0 }')
expect_eq "$total" 3000 "new reports over both fetches"
expect_eq "$(digest "$DB" noq)" "$(digest "$TMP/ref.db" noq)" "every report stored once"
mxd fetch
expect_rc 0 "a third fetch"
expect_in "$out" "test: 0 messages fetched" "nothing left for a third fetch"

# the lock held by someone else for longer than the wait: 75, no login
flock "$DB.lock" sleep 8 &
L=$!
BG_PIDS="$L"
sleep 0.3
log_mark
start=$(date +%s)
mxd fetch
expect_rc 75 "fetch while the database is locked"
expect_in "$err" "another mxdigest is writing to this database (waited 5000 ms)" "locked message"
secs=$(($(date +%s) - start))
[ "$secs" -ge 4 ] && [ "$secs" -le 8 ] || fail "the lock wait took $secs s, expected about 5"
expect_not_in "$(log_since)" "Login: user=" "no login while the database is locked"
kill -TERM "$L" 2>/dev/null
wait "$L" 2>/dev/null
BG_PIDS=""

finish
