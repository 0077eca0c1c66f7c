#!/usr/bin/env bash
# The digest on a PostgreSQL store sends its scans ahead, in one pipeline
# (store_scan_ahead(): the two windows, the weeks before and, for the
# formats that list them, the failure details), and reads
# their rows as the server answers.  What can happen to that pipeline:
#   a. the digest of the samples is the one of a SQLite store of the same
#      mails, in every format, with and without filters (the "new this
#      window" flags of the weeks before included);
#   b. a scan in the middle of the pipeline fails (a role that may not
#      read policies, which only the third scan reads): exit 74, one line
#      naming the database and the server's reason, at once, no crash;
#      the statements after it are not waited for;
#   c. a scan in the middle waits for a lock another session holds
#      (LOCK TABLE policies): the digest waits, then prints the same
#      digest once the lock is gone;
#   d. the session is ended by the server while the digest waits in the
#      middle of its pipeline: exit 69, one line saying the connection was
#      lost, within seconds, no crash.
# Exit 77 (skipped) without PostgreSQL 15, unless MXDIGEST_REQUIRE_PG=1.
. "$(dirname "$0")/lib.sh"

need_pg

# the digest without its time of making
plain() { sed 's/"generated":"[^"]*"/"generated":"X"/'; }

say "starting PostgreSQL (cluster pg)"
pg_up pg
A=$(newdb pg reader)
mkdir -p "$TMP/mails"
find "$SAMPLES" -type f ! -path '*/broken/*' \( -name '*.eml' -o -name '*.json' -o -name '*.json.gz' \) \
	-exec cp -t "$TMP/mails" {} +
mxe "import into PostgreSQL" 0 --db "$A" import --dkim=off "$TMP/mails"
mxe "import into SQLite" 0 --db "$TMP/s.db" import --dkim=off "$TMP/mails"
[ "$(rows "$A" reports)" -gt 20 ] || fail "the samples gave only $(rows "$A" reports) reports"

# ---------------------------------------------------------------------------
say "a. the same digest as SQLite's"
UNTIL=2026-11-23T00:00:00Z
for args in "--format json" "--format text" "--format csv" "--format csv --by detail" \
	    "--format json --since 3d" \
	    "--format json --domain example.org" "--format json --org Google Inc." \
	    "--format json --mx mx2.example.org" "--format json --dkim=require"; do
	# shellcheck disable=SC2086
	set -- $args
	case "$args" in *"--org Google Inc."*) set -- --format json --org "Google Inc." ;; esac
	case "$args" in *--since*) ;; *) set -- "$@" --since 7d ;; esac
	mxe "a.: PostgreSQL $*" 0 --db "$A" report --until "$UNTIL" "$@"
	printf '%s\n' "$out" | plain > "$TMP/pg.out"
	mxe "a.: SQLite $*" 0 --db "$TMP/s.db" report --until "$UNTIL" "$@"
	printf '%s\n' "$out" | plain > "$TMP/sqlite.out"
	cmp -s "$TMP/pg.out" "$TMP/sqlite.out" ||
		fail "a.: report $* differs between the backends: $(diff "$TMP/sqlite.out" "$TMP/pg.out" | head -5)"
done
mxe "a.: reference digest" 0 --db "$A" report --until "$UNTIL" --since 7d --format json
printf '%s\n' "$out" | plain > "$TMP/ref.json"
"$PYTHON" - "$TMP/ref.json" <<'EOF' || fail "a.: the reference digest does not show what the test needs"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["totals"]["reports"] > 0, "no reports in the window"
assert d["totals"]["failed_sessions"] > 0, "no failures in the window"
assert d["by_mx_host"], "no MX hosts"
EOF

# ---------------------------------------------------------------------------
say "b. a scan in the middle of the pipeline fails"
q "$A" "CREATE ROLE mxd_nopol LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO mxd_nopol;
	REVOKE SELECT ON policies FROM mxd_nopol" >/dev/null || fail "b.: could not create the role"
B=$(printf '%s\n' "$A" | sed 's|//mxdigest@|//mxd_nopol@|')
mxe "b.: report as a role that may not read policies" 74 --db "$B" report --until "$UNTIL" --since 7d --format json
one_line "$err" "b.: report without policies"
expect_in "$err" "permission denied for table policies" "b.: the server's reason"
expect_in "$err" "reader" "b.: the database is named"
within 10 "$secs" "b.: seconds to fail"
[ -z "$out" ] || fail "b.: a digest was printed after the failure: ${out:0:200}"

# ---------------------------------------------------------------------------
say "c. a scan in the middle waits for a lock"
PGAPPNAME=mxd-locker timeout 90 "$PGBIN/psql" -XAtq -d "$A" \
	-c "BEGIN" -c "LOCK TABLE policies IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(4)" -c "COMMIT" \
	>/dev/null 2>&1 &
locker=$!
BG_PIDS="$BG_PIDS $locker"
wait_for 10 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.relation = '"'policies'::regclass"' AND l.granted AND a.application_name = '"'mxd-locker'"'")" -ge 1 ]' \
	"$PGBIN/psql" "$A" || fail "c.: the locking session did not get its lock"
mxe "c.: report while policies is locked" 0 --db "$A" report --until "$UNTIL" --since 7d --format json
printf '%s\n' "$out" | plain > "$TMP/c.json"
cmp -s "$TMP/ref.json" "$TMP/c.json" || fail "c.: the digest after the wait differs from the reference"
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5) }' || fail "c.: the digest did not wait for the lock (${secs} s)"
reap "$locker" 20 "c.: the locking psql"

# ---------------------------------------------------------------------------
say "d. the session ended by the server in the middle of the pipeline"
PGAPPNAME=mxd-locker timeout 90 "$PGBIN/psql" -XAtq -d "$A" \
	-c "BEGIN" -c "LOCK TABLE policies IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(60)" \
	>/dev/null 2>&1 &
locker=$!
BG_PIDS="$BG_PIDS $locker"
wait_for 10 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.relation = '"'policies'::regclass"' AND l.granted AND a.application_name = '"'mxd-locker'"'")" -ge 1 ]' \
	"$PGBIN/psql" "$A" || fail "d.: the locking session did not get its lock"
t=$(now_ms)
${MXD_WRAPPER:-} timeout 60 "$MXDIGEST" --db "$A" report --until "$UNTIL" --since 7d --format json \
	>"$TMP/out" 2>"$TMP/err" </dev/null &
digest=$!
BG_PIDS="$BG_PIDS $digest"
# the digest's session waits for the lock: end it from the server
wait_for 20 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.relation = '"'policies'::regclass"' AND NOT l.granted AND a.application_name <> '"'mxd-locker'"'")" -ge 1 ]' \
	"$PGBIN/psql" "$A" || fail "d.: the digest never waited for the lock"
q "$A" "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.relation = 'policies'::regclass AND NOT l.granted AND a.application_name <> 'mxd-locker'" >/dev/null
reap "$digest" 20 "d.: the digest whose session was ended"
secs=$(secs_since "$t")
out=$(cat "$TMP/out")
err=$(cat "$TMP/err")
echo "  d.: exit $rc in ${secs}s: $err"
expect_rc 69 "d.: report whose session the server ended"
no_crash "d.: report whose session the server ended"
one_line "$err" "d.: report whose session the server ended"
expect_in "$err" "connection to the database lost" "d.: the error says the connection was lost"
[ -z "$out" ] || fail "d.: a digest was printed: ${out:0:200}"
q "$A" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mxd-locker'" >/dev/null
reap "$locker" 20 "d.: the locking psql"

say "done in $(secs_since "$T0") s"
finish
