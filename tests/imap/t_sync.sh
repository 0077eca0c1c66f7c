#!/usr/bin/env bash
# Incremental sync against a real Dovecot: the first fetch stores exactly
# what importing the same mail files stores, the second fetches nothing, a
# new message is the only one fetched next, the sync state is written, no
# message gets \Seen, a UIDVALIDITY change duplicates nothing, and a dry run
# stores nothing.
. "$(dirname "$0")/lib.sh"

srv_start
conf

mapfile -t MAILS < <(sample_mails)
deliver "${MAILS[@]}"
reference "$TMP/ref.db" "${MAILS[@]}"
n=${#MAILS[@]}

# the first fetch: everything, as import would have stored it
mxd fetch
expect_rc 65 "first fetch (samples include broken mails)"
expect_in "$out" "test: $n messages fetched" "first fetch reads every message"
ref_summary=$(grep 'messages read' "$TMP/ref.out" | sed 's/^[0-9,]* messages read, //')
expect_in "$out" "$ref_summary" "first fetch counts as import does"
expect_eq "$(digest "$DB" noq)" "$(digest "$TMP/ref.db" noq)" "fetched store = imported store (digest)"
# (IMAP hands messages out with CRLF line ends: sizes differ from the files)
expect_eq "$(qlist "$DB" | sed 's/ *[0-9,]*  [^ ]*INBOX\/[0-9]*/ X/')" \
	"$(qlist "$TMP/ref.db" | sed 's/ *[0-9,]*  \/[^ ]*/ X/')" "fetched quarantine = imported quarantine"
expect_in "$err" 'mxdigest: "test/INBOX/' "quarantine lines name account/mailbox/UID"
uv=$("$H" uidvalidity "$SRV" INBOX)
expect_eq "$(sql "SELECT account, mailbox, uidvalidity, last_uid FROM imap_state")" \
	"test|INBOX|${uv% *}|$n" "sync state after the first fetch"
expect_eq "$("$H" seen "$SRV" INBOX)" 0 "BODY.PEEK leaves \\Seen unset"

# the second: nothing
before=$(digest "$DB")
mxd -D imap fetch
expect_rc 0 "second fetch"
expect_eq "$out" "test: 0 messages fetched (0.0 MB), 0 new reports, 0 duplicates, 0 not a report, 0 quarantined" "second fetch is empty"
expect_not_in "$err" "BODY.PEEK[]" "second fetch downloads no message"
expect_in "$err" "UID FETCH $((n + 1)):* (UID RFC822.SIZE)" "second fetch asks from the next UID only"

# a new message: the only one fetched
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 1 --seed 77 --out "$TMP/new1" --quiet
"$H" deliver-dir "$SRV" "$TMP/new1" || die "deliver-dir failed"
mxd -D imap fetch
expect_rc 0 "fetch after one delivery"
expect_in "$out" "test: 1 message fetched" "only the new message"
expect_in "$out" "1 new report," "its report is new"
expect_in "$err" "UID FETCH $((n + 1)) (UID BODY.PEEK[])" "one UID, BODY.PEEK[]"
expect_eq "$(sql "SELECT last_uid FROM imap_state")" $((n + 1)) "sync state moved on"

# a dry run stores nothing and leaves the sync state alone
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 1 --seed 78 --out "$TMP/new2" --quiet
"$H" deliver-dir "$SRV" "$TMP/new2" || die "deliver-dir failed"
before=$(digest "$DB")
mxd fetch --dry-run
expect_rc 0 "dry run"
expect_eq "$out" "test: 1 message fetched (0.0 MB), 1 new report, 0 duplicates, 0 not a report, 0 quarantined (dry run: nothing stored)" "dry run summary"
expect_eq "$(digest "$DB")" "$before" "dry run stored nothing"
expect_eq "$(sql "SELECT last_uid FROM imap_state")" $((n + 1)) "dry run left the sync state"
mxd fetch
expect_in "$out" "test: 1 message fetched" "the real fetch after a dry run"

# a new UIDVALIDITY: every message looked at again, nothing stored twice
before=$(digest "$DB")
qbefore=$(qlist "$DB")
"$H" uidvalidity-reset "$SRV" INBOX || die "uidvalidity-reset failed"
mxd fetch
expect_rc 0 "fetch after a UIDVALIDITY change"
expect_in "$err" "UIDVALIDITY of \"INBOX\" changed" "the change is reported"
expect_in "$out" "test: $((n + 2)) messages fetched" "every message looked at again"
expect_in "$out" " 0 new reports," "no new report after a UIDVALIDITY change"
expect_in "$out" " 0 quarantined" "nothing newly quarantined"
expect_eq "$(digest "$DB")" "$before" "digest unchanged by a UIDVALIDITY change"
expect_eq "$(qlist "$DB")" "$qbefore" "quarantine unchanged by a UIDVALIDITY change"
uv2=$("$H" uidvalidity "$SRV" INBOX)
expect_eq "$(sql "SELECT uidvalidity, last_uid FROM imap_state")" "${uv2% *}|$((n + 2))" "sync state follows the new UIDVALIDITY"
mxd fetch
expect_in "$out" "test: 0 messages fetched" "and then nothing"

# a mailbox that does not exist: a configuration error
conf mailbox=NoSuchBox
mxd fetch
expect_rc 78 "a missing mailbox"
expect_in "$err" 'mxdigest: "test": EXAMINE "NoSuchBox": Mailbox doesn' "missing mailbox message"

finish
