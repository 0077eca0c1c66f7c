#!/usr/bin/env bash
# A connection cut in the middle of a fetch (cutproxy.py closes it after N
# bytes from the server, with a reset or an orderly close), then a rerun:
# the store ends up exactly as after one uninterrupted fetch — the same
# messages (by SHA-256, with the same sources), the same digest, the same
# quarantine and the same sync state.
. "$(dirname "$0")/lib.sh"

srv_start
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 1200 --seed 3 --out "$TMP/md" --quiet
"$H" deliver-dir "$SRV" "$TMP/md" || die "deliver-dir failed"
deliver "$SAMPLES"/broken/*.eml

# snapshot DB: everything that must match the uninterrupted run
snapshot() {
	{
		digest "$1"
		qlist "$1"
		sqlite3 "$1" "SELECT hex(sha256), source, size FROM messages ORDER BY 1;
			      SELECT org, report_id, start, message_id FROM reports ORDER BY 1, 2, 3;
			      SELECT * FROM imap_state"
	}
}

# the uninterrupted run
conf host=127.0.0.1
mxd fetch
expect_rc 65 "uninterrupted fetch"
cp "$DB" "$TMP/ref.db"
rm -f "$DB" "$DB"-*
ref=$(snapshot "$TMP/ref.db")

proxy() {	# CUT MODE: a proxy for the IMAPS port, cutting its first connection
	rm -f "$TMP/proxy.port" "$TMP/proxy.log"
	"$PYTHON" "$HERE/cutproxy.py" --listen-port 0 --target-port "$MXD_IMAPS_PORT" \
		--cut-after "$1" --close "$2" --port-file "$TMP/proxy.port" --log "$TMP/proxy.log" &
	PROXY=$!
	BG_PIDS="$BG_PIDS $PROXY"
	wait_for 5 test -s "$TMP/proxy.port" || die "cutproxy.py did not start"
	conf host=127.0.0.1 port="$(cat "$TMP/proxy.port")"
}
proxy_stop() { kill -TERM "$PROXY" 2>/dev/null; wait "$PROXY" 2>/dev/null; }

# how many bytes a whole session takes
proxy 1000000000 fin
mxd fetch
proxy_stop
total=$(sed -n 's/^close 1 s2c=\([0-9]*\).*/\1/p' "$TMP/proxy.log")
[ -n "$total" ] && [ "$total" -gt 100000 ] || die "cannot measure the session (log: $(cat "$TMP/proxy.log"))"
rm -f "$DB" "$DB"-*

for cut in "$((total / 2)) rst" "$((total * 9 / 10)) fin" "$((total / 5)) rst" "4000 fin"; do
	set -- $cut
	proxy "$1" "$2"
	mxd fetch
	expect_rc 69 "fetch cut after $1 bytes ($2)"
	expect_in "$err" "connection lost" "cut after $1 bytes: reason"
	stored=$(sqlite3 "$DB" "SELECT count(*) FROM messages" 2>/dev/null || echo 0)
	mxd fetch
	case $rc in 0 | 65) ;; *) fail "rerun after a cut at $1 bytes: exit status $rc"; echo "$err" >&2 ;; esac
	expect_eq "$(snapshot "$DB")" "$ref" "store after a cut at $1 bytes ($2) and a rerun"
	echo "cut at $1 of $total bytes ($2): $stored messages stored before the cut"
	proxy_stop
	rm -f "$DB" "$DB"-*
done

finish
