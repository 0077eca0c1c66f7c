#!/usr/bin/env bash
# Faults of a PostgreSQL store:
#   a. the server stopped (pg.sh stop: fast shutdown) while an import of
#      20,000 mails is in the middle, twice: right after the first batch's
#      commit, and within a later batch (after a restart, the import run
#      again): mxdigest ends within 60 s (measured), exit 69, one error line
#      naming the database and why (plus the "run it again" hint: no
#      warning about the unlock or the dictionary), no crash; after a
#      restart of the same cluster a rerun gives the store of an
#      uninterrupted import (row counts, JSON digest);
#   b. kill -9 of a fetch (Dovecot) and of an import in the middle, then a
#      rerun: the store equals an uninterrupted run, only what was not
#      committed is redone, and the killed fetch's session advisory lock is
#      gone (the next fetch is not "skipped");
#   c. connection errors, each one line on stderr and its exit status: no
#      listener (fast), no such database, a malformed string, a password in
#      the string (refused, never shown), password authentication (a second
#      cluster with scram-sha-256 and TLS: no password, database_password_
#      command right and wrong, PGPASSFILE), TLS required but not offered,
#      and verify-full by default for a host that is not this machine;
#   d. a server that accepts TCP and never answers: mxdigest gives up after
#      connect_timeout (10 s by default; 2 s when the string says so); a
#      table locked by another session: statement_timeout and lock_timeout
#      given in the string end the run with one line.
# The references (uninterrupted runs) are made in the background on a
# cluster of their own while the faults are tried.
# Exit 77 (skipped) without PostgreSQL 15 or Dovecot, unless
# MXDIGEST_REQUIRE_PG=1 / MXDIGEST_REQUIRE_DOVECOT=1.
. "$(dirname "$0")/lib.sh"

need_servers
say "starting PostgreSQL clusters pg (under test) and ref (references), Dovecot, and pw (scram-sha-256 + TLS)"
pg_up pg
pg_up ref
srv_start
pg_up pw MXD_PG_AUTH=scram MXD_PG_SSL_CERT="$MXD_SERVER_CERT" \
	MXD_PG_SSL_KEY="$MXD_DOVECOT_DIR/tls/server.key"
PG_PORT=$(pg_env pg MXD_PG_PORT)
PW_PORT=$(pg_env pw MXD_PG_PORT)
PW_PASS=$(cat "$(pg_env pw MXD_PG_PASSWORD_FILE)") || die "no password for cluster pw"
say "generating 20,000 report mails (md20k) and 3,000 (box, delivered to INBOX)"
gen "$TMP/md20k" 7 20000
gen "$TMP/box" 4 3000
"$H" deliver-dir "$SRV" "$TMP/box" || die "deliver-dir failed"
mkdir -p "$TMP/small"
find "$TMP/box/cur" -type f | sort | head -n 20 | xargs cp -t "$TMP/small"

say "references, in the background on cluster ref: import of md20k, import of box, fetch of INBOX"
R20=$(newdb ref r20k)
RBOX=$(newdb ref rbox)
RFETCH=$(newdb ref rfetch)
DB=$RFETCH
conf
cp "$CONF" "$TMP/ref.conf"
ready
bg ref20 --db "$R20" import "$TMP/md20k"
REF20_PID=$bg_pid
bg refbox --db "$RBOX" import "$TMP/box"
REFBOX_PID=$bg_pid
bg reffetch --config "$TMP/ref.conf" fetch
REFFETCH_PID=$bg_pid
go

# ---------------------------------------------------------------------------
A=$(newdb pg stop20k)
# stop_during WHEN MIN_REPORTS PAUSE: starts the import of md20k into $A,
# stops the server once $A holds MIN_REPORTS reports and PAUSE seconds more
# have passed, checks how the import ends, starts the server again
stop_during() {
	local when=$1 before t_stop stop_took ended named
	say "a. the server stopped (pg.sh stop, fast shutdown) during an import of 20,000 mails: $when"
	ready
	bg stop20k --db "$A" import "$TMP/md20k"
	P=$bg_pid
	go
	wait_rows "$A" reports "$2" 90 || fail "a.: not $2 reports stored within 90 s"
	sleep "$3"
	before=$(rows "$A" reports)
	t_stop=$(now_ms)
	"$PGSH" stop "$TMP/pg" || fail "a.: pg.sh stop failed"
	stop_took=$(secs_since "$t_stop")
	reap "$P" 60 "a.: the import after the server stopped ($when)"
	ended=$(secs_since "$t_stop")
	err=$(cat "$TMP/stop20k.err")
	echo "  $before reports committed when the server was stopped; pg_ctl stop took ${stop_took}s;"
	echo "  the import ended ${ended}s after the stop began, exit $rc; stdout: [$(cat "$TMP/stop20k.out")]"
	printf '%s\n' "$err" | sed 's/^/  stderr: /'
	within 60 "$ended" "a.: seconds from the stop to the end of the import ($when)"
	expect_rc 69 "a.: the import when the server goes away ($when; 69: connection lost)"
	no_crash "a.: the import when the server goes away ($when)"
	named=$(printf '%s\n' "$err" | grep -c "\"postgresql://mxdigest@127.0.0.1:$PG_PORT/stop20k\"")
	expect_eq "$named" 1 "a.: lines on stderr naming the database ($when)"
	expect_in "$err" "connection to the database lost (" "a.: the error says the connection was lost, and why ($when)"
	expect_eq "$([ "$(printf '%s\n' "$err" | wc -l)" -le 2 ] && echo yes)" yes \
		"a.: no more than one error line and the \"run it again\" hint on stderr ($when)"
	"$PGSH" start "$TMP/pg" || die "a.: the cluster did not start again"
	expect_eq "$(pg_env pg MXD_PG_PORT)" "$PG_PORT" "a.: the restarted cluster's port"
}
stop_during "right after the first batch's commit" 1 0
stop_during "in the middle of a later batch" $(($(rows "$A" reports) + 1)) 0.7
committed=$(rows "$A" reports)
echo "  after the restart: $committed reports stored; rerunning the import (in the background)"
ready
bg rerun20 --db "$A" import "$TMP/md20k"
RERUN20_PID=$bg_pid
go

# ---------------------------------------------------------------------------
# mxe_err WHAT RC NEEDLE ARGS...: mxdigest ARGS must exit RC with one line
# on stderr that holds NEEDLE; sets $out, $err, $rc, $secs
mxe_err() {
	local what=$1 want=$2 needle=$3
	shift 3
	mxe "$what" "$want" "$@"
	one_line "$err" "$what"
	expect_in "$err" "$needle" "$what"
}

say "c. connection errors"
mxe_err "no listener (port 1)" 69 "Connection refused" \
	--db "postgresql://mxdigest@127.0.0.1:1/x" import "$TMP/small"
within 2 "$secs" "c.: seconds to fail on a port where nothing listens"
expect_in "$err" '"postgresql://mxdigest@127.0.0.1:1/x"' "c.: the refused connection names the database"
mxe_err "no such database" 74 'database "nosuchdb" does not exist' \
	--db "postgresql://mxdigest@127.0.0.1:$PG_PORT/nosuchdb?sslmode=disable" import "$TMP/small"
mxe_err "malformed URI" 78 "the database connection string" \
	--db "postgresql://[bad" import "$TMP/small"
for pwcase in \
	"postgresql://mxdigest:Pw-in-the-string-1@127.0.0.1:$PG_PORT/mxdigest" \
	"host=127.0.0.1 port=$PG_PORT dbname=mxdigest user=mxdigest password=Pw-in-the-string-1" \
	"postgresql://mxdigest:Pw-in-the-string-1@[bad" \
	"postgresql://mxdigest:Pw-in-the-string-1%zz@127.0.0.1:$PG_PORT/mxdigest"; do
	case $pwcase in
	*'[bad' | *%zz*) what="a password in a malformed URI" needle="the database connection string" ;;
	*) what="a password in the connection string" needle="a password in the connection string" ;;
	esac
	mxe_err "$what" 78 "$needle" --db "$pwcase" import "$TMP/small"
	expect_not_in "$out$err" "Pw-in-the-string" "c.: $what: the password is not shown"
done
printf 'database = postgresql://mxdigest:Pw-in-the-string-2@127.0.0.1:%s/mxdigest\n' "$PG_PORT" >"$TMP/pw-in.conf"
mxe_err "a password in the configuration's database" 78 "a password in the connection string" \
	--config "$TMP/pw-in.conf" import "$TMP/small"
expect_not_in "$out$err" "Pw-in-the-string" "c.: the password of the configuration is not shown"

say "c. password authentication (cluster pw: scram-sha-256 for 127.0.0.1)"
PWU="postgresql://mxdigest@127.0.0.1:$PW_PORT/mxdigest"
mxe_err "no password" 77 "no password supplied" --db "$PWU" import "$TMP/small"
expect_in "$err" "~/.pgpass" "c.: the no-password error names ~/.pgpass"
expect_in "$err" "password_command" "c.: the no-password error names password_command"
# pwconf FILE COMMAND: a configuration of the pw cluster with that command
pwconf() {
	printf 'database = %s\ndatabase_password_command = %s\n' "$PWU" "$2" >"$1"
	chmod 600 "$1"
}
pwconf "$TMP/pw-right.conf" "printf $PW_PASS"
mxd_c() {
	${MXD_WRAPPER:-} "$MXDIGEST" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}
mxd_c --config "$TMP/pw-right.conf" import "$TMP/small"
echo "  the right password from database_password_command: exit $rc: $out$err"
expect_rc 0 "c.: import with the right database_password_command"
expect_in "$out" "20 messages read, 20 new reports" "c.: import with the right password"
pwconf "$TMP/pw-wrong.conf" "printf Wrong-pass-word"
mxe_err "a wrong password from database_password_command" 77 \
	'password authentication failed for user "mxdigest"' --config "$TMP/pw-wrong.conf" report --since 7d
expect_not_in "$out$err" "Wrong-pass-word" "c.: the wrong password is not shown"
pwconf "$TMP/pw-false.conf" "false"
mxe_err "a database_password_command that fails" 78 "database_password_command failed" \
	--config "$TMP/pw-false.conf" report --since 7d
(umask 077 && printf '127.0.0.1:%s:*:mxdigest:%s\n' "$PW_PORT" "$PW_PASS" >"$TMP/pgpass")
PGPASSFILE="$TMP/pgpass" mxd_c --db "$PWU" report --from 2025-01-01 --to 2028-01-01 --format json
echo "  the password from PGPASSFILE: exit $rc${err:+: $err}"
expect_rc 0 "c.: report with PGPASSFILE"
expect_in "$out" '"reports":20' "c.: report with PGPASSFILE reads the store"

say "c. TLS"
mxe_err "sslmode=require, the server has no TLS" 76 "server does not support SSL" \
	--db "postgresql://mxdigest@127.0.0.1:$PG_PORT/mxdigest?sslmode=require" import "$TMP/small"
if getent hosts localhost.localdomain 2>/dev/null | grep -q '^127\.0\.0\.1 '; then
	FAR="postgresql://mxdigest@localhost.localdomain:$PG_PORT/mxdigest"
else
	FAR="hostaddr=127.0.0.1 host=db.example port=$PG_PORT user=mxdigest dbname=mxdigest"
fi
echo "  a host that is not this machine: $FAR"
mxe_err "no sslmode, a non-local host name, a server without TLS (verify-full by default)" 76 \
	"SSL was required" --db "$FAR" import "$TMP/small"
FARPW="hostaddr=127.0.0.1 host=db.example port=$PW_PORT user=mxdigest dbname=mxdigest"
mxe_err "no sslmode, a non-local host name, a server with TLS, no root certificate" 76 \
	"root certificate file" --config "$TMP/pw-right.conf" --db "$FARPW" report --since 7d
expect_in "$err" "sslrootcert" "c.: the missing root certificate error says what to give"
mxe_err "no sslmode, a non-local host name, a server with TLS, the CA given" 76 \
	'does not match host name "db.example"' --config "$TMP/pw-right.conf" \
	--db "$FARPW sslrootcert=$MXD_CA" report --since 7d
mxd_c --config "$TMP/pw-right.conf" --db "$FARPW sslmode=require" report --since 7d
echo "  the same with sslmode=require (no verification): exit $rc${err:+: $err}"
expect_rc 0 "c.: sslmode=require given: the server itself is fine"

# ---------------------------------------------------------------------------
say "d. a server that accepts TCP and never answers"
"$PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)		# never read, never answered, never closed
' "$TMP/dead.port" &
DEAD_PID=$!
BG_PIDS="$BG_PIDS $DEAD_PID"
wait_for 10 test -s "$TMP/dead.port" || die "the silent listener did not start"
DEAD=$(cat "$TMP/dead.port")
mxe_err "a silent server, connect_timeout by default" 69 "timeout expired" \
	--db "postgresql://mxdigest@127.0.0.1:$DEAD/mxdigest" import "$TMP/small"
within 12 "$secs" "d.: seconds to give up on a silent server (connect_timeout 10 s)"
awk -v s="$secs" 'BEGIN { exit !(s >= 9) }' || fail "d.: gave up after $secs s, before the 10 s of connect_timeout"
mxe_err "a silent server, connect_timeout=2" 69 "timeout expired" \
	--db "postgresql://mxdigest@127.0.0.1:$DEAD/mxdigest?connect_timeout=2" import "$TMP/small"
within 4 "$secs" "d.: seconds to give up with connect_timeout=2"
reap "$DEAD_PID" 10 "the silent listener" TERM

say "d. a table locked by another session: statement_timeout and lock_timeout of the string"
LK=$(newdb pg locked)
mxd_c --db "$LK" import "$TMP/small"
expect_rc 0 "d.: the import before the lock"
PGAPPNAME=mxd-locker timeout 90 "$PGBIN/psql" -XAtq -d "$LK" -c BEGIN \
	-c "LOCK TABLE messages IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(80)" >/dev/null 2>&1 &
LOCKER=$!
BG_PIDS="$BG_PIDS $LOCKER"
wait_for 10 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = '"'messages'"' AND l.mode = '"'AccessExclusiveLock'"' AND l.granted")" = 1 ]' \
	"$PGBIN/psql" "$LK" || fail "d.: the locking session did not get its lock"
mxe_err "statement_timeout=2000 in the string, a table locked" 74 \
	"canceling statement due to statement timeout" \
	--db "$LK&options=-c%20statement_timeout%3D2000" import "$TMP/box"
within 5 "$secs" "d.: seconds to end on statement_timeout=2000"
mxe_err "lock_timeout=1500 in the string, a table locked" 75 \
	"canceling statement due to lock timeout" \
	--db "$LK&options=-c%20lock_timeout%3D1500" import "$TMP/box"
within 5 "$secs" "d.: seconds to end on lock_timeout=1500"
q "$LK" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mxd-locker'" >/dev/null
reap "$LOCKER" 10 "the locking psql"

# ---------------------------------------------------------------------------
# locks_gone URI: no advisory lock and no mxdigest session left in that
# database within 5 s; sets $gone_after (s)
locks_gone() {
	local t
	t=$(now_ms)
	wait_for 5 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = '"'advisory'"' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) + (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = '"'mxdigest'"')")" = 0 ]' \
		"$PGBIN/psql" "$1"
	local r=$?
	gone_after=$(secs_since "$t")
	return $r
}

say "b. kill -9 of a fetch in the middle (3,000 mails, batches of 500)"
DB=$(newdb pg kill_fetch)
KF=$DB
conf
ready
bg kf --config "$CONF" fetch
P=$bg_pid
go
wait_rows "$KF" messages 1 90 || fail "b.: the fetch stored nothing within 90 s"
kill -KILL "$(bg_child "$P")" || fail "b.: no fetch to kill"
reap "$P" 10 "b.: the killed fetch"
expect_eq "$rc" 137 "b.: the fetch was killed"
kept=$(rows "$KF" messages)
echo "  killed with $kept messages committed"
[ "$kept" -gt 0 ] && [ "$kept" -lt 3000 ] || fail "b.: the fetch was not killed in the middle ($kept of 3000 stored)"
q "$KF" "SELECT 'advisory locks held: ' || count(*) FROM pg_locks WHERE locktype = 'advisory'
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" | sed 's/^/  right after the kill: /'
if locks_gone "$KF"; then
	echo "  the killed fetch's session and its advisory lock were gone after ${gone_after}s"
else
	fail "b.: an advisory lock or session of the killed fetch is still there after 5 s"
fi
mxd fetch
echo "  the next fetch: exit $rc: $out"
expect_rc 0 "b.: the fetch after the kill"
expect_not_in "$out" "skipped" "b.: the fetch after the kill is not skipped (the killed fetch's lock is gone)"
expect_in "$out" "test: $(commas $((3000 - kept))) messages fetched" "b.: the fetch after the kill fetches what was not committed"
expect_eq "$(new_reports "$TMP/out")" $((3000 - kept)) "b.: new reports after the kill"

say "b. kill -9 of an import in the middle (3,000 mails, batches of 1,000)"
KI=$(newdb pg kill_import)
ready
bg ki --db "$KI" import "$TMP/box"
P=$bg_pid
go
wait_rows "$KI" reports 1 90 || fail "b.: the import stored nothing within 90 s"
kill -KILL "$(bg_child "$P")" || fail "b.: no import to kill"
reap "$P" 10 "b.: the killed import"
expect_eq "$rc" 137 "b.: the import was killed"
kept=$(rows "$KI" reports)
echo "  killed with $kept reports committed"
[ "$kept" -gt 0 ] && [ "$kept" -lt 3000 ] || fail "b.: the import was not killed in the middle ($kept of 3000 stored)"
locks_gone "$KI" || fail "b.: a session of the killed import is still there after 5 s"
mxd_c --db "$KI" import "$TMP/box"
echo "  the rerun: exit $rc: $out$err"
expect_rc 0 "b.: the import after the kill"
expect_in "$out" "$(commas $((3000 - kept))) new reports, $(commas "$kept") duplicates" \
	"b.: the rerun stores what was not committed"

say "waiting for the references and the rerun of a."
reap "$REFFETCH_PID" 150 "the reference fetch"
expect_eq "$rc" 0 "the reference fetch's exit status: $(cat "$TMP/reffetch.err")"
expect_eq "$(new_reports "$TMP/reffetch.out")" 3000 "new reports of the reference fetch"
same_store "$KF" "$RFETCH" "b.: fetch killed, then run again"
reap "$REFBOX_PID" 150 "the reference import of box"
expect_eq "$rc" 0 "the reference import of box: $(cat "$TMP/refbox.err")"
same_store "$KI" "$RBOX" "b.: import killed, then run again"
reap "$RERUN20_PID" 170 "a.: the rerun of the import"
echo "  a.: the rerun: exit $rc: $(cat "$TMP/rerun20.out" "$TMP/rerun20.err")"
expect_eq "$rc" 0 "a.: the rerun's exit status: $(cat "$TMP/rerun20.err")"
expect_eq "$(new_reports "$TMP/rerun20.out")" $((20000 - committed)) "a.: new reports of the rerun"
reap "$REF20_PID" 170 "the reference import of md20k"
expect_eq "$rc" 0 "the reference import of md20k: $(cat "$TMP/ref20.err")"
same_store "$A" "$R20" "a.: server stopped during the import, restarted, import run again"

say "done in $(secs_since "$T0") s"
finish
