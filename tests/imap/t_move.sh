#!/usr/bin/env bash
# Moves after the commit, against a real Dovecot: processed mail to
# archive_mailbox and quarantined mail (broken reports, oversized messages,
# which are never downloaded whole) to quarantine_mailbox, leaving the inbox
# empty; without a quarantine mailbox the quarantined mail stays; a move
# refused by the server leaves the mail in place, stored, and the next run
# moves it.
. "$(dirname "$0")/lib.sh"

srv_start

# an oversized message: 200 KB against a 64 KB cap
"$PYTHON" - "$TMP/big.eml" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: reports@example.net\nTo: tlsrpt@example.org\n"
            "Subject: Report Domain: example.org Submitter: example.net\n"
            "Content-Type: text/plain\n\n" + ("x" * 76 + "\n") * 2600)
EOF
mapfile -t MAILS < <(sample_mails)
deliver "${MAILS[@]}" "$TMP/big.eml"
n=$((${#MAILS[@]} + 1))
reference "$TMP/ref.db" "${MAILS[@]}"
nq=$(qlist "$TMP/ref.db" | grep -c '^[0-9]')
nq=$((nq + 1))	# and the oversized one

conf archive_mailbox=Archive quarantine_mailbox=Quarantine max_message_size=64k
mxd -D imap fetch
expect_rc 65 "fetch with moves"
expect_in "$out" "test: $n messages fetched" "every message fetched"
expect_in "$out" ", $((n - nq)) moved to \"Archive\", $nq moved to \"Quarantine\"" "moves in the summary"
expect_eq "$(count INBOX)" 0 "the inbox is empty"
expect_eq "$(count Archive)" $((n - nq)) "the archive holds the processed mail"
expect_eq "$(count Quarantine)" "$nq" "the quarantine mailbox holds the rest"
expect_eq "$("$H" seen "$SRV" Archive)" 0 "moved mail is still unread"
expect_in "$err" "C: 4 SELECT INBOX" "SELECT (not EXAMINE) when moving"
expect_in "$err" "UID MOVE" "UID MOVE used (Dovecot has MOVE)"
if printf '%s\n' "$err" | grep -q 'C: [0-9]* EXPUNGE'; then
	fail "a plain EXPUNGE was sent"
fi
big=$(printf '%s\n' "$err" | sed -n 's/.*S: \* [0-9]* FETCH (UID \([0-9]*\) RFC822.SIZE [0-9]\{6,\}[ )].*/\1/p' | head -1)
[ -n "$big" ] || fail "the oversized message's size was not listed"
expect_in "$err" "UID FETCH $big (UID BODY.PEEK[HEADER]<0.65536>)" "only the header of the oversized message fetched"
expect_not_in "$(printf '%s\n' "$err" | grep 'BODY\[\] {')" "UID $big BODY[]" "the oversized message was never downloaded whole"
expect_in "$(qlist "$DB")" "exceeds the 65536-byte cap" "the oversized message is quarantined"
expect_eq "$(digest "$DB" noq)" "$(digest "$TMP/ref.db" noq)" "moving changes nothing in what is stored"

mxd fetch
expect_rc 0 "second fetch with moves"
expect_eq "$out" "test: 0 messages fetched (0.0 MB), 0 new reports, 0 duplicates, 0 not a report, 0 quarantined" "nothing left"

# no quarantine mailbox: quarantined mail stays, and is recognised next time
empty_box Archive
empty_box Quarantine
rm -f "$DB"*
deliver "${MAILS[@]}"
conf archive_mailbox=Archive
mxd fetch
expect_rc 65 "archive only"
nq=$((nq - 1))
expect_eq "$(count INBOX)" "$nq" "quarantined mail stays in the inbox"
expect_eq "$(count Archive)" $((n - 1 - nq)) "the rest is archived"
mxd -v fetch
expect_rc 0 "archive only, again"
expect_in "$out" "test: $nq messages fetched" "what stayed is looked at again"
expect_in "$out" "0 quarantined ($nq already in quarantine)" "and recognised"
expect_eq "$(count INBOX)" "$nq" "and still stays"

# a move target that does not exist: refused before anything is fetched
# (78, nothing downloaded), and fetched and moved once the config is right
empty_box INBOX
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 5 --seed 5 --out "$TMP/five" --quiet
"$H" deliver-dir "$SRV" "$TMP/five" || die "deliver-dir failed"
conf archive_mailbox=NoSuchBox
mxd fetch
expect_rc 78 "a move to a missing mailbox"
expect_in "$err" 'archive_mailbox: mailbox "NoSuchBox" does not exist on the server' \
	"missing mailbox message"
expect_not_in "$out" "messages fetched" "nothing fetched"
expect_eq "$(count INBOX)" 5 "the inbox untouched"
# a mailbox of that name elsewhere in the hierarchy is suggested
mkdir -p "$MXD_MAILDIR/.Old.Done/cur" "$MXD_MAILDIR/.Old.Done/new" "$MXD_MAILDIR/.Old.Done/tmp"
chown -R --reference="$MXD_MAILDIR" "$MXD_MAILDIR/.Old.Done"
conf archive_mailbox=Done
mxd fetch
expect_rc 78 "a move to a mailbox under another parent"
expect_in "$err" 'mailbox "Done" does not exist on the server: did you mean "Old/Done"?' \
	"did you mean"
conf archive_mailbox=Archive
mxd fetch
expect_rc 0 "after fixing archive_mailbox"
expect_in "$out" "test: 5 messages fetched (0.0 MB), 5 new reports" "fetched now"
expect_in "$out" "5 moved to \"Archive\"" "and moved"
expect_eq "$(count INBOX)" 0 "the inbox is empty again"

finish
