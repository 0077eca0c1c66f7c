#!/bin/sh
# mxdigest store copy FROM TO: a whole store into a new one, with its ids
# and raw copies as stored.  The copy gives the same digests (JSON and
# text), quarantine list and raw bytes, the same rows in every table,
# reparse finds nothing to change, and new imports go on without id
# collisions.  A store that is not empty is refused (exit 64) and left as
# it was; a copy that fails midway says what it left behind.
#
# On SQLite the test's store is copied to another SQLite file; on
# PostgreSQL (ctest -L pg) to SQLite and from there to a new PostgreSQL
# database, and the last one is compared with the first row for row.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
TABLES="dicts messages dkim texts reports policies details domain_counts
failure_counts quarantine imap_state checks check_findings check_data"

# sql_at STORE STATEMENT: sql() on another store (a path or a URI)
sql_at() {
	case "$1" in
	postgresql://*) psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2" ;;
	*) sqlite3 "$1" "$2" ;;
	esac
}

# mxd_at STORE ARGS...: mxd() on another store
mxd_at() {
	_db=$DB
	DB=$1
	shift
	mxd "$@"
	DB=$_db
}

# counts STORE: "table rows" for every table
counts() {
	for t in $TABLES; do
		printf '%s %s\n' "$t" "$(sql_at "$1" "SELECT count(*) FROM $t")"
	done
}

# rows STORE: every row of every table but meta, as the backend prints it
# (blobs in hex, doubles exact), for comparing two stores of one backend
rows() {
	for t in $TABLES; do
		echo "== $t"
		case "$1" in
		postgresql://*) sql_at "$1" "SELECT $t::text FROM $t ORDER BY 1" ;;
		*) sqlite3 "$1" ".dump $t" | grep '^INSERT' ;;
		esac
	done
}

# seen STORE FILE: what a user sees of STORE, into FILE
seen() {
	: >"$2"
	for w in "--from 2026-11-01 --to 2026-12-01" "--from 2026-01-01 --to 2026-12-01"; do
		# shellcheck disable=SC2086
		mxd_at "$1" report $w --format json
		expect_rc 0 "JSON digest of $1 ($w)"
		printf '%s\n' "$out" | sed 's/"generated":"[^"]*"//' >>"$2"
		# shellcheck disable=SC2086
		mxd_at "$1" report $w
		expect_rc 0 "text digest of $1 ($w)"
		printf '%s\n' "$out" >>"$2"
	done
	mxd_at "$1" quarantine list
	expect_rc 0 "quarantine list of $1"
	printf '%s\n' "$out" >>"$2"
}

# raw STORE FILE: quarantine entry 1 byte for byte
raw() {
	set +e
	${MXD_WRAPPER:-} "$MXDIGEST" --db "$1" quarantine show --raw 1 >"$2" 2>"$TMP/err"
	rc=$?
	set -e
	expect_rc 0 "quarantine show --raw 1 of $1"
}

# same_as_from STORE NAME: STORE shows and holds what $DB does
same_as_from() {
	seen "$1" "$TMP/seen.$2"
	cmp -s "$TMP/seen.from" "$TMP/seen.$2" ||
		{ fail "$2: digests or quarantine list differ from the source";
		  diff "$TMP/seen.from" "$TMP/seen.$2" | head -20 >&2; }
	raw "$1" "$TMP/raw.$2"
	cmp -s "$TMP/raw.from" "$TMP/raw.$2" || fail "$2: quarantine show --raw 1 differs"
	counts "$1" >"$TMP/counts.$2"
	cmp -s "$TMP/counts.from" "$TMP/counts.$2" ||
		{ fail "$2: row counts differ"; diff "$TMP/counts.from" "$TMP/counts.$2" >&2; }
}

# ---- the source: samples (with quarantine and DKIM verdicts), 1,500
# generated mails (a trained dictionary), two check runs, a fetch state
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 1500 --out "$TMP/md" --seed 3 --quiet
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 5 --out "$TMP/new" --seed 11 \
	--start 2027-02-01 --days 5 --quiet
new_start=1801440000	# 2027-02-01
mxd import "$SAMPLES"
expect_rc 65 "import of samples/ (5 quarantined)"
mxd import --dkim=off "$TMP/md"
expect_rc 0 "import of 1,500 mails"
expect_eq "$(sql 'SELECT count(*) FROM dicts')" 1 "a dictionary was trained"
sql "INSERT INTO checks (domain, at, worst, incomplete) VALUES
	('example.org', 1795046400, 1, 0), ('example.org', 1795132800, 2, 1);
INSERT INTO check_findings (check_id, idx, level, code, subject, text, dnssec)
VALUES (1, 0, 1, 'tlsrpt-rua-mailto', 'example.org', 'only a mailto: address', 0),
	(2, 0, 2, 'sts-cert-expired', 'mx2.example.org', 'the certificate expired', 1),
	(2, 1, 1, 'tlsrpt-rua-mailto', 'example.org', 'only a mailto: address', 0);
INSERT INTO check_data (check_id, kind, name, value)
VALUES (1, 'tlsrpt-txt', '_smtp._tls.example.org', 'v=TLSRPTv1; rua=mailto:t@example.org'),
	(2, 'mx', 'example.org', '10 mx2.example.org');
INSERT INTO imap_state (account, mailbox, uidvalidity, last_uid, uv_changes)
VALUES ('work', 'INBOX/TLS reports', 1700000001, 4242, 0)" >/dev/null
for t in $TABLES; do
	[ "$(sql "SELECT count(*) FROM $t")" -gt 0 ] || fail "the source has no row in $t"
done
seen "$DB" "$TMP/seen.from"
raw "$DB" "$TMP/raw.from"
[ -s "$TMP/raw.from" ] || fail "quarantine entry 1 has no bytes"
counts "$DB" >"$TMP/counts.from"
total=$(awk '{ n += $2 } END { print n }' "$TMP/counts.from")

mxd store --help
expect_rc 0 "store --help"
expect_in "$out" "usage: mxdigest store copy FROM TO" "store --help"
mxd --help
expect_in "$out" "  store " "mxdigest --help names the store command"

# ---- the copy into a new SQLite file
C1="$TMP/copy1.db"
mxd store copy "$DB" "$C1"
expect_rc 0 "store copy to SQLite"
expect_in "$out" "copied 1,550 messages (" "summary: messages"
expect_in "$out" "1,545 reports, 5 quarantine entries, 1 dictionary, 2 check runs, 1 mailbox: $("$PY" -c "print(f'{$total:,}')") rows in " \
	"summary: the rest, every row"
expect_eq "$(lines "$out")" 1 "one summary line"
same_as_from "$C1" copy1
FINAL=$C1
if [ "$BACKEND" = sqlite ]; then
	rows "$DB" >"$TMP/rows.from"
	rows "$C1" >"$TMP/rows.copy1"
	cmp -s "$TMP/rows.from" "$TMP/rows.copy1" ||
		{ fail "SQLite copy: rows differ"; diff "$TMP/rows.from" "$TMP/rows.copy1" | head >&2; }
else
	# and back into a new PostgreSQL database: the same rows as the first
	C2=$(new_db copy2)
	mxd store copy "$C1" "$C2"
	expect_rc 0 "store copy SQLite to PostgreSQL"
	same_as_from "$C2" copy2
	rows "$DB" >"$TMP/rows.from"
	rows "$C2" >"$TMP/rows.copy2"
	cmp -s "$TMP/rows.from" "$TMP/rows.copy2" ||
		{ fail "PostgreSQL -> SQLite -> PostgreSQL: rows differ";
		  diff "$TMP/rows.from" "$TMP/rows.copy2" | head >&2; }
	FINAL=$C2
fi
expect_eq "$(sql_at "$FINAL" "SELECT uidvalidity, last_uid FROM imap_state WHERE account = 'work'")" \
	"1700000001|4242" "the fetch state came along"

# ---- a store that is not empty is refused and left as it was
rows "$FINAL" >"$TMP/rows.before"
mxd store copy "$DB" "$FINAL"
expect_rc 64 "copy into a store that is not empty"
expect_eq "$(lines "$err")" 1 "refused in one line"
expect_in "$err" "not an empty store" "the reason"
expect_eq "$out" "" "nothing on stdout"
rows "$FINAL" >"$TMP/rows.after"
cmp -s "$TMP/rows.before" "$TMP/rows.after" || fail "the refused target changed"
mxd store copy "$DB" "$DB"
expect_rc 64 "copy into itself"
mxd store copy "$TMP/nothing-here.db" "$TMP/never.db"
expect_rc 74 "copy from a store that is not there"
[ ! -e "$TMP/never.db" ] || fail "a failed open of FROM created TO"
mxd store copy "$DB"
expect_rc 64 "copy with one store"
expect_eq "$(lines "$err")" 1 "usage error in one line"

# ---- the copy works as a store: new mail gets new ids (the sequences
# moved past the copied ones), reparse finds nothing to change, the same
# mail again is nothing new
for c in "$C1" ${C2:+"$C2"}; do
	last_report=$(sql_at "$c" 'SELECT max(id) FROM reports')
	mxd_at "$c" import --dkim=off "$TMP/new"
	expect_rc 0 "new mail into $c"
	expect_in "$out" "5 messages read, 5 new reports" "new mail stored in $c"
	expect_eq "$(sql_at "$c" 'SELECT count(*) FROM messages')" 1555 "$c: five messages more"
	expect_eq "$(sql_at "$c" "SELECT min(id) FROM reports WHERE start >= $new_start")" \
		$((last_report + 1)) "$c: the new reports' ids follow the copied ones"
done

mxd_at "$FINAL" reparse --dkim=off
expect_rc 0 "reparse of the copy"
expect_in "$out" "1,555 messages re-read: 1,550 reports unchanged, 0 updated, 0 recovered from quarantine, 0 newly quarantined, 5 still quarantined" \
	"reparse finds every report unchanged"
mxd_at "$FINAL" import --dkim=off "$TMP/md"
expect_rc 0 "the same Maildir again into the copy"
expect_in "$out" "1,500 messages read, 0 new reports" "nothing new"

# ---- a copy that fails midway rolls back what it was writing and says
# the target is incomplete; a second copy into it is refused
F=$(new_db broken)
mkdir -p "$TMP/empty/cur" "$TMP/empty/new" "$TMP/empty/tmp"
mxd_at "$F" import "$TMP/empty"
expect_rc 0 "a new store with no rows"
if [ "$BACKEND" = pg ]; then
	sql_at "$F" "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS
		\$\$BEGIN RAISE EXCEPTION 'boom'; END\$\$;
	CREATE TRIGGER boom BEFORE INSERT ON reports FOR EACH ROW
		WHEN (NEW.id > 1200) EXECUTE FUNCTION boom()" >/dev/null
else
	sql_at "$F" "CREATE TRIGGER boom BEFORE INSERT ON reports
		WHEN NEW.id > 1200 BEGIN SELECT RAISE(ABORT, 'boom'); END"
fi
mxd store copy "$DB" "$F"
expect_rc 74 "a copy that fails"
expect_in "$err" "boom" "the cause"
expect_in "$err" "incomplete: " "says the target is incomplete"
expect_in "$err" "drop this store" "and what to do"
expect_eq "$(lines "$err")" 2 "two lines: the cause, what is left"
kept=$(sql_at "$F" 'SELECT count(*) FROM reports')
[ "$kept" -gt 0 ] && [ "$kept" -le 1200 ] || fail "the failed copy kept $kept reports"
mxd store copy "$DB" "$F"
expect_rc 64 "a second copy into the incomplete store"

finish
