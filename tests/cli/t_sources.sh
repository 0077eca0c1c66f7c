#!/bin/sh
# Every kind of input: a Maildir (cur/ and new/, never tmp/), an mbox with
# an escaped ">From " line, standard input (a mail and an mbox), single
# .json/.json.gz files, a directory tree, and --dry-run.
. "$(dirname "$0")/lib.sh"

# Maildir: 4 messages in cur/ and new/; a partial delivery in tmp/ is ignored
cp -r "$SAMPLES/maildir" "$TMP/md"
cp "$SAMPLES/google/"*11-09*.eml "$TMP/md/tmp/partial" 2>/dev/null || \
	cp "$(ls "$SAMPLES"/google/*.eml | head -1)" "$TMP/md/tmp/partial"
mxd import "$TMP/md"
expect_rc 0 "Maildir import"
expect_eq "$out" "4 messages read, 4 new reports, 0 duplicates, 0 not a report, 0 quarantined; DKIM: 2 fail, 2 none" "Maildir summary (the signatures expired long ago)"

# mbox: 3 messages; the >From line is unescaped, so the message is intact
mxd import "$SAMPLES/mbox/reports.mbox"
expect_rc 0 "mbox import"
expect_eq "$out" "3 messages read, 3 new reports, 0 duplicates, 0 not a report, 0 quarantined; DKIM: 1 fail, 2 none" "mbox summary"

# the same mbox on standard input: all duplicates
mxd import - < "$SAMPLES/mbox/reports.mbox"
expect_rc 0 "mbox on stdin"
expect_eq "$out" "3 messages read, 0 new reports, 3 duplicates, 0 not a report, 0 quarantined" "stdin mbox summary"

# one mail on standard input
f=$(ls "$SAMPLES"/stalwart/*.eml | head -1)
mxd import - < "$f"
expect_eq "$out" "1 message read, 1 new report, 0 duplicates, 0 not a report, 0 quarantined; DKIM: 1 none" "stdin mail"
mxd -v import - < "$f"
expect_eq "$out" "1 message read, 0 new reports, 1 duplicate, 0 not a report, 0 quarantined" "stdin mail again"

# raw .json.gz and .json files, and a gzip'd report on stdin
g=$(ls "$SAMPLES"/postfix/*.json.gz | head -1)
mxd import "$g" "$SAMPLES"/mimecast/*.json
expect_rc 0 "raw files"
expect_in "$out" "new report" "raw files imported"
g2=$(ls "$SAMPLES"/postfix/*.json.gz | tail -1)
mxd import - < "$g2"
expect_rc 0 "gzip on stdin"
expect_eq "$out" "1 message read, 1 new report, 0 duplicates, 0 not a report, 0 quarantined" "gzip on stdin"

# --dry-run stores nothing
DB=$(new_db dry)
mxd import -n "$SAMPLES"
expect_rc 65 "dry run reports the broken samples"
expect_in "$out" "54 messages read, 45 new reports" "dry run counts"
expect_in "$out" "(dry run: nothing stored)" "dry run said so"
if [ "$BACKEND" = pg ]; then
	expect_eq "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0 \
		"dry run created no table"
else
	[ ! -e "$DB" ] || fail "dry run created a database"
fi

# a directory tree: every sample, in name order, dot files skipped
DB=$(new_db tree)
mkdir -p "$TMP/tree/.hidden"
cp "$SAMPLES/rfc8460/"*.json "$TMP/tree/.hidden/"
mxd import "$SAMPLES" "$TMP/tree"
expect_in "$out" "54 messages read" "tree walk counts every file, skips dot files"

# the default database lives under XDG_DATA_HOME (an SQLite file)
XDG_DATA_HOME="$TMP/xdg" "$MXDIGEST" import "$f" >/dev/null 2>&1 || true
[ -f "$TMP/xdg/mxdigest/mxdigest.db" ] || fail "no database under XDG_DATA_HOME"

finish
