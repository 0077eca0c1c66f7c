#!/usr/bin/env bash
# A PostgreSQL server that stops answering in the middle of a session:
#   a. the postmaster and all its children SIGSTOPped (by PID) while an
#      import of 6,000 mails runs over TCP: the server's host still
#      acknowledges every byte, so TCP alone never notices; the import ends
#      within 45 s (measured: the watchdog asks after 20 s of silence, its
#      ping waits 10 s), exit 69, one error line naming the database and
#      why, plus the "run it again" hint, no crash; after SIGCONT the
#      server serves again and a rerun stores the rest;
#   b. TCP keepalives are on for a session over TCP (20 s, ss shows the
#      timer of an idle session), and keepalives_idle given in the
#      connection string is kept.
# Exit 77 (skipped) without PostgreSQL 15, unless MXDIGEST_REQUIRE_PG=1.
. "$(dirname "$0")/lib.sh"

need_pg

say "starting PostgreSQL (cluster pg); generating 6,000 report mails"
pg_up pg
gen "$TMP/md" 11 6000

# ---------------------------------------------------------------------------
say "a. the server SIGSTOPped during an import over TCP"
S=$(newdb pg stalled)
case $S in postgresql://*@127.0.0.1:*) ;; *) die "not a TCP URI: $S" ;; esac
ready
bg stall --db "$S" import --dkim=off "$TMP/md"
P=$bg_pid
go
wait_rows "$S" reports 1 90 || fail "a.: no report stored within 90 s"
C=$(bg_child "$P")
STOPPED=$(server_pids pg) || die "a.: no postmaster PID"
t_stop=$(now_ms)
# shellcheck disable=SC2086
kill -STOP $STOPPED || fail "a.: kill -STOP $STOPPED"
echo "  stopped: $STOPPED"
reap "$P" 60 "a.: the import after the server stopped"
ended=$(secs_since "$t_stop")
# reap ends the subshell: an mxdigest still waiting must not go on when
# the server does
[ -z "$C" ] || kill -KILL "$C" 2>/dev/null
# shellcheck disable=SC2086
kill -CONT $STOPPED
STOPPED=""
err=$(cat "$TMP/stall.err")
echo "  the import ended ${ended}s after the server stopped, exit $rc; stdout: [$(cat "$TMP/stall.out")]"
printf '%s\n' "$err" | sed 's/^/  stderr: /'
within 45 "$ended" "a.: seconds from the stop to the end of the import"
expect_rc 69 "a.: the import when the server stops answering (69: connection lost)"
no_crash "a.: the import when the server stops answering"
expect_eq "$(printf '%s\n' "$err" | grep -c "\"$(printf '%s' "$S" | sed 's/?.*//')\"")" 1 \
	"a.: lines on stderr naming the database"
expect_in "$err" "connection to the database lost (the server has not answered for" \
	"a.: the error says the connection was lost, and why"
expect_eq "$([ "$(printf '%s\n' "$err" | wc -l)" -le 2 ] && echo yes)" yes \
	"a.: no more than one error line and the \"run it again\" hint on stderr"
committed=$(rows "$S" reports) || fail "a.: the server does not answer after SIGCONT"
echo "  after SIGCONT: $committed reports committed"
[ "$committed" -gt 0 ] && [ "$committed" -lt 6000 ] ||
	fail "a.: the server was not stopped in the middle of the import ($committed of 6000)"
"$MXDIGEST" --db "$S" import --dkim=off "$TMP/md" >"$TMP/out" 2>"$TMP/err"
rc=$?
err=$(cat "$TMP/err")
echo "  the rerun: exit $rc: $(cat "$TMP/out" "$TMP/err")"
expect_rc 0 "a.: the rerun after SIGCONT"
expect_eq "$(new_reports "$TMP/out")" $((6000 - committed)) "a.: new reports of the rerun"
expect_eq "$(rows "$S" reports)" 6000 "a.: reports after the rerun"

# ---------------------------------------------------------------------------
say "b. TCP keepalives of an idle session (import - waiting for its input)"
# idle_timer EXTRA: the seconds left on the keepalive timer of an import
# whose standard input stays silent, connected with URI $S + EXTRA
idle_timer() {
	local fifo="$TMP/stdin" pid t=""
	rm -f "$fifo"
	mkfifo "$fifo"
	"$MXDIGEST" --db "$S$1" import --dkim=off - <"$fifo" >"$TMP/idle.out" 2>&1 &
	pid=$!
	exec 3>"$fifo"
	if wait_for 10 sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"'mxdigest'"' AND state = '"'idle'"'")" -ge 1 ]' \
		"$PGBIN/psql" "$S"; then
		sleep 1
		# ss prints the time left as 18sec, 1min39sec or 2.5ms
		t=$(ss -tnpo 2>/dev/null | grep "pid=$pid," |
			sed -n 's/.*timer:(keepalive,\([0-9.a-z]*\),.*/\1/p' | head -n 1)
	fi
	exec 3>&-
	wait "$pid"
	printf '%s\n' "${t:-none}" | awk '
		/^none$/ { print "none"; exit }
		{ s = 0; t = $0 }
		t ~ /min/ { split(t, a, "min"); s = a[1] * 60; t = a[2] }
		t ~ /ms$/ { sub(/ms$/, "", t); s += t / 1000; t = "" }
		t ~ /sec$/ { sub(/sec$/, "", t); s += t; t = "" }
		{ print s }'
}
if command -v ss >/dev/null 2>&1; then
	t=$(idle_timer "")
	echo "  default: keepalive timer at ${t}s"
	awk -v t="$t" 'BEGIN { exit !(t != "none" && t <= 20) }' ||
		fail "b.: an idle session over TCP has no keepalive timer of at most 20 s (got $t)"
	t=$(idle_timer "&keepalives_idle=100")
	echo "  keepalives_idle=100 in the string: keepalive timer at ${t}s"
	awk -v t="$t" 'BEGIN { exit !(t != "none" && t > 20 && t <= 100) }' ||
		fail "b.: keepalives_idle=100 of the string is not kept (timer at $t s)"
else
	echo "  skipped: no ss (iproute2) to look at the socket's timers"
fi

say "done in $(secs_since "$T0") s"
finish
