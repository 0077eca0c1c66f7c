#!/usr/bin/env bash
# What Cyrus, Courier and GNU Mailutils do differently from Dovecot, and
# what fetch makes of it: a move target that does not exist and a NO
# without [TRYCREATE] (a configuration error, found before the first
# batch, with the name the server means); a NO to MOVE (no reconnect, no
# refetch); an IDLE that never pushes (idle_interval); a UIDVALIDITY that
# changes on every run (warned once); status headers added to BODY[] (no
# second quarantine entry).  First against tests/imap/scripted.py taught
# these behaviours, then against the real servers (tests/imap/othersrv.sh,
# Debian packages run without installing them) where this machine can.
. "$(dirname "$0")/lib.sh"

mkdir -p "$MAIL"
n=0
for f in $(sample_mails | grep -v /broken/ | head -n 5); do
	n=$((n + 1))
	cp "$f" "$MAIL/$n.eml"
done
reports() { sql "SELECT count(*) FROM reports" 2>/dev/null || echo 0; }
quarantined() { sql "SELECT count(*) FROM quarantine" 2>/dev/null || echo 0; }
fresh() { rm -f "$DB" "$DB"-* "$DB.lock"; }
logins() { grep -ci ' LOGIN ' "$SRVLOG" 2>/dev/null || echo 0; }

# 1. Cyrus/Courier: user mailboxes live under "INBOX.", and a copy to a
#    missing "Archive" gets a NO without [TRYCREATE].  Found before any
#    message is fetched, with the name meant; --watch does not retry it.
fresh
scripted_start no-trycreate
echo INBOX.Archive >"$MAIL/boxes.txt"
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester archive_mailbox=Archive
timed fetch
expect_rc 78 "missing Archive: a configuration error"
expect_in "$err" 'did you mean "INBOX.Archive"?' "the mailbox meant"
expect_not_in "$(cat "$SRVLOG")" "BODY.PEEK[]" "nothing fetched"
timed fetch --watch
expect_rc 78 "--watch: the same, at once"
within 5 "$wall" "--watch does not retry a configuration error"
expect_eq "$(logins)" 2 "one login per run, no reconnection"
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester archive_mailbox=INBOX.Archive
timed fetch
expect_rc 0 "archive_mailbox = INBOX.Archive"
expect_in "$out" '5 moved to "INBOX.Archive"' "moved"

# 2. A NO to the move itself (rights): the batch stays stored, moving
#    stops, 78 at the end; --watch goes on fetching and never reconnects
#    to fetch the same mail again.
fresh
five() { local f n=0; for f in $(sample_mails | grep -v /broken/ | head -n 5); do
	n=$((n + 1)); cp "$f" "$MAIL/$n.eml"; done; }
rm -f "$MAIL"/*.eml
five
scripted_start move-refused
echo Archive >"$MAIL/boxes.txt"
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester archive_mailbox=Archive
timed fetch
expect_rc 78 "a refused move"
expect_in "$err" "Permission denied" "the server's reason"
expect_eq "$(reports)" 5 "the batch is stored"
fresh
"$MXDIGEST" --config "$CONF" fetch --watch >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
sleep 4
kill -TERM "$pid"
wait "$pid"
rc=$?
expect_eq "$(reports)" 5 "--watch: stored"
expect_eq "$(logins)" 2 "--watch: no reconnection after the NO"
expect_eq "$(grep -c 'BODY.PEEK\[\]' "$SRVLOG")" 2 "--watch: no refetch"

# 3. An IDLE that never pushes (Mailutils; Courier checks every 60 s):
#    idle_interval bounds how long new mail waits.
fresh
rm -f "$MAIL"/*.eml "$MAIL/boxes.txt"
five
scripted_start idle-no-push
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester idle_interval=2
"$MXDIGEST" --config "$CONF" fetch --watch >"$TMP/out" 2>"$TMP/err" </dev/null &
pid=$!
wait_for 10 fired idle || fail "idle-no-push: never idled"
cp "$(sample_mails | grep -v /broken/ | sed -n 6p)" "$MAIL/6.eml"
t0=$(date +%s)
six() { [ "$(reports)" = 6 ]; }
wait_for 8 six || fail "idle-no-push: new mail not fetched within 8 s"
within 5 $(($(date +%s) - t0)) "idle-no-push: seconds until the new mail is stored"
kill -TERM "$pid"
wait "$pid"

# 4. A new UIDVALIDITY in every session (Mailutils on an mbox that other
#    programs deliver to): said once, on the third run in a row; nothing
#    stored twice.  5. ... and status headers in BODY[] (Mailutils adds
#    Status, X-UID, X-IMAPbase): a broken mail is quarantined once.
fresh
cp "$SAMPLES"/broken/*.eml "$MAIL/"
scripted_start uidvalidity-changes,status-headers
conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none ca_file= \
	timeout=3 user=tester
timed fetch
q1=$(quarantined)
r1=$(reports)
warned=0
for i in 2 3 4 5; do
	timed fetch
	case $err in *"changed on each of the last"*) warned=$((warned + 1)) ;; esac
	[ "$i" != 4 ] || expect_in "$err" "changed on each of the last 3 runs" "warned on run 4"
done
expect_eq "$warned" 1 "the every-run warning comes once"
expect_eq "$(reports)" "$r1" "no report twice"
expect_eq "$(quarantined)" "$q1" "no quarantine entry twice"
[ "$q1" -gt 0 ] || fail "the broken samples were not quarantined at all"
scripted_stop

# The real servers, where this machine can run them (root, mount
# namespaces, Debian's packages reachable).  MXDIGEST_REQUIRE_OTHERSRV=1
# (.ci/run) makes their absence a failure.
OS="$HERE/othersrv.sh"
can_othersrv() {
	[ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
		unshare -m --propagation private true 2>/dev/null
}
if ! can_othersrv; then
	if [ "${MXDIGEST_REQUIRE_OTHERSRV:-}" = 1 ]; then
		fail "othersrv.sh cannot run here (root and mount namespaces needed)"
	else
		echo "NOTE: Cyrus, Courier and Mailutils not tried (needs root and mount namespaces)"
	fi
	finish
fi

# osconf SERVER-DIR KEY=VALUE...: $CONF for that server, STARTTLS verified
osconf() {
	local d=$1
	shift
	# shellcheck disable=SC1091
	. "$d/env.sh"
	(umask 077 && printf '%s\n' "$MXD_IMAP_PASS" >"$PWFILE")
	conf host=localhost port="$MXD_IMAP_PORT" security=starttls ca_file="$MXD_CA" \
		user="$MXD_IMAP_USER" timeout=10 "$@"
}
create_box() {	# DIR MAILBOX
	"$PYTHON" - "$1" "$2" <<-'PY'
		import imaplib, os, sys
		env = {}
		for line in open(os.path.join(sys.argv[1], "env.sh")):
		    k, _, v = line.strip()[7:].partition("=")
		    env[k] = v.strip("'")
		m = imaplib.IMAP4("127.0.0.1", int(env["MXD_IMAP_PORT"]))
		m.login(env["MXD_IMAP_USER"], env["MXD_IMAP_PASS"])
		print(m.create(sys.argv[2]))
		m.logout()
	PY
}
for server in courier cyrus mailutils; do
	d="$TMP/os-$server"
	if ! "$OS" start "$server" "$d" >"$TMP/os.out" 2>&1; then
		cat "$TMP/os.out" >&2
		fail "$server: othersrv.sh start failed"
		continue
	fi
	"$OS" load "$d" $(sample_mails | grep -v /broken/ | head -n 4) "$SAMPLES"/broken/*.eml ||
		fail "$server: load failed"
	fresh
	case $server in
	courier | cyrus)
		# the archive exists, under "INBOX."; "Archive" alone is not it
		create_box "$d" INBOX.Archive >/dev/null
		osconf "$d" archive_mailbox=Archive
		timed fetch
		expect_rc 78 "$server: archive_mailbox = Archive"
		expect_in "$err" 'did you mean "INBOX.Archive"?' "$server: the mailbox meant"
		expect_eq "$(reports)" 0 "$server: nothing fetched before the check"
		osconf "$d" archive_mailbox=INBOX.Archive
		timed fetch
		expect_rc 65 "$server: fetched and moved (broken samples quarantined)"
		expect_in "$out" 'moved to "INBOX.Archive"' "$server: moved"
		expect_eq "$("$OS" count "$d" INBOX)" \
			"$(sql 'SELECT count(DISTINCT message_id) FROM quarantine')" \
			"$server: only the quarantined mail stays"
		;;
	mailutils)
		# each delivery by another program makes imap4d pick a new
		# UIDVALIDITY (the time, in seconds) at the next EXAMINE
		osconf "$d"
		timed fetch
		all_err=$err
		for f in $(sample_mails | grep -v /broken/ | sed -n 5,7p); do
			sleep 1.2
			"$OS" load "$d" "$f" || fail "mailutils: load failed"
			timed fetch
			all_err="$all_err
$err"
		done
		expect_in "$all_err" "changed on each of the last 3 runs" \
			"mailutils: a UIDVALIDITY that changes every run, said"
		reference "$TMP/ref-mu.db" $(sample_mails | grep -v /broken/ | head -n 7) \
			"$SAMPLES"/broken/*.eml
		expect_eq "$(reports)" "$(sqlite3 "$TMP/ref-mu.db" 'SELECT count(*) FROM reports')" \
			"mailutils: every report once"
		expect_eq "$(quarantined)" \
			"$(sqlite3 "$TMP/ref-mu.db" 'SELECT count(*) FROM quarantine')" \
			"mailutils: X-UID and Status do not make new quarantine entries"
		[ "$(quarantined)" -gt 0 ] || fail "mailutils: nothing quarantined"
		;;
	esac
	"$OS" cleanup "$d" >/dev/null 2>&1 || "$OS" cleanup "$d"
done
finish
