#!/usr/bin/env bash
# Several writers on one PostgreSQL store, as several hosts would be:
#   a. two fetchers of the same account and mailbox (two config files, one
#      over IMAPS, one over STARTTLS), started at the same moment, then both
#      again: exit 0, one of them skipped before logging in (or both fetched
#      parts), every report stored once: the store equals a single fetch
#      into another database (row counts, sync state, JSON digest);
#   b. two imports of the same Maildir at once: both exit 0, one of them
#      waited for the other at least once (-D store), the store equals a
#      single import, and a third import stores nothing new;
#   c. two imports of two different Maildirs (different seeds, a few report
#      identities in common) at once: both exit 0 (no deadlock), and the
#      store equals
#      importing both one after the other, the copy that counts of each
#      identity in common imported first: first what the store holds (the
#      digest's lists sorted), then the digest as written, order included.
# Exit 77 (skipped) without PostgreSQL 15 or Dovecot, unless
# MXDIGEST_REQUIRE_PG=1 / MXDIGEST_REQUIRE_DOVECOT=1.
. "$(dirname "$0")/lib.sh"

need_servers
say "starting PostgreSQL 15 and Dovecot; generating 3,000 + 5,000 + 3,000 report mails"
pg_up pg
srv_start
gen "$TMP/box" 4 3000
gen "$TMP/md5k" 5 5000
gen "$TMP/md6" 6 3000
"$H" deliver-dir "$SRV" "$TMP/box" || die "deliver-dir failed"
expect_eq "$(count INBOX)" 3000 "messages in INBOX"

# ---------------------------------------------------------------------------
say "a. reference: one fetch of the 3,000 mails into a database of its own"
DB=$(newdb pg fetch_ref)
REF=$DB
conf
mxd fetch
expect_rc 0 "the reference fetch"
expect_in "$out" "test: 3,000 messages fetched" "the reference fetch fetched everything"
expect_eq "$(new_reports "$TMP/out")" 3000 "new reports of the reference fetch"

say "a. two fetchers, two config files (same account \"test\", mailbox INBOX), one store, at once"
DB=$(newdb pg fetch_two)
TWO=$DB
conf
cp "$CONF" "$TMP/host1.conf"
conf security=starttls port="$MXD_IMAP_PORT"
cp "$CONF" "$TMP/host2.conf"
for round in 1 2; do
	ready
	log_mark
	bg f1 --config "$TMP/host1.conf" fetch
	P1=$bg_pid
	bg f2 --config "$TMP/host2.conf" fetch
	P2=$bg_pid
	go
	reap "$P1" 120 "fetcher 1 (round $round)"
	r1=$rc t1=$took
	reap "$P2" 120 "fetcher 2 (round $round)"
	r2=$rc t2=$took
	echo "  round $round: fetcher 1 exit $r1 in ${t1}s: $(head -c 300 "$TMP/f1.out" "$TMP/f1.err" | tr '\n' ' ' | sed 's/==> [^ ]* <==//g')"
	echo "  round $round: fetcher 2 exit $r2 in ${t2}s: $(head -c 300 "$TMP/f2.out" "$TMP/f2.err" | tr '\n' ' ' | sed 's/==> [^ ]* <==//g')"
	expect_eq "$r1" 0 "fetcher 1 exit status (round $round): $(cat "$TMP/f1.err")"
	expect_eq "$r2" 0 "fetcher 2 exit status (round $round): $(cat "$TMP/f2.err")"
	skipped=$(cat "$TMP/f1.out" "$TMP/f2.out" |
		grep -c '^test: skipped: another mxdigest is fetching "INBOX" into this store$')
	logins=$(log_since | grep -c 'Login: user=<tester>')
	new=$(new_reports "$TMP/f1.out" "$TMP/f2.out")
	if [ "$round" = 1 ]; then
		expect_eq "$new" 3000 "new reports over both fetchers (round 1)"
	else
		expect_eq "$new" 0 "new reports over both fetchers (round 2)"
	fi
	case $skipped in
	1)
		echo "  round $round: one fetcher skipped, the other ran; $logins IMAP login(s)"
		expect_eq "$logins" 1 "IMAP logins when one fetcher skipped (it must skip before logging in)"
		;;
	0)
		echo "  round $round: neither skipped (they ran one after the other or interleaved); $logins IMAP logins"
		;;
	*) fail "both fetchers say skipped (round $round)" ;;
	esac
	for f in f1 f2; do
		[ ! -s "$TMP/$f.err" ] || fail "$f wrote to stderr (round $round): $(cat "$TMP/$f.err")"
	done
	same_store "$TWO" "$REF" "two fetchers at once, round $round"
done

# ---------------------------------------------------------------------------
say "b. reference: one import of a Maildir of 5,000 mails"
IREF=$(newdb pg import_ref)
"$MXDIGEST" --db "$IREF" import "$TMP/md5k" >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 0 "the reference import"
expect_eq "$(new_reports "$TMP/out")" 5000 "new reports of the reference import"

say "b. two imports of the same Maildir into one store at once"
SAME=$(newdb pg import_same)
ready
bg i1 -D store --db "$SAME" import "$TMP/md5k"
P1=$bg_pid
bg i2 -D store --db "$SAME" import "$TMP/md5k"
P2=$bg_pid
go
reap "$P1" 150 "import 1"
r1=$rc t1=$took
reap "$P2" 150 "import 2"
r2=$rc t2=$took
echo "  import 1: exit $r1 in ${t1}s: $(cat "$TMP/i1.out" "$TMP/i1.err" | tr '\n' ' ' | cut -c1-400)"
echo "  import 2: exit $r2 in ${t2}s: $(cat "$TMP/i2.out" "$TMP/i2.err" | tr '\n' ' ' | cut -c1-400)"
expect_eq "$r1" 0 "import 1 exit status: $(cat "$TMP/i1.err")"
expect_eq "$r2" 0 "import 2 exit status: $(cat "$TMP/i2.err")"
expect_eq "$(new_reports "$TMP/i1.out" "$TMP/i2.out")" 5000 "new reports over both imports"
# one of them ran into messages the other had taken, and waited for it
# (after committing its own: that is what keeps them from deadlocking)
waits=$(cat "$TMP/i1.err" "$TMP/i2.err" | grep -c "another writer holds a lock of this message")
echo "  waits for the other writer: $waits"
expect_eq "$([ "$waits" -ge 1 ] && echo yes)" yes "an import waited for the other one at least once"
expect_eq "$(cat "$TMP/i1.err" "$TMP/i2.err" | grep -vc "^mxdigest: store: ")" 0 \
	"nothing on stderr but the -D store lines: $(cat "$TMP/i1.err" "$TMP/i2.err" | grep -v "^mxdigest: store: " | head -3)"
same_store "$SAME" "$IREF" "two imports of one Maildir at once"
say "b. a third import of that Maildir"
"$MXDIGEST" --db "$SAME" import "$TMP/md5k" >"$TMP/out" 2>"$TMP/err"
rc=$?
err=$(cat "$TMP/err")
expect_rc 0 "the third import"
expect_in "$(cat "$TMP/out")" "5,000 messages read, 0 new reports, 5,000 duplicates" "the third import stores nothing new"
same_store "$SAME" "$IREF" "after the third import"

# ---------------------------------------------------------------------------
say "c. two imports of two different Maildirs (seeds 5 and 6) into one store at once"
DIFF=$(newdb pg import_diff)
ready
bg j1 --db "$DIFF" import "$TMP/md5k"
P1=$bg_pid
bg j2 --db "$DIFF" import "$TMP/md6"
P2=$bg_pid
go
reap "$P1" 150 "import of md5k"
r1=$rc t1=$took
reap "$P2" 150 "import of md6"
r2=$rc t2=$took
echo "  import of md5k: exit $r1 in ${t1}s: $(cat "$TMP/j1.out" "$TMP/j1.err" | tr '\n' ' ' | cut -c1-400)"
echo "  import of md6:  exit $r2 in ${t2}s: $(cat "$TMP/j2.out" "$TMP/j2.err" | tr '\n' ' ' | cut -c1-400)"
expect_eq "$r1" 0 "import of md5k exit status: $(cat "$TMP/j1.err")"
expect_eq "$r2" 0 "import of md6 exit status: $(cat "$TMP/j2.err")"
for x in j1 j2; do
	if grep -q "deadlock" "$TMP/$x.err"; then fail "$x: a deadlock: $(grep deadlock "$TMP/$x.err")"; fi
done
# A failed run says "run it again": do so, so that what follows still
# checks that the store is consistent (the exit status above has failed).
for x in "1 md5k $r1" "2 md6 $r2"; do
	set -- $x
	if [ "$3" != 0 ]; then
		echo "  rerunning the import of $2 (it exited $3)"
		"$MXDIGEST" --db "$DIFF" import "$TMP/$2" >"$TMP/out" 2>"$TMP/err"
		rc=$?
		err=$(cat "$TMP/err")
		expect_rc 0 "the rerun of the import of $2"
	fi
done
# The copy of an identity in common that counts is the one stored first; the
# reference imports those mails first, then both Maildirs one after the other.
q "$DIFF" "SELECT m.source FROM reports r JOIN messages m ON m.id = r.message_id
	WHERE r.counts > 0 AND (r.org, r.report_id, r.start) IN (SELECT org, report_id, start
	FROM reports GROUP BY 1, 2, 3 HAVING count(*) > 1) ORDER BY 1" >"$TMP/winners"
nconf=$(grep -c . "$TMP/winners")
echo "  $nconf report identities in common, each counted once: $(tr '\n' ' ' <"$TMP/winners" | sed "s|$TMP/||g")"
expect_eq "$(q "$DIFF" "SELECT count(*) FROM (SELECT 1 FROM reports GROUP BY org, report_id, start
	HAVING count(*) FILTER (WHERE counts > 0) <> 1) x")" 0 "identities counted other than once"
say "c. reference: the same mails imported one after the other"
CREF=$(newdb pg import_seq)
rc=0
if [ "$nconf" -gt 0 ]; then
	# shellcheck disable=SC2046
	"$MXDIGEST" --db "$CREF" import $(cat "$TMP/winners") >"$TMP/out" 2>"$TMP/err" || rc=$?
fi
"$MXDIGEST" --db "$CREF" import "$TMP/md5k" >>"$TMP/out" 2>>"$TMP/err" || rc=$?
"$MXDIGEST" --db "$CREF" import "$TMP/md6" >>"$TMP/out" 2>>"$TMP/err" || rc=$?
err=$(cat "$TMP/err")
expect_rc 0 "the reference imports"
same_store "$DIFF" "$CREF" "two imports of two Maildirs at once: what the store holds" sorted
same_store "$DIFF" "$CREF" "two imports of two Maildirs at once: the digest as written"

say "done in $(secs_since "$T0") s"
finish
