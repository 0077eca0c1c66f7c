#!/usr/bin/env bash
# How long a writer waits for another mxdigest on a PostgreSQL store
# (store_open()'s lock_wait_ms, 5 s for the command line's writers):
#   a. the schema lock held by another session while the store is empty
#      (another host creating the schema): an import ends within 10 s with
#      75 and one line saying the lock is held; once it is free, the same
#      import runs (exit 0);
#   b. the dictionary lock held: reparse --recompress ends within 10 s with
#      75 and one line; free, it runs;
#   c. lock_timeout given in the connection string bounds those waits
#      instead (1.5 s);
#   d. the mailbox lock of fetch is never waited for with a bound: held,
#      fetch says "skipped" (exit 0, no IMAP connection), and fetch --watch
#      waits past lock_wait_ms ("waiting to take over"), until SIGTERM.
# Exit 77 (skipped) without PostgreSQL 15, unless MXDIGEST_REQUIRE_PG=1.
. "$(dirname "$0")/lib.sh"

need_pg

say "starting PostgreSQL (cluster pg)"
pg_up pg
mkdir -p "$TMP/small"
find "$SAMPLES" -type f ! -path '*/broken/*' -name '*.eml' | head -n 10 | xargs cp -t "$TMP/small"

# the advisory lock key of store/db_pg.c's lock_key(): FNV-1a (64 bits) of
# the kind's byte, a NUL and the key, as a signed bigint
lock_key() {
	"$PYTHON" -c '
import sys
h = 14695981039346656037
for b in bytes([int(sys.argv[1]), 0]) + sys.argv[2].encode():
    h = ((h ^ b) * 1099511628211) % 2**64
print(h - 2**64 if h >= 2**63 else h)' "$1" "$2"
}
DICT_KEY=$(lock_key 1 dictionary)
MAILBOX_KEY=$(lock_key 0 "$(printf 'test\037INBOX')")

# hold URI SQL: another session that runs SQL and then holds on (60 s at
# most); sets $holder.  unhold ends it.
hold() {
	PGAPPNAME=mxd-holder timeout 90 "$PGBIN/psql" -XAtq -d "$1" -c "$2" \
		-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
	holder=$!
	BG_PIDS="$BG_PIDS $holder"
	wait_for 10 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = '"'advisory'"' AND l.granted AND a.application_name = '"'mxd-holder'"'")" -ge 1 ]' \
		"$PGBIN/psql" "$1" || fail "the holding session did not get its lock"
}
unhold() {
	q "$1" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mxd-holder'" >/dev/null
	reap "$holder" 10 "the holding psql"
}

# ---------------------------------------------------------------------------
say "a. the schema lock held while the store is empty"
A=$(newdb pg schema)
# a transaction's lock: BEGIN stays open past the string, into the sleep
hold "$A" "BEGIN; SELECT pg_advisory_xact_lock(1836606567, 1)"
mxe "a.: import while the schema lock is held" 75 --db "$A" import --dkim=off "$TMP/small"
within 10 "$secs" "a.: seconds to give up on the schema lock (lock_wait_ms 5000)"
awk -v s="$secs" 'BEGIN { exit !(s >= 4.5) }' || fail "a.: gave up after $secs s, before lock_wait_ms (5 s)"
one_line "$err" "a.: import while the schema lock is held"
expect_in "$err" "the schema lock: held by another mxdigest (waited 5000 ms); try again" \
	"a.: the error says who holds what"
unhold "$A"
mxe "a.: the import once the lock is free" 0 --db "$A" import --dkim=off "$TMP/small"
expect_in "$out" "10 messages read, 10 new reports" "a.: the import once the lock is free"

# ---------------------------------------------------------------------------
say "b. the dictionary lock held"
hold "$A" "SELECT pg_advisory_lock($DICT_KEY)"
mxe "b.: reparse --recompress while the dictionary lock is held" 75 \
	--db "$A" reparse --recompress
within 10 "$secs" "b.: seconds to give up on the dictionary lock (lock_wait_ms 5000)"
awk -v s="$secs" 'BEGIN { exit !(s >= 4.5) }' || fail "b.: gave up after $secs s, before lock_wait_ms (5 s)"
one_line "$err" "b.: reparse --recompress while the dictionary lock is held"
expect_in "$err" "the dictionary lock: held by another mxdigest (waited 5000 ms); try again" \
	"b.: the error says who holds what"
mxe "b.: an import while the dictionary lock is held (only tried: left to the holder)" 0 \
	--db "$A" import --dkim=off "$TMP/small"
unhold "$A"
mxe "b.: reparse --recompress once the lock is free" 0 --db "$A" reparse --recompress

# ---------------------------------------------------------------------------
say "c. lock_timeout in the connection string bounds those waits instead"
hold "$A" "SELECT pg_advisory_lock($DICT_KEY)"
mxe "c.: reparse --recompress, lock_timeout=1500 in the string" 75 \
	--db "$A&options=-c%20lock_timeout%3D1500" reparse --recompress
within 4 "$secs" "c.: seconds to give up with lock_timeout=1500"
one_line "$err" "c.: reparse --recompress, lock_timeout=1500 in the string"
expect_in "$err" "the dictionary lock: held by another mxdigest (canceling statement due to lock timeout); try again" \
	"c.: the error says who holds what"
unhold "$A"

# ---------------------------------------------------------------------------
say "d. the mailbox lock of fetch: tried, never bounded"
(umask 077 && printf 'x\n' >"$TMP/password")
printf 'database = %s\n\n[account test]\nhost = 127.0.0.1\nport = 1\nuser = tester\npassword_file = %s\n' \
	"$A" "$TMP/password" >"$TMP/fetch.conf"
hold "$A" "SELECT pg_advisory_lock($MAILBOX_KEY)"
mxe "d.: fetch while another holds the mailbox" 0 --config "$TMP/fetch.conf" fetch
expect_in "$out" 'test: skipped: another mxdigest is fetching "INBOX" into this store' \
	"d.: fetch skips a mailbox another mxdigest fetches"
ready
bg watch --config "$TMP/fetch.conf" fetch --watch
P=$bg_pid
go
sleep 8
alive "$P" || fail "d.: fetch --watch ended while the mailbox was held (after 8 s; lock_wait_ms is 5 s): $(cat "$TMP/watch.err")"
expect_in "$(cat "$TMP/watch.err")" 'another mxdigest is fetching "INBOX" into this store: waiting to take over' \
	"d.: fetch --watch waits to take over"
C=$(bg_child "$P")
[ -z "$C" ] || kill -TERM "$C"
reap "$P" 10 "d.: fetch --watch after SIGTERM"
echo "  fetch --watch: still waiting after 8 s, then exit $rc after SIGTERM: $(cat "$TMP/watch.out" "$TMP/watch.err" | tr '\n' ' ')"
no_crash "d.: fetch --watch after SIGTERM"
unhold "$A"

say "done in $(secs_since "$T0") s"
finish
