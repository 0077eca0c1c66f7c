#!/usr/bin/env bash
# A hostile or broken IMAP server (tests/imap/scripted.py, cues named
# below): whatever it does, fetch ends in bounded time without spinning
# (CPU time well below wall time), in bounded memory, with the documented
# exit status, and the store holds exactly what was stored before the
# fault — no partial batch, no UID skipped for good.  SIGTERM ends fetch
# within 2 seconds in every state.
. "$(dirname "$0")/lib.sh"

# five report mails that read well, UIDs 1 to 5
five_mails() {
	local f n=0
	mkdir -p "$MAIL"
	for f in $(sample_mails | grep -v /broken/ | head -n 5); do
		n=$((n + 1))
		cp "$f" "$MAIL/$n.eml"
	done
}
five_mails
reports() { sql "SELECT count(*) FROM reports" 2>/dev/null || echo 0; }
last_uid() { sql "SELECT last_uid FROM imap_state" 2>/dev/null; }
fresh() { rm -f "$DB" "$DB"-* "$DB.lock"; }

# case CUE STATUS TEXT: one fetch against the cue, from an empty store
case_fails() {
	fresh
	scripted_start "$1"
	timed fetch
	expect_rc "$2" "$1: exit status"
	expect_in "$err" "$3" "$1: the reason"
	within 8 "$wall" "$1: wall time (s)"
	within 1.5 "$cpu" "$1: CPU time (s)"
	within 102400 "$rss" "$1: peak RSS (KiB)"
	expect_eq "$(reports)" 0 "$1: nothing of the cut batch stored"
	expect_eq "$(last_uid)" 0 "$1: the sync state not advanced"
}

# The connection closes inside a literal: libetpan read 0 bytes forever.
case_fails eof-in-literal 69 "connection closed by the server"
case_fails bye-in-literal 69 "connection closed by the server"
# "{4000000000}": refused before anything is allocated for it.
case_fails huge-literal 69 "announced a literal of 4000000000 bytes"
# A line without end: cut at 1 MiB.
case_fails endless-line 69 "a line longer than 1048576 bytes"
# Binary garbage for an answer.
case_fails garbage 69 "unreadable answer"
# No answer at all: the 3-second timeout, then 69, without spinning.
case_fails silent-fetch 69 "no answer from the server in 3 s"
within 6 "$wall" "silent-fetch: the timeout holds"

# A UID answered without its body (NIL), or left out of the answer: the
# others are stored, the sync state stops below it, the next run gets it.
for cue in no-body skip-uid; do
	fresh
	scripted_start "$cue"
	timed fetch
	expect_rc 0 "$cue: the rest is fetched"
	expect_in "$err" "without its body (UID 2)" "$cue: said"
	expect_eq "$(reports)" 4 "$cue: four stored"
	expect_eq "$(last_uid)" 1 "$cue: the sync state stops below UID 2"
	scripted_start ""
	timed fetch
	expect_rc 0 "$cue: the next run"
	expect_eq "$(reports)" 5 "$cue: UID 2 fetched the next run"
	expect_eq "$(last_uid)" 5 "$cue: and the state goes on"
done

# A FETCH for a UID never asked for: ignored.
fresh
scripted_start extra-uid
timed fetch
expect_rc 0 "extra-uid: fetched"
fired extra-uid || fail "extra-uid: the cue did not fire"
expect_eq "$(reports)" 5 "extra-uid: the five asked for"
expect_eq "$(sql "SELECT count(*) FROM messages WHERE source LIKE '%/999'")" 0 \
	"extra-uid: UID 999 not stored"

# RFC822.SIZE says 100 bytes for mails of 300 KB: the batch brings more
# than announced; fetch goes on one message at a time on a new connection.
mkdir -p "$TMP/big"
"$PYTHON" - "$MAIL" "$TMP/big" <<'PY'
import os, sys
src, out = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    data = open(os.path.join(src, name), "rb").read()
    i = data.find(b"\n\n")
    j = data.find(b"\r\n\r\n")
    cut = min(x for x in (i, j) if x >= 0)
    # a long header field: the mail grows, its report does not change
    pad = b"X-Padding: " + b"p" * 300000 + b"\n"
    open(os.path.join(out, name), "wb").write(data[:cut + 1] + pad + data[cut + 1:])
PY
rm -rf "$MAIL"
mv "$TMP/big" "$MAIL"
fresh
scripted_start lie-sizes
timed fetch
expect_rc 0 "lie-sizes: fetched in the end"
expect_in "$err" "fetching one message at a time" "lie-sizes: said"
expect_eq "$(reports)" 5 "lie-sizes: all five stored"
within 102400 "$rss" "lie-sizes: peak RSS (KiB)"

# A mail over max_message_size is never downloaded whole: its header is
# kept and it is quarantined as too large.  reparse and quarantine retry,
# even with a larger cap, cannot read more of it: it stays quarantined.
fresh
scripted_start ""
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester max_message_size=100K
timed fetch
expect_rc 65 "over max_message_size: quarantined"
expect_in "$err" "exceeds the 102400-byte cap (first" "too large, header kept"
q=$(sql "SELECT count(*) FROM quarantine")
expect_eq "$q" 5 "five quarantined"
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester max_message_size=10M
"$MXDIGEST" --config "$CONF" reparse >"$TMP/out" 2>&1 || true
"$MXDIGEST" --config "$CONF" quarantine retry >>"$TMP/out" 2>&1 || true
expect_eq "$(sql "SELECT count(*) FROM quarantine")" "$q" "reparse keeps them quarantined"
expect_eq "$(sql "SELECT count(*) FROM messages WHERE truncated > 0")" 5 \
	"and remembers that only their start is stored"
expect_eq "$(reports)" 0 "no report made up from a header"
rm -rf "$MAIL"
five_mails

# security = none: every address of the host must be this machine ("10.1"
# is not a dotted quad, so only the resolver sees that it is 10.0.0.1).
conf host=10.1 port=143 security=none ca_file= timeout=3 user=tester
timed fetch
expect_rc 78 "security = none to a remote address"
expect_in "$err" "resolves to 10.0.0.1, which is not this machine" "why"
within 2 "$wall" "refused without connecting"

# SIGTERM ends fetch within 2 s in every state, the open batch rolled back.
# sigterm CUE WAIT_FOR [fetch args]: starts fetch, waits for the cue to fire,
# signals it and measures how long it takes to end.
sigterm() {
	local cue=$1 mark=$2
	shift 2
	fresh
	scripted_start "$cue"
	[ -z "${SECURITY:-}" ] || conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" \
		security="$SECURITY" ca_file= timeout=60 user=tester
	[ -n "${SECURITY:-}" ] || conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" \
		security=none ca_file= timeout=60 user=tester
	"$MXDIGEST" --config "$CONF" fetch "$@" >"$TMP/out" 2>"$TMP/err" </dev/null &
	pid=$!
	if ! wait_for 10 fired "$mark"; then
		fail "$cue: never reached $mark"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	sleep 0.5
	term_within 2 "$pid" "$cue: seconds from SIGTERM to exit"
	expect_eq "$(reports)" "${EXPECT_REPORTS:-0}" "$cue: no report of the open batch"
}
sigterm no-accept listening		# connecting (SYN unanswered)
expect_rc 75 "no-accept: interrupted"
SECURITY=imaps sigterm silent silent	# the TLS handshake
expect_rc 75 "TLS handshake: interrupted"
sigterm silent-fetch silent-fetch	# waiting for an answer
expect_rc 75 "silent-fetch: interrupted"
sigterm stall-in-literal stall-in-literal	# inside a literal
expect_rc 75 "stall-in-literal: interrupted"
expect_in "$err" "interrupted" "stall-in-literal: said"
EXPECT_REPORTS=5 sigterm "" idle --watch	# IDLE: the end of a --watch
expect_rc 0 "--watch ends cleanly"

# --watch through a batch cut in the middle: it reconnects, and nothing of
# the cut batch is counted twice, moved, or lost.
fresh
scripted_start eof-in-literal-once
echo Archive >"$MAIL/boxes.txt"
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester archive_mailbox=Archive
"$MXDIGEST" --config "$CONF" fetch --watch >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
five_stored() { [ "$(reports)" = 5 ]; }
wait_for 15 five_stored || fail "watch: the five reports were not stored"
wait_for 5 fired idle || fail "watch: never came to IDLE after the batch"
kill -TERM "$pid"
wait "$pid"
rc=$?
out=$(cat "$TMP/out")
err=$(cat "$TMP/err")
expect_rc 0 "watch after a cut batch"
expect_in "$err" "trying again in 1 s" "watch: reconnected"
expect_in "$out" "test: 5 messages fetched" "watch: the cut batch not counted"
expect_in "$out" "5 new reports, 0 duplicates" "watch: no duplicates"
expect_in "$out" "5 moved to \"Archive\"" "watch: each moved once"
scripted_stop
finish
