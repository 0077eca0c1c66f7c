#!/usr/bin/env bash
# fetch --watch against a real Dovecot that sends "* OK Still here" every
# second: a message appended while idling is stored within a few seconds,
# the keep-alive lines do not count as new mail, a dropped connection and a
# server down for a while are survived (reconnect with growing pauses),
# SIGTERM ends it cleanly, and the
# password is neither in its command line nor in its -D imap output.
. "$(dirname "$0")/lib.sh"

export MXD_IDLE_NOTIFY=1
srv_start
conf

mapfile -t MAILS < <(sample_mails)
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 2 --seed 9 --out "$TMP/two" --quiet
mapfile -t NEW < <(find "$TMP/two/cur" "$TMP/two/new" -type f | sort)

reports() {
	"$MXDIGEST" --db "$DB" report --from 2000-01-01 --to 2100-01-01 --format json 2>/dev/null |
		"$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["totals"]["reports"])' 2>/dev/null
}
has_reports() { [ "$(reports)" = "$1" ]; }
idles() { grep -c '": idling' "$TMP/watch.err"; }
idled() { [ "$(idles)" -ge "$1" ]; }

${MXD_WRAPPER:-} "$MXDIGEST" --config "$CONF" -v -D imap fetch --watch >"$TMP/watch.out" 2>"$TMP/watch.err" &
W=$!
BG_PIDS="$BG_PIDS $W"
wait_for 10 idled 1 || die "fetch --watch did not start idling: $(cat "$TMP/watch.err")"

# nothing of the password in the process's command line
if tr '\0' ' ' <"/proc/$W/cmdline" | grep -qF -- "$MXD_IMAP_PASS"; then
	fail "the password is in the command line"
fi
for c in $(cat "/proc/$W/task/$W/children" 2>/dev/null); do
	if tr '\0' ' ' <"/proc/$c/cmdline" | grep -qF -- "$MXD_IMAP_PASS"; then
		fail "the password is in a child's command line"
	fi
done

# an appended message arrives within a few seconds
start=$(date +%s%N)
"$H" append "$SRV" INBOX "${NEW[0]}" || die "APPEND failed"
wait_for 8 has_reports 1 || fail "the appended message was not stored within 8 s"
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -le 5000 ] || fail "the appended message took $ms ms"
echo "appended message stored after $ms ms"

# keep-alives for a few seconds: no new sync
wait_for 10 idled 2 || fail "no IDLE after the first sync"
sleep 3.5
stills=$(grep -c 'S: \* OK Still here' "$TMP/watch.err")
[ "$stills" -ge 2 ] || fail "expected keep-alive lines from Dovecot, saw $stills"
expect_eq "$(grep -c 'C: [0-9]* EXAMINE' "$TMP/watch.err")" 2 "keep-alives did not cause a sync"
expect_eq "$(grep -c 'new mail announced' "$TMP/watch.err")" 1 "one announcement of new mail"

# the connection drops (its imap process dies), then the server is down for
# a while: reconnect, with growing pauses, and fetch again
session=$(grep "Login: user=<$MXD_IMAP_USER>.*, TLS, " "$MXD_DOVECOT_LOG" | tail -1 |
	sed -n 's/.*mpid=\([0-9]*\).*/\1/p')
master=$(head -1 "$MXD_DOVECOT_BASE_DIR/master.pid")
[ -n "$session" ] && [ "$(awk '{print $4}' "/proc/$session/stat")" = "$master" ] ||
	die "cannot find the watch session's imap process"
before=$(idles)
kill -KILL "$session"
"$H" stop "$SRV" || die "stop failed"
sleep 2
"$H" start "$SRV" || die "start failed"
wait_for 20 idled $((before + 1)) || fail "no reconnection after the server came back: $(tail -5 "$TMP/watch.err")"
expect_in "$(cat "$TMP/watch.err")" "IDLE: connection lost: connection closed by the server; trying again in 1 s" "the lost connection is reported, with the retry"
expect_in "$(cat "$TMP/watch.err")" "; trying again in 2 s" "the pause grows while the server is down"
"$H" append "$SRV" INBOX "${NEW[1]}" || die "APPEND failed"
wait_for 8 has_reports 2 || fail "the message appended after the restart was not stored"

# SIGTERM: a clean end, with the summary
kill -TERM "$W"
start=$(date +%s)
wait "$W"
rc=$?
BG_PIDS=""
expect_rc 0 "fetch --watch ended by SIGTERM"
[ $(($(date +%s) - start)) -le 3 ] || fail "SIGTERM took $(($(date +%s) - start)) s"
expect_in "$(cat "$TMP/watch.out")" "test: 2 messages fetched" "summary at the end of --watch"
if grep -qF -- "$MXD_IMAP_PASS" "$TMP/watch.err"; then
	fail "the password is in the -D imap output"
fi
expect_in "$(cat "$TMP/watch.err")" "LOGIN [redacted]" "LOGIN redacted in --watch"

# --watch needs one account
printf '\n[account other]\nhost = localhost\nuser = x\npassword_env = X\n' >>"$CONF"
mxd fetch --watch
expect_rc 64 "--watch with two accounts"
expect_in "$err" "--watch follows one account: name it" "--watch usage message"

finish
