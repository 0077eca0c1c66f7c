#!/bin/sh
# Raw copies in zstd with a dictionary trained from the store's own mail
# (store/codec.c): the first dictionary is made during the first large
# import, every copy reads back byte for byte, a change in the senders' mix
# makes a new one (the old stays for the rows that use it), and `reparse
# --recompress` converts zlib copies of older versions.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 1500 --out "$TMP/md" --seed 3 --quiet

q() { sql "$1"; }

mxd -v import --dkim=off "$TMP/md"
expect_rc 0 "import of 1,500 mails"
expect_in "$err" "store: dictionary 1 made from" "a dictionary was trained during the import"
expect_eq "$(q 'SELECT count(*) FROM dicts')" 1 "one dictionary"
expect_eq "$(q 'SELECT count(*) FROM messages WHERE codec IN (2, 3) AND dict = 1')" 1500 \
	"every copy uses it, those stored before it too"
ratio=$(q 'SELECT CAST(sum(size) * 10 / sum(length(data)) AS INTEGER) FROM messages')
[ "$ratio" -ge 25 ] || fail "raw copies compress ${ratio}/10x, expected 2.5x or more"

# every message reads back byte for byte: reparse reads each one (and
# finds nothing to change), quarantine show reads one
mxd reparse --dkim=off
expect_rc 0 "reparse over the dictionary-compressed copies"
expect_in "$out" "1,500 messages re-read: 1,500 reports unchanged" "every copy decoded"

# the messages of a run that compress much worse with the dictionary in
# use (a new sender's boilerplate) make a new dictionary; the old one stays
"$PY" "$SRCDIR/bench/gen-maildir.py" --count 700 --out "$TMP/gen2" --seed 4 \
	--start 2027-01-01 --quiet
"$PY" - "$TMP/gen2" "$TMP/md2" <<'PY'
import os, random, sys
src, dst = sys.argv[1], sys.argv[2]
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(dst, d), exist_ok=True)
rnd = random.Random(9)
# 2.7 KB of header text no mail of the first run has, the same in every mail
block = "".join("X-Vendor-%03d: %s\n" % (i, "".join(rnd.choice(
    "abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(40))) for i in range(48))
n = 0
for d in ("cur", "new"):
    for f in sorted(os.listdir(os.path.join(src, d))):
        body = open(os.path.join(src, d, f), "rb").read()
        open(os.path.join(dst, "new", "m%05d" % n), "wb").write(block.encode() + body)
        n += 1
PY
mxd -v import --dkim=off "$TMP/md2"
expect_rc 0 "import of 700 mails of another shape"
expect_in "$err" "training a new one" "the change was seen"
expect_in "$err" "store: dictionary 2 made from" "a second dictionary"
expect_eq "$(q 'SELECT count(*) FROM dicts')" 2 "both dictionaries kept"
expect_eq "$(q 'SELECT count(*) FROM messages WHERE dict = 1')" 1500 \
	"the first run's copies keep the first dictionary"
expect_eq "$(q 'SELECT count(*) FROM messages WHERE dict = 2')" 700 \
	"the second run's copies use the second"
mxd reparse --dkim=off
expect_in "$out" "2,200 messages re-read: 2,200 reports unchanged" "both kinds decode"

# a store of schema 4 kept zlib copies: they stay readable, and
# reparse --recompress converts them (made here from the source files)
zlib_rows 'id % 3 = 0'
zrows=$(q 'SELECT count(*) FROM messages WHERE codec = 1')
[ "$zrows" -gt 700 ] || fail "only $zrows zlib rows made"
mxd reparse --dkim=off
expect_in "$out" "2,200 messages re-read: 2,200 reports unchanged" "zlib rows read beside zstd rows"
mxd reparse --recompress
expect_rc 0 "reparse --recompress"
expect_in "$out" "$zrows raw copies recompressed" \
	"the zlib rows, and only those"
expect_eq "$(q 'SELECT count(*) FROM messages WHERE codec = 1')" 0 "no zlib row left"
mxd reparse --dkim=off
expect_in "$out" "2,200 messages re-read: 2,200 reports unchanged" "the converted rows decode"
mxd reparse --recompress
expect_in "$out" "0 raw copies recompressed" "a second run has nothing to do"
mxd reparse --recompress --quarantine-only
expect_rc 64 "--recompress with --quarantine-only is a usage error"

# a damaged row is an error naming the message, not a crash
if [ "$BACKEND" = pg ]; then
	q "UPDATE messages SET data = decode('28b52ffd2000' || md5('a') || md5('b'), 'hex') WHERE id = 5"
else
	q "UPDATE messages SET data = x'28b52ffd2000' || randomblob(40) WHERE id = 5"
fi
mxd reparse --dkim=off
[ "$rc" -ne 0 ] || fail "a damaged row passed"
expect_in "$err" "stored message 5" "the damaged row is named"
finish
