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
#      lost, within seconds, no crash;
#   e. the server stops answering (SIGSTOP, over TCP) while the digest
#      waits in the middle of its pipeline: exit 69 within 45 s (the
#      watchdog asks after 20 s of silence), one line, no crash.
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

# lock_policies WHAT SECONDS: another session holds policies (which only the
# third scan of the pipeline reads) for SECONDS; sets $locker
WAITING_ON_POLICIES="SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.relation = 'policies'::regclass AND a.application_name"
lock_policies() {
	PGAPPNAME=mxd-locker timeout 120 "$PGBIN/psql" -XAtq -d "$A" -c "BEGIN" \
		-c "LOCK TABLE policies IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep($2)" \
		>/dev/null 2>&1 &
	locker=$!
	BG_PIDS="$BG_PIDS $locker"
	wait_for 10 sh -c '[ "$("$0" -XAtq -d "$1" -c "$2 = '"'mxd-locker'"' AND l.granted")" -ge 1 ]' \
		"$PGBIN/psql" "$A" "$WAITING_ON_POLICIES" || fail "$1: the locking session did not get its lock"
}
unlock_policies() {
	q "$A" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mxd-locker'" >/dev/null
	reap "$locker" 20 "$1: the locking psql"
}

# digest_waiting WHAT: a digest in the background (sets $digest, $t) that
# has reached the wait for policies in the middle of its pipeline
digest_waiting() {
	t=$(now_ms)
	${MXD_WRAPPER:-} timeout 90 "$MXDIGEST" --db "$A" report --until "$UNTIL" --since 7d \
		--format json >"$TMP/out" 2>"$TMP/err" </dev/null &
	digest=$!
	BG_PIDS="$BG_PIDS $digest"
	wait_for 20 sh -c '[ "$("$0" -XAtq -d "$1" -c "$2 <> '"'mxd-locker'"' AND NOT l.granted")" -ge 1 ]' \
		"$PGBIN/psql" "$A" "$WAITING_ON_POLICIES" || fail "$1: the digest never waited for the lock"
}

# digest_ended WHAT RC NEEDLE: the digest of digest_waiting() ends within
# 60 s with RC, one line on stderr that holds NEEDLE, no digest
digest_ended() {
	reap "$digest" 60 "$1: the digest"
	secs=$(secs_since "$t")
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
	echo "  $1: exit $rc in ${secs}s: $err"
	expect_rc "$2" "$1"
	no_crash "$1"
	one_line "$err" "$1"
	expect_in "$err" "$3" "$1: the error says why"
	[ -z "$out" ] || fail "$1: a digest was printed: ${out:0:200}"
}

# ---------------------------------------------------------------------------
say "c. a scan in the middle waits for a lock"
lock_policies c. 4
mxe "c.: report while policies is locked" 0 --db "$A" report --until "$UNTIL" --since 7d --format json
printf '%s\n' "$out" | plain > "$TMP/c.json"
cmp -s "$TMP/ref.json" "$TMP/c.json" || fail "c.: the digest after the wait differs from the reference"
awk -v s="$secs" 'BEGIN { exit !(s >= 1.5) }' || fail "c.: the digest did not wait for the lock (${secs} s)"
reap "$locker" 20 "c.: the locking psql"

# ---------------------------------------------------------------------------
say "d. the session ended by the server in the middle of the pipeline"
lock_policies d. 60
digest_waiting d.
q "$A" "SELECT pg_terminate_backend(l.pid) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.relation = 'policies'::regclass AND NOT l.granted AND a.application_name <> 'mxd-locker'" >/dev/null
digest_ended d. 69 "connection to the database lost"
within 20 "$secs" "d.: seconds to end"
unlock_policies d.

# ---------------------------------------------------------------------------
say "e. the server stops answering in the middle of the pipeline (SIGSTOP, TCP)"
case $A in postgresql://*@127.0.0.1:*) ;; *) die "not a TCP URI: $A" ;; esac
lock_policies e. 100
digest_waiting e.
STOPPED=$(server_pids pg) || die "e.: no postmaster PID"
# shellcheck disable=SC2086
kill -STOP $STOPPED || fail "e.: kill -STOP $STOPPED"
digest_ended e. 69 "the server has not answered for"
within 45 "$secs" "e.: seconds to give up on a silent server (the watchdog asks after 20 s)"
# shellcheck disable=SC2086
kill -CONT $STOPPED
STOPPED=""
unlock_policies e.

say "done in $(secs_since "$T0") s"
finish
