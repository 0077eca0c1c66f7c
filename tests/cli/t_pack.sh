#!/bin/sh
# Packed raw copies (store/pack.c): a report mail whose gzip attachment
# zlib makes again is kept with the JSON instead.  Every byte reads back
# (quarantine show --raw gives the file as it came), the dictionary is
# trained on packed forms, and a store upgraded from schema 5 (a
# dictionary of mails as they came) moves to packed copies by itself for
# new mail and with `reparse --recompress` for the old.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
q() { sql "$1"; }

# the samples: Google, Microsoft, Postfix and Stalwart mails pack (zlib),
# mail.ru's (Go's deflate) and the broken gzip do not
mxd import --dkim=off "$SAMPLES"
expect_rc 65 "import of the samples (some broken)"
packed=$(q 'SELECT count(*) FROM messages WHERE codec = 3')
[ "$packed" -ge 25 ] || fail "only $packed sample mails packed"
expect_eq "$(q "SELECT count(*) FROM messages WHERE codec = 3 AND source LIKE '%mailru%'")" 0 \
	"mail.ru's deflate is not zlib's: kept as it came"
# every quarantined message that is a file of its own comes back as it is
q 'SELECT q.id, m.source, m.codec FROM quarantine q JOIN messages m ON m.id = q.message_id' >"$TMP/q"
checked=0 packedq=0
while IFS='|' read -r id src codec; do
	[ -f "$src" ] || continue
	"$MXDIGEST" --db "$DB" quarantine show --raw "$id" >"$TMP/raw"
	cmp -s "$TMP/raw" "$src" || fail "quarantine show --raw $id is not $src"
	checked=$((checked + 1))
	[ "$codec" = 3 ] && packedq=$((packedq + 1))
done <"$TMP/q"
[ "$checked" -ge 4 ] || fail "only $checked quarantined files compared"
[ "$packedq" -ge 1 ] || fail "none of the quarantined mails was packed"
mxd reparse --dkim=off
expect_rc 0 "reparse of the samples"
expect_in "$out" "reports unchanged" "the packed copies parse as they did"

# a store big enough for a dictionary: trained on packed forms
fresh_db
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 1500 --out "$TMP/md" --seed 3 --quiet
mxd -v import --dkim=off "$TMP/md"
expect_rc 0 "import of 1,500 mails"
expect_eq "$(q 'SELECT packed FROM dicts')" 1 "the dictionary is one of packed forms"
packed=$(q 'SELECT count(*) FROM messages WHERE codec = 3 AND dict = 1')
[ "$packed" -ge 1100 ] || fail "only $packed of 1,500 mails packed"
mxd reparse --dkim=off
expect_in "$out" "1,500 messages re-read: 1,500 reports unchanged" "every packed copy decodes"

# make it look like a store upgraded from schema 5: its dictionary one of
# mails as they came (dicts.packed 0, what the upgrade gives it; the
# upgrade itself is t_upgrade.sh's), every other row zlib as schema 4
# left them
zlib_rows 'id % 2 = 0'
q 'UPDATE dicts SET packed = 0'
expect_eq "$(q 'SELECT packed FROM dicts')" 0 "its dictionary is one of mails as they came"

# new mail: a dictionary of packed forms, for this run's rows
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 700 --out "$TMP/md2" --seed 4 \
	--start 2027-01-01 --quiet
mxd -v import --dkim=off "$TMP/md2"
expect_rc 0 "import of 700 mails into the upgraded store"
expect_in "$err" "trained on mails as they came" "the old kind of dictionary was seen"
expect_in "$err" "store: dictionary 2 made from" "a dictionary of packed forms"
expect_eq "$(q 'SELECT packed FROM dicts WHERE id = 2')" 1 "dictionary 2 is packed"
new=$(q 'SELECT count(*) FROM messages WHERE id > 1500 AND codec = 3 AND dict = 2')
[ "$new" -ge 500 ] || fail "only $new of the 700 new mails packed"

# the old rows: reparse --recompress packs them with the new dictionary,
# and (SQLite) rewrites the file at the page size of a new store; a store
# of schema 5 had 8 KiB pages
if [ "$BACKEND" = sqlite ]; then
	sqlite3 "$DB" 'PRAGMA journal_mode=DELETE; PRAGMA page_size=8192; VACUUM;
		PRAGMA journal_mode=WAL' >/dev/null
	expect_eq "$(q 'PRAGMA page_size')" 8192 "the store has the pages of schema 5"
fi
before=$(q 'SELECT sum(length(data)) FROM messages WHERE id <= 1500')
mxd reparse --recompress
expect_rc 0 "reparse --recompress"
expect_in "$out" "1,500 raw copies recompressed" "the zlib rows and those of dictionary 1"
if [ "$BACKEND" = sqlite ]; then
	expect_in "$out" "database compacted: " "the file was compacted"
	expect_eq "$(q 'PRAGMA page_size')" 32768 "at the page size of a new store"
	expect_eq "$(q 'PRAGMA journal_mode')" wal "and back in WAL mode"
	expect_eq "$(q 'PRAGMA integrity_check')" ok "intact"
else
	expect_not_in "$out" "compacted" "PostgreSQL reuses its free space itself"
fi
expect_eq "$(q 'SELECT count(*) FROM messages WHERE codec = 1 OR dict = 1')" 0 \
	"no zlib row and no row of the old dictionary left"
after=$(q 'SELECT sum(length(data)) FROM messages WHERE id <= 1500')
[ "$after" -lt "$before" ] || fail "the old rows did not shrink ($before -> $after bytes)"
old=$(q 'SELECT count(*) FROM messages WHERE id <= 1500 AND codec = 3')
[ "$old" -ge 1100 ] || fail "only $old of the 1,500 old rows packed"
mxd reparse --dkim=off
expect_in "$out" "2,200 messages re-read: 2,200 reports unchanged" "every row decodes"
mxd reparse --recompress
expect_in "$out" "0 raw copies recompressed" "a second run has nothing to do"
expect_not_in "$out" "compacted" "nor anything to compact"

# a packed row holding another message's bytes: an error naming the
# message, not the other message's bytes
id1=$(q 'SELECT min(id) FROM messages WHERE codec = 3 AND dict = 2')
id2=$(q "SELECT min(id) FROM messages WHERE codec = 3 AND dict = 2 AND id > $id1 AND size <> (SELECT size FROM messages WHERE id = $id1)")
q "UPDATE messages SET data = (SELECT data FROM messages WHERE id = $id2) WHERE id = $id1"
mxd reparse --dkim=off
[ "$rc" -ne 0 ] || fail "a row of the wrong size passed"
expect_in "$err" "stored message $id1" "the damaged row is named"
finish
