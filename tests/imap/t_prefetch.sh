#!/usr/bin/env bash
# The next batch downloads while this one is stored (cli/cmd_fetch.c,
# struct prefetch): against a real Dovecot, the second batch's UID FETCH
# goes out before the first batch is committed, and the store ends up as
# an import of the same files; against a server that never answers the
# second batch's FETCH, the first batch is committed all the same, SIGTERM
# ends the fetch within 2 seconds, and a rerun stores the rest exactly once.
. "$(dirname "$0")/lib.sh"

# 1,200 mails: batches of 500, 500 and 200
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 1200 --seed 21 --out "$TMP/md" --quiet
reference "$TMP/ref.db" "$TMP/md"

srv_start
"$H" deliver-dir "$SRV" "$TMP/md" || die "deliver-dir failed"
conf host=127.0.0.1
mxd -v -D imap fetch
expect_rc 0 "fetch of 1,200 mails"
expect_in "$out" "1,200 new reports" "every report stored"
# the order of events in the debug log: the body FETCH of UIDs 501-1000
# was sent before the first batch (UIDs 1-500) was stored
grep -n 'C: [^ ]* UID FETCH [0-9,:]* (UID BODY.PEEK\[\])' "$TMP/err" >"$TMP/fetches"
expect_eq "$(wc -l <"$TMP/fetches")" 3 "three body FETCHes (500, 500, 200)"
second=$(sed -n '2s/:.*//p' "$TMP/fetches")
stored1=$(grep -n 'stored 500 messages, UIDs 1 to 500' "$TMP/err" | head -n 1 | cut -d: -f1)
[ -n "$second" ] && [ -n "$stored1" ] || fail "the log lacks the FETCHes or the first commit"
[ -n "$second" ] && [ -n "$stored1" ] && [ "$second" -lt "$stored1" ] ||
	fail "the second batch was not asked for before the first was stored (lines $second, $stored1)"
expect_eq "$(digest "$DB" noq)" "$(digest "$TMP/ref.db" noq)" "the store equals an import of the files"
expect_eq "$(sql 'SELECT last_uid FROM imap_state')" 1200 "sync state at the last UID"

# A server that answers the first batch and then nothing: the download of
# the second hangs while the first is stored.
rm -f "$DB" "$DB"-* "$DB.lock"
mkdir -p "$MAIL"
n=0
for f in $(find "$TMP/md/cur" "$TMP/md/new" -type f | sort | head -n 600); do
	n=$((n + 1))
	cp "$f" "$MAIL/$(printf '%04d' "$n").eml"
done
reference "$TMP/ref600.db" "$MAIL"
scripted_start silent-second-fetch
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=60 user=tester
"$MXDIGEST" --config "$CONF" fetch >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
BG_PIDS="$BG_PIDS $pid"
first_stored() { [ "$(sql 'SELECT count(*) FROM reports' 2>/dev/null)" = 500 ]; }
wait_for 20 fired silent-second-fetch || fail "the second batch was never asked for"
wait_for 30 first_stored || fail "the first batch was not stored while the second hung"
expect_eq "$(sql 'SELECT last_uid FROM imap_state')" 500 "sync state after the first batch"
term_within 2 "$pid" "seconds from SIGTERM to exit while the next batch downloads"
expect_rc 75 "interrupted"
expect_in "$err" "UID FETCH (BODY.PEEK[]): interrupted" "said so"
expect_in "$err" "the batches stored before the error are kept" "and that the first batch is kept"
expect_eq "$(sql 'SELECT count(*) FROM reports')" 500 "nothing of the second batch stored"

# the server behaves again: the rest, once
scripted_start ""
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=20 user=tester
mxd fetch
expect_rc 0 "the rerun"
expect_in "$out" "100 new reports, 0 duplicates" "the rerun stores the other 100"
expect_eq "$(sql 'SELECT last_uid FROM imap_state')" 600 "sync state at the last UID"
expect_eq "$(digest "$DB" noq)" "$(digest "$TMP/ref600.db" noq)" \
	"the store equals an import of the 600 files"
scripted_stop
finish
